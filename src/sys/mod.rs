//! The process and its terminal: signals and exit-time cleanups ([`signals`]), raw mode and
//! window size ([`term`]), what kdebug prints ([`output`]), a live status line ([`live`]),
//! secrets that never print ([`secret`]), the one reader of stdin ([`stdin`]), how a failure
//! is printed ([`report`]).

pub mod live;
pub mod output;
pub mod report;
pub mod secret;
pub mod signals;
pub mod stdin;
pub mod term;
