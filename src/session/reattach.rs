//! `kdebug attach POD [-c CONTAINER] [-i] [-t]`: back into a running debug container.

use std::time::Duration;

use serde_json::Value;

use crate::cli::plan::Plan;
use crate::kube::target::{Kind, Target};
use crate::kube::{self as api, State};

use super::follow::{attach_and_report, final_exit_code};
use super::{Connection, RunError};

pub fn reattach(conn: &Connection, p: &Plan) -> Result<u8, RunError> {
    let [target] = p.targets.as_slice() else {
        return Err(RunError::Other("attach needs exactly one POD".into()));
    };
    let target: &Target = target;
    if target.kind != Kind::Pod {
        return Err(RunError::Other(format!(
            "cannot attach to {target}: only pods have containers"
        )));
    }
    let ns = &conn.namespace;
    let pod = conn.client.get(&api::pod_path(ns, &target.name))?;
    let container = match &p.opts.container {
        Some(c) => c.clone(),
        None => pod
            .pointer("/spec/ephemeralContainers")
            .and_then(Value::as_array)
            .and_then(|a| a.last())
            .or_else(|| pod.pointer("/spec/containers/0"))
            .map(|c| api::str_at(c, &["name"]).to_string())
            .unwrap_or_default(),
    };
    if api::container_spec(&pod, &container).is_none() {
        return Err(RunError::Other(format!(
            "container {container} not found in pod {}",
            target.name
        )));
    }
    match api::state(api::container_status(&pod, &container)) {
        State::Terminated { exit_code, .. } => {
            super::logs::copy(
                &conn.client,
                ns,
                &target.name,
                &container,
                false,
                &mut crate::sys::output::stdout(),
            )?;
            Ok(exit_code as u8)
        }
        _ if !p.opts.stdin => {
            super::logs::copy(
                &conn.client,
                ns,
                &target.name,
                &container,
                true,
                &mut crate::sys::output::stdout(),
            )?;
            final_exit_code(
                &conn.client,
                ns,
                &target.name,
                &container,
                None,
                Duration::from_secs(2),
            )
        }
        _ => attach_and_report(
            conn,
            p.quiet,
            ns,
            &target.name,
            &container,
            p.opts.tty,
            None,
            &pod,
            None,
        ),
    }
}
