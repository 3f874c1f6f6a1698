//! The SOCKS5 client handshake (RFC 1928) with username/password authentication (RFC 1929),
//! as kubectl's dialer (golang.org/x/net/proxy) speaks it: the target's host name goes to the
//! proxy as it is (ATYP domain), so the name is resolved on the far side of a jump host.
//! Message building and reply decoding are pure; `handshake` only moves the bytes.

use std::fmt;
use std::io::{self, Read, Write};

use crate::sys::secret::Secret;

const VERSION: u8 = 5;
const NO_AUTH: u8 = 0x00;
const USER_PASS: u8 = 0x02;
const NO_ACCEPTABLE: u8 = 0xff;
const CONNECT: u8 = 0x01;
const ATYP_V4: u8 = 0x01;
const ATYP_DOMAIN: u8 = 0x03;
const ATYP_V6: u8 = 0x04;

/// What went wrong between us and a SOCKS5 proxy. `proxy` is the proxy URL without its
/// credentials; `target` is the `host:port` we asked it to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocksError {
    /// The proxy answered the CONNECT with a failure reply code.
    Refused {
        proxy: String,
        target: String,
        code: u8,
    },
    /// The proxy wants a username and password and the URL has none, or it accepts no
    /// method we offered.
    NoMethod {
        proxy: String,
        have_credentials: bool,
    },
    /// The proxy rejected the username and password (RFC 1929 status).
    BadCredentials { proxy: String, status: u8 },
    /// The proxy closed the connection or sent something that is not SOCKS5.
    Broken {
        proxy: String,
        target: String,
        what: String,
    },
    /// A name or credential too long for the protocol's one-byte lengths.
    TooLong { proxy: String, what: &'static str },
}

/// The text of a SOCKS5 reply code (RFC 1928 section 6).
pub fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused by destination host",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown SOCKS reply",
    }
}

impl fmt::Display for SocksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocksError::Refused {
                proxy,
                target,
                code,
            } => write!(
                f,
                "proxy {proxy} refused the connection to {target}: {} (SOCKS reply {code})",
                reply_text(*code)
            ),
            SocksError::NoMethod {
                proxy,
                have_credentials: false,
            } => write!(
                f,
                "proxy {proxy} requires authentication: put the username and password in the proxy URL (socks5://USER:PASSWORD@HOST:PORT)"
            ),
            SocksError::NoMethod { proxy, .. } => write!(
                f,
                "proxy {proxy} accepts neither username/password nor no authentication"
            ),
            SocksError::BadCredentials { proxy, status } => write!(
                f,
                "proxy {proxy} rejected the username and password (SOCKS status {status})"
            ),
            SocksError::Broken {
                proxy,
                target,
                what,
            } => write!(
                f,
                "proxy {proxy} failed the SOCKS5 handshake for {target}: {what}"
            ),
            SocksError::TooLong { proxy, what } => write!(
                f,
                "proxy {proxy}: the {what} is longer than SOCKS5 allows (255 bytes)"
            ),
        }
    }
}

impl std::error::Error for SocksError {}

/// Username and password from a proxy URL (RFC 1929 for SOCKS5, basic auth for CONNECT).
#[derive(Clone, Debug, PartialEq)]
pub struct Credentials {
    pub user: String,
    pub password: Secret<String>,
}

/// The greeting: the methods we offer. Like Go's dialer, username/password is offered only
/// when there are credentials, and "no authentication" always.
pub fn greeting(with_credentials: bool) -> Vec<u8> {
    if with_credentials {
        vec![VERSION, 2, NO_AUTH, USER_PASS]
    } else {
        vec![VERSION, 1, NO_AUTH]
    }
}

/// The RFC 1929 sub-negotiation request; None when a field is over 255 bytes or empty.
pub fn auth_request(c: &Credentials) -> Option<Vec<u8>> {
    let (u, p) = (c.user.as_bytes(), c.password.expose().as_bytes());
    if u.is_empty() || u.len() > 255 || p.len() > 255 {
        return None;
    }
    let mut m = Vec::with_capacity(3 + u.len() + p.len());
    m.push(1);
    m.push(u.len() as u8);
    m.extend_from_slice(u);
    m.push(p.len() as u8);
    m.extend_from_slice(p);
    Some(m)
}

/// The CONNECT request. An IP address literal goes as ATYP 1 or 4, anything else as a
/// domain name (ATYP 3), unresolved. None when the name is over 255 bytes.
pub fn connect_request(host: &str, port: u16) -> Option<Vec<u8>> {
    let mut m = vec![VERSION, CONNECT, 0];
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            m.push(ATYP_V4);
            m.extend_from_slice(&ip.octets());
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            m.push(ATYP_V6);
            m.extend_from_slice(&ip.octets());
        }
        Err(_) => {
            if host.is_empty() || host.len() > 255 {
                return None;
            }
            m.push(ATYP_DOMAIN);
            m.push(host.len() as u8);
            m.extend_from_slice(host.as_bytes());
        }
    }
    m.extend_from_slice(&port.to_be_bytes());
    Some(m)
}

