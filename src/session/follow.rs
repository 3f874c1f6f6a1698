//! After the container was created: wait for it, attach or follow its log, and report its
//! exit code.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::plan::Plan;
use crate::client::{ApiError, Client};
use crate::kube::{self as api, Pod, State};

use super::attach::{self, frames::ChannelStatus, AttachError, AttachOptions, Earlier, Ended};
use super::error::SessionError;
use super::logs::{self, Followed};
use super::wait::{self, WaitOptions};
use super::{Connection, RunError, Sink};
use crate::sys::report::error_text;

/// One container of one pod: what the steps after its creation work on.
#[derive(Clone, Copy)]
pub struct ContainerAddr<'a> {
    pub ns: &'a str,
    pub pod: &'a str,
    pub name: &'a str,
}

impl ContainerAddr<'_> {
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

/// How long an attach refused while the container's status still says it runs is tried
/// again before kubectl's fallback to the log (a definitive refusal, 4xx) : the kubelet
/// reports an exit about a second late (R4), and the refusals of R5 and R10 come in between.
const REFUSAL_PATIENCE: Duration = Duration::from_secs(3);

/// Waits for the container, then attaches and returns the container's exit code. In fan-out
/// (a captured sink) it follows the log instead, from the start.
pub fn follow(
    conn: &Connection,
    p: &Plan,
    c: ContainerAddr,
    ended: Option<String>,
    sink: &mut Sink,
    early: Option<wait::EarlyWatch>,
) -> Result<u8, RunError> {
    let client = &conn.client;
    // The debug container exists: from here on a lost API server is waited for.
    client.reconnect().open_session();
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
        logs::show_ended(client, c, 0, &mut *sink.writer())?;
        return Ok(c.exit_code(exit_code)? as u8);
    }
    if !sink.interactive() {
        logs::follow_to_end(client, c, 0, None, &mut *sink.writer())?;
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

impl Attach {
    fn printer(&self) -> crate::sys::output::Printer {
        crate::sys::output::Printer {
            quiet: self.quiet,
            data_on_stdout: false,
        }
    }
}

/// Why an attach did not carry the session to its end.
enum Trouble {
    /// Refused: the upgrade failed, or the runtime's refusal came after it (R5, R10).
    Refused(Refusal),
    /// The connection broke under the session (R11, R14).
    Broke(attach::Broke),
}

enum Refusal {
    Upgrade(ApiError),
    Runtime(String),
}

impl Refusal {
    /// A refusal that may pass by itself (a server error, a runtime between states, a lost
    /// connection), as opposed to the server's definitive no (403, 404, 400).
    fn passing(&self) -> bool {
        match self {
            Refusal::Runtime(_) => true,
            Refusal::Upgrade(e) => e.may_pass(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Upgrade(e) => f.write_str(&error_text(e)),
            Refusal::Runtime(msg) => f.write_str(msg),
        }
    }
}

/// Attaches to a running container and sees the session through to the container's exit
/// code, whatever happens to the attach on the way. The truth is the container's log and
/// its state in the pod: an attach refused, or one that breaks, is followed by a fresh read
/// of the state, never by matching the error's words. Terminated: the rest of the output
/// comes from the log, each byte once, and the exit code from the state. Still running: the
/// attach is made again (a TTY keeps its raw mode and sends its size again; piped input goes
/// on), or, once stdin has ended, the log is followed from the byte reached.
pub fn attach_and_report(
    conn: &Connection,
    c: ContainerAddr,
    how: &Attach,
    pod_obj: &Value,
    watch: Option<wait::WatchTail>,
) -> Result<u8, RunError> {
    let client = &conn.client;
    client.reconnect().open_session();
    let say = how.printer();
    let mut tty = how.tty;
    let container_tty = Pod::read(pod_obj)?.container(c.name).is_some_and(|c| c.tty);
    if tty && !container_tty {
        let msg = format!(
            "Unable to use a TTY - container {} did not allocate one",
            c.name
        );
        say.info(&error_text(msg.as_str()));
        tty = false;
    } else if !tty && container_tty && how.stdin {
        tty = true;
    }
    if tty && !crate::sys::term::is_terminal(0) {
        say.info("Unable to use a TTY - input is not a terminal or the right kind of file");
        tty = false;
    }
    say.info("If you don't see a command prompt, try pressing enter.");
    let opts = AttachOptions {
        container: c.name.to_string(),
        stdin: how.stdin,
        tty,
        measure: !tty,
    };
    let mut watch = watch;
    let mut raw = None;
    let mut earlier = Earlier {
        print: how.print_earlier,
        skip: 0,
    };
    let mut connected = false;
    let mut refused_since: Option<Instant> = None;
    let mut tries = 0;
    loop {
        let trouble = match attach::run(client, c.ns, c.pod, &opts, earlier, &mut raw) {
            Err(e @ ApiError::GaveUp { .. }) => return Err(e.into()),
            Err(e) => Trouble::Refused(Refusal::Upgrade(e)),
            Ok(session) => {
                connected = true;
                if let Some(handled) = session.handled().filter(|_| !tty) {
                    earlier = Earlier {
                        print: true,
                        skip: handled,
                    };
                }
                match session.ended {
                    Ended::Status(ChannelStatus::ExitCode(n)) => return Ok(n),
                    Ended::Status(ChannelStatus::Success) => {
                        drop(raw.take());
                        return ended_well(client, c, how, tty, &session, watch.take());
                    }
                    Ended::Status(ChannelStatus::Failure(msg)) => {
                        Trouble::Refused(Refusal::Runtime(msg))
                    }
                    Ended::Broke(broke) if !session.input_ended || tty => Trouble::Broke(broke),
                    // Stdin had ended: the rest was only ever to come from the log (R2).
                    Ended::Broke(broke) => {
                        return rest_from_log(client, c, how, earlier, watch.take())
                            .map_err(|e| lost_or(e, broke));
                    }
                }
            }
        };
        let state = match state_of(client, c) {
            Ok(s) => s,
            // Neither attached nor able to say how the container is: cannot attach (126).
            Err(e) => {
                drop(raw.take());
                return Err(match (trouble, e) {
                    (Trouble::Broke(b), e) => lost_or(e, b),
                    (Trouble::Refused(_), RunError::Api(e)) => AttachError::Connect(e).into(),
                    (Trouble::Refused(_), e) => e,
                });
            }
        };
        tries += 1;
        match (state, trouble) {
            (State::Terminated { exit_code, .. }, _) => {
                drop(raw.take());
                // Without a TTY the log is the rest of the output; a TTY session's output
                // was the terminal's, except when no attach ever connected.
                if !tty || !connected {
                    logs::show_ended(client, c, earlier.skip, &mut stdout())?;
                }
                return Ok(c.exit_code(exit_code)? as u8);
            }
            (_, Trouble::Refused(r)) => {
                let since = *refused_since.get_or_insert_with(Instant::now);
                // A TTY session has no other way to its shell than the attach, so a refusal
                // that may pass (a kubelet restarting, R14) is waited out for the reconnect
                // window; without a TTY the log carries the output, so kubectl's fallback
                // comes sooner.
                let patience = if tty && r.passing() {
                    client.reconnect().window().max(REFUSAL_PATIENCE)
                } else {
                    REFUSAL_PATIENCE
                };
                if since.elapsed() < patience {
                    std::thread::sleep(crate::client::reconnect::backoff(tries));
                    continue;
                }
                drop(raw.take());
                say.warn(&format!(
                    "couldn't attach to pod/{}, falling back to streaming logs: {r}",
                    c.pod
                ));
                logs::follow_to_end(client, c, earlier.skip, None, &mut stdout())?;
                return final_exit_code(client, c, watch.take(), EXIT_STATUS_GRACE);
            }
            (_, Trouble::Broke(b)) => {
                if !client.reconnect().retrying() {
                    drop(raw.take());
                    return Err(AttachError::Lost(b).into());
                }
                refused_since = None;
                // Attach again: a TTY to the same shell, piped input to go on with.
                std::thread::sleep(crate::client::reconnect::backoff(1));
            }
        }
    }
}

fn stdout() -> crate::sys::output::RawOut {
    crate::sys::output::stdout()
}

/// A lost connection that could not be made again reads as the attach lost (exit 126); any
/// other failure speaks for itself.
fn lost_or(e: RunError, broke: attach::Broke) -> RunError {
    match &e {
        RunError::Api(a) if a.is_connection_loss() => AttachError::Lost(broke).into(),
        _ => e,
    }
}

/// The container's state, read again.
fn state_of(client: &Client, c: ContainerAddr) -> Result<State, RunError> {
    let obj = client.get(&api::pod_path(c.ns, c.pod))?;
    Ok(Pod::read(&obj)?.state(c.name))
}

/// A session the server ended with success: a TTY's is over; without a TTY, the output the
/// attach did not carry comes from the log (written before it connected, or after stdin
/// closed, R2), then the exit code.
fn ended_well(
    client: &Client,
    c: ContainerAddr,
    how: &Attach,
    tty: bool,
    session: &attach::Session,
    watch: Option<wait::WatchTail>,
) -> Result<u8, RunError> {
    if tty {
        if !how.quiet {
            if let Some(msg) = &how.ended {
                let _ = writeln!(stdout(), "{msg}");
            }
        }
        return final_exit_code(client, c, watch, EXIT_STATUS_GRACE);
    }
    match session.handled() {
        Some(handled) => {
            let from = Earlier {
                print: true,
                skip: handled,
            };
            rest_from_log(client, c, how, from, watch)
        }
        None => {
            // The attach ended before the earlier output was measured: with everything after
            // it connected. The log, once the container has ended, gives the earlier part;
            // the held output follows it.
            let mut log = Prefix::new(attach::earlier::MAX_EARLIER);
            logs::follow_to_end(client, c, 0, None, &mut log)?;
            let earlier_len = log.total.saturating_sub(session.delivered) as usize;
            let mut out = stdout();
            if how.print_earlier {
                let _ = out.write_all(&log.kept[..earlier_len.min(log.kept.len())]);
            }
            let mut err = crate::sys::output::stderr();
            for h in &session.held {
                let _ = h.write_to(&mut out, &mut err);
            }
            final_exit_code(client, c, watch, EXIT_STATUS_GRACE)
        }
    }
}

/// The rest of a non-TTY session from the log, from the byte reached, then the exit code. If
/// the container stays running with nothing new for a while after its input ended, it is
/// left running, and said so.
fn rest_from_log(
    client: &Client,
    c: ContainerAddr,
    how: &Attach,
    from: Earlier,
    watch: Option<wait::WatchTail>,
) -> Result<u8, RunError> {
    let followed =
        logs::follow_to_end(client, c, from.skip, Some(IDLE_AFTER_INPUT), &mut stdout())?;
    if followed == Followed::Idle {
        how.printer().warn(&format!(
            "container {} is still running with nothing more to show since its input ended (its stdin stays open); reattach with: kdebug attach {} -c {} -i",
            c.name, c.pod, c.name
        ));
        return Ok(0);
    }
    final_exit_code(client, c, watch, EXIT_STATUS_GRACE)
}

/// Keeps the first `cap` bytes written and counts them all.
struct Prefix {
    kept: Vec<u8>,
    cap: usize,
    total: u64,
}

impl Prefix {
    fn new(cap: usize) -> Prefix {
        Prefix {
            kept: Vec::new(),
            cap,
            total: 0,
        }
    }
}

impl Write for Prefix {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = self.cap.saturating_sub(self.kept.len()).min(buf.len());
        self.kept.extend_from_slice(&buf[..room]);
        self.total += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The container's exit code once it has terminated; 0 if it is still running after `grace`
/// (the session ended but the process lives on, as after a detach).
pub fn final_exit_code(
    client: &Client,
    c: ContainerAddr,
    watch: Option<wait::WatchTail>,
    grace: Duration,
) -> Result<u8, RunError> {
    Ok(exit_code_within(client, c, watch, grace)?.map_or(0, |code| code as u8))
}

/// The container's exit code once it has terminated, or None if it still runs after
/// `grace`. The watch that saw the container start, when there is one, shows the end too;
/// otherwise (or if it ends first) the pod is read until then.
pub fn exit_code_within(
    client: &Client,
    c: ContainerAddr,
    watch: Option<wait::WatchTail>,
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
        let c = ContainerAddr {
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
