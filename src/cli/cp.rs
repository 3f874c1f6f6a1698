//! `kdebug cp SRC DEST`: kubectl cp's file specs (`[[NAMESPACE/]POD:]PATH`), checked in
//! kubectl's order with its messages. Pure: no I/O.

use std::path::PathBuf;

use super::args::RawArgs;
use super::CliError;

/// The remote side: a path in a pod's container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    pub namespace: Option<String>,
    pub pod: String,
    pub path: String,
}

/// The local side: a path, or `-` for a tar stream on stdout (out of the pod) or stdin (in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Local {
    Path(PathBuf),
    Stream,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    FromPod,
    ToPod,
}

/// One copy, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    pub direction: Direction,
    pub remote: Remote,
    pub local: Local,
    /// Modes and times kept (not `--no-preserve`).
    pub preserve: bool,
    /// `--retries`: how many times a broken copy out of the pod resumes; negative: forever.
    pub retries: i64,
    /// `--helper-idle` in seconds (None: the default; 0: no helper).
    pub idle: Option<u64>,
}

/// The environment variable naming the default debug image (`kdebug cp`'s, and a debug
/// run's where kubectl would refuse the missing `--image`).
pub const IMAGE_ENV: &str = "KDEBUG_IMAGE";

/// `KDEBUG_IMAGE`, when set and not empty.
pub fn env_image() -> Option<String> {
    std::env::var(IMAGE_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// The error for a `kdebug cp` flag given to a debug run.
pub fn only_for_cp(raw: &RawArgs) -> Option<CliError> {
    (raw.no_preserve || raw.retries.is_some() || raw.helper_idle.is_some())
        .then_some(CliError::CpOnly)
}

/// The first debug flag given that means nothing to `kdebug cp` (its copy container is
/// kdebug's own: only `-c`, `--image`, `--image-pull-policy`, `--timeout` and `-q` apply).
pub fn not_for_cp(raw: &RawArgs) -> Option<&'static str> {
    let given = [
        (raw.stdin, "-i/--stdin"),
        (raw.tty, "-t/--tty"),
        (raw.dash_given, "--"),
        (raw.copy_to.is_some(), "--copy-to"),
        (raw.target.is_some(), "--target"),
        (raw.profile.is_some(), "--profile"),
        (raw.custom.is_some(), "--custom"),
        (!raw.env.is_empty(), "--env"),
        (!raw.filenames.is_empty(), "-f/--filename"),
        (raw.selector.is_some(), "-l/--selector"),
        (raw.rm, "--rm"),
        (raw.dry_run, "--dry-run"),
        (!raw.set_image.is_empty(), "--set-image"),
        (raw.mirror.is_some(), "--mirror"),
        (raw.attach.is_some(), "--attach"),
        (raw.host_shell, "--host-shell"),
        (raw.all_pods, "--all-pods"),
    ];
    given.iter().find(|(g, _)| *g).map(|(_, name)| *name)
}

enum Spec {
    Local(String),
    Remote(Remote),
}

/// kubectl cp's argument checks, in its words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpArgError {
    /// A spec that is not `[[namespace/]pod:]file/path`.
    Format,
    Missing,
    BothRemote,
    BothLocal,
    EmptyPath,
}

impl std::fmt::Display for CpArgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CpArgError::Format => {
                "filespec must match the canonical format: [[namespace/]pod:]file/path"
            }
            CpArgError::Missing => "source and destination are required",
            CpArgError::BothRemote => "one of src or dest must be a local file specification",
            CpArgError::BothLocal => "one of src or dest must be a remote file specification",
            CpArgError::EmptyPath => "filepath can not be empty",
        })
    }
}

/// kubectl's extractFileSpec: the first `:` splits pod from path; a spec that starts with
/// one, or a pod part with more than one `/`, is not a file spec.
fn file_spec(arg: &str) -> Result<Spec, CliError> {
    let Some(i) = arg.find(':') else {
        return Ok(Spec::Local(arg.to_string()));
    };
    if i == 0 {
        return Err(CliError::Cp(CpArgError::Format));
    }
    let (pod, path) = (&arg[..i], &arg[i + 1..]);
    let (namespace, pod) = match pod.split('/').collect::<Vec<_>>()[..] {
        [pod] => (None, pod),
        [ns, pod] => (Some(ns.to_string()), pod),
        _ => return Err(CliError::Cp(CpArgError::Format)),
    };
    Ok(Spec::Remote(Remote {
        namespace,
        pod: pod.to_string(),
        path: path.to_string(),
    }))
}

