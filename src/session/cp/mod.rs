//! `kdebug cp`: files out of and into a container, whatever its image holds. kdebug writes
//! and reads the archive itself (`archive`), so the local side needs no tar either. The
//! remote tar runs where it can, in this order ([`Route`]):
//! 1. in the target itself over `pods/exec`, when it has `sh` and `tar` (kubectl cp's way);
//! 2. in an idle helper: a copy container (`debug::cp`) that stays running after a copy and
//!    ends once idle; later copies exec into it and add no container to the pod;
//! 3. without exec permission, in a new copy container per copy, over its attach.
//!
//! Out of the pod the archive is streamed into the safe extractor as it comes. Into the pod
//! kdebug first asks whether the destination is a directory (kubectl cp's `test -d`), then
//! sends the archive and closes stdin; the result comes from the container's terminated
//! state and, on failure, its log (containerd sends nothing more on an attach once its stdin
//! closed, R2 of tests/fakecluster/REAL.md).

mod channel;
mod error;
mod route;

pub use error::CpError;
pub use route::stop_helper;

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::archive::{self, Layout, PackOptions, UnpackOptions};
use crate::cli::cp::{Copy, Direction, Local};
use crate::cli::plan::Plan;
use crate::debug::cp::{self as builder, Access};
use crate::kube::{self as api, Pod};

use super::follow::{exit_code_within, ContainerAddr, EXIT_STATUS_GRACE};
use super::targets::TargetError;
use super::wait;
use super::{now_rfc3339, Connection, RunError};
use crate::session::attach::frames::ChannelStatus;
use channel::{Channel, Stdin};
use route::Route;

/// After the archive went in and stdin closed: how long `tar x` may take to finish.
const EXTRACT_GRACE: Duration = Duration::from_secs(60);

pub fn run(conn: &Connection, p: &Plan, copy: &Copy) -> Result<u8, RunError> {
    if let (Direction::ToPod, Local::Path(src)) = (copy.direction, &copy.local) {
        if std::fs::symlink_metadata(src).is_err() {
            return Err(CpError::NoLocalSource(src.clone()).into());
        }
    }
    let ns = copy
        .remote
        .namespace
        .clone()
        .unwrap_or_else(|| conn.namespace.clone());
    let pod = conn.client.get(&api::pod_path(&ns, &copy.remote.pod))?;
    let view = Pod::read(&pod)?;
    let target = target_container(p, &view)?;
    let mut side = Side {
        conn,
        p,
        copy,
        ns: &ns,
        pod_name: view.metadata.name.to_string(),
        pod,
        started: 0,
        target: &target,
        route: Route::Target,
        new_helpers: 0,
    };
    let helpers = copy.idle != Some(0);
    if let Some((name, access)) = side.running_helper(false)?.filter(|_| helpers) {
        // A helper of this target runs: the target had no tar, and the pod just read says so.
        side.trace(&format!("reusing helper container {name}"));
        side.route = Route::Helper { name, access };
    } else if !builder::target_can_copy(&copy.remote.path) {
        side.route = Route::FindHelper;
    }
    match copy.direction {
        Direction::FromPod => {
            let first = side.start(What::Out(0))?;
            let mut from = Resuming {
                cur: first,
                got: 0,
                tries: 0,
                max: copy.retries,
                side: &mut side,
            };
            let moved = copy_out(&mut from, copy);
            let Resuming { cur, side, .. } = from;
            side.finish(cur, moved?)
        }
        Direction::ToPod => {
            let mut cur = side.start(What::In)?;
            let moved = copy_in(&mut cur.ch, copy);
            side.finish(cur, moved?)
        }
    }
}

/// The pod side of a copy: which container of which pod, reached how.
struct Side<'a> {
    conn: &'a Connection,
    p: &'a Plan,
    copy: &'a Copy,
    ns: &'a str,
    /// The pod as last read: read again for each resumed copy, whose patch must see the
    /// copy containers added before it.
    pod: serde_json::Value,
    started: u32,
    pod_name: String,
    target: &'a str,
    route: Route,
    /// Helpers made by this run (a second one only when the first could not be used).
    new_helpers: u32,
}

