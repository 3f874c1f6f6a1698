//! The node journey (`node/NAME`): create a pod on the node with the host's namespaces and
//! its root at `/host`, then follow it.

use crate::cli::plan::Plan;
use crate::debug;
use crate::sys::output::print_messages;

use super::create::{create_pod, finish_cleanup};
use super::follow::{follow, Container};
use super::targets::Resolved;
use super::{options_for, Connection, RunError, Sink};

pub fn node_journey(
    conn: &Connection,
    p: &Plan,
    target: &Resolved,
    sink: &mut Sink,
) -> Result<u8, RunError> {
    let ns = conn.namespace.clone();
    let opts = options_for(p, target);
    let mut names = debug::names::generator();
    let plan = debug::node::build(&target.object, &ns, &opts, &mut names)?;
    print_messages(&plan.messages, p.quiet || !sink.interactive());
    let Some(created) = create_pod(conn, p, &ns, &plan.pod)? else {
        return Ok(0);
    };
    sink.container = Some(plan.container_name.clone());
    let result = if p.attach || p.fan_out() {
        let container = &plan.container_name;
        let c = Container {
            ns: &ns,
            pod: &created.name,
            name: container,
        };
        follow(conn, p, c, None, sink, created.early)
    } else {
        Ok(0)
    };
    finish_cleanup(created.cleanup, result)
}
