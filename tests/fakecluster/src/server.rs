//! Accept loop, per-connection threads, authentication, fault decisions and the request log.

use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::fault::Decision;
use crate::http::{self, Conn, Request, Response, Stream};
use crate::status::{self, ApiError};
use crate::{Shared, User};

pub fn spawn_accept(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> JoinHandle<()> {
    thread::spawn(move || {
        let addr = listener.local_addr().ok();
        let mut listener = listener;
        let mut next_id = 0u64;
        loop {
            let s = listener.accept().map(|(s, _)| s);
            if shared.stopped() {
                break;
            }
            if let Some(back) = restarting(&shared) {
                // A restart (R11): nobody listens until the server is back, so connections
                // are refused, as a real server's port is while its process is down.
                drop(s);
                drop(listener);
                while Instant::now() < back {
                    if shared.stopped() {
                        return;
                    }
                    thread::sleep(Duration::from_millis(20));
                }
                let Some(rebound) = addr.and_then(rebind) else {
                    return;
                };
                listener = rebound;
                continue;
            }
            let Ok(s) = s else { continue };
            next_id += 1;
            let id = next_id;
            if let Ok(clone) = s.try_clone() {
                shared
                    .conns
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((id, clone));
            }
            let shared = shared.clone();
            let tls = tls.clone();
            thread::spawn(move || {
                let _ = s.set_nodelay(true);
                let _ = serve_conn(s, shared.clone(), tls);
                shared
                    .conns
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|(i, _)| *i != id);
            });
        }
    })
}

/// When a restart is under way: the time the server is back.
fn restarting(shared: &Shared) -> Option<Instant> {
    let mut down = shared.down_until.lock().unwrap_or_else(|e| e.into_inner());
    let back = (*down)?;
    *down = None;
    Some(back)
}

/// Listens on the same address again (the old socket may linger for a moment).
fn rebind(addr: std::net::SocketAddr) -> Option<TcpListener> {
    for _ in 0..100 {
        if let Ok(l) = TcpListener::bind(addr) {
            return Some(l);
        }
        thread::sleep(Duration::from_millis(20));
    }
    None
}

fn serve_conn(
    s: TcpStream,
    shared: Arc<Shared>,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> io::Result<()> {
    let stream = match tls {
        Some(cfg) => {
            let conn = rustls::ServerConnection::new(cfg).map_err(io::Error::other)?;
            let mut st = rustls::StreamOwned::new(conn, s);
            // Finish the handshake now so the client certificate is known.
            st.sock.set_read_timeout(Some(Duration::from_secs(10))).ok();
            while st.conn.is_handshaking() {
                st.conn.complete_io(&mut st.sock)?;
            }
            st.sock.set_read_timeout(None).ok();
            Stream::Tls(Box::new(st))
        }
        None => Stream::Plain(s),
    };
    let mut conn = Conn::new(stream);
    loop {
        if shared.stopped() {
            return Ok(());
        }
        let Some(req) = conn.read_request()? else {
            return Ok(());
        };
        let keep = handle_request(&shared, &mut conn, req)?;
        if !keep || shared.stopped() {
            conn.stream.shutdown();
            return Ok(());
        }
    }
}

/// Per-request context handed to the API handlers.
pub struct Ctx<'a> {
    pub shared: &'a Arc<Shared>,
    pub conn: &'a mut Conn,
    pub req: Request,
    pub user: User,
    pub entry: Map<String, Value>,
    pub decision: Decision,
    pub audit_id: String,
    pub keep_alive: bool,
    pub started: Instant,
}

const LOGGED_HEADERS: &[&str] = &[
    "User-Agent",
    "Accept",
    "Content-Type",
    "Authorization",
    "Kubectl-Command",
    "Kubectl-Session",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Protocol",
    "X-Stream-Protocol-Version",
    "Accept-Encoding",
];

fn logged_headers(req: &Request) -> Value {
    let mut m = Map::new();
    for (k, v) in &req.headers {
        let interesting = LOGGED_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(k))
            || k.to_ascii_lowercase().starts_with("impersonate-");
        if !interesting {
            continue;
        }
        let canon = LOGGED_HEADERS
            .iter()
            .find(|h| h.eq_ignore_ascii_case(k))
            .map(|h| h.to_string())
            .unwrap_or_else(|| k.clone());
        let val = if canon == "Authorization" {
            let scheme = v.split(' ').next().unwrap_or("");
            format!("{scheme} <redacted>")
        } else {
            v.clone()
        };
        match m.get_mut(&canon) {
            Some(Value::Array(a)) => a.push(json!(val)),
            Some(prev) => {
                let p = prev.clone();
                *prev = json!([p, val]);
            }
            None => {
                m.insert(canon, json!(val));
            }
        }
    }
    Value::Object(m)
}

