//! Reaching the API server through SOCKS5 and https proxies, as from a jump host: each test
//! carries a debug journey with attach (`-i -- cat`, so stdin goes up the WebSocket and
//! comes back) through an in-process proxy that records every CONNECT it was asked for.
//!
//! The SOCKS5 tests name the server `api.kdebug.test`, which nothing on this machine
//! resolves: only the proxy knows it (it maps `*.test` to 127.0.0.1), so a passing journey
//! shows that the name went to the proxy unresolved. `tls-server-name: localhost` matches
//! the fake's certificate.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;

use crate::util::{Dir, Env, Run};

const NAME: &str = "api.kdebug.test";

/// What the fake SOCKS5 proxy does.
#[derive(Clone)]
enum Socks {
    /// Relays, asking for a username and password when given one.
    Relay(Option<(&'static str, &'static str)>),
    /// Answers every CONNECT with this reply code.
    Refuse(u8),
    /// Reads the greeting and closes the connection.
    CloseAfterGreeting,
}

/// Every CONNECT target a proxy was asked for, as `host:port`.
type Seen = Arc<Mutex<Vec<String>>>;

/// `*.test` is ours (127.0.0.1); any other name is looked up here, on the proxy's side.
fn far_side(host: &str, port: u16) -> io::Result<TcpStream> {
    if host.ends_with(".test") {
        return TcpStream::connect(("127.0.0.1", port));
    }
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| io::Error::other("no address"))?;
    TcpStream::connect(addr)
}

fn relay(client: TcpStream, upstream: TcpStream) {
    let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = io::copy(&mut u2, &mut c2);
        let _ = c2.shutdown(std::net::Shutdown::Write);
    });
    let (mut c, mut u) = (client, upstream);
    let _ = io::copy(&mut c, &mut u);
    let _ = u.shutdown(std::net::Shutdown::Write);
}

fn socks_session(mut c: TcpStream, mode: Socks, seen: Seen) -> io::Result<()> {
    let mut head = [0u8; 2];
    c.read_exact(&mut head)?;
    let mut methods = vec![0u8; head[1] as usize];
    c.read_exact(&mut methods)?;
    let auth = match &mode {
        Socks::CloseAfterGreeting => return Ok(()),
        Socks::Relay(auth) => *auth,
        Socks::Refuse(_) => None,
    };
    match auth {
        Some((user, pass)) => {
            if !methods.contains(&2) {
                return c.write_all(&[5, 0xff]);
            }
            c.write_all(&[5, 2])?;
            let mut v = [0u8; 2];
            c.read_exact(&mut v)?;
            let mut u = vec![0u8; v[1] as usize];
            c.read_exact(&mut u)?;
            let mut pl = [0u8; 1];
            c.read_exact(&mut pl)?;
            let mut p = vec![0u8; pl[0] as usize];
            c.read_exact(&mut p)?;
            if u != user.as_bytes() || p != pass.as_bytes() {
                return c.write_all(&[1, 1]);
            }
            c.write_all(&[1, 0])?;
        }
        None => c.write_all(&[5, 0])?,
    }
    let mut req = [0u8; 4];
    c.read_exact(&mut req)?;
    assert_eq!(&req[..3], &[5, 1, 0], "a SOCKS5 CONNECT");
    // The host must come as a name (ATYP 3): resolved here, never by kdebug.
    assert_eq!(req[3], 3, "ATYP domain");
    let mut len = [0u8; 1];
    c.read_exact(&mut len)?;
    let mut name = vec![0u8; len[0] as usize];
    c.read_exact(&mut name)?;
    let mut port = [0u8; 2];
    c.read_exact(&mut port)?;
    let host = String::from_utf8(name).unwrap();
    let port = u16::from_be_bytes(port);
    seen.lock().unwrap().push(format!("{host}:{port}"));
    if let Socks::Refuse(code) = mode {
        return c.write_all(&[5, code, 0, 1, 0, 0, 0, 0, 0, 0]);
    }
    let Ok(upstream) = far_side(&host, port) else {
        return c.write_all(&[5, 4, 0, 1, 0, 0, 0, 0, 0, 0]);
    };
    c.write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])?;
    relay(c, upstream);
    Ok(())
}

fn socks_proxy(mode: Socks) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for c in listener.incoming().flatten() {
            let (mode, log) = (mode.clone(), log.clone());
            std::thread::spawn(move || socks_session(c, mode, log));
        }
    });
    (format!("127.0.0.1:{}", addr.port()), seen)
}

