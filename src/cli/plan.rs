//! Stage two: RawArgs -> a validated [`Plan`]. kubectl's order is kept: flag-value errors
//! first (pflag), then the kubeconfig (the caller loads it between [`build`] and
//! [`finish`]), then the profile, the custom file, and kubectl's Validate checks; kdebug's own
//! checks come last.

use std::path::PathBuf;
use std::time::Duration;

use super::args::{GlobalArgs, RawArgs, Verb};
use super::CliError;
use crate::debug::{DebugError, DebugOptions, Message, Mirror, Profile};
use crate::kube::target::{self, Target};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Json,
    Yaml,
}

/// What a run does, with what only that verb needs: a copy exists for `cp` alone.
#[derive(Debug)]
pub enum Job {
    Debug,
    Attach,
    Cp(super::cp::Copy),
    List,
    Gc,
}

/// Everything a run needs, checked.
#[derive(Debug)]
pub struct Plan {
    pub job: Job,
    pub targets: Vec<Target>,
    pub filenames: Vec<String>,
    /// The builders' input; completed by [`finish`].
    pub opts: DebugOptions,
    pub profile_name: Option<String>,
    pub custom_path: Option<String>,
    pub mirror_spec: Option<String>,
    pub attach: bool,
    pub attach_explicit: Option<bool>,
    pub quiet: bool,
    pub rm: bool,
    /// None: wait forever.
    pub timeout: Option<Duration>,
    /// How long a lost API server is waited for once the session is open (0: not at all).
    pub reconnect_window: Duration,
    pub dry_run: bool,
    pub output: Output,
    pub selector: Option<String>,
    pub all_namespaces: bool,
    pub all_pods: bool,
    pub max_parallel: usize,
    /// Fan-out: start no more pods after the first failure.
    pub fail_fast: bool,
    pub output_dir: Option<PathBuf>,
    pub older_than: Duration,
    pub global: GlobalArgs,
    pub request_timeout: Option<Duration>,
    pub verbosity: u8,
}

impl Plan {
    /// How this run prints its own messages.
    pub fn printer(&self) -> crate::sys::output::Printer {
        crate::sys::output::Printer {
            quiet: self.quiet,
            data_on_stdout: self.dry_run,
        }
    }

    /// Several pods at once: non-interactive, output prefixed, a summary at the end.
    pub fn fan_out(&self) -> bool {
        self.selector.is_some() || self.all_pods
    }
}

/// The default `--timeout` for waiting on the debug container.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);

fn invalid(flag: &str, value: &str, why: &str) -> CliError {
    CliError::InvalidValue(flag.into(), value.into(), why.into())
}

/// `KEY=VAL` pairs of a repeatable stringToString flag, with pflag's parsing and errors.
fn pairs(flag: &str, values: &[String]) -> Result<Vec<(String, String)>, CliError> {
    let mut out = Vec::new();
    for v in values {
        out.extend(super::args::string_to_string(flag, v)?);
    }
    Ok(out)
}

fn duration(flag: &str, v: &str) -> Result<Duration, CliError> {
    crate::text::duration::parse_request_timeout(v).ok_or_else(|| {
        invalid(
            flag,
            v,
            "expected a duration such as 30s, 5m or 1h (or whole seconds)",
        )
    })
}

/// Stage two, part one: the flag values, checked; not yet the profile, the custom file and
/// kubectl's Validate, which come after the kubeconfig. Only [`finish`] makes it a [`Plan`],
/// so no journey can start from a half-checked command line.
#[derive(Debug)]
pub struct Draft(Plan);

impl Draft {
    /// What was parsed so far (connecting needs the global flags).
    pub fn parsed(&self) -> &Plan {
        &self.0
    }

    /// Caps `--request-timeout` (completion must not keep a shell waiting).
    pub fn request_timeout_at_most(mut self, limit: Duration) -> Draft {
        self.0.request_timeout = Some(self.0.request_timeout.map_or(limit, |t| t.min(limit)));
        self
    }
}

/// Stage two stopped: the error, and what kubectl prints before it (Validate's messages).
#[derive(Debug)]
pub struct Refused {
    pub said: Vec<Message>,
    pub error: CliError,
}

impl From<CliError> for Refused {
    fn from(error: CliError) -> Refused {
        Refused {
            said: Vec::new(),
            error,
        }
    }
}

