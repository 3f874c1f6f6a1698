//! The flag table: one place for every flag's names, where its value goes, and its help
//! text. It drives parsing (the value's destination, unknown-flag suggestions), `--help`,
//! completion, and the clash test below.
//!
//! Adding a flag is one entry in [`FLAGS`]: its long name, short letter, `B(|r, v| ...)`
//! (a bool), `V(|r, v| ...)` (a value) or `C(|r, v| ...)` (a value that can be refused as it
//! is read) storing it into a [`RawArgs`] field, its help group, value name and help. Stage
//! two (`plan.rs`) turns the field into the plan's typed value.

use super::args::RawArgs;
use super::CliError;
use crate::sys::secret::Secret;

/// How a flag takes its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `--flag`, `--flag=true`, `--flag=false` (pflag bool semantics).
    Bool,
    /// `--flag VALUE` or `--flag=VALUE`.
    Value,
}

/// Which part of `--help` lists the flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Debug,
    Kdebug,
    Global,
}

/// Where a flag's value goes in [`RawArgs`]: said once, in the flag's entry.
#[derive(Clone, Copy)]
pub enum Set {
    /// `--flag`, `--flag=true`, `--flag=false` (pflag bool semantics).
    Bool(fn(&mut RawArgs, bool)),
    /// `--flag VALUE` or `--flag=VALUE`.
    Value(fn(&mut RawArgs, String)),
    /// A value that can be refused as it is read (a CSV list).
    Checked(fn(&mut RawArgs, String) -> Result<(), CliError>),
}

pub struct Flag {
    pub long: &'static str,
    pub short: Option<char>,
    pub set: Set,
    pub group: Group,
    pub value_name: &'static str,
    pub help: &'static str,
}

const fn f(
    long: &'static str,
    short: Option<char>,
    set: Set,
    group: Group,
    value_name: &'static str,
    help: &'static str,
) -> Flag {
    Flag {
        long,
        short,
        set,
        group,
        value_name,
        help,
    }
}

use Group::{Debug as D, Global as G, Kdebug as K};
use Set::{Bool as B, Checked as C, Value as V};

