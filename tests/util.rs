//! Helpers for integration tests.

use std::process::Command;

/// A command for the kdebug binary built for this test run.
pub fn kdebug() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kdebug"))
}
