//! The ephemeral journey: add a debug container to a running pod with one PATCH of
//! `pods/NAME/ephemeralcontainers`, then follow it.

use crate::cli::plan::Plan;
use crate::client::ApiError;
use crate::debug;
use crate::kube::{self as api, Meta, Pod};

use super::error::SessionError;
use super::follow::{follow, ContainerAddr};
use super::targets::Resolved;
use super::{options_for, print_request, wait, Connection, RunError, Sink};

/// How many times a 409 Conflict on the patch is retried with the pod read again.
const CONFLICT_RETRIES: u32 = 3;

pub fn ephemeral_journey(
    conn: &Connection,
    p: &Plan,
    target: &Resolved,
    sink: &mut Sink,
) -> Result<u8, RunError> {
    let client = &conn.client;
    // Borrowed until a 409 makes the journey read the pod again: a copy per pod was a
    // second pod object alive in every fan-out worker.
    let mut pod = std::borrow::Cow::Borrowed(&target.object);
    let meta = Meta::read(&target.object)?;
    let ns = match meta.namespace {
        "" => conn.namespace.clone(),
        n => n.to_string(),
    };
    let name = meta.name.to_string();
    let opts = options_for(p, target);
    let mut names = debug::names::generator();
    let path = format!("{}/ephemeralcontainers", api::pod_path(&ns, &name));
    let mut early = None;
    let mut attempt = 0;
    let container = loop {
        attempt += 1;
        let request = debug::ephemeral::build(&pod, &opts, &mut names)?;
        p.printer()
            .quiet_if(!sink.interactive())
            .messages(&request.messages);
        if p.dry_run {
            print_request(
                p,
                "PATCH",
                &path,
                debug::ephemeral::PATCH_CONTENT_TYPE,
                &request.patch,
            );
            return Ok(0);
        }
        if early.is_none() && (p.attach || p.fan_out()) {
            early = Some(wait::watch_early(client, &ns, &name, p.timeout));
        }
        match client.patch_raw(
            &path,
            debug::ephemeral::PATCH_CONTENT_TYPE,
            request.patch_body().as_bytes(),
        ) {
            Ok(_) => {
                sink.container = Some(request.container_name.clone());
                break request.container_name;
            }
            // kubectl: a 404 that names no object means the subresource itself is missing.
            // kubectl quotes the server's message (a StatusError's text).
            Err(ApiError::Status(s)) if s.code == 404 && s.details_name.is_empty() => {
                return Err(SessionError::EphemeralDisabled(s.message.clone()).into());
            }
            Err(e) if e.code() == Some(409) && attempt <= CONFLICT_RETRIES => {
                pod = std::borrow::Cow::Owned(client.get(&api::pod_path(&ns, &name))?);
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    };
    if !p.attach && !p.fan_out() {
        return Ok(0);
    }
    let restart_always = Pod::read(&pod)?.spec.restart_policy == "Always";
    let ended = if restart_always {
        Some(format!(
            "Session ended, the ephemeral container will not be restarted but may be reattached using 'kdebug attach {name} -c {container} -i -t' if it is still running"
        ))
    } else {
        None
    };
    let c = ContainerAddr {
        ns: &ns,
        pod: &name,
        name: &container,
    };
    follow(conn, p, c, ended, sink, early)
}
