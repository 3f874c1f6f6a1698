//! The local terminal around a `-it` session, on a real pseudo-terminal: the settings
//! (`stty -g`) are exactly restored however the session ends (the container exits, the
//! server closes the socket, SIGTERM, SIGHUP), and a window resize reaches the server.

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fakecluster::Fault;

use crate::util::{wait_until, wait_with_timeout, Captured, Env};

struct Pty {
    master: File,
    slave: OwnedFd,
}

fn openpty(cols: u16, rows: u16) -> Pty {
    let mut master = -1;
    let mut slave = -1;
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
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    unsafe {
        Pty {
            master: File::from_raw_fd(master),
            slave: OwnedFd::from_raw_fd(slave),
        }
    }
}

impl Pty {
    /// `stty -g` run on the terminal.
    fn stty_g(&self) -> String {
        let out = Command::new("stty")
            .arg("-g")
            .stdin(Stdio::from(self.slave.try_clone().unwrap()))
            .output()
            .expect("stty");
        assert!(out.status.success(), "stty: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn termios(&self) -> libc::termios {
        // SAFETY: tcgetattr writes into a termios we own.
        unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            assert_eq!(libc::tcgetattr(self.slave.as_raw_fd(), &mut t), 0);
            t
        }
    }

    /// Settings a user might have: not the defaults, so "restored" cannot mean "reset".
    fn customise(&self) {
        let mut t = self.termios();
        t.c_iflag &= !libc::IXON;
        t.c_cc[libc::VERASE] = 0x08;
        t.c_cc[libc::VKILL] = 0x15;
        t.c_lflag |= libc::ECHOCTL;
        // SAFETY: writes back settings read from the same terminal.
        unsafe {
            assert_eq!(
                libc::tcsetattr(self.slave.as_raw_fd(), libc::TCSANOW, &t),
                0
            );
        }
    }

    fn is_raw(&self) -> bool {
        let t = self.termios();
        t.c_lflag & (libc::ICANON | libc::ECHO) == 0
    }

    fn resize(&self, cols: u16, rows: u16) {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads the winsize we pass.
        unsafe {
            assert_eq!(
                libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws),
                0
            );
        }
    }

    /// Starts kdebug with the terminal as its stdin, stdout, stderr and controlling terminal,
    /// and a thread draining what it writes.
    fn spawn(&self, env: &Env, args: &[&str]) -> (Child, Captured) {
        let mut cmd = env.cmd(args);
        cmd.stdin(Stdio::from(self.slave.try_clone().unwrap()))
            .stdout(Stdio::from(self.slave.try_clone().unwrap()))
            .stderr(Stdio::from(self.slave.try_clone().unwrap()));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn kdebug on a pty");
        (child, Captured::new(self.master.try_clone().unwrap()))
    }

    fn type_in(&self, s: &str) {
        let mut m = &self.master;
        m.write_all(s.as_bytes()).unwrap();
    }
}

const SESSION: &[&str] = &["web-0", "--image=busybox", "-c", "dbg", "-it", "--", "sh"];

/// Waits until the session is up end to end: a line typed comes back from the container.
fn session_up(pty: &Pty, env: &Env, seen: &Captured) {
    wait_until("raw mode", Duration::from_secs(20), || pty.is_raw());
    wait_until("the attach", Duration::from_secs(20), || {
        env.attach_request().is_some()
    });
    pty.type_in("ping\r");
    wait_until("the echo", Duration::from_secs(20), || {
        seen.text().contains("ping")
    });
}

/// What a finished run printed: the pty's reader sees no end while the test holds the
/// terminal, so it is read once nothing more arrives.
fn finished_output(seen: &Captured) -> String {
    seen.settled(Duration::from_millis(200))
}

/// Runs a `-it` session on a fresh pty, ends it with `end`, and checks the terminal settings
/// afterwards are exactly those from before. Returns the exit code and what was printed.
fn session_ends(
    name: &str,
    setup: impl FnOnce(&Env),
    end: impl FnOnce(&Pty, u32),
) -> (i32, String) {
    session_ends_with(name, &[], setup, |pty, pid, _| end(pty, pid))
}

