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
        if !super::image::is_reference(image) {
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
    if super::image::is_reference(image) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debug::testdata;
    use crate::sys::report::error_text;
    use serde_json::json;

    #[test]
    fn invalid_image_like_kubectl() {
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
