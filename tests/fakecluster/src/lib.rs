//! fakecluster: a Kubernetes API server double for kdebug's tests, benchmarks and demo.
//!
//! It speaks HTTP/1.1 over TLS (generated CA) or plain TCP, authenticates bearer tokens and
//! client certificates, serves discovery, pods (get/list/watch/create/delete, the
//! ephemeralcontainers subresource, log, attach over WebSocket), nodes and a few workload kinds,
//! and simulates a kubelet that starts containers and runs a scripted or real process in them.
//! By default it behaves as the real node of `tests/fakecluster/REAL.md` did (R1-R6: no-op
//! merges, the containerd attach detach at stdin's end, `stream=` refused, the relist delay, the
//! kubelet's answer for a gone container, the delayed pull failure); see the README.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::Value;

mod api;
mod attach;
mod discovery;
mod exec;
mod fault;
mod http;
mod kubelet;
mod logs;
mod patch;
mod pods;
mod podsecurity;
mod process;
pub mod proto;
pub mod record;
mod server;
mod status;
mod store;
mod table;
mod tls;
mod util;
mod validate;
mod world;

pub use fault::Fault;

/// `n` running pods `audit-0000`... in `default` on node-1, labelled `app=audit`, one
/// container `main` running `sleep infinity` each: put them in a fixture's `"pods"`.
pub fn audit_pods(n: usize) -> Vec<Value> {
    world::audit_pods(n)
}
pub use tls::ClientCert;

/// What runs inside a started container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ContainerMode {
    /// A deterministic script interpreted from the container command (tests).
    #[default]
    Echo,
    /// Interactive containers (stdin: true) run a real local `/bin/sh` (in a PTY when tty).
    Shell,
}

impl std::str::FromStr for ContainerMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "echo" => Ok(ContainerMode::Echo),
            "shell" => Ok(ContainerMode::Shell),
            other => Err(format!("unknown container mode {other:?} (echo|shell)")),
        }
    }
}

/// Server options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Serve HTTPS with a generated CA (true) or plain HTTP (false).
    pub tls: bool,
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Added latency before every response.
    pub latency_ms: u64,
    pub container: ContainerMode,
    /// `{"pods":[...],"nodes":[...],...}`; None = the default world.
    pub fixture: Option<Value>,
    /// Delay of each kubelet step (scheduled -> ContainerCreating -> running).
    pub kubelet_delay_ms: u64,
    /// Serve only legacy discovery (ignore the aggregated-discovery Accept types).
    pub legacy_discovery: bool,
    /// Append every finished request as a JSON line to this file.
    pub request_log: Option<std::path::PathBuf>,
    /// Interval of watch BOOKMARK events (when the client allows them).
    pub bookmark_interval_ms: u64,
    /// Serve a server certificate that has expired (signed by the same CA).
    pub expired_server_cert: bool,
    /// Time from a container's exit to its `terminated` status (R4: the kubelet notices
    /// exits on its relist, every second; seen 0.5-1 s after the exit).
    pub relist_ms: u64,
    /// Time an unpullable image (`does-not-exist` in its name) stays `waiting
    /// ContainerCreating` before `ErrImagePull` (R6: about 15 s on a real node with no
    /// reachable registry; kept small by default for tests).
    pub image_pull_fail_ms: u64,
    /// Events kept for watches and paged lists (the watch cache window): a watch from an
    /// older resourceVersion, or a list continued from an older page, gets 410 Expired.
    pub watch_cache_size: usize,
    /// Running pods `audit-0000`... (`app=audit`, one `sleep infinity` container, node-1) added
    /// to the world (default or fixture); see [`audit_pods`].
    pub pods: usize,
    /// Keep the request log in memory for [`FakeCluster::requests`] (the binary, which has no
    /// reader for it, turns this off; `request_log` still gets every entry).
    pub keep_requests: bool,
    /// Root filesystems: `ROOTFS/NS/POD/CONTAINER` is that container's root. A container
    /// that targets it (`targetContainerName`) and names `/proc/1/root` in its command runs
    /// for real with that path on the directory (what `kdebug cp` needs), with
    /// `ROOTFS/.images/IMAGE/bin` first on its PATH when that exists. Not an observation of
    /// tests/fakecluster/REAL.md (R1-R9 cover no copy): that a container sharing the target's PID
    /// namespace reaches its root at `/proc/1/root` is kernel behaviour, assumed here; the
    /// images directory is a test device, nothing a node does.
    pub rootfs: Option<std::path::PathBuf>,
    /// Picks the member of each family of real behaviours the fake reproduces where the real
    /// node varies (R10: which refusal an attach gets as its container exits). The same seed
    /// gives the same sequence.
    pub seed: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tls: true,
            listen: "127.0.0.1:0".parse().expect("addr"),
            latency_ms: 0,
            container: ContainerMode::Echo,
            fixture: None,
            kubelet_delay_ms: 100,
            legacy_discovery: false,
            request_log: None,
            bookmark_interval_ms: 1000,
            expired_server_cert: false,
            relist_ms: 1000,
            image_pull_fail_ms: 300,
            watch_cache_size: store::HISTORY,
            pods: 0,
            keep_requests: true,
            rootfs: None,
            seed: 0,
        }
    }
}

