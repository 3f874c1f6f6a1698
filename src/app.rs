//! The top of the program: argv -> plan -> the verb's driver -> exit code, and the one place
//! where errors are printed.

use std::ffi::OsString;
use std::io::Write;

use crate::cli::args::{self, RawArgs, Verb};
use crate::cli::plan;
use crate::kubeconfig;
use crate::session::error::EXIT_ERROR;
use crate::session::{Connection, RunError};

/// Runs kdebug with `argv` (without the program name) and returns the exit code.
pub fn main(argv: Vec<OsString>) -> u8 {
    match argv.first().and_then(|a| a.to_str()) {
        Some("__complete") => {
            let words = argv[1..]
                .iter()
                .map(|w| w.to_string_lossy().into_owned())
                .collect();
            return crate::completion::run(words, &connect, &mut std::io::stdout());
        }
        Some("completion") => return completion_script(&argv[1..]),
        _ => {}
    }
    // `config` has its own small command line (kubectl config's); like kubectl, the
    // kubeconfig flags may come before it (`kdebug --context x config view`).
    if let Some(i) = config_verb(&argv) {
        let mut rest = argv;
        rest.remove(i);
        let code =
            kubeconfig::view::config_main(rest, &mut std::io::stdout(), &mut std::io::stderr());
        return u8::try_from(code).unwrap_or(EXIT_ERROR);
    }
    let result = args::parse(argv).map_err(RunError::from).and_then(dispatch);
    // A signal may have ended the run (and its requests) under us: its handler exits.
    crate::sys::signals::yield_to_signal_exit();
    crate::sys::signals::run_cleanups();
    match result {
        Ok(code) => code,
        Err(e) => {
            let _ = std::io::stdout().flush();
            eprintln!("{}", crate::sys::report::error_text(&e));
            e.exit_code()
        }
    }
}

/// `kdebug completion bash|zsh|fish`: prints the script.
fn completion_script(rest: &[OsString]) -> u8 {
    let shell = rest.first().and_then(|s| s.to_str()).unwrap_or("");
    match (crate::cli::scripts::script(shell), rest.len()) {
        (Some(script), 1) => {
            print!("{script}");
            0
        }
        _ => {
            eprintln!(
                "{}",
                crate::sys::report::error_text(
                    "kdebug completion needs one shell: bash, zsh or fish"
                )
            );
            EXIT_ERROR
        }
    }
}

/// Where the `config` verb stands: first, or right after `--kubeconfig X` / `--context X`.
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

/// What `kdebug version` says after the version: the release artifact's platform and libc
/// (`linux/arm64 musl`), so whoever copied one file onto a bastion host can tell which.
const PLATFORM: &str = platform(
    std::env::consts::OS,
    cfg!(target_arch = "x86_64"),
    cfg!(target_arch = "aarch64"),
    cfg!(target_env = "musl"),
);

/// Release names as in the artifacts' file names (Go's and krew's `amd64`/`arm64`), not
/// Rust's target names.
const fn platform(os: &'static str, x86_64: bool, aarch64: bool, musl: bool) -> &'static str {
    let linux = matches!(os.as_bytes(), b"linux");
    match (linux, x86_64, aarch64, musl) {
        (true, true, _, true) => "linux/amd64 musl",
        (true, true, _, false) => "linux/amd64 glibc",
        (true, _, true, true) => "linux/arm64 musl",
        (true, _, true, false) => "linux/arm64 glibc",
        _ => "unsupported platform",
    }
}

fn dispatch(raw: RawArgs) -> Result<u8, RunError> {
    if raw.help {
        print!("{}", crate::cli::flags::help());
        return Ok(0);
    }
    if raw.version || raw.verb == Verb::Version {
        println!("kdebug v{} {}", env!("CARGO_PKG_VERSION"), PLATFORM);
        return Ok(0);
    }
    let draft = plan::build(raw)?;
    let conn = connect(&draft)?;
    let printer = draft.parsed().printer();
    let (p, messages) = plan::finish(draft).map_err(|r| {
        printer.messages(&r.said);
        r.error
    })?;
    printer.messages(&messages);
    match p.verb {
        Verb::List => {
            let ns = if p.all_namespaces {
                None
            } else {
                Some(conn.namespace.as_str())
            };
            crate::leftovers::list(&conn.client, ns, &mut std::io::stdout())?;
            Ok(0)
        }
        Verb::Gc => {
            let ns = if p.all_namespaces {
                None
            } else {
                Some(conn.namespace.as_str())
            };
            crate::leftovers::gc(
                &conn.client,
                ns,
                p.older_than,
                p.dry_run,
                &mut std::io::stdout(),
            )?;
            Ok(0)
        }
        Verb::Attach => crate::session::reattach(&conn, &p),
        Verb::Cp => crate::session::cp::run(&conn, &p),
        Verb::Debug | Verb::Version => crate::session::run(&conn, &p),
    }
}

/// Loads the kubeconfig (its errors come first, as in kubectl) and builds the client.
pub fn connect(draft: &plan::Draft) -> Result<Connection, RunError> {
    let p = draft.parsed();
    let g = &p.global;
    let overrides = kubeconfig::Overrides {
        kubeconfig: g.kubeconfig.clone().map(Into::into),
        context: g.context.clone(),
        cluster: g.cluster.clone(),
        user: g.user.clone(),
        namespace: g.namespace.clone(),
        server: g.server.clone(),
        token: g.token.clone(),
        as_user: g.as_user.clone(),
        as_groups: g.as_groups.clone(),
        as_uid: g.as_uid.clone(),
        certificate_authority: g.certificate_authority.clone().map(Into::into),
        client_certificate: g.client_certificate.clone().map(Into::into),
        client_key: g.client_key.clone().map(Into::into),
        insecure_skip_tls_verify: g.insecure_skip_tls_verify,
        tls_server_name: g.tls_server_name.clone(),
        username: g.username.clone(),
        password: g.password.clone(),
    };
    let cfg = kubeconfig::resolve(&overrides)?;
    let client = crate::client::credentials::client(&cfg, p.request_timeout, p.verbosity)?;
    Ok(Connection {
        client: std::sync::Arc::new(client),
        namespace: cfg.namespace.clone(),
        namespace_explicit: cfg.namespace_explicit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(args: &[&str]) -> Option<usize> {
        config_verb(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn platform_names_the_release_artifact() {
        assert_eq!(platform("linux", true, false, true), "linux/amd64 musl");
        assert_eq!(platform("linux", true, false, false), "linux/amd64 glibc");
        assert_eq!(platform("linux", false, true, true), "linux/arm64 musl");
        assert_eq!(platform("linux", false, true, false), "linux/arm64 glibc");
        assert_eq!(
            platform("macos", false, true, false),
            "unsupported platform"
        );
        assert_eq!(
            platform("linux", false, false, true),
            "unsupported platform"
        );
    }

    #[test]
    fn config_after_kubeconfig_flags() {
        assert_eq!(at(&["config", "view"]), Some(0));
        assert_eq!(at(&["--kubeconfig", "k", "config", "view"]), Some(2));
        assert_eq!(at(&["--context=c", "config"]), Some(1));
        // A pod named config stays a pod once anything else comes first.
        assert_eq!(at(&["-n", "x", "config"]), None);
        assert_eq!(at(&["web", "config"]), None);
    }
}
