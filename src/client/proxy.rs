//! Proxies (kubeconfig `proxy-url`, else HTTPS_PROXY/HTTP_PROXY with NO_PROXY, as Go's
//! net/http does) and name resolution that reads /etc/hosts itself, because a static glibc
//! binary cannot count on the system's NSS modules.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    pub url: String,
    pub host: String,
    pub port: u16,
}

/// Asks an http proxy on `tcp` for a tunnel to `target` (`host:port`) with CONNECT.
pub fn tunnel(tcp: &mut std::net::TcpStream, target: &str, proxy_url: &str) -> io::Result<()> {
    use std::io::{BufRead, BufReader, Write};
    write!(tcp, "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n")?;
    let old = tcp.read_timeout()?;
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    let mut reader = BufReader::new(tcp.try_clone()?);
    let mut status = String::new();
    reader.read_line(&mut status)?;
    if status.split_whitespace().nth(1).is_none_or(|c| c != "200") {
        return Err(io::Error::other(format!(
            "proxy {proxy_url} refused CONNECT to {target}: {}",
            status.trim()
        )));
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    if !reader.buffer().is_empty() {
        return Err(io::Error::other(format!(
            "proxy {proxy_url} sent data before the tunnel was open"
        )));
    }
    tcp.set_read_timeout(old)
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
pub fn choose(proxy_url: Option<&str>, server: &str, host: &str) -> Result<Option<Proxy>, String> {
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
    let (scheme, _) = url.split_once("://").unwrap_or(("", ""));
    match scheme {
        "http" => {}
        // The tunnel carries TLS to the API server either way; TLS to the proxy itself is
        // not implemented.
        "https" => return Err(format!("proxy {url:?}: https:// proxies are not supported by kdebug; use an http:// proxy")),
        "socks5" => return Err(format!("proxy {url:?}: socks5 proxies are not supported by kdebug; use an http proxy")),
        other => return Err(format!("failed to parse proxy-url {url:?}: unsupported scheme {other:?}, must be http, https, or socks5")),
    }
    let hp = host_port_of(&url);
    let host = host_of(&url);
    let port = hp
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or(80);
    Ok(Some(Proxy { url, host, port }))
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
/// goes to the proxy instead, and the TLS connector opens the CONNECT tunnel on it (ureq's own
/// proxy support drops the query string of requests it tunnels).
pub struct Resolver {
    pub proxy: Option<Proxy>,
}

impl ureq::Resolver for Resolver {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        match &self.proxy {
            Some(p) => resolve(&format!("{}:{}", p.host, p.port)),
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
        assert!(choose(Some("socks5://p:1080"), "https://a", "a").is_err());
        assert!(choose(Some("ftp://p"), "https://a", "a")
            .unwrap_err()
            .contains("unsupported scheme"));
        let p = choose(Some("http://proxy:3128"), "https://a", "a")
            .unwrap()
            .unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy", 3128));
    }
}
