//! `kdebug cp`'s own failures (the archive's are [`crate::archive::ArchiveError`]).

use std::fmt;
use std::path::PathBuf;

#[derive(Debug)]
pub enum CpError {
    /// Into the pod: the local source does not exist (kubectl's wording).
    NoLocalSource(PathBuf),
    /// The pod has ended: there is no container left to reach.
    CompletedPod { phase: String },
    /// `-c` (or the default container) is not one of the pod's regular containers.
    NotARegularContainer {
        container: String,
        namespace: String,
        pod: String,
    },
    /// The copy ended but its container still runs after the grace period.
    StillRunning {
        container: String,
        namespace: String,
        pod: String,
    },
    /// Out of the pod to `-`: stdout could not take the archive.
    WriteStdout(std::io::Error),
    /// Into the pod from `-`: the archive could not be sent.
    SendArchive(std::io::Error),
    /// The connection lived but no archive bytes moved for this long.
    Stalled(std::time::Duration),
    /// The copy container's answer line was longer than it can be.
    LongAnswer { limit: usize },
    /// The exec running the copy ended with a failure that is not an exit code.
    ExecFailed { container: String, why: String },
    /// The copy ended with no exit code from the copy's process.
    NoResult { namespace: String, pod: String },
}

impl fmt::Display for CpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CpError::NoLocalSource(src) => {
                write!(f, "{} doesn't exist in local filesystem", src.display())
            }
            CpError::CompletedPod { phase } => write!(
                f,
                "cannot copy files of a completed pod; current phase is {phase}"
            ),
            CpError::NotARegularContainer {
                container,
                namespace,
                pod,
            } => write!(
                f,
                "container {container:?} not found in pod {namespace}/{pod} (kdebug cp reaches the pod's regular containers)"
            ),
            CpError::StillRunning {
                container,
                namespace,
                pod,
            } => write!(
                f,
                "copy container {container} is still running in pod {namespace}/{pod} after the copy ended"
            ),
            CpError::WriteStdout(e) => write!(f, "failed to write the archive to stdout: {e}"),
            CpError::SendArchive(e) => write!(f, "failed to send the archive: {e}"),
            CpError::Stalled(d) => write!(
                f,
                "the copy stalled: no archive bytes for {} while the connection stayed open",
                crate::text::duration::format_go(*d)
            ),
            CpError::ExecFailed { container, why } => {
                write!(f, "the copy in container {container} failed: {why}")
            }
            CpError::NoResult { namespace, pod } => write!(
                f,
                "the copy in pod {namespace}/{pod} ended without an exit code from its tar"
            ),
            CpError::LongAnswer { limit } => write!(
                f,
                "the copy container's answer is longer than {limit} bytes: not kdebug's copy script, or a compromised image"
            ),
        }
    }
}

impl std::error::Error for CpError {}
