//! The byte stream under TLS to the API server: a TCP connection, either straight to the
//! server or through a proxy (http CONNECT, TLS to an https proxy and then CONNECT inside it,
//! or a SOCKS5 CONNECT). REST requests (through ureq's TLS hook) and the attach WebSocket
//! both open their tunnels here, so the two cannot drift apart.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use base64::Engine;
use rustls::{ClientConnection, StreamOwned};

use super::proxy::{self, Kind, Proxy};
use super::socks::{self, SocksError};
use super::tls;

/// How long a proxy may take over its part of the handshake.
const PROXY_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection to the API server, possibly inside TLS to an https proxy.
#[derive(Debug)]
pub enum Conn {
    Plain(TcpStream),
    /// The tunnel through an https proxy: our TLS to the server runs inside this one.
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Conn {
    /// The socket underneath, for timeouts (they hold for every layer above it).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(s) => s.get_ref(),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(s) => s.flush(),
        }
    }
}

/// A proxy that failed its part; each names the proxy (its URL without credentials).
#[derive(Debug, Clone)]
pub enum ProxyError {
    Socks(SocksError),
    /// An http(s) proxy answered CONNECT with another status than 200.
    Refused {
        proxy: String,
        target: String,
        status: String,
    },
    /// The proxy closed the connection or answered something that is not HTTP.
    Broken {
        proxy: String,
        target: String,
        what: String,
    },
    /// TLS to an https proxy failed (the reason as for the API server: Go's x509 words).
    Tls {
        proxy: String,
        reason: String,
    },
}

impl fmt::Display for ProxyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProxyError::Socks(e) => e.fmt(f),
            ProxyError::Refused {
                proxy,
                target,
                status,
            } => write!(
                f,
                "proxy {proxy} refused the connection to {target}: {status}"
            ),
            ProxyError::Broken {
                proxy,
                target,
                what,
            } => write!(f, "proxy {proxy} failed to CONNECT to {target}: {what}"),
            ProxyError::Tls { proxy, reason } => write!(f, "proxy {proxy}: {reason}"),
        }
    }
}

impl std::error::Error for ProxyError {}

/// The message of a proxy failure carried inside `e`, if it is one.
pub fn proxy_failure(e: &io::Error) -> Option<ProxyError> {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<ProxyError>())
        .cloned()
}

/// Connects to `host_port` (resolved from /etc/hosts first), trying each address.
pub fn dial(host_port: &str) -> io::Result<TcpStream> {
    let addrs = proxy::resolve(host_port)?;
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        format!("no address for {host_port}"),
    );
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(30)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Opens the tunnel to `target` (`host:port`) on `tcp`, already connected to the proxy.
/// An https proxy is verified like Go's http.Transport does it: with the same TLS settings
/// as the API server (its CA, or the system roots; insecure-skip-tls-verify; and
/// tls-server-name, which Go applies to the proxy too), against the proxy's host name.
pub fn through(p: &Proxy, tcp: TcpStream, target: &str, c: &tls::Connector) -> io::Result<Conn> {
    let old = tcp.read_timeout()?;
    tcp.set_read_timeout(Some(PROXY_TIMEOUT))?;
    let wrap = |e: ProxyError| io::Error::other(e);
    let conn = match p.kind {
        Kind::Socks5 => {
            let (host, port) = split_target(target);
            let mut tcp = tcp;
            socks::handshake(&mut tcp, &p.url, &host, port, p.credentials.as_ref())
                .map_err(|e| wrap(ProxyError::Socks(e)))?;
            Conn::Plain(tcp)
        }
        Kind::Http => {
            let mut tcp = tcp;
            connect(&mut tcp, p, target).map_err(wrap)?;
            Conn::Plain(tcp)
        }
        Kind::Https => {
            let mut s = tls::handshake(c.current(), c.sni(&p.host), tcp).map_err(|e| {
                let reason = match e
                    .get_ref()
                    .and_then(|i| i.downcast_ref::<tls::TlsFailure>())
                {
                    Some(t) => t.to_string(),
                    None => e.to_string(),
                };
                wrap(ProxyError::Tls {
                    proxy: p.url.clone(),
                    reason,
                })
            })?;
            connect(&mut s, p, target).map_err(wrap)?;
            Conn::Tls(Box::new(s))
        }
    };
    conn.tcp().set_read_timeout(old)?;
    Ok(conn)
}

/// `host:port` (IPv6 in brackets) -> host and port.
fn split_target(target: &str) -> (String, u16) {
    match target.rsplit_once(':') {
        Some((h, p)) if !p.contains(']') => (
            h.trim_start_matches('[').trim_end_matches(']').to_string(),
            p.parse().unwrap_or(443),
        ),
        _ => (target.to_string(), 443),
    }
}