/// Stage two, part one: everything that needs no file and no kubeconfig.
pub fn build(raw: RawArgs) -> Result<Draft, CliError> {
    let env = pairs("env", &raw.env)?;
    let set_image = pairs("set-image", &raw.set_image)?;
    let request_timeout = match &raw.global.request_timeout {
        None => None,
        Some(v) => {
            Some(crate::text::duration::parse_request_timeout(v).ok_or(CliError::RequestTimeout)?)
        }
    };
    let verbosity = match &raw.global.verbosity {
        None => 0,
        Some(v) => v
            .parse::<u8>()
            .map_err(|_| invalid("v", v, "expected a number from 0 to 10"))?,
    };
    let timeout = match raw.timeout.as_deref() {
        None => Some(DEFAULT_TIMEOUT),
        Some(v) => Some(duration("timeout", v)?).filter(|d| !d.is_zero()),
    };
    let reconnect_window = match raw.reconnect_window.as_deref() {
        None => crate::client::reconnect::DEFAULT_WINDOW,
        Some(v) => duration("reconnect-window", v)?,
    };
    let older_than = match raw.older_than.as_deref() {
        None => Duration::from_secs(3600),
        Some(v) => duration("older-than", v)?,
    };
    let max_parallel = match raw.max_parallel.as_deref() {
        None => 10,
        Some(v) => match v.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(invalid(
                    "max-parallel",
                    v,
                    "expected a whole number of at least 1",
                ))
            }
        },
    };
    let output = match raw.output.as_deref() {
        None | Some("json") => Output::Json,
        Some("yaml") => Output::Yaml,
        Some(other) => return Err(invalid("output", other, "expected json or yaml")),
    };
    let job = match raw.verb {
        Verb::Cp => {
            if let Some(flag) = super::cp::not_for_cp(&raw) {
                return Err(CliError::NotForCp(flag));
            }
            Job::Cp(super::cp::parse(&raw)?)
        }
        verb => {
            if let Some(e) = super::cp::only_for_cp(&raw) {
                return Err(e);
            }
            match verb {
                Verb::Attach => Job::Attach,
                Verb::List => Job::List,
                Verb::Gc => Job::Gc,
                _ => Job::Debug,
            }
        }
    };
    let targets = if raw.verb == Verb::Cp {
        Vec::new()
    } else if raw.verb == Verb::Debug || raw.verb == Verb::Attach {
        raw.targets
            .iter()
            .map(|t| target::parse(t).map_err(CliError::Target))
            .collect::<Result<Vec<_>, _>>()?
    } else if let Some(extra) = raw.targets.first() {
        return Err(CliError::UnexpectedArgument(extra.clone()));
    } else {
        Vec::new()
    };
    // kubectl: -i implies --attach unless --attach was given explicitly.
    // kdebug: --rm deletes the pod when the session ends, so it needs a session: without -i
    // it follows the command's output to its end, then deletes.
    let attach = raw.attach.unwrap_or(raw.stdin || raw.rm);
    let opts = DebugOptions {
        image: raw.image.clone(),
        container: raw.container.clone(),
        image_pull_policy: raw.image_pull_policy.clone(),
        env,
        stdin: raw.stdin,
        tty: raw.tty,
        target: raw.target.clone(),
        args: raw.command.clone(),
        arguments_only: raw.arguments_only,
        profile: Profile::General,
        custom: None,
        copy_to: raw.copy_to.clone(),
        replace: raw.replace,
        same_node: raw.same_node,
        share_processes: raw.share_processes,
        set_image,
        keep_labels: raw.keep_labels,
        keep_annotations: raw.keep_annotations,
        keep_liveness: raw.keep_liveness,
        keep_readiness: raw.keep_readiness,
        keep_startup: raw.keep_startup,
        keep_init_containers: raw.keep_init_containers.unwrap_or(true),
        mirror: Mirror::default(),
        mark: None,
        host_shell: raw.host_shell,
    };
    Ok(Draft(Plan {
        job,
        targets,
        filenames: raw.filenames,
        opts,
        profile_name: raw.profile,
        custom_path: raw.custom,
        mirror_spec: raw.mirror,
        attach,
        attach_explicit: raw.attach,
        quiet: raw.quiet,
        rm: raw.rm,
        timeout,
        reconnect_window,
        dry_run: raw.dry_run,
        output,
        selector: raw.selector,
        all_namespaces: raw.all_namespaces,
        all_pods: raw.all_pods,
        max_parallel,
        fail_fast: raw.fail_fast,
        output_dir: raw.output_dir.map(PathBuf::from),
        older_than,
        global: raw.global,
        request_timeout,
        verbosity,
    }))
}

