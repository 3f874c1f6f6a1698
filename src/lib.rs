//! kdebug: `kubectl debug` as one small static binary.
//!
//! Data flows one way: argv -> plan -> requests -> wait -> attach -> cleanup -> exit code,
//! and so do the modules (each uses only those listed after it):
//! - [`app`]: dispatch by verb, connect, the one place errors are printed.
//! - [`completion`]: `kdebug __complete`, names for the shell completion scripts.
//! - [`session`]: the journeys (ephemeral, copy, node, attach; fan-out), one file each,
//!   and the steps they share: targets, wait, attach, logs, cleanup.
//! - [`leftovers`]: `kdebug list` and `kdebug gc`.
//! - [`cli`]: argv -> raw args (no I/O) -> a validated plan, with kubectl's messages.
//! - [`kube`]: API paths, pod views, targets and kinds.
//! - [`client`]: the REST and WebSocket client, TLS, proxies, credentials.
//! - [`kubeconfig`]: reading, merging and resolving kubeconfig files.
//! - [`debug`]: pure builders of the bodies sent (profiles, custom, mirror, names).
//! - [`sys`]: signals, the terminal, output, secrets, kubectl's `error: ` prefix.
//! - [`archive`]: tar streams written and safely extracted (for `kdebug cp`).
//! - [`text`]: YAML, Go JSON, base64, times, durations, tables.

pub mod app;
pub mod archive;
pub mod cli;
pub mod client;
pub mod completion;
pub mod debug;
pub mod kube;
pub mod kubeconfig;
pub mod leftovers;
pub mod session;
pub mod sys;
pub mod text;

/// The largest `--custom` or `-f` input read; anything larger is refused with a clear error.
pub const MAX_INPUT_BYTES: usize = 4 << 20;
