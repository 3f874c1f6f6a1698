//! The WebSocket upgrade for attach: TCP (through an http proxy's CONNECT when one is set),
//! TLS with the client's configuration, then the RFC 6455 handshake, checked with care
//! (101, Upgrade, Connection, Sec-WebSocket-Accept, and a subprotocol we offered).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::HandshakeError;
use tungstenite::http::HeaderValue;
use tungstenite::WebSocket;

use super::{proxy, tls, ApiError, Client, Status};

/// The byte stream under the WebSocket.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tls::TlsStream>),
}

impl Stream {
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
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
        if e.kind() == io::ErrorKind::ConnectionRefused {
            return ApiError::Refused {
                host: host_port.clone(),
            };
        }
        match e
            .get_ref()
            .and_then(|i| i.downcast_ref::<tls::TlsFailure>())
        {
            Some(t) => ApiError::Transport(t.to_string()),
            None => ApiError::Transport(format!("failed to connect to {host_port}: {e}")),
        }
    };
    let tcp = match client.proxy() {
        Some(p) => connect_via_proxy(p, &host_port).map_err(transport)?,
        None => dial(&host_port).map_err(transport)?,
    };
    tcp.set_nodelay(true).ok();
    // --request-timeout bounds the upgrade too.
    let handshake_timeout = client
        .request_timeout
        .map_or(HANDSHAKE_TIMEOUT, |t| t.min(HANDSHAKE_TIMEOUT));
    tcp.set_read_timeout(Some(handshake_timeout)).ok();
    let stream = if client.is_https() {
        let c = client.connector();
        Stream::Tls(Box::new(
            tls::handshake(c.current(), c.sni(&host), tcp).map_err(transport)?,
        ))
    } else {
        Stream::Plain(tcp)
    };

    let ws_url = url
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    let mut request = ws_url
        .as_str()
        .into_client_request()
        .map_err(|e| ApiError::Transport(format!("invalid attach URL {ws_url}: {e}")))?;
    let h = request.headers_mut();
    let mut set = |k: &str, v: &str| -> Result<(), ApiError> {
        let value = HeaderValue::from_str(v)
            .map_err(|_| ApiError::Transport(format!("invalid value for header {k}")))?;
        let name = tungstenite::http::HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| ApiError::Transport(format!("invalid header name {k}")))?;
        h.append(name, value);
        Ok(())
    };
    // One header with every protocol: several Sec-WebSocket-Protocol headers do not work with
    // the API server. No space after the comma: tungstenite compares the server's choice with
    // the comma-split offer verbatim (the API server trims either way).
    set("Sec-WebSocket-Protocol", &protocols.join(","))?;
    set("User-Agent", &super::user_agent())?;
    for (k, v) in &headers {
        set(k, v)?;
    }
    if client.verbosity() >= 6 {
        eprintln!(
            "I0000 round_trippers.go] GET {url} (websocket upgrade, protocols {})",
            protocols.join(", ")
        );
    }
    let (ws, response) = match tungstenite::client::client_with_config(request, stream, None) {
        Ok(ok) => ok,
        Err(HandshakeError::Interrupted(_)) => {
            return Err(ApiError::Timeout(format!(
                "the server did not answer the attach upgrade within {}",
                crate::cli::duration::format_go(handshake_timeout)
            )))
        }
        Err(HandshakeError::Failure(tungstenite::Error::Http(resp))) => {
            let code = resp.status().as_u16();
            let body = resp.body().clone().unwrap_or_default();
            return Err(ApiError::Status(Box::new(Status::decode(code, &body))));
        }
        Err(HandshakeError::Failure(e)) => {
            return Err(ApiError::Transport(format!(
                "failed to upgrade the attach connection: {e}"
            )))
        }
    };
    let protocol = response
        .headers()
        .get("Sec-WebSocket-Protocol")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    if !protocols.contains(&protocol.as_str()) {
        return Err(ApiError::Transport(format!(
            "the server chose no supported streaming protocol (offered {}, got {:?})",
            protocols.join(", "),
            protocol
        )));
    }
    Ok(Socket { ws, protocol })
}

fn dial(host_port: &str) -> io::Result<TcpStream> {
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

/// Opens a tunnel through an http proxy with CONNECT.
fn connect_via_proxy(p: &proxy::Proxy, target: &str) -> io::Result<TcpStream> {
    let mut tcp = dial(&format!("{}:{}", p.host, p.port))?;
    proxy::tunnel(&mut tcp, target, &p.url)?;
    Ok(tcp)
}
