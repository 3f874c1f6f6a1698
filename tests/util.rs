//! Helpers for integration tests: isolated directories, a fake cluster per test, and the real
//! kdebug binary run against it with failures that print everything needed to understand them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Waits for a child, killing it (and failing loudly) if it runs past `limit`. Its pipes are
/// drained meanwhile, so a child writing more than a pipe holds cannot stall.
pub fn wait_with_timeout(mut child: std::process::Child, limit: std::time::Duration) -> Output {
    fn drain<R: std::io::Read + Send + 'static>(
        pipe: Option<R>,
    ) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let start = std::time::Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "kdebug ran past {limit:?}\nstdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&out.join().unwrap_or_default()),
                    String::from_utf8_lossy(&err.join().unwrap_or_default())
                );
            }
            Ok(None) => std::thread::sleep(std::time::Duration::from_millis(20)),
            Err(e) => panic!("waiting for kdebug: {e}"),
        }
    };
    Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
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
    let out = wait_with_timeout(child, std::time::Duration::from_secs(20));
    assert_eq!((out.stdout.len(), out.stderr.len()), (1 << 20, 1 << 20));
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
