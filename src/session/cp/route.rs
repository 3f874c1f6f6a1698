//! Where a copy's remote tar runs ([`Route`]): the target's own tar over `pods/exec`, an
//! idle helper reused through exec, or one new copy container per copy, attached. Each
//! falls to the next; `-v=6` says which was taken and why.

use std::time::Duration;

use crate::cli::plan::Plan;
use crate::client::ApiError;
use crate::debug::cp::{self as builder, Access, CopyContainer, Runner};
use crate::debug::{self, Mark, Profile};
use crate::kube::{self as api, Meta};
use crate::session::attach::frames::ChannelStatus;
use crate::session::attach::AttachError;

use super::channel::Channel;
use super::wait::{self, WaitOptions};
use super::{now_rfc3339, visible, Connection, CpError, How, Local, RunError, Side, Started, What};

/// Where the remote tar runs: tried in this order, each falling to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route {
    /// Exec'd in the target container.
    Target,
    /// A running helper of the target is looked for, else one is made.
    FindHelper,
    /// Exec'd in this helper.
    Helper { name: String, access: Access },
    /// One new copy container per copy, attached.
    PerCopy,
}

/// What one exec attempt came to.
enum Tried {
    Ran(Box<Channel>),
    /// The container has no `sh` or `tar` (the runtime's "executable file not found", or
    /// 126/127 before a byte): the next route.
    Missing(String),
    /// 403: exec is not allowed here.
    Forbidden(ApiError),
    /// The exec could not be made (the helper ended, say).
    Unavailable(String),
    /// Into the pod, the server speaks only v4 (Kubernetes before 1.29 proxies exec to the
    /// kubelet, R14): an exec cannot end its stdin and still give its result.
    NoHalfClose,
}