/// Checks `kdebug cp`'s two arguments and flags.
pub fn parse(raw: &RawArgs) -> Result<Copy, CliError> {
    let idle = match raw.helper_idle.as_deref() {
        None => None,
        Some(v) => Some(
            crate::text::duration::parse_go(v)
                .ok_or_else(|| {
                    CliError::InvalidValue(
                        "helper-idle".into(),
                        v.into(),
                        format!("time: invalid duration {v:?}"),
                    )
                })?
                .as_secs(),
        ),
    };
    let (no_preserve, retries) = (raw.no_preserve, raw.retries.as_deref());
    let [src, dest] = &raw.targets[..] else {
        return Err(CliError::Cp(CpArgError::Missing));
    };
    let retries = match retries {
        None => 0,
        Some(v) => v.parse::<i64>().map_err(|_| {
            CliError::InvalidValue(
                "retries".into(),
                v.into(),
                format!("strconv.ParseInt: parsing {v:?}: invalid syntax"),
            )
        })?,
    };
    let (src, dest) = (file_spec(src)?, file_spec(dest)?);
    let (direction, remote, local) = match (src, dest) {
        (Spec::Remote(_), Spec::Remote(_)) => return Err(CliError::Cp(CpArgError::BothRemote)),
        (Spec::Remote(r), Spec::Local(l)) => (Direction::FromPod, r, l),
        (Spec::Local(l), Spec::Remote(r)) => (Direction::ToPod, r, l),
        (Spec::Local(a), Spec::Local(b)) => {
            if a.is_empty() || b.is_empty() {
                return Err(CliError::Cp(CpArgError::EmptyPath));
            }
            return Err(CliError::Cp(CpArgError::BothLocal));
        }
    };
    if remote.path.is_empty() || local.is_empty() {
        return Err(CliError::Cp(CpArgError::EmptyPath));
    }
    let local = match local.as_str() {
        "-" => Local::Stream,
        _ => Local::Path(PathBuf::from(local)),
    };
    Ok(Copy {
        direction,
        remote,
        local,
        preserve: !no_preserve,
        retries,
        idle,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(args: &[&str]) -> RawArgs {
        RawArgs {
            targets: args.iter().map(|s| s.to_string()).collect(),
            ..RawArgs::default()
        }
    }

    fn p(args: &[&str]) -> Result<Copy, CliError> {
        parse(&raw(args))
    }

    fn msg(args: &[&str]) -> String {
        p(args).unwrap_err().to_string()
    }

    #[test]
    fn specs_as_kubectl_reads_them() {
        let c = p(&["prod/web-0:/var/log", "./logs"]).unwrap();
        assert_eq!(c.direction, Direction::FromPod);
        assert_eq!(
            c.remote,
            Remote {
                namespace: Some("prod".into()),
                pod: "web-0".into(),
                path: "/var/log".into()
            }
        );
        assert_eq!(c.local, Local::Path("./logs".into()));
        let c = p(&["-", "web-0:tmp/in"]).unwrap();
        assert_eq!(c.direction, Direction::ToPod);
        assert_eq!(c.local, Local::Stream);
        assert_eq!(c.remote.namespace, None);
        assert_eq!(c.remote.path, "tmp/in");
        // Only the first colon splits.
        assert_eq!(p(&["web:/a:b", "x"]).unwrap().remote.path, "/a:b");
    }

    #[test]
    fn kubectls_messages() {
        assert_eq!(msg(&["web:/a"]), "source and destination are required");
        assert_eq!(msg(&[":/a", "x"]), CpArgError::Format.to_string());
        assert_eq!(msg(&["a/b/c:/x", "y"]), CpArgError::Format.to_string());
        assert_eq!(
            msg(&["a:/x", "b:/y"]),
            "one of src or dest must be a local file specification"
        );
        assert_eq!(
            msg(&["a", "b"]),
            "one of src or dest must be a remote file specification"
        );
        assert_eq!(msg(&["web:", "x"]), "filepath can not be empty");
        assert_eq!(msg(&["web:/x", ""]), "filepath can not be empty");
    }

    #[test]
    fn retries_preserve_and_idle() {
        let mut r = raw(&["web:/x", "y"]);
        (r.no_preserve, r.retries) = (true, Some("-1".into()));
        r.helper_idle = Some("90s".into());
        let c = parse(&r).unwrap();
        assert!(!c.preserve);
        assert_eq!((c.retries, c.idle), (-1, Some(90)));
        r.retries = Some("many".into());
        assert!(matches!(parse(&r), Err(CliError::InvalidValue(..))));
        r.retries = None;
        r.helper_idle = Some("soon".into());
        assert_eq!(
            parse(&r).unwrap_err().to_string(),
            "invalid argument \"soon\" for \"--helper-idle\" flag: time: invalid duration \"soon\""
        );
    }
}
