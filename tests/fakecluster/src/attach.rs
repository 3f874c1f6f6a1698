//! pods/attach (and pods/exec) over WebSocket: v5.channel.k8s.io, v4.channel.k8s.io and
//! channel.k8s.io; channels 0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize; v5 close frames.

use std::io::{self, Write};
use std::sync::atomic::Ordering;
use std::sync::mpsc::TryRecvError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tungstenite::protocol::{frame::coding::CloseCode, CloseFrame, Role};
use tungstenite::{Message, WebSocket};

use crate::api::Target;
use crate::fault::Fault;
use crate::http::Response;
use crate::kubelet::{self, annotation, container_status, ANN_ATTACH, ANN_STDIN_CLOSE};
use crate::logs::pick_container;
use crate::process::{self, Output, Process, Spec};
use crate::server::Ctx;
use crate::status;

const ANN_PROTOCOLS: &str = "fake.kdebug/protocols";
const PROTOCOLS: &[&str] = &["v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io"];

fn offered(ctx: &Ctx) -> Vec<String> {
    ctx.req
        .header_all("Sec-WebSocket-Protocol")
        .iter()
        .flat_map(|h| h.split(','))
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

fn take_fault(ctx: &Ctx, want: impl Fn(&Fault) -> bool) -> Option<Fault> {
    let target = format!("{}?{}", ctx.req.path, ctx.req.raw_query);
    ctx.shared
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(&target, want)
}

fn attach_refused(pod: &Value) -> bool {
    matches!(annotation(pod, ANN_ATTACH), Some("refuse") | Some("fail"))
        || annotation(pod, "oracle.fake/attach") == Some("fail")
}

pub fn serve(ctx: &mut Ctx, target: &Target, exec: bool) -> io::Result<bool> {
    let ns = target.ns.clone().unwrap_or_default();
    let name = target.name.clone().unwrap_or_default();
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
    let sub = if exec { "exec" } else { "attach" };
    if let Some(e) = crate::exec::forbidden(&pod, &ctx.user.name, sub, &ns, &name) {
        return ctx.respond_error(&e);
    }
    if attach_refused(&pod) {
        let e = status::internal(&format!(
            "fakecluster: attach disabled for this pod (annotation {ANN_ATTACH}=refuse)"
        ));
        return ctx.respond_error(&e);
    }
    if !ctx.req.is_upgrade() {
        return ctx.respond_error(&status::bad_request("Upgrade request required"));
    }
    let websocket = ctx.req.method != "POST"
        && ctx
            .req
            .header("Upgrade")
            .map(|u| u.eq_ignore_ascii_case("websocket"))
            .unwrap_or(false);
    if websocket && take_fault(ctx, |f| matches!(f, Fault::UpgradeNeverAnswers)).is_some() {
        ctx.entry.insert("fault".into(), json!("upgrade-hang"));
        ctx.log_response(0, "", None);
        while !ctx.shared.stopped() && !ctx.peer_closed() {
            std::thread::sleep(Duration::from_millis(50));
        }
        return Ok(false);
    }
    if websocket && take_fault(ctx, |f| matches!(f, Fault::RefuseUpgrade)).is_some() {
        ctx.entry.insert("fault".into(), json!("upgrade-refuse"));
        return ctx.respond_error(&status::bad_request("fakecluster: upgrade refused"));
    }
    // R5: the API server proxies the upgrade to the kubelet, whose GetAttach finds no running
    // container once it has exited (or before it started) and answers with its plain-text
    // error, which the proxy passes on as the failed upgrade. The kubelet writes it through
    // streaming.WriteError: a non-gRPC error is 500 (the 500 is read from that code and
    // kubernetes/kubernetes#38188, not seen in R5). SPDY and WebSocket get the same answer,
    // so kubectl's SPDY fallback prints `unable to upgrade connection: <body>` as in R5.
    //
    // R10: while the container exits, before the kubelet has reported it, the runtime refuses
    // in one of three more wordings, each after a successful upgrade, on the error channel.
    // Which one a refusal gets depends on how far the runtime got; the seed picks it.
    let mut refusal: Option<String> = None;
    let attach_proc = if exec {
        None
    } else {
        match kubelet::process_for(ctx.shared, &ns, &name, &cname) {
            Some(p) if p.exit_code().is_none() => Some(p),
            Some(p) if websocket && !terminated_in_status(&pod, &cname) => {
                match ctx.shared.draw(4) {
                    0 => None,
                    n => {
                        refusal = Some(runtime_refusal(n));
                        Some(p)
                    }
                }
            }
            _ => None,
        }
    };
    if !exec && attach_proc.is_none() {
        return ctx.respond(Response::text(
            500,
            "text/plain; charset=utf-8",
            format!("container {cname} not found in pod {name}_{ns}").into_bytes(),
        ));
    }
    if !websocket {
        return ctx.respond_error(&status::bad_request(
            "fakecluster: only WebSocket upgrades are supported (SPDY is not)",
        ));
    }
    let offers = offered(ctx);
    // `fake.kdebug/protocols: v4.channel.k8s.io` plays an API server older than 1.30, whose
    // kubelet path speaks no v5.
    let allowed: Vec<&str> = match annotation(&pod, ANN_PROTOCOLS) {
        Some(list) => list.split(',').map(str::trim).collect(),
        None => PROTOCOLS.to_vec(),
    };
    let Some(proto) = PROTOCOLS
        .iter()
        .filter(|p| allowed.contains(p))
        .find(|p| offers.iter().any(|o| o == *p))
        .map(|s| s.to_string())
    else {
        return ctx.respond_error(&status::bad_request(&format!(
            "requested protocol(s) are not supported: {offers:?}; supports {PROTOCOLS:?}"
        )));
    };
    let stdin = ctx.req.q_bool("stdin");
    let stdout = ctx.req.q_bool("stdout");
    let stderr = ctx.req.q_bool("stderr");
    let tty = ctx.req.q_bool("tty");
    let mut start_failure = None;
    let proc: Arc<Process> = if exec {
        let mut argv: Vec<String> = ctx
            .req
            .query
            .iter()
            .filter(|(k, _)| k == "command")
            .map(|(_, v)| v.clone())
            .collect();
        if argv.is_empty() {
            return ctx.respond_error(&status::bad_request("you must specify at least 1 command"));
        }
        let st = container_status(&pod, &cname);
        if st
            .as_ref()
            .and_then(|s| s.pointer("/state/running"))
            .is_none()
        {
            return ctx.respond_error(&status::bad_request(&format!(
                "container {cname} is not running"
            )));
        }
        let place = crate::exec::place(ctx.shared, &pod, &ns, &name, &cname);
        if let Err(status) = crate::exec::resolve(&place, &mut argv) {
            // The runtime refuses the exec: nothing runs, the Status says why.
            start_failure = Some(status);
            argv = vec!["true".into()];
        }
        process::spawn(
            Spec {
                argv,
                stdin,
                stdin_once: true,
                tty,
                mode: ctx.shared.opts.container,
                banner: String::new(),
                initial_log: String::new(),
                name: name.clone(),
                target_root: place.target_root,
                image_bin: place.image_bin,
                exec_root: place.exec_root,
            },
            Box::new(|_| {}),
        )
    } else {
        attach_proc.expect("looked up above")
    };
    let Some(key) = ctx.req.header("Sec-WebSocket-Key").map(String::from) else {
        return ctx.respond_error(&status::bad_request("missing Sec-WebSocket-Key"));
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Protocol: {proto}\r\n\r\n"
    );
    ctx.conn.stream.write_all(head.as_bytes())?;
    ctx.conn.stream.flush()?;
    ctx.entry.insert(
        "response".into(),
        json!({"status": 101, "subprotocol": proto}),
    );
    if let Some(message) = refusal {
        refuse_after_upgrade(ctx, &message);
        ctx.entry.insert("fault".into(), json!("r10-refusal"));
        return Ok(false);
    }
    let close_after = match take_fault(ctx, |f| matches!(f, Fault::CloseWebSocketAfter { .. })) {
        Some(Fault::CloseWebSocketAfter { frames }) => Some(frames),
        _ => None,
    };
    let on_stdin_close = match annotation(&pod, ANN_STDIN_CLOSE) {
        Some("ignore") => StdinClose::Ignore,
        Some("close") => StdinClose::CloseStdin,
        _ if exec || tty || proc.stdin_once => StdinClose::CloseStdin,
        // A container without `stdin: true` has no stdin for an attach to end.
        _ if !proc.stdin_enabled => StdinClose::Ignore,
        _ => StdinClose::Detach,
    };
    let session = Session {
        proto: proto.clone(),
        stdin,
        stdout,
        stderr,
        tty,
        exec,
        close_after,
        on_stdin_close,
        start_failure,
    };
    let log = session.run(ctx, &proc);
    let mut ws_log = log;
    ws_log.insert("subprotocol".into(), json!(proto));
    ws_log.insert("container".into(), json!(cname));
    ctx.entry.insert("websocket".into(), Value::Object(ws_log));
    Ok(false)
}

/// R10's three wordings of a refusal after the upgrade (`n` in 1..=3).
fn runtime_refusal(n: u64) -> String {
    let why = match n {
        1 => "failed to load task: no running task found: not found".to_string(),
        2 => format!(
            "failed to load task: no running task found: task {} not found",
            crate::util::rand_hex(32)
        ),
        _ => "container is in CONTAINER_EXITED state".to_string(),
    };
    format!("Internal error occurred: error attaching to container: {why}")
}

/// Whether the pod's status already says the container terminated (the kubelet's relist
/// has seen the exit, R4): from then on every attach gets R5's answer.
fn terminated_in_status(pod: &Value, container: &str) -> bool {
    container_status(pod, container).is_some_and(|s| s.pointer("/state/terminated").is_some())
}

/// R10: one v1 Status on the error channel, then the connection closes.
fn refuse_after_upgrade(ctx: &mut Ctx, message: &str) {
    let leftover = std::mem::take(&mut ctx.conn.buf);
    let mut ws = WebSocket::from_partially_read(&mut ctx.conn.stream, leftover, Role::Server, None);
    let status = json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("Internal error occurred: {message}"),
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500
    });
    let mut frame = vec![3u8];
    frame.extend_from_slice(status.to_string().as_bytes());
    let _ = ws.send(Message::Binary(frame.into()));
    let _ = ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }));
    let _ = ws.flush();
}

