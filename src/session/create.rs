//! The step the copy and node journeys share: create the pod, with its watch opened
//! alongside, and the `--rm` cleanup registered for it.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::cli::plan::Plan;
use crate::client::Client;
use crate::kube::{self as api, Meta};

use super::{print_request, wait, Connection, RunError};

/// A pod this run created, what waits on it, and the cleanup registered for it.
pub struct Created {
    pub name: String,
    pub pod: Value,
    pub early: Option<wait::EarlyWatch>,
    pub cleanup: Option<u64>,
}

/// The step the copy and node journeys share: POST the pod, with the watch opened alongside,
/// and register its deletion for `--rm`. With `--dry-run` it prints the request instead.
pub fn create_pod(
    conn: &Connection,
    p: &Plan,
    ns: &str,
    pod: &Value,
) -> Result<Option<Created>, RunError> {
    let path = api::pods_path(ns);
    if p.dry_run {
        print_request(p, "POST", &path, "application/json", pod);
        return Ok(None);
    }
    let early = open_early(conn, p, ns, pod);
    // In fan-out the per-pod `deleted` lines are left out: they would cut into the prefixed
    // output and the live line, and the summary names every pod. A failed delete still warns.
    let quiet = p.quiet || p.fan_out();
    // Registered before the POST: a signal can come while it is in flight, when the pod may
    // exist and its name not be known from the answer yet (see `Ours`).
    let ours = Arc::new(Mutex::new(Ours::Asked(Meta::read(pod)?.name.to_string())));
    let cleanup =
        p.rm.then(|| remove_on_exit(&conn.client, ns, Arc::clone(&ours), mark_of(pod), quiet));
    let created = match conn.client.post(&path, pod) {
        Ok(created) => created,
        Err(e) => {
            // Nothing of ours was made (a name in use is someone else's pod).
            cleanup.and_then(crate::sys::signals::take);
            return Err(e.into());
        }
    };
    let name = Meta::read(&created)?.name.to_string();
    *ours.lock().unwrap_or_else(|p| p.into_inner()) = Ours::Created(name.clone());
    // The early watch selects by the name we asked for; a server that named the pod
    // otherwise gets a fresh list and watch.
    let early = early.filter(|_| Meta::read(pod).is_ok_and(|m| m.name == name));
    Ok(Some(Created {
        name,
        pod: created,
        early,
        cleanup,
    }))
}

/// Opens the watch on a pod about to be created alongside the POST, when the run will wait
/// for it (see [`wait::EarlyWatch`]).
fn open_early(conn: &Connection, p: &Plan, ns: &str, pod: &Value) -> Option<wait::EarlyWatch> {
    let name = Meta::read(pod).map_or("", |m| m.name);
    (!name.is_empty() && (p.attach || p.fan_out()))
        .then(|| wait::watch_early(&conn.client, ns, name, p.timeout))
}

/// The pod a `--rm` cleanup is for: the name asked for while the POST is in flight (the pod
/// is deleted only if it carries this run's `kdebug.io/created` mark, so a pod of that name
/// made by someone else is never touched), then the pod the server created.
enum Ours {
    Asked(String),
    Created(String),
}

/// This run's creation mark on the pod it sends.
fn mark_of(pod: &Value) -> Option<String> {
    pod.pointer(&format!(
        "/metadata/annotations/{}",
        crate::debug::marks::CREATED_ANNOTATION.replace('/', "~1")
    ))
    .and_then(Value::as_str)
    .map(String::from)
}

/// Registers the deletion of the pod this run creates, to run at the end or on a signal.
fn remove_on_exit(
    client: &Arc<Client>,
    ns: &str,
    ours: Arc<Mutex<Ours>>,
    mark: Option<String>,
    quiet: bool,
) -> u64 {
    let client = Arc::clone(client);
    let ns = ns.to_string();
    crate::sys::signals::on_exit(move || {
        let name = match &*ours.lock().unwrap_or_else(|p| p.into_inner()) {
            Ours::Created(name) => name.clone(),
            Ours::Asked(name) => {
                let found = client.get(&api::pod_path(&ns, name)).ok();
                if found
                    .as_ref()
                    .and_then(mark_of)
                    .is_none_or(|m| Some(m) != mark)
                {
                    return;
                }
                name.clone()
            }
        };
        delete_created(&client, &ns, &name, quiet)
    })
}

fn delete_created(client: &Client, ns: &str, name: &str, quiet: bool) {
    let say = crate::sys::output::Printer {
        quiet,
        data_on_stdout: false,
    };
    match crate::kube::delete_pod(client, ns, name) {
        Ok(_) => say.info(&format!("pod/{name} deleted")),
        Err(e) if e.is_not_found() => {}
        Err(e) => say.warn(&format!(
            "created pod {ns}/{name}, could not delete it: {e}; run `kdebug gc`"
        )),
    }
}

pub fn finish_cleanup(cleanup: Option<u64>, result: Result<u8, RunError>) -> Result<u8, RunError> {
    if let Some(f) = cleanup.and_then(crate::sys::signals::take) {
        f();
    }
    result
}
