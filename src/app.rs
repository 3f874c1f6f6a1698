//! The top of the program: argv -> plan -> the verb's driver -> exit code, and the one place
//! where errors are printed.

use std::ffi::OsString;
use std::io::Write;

use crate::cli::args::{self, Mode, RawArgs, Verb};
use crate::cli::plan::{self, Job};
use crate::kubeconfig;
use crate::session::error::EXIT_ERROR;
use crate::session::{Connection, RunError};

/// Runs kdebug with `argv` (without the program name) and returns the exit code.
pub fn main(argv: Vec<OsString>) -> u8 {
    let raw = match args::parse(argv) {
        Ok(Mode::Complete(words)) => {
            return crate::completion::run(words, &connect, &mut std::io::stdout())
        }
        Ok(Mode::Completion(rest)) => return completion_script(&rest),
        Ok(Mode::Config(rest)) => {
            let code =
                kubeconfig::view::config_main(rest, &mut std::io::stdout(), &mut std::io::stderr());
            return u8::try_from(code).unwrap_or(EXIT_ERROR);
        }
        Ok(Mode::Run(raw)) => Ok(*raw),
        Err(e) => Err(RunError::from(e)),
    };
    let result = raw.and_then(dispatch);
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
    match &p.job {
        Job::List => {
            let ns = if p.all_namespaces {
                None
            } else {
                Some(conn.namespace.as_str())
            };
            crate::leftovers::list(&conn.client, ns, &mut std::io::stdout())?;
            Ok(0)
        }
        Job::Gc => {
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
        Job::Attach => crate::session::reattach(&conn, &p),
        Job::Cp(copy) => crate::session::cp::run(&conn, &p, copy),
        Job::Debug => crate::session::run(&conn, &p),
    }
}

/// Loads the kubeconfig (its errors come first, as in kubectl) and builds the client.
pub fn connect(draft: &plan::Draft) -> Result<Connection, RunError> {
    let p = draft.parsed();
    let cfg = kubeconfig::resolve(&p.global.overrides)?;
    let client = crate::client::credentials::client(&cfg, p.request_timeout, p.verbosity)?;
    client.reconnect().configure(p.reconnect_window, p.quiet);
    Ok(Connection {
        client: std::sync::Arc::new(client),
        namespace: cfg.namespace.clone(),
        namespace_explicit: cfg.namespace_explicit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
