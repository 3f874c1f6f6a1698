//! The journeys, each in its own file, each one driver calling small steps: resolve the
//! target ([`targets`]), build the body (pure, in `debug/`), send it, wait for the container
//! ([`wait`]), attach ([`attach`]) or follow its log ([`logs`]), clean up ([`create`]).
//! Targets are processed in order, as kubectl does, or in parallel ([`fanout`]).

pub mod attach;
pub mod copy;
pub mod cp;
pub mod create;
pub mod ephemeral;
pub mod error;
pub mod fanout;
pub mod follow;
pub mod images;
pub mod logs;
pub mod node;
pub mod reattach;
pub mod targets;
pub mod wait;
pub mod workload;

use std::io::Write;
use std::time::SystemTime;

use serde_json::{json, Value};

use crate::cli::plan::{Output, Plan};
use crate::client::Client;
use crate::debug::{DebugOptions, Mark};
use crate::kube::target::Kind;

pub use error::RunError;
pub use reattach::reattach;
pub use targets::{resolve_targets, Pending, Resolved};

/// A client and the namespace to work in.
pub struct Connection {
    pub client: std::sync::Arc<Client>,
    pub namespace: String,
    pub namespace_explicit: bool,
}

/// `kdebug POD...`: every target in order; the exit code is the last one's.
pub fn run(conn: &Connection, p: &Plan) -> Result<u8, RunError> {
    if p.fan_out() {
        let targets = resolve_targets(conn, p)?;
        return fanout::run(conn, p, targets);
    }
    let mut code = 0;
    targets::visit_targets(conn, p, &mut |t| {
        code = debug_one(conn, p, &t, &mut Sink::terminal())?;
        Ok(())
    })?;
    Ok(code)
}

/// Where a run's output goes: the terminal, or (fan-out) a prefixing or per-pod writer.
/// The journey records the debug container's name in it for the fan-out summary.
pub struct Sink<'a> {
    out: Option<&'a mut (dyn Write + Send)>,
    pub container: Option<String>,
}

impl<'a> Sink<'a> {
    pub fn terminal() -> Sink<'a> {
        Sink {
            out: None,
            container: None,
        }
    }

    pub fn captured(out: &'a mut (dyn Write + Send)) -> Sink<'a> {
        Sink {
            out: Some(out),
            container: None,
        }
    }

    fn writer(&mut self) -> Box<dyn Write + '_> {
        match &mut self.out {
            None => Box::new(crate::sys::output::stdout()),
            Some(w) => Box::new(&mut **w),
        }
    }

    fn interactive(&self) -> bool {
        self.out.is_none()
    }
}

fn now_rfc3339() -> String {
    crate::text::time::format(SystemTime::now())
}

fn options_for(p: &Plan, target: &Resolved) -> DebugOptions {
    let mut opts = p.opts.clone();
    // Fan-out makes one copy per pod, so each needs its own name: NAME-POD.
    if let (true, Some(base), Kind::Pod) = (p.fan_out(), &p.opts.copy_to, target.kind) {
        opts.copy_to = Some(format!("{base}-{}", target.name));
    }
    opts.mark = Some(Mark {
        target: target.label.clone(),
        created: now_rfc3339(),
    });
    opts
}

/// Prints a dry-run request: method, path, content type and the body.
fn print_request(p: &Plan, method: &str, path: &str, content_type: &str, body: &Value) {
    let envelope =
        json!({"method": method, "path": path, "contentType": content_type, "body": body});
    let text = match p.output {
        Output::Json => serde_json::to_string_pretty(&envelope).unwrap_or_default() + "\n",
        Output::Yaml => format!("---\n{}", crate::text::emit::to_yaml(&envelope)),
    };
    let _ = crate::sys::output::stdout().write_all(text.as_bytes());
}

/// One target, start to finish. Returns the exit code.
pub fn debug_one(
    conn: &Connection,
    p: &Plan,
    target: &Resolved,
    sink: &mut Sink,
) -> Result<u8, RunError> {
    match (target.kind, p.opts.copy_to.is_some()) {
        (Kind::Node, _) => node::node_journey(conn, p, target, sink),
        (_, true) => copy::copy_journey(conn, p, target, sink),
        _ => ephemeral::ephemeral_journey(conn, p, target, sink),
    }
}