/// Every flag kdebug accepts. kubectl's names and meanings for the debug and global flags.
pub static FLAGS: &[Flag] = &[
    // kubectl debug's own flags.
    f(
        "arguments-only",
        None,
        B(|r, v| r.arguments_only = v),
        D,
        "",
        "Pass everything after -- as args to the container instead of as its command.",
    ),
    f(
        "attach",
        None,
        B(|r, v| r.attach = Some(v)),
        D,
        "",
        "Wait for the container to start running, then attach (default: true with -i).",
    ),
    f(
        "container",
        Some('c'),
        V(|r, v| r.container = Some(v)),
        D,
        "NAME",
        "Container name for the debug container (copy mode: an existing container to modify).",
    ),
    f(
        "copy-to",
        None,
        V(|r, v| r.copy_to = Some(v)),
        D,
        "NAME",
        "Create a copy of the target pod with this name.",
    ),
    f(
        "custom",
        None,
        V(|r, v| r.custom = Some(v)),
        D,
        "FILE",
        "Path to a JSON or YAML file with a partial container spec to apply.",
    ),
    f(
        "env",
        None,
        V(|r, v| r.env.push(v)),
        D,
        "KEY=VAL",
        "Environment variables for the container (repeatable, comma-separated).",
    ),
    f(
        "filename",
        Some('f'),
        C(|r, v| {
            r.filenames.extend(super::args::split_csv("filename", &v)?);
            Ok(())
        }),
        D,
        "FILE",
        "Read the target object from a file (JSON or YAML, - for stdin).",
    ),
    f(
        "image",
        None,
        V(|r, v| r.image = Some(v)),
        D,
        "IMAGE",
        "Container image for the debug container.",
    ),
    f(
        "image-pull-policy",
        None,
        V(|r, v| r.image_pull_policy = Some(v)),
        D,
        "POLICY",
        "Always, IfNotPresent or Never.",
    ),
    f(
        "keep-annotations",
        None,
        B(|r, v| r.keep_annotations = v),
        D,
        "",
        "Copy mode: keep the original pod's annotations.",
    ),
    f(
        "keep-init-containers",
        None,
        B(|r, v| r.keep_init_containers = Some(v)),
        D,
        "",
        "Copy mode: keep the init containers (default true).",
    ),
    f(
        "keep-labels",
        None,
        B(|r, v| r.keep_labels = v),
        D,
        "",
        "Copy mode: keep the original pod's labels.",
    ),
    f(
        "keep-liveness",
        None,
        B(|r, v| r.keep_liveness = v),
        D,
        "",
        "Copy mode: keep liveness probes.",
    ),
    f(
        "keep-readiness",
        None,
        B(|r, v| r.keep_readiness = v),
        D,
        "",
        "Copy mode: keep readiness probes.",
    ),
    f(
        "keep-startup",
        None,
        B(|r, v| r.keep_startup = v),
        D,
        "",
        "Copy mode: keep startup probes.",
    ),
    f(
        "profile",
        None,
        V(|r, v| r.profile = Some(v)),
        D,
        "NAME",
        "legacy, general (default), baseline, restricted, netadmin or sysadmin.",
    ),
    f(
        "quiet",
        Some('q'),
        B(|r, v| r.quiet = v),
        D,
        "",
        "Print only what the container prints.",
    ),
    f(
        "replace",
        None,
        B(|r, v| r.replace = v),
        D,
        "",
        "Copy mode: delete the original pod after the copy is created.",
    ),
    f(
        "same-node",
        None,
        B(|r, v| r.same_node = v),
        D,
        "",
        "Copy mode: schedule the copy on the original's node.",
    ),
    f(
        "set-image",
        None,
        V(|r, v| r.set_image.push(v)),
        D,
        "NAME=IMAGE",
        "Copy mode: change container images (* for all regular containers).",
    ),
    f(
        "share-processes",
        None,
        B(|r, v| r.share_processes = Some(v)),
        D,
        "",
        "Copy mode: share the process namespace (applied only when given).",
    ),
    f(
        "stdin",
        Some('i'),
        B(|r, v| r.stdin = v),
        D,
        "",
        "Keep stdin open on the container and attach to it.",
    ),
    f(
        "target",
        None,
        V(|r, v| r.target = Some(v)),
        D,
        "NAME",
        "Ephemeral mode: share the process namespace of this container.",
    ),
    f(
        "tty",
        Some('t'),
        B(|r, v| r.tty = v),
        D,
        "",
        "Allocate a TTY for the container (needs -i).",
    ),
    // What kdebug adds.
    f(
        "rm",
        None,
        B(|r, v| r.rm = v),
        K,
        "",
        "Delete the copy or node pod when the session ends.",
    ),
    f(
        "timeout",
        None,
        V(|r, v| r.timeout = Some(v)),
        K,
        "DURATION",
        "Give up waiting for the container after this long (default 5m, 0 = never).",
    ),
    f(
        "reconnect-window",
        None,
        V(|r, v| r.reconnect_window = Some(v)),
        K,
        "DURATION",
        "Once the session is open, keep reconnecting to a lost API server this long (default 2m, 0 = never).",
    ),
    f(
        "no-preserve",
        None,
        B(|r, v| r.no_preserve = v),
        K,
        "",
        "kdebug cp: do not keep the copied files' modes and times.",
    ),
    f(
        "retries",
        None,
        V(|r, v| r.retries = Some(v)),
        K,
        "N",
        "kdebug cp: resume a copy out of a pod that broke, up to N times (negative: no limit).",
    ),
    f(
        "helper-idle",
        None,
        V(|r, v| r.helper_idle = Some(v)),
        K,
        "DURATION",
        "kdebug cp: a helper container ends after this long without a copy (default 10m; 0: no helper, one copy container per copy).",
    ),
    f(
        "dry-run",
        None,
        B(|r, v| r.dry_run = v),
        K,
        "",
        "Print what would be sent and send nothing that changes the cluster.",
    ),
    f(
        "output",
        Some('o'),
        V(|r, v| r.output = Some(v)),
        K,
        "FORMAT",
        "With --dry-run: json (default) or yaml.",
    ),
    f(
        "selector",
        Some('l'),
        V(|r, v| r.selector = Some(v)),
        K,
        "SELECTOR",
        "Fan out: debug every pod (or node) matching this label selector.",
    ),
    f(
        "all-namespaces",
        Some('A'),
        B(|r, v| r.all_namespaces = v),
        K,
        "",
        "With -l, list and gc: all namespaces.",
    ),
    f(
        "all-pods",
        None,
        B(|r, v| r.all_pods = v),
        K,
        "",
        "Fan out over every pod of a workload target.",
    ),
    f(
        "max-parallel",
        None,
        V(|r, v| r.max_parallel = Some(v)),
        K,
        "N",
        "Fan-out workers (default 10).",
    ),
    f(
        "fail-fast",
        None,
        B(|r, v| r.fail_fast = v),
        K,
        "",
        "Fan out: start no more pods after the first one fails.",
    ),
    f(
        "output-dir",
        None,
        V(|r, v| r.output_dir = Some(v)),
        K,
        "DIR",
        "Fan out: write each pod's output to DIR/<pod>.log.",
    ),
    f(
        "mirror",
        None,
        V(|r, v| r.mirror = Some(v)),
        K,
        "PARTS",
        "Copy volumes, env and/or user from the target container (or all).",
    ),
    f(
        "host-shell",
        None,
        B(|r, v| r.host_shell = v),
        K,
        "",
        "node/NAME: a shell in the node's own namespaces (nsenter -t 1; sysadmin profile).",
    ),
    f(
        "older-than",
        None,
        V(|r, v| r.older_than = Some(v)),
        K,
        "DURATION",
        "gc: only pods older than this (default 1h).",
    ),
    // kubectl's global flags.
    f(
        "kubeconfig",
        None,
        V(|r, v| r.global.overrides.kubeconfig = Some(v.into())),
        G,
        "FILE",
        "Path to the kubeconfig file.",
    ),
    f(
        "context",
        None,
        V(|r, v| r.global.overrides.context = Some(v)),
        G,
        "NAME",
        "The kubeconfig context to use.",
    ),
    f(
        "cluster",
        None,
        V(|r, v| r.global.overrides.cluster = Some(v)),
        G,
        "NAME",
        "The kubeconfig cluster to use.",
    ),
    f(
        "user",
        None,
        V(|r, v| r.global.overrides.user = Some(v)),
        G,
        "NAME",
        "The kubeconfig user to use.",
    ),
    f(
        "namespace",
        Some('n'),
        V(|r, v| r.global.overrides.namespace = Some(v)),
        G,
        "NS",
        "The namespace for this request.",
    ),
    f(
        "server",
        Some('s'),
        V(|r, v| r.global.overrides.server = Some(v)),
        G,
        "URL",
        "The address and port of the Kubernetes API server.",
    ),
    f(
        "token",
        None,
        V(|r, v| r.global.overrides.token = Some(Secret::new(v))),
        G,
        "TOKEN",
        "Bearer token for authentication to the API server.",
    ),
    f(
        "as",
        None,
        V(|r, v| r.global.overrides.as_user = Some(v)),
        G,
        "USER",
        "Username to impersonate.",
    ),
    f(
        "as-group",
        None,
        V(|r, v| r.global.overrides.as_groups.push(v)),
        G,
        "GROUP",
        "Group to impersonate (repeatable).",
    ),
    f(
        "as-uid",
        None,
        V(|r, v| r.global.overrides.as_uid = Some(v)),
        G,
        "UID",
        "UID to impersonate.",
    ),
    f(
        "certificate-authority",
        None,
        V(|r, v| r.global.overrides.certificate_authority = Some(v.into())),
        G,
        "FILE",
        "Path to a cert file for the certificate authority.",
    ),
    f(
        "client-certificate",
        None,
        V(|r, v| r.global.overrides.client_certificate = Some(v.into())),
        G,
        "FILE",
        "Path to a client certificate file for TLS.",
    ),
    f(
        "client-key",
        None,
        V(|r, v| r.global.overrides.client_key = Some(v.into())),
        G,
        "FILE",
        "Path to a client key file for TLS.",
    ),
    f(
        "insecure-skip-tls-verify",
        None,
        B(|r, v| r.global.overrides.insecure_skip_tls_verify = Some(v)),
        G,
        "",
        "Do not check the server's certificate (insecure).",
    ),
    f(
        "tls-server-name",
        None,
        V(|r, v| r.global.overrides.tls_server_name = Some(v)),
        G,
        "NAME",
        "Server name to use for certificate validation and SNI.",
    ),
    f(
        "request-timeout",
        None,
        V(|r, v| r.global.request_timeout = Some(v)),
        G,
        "DURATION",
        "Timeout for a single request (seconds, or 1m/30s; 0 = none).",
    ),
    f(
        "username",
        None,
        V(|r, v| r.global.overrides.username = Some(v)),
        G,
        "NAME",
        "Username for basic authentication.",
    ),
    f(
        "password",
        None,
        V(|r, v| r.global.overrides.password = Some(Secret::new(v))),
        G,
        "PASSWORD",
        "Password for basic authentication.",
    ),
    f(
        "v",
        Some('v'),
        V(|r, v| r.global.verbosity = Some(v)),
        G,
        "N",
        "Log level: 6 prints requests, 8 bodies (secrets are always redacted).",
    ),
    f(
        "help",
        Some('h'),
        B(|r, v| r.help = v),
        G,
        "",
        "Show this help.",
    ),
    f(
        "version",
        None,
        B(|r, v| r.version = v),
        G,
        "",
        "Print the version.",
    ),
];

