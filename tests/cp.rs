//! `kdebug cp` against fakecluster with root filesystems (`Options::rootfs`): the target's
//! files sit in `ROOTFS/NS/POD/CONTAINER`, which has no `tar`; the copy container reaches
//! them at `/proc/1/root` and runs the host's tar for real.

use std::fs;
use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use fakecluster::Options;

use crate::util::{Dir, Env};

/// A fake cluster whose pod web-0 (container app) has its root in the returned directory.
fn env(name: &str) -> (Env, PathBuf) {
    let roots = Dir::new(&format!("{name}-roots"));
    let root = roots.path().join("default/web-0/app");
    fs::create_dir_all(&root).unwrap();
    let env = Env::with(
        name,
        Options {
            rootfs: Some(roots.path().to_path_buf()),
            ..Options::default()
        },
    );
    std::mem::forget(roots);
    (env, root)
}

/// [`env`], with the directory `dir` in the target's root.
fn env_with_dir(name: &str, dir: &str) -> (Env, PathBuf) {
    let (env, root) = env(name);
    fs::create_dir_all(root.join(dir)).unwrap();
    (env, root)
}

/// Gives the container whose root is `root` what kubectl cp and kdebug's fast path exec
/// there: `sh`, `tar` and `test` (links to the host's).
fn with_tar(root: &Path) {
    fs::create_dir_all(root.join("bin")).unwrap();
    for prog in ["sh", "tar", "test"] {
        let host = ["/bin", "/usr/bin"]
            .iter()
            .map(|d| Path::new(d).join(prog))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no {prog} on this machine"));
        symlink(host, root.join("bin").join(prog)).unwrap();
    }
}

/// Every entry under `root`: path, kind, permission bits, size, contents of files.
fn listing(root: &Path) -> Vec<(String, char, u32, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let md = fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let (kind, data) = if md.file_type().is_symlink() {
                (
                    'l',
                    fs::read_link(&p)
                        .unwrap()
                        .to_string_lossy()
                        .as_bytes()
                        .to_vec(),
                )
            } else if md.is_dir() {
                stack.push(p.clone());
                ('d', Vec::new())
            } else {
                ('f', fs::read(&p).unwrap())
            };
            out.push((rel, kind, md.mode() & 0o7777, data));
        }
    }
    out.sort();
    out
}

