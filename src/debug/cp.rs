//! The copy container of `kdebug cp` (pure). An ephemeral container that targets the
//! container holding the files shares its PID namespace, so the target's filesystem is at
//! `/proc/1/root` (its working directory at `/proc/1/cwd`) and the debug image's `tar`
//! reads or writes it: the target's image needs no tar (kubernetes/kubernetes#58512).
//!
//! Its command first waits for one line on stdin, which kdebug sends once attached:
//! without it the archive would start before the attach and be lost or cut (R2/R3 of
//! tests/fakecluster/REAL.md). Paths travel as arguments, never inside the script.

use serde_json::json;

use super::{DebugOptions, Mark, Mirror, Profile};

/// The copy containers' name prefix (`kdebug-cp-XXXXX`).
pub const NAME_PREFIX: &str = "kdebug-cp-";
/// The tools image when `--image` is not given: busybox has `tar`, `sh` and `tail`.
pub const DEFAULT_IMAGE: &str = "busybox";
/// The line kdebug sends once attached.
pub const GO: &[u8] = b"go\n";

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
    let base = if path.starts_with('/') {
        "/proc/1/root"
    } else {
        "/proc/1/cwd"
    };
    if parts.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{}", parts.join("/"))
    }
}

/// `(directory, name)` of a path from [`through_proc`]: `tar -C DIR NAME`.
pub fn split(p: &str) -> (String, String) {
    match p.rsplit_once('/') {
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
pub fn out_command(path: &str, offset: u64) -> Vec<String> {
    let (dir, name) = split(&through_proc(path));
    let tar = if offset == 0 {
        "exec tar cf - \"$2\"".to_string()
    } else {
        format!("tar cf - \"$2\" | tail -c +{}", offset + 1)
    };
    let script = format!(
        "{WAIT}cd \"$1\" 2>/dev/null && {{ [ -e \"$2\" ] || [ -L \"$2\" ]; }} || {{ echo \"tar: $3: Cannot stat: No such file or directory\" >&2; exit 2; }}; {tar}"
    );
    shell(script, [dir, name, path.to_string()])
}

/// Into the pod: says `D` when PATH is an existing directory (the copy goes inside it,
/// under its own name) or `F` (the copy becomes PATH), then extracts stdin there. With
/// `into_dir` (a tar stream from stdin) PATH must be a directory.
pub fn in_command(path: &str, preserve: bool, into_dir: bool) -> Vec<String> {
    let full = through_proc(path);
    let (dir, _) = split(&full);
    let tar = if preserve {
        "exec tar -x -p -f -"
    } else {
        "exec tar -x -m -o -f -"
    };
    let not_dir = "{ echo \"kdebug: $3: not a directory in the container\" >&2; exit 1; }";
    let missing =
        "{ echo \"kdebug: $3: No such file or directory in the container\" >&2; exit 1; }";
    let script = if into_dir {
        format!("{WAIT}[ -d \"$1\" ] && cd \"$1\" || {not_dir}; echo D; {tar}")
    } else {
        format!(
            "{WAIT}if [ -d \"$1\" ]; then cd \"$1\" && echo D; else cd \"$2\" 2>/dev/null && echo F || {missing}; fi && {tar}"
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
        let c = out_command("/tmp/it's here", 0);
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
        assert!(out_command("/x", 41)[2].ends_with("| tail -c +42"));
        let c = in_command("/srv/new", false, false);
        assert!(c[2].contains("echo F"), "{}", c[2]);
        assert!(c[2].ends_with("exec tar -x -m -o -f -"), "{}", c[2]);
        assert_eq!(c[4..6], ["/proc/1/root/srv/new", "/proc/1/root/srv"]);
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
            command: out_command("/x", 0),
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
