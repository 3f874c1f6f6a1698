//! kubeconfig: reading, merging and resolving client configuration the way client-go does.

pub mod b64;
pub mod yaml;

pub use yaml::{parse_value, YamlError};
