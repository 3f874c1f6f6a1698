//! Proxies (kubeconfig `proxy-url`, else HTTPS_PROXY/HTTP_PROXY with NO_PROXY, as Go's
//! net/http does; http, https and socks5 URLs, the tunnels themselves in dial.rs) and name resolution that reads /etc/hosts itself, because a static glibc
//! binary cannot count on the system's NSS modules.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

pub use super::socks::Credentials;
use crate::sys::secret::Secret;

/// How we talk to the proxy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// CONNECT over plain TCP.
    Http,
    /// TLS to the proxy, then CONNECT inside it.
    Https,
    /// SOCKS5 CONNECT with the host name unresolved (kubectl's socks5 dialer does the same).
    Socks5,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Proxy {
    /// The URL as it is shown: scheme, host and port, never the credentials.
    pub url: String,
    pub kind: Kind,
    pub host: String,
    pub port: u16,
    pub credentials: Option<Credentials>,
}

impl Proxy {
    /// `host:port` to connect to (an IPv6 address in brackets).
    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Parses `scheme://[user[:password]@]host[:port][/]`, with Go's default ports (80,
    /// 443, 1080). `socks5h` is taken as `socks5`: the name goes to the proxy either way.
    pub fn parse(url: &str) -> Result<Proxy, ProxyUrlError> {
        let bad = |why: ProxyUrlFault| ProxyUrlError {
            url: url.to_string(),
            why,
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad(ProxyUrlFault::NoScheme))?;
        let scheme = scheme.to_ascii_lowercase();
        let (kind, default_port) = match scheme.as_str() {
            "http" => (Kind::Http, 80),
            "https" => (Kind::Https, 443),
            "socks5" | "socks5h" => (Kind::Socks5, 1080),
            other => return Err(bad(ProxyUrlFault::Scheme(other.to_string()))),
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let credentials = userinfo.map(|u| {
            let (user, pass) = u.split_once(':').unwrap_or((u, ""));
            Credentials {
                user: percent_decode(user),
                password: Secret::new(percent_decode(pass)),
            }
        });
        let (host, port) = match hostport.rfind(':') {
            Some(i) if !hostport[i..].contains(']') => {
                let port = hostport[i + 1..]
                    .parse::<u16>()
                    .map_err(|_| bad(ProxyUrlFault::Port))?;
                (&hostport[..i], port)
            }
            _ => (hostport, default_port),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad(ProxyUrlFault::NoHost));
        }
        let shown = if host.contains(':') {
            format!("{scheme}://[{host}]:{port}")
        } else {
            format!("{scheme}://{host}:{port}")
        };
        Ok(Proxy {
            url: shown,
            kind,
            host: host.to_string(),
            port,
            credentials,
        })
    }
}

/// A proxy URL that cannot be used, and why.
#[derive(Debug)]
pub struct ProxyUrlError {
    pub url: String,
    pub why: ProxyUrlFault,
}

#[derive(Debug)]
pub enum ProxyUrlFault {
    NoScheme,
    Scheme(String),
    Port,
    NoHost,
}

impl std::fmt::Display for ProxyUrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "failed to parse proxy-url {:?}: ", self.url)?;
        match &self.why {
            ProxyUrlFault::NoScheme => f.write_str("no scheme"),
            ProxyUrlFault::Scheme(s) => {
                write!(
                    f,
                    "unsupported scheme {s:?}, must be http, https, or socks5"
                )
            }
            ProxyUrlFault::Port => f.write_str("invalid port"),
            ProxyUrlFault::NoHost => f.write_str("no host"),
        }
    }
}

impl std::error::Error for ProxyUrlError {}

/// `%XX` escapes in the user name and password of a URL.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `https://host:port/path` -> `host` (brackets of an IPv6 address removed).
pub fn host_of(url: &str) -> String {
    let hp = host_port_of(url);
    let host = match hp.rfind(':') {
        Some(i) if !hp[i..].contains(']') => &hp[..i],
        _ => &hp[..],
    };
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .to_string()
}

/// `https://host:port/path` -> `host:port`, with the scheme's default port added.
pub fn host_port_of(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let has_port = match authority.rfind(':') {
        Some(i) => !authority[i..].contains(']'),
        None => false,
    };
    if has_port {
        authority.to_string()
    } else {
        format!("{authority}:{}", if scheme == "http" { 80 } else { 443 })
    }
}

