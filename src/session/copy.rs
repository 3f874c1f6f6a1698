//! The copy journey (`--copy-to`): create a modified copy of the pod (optionally deleting the
//! original with `--replace`), then follow the debug container in it.

use crate::cli::plan::Plan;
use crate::debug;
use crate::kube::{self as api, Meta, Pod};

use super::create::{create_pod, finish_cleanup};
use super::follow::{follow, ContainerAddr};
use super::targets::Resolved;
use super::{options_for, print_request, Connection, RunError, Sink};

pub fn copy_journey(
    conn: &Connection,
    p: &Plan,
    target: &Resolved,
    sink: &mut Sink,
) -> Result<u8, RunError> {
    let client = &conn.client;
    let original = &target.object;
    let meta = Meta::read(original)?;
    let ns = match meta.namespace {
        "" => conn.namespace.clone(),
        n => n.to_string(),
    };
    let opts = options_for(p, target);
    let mut names = debug::names::generator();
    let request = debug::copy::build(original, &opts, &mut names)?;
    p.printer()
        .quiet_if(!sink.interactive())
        .messages(&request.messages);
    let orig_path = api::pod_path(&ns, meta.name);
    let Some(created) = create_pod(conn, p, &ns, &request.pod)? else {
        if request.delete_original {
            print_request(
                p,
                "DELETE",
                &orig_path,
                "application/json",
                &request.delete_options,
            );
        }
        return Ok(0);
    };
    let copy_name = created.name.clone();
    let result = (|| {
        if request.delete_original {
            client.delete(&orig_path, &request.delete_options)?;
        }
        let Some(container) = request.container_name.clone() else {
            return Ok(0);
        };
        sink.container = Some(container.clone());
        if !p.attach && !p.fan_out() {
            return Ok(0);
        }
        let ended = (Pod::read(&created.pod)?.spec.restart_policy == "Always").then(|| {
            format!("Session ended, resume using 'kdebug attach {copy_name} -c {container} -i -t' command when the pod is running")
        });
        let c = ContainerAddr {
            ns: &ns,
            pod: &copy_name,
            name: &container,
        };
        follow(conn, p, c, ended, sink, created.early)
    })();
    finish_cleanup(created.cleanup, result)
}
