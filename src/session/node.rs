//! The node journey (`node/NAME`): create a pod on the node with the host's namespaces and
//! its root at `/host`, then follow it.

use crate::cli::plan::Plan;
use crate::debug;

use super::create::{create_pod, finish_cleanup};
use super::follow::{follow, ContainerAddr};
use super::targets::Resolved;
use super::wait::WaitError;
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
    let request = debug::node::build(&target.object, &ns, &opts, &mut names)?;
    p.printer()
        .quiet_if(!sink.interactive())
        .messages(&request.messages);
    let Some(created) = create_pod(conn, p, &ns, &request.pod)? else {
        return Ok(0);
    };
    sink.container = Some(request.container_name.clone());
    let result = if p.attach || p.fan_out() {
        let container = &request.container_name;
        let c = ContainerAddr {
            ns: &ns,
            pod: &created.name,
            name: container,
        };
        follow(conn, p, c, None, sink, created.early)
    } else {
        Ok(0)
    };
    let result = if p.opts.host_shell {
        host_shell_outcome(result, p.printer())
    } else {
        result
    };
    finish_cleanup(created.cleanup, result)
}

const NO_NSENTER: &str = "--host-shell runs nsenter from the image: use an image that has it (busybox, alpine, or one with util-linux)";

/// Says clearly when the image has no `nsenter`: the runtime then cannot start the container
/// (a start error naming nsenter, or exit 128 with StartError), and a missing command behind
/// nsenter exits 127.
fn host_shell_outcome(
    result: Result<u8, RunError>,
    say: crate::sys::output::Printer,
) -> Result<u8, RunError> {
    match result {
        Err(e) if start_failure_names_nsenter(&e) => Err(RunError::Hinted(Box::new(e), NO_NSENTER)),
        Ok(code) => {
            if let Some(hint) = exit_hint(code) {
                say.hint(&hint);
            }
            Ok(code)
        }
        other => other,
    }
}

/// The kubelet's reason for not starting the container (or the last state seen before a
/// timeout) names nsenter.
fn start_failure_names_nsenter(e: &RunError) -> bool {
    match e {
        RunError::Wait(
            WaitError::CannotStart {
                reason, message, ..
            }
            | WaitError::PodFailed {
                reason, message, ..
            },
        ) => reason.contains("nsenter") || message.contains("nsenter"),
        RunError::Wait(WaitError::Timeout { last, .. }) => last.contains("nsenter"),
        _ => false,
    }
}

fn exit_hint(code: u8) -> Option<String> {
    match code {
        127 => Some("exit code 127: a command was not found: nsenter in the image, or the command on the node".into()),
        128 => Some(format!("exit code 128: the container could not start its command; {NO_NSENTER}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_nsenter_is_named() {
        let start = RunError::Wait(WaitError::CannotStart {
            container: "debugger".into(),
            reason: "RunContainerError".into(),
            message: "exec: \"nsenter\": executable file not found in $PATH".into(),
        });
        let e = host_shell_outcome(Err(start), Default::default()).unwrap_err();
        assert_eq!(e.exit_code(), crate::session::error::EXIT_CANNOT_START);
        assert!(
            e.to_string().ends_with(&format!("\nhint: {NO_NSENTER}")),
            "{e}"
        );
        assert!(exit_hint(127).unwrap().contains("nsenter"));
        assert!(exit_hint(0).is_none());
        assert_eq!(host_shell_outcome(Ok(3), Default::default()).unwrap(), 3);
        // Only the kubelet's start failure counts, not any text that happens to say nsenter.
        let other = RunError::Target(crate::session::targets::TargetError::NotAnObject {
            path: "nsenter.yaml".into(),
        });
        assert!(!matches!(
            host_shell_outcome(Err(other), Default::default()),
            Err(RunError::Hinted(..))
        ));
    }
}