impl Side<'_> {
    /// Starts the copy by the first route that works, falling to the next (`-v=6` says
    /// which and why).
    pub(super) fn start(&mut self, what: What) -> Result<Started, RunError> {
        loop {
            match self.route.clone() {
                Route::Target => {
                    let target = self.target.to_string();
                    match self.try_exec(&target, Runner::Target, what)? {
                        Tried::Ran(ch) => {
                            let how = format!("with container {target}'s own tar");
                            return Ok(self.ran(ch, target, None, &how));
                        }
                        Tried::Missing(why) | Tried::Unavailable(why) => {
                            self.trace(&format!(
                                "container {target} cannot run the copy itself ({why}): using a helper container"
                            ));
                            self.route = Route::FindHelper;
                        }
                        Tried::Forbidden(e) => self.per_copy(&e),
                        Tried::NoHalfClose => self.no_half_close(),
                    }
                }
                Route::FindHelper if self.copy.idle == Some(0) => self.route = Route::PerCopy,
                Route::FindHelper => {
                    self.route = match self.running_helper(true)? {
                        Some((name, access)) => {
                            self.trace(&format!("reusing helper container {name}"));
                            Route::Helper { name, access }
                        }
                        None if self.new_helpers == 0 => {
                            let (name, access) = self.new_helper()?;
                            Route::Helper { name, access }
                        }
                        None => Route::PerCopy,
                    }
                }
                Route::Helper { name, access } => {
                    let state = builder::state_dir(&name);
                    match self.try_exec(&name, Runner::Helper { state: &state }, what)? {
                        Tried::Ran(ch) => {
                            let how = format!("through helper container {name}");
                            return Ok(self.ran(ch, name, Some(access), &how));
                        }
                        Tried::Forbidden(e) => self.per_copy(&e),
                        Tried::NoHalfClose => self.no_half_close(),
                        Tried::Missing(why) | Tried::Unavailable(why) => {
                            // A found one that ended meanwhile: one new one; a new one that
                            // cannot be used: no more helpers.
                            self.trace(&format!("helper container {name} cannot be used ({why})"));
                            self.route = if self.new_helpers == 0 {
                                let (name, access) = self.new_helper()?;
                                Route::Helper { name, access }
                            } else {
                                Route::PerCopy
                            };
                        }
                    }
                }
                Route::PerCopy => {
                    let command = self.command(what, Runner::CopyContainer);
                    return self.start_attached(command);
                }
            }
        }
    }

    /// A copy under way in an exec, said at `-v=6`.
    fn ran(
        &self,
        ch: Box<Channel>,
        container: String,
        access: Option<Access>,
        how: &str,
    ) -> Started {
        self.trace(&format!("copying {how} (pods/exec)"));
        Started {
            ch: *ch,
            how: How::Exec { container, access },
        }
    }

    /// `I0000 cp.go] ...` at `-v=6` and above: which route a copy took, and why.
    pub(super) fn trace(&self, what: &str) {
        if self.conn.client.verbosity() >= 6 {
            crate::sys::output::trace(&format!("I0000 cp.go] {}", visible(what.as_bytes())));
        }
    }

    /// Into the pod over v4: one copy container per copy (its attach's stdin is `stdinOnce`).
    fn no_half_close(&mut self) {
        self.trace("the server speaks no v5.channel.k8s.io, so an exec cannot end its stdin: copying in through a new ephemeral container");
        self.route = Route::PerCopy;
    }

    /// Exec is forbidden: one copy container per copy from now on, said once.
    fn per_copy(&mut self, e: &ApiError) {
        self.p.printer().info(&format!(
            "kdebug: exec is not allowed in pod {}/{} ({}); copying through a new ephemeral container for each copy",
            self.ns,
            self.pod_name,
            visible(e.status().map_or(e.to_string(), |s| s.message.clone()).as_bytes())
        ));
        self.route = Route::PerCopy;
    }

    fn command(&self, what: What, runner: Runner) -> Vec<String> {
        let path = &self.copy.remote.path;
        match what {
            What::Out(offset) => builder::out_command(path, offset, runner),
            What::In => builder::in_command(
                path,
                self.copy.preserve,
                self.copy.local == Local::Stream,
                runner,
            ),
        }
    }

    /// Execs the copy script in `container`, and waits for its first bytes (an answer, or
    /// the archive) or its end.
    fn try_exec(&self, container: &str, runner: Runner, what: What) -> Result<Tried, RunError> {
        let command = self.command(what, runner);
        let stdin = matches!(what, What::In);
        let client = &self.conn.client;
        let mut ch =
            match Channel::exec(client, self.ns, &self.pod_name, container, &command, stdin) {
                Ok(ch) => ch,
                Err(AttachError::Connect(e)) if e.code() == Some(403) => {
                    return Ok(Tried::Forbidden(e))
                }
                Err(AttachError::Connect(e)) if e.code().is_some() => {
                    return Ok(Tried::Unavailable(e.to_string()))
                }
                Err(e) => return Err(e.into()),
            };
        if stdin && !ch.speaks_v5() {
            ch.close();
            return Ok(Tried::NoHalfClose);
        }
        if ch.first_bytes()? {
            return Ok(Tried::Ran(Box::new(ch)));
        }
        Ok(match ch.outcome() {
            Some(ChannelStatus::ExitCode(c @ (126 | 127))) => {
                Tried::Missing(format!("exit code {c}"))
            }
            Some(ChannelStatus::Failure(m))
                if m.contains("executable file not found")
                    || m.contains("no such file or directory") =>
            {
                Tried::Missing(m)
            }
            // The script ran and failed (a missing path, say): its stderr and code tell.
            _ => Tried::Ran(Box::new(ch)),
        })
    }

    /// A running helper of the target, with the image this copy would use.
    /// In the pod as last read, or (`refresh`) read again.
    pub(super) fn running_helper(
        &mut self,
        refresh: bool,
    ) -> Result<Option<(String, Access)>, RunError> {
        if refresh {
            let path = api::pod_path(self.ns, &self.pod_name);
            self.pod = self.conn.client.get(&path)?;
        }
        let image = self.image();
        let running = |name: &str| {
            self.pod["status"]["ephemeralContainerStatuses"]
                .as_array()
                .is_some_and(|l| {
                    l.iter()
                        .any(|s| s["name"] == name && s["state"]["running"].is_object())
                })
        };
        let found = self.pod["spec"]["ephemeralContainers"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| {
                c["targetContainerName"] == self.target
                    && c["command"][3] == builder::HELPER_MARK
                    && c["image"] == image.as_str()
            })
            .filter_map(|c| {
                let name = c["name"].as_str()?;
                let ptrace = c["securityContext"]["capabilities"]["add"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "SYS_PTRACE"));
                let access = if ptrace {
                    Access::Ptrace
                } else {
                    Access::SameUser(Profile::Baseline)
                };
                running(name).then(|| (name.to_string(), access))
            })
            .next_back();
        Ok(found)
    }

    /// The image a copy container gets.
    fn image(&self) -> String {
        copy_image(self.p).unwrap_or_else(|| builder::DEFAULT_IMAGE.to_string())
    }

    /// Adds a helper and waits until it runs.
    fn new_helper(&mut self) -> Result<(String, Access), RunError> {
        self.new_helpers += 1;
        let idle = self.copy.idle.unwrap_or(builder::HELPER_IDLE_SECS);
        let (name, access) = add_copy_container(
            self.conn,
            self.p,
            self.ns,
            &self.pod,
            self.target,
            &|name| builder::helper_command(idle, &builder::state_dir(name)),
        )?;
        self.p.printer().info(&format!(
            "kdebug: copying through helper container {name} in pod {}/{}: it stays running, idle, for later copies, and ends after {} without one (`kdebug list` shows it, `kdebug gc` stops it)",
            self.ns,
            self.pod_name,
            crate::text::duration::format_go(Duration::from_secs(idle))
        ));
        self.wait_started(&name)?;
        Ok((name, access))
    }

    fn wait_started(&self, name: &str) -> Result<wait::Ready, RunError> {
        let opts = WaitOptions {
            timeout: self.p.timeout,
            quiet: self.p.quiet,
        };
        let client = &self.conn.client;
        Ok(wait::until_started_with(
            client,
            self.ns,
            &self.pod_name,
            name,
            &opts,
            None,
        )?)
    }

    fn start_attached(&mut self, command: Vec<String>) -> Result<Started, RunError> {
        if self.started > 0 {
            let path = api::pod_path(self.ns, &self.pod_name);
            self.pod = self.conn.client.get(&path)?;
        }
        self.started += 1;
        let pod_name = self.pod_name.clone();
        let (name, access) =
            add_copy_container(self.conn, self.p, self.ns, &self.pod, self.target, &|_| {
                command.clone()
            })?;
        self.p.printer().info(&format!(
            "kdebug: copying through ephemeral container {name}; it stays in pod {}/{pod_name}'s spec once it ends (the API cannot remove one; `kdebug list` shows it)",
            self.ns
        ));
        let ready = self.wait_started(&name)?;
        let mut ch = Channel::open(&self.conn.client, self.ns, &pod_name, &name)?;
        ch.send_stdin(builder::GO)?;
        Ok(Started {
            ch,
            how: How::Attached {
                name,
                access,
                watch: ready.watch,
            },
        })
    }
}

