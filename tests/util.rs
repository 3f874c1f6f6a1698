//! Helpers for integration tests: isolated directories, a fake cluster per test, and the real
//! kdebug binary run against it with failures that print everything needed to understand them.

#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fakecluster::{FakeCluster, Options};
use serde_json::Value;

/// A command for the kdebug binary built for this test run.
pub fn kdebug() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kdebug"))
}

/// A fresh directory, removed on drop.
pub struct Dir(pub PathBuf);

impl Dir {
    pub fn new(name: &str) -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("kdebug-test-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create test dir");
        Dir(p)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, contents).expect("write test file");
        p
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The result of one run, with readable assertion helpers.
pub struct Run {
    pub args: Vec<String>,
    pub output: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    pub fn dump(&self) -> String {
        format!(
            "\n--- kdebug {}\n--- exit: {:?}\n--- stdout:\n{}\n--- stderr:\n{}\n",
            self.args.join(" "),
            self.output.status,
            self.stdout(),
            self.stderr()
        )
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(self.code(), code, "unexpected exit code{}", self.dump());
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, s: &str) -> &Self {
        assert!(
            self.stderr().contains(s),
            "stderr lacks {s:?}{}",
            self.dump()
        );
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains(&self, s: &str) -> &Self {
        assert!(
            self.stdout().contains(s),
            "stdout lacks {s:?}{}",
            self.dump()
        );
        self
    }
}

/// A fake cluster and a kubeconfig pointing at it.
pub struct Env {
    pub cluster: FakeCluster,
    pub dir: Dir,
    pub kubeconfig: PathBuf,
}

impl Env {
    pub fn new(name: &str) -> Env {
        Env::with(name, Options::default())
    }

    pub fn with(name: &str, opts: Options) -> Env {
        let cluster = FakeCluster::start(opts).expect("start fakecluster");
        let dir = Dir::new(name);
        let kubeconfig = dir.0.join("kubeconfig");
        cluster
            .write_kubeconfig(&kubeconfig)
            .expect("write kubeconfig");
        Env {
            cluster,
            dir,
            kubeconfig,
        }
    }

    /// A kdebug command with this cluster's kubeconfig and an empty HOME.
    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = kdebug();
        c.args(args)
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .current_dir(self.dir.path());
        c
    }

    /// Starts kdebug with stdin, stdout and stderr piped (stdin stays open until dropped).
    pub fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn kdebug")
    }

    /// Runs kdebug with stdin closed.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        self.run_full(args, stdin, &[])
    }

    /// Runs kdebug with stdin closed and extra environment variables.
    pub fn run_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Run {
        self.run_full(args, None, vars)
    }

    pub fn run_full(&self, args: &[&str], stdin: Option<&str>, vars: &[(&str, &str)]) -> Run {
        let mut c = self.cmd(args);
        c.envs(vars.iter().copied());
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = c.spawn().expect("spawn kdebug");
        if let Some(input) = stdin {
            use std::io::Write;
            let mut s = child.stdin.take().expect("stdin");
            let input = input.to_string();
            std::thread::spawn(move || {
                let _ = s.write_all(input.as_bytes());
            });
        }
        let output = wait_with_timeout(child, std::time::Duration::from_secs(60));
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            output,
        }
    }

    /// Requests that change the cluster (POST, PATCH, DELETE, PUT), as logged.
    pub fn mutations(&self) -> Vec<Value> {
        self.cluster
            .records()
            .into_iter()
            .filter(|r| r.is_mutation())
            .map(|r| r.raw)
            .collect()
    }

    /// The first attach request the server saw, with its WebSocket record.
    pub fn attach_request(&self) -> Option<Value> {
        self.cluster
            .records()
            .into_iter()
            .find(|r| r.kind() == fakecluster::record::Kind::Attach)
            .map(|r| r.raw)
    }

    /// `METHOD path` of every request so far.
    pub fn request_lines(&self) -> Vec<String> {
        self.cluster.records().iter().map(|r| r.line()).collect()
    }
}

/// How often [`poll_until`] looks again.
const POLL: Duration = Duration::from_millis(20);

/// Looks at `cond` until it holds or `limit` has passed; whether it held.
pub fn poll_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > limit {
            return false;
        }
        // The one poll of the suite: the condition is kept by another process (kdebug, the
        // fake's threads), with nothing a test could block on.
        std::thread::sleep(POLL);
    }
}

/// [`poll_until`], failing the test with `what` when `limit` passes first.
pub fn wait_until(what: &str, limit: Duration, cond: impl FnMut() -> bool) {
    assert!(
        poll_until(limit, cond),
        "timed out after {limit:?} waiting for {what}"
    );
}

