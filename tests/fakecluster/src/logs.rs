//! pods/log: what a container process wrote, with follow, timestamps, tailLines, sinceSeconds.

use std::io;
use std::sync::atomic::Ordering;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use serde_json::{json, Value};

use crate::api::Target;
use crate::http::Response;
use crate::kubelet::{self, container_status};
use crate::process::{LogLine, Output};
use crate::server::Ctx;
use crate::status::{self, FieldError, FieldErrorKind};

fn container_names(pod: &Value, list: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{list}"))
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|c| c.get("name").and_then(|n| n.as_str()).map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// Which container a log/attach request means, or the API server's 400.
pub fn pick_container(pod: &Value, requested: Option<&str>) -> Result<String, status::ApiError> {
    let name = pod
        .pointer("/metadata/name")
        .and_then(|n| n.as_str())
        .unwrap_or("");
    match requested {
        Some(c) if !c.is_empty() => {
            if kubelet::find_container(pod, c).is_none() {
                return Err(status::bad_request(&format!(
                    "container {c} is not valid for pod {name}"
                )));
            }
            Ok(c.to_string())
        }
        _ => {
            let regular = container_names(pod, "containers");
            if regular.len() == 1 {
                return Ok(regular[0].clone());
            }
            let mut msg = format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                regular.join(" ")
            );
            let init = container_names(pod, "initContainers");
            if !init.is_empty() {
                msg.push_str(&format!(
                    " or one of the init containers: [{}]",
                    init.join(" ")
                ));
            }
            let eph = container_names(pod, "ephemeralContainers");
            if !eph.is_empty() {
                msg.push_str(&format!(
                    " or one of the ephemeral containers: [{}]",
                    eph.join(" ")
                ));
            }
            Err(status::bad_request(&msg))
        }
    }
}

/// Split log chunks into lines (keeping the newline) with their timestamps.
fn lines(log: &[LogLine]) -> Vec<(i64, u32, Vec<u8>)> {
    let mut out: Vec<(i64, u32, Vec<u8>)> = Vec::new();
    let mut open = false;
    for l in log {
        for piece in l.data.split_inclusive(|&b| b == b'\n') {
            if open {
                if let Some(last) = out.last_mut() {
                    last.2.extend_from_slice(piece);
                }
            } else {
                out.push((l.secs, l.nanos, piece.to_vec()));
            }
            open = !piece.ends_with(b"\n");
        }
    }
    out
}

fn render(lines: &[(i64, u32, Vec<u8>)], timestamps: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for (s, n, data) in lines {
        if timestamps {
            out.extend_from_slice(crate::util::rfc3339_nano(*s, *n).as_bytes());
            out.push(b' ');
        }
        out.extend_from_slice(data);
    }
    out
}

pub fn serve(ctx: &mut Ctx, target: &Target) -> io::Result<bool> {
    let ns = target.ns.clone().unwrap_or_default();
    let name = target.name.clone().unwrap_or_default();
    // R3: the split-streams feature (PodLogsQuerySplitStreams) is off, so any `stream` is
    // refused by ValidatePodLogOptions, before the pod is looked up.
    if ctx.req.q("stream").is_some() {
        let e = status::invalid(
            "PodLogOptions",
            &name,
            &[FieldError::new(
                FieldErrorKind::Forbidden,
                "stream",
                None,
                "may not be specified",
            )],
        );
        return ctx.respond_error(&e);
    }
    let pod = ctx
        .shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get("pods", &ns, &name)
        .cloned();
    let Some(pod) = pod else {
        return ctx.respond_error(&status::not_found("pods", &name));
    };
    let cname = match pick_container(&pod, ctx.req.q("container")) {
        Ok(c) => c,
        Err(e) => return ctx.respond_error(&e),
    };
    if ctx.req.q_bool("previous") {
        return ctx.respond_error(&status::bad_request(&format!(
            "previous terminated container \"{cname}\" in pod \"{name}\" not found"
        )));
    }
    let st = container_status(&pod, &cname);
    let waiting_reason = st
        .as_ref()
        .and_then(|s| s.pointer("/state/waiting/reason"))
        .and_then(|r| r.as_str())
        .map(String::from);
    let proc = kubelet::process_for(ctx.shared, &ns, &name, &cname);
    if proc.is_none() {
        if st.is_none() || waiting_reason.is_some() {
            let reason = waiting_reason.unwrap_or_else(|| "ContainerCreating".into());
            return ctx.respond_error(&status::bad_request(&format!(
                "container \"{cname}\" in pod \"{name}\" is waiting to start: {reason}"
            )));
        }
        // Terminated without a recorded process: empty log.
        return ctx.respond(Response::text(200, "text/plain", Vec::new()));
    }
    let proc = proc.expect("process");
    let timestamps = ctx.req.q_bool("timestamps");
    let follow = ctx.req.q_bool("follow");
    let tail = ctx.req.q("tailLines").and_then(|s| s.parse::<usize>().ok());
    let since = ctx
        .req
        .q("sinceSeconds")
        .and_then(|s| s.parse::<i64>().ok());
    let limit = ctx
        .req
        .q("limitBytes")
        .and_then(|s| s.parse::<usize>().ok());
    let (log, rx) = proc.log_and_subscribe();
    let mut ls = lines(&log);
    if let Some(s) = since {
        let cutoff = crate::util::now_parts().0 - s;
        ls.retain(|(t, _, _)| *t >= cutoff);
    }
    if let Some(t) = tail {
        let skip = ls.len().saturating_sub(t);
        ls.drain(..skip);
    }
    let mut body = render(&ls, timestamps);
    if let Some(l) = limit {
        body.truncate(l);
    }
    if !follow {
        return ctx.respond(Response::text(200, "text/plain", body));
    }
    ctx.entry.insert("follow".into(), json!(true));
    ctx.start_stream(200, "text/plain")?;
    ctx.chunk(&body)?;
    let mut sent = body.len();
    let epoch = ctx.shared.kubelet_epoch.load(Ordering::SeqCst);
    loop {
        if ctx.shared.stopped() {
            break;
        }
        // A kubelet restart ends the follow it carried (R14). How the API server ends the
        // proxied body is a guess, so both ways are played, the seed picking: the body's
        // clean end, or the connection closed without it.
        if ctx.shared.kubelet_epoch.load(Ordering::SeqCst) != epoch {
            if ctx.shared.draw(2) == 0 {
                break;
            }
            ctx.entry
                .insert("fault".into(), json!("kubelet-restart-cut"));
            ctx.conn.stream.shutdown();
            return Ok(false);
        }
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(Output::Data(_, data)) => {
                let mut out = Vec::new();
                if timestamps {
                    let (s, n) = crate::util::now_parts();
                    out.extend_from_slice(crate::util::rfc3339_nano(s, n).as_bytes());
                    out.push(b' ');
                }
                out.extend_from_slice(&data);
                if let Some(l) = limit {
                    out.truncate(l.saturating_sub(sent));
                }
                sent += out.len();
                if ctx.chunk(&out).is_err() {
                    return Ok(false);
                }
                if limit.map(|l| sent >= l).unwrap_or(false) {
                    break;
                }
            }
            Ok(Output::Exit(_)) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                if ctx.peer_closed() {
                    return Ok(false);
                }
            }
        }
    }
    ctx.end_stream()?;
    Ok(true)
}
