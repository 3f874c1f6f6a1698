//! Stage one of argument parsing: argv -> [`RawArgs`], plain data, no I/O.

use std::ffi::OsString;

use super::flags::{self, Kind};
use super::CliError;
use crate::sys::secret::Secret;

/// Which verb was asked for. The verbs are reserved only as the first positional argument
/// (flags may come before it), so a pod named `list` is still reachable as `pod/list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Verb {
    #[default]
    Debug,
    Attach,
    Cp,
    List,
    Gc,
    Version,
}

/// Every flag as given, before any validation. Options are `None` when not given, so later
/// stages can tell "given as false" from "not given" (kubectl cares, e.g. `--attach`).
#[derive(Debug, Default)]
pub struct RawArgs {
    pub verb: Verb,
    pub help: bool,
    pub version: bool,
    pub targets: Vec<String>,
    /// Everything after `--`.
    pub command: Vec<String>,
    pub dash_given: bool,

    pub arguments_only: bool,
    pub attach: Option<bool>,
    pub container: Option<String>,
    pub copy_to: Option<String>,
    pub custom: Option<String>,
    pub env: Vec<String>,
    pub filenames: Vec<String>,
    pub image: Option<String>,
    pub image_pull_policy: Option<String>,
    pub keep_annotations: bool,
    pub keep_init_containers: Option<bool>,
    pub keep_labels: bool,
    pub keep_liveness: bool,
    pub keep_readiness: bool,
    pub keep_startup: bool,
    pub profile: Option<String>,
    pub quiet: bool,
    pub replace: bool,
    pub same_node: bool,
    pub set_image: Vec<String>,
    pub share_processes: Option<bool>,
    pub stdin: bool,
    pub target: Option<String>,
    pub tty: bool,

    pub rm: bool,
    pub timeout: Option<String>,
    pub reconnect_window: Option<String>,
    pub dry_run: bool,
    pub output: Option<String>,
    pub selector: Option<String>,
    pub all_namespaces: bool,
    pub all_pods: bool,
    pub fail_fast: bool,
    pub max_parallel: Option<String>,
    pub output_dir: Option<String>,
    pub mirror: Option<String>,
    pub older_than: Option<String>,
    pub host_shell: bool,
    pub no_preserve: bool,
    pub retries: Option<String>,
    pub helper_idle: Option<String>,

    pub global: GlobalArgs,
}

/// kubectl's global flags, as given.
#[derive(Debug, Default, Clone)]
pub struct GlobalArgs {
    pub kubeconfig: Option<String>,
    pub context: Option<String>,
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub server: Option<String>,
    /// Wrapped as soon as read: `Debug` of the arguments never shows it.
    pub token: Option<Secret<String>>,
    pub as_user: Option<String>,
    pub as_groups: Vec<String>,
    pub as_uid: Option<String>,
    pub certificate_authority: Option<String>,
    pub client_certificate: Option<String>,
    pub client_key: Option<String>,
    pub insecure_skip_tls_verify: Option<bool>,
    pub tls_server_name: Option<String>,
    pub request_timeout: Option<String>,
    pub username: Option<String>,
    pub password: Option<Secret<String>>,
    pub verbosity: Option<String>,
}

/// Parses argv (without the program name).
pub fn parse(argv: Vec<OsString>) -> Result<RawArgs, CliError> {
    let mut raw = RawArgs::default();
    let mut argv = argv.into_iter();
    // cobra splits at the first bare `--`: what follows is the command, never flags.
    let mut before = Vec::new();
    for arg in argv.by_ref() {
        if arg == "--" {
            raw.dash_given = true;
            break;
        }
        before.push(arg);
    }
    for arg in argv {
        raw.command.push(into_string(arg)?);
    }

    let mut parser = lexopt::Parser::from_args(before);
    while let Some(arg) = parser.next().map_err(lexopt_error)? {
        let is_short = matches!(arg, lexopt::Arg::Short(_));
        let flag = match arg {
            lexopt::Arg::Value(v) => {
                let v = into_string(v)?;
                // The first positional may be the verb: `kdebug -n prod cp ...` as kubectl.
                match verb(&v).filter(|_| raw.targets.is_empty() && raw.verb == Verb::Debug) {
                    Some(verb) => raw.verb = verb,
                    None => raw.targets.push(v),
                }
                continue;
            }
            lexopt::Arg::Long(name) => flags::by_long(name).ok_or_else(|| unknown_long(name))?,
            lexopt::Arg::Short(c) => {
                flags::by_short(c).ok_or_else(|| CliError::UnknownFlag(format!("-{c}"), None))?
            }
        };
        match flag.kind {
            Kind::Bool => {
                // Only `--flag=false` carries a value; in `-it` the `t` is another flag.
                let value = if is_short {
                    true
                } else {
                    match parser.optional_value() {
                        None => true,
                        Some(v) => parse_bool(flag.long, &into_string(v)?)?,
                    }
                };
                set_bool(&mut raw, flag.long, value);
            }
            Kind::Value => {
                let value = parser
                    .value()
                    .map_err(|_| CliError::MissingValue(flag.long.to_string()))?;
                set_value(&mut raw, flag.long, into_string(value)?)?;
            }
        }
    }
    Ok(raw)
}