fn tree(root: &Path) {
    fs::create_dir_all(root.join("sub/deeper")).unwrap();
    fs::write(root.join("a.txt"), "alpha\n").unwrap();
    fs::write(root.join("sub/run.sh"), "#!/bin/sh\necho hi\n").unwrap();
    fs::set_permissions(root.join("sub/run.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::write(root.join("sub/deeper/bin"), (0..=255u8).collect::<Vec<_>>()).unwrap();
    symlink("../a.txt", root.join("sub/link")).unwrap();
}

#[test]
fn a_file_and_a_tree_come_out_of_a_container_without_tar() {
    let (env, root) = env_with_dir("cp-out", "etc");
    fs::write(root.join("etc/app.conf"), "key=value\n").unwrap();
    fs::set_permissions(root.join("etc/app.conf"), fs::Permissions::from_mode(0o640)).unwrap();
    let r = env.run(&["cp", "-v=6", "web-0:/etc/app.conf", "app.conf"]);
    r.assert_code(0);
    r.assert_stderr_contains("I0000 cp.go] container app cannot run the copy itself (");
    r.assert_stderr_contains("executable file not found in $PATH");
    r.assert_stderr_contains("kdebug: copying through helper container kdebug-cp-");
    let got = env.dir.path().join("app.conf");
    assert_eq!(fs::read_to_string(&got).unwrap(), "key=value\n");
    assert_eq!(fs::metadata(&got).unwrap().mode() & 0o777, 0o640);

    tree(&root.join("srv/data"));
    let r = env.run(&["cp", "-v=6", "default/web-0:/srv/data", "out"]);
    r.assert_code(0);
    r.assert_stderr_contains("I0000 cp.go] reusing helper container kdebug-cp-");
    assert!(
        !r.stderr().contains("kdebug: copying through"),
        "{}",
        r.dump()
    );
    assert_eq!(
        listing(&env.dir.path().join("out")),
        listing(&root.join("srv/data"))
    );

    // The second copy added no container: one helper, targeting app, marked as kdebug's.
    let pod = env.cluster.pod("default", "web-0").unwrap();
    let ecs = pod["spec"]["ephemeralContainers"].as_array().unwrap();
    assert_eq!(ecs.len(), 1);
    let c = &ecs[0];
    assert!(c["name"].as_str().unwrap().starts_with("kdebug-cp-"), "{c}");
    assert_eq!(c["targetContainerName"], "app");
    assert_eq!(c["command"][3], "kdebug-cp-helper");
    assert_eq!(c["securityContext"]["capabilities"]["add"][0], "SYS_PTRACE");
    let execs = exec_queries(&env);
    // The target once; the second copy found the running helper in the pod it read.
    assert_eq!(execs.len(), 3, "target once, helper twice: {execs:?}");
}

#[test]
fn a_file_and_a_tree_go_into_a_container() {
    let (env, root) = env("cp-in");
    let src = env.dir.path().join("payload");
    tree(&src);
    fs::create_dir_all(root.join("srv")).unwrap();
    // An existing directory: the copy goes inside it, under its own name.
    env.run(&["cp", "payload", "web-0:/srv"]).assert_code(0);
    assert_eq!(listing(&root.join("srv/payload")), listing(&src));
    // A new name: the copy becomes it.
    env.run(&["cp", "payload/a.txt", "web-0:/srv/renamed.txt"])
        .assert_code(0);
    assert_eq!(
        fs::read_to_string(root.join("srv/renamed.txt")).unwrap(),
        "alpha\n"
    );
    // Under a directory that does not exist: the container's message and its exit code.
    let r = env.run(&["cp", "payload/a.txt", "web-0:/nope/x.txt"]);
    r.assert_code(1);
    r.assert_stderr_contains("kdebug: /nope/x.txt: No such file or directory in the container");
    r.assert_stderr_contains("command terminated with exit code 1");
}

#[test]
fn a_missing_path_gets_kubectls_message() {
    let (env, _root) = env("cp-missing");
    let r = env.run(&["cp", "web-0:/no/such/file", "x"]);
    r.assert_code(2);
    r.assert_stderr_contains("tar: /no/such/file: Cannot stat: No such file or directory");
    r.assert_stderr_contains("command terminated with exit code 2");
    assert!(!env.dir.path().join("x").exists());
    let r = env.run(&["cp", "missing-local", "web-0:/tmp"]);
    r.assert_code(1);
    r.assert_stderr_contains("error: missing-local doesn't exist in local filesystem");
}

/// One ustar member (GNU and busybox read these).
fn member(out: &mut Vec<u8>, name: &str, flag: u8, data: &[u8], link: &str) {
    let mut h = [0u8; 512];
    h[..name.len()].copy_from_slice(name.as_bytes());
    let octal = |h: &mut [u8; 512], at: usize, len: usize, v: u64| {
        let s = format!("{v:0w$o}\0", w = len - 1);
        h[at..at + len].copy_from_slice(s.as_bytes());
    };
    octal(&mut h, 100, 8, if flag == b'5' { 0o755 } else { 0o644 });
    octal(&mut h, 108, 8, 0);
    octal(&mut h, 116, 8, 0);
    octal(&mut h, 124, 12, data.len() as u64);
    octal(&mut h, 136, 12, 1_700_000_000);
    h[156] = flag;
    h[157..157 + link.len()].copy_from_slice(link.as_bytes());
    h[257..263].copy_from_slice(b"ustar\0");
    h[263..265].copy_from_slice(b"00");
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

/// A debug image whose `tar` sends `archive` whatever it is asked (a compromised pod).
fn hostile_image(env_root: &Path, archive: &[u8]) {
    let roots = env_root.ancestors().nth(3).unwrap();
    let bin = roots.join(".images/evil_1/bin");
    fs::create_dir_all(&bin).unwrap();
    fs::write(roots.join("hostile.tar"), archive).unwrap();
    let tar = bin.join("tar");
    fs::write(
        &tar,
        format!("#!/bin/sh\ncat '{}'\n", roots.join("hostile.tar").display()),
    )
    .unwrap();
    fs::set_permissions(&tar, fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_hostile_archive_from_the_pod_is_refused_entry_by_entry() {
    let (env, root) = env_with_dir("cp-hostile", "data");
    let mut a = Vec::new();
    member(&mut a, "data/", b'5', b"", "");
    member(&mut a, "data/ok.txt", b'0', b"fine\n", "");
    member(&mut a, "/etc/evil", b'0', b"x", "");
    member(&mut a, "data/../../escape.txt", b'0', b"x", "");
    member(&mut a, "data/up", b'2', b"", "../../outside");
    member(&mut a, "data/etc", b'2', b"", "/etc");
    member(&mut a, "data/etc/passwd", b'0', b"x", "");
    member(&mut a, "data/tty", b'3', b"", "");
    member(&mut a, "data/sub/ok2.txt", b'0', b"also fine\n", "");
    a.extend_from_slice(&[0u8; 1024]);
    hostile_image(&root, &a);

    let base = env.dir.path().join("dest");
    fs::create_dir_all(&base).unwrap();
    let r = env.run(&["cp", "--image=evil:1", "web-0:/data", "dest/got"]);
    r.assert_code(1);
    for refused in [
        "warning: \"/etc/evil\": refused: absolute path",
        "warning: \"data/../../escape.txt\": refused: path contains \"..\"",
        "warning: \"data/up\": refused: symlink target \"../../outside\" leaves the destination",
        "warning: \"data/etc\": refused: symlink target \"/etc\" leaves the destination",
        "warning: \"data/tty\": skipped:",
    ] {
        r.assert_stderr_contains(refused);
    }
    // What was fine is there (`etc/passwd` inside the destination, as the symlink that
    // would have sent it out was not made); nothing else anywhere under the test's directory.
    assert_eq!(
        listing(&base),
        vec![
            ("got".into(), 'd', 0o755, vec![]),
            ("got/etc".into(), 'd', 0o755, vec![]),
            ("got/etc/passwd".into(), 'f', 0o644, b"x".to_vec()),
            ("got/ok.txt".into(), 'f', 0o644, b"fine\n".to_vec()),
            ("got/sub".into(), 'd', 0o755, vec![]),
            (
                "got/sub/ok2.txt".into(),
                'f',
                0o644,
                b"also fine\n".to_vec()
            ),
        ]
    );
    for outside in ["escape.txt", "outside", "etc", "dest/escape.txt"] {
        assert!(!env.dir.path().join(outside).exists(), "{outside}");
    }
}

/// Deterministic bytes that do not compress.
fn noise(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[test]
fn a_hundred_megabytes_come_out_in_one_piece() {
    let (env, root) = env("cp-100mb");
    let data = noise(100 << 20);
    fs::write(root.join("big.bin"), &data).unwrap();
    let r = env.run(&["cp", "web-0:/big.bin", "big.bin"]);
    r.assert_code(0);
    let got = fs::read(env.dir.path().join("big.bin")).unwrap();
    assert_eq!(got.len(), data.len());
    assert!(got == data, "the copy differs from the original");
}

#[test]
fn retries_resume_a_broken_copy_where_it_stopped() {
    let (env, root) = env("cp-retries");
    let data = noise(3 << 20);
    fs::write(root.join("big.bin"), &data).unwrap();
    // Through a helper, the first exec breaks after 5 frames (a loaded machine delivers the
    // 3 MiB in fewer, bigger ones: 20 were once not reached); kubectl's --retries resumes
    // from that byte, in the same helper.
    env.cluster.set_fault_on(
        fakecluster::Fault::CloseWebSocketAfter { frames: 5 },
        "/exec?command=sh&command=-c&command=d%3D",
    );
    let r = env.run(&["cp", "--retries=2", "web-0:/big.bin", "big.bin"]);
    r.assert_code(0);
    r.assert_stderr_contains("Resuming copy at ");
    r.assert_stderr_contains(" bytes, retry 1/2");
    let got = fs::read(env.dir.path().join("big.bin")).unwrap();
    assert!(
        got == data,
        "the resumed copy differs ({} bytes)",
        got.len()
    );
    let pod = env.cluster.pod("default", "web-0").unwrap();
    assert_eq!(
        pod["spec"]["ephemeralContainers"].as_array().unwrap().len(),
        1
    );
    let resumed = exec_queries(&env)
        .into_iter()
        .filter(|q| q.contains("tail"))
        .count();
    assert_eq!(resumed, 1);

    // One copy container per copy (no helper): each attempt is a new one, patched on the
    // pod read again.
    env.cluster.set_fault_on(
        fakecluster::Fault::CloseWebSocketAfter { frames: 5 },
        "/attach",
    );
    let r = env.run(&[
        "cp",
        "--helper-idle=0",
        "--retries=2",
        "web-0:/big.bin",
        "b2.bin",
    ]);
    r.assert_code(0);
    r.assert_stderr_contains(" bytes, retry 1/2");
    assert!(fs::read(env.dir.path().join("b2.bin")).unwrap() == data);
    let pod = env.cluster.pod("default", "web-0").unwrap();
    let ecs = pod["spec"]["ephemeralContainers"].as_array().unwrap();
    assert_eq!(
        ecs.len(),
        3,
        "the helper, then one copy container per attempt"
    );
    assert!(ecs[2]["command"][2]
        .as_str()
        .unwrap()
        .contains("| tail -c +"));
    let patches: Vec<_> = env
        .mutations()
        .into_iter()
        .filter(|m| m["method"] == "PATCH")
        .collect();
    let order = &patches[2]["body"]["spec"]["$setElementOrder/ephemeralContainers"];
    assert_eq!(order[1]["name"], ecs[1]["name"], "{}", patches[2]["body"]);

    // Without --retries the same break fails the copy, naming what happened.
    env.cluster.set_fault_on(
        fakecluster::Fault::CloseWebSocketAfter { frames: 5 },
        "/exec?command=sh&command=-c&command=d%3D",
    );
    let r = env.run(&["cp", "web-0:/big.bin", "again.bin"]);
    r.assert_code(1);
    r.assert_stderr_contains(
        "error: failed to read the archive: lost the connection to the copy container: ",
    );
    r.assert_stderr_contains(
        "hint: --retries=N resumes a copy out of a pod whose connection broke",
    );
}

#[test]
fn where_pod_security_forbids_ptrace_the_copy_runs_as_the_targets_user() {
    let (env, root) = env("cp-podsecurity");
    env.cluster.put_object(
        "Namespace",
        serde_json::json!({"metadata": {"name": "default", "labels": {
            "kubernetes.io/metadata.name": "default",
            "pod-security.kubernetes.io/enforce": "baseline"}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
    );
    let mut pod = env.cluster.pod("default", "web-0").unwrap();
    pod["spec"]["containers"][0]["securityContext"] =
        serde_json::json!({"runAsUser": 1000, "runAsGroup": 3000});
    env.cluster.put_object("Pod", pod);
    fs::write(root.join("notes"), "n\n").unwrap();

    let r = env.run(&["cp", "web-0:/notes", "notes"]);
    r.assert_code(0);
    r.assert_stderr_contains("kdebug: namespace default enforces Pod Security \"baseline\", which forbids the SYS_PTRACE capability; copying as container app's own user instead");
    assert_eq!(
        fs::read_to_string(env.dir.path().join("notes")).unwrap(),
        "n\n"
    );
    let patches: Vec<_> = env
        .mutations()
        .into_iter()
        .filter(|m| m["method"] == "PATCH")
        .collect();
    assert_eq!(patches.len(), 2, "{patches:?}");
    assert_eq!(patches[0]["response"]["status"], 403);
    assert_eq!(patches[1]["response"]["status"], 200);
    let pod = env.cluster.pod("default", "web-0").unwrap();
    let ec = &pod["spec"]["ephemeralContainers"][0];
    assert_eq!(ec["securityContext"]["runAsUser"], 1000, "{ec}");
    assert_eq!(ec["securityContext"]["runAsGroup"], 3000, "{ec}");
    assert!(
        ec["securityContext"]["capabilities"]["add"].is_null(),
        "{ec}"
    );
}

#[test]
fn dash_streams_a_tar_both_ways_and_no_preserve_drops_modes() {
    let (env, root) = env("cp-stream");
    tree(&root.join("srv/data"));
    // Out: a tar on stdout, readable by GNU tar.
    let out = env
        .cmd(&["cp", "web-0:/srv/data", "-"])
        .stderr(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success());
    let unpacked = env.dir.path().join("unpacked");
    fs::create_dir_all(&unpacked).unwrap();
    let mut tar = std::process::Command::new("tar")
        .args(["xf", "-", "-C"])
        .arg(&unpacked)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    tar.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    assert!(tar.wait().unwrap().success());
    assert_eq!(
        listing(&unpacked.join("data")),
        listing(&root.join("srv/data"))
    );

    // In: the same tar from stdin, into an existing directory.
    fs::create_dir_all(root.join("restore")).unwrap();
    let mut child = env
        .cmd(&["cp", "-", "web-0:/restore"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let done = child.wait_with_output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(
        listing(&root.join("restore/data")),
        listing(&root.join("srv/data"))
    );

    // The modification time comes along, unless --no-preserve.
    let old = root.join("srv/data/a.txt");
    let touched = std::process::Command::new("touch")
        .args(["-d", "@1000000000"])
        .arg(&old)
        .status()
        .unwrap();
    assert!(touched.success());
    let mtime = |p: &Path| fs::metadata(p).unwrap().mtime();
    env.run(&["cp", "web-0:/srv/data/a.txt", "a.txt"])
        .assert_code(0);
    assert_eq!(mtime(&env.dir.path().join("a.txt")), 1_000_000_000);
    env.run(&["cp", "--no-preserve", "web-0:/srv/data/a.txt", "b.txt"])
        .assert_code(0);
    assert!(mtime(&env.dir.path().join("b.txt")) > 1_000_000_000);
    // Into the pod likewise.
    env.run(&["cp", "a.txt", "web-0:/srv/kept.txt"])
        .assert_code(0);
    assert_eq!(mtime(&root.join("srv/kept.txt")), 1_000_000_000);
    env.run(&["cp", "--no-preserve", "a.txt", "web-0:/srv/fresh.txt"])
        .assert_code(0);
    assert!(mtime(&root.join("srv/fresh.txt")) > 1_000_000_000);
}

#[test]
fn list_shows_the_copy_container_and_bad_flags_are_refused() {
    let (env, root) = env("cp-list");
    fs::write(root.join("f"), "f").unwrap();
    env.run(&["cp", "web-0:/f", "f"]).assert_code(0);
    let r = env.run(&["list"]);
    r.assert_code(0);
    r.assert_stdout_contains("kdebug-cp-");
    let r = env.run(&["cp", "-it", "web-0:/f", "g"]);
    r.assert_code(1);
    r.assert_stderr_contains("error: -i/--stdin cannot be used with kdebug cp");
    let r = env.run(&["web-0", "--no-preserve"]);
    r.assert_code(1);
    r.assert_stderr_contains("--no-preserve, --retries and --helper-idle are for kdebug cp");
    let r = env.run(&["cp", "web-0:/f"]);
    r.assert_code(1);
    r.assert_stderr_contains("error: source and destination are required");
}

/// kubectl cp on a target that has tar (fakecluster runs its exec in the target's root) and
/// kdebug cp on the same tree leave the same files behind, both ways.
#[test]
fn the_same_tree_as_kubectl_cp_leaves() {
    let Some(kubectl) = crate::util::kubectl("1.33") else {
        fakecluster::kubectl_missing("kubectl.1.33");
        return;
    };
    let (env, root) = env("cp-kubectl");
    with_tar(&root);
    tree(&root.join("srv/data"));
    let kubectl_cp = |args: &[&str]| {
        let out = std::process::Command::new(&kubectl)
            .arg("--kubeconfig")
            .arg(&env.kubeconfig)
            .arg("cp")
            .args(args)
            .current_dir(env.dir.path())
            .env("HOME", env.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    kubectl_cp(&["web-0:/srv/data", "theirs"]);
    env.run(&["cp", "web-0:/srv/data", "ours"]).assert_code(0);
    // Out of the pod kubectl cp skips symlinks (it warns) and writes every file 0644 (less
    // the umask); kdebug keeps both, as the modes of the source show. The rest is the same.
    let plain = |v: Vec<(String, char, u32, Vec<u8>)>| {
        v.into_iter()
            .filter(|e| e.1 != 'l')
            .map(|(p, k, _, d)| (p, k, d))
            .collect::<Vec<_>>()
    };
    let theirs = listing(&env.dir.path().join("theirs"));
    assert!(theirs.iter().all(|e| e.1 != 'l'), "{theirs:?}");
    assert_eq!(plain(listing(&env.dir.path().join("ours"))), plain(theirs));
    assert_eq!(
        listing(&env.dir.path().join("ours")),
        listing(&root.join("srv/data"))
    );

    fs::create_dir_all(root.join("in")).unwrap();
    kubectl_cp(&["ours", "web-0:/in/theirs"]);
    env.run(&["cp", "ours", "web-0:/in/ours"]).assert_code(0);
    assert_eq!(
        listing(&root.join("in/ours")),
        listing(&root.join("in/theirs"))
    );
}

#[test]
fn a_refused_read_says_what_to_try() {
    let (env, root) = env("cp-denied");
    fs::write(root.join("secret"), "s").unwrap();
    // A debug image whose tar is refused the file, as a user without access would be.
    let roots = root.ancestors().nth(3).unwrap();
    let bin = roots.join(".images/denied/bin");
    fs::create_dir_all(&bin).unwrap();
    fs::write(
        bin.join("tar"),
        "#!/bin/sh\necho 'tar: secret: Cannot open: Permission denied' >&2\nexit 2\n",
    )
    .unwrap();
    fs::set_permissions(bin.join("tar"), fs::Permissions::from_mode(0o755)).unwrap();
    let r = env.run(&["cp", "--image=denied", "web-0:/secret", "secret"]);
    r.assert_code(2);
    r.assert_stderr_contains("tar: secret: Cannot open: Permission denied");
    r.assert_stderr_contains("command terminated with exit code 2");
    r.assert_stderr_contains(
        "hint: the copy container ran as root with SYS_PTRACE and was still refused",
    );
}

// ---- A hostile stream: the copy container (or the target's own tar) may be compromised ----

/// A debug image `IMAGE` whose program `prog` (`tar`, or `sh` to answer for the copy
/// container's script) is `script`: what a compromised image would run.
fn hostile_program(env_root: &Path, image: &str, prog: &str, script: &str) -> PathBuf {
    let roots = env_root.ancestors().nth(3).unwrap();
    let bin = roots.join(".images").join(image).join("bin");
    fs::create_dir_all(&bin).unwrap();
    let p = bin.join(prog);
    fs::write(&p, format!("#!/bin/sh\n{script}\n")).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    roots.to_path_buf()
}

/// A debug image whose `tar` runs `script`, where `ARCHIVE` names a file holding `archive`.
fn hostile_tar(env_root: &Path, image: &str, archive: &[u8], script: &str) -> PathBuf {
    let roots = env_root.ancestors().nth(3).unwrap();
    let file = roots.join(format!("{image}.tar"));
    fs::write(&file, archive).unwrap();
    let script = script.replace("ARCHIVE", &format!("'{}'", file.display()));
    hostile_program(env_root, image, "tar", &script);
    file
}

/// A good archive of one file `data/ok.txt`.
fn one_file_archive() -> Vec<u8> {
    let mut a = Vec::new();
    member(&mut a, "data/", b'5', b"", "");
    member(&mut a, "data/ok.txt", b'0', b"fine\n", "");
    a.extend_from_slice(&[0u8; 1024]);
    a
}

/// After the end-of-archive marker nothing more is read (the container may send forever),
/// and an archive error ends the copy at once, however long the stream goes on.
#[test]
fn a_stream_is_read_to_its_end_marker_or_its_first_error_and_no_further() {
    let (env, root) = env_with_dir("cp-trailing", "data");
    hostile_tar(
        &root,
        "trailing",
        &one_file_archive(),
        "cat ARCHIVE; head -c 1000000 /dev/urandom; exec sleep 100",
    );
    let start = std::time::Instant::now();
    let r = env.run(&["cp", "--image=trailing", "web-0:/data", "got"]);
    r.assert_code(0);
    assert_eq!(
        fs::read_to_string(env.dir.path().join("got/ok.txt")).unwrap(),
        "fine\n"
    );
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());

    hostile_program(
        &root,
        "garbage",
        "tar",
        "head -c 4096 /dev/urandom; exec sleep 100",
    );
    let start = std::time::Instant::now();
    let r = env.run(&["cp", "--image=garbage", "web-0:/data", "bad"]);
    r.assert_code(1);
    r.assert_stderr_contains("error: bad tar header");
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}

/// The copy container's answer (`D` or `F`, before the archive goes in) is one short line:
/// an endless one is refused, not held in memory.
#[test]
fn an_endless_answer_line_is_refused() {
    let (env, root) = env_with_dir("cp-longline", "srv");
    hostile_program(
        &root,
        "chatty",
        "sh",
        "head -c 67108864 /dev/zero | tr '\\0' D; exec sleep 100",
    );
    fs::write(env.dir.path().join("f"), "f").unwrap();
    let r = env.run(&["cp", "--image=chatty", "f", "web-0:/srv"]);
    r.assert_code(1);
    r.assert_stderr_contains("error: the copy container's answer is longer than ");
}

/// Children of a tar stream, as GNU tar writes a long name: an `L` member, then the entry.
fn long_named(out: &mut Vec<u8>, name: &str, flag: u8) {
    let mut n = name.as_bytes().to_vec();
    n.push(0);
    member(out, "././@LongLink", b'L', &n, "");
    member(out, &name[..name.len().min(99)], flag, b"", "");
}

/// Peak RSS of `cmd` (KiB; its VmHWM, read until it exits: a child's ru_maxrss would carry
/// this test process's own size from before the exec), its exit code and its stderr.
fn peak_rss(mut cmd: std::process::Command) -> (u64, i32, String) {
    let errf = std::env::temp_dir().join(format!("kdebug-rss-{}.err", std::process::id()));
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(fs::File::create(&errf).unwrap())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    let start = std::time::Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code().unwrap_or(-1);
        }
        let hwm = fs::read_to_string(&status).unwrap_or_default();
        let kib = hwm
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse().ok());
        peak = peak.max(kib.unwrap_or(0));
        assert!(start.elapsed().as_secs() < 120, "kdebug ran past 120 s");
        // A sampling interval, not a wait: the high-water mark is read while kdebug runs.
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    let err = fs::read_to_string(&errf).unwrap_or_default();
    let _ = fs::remove_file(&errf);
    (peak, code, err)
}

/// A tree of 24,000 directories whose paths are each about 3,900 bytes long: the directory
/// bookkeeping (modes and times set once a directory is done) holds no path per directory.
#[test]
fn a_huge_directory_tree_stays_within_64_mib() {
    const DIRS: usize = 24_000;
    let (env, root) = env_with_dir("cp-hugetree", "top");
    let deep: Vec<String> = (0..14)
        .map(|i| format!("{i:02}{}", "p".repeat(250)))
        .collect();
    let parent = format!("top/{}", deep.join("/"));
    let mut a = Vec::with_capacity(DIRS * 5 * 512);
    member(&mut a, "top/", b'5', b"", "");
    for i in 0..DIRS {
        long_named(
            &mut a,
            &format!("{parent}/d{i:06}{}/", "q".repeat(120)),
            b'5',
        );
    }
    a.extend_from_slice(&[0u8; 1024]);
    let file = hostile_tar(&root, "deep", &a, "exec cat ARCHIVE");
    drop(a);
    let (kib, code, err) = peak_rss(env.cmd(&["cp", "--image=deep", "web-0:/top", "tree"]));
    let _ = fs::remove_file(file);
    assert_eq!(code, 0, "{err}");
    let made = fs::read_dir(env.dir.path().join("tree").join(deep.join("/")))
        .unwrap()
        .count();
    assert_eq!(made, DIRS);
    eprintln!("peak RSS for {DIRS} directories: {kib} KiB");
    assert!(kib < 64 << 10, "peak RSS {kib} KiB");
}

/// A header size that overflows u64 arithmetic (base-256 or pax) is refused where it is
/// read, not wrapped into a small skip that would read the member's data as headers.
#[test]
fn overflowing_sizes_are_refused_before_anything_is_skipped() {
    let (env, root) = env_with_dir("cp-overflow", "data");
    let mut inner = Vec::new();
    member(&mut inner, "data/evil", b'0', b"pwned", "");
    // Base-256 size u64::MAX; the checksum is computed after.
    let mut a = Vec::new();
    member(&mut a, "data/", b'5', b"", "");
    let mut h = Vec::new();
    member(&mut h, "data/huge", b'0', b"", "");
    h[124] = 0x80;
    h[125..128].fill(0);
    h[128..136].fill(0xff);
    h[148..156].copy_from_slice(b"        ");
    let sum: u32 = h[..512].iter().map(|&b| u32::from(b)).sum();
    h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    a.extend_from_slice(&h[..512]);
    a.extend_from_slice(&inner);
    a.extend_from_slice(&[0u8; 1024]);
    // A pax size of u64::MAX.
    let mut b = Vec::new();
    member(&mut b, "data/", b'5', b"", "");
    let rec = "29 size=18446744073709551615\n";
    member(&mut b, "PaxHeader", b'x', rec.as_bytes(), "");
    member(&mut b, "data/huge", b'0', b"", "");
    b.extend_from_slice(&inner);
    b.extend_from_slice(&[0u8; 1024]);
    for (image, archive, at) in [("big256", &a, 512), ("bigpax", &b, 1536)] {
        hostile_tar(&root, image, archive, "exec cat ARCHIVE");
        let r = env.run(&["cp", &format!("--image={image}"), "web-0:/data", image]);
        r.assert_code(1);
        r.assert_stderr_contains(&format!(
            "error: bad tar header at byte {at}: size out of range"
        ));
        assert!(!r.stderr().contains("panicked"), "{}", r.dump());
        assert!(!env.dir.path().join(image).join("evil").exists());
    }
}

/// A copy whose stream carries no archive bytes for the stall time ends, naming the stall,
/// though the connection lives (pings answered, stderr trickling).
#[test]
fn a_stalled_stream_ends_with_an_error() {
    let (env, root) = env_with_dir("cp-stall", "data");
    hostile_tar(
        &root,
        "stall",
        &one_file_archive(),
        "head -c 1024 ARCHIVE; for i in $(seq 60); do echo still here >&2; sleep 1; done",
    );
    let start = std::time::Instant::now();
    let r = env.run_env(
        &["cp", "--image=stall", "web-0:/data", "got"],
        &[("KDEBUG_CP_STALL", "3s")],
    );
    r.assert_code(1);
    r.assert_stderr_contains("no archive bytes for 3s");
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());

    // Into the pod: the other side answers, then neither reads nor ends.
    hostile_program(&root, "stuck", "sh", "echo D; exec sleep 100");
    fs::write(env.dir.path().join("f"), "f").unwrap();
    let start = std::time::Instant::now();
    let r = env.run_env(
        &["cp", "--image=stuck", "f", "web-0:/data"],
        &[("KDEBUG_CP_STALL", "3s")],
    );
    r.assert_code(1);
    r.assert_stderr_contains("no archive bytes for 3s");
    assert!(start.elapsed().as_secs() < 30, "{:?}", start.elapsed());
}

/// Text from the container reaches the terminal with its control characters escaped.
#[test]
fn escapes_from_the_container_are_shown_escaped() {
    let (env, root) = env_with_dir("cp-escapes", "x");
    hostile_program(
        &root,
        "escapes",
        "tar",
        "printf 'tar: \\033]0;pwned\\007\\033[2J oops\\n' >&2; exit 2",
    );
    let r = env.run(&["cp", "--image=escapes", "web-0:/x", "x"]);
    r.assert_code(2);
    r.assert_stderr_contains("tar: \\x1b]0;pwned\\x07\\x1b[2J oops\n");
    assert!(!r.output.stderr.contains(&0x1b), "{}", r.dump());
    assert!(!r.output.stderr.contains(&0x07), "{}", r.dump());
}

/// A destination directory that exists keeps its mode; what the copy creates gets the
/// archive's.
#[test]
fn an_existing_destination_keeps_its_mode() {
    let (env, root) = env("cp-destmode");
    let data = root.join("srv/data");
    fs::create_dir_all(data.join("made")).unwrap();
    fs::create_dir_all(data.join("kept")).unwrap();
    fs::write(data.join("made/f"), "f").unwrap();
    for (d, mode) in [(&data, 0o777), (&data.join("made"), 0o750)] {
        fs::set_permissions(d, fs::Permissions::from_mode(mode)).unwrap();
    }
    fs::set_permissions(data.join("kept"), fs::Permissions::from_mode(0o777)).unwrap();
    let dest = env.dir.path().join("dest");
    fs::create_dir_all(dest.join("kept")).unwrap();
    fs::set_permissions(&dest, fs::Permissions::from_mode(0o700)).unwrap();
    fs::set_permissions(dest.join("kept"), fs::Permissions::from_mode(0o700)).unwrap();
    env.run(&["cp", "web-0:/srv/data", "dest"]).assert_code(0);
    let mode = |p: &Path| fs::metadata(p).unwrap().mode() & 0o7777;
    assert_eq!(mode(&dest), 0o700);
    assert_eq!(mode(&dest.join("kept")), 0o700);
    assert_eq!(mode(&dest.join("made")), 0o750);
    assert_eq!(fs::read_to_string(dest.join("made/f")).unwrap(), "f");
}

// ---- Routes: the target's own tar, a helper, one container per copy ----

/// A target with tar: its own tar runs over pods/exec, both ways, and the pod gets no
/// ephemeral container.
#[test]
fn the_fast_path_runs_the_targets_own_tar_both_ways() {
    let (env, root) = env("cp-fast");
    with_tar(&root);
    tree(&root.join("srv/data"));
    let r = env.run(&["cp", "-v=6", "web-0:/srv/data", "out"]);
    r.assert_code(0);
    r.assert_stderr_contains("I0000 cp.go] copying with container app's own tar (pods/exec)");
    assert_eq!(
        listing(&env.dir.path().join("out")),
        listing(&root.join("srv/data"))
    );
    env.run(&["cp", "-v=6", "out", "web-0:/srv/back"])
        .assert_code(0)
        .assert_stderr_contains("I0000 cp.go] copying with container app's own tar (pods/exec)");
    assert_eq!(
        listing(&root.join("srv/back")),
        listing(&root.join("srv/data"))
    );
    // A file at the root (`tar -C /`).
    fs::write(root.join("top.txt"), "top").unwrap();
    env.run(&["cp", "web-0:/top.txt", "top.txt"]).assert_code(0);
    assert_eq!(
        fs::read_to_string(env.dir.path().join("top.txt")).unwrap(),
        "top"
    );
    // A missing path: the remote tar's words and code, as through a copy container.
    let r = env.run(&["cp", "web-0:/no/such", "x"]);
    r.assert_code(2);
    r.assert_stderr_contains("tar: ");
    r.assert_stderr_contains("Cannot stat: No such file or directory");
    r.assert_stderr_contains("command terminated with exit code 2");
    let pod = env.cluster.pod("default", "web-0").unwrap();
    assert!(
        pod["spec"]["ephemeralContainers"].is_null(),
        "{}",
        pod["spec"]
    );
    // kubectl's exec query: `command` repeated in order, then the streams.
    let exec = &exec_queries(&env)[0];
    assert!(
        exec.starts_with("command=sh&command=-c&command=command%20-v%20tar"),
        "{exec}"
    );
    assert!(
        exec.ends_with("&container=app&stderr=true&stdout=true"),
        "{exec}"
    );
}

/// Without exec permission every copy gets its own copy container, as before helpers, and
/// kdebug says why once.
#[test]
fn without_exec_permission_each_copy_gets_its_own_container() {
    let (env, root) = env("cp-noexec");
    with_tar(&root);
    fs::write(root.join("f"), "f").unwrap();
    let mut pod = env.cluster.pod("default", "web-0").unwrap();
    pod["metadata"]["annotations"] = serde_json::json!({"fake.kdebug/forbidden": "exec"});
    env.cluster.put_object("Pod", pod);
    for n in ["a", "b"] {
        let r = env.run(&["cp", "web-0:/f", n]);
        r.assert_code(0);
        r.assert_stderr_contains("kdebug: exec is not allowed in pod default/web-0 (pods \"web-0\" is forbidden: User \"fake-admin\" cannot create resource \"pods/exec\"");
        r.assert_stderr_contains("copying through a new ephemeral container for each copy");
        assert_eq!(r.stderr().matches("exec is not allowed").count(), 1);
        assert_eq!(fs::read_to_string(env.dir.path().join(n)).unwrap(), "f");
    }
    let pod = env.cluster.pod("default", "web-0").unwrap();
    let ecs = pod["spec"]["ephemeralContainers"].as_array().unwrap();
    assert_eq!(ecs.len(), 2);
    assert!(
        ecs.iter().all(|c| c["command"][3] == "kdebug-cp"),
        "{ecs:?}"
    );
}

/// The raw query of every exec request, in order.
fn exec_queries(env: &Env) -> Vec<String> {
    env.cluster
        .records()
        .into_iter()
        .filter(|r| r.raw["path"].as_str().is_some_and(|p| p.ends_with("/exec")))
        .map(|r| r.raw["raw_query"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Polls the pod until `container`'s state is terminated; its exit code.
fn wait_terminated(env: &Env, container: &str) -> i64 {
    let code = || {
        let pod = env.cluster.pod("default", "web-0").unwrap();
        let st = pod["status"]["ephemeralContainerStatuses"]
            .as_array()
            .and_then(|l| l.iter().find(|s| s["name"] == container).cloned());
        st.and_then(|s| s["state"]["terminated"]["exitCode"].as_i64())
    };
    crate::util::wait_until(
        &format!("{container} to end"),
        std::time::Duration::from_secs(10),
        || code().is_some(),
    );
    code().unwrap()
}

/// A helper ends by itself once idle; `list` shows helpers and their state; `gc` stops one.
#[test]
fn the_helper_ends_when_idle_and_gc_stops_it() {
    let (env, root) = env("cp-helper");
    fs::write(root.join("f"), "f").unwrap();
    let r = env.run(&["cp", "--helper-idle=2s", "web-0:/f", "f1"]);
    r.assert_code(0);
    r.assert_stderr_contains("ends after 2s without one");
    let helper = |i: usize| {
        let pod = env.cluster.pod("default", "web-0").unwrap();
        pod["spec"]["ephemeralContainers"][i]["name"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let first = helper(0);
    assert_eq!(wait_terminated(&env, &first), 0);
    let r = env.run(&["list"]);
    r.assert_code(0);
    let line = r
        .stdout()
        .lines()
        .find(|l| l.contains(&first))
        .unwrap()
        .to_string();
    assert!(
        line.contains("cp-helper") && line.contains("Terminated (0)"),
        "{line}"
    );

    // An ended helper is not reused: the next copy makes another, which gc stops.
    env.run(&["cp", "web-0:/f", "f2"]).assert_code(0);
    let second = helper(1);
    assert_ne!(first, second);
    let r = env.run(&["list"]);
    let line = r
        .stdout()
        .lines()
        .find(|l| l.contains(&second))
        .unwrap()
        .to_string();
    assert!(
        line.contains("cp-helper") && line.contains("Running"),
        "{line}"
    );
    let r = env.run(&["gc"]);
    r.assert_code(0);
    r.assert_stdout_contains(&format!(
        "helper container {second} of pod/web-0 stopped (namespace default; it stays in the pod's spec)"
    ));
    assert_eq!(wait_terminated(&env, &second), 0);
}

// ---- Images for clusters that cannot pull ----

/// `KDEBUG_IMAGE` is the copy container's image, and a debug run's where kubectl would
/// refuse the missing `--image`; `--image` overrides it.
#[test]
fn kdebug_image_is_the_default_debug_image() {
    let (env, root) = env("cp-kdebug-image");
    fs::write(root.join("f"), "f").unwrap();
    let vars = [("KDEBUG_IMAGE", "tools.example/box:2")];
    env.run_full(&["cp", "web-0:/f", "f"], None, &vars)
        .assert_code(0);
    let image = |i: usize| {
        let pod = env.cluster.pod("default", "web-0").unwrap();
        pod["spec"]["ephemeralContainers"][i]["image"].clone()
    };
    assert_eq!(image(0), "tools.example/box:2");

    let r = env.run(&["web-0", "-c", "dbg1", "--attach=false"]);
    r.assert_code(1);
    r.assert_stderr_contains("you must specify --image when not using --copy-to.");
    env.run_full(&["web-0", "-c", "dbg2", "--attach=false"], None, &vars)
        .assert_code(0);
    assert_eq!(image(1), "tools.example/box:2");
    env.run_full(
        &[
            "web-0",
            "-c",
            "dbg3",
            "--image=busybox:1.36",
            "--attach=false",
        ],
        None,
        &vars,
    )
    .assert_code(0);
    assert_eq!(image(2), "busybox:1.36");
}

/// An image the node cannot pull: the error names what the node already holds that could
/// serve, with the `--image=` to try and `KDEBUG_IMAGE`.
#[test]
fn a_pull_failure_names_the_images_the_node_holds() {
    let (env, root) = env("cp-pull");
    fs::write(root.join("f"), "f").unwrap();
    let hint = "hint: node node-1 already holds docker.io/library/busybox:1.36, with a shell and tar: try --image=docker.io/library/busybox:1.36, or set KDEBUG_IMAGE=docker.io/library/busybox:1.36 to make it the default";
    let r = env.run(&[
        "cp",
        "--image=registry.example/does-not-exist:1",
        "web-0:/f",
        "f",
    ]);
    r.assert_stderr_contains("cannot start: ErrImagePull: ");
    r.assert_stderr_contains(hint);
    assert_ne!(r.code(), 0);
    let r = env.run(&[
        "web-0",
        "--image=registry.example/does-not-exist:1",
        "--attach",
        "--",
        "true",
    ]);
    r.assert_code(125);
    r.assert_stderr_contains(hint);

    // A node that cannot be read (here: not there): nothing more is said.
    let mut pod = env.cluster.pod("default", "web-0").unwrap();
    pod["spec"]["nodeName"] = serde_json::json!("node-gone");
    env.cluster.put_object("Pod", pod);
    let r = env.run(&[
        "cp",
        "--image=registry.example/does-not-exist:2",
        "web-0:/f",
        "g",
    ]);
    r.assert_stderr_contains("cannot start: ErrImagePull: ");
    assert!(!r.stderr().contains("hint: node"), "{}", r.dump());
}

/// A server that speaks only v4 (Kubernetes before 1.29, R14): out of the pod the target's
/// tar still serves; into it an exec cannot end its stdin, so a copy container does, and no
/// helper is made.
#[test]
fn over_v4_a_copy_in_goes_through_its_own_container() {
    let (env, root) = env("cp-v4");
    with_tar(&root);
    fs::write(root.join("f"), "f").unwrap();
    fs::create_dir_all(root.join("in")).unwrap();
    let mut pod = env.cluster.pod("default", "web-0").unwrap();
    pod["metadata"]["annotations"] =
        serde_json::json!({"fake.kdebug/protocols": "v4.channel.k8s.io"});
    env.cluster.put_object("Pod", pod);
    env.run(&["cp", "-v=6", "web-0:/f", "f"])
        .assert_code(0)
        .assert_stderr_contains("copying with container app's own tar (pods/exec)");
    let r = env.run(&["cp", "-v=6", "f", "web-0:/in/g"]);
    r.assert_code(0);
    r.assert_stderr_contains("the server speaks no v5.channel.k8s.io");
    r.assert_stderr_contains("kdebug: copying through ephemeral container kdebug-cp-");
    assert_eq!(fs::read_to_string(root.join("in/g")).unwrap(), "f");
    let pod = env.cluster.pod("default", "web-0").unwrap();
    let ecs = pod["spec"]["ephemeralContainers"].as_array().unwrap();
    assert_eq!(ecs.len(), 1, "{ecs:?}");
    assert_eq!(ecs[0]["command"][3], "kdebug-cp");
}
