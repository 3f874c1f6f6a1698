//! Helpers shared by the integration tests: temp dirs, a raw HTTP client, kubectl runner.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

#[allow(unused_imports)]
pub use fakecluster::{ContainerMode, FakeCluster, Fault, Options};

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!(
            "fakecluster-test-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn plain() -> FakeCluster {
    FakeCluster::start(Options {
        tls: false,
        ..Options::default()
    })
    .expect("start")
}

/// One HTTP response.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn header(&self, k: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Read one response (Content-Length or chunked) from a buffered stream.
pub fn read_response<R: BufRead>(r: &mut R) -> std::io::Result<Resp> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l)?;
        let l = l.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let get = |k: &str| {
        headers
            .iter()
            .find(|(h, _): &&(String, String)| h.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let mut body = Vec::new();
    if status == 101 {
        return Ok(Resp {
            status,
            headers,
            body,
        });
    }
    if let Some(n) = get("Content-Length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        r.read_exact(&mut body)?;
    } else if get("Transfer-Encoding").is_some() {
        loop {
            let mut l = String::new();
            r.read_line(&mut l)?;
            let n = usize::from_str_radix(l.trim(), 16).map_err(std::io::Error::other)?;
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk)?;
            body.extend_from_slice(&chunk[..n]);
            if n == 0 {
                break;
            }
        }
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

/// A raw HTTP/1.1 request over plain TCP.
pub fn raw(
    fc: &FakeCluster,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    raw_at(fc.addr(), fc.token(), method, path, headers, body)
}

/// `raw` against any server address (e.g. the fakecluster binary) with a bearer token.
pub fn raw_at(
    addr: std::net::SocketAddr,
    token: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut r = BufReader::new(s);
    read_response(&mut r).expect("response")
}

pub fn get(fc: &FakeCluster, path: &str) -> Resp {
    raw(fc, "GET", path, &[], b"")
}

pub fn patch(fc: &FakeCluster, path: &str, ct: &str, body: &Value) -> Resp {
    raw(
        fc,
        "PATCH",
        path,
        &[("Content-Type", ct)],
        body.to_string().as_bytes(),
    )
}

pub fn post(fc: &FakeCluster, path: &str, body: &Value) -> Resp {
    raw(
        fc,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
}

/// Poll until `f` is true or the timeout passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

pub fn state_of(pod: &Value, container: &str) -> Option<String> {
    for k in [
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
    ] {
        for s in pod["status"][k].as_array().into_iter().flatten() {
            if s["name"] == container {
                return s["state"]
                    .as_object()
                    .and_then(|m| m.keys().next().cloned());
            }
        }
    }
    None
}

/// The versioned kubectl binaries present on this machine.
pub fn kubectls() -> Vec<PathBuf> {
    ["kubectl.1.32", "kubectl.1.33"]
        .iter()
        .map(|n| Path::new("/usr/lib/google-cloud-sdk/bin").join(n))
        .filter(|p| p.exists())
        .collect()
}

pub fn kubectl() -> Option<PathBuf> {
    let k = kubectls().into_iter().next();
    if k.is_none() {
        fakecluster::kubectl_missing("a versioned kubectl in /usr/lib/google-cloud-sdk/bin");
    }
    k
}

/// A cluster plus a kubeconfig and HOME for running kubectl against it.
pub struct Kube {
    pub fc: FakeCluster,
    pub dir: TempDir,
    pub kubectl: PathBuf,
}

#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Kube {
    pub fn new(kubectl: PathBuf, opts: Options) -> Kube {
        let fc = FakeCluster::start(opts).expect("start");
        let dir = TempDir::new("kube");
        fc.write_kubeconfig(&dir.path().join("kubeconfig")).unwrap();
        Kube { fc, dir, kubectl }
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.kubectl);
        c.arg("--kubeconfig")
            .arg(self.kubeconfig())
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG")
            .env("KUBECTL_COMMAND_HEADERS", "true");
        c
    }

    /// Run kubectl with `stdin` piped in (or /dev/null), killing it after `timeout`.
    pub fn run_with(&self, args: &[&str], stdin: Option<&str>, timeout: Duration) -> Run {
        self.run_holding_stdin(args, stdin, Duration::ZERO, timeout)
    }

    /// As `run_with`, keeping stdin open for `hold` after writing it (`(printf ...; sleep
    /// N) | kubectl ...`).
    pub fn run_holding_stdin(
        &self,
        args: &[&str],
        stdin: Option<&str>,
        hold: Duration,
        timeout: Duration,
    ) -> Run {
        let mut c = self.command(args);
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = c.spawn().expect("spawn kubectl");
        if let Some(input) = stdin {
            let mut w = child.stdin.take().unwrap();
            let input = input.to_string();
            std::thread::spawn(move || {
                let _ = w.write_all(input.as_bytes());
                std::thread::sleep(hold);
            });
        }
        let mut out = child.stdout.take().unwrap();
        let mut err = child.stderr.take().unwrap();
        let to = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = out.read_to_string(&mut s);
            s
        });
        let te = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        let end = Instant::now() + timeout;
        let code = loop {
            if let Some(st) = child.try_wait().unwrap() {
                break st.code();
            }
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Run {
            code,
            stdout: to.join().unwrap(),
            stderr: te.join().unwrap(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, Duration::from_secs(30))
    }
}

/// An open watch (or any chunked stream) read event by event.
pub struct Stream {
    pub status: u16,
    r: BufReader<TcpStream>,
    buf: Vec<u8>,
    pub ended: bool,
}

impl Stream {
    pub fn open(fc: &FakeCluster, path: &str) -> Stream {
        Stream::open_at(fc.addr(), fc.token(), path, Duration::from_secs(10))
    }

    /// `open` against any server address with a bearer token and a read timeout.
    pub fn open_at(
        addr: std::net::SocketAddr,
        token: &str,
        path: &str,
        read_timeout: Duration,
    ) -> Stream {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(read_timeout)).unwrap();
        let mut w = s.try_clone().unwrap();
        write!(
            w,
            "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        loop {
            let mut l = String::new();
            r.read_line(&mut l).unwrap();
            if l.trim().is_empty() {
                break;
            }
        }
        Stream {
            status,
            r,
            buf: Vec::new(),
            ended: false,
        }
    }

    fn read_chunk(&mut self) -> bool {
        let mut l = String::new();
        if self.r.read_line(&mut l).unwrap_or(0) == 0 {
            self.ended = true;
            return false;
        }
        let n = usize::from_str_radix(l.trim(), 16).expect("chunk size");
        let mut chunk = vec![0; n + 2];
        self.r.read_exact(&mut chunk).unwrap();
        if n == 0 {
            self.ended = true;
            return false;
        }
        self.buf.extend_from_slice(&chunk[..n]);
        true
    }

    /// The next newline-terminated JSON event, None at the end of the stream.
    pub fn next_event(&mut self) -> Option<Value> {
        loop {
            if let Some(p) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=p).collect();
                return Some(serde_json::from_slice(&line).expect("event JSON"));
            }
            if self.ended || !self.read_chunk() {
                return None;
            }
        }
    }

    /// Everything until the end of the stream, as text.
    pub fn rest(&mut self) -> String {
        while !self.ended && self.read_chunk() {}
        String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned()
    }
}