/// Who a request authenticated as.
#[derive(Debug, Clone)]
#[allow(dead_code)]
pub(crate) struct User {
    pub name: String,
    pub groups: Vec<String>,
    /// May only get/list/watch (everything else is 403).
    pub read_only: bool,
}

pub(crate) struct Shared {
    pub opts: Options,
    pub addr: SocketAddr,
    pub token: String,
    pub readonly_token: String,
    /// More tokens of `fake-admin` (`add_token`), e.g. the id-tokens an OIDC test issues.
    pub extra_tokens: Mutex<Vec<String>>,
    pub store: Mutex<store::Store>,
    pub log: Mutex<Vec<Value>>,
    pub log_file: Mutex<Option<File>>,
    pub seq: AtomicU64,
    pub faults: Mutex<fault::Faults>,
    pub procs: Mutex<HashMap<(String, String, String), Arc<process::Process>>>,
    pub stop: AtomicBool,
    pub certs: Mutex<Vec<ClientCert>>,
    /// Open client connections (closed when the server stops or restarts).
    pub conns: Mutex<Vec<(u64, std::net::TcpStream)>>,
    /// Until when the API server is down after [`FakeCluster::restart_apiserver`]: new
    /// connections are refused.
    pub down_until: Mutex<Option<std::time::Instant>>,
    /// Bumped by each [`FakeCluster::restart_kubelet`]: streams through the kubelet that
    /// started before end.
    pub kubelet_epoch: AtomicU64,
    /// Until when the kubelet is away: the API server cannot reach it.
    pub kubelet_down_until: Mutex<Option<std::time::Instant>>,
    /// Draws for the seeded families (see [`Options::seed`]).
    pub draws: AtomicU64,
}

impl Shared {
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// The next draw of the seeded sequence, in `0..n` (splitmix64 of seed and counter).
    pub fn draw(&self, n: u64) -> u64 {
        let i = self.draws.fetch_add(1, Ordering::SeqCst);
        let mut z = self
            .opts
            .seed
            .wrapping_add(i.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }

    /// Whether the kubelet is away (after [`FakeCluster::restart_kubelet`]).
    pub fn kubelet_down(&self) -> bool {
        self.kubelet_down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|t| std::time::Instant::now() < t)
    }

    /// Mutate the store (its changes are routed to the watches they concern).
    pub fn with_store<R>(&self, f: impl FnOnce(&mut store::Store) -> R) -> R {
        let mut s = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let r = f(&mut s);
        drop(s);
        r
    }

    pub fn record(&self, entry: Value) -> usize {
        if !self.opts.keep_requests {
            return 0;
        }
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.push(entry);
        log.len() - 1
    }

