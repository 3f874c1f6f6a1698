//! `kdebug attach POD [-c CONTAINER] [-i] [-t]`: back into a running debug container.

use std::time::Duration;

use crate::cli::plan::Plan;
use crate::kube::target::{Kind, Target};
use crate::kube::{self as api, Pod, State};

use super::follow::{attach_and_report, final_exit_code, Attach, ContainerAddr};
use super::targets::TargetError;
use super::{Connection, RunError};
use crate::sys::output::stdout;

pub fn reattach(conn: &Connection, p: &Plan) -> Result<u8, RunError> {
    let [target] = p.targets.as_slice() else {
        return Err(TargetError::AttachNeedsOnePod.into());
    };
    let target: &Target = target;
    if target.kind != Kind::Pod {
        return Err(TargetError::AttachNotAPod(target.to_string()).into());
    }
    let ns = &conn.namespace;
    let object = conn.client.get(&api::pod_path(ns, &target.name))?;
    let pod = Pod::read(&object)?;
    // Without -c, the container kubectl attach picks (not the newest debug container:
    // `kdebug attach POD -c <TAB>` lists those).
    let container = match &p.opts.container {
        Some(c) => c.clone(),
        None => {
            let (name, note) = api::default_container(&pod).map_err(TargetError::from)?;
            if let Some(note) = note {
                p.printer().info(&note);
            }
            name
        }
    };
    if pod.container(&container).is_none() {
        return Err(TargetError::ContainerNotFound {
            container,
            pod: target.name.clone(),
        }
        .into());
    }
    let c = ContainerAddr {
        ns,
        pod: &target.name,
        name: &container,
    };
    let client = &conn.client;
    match pod.state(&container) {
        State::Terminated { exit_code, .. } => {
            super::logs::show_ended(client, c, 0, &mut stdout())?;
            Ok(c.exit_code(exit_code)? as u8)
        }
        _ if !p.opts.stdin => {
            client.reconnect().open_session();
            super::logs::follow_to_end(client, c, 0, None, &mut stdout())?;
            final_exit_code(client, c, None, Duration::from_secs(2))
        }
        _ => {
            let how = Attach {
                quiet: p.quiet,
                stdin: true,
                tty: p.opts.tty,
                ended: None,
                // Like kubectl attach: only what comes after the attach.
                print_earlier: false,
            };
            attach_and_report(conn, c, &how, &object, None)
        }
    }
}