/// [`session_ends`] with more flags, and `end` given the cluster too.
fn session_ends_with(
    name: &str,
    flags: &[&str],
    setup: impl FnOnce(&Env),
    end: impl FnOnce(&Pty, u32, &Env),
) -> (i32, String) {
    let env = Env::new(name);
    setup(&env);
    let pty = openpty(100, 30);
    pty.customise();
    let before = pty.stty_g();
    let args: Vec<&str> = flags.iter().chain(SESSION).copied().collect();
    let (child, seen) = pty.spawn(&env, &args);
    session_up(&pty, &env, &seen);
    end(&pty, child.id(), &env);
    let out = wait_with_timeout(child, Duration::from_secs(30));
    let printed = seen.text();
    let after = pty.stty_g();
    assert_eq!(
        before, after,
        "terminal settings not restored; printed:\n{printed}"
    );
    assert!(!printed.contains("panicked"), "{printed}");
    (out.status.code().unwrap_or(-1), printed)
}

#[test]
fn terminal_restored_when_the_container_exits() {
    let (code, printed) = session_ends("pty-exit", |_| {}, |pty, _| pty.type_in("exit 5\r"));
    assert_eq!(code, 5, "{printed}");
}

#[test]
fn terminal_restored_when_the_server_closes_the_socket() {
    // With reconnecting switched off, a lost connection ends the session (126).
    let (code, printed) = session_ends_with(
        "pty-remote-close",
        &["--reconnect-window=0"],
        // The initial frame, the echo of what is typed, then the socket just closes.
        |env| {
            env.cluster
                .set_fault(Fault::CloseWebSocketAfter { frames: 2 })
        },
        |pty, _, _| pty.type_in("hello\r"),
    );
    assert_eq!(code, 126, "{printed}");
    assert!(printed.contains("lost the connection"), "{printed}");
}

#[test]
fn a_closed_socket_reattaches_to_the_same_session() {
    let (code, printed) = session_ends_with(
        "pty-reattach",
        &[],
        |env| {
            env.cluster
                .set_fault(Fault::CloseWebSocketAfter { frames: 2 })
        },
        |pty, _, env| {
            pty.type_in("hello\r");
            wait_until("a second attach", Duration::from_secs(20), || {
                env.request_lines()
                    .iter()
                    .filter(|l| l.contains("/attach"))
                    .count()
                    >= 2
            });
            // Typed while the reattach is made, it waits in kdebug's input.
            pty.type_in("exit 5\r");
        },
    );
    assert_eq!(code, 5, "{printed}");
    assert!(!printed.contains("error:"), "{printed}");
}

#[test]
fn terminal_restored_on_sigterm() {
    let (code, printed) = session_ends(
        "pty-sigterm",
        |_| {},
        // SAFETY: signals our own child.
        |_, pid| unsafe {
            libc::kill(pid as i32, libc::SIGTERM);
        },
    );
    assert_eq!(code, 128 + libc::SIGTERM, "{printed}");
}

#[test]
fn terminal_restored_on_sighup() {
    let (code, printed) = session_ends(
        "pty-sighup",
        |_| {},
        // SAFETY: signals our own child.
        |_, pid| unsafe {
            libc::kill(pid as i32, libc::SIGHUP);
        },
    );
    assert_eq!(code, 128 + libc::SIGHUP, "{printed}");
}

