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
#[derive(Debug, PartialEq, Eq)]
pub enum CliError {
    UnknownFlag(String, Option<&'static str>),
    MissingValue(String),
    InvalidValue(String, String, String),
    NotUnicode(String),
    /// A kubectl validation message, printed verbatim after `error: `.
    Invalid(String),
    Other(String),
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
            CliError::Invalid(msg) | CliError::Other(msg) => f.write_str(msg),
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
