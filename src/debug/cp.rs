//! The copy container of `kdebug cp` (pure). An ephemeral container that targets the
//! container holding the files shares its PID namespace, so the target's filesystem is at
//! `/proc/1/root` (its working directory at `/proc/1/cwd`) and the debug image's `tar`
//! reads or writes it: the target's image needs no tar (kubernetes/kubernetes#58512).
//!
//! Its command first waits for one line on stdin, which kdebug sends once attached:
//! without it the archive would start before the attach and be lost or cut (R2/R3 of
//! tests/fakecluster/REAL.md). Paths travel as arguments, never inside the script.
//!
//! The same scripts run in two other places ([`Runner`]): exec'd in the target itself when
//! it has `sh` and `tar` (the fast path, kubectl cp's way), and exec'd in an idle helper,
//! a copy container that stays running after its first copy ([`helper_command`]) and ends
//! by itself once idle, so later copies add no container to the pod.

use serde_json::json;

use super::{DebugOptions, Mark, Mirror, Profile};

/// The copy containers' name prefix (`kdebug-cp-XXXXX`).
pub const NAME_PREFIX: &str = "kdebug-cp-";
/// The tools image when `--image` is not given: busybox has `tar`, `sh` and `tail`.
pub const DEFAULT_IMAGE: &str = "busybox";
/// The line kdebug sends once attached.
pub const GO: &[u8] = b"go\n";
/// `$0` of an idle helper's command: how kdebug tells a helper from a one-copy container.
pub const HELPER_MARK: &str = "kdebug-cp-helper";
/// A helper ends after this long without a copy (`--cp-idle` changes it).
pub const HELPER_IDLE_SECS: u64 = 600;

/// Where a copy script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner<'a> {
    /// A copy container's own process, attached: it waits for [`GO`].
    CopyContainer,
    /// Exec'd in an idle helper whose state directory is `state`: marks itself busy there.
    Helper { state: &'a str },
    /// Exec'd in the target container itself (the fast path): no `/proc/1/root`, and exit
    /// 127 before a byte when the container has no `tar`.
    Target,
}

impl Runner<'_> {
    fn prelude(self) -> String {
        match self {
            Runner::CopyContainer => WAIT.to_string(),
            // Busy while it runs (the helper does not end under a copy), and the last
            // copy's end is when its idle time starts.
            Runner::Helper { state } => format!(
                "d={}; mkdir -p \"$d\"; : > \"$d/busy.$$\"; trap 'rm -f \"$d/busy.$$\"; touch \"$d/last\"' EXIT; ",
                quote(state)
            ),
            Runner::Target => "command -v tar >/dev/null 2>&1 || exit 127; ".to_string(),
        }
    }

    /// `exec tar` where nothing must run after tar; the helper's trap must.
    fn exec(self) -> &'static str {
        match self {
            Runner::Helper { .. } => "",
            _ => "exec ",
        }
    }

    fn root(self) -> Root {
        match self {
            Runner::Target => Root::Own,
            _ => Root::Proc,
        }
    }
}

/// How a path is reached: through the target's `/proc/1/root` from a container sharing its
/// PID namespace, or as it is, from inside the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Root {
    Proc,
    Own,
}

/// A single-quoted shell word (for kdebug's own names only; user paths go as arguments).
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// The helper's state directory (in its own filesystem, never the target's).
pub fn state_dir(container: &str) -> String {
    format!("/tmp/{container}")
}

/// An idle helper's command: it waits, and ends once no copy ran for `idle_secs`, or when
/// `stop` appears in its state directory (`kdebug gc`); never while a copy runs in it.
pub fn helper_command(idle_secs: u64, state: &str) -> Vec<String> {
    let script = "d=\"$2\"; mkdir -p \"$d\" && touch \"$d/last\" || exit 1; \
        while sleep 1; do busy=; \
        for f in \"$d\"/busy.*; do [ -e \"$f\" ] && kill -0 \"${f##*.}\" 2>/dev/null && busy=1; done; \
        if [ -n \"$busy\" ]; then touch \"$d/last\"; continue; fi; [ -e \"$d/stop\" ] && break; \
        [ $(( $(date +%s) - $(date -r \"$d/last\" +%s) )) -lt \"$1\" ] || break; done; rm -rf \"$d\"";
    vec![
        "sh".into(),
        "-c".into(),
        script.into(),
        HELPER_MARK.into(),
        idle_secs.to_string(),
        state.into(),
    ]
}

/// What `kdebug gc` execs in a helper to make it end.
pub fn stop_command(state: &str) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        "touch \"$1/stop\"".into(),
        "kdebug-cp".into(),
        state.into(),
    ]
}