#[test]
fn window_resize_reaches_the_server() {
    let env = Env::new("pty-resize");
    let pty = openpty(100, 30);
    let before = pty.stty_g();
    let (child, seen) = pty.spawn(&env, SESSION);
    session_up(&pty, &env, &seen);
    pty.resize(132, 43);
    // SAFETY: signals our own child (the kernel also sends SIGWINCH to the foreground group).
    unsafe {
        libc::kill(child.id() as i32, libc::SIGWINCH);
    }
    // The fake records resize events only when the session ends, so nothing shows the new
    // size has gone out: the sleep lets it before `exit` ends the session.
    std::thread::sleep(Duration::from_millis(300));
    pty.type_in("exit 0\r");
    let out = wait_with_timeout(child, Duration::from_secs(30));
    let printed = seen.text();
    assert_eq!(out.status.code(), Some(0), "{printed}");
    assert_eq!(before, pty.stty_g());
    let attach = env.attach_request().unwrap();
    assert_eq!(attach["query"]["tty"], "true", "{attach:#}");
    let sizes: Vec<(u64, u64)> = attach["websocket"]["resize_events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["Width"].as_u64().unwrap_or(0),
                e["Height"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    // kubectl's start (size+1, then the size), then the new size.
    assert!(sizes.starts_with(&[(101, 31), (100, 30)]), "{sizes:?}");
    assert_eq!(sizes.last(), Some(&(132, 43)), "{sizes:?}");
}

/// A `-it` shell session on a fresh pty against a cluster running real shells, up to its
/// prompt hint: the cluster, the pty, the settings before, the child and what it printed.
fn real_shell(name: &str) -> (Env, Pty, String, Child, Captured) {
    let env = Env::with(
        name,
        fakecluster::Options {
            container: fakecluster::ContainerMode::Shell,
            ..Default::default()
        },
    );
    let pty = openpty(100, 30);
    let before = pty.stty_g();
    let (child, seen) = pty.spawn(&env, &["web-0", "-it", "--image", "busybox", "--", "sh"]);
    wait_until("raw mode", Duration::from_secs(20), || pty.is_raw());
    wait_until("the prompt hint", Duration::from_secs(20), || {
        seen.text().contains("If you don't see a command prompt")
    });
    wait_until("the attach", Duration::from_secs(20), || {
        env.attach_request().is_some()
    });
    (env, pty, before, child, seen)
}

/// `make demo`'s journey as a person lives it: a real shell (fakecluster runs /bin/sh in a
/// pty), a command typed and answered, the shell's exit code, and the terminal as it was.
#[test]
fn a_person_gets_a_real_shell() {
    let (_env, pty, before, child, seen) = real_shell("pty-demo");
    pty.type_in("echo \"sum is $((40+2))\"\r");
    wait_until("the shell's answer", Duration::from_secs(10), || {
        seen.text().contains("sum is 42")
    });
    pty.type_in("exit 7\r");
    let out = wait_with_timeout(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), Some(7), "{}", seen.text());
    assert!(seen.text().contains("Session ended"), "{}", seen.text());
    assert_eq!(pty.stty_g(), before);
}

/// A restart under a `-it` session (R11: the API server; R14: the kubelet): kdebug reattaches
/// to the same shell, which still has its state (`cd /tmp` before, `pwd` after), in raw mode
/// all along, and the session ends with the shell's exit code.
fn a_restart_keeps_the_same_shell(name: &str, restart: impl FnOnce(&Env)) {
    let (env, pty, before, child, seen) = real_shell(name);
    pty.type_in("cd /tmp && echo moved-$((6*7))\r");
    wait_until("the cd", Duration::from_secs(10), || {
        seen.text().contains("moved-42")
    });
    let attaches = || {
        env.request_lines()
            .iter()
            .filter(|l| l.contains("/attach"))
            .count()
    };
    restart(&env);
    wait_until("a second attach", Duration::from_secs(30), || {
        attaches() >= 2
    });
    let mark = seen.text().len();
    pty.type_in("pwd\r");
    wait_until("pwd in the same shell", Duration::from_secs(10), || {
        seen.text()[mark..].contains("/tmp\r\n")
    });
    assert!(pty.is_raw(), "raw mode kept");
    pty.type_in("exit 7\r");
    let out = wait_with_timeout(child, Duration::from_secs(30));
    let printed = seen.text();
    assert_eq!(out.status.code(), Some(7), "{printed}");
    assert_eq!(pty.stty_g(), before);
    assert!(!printed.contains("error:"), "{printed}");
    assert!(!printed.contains("IO error"), "{printed}");
}

#[test]
fn an_api_server_restart_keeps_the_same_shell() {
    a_restart_keeps_the_same_shell("pty-restart", |env| {
        env.cluster.restart_apiserver(Duration::from_secs(2))
    });
}

#[test]
fn a_kubelet_restart_keeps_the_same_shell() {
    a_restart_keeps_the_same_shell("pty-kubelet", |env| {
        env.cluster.restart_kubelet(Duration::from_secs(2))
    });
}

/// A signal in a TTY session of a `--rm` copy: the terminal is restored and the copy deleted.
#[test]
fn signals_in_a_tty_copy_session_restore_and_clean_up() {
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        let env = Env::new("pty-signal-rm");
        let pty = openpty(80, 24);
        let before = pty.stty_g();
        let args = [
            "web-0",
            "-it",
            "--image=busybox",
            "--copy-to=web-tty",
            "--rm",
            "--",
            "sh",
        ];
        let (child, seen) = pty.spawn(&env, &args);
        session_up(&pty, &env, &seen);
        // SAFETY: signals our own child.
        unsafe {
            libc::kill(child.id() as i32, sig);
        }
        let out = wait_with_timeout(child, Duration::from_secs(30));
        assert_eq!(out.status.code(), Some(128 + sig), "{}", seen.text());
        assert_eq!(pty.stty_g(), before, "not restored after signal {sig}");
        assert!(
            env.cluster.pod("default", "web-tty").is_none(),
            "--rm left the copy after signal {sig}"
        );
    }
}