/// Which way a copy goes (out of the pod: from which byte).
#[derive(Debug, Clone, Copy)]
enum What {
    Out(u64),
    In,
}

/// A copy under way: the remote tar's streams, and how its result will be known.
struct Started {
    ch: Channel,
    how: How,
}

enum How {
    /// A copy container's own process, attached: its result is its terminated state.
    Attached {
        name: String,
        access: Access,
        watch: Option<wait::WatchTail>,
    },
    /// A process exec'd in `container`: its result is the exec's status. `access` is how a
    /// helper reads the target's files (None in the target itself).
    Exec {
        container: String,
        access: Option<Access>,
    },
}

impl Side<'_> {
    fn container<'b>(&'b self, name: &'b str) -> ContainerAddr<'b> {
        ContainerAddr {
            ns: self.ns,
            pod: &self.pod_name,
            name,
        }
    }

    /// The exit code: 0 when the copy was clean; otherwise the remote tar's own, with its
    /// stderr (as kubectl relays it) and kubectl's `command terminated` line.
    fn finish(&self, mut last: Started, mut moved: Moved) -> Result<u8, RunError> {
        let stderr = std::mem::take(&mut last.ch.stderr);
        let outcome = last.ch.outcome();
        last.ch.close();
        if moved.clean {
            return Ok(if moved.warnings > 0 { 1 } else { 0 });
        }
        if let Some(e) = moved.error.take_if(|_| moved.at_once) {
            // The stream cannot be trusted past this point: no waiting on its container.
            let _ = crate::sys::output::stderr().write_all(visible(&stderr).as_bytes());
            return Err(e);
        }
        let (code, said, access) = match last.how {
            How::Attached {
                name,
                access,
                watch,
            } => {
                let c = self.container(&name);
                let grace = if moved.log_skip > 0 {
                    EXTRACT_GRACE
                } else {
                    EXIT_STATUS_GRACE
                };
                let client = &self.conn.client;
                let code = match exit_code_within(client, c, watch, grace)? {
                    Some(n) => Some(n),
                    None if moved.error.is_some() => None,
                    None => {
                        return Err(CpError::StillRunning {
                            container: name.clone(),
                            namespace: c.ns.to_string(),
                            pod: c.pod.to_string(),
                        }
                        .into())
                    }
                };
                let said = if moved.log_skip > 0 && code != Some(0) {
                    // Into the pod the attach carried nothing after stdin closed: the log has it.
                    let log = super::logs::read(client, c.ns, c.pod, c.name).unwrap_or_default();
                    log.get(moved.log_skip.min(log.len())..)
                        .unwrap_or_default()
                        .to_vec()
                } else {
                    stderr
                };
                (code, said, Some(access))
            }
            How::Exec { container, access } => {
                let code = match outcome {
                    Some(ChannelStatus::Success) => Some(0),
                    Some(ChannelStatus::ExitCode(n)) => Some(i32::from(n)),
                    Some(ChannelStatus::Failure(why)) if moved.error.is_none() => {
                        let _ = crate::sys::output::stderr().write_all(visible(&stderr).as_bytes());
                        return Err(CpError::ExecFailed {
                            container,
                            why: visible(why.as_bytes()),
                        }
                        .into());
                    }
                    _ => None,
                };
                (code, stderr, access)
            }
        };
        let _ = crate::sys::output::stderr().write_all(visible(&said).as_bytes());
        match (code, moved.error) {
            (Some(0) | None, Some(e)) => Err(e),
            (Some(0), None) => Ok(if moved.warnings > 0 { 1 } else { 0 }),
            (Some(n), _) => {
                // kubectl's line, whatever -q says: the copy failed.
                say().error_line(&format!("command terminated with exit code {n}"));
                if let (true, Some(access)) =
                    (said.windows(17).any(|w| w == b"Permission denied"), access)
                {
                    say().hint(&denied_hint(access, self.target));
                }
                Ok(n as u8)
            }
            (None, None) => Err(CpError::NoResult {
                namespace: self.ns.to_string(),
                pod: self.pod_name.clone(),
            }
            .into()),
        }
    }
}