/// Stage two, part two (after the kubeconfig loaded): profile, custom file, kubectl's
/// Validate, then kdebug's own checks. Returns the plan and the startup messages to print;
/// prints nothing itself.
pub fn finish(draft: Draft) -> Result<(Plan, Vec<Message>), Refused> {
    let mut p = draft.0;
    let debug_err = CliError::Debug;
    if matches!(p.job, Job::Debug) {
        if let Some(name) = &p.profile_name {
            p.opts.profile = name.parse::<Profile>().map_err(debug_err)?;
        }
        if let Some(path) = p.custom_path.clone() {
            p.opts.custom = super::custom_file::read(&path)?;
        }
        if p.opts.host_shell {
            host_shell(&mut p)?;
        }
    }
    let messages = if matches!(p.job, Job::Debug) {
        let has_targets = !p.targets.is_empty() || !p.filenames.is_empty() || p.selector.is_some();
        let mut checked = crate::debug::validate::validate(&p.opts, p.attach_explicit, has_targets);
        // Where kubectl refuses the missing --image, KDEBUG_IMAGE stands in for it.
        if let (Err(e), Some(image)) = (&checked, super::cp::env_image()) {
            let wants_image = matches!(
                e.error,
                DebugError::ImageRequired
                    | DebugError::AttachWithoutContainer
                    | DebugError::CopyNothingToDo
                    | DebugError::CopyArgsWithoutContainer
            );
            if p.opts.image.is_none() && wants_image {
                p.opts.image = Some(image);
                checked = crate::debug::validate::validate(&p.opts, p.attach_explicit, has_targets);
            }
        }
        match checked {
            Ok(m) => m,
            // kubectl prints what Validate said before the check that failed.
            Err(e) => {
                return Err(Refused {
                    said: e.messages,
                    error: CliError::Debug(e.error),
                })
            }
        }
    } else {
        Vec::new()
    };
    if let Some(spec) = &p.mirror_spec {
        p.opts.mirror = spec.parse::<Mirror>().map_err(debug_err)?;
    }
    if matches!(p.job, Job::Debug) {
        kdebug_checks(&p)?;
    }
    Ok((p, messages))
}

/// The image `--host-shell` uses when none is given: busybox has an `nsenter` applet.
pub const HOST_SHELL_IMAGE: &str = "busybox";

/// Flags that do not go together: kdebug's own checks, after kubectl's.
#[derive(Debug, PartialEq, Eq)]
pub enum Misuse {
    HostShellTargets,
    HostShellCopy,
    /// `--host-shell` with another profile (named).
    HostShellProfile(String),
    RmDetached,
    RmReplace,
    RmEphemeral,
    FanOutTerminal,
    SelectorWithPods,
    NodesWithoutSelector,
    AllPodsWithoutWorkload,
    OutputDirAlone,
    FailFastAlone,
}

impl std::fmt::Display for Misuse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = match self {
            Misuse::HostShellTargets => "--host-shell needs node/NAME targets: it enters a node's own namespaces",
            Misuse::HostShellCopy => "--host-shell cannot be used with --copy-to",
            Misuse::HostShellProfile(other) => {
                return write!(f, "--host-shell needs the sysadmin profile (privileged, hostPID), not --profile={other}")
            }
            Misuse::RmDetached => "--rm deletes the pod when its command ends, so it cannot be used with --attach=false",
            Misuse::RmReplace => "--rm cannot be used with --replace: the original pod is deleted, so the copy is all that is left of it",
            Misuse::RmEphemeral => "--rm works with --copy-to and node/NAME only: the API cannot remove an ephemeral container once added (it stops when its command exits)",
            Misuse::FanOutTerminal => "-i/-t cannot be used with -l/--selector or --all-pods: several pods are debugged at once, without a terminal",
            Misuse::SelectorWithPods => "-l/--selector picks the pods itself: give no POD names with it (use node/ to select nodes instead)",
            Misuse::NodesWithoutSelector => "node/ without a name needs -l/--selector to pick the nodes",
            Misuse::AllPodsWithoutWorkload => "--all-pods needs a workload target such as deploy/NAME",
            Misuse::OutputDirAlone => "--output-dir is for fan-out runs (-l/--selector or --all-pods)",
            Misuse::FailFastAlone => "--fail-fast is for fan-out runs (-l/--selector or --all-pods)",
        };
        f.write_str(text)
    }
}