/// Makes the idle helper `container` end now (`kdebug gc`): an exec that leaves the stop
/// sign in its state directory; it ends within a second when no copy runs in it.
pub fn stop_helper(
    client: &crate::client::Client,
    ns: &str,
    pod: &str,
    container: &str,
) -> Result<(), RunError> {
    let command = builder::stop_command(&builder::state_dir(container));
    let mut ch = Channel::exec(client, ns, pod, container, &command, false)?;
    ch.drain()?;
    let outcome = ch.outcome();
    ch.close();
    match outcome {
        Some(ChannelStatus::Success) => Ok(()),
        Some(ChannelStatus::ExitCode(n)) => Err(CpError::ExecFailed {
            container: container.to_string(),
            why: format!("exit code {n}"),
        }
        .into()),
        Some(ChannelStatus::Failure(why)) => Err(CpError::ExecFailed {
            container: container.to_string(),
            why: visible(why.as_bytes()),
        }
        .into()),
        None => Err(CpError::NoResult {
            namespace: ns.to_string(),
            pod: pod.to_string(),
        }
        .into()),
    }
}

/// Adds the copy container. Where the namespace's Pod Security level refuses the added
/// capability, it is added again without it, as the target's own user.
fn add_copy_container(
    conn: &Connection,
    p: &Plan,
    ns: &str,
    pod: &serde_json::Value,
    target: &str,
    command: &dyn Fn(&str) -> Vec<String>,
) -> Result<(String, Access), RunError> {
    let pod_name = Meta::read(pod)?.name;
    let path = format!("{}/ephemeralcontainers", api::pod_path(ns, pod_name));
    let mut names = debug::names::generator();
    let name = format!("{}{}", builder::NAME_PREFIX, names());
    let mut access = Access::Ptrace;
    let mut pod = pod.clone();
    let mut conflicts = 0;
    let image = copy_image(p);
    loop {
        let opts = builder::options(CopyContainer {
            name: name.clone(),
            target,
            image: image.as_deref(),
            pull_policy: p.opts.image_pull_policy.as_deref(),
            command: command(&name),
            access,
            mark: Mark {
                target: format!("pod/{pod_name}"),
                created: now_rfc3339(),
            },
        });
        let plan = debug::ephemeral::build(&pod, &opts, &mut names)?;
        p.printer().messages(&plan.messages);
        let sent = conn.client.patch_raw(
            &path,
            debug::ephemeral::PATCH_CONTENT_TYPE,
            plan.patch_body().as_bytes(),
        );
        match sent {
            Ok(_) => return Ok((name, access)),
            Err(e) if e.code() == Some(409) && conflicts < 3 => {
                conflicts += 1;
                pod = conn.client.get(&api::pod_path(ns, pod_name))?;
            }
            Err(e) if access == Access::Ptrace => match pod_security_level(&e) {
                Some(profile) => {
                    p.printer().info(&format!(
                        "kdebug: namespace {ns} enforces Pod Security {:?}, which forbids the SYS_PTRACE capability; copying as container {target}'s own user instead",
                        profile.as_str()
                    ));
                    access = Access::SameUser(profile);
                }
                None => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        }
    }
}

/// `--image`, else `KDEBUG_IMAGE` (else the builder's default).
fn copy_image(p: &Plan) -> Option<String> {
    let flag = p.opts.image.as_deref().filter(|i| !i.is_empty());
    flag.map(str::to_string).or_else(crate::cli::cp::env_image)
}

/// The debug profile that fits a Pod Security refusal (`violates PodSecurity
/// "baseline:latest": ...`), if the error is one.
fn pod_security_level(e: &ApiError) -> Option<Profile> {
    let s = e.status().filter(|s| s.code == 403)?;
    let level = s.message.split("violates PodSecurity \"").nth(1)?;
    match level.split(':').next()? {
        "restricted" => Some(Profile::Restricted),
        "baseline" => Some(Profile::Baseline),
        _ => None,
    }
}