/// How many more bytes the CONNECT reply has after its first 5 (VER REP RSV ATYP and the
/// first address byte): the rest of the bound address and the port. None for an unknown ATYP.
pub fn reply_rest_len(head: &[u8; 5]) -> Option<usize> {
    match head[3] {
        ATYP_V4 => Some(4 - 1 + 2),
        ATYP_V6 => Some(16 - 1 + 2),
        ATYP_DOMAIN => Some(head[4] as usize + 2),
        _ => None,
    }
}

/// Runs the client side of the handshake on `s` (already connected to the proxy). On
/// success the stream is a tunnel to `host:port`, nothing read past the proxy's reply.
pub fn handshake<S: Read + Write>(
    s: &mut S,
    proxy: &str,
    host: &str,
    port: u16,
    credentials: Option<&Credentials>,
) -> Result<(), SocksError> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let broken = |what: String| SocksError::Broken {
        proxy: proxy.to_string(),
        target: target.clone(),
        what,
    };
    let io_broken = |e: io::Error| {
        broken(match e.kind() {
            io::ErrorKind::UnexpectedEof => "the proxy closed the connection".to_string(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                "the proxy did not answer in time".to_string()
            }
            _ => e.to_string(),
        })
    };
    let too_long = |what| SocksError::TooLong {
        proxy: proxy.to_string(),
        what,
    };
    // Checked before anything is sent, so a bad URL never half-opens a session.
    let auth = credentials
        .map(|c| auth_request(c).ok_or_else(|| too_long("username or password")))
        .transpose()?;
    let connect = connect_request(host, port).ok_or_else(|| too_long("host name"))?;

    s.write_all(&greeting(credentials.is_some()))
        .map_err(io_broken)?;
    let mut choice = [0u8; 2];
    s.read_exact(&mut choice).map_err(io_broken)?;
    if choice[0] != VERSION {
        return Err(broken(format!(
            "it answered with version {} (is it a SOCKS5 proxy?)",
            choice[0]
        )));
    }
    match (choice[1], &auth) {
        (NO_AUTH, _) => {}
        (USER_PASS, Some(req)) => {
            s.write_all(req).map_err(io_broken)?;
            let mut status = [0u8; 2];
            s.read_exact(&mut status).map_err(io_broken)?;
            if status[1] != 0 {
                return Err(SocksError::BadCredentials {
                    proxy: proxy.to_string(),
                    status: status[1],
                });
            }
        }
        (NO_ACCEPTABLE | USER_PASS, _) => {
            return Err(SocksError::NoMethod {
                proxy: proxy.to_string(),
                have_credentials: credentials.is_some(),
            })
        }
        (other, _) => {
            return Err(broken(format!(
                "it chose authentication method {other}, which was not offered"
            )))
        }
    }
    s.write_all(&connect).map_err(io_broken)?;
    // The reply code first: a proxy may close right after a failure reply.
    let mut head = [0u8; 5];
    s.read_exact(&mut head[..2]).map_err(io_broken)?;
    if head[0] != VERSION {
        return Err(broken(format!("its reply has version {}", head[0])));
    }
    if head[1] != 0 {
        return Err(SocksError::Refused {
            proxy: proxy.to_string(),
            target,
            code: head[1],
        });
    }
    s.read_exact(&mut head[2..]).map_err(io_broken)?;
    let rest = reply_rest_len(&head)
        .ok_or_else(|| broken(format!("its reply has address type {}", head[3])))?;
    let mut bound = vec![0u8; rest];
    s.read_exact(&mut bound).map_err(io_broken)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scripted proxy: reads go to `input`, writes are kept.
    struct Script {
        input: io::Cursor<Vec<u8>>,
        written: Vec<u8>,
    }

    impl Read for Script {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }

    impl Write for Script {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn run(answer: &[u8], creds: Option<&Credentials>) -> (Result<(), SocksError>, Script) {
        let mut s = Script {
            input: io::Cursor::new(answer.to_vec()),
            written: Vec::new(),
        };
        let r = handshake(&mut s, "socks5://p:1080", "api.example", 6443, creds);
        (r, s)
    }

    fn creds() -> Credentials {
        Credentials {
            user: "ann".into(),
            password: Secret::new("pw".into()),
        }
    }

    const OK_V4: &[u8] = &[5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90];

    #[test]
    fn connect_sends_the_name_unresolved() {
        assert_eq!(
            connect_request("api.example", 6443).unwrap(),
            [&[5, 1, 0, 3, 11][..], b"api.example", &[0x19, 0x2b]].concat()
        );
        assert_eq!(
            connect_request("10.1.2.3", 443).unwrap(),
            vec![5, 1, 0, 1, 10, 1, 2, 3, 1, 0xbb]
        );
        let v6 = connect_request("::1", 80).unwrap();
        assert_eq!(&v6[..4], &[5, 1, 0, 4]);
        assert_eq!(v6.len(), 4 + 16 + 2);
        assert!(connect_request(&"a".repeat(256), 1).is_none());
        assert!(connect_request("", 1).is_none());
    }

    #[test]
    fn greeting_and_auth_encoding() {
        assert_eq!(greeting(false), vec![5, 1, 0]);
        assert_eq!(greeting(true), vec![5, 2, 0, 2]);
        assert_eq!(
            auth_request(&creds()).unwrap(),
            vec![1, 3, b'a', b'n', b'n', 2, b'p', b'w']
        );
        let long = Credentials {
            user: "u".repeat(256),
            password: Secret::new(String::new()),
        };
        assert!(auth_request(&long).is_none());
    }

    #[test]
    fn reply_lengths() {
        assert_eq!(reply_rest_len(&[5, 0, 0, 1, 0]), Some(5));
        assert_eq!(reply_rest_len(&[5, 0, 0, 4, 0]), Some(17));
        assert_eq!(reply_rest_len(&[5, 0, 0, 3, 7]), Some(9));
        assert_eq!(reply_rest_len(&[5, 0, 0, 9, 0]), None);
    }

    #[test]
    fn a_session_without_auth() {
        let answer = [&[5, 0][..], OK_V4, b"tunnel bytes"].concat();
        let (r, mut s) = run(&answer, None);
        r.unwrap();
        assert_eq!(
            s.written,
            [
                &[5, 1, 0][..],
                &connect_request("api.example", 6443).unwrap()
            ]
            .concat()
        );
        // Nothing past the reply was consumed: the tunnel starts right there.
        let mut rest = String::new();
        s.read_to_string(&mut rest).unwrap();
        assert_eq!(rest, "tunnel bytes");
    }

    #[test]
    fn a_session_with_auth_and_a_domain_reply() {
        let answer = [&[5, 2, 1, 0, 5, 0, 0, 3, 2, b'h', b'i', 0, 80][..]].concat();
        let (r, s) = run(&answer, Some(&creds()));
        r.unwrap();
        assert!(s.written.starts_with(&[5, 2, 0, 2, 1, 3, b'a']));
    }

    #[test]
    fn every_reply_code_is_named() {
        for code in 1..=9u8 {
            let (r, _) = run(&[5, 0, 5, code, 0, 1, 0, 0, 0, 0, 0, 0], None);
            let e = r.unwrap_err();
            assert_eq!(
                e,
                SocksError::Refused {
                    proxy: "socks5://p:1080".into(),
                    target: "api.example:6443".into(),
                    code
                }
            );
            let text = e.to_string();
            assert!(
                text.starts_with(
                    "proxy socks5://p:1080 refused the connection to api.example:6443: "
                ),
                "{text}"
            );
            assert!(text.ends_with(&format!("(SOCKS reply {code})")), "{text}");
        }
        assert_eq!(
            run(&[5, 0, 5, 5], None).0.unwrap_err().to_string(),
            "proxy socks5://p:1080 refused the connection to api.example:6443: connection refused by destination host (SOCKS reply 5)"
        );
    }

    #[test]
    fn authentication_failures() {
        let (r, _) = run(&[5, 0xff], None);
        assert!(r
            .unwrap_err()
            .to_string()
            .contains("requires authentication"));
        let (r, _) = run(&[5, 2], None);
        assert!(matches!(r, Err(SocksError::NoMethod { .. })));
        let (r, _) = run(&[5, 2, 1, 1], Some(&creds()));
        assert_eq!(
            r.unwrap_err().to_string(),
            "proxy socks5://p:1080 rejected the username and password (SOCKS status 1)"
        );
        let (r, _) = run(&[5, 0xff], Some(&creds()));
        assert!(r.unwrap_err().to_string().contains("accepts neither"));
    }

    #[test]
    fn broken_proxies() {
        for (answer, want) in [
            (&b""[..], "the proxy closed the connection"),
            (&[5][..], "the proxy closed the connection"),
            (&[5, 0, 5, 0, 0][..], "the proxy closed the connection"),
            (b"HTTP/1.1 400 Bad Request\r\n", "version 72"),
            (&[5, 0, 5, 0, 0, 9, 0][..], "address type 9"),
            (&[5, 7][..], "method 7"),
        ] {
            let e = run(answer, None).0.unwrap_err().to_string();
            assert!(
                e.starts_with(
                    "proxy socks5://p:1080 failed the SOCKS5 handshake for api.example:6443: "
                ),
                "{e}"
            );
            assert!(e.contains(want), "{answer:?}: {e}");
        }
    }
}
