//! How a failure reaches the user: the one place kubectl's `error: ` prefix is written.
//!
//! kubectl's `cmdutil.CheckErr` prints most errors after `error: `, but not all: API status
//! errors (`Error from server (NotFound): ...`), connection failures (`Unable to connect to the
//! server: ...`) and invalid configurations (`Error in configuration: ...`) are printed as they
//! are. Each error type says which of its cases kubectl prefixes ([`Failure::prefixed`]); its
//! `Display` is the message alone, so the same text can also stand in a table cell (fan-out's
//! summary) without a prefix to strip.

use std::fmt;

/// An error (or a line kubectl words like one) whose `Display` is the message alone.
pub trait Failure: fmt::Display {
    /// Whether kubectl prints this message after `error: `.
    fn prefixed(&self) -> bool {
        true
    }
}

/// A line kubectl prints after `error: ` without failing the command (`kubectl attach`'s
/// `Unable to use a TTY - container x did not allocate one`).
impl Failure for str {}

/// The text kubectl prints for `e` (without a trailing newline).
pub fn error_text<E: Failure + ?Sized>(e: &E) -> String {
    if e.prefixed() {
        format!("error: {e}")
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct AsIs;
    impl fmt::Display for AsIs {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Error from server (NotFound): pods \"x\" not found")
        }
    }
    impl Failure for AsIs {
        fn prefixed(&self) -> bool {
            false
        }
    }

    #[test]
    fn prefixes_only_what_kubectl_prefixes() {
        assert_eq!(error_text("no pods found"), "error: no pods found");
        assert_eq!(
            error_text(&AsIs),
            "Error from server (NotFound): pods \"x\" not found"
        );
    }
}