fn verb(word: &str) -> Option<Verb> {
    Some(match word {
        "attach" => Verb::Attach,
        "cp" => Verb::Cp,
        "list" | "ls" => Verb::List,
        "gc" => Verb::Gc,
        "version" => Verb::Version,
        _ => return None,
    })
}

fn set_bool(raw: &mut RawArgs, long: &str, v: bool) {
    match long {
        "arguments-only" => raw.arguments_only = v,
        "attach" => raw.attach = Some(v),
        "keep-annotations" => raw.keep_annotations = v,
        "keep-init-containers" => raw.keep_init_containers = Some(v),
        "keep-labels" => raw.keep_labels = v,
        "keep-liveness" => raw.keep_liveness = v,
        "keep-readiness" => raw.keep_readiness = v,
        "keep-startup" => raw.keep_startup = v,
        "quiet" => raw.quiet = v,
        "replace" => raw.replace = v,
        "same-node" => raw.same_node = v,
        "share-processes" => raw.share_processes = Some(v),
        "stdin" => raw.stdin = v,
        "tty" => raw.tty = v,
        "rm" => raw.rm = v,
        "dry-run" => raw.dry_run = v,
        "all-namespaces" => raw.all_namespaces = v,
        "all-pods" => raw.all_pods = v,
        "fail-fast" => raw.fail_fast = v,
        "host-shell" => raw.host_shell = v,
        "no-preserve" => raw.no_preserve = v,
        "insecure-skip-tls-verify" => raw.global.insecure_skip_tls_verify = Some(v),
        "help" => raw.help = v,
        "version" => raw.version = v,
        other => unreachable!("bool flag --{other} missing from set_bool"),
    }
}

fn set_value(raw: &mut RawArgs, long: &str, v: String) -> Result<(), CliError> {
    let g = &mut raw.global;
    match long {
        "container" => raw.container = Some(v),
        "copy-to" => raw.copy_to = Some(v),
        "custom" => raw.custom = Some(v),
        // stringToString flags are split into pairs in stage two; stringSlice is CSV.
        "env" => raw.env.push(v),
        "filename" => raw.filenames.extend(split_csv("filename", &v)?),
        "set-image" => raw.set_image.push(v),
        "image" => raw.image = Some(v),
        "image-pull-policy" => raw.image_pull_policy = Some(v),
        "profile" => raw.profile = Some(v),
        "target" => raw.target = Some(v),
        "timeout" => raw.timeout = Some(v),
        "reconnect-window" => raw.reconnect_window = Some(v),
        "output" => raw.output = Some(v),
        "selector" => raw.selector = Some(v),
        "max-parallel" => raw.max_parallel = Some(v),
        "output-dir" => raw.output_dir = Some(v),
        "mirror" => raw.mirror = Some(v),
        "older-than" => raw.older_than = Some(v),
        "retries" => raw.retries = Some(v),
        "helper-idle" => raw.helper_idle = Some(v),
        "kubeconfig" => g.kubeconfig = Some(v),
        "context" => g.context = Some(v),
        "cluster" => g.cluster = Some(v),
        "user" => g.user = Some(v),
        "namespace" => g.namespace = Some(v),
        "server" => g.server = Some(v),
        "token" => g.token = Some(Secret::new(v)),
        "as" => g.as_user = Some(v),
        "as-group" => g.as_groups.push(v),
        "as-uid" => g.as_uid = Some(v),
        "certificate-authority" => g.certificate_authority = Some(v),
        "client-certificate" => g.client_certificate = Some(v),
        "client-key" => g.client_key = Some(v),
        "tls-server-name" => g.tls_server_name = Some(v),
        "request-timeout" => g.request_timeout = Some(v),
        "username" => g.username = Some(v),
        "password" => g.password = Some(Secret::new(v)),
        "v" => g.verbosity = Some(v),
        other => unreachable!("value flag --{other} missing from set_value"),
    }
    Ok(())
}

/// Splits a comma-separated flag value as pflag's slice flags do (one CSV record; fields
/// may be double-quoted to contain commas).
fn split_csv(flag: &str, value: &str) -> Result<Vec<String>, CliError> {
    if value.is_empty() {
        return Ok(Vec::new());
    }
    crate::text::csv::read_record(value)
        .map_err(|e| CliError::InvalidValue(flag.to_string(), value.to_string(), e.to_string()))
}

