//! `kdebug config ...`: `view`, `current-context` and `get-contexts`, printing exactly what
//! `kubectl config` prints.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::load::{self, go_io_error, resolve_path};
use super::model::Config;
use super::KubeconfigError;
use crate::sys::report::{error_text, Failure};
use crate::text::{emit, go, table};

pub use super::printed::config_to_json;

#[derive(Debug, Default)]
struct Args {
    command: Option<String>,
    names: Vec<String>,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    raw: bool,
    minify: bool,
    flatten: bool,
    output: Option<String>,
    no_headers: bool,
}

/// `kdebug config` exits 0 on success and 1 on any failure, as `kubectl config` does.
const EXIT_OK: i32 = 0;
const EXIT_FAILURE: i32 = 1;

fn parse_bool(v: Option<OsString>, flag: &'static str) -> Result<bool, UsageError> {
    match v.as_ref().and_then(|s| s.to_str()) {
        None if v.is_none() => Ok(true),
        Some("true") | Some("1") | Some("t") | Some("T") | Some("TRUE") | Some("True") => Ok(true),
        Some("false") | Some("0") | Some("f") | Some("F") | Some("FALSE") | Some("False") => {
            Ok(false)
        }
        _ => Err(UsageError::Bool {
            flag,
            value: v.unwrap_or_default(),
        }),
    }
}

fn parse_args(args: Vec<OsString>) -> Result<Args, UsageError> {
    use lexopt::prelude::*;
    let mut p = lexopt::Parser::from_args(args);
    let mut a = Args::default();
    let os = |v: OsString| v.into_string().map_err(UsageError::NotUtf8);
    while let Some(arg) = p.next()? {
        match arg {
            Long("kubeconfig") => a.kubeconfig = Some(PathBuf::from(p.value()?)),
            Long("context") => a.context = Some(os(p.value()?)?),
            Short('o') | Long("output") => a.output = Some(os(p.value()?)?),
            Long("raw") => a.raw = parse_bool(p.optional_value(), "raw")?,
            Long("minify") => a.minify = parse_bool(p.optional_value(), "minify")?,
            Long("flatten") => a.flatten = parse_bool(p.optional_value(), "flatten")?,
            Long("no-headers") => a.no_headers = parse_bool(p.optional_value(), "no-headers")?,
            Long("merge") => {
                let _ = parse_bool(p.optional_value(), "merge")?;
            }
            Value(v) => {
                let v = os(v)?;
                if a.command.is_none() {
                    a.command = Some(v);
                } else {
                    a.names.push(v);
                }
            }
            Long(other) => return Err(UsageError::Flag(other.to_string())),
            Short(c) => return Err(UsageError::Shorthand(c)),
        }
    }
    Ok(a)
}

/// Runs `config SUBCOMMAND ...` (the arguments after `config`); returns the exit code.
pub fn config_main(args: Vec<OsString>, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32 {
    let result = parse_args(args)
        .map_err(ViewError::Usage)
        .and_then(|a| run(&a, stdout));
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => {
            let _ = writeln!(stderr, "{}", error_text(&e));
            EXIT_FAILURE
        }
    }
}

#[derive(Debug)]
enum ViewError {
    Usage(UsageError),
    Config(KubeconfigError),
    NoCurrentContext,
    /// `get-contexts NAME...`: the names not found, after what was found is printed.
    ContextsNotFound(Vec<String>),
    Minify(MinifyError),
    /// `--flatten`: a file named both by path and by data.
    PathAndData,
    /// `--flatten`: a file named by path that cannot be read.
    Read(PathBuf, std::io::Error),
    Write(std::io::Error),
}

/// The command line is not one `kubectl config` would take; its words.
#[derive(Debug)]
enum UsageError {
    Bool { flag: &'static str, value: OsString },
    NotUtf8(OsString),
    Parse(lexopt::Error),
    Flag(String),
    Shorthand(char),
    NoSubcommand,
    Subcommand(String),
    Printer(String),
    ContextsOutput(String),
}

impl From<lexopt::Error> for UsageError {
    fn from(e: lexopt::Error) -> Self {
        UsageError::Parse(e)
    }
}

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UsageError::Bool { flag, value } => write!(f, "invalid argument {value:?} for \"--{flag}\" flag: strconv.ParseBool: parsing {value:?}: invalid syntax"),
            UsageError::NotUtf8(v) => write!(f, "argument {v:?} is not valid UTF-8"),
            UsageError::Parse(e) => write!(f, "{e}"),
            UsageError::Flag(name) => write!(f, "unknown flag: --{name}"),
            UsageError::Shorthand(c) => write!(f, "unknown shorthand flag: '{c}' in -{c}"),
            UsageError::NoSubcommand => f.write_str("a config subcommand is required: view, current-context or get-contexts"),
            UsageError::Subcommand(cmd) => write!(f, "unknown command {cmd:?} for \"config\" (supported: view, current-context, get-contexts)"),
            UsageError::Printer(o) => write!(f, "unable to match a printer suitable for the output format {o:?}, allowed formats are: json,yaml"),
            UsageError::ContextsOutput(o) => write!(f, "output must be one of '' or 'name': {o}"),
        }
    }
}

