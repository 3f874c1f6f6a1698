//! After the container was created: wait for it, attach or follow its log, and report its
//! exit code.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::plan::Plan;
use crate::client::{ApiError, Client};
use crate::kube::{self as api, Pod, State};

use super::attach::{self, frames::Outcome, AttachError, AttachOptions};
use super::error::SessionError;
use super::logs::Followed;
use super::wait::{self, WaitOptions};
use super::{Connection, RunError, Sink};
use crate::sys::report::error_text;

/// One container of one pod: what the steps after its creation work on.
#[derive(Clone, Copy)]
pub struct Container<'a> {
    pub ns: &'a str,
    pub pod: &'a str,
    pub name: &'a str,
}

impl Container<'_> {
    /// The exit code the server gave when the container terminated; none is an error,
    /// never a 0 that would read as success.
    pub fn exit_code(&self, given: Option<i32>) -> Result<i32, SessionError> {
        given.ok_or_else(|| SessionError::NoExitCode {
            pod: self.pod.to_string(),
            container: self.name.to_string(),
        })
    }
}

/// How long the exit code may take to show after the session ended: the kubelet notices an
/// exit on its next relist, about a second later (R4 of tests/fakecluster/REAL.md).
pub const EXIT_STATUS_GRACE: Duration = Duration::from_secs(3);

/// After a session, how long the log may stay silent while the container still runs before
/// kdebug leaves it running (a process waiting for input that can no longer come, R2).
const IDLE_AFTER_INPUT: Duration = Duration::from_secs(5);

/// Waits for the container, then attaches and returns the container's exit code. In fan-out
/// (a captured sink) it follows the log instead, from the start.
pub fn follow(
    conn: &Connection,
    p: &Plan,
    c: Container,
    ended: Option<String>,
    sink: &mut Sink,
    early: Option<wait::EarlyWatch>,
) -> Result<u8, RunError> {
    let client = &conn.client;
    let ready = wait::until_started_with(
        client,
        c.ns,
        c.pod,
        c.name,
        &WaitOptions {
            timeout: p.timeout,
            quiet: p.quiet || !sink.interactive(),
        },
        early,
    )?;
    if let State::Terminated { exit_code, .. } = ready.state {
        super::logs::copy(client, c.ns, c.pod, c.name, false, 0, &mut *sink.writer())?;
        return Ok(c.exit_code(exit_code)? as u8);
    }
    if !sink.interactive() {
        super::logs::copy(client, c.ns, c.pod, c.name, true, 0, &mut *sink.writer())?;
        return final_exit_code(client, c, ready.watch, Duration::from_secs(10));
    }
    let how = Attach {
        quiet: p.quiet,
        stdin: p.opts.stdin,
        tty: p.opts.tty,
        ended,
        print_earlier: true,
    };
    attach_and_report(conn, c, &how, &ready.pod, ready.watch)
}

/// What an attach asks for and says.
pub struct Attach {
    pub quiet: bool,
    pub stdin: bool,
    pub tty: bool,
    /// Printed after a TTY session (kubectl's "Session ended ..." line).
    pub ended: Option<String>,
    /// Without a TTY, print what the container wrote before the attach connected (a new
    /// container), or leave it out (`kdebug attach`, like kubectl attach).
    pub print_earlier: bool,
}