/// Picks the proxy for `server`: the kubeconfig's proxy-url wins, else the environment.
pub fn choose(
    proxy_url: Option<&str>,
    server: &str,
    host: &str,
) -> Result<Option<Proxy>, ProxyUrlError> {
    let url = match proxy_url {
        Some(u) if !u.is_empty() => u.to_string(),
        _ => {
            let https = server.starts_with("https://");
            let var = |names: &[&str]| {
                names
                    .iter()
                    .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
            };
            let found = if https {
                var(&["HTTPS_PROXY", "https_proxy"])
            } else {
                var(&["HTTP_PROXY", "http_proxy"])
            };
            let Some(u) = found else { return Ok(None) };
            let no_proxy = var(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
            if bypass(&no_proxy, host) {
                return Ok(None);
            }
            if u.contains("://") {
                u
            } else {
                format!("http://{u}")
            }
        }
    };
    Proxy::parse(&url).map(Some)
}

/// NO_PROXY matching as Go's httpproxy does: `*`, exact hosts, domain suffixes (with or
/// without a leading dot), IP addresses and CIDR ranges. Loopback never goes through a proxy.
pub fn bypass(no_proxy: &str, host: &str) -> bool {
    if host == "localhost" {
        return true;
    }
    let ip: Option<IpAddr> = host.parse().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return true;
    }
    for entry in no_proxy.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry == "*" {
            return true;
        }
        let entry = entry.split(':').next().unwrap_or(entry);
        if let (Some(ip), Some((net, bits))) = (ip, entry.split_once('/')) {
            if let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) {
                if in_cidr(ip, net, bits) {
                    return true;
                }
            }
            continue;
        }
        let suffix = entry.trim_start_matches('.');
        if host == suffix || host.ends_with(&format!(".{suffix}")) {
            return true;
        }
    }
    false
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// Resolves from /etc/hosts first, then the system resolver. With a proxy, every connection
/// goes to the proxy instead (the server's name is never resolved here), and the TLS
/// connector opens the tunnel on it (ureq's own proxy support drops the query string of
/// requests it tunnels).
pub struct Resolver {
    pub proxy: Option<Proxy>,
}

impl ureq::Resolver for Resolver {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        match &self.proxy {
            Some(p) => resolve(&p.addr()),
            None => resolve(netloc),
        }
    }
}

pub fn resolve(netloc: &str) -> io::Result<Vec<SocketAddr>> {
    let (host, port) = match netloc.rsplit_once(':') {
        Some((h, p)) => (
            h.trim_start_matches('[').trim_end_matches(']'),
            p.parse::<u16>().unwrap_or(443),
        ),
        None => (netloc, 443),
    };
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    if let Ok(hosts) = std::fs::read_to_string("/etc/hosts") {
        let found = hosts_lookup(&hosts, host);
        if !found.is_empty() {
            return Ok(found
                .into_iter()
                .map(|ip| SocketAddr::new(ip, port))
                .collect());
        }
    }
    (host, port).to_socket_addrs().map(Iterator::collect)
}

fn hosts_lookup(hosts: &str, name: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for line in hosts.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let Some(ip) = words.next().and_then(|w| w.parse::<IpAddr>().ok()) else {
            continue;
        };
        if words.any(|w| w.eq_ignore_ascii_case(name)) {
            out.push(ip);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports() {
        assert_eq!(
            host_port_of("https://k8s.example:6443/x"),
            "k8s.example:6443"
        );
        assert_eq!(host_port_of("https://k8s.example"), "k8s.example:443");
        assert_eq!(host_port_of("http://[::1]"), "[::1]:80");
        assert_eq!(host_of("https://[::1]:6443"), "::1");
        assert_eq!(host_of("https://10.0.0.1:6443"), "10.0.0.1");
    }

    #[test]
    fn no_proxy_rules() {
        assert!(bypass("", "127.0.0.1"));
        assert!(bypass("*", "k8s.example"));
        assert!(bypass(".example.com", "api.example.com"));
        assert!(bypass("example.com", "api.example.com"));
        assert!(!bypass("example.com", "example.org"));
        assert!(bypass("10.0.0.0/8", "10.1.2.3"));
        assert!(!bypass("10.0.0.0/8", "11.1.2.3"));
    }

    #[test]
    fn hosts_file_lookup() {
        let hosts = "127.0.0.1 localhost\n10.1.1.1  api.internal api # comment\n# 1.1.1.1 api\n";
        assert_eq!(
            hosts_lookup(hosts, "api"),
            vec!["10.1.1.1".parse::<IpAddr>().unwrap()]
        );
        assert!(hosts_lookup(hosts, "nope").is_empty());
    }

    #[test]
    fn proxy_url_schemes() {
        assert!(choose(Some("ftp://p"), "https://a", "a")
            .unwrap_err()
            .to_string()
            .contains("unsupported scheme"));
        let p = choose(Some("http://proxy:3128"), "https://a", "a")
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.kind),
            ("proxy", 3128, Kind::Http)
        );
    }

    #[test]
    fn proxy_urls_parse_with_go_default_ports_and_hidden_credentials() {
        let p = Proxy::parse("socks5://ann:p%40ss@jump.example").unwrap();
        assert_eq!(p.kind, Kind::Socks5);
        assert_eq!((p.host.as_str(), p.port), ("jump.example", 1080));
        assert_eq!(p.url, "socks5://jump.example:1080");
        let c = p.credentials.unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.expose().as_str()),
            ("ann", "p@ss")
        );
        assert_eq!(
            Proxy::parse("SOCKS5H://[::1]:9050/").unwrap().addr(),
            "[::1]:9050"
        );
        let p = Proxy::parse("https://proxy.corp").unwrap();
        assert_eq!((p.kind, p.port, p.credentials), (Kind::Https, 443, None));
        assert_eq!(Proxy::parse("http://p").unwrap().port, 80);
        assert!(Proxy::parse("socks5://p:x")
            .unwrap_err()
            .to_string()
            .contains("invalid port"));
        assert!(Proxy::parse("socks4://p")
            .unwrap_err()
            .to_string()
            .contains("unsupported scheme"));
        assert!(Proxy::parse("socks5://")
            .unwrap_err()
            .to_string()
            .contains("no host"));
        assert!(
            !format!("{:?}", Proxy::parse("socks5://u:hunter2@p").unwrap()).contains("hunter2")
        );
    }
}
