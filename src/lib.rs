//! kdebug: `kubectl debug` as one small static binary.
//!
//! Data flows one way: argv -> plan -> requests -> wait -> attach -> cleanup -> exit code.
//! The binary (`main.rs`) is a thin wrapper around [`run`].

pub mod api;
pub mod archive;
pub mod attach;
pub mod cli;
pub mod client;
pub mod credentials;
pub mod debug;
pub mod fanout;
pub mod kubeconfig;
pub mod leftovers;
pub mod logs;
pub mod run;
pub mod secret;
pub mod session;
pub mod signals;
pub mod term;
pub mod time;
pub mod wait;
pub mod workload;

/// The largest `--custom` or `-f` input read; anything larger is refused with a clear error.
pub const MAX_INPUT_BYTES: usize = 4 << 20;
