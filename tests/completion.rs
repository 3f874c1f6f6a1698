//! Shell completion (issue 16): each shell loads `kdebug completion SHELL` and is asked for a
//! flag, a profile value and a pod name from fakecluster. A shell that is not installed skips
//! the test, saying so, and fails it under `CI=true` (`.ci/run` installs zsh and fish).

use std::process::Command;

use crate::util::Env;

/// Runs `script` in `shell` with kdebug first on PATH and the cluster's kubeconfig, or
/// `None` when the shell is not installed.
fn in_shell(env: &Env, shell: &str, args: &[&str], script: &str) -> Option<String> {
    if Command::new(shell).arg("--version").output().is_err() {
        crate::util::tool_missing(shell, &format!("apt-get install {shell}"));
        return None;
    }
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join("kdebug");
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kdebug"), &link).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let file = env.dir.write(&format!("t.{shell}"), script);
    let out = Command::new(shell)
        .args(args)
        .arg(&file)
        .env("PATH", path)
        .env("KUBECONFIG", &env.kubeconfig)
        .env("HOME", env.dir.path())
        .current_dir(env.dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{shell} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(stdout)
}

/// The candidates printed after the `== LINE` marker, up to the next marker.
fn offered<'a>(out: &'a str, line: &str) -> Vec<&'a str> {
    let marker = format!("== {line}");
    out.lines()
        .skip_while(|l| *l != marker)
        .skip(1)
        .take_while(|l| !l.starts_with("== "))
        .map(|l| l.trim())
        .collect()
}

fn check(out: &str) {
    assert!(
        offered(out, "kdebug web-0 --pro").contains(&"--profile"),
        "{out}"
    );
    let profile = offered(out, "kdebug web-0 --profile=sy");
    assert!(
        profile.iter().any(|c| c.ends_with("sysadmin")),
        "{profile:?} in {out}"
    );
    assert!(offered(out, "kdebug we").contains(&"web-0"), "{out}");
    assert!(
        offered(out, "kdebug node/")
            .iter()
            .any(|c| c.ends_with("node-1")),
        "{out}"
    );
}

const LINES: &[&str] = &[
    "kdebug web-0 --pro",
    "kdebug web-0 --profile=sy",
    "kdebug we",
    "kdebug node/",
];

#[test]
fn bash_completes_flags_profiles_and_pods() {
    let env = Env::new("complete-bash");
    // What bash's readline hands the function: COMP_WORDS split at spaces and at `=`.
    let mut script = String::from("source <(kdebug completion bash)\n");
    script.push_str(
        r#"t() {
    COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
    local split="${1//=/ = }"
    read -r -a COMP_WORDS <<< "$split"
    [[ "$1" == *" " ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    _kdebug_complete
    echo "== $1"
    local c
    for c in "${COMPREPLY[@]}"; do echo "${c}"; done
}
"#,
    );
    for l in LINES {
        script.push_str(&format!("t '{l}'\n"));
    }
    let Some(out) = in_shell(&env, "bash", &["--norc"], &script) else {
        return;
    };
    check(&out);
    // bash replaces only the word after `=`.
    assert_eq!(offered(&out, "kdebug web-0 --profile=sy"), ["sysadmin"]);
}

#[test]
fn zsh_completes_flags_profiles_and_pods() {
    let env = Env::new("complete-zsh");
    // compadd only works inside the completion system: a stand-in prints what is offered.
    let mut script = String::from(
        r#"compadd() { while [[ $1 == -* && $1 != -- ]]; do [[ $1 == -S ]] && shift; shift; done; [[ $1 == -- ]] && shift; print -rl -- "$@"; }
source <(kdebug completion zsh)
t() { words=("${(@s: :)1}"); CURRENT=${#words}; print -r -- "== $1"; _kdebug; }
"#,
    );
    for l in LINES {
        script.push_str(&format!("t '{l}'\n"));
    }
    if let Some(out) = in_shell(&env, "zsh", &["-f"], &script) {
        check(&out);
    }
}

#[test]
fn fish_completes_flags_profiles_and_pods() {
    let env = Env::new("complete-fish");
    // `complete -C` runs fish's own completion machinery on a command line.
    let mut script = String::from("kdebug completion fish | source\n");
    for l in LINES {
        script.push_str(&format!("echo '== {l}'\ncomplete -C '{l}'\n"));
    }
    if let Some(out) = in_shell(&env, "fish", &["--no-config"], &script) {
        // fish prints `candidate<TAB>description`.
        let out: String = out
            .lines()
            .map(|l| l.split('\t').next().unwrap_or(""))
            .collect::<Vec<_>>()
            .join("\n");
        check(&out);
    }
}

#[test]
fn complete_asks_the_server_for_containers_and_namespaces() {
    let env = Env::new("complete-remote");
    env.run(&["web-0", "--image=busybox", "-c", "dbg", "--attach=false"])
        .assert_code(0);
    let lines = |args: &[&str]| -> Vec<String> {
        let r = env.run(args);
        r.assert_code(0);
        r.stdout().lines().map(String::from).collect()
    };
    // attach -c: the debug containers; --target: the pod's own.
    assert_eq!(lines(&["__complete", "attach", "web-0", "-c", ""]), ["dbg"]);
    assert_eq!(
        lines(&["__complete", "web-0", "--target", ""]),
        ["app", "sidecar"]
    );
    assert_eq!(lines(&["__complete", "-n", "kube-s"]), ["kube-system"]);
    assert_eq!(lines(&["__complete", "--context", "fake-"]), ["fake-cert"]);
    assert_eq!(lines(&["__complete", "--kubeconfig", ""]), [":files"]);
    // cp: the pods, for POD:PATH.
    assert_eq!(lines(&["__complete", "cp", "we"]), ["web-0"]);
}

#[test]
fn complete_without_a_server_prints_nothing() {
    let env = Env::new("complete-offline");
    // Nothing listens on port 1; the lookup fails and nothing at all is printed.
    let r = env.run(&["__complete", "--server=https://127.0.0.1:1", "we"]);
    r.assert_code(0);
    assert_eq!(r.stdout(), "", "{}", r.dump());
    assert_eq!(r.stderr(), "", "{}", r.dump());
    // A kubeconfig that does not exist: the same.
    let r = env.run(&["__complete", "--kubeconfig=/nonexistent", "-n", ""]);
    assert_eq!((r.stdout(), r.stderr()), (String::new(), String::new()));
}
