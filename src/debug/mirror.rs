//! `--mirror` (kdebug extension, issue "Mirroring the target"): give the debug container the
//! target container's volume mounts, environment and user, the things users otherwise script
//! through `--custom` (kubectl#1071, #1486, #1781; k/k#114184).
//!
//! The source is the `--target` container for ephemeral debugging, and the container named by
//! `-c` (as it is in the original pod) for a copy. Applied after the profile and before
//! `--custom`, so a custom profile still has the last word.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::order::{CONTAINER, SECURITY_CONTEXT};
use super::profiles::{object_field, push_to_list};
use super::{find_container, str_field, DebugError, Message};
use crate::text::go::quote as go_quote;

/// What to copy from the source container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mirror {
    /// `volumeMounts`.
    pub volumes: bool,
    /// `env` and `envFrom`.
    pub env: bool,
    /// `runAsUser` / `runAsGroup` (container securityContext, else the pod's).
    pub user: bool,
}

impl Mirror {
    pub fn all() -> Mirror {
        Mirror {
            volumes: true,
            env: true,
            user: true,
        }
    }
    pub fn is_empty(self) -> bool {
        !(self.volumes || self.env || self.user)
    }
}

impl FromStr for Mirror {
    type Err = DebugError;
    /// `volumes,env,user` in any order and combination, or `all`.
    fn from_str(s: &str) -> Result<Mirror, DebugError> {
        let mut m = Mirror::default();
        for part in s.split(',') {
            match part.trim() {
                "all" => m = Mirror::all(),
                "volumes" => m.volumes = true,
                "env" => m.env = true,
                "user" => m.user = true,
                _ => return Err(DebugError::InvalidMirror(s.to_string())),
            }
        }
        Ok(m)
    }
}

impl fmt::Display for Mirror {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<&str> = [
            (self.volumes, "volumes"),
            (self.env, "env"),
            (self.user, "user"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect();
        f.write_str(&parts.join(","))
    }
}

/// Where the mirrored fields go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journey {
    /// The API refuses `subPath`/`subPathExpr` on ephemeral containers.
    Ephemeral,
    Copy,
}

/// The container to mirror: a regular container, else an init container (sidecars).
pub fn source_container<'a>(spec: &'a Value, name: &str) -> Option<&'a Value> {
    let r = find_container(spec, name, &["containers", "initContainers"])?;
    super::container_at(spec, r)
}

/// Copies the selected parts of `source` onto `dc`. `pod_spec` supplies the pod-level user when
/// the source container sets none. Returns a warning per volume mount left out.
pub fn apply(
    dc: &mut Value,
    source: &Value,
    pod_spec: &Value,
    mirror: Mirror,
    journey: Journey,
) -> Vec<Message> {
    let mut messages = Vec::new();
    if !dc.is_object() {
        return messages;
    }
    let source_name = str_field(source, "name").unwrap_or("");
    let Some(c) = dc.as_object_mut() else {
        return messages;
    };

    if mirror.volumes {
        for m in list(source, "volumeMounts") {
            let name = str_field(m, "name").unwrap_or("");
            let path = str_field(m, "mountPath").unwrap_or("");
            let sub = ["subPath", "subPathExpr"]
                .into_iter()
                .find(|k| str_field(m, k).is_some_and(|s| !s.is_empty()));
            if let (Journey::Ephemeral, Some(sub)) = (journey, sub) {
                messages.push(Message::warning(format!(
                    "Warning: not mirroring volume mount {} at {path} from container {}: ephemeral containers cannot use {sub}",
                    go_quote(name),
                    go_quote(source_name)
                )));
                continue;
            }
            // A mount the debug container already has at that path (e.g. /host) wins.
            let taken = c
                .get("volumeMounts")
                .and_then(Value::as_array)
                .is_some_and(|a| a.iter().any(|x| str_field(x, "mountPath") == Some(path)));
            if !taken {
                push_to_list(c, "volumeMounts", m.clone(), CONTAINER);
            }
        }
    }

    if mirror.env {
        // The source's variables first, then the debug container's own (`--env`), which win
        // on a name clash.
        let own: Vec<Value> = c
            .get("env")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut env: Vec<Value> = list(source, "env").cloned().collect();
        for e in own {
            let n = str_field(&e, "name").map(str::to_string);
            match env
                .iter_mut()
                .find(|x| n.is_some() && str_field(x, "name") == n.as_deref())
            {
                Some(slot) => *slot = e,
                None => env.push(e),
            }
        }
        if !env.is_empty() {
            super::order::set(c, "env", Value::Array(env), CONTAINER);
        }
        let mut env_from: Vec<Value> = list(source, "envFrom").cloned().collect();
        for e in c
            .get("envFrom")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
        {
            if !env_from.contains(&e) {
                env_from.push(e);
            }
        }
        if !env_from.is_empty() {
            super::order::set(c, "envFrom", Value::Array(env_from), CONTAINER);
        }
    }

    if mirror.user {
        let pick = |key: &str| {
            source
                .get("securityContext")
                .and_then(|s| s.get(key))
                .filter(|v| v.is_number())
                .or_else(|| {
                    pod_spec
                        .get("securityContext")
                        .and_then(|s| s.get(key))
                        .filter(|v| v.is_number())
                })
                .cloned()
        };
        let user = pick("runAsUser");
        let group = pick("runAsGroup");
        if user.is_some() || group.is_some() {
            if let Some(sc) = object_field(c, "securityContext", CONTAINER) {
                set_opt(sc, "runAsUser", user);
                set_opt(sc, "runAsGroup", group);
            }
        }
    }
    messages
}

