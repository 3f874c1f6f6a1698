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

    /// Requests that change the cluster (POST, PATCH, DELETE, PUT).
    pub fn mutations(&self) -> Vec<Value> {
        self.cluster
            .requests()
            .into_iter()
            .filter(|r| {
                matches!(
                    r["method"].as_str(),
                    Some("POST" | "PATCH" | "DELETE" | "PUT")
                )
            })
            .collect()
    }

    /// `METHOD path` of every request so far.
    pub fn request_lines(&self) -> Vec<String> {
        self.cluster
            .requests()
            .iter()
            .map(|r| {
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap_or(""),
                    r["path"].as_str().unwrap_or("")
                )
            })
            .collect()
    }
}

/// Waits for a child, killing it (and failing loudly) if it runs past `limit`.
pub fn wait_with_timeout(mut child: std::process::Child, limit: std::time::Duration) -> Output {
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().expect("collect output"),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("collect output");
                panic!(
                    "kdebug ran past {limit:?}\nstdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            _ => std::thread::sleep(std::time::Duration::from_millis(20)),
        }
    }
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

/// A pseudo-terminal with a child running on its slave side, as a person's terminal would be.
pub struct Pty {
    pub master: std::fs::File,
    pub child: std::process::Child,
    slave_path: PathBuf,
}

impl Pty {
    /// Starts `cmd` with the slave as its stdin, stdout and stderr and controlling terminal.
    pub fn spawn(mut cmd: Command, cols: u16, rows: u16) -> Pty {
        use std::os::fd::{FromRawFd, OwnedFd};
        use std::os::unix::process::CommandExt;
        let (mut master, mut slave) = (0, 0);
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty fills two descriptors we then own.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(rc, 0, "openpty failed");
        // SAFETY: ttyname on a descriptor we own; copied out at once.
        let slave_path = unsafe { std::ffi::CStr::from_ptr(libc::ttyname(slave)) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: both descriptors come from openpty and are owned here.
        let (master, slave) =
            unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn on the pty");
        Pty {
            master: std::fs::File::from(master),
            child,
            slave_path: slave_path.into(),
        }
    }

    /// `stty -g` of the terminal, read from its slave side.
    pub fn stty(&self) -> String {
        let out = Command::new("stty")
            .arg("-g")
            .stdin(std::fs::File::open(&self.slave_path).expect("open the pty slave"))
            .output()
            .expect("run stty");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&mut self, bytes: &[u8]) {
        use std::io::Write;
        self.master.write_all(bytes).expect("write to the pty");
    }

    /// Reads what the child printed until `needle` shows up (or panics after `limit`).
    pub fn read_until(&mut self, needle: &str, limit: std::time::Duration) -> String {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        let start = std::time::Instant::now();
        let mut seen = Vec::new();
        while start.elapsed() < limit {
            let mut pfd = libc::pollfd {
                fd: self.master.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: poll on one descriptor we own.
            if unsafe { libc::poll(&mut pfd, 1, 100) } <= 0 {
                continue;
            }
            let mut buf = [0u8; 4096];
            match self.master.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
            if String::from_utf8_lossy(&seen).contains(needle) {
                return String::from_utf8_lossy(&seen).into_owned();
            }
        }
        panic!(
            "{needle:?} never appeared; the terminal showed:\n{}",
            String::from_utf8_lossy(&seen)
        );
    }

    /// Sets the window size, as a terminal emulator does when resized (the kernel sends
    /// SIGWINCH to the foreground process group).
    pub fn resize(&self, cols: u16, rows: u16) {
        use std::os::fd::AsRawFd;
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads the struct we pass.
        unsafe {
            libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
        }
    }
}
