//! What runs in a container: a deterministic script (echo mode) or a real local process
//! (shell mode, in a PTY when the container has a TTY).

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::{ContainerMode, Shared};

/// Output of a process, as seen by a subscriber.
#[derive(Debug, Clone)]
pub enum Output {
    /// (1 = stdout, 2 = stderr, payload)
    Data(u8, Vec<u8>),
    Exit(i32),
}

#[derive(Debug, Clone)]
#[allow(dead_code)]
pub struct LogLine {
    pub secs: i64,
    pub nanos: u32,
    pub stream: u8,
    pub data: Vec<u8>,
}

#[derive(Default)]
#[allow(dead_code)]
struct ProcState {
    log: Vec<LogLine>,
    subs: Vec<Sender<Output>>,
    exit: Option<i32>,
    started: Option<(i64, u32)>,
}

/// A running (or finished) container process.
#[allow(dead_code)]
pub struct Process {
    pub tty: bool,
    pub stdin_enabled: bool,
    pub stdin_once: bool,
    stdin: Mutex<Option<Sender<Vec<u8>>>>,
    state: Mutex<ProcState>,
    pty_master: Mutex<Option<OwnedFd>>,
    size: Mutex<Option<(u16, u16)>>,
    pid: Mutex<Option<i32>>,
    killed: AtomicBool,
}

/// What to start.
#[derive(Debug, Clone)]
pub struct Spec {
    pub argv: Vec<String>,
    pub stdin: bool,
    pub stdin_once: bool,
    pub tty: bool,
    pub mode: ContainerMode,
    pub banner: String,
    pub initial_log: String,
    pub name: String,
    /// The root filesystem of the container this one targets (`targetContainerName`), when
    /// the server has a `--rootfs`: what the container reaches at `/proc/1/root`.
    pub target_root: Option<std::path::PathBuf>,
    /// Programs of the container's own image, when the server's `--rootfs` has them
    /// (`ROOTFS/.images/IMAGE/bin`): first on its PATH.
    pub image_bin: Option<std::path::PathBuf>,
    /// An exec in a container whose root the server's `--rootfs` holds: run for real in that
    /// directory, absolute paths taken inside it (a stand-in for an image that has `tar`, so
    /// `kubectl cp` can be measured; not an observation of tests/fakecluster/REAL.md).
    pub exec_root: Option<std::path::PathBuf>,
}

impl Process {
    fn new(spec: &Spec) -> (Arc<Process>, Receiver<Vec<u8>>) {
        let (tx, rx) = channel();
        let p = Arc::new(Process {
            tty: spec.tty,
            stdin_enabled: spec.stdin,
            stdin_once: spec.stdin_once,
            stdin: Mutex::new(if spec.stdin { Some(tx) } else { None }),
            state: Mutex::new(ProcState {
                started: Some(crate::util::now_parts()),
                ..Default::default()
            }),
            pty_master: Mutex::new(None),
            size: Mutex::new(None),
            pid: Mutex::new(None),
            killed: AtomicBool::new(false),
        });
        (p, rx)
    }

    pub fn emit(&self, stream: u8, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let (secs, nanos) = crate::util::now_parts();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.log.push(LogLine {
            secs,
            nanos,
            stream,
            data: data.to_vec(),
        });
        st.subs
            .retain(|s| s.send(Output::Data(stream, data.to_vec())).is_ok());
    }