/// The archive out of the pod, resumed by a new copy container from the byte where it broke
/// (`--retries`, kubectl's `tail -c+N`) when the stream ends early with no error from tar.
struct Resuming<'a, 'b> {
    cur: Started,
    got: u64,
    tries: i64,
    max: i64,
    side: &'a mut Side<'b>,
}

impl Resuming<'_, '_> {
    /// Whether the stream that just ended (`lost`: the link broke) may be resumed.
    fn resumable(&mut self, lost: bool) -> bool {
        if !(self.max < 0 || self.tries < self.max) || !self.cur.ch.stderr.is_empty() {
            return false;
        }
        if lost {
            return true;
        }
        // A clean end: resumed only while the container has not ended (the link went).
        // An exec's end is its process's.
        let How::Attached { name, .. } = &self.cur.how else {
            return false;
        };
        let c = self.side.container(name);
        matches!(
            exit_code_within(&self.side.conn.client, c, None, EXIT_STATUS_GRACE),
            Ok(None)
        )
    }
}

impl std::io::Read for Resuming<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let r = self.cur.ch.read(buf);
            let lost = match &r {
                Ok(0) => false,
                Ok(n) => {
                    self.got += *n as u64;
                    return r;
                }
                Err(_) => true,
            };
            if !self.resumable(lost) {
                return r;
            }
            self.tries += 1;
            say().info(&format!(
                "Resuming copy at {} bytes, retry {}/{}",
                self.got, self.tries, self.max
            ));
            let next = self
                .side
                .start(What::Out(self.got))
                .map_err(|e| std::io::Error::other(crate::sys::report::error_text(&e)))?;
            std::mem::replace(&mut self.cur, next).ch.close();
        }
    }
}

/// The container whose files are copied: `-c`, else kubectl's default container.
fn target_container(p: &Plan, pod: &Pod) -> Result<String, RunError> {
    let phase = pod.status.phase;
    if phase == "Succeeded" || phase == "Failed" {
        return Err(CpError::CompletedPod {
            phase: phase.to_string(),
        }
        .into());
    }
    let target = match p.opts.container.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => c.to_string(),
        None => {
            let (c, note) = api::default_container(pod).map_err(TargetError::from)?;
            if let Some(note) = note {
                p.printer().info(&note);
            }
            c
        }
    };
    let regular = pod.spec.containers.iter().any(|c| c.name == target);
    if !regular {
        return Err(CpError::NotARegularContainer {
            container: target,
            namespace: pod.metadata.namespace.to_string(),
            pod: pod.metadata.name.to_string(),
        }
        .into());
    }
    Ok(target)
}

/// What to try when the copy container was refused access to the target's files.
fn denied_hint(access: Access, target: &str) -> String {
    match access {
        Access::Ptrace => format!(
            "the copy container ran as root with SYS_PTRACE and was still refused: the files may be on a read-only or restricted mount of container {target}; try -c with another container, or a path the container can write"
        ),
        Access::SameUser(_) => format!(
            "Pod Security let the copy run only as container {target}'s own user (its securityContext's runAsUser, or the image's user when it sets none), and that user may not read or write this path; a namespace that allows SYS_PTRACE lets kdebug cp read any user's files"
        ),
    }
}

/// What the copy itself did, before the container's exit code is known.
struct Moved {
    /// The local side failed, or the archive could not be read.
    error: Option<RunError>,
    /// Entries refused or left out (named on stderr already).
    warnings: u64,
    /// The stream was complete and the remote side said nothing: no need to wait for the
    /// exit code (the kubelet shows it about a second later, R4).
    clean: bool,
    /// The log holds this many bytes of kdebug's own protocol before the remote stderr.
    log_skip: usize,
    /// The archive was bad (not cut short): the error is told at once, without waiting
    /// for the container's exit code.
    at_once: bool,
}