fn authenticate(shared: &Shared, conn: &Conn, req: &Request) -> (Option<User>, Value) {
    if let Some(auth) = req.header("Authorization") {
        if let Some(tok) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        {
            let tok = tok.trim();
            if tok == shared.token || shared.extra_tokens.lock().unwrap().iter().any(|t| t == tok) {
                return (
                    Some(User {
                        name: "fake-admin".into(),
                        groups: vec!["system:masters".into(), "system:authenticated".into()],
                        read_only: false,
                    }),
                    json!({"type":"bearer","user":"fake-admin","ok":true}),
                );
            }
            if tok == shared.readonly_token {
                return (
                    Some(User {
                        name: "fake-viewer".into(),
                        groups: vec!["system:authenticated".into()],
                        read_only: true,
                    }),
                    json!({"type":"bearer","user":"fake-viewer","ok":true}),
                );
            }
            return (None, json!({"type":"bearer","ok":false}));
        }
        let scheme = auth.split(' ').next().unwrap_or("").to_string();
        return (None, json!({"type": scheme.to_lowercase(), "ok": false}));
    }
    if let Some(der) = conn.stream.peer_cert() {
        let certs = shared.certs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = certs.iter().find(|c| c.cert_der == der) {
            let mut groups = c.groups.clone();
            groups.push("system:authenticated".into());
            return (
                Some(User {
                    name: c.user.clone(),
                    groups,
                    read_only: false,
                }),
                json!({"type":"client-cert","user":c.user,"ok":true}),
            );
        }
        return (None, json!({"type":"client-cert","ok":false}));
    }
    (None, json!({"type":"none","ok":false}))
}

fn public_path(p: &str) -> bool {
    matches!(p, "/version" | "/healthz" | "/livez" | "/readyz")
}

fn handle_request(shared: &Arc<Shared>, conn: &mut Conn, req: Request) -> io::Result<bool> {
    let started = Instant::now();
    let seq = shared.seq.fetch_add(1, Ordering::SeqCst) + 1;
    let (secs, nanos) = crate::util::now_parts();
    let mut entry = Map::new();
    entry.insert("seq".into(), json!(seq));
    entry.insert("ts".into(), json!((secs as f64) + (nanos as f64) / 1e9));
    entry.insert("method".into(), json!(req.method));
    entry.insert("path".into(), json!(req.path));
    let mut q = Map::new();
    for (k, v) in &req.query {
        q.insert(k.clone(), json!(v));
    }
    entry.insert("query".into(), Value::Object(q));
    entry.insert("raw_query".into(), json!(req.raw_query));
    entry.insert("content_type".into(), json!(req.content_type()));
    entry.insert("headers".into(), logged_headers(&req));
    if !req.body.is_empty() {
        crate::api::log_body(&mut entry, &req);
    }
    let idx = shared.record(Value::Object(entry.clone()));

    let latency = {
        let f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        shared.opts.latency_ms.max(f.latency_ms)
    };
    if latency > 0 {
        thread::sleep(Duration::from_millis(latency));
    }

    let (user, auth) = authenticate(shared, conn, &req);
    entry.insert("auth".into(), auth);
    let target = if req.raw_query.is_empty() {
        req.path.clone()
    } else {
        format!("{}?{}", req.path, req.raw_query)
    };
    let decision = shared
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .decide(&target);
    let keep_alive = req.keep_alive();
    let user = match user {
        Some(u) => Some(u),
        None if public_path(&req.path) && req.header("Authorization").is_none() => Some(User {
            name: "system:anonymous".into(),
            groups: vec!["system:unauthenticated".into()],
            read_only: true,
        }),
        None => None,
    };
    let mut ctx = Ctx {
        shared,
        conn,
        req,
        user: user.clone().unwrap_or(User {
            name: String::new(),
            groups: vec![],
            read_only: true,
        }),
        entry,
        decision,
        audit_id: crate::util::uuid4(),
        keep_alive,
        started,
    };
    let result = if user.is_none() {
        ctx.respond_error(&status::unauthorized())
    } else if let Some((code, retry)) = ctx.decision.status {
        let e = injected_status(code, retry);
        ctx.respond_error(&e)
    } else if ctx.decision.no_such_resource {
        ctx.entry.insert("fault".into(), json!("no-such-resource"));
        ctx.respond_error(&status::page_not_found())
    } else {
        crate::api::route(&mut ctx)
    };
    let keep = match result {
        Ok(k) => k && ctx.keep_alive,
        Err(_) => false,
    };
    ctx.entry.insert(
        "duration_ms".into(),
        json!(ctx.started.elapsed().as_millis() as u64),
    );
    shared.update_record(idx, Value::Object(std::mem::take(&mut ctx.entry)));
    Ok(keep)
}