    fn finish(&self, code: i32) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.exit.is_some() {
            return;
        }
        st.exit = Some(code);
        for s in st.subs.drain(..) {
            let _ = s.send(Output::Exit(code));
        }
    }

    /// Subscribe to future output; also returns the exit code if already finished.
    pub fn subscribe(&self) -> (Receiver<Output>, Option<i32>) {
        let (tx, rx) = channel();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(code) = st.exit {
            let _ = tx.send(Output::Exit(code));
        } else {
            st.subs.push(tx);
        }
        (rx, st.exit)
    }

    /// The log so far plus a subscription to what follows (atomically).
    pub fn log_and_subscribe(&self) -> (Vec<LogLine>, Receiver<Output>) {
        let (tx, rx) = channel();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let log = st.log.clone();
        if let Some(code) = st.exit {
            let _ = tx.send(Output::Exit(code));
        } else {
            st.subs.push(tx);
        }
        (log, rx)
    }

    pub fn log(&self) -> Vec<LogLine> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .log
            .clone()
    }

    pub fn log_bytes(&self) -> Vec<u8> {
        self.log().into_iter().flat_map(|l| l.data).collect()
    }

    pub fn exit_code(&self) -> Option<i32> {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).exit
    }

    pub fn write_stdin(&self, data: &[u8]) {
        if let Some(tx) = self
            .stdin
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let _ = tx.send(data.to_vec());
        }
    }

    pub fn close_stdin(&self) {
        self.stdin.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    pub fn resize(&self, width: u16, height: u16) {
        *self.size.lock().unwrap_or_else(|e| e.into_inner()) = Some((width, height));
        if let Some(fd) = self
            .pty_master
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            let ws = libc::winsize {
                ws_row: height,
                ws_col: width,
                ws_xpixel: 0,
                ws_ypixel: 0,
            };
            // SAFETY: TIOCSWINSZ on a valid PTY master with a valid winsize pointer.
            unsafe {
                libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws);
            }
        }
    }

    pub fn kill(&self) {
        self.killed.store(true, Ordering::SeqCst);
        self.close_stdin();
        if let Some(pid) = *self.pid.lock().unwrap_or_else(|e| e.into_inner()) {
            // SAFETY: signalling a child we spawned.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
    }

    fn is_killed(&self) -> bool {
        self.killed.load(Ordering::SeqCst)
    }

    /// Sleep up to `d`, returning false when killed meanwhile.
    fn sleep(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        while Instant::now() < end {
            if self.is_killed() {
                return false;
            }
            thread::sleep(Duration::from_millis(20).min(end - Instant::now()));
        }
        !self.is_killed()
    }
}

/// Start a process; `on_exit` runs once with the exit code.
pub fn spawn(spec: Spec, on_exit: Box<dyn FnOnce(i32) + Send>) -> Arc<Process> {
    let (p, go) = spawn_gated(spec, on_exit);
    go();
    p
}

/// Prepare a process that starts only when the returned function is called (so it can be
/// registered first). Dropping that function without calling it abandons the process.
pub fn spawn_gated(
    spec: Spec,
    on_exit: Box<dyn FnOnce(i32) + Send>,
) -> (Arc<Process>, Box<dyn FnOnce() + Send>) {
    let (gate_tx, gate_rx) = channel::<()>();
    let (p, rx) = Process::new(&spec);
    if !spec.initial_log.is_empty() {
        p.emit(1, spec.initial_log.as_bytes());
    }
    let real = (spec.mode == ContainerMode::Shell && spec.stdin)
        || reaches_target_root(&spec)
        || spec.exec_root.is_some();
    // A process that starts with the interactive fallback prints its banner before anyone can
    // look at the log, so logs read right after the start see it. A shell that reads its
    // input without a TTY prints no prompt: busybox `sh` writes nothing before its input
    // (R13's piped session), so neither does the fake; with a TTY it prompts (R7).
    let mut spec = spec;
    if spec.stdin && !spec.tty {
        spec.banner.clear();
    }
    if !real && starts_interactive(&spec.argv) {
        p.emit(1, spec.banner.as_bytes());
        spec.banner.clear();
    }
    let p2 = p.clone();
    thread::spawn(move || {
        if gate_rx.recv().is_err() {
            return;
        }
        let code = if real {
            match run_real(&p2, rx, &spec) {
                Ok(c) => c,
                Err(e) => {
                    p2.emit(
                        2,
                        format!("fakecluster: cannot start {:?}: {e}\n", spec.argv).as_bytes(),
                    );
                    128
                }
            }
        } else {
            run_script(&p2, rx, &spec)
        };
        p2.finish(code);
        on_exit(code);
    });
    (
        p,
        Box::new(move || {
            let _ = gate_tx.send(());
        }),
    )
}