    pub fn update_record(&self, idx: usize, entry: Value) {
        if let Some(f) = self
            .log_file
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            let _ = writeln!(f, "{}", entry);
            let _ = f.flush();
        }
        if !self.opts.keep_requests {
            return;
        }
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        // The log may have been cleared since the request started (a watch outliving a
        // clear_requests): then `idx` names another request's slot, so match the seq too.
        let same = |slot: &Value| slot.get("seq").is_some() && slot.get("seq") == entry.get("seq");
        if let Some(slot) = log.get_mut(idx).filter(|slot| same(slot)) {
            *slot = entry;
        } else if let Some(slot) = log.iter_mut().rev().find(|slot| same(slot)) {
            *slot = entry;
        }
    }
}

/// A running fake API server; stops when dropped.
pub struct FakeCluster {
    shared: Arc<Shared>,
    pki: Option<tls::Pki>,
    accept: Option<JoinHandle<()>>,
}

impl FakeCluster {
    /// Start listening and serving in background threads.
    pub fn start(opts: Options) -> io::Result<FakeCluster> {
        let listener = TcpListener::bind(opts.listen)?;
        let addr = listener.local_addr()?;
        let pki = if opts.tls {
            Some(tls::Pki::generate(opts.expired_server_cert)?)
        } else {
            None
        };
        let log_file = match &opts.request_log {
            Some(p) => Some(File::create(p)?),
            None => None,
        };
        let mut world = match &opts.fixture {
            Some(f) => world::from_fixture(f).map_err(io::Error::other)?,
            None => world::default_world(),
        };
        world.history_cap = opts.watch_cache_size;
        world::seed_audit_pods(&mut world, opts.pods);
        let shared = Arc::new(Shared {
            opts: opts.clone(),
            addr,
            token: format!("fake-token-{}", util::rand_hex(24)),
            readonly_token: format!("fake-readonly-{}", util::rand_hex(24)),
            extra_tokens: Mutex::new(Vec::new()),
            store: Mutex::new(world),
            log: Mutex::new(Vec::new()),
            log_file: Mutex::new(log_file),
            seq: AtomicU64::new(0),
            faults: Mutex::new(fault::Faults::default()),
            procs: Mutex::new(HashMap::new()),
            stop: AtomicBool::new(false),
            certs: Mutex::new(Vec::new()),
            conns: Mutex::new(Vec::new()),
            down_until: Mutex::new(None),
            kubelet_epoch: AtomicU64::new(0),
            kubelet_down_until: Mutex::new(None),
            draws: AtomicU64::new(0),
        });
        if let Some(p) = &pki {
            let admin = p.client_cert("fake-admin", &["system:masters"])?;
            shared.certs.lock().unwrap().push(admin);
        }
        let tls_config = pki.as_ref().map(|p| p.server_config.clone());
        let accept = server::spawn_accept(listener, shared.clone(), tls_config);
        Ok(FakeCluster {
            shared,
            pki,
            accept: Some(accept),
        })
    }