/// How the copy container reads the target's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Added CAP_SYS_PTRACE (the general profile): reads any user's `/proc/1/root`.
    Ptrace,
    /// The target's own user and group and no added capability, for namespaces whose Pod
    /// Security level forbids added capabilities (`baseline` or `restricted`).
    SameUser(Profile),
}

/// What the copy container is built from.
pub struct CopyContainer<'a> {
    pub name: String,
    pub target: &'a str,
    pub image: Option<&'a str>,
    pub pull_policy: Option<&'a str>,
    pub command: Vec<String>,
    pub access: Access,
    pub mark: Mark,
}

/// The debug options that make the ephemeral builder produce the copy container.
pub fn options(c: CopyContainer) -> DebugOptions {
    let (profile, mirror) = match c.access {
        Access::Ptrace => (Profile::General, Mirror::default()),
        Access::SameUser(profile) => (
            profile,
            Mirror {
                user: true,
                ..Mirror::default()
            },
        ),
    };
    DebugOptions {
        image: Some(c.image.unwrap_or(DEFAULT_IMAGE).to_string()),
        container: Some(c.name),
        image_pull_policy: c.pull_policy.map(str::to_string),
        stdin: true,
        target: Some(c.target.to_string()),
        args: c.command,
        profile,
        // The runtime closes the container's stdin when kdebug closes it: `tar x` sees the end.
        custom: Some(json!({"stdinOnce": true})),
        mirror,
        mark: Some(c.mark),
        ..DebugOptions::default()
    }
}

/// The path as the copy container sees it, cleaned lexically so that no `..` leaves the
/// target's root (relative paths start at the target's working directory; their leading
/// `..` are dropped, as kubectl cp strips them).
pub fn through_proc(path: &str) -> String {
    reach(path, Root::Proc)
}

fn reach(path: &str, root: Root) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let base = match (root, path.starts_with('/')) {
        (Root::Proc, true) => "/proc/1/root",
        (Root::Proc, false) => "/proc/1/cwd",
        (Root::Own, true) => "",
        (Root::Own, false) => ".",
    };
    if parts.is_empty() {
        if base.is_empty() { "/" } else { base }.to_string()
    } else {
        format!("{base}/{}", parts.join("/"))
    }
}

/// Whether the fast path can copy `path` under the same name as a copy container would:
/// not the target's root or working directory itself (those are named `root` and `cwd`
/// through `/proc/1`, and have no name of their own from inside).
pub fn target_can_copy(path: &str) -> bool {
    split(&reach(path, Root::Own)).1 == name_of(path)
}

/// `(directory, name)` of a path from [`through_proc`]: `tar -C DIR NAME`.
pub fn split(p: &str) -> (String, String) {
    match p.rsplit_once('/') {
        Some(("", name)) => ("/".to_string(), name.to_string()),
        Some((dir, name)) => (dir.to_string(), name.to_string()),
        None => (".".to_string(), p.to_string()),
    }
}

/// The name the copied file or directory has in the archive (`tar cf - NAME`): what the
/// copy is renamed from, out of the pod, and named as, into a path that is not a directory.
pub fn name_of(path: &str) -> String {
    split(&through_proc(path)).1
}

const WAIT: &str = "read -r _ || exit 1; ";

/// Out of the pod: `tar cf - NAME` in DIR on stdout, from byte `offset` on (a resumed
/// copy). A missing path gets GNU tar's message with the path as the user gave it.
pub fn out_command(path: &str, offset: u64, runner: Runner) -> Vec<String> {
    let (dir, name) = split(&reach(path, runner.root()));
    let tar = if offset == 0 {
        format!("{}tar cf - \"$2\"", runner.exec())
    } else {
        format!("tar cf - \"$2\" | tail -c +{}", offset + 1)
    };
    let script = format!(
        "{}cd \"$1\" 2>/dev/null && {{ [ -e \"$2\" ] || [ -L \"$2\" ]; }} || {{ echo \"tar: $3: Cannot stat: No such file or directory\" >&2; exit 2; }}; {tar}",
        runner.prelude()
    );
    shell(script, [dir, name, path.to_string()])
}

/// Into the pod: says `D` when PATH is an existing directory (the copy goes inside it,
/// under its own name) or `F` (the copy becomes PATH), then extracts stdin there. With
/// `into_dir` (a tar stream from stdin) PATH must be a directory.
pub fn in_command(path: &str, preserve: bool, into_dir: bool, runner: Runner) -> Vec<String> {
    let full = reach(path, runner.root());
    let (dir, _) = split(&full);
    let tar = format!(
        "{}{}",
        runner.exec(),
        if preserve {
            "tar -x -p -f -"
        } else {
            "tar -x -m -o -f -"
        }
    );
    let wait = runner.prelude();
    let not_dir = "{ echo \"kdebug: $3: not a directory in the container\" >&2; exit 1; }";
    let missing =
        "{ echo \"kdebug: $3: No such file or directory in the container\" >&2; exit 1; }";
    let script = if into_dir {
        format!("{wait}[ -d \"$1\" ] && cd \"$1\" || {not_dir}; echo D; {tar}")
    } else {
        format!(
            "{wait}if [ -d \"$1\" ]; then cd \"$1\" && echo D; else cd \"$2\" 2>/dev/null && echo F || {missing}; fi && {tar}"
        )
    };
    shell(script, [full, dir, path.to_string()])
}