/// clientcmdapi.MinifyConfig's refusals.
#[derive(Debug)]
enum MinifyError {
    NoCurrentContext,
    Context(String),
    Cluster(String),
    User(String),
}

impl std::fmt::Display for MinifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MinifyError::NoCurrentContext => {
                f.write_str("current-context must exist in order to minify")
            }
            MinifyError::Context(n) => write!(f, "cannot locate context {n}"),
            MinifyError::Cluster(n) => write!(f, "cannot locate cluster {n}"),
            MinifyError::User(n) => write!(f, "cannot locate user {n}"),
        }
    }
}

/// kubectl config prints several broken files one per line, without the `error: ` prefix.
impl Failure for ViewError {
    fn prefixed(&self) -> bool {
        !matches!(self, ViewError::Config(KubeconfigError::Several(_)))
    }
}

impl std::fmt::Display for ViewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ViewError::Usage(e) => write!(f, "{e}"),
            ViewError::Config(e) => write!(f, "{e}"),
            ViewError::NoCurrentContext => f.write_str("current-context is not set"),
            // kubectl joins several with Go's %v of a slice of errors.
            ViewError::ContextsNotFound(names) => {
                let each: Vec<String> = names
                    .iter()
                    .map(|n| format!("context {n} not found"))
                    .collect();
                match each.as_slice() {
                    [one] => f.write_str(one),
                    many => write!(f, "[{}]", many.join(", ")),
                }
            }
            ViewError::Minify(e) => write!(f, "{e}"),
            ViewError::PathAndData => f.write_str("cannot have values for both path and data"),
            ViewError::Read(path, e) => f.write_str(&go_io_error("open", path, e)),
            ViewError::Write(e) => write!(f, "failed to write output: {e}"),
        }
    }
}

fn run(a: &Args, out: &mut dyn Write) -> Result<(), ViewError> {
    let cmd = a.command.as_deref().unwrap_or("");
    if !matches!(cmd, "view" | "current-context" | "get-contexts") {
        return Err(ViewError::Usage(if cmd.is_empty() {
            UsageError::NoSubcommand
        } else {
            UsageError::Subcommand(cmd.to_string())
        }));
    }
    // kubectl config commands use PathOptions.GetStartingConfig: a missing explicit file is an
    // empty config, not an error.
    let sources = load::sources_from_env(a.kubeconfig.as_deref());
    let mut config = load::load(&sources, true).map_err(ViewError::Config)?;
    let text = match cmd {
        "current-context" => {
            if config.current_context.is_empty() {
                return Err(ViewError::NoCurrentContext);
            }
            format!("{}\n", config.current_context)
        }
        "get-contexts" => {
            let (text, missing) = get_contexts(&config, a)?;
            // kubectl prints what it found, then fails for the names it did not.
            out.write_all(text.as_bytes()).map_err(ViewError::Write)?;
            return match missing {
                Some(e) => Err(e),
                None => Ok(()),
            };
        }
        _ => {
            if a.minify {
                if let Some(c) = &a.context {
                    config.current_context = c.clone();
                }
                minify(&mut config).map_err(ViewError::Minify)?;
            }
            let redact = if a.flatten {
                flatten(&mut config)?;
                false
            } else {
                !a.raw
            };
            let v = config_to_json(&config, redact);
            match a.output.as_deref().unwrap_or("yaml") {
                "json" => go::json_indent(&v) + "\n",
                "yaml" => emit::to_yaml(&v),
                other => return Err(ViewError::Usage(UsageError::Printer(other.to_string()))),
            }
        }
    };
    out.write_all(text.as_bytes()).map_err(ViewError::Write)
}