    /// `https://127.0.0.1:PORT` or `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.pki.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.shared.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.shared.addr
    }

    /// The CA certificate (PEM) when serving TLS.
    pub fn ca_pem(&self) -> Option<String> {
        self.pki.as_ref().map(|p| p.ca_pem.clone())
    }

    /// The server side of the TLS the fake serves (its certificate is for 127.0.0.1 and
    /// localhost, signed by [`Self::ca_pem`]): tests put it on their own https proxies.
    pub fn server_tls_config(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.pki.as_ref().map(|p| p.server_config.clone())
    }

    /// A bearer token with full access (user `fake-admin`).
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// Accepts `token` too, as user `fake-admin` (an OIDC id-token a test's issuer hands out).
    pub fn add_token(&self, token: &str) {
        self.shared
            .extra_tokens
            .lock()
            .unwrap()
            .push(token.to_string());
    }

    /// A bearer token whose user (`fake-viewer`) may only get, list and watch (403 otherwise).
    pub fn readonly_token(&self) -> &str {
        &self.shared.readonly_token
    }

    /// The admin client certificate (CN fake-admin, O system:masters); None without TLS.
    pub fn client_cert(&self) -> Option<ClientCert> {
        self.shared.certs.lock().unwrap().first().cloned()
    }

    /// Issue another client certificate for `user` (accepted by the server).
    pub fn issue_client_cert(&self, user: &str, groups: &[&str]) -> io::Result<ClientCert> {
        let p = self
            .pki
            .as_ref()
            .ok_or_else(|| io::Error::other("client certificates need TLS"))?;
        let c = p.client_cert(user, groups)?;
        self.shared.certs.lock().unwrap().push(c.clone());
        Ok(c)
    }

    /// Kubeconfig with token auth, CA data embedded, context "fake", namespace default.
    /// Also carries a context "fake-cert" (client certificate) when serving TLS.
    pub fn write_kubeconfig(&self, path: &Path) -> io::Result<()> {
        std::fs::write(path, self.kubeconfig())
    }

    /// The kubeconfig text that `write_kubeconfig` writes.
    pub fn kubeconfig(&self) -> String {
        use base64::Engine;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let mut cluster = format!("    server: {}\n", self.url());
        if let Some(ca) = self.ca_pem() {
            cluster.push_str(&format!("    certificate-authority-data: {}\n", b64(&ca)));
        }
        let mut s = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n{cluster}contexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\n"
        );
        let cert = self.client_cert();
        if cert.is_some() {
            s.push_str("- name: fake-cert\n  context:\n    cluster: fake\n    user: fake-cert\n    namespace: default\n");
        }
        s.push_str(&format!(
            "current-context: fake\npreferences: {{}}\nusers:\n- name: fake\n  user:\n    token: {}\n",
            self.token()
        ));
        if let Some(c) = cert {
            s.push_str(&format!(
                "- name: fake-cert\n  user:\n    client-certificate-data: {}\n    client-key-data: {}\n",
                b64(&c.cert_pem),
                b64(&c.key_pem)
            ));
        }
        s
    }

    /// The request log so far (one JSON object per request, in arrival order).
    pub fn requests(&self) -> Vec<Value> {
        self.shared.log.lock().unwrap().clone()
    }

    /// The requests so far, typed (see [`record::Request`]).
    pub fn records(&self) -> Vec<record::Request> {
        self.shared
            .log
            .lock()
            .unwrap()
            .iter()
            .map(record::Request::from)
            .collect()
    }

    /// Forget the request log so far.
    pub fn clear_requests(&self) {
        self.shared.log.lock().unwrap().clear();
    }

    /// The current pod object.
    pub fn pod(&self, ns: &str, name: &str) -> Option<Value> {
        self.object("pods", ns, name)
    }

    /// Any stored object by resource (plural), namespace ("" for cluster-scoped) and name.
    pub fn object(&self, resource: &str, ns: &str, name: &str) -> Option<Value> {
        self.shared
            .store
            .lock()
            .unwrap()
            .get(resource, ns, name)
            .cloned()
    }

    /// Add or replace a pod (fixture setup). Its status is kept as given; an event is sent.
    pub fn put_pod(&self, pod: Value) {
        self.put_object("Pod", pod);
    }

    /// Add or replace a node.
    pub fn put_node(&self, node: Value) {
        self.put_object("Node", node);
    }

    /// Add or replace an object of a served kind (Pod, Node, Namespace, Service, Deployment,
    /// ReplicaSet, StatefulSet, DaemonSet, Job, CronJob, ReplicationController).
    pub fn put_object(&self, kind: &str, obj: Value) {
        if let Some(t) = store::type_for_kind(kind) {
            let obj = world::normalise(t, obj);
            self.shared.with_store(|s| s.put(t, obj));
        }
    }

    /// Create a pod as a POST would: validation, defaulting and admission, then the simulated
    /// kubelet schedules and starts it. Namespace defaults to `default`. Err is a Status.
    pub fn create_pod(&self, pod: Value) -> Result<Value, Value> {
        pods::create_pod(&self.shared, pod).map_err(|e| e.body)
    }

    /// Delete a pod now (the watch sees DELETED).
    pub fn delete_pod(&self, ns: &str, name: &str) -> Option<Value> {
        let t = store::type_for_kind("Pod")?;
        let r = self.shared.with_store(|s| s.delete(t, ns, name));
        kubelet::pod_deleted(&self.shared, ns, name);
        r
    }

    /// Watches being served right now (each holds a queue in the store until it ends).
    pub fn open_watches(&self) -> usize {
        self.shared.store.lock().unwrap().watcher_count()
    }

    /// Switch a fault on (see [`Fault`]). Faults apply to the next matching requests.
    pub fn set_fault(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().add(fault, None);
    }

    /// Like `set_fault`, but only for requests whose path (with query) contains `path_contains`.
    pub fn set_fault_on(&self, fault: Fault, path_contains: &str) {
        self.shared
            .faults
            .lock()
            .unwrap()
            .add(fault, Some(path_contains.to_string()));
    }

    /// Remove every pending fault.
    pub fn clear_faults(&self) {
        self.shared.faults.lock().unwrap().clear();
    }

    /// What a container process wrote so far (its log), if it ever started.
    pub fn container_log(&self, ns: &str, pod: &str, container: &str) -> Option<String> {
        let procs = self.shared.procs.lock().unwrap();
        procs
            .get(&(ns.to_string(), pod.to_string(), container.to_string()))
            .map(|p| String::from_utf8_lossy(&p.log_bytes()).into_owned())
    }

    /// Restarts the API server (R11): every open connection is closed at once, without an
    /// HTTP answer, a WebSocket close frame or a TLS close_notify (watches, log follows and
    /// attaches included); new connections are refused for `down`; then the same state is
    /// served again on the same address. Containers and their logs are not touched.
    pub fn restart_apiserver(&self, down: Duration) {
        *self
            .shared
            .down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now() + down);
        // The accept loop sees the restart on its next connection: this one. The open
        // connections are closed once nobody listens, so none is made again in between.
        let _ = std::net::TcpStream::connect_timeout(&self.shared.addr, Duration::from_millis(200));
        let until = std::time::Instant::now() + Duration::from_secs(2);
        while std::time::Instant::now() < until
            && std::net::TcpStream::connect_timeout(&self.shared.addr, Duration::from_millis(200))
                .is_ok()
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        for (_, c) in self
            .shared
            .conns
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        self.shared
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .wake_watchers();
    }

    /// Restarts the kubelet (R14, seen on 1.28): the streams that go through it (attach,
    /// exec, log follows) end; for `down` the API server cannot reach it, so new ones are
    /// answered with an error; containers and their logs are not touched. How the API server
    /// ends a proxied stream and words the error is a guess: the attach ends without its
    /// status (as R14 saw), a log follow ends its body or is cut off (the seed picks), and
    /// the error is the apiserver's
    /// `error dialing backend` for a refused connection.
    pub fn restart_kubelet(&self, down: Duration) {
        *self
            .shared
            .kubelet_down_until
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(std::time::Instant::now() + down);
        self.shared.kubelet_epoch.fetch_add(1, Ordering::SeqCst);
    }

    /// Stop serving (also done on Drop).
    pub fn stop(&mut self) {
        if self.shared.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        self.shared
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .wake_watchers();
        // Wake the accept loop.
        let _ = std::net::TcpStream::connect_timeout(&self.shared.addr, Duration::from_millis(200));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        for (_, c) in self.shared.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
        process::kill_all(&self.shared);
    }
}

impl Drop for FakeCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Said by every test that needs a kubectl it cannot find: a skip on a developer's machine,
/// a failure under CI (`CI=true`), where a silent skip would hide a whole layer of tests.
pub fn kubectl_missing(what: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    if ci {
        panic!("{what} is not installed, and CI is set: the kubectl tests must run in CI");
    }
    eprintln!("skipped: {what} is not installed");
}