/// An https proxy: TLS with `config`, then CONNECT inside it, relayed both ways by one
/// thread (a rustls stream cannot be split) with short read timeouts.
fn https_proxy(config: Arc<rustls::ServerConfig>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for c in listener.incoming().flatten() {
            let (config, log) = (config.clone(), log.clone());
            std::thread::spawn(move || https_session(c, config, log));
        }
    });
    (format!("https://127.0.0.1:{}", addr.port()), seen)
}

fn https_session(c: TcpStream, config: Arc<rustls::ServerConfig>, seen: Seen) -> io::Result<()> {
    let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, c);
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if tls.read(&mut b)? == 0 {
            return Ok(());
        }
        head.push(b[0]);
    }
    let text = String::from_utf8_lossy(&head).to_string();
    let target = text.split_whitespace().nth(1).unwrap_or("").to_string();
    assert!(text.starts_with("CONNECT "), "{text}");
    seen.lock().unwrap().push(target.clone());
    let (host, port) = target.rsplit_once(':').unwrap();
    let mut up = far_side(host, port.parse().unwrap())?;
    tls.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")?;
    tls.flush()?;
    let tick = Some(Duration::from_millis(5));
    tls.get_ref().set_read_timeout(tick)?;
    up.set_read_timeout(tick)?;
    let mut buf = vec![0u8; 32 * 1024];
    let idle = |e: &io::Error| {
        matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
        )
    };
    loop {
        match tls.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => up.write_all(&buf[..n])?,
            Err(e) if idle(&e) => {}
            Err(e) => return Err(e),
        }
        match up.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                tls.write_all(&buf[..n])?;
                tls.flush()?;
            }
            Err(e) if idle(&e) => {}
            Err(e) => return Err(e),
        }
    }
}

/// A kubeconfig for `env`'s cluster at `server`, with `extra` cluster fields.
fn config(env: &Env, dir: &Dir, server: &str, extra: &str) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\n{extra}contexts:\n- name: c\n  context: {{cluster: k, user: u, namespace: default}}\nusers:\n- name: u\n  user:\n    token: {}\n",
        b64(&env.cluster.ca_pem().unwrap()),
        env.cluster.token()
    );
    dir.write("config", &text).to_str().unwrap().to_string()
}

/// The named server behind a SOCKS5 proxy.
fn socks_config(env: &Env, dir: &Dir, proxy_url: &str) -> String {
    let server = format!("https://{NAME}:{}", env.cluster.addr().port());
    config(
        env,
        dir,
        &server,
        &format!("    tls-server-name: localhost\n    proxy-url: {proxy_url}\n"),
    )
}

/// The journey: an ephemeral container whose `cat` echoes stdin through the attach.
fn journey(env: &Env, kubeconfig: &str, vars: &[(&str, &str)]) -> Run {
    let args = [
        "--kubeconfig",
        kubeconfig,
        "web-0",
        "--image=busybox",
        "-c",
        "dbg",
        "-i",
        "--",
        "cat",
    ];
    env.run_full(&args, Some("through the jump host\n"), vars)
}

/// The proxy tunnelled the REST requests and the attach WebSocket, every one to `target`.
#[track_caller]
fn assert_tunnels(seen: &Seen, target: &str, r: &Run) {
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.len() >= 2,
        "REST and WebSocket tunnels: {seen:?}{}",
        r.dump()
    );
    assert!(seen.iter().all(|t| t == target), "{seen:?} != {target}");
}

#[test]
fn socks5_carries_rest_watch_and_attach_with_the_name_resolved_remotely() {
    let env = Env::new("socks5");
    let dir = Dir::new("socks5-cfg");
    let (addr, seen) = socks_proxy(Socks::Relay(None));
    let cfg = socks_config(&env, &dir, &format!("socks5://{addr}"));
    let r = journey(&env, &cfg, &[]);
    r.assert_code(0)
        .assert_stdout_contains("through the jump host");
    let target = format!("{NAME}:{}", env.cluster.addr().port());
    assert_tunnels(&seen, &target, &r);
    assert!(env.attach_request().is_some());
}

#[test]
fn socks5_with_username_and_password() {
    let env = Env::new("socks5-auth");
    let dir = Dir::new("socks5-auth-cfg");
    let (addr, seen) = socks_proxy(Socks::Relay(Some(("ann", "s3cr:t"))));
    // The password is percent-encoded in the URL, as in any URL.
    let cfg = socks_config(&env, &dir, &format!("socks5://ann:s3cr%3At@{addr}"));
    let r = journey(&env, &cfg, &[]);
    r.assert_code(0)
        .assert_stdout_contains("through the jump host");
    assert_tunnels(&seen, &format!("{NAME}:{}", env.cluster.addr().port()), &r);

    let cfg = socks_config(&env, &dir, &format!("socks5://ann:wrong@{addr}"));
    let r = journey(&env, &cfg, &[]);
    r.assert_code(1).assert_stderr_contains(&format!(
        "proxy socks5://{addr} rejected the username and password (SOCKS status 1)"
    ));
    assert!(!r.stderr().contains("wrong"), "{}", r.dump());

    let cfg = socks_config(&env, &dir, &format!("socks5://{addr}"));
    journey(&env, &cfg, &[])
        .assert_code(1)
        .assert_stderr_contains(&format!("proxy socks5://{addr} requires authentication"));
}