/// A WebSocket attach/exec client (plain ws://).
#[allow(clippy::result_large_err)]
pub fn ws_connect(
    fc: &FakeCluster,
    path_and_query: &str,
    protocols: &str,
) -> Result<(tungstenite::WebSocket<TcpStream>, String), tungstenite::Error> {
    ws_connect_at(fc.addr(), fc.token(), path_and_query, protocols)
}

/// `ws_connect` against any server address with a bearer token.
#[allow(clippy::result_large_err)]
pub fn ws_connect_at(
    addr: std::net::SocketAddr,
    token: &str,
    path_and_query: &str,
    protocols: &str,
) -> Result<(tungstenite::WebSocket<TcpStream>, String), tungstenite::Error> {
    use tungstenite::client::IntoClientRequest;
    let url = format!("ws://{addr}{path_and_query}");
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let (ws, resp) = tungstenite::client::client(req, s).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => {
            tungstenite::Error::Io(std::io::ErrorKind::WouldBlock.into())
        }
    })?;
    let proto = resp
        .headers()
        .get("Sec-WebSocket-Protocol")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    Ok((ws, proto))
}

/// Read binary frames until the connection closes: (channel, payload) in order.
pub fn ws_drain(ws: &mut tungstenite::WebSocket<TcpStream>) -> (Vec<(u8, Vec<u8>)>, bool) {
    let mut frames = Vec::new();
    let mut clean_close = false;
    loop {
        match ws.read() {
            Ok(tungstenite::Message::Binary(b)) => {
                frames.push((b[0], b[1..].to_vec()));
            }
            Ok(tungstenite::Message::Close(_)) => {
                clean_close = true;
            }
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(_) => break,
        }
    }
    (frames, clean_close)
}