/// Split a `sh -c` script into commands (`;`, `&&`, `||`, newlines) of words.
pub fn parse_script(script: &str) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut has = false;
    let mut chars = script.chars().peekable();
    let mut quote: Option<char> = None;
    let flush_word = |cur: &mut String, has: &mut bool, words: &mut Vec<String>| {
        if *has {
            words.push(std::mem::take(cur));
            *has = false;
        }
    };
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            if c == q {
                quote = None;
            } else if c == '\\' && q == '"' {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            } else {
                cur.push(c);
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                has = true;
            }
            '\\' => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    has = true;
                }
            }
            ' ' | '\t' => flush_word(&mut cur, &mut has, &mut words),
            ';' | '\n' => {
                flush_word(&mut cur, &mut has, &mut words);
                if !words.is_empty() {
                    cmds.push(std::mem::take(&mut words));
                }
            }
            '&' | '|' if chars.peek() == Some(&c) => {
                chars.next();
                flush_word(&mut cur, &mut has, &mut words);
                if !words.is_empty() {
                    cmds.push(std::mem::take(&mut words));
                }
            }
            _ => {
                cur.push(c);
                has = true;
            }
        }
    }
    flush_word(&mut cur, &mut has, &mut words);
    if !words.is_empty() {
        cmds.push(words);
    }
    cmds
}

fn is_shell(s: &str) -> bool {
    matches!(
        s.rsplit('/').next().unwrap_or(s),
        "sh" | "bash" | "ash" | "dash" | "zsh"
    )
}

/// The commands a scripted container runs, from its command + args.
pub fn script_for(argv: &[String]) -> Vec<Vec<String>> {
    if argv.is_empty() {
        return vec![];
    }
    if is_shell(&argv[0]) {
        if argv.get(1).map(|a| a == "-c").unwrap_or(false) {
            return parse_script(argv.get(2).map(|s| s.as_str()).unwrap_or(""));
        }
        // An interactive shell.
        return vec![];
    }
    vec![argv.to_vec()]
}

const BUILTINS: &[&str] = &[
    "echo", "printf", "exit", "true", ":", "false", "sleep", "cat", "head",
];

fn starts_interactive(argv: &[String]) -> bool {
    match script_for(argv).first() {
        None => true,
        Some(cmd) => !BUILTINS.contains(&cmd[0].as_str()),
    }
}

fn run_script(p: &Arc<Process>, rx: Receiver<Vec<u8>>, spec: &Spec) -> i32 {
    let cmds = script_for(&spec.argv);
    if cmds.is_empty() {
        return interactive(p, &rx, spec);
    }
    let mut status = 0;
    for cmd in cmds {
        if p.is_killed() {
            return 137;
        }
        let (mut args, to_stderr) = {
            let mut a = cmd.clone();
            let err = a.iter().any(|w| w == ">&2" || w == "1>&2");
            a.retain(|w| w != ">&2" && w != "1>&2");
            (a, err)
        };
        let stream = if to_stderr { 2 } else { 1 };
        let name = args.remove(0);
        status = match name.as_str() {
            "echo" => {
                let newline = args.first().map(|a| a != "-n").unwrap_or(true);
                if !newline {
                    args.remove(0);
                }
                let mut s = args.join(" ");
                if newline {
                    s.push('\n');
                }
                p.emit(stream, s.as_bytes());
                0
            }
            "printf" => {
                let s = args
                    .first()
                    .cloned()
                    .unwrap_or_default()
                    .replace("\\n", "\n")
                    .replace("\\t", "\t");
                p.emit(stream, s.as_bytes());
                0
            }
            "exit" => return args.first().and_then(|a| a.parse().ok()).unwrap_or(status),
            // `head -c N [FILE]`: N zero bytes (as from /dev/zero) in 64 KiB writes, for
            // throughput benchmarks.
            "head" => match args.as_slice() {
                [c, n, ..] if c == "-c" => match n.parse::<usize>() {
                    Ok(mut left) => {
                        let chunk = vec![0u8; 64 * 1024];
                        while left > 0 {
                            if p.is_killed() {
                                return 137;
                            }
                            let k = left.min(chunk.len());
                            p.emit(stream, &chunk[..k]);
                            left -= k;
                        }
                        0
                    }
                    Err(_) => 1,
                },
                _ => 1,
            },
            "true" | ":" => 0,
            "false" => 1,
            "sleep" => {
                let secs = match args.first().map(|s| s.as_str()) {
                    Some("infinity") => f64::INFINITY,
                    Some(s) => s.trim_end_matches('s').parse::<f64>().unwrap_or(0.0),
                    None => 0.0,
                };
                let d = if secs.is_finite() {
                    Duration::from_secs_f64(secs.max(0.0))
                } else {
                    Duration::from_secs(u64::MAX / 4)
                };
                if !p.sleep(d) {
                    return 137;
                }
                0
            }
            "cat" => {
                loop {
                    match rx.recv_timeout(Duration::from_millis(50)) {
                        Ok(data) => p.emit(1, &data),
                        Err(RecvTimeoutError::Timeout) => {
                            if p.is_killed() {
                                return 137;
                            }
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
                0
            }
            _ => return interactive(p, &rx, spec),
        };
    }
    status
}

/// Banner, then echo stdin back until it closes (or a line `exit [N]`).
fn interactive(p: &Arc<Process>, rx: &Receiver<Vec<u8>>, spec: &Spec) -> i32 {
    if !spec.banner.is_empty() {
        p.emit(1, spec.banner.as_bytes());
    }
    if !spec.stdin {
        // A service without stdin: runs until killed.
        while p.sleep(Duration::from_secs(3600)) {}
        return 137;
    }
    let mut line = Vec::new();
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(data) => {
                let mut out = Vec::with_capacity(data.len());
                for &b in &data {
                    if spec.tty && b == b'\r' {
                        out.extend_from_slice(b"\r\n");
                    } else {
                        out.push(b);
                    }
                }
                p.emit(1, &out);
                for &b in &data {
                    if b == b'\n' || b == b'\r' {
                        let l = String::from_utf8_lossy(&line).trim().to_string();
                        line.clear();
                        if l == "exit" {
                            return 0;
                        }
                        if let Some(n) = l.strip_prefix("exit ") {
                            if let Ok(code) = n.trim().parse() {
                                return code;
                            }
                        }
                    } else if b == 4 && spec.tty && line.is_empty() {
                        return 0;
                    } else {
                        line.push(b);
                    }
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if p.is_killed() {
                    return 137;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return 0,
        }
    }
}

fn open_pty() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut master: libc::c_int = -1;
    let mut slave: libc::c_int = -1;
    // SAFETY: openpty with valid out pointers; name/termios/winsize may be null.
    let r = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: openpty returned two fresh descriptors we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) })
}