/// Waits until the fake reports container `container` of `pod` (namespace default) running.
pub fn wait_running(env: &Env, pod: &str, container: &str) {
    let running = || {
        let p = env.cluster.pod("default", pod).expect("pod");
        ["ephemeralContainerStatuses", "containerStatuses"]
            .iter()
            .flat_map(|k| p["status"][k].as_array().into_iter().flatten())
            .any(|s| s["name"] == container && s["state"].get("running").is_some())
    };
    wait_until(
        &format!("{container} running in {pod}"),
        Duration::from_secs(20),
        running,
    );
}

/// A pipe (or a pty) read on a thread as it arrives, so a test can wait for what it expects.
pub struct Captured {
    buf: Arc<Mutex<Vec<u8>>>,
    reader: Option<JoinHandle<()>>,
}

impl Captured {
    pub fn new(mut r: impl Read + Send + 'static) -> Captured {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        let reader = std::thread::spawn(move || {
            let mut chunk = [0u8; 4096];
            while let Ok(n) = r.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&chunk[..n]);
            }
        });
        Captured {
            buf,
            reader: Some(reader),
        }
    }

    /// What arrived so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.buf.lock().unwrap().clone()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    /// Waits until `what` arrived `n` times (30 s at most).
    pub fn wait_for(&self, what: &str, n: usize) {
        let seen = || self.text().matches(what).count() >= n;
        assert!(
            poll_until(Duration::from_secs(30), seen),
            "no {n}x {what:?} in {:?}",
            self.text()
        );
    }

    /// Everything, once the writer's end has closed (the reader has seen the end).
    pub fn finish(mut self) -> Vec<u8> {
        if let Some(r) = self.reader.take() {
            let _ = r.join();
        }
        self.bytes()
    }

    /// What arrived once nothing more came for `quiet`: for a pty, whose reader sees no end
    /// while the test holds the terminal open.
    pub fn settled(&self, quiet: Duration) -> String {
        let (mut len, mut since) = (self.buf.lock().unwrap().len(), Instant::now());
        let calm = || {
            let now = self.buf.lock().unwrap().len();
            if now != len {
                (len, since) = (now, Instant::now());
            }
            since.elapsed() >= quiet
        };
        assert!(
            poll_until(Duration::from_secs(30), calm),
            "output never settled"
        );
        self.text()
    }
}

/// Waits for a child, killing it (and failing loudly) if it runs past `limit`. Its pipes are
/// drained meanwhile, so a child writing more than a pipe holds cannot stall.
pub fn wait_with_timeout(mut child: std::process::Child, limit: Duration) -> Output {
    let drain = |pipe: Option<Box<dyn Read + Send>>| match pipe {
        Some(p) => Captured::new(p),
        None => Captured::new(std::io::empty()),
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let mut status = None;
    let ended = poll_until(limit, || {
        status = child.try_wait().expect("waiting for kdebug");
        status.is_some()
    });
    if !ended {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "kdebug ran past {limit:?}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.finish()),
            String::from_utf8_lossy(&err.finish())
        );
    }
    Output {
        status: status.expect("an exit status"),
        stdout: out.finish(),
        stderr: err.finish(),
    }
}

#[test]
fn wait_with_timeout_drains_large_output() {
    // 1 MiB on each stream, far more than a pipe buffer: without draining this would stall.
    let child = Command::new("sh")
        .args([
            "-c",
            "head -c 1048576 /dev/zero; head -c 1048576 /dev/zero >&2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_with_timeout(child, Duration::from_secs(20));
    assert_eq!((out.stdout.len(), out.stderr.len()), (1 << 20, 1 << 20));
}

/// Said by a test that needs a tool it cannot find (a shell, tar, zip): a skip on a
/// developer's machine, a failure under CI (`CI=true`), where a silent skip would hide what
/// the test covers. `install` says how to get it.
pub fn tool_missing(tool: &str, install: &str) {
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(
        !ci,
        "{tool} is not installed, and CI is set: the tests that need it must run in CI ({install})"
    );
    eprintln!("skipped: {tool} is not installed ({install})");
}

/// The versioned kubectl beside `kubectl`, if installed (never the plain dispatcher).
pub fn kubectl(version: &str) -> Option<PathBuf> {
    let candidates = [
        format!("/usr/lib/google-cloud-sdk/bin/kubectl.{version}"),
        format!("/usr/local/bin/kubectl.{version}"),
        format!("/usr/bin/kubectl.{version}"),
    ];
    candidates
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}