/// The CONNECT request, with Proxy-Authorization (basic) when the URL carries credentials,
/// as Go's http.Transport sends it.
pub fn connect_request(target: &str, credentials: Option<&socks::Credentials>) -> String {
    let mut r = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if let Some(c) = credentials {
        let raw = format!("{}:{}", c.user, c.password.expose());
        r.push_str(&format!(
            "Proxy-Authorization: Basic {}\r\n",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ));
    }
    r.push_str("\r\n");
    r
}

/// Whether the status line of a CONNECT answer says the tunnel is open (HTTP/1.x 2xx).
pub fn connect_succeeded(line: &str) -> bool {
    let mut parts = line.split_whitespace();
    let version_ok = parts.next().is_some_and(|v| v.starts_with("HTTP/1."));
    matches!(parts.next(), Some(code) if version_ok && code.len() == 3 && code.starts_with('2'))
}

/// CONNECT on `s`. The answer is read a byte at a time up to its blank line, so nothing of
/// the tunnel (the server's first TLS bytes) is swallowed.
fn connect<S: Read + Write>(s: &mut S, p: &Proxy, target: &str) -> Result<(), ProxyError> {
    let broken = |what: String| ProxyError::Broken {
        proxy: p.url.clone(),
        target: target.to_string(),
        what,
    };
    let io_broken = |e: io::Error| {
        broken(match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                "the proxy did not answer in time".into()
            }
            _ => e.to_string(),
        })
    };
    s.write_all(connect_request(target, p.credentials.as_ref()).as_bytes())
        .and_then(|_| s.flush())
        .map_err(io_broken)?;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && !head.ends_with(b"\n\n") {
        if head.len() > 64 * 1024 {
            return Err(broken("its answer is larger than 64 KiB".into()));
        }
        match s.read(&mut byte) {
            Ok(0) => return Err(broken("the proxy closed the connection".into())),
            Ok(_) => head.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_broken(e)),
        }
    }
    let text = String::from_utf8_lossy(&head);
    let status = text.lines().next().unwrap_or("");
    if connect_succeeded(status) {
        return Ok(());
    }
    Err(ProxyError::Refused {
        proxy: p.url.clone(),
        target: target.to_string(),
        status: status.trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::secret::Secret;

    fn proxy(kind: Kind) -> Proxy {
        Proxy {
            url: "http://p:3128".into(),
            kind,
            host: "p".into(),
            port: 3128,
            credentials: None,
        }
    }

    /// A scripted proxy: reads come from `input`, writes are kept.
    struct Script(io::Cursor<Vec<u8>>, Vec<u8>);

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.0.read(buf)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.1.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn connect_request_with_and_without_credentials() {
        assert_eq!(
            connect_request("api:6443", None),
            "CONNECT api:6443 HTTP/1.1\r\nHost: api:6443\r\n\r\n"
        );
        let c = socks::Credentials {
            user: "ann".into(),
            password: Secret::new("pw".into()),
        };
        assert!(connect_request("api:6443", Some(&c))
            .contains("\r\nProxy-Authorization: Basic YW5uOnB3\r\n\r\n"));
    }

    #[test]
    fn connect_answers() {
        assert!(connect_succeeded("HTTP/1.1 200 Connection established\r\n"));
        assert!(connect_succeeded("HTTP/1.0 200 OK"));
        assert!(!connect_succeeded("HTTP/1.1 403 Forbidden\r\n"));
        assert!(!connect_succeeded("SSH-2.0-OpenSSH"));
    }

    #[test]
    fn connect_leaves_the_tunnel_bytes_unread() {
        let mut s = Script(
            io::Cursor::new(b"HTTP/1.1 200 OK\r\nVia: x\r\n\r\n\x16\x03\x01".to_vec()),
            Vec::new(),
        );
        connect(&mut s, &proxy(Kind::Http), "api:6443").unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"\x16\x03\x01");

        let mut s = Script(
            io::Cursor::new(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n".to_vec()),
            Vec::new(),
        );
        assert_eq!(
            connect(&mut s, &proxy(Kind::Http), "api:6443").unwrap_err().to_string(),
            "proxy http://p:3128 refused the connection to api:6443: HTTP/1.1 407 Proxy Authentication Required"
        );
        let mut s = Script(io::Cursor::new(b"HTTP/1.1 200".to_vec()), Vec::new());
        assert_eq!(
            connect(&mut s, &proxy(Kind::Http), "api:6443")
                .unwrap_err()
                .to_string(),
            "proxy http://p:3128 failed to CONNECT to api:6443: the proxy closed the connection"
        );
    }

    #[test]
    fn targets_split() {
        assert_eq!(split_target("api:6443"), ("api".into(), 6443));
        assert_eq!(split_target("[::1]:443"), ("::1".into(), 443));
    }
}