/// Text from the container as it reaches a terminal: control characters other than
/// newline and tab escaped (`\x1b`), so a compromised container cannot drive the
/// terminal. Invalid UTF-8 shows as U+FFFD.
fn visible(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len());
    for c in String::from_utf8_lossy(b).chars() {
        match c {
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn copy_out(from: &mut Resuming, copy: &Copy) -> Result<Moved, RunError> {
    let remote_name = builder::name_of(&copy.remote.path);
    let mut warn = |w: &archive::Warning| say().warn(&w.to_string());
    let (error, warnings) = match &copy.local {
        Local::Stream => {
            let mut out = crate::sys::output::stdout();
            let r = std::io::copy(from, &mut out)
                .map(|_| ())
                .map_err(|e| RunError::from(CpError::WriteStdout(e)));
            (r.err(), 0)
        }
        Local::Path(dest) => {
            let opts = UnpackOptions {
                preserve: copy.preserve,
                ..UnpackOptions::default()
            };
            let layout = Layout::Rename {
                prefix: &remote_name,
            };
            match archive::unpack(&mut *from, dest, layout, &opts, &mut warn) {
                Ok(sum) => (None, sum.warnings),
                Err(e @ archive::ArchiveError::Read(_)) if copy.retries == 0 => (
                    Some(RunError::Hinted(
                        Box::new(e.into()),
                        "--retries=N resumes a copy out of a pod whose connection broke",
                    )),
                    0,
                ),
                Err(e) => (Some(e.into()), 0),
            }
        }
    };
    // Nothing past the end-of-archive marker is read but a tar's padding, and nothing
    // past an archive error: the stream may go on forever.
    let at_once = matches!(
        &error,
        Some(RunError::Archive(e)) if !matches!(e, archive::ArchiveError::Read(_) | archive::ArchiveError::Truncated { .. })
    );
    if error.is_none() && copy.local != Local::Stream {
        from.cur.ch.settle_after_end(EXIT_STATUS_GRACE);
    }
    let clean = error.is_none() && from.cur.ch.stderr.is_empty() && copy.local != Local::Stream;
    Ok(Moved {
        error,
        warnings,
        clean,
        log_skip: 0,
        at_once,
    })
}

fn copy_in(ch: &mut Channel, copy: &Copy) -> Result<Moved, RunError> {
    let answer = ch.read_line()?;
    let into_dir = match answer.as_deref() {
        Some("D") => true,
        Some("F") => false,
        // The container ended without an answer: its stderr and exit code say why.
        _ => {
            return Ok(Moved {
                error: None,
                warnings: 0,
                clean: false,
                log_skip: 0,
                at_once: false,
            })
        }
    };
    let remote_name = builder::name_of(&copy.remote.path);
    let mut warnings = 0;
    let error = match &copy.local {
        Local::Stream => std::io::copy(&mut std::io::stdin().lock(), &mut Stdin(ch))
            .err()
            .map(|e| CpError::SendArchive(e).into()),
        Local::Path(src) => {
            let name = if into_dir {
                base_name(src)
            } else {
                remote_name
            };
            let mut warn = |w: &archive::Warning| say().warn(&w.to_string());
            let opts = PackOptions {
                preserve: copy.preserve,
            };
            match archive::pack(Stdin(ch), src, &name, opts, &mut warn) {
                Ok(sum) => {
                    warnings = sum.warnings;
                    None
                }
                Err(e) => Some(e.into()),
            }
        }
    };
    ch.close_stdin()?;
    ch.drain()?;
    Ok(Moved {
        error,
        warnings,
        clean: false,
        // The answer and its newline come first in the log.
        log_skip: answer.map_or(0, |a| a.len() + 1),
        at_once: false,
    })
}

/// The name a local path has on the other side (`.` and `/` have none of their own).
fn base_name(p: &Path) -> String {
    let abs;
    let p = if p.file_name().is_none() {
        abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        abs.as_path()
    } else {
        p
    };
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".".into())
}

/// Where cp's own lines go (they are not `-q`'s to drop: a copy's failure and its cause).
fn say() -> crate::sys::output::Printer {
    crate::sys::output::Printer::default()
}
