//! How waiting for the debug container can fail, in kubectl's words where kubectl has them.

use std::fmt;
use std::time::Duration;

use crate::client::ApiError;
use crate::sys::report::Failure;

#[derive(Debug)]
pub enum WaitError {
    Api(ApiError),
    /// The pod went away (kubectl: `pods "" not found`).
    Deleted {
        pod: String,
    },
    /// The container cannot start: the kubelet's reason and message.
    CannotStart {
        container: String,
        reason: String,
        message: String,
    },
    /// The pod failed as a whole (evicted, unschedulable).
    PodFailed {
        pod: String,
        reason: String,
        message: String,
    },
    Timeout {
        container: String,
        after: Duration,
        last: String,
    },
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Api(e) => write!(f, "{e}"),
            WaitError::Deleted { .. } => {
                write!(f, "Error from server (NotFound): pods \"\" not found")
            }
            WaitError::CannotStart {
                container,
                reason,
                message,
            } => {
                write!(f, "container {container} cannot start: {reason}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            WaitError::PodFailed {
                pod,
                reason,
                message,
            } => {
                write!(f, "pod {pod} failed: {reason}")?;
                if !message.is_empty() {
                    write!(f, ": {message}")?;
                }
                Ok(())
            }
            WaitError::Timeout {
                container,
                after,
                last,
            } => {
                write!(
                    f,
                    "timed out after {} waiting for container {container} to start",
                    crate::text::duration::format_go(*after)
                )?;
                if !last.is_empty() {
                    write!(f, " (last state: {last})")?;
                }
                Ok(())
            }
        }
    }
}

/// The API's own errors keep kubectl's wording; what the wait decided is printed after
/// `error: `, except a deleted pod, which reads as the server's NotFound.
impl Failure for WaitError {
    fn prefixed(&self) -> bool {
        match self {
            WaitError::Api(e) => e.prefixed(),
            WaitError::Deleted { .. } => false,
            WaitError::CannotStart { .. }
            | WaitError::PodFailed { .. }
            | WaitError::Timeout { .. } => true,
        }
    }
}

impl From<ApiError> for WaitError {
    fn from(e: ApiError) -> Self {
        WaitError::Api(e)
    }
}
impl From<crate::kube::pod::ReadError> for WaitError {
    fn from(e: crate::kube::pod::ReadError) -> Self {
        WaitError::Api(e.into())
    }
}