#[test]
fn socks5_from_https_proxy_in_the_environment() {
    let env = Env::new("socks5-env");
    let dir = Dir::new("socks5-env-cfg");
    let (addr, seen) = socks_proxy(Socks::Relay(None));
    let server = format!("https://{NAME}:{}", env.cluster.addr().port());
    let cfg = config(&env, &dir, &server, "    tls-server-name: localhost\n");
    let proxy = format!("socks5://{addr}");
    let r = journey(&env, &cfg, &[("HTTPS_PROXY", &proxy), ("NO_PROXY", "")]);
    r.assert_code(0)
        .assert_stdout_contains("through the jump host");
    assert_tunnels(&seen, &format!("{NAME}:{}", env.cluster.addr().port()), &r);
}

#[test]
fn a_refused_socks5_connect_names_the_proxy_target_and_reply() {
    let env = Env::new("socks5-refused");
    let dir = Dir::new("socks5-refused-cfg");
    let (addr, seen) = socks_proxy(Socks::Refuse(5));
    let cfg = socks_config(&env, &dir, &format!("socks5://{addr}"));
    let r = journey(&env, &cfg, &[]);
    let port = env.cluster.addr().port();
    r.assert_code(1).assert_stderr_contains(&format!(
        "Unable to connect to the server: proxy socks5://{addr} refused the connection to {NAME}:{port}: connection refused by destination host (SOCKS reply 5)"
    ));
    assert!(!seen.lock().unwrap().is_empty());
    assert!(env.mutations().is_empty(), "nothing reached the server");
}

#[test]
fn a_socks5_proxy_that_closes_mid_handshake() {
    let env = Env::new("socks5-closed");
    let dir = Dir::new("socks5-closed-cfg");
    let (addr, _) = socks_proxy(Socks::CloseAfterGreeting);
    let cfg = socks_config(&env, &dir, &format!("socks5://{addr}"));
    let port = env.cluster.addr().port();
    journey(&env, &cfg, &[])
        .assert_code(1)
        .assert_stderr_contains(&format!(
            "proxy socks5://{addr} failed the SOCKS5 handshake for {NAME}:{port}: the proxy closed the connection"
        ));
}

#[test]
fn a_socks5_proxy_that_is_not_running() {
    let env = Env::new("socks5-down");
    let dir = Dir::new("socks5-down-cfg");
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let cfg = socks_config(&env, &dir, &format!("socks5://{addr}"));
    journey(&env, &cfg, &[])
        .assert_code(1)
        .assert_stderr_contains(&format!("proxy socks5://{addr} refused the TCP connection"));
}

#[test]
fn https_proxy_verified_with_the_cluster_ca() {
    let env = Env::new("https-proxy");
    let dir = Dir::new("https-proxy-cfg");
    // The proxy's certificate comes from the cluster's CA, which the kubeconfig trusts.
    let (url, seen) = https_proxy(env.cluster.server_tls_config().unwrap());
    let server = format!("https://localhost:{}", env.cluster.addr().port());
    let cfg = config(&env, &dir, &server, &format!("    proxy-url: {url}\n"));
    let r = journey(&env, &cfg, &[]);
    r.assert_code(0)
        .assert_stdout_contains("through the jump host");
    assert_tunnels(
        &seen,
        &format!("localhost:{}", env.cluster.addr().port()),
        &r,
    );
}

#[test]
fn https_proxy_with_a_certificate_from_another_ca_is_refused() {
    let env = Env::new("https-proxy-ca");
    let dir = Dir::new("https-proxy-ca-cfg");
    let other = fakecluster::FakeCluster::start(fakecluster::Options::default()).unwrap();
    let (url, seen) = https_proxy(other.server_tls_config().unwrap());
    let server = format!("https://localhost:{}", env.cluster.addr().port());
    let cfg = config(&env, &dir, &server, &format!("    proxy-url: {url}\n"));
    journey(&env, &cfg, &[])
        .assert_code(1)
        .assert_stderr_contains(&format!(
            "Unable to connect to the server: proxy {url}: tls: failed to verify certificate: x509: certificate signed by unknown authority"
        ));
    assert!(
        seen.lock().unwrap().is_empty(),
        "no CONNECT over an unverified TLS"
    );
}