fn injected_status(code: u16, retry: u64) -> ApiError {
    let mut e = match code {
        429 => status::err(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
            Some(json!({"retryAfterSeconds": retry})),
        ),
        503 => status::err(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
            Some(json!({"retryAfterSeconds": retry})),
        ),
        _ => status::err(
            500,
            "InternalError",
            "Internal error occurred: fakecluster: injected fault",
            Some(json!({"causes":[{"message":"fakecluster: injected fault"}]})),
        ),
    };
    if code == 429 || code == 503 {
        e.headers.push(("Retry-After".into(), retry.to_string()));
    }
    e
}

impl Ctx<'_> {
    pub fn log_response(&mut self, status: u16, content_type: &str, body: Option<&[u8]>) {
        let mut r = Map::new();
        r.insert("status".into(), json!(status));
        if !content_type.is_empty() {
            r.insert("content_type".into(), json!(content_type));
        }
        if let Some(b) = body {
            if status >= 300 {
                match serde_json::from_slice::<Value>(b) {
                    Ok(v) => {
                        r.insert("body".into(), v);
                    }
                    Err(_) => {
                        r.insert("body_text".into(), json!(String::from_utf8_lossy(b)));
                    }
                }
            } else if content_type.starts_with("text/plain") {
                r.insert("body_text".into(), json!(String::from_utf8_lossy(b)));
            }
        }
        self.entry.insert("response".into(), Value::Object(r));
    }

    /// Write a complete response (applying slow-body/garbage faults). Returns keep-alive.
    pub fn respond(&mut self, resp: Response) -> io::Result<bool> {
        let mut resp = resp;
        if self.decision.garbage {
            resp.body = b"\x00\xff\xfegarbage{\"kind\":".to_vec();
            resp.status = 200;
            self.entry.insert("fault".into(), json!("garbage"));
        }
        self.log_response(resp.status, &resp.content_type.clone(), Some(&resp.body));
        // Head and body leave in one write, as from Go's buffered response writer (a client
        // reading the head of a refused upgrade gets the Status body with it).
        let mut head = Vec::new();
        http::write_head(
            &mut head,
            resp.status,
            &resp.content_type,
            &resp.headers,
            Some(resp.body.len()),
            &self.audit_id,
        )?;
        let w: &mut dyn Write = &mut self.conn.stream;
        match self.decision.slow_ms {
            Some(ms) => {
                self.entry.insert("fault".into(), json!("slow-body"));
                w.write_all(&head)?;
                w.flush()?;
                let piece = (resp.body.len() / 4).max(1);
                for c in resp.body.chunks(piece) {
                    thread::sleep(Duration::from_millis(ms));
                    w.write_all(c)?;
                    w.flush()?;
                }
            }
            None => {
                head.extend_from_slice(&resp.body);
                w.write_all(&head)?;
                w.flush()?;
            }
        }
        Ok(true)
    }

    pub fn respond_json(&mut self, status: u16, v: &Value) -> io::Result<bool> {
        self.respond(Response::json(status, v))
    }

    pub fn respond_error(&mut self, e: &ApiError) -> io::Result<bool> {
        self.respond(e.response())
    }

    /// Start a chunked streaming response.
    pub fn start_stream(&mut self, status: u16, content_type: &str) -> io::Result<()> {
        self.log_response(status, content_type, None);
        if let Some(Value::Object(r)) = self.entry.get_mut("response") {
            r.insert("streaming".into(), json!(true));
        }
        http::write_head(
            &mut self.conn.stream,
            status,
            content_type,
            &[],
            None,
            &self.audit_id,
        )?;
        self.conn.stream.flush()
    }

    pub fn chunk(&mut self, data: &[u8]) -> io::Result<()> {
        if let Some(ms) = self.decision.slow_ms {
            thread::sleep(Duration::from_millis(ms));
        }
        http::write_chunk(&mut self.conn.stream, data)
    }

    pub fn end_stream(&mut self) -> io::Result<()> {
        http::end_chunks(&mut self.conn.stream)
    }

    /// True when the peer has closed the connection (non-blocking check).
    pub fn peer_closed(&self) -> bool {
        let tcp = self.conn.stream.tcp();
        if tcp.set_nonblocking(true).is_err() {
            return true;
        }
        let mut b = [0u8; 1];
        let r = tcp.peek(&mut b);
        let _ = tcp.set_nonblocking(false);
        match r {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            Err(_) => true,
        }
    }
}
