//! What the builders need from the command line: [`DebugOptions`], the [`Profile`], and the
//! messages kubectl prints once per run.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::{env_var, DebugError, Mark, Message, Mirror};

/// `--profile`. kubectl 1.33 defaults to `legacy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Profile {
    #[default]
    Legacy,
    General,
    Baseline,
    Restricted,
    Netadmin,
    Sysadmin,
}

impl Profile {
    pub fn as_str(self) -> &'static str {
        match self {
            Profile::Legacy => "legacy",
            Profile::General => "general",
            Profile::Baseline => "baseline",
            Profile::Restricted => "restricted",
            Profile::Netadmin => "netadmin",
            Profile::Sysadmin => "sysadmin",
        }
    }
}

impl FromStr for Profile {
    type Err = DebugError;
    fn from_str(s: &str) -> Result<Self, DebugError> {
        // kubectl compares the flag value exactly (no case folding, no trimming).
        match s {
            "legacy" => Ok(Profile::Legacy),
            "general" => Ok(Profile::General),
            "baseline" => Ok(Profile::Baseline),
            "restricted" => Ok(Profile::Restricted),
            "netadmin" => Ok(Profile::Netadmin),
            "sysadmin" => Ok(Profile::Sysadmin),
            other => Err(DebugError::UnknownProfile(other.to_string())),
        }
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything the builders need from the command line.
#[derive(Debug, Clone, PartialEq)]
pub struct DebugOptions {
    pub image: Option<String>,
    pub container: Option<String>,
    pub image_pull_policy: Option<String>,
    /// `--env` pairs in command-line order (kubectl's order is random; ours is deterministic).
    pub env: Vec<(String, String)>,
    pub stdin: bool,
    pub tty: bool,
    pub target: Option<String>,
    pub args: Vec<String>,
    pub arguments_only: bool,
    pub profile: Profile,
    /// The parsed `--custom` file as JSON (YAML already converted by the caller). `Null` (an
    /// empty file) means no custom profile, like kubectl.
    pub custom: Option<Value>,
    pub copy_to: Option<String>,
    pub replace: bool,
    pub same_node: bool,
    /// `--share-processes`: `Some` only when given explicitly (kubectl ignores the default).
    pub share_processes: Option<bool>,
    pub set_image: Vec<(String, String)>,
    pub keep_labels: bool,
    pub keep_annotations: bool,
    pub keep_liveness: bool,
    pub keep_readiness: bool,
    pub keep_startup: bool,
    /// Defaults to true, like kubectl.
    pub keep_init_containers: bool,
    pub mirror: Mirror,
    /// `None` reproduces kubectl's bodies byte for byte.
    pub mark: Option<Mark>,
    /// `--host-shell` (node journey): the command runs through `nsenter` in PID 1's
    /// namespaces, under the sysadmin profile.
    pub host_shell: bool,
}

impl Default for DebugOptions {
    fn default() -> Self {
        DebugOptions {
            image: None,
            container: None,
            image_pull_policy: None,
            env: Vec::new(),
            stdin: false,
            tty: false,
            target: None,
            args: Vec::new(),
            arguments_only: false,
            profile: Profile::Legacy,
            custom: None,
            copy_to: None,
            replace: false,
            same_node: false,
            share_processes: None,
            set_image: Vec::new(),
            keep_labels: false,
            keep_annotations: false,
            keep_liveness: false,
            keep_readiness: false,
            keep_startup: false,
            keep_init_containers: true,
            mirror: Mirror::default(),
            mark: None,
            host_shell: false,
        }
    }
}

impl DebugOptions {
    /// The image, treating an empty string like kubectl's unset flag.
    pub(crate) fn image(&self) -> Option<&str> {
        self.image.as_deref().filter(|s| !s.is_empty())
    }
    pub(crate) fn container(&self) -> Option<&str> {
        self.container.as_deref().filter(|s| !s.is_empty())
    }
    pub(crate) fn pull_policy(&self) -> Option<&str> {
        self.image_pull_policy.as_deref().filter(|s| !s.is_empty())
    }
    pub(crate) fn target(&self) -> Option<&str> {
        self.target.as_deref().filter(|s| !s.is_empty())
    }
    /// The custom profile, unless absent or an empty document.
    pub(crate) fn custom(&self) -> Option<&Value> {
        self.custom.as_ref().filter(|v| !v.is_null())
    }
    /// `--env` as a Go map would hold it: one entry per name, the last value wins (pflag's
    /// stringToString), first-seen order kept.
    pub(crate) fn env_vars(&self) -> Vec<Value> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in &self.env {
            match out.iter_mut().find(|(n, _)| n == k) {
                Some(slot) => slot.1 = v.clone(),
                None => out.push((k.clone(), v.clone())),
            }
        }
        out.into_iter().map(|(k, v)| env_var(&k, &v)).collect()
    }
    /// `--set-image` as kubectl's map: the last value per container name wins.
    pub(crate) fn set_image_for(&self, name: &str) -> Option<&str> {
        self.set_image
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, i)| i.as_str())
    }
}

/// kubectl 1.32/1.33 text, printed to stderr on every run with the legacy profile, even with -q.
pub const LEGACY_WARNING: &str = "--profile=legacy is deprecated and will be removed in the future. It is recommended to explicitly specify a profile, for example \"--profile=general\".";

/// kubectl 1.33 (kubectl#1650), stderr, not suppressed by -q.
pub const NON_ROOT_WARNING: &str = "Warning: Non-root user is configured for the entire target Pod, and some capabilities granted by debug profile may not work. Please consider using \"--custom\" with a custom profile that specifies \"securityContext.runAsUser: 0\".";

/// The messages kubectl prints once per run during Validate: `Targeting container …` (stdout,
/// quiet-suppressed) and the legacy warning (stderr, even with -q). [`super::validate::validate`]
/// runs the checks in kubectl's order and returns these same messages.
pub fn startup_messages(opts: &DebugOptions) -> Vec<Message> {
    let mut out = Vec::new();
    if let Some(t) = opts.target() {
        out.push(Message::info(targeting_message(t)));
    }
    if opts.profile == Profile::Legacy {
        out.push(Message::warning(LEGACY_WARNING.to_string()));
    }
    out
}

pub(crate) fn targeting_message(target: &str) -> String {
    format!(
        "Targeting container {}. If you don't see processes from this container it may be because the container runtime doesn't support this feature.",
        crate::text::go::quote(target)
    )
}
