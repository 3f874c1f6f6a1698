//! kubeconfig: reading, merging and resolving client configuration the way client-go does.
//!
//! - [`model`]: the file model, decoded with kubectl's strict typing.
//! - [`load`]: which files are read and how they merge.
//! - [`view`]: `kdebug config view|current-context|get-contexts`; [`printed`]: the config as
//!   `config view` prints it.
//! - [`resolve`]: context/cluster/user selection and flag overrides -> [`ClientConfig`].
//! - [`validate`]: client-go's ConfirmUsable rules, each problem a typed [`validate::Unusable`].
//! - [`incluster`]: the service-account fallback inside a pod.
//! - [`exec`]: exec credential plugins.
//! - [`persist`]: refreshed OIDC tokens written back into their file.
//!
//! The YAML reader and writer are in `text`.

mod build;
pub mod exec;
pub mod incluster;
pub mod load;
pub mod model;
pub mod persist;
pub mod printed;
pub mod resolve;
pub mod validate;
pub mod view;

use std::fmt;
use std::path::PathBuf;

pub use exec::{run_plugin, ClusterInfo, ExecCredential, ExecError};
pub use model::ExecConfig;
pub use resolve::{resolve, ClientConfig, Impersonation, Overrides, ResolveError};

/// Errors while finding, reading or decoding kubeconfig files.
#[derive(Debug)]
pub enum KubeconfigError {
    /// A file could not be read or decoded (the decode error names the line).
    Load { path: PathBuf, cause: LoadCause },
    /// Several files failed (client-go reports them together).
    Several(Vec<KubeconfigError>),
    /// `--kubeconfig` names a file that does not exist (kubectl: `stat PATH: no such file or
    /// directory`).
    Missing { path: PathBuf },
}

impl fmt::Display for KubeconfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KubeconfigError::Load { path, cause } => {
                write!(
                    f,
                    "failed to load config file {:?}: ",
                    path.display().to_string()
                )?;
                match cause {
                    LoadCause::Read(e) => f.write_str(&load::go_io_error("read", path, e)),
                    LoadCause::Decode(e) => write!(f, "{e}"),
                }
            }
            KubeconfigError::Several(list) => {
                let parts: Vec<String> = list.iter().map(|e| e.to_string()).collect();
                f.write_str(&parts.join("\n"))
            }
            KubeconfigError::Missing { path } => {
                write!(f, "stat {}: no such file or directory", path.display())
            }
        }
    }
}

impl std::error::Error for KubeconfigError {}

/// Why one kubeconfig file could not be used.
#[derive(Debug)]
pub enum LoadCause {
    Read(std::io::Error),
    Decode(model::ModelError),
}