/// A container that targets one whose root the server holds, as `kdebug cp`'s do: run for
/// real, `/proc/1/root` (or `/proc/1/cwd`) in its command meaning the target's root
/// directory (its idle helper and the commands exec'd into it run for real too).
fn reaches_target_root(spec: &Spec) -> bool {
    spec.target_root.is_some()
}

/// The command with the target's `/proc/1/root` and `/proc/1/cwd` (its working directory is
/// its root here) pointing at its root directory on this machine.
fn on_target_root(argv: &[String], root: &std::path::Path) -> Vec<String> {
    let root = root.to_string_lossy();
    argv.iter()
        .map(|a| {
            a.replace("/proc/1/root", &root)
                .replace("/proc/1/cwd", &root)
        })
        .collect()
}

fn run_real(p: &Arc<Process>, rx: Receiver<Vec<u8>>, spec: &Spec) -> std::io::Result<i32> {
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    let argv: Vec<String> =
        if let (true, Some(root)) = (reaches_target_root(spec), &spec.target_root) {
            on_target_root(&spec.argv, root)
        } else if spec.exec_root.is_some() {
            let mut argv = spec.argv.clone();
            for a in argv.iter_mut().skip(1) {
                if a == "/" {
                    // The container's root is the working directory here.
                    *a = ".".into();
                } else if a.len() > 1 && a.starts_with('/') {
                    a.remove(0);
                }
            }
            argv
        } else if spec.argv.is_empty() {
            if spec.tty {
                vec!["/bin/sh".into(), "-i".into()]
            } else {
                vec!["/bin/sh".into()]
            }
        } else {
            spec.argv.clone()
        };
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    if let Some(root) = &spec.exec_root {
        cmd.current_dir(root);
    }
    if let Some(bin) = &spec.image_bin {
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("PATH", format!("{}:{path}", bin.display()));
    }
    cmd.env("TERM", "xterm")
        .env("HOSTNAME", &spec.name)
        .env("PS1", format!("{}:$PWD# ", spec.name));
    let mut readers = Vec::new();
    let writer: Box<dyn Write + Send>;
    let child;
    if spec.tty {
        let (master, slave) = open_pty()?;
        // Publish the master first, then apply a size that may have come before it.
        *p.pty_master.lock().unwrap_or_else(|e| e.into_inner()) = Some(master.try_clone()?);
        let size = *p.size.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((w, h)) = size {
            p.resize(w, h);
        }
        let s_in = slave.try_clone()?;
        let s_out = slave.try_clone()?;
        cmd.stdin(Stdio::from(s_in))
            .stdout(Stdio::from(s_out))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::ioctl(0, libc::TIOCSCTTY, 0);
                Ok(())
            });
        }
        child = cmd.spawn()?;
        let mut r = File::from(master.try_clone()?);
        writer = Box::new(File::from(master.try_clone()?));
        *p.pty_master.lock().unwrap_or_else(|e| e.into_inner()) = Some(master);
        let p2 = p.clone();
        readers.push(thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                p2.emit(1, &buf[..n]);
            }
        }));
    } else {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut c = cmd.spawn()?;
        writer = Box::new(c.stdin.take().expect("stdin"));
        for (stream, mut r) in [
            (
                1u8,
                Box::new(c.stdout.take().expect("stdout")) as Box<dyn Read + Send>,
            ),
            (2u8, Box::new(c.stderr.take().expect("stderr"))),
        ] {
            let p2 = p.clone();
            readers.push(thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = r.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    p2.emit(stream, &buf[..n]);
                }
            }));
        }
        child = c;
    }
    // Close our copies of the PTY slave / pipe ends held by the Command.
    drop(cmd);
    *p.pid.lock().unwrap_or_else(|e| e.into_inner()) = Some(child.id() as i32);
    let tty = spec.tty;
    let p3 = p.clone();
    thread::spawn(move || {
        let mut w = writer;
        loop {
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(data) => {
                    if w.write_all(&data).is_err() {
                        break;
                    }
                    let _ = w.flush();
                }
                Err(RecvTimeoutError::Timeout) => {
                    if p3.is_killed() || p3.exit_code().is_some() {
                        break;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    if tty {
                        let _ = w.write_all(&[4]);
                    }
                    break;
                }
            }
        }
    });
    let mut child = child;
    let status = child.wait()?;
    // The PTY master only reports EOF once every slave descriptor is closed; give the
    // readers a moment, then drop the master so they end.
    let deadline = Instant::now() + Duration::from_millis(300);
    for r in readers {
        while !r.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        if r.is_finished() {
            let _ = r.join();
        }
    }
    p.pty_master
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    Ok(status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(9)))
}