/// `--host-shell`: only for nodes, always the sysadmin profile (privileged, hostPID), and an
/// image by default. The builder puts the command behind nsenter.
fn host_shell(p: &mut Plan) -> Result<(), CliError> {
    let nodes = !p.targets.is_empty() && p.targets.iter().all(|t| t.kind == target::Kind::Node);
    if !nodes {
        return Err(CliError::Misuse(Misuse::HostShellTargets));
    }
    if p.opts.copy_to.is_some() {
        return Err(CliError::Misuse(Misuse::HostShellCopy));
    }
    match p.profile_name.as_deref() {
        None | Some("sysadmin") => p.opts.profile = Profile::Sysadmin,
        Some(other) => {
            return Err(CliError::Misuse(Misuse::HostShellProfile(
                other.to_string(),
            )))
        }
    }
    if p.opts.image.is_none() {
        p.opts.image = Some(HOST_SHELL_IMAGE.into());
    }
    Ok(())
}

fn kdebug_checks(p: &Plan) -> Result<(), CliError> {
    let node = p.targets.iter().any(|t| t.kind == target::Kind::Node);
    if p.rm && p.attach_explicit == Some(false) {
        return Err(CliError::Misuse(Misuse::RmDetached));
    }
    if p.rm && p.opts.replace {
        return Err(CliError::Misuse(Misuse::RmReplace));
    }
    if p.rm && p.opts.copy_to.is_none() && !node {
        return Err(CliError::Misuse(Misuse::RmEphemeral));
    }
    if p.fan_out() && (p.opts.stdin || p.opts.tty) {
        return Err(CliError::Misuse(Misuse::FanOutTerminal));
    }
    if p.selector.is_some()
        && !p.targets.is_empty()
        && !p.targets.iter().all(|t| t.kind == target::Kind::Node)
    {
        return Err(CliError::Misuse(Misuse::SelectorWithPods));
    }
    if p.selector.is_none() && p.targets.iter().any(|t| t.name.is_empty()) {
        return Err(CliError::Misuse(Misuse::NodesWithoutSelector));
    }
    if p.all_pods && !p.targets.iter().any(|t| t.kind.is_workload()) {
        return Err(CliError::Misuse(Misuse::AllPodsWithoutWorkload));
    }
    if p.output_dir.is_some() && !p.fan_out() {
        return Err(CliError::Misuse(Misuse::OutputDirAlone));
    }
    if p.fail_fast && !p.fan_out() {
        return Err(CliError::Misuse(Misuse::FailFastAlone));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn plan(args: &[&str]) -> Result<Plan, CliError> {
        build(super::super::args::flags(
            args.iter().map(OsString::from).collect(),
        )?)
        .map(|d| d.0)
    }

    #[test]
    fn fail_fast_is_for_fan_out() {
        let p = plan(&["-l", "app=web", "--image=b", "--fail-fast"]).unwrap();
        assert!(p.fail_fast && kdebug_checks(&p).is_ok());
        let p = plan(&["web", "--image=b", "--fail-fast"]).unwrap();
        assert_eq!(
            kdebug_checks(&p).unwrap_err().to_string(),
            "--fail-fast is for fan-out runs (-l/--selector or --all-pods)"
        );
    }

    #[test]
    fn stdin_implies_attach_unless_explicit() {
        assert!(plan(&["web", "-i", "--image=b"]).unwrap().attach);
        assert!(
            !plan(&["web", "-i", "--attach=false", "--image=b"])
                .unwrap()
                .attach
        );
        assert!(!plan(&["web", "--image=b"]).unwrap().attach);
    }

    #[test]
    fn env_is_pflag_string_to_string() {
        // kubectl 1.33: one '=' makes one pair, commas and all; more are read as CSV.
        let env = |args: &[&str]| plan(args).map(|p| p.opts.env);
        assert_eq!(
            env(&["--env=A=1,2"]).unwrap(),
            [("A".to_string(), "1,2".to_string())]
        );
        assert_eq!(
            env(&["--env=A=b=c"]).unwrap(),
            [("A".to_string(), "b=c".to_string())]
        );
        let si = plan(&["--set-image=*=b:1,app=c"]).unwrap().opts.set_image;
        assert_eq!(
            si,
            [
                ("*".to_string(), "b:1".to_string()),
                ("app".into(), "c".into())
            ]
        );
        let err = |args: &[&str]| plan(args).unwrap_err().to_string();
        assert_eq!(
            err(&["--env="]),
            "invalid argument \"\" for \"--env\" flag:  must be formatted as key=value"
        );
        assert_eq!(
            err(&["--env=X=1", "--env=A=1,b,C=2"]),
            "invalid argument \"A=1,b,C=2\" for \"--env\" flag: b must be formatted as key=value"
        );
    }

    #[test]
    fn env_needs_key_value() {
        let e = plan(&["web", "--env", "a=1,b=2,c"]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid argument \"a=1,b=2,c\" for \"--env\" flag: c must be formatted as key=value"
        );
        // pflag: with a single `=` the whole value is one pair.
        let one = plan(&["web", "--env", "a=1,b"]).unwrap();
        assert_eq!(one.opts.env, [("a".to_string(), "1,b".to_string())]);
        assert!(e.is_usage());
        let p = plan(&["web", "--env", "B=2", "--env", "A=1"]).unwrap();
        assert_eq!(
            p.opts.env,
            [("B".to_string(), "2".to_string()), ("A".into(), "1".into())]
        );
    }

    #[test]
    fn timeouts() {
        assert_eq!(plan(&["web"]).unwrap().timeout, Some(DEFAULT_TIMEOUT));
        assert_eq!(plan(&["web", "--timeout=0"]).unwrap().timeout, None);
        assert_eq!(
            plan(&["web", "--timeout=90"]).unwrap().timeout,
            Some(Duration::from_secs(90))
        );
        assert!(plan(&["web", "--timeout=soon"]).is_err());
        assert!(plan(&["web", "--request-timeout=x"])
            .unwrap_err()
            .to_string()
            .starts_with("Invalid timeout value"));
    }

    #[test]
    fn host_shell_is_for_nodes_with_sysadmin() {
        let finished = |args: &[&str]| {
            let p = plan(args).unwrap();
            finish(Draft(p))
                .map(|(p, _)| p)
                .map_err(|e| e.error.to_string())
        };
        let p = finished(&["node/n1", "--host-shell", "-it"]).unwrap();
        assert_eq!(p.opts.profile, Profile::Sysadmin);
        assert_eq!(p.opts.image.as_deref(), Some(HOST_SHELL_IMAGE));
        assert!(p.opts.host_shell);
        let p = finished(&["node/n1", "--host-shell", "--image=alpine:3"]).unwrap();
        assert_eq!(p.opts.image.as_deref(), Some("alpine:3"));
        assert!(finished(&["web-0", "--host-shell"])
            .unwrap_err()
            .contains("node/NAME"));
        assert!(finished(&["node/n1", "--host-shell", "--profile=general"])
            .unwrap_err()
            .contains("sysadmin"));
    }

    #[test]
    fn kdebug_refusals() {
        let check = |args: &[&str]| {
            let p = plan(args).unwrap();
            kdebug_checks(&p).map_err(|e| e.to_string())
        };
        assert!(check(&["web", "--image=b", "--rm"])
            .unwrap_err()
            .contains("ephemeral container"));
        assert!(
            check(&["web", "--image=b", "--copy-to=c", "--replace", "--rm"])
                .unwrap_err()
                .contains("--replace")
        );
        assert!(check(&["-l", "app=web", "--image=b", "-i"])
            .unwrap_err()
            .contains("-i/-t"));
        assert!(check(&["web", "--image=b", "--copy-to=c", "--rm"]).is_ok());
        assert!(check(&["node/n1", "--image=b", "--rm"]).is_ok());
        assert!(check(&["node/n1", "--image=b", "--rm", "--attach=false"])
            .unwrap_err()
            .contains("--attach=false"));
        assert!(
            plan(&["node/n1", "--image=b", "--rm"]).unwrap().attach,
            "--rm implies a session"
        );
    }
}