fn get_contexts(config: &Config, a: &Args) -> Result<(String, Option<ViewError>), ViewError> {
    let mut names: Vec<&String> = Vec::new();
    let mut missing = Vec::new();
    if a.names.is_empty() {
        names = config.contexts.keys().collect();
    } else {
        for n in &a.names {
            match config.contexts.get_key_value(n) {
                Some((k, _)) => names.push(k),
                None => missing.push(n.clone()),
            }
        }
        names.sort();
    }
    let mut text = String::new();
    match a.output.as_deref() {
        Some("name") => {
            for n in &names {
                text.push_str(n);
                text.push('\n');
            }
        }
        None | Some("") => {
            let mut rows: Vec<Vec<String>> = Vec::new();
            if !a.no_headers {
                rows.push(
                    ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
                        .map(String::from)
                        .to_vec(),
                );
            }
            for n in &names {
                let c = &config.contexts[*n];
                let cur = if **n == config.current_context {
                    "*"
                } else {
                    ""
                };
                rows.push(vec![
                    cur.to_string(),
                    (*n).clone(),
                    c.cluster.clone(),
                    c.auth_info.clone(),
                    c.namespace.clone(),
                ]);
            }
            text = table::Columns::config().render(&rows);
        }
        Some(other) => {
            return Err(ViewError::Usage(UsageError::ContextsOutput(
                other.to_string(),
            )))
        }
    }
    let err = (!missing.is_empty()).then_some(ViewError::ContextsNotFound(missing));
    Ok((text, err))
}

/// clientcmdapi.MinifyConfig: keep only the current context, its cluster and its user.
fn minify(config: &mut Config) -> Result<(), MinifyError> {
    if config.current_context.is_empty() {
        return Err(MinifyError::NoCurrentContext);
    }
    let ctx = match config.contexts.get(&config.current_context) {
        Some(c) => c.clone(),
        None => return Err(MinifyError::Context(config.current_context.clone())),
    };
    let mut clusters = std::collections::BTreeMap::new();
    if !ctx.cluster.is_empty() {
        match config.clusters.get(&ctx.cluster) {
            Some(c) => {
                clusters.insert(ctx.cluster.clone(), c.clone());
            }
            None => return Err(MinifyError::Cluster(ctx.cluster.clone())),
        }
    }
    let mut users = std::collections::BTreeMap::new();
    if !ctx.auth_info.is_empty() {
        match config.auth_infos.get(&ctx.auth_info) {
            Some(u) => {
                users.insert(ctx.auth_info.clone(), u.clone());
            }
            None => return Err(MinifyError::User(ctx.auth_info.clone())),
        }
    }
    config.contexts = std::iter::once((config.current_context.clone(), ctx)).collect();
    config.clusters = clusters;
    config.auth_infos = users;
    Ok(())
}

/// clientcmdapi.FlattenConfig: embed CA, client certificate and key files as `*-data`,
/// reading them relative to the directory of the file that named them.
fn flatten(config: &mut Config) -> Result<(), ViewError> {
    for u in config.auth_infos.values_mut() {
        let base = load::origin_dir(&u.location_of_origin);
        let mut cert = std::mem::take(&mut u.client_certificate_data);
        flatten_one(&mut u.client_certificate, &mut cert, &base)?;
        u.client_certificate_data = cert;
        let mut key = u.client_key_data.expose().clone();
        flatten_one(&mut u.client_key, &mut key, &base)?;
        u.client_key_data = crate::sys::secret::Secret::new(key);
    }
    for c in config.clusters.values_mut() {
        let base = load::origin_dir(&c.location_of_origin);
        flatten_one(
            &mut c.certificate_authority,
            &mut c.certificate_authority_data,
            &base,
        )?;
    }
    Ok(())
}

fn flatten_one(path: &mut String, data: &mut Vec<u8>, base: &Path) -> Result<(), ViewError> {
    if path.is_empty() {
        return Ok(());
    }
    if !data.is_empty() {
        return Err(ViewError::PathAndData);
    }
    let abs = resolve_path(path, base);
    *data = std::fs::read(&abs).map_err(|e| ViewError::Read(PathBuf::from(&abs), e))?;
    path.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_layout() {
        let rows = vec![
            ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]
                .map(String::from)
                .to_vec(),
            ["", "c", "c", "u", ""].map(String::from).to_vec(),
        ];
        assert_eq!(table::Columns::config().render(&rows), "CURRENT   NAME   CLUSTER   AUTHINFO   NAMESPACE\n          c      c         u          \n");
        let rows = vec![["", "c", "c", "u", "ns1"].map(String::from).to_vec()];
        assert_eq!(
            table::Columns::config().render(&rows),
            "      c     c     u     ns1\n"
        );
    }
}