/// R4: a new ephemeral container is first in the spec with no status, then ContainerCreating,
/// then running. The live line names the container's own state and the time waited, never
/// the pod's phase (`Running`, for a running pod).
#[test]
fn the_wait_line_names_the_containers_own_state() {
    let env = Env::with(
        "pty-wait-line",
        fakecluster::Options {
            kubelet_delay_ms: 600,
            ..Default::default()
        },
    );
    let pty = openpty(120, 30);
    let (child, seen) = pty.spawn(
        &env,
        &[
            "web-0",
            "--image=busybox",
            "-c",
            "dbg",
            "--attach",
            "--",
            "sh",
            "-c",
            "echo done",
        ],
    );
    let out = wait_with_timeout(child, Duration::from_secs(30));
    let shown = seen.text();
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("waiting for dbg: ContainerCreating ("),
        "no ContainerCreating line: {shown:?}"
    );
    assert!(shown.contains("s)"), "no time waited: {shown:?}");
    assert!(
        !shown.contains("waiting for dbg: Running"),
        "the pod's phase shown as the container's state: {shown:?}"
    );
}

/// A fan-out on a terminal keeps one live line on stderr (`N/M done, F failed, R running`),
/// rewritten in place and erased before the summary; without a terminal there is none
/// (`tests/fleet.rs`).
#[test]
fn fan_out_shows_a_live_progress_line_on_a_terminal() {
    let env = Env::with(
        "pty-fanout",
        fakecluster::Options {
            pods: 6,
            ..fakecluster::Options::default()
        },
    );
    let pty = openpty(100, 30);
    let args = [
        "-l",
        "app=audit",
        "--image=busybox",
        "--max-parallel=2",
        "--",
        "sh",
        "-c",
        "echo ok",
    ];
    let (child, seen) = pty.spawn(&env, &args);
    let out = wait_with_timeout(child, Duration::from_secs(60));
    let printed = finished_output(&seen);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    const ERASE: &str = "\r\x1b[2K";
    assert!(
        printed.contains(&format!("{ERASE}0/6 done, 0 failed, 1 running")),
        "{printed:?}"
    );
    assert!(
        printed.contains(&format!("{ERASE}6/6 done, 0 failed, 0 running")),
        "{printed:?}"
    );
    // Erased before the summary, and never left in the middle of an output line.
    let summary = printed.find("TARGET").expect("summary");
    assert!(
        printed[..summary].ends_with(&format!("{ERASE}\r\n")),
        "{printed:?}"
    );
    for line in printed.split("\r\n").filter(|l| l.contains(": ok")) {
        assert!(
            line.rsplit(ERASE).next().unwrap().starts_with("audit-"),
            "{line:?} in {printed:?}"
        );
    }
}

/// `kdebug cp` of more than a few MB shows bytes and rate on a terminal, and erases the line
/// at the end; a small copy shows none.
#[test]
fn a_large_copy_shows_its_progress_on_a_terminal() {
    let roots = crate::util::Dir::new("pty-cp-roots");
    let app = roots.path().join("default/web-0/app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(app.join("big"), vec![7u8; 12 << 20]).unwrap();
    std::fs::write(app.join("small"), b"s").unwrap();
    let env = Env::with(
        "pty-cp",
        fakecluster::Options {
            rootfs: Some(roots.path().to_path_buf()),
            ..fakecluster::Options::default()
        },
    );
    let pty = openpty(100, 30);
    let (child, seen) = pty.spawn(&env, &["cp", "web-0:/big", "big"]);
    let out = wait_with_timeout(child, Duration::from_secs(60));
    let printed = finished_output(&seen);
    assert_eq!(out.status.code(), Some(0), "{printed}");
    const ERASE: &str = "\r\x1b[2K";
    assert!(printed.contains(" MB copied, "), "{printed:?}");
    assert!(printed.contains(" MB/s"), "{printed:?}");
    assert!(printed.ends_with(ERASE), "{printed:?}");
    assert_eq!(
        std::fs::metadata(env.dir.path().join("big")).unwrap().len(),
        12 << 20
    );

    let (child, seen) = pty.spawn(&env, &["cp", "web-0:/small", "small"]);
    let out = wait_with_timeout(child, Duration::from_secs(60));
    let shown = finished_output(&seen);
    assert_eq!(out.status.code(), Some(0));
    assert!(!shown.contains("MB copied"), "{shown:?}");
}
