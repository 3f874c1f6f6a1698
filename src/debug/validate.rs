//! kubectl's option checks (reference 1.2), in kubectl's order and wording, and the value
//! parsers the CLI needs: the docker image reference grammar, pull policies, and pflag's
//! `stringToString` (`--env`, `--set-image`).

use super::{
    custom, targeting_message, DebugError, DebugOptions, Message, Profile, LEGACY_WARNING,
};

/// A failed validation, with what kubectl had already printed before failing (the
/// `Targeting container …` line comes before the `-t`/`--custom` checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidateError {
    pub messages: Vec<Message>,
    pub error: DebugError,
}

impl std::fmt::Display for ValidateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for ValidateError {}

impl crate::sys::report::Failure for ValidateError {}

impl From<DebugError> for ValidateError {
    fn from(error: DebugError) -> ValidateError {
        ValidateError {
            messages: Vec::new(),
            error,
        }
    }
}

/// Runs kubectl's Validate checks in order. `attach` is `Some` only when `--attach` was given
/// explicitly; `has_targets` is whether any NAME or `-f` was given. On success returns the
/// once-per-run messages (`Targeting container …` on stdout, suppressed by -q; the legacy
/// warning on stderr). The `--custom` document is decoded here too; the CLI should already have
/// decoded it with [`custom::decode_file`] (kubectl does that earlier, in Complete).
pub fn validate(
    opts: &DebugOptions,
    attach: Option<bool>,
    has_targets: bool,
) -> Result<Vec<Message>, ValidateError> {
    let image = opts.image();
    let copy = opts.copy_to.as_deref().is_some_and(|c| !c.is_empty());
    if attach == Some(true) && image.is_none() && opts.container().is_none() {
        return Err(DebugError::AttachWithoutContainer.into());
    }
    if copy {
        if image.is_none() && opts.set_image.is_empty() && opts.args.is_empty() {
            return Err(DebugError::CopyNothingToDo.into());
        }
        if !opts.args.is_empty() && opts.container().is_none() && image.is_none() {
            return Err(DebugError::CopyArgsWithoutContainer.into());
        }
    } else if opts.replace {
        return Err(DebugError::ReplaceWithoutCopy.into());
    } else if opts.same_node {
        return Err(DebugError::SameNodeWithoutCopy.into());
    } else if !opts.set_image.is_empty() {
        return Err(DebugError::SetImageWithoutCopy.into());
    } else if image.is_none() {
        return Err(DebugError::ImageRequired.into());
    }
    if let Some(i) = image {
        validate_image(i)?;
    }
    if !has_targets {
        return Err(DebugError::NameRequired.into());
    }
    validate_pull_policy(opts.image_pull_policy.as_deref().unwrap_or(""))?;
    // A map in kubectl: the last value per container name is the one checked.
    for (i, (container, _)) in opts.set_image.iter().enumerate() {
        if opts.set_image[..i].iter().any(|(c, _)| c == container) {
            continue;
        }
        let image = opts.set_image_for(container).unwrap_or("");
        if !is_image_reference(image) {
            return Err(DebugError::InvalidSetImage {
                image: image.to_string(),
                container: container.clone(),
            }
            .into());
        }
    }
    let mut messages = Vec::new();
    if let Some(t) = opts.target() {
        if copy {
            return Err(DebugError::TargetWithCopy.into());
        }
        messages.push(Message::info(targeting_message(t)));
    }
    let fail = |messages: Vec<Message>, error| Err(ValidateError { messages, error });
    if opts.tty && !opts.stdin {
        return fail(messages, DebugError::TtyWithoutStdin);
    }
    if let Some(doc) = opts.custom() {
        if let Err(e) = custom::decode(doc).and_then(|d| custom::check_forbidden(&d)) {
            return fail(messages, e);
        }
    }
    if opts.profile == Profile::Legacy {
        messages.push(Message::warning(LEGACY_WARNING.to_string()));
    }
    Ok(messages)
}

