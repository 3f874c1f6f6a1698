//! Shell completion, the pure half: from the words typed so far to what should be offered,
//! driven by the flag table. Names that only the server (or the kubeconfig) knows are
//! described as a [`Remote`] question, which the top-level `completion` module asks. The shell scripts that
//! call `kdebug __complete WORDS...` are in [`super::scripts`].

use super::flags::{self, Kind as FlagKind};
use crate::kube::target::{self, Kind};

/// Names to look up for a completion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remote {
    Pods,
    /// Cluster-scoped or namespaced objects of this kind (nodes, deployments, ...).
    Objects(Kind),
    /// The containers of `pod`: its ephemeral ones for `attach -c`, else the regular ones.
    Containers {
        pod: String,
        ephemeral: bool,
    },
    Namespaces,
    /// From the kubeconfig, no server needed.
    Contexts,
    Clusters,
    Users,
}

/// What to offer for the word being completed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// Candidates known without asking anyone.
    pub words: Vec<String>,
    pub remote: Option<Remote>,
    /// Let the shell complete file names instead.
    pub files: bool,
    /// Put before every candidate (`--profile=`, `node/`, `volumes,`).
    pub prefix: String,
    /// Only candidates starting with this (the typed part after `prefix`).
    pub partial: String,
    /// The connection flags typed so far (`--context=x`, `-n=y`), to ask the right cluster.
    pub globals: Vec<String>,
}

impl Completion {
    /// The final candidates: `prefix` + each known or found name that matches `partial`.
    pub fn candidates(&self, found: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in self.words.iter().chain(found) {
            let c = format!("{}{w}", self.prefix);
            if w.starts_with(&self.partial) && !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }
}

/// The verbs offered as the first word (`__complete` stays hidden).
pub const VERBS: &[&str] = &[
    "attach",
    "cp",
    "list",
    "gc",
    "config",
    "version",
    "completion",
];
pub const SHELLS: &[&str] = &["bash", "zsh", "fish"];
const TYPE_PREFIXES: &[&str] = &["node/", "deploy/", "rs/", "sts/", "ds/", "job/", "svc/"];
const PROFILES: &[&str] = &[
    "legacy",
    "general",
    "baseline",
    "restricted",
    "netadmin",
    "sysadmin",
];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const MIRROR_PARTS: &[&str] = &["volumes", "env", "user", "all"];
/// Flags whose values pick the cluster; passed on so the lookup asks the same one.
const CONNECTION_FLAGS: &[&str] = &[
    "kubeconfig",
    "context",
    "cluster",
    "user",
    "namespace",
    "server",
    "token",
    "as",
    "as-group",
    "as-uid",
    "certificate-authority",
    "client-certificate",
    "client-key",
    "insecure-skip-tls-verify",
    "tls-server-name",
    "username",
    "password",
];

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// What the typed words (after `kdebug`, the last one being completed, maybe empty) call for.
pub fn analyze(words: &[String]) -> Completion {
    let (cur, before) = match words.split_last() {
        Some((cur, before)) => (cur.as_str(), before),
        None => ("", &[][..]),
    };
    let mut c = Completion {
        partial: cur.to_string(),
        ..Completion::default()
    };
    let first = before.first().map(String::as_str);
    match first {
        Some("completion") => {
            if before.len() == 1 {
                c.words = strings(SHELLS);
            }
            return c;
        }
        Some("config") => {
            if before.len() == 1 {
                c.words = strings(&["view", "current-context", "get-contexts"]);
            }
            return c;
        }
        _ => {}
    }
    let verb = first.filter(|w| ["attach", "cp", "list", "ls", "gc", "version"].contains(w));
    let rest = if verb.is_some() { &before[1..] } else { before };

    // Walk the words: flags (and their values) apart from positionals.
    let mut positionals = Vec::new();
    let mut values: Vec<(&'static str, String)> = Vec::new();
    let mut pending: Option<&'static str> = None;
    for w in rest {
        if let Some(long) = pending.take() {
            values.push((long, w.clone()));
            continue;
        }
        if w == "--" {
            // The debug command's own words: nothing to offer.
            return Completion::default();
        }
        if let Some(body) = w.strip_prefix("--") {
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            if let Some(f) = flags::by_long(name) {
                match (f.kind(), value) {
                    (FlagKind::Value, None) => pending = Some(f.long),
                    (_, v) => values.push((f.long, v.unwrap_or("true").to_string())),
                }
            }
        } else if let Some(shorts) = w.strip_prefix('-').filter(|s| !s.is_empty()) {
            // `-it`, `-c dbg`, `-cdbg`, `-n=ns`: the first value flag takes the rest.
            for (i, ch) in shorts.char_indices() {
                let Some(f) = flags::by_short(ch) else { break };
                if f.kind() == FlagKind::Value {
                    let rest = shorts[i + ch.len_utf8()..].trim_start_matches('=');
                    if rest.is_empty() {
                        pending = Some(f.long);
                    } else {
                        values.push((f.long, rest.to_string()));
                    }
                    break;
                }
                values.push((f.long, "true".into()));
            }
        } else {
            positionals.push(w.as_str());
        }
    }
    c.globals = values
        .iter()
        .filter(|(long, _)| CONNECTION_FLAGS.contains(long))
        .map(|(long, v)| format!("--{long}={v}"))
        .collect();
    let ctx = Context {
        verb,
        positionals: &positionals,
        copy: values.iter().any(|(l, _)| *l == "copy-to"),
    };

    if let Some(long) = pending {
        value_of(&mut c, long, cur, &ctx);
        return c;
    }
    if let Some(body) = cur.strip_prefix("--") {
        if let Some((name, value)) = body.split_once('=') {
            if let Some(f) = flags::by_long(name) {
                c.prefix = format!("--{}=", f.long);
                value_of(&mut c, f.long, value, &ctx);
                if c.files {
                    // A file after `=` is left to the shell as a plain word: offer nothing.
                    c.files = false;
                }
            } else {
                c.partial = cur.to_string();
            }
            return c;
        }
        c.words = flags::FLAGS
            .iter()
            .map(|f| format!("--{}", f.long))
            .collect();
        return c;
    }
    if let Some(shorts) = cur.strip_prefix('-') {
        // `-nkube`: the value of a short flag written together with it.
        let mut chars = shorts.chars();
        if let Some(f) = chars.next().and_then(flags::by_short) {
            let value = chars.as_str();
            if f.kind() == FlagKind::Value && !value.is_empty() {
                let value = value.trim_start_matches('=');
                c.prefix = cur[..cur.len() - value.len()].to_string();
                value_of(&mut c, f.long, value, &ctx);
                c.files = false;
                return c;
            }
        }
        c.words = flags::FLAGS
            .iter()
            .filter_map(|f| f.short.map(|s| format!("-{s}")))
            .chain(flags::FLAGS.iter().map(|f| format!("--{}", f.long)))
            .collect();
        return c;
    }
    match verb {
        Some("attach") if positionals.is_empty() => c.remote = Some(Remote::Pods),
        // kdebug cp POD:PATH LOCAL or LOCAL POD:PATH: the pods (the user adds `:PATH`).
        Some("cp") if positionals.len() < 2 && !cur.contains(':') => c.remote = Some(Remote::Pods),
        Some(_) => {}
        None => {
            if positionals.is_empty() {
                c.words = strings(VERBS);
            }
            targets(&mut c, cur);
        }
    }
    c
}

/// What the rest of the line says about the value being completed.
struct Context<'a> {
    verb: Option<&'a str>,
    positionals: &'a [&'a str],
    copy: bool,
}

