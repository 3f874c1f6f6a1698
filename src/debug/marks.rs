//! The marks kdebug puts on what it creates, and by which `list` and `gc` find it again.

/// kdebug's own marking of what it creates (issue "Leave nothing behind").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    /// What is being debugged, e.g. `pod/web-0` or `node/node-1`.
    pub target: String,
    /// RFC3339 creation time.
    pub created: String,
}

/// Label put on every copy/node pod kdebug creates when marking is on.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "kdebug";
/// The label selector that finds them (`kdebug list`, `kdebug gc`).
pub const MANAGED_BY_SELECTOR: &str = "app.kubernetes.io/managed-by=kdebug";
pub const TARGET_ANNOTATION: &str = "kdebug.io/target";
pub const CREATED_ANNOTATION: &str = "kdebug.io/created";
/// Env var put on ephemeral containers when marking is on (they have no labels).
pub const MARK_ENV: &str = "KDEBUG";
