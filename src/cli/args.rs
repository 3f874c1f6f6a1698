//! Stage one of argument parsing: argv -> [`RawArgs`], plain data, no I/O.

use std::ffi::OsString;

use super::flags::{self, Set};
use super::CliError;
use crate::kubeconfig::Overrides;

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

/// kubectl's global flags, as given: the connection flags are the kubeconfig's overrides
/// as they are (secrets wrapped as soon as read, so `Debug` never shows them).
#[derive(Debug, Default, Clone)]
pub struct GlobalArgs {
    pub overrides: Overrides,
    pub request_timeout: Option<String>,
    pub verbosity: Option<String>,
}

/// What the command line asks for: the special verbs keep command lines of their own.
#[derive(Debug)]
pub enum Mode {
    /// `kdebug __complete WORDS...`: the names a completion script asks for.
    Complete(Vec<String>),
    /// `kdebug completion SHELL`: the script (the words after `completion`).
    Completion(Vec<OsString>),
    /// `kdebug [--kubeconfig F] [--context C] config ...`: kubectl config's own command line
    /// (argv without the word `config`).
    Config(Vec<OsString>),
    /// Everything else: the debug verbs, parsed (boxed: the other modes are a word list).
    Run(Box<RawArgs>),
}

/// Parses argv (without the program name).
pub fn parse(argv: Vec<OsString>) -> Result<Mode, CliError> {
    match argv.first().and_then(|a| a.to_str()) {
        Some("__complete") => {
            let words = argv[1..]
                .iter()
                .map(|w| w.to_string_lossy().into_owned())
                .collect();
            return Ok(Mode::Complete(words));
        }
        Some("completion") => return Ok(Mode::Completion(argv[1..].to_vec())),
        _ => {}
    }
    // `config` has its own small command line (kubectl config's); like kubectl, the
    // kubeconfig flags may come before it (`kdebug --context x config view`).
    if let Some(i) = config_verb(&argv) {
        let mut rest = argv;
        rest.remove(i);
        return Ok(Mode::Config(rest));
    }
    flags(argv).map(|raw| Mode::Run(Box::new(raw)))
}

/// Where `config` stands in argv, when only `--kubeconfig` and `--context` come before it.
fn config_verb(argv: &[OsString]) -> Option<usize> {
    let mut i = 0;
    while let Some(a) = argv.get(i).and_then(|a| a.to_str()) {
        match a {
            "config" => return Some(i),
            "--kubeconfig" | "--context" => i += 2,
            _ if a.starts_with("--kubeconfig=") || a.starts_with("--context=") => i += 1,
            _ => return None,
        }
    }
    None
}

/// Parses the debug verbs' argv into [`RawArgs`].
pub fn flags(argv: Vec<OsString>) -> Result<RawArgs, CliError> {
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
        match flag.set {
            Set::Bool(set) => {
                // Only `--flag=false` carries a value; in `-it` the `t` is another flag.
                let value = if is_short {
                    true
                } else {
                    match parser.optional_value() {
                        None => true,
                        Some(v) => parse_bool(flag.long, &into_string(v)?)?,
                    }
                };
                set(&mut raw, value);
            }
            Set::Value(_) | Set::Checked(_) => {
                let value = parser
                    .value()
                    .map_err(|_| CliError::MissingValue(flag.long.to_string()))?;
                let value = into_string(value)?;
                match flag.set {
                    Set::Value(set) => set(&mut raw, value),
                    Set::Checked(set) => set(&mut raw, value)?,
                    Set::Bool(_) => {}
                }
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

/// Splits a comma-separated flag value as pflag's slice flags do (one CSV record; fields
/// may be double-quoted to contain commas).
pub(super) fn split_csv(flag: &str, value: &str) -> Result<Vec<String>, CliError> {
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
        flags(args.iter().map(OsString::from).collect())
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
        assert_eq!(r.global.overrides.namespace.as_deref(), Some("prod"));
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
        assert_eq!(r.global.overrides.token.unwrap().expose(), "hunter2");
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

    fn config_at(args: &[&str]) -> Option<usize> {
        config_verb(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn config_after_kubeconfig_flags() {
        assert_eq!(config_at(&["config", "view"]), Some(0));
        assert_eq!(config_at(&["--kubeconfig", "k", "config", "view"]), Some(2));
        assert_eq!(config_at(&["--context=c", "config"]), Some(1));
        // A pod named config stays a pod once anything else comes first.
        assert_eq!(config_at(&["-n", "x", "config"]), None);
        assert_eq!(config_at(&["web", "config"]), None);
    }

    #[test]
    fn special_verbs_are_modes() {
        let m = |a: &[&str]| parse(a.iter().map(OsString::from).collect()).unwrap();
        assert!(matches!(m(&["__complete", "web"]), Mode::Complete(w) if w == ["web"]));
        assert!(matches!(m(&["completion", "zsh"]), Mode::Completion(w) if w == ["zsh"]));
        assert!(
            matches!(m(&["--context=c", "config", "view"]), Mode::Config(w) if w == ["--context=c", "view"])
        );
        assert!(matches!(m(&["web", "--image=b"]), Mode::Run(r) if r.targets == ["web"]));
    }
}