impl Context<'_> {
    /// The pod named on the line, if a pod was named (a workload has no fixed containers).
    fn pod(&self) -> Option<String> {
        self.positionals
            .iter()
            .filter_map(|p| target::parse(p).ok())
            .find(|t| t.kind == Kind::Pod)
            .map(|t| t.name)
    }
}

fn targets(c: &mut Completion, cur: &str) {
    match cur.split_once('/') {
        None => {
            c.words.extend(strings(TYPE_PREFIXES));
            c.remote = Some(Remote::Pods);
        }
        Some((ty, name)) => {
            // `TYPE/` with the type as typed (`deploy/`, `deployment/`); unknown types: none.
            c.words.clear();
            if let Ok(t) = target::parse(&format!("{ty}/x")) {
                c.prefix = format!("{ty}/");
                c.partial = name.to_string();
                c.remote = Some(match t.kind {
                    Kind::Pod => Remote::Pods,
                    kind => Remote::Objects(kind),
                });
            }
        }
    }
}

fn value_of(c: &mut Completion, long: &str, value: &str, ctx: &Context) {
    c.partial = value.to_string();
    match long {
        "profile" => c.words = strings(PROFILES),
        "image-pull-policy" => c.words = strings(PULL_POLICIES),
        "output" => c.words = strings(&["json", "yaml"]),
        "mirror" => {
            // A comma-separated list: complete the last part, offering the parts not given.
            let (done, last) = value.rsplit_once(',').unwrap_or(("", value));
            let given: Vec<&str> = done.split(',').filter(|s| !s.is_empty()).collect();
            if !done.is_empty() {
                c.prefix.push_str(done);
                c.prefix.push(',');
            }
            c.partial = last.to_string();
            c.words = MIRROR_PARTS
                .iter()
                .filter(|p| !given.contains(p) && (given.is_empty() || **p != "all"))
                .map(|s| s.to_string())
                .collect();
        }
        "namespace" => c.remote = Some(Remote::Namespaces),
        "context" => c.remote = Some(Remote::Contexts),
        "cluster" => c.remote = Some(Remote::Clusters),
        "user" => c.remote = Some(Remote::Users),
        "kubeconfig"
        | "custom"
        | "filename"
        | "output-dir"
        | "certificate-authority"
        | "client-certificate"
        | "client-key" => c.files = true,
        // `attach POD -c`: the debug containers added to it; `--target` (and `-c` in copy
        // mode, which changes an existing container): the pod's own containers. A new
        // ephemeral container's name is the user's to choose.
        "container" | "target" => {
            let attach = ctx.verb == Some("attach");
            if long == "target" || attach || ctx.copy {
                if let Some(pod) = ctx.pod() {
                    c.remote = Some(Remote::Containers {
                        pod,
                        ephemeral: attach,
                    });
                }
            }
        }
        _ => {
            if flags::by_long(long).is_some_and(|f| f.kind() == FlagKind::Bool) {
                c.words = strings(&["true", "false"]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: &str) -> Completion {
        let mut words: Vec<String> = line.split(' ').map(String::from).collect();
        if line.is_empty() {
            words = vec![String::new()];
        }
        analyze(&words)
    }

    fn offered(line: &str) -> Vec<String> {
        at(line).candidates(&[])
    }

    #[test]
    fn flags_and_their_values_come_from_the_table() {
        assert!(offered("web-0 --pro").contains(&"--profile".to_string()));
        assert_eq!(offered("web-0 --profile s"), ["sysadmin"]);
        assert_eq!(offered("web-0 --profile=ba"), ["--profile=baseline"]);
        assert_eq!(
            offered("--image-pull-policy "),
            ["Always", "IfNotPresent", "Never"]
        );
        assert_eq!(
            offered("web-0 --attach="),
            ["--attach=true", "--attach=false"]
        );
        for f in flags::FLAGS {
            assert!(offered("--").contains(&format!("--{}", f.long)));
        }
        assert!(offered("-").contains(&"-n".to_string()));
    }

    #[test]
    fn mirror_is_a_list() {
        assert_eq!(
            offered("web-0 --mirror "),
            ["volumes", "env", "user", "all"]
        );
        assert_eq!(
            offered("web-0 --mirror=volumes,"),
            ["--mirror=volumes,env", "--mirror=volumes,user"]
        );
        assert_eq!(offered("web-0 --mirror env,u"), ["env,user"]);
    }

    #[test]
    fn first_word_verbs_and_targets() {
        let c = at("");
        assert!(c.words.contains(&"attach".to_string()));
        assert!(c.words.contains(&"node/".to_string()));
        assert_eq!(c.remote, Some(Remote::Pods));
        assert_eq!(c.candidates(&["web-0".into()]).last().unwrap(), "web-0");
        assert_eq!(offered("completion "), ["bash", "zsh", "fish"]);
        let n = at("node/no");
        assert_eq!(n.remote, Some(Remote::Objects(Kind::Node)));
        assert_eq!(
            n.candidates(&["node-1".into(), "x".into()]),
            ["node/node-1"]
        );
        assert_eq!(
            at("deployment/").remote,
            Some(Remote::Objects(Kind::Deployment))
        );
        assert_eq!(at("bogus/x").remote, None);
        assert_eq!(at("attach ").remote, Some(Remote::Pods));
        assert_eq!(at("attach web-0 ").remote, None);
        assert_eq!(at("web-0 -- sh").candidates(&[]), Vec::<String>::new());
    }

    #[test]
    fn containers_namespaces_contexts() {
        assert_eq!(
            at("attach web-0 -c ").remote,
            Some(Remote::Containers {
                pod: "web-0".into(),
                ephemeral: true
            })
        );
        assert_eq!(
            at("web-0 --target=").remote,
            Some(Remote::Containers {
                pod: "web-0".into(),
                ephemeral: false
            })
        );
        // A new ephemeral container's name is free: nothing to offer.
        assert_eq!(at("web-0 -c ").remote, None);
        assert!(at("web-0 --copy-to=x -c ").remote.is_some());
        assert_eq!(at("-n ").remote, Some(Remote::Namespaces));
        assert_eq!(at("-nkube").partial, "kube");
        assert_eq!(at("--context ").remote, Some(Remote::Contexts));
        assert!(at("--kubeconfig ").files);
        let c = at("--context=prod -n kube-system -it web-");
        assert_eq!(c.globals, ["--context=prod", "--namespace=kube-system"]);
        assert_eq!(c.remote, Some(Remote::Pods));
        assert_eq!(c.partial, "web-");
    }
}