impl Flag {
    /// Whether the flag takes a value (completion asks).
    pub fn kind(&self) -> Kind {
        match self.set {
            Set::Bool(_) => Kind::Bool,
            Set::Value(_) | Set::Checked(_) => Kind::Value,
        }
    }
}

pub fn by_long(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.long == name)
}

pub fn by_short(c: char) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.short == Some(c))
}

/// The closest known long flag, when one is close enough to be a likely typo.
pub fn suggest(name: &str) -> Option<&'static str> {
    FLAGS
        .iter()
        .map(|f| (edit_distance(name, f.long), f.long))
        .filter(|(d, long)| *d <= 2.max(long.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, long)| long)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The help text, generated from the table.
pub fn help() -> String {
    let mut out = String::from(
        "kdebug: debug running pods and nodes (kubectl debug as one small binary)\n\n\
Usage:\n  kdebug (POD | TYPE/NAME)... [-- COMMAND [args...]] [flags]\n  \
kdebug attach POD [-c CONTAINER] [-i] [-t]\n  \
kdebug cp [-c CONTAINER] [NAMESPACE/]POD:PATH LOCAL   (or LOCAL [NAMESPACE/]POD:PATH; - is a tar stream)\n  \
kdebug list [-A | -n NS]\n  \
kdebug gc [--older-than DURATION] [-A] [--dry-run]\n  \
kdebug config view|current-context|get-contexts\n  \
kdebug completion bash|zsh|fish\n  \
kdebug version\n\n\
Targets: NAME or pod/NAME, node/NAME, deploy/, rs/, sts/, ds/, job/, svc/ NAME.\n\n\
Examples:\n  \
kdebug web-0 -it --image=busybox --target=app -- sh\n  \
kdebug web-0 -it --image=busybox --copy-to=web-debug --rm -- sh\n  \
kdebug node/node-1 -it --image=busybox --profile=sysadmin --rm\n  \
kdebug cp web-0:/var/log/app ./app-logs\n\n",
    );
    for (group, title) in [
        (Group::Debug, "Debug flags (as kubectl debug):"),
        (Group::Kdebug, "kdebug flags:"),
        (Group::Global, "Global flags (as kubectl):"),
    ] {
        out.push_str(title);
        out.push('\n');
        for flag in FLAGS.iter().filter(|f| f.group == group) {
            let short = flag.short.map(|c| format!("-{c}, ")).unwrap_or_default();
            let value = if flag.value_name.is_empty() {
                String::new()
            } else {
                format!(" {}", flag.value_name)
            };
            let left = format!("  {short}--{}{value}", flag.long);
            out.push_str(&format!("{left:<38} {}\n", flag.help));
        }
        out.push('\n');
    }
    out.push_str(
        "Exit status:\n  \
0    success\n  \
N    the debug container's own exit code, when it ran to completion\n  \
1    kdebug error (bad flags, configuration, API error)\n  \
124  timed out waiting for the debug container (--timeout)\n  \
125  the debug container could not start (image pull, config or scheduling failure)\n  \
126  could not attach to the debug container and its logs were not available\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn no_two_flags_share_a_name() {
        let mut longs = HashSet::new();
        let mut shorts = HashSet::new();
        for flag in FLAGS {
            assert!(longs.insert(flag.long), "duplicate --{}", flag.long);
            if let Some(c) = flag.short {
                assert!(shorts.insert(c), "duplicate -{c}");
            }
        }
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(suggest("imag"), Some("image"));
        assert_eq!(suggest("copy-too"), Some("copy-to"));
        assert_eq!(suggest("xyzzy-plugh"), None);
    }

    #[test]
    fn help_lists_every_flag() {
        let h = help();
        for flag in FLAGS {
            assert!(h.contains(&format!("--{}", flag.long)), "{}", flag.long);
        }
    }
}
