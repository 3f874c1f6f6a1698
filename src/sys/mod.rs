//! The process and its terminal: signals and exit-time cleanups ([`signals`]), raw mode and
//! window size ([`term`]), what kdebug prints ([`output`]), a live status line ([`live`]),
//! secrets that never print ([`secret`]).

pub mod live;
pub mod output;
pub mod secret;
pub mod signals;
pub mod term;
