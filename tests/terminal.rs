//! Through a real pseudo-terminal: the demo's journey (a person typing into a shell), raw mode
//! on during the session and the settings exactly restored after it, and resizes forwarded.

use std::time::Duration;

use crate::util::{Env, Pty};

#[test]
fn a_person_gets_a_shell_and_the_terminal_comes_back_as_it_was() {
    let env = Env::with(
        "demo-pty",
        fakecluster::Options {
            container: fakecluster::ContainerMode::Shell,
            ..Default::default()
        },
    );
    let mut cmd = env.cmd(&["web-0", "-it", "--image", "busybox", "--", "sh"]);
    cmd.env("PS1", "demo$ ").env("TERM", "dumb");
    let mut pty = Pty::spawn(cmd, 100, 30);
    let before = pty.stty();
    pty.read_until("If you don't see a command prompt", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(300));
    let during = pty.stty();
    assert_ne!(before, during, "raw mode was not switched on");
    pty.write(b"echo \"sum is $((40+2))\"\r");
    pty.read_until("sum is 42", Duration::from_secs(10));
    pty.resize(120, 40);
    std::thread::sleep(Duration::from_millis(300));
    pty.write(b"exit 7\r");
    pty.read_until("Session ended", Duration::from_secs(10));
    let status = pty.child.wait().unwrap();
    assert_eq!(status.code(), Some(7), "the shell's exit code");
    assert_eq!(pty.stty(), before, "terminal settings not restored");
    let attach = env
        .cluster
        .requests()
        .into_iter()
        .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with("/attach")))
        .unwrap();
    assert!(attach["raw_query"].as_str().unwrap().contains("tty=true"));
    let resizes = attach["websocket"]["resize_events"].to_string();
    // kubectl's opening pair (size+1, then the size), then the resize.
    assert!(
        resizes.contains("101") && resizes.contains("100") && resizes.contains("120"),
        "{resizes}"
    );
}

#[test]
fn sigterm_and_sighup_in_a_tty_session_restore_the_terminal() {
    for sig in [libc::SIGTERM, libc::SIGHUP] {
        let env = Env::with(
            "pty-signal",
            fakecluster::Options {
                container: fakecluster::ContainerMode::Shell,
                ..Default::default()
            },
        );
        let cmd = env.cmd(&[
            "web-0",
            "-it",
            "--image",
            "busybox",
            "--copy-to",
            "web-tty",
            "--rm",
            "--",
            "sh",
        ]);
        let mut pty = Pty::spawn(cmd, 80, 24);
        let before = pty.stty();
        pty.read_until("If you don't see a command prompt", Duration::from_secs(20));
        std::thread::sleep(Duration::from_millis(300));
        assert_ne!(pty.stty(), before, "raw mode was not switched on");
        // SAFETY: signals our own child.
        unsafe {
            libc::kill(pty.child.id() as i32, sig);
        }
        let status = pty.child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + sig));
        assert_eq!(
            pty.stty(),
            before,
            "terminal settings not restored after signal {sig}"
        );
        assert!(
            env.cluster.pod("default", "web-tty").is_none(),
            "--rm left the copy after signal {sig}"
        );
    }
}