struct Session {
    proto: String,
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
    exec: bool,
    close_after: Option<usize>,
    on_stdin_close: StdinClose,
    /// The Status of an exec the runtime refused to start (`exec::resolve`).
    start_failure: Option<Value>,
}

/// What the runtime does when the client says its stdin has ended (the v5 close frame
/// `[255, 0]`; v4 and older have no such signal, so nothing happens there).
///
/// containerd's CRI `ContainerIO.Attach`: when the attach's stdin copy ends, a non-TTY
/// container with `stdinOnce` gets its stdin closed and the output keeps flowing until it
/// exits; otherwise the attach's stdout and stderr are removed from the container's output
/// and the attach ends, the container's stdin staying open (R2: `stdin: true` without
/// `stdinOnce`, as kubectl debug makes it). A TTY takes containerd's second branch as well,
/// but only the non-TTY case was observed (R2), so TTY attaches keep closing the process's
/// stdin as before (a guess kept for the interactive tests). exec closes its process's stdin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StdinClose {
    /// R2: stop forwarding output to this attach at once and end it (status Success).
    Detach,
    /// Close the process's stdin; output continues until it exits (`stdinOnce`, exec, TTY,
    /// or the annotation `fake.kdebug/stdin-close: close`).
    CloseStdin,
    /// Nothing happens (annotation `fake.kdebug/stdin-close: ignore`).
    Ignore,
}

