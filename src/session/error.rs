//! Every way a run can fail, by layer, and the exit code each one gives. Each layer's
//! `Display` is the message alone; [`crate::sys::report::error_text`] adds kubectl's
//! `error: ` where kubectl does.

use std::fmt;
use std::path::PathBuf;

use crate::archive::ArchiveError;
use crate::cli::CliError;
use crate::client::{ApiError, ClientError};
use crate::debug::DebugError;
use crate::kubeconfig::ResolveError;
use crate::sys::report::Failure;

use super::attach::AttachError;
use super::cp::CpError;
use super::targets::TargetError;
use super::wait::WaitError;
use super::workload::WorkloadError;

/// Exit codes beyond the container's own (documented in `--help` and the README).
pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_TIMEOUT: u8 = 124;
pub const EXIT_CANNOT_START: u8 = 125;
pub const EXIT_CANNOT_ATTACH: u8 = 126;
/// Ended by Ctrl-C (128 + SIGINT), as a shell reports it.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Declares [`RunError`] from its layers, stating once for each its variant, its error type
/// and whether kubectl prints it after `error: ` always or as the layer's own error says;
/// the `From` conversions, `Display` and `Failure` follow from that list.
macro_rules! run_error {
    ($($(#[$doc:meta])* $variant:ident($ty:ty), prefix $how:ident;)*) => {
        /// Every way a run can fail, by layer.
        #[derive(Debug)]
        pub enum RunError {
            $($(#[$doc])* $variant($ty),)*
            /// An error and what to do about it (printed on the next line, after `hint: `).
            Hinted(Box<RunError>, &'static str),
        }

        $(impl From<$ty> for RunError {
            fn from(e: $ty) -> Self {
                RunError::$variant(e)
            }
        })*

        impl Failure for RunError {
            fn prefixed(&self) -> bool {
                match self {
                    $(RunError::$variant(_e) => run_error!(@prefixed $how _e),)*
                    RunError::Hinted(e, _) => e.prefixed(),
                }
            }
        }

        impl fmt::Display for RunError {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    RunError::Cli(e) if e.is_usage() => {
                        write!(f, "{e}\nSee 'kdebug --help' for usage.")
                    }
                    $(RunError::$variant(e) => write!(f, "{e}"),)*
                    RunError::Hinted(e, hint) => write!(f, "{e}\nhint: {hint}"),
                }
            }
        }
    };
    (@prefixed always $e:ident) => { true };
    (@prefixed own $e:ident) => { $e.prefixed() };
}

run_error! {
    Cli(CliError), prefix always;
    /// The kubeconfig and the connection flags, checked before any request.
    Config(ResolveError), prefix own;
    /// The client could not be built from the resolved configuration.
    Client(ClientError), prefix always;
    Api(ApiError), prefix own;
    Debug(DebugError), prefix always;
    /// The objects to debug (or the pod to attach to) could not be found or read.
    Target(TargetError), prefix always;
    Wait(WaitError), prefix own;
    Attach(AttachError), prefix own;
    Workload(WorkloadError), prefix own;
    Session(SessionError), prefix always;
    Cp(CpError), prefix always;
    /// A tar stream `kdebug cp` wrote or read.
    Archive(ArchiveError), prefix always;
}

/// The journeys' own failures, past the targets and before or after the container runs.
#[derive(Debug)]
pub enum SessionError {
    /// The pod's `ephemeralcontainers` subresource answered 404 without naming an object:
    /// the server's message, quoted as kubectl quotes it.
    EphemeralDisabled(String),
    /// Reading a container's log failed (other than by a lost connection).
    LogRead {
        pod: String,
        container: String,
        kind: std::io::ErrorKind,
    },
    /// A container's log is larger than kdebug reads into memory.
    LogTooLarge {
        pod: String,
        container: String,
        limit: u64,
    },
    /// `--output-dir` could not be created.
    OutputDir { dir: PathBuf, cause: std::io::Error },
    /// A pod's log file in `--output-dir` could not be created.
    LogFile {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// Not one fan-out worker thread could be started.
    NoWorkers,
    /// The server reported the container terminated but gave no exit code (which is never
    /// read as 0, success).
    NoExitCode { pod: String, container: String },
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::EphemeralDisabled(msg) => write!(
                f,
                "ephemeral containers are disabled for this cluster (error from server: {msg:?})"
            ),
            SessionError::LogRead {
                pod,
                container,
                kind,
            } => write!(f, "failed to read the logs of {pod}/{container}: {kind}"),
            SessionError::LogTooLarge {
                pod,
                container,
                limit,
            } => write!(
                f,
                "the log of {pod}/{container} is larger than {limit} bytes"
            ),
            SessionError::OutputDir { dir, cause } => write!(
                f,
                "failed to create --output-dir {}: {cause}",
                dir.display()
            ),
            SessionError::LogFile { path, cause } => {
                write!(f, "failed to create {}: {cause}", path.display())
            }
            SessionError::NoWorkers => f.write_str("failed to start the fan-out workers"),
            SessionError::NoExitCode { pod, container } => write!(
                f,
                "container {container} in pod {pod} terminated, but the server gave no exit code"
            ),
        }
    }
}

impl std::error::Error for SessionError {}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Wait(WaitError::Timeout { .. }) => EXIT_TIMEOUT,
            RunError::Wait(WaitError::CannotStart { .. } | WaitError::PodFailed { .. }) => {
                EXIT_CANNOT_START
            }
            RunError::Attach(_) => EXIT_CANNOT_ATTACH,
            // The API server went away during the session and stayed away: the session was
            // lost as an attach is.
            RunError::Api(ApiError::GaveUp { .. })
            | RunError::Wait(WaitError::Api(ApiError::GaveUp { .. })) => EXIT_CANNOT_ATTACH,
            RunError::Hinted(e, _) => e.exit_code(),
            _ => EXIT_ERROR,
        }
    }
}

