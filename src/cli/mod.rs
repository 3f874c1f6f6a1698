//! Command line: stage one ([`args`]) turns argv into plain data with no I/O; stage two
//! ([`plan`]) checks it the way kubectl does, in kubectl's order and with its messages.

pub mod args;
pub mod complete;
pub mod cp;
pub mod custom_file;
pub mod flags;
pub mod plan;
pub mod scripts;

use std::fmt;

/// Errors in the command line itself. All of them are found before any request is sent.
#[derive(Debug)]
pub enum CliError {
    UnknownFlag(String, Option<&'static str>),
    MissingValue(String),
    InvalidValue(String, String, String),
    NotUnicode(String),
    /// lexopt's own refusals other than the two above.
    Parse(lexopt::Error),
    /// `--request-timeout` that client-go's ParseDuration rules refuse.
    RequestTimeout,
    /// A debug-only flag (named) given to `kdebug cp`.
    NotForCp(&'static str),
    /// `--no-preserve` or `--retries` without `cp`.
    CpOnly,
    /// A positional argument the verb takes none of.
    UnexpectedArgument(String),
    Target(crate::kube::target::TargetError),
    /// kubectl's checks of the debug options (profile, image, Validate, `--mirror`).
    Debug(crate::debug::DebugError),
    CustomFile(custom_file::CustomFileError),
    /// Flags that do not go together (kdebug's own checks).
    Misuse(plan::Misuse),
    /// `kdebug cp`'s argument checks, in kubectl cp's words (cli/cp.rs).
    Cp(cp::CpArgError),
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::UnknownFlag(flag, None) => write!(f, "unknown flag: {flag}"),
            CliError::UnknownFlag(flag, Some(s)) => {
                write!(f, "unknown flag: {flag} (did you mean --{s}?)")
            }
            CliError::MissingValue(flag) => write!(f, "flag needs an argument: --{flag}"),
            CliError::InvalidValue(flag, value, why) => {
                write!(f, "invalid argument {value:?} for \"--{flag}\" flag: {why}")
            }
            CliError::NotUnicode(v) => write!(f, "argument is not valid UTF-8: {v:?}"),
            CliError::Parse(e) => write!(f, "{e}"),
            CliError::RequestTimeout => f.write_str("Invalid timeout value. Timeout must be a single integer in seconds, or an integer followed by a corresponding time unit (e.g. 1s | 2m | 3h)"),
            CliError::NotForCp(flag) => write!(f, "{flag} cannot be used with kdebug cp"),
            CliError::CpOnly => {
                f.write_str("--no-preserve, --retries and --helper-idle are for kdebug cp")
            }
            CliError::UnexpectedArgument(arg) => write!(f, "unexpected argument {arg:?}"),
            CliError::Target(e) => write!(f, "{e}"),
            CliError::Debug(e) => write!(f, "{e}"),
            CliError::CustomFile(e) => write!(f, "{e}"),
            CliError::Misuse(e) => write!(f, "{e}"),
            CliError::Cp(e) => write!(f, "{e}"),
        }
    }
}

impl CliError {
    /// A flag that could not be parsed: kubectl (cobra's flag error function) follows these
    /// with a pointer to the usage.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            CliError::UnknownFlag(..) | CliError::MissingValue(_) | CliError::InvalidValue(..)
        )
    }
}

impl std::error::Error for CliError {}