fn set_opt(sc: &mut Map<String, Value>, key: &str, v: Option<Value>) {
    if let Some(v) = v {
        super::order::set(sc, key, v, SECURITY_CONTEXT);
    }
}

fn list<'a>(c: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    c.get(key).and_then(Value::as_array).into_iter().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse() {
        assert_eq!("all".parse::<Mirror>().unwrap(), Mirror::all());
        assert_eq!(
            "env,user".parse::<Mirror>().unwrap(),
            Mirror {
                volumes: false,
                env: true,
                user: true
            }
        );
        assert_eq!("volumes".parse::<Mirror>().unwrap().to_string(), "volumes");
        let e = "volumes,disks".parse::<Mirror>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid --mirror value \"volumes,disks\": expected a comma-separated list of volumes, env, user, or all"
        );
        assert!("".parse::<Mirror>().is_err());
    }

    fn source() -> Value {
        json!({
            "name": "app",
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "envFrom": [{"configMapRef": {"name": "cm"}}],
            "volumeMounts": [
                {"name": "data", "mountPath": "/data"},
                {"name": "cfg", "mountPath": "/etc/app.conf", "subPath": "app.conf"},
                {"name": "root", "mountPath": "/host"}
            ],
            "securityContext": {"runAsUser": 1000}
        })
    }

    #[test]
    fn ephemeral_skips_sub_path_mounts_and_keeps_own() {
        let mut dc = json!({"name": "dbg", "env": [{"name": "B", "value": "mine"}], "volumeMounts": [{"name": "host-root", "mountPath": "/host"}]});
        let spec = json!({"securityContext": {"runAsUser": 5, "runAsGroup": 3000}});
        let msgs = apply(&mut dc, &source(), &spec, Mirror::all(), Journey::Ephemeral);
        assert_eq!(
            dc["volumeMounts"],
            json!([{"name": "host-root", "mountPath": "/host"}, {"name": "data", "mountPath": "/data"}])
        );
        assert_eq!(
            dc["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "mine"}])
        );
        assert_eq!(dc["envFrom"], json!([{"configMapRef": {"name": "cm"}}]));
        // The container's user, the pod's group.
        assert_eq!(
            dc["securityContext"],
            json!({"runAsUser": 1000, "runAsGroup": 3000})
        );
        assert_eq!(msgs.len(), 1);
        assert!(
            msgs[0].text.contains("\"cfg\" at /etc/app.conf"),
            "{}",
            msgs[0].text
        );
        assert!(msgs[0].text.contains("subPath"));
        // Key order follows Go's Container.
        let keys: Vec<&str> = dc.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["name", "envFrom", "env", "volumeMounts", "securityContext"]
        );
    }

    #[test]
    fn copy_keeps_sub_path_mounts() {
        let mut dc = json!({"name": "dbg"});
        let m = Mirror {
            volumes: true,
            ..Mirror::default()
        };
        let msgs = apply(&mut dc, &source(), &json!({}), m, Journey::Copy);
        assert!(msgs.is_empty());
        assert_eq!(dc["volumeMounts"].as_array().unwrap().len(), 3);
        assert!(dc.get("env").is_none());
        assert!(dc.get("securityContext").is_none());
    }

    #[test]
    fn no_user_anywhere_leaves_security_context_alone() {
        let mut dc = json!({"name": "dbg"});
        let m = Mirror {
            user: true,
            ..Mirror::default()
        };
        apply(
            &mut dc,
            &json!({"name": "app"}),
            &json!({"securityContext": {}}),
            m,
            Journey::Copy,
        );
        assert_eq!(dc, json!({"name": "dbg"}));
    }

    #[test]
    fn source_lookup() {
        let spec = json!({"initContainers": [{"name": "side"}], "containers": [{"name": "app"}]});
        assert!(source_container(&spec, "side").is_some());
        assert!(source_container(&spec, "app").is_some());
        assert!(source_container(&spec, "nope").is_none());
    }
}
