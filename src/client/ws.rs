//! The WebSocket upgrade for attach: TCP (through the proxy's tunnel when one is set, dial.rs),
//! TLS with the client's configuration, then the RFC 6455 handshake, checked with care
//! (101, Upgrade, Connection, Sec-WebSocket-Accept, and a subprotocol we offered). The
//! handshake is written here rather than taken from tungstenite (its `handshake` feature
//! brings the `http` crate and 30 kB of code to a binary that must stay under 3 MiB); the
//! frames after it are tungstenite's.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use tungstenite::protocol::Role;
use tungstenite::WebSocket;

use super::error::{Step, Transport, Upgrade};
use super::{dial, proxy, tls, ApiError, Client, Loss, Status};

/// The byte stream under the WebSocket.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tls::TlsStream>),
}

impl Stream {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().tcp(),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

pub struct Socket {
    pub ws: WebSocket<Stream>,
    /// The subprotocol the server chose.
    pub protocol: String,
}

/// How long the server may take to answer the upgrade before we give up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) fn connect(
    client: &Client,
    url: &str,
    protocols: &[&str],
    headers: Vec<(String, String)>,
) -> Result<Socket, ApiError> {
    let host_port = proxy::host_port_of(url);
    let host = proxy::host_of(url);
    let transport = |e: io::Error| -> ApiError {
        if let Some(p) = dial::proxy_failure(&e) {
            return ApiError::Transport(Transport::Proxy(p));
        }
        if e.kind() == io::ErrorKind::ConnectionRefused {
            return client.refused(host_port.clone());
        }
        if let Some(loss) = Loss::of(&e) {
            return ApiError::Dropped {
                host: host_port.clone(),
                loss,
            };
        }
        match e
            .get_ref()
            .and_then(|i| i.downcast_ref::<tls::TlsFailure>())
        {
            Some(t) => ApiError::Transport(Transport::Tls(t.clone())),
            None => ApiError::Transport(Transport::Io {
                step: Step::Connect,
                host: host_port.clone(),
                kind: e.kind(),
            }),
        }
    };
    let first_hop = client
        .proxy()
        .map_or_else(|| host_port.clone(), |p| p.addr());
    let tcp = dial::dial(&first_hop).map_err(transport)?;
    tcp.set_nodelay(true).ok();
    // --request-timeout bounds the upgrade too.
    let handshake_timeout = client
        .request_timeout
        .map_or(HANDSHAKE_TIMEOUT, |t| t.min(HANDSHAKE_TIMEOUT));
    tcp.set_read_timeout(Some(handshake_timeout)).ok();
    let c = client.connector();
    let stream = match client.proxy() {
        // Client::new allows a proxy only for https servers.
        Some(p) => {
            let conn = dial::through(p, tcp, &host_port, c).map_err(transport)?;
            Stream::Tls(Box::new(
                tls::handshake(c.current(), c.sni(&host), conn).map_err(transport)?,
            ))
        }
        None if client.is_https() => Stream::Tls(Box::new(
            tls::handshake(c.current(), c.sni(&host), dial::Conn::Plain(tcp)).map_err(transport)?,
        )),
        None => Stream::Plain(tcp),
    };

    let mut request_headers = vec![("User-Agent".to_string(), super::user_agent())];
    request_headers.extend(headers);
    for (k, v) in &request_headers {
        if k.is_empty() || !k.bytes().all(|b| b.is_ascii_graphic() && b != b':') {
            return Err(ApiError::Transport(Transport::BadHeader {
                name: k.clone(),
                value: false,
            }));
        }
        if !v.bytes().all(|b| b == b'\t' || (b >= 0x20 && b != 0x7f)) {
            return Err(ApiError::Transport(Transport::BadHeader {
                name: k.clone(),
                value: true,
            }));
        }
    }
    if client.verbosity() >= 6 {
        crate::sys::output::trace(&format!(
            "I0000 round_trippers.go] GET {url} (websocket upgrade, protocols {})",
            protocols.join(", ")
        ));
    }
    let mut stream = stream;
    let timed_out = || {
        ApiError::Timeout(format!(
            "the server did not answer the attach upgrade within {}",
            crate::text::duration::format_go(handshake_timeout)
        ))
    };
    let failed = |e: io::Error| {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        ) {
            timed_out()
        } else if let Some(loss) = Loss::of(&e) {
            ApiError::Dropped {
                host: proxy::host_port_of(url),
                loss,
            }
        } else {
            ApiError::Transport(Transport::Io {
                step: Step::Upgrade,
                host: proxy::host_port_of(url),
                kind: e.kind(),
            })
        }
    };
    let key = new_key();
    // One header with every protocol: several Sec-WebSocket-Protocol headers do not work with
    // the API server.
    let request = upgrade_request(url, &key, &protocols.join(","), &request_headers);
    stream
        .write_all(request.as_bytes())
        .and_then(|_| stream.flush())
        .map_err(failed)?;
    let (head, mut rest) = read_head(&mut stream).map_err(failed)?;
    let response =
        parse_head(&head).ok_or(ApiError::Transport(Transport::Upgrade(Upgrade::Malformed)))?;
    if response.status != 101 {
        // The body says why (a Status); read as much of it as the server declared.
        if let Some(len) = response
            .header("Content-Length")
            .and_then(|l| l.parse().ok())
        {
            let len: usize = std::cmp::min(len, 1 << 20);
            let mut buf = [0u8; 8192];
            while rest.len() < len {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => rest.extend_from_slice(&buf[..n]),
                }
            }
            rest.truncate(len);
        }
        return Err(ApiError::Status(Box::new(Status::decode(
            response.status,
            &rest,
        ))));
    }
    let check = |ok: bool, what: &'static str| {
        if ok {
            Ok(())
        } else {
            Err(ApiError::Transport(Transport::Upgrade(Upgrade::Header(
                what,
            ))))
        }
    };
    check(
        response
            .header("Upgrade")
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket")),
        "no \"Upgrade: websocket\" header in the server's answer",
    )?;
    check(
        response.header("Connection").is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
        }),
        "no \"Connection: Upgrade\" header in the server's answer",
    )?;
    check(
        response.header("Sec-WebSocket-Accept") == Some(accept_key(&key).as_str()),
        "Sec-WebSocket-Accept does not match the key sent",
    )?;
    let protocol = response
        .header("Sec-WebSocket-Protocol")
        .unwrap_or("")
        .to_string();
    if !protocols.contains(&protocol.as_str()) {
        return Err(ApiError::Transport(Transport::Upgrade(Upgrade::Protocol {
            offered: protocols.join(", "),
            got: protocol,
        })));
    }
    let ws = WebSocket::from_partially_read(stream, rest, Role::Client, None);
    Ok(Socket { ws, protocol })
}