/// pflag's `stringToString` for one occurrence of `--<flag>=<value>`: no `=` is an error, one
/// `=` is a single pair (surrounding `"` trimmed, commas kept), more are read as one CSV
/// record. Errors carry pflag's wording for the flag.
pub fn string_to_string(flag: &str, value: &str) -> Result<Vec<(String, String)>, CliError> {
    let fail = |cause: String| CliError::InvalidValue(flag.to_string(), value.to_string(), cause);
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

fn parse_bool(flag: &str, v: &str) -> Result<bool, CliError> {
    // strconv.ParseBool's spellings.
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(false),
        _ => Err(CliError::InvalidValue(
            flag.to_string(),
            v.to_string(),
            format!("strconv.ParseBool: parsing {v:?}: invalid syntax"),
        )),
    }
}

fn unknown_long(name: &str) -> CliError {
    CliError::UnknownFlag(format!("--{name}"), flags::suggest(name))
}

fn into_string(v: OsString) -> Result<String, CliError> {
    v.into_string()
        .map_err(|v| CliError::NotUnicode(v.to_string_lossy().into_owned()))
}

fn lexopt_error(e: lexopt::Error) -> CliError {
    match e {
        lexopt::Error::UnexpectedValue { option, value } => CliError::InvalidValue(
            option.trim_start_matches('-').to_string(),
            value.to_string_lossy().into_owned(),
            "flag takes no value".into(),
        ),
        lexopt::Error::NonUnicodeValue(v) => CliError::NotUnicode(v.to_string_lossy().into_owned()),
        other => CliError::Parse(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<RawArgs, CliError> {
        parse(args.iter().map(OsString::from).collect())
    }

    #[test]
    fn splits_at_dash_and_combines_shorts() {
        let r = p(&[
            "web",
            "-it",
            "--image=busybox",
            "-c",
            "dbg",
            "--",
            "sh",
            "-c",
            "ls -l",
        ])
        .unwrap();
        assert_eq!(r.targets, ["web"]);
        assert!(r.stdin && r.tty);
        assert_eq!(r.image.as_deref(), Some("busybox"));
        assert_eq!(r.container.as_deref(), Some("dbg"));
        assert_eq!(r.command, ["sh", "-c", "ls -l"]);
    }

    #[test]
    fn bools_take_optional_values() {
        let r = p(&[
            "web",
            "--attach=false",
            "--share-processes=false",
            "--keep-labels",
        ])
        .unwrap();
        assert_eq!(r.attach, Some(false));
        assert_eq!(r.share_processes, Some(false));
        assert!(r.keep_labels);
        assert!(matches!(
            p(&["--attach=maybe"]),
            Err(CliError::InvalidValue(..))
        ));
    }

    #[test]
    fn filenames_are_csv_and_repeatable() {
        let r = p(&["-f", "a.yaml,b.yaml", "--filename=\"c,d.yaml\""]).unwrap();
        assert_eq!(r.filenames, ["a.yaml", "b.yaml", "c,d.yaml"]);
    }

    #[test]
    fn verbs_only_in_first_position() {
        assert_eq!(p(&["list", "-A"]).unwrap().verb, Verb::List);
        let r = p(&["web", "list"]).unwrap();
        assert_eq!(r.verb, Verb::Debug);
        assert_eq!(r.targets, ["web", "list"]);
        let r = p(&["-n", "prod", "--context=c", "cp", "web-0:/x", "."]).unwrap();
        assert_eq!(r.verb, Verb::Cp);
        assert_eq!(r.targets, ["web-0:/x", "."]);
        assert_eq!(r.global.namespace.as_deref(), Some("prod"));
    }

    #[test]
    fn unknown_flag_suggests() {
        match p(&["--imgae", "x"]) {
            Err(CliError::UnknownFlag(f, s)) => {
                assert_eq!(f, "--imgae");
                assert_eq!(s, Some("image"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let r = p(&["web", "--token=hunter2", "--password", "swordfish"]).unwrap();
        let shown = format!("{r:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("swordfish"),
            "{shown}"
        );
        assert_eq!(r.global.token.unwrap().expose(), "hunter2");
    }

    #[test]
    fn missing_value_names_the_flag() {
        assert!(matches!(p(&["--image"]), Err(CliError::MissingValue(f)) if f == "image"));
    }

    #[test]
    fn string_to_string_like_pflag() {
        let p = |v: &str| string_to_string("env", v);
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
            string_to_string("set-image", "a=1,\"b=2").unwrap_err().to_string(),
            "invalid argument \"a=1,\\\"b=2\" for \"--set-image\" flag: parse error on line 1, column 9: extraneous or missing \" in quoted-field"
        );
    }
}
