//! kdebug: `kubectl debug` as one small static binary.
//!
//! Data flows one way: argv -> plan -> requests -> wait -> attach -> cleanup -> exit code.
//! The binary (`main.rs`) is a thin wrapper around [`run`].

pub mod cli;
pub mod debug;
pub mod kubeconfig;
pub mod secret;
