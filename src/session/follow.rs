//! After the container was created: wait for it, attach or follow its log, and report its
//! exit code.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cli::plan::Plan;
use crate::client::Client;
use crate::kube::{self as api, State};

use super::attach::{self, frames::Outcome, AttachError, AttachOptions};
use super::wait::{self, WaitOptions};
use super::{Connection, RunError, Sink};

/// Waits for the container, then attaches (with `-i`) or follows its logs from the start
/// (without `-i`, so nothing printed before an attach could start is lost), and returns the
/// container's exit code.
#[allow(clippy::too_many_arguments)]
pub fn follow(
    conn: &Connection,
    p: &Plan,
    ns: &str,
    pod: &str,
    container: &str,
    ended: Option<String>,
    sink: &mut Sink,
    early: Option<wait::EarlyWatch>,
) -> Result<u8, RunError> {
    let client = &conn.client;
    let ready = wait::until_started_with(
        client,
        ns,
        pod,
        container,
        &WaitOptions {
            timeout: p.timeout,
            quiet: p.quiet || !sink.interactive(),
        },
        early,
    )?;
    if let State::Terminated { exit_code, .. } = ready.state {
        super::logs::copy(client, ns, pod, container, false, &mut *sink.writer())?;
        return Ok(exit_code as u8);
    }
    if !p.opts.stdin || !sink.interactive() {
        super::logs::copy(client, ns, pod, container, true, &mut *sink.writer())?;
        return final_exit_code(
            client,
            ns,
            pod,
            container,
            ready.watch,
            Duration::from_secs(10),
        );
    }
    attach_and_report(
        conn,
        p.quiet,
        ns,
        pod,
        container,
        p.opts.tty,
        ended,
        &ready.pod,
        ready.watch,
    )
}

/// Attaches to a running container with stdin; kubectl's TTY rules, messages and fallback.
#[allow(clippy::too_many_arguments)]
pub fn attach_and_report(
    conn: &Connection,
    quiet: bool,
    ns: &str,
    pod: &str,
    container: &str,
    want_tty: bool,
    ended: Option<String>,
    pod_obj: &Value,
    watch: Option<wait::Rest>,
) -> Result<u8, RunError> {
    let client = &conn.client;
    let mut tty = want_tty;
    let container_tty = api::container_spec(pod_obj, container)
        .and_then(|c| c.get("tty"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if tty && !container_tty {
        if !quiet {
            eprintln!("error: Unable to use a TTY - container {container} did not allocate one");
        }
        tty = false;
    } else if !tty && container_tty {
        tty = true;
    }
    if tty && !crate::sys::term::is_terminal(0) {
        if !quiet {
            eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
        }
        tty = false;
    }
    if !quiet {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    let opts = AttachOptions {
        container: container.to_string(),
        stdin: true,
        tty,
    };
    match attach::run(client, ns, pod, &opts) {
        Ok(outcome) => {
            if tty && !quiet {
                if let Some(msg) = ended {
                    println!("{msg}");
                }
            }
            match outcome {
                Outcome::ExitCode(n) => Ok(n),
                Outcome::Failure(msg) => Err(RunError::Other(msg)),
                Outcome::Success => {
                    final_exit_code(client, ns, pod, container, watch, Duration::from_secs(2))
                }
            }
        }
        Err(AttachError::Connect(e)) => {
            eprintln!("warning: couldn't attach to pod/{pod}, falling back to streaming logs: {e}");
            super::logs::copy(
                client,
                ns,
                pod,
                container,
                false,
                &mut crate::sys::output::stdout(),
            )
            .map_err(|le| {
                RunError::Attach(AttachError::Lost(format!(
                    "{e}; and the logs failed too: {le}"
                )))
            })?;
            final_exit_code(client, ns, pod, container, watch, Duration::from_secs(2))
        }
        Err(e) => Err(e.into()),
    }
}

/// The container's exit code once it has terminated; 0 if it is still running after `grace`
/// (the session ended but the process lives on, as after a detach). The watch that saw the
/// container start, when there is one, shows the end too; otherwise (or if it ends first) the
/// pod is read until then.
pub fn final_exit_code(
    client: &Client,
    ns: &str,
    pod: &str,
    container: &str,
    watch: Option<wait::Rest>,
    grace: Duration,
) -> Result<u8, RunError> {
    let start = Instant::now();
    if let Some(code) = watch.and_then(|w| w.exit_code(pod, container, grace)) {
        return Ok(code as u8);
    }
    loop {
        let obj = client.get(&api::pod_path(ns, pod))?;
        if let State::Terminated { exit_code, .. } =
            api::state(api::container_status(&obj, container))
        {
            return Ok(exit_code as u8);
        }
        if start.elapsed() >= grace {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