fn shell(script: String, args: [String; 3]) -> Vec<String> {
    let mut v = vec![
        "sh".to_string(),
        "-c".to_string(),
        script,
        "kdebug-cp".to_string(),
    ];
    v.extend(args);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_target() {
        assert_eq!(through_proc("/var/log/app"), "/proc/1/root/var/log/app");
        assert_eq!(through_proc("/var/../../etc/"), "/proc/1/root/etc");
        assert_eq!(through_proc("/"), "/proc/1/root");
        assert_eq!(through_proc("data/x"), "/proc/1/cwd/data/x");
        assert_eq!(through_proc("../../x"), "/proc/1/cwd/x");
        assert_eq!(through_proc("."), "/proc/1/cwd");
        assert_eq!(
            split("/proc/1/root/var/log"),
            ("/proc/1/root/var".into(), "log".into())
        );
        assert_eq!(split("/proc/1/root"), ("/proc/1".into(), "root".into()));
    }

    #[test]
    fn commands_carry_paths_as_arguments() {
        let c = out_command("/tmp/it's here", 0, Runner::CopyContainer);
        assert_eq!(c[..2], ["sh", "-c"]);
        assert!(c[2].starts_with("read -r _ || exit 1; "), "{}", c[2]);
        assert!(c[2].ends_with("exec tar cf - \"$2\""), "{}", c[2]);
        assert_eq!(
            c[3..],
            [
                "kdebug-cp",
                "/proc/1/root/tmp",
                "it's here",
                "/tmp/it's here"
            ]
        );
        assert!(out_command("/x", 41, Runner::CopyContainer)[2].ends_with("| tail -c +42"));
        let c = in_command("/srv/new", false, false, Runner::CopyContainer);
        assert!(c[2].contains("echo F"), "{}", c[2]);
        assert!(c[2].ends_with("exec tar -x -m -o -f -"), "{}", c[2]);
        assert_eq!(c[4..6], ["/proc/1/root/srv/new", "/proc/1/root/srv"]);
    }

    #[test]
    fn the_fast_path_and_the_helper_run_the_same_scripts() {
        let c = out_command("/var/log", 0, Runner::Target);
        assert!(
            c[2].starts_with("command -v tar >/dev/null 2>&1 || exit 127; cd"),
            "{}",
            c[2]
        );
        assert!(c[2].ends_with("exec tar cf - \"$2\""), "{}", c[2]);
        assert_eq!(c[4..6], ["/var", "log"]);
        assert_eq!(out_command("rel/x", 0, Runner::Target)[4], "./rel");
        assert_eq!(out_command("/x", 0, Runner::Target)[4], "/");
        let h = in_command(
            "/srv",
            true,
            false,
            Runner::Helper {
                state: "/tmp/kdebug-cp-a",
            },
        );
        assert!(
            h[2].starts_with("d='/tmp/kdebug-cp-a'; mkdir -p \"$d\"; : > \"$d/busy.$$\"; trap"),
            "{}",
            h[2]
        );
        assert!(h[2].ends_with("&& tar -x -p -f -"), "{}", h[2]);
        assert_eq!(h[4], "/proc/1/root/srv");
        assert!(target_can_copy("/var/log") && target_can_copy("x"));
        assert!(!target_can_copy("/") && !target_can_copy(".") && !target_can_copy("a/.."));
        let idle = helper_command(600, "/tmp/kdebug-cp-a");
        assert_eq!(idle[3..], [HELPER_MARK, "600", "/tmp/kdebug-cp-a"]);
    }

    #[test]
    fn the_container_targets_and_waits() {
        let mark = Mark {
            target: "pod/web-0".into(),
            created: "2026-12-03T00:00:00Z".into(),
        };
        let o = options(CopyContainer {
            name: "kdebug-cp-abcde".into(),
            target: "app",
            image: None,
            pull_policy: None,
            command: out_command("/x", 0, Runner::CopyContainer),
            access: Access::SameUser(Profile::Baseline),
            mark,
        });
        assert_eq!(o.image.as_deref(), Some("busybox"));
        assert_eq!(o.target.as_deref(), Some("app"));
        assert!(o.stdin && !o.tty);
        assert!(o.mirror.user && !o.mirror.env);
        assert_eq!(o.profile, Profile::Baseline);
    }
}