fn is_timeout(e: &tungstenite::Error) -> bool {
    matches!(e, tungstenite::Error::Io(io) if io.kind() == io::ErrorKind::WouldBlock || io.kind() == io::ErrorKind::TimedOut)
}

fn parse_resize(data: &[u8]) -> Option<(u16, u16)> {
    let v: Value = serde_json::from_slice(data).ok()?;
    let o = v.as_object()?;
    let get = |k: &str| {
        o.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .and_then(|(_, v)| v.as_u64())
    };
    Some((get("width")? as u16, get("height")? as u16))
}

impl Session {
    /// The channel output of `stream` (1 stdout, 2 stderr) goes to, if the client wants it.
    fn out_channel(&self, stream: u8) -> Option<u8> {
        let ch = if self.tty || stream == 1 { 1 } else { 2 };
        let wanted = if ch == 1 { self.stdout } else { self.stderr };
        wanted.then_some(ch)
    }

    fn run(&self, ctx: &mut Ctx, proc: &Arc<Process>) -> Map<String, Value> {
        let started = Instant::now();
        let ms = || started.elapsed().as_millis() as u64;
        let mut frames_received: Vec<Value> = Vec::new();
        let mut by_channel: Map<String, Value> = Map::new();
        let mut resizes: Vec<Value> = Vec::new();
        let mut closes: Vec<Value> = Vec::new();
        let mut sent = 0usize;
        let mut ended = "process-exit";
        let mut exit_code: Option<i32> = None;
        let v5 = self.proto.starts_with("v5.");
        let v45 = v5 || self.proto.starts_with("v4.");
        let epoch = ctx.shared.kubelet_epoch.load(Ordering::SeqCst);

        // Exec sees everything its own process wrote; attach only what follows.
        let (backlog, rx) = if self.exec {
            proc.log_and_subscribe()
        } else {
            (Vec::new(), proc.subscribe().0)
        };
        let leftover = std::mem::take(&mut ctx.conn.buf);
        ctx.conn
            .stream
            .set_read_timeout(Some(Duration::from_millis(10)));
        let mut ws =
            WebSocket::from_partially_read(&mut ctx.conn.stream, leftover, Role::Server, None);

        let first = if self.stdout {
            1u8
        } else if self.stderr {
            2
        } else {
            3
        };
        let send = |ws: &mut WebSocket<&mut crate::http::Stream>,
                    ch: u8,
                    data: &[u8],
                    sent: &mut usize|
         -> bool {
            let mut f = Vec::with_capacity(data.len() + 1);
            f.push(ch);
            f.extend_from_slice(data);
            *sent += 1;
            ws.send(Message::Binary(f.into())).is_ok()
        };
        let mut alive = send(&mut ws, first, &[], &mut sent);
        for l in backlog {
            let ch = if self.tty || l.stream == 1 { 1 } else { 2 };
            if alive && (if ch == 1 { self.stdout } else { self.stderr }) {
                alive = send(&mut ws, ch, &l.data, &mut sent);
            }
        }
        let mut fault_hit = false;
        let mut detached = false;
        let mut last_was_stdin = false;
        'session: loop {
            if !alive {
                ended = "client-gone";
                break;
            }
            if self.close_after.map(|n| sent >= n).unwrap_or(false) {
                fault_hit = true;
                ended = "fault-closed";
                break;
            }
            if ctx.shared.stopped() {
                ended = "server-stopped";
                break;
            }
            // A kubelet restart ends the attach it carried, without a status (R14).
            if ctx.shared.kubelet_epoch.load(Ordering::SeqCst) != epoch {
                fault_hit = true;
                ended = "kubelet-restart";
                break;
            }
            // Output of the process.
            loop {
                match rx.try_recv() {
                    Ok(Output::Data(stream, data)) => {
                        if let Some(ch) = self.out_channel(stream) {
                            if !send(&mut ws, ch, &data, &mut sent) {
                                ended = "client-gone";
                                break 'session;
                            }
                        }
                        if self.close_after.map(|n| sent >= n).unwrap_or(false) {
                            continue 'session;
                        }
                    }
                    Ok(Output::Exit(code)) => {
                        exit_code = Some(code);
                        break 'session;
                    }
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        exit_code = proc.exit_code();
                        break 'session;
                    }
                }
            }
            // Frames from the client: all that arrive close together, before any more output
            // is forwarded, so that stdin followed at once by its close signal is handled as
            // on a real node, where the process has not answered through the kubelet and
            // containerd yet when the close arrives (R2). Where the close detaches, a stdin
            // frame waits 50 ms for it (a client's second small write can sit that long in
            // Nagle's algorithm; the node's round trip is a guess of the same order). At
            // most a burst of 64, then the output gets its turn.
            for burst in 0..64 {
                if burst > 0 {
                    let wait = if last_was_stdin && self.on_stdin_close == StdinClose::Detach {
                        50
                    } else {
                        2
                    };
                    ws.get_mut()
                        .set_read_timeout(Some(Duration::from_millis(wait)));
                }
                last_was_stdin = false;
                match ws.read() {
                    Ok(Message::Binary(b)) if !b.is_empty() => {
                        let ch = b[0];
                        let payload = &b[1..];
                        if v5 && ch == 255 && payload.len() == 1 {
                            closes.push(json!({"t_ms": ms(), "channel": payload[0]}));
                            if payload[0] == 0 && self.stdin {
                                match self.on_stdin_close {
                                    StdinClose::CloseStdin => proc.close_stdin(),
                                    StdinClose::Ignore => {}
                                    StdinClose::Detach => {
                                        // containerd takes the attach out of the
                                        // output at once: what is still queued here
                                        // (written while this burst of frames was read,
                                        // so after the signal on a real node) is dropped.
                                        ended = "stdin-closed-detached";
                                        detached = true;
                                        break 'session;
                                    }
                                }
                            }
                            continue;
                        }
                        frames_received.push(json!({"t_ms": ms(), "channel": ch, "data": String::from_utf8_lossy(payload)}));
                        let key = ch.to_string();
                        let prev = by_channel
                            .get(&key)
                            .and_then(|v| v.as_str())
                            .unwrap_or("")
                            .to_string();
                        by_channel.insert(key, json!(prev + &String::from_utf8_lossy(payload)));
                        match ch {
                            0 if self.stdin => {
                                proc.write_stdin(payload);
                                last_was_stdin = true;
                            }
                            4 => {
                                if let Some((w, h)) = parse_resize(payload) {
                                    resizes.push(json!({"t_ms": ms(), "Width": w, "Height": h}));
                                    proc.resize(w, h);
                                } else {
                                    resizes.push(json!({"t_ms": ms(), "invalid": String::from_utf8_lossy(payload)}));
                                }
                            }
                            _ => {}
                        }
                    }
                    Ok(Message::Close(_)) => {
                        ended = "client-closed";
                        break 'session;
                    }
                    Ok(_) => {}
                    Err(e) if is_timeout(&e) => {
                        let _ = ws.flush();
                        break;
                    }
                    Err(_) => {
                        ended = "client-gone";
                        break 'session;
                    }
                }
            }
            ws.get_mut()
                .set_read_timeout(Some(Duration::from_millis(10)));
        }
        if fault_hit {
            drop(ws);
            ctx.conn.stream.shutdown();
        } else if exit_code.is_some() || detached {
            // Status on channel 3, then a normal close. A detached attach ends without error
            // on the kubelet (ServeAttach writes Success), the process still running.
            let status = if !v45 {
                None
            } else if let Some(s) = &self.start_failure {
                Some(s.to_string())
            } else if !self.exec || exit_code == Some(0) {
                Some(json!({"metadata":{},"status":"Success"}).to_string())
            } else {
                let code = exit_code.unwrap_or(1);
                Some(json!({"metadata":{},"status":"Failure","message":format!("command terminated with non-zero exit code: error executing command [{}], exit code {code}", "sh"),"reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":code.to_string()}]}}).to_string())
            };
            if let Some(s) = status {
                send(&mut ws, 3, s.as_bytes(), &mut sent);
            }
            let _ = ws.close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }));
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                match ws.read() {
                    Ok(_) => {}
                    Err(e) if is_timeout(&e) => {
                        let _ = ws.flush();
                    }
                    Err(_) => break,
                }
            }
        } else if ended == "client-closed" {
            let _ = ws.flush();
        }
        if proc.stdin_once && !self.exec {
            proc.close_stdin();
        }
        if self.exec {
            proc.kill();
        }
        let mut m = Map::new();
        m.insert("frames_received".into(), json!(frames_received));
        m.insert("by_channel".into(), Value::Object(by_channel));
        m.insert("resize_events".into(), json!(resizes));
        m.insert("stream_close_signals".into(), json!(closes));
        m.insert("frames_sent".into(), json!(sent));
        m.insert("ended".into(), json!(ended));
        if let Some(c) = exit_code {
            m.insert("exit_code".into(), json!(c));
        }
        m.insert("tty".into(), json!(self.tty));
        m
    }
}
