//! Every way a run can fail, by layer, and the exit code each one gives.

use std::fmt;

use crate::cli::CliError;
use crate::client::ApiError;
use crate::debug::DebugError;

use super::attach::AttachError;
use super::wait::WaitError;
use super::workload::WorkloadError;

/// Exit codes beyond the container's own (documented in `--help` and the README).
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_TIMEOUT: u8 = 124;
pub const EXIT_CANNOT_START: u8 = 125;
pub const EXIT_CANNOT_ATTACH: u8 = 126;

/// Every way a run can fail, by layer.
#[derive(Debug)]
pub enum RunError {
    Cli(CliError),
    Config(String),
    Api(ApiError),
    Debug(DebugError),
    Wait(WaitError),
    Attach(AttachError),
    Workload(WorkloadError),
    /// A message already worded for the user (printed after `error: `).
    Other(String),
    /// An error and what to do about it (printed on the next line, after `hint: `).
    Hinted(Box<RunError>, String),
}

impl RunError {
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Wait(WaitError::Timeout { .. }) => EXIT_TIMEOUT,
            RunError::Wait(WaitError::CannotStart { .. } | WaitError::PodFailed { .. }) => {
                EXIT_CANNOT_START
            }
            RunError::Attach(_) => EXIT_CANNOT_ATTACH,
            RunError::Hinted(e, _) => e.exit_code(),
            _ => EXIT_ERROR,
        }
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Cli(e) if e.is_usage() => {
                write!(f, "error: {e}\nSee 'kdebug --help' for usage.")
            }
            RunError::Cli(e) => write!(f, "error: {e}"),
            RunError::Config(msg)
                if msg.starts_with("Error in configuration") || msg.starts_with("error: ") =>
            {
                f.write_str(msg)
            }
            RunError::Config(msg) => write!(f, "error: {msg}"),
            RunError::Api(e) => write!(f, "{e}"),
            RunError::Debug(e) => write!(f, "error: {e}"),
            RunError::Wait(e) => write!(f, "{e}"),
            RunError::Attach(e) => write!(f, "{e}"),
            RunError::Workload(e) => write!(f, "{e}"),
            RunError::Other(msg) => write!(f, "error: {msg}"),
            RunError::Hinted(e, hint) => write!(f, "{e}\nhint: {hint}"),
        }
    }
}

impl From<CliError> for RunError {
    fn from(e: CliError) -> Self {
        RunError::Cli(e)
    }
}
impl From<ApiError> for RunError {
    fn from(e: ApiError) -> Self {
        RunError::Api(e)
    }
}
impl From<DebugError> for RunError {
    fn from(e: DebugError) -> Self {
        RunError::Debug(e)
    }
}
impl From<WaitError> for RunError {
    fn from(e: WaitError) -> Self {
        RunError::Wait(e)
    }
}
impl From<AttachError> for RunError {
    fn from(e: AttachError) -> Self {
        RunError::Attach(e)
    }
}
impl From<WorkloadError> for RunError {
    fn from(e: WorkloadError) -> Self {
        RunError::Workload(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_errors_point_to_the_usage_like_kubectl() {
        let e = RunError::Cli(CliError::MissingValue("image".into()));
        assert_eq!(
            e.to_string(),
            "error: flag needs an argument: --image\nSee 'kdebug --help' for usage."
        );
        let e = RunError::Cli(CliError::Invalid("unknown profile: foo".into()));
        assert_eq!(e.to_string(), "error: unknown profile: foo");
    }
}