/// `invalid image name "X": invalid reference format`.
pub fn validate_image(image: &str) -> Result<(), DebugError> {
    if is_image_reference(image) {
        Ok(())
    } else {
        Err(DebugError::InvalidImage(image.to_string()))
    }
}

/// `Always`, `IfNotPresent`, `Never` or empty.
pub fn validate_pull_policy(policy: &str) -> Result<(), DebugError> {
    match policy {
        "" | "Always" | "IfNotPresent" | "Never" => Ok(()),
        other => Err(DebugError::InvalidPullPolicy(other.to_string())),
    }
}

/// Whether `s` matches distribution/reference's anchored `ReferenceRegexp`:
/// `(domain "/")? path-component ("/" path-component)* (":" tag)? ("@" digest)?`.
/// Like kubectl, no length limit is applied (only the regexp is consulted).
pub fn is_image_reference(s: &str) -> bool {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !is_digest(d)) {
        return false;
    }
    // The tag, if any, follows the last ':' after the last '/'. A ':' before a '/' can only be
    // a port. Both readings of a trailing ":x" are tried, as the regexp would.
    let last_slash = rest.rfind('/');
    if let Some(colon) = rest.rfind(':') {
        if last_slash.is_none_or(|sl| colon > sl) {
            let (name, tag) = (&rest[..colon], &rest[colon + 1..]);
            if is_tag(tag) && is_name(name) {
                return true;
            }
        }
    }
    is_name(rest)
}

fn is_name(s: &str) -> bool {
    if is_remote_name(s) {
        return true;
    }
    match s.split_once('/') {
        Some((domain, remote)) => is_domain(domain) && is_remote_name(remote),
        None => false,
    }
}

/// `path-component ("/" path-component)*`, each `[a-z0-9]+ (separator [a-z0-9]+)*` with
/// separator `[._]|__|-+`.
fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut i = 0;
    let run = |i: &mut usize| {
        let start = *i;
        while b.get(*i).copied().is_some_and(alnum) {
            *i += 1;
        }
        *i > start
    };
    if !run(&mut i) {
        return false;
    }
    while i < b.len() {
        match b.get(i) {
            Some(b'.') => i += 1,
            Some(b'_') => {
                i += 1;
                if b.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            Some(b'-') => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if !run(&mut i) {
            return false;
        }
    }
    true
}

/// `host (":" [0-9]+)?` with host a dotted domain name or a bracketed IPv6 address.
fn is_domain(s: &str) -> bool {
    let (host, port) = if s.starts_with('[') {
        match s.find(']') {
            Some(end) => {
                let host = &s[..=end];
                let after = &s[end + 1..];
                match after.strip_prefix(':') {
                    Some(p) => (host, Some(p)),
                    None if after.is_empty() => (host, None),
                    None => return false,
                }
            }
            None => return false,
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit())) {
        return false;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty() && inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':');
    }
    host.split('.').all(|c| {
        let b = c.as_bytes();
        !b.is_empty()
            && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
            && b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
    })
}