/// Attaches to a running container; kubectl's TTY rules, messages and fallback. Without a
/// TTY, the output the attach cannot carry (written before it connected, after stdin closed)
/// comes from the container's log, so none is lost or printed twice.
pub fn attach_and_report(
    conn: &Connection,
    c: Container,
    how: &Attach,
    pod_obj: &Value,
    watch: Option<wait::Rest>,
) -> Result<u8, RunError> {
    let client = &conn.client;
    let quiet = how.quiet;
    let mut tty = how.tty;
    let container_tty = Pod::read(pod_obj)?.container(c.name).is_some_and(|c| c.tty);
    if tty && !container_tty {
        if !quiet {
            let msg = format!(
                "Unable to use a TTY - container {} did not allocate one",
                c.name
            );
            eprintln!("{}", error_text(msg.as_str()));
        }
        tty = false;
    } else if !tty && container_tty && how.stdin {
        tty = true;
    }
    if tty && !crate::sys::term::is_terminal(0) {
        if !quiet {
            eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
        }
        tty = false;
    }
    if !quiet {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    let opts = AttachOptions {
        container: c.name.to_string(),
        stdin: how.stdin,
        tty,
        measure: !tty,
    };
    match attach::run(client, c.ns, c.pod, &opts, how.print_earlier) {
        Ok(session) => {
            if tty && !quiet {
                if let Some(msg) = &how.ended {
                    let _ = writeln!(stdout(), "{msg}");
                }
            }
            if !tty && recover_rest(client, c, &session, how.print_earlier)? == Followed::Idle {
                eprintln!(
                    "kdebug: container {} is still running with nothing more to show since its input ended (its stdin stays open); reattach with: kdebug attach {} -c {} -i",
                    c.name, c.pod, c.name
                );
                return Ok(0);
            }
            match session.outcome {
                Outcome::ExitCode(n) => Ok(n),
                Outcome::Failure(msg) => Err(SessionError::Remote(msg).into()),
                Outcome::Success => final_exit_code(client, c, watch, EXIT_STATUS_GRACE),
            }
        }
        // Too late: the container ended before the attach (R5); its log holds everything.
        Err(AttachError::Connect(e)) if ended_before_attach(&e) => {
            super::logs::copy(client, c.ns, c.pod, c.name, true, 0, &mut stdout())?;
            final_exit_code(client, c, watch, EXIT_STATUS_GRACE)
        }
        Err(AttachError::Connect(e)) => {
            eprintln!(
                "warning: couldn't attach to pod/{}, falling back to streaming logs: {}",
                c.pod,
                error_text(&e)
            );
            super::logs::copy(client, c.ns, c.pod, c.name, false, 0, &mut stdout()).map_err(
                |le| {
                    RunError::Attach(AttachError::Lost(format!(
                        "{}; and the logs failed too: {}",
                        error_text(&e),
                        error_text(&le)
                    )))
                },
            )?;
            final_exit_code(client, c, watch, EXIT_STATUS_GRACE)
        }
        Err(e) => Err(e.into()),
    }
}

fn stdout() -> crate::sys::output::RawOut {
    crate::sys::output::stdout()
}

/// The kubelet's answer to an attach on a container that has already ended (R5):
/// `container dw not found in pod rk-s05_default`.
fn ended_before_attach(e: &ApiError) -> bool {
    e.status()
        .is_some_and(|s| s.message.contains("not found in pod"))
}

/// After a non-TTY session: the output the attach did not carry, from the log (merged
/// stdout and stderr, to stdout). When the earlier output was measured, the rest follows the
/// part the attach delivered (containerd stops an attach's output once stdin closes, R2);
/// otherwise the attach ended first, with everything after it connected, and the log, read
/// once the container ended, gives the earlier part and the held output follows it.
fn recover_rest(
    client: &Client,
    c: Container,
    session: &attach::Session,
    print_earlier: bool,
) -> Result<Followed, RunError> {
    let mut out = stdout();
    match session.earlier {
        Some(len) => {
            let still_running = || {
                let Ok(pod) = client.get(&api::pod_path(c.ns, c.pod)) else {
                    return false;
                };
                Pod::read(&pod)
                    .is_ok_and(|pod| !matches!(pod.state(c.name), State::Terminated { .. }))
            };
            let followed = super::logs::follow_while_active(
                client,
                c.ns,
                c.pod,
                c.name,
                len + session.delivered,
                IDLE_AFTER_INPUT,
                &still_running,
                &mut out,
            )?;
            return Ok(followed);
        }
        None => {
            let log = super::logs::read_to_end(client, c.ns, c.pod, c.name)?;
            let earlier = attach::earlier::split(&log, session.delivered);
            if print_earlier {
                let _ = out.write_all(&earlier.bytes);
            }
            let mut err = crate::sys::output::stderr();
            for h in &session.held {
                let _ = h.write_to(&mut out, &mut err);
            }
        }
    }
    Ok(Followed::Ended)
}

/// The container's exit code once it has terminated; 0 if it is still running after `grace`
/// (the session ended but the process lives on, as after a detach).
pub fn final_exit_code(
    client: &Client,
    c: Container,
    watch: Option<wait::Rest>,
    grace: Duration,
) -> Result<u8, RunError> {
    Ok(exit_code_within(client, c, watch, grace)?.map_or(0, |code| code as u8))
}

/// The container's exit code once it has terminated, or None if it still runs after
/// `grace`. The watch that saw the container start, when there is one, shows the end too;
/// otherwise (or if it ends first) the pod is read until then.
pub fn exit_code_within(
    client: &Client,
    c: Container,
    watch: Option<wait::Rest>,
    grace: Duration,
) -> Result<Option<i32>, RunError> {
    let start = Instant::now();
    if let Some(code) = watch.and_then(|w| w.exit_code(c.pod, c.name, grace)) {
        return Ok(Some(c.exit_code(code)?));
    }
    loop {
        let obj = client.get(&api::pod_path(c.ns, c.pod))?;
        if let State::Terminated { exit_code, .. } = Pod::read(&obj)?.state(c.name) {
            return Ok(Some(c.exit_code(exit_code)?));
        }
        if start.elapsed() >= grace {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_exit_code_is_an_error_not_success() {
        let c = Container {
            ns: "default",
            pod: "web-0",
            name: "debugger-abcde",
        };
        assert_eq!(c.exit_code(Some(3)).unwrap(), 3);
        let e = RunError::from(c.exit_code(None).unwrap_err());
        assert_eq!(
            error_text(&e),
            "error: container debugger-abcde in pod web-0 terminated, but the server gave no exit code"
        );
        assert_eq!(e.exit_code(), super::super::error::EXIT_ERROR);
    }
}