/// A fresh Sec-WebSocket-Key: 16 random bytes, base64.
fn new_key() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        // The key only guards against caches that do not know WebSocket; it is not a secret.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos ^ u128::from(std::process::id())).to_le_bytes();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The Sec-WebSocket-Accept a server must answer `key` with (RFC 6455 section 4.2.2).
fn accept_key(key: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY);
    ctx.update(key.as_bytes());
    ctx.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(ctx.finish())
}

/// The upgrade request for `url` (http, https, ws or wss), headers already checked.
fn upgrade_request(url: &str, key: &str, protocols: &str, headers: &[(String, String)]) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
        Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
        None => (rest, "/".to_string()),
    };
    let mut r = format!(
        "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Protocol: {protocols}\r\n"
    );
    for (k, v) in headers {
        r.push_str(k);
        r.push_str(": ");
        r.push_str(v);
        r.push_str("\r\n");
    }
    r.push_str("\r\n");
    r
}

/// Reads the response head (up to the blank line, at most 64 KiB); returns it and the bytes
/// read past it.
fn read_head(stream: &mut impl Read) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Ok((buf, rest));
        }
        if buf.len() > 64 * 1024 {
            return Err(io::Error::other("the response head is larger than 64 KiB"));
        }
        match stream.read(&mut chunk)? {
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the server closed the connection before answering",
                ))
            }
            n => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

struct Head {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn parse_head(head: &[u8]) -> Option<Head> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let status = parts.next()?.parse().ok()?;
    let headers = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Some(Head { status, headers })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_key_is_rfc_6455s() {
        // The example of RFC 6455 section 1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(new_key().len(), 24);
    }

    #[test]
    fn request_has_path_query_and_host() {
        let r = upgrade_request(
            "https://10.0.0.1:6443/k8s/api/v1/namespaces/d/pods/p/attach?container=c&stdin=true",
            "KEY",
            "v5.channel.k8s.io,v4.channel.k8s.io",
            &[("Authorization".into(), "Bearer t".into())],
        );
        assert!(r.starts_with(
            "GET /k8s/api/v1/namespaces/d/pods/p/attach?container=c&stdin=true HTTP/1.1\r\nHost: 10.0.0.1:6443\r\n"
        ));
        assert!(r.contains("\r\nSec-WebSocket-Protocol: v5.channel.k8s.io,v4.channel.k8s.io\r\n"));
        assert!(r.ends_with("\r\nAuthorization: Bearer t\r\n\r\n"));
    }

    #[test]
    fn head_is_parsed_and_the_rest_kept() {
        let mut input: &[u8] =
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nconnection: Upgrade\r\n\r\n\x82\x01";
        let (head, rest) = read_head(&mut input).unwrap();
        assert_eq!(rest, b"\x82\x01");
        let h = parse_head(&head).unwrap();
        assert_eq!(h.status, 101);
        assert_eq!(h.header("Connection"), Some("Upgrade"));
        assert!(parse_head(b"garbage\r\n\r\n").is_none());
    }
}