/// `[\w][\w.-]{0,127}`
fn is_tag(s: &str) -> bool {
    let b = s.as_bytes();
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    !b.is_empty()
        && b.len() <= 128
        && b.first().is_some_and(word)
        && b.iter().all(|c| word(c) || *c == b'.' || *c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn is_digest(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(u8::is_ascii_alphanumeric)
    };
    hex.len() >= 32
        && hex.bytes().all(|c| c.is_ascii_hexdigit())
        && alg.split(['-', '_', '+', '.']).all(component_ok)
}

/// pflag's `stringToString` for one occurrence of `--<flag>=<value>`: no `=` is an error, one
/// `=` is a single pair (surrounding `"` trimmed, commas kept), more are read as one CSV
/// record. Errors carry pflag's wording for the flag.
pub fn parse_string_to_string(
    flag: &str,
    value: &str,
) -> Result<Vec<(String, String)>, DebugError> {
    let fail = |cause: String| DebugError::InvalidFlagArgument {
        value: value.to_string(),
        flag: format!("--{flag}"),
        cause,
    };
    let fields = match value.matches('=').count() {
        0 => return Err(fail(format!("{value} must be formatted as key=value"))),
        1 => vec![value.trim_matches('"').to_string()],
        _ => crate::text::csv::read_record(value).map_err(|e| fail(e.to_string()))?,
    };
    let mut out = Vec::with_capacity(fields.len());
    for field in fields {
        match field.split_once('=') {
            Some((k, v)) => out.push((k.to_string(), v.to_string())),
            None => return Err(fail(format!("{field} must be formatted as key=value"))),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debug::testdata;
    use crate::sys::report::error_text;
    use serde_json::json;

    #[test]
    fn image_references() {
        for ok in [
            "busybox",
            "busybox:1.36",
            "library/busybox:latest",
            "docker.io/library/busybox:1.36",
            "localhost:5000/a/b:tag",
            "localhost:5000",
            "LOCALHOST:5000/x",
            "[::1]:5000/x:y",
            "registry.example.com/a_b/c__d/e-f/g--h.i:V1.0-rc_1",
            "busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "busybox:1.36@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "a.b-c.d/x",
        ] {
            assert!(is_image_reference(ok), "{ok}");
        }
        for bad in [
            "",
            "Not_A/Valid:Image:Ref",
            "Busybox",
            "a b",
            "busybox:",
            ":tag",
            "a//b",
            "a/",
            "-a",
            "a-",
            "a___b",
            "busybox@sha256:abc",
            "busybox@@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "-host.com/a",
            "host:port/a",
            "busybox:-tag",
        ] {
            assert!(!is_image_reference(bad), "{bad}");
        }
        let e = validate_image("Not_A/Valid:Image:Ref").unwrap_err();
        assert_eq!(
            format!("{}\n", error_text(&e)),
            testdata::stderr("err-invalid-image")
        );
    }

    #[test]
    fn pull_policy() {
        assert!(validate_pull_policy("IfNotPresent").is_ok());
        assert_eq!(
            validate_pull_policy("Sometimes").unwrap_err().to_string(),
            "invalid image pull policy: Sometimes"
        );
    }

    #[test]
    fn string_to_string_like_pflag() {
        let p = |v: &str| parse_string_to_string("env", v);
        assert_eq!(p("a=1").unwrap(), vec![("a".into(), "1".into())]);
        // A single '=' is one pair: commas stay in the value.
        assert_eq!(p("a=1,b").unwrap(), vec![("a".into(), "1,b".into())]);
        assert_eq!(p("\"a=1\"").unwrap(), vec![("a".into(), "1".into())]);
        assert_eq!(
            p("a=1,\"b=x,y\",c=").unwrap(),
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "x,y".into()),
                ("c".into(), "".into())
            ]
        );
        assert_eq!(p("a=1\nb=2,c=3").unwrap(), vec![("a".into(), "1".into())]);
        // Messages checked against kubectl 1.32.
        let msg = |v: &str| p(v).unwrap_err().to_string();
        assert_eq!(
            msg("b"),
            "invalid argument \"b\" for \"--env\" flag: b must be formatted as key=value"
        );
        assert_eq!(
            msg("a=\"x,y\"=1,b=2"),
            "invalid argument \"a=\\\"x,y\\\"=1,b=2\" for \"--env\" flag: parse error on line 1, column 3: bare \" in non-quoted-field"
        );
        assert_eq!(
            msg("\"ab\"c=1,x=2"),
            "invalid argument \"\\\"ab\\\"c=1,x=2\" for \"--env\" flag: parse error on line 1, column 4: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            msg("a=1,,b=2"),
            "invalid argument \"a=1,,b=2\" for \"--env\" flag:  must be formatted as key=value"
        );
        assert_eq!(
            parse_string_to_string("set-image", "a=1,\"b=2").unwrap_err().to_string(),
            "invalid argument \"a=1,\\\"b=2\" for \"--set-image\" flag: parse error on line 1, column 9: extraneous or missing \" in quoted-field"
        );
    }

    fn base() -> DebugOptions {
        DebugOptions {
            image: Some("busybox:1.36".into()),
            ..DebugOptions::default()
        }
    }

    fn err(o: &DebugOptions) -> String {
        format!("{}\n", error_text(&validate(o, None, true).unwrap_err()))
    }

    #[test]
    fn messages_printed_before_a_late_failure() {
        let mut o = base();
        o.target = Some("app".into());
        o.tty = true;
        let e = validate(&o, None, true).unwrap_err();
        assert_eq!(e.error, DebugError::TtyWithoutStdin);
        assert_eq!(e.messages.len(), 1);
        assert!(e.messages[0]
            .text
            .starts_with("Targeting container \"app\"."));
    }

    #[test]
    fn validate_matches_kubectl_transcripts() {
        let mut o = base();
        o.image = None;
        assert_eq!(err(&o), testdata::stderr("err-missing-image"));
        o.copy_to = Some("web-copy".into());
        assert_eq!(err(&o), testdata::stderr("err-copy-missing-image"));
        o.args = vec!["sh".into()];
        assert_eq!(err(&o), testdata::stderr("err-copy-args-without-container"));

        let mut o = base();
        o.same_node = true;
        assert_eq!(err(&o), testdata::stderr("err-same-node-without-copy"));
        let mut o = base();
        o.set_image = vec![("app".into(), "busybox".into())];
        assert_eq!(err(&o), testdata::stderr("err-set-image-without-copy"));
        let mut o = base();
        o.copy_to = Some("web-copy".into());
        o.target = Some("app".into());
        assert_eq!(err(&o), testdata::stderr("err-target-with-copy"));
        let mut o = base();
        o.tty = true;
        assert_eq!(err(&o), testdata::stderr("err-tty-without-stdin"));
        let mut o = base();
        o.custom = Some(json!({"image": "evil:latest", "env": [{"name": "X", "value": "y"}]}));
        assert_eq!(err(&o), testdata::stderr("err-custom-forbidden-field"));
    }

    #[test]
    fn validate_order_and_messages() {
        let mut o = base();
        o.image = None;
        o.replace = true;
        o.same_node = true;
        let error =
            |o: &DebugOptions, attach, targets| validate(o, attach, targets).unwrap_err().error;
        assert_eq!(error(&o, None, true), DebugError::ReplaceWithoutCopy);
        assert_eq!(
            error(&o, Some(true), true),
            DebugError::AttachWithoutContainer
        );
        let o = base();
        assert_eq!(error(&o, None, false), DebugError::NameRequired);
        let mut o = base();
        o.image_pull_policy = Some("Sometimes".into());
        assert_eq!(
            error(&o, None, true),
            DebugError::InvalidPullPolicy("Sometimes".into())
        );
        let mut o = base();
        o.copy_to = Some("c".into());
        o.set_image = vec![("app".into(), "Bad".into())];
        assert_eq!(
            validate(&o, None, true).unwrap_err().to_string(),
            "invalid image name \"Bad\" for container \"app\": invalid reference format"
        );
        // Repeating a name replaces the earlier value, as in kubectl's map.
        o.set_image.push(("app".into(), "good:1".into()));
        assert!(validate(&o, None, true).is_ok());

        let mut o = base();
        o.target = Some("nope".into());
        let msgs = validate(&o, None, true).unwrap();
        assert_eq!(
            msgs.iter()
                .map(|m| format!("{}\n", m.text))
                .collect::<Vec<_>>(),
            vec![
                testdata::stdout("err-target-not-found"),
                format!("{LEGACY_WARNING}\n")
            ]
        );
        assert!(msgs[0].quiet_suppressed && !msgs[1].quiet_suppressed);
        o.profile = Profile::General;
        assert_eq!(validate(&o, None, true).unwrap().len(), 1);
        assert_eq!(
            format!("{LEGACY_WARNING}\n"),
            testdata::stderr("ephemeral-profile-legacy")
        );
    }
}