/// Kill every container process (server stop).
pub fn kill_all(shared: &Shared) {
    let procs: Vec<Arc<Process>> = shared
        .procs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .values()
        .cloned()
        .collect();
    for p in procs {
        p.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        assert_eq!(
            parse_script("echo hi; exit 3"),
            vec![
                vec!["echo".to_string(), "hi".into()],
                vec!["exit".into(), "3".into()]
            ]
        );
        assert_eq!(
            parse_script("echo 'a b' && sleep 1"),
            vec![
                vec!["echo".to_string(), "a b".into()],
                vec!["sleep".into(), "1".into()]
            ]
        );
        assert_eq!(script_for(&["sh".into()]), Vec::<Vec<String>>::new());
    }

    fn spec(argv: &[&str], stdin: bool) -> Spec {
        Spec {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            stdin,
            stdin_once: false,
            tty: false,
            mode: ContainerMode::Echo,
            banner: "banner\n".into(),
            initial_log: String::new(),
            name: "t".into(),
            target_root: None,
            image_bin: None,
            exec_root: None,
        }
    }

    #[test]
    fn echo_exit_code() {
        let (tx, rx) = channel();
        let p = spawn(
            spec(&["sh", "-c", "echo hi; exit 3"], false),
            Box::new(move |c| tx.send(c).unwrap()),
        );
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 3);
        assert_eq!(p.log_bytes(), b"hi\n");
    }

    #[test]
    fn head_writes_n_bytes() {
        let (tx, rx) = channel();
        let p = spawn(
            spec(&["sh", "-c", "head -c 200000 /dev/zero; echo done"], false),
            Box::new(move |c| tx.send(c).unwrap()),
        );
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 0);
        let log = p.log_bytes();
        assert_eq!(log.len(), 200_000 + 5);
        assert!(log[..200_000].iter().all(|&b| b == 0));
    }

    #[test]
    fn cat_echoes_until_eof() {
        let (tx, rx) = channel();
        let p = spawn(spec(&["cat"], true), Box::new(move |c| tx.send(c).unwrap()));
        p.write_stdin(b"abc\n");
        p.close_stdin();
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), 0);
        assert_eq!(p.log_bytes(), b"abc\n");
    }
}
