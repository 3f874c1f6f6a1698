//! `fakecluster` binary: a standalone fake Kubernetes API server.
//!
//! Usage: fakecluster [--listen 127.0.0.1:0] [--plain] [--fixture FILE]
//!        [--write-kubeconfig FILE] [--request-log FILE] [--latency-ms N]
//!        [--container shell|echo] [--kubelet-delay-ms N] [--relist-ms N]
//!        [--image-pull-fail-ms N] [--legacy-discovery] [--pods N] [--watch-cache-size N]
//!        [--seed N] [--fault SPEC]...
//! Prints `ready <server-url>` on stdout once serving; SIGTERM/SIGINT stop it.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use fakecluster::{FakeCluster, Fault, Options};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

const USAGE: &str = "usage: fakecluster [--listen ADDR] [--plain] [--fixture FILE] [--write-kubeconfig FILE] [--request-log FILE] [--latency-ms N] [--container shell|echo] [--kubelet-delay-ms N] [--relist-ms N] [--image-pull-fail-ms N] [--legacy-discovery] [--pods N] [--watch-cache-size N] [--rootfs DIR] [--seed N] [--fault SPEC]...
fault SPEC: latency:MS | drop-watch:N | conflict | gone | gone-http | 429:K[:RETRY] | 503:K[:RETRY] | 500:K | slow-body:K:MS | garbage:K | ws-close:N | upgrade-hang | upgrade-refuse | 404:K, optionally @PATH-SUBSTRING";

fn main() {
    if let Err(e) = run() {
        eprintln!("fakecluster: {e}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), String> {
    let mut opts = Options {
        // Nobody can read the in-memory log of the binary: --request-log has it all.
        keep_requests: false,
        ..Options::default()
    };
    let mut kubeconfig: Option<PathBuf> = None;
    let mut faults = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--listen" => {
                opts.listen = value("--listen")?
                    .parse()
                    .map_err(|e| format!("bad --listen: {e}"))?
            }
            "--plain" => opts.tls = false,
            "--seed" => {
                opts.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("bad --seed: {e}"))?
            }
            "--fixture" => {
                let p = value("--fixture")?;
                let text = std::fs::read_to_string(&p)
                    .map_err(|e| format!("failed to read fixture {p}: {e}"))?;
                opts.fixture = Some(
                    serde_json::from_str(&text)
                        .map_err(|e| format!("failed to parse fixture {p}: {e}"))?,
                );
            }
            "--write-kubeconfig" => kubeconfig = Some(value("--write-kubeconfig")?.into()),
            "--request-log" => opts.request_log = Some(value("--request-log")?.into()),
            "--latency-ms" => {
                opts.latency_ms = value("--latency-ms")?
                    .parse()
                    .map_err(|e| format!("bad --latency-ms: {e}"))?
            }
            "--kubelet-delay-ms" => {
                opts.kubelet_delay_ms = value("--kubelet-delay-ms")?
                    .parse()
                    .map_err(|e| format!("bad --kubelet-delay-ms: {e}"))?
            }
            "--relist-ms" => {
                opts.relist_ms = value("--relist-ms")?
                    .parse()
                    .map_err(|e| format!("bad --relist-ms: {e}"))?
            }
            "--image-pull-fail-ms" => {
                opts.image_pull_fail_ms = value("--image-pull-fail-ms")?
                    .parse()
                    .map_err(|e| format!("bad --image-pull-fail-ms: {e}"))?
            }
            "--container" => opts.container = value("--container")?.parse()?,
            "--legacy-discovery" => opts.legacy_discovery = true,
            "--pods" => {
                opts.pods = value("--pods")?
                    .parse()
                    .map_err(|e| format!("bad --pods: {e}"))?
            }
            "--watch-cache-size" => {
                opts.watch_cache_size = value("--watch-cache-size")?
                    .parse()
                    .map_err(|e| format!("bad --watch-cache-size: {e}"))?
            }
            "--rootfs" => opts.rootfs = Some(value("--rootfs")?.into()),
            "--fault" => faults.push(Fault::parse(&value("--fault")?)?),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    // SAFETY: installing a handler that only stores to an atomic.
    unsafe {
        libc::signal(libc::SIGTERM, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGINT, on_signal as *const () as libc::sighandler_t);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let mut cluster = FakeCluster::start(opts).map_err(|e| format!("failed to start: {e}"))?;
    for (f, filter) in faults {
        match filter {
            Some(p) => cluster.set_fault_on(f, &p),
            None => cluster.set_fault(f),
        }
    }
    if let Some(p) = kubeconfig {
        cluster
            .write_kubeconfig(&p)
            .map_err(|e| format!("failed to write kubeconfig {}: {e}", p.display()))?;
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "ready {}", cluster.url());
    let _ = out.flush();
    while !STOP.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    cluster.stop();
    Ok(())
}