impl std::error::Error for RunError {}

/// A pod view that could not be read is the server's answer not understood.
impl From<crate::kube::pod::ReadError> for RunError {
    fn from(e: crate::kube::pod::ReadError) -> Self {
        RunError::Api(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Loss, Status};
    use crate::session::attach::Broke;
    use crate::sys::report::error_text;

    fn api(code: u16, reason: &str, message: &str) -> ApiError {
        ApiError::Status(Box::new(Status {
            code,
            reason: reason.into(),
            message: message.into(),
            ..Status::default()
        }))
    }

    #[test]
    fn flag_errors_point_to_the_usage_like_kubectl() {
        let e = RunError::Cli(CliError::MissingValue("image".into()));
        assert_eq!(
            error_text(&e),
            "error: flag needs an argument: --image\nSee 'kdebug --help' for usage."
        );
        let e = RunError::Cli(CliError::Cp(crate::cli::cp::CpArgError::EmptyPath));
        assert_eq!(error_text(&e), "error: filepath can not be empty");
    }

    #[test]
    fn the_prefix_follows_kubectl() {
        let not_found = RunError::Api(api(404, "NotFound", "pods \"x\" not found"));
        assert_eq!(
            error_text(&not_found),
            "Error from server (NotFound): pods \"x\" not found"
        );
        let unauthorized = RunError::Api(api(401, "Unauthorized", ""));
        assert_eq!(
            error_text(&unauthorized),
            "error: You must be logged in to the server (Unauthorized)"
        );
        use crate::kubeconfig::validate::Unusable;
        let one = RunError::Config(ResolveError::Invalid(vec![Unusable::NoDefaultServer]));
        assert_eq!(
            error_text(&one),
            "error: default cluster has no server defined"
        );
        let b = || Unusable::NoServer {
            cluster: "b".into(),
        };
        let many = RunError::Config(ResolveError::Invalid(vec![b(), b()]));
        assert_eq!(
            error_text(&many),
            "Error in configuration: \n* no server found for cluster \"b\"\n* no server found for cluster \"b\""
        );
        let context = RunError::Config(ResolveError::ContextNotFound("x".into()));
        assert_eq!(
            error_text(&context),
            "Error in configuration: context was not found for specified context: x"
        );
        let client = RunError::Client(ClientError::UnknownAuthProvider("x".into()));
        assert_eq!(
            error_text(&client),
            "error: no Auth Provider found for name \"x\""
        );
        let deleted = RunError::Wait(WaitError::Deleted { pod: "p".into() });
        assert!(!deleted.prefixed());
        let lost = RunError::Attach(AttachError::Lost(Broke::Connection(Loss::Closed)));
        assert_eq!(
            error_text(&lost),
            "error: lost the connection to the debug container: the server closed the connection without ending the session"
        );
        let gave_up = RunError::Api(ApiError::GaveUp {
            server: "https://10.0.0.1:6443".into(),
            tried: std::time::Duration::from_secs(120),
            last: Box::new(ApiError::Refused {
                host: "10.0.0.1:6443".into(),
            }),
        });
        assert_eq!(
            error_text(&gave_up),
            "error: lost the API server at https://10.0.0.1:6443: kdebug tried to reconnect for 2m0s (--reconnect-window) and it did not come back; last: The connection to the server 10.0.0.1:6443 was refused - did you specify the right host or port?"
        );
        assert_eq!(gave_up.exit_code(), EXIT_CANNOT_ATTACH);
        let connect = RunError::Attach(AttachError::Connect(api(404, "NotFound", "gone")));
        assert_eq!(error_text(&connect), "Error from server (NotFound): gone");
        // A hint follows the error and keeps its prefix (or its absence).
        let hinted = RunError::Hinted(Box::new(not_found), "look");
        assert_eq!(
            error_text(&hinted),
            "Error from server (NotFound): pods \"x\" not found\nhint: look"
        );
        let hinted = RunError::Hinted(Box::new(RunError::Session(SessionError::NoWorkers)), "h");
        assert_eq!(
            error_text(&hinted),
            "error: failed to start the fan-out workers\nhint: h"
        );
    }

    #[test]
    fn the_message_alone_has_no_prefix() {
        // fan-out's summary table shows the message without kubectl's prefix.
        let e = RunError::Target(TargetError::NoMatch {
            nodes: false,
            selector: "app=x".into(),
        });
        assert_eq!(e.to_string(), "no pods match the selector \"app=x\"");
        assert_eq!(
            error_text(&e),
            "error: no pods match the selector \"app=x\""
        );
    }

    #[test]
    fn exit_codes_by_failure() {
        let timeout = RunError::Wait(WaitError::Timeout {
            container: "c".into(),
            after: std::time::Duration::from_secs(1),
            last: String::new(),
        });
        assert_eq!(timeout.exit_code(), EXIT_TIMEOUT);
        assert_eq!(
            RunError::Hinted(Box::new(timeout), "h").exit_code(),
            EXIT_TIMEOUT
        );
        let lost = RunError::Attach(AttachError::Lost(Broke::Silent(
            std::time::Duration::from_secs(60),
        )));
        assert_eq!(lost.exit_code(), EXIT_CANNOT_ATTACH);
        let target = RunError::Target(TargetError::AttachNeedsOnePod);
        assert_eq!(target.exit_code(), EXIT_ERROR);
        let config = RunError::Config(ResolveError::ContextNotFound("x".into()));
        assert_eq!(config.exit_code(), EXIT_ERROR);
        let cp = RunError::Cp(CpError::CompletedPod {
            phase: "Succeeded".into(),
        });
        assert_eq!(cp.exit_code(), EXIT_ERROR);
        assert_eq!(
            error_text(&cp),
            "error: cannot copy files of a completed pod; current phase is Succeeded"
        );
        let archive = RunError::Archive(ArchiveError::Truncated { offset: 512 });
        assert!(archive.prefixed());
    }
}
