//! Security properties, checked through the binary: TLS verification is on unless turned off,
//! credentials never travel over plain HTTP, secrets never reach any output (`-v=9`
//! included), exec plugins run without a shell under kubectl's environment rules, and
//! `--custom`/`-f` input is bounded in size and in depth.

use std::time::{Duration, Instant};

use base64::Engine;
use fakecluster::Options;

use crate::util::{Env, Run};

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn kubeconfig(env: &Env, name: &str, cluster: &str, user: &str) -> std::path::PathBuf {
    env.dir.write(
        name,
        &format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n{cluster}contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n    namespace: default\ncurrent-context: c\nusers:\n- name: u\n  user:\n{user}",
            env.cluster.url()
        ),
    )
}

fn ca_line(env: &Env) -> String {
    format!(
        "    certificate-authority-data: {}\n",
        b64(&env.cluster.ca_pem().unwrap())
    )
}

// --- (a) TLS verification and plain HTTP --------------------------------------------------

#[test]
fn tls_is_verified_without_a_ca_in_the_kubeconfig() {
    let env = Env::new("sec-tls-default");
    let token = format!("    token: {}\n", env.cluster.token());
    let kc = kubeconfig(&env, "no-ca", "", &token);
    // An empty trust store elsewhere than the fake's CA: the system roots.
    let bundle = env.dir.write(
        "roots.pem",
        &fakecluster::FakeCluster::start(Options::default())
            .unwrap()
            .ca_pem()
            .unwrap(),
    );
    let r = env.run_env(
        &[
            "--kubeconfig",
            kc.to_str().unwrap(),
            "web-0",
            "--image=busybox",
        ],
        &[("SSL_CERT_FILE", bundle.to_str().unwrap())],
    );
    r.assert_code(1)
        .assert_stderr_contains("x509: certificate signed by unknown authority");
    assert!(env.cluster.requests().is_empty(), "a request was sent");
}

#[test]
fn tls_verification_is_off_only_when_asked() {
    let env = Env::new("sec-tls-off");
    let token = format!("    token: {}\n", env.cluster.token());
    // In the kubeconfig.
    let kc = kubeconfig(
        &env,
        "insecure",
        "    insecure-skip-tls-verify: true\n",
        &token,
    );
    env.run(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "web-0",
        "--image=busybox",
        "-q",
    ])
    .assert_code(0);
    // By the flag.
    let kc = kubeconfig(&env, "no-ca", "", &token);
    env.run(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--insecure-skip-tls-verify",
        "web-0",
        "--image=busybox",
        "-q",
    ])
    .assert_code(0);
    // And a wrong name is still refused with verification on.
    let kc = kubeconfig(&env, "ca", &ca_line(&env), &token);
    env.run(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--tls-server-name=other.example",
        "web-0",
        "--image=busybox",
    ])
    .assert_code(1)
    .assert_stderr_contains("x509: certificate is valid for localhost, not other.example");
}

#[test]
fn no_credentials_over_plain_http() {
    let env = Env::with(
        "sec-plain",
        Options {
            tls: false,
            ..Options::default()
        },
    );
    let plugin_ran = env.dir.path().join("plugin-ran");
    let plugin = env.dir.write(
        "plugin.sh",
        &format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"x\"}}}}'\n",
            plugin_ran.display()
        ),
    );
    make_executable(&plugin);
    let users = [
        format!("    token: {}\n", env.cluster.token()),
        "    username: admin\n    password: hunter2-plain\n".to_string(),
        format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      interactiveMode: Never\n",
            plugin.display()
        ),
    ];
    for (i, user) in users.iter().enumerate() {
        let kc = kubeconfig(&env, &format!("plain-{i}"), "", user);
        let r = env.run(&[
            "--kubeconfig",
            kc.to_str().unwrap(),
            "web-0",
            "--image=busybox",
        ]);
        r.assert_code(1)
            .assert_stderr_contains("error: You must be logged in to the server (Unauthorized)");
    }
    // The --token flag too.
    let r = env.run(&["--token", env.cluster.token(), "web-0", "--image=busybox"]);
    r.assert_code(1);
    let requests = env.cluster.requests();
    assert!(requests.len() >= 4);
    for q in &requests {
        assert!(
            q["headers"].get("Authorization").is_none(),
            "credentials sent over http: {q:#}"
        );
    }
    assert!(
        !plugin_ran.exists(),
        "the exec plugin ran for an http server"
    );
}

fn make_executable(p: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

// --- (b) secrets never printed -------------------------------------------------------------

const SECRETS: &[&str] = &[
    "s3cr3t-t0ken-QX7",
    "s3cr3t-passw0rd-QX7",
    "s3cr3t-exec-t0ken-QX7",
    "s3cr3t-env-QX7",
    "s3cr3t-idt0ken-QX7",
];

#[track_caller]
fn assert_no_secret(r: &Run, secrets: &[String]) {
    let all = format!("{}{}", r.stdout(), r.stderr());
    for s in secrets {
        assert!(
            !all.contains(s.as_str()),
            "secret {s:?} printed{}",
            r.dump()
        );
    }
}

#[test]
fn secrets_never_reach_any_output() {
    let env = Env::new("sec-grep");
    let admin = env.cluster.client_cert().unwrap();
    let key_b64 = b64(&admin.key_pem);
    // Every secret, the key both as the kubeconfig's base64 and as PEM lines.
    let mut secrets: Vec<String> = SECRETS.iter().map(|s| s.to_string()).collect();
    secrets.push(env.cluster.token().to_string());
    secrets.push(key_b64.clone());
    secrets.push(key_b64[10..50].to_string());
    for line in admin.key_pem.lines().filter(|l| !l.starts_with("-----")) {
        secrets.push(line.to_string());
    }

    // An exec plugin that hands out a token, and one that fails after printing half a
    // credential.
    let good_plugin = env.dir.write(
        "good.sh",
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"s3cr3t-exec-t0ken-QX7\"}}'\n",
    );
    let bad_plugin = env.dir.write(
        "bad.sh",
        "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"s3cr3t-exec-t0ken-QX7\"'\n",
    );
    let failing_plugin = env.dir.write("fail.sh", "#!/bin/sh\nexit 3\n");
    for p in [&good_plugin, &bad_plugin, &failing_plugin] {
        make_executable(p);
    }
    let exec_user = |cmd: &std::path::Path| {
        format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      env:\n      - name: API_KEY\n        value: s3cr3t-env-QX7\n      interactiveMode: Never\n",
            cmd.display()
        )
    };
    let ca = ca_line(&env);
    let configs = [
        ("admin-token", format!("    token: {}\n", env.cluster.token())),
        ("wrong-token", "    token: s3cr3t-t0ken-QX7\n".to_string()),
        (
            "cert",
            format!(
                "    client-certificate-data: {}\n    client-key-data: {key_b64}\n",
                b64(&admin.cert_pem)
            ),
        ),
        (
            "basic",
            "    username: admin\n    password: s3cr3t-passw0rd-QX7\n".to_string(),
        ),
        ("exec-good", exec_user(&good_plugin)),
        ("exec-bad", exec_user(&bad_plugin)),
        ("exec-fail", exec_user(&failing_plugin)),
        (
            "oidc",
            "    auth-provider:\n      name: oidc\n      config:\n        id-token: s3cr3t-idt0ken-QX7\n        refresh-token: s3cr3t-t0ken-QX7\n        client-secret: s3cr3t-passw0rd-QX7\n".to_string(),
        ),
        // A broken file whose broken line holds a secret.
        (
            "broken",
            "    token: s3cr3t-t0ken-QX7\n    password: [s3cr3t-passw0rd-QX7\n".to_string(),
        ),
    ];
    let mut runs = 0;
    for (name, user) in &configs {
        let kc = kubeconfig(&env, name, &ca, user);
        let kc = kc.to_str().unwrap();
        for args in [
            vec![
                "--kubeconfig",
                kc,
                "-v=9",
                "web-0",
                "--image=busybox",
                "-c",
                name,
            ],
            vec!["--kubeconfig", kc, "-v=9", "nope", "--image=busybox"],
            vec![
                "--kubeconfig",
                kc,
                "-v=9",
                "web-0",
                "--image=busybox",
                "--copy-to",
                "web-sec",
                "--rm",
                "--attach",
                "--",
                "true",
            ],
            vec!["--kubeconfig", kc, "-v=9", "list"],
            vec!["config", "view", "--kubeconfig", kc],
            vec!["config", "view", "--kubeconfig", kc, "--minify"],
            vec!["config", "view", "--kubeconfig", kc, "-o", "json"],
            vec!["config", "get-contexts", "--kubeconfig", kc],
        ] {
            let r = env.run(&args);
            assert!(!r.stderr().contains("panicked"), "{}", r.dump());
            if args[0] == "config" {
                // kubectl's `config view` shows an exec plugin's env values (they are
                // configuration, not credentials), and so does kdebug's.
                let shown: Vec<String> = secrets
                    .iter()
                    .filter(|s| s.as_str() != "s3cr3t-env-QX7")
                    .cloned()
                    .collect();
                assert_no_secret(&r, &shown);
            } else {
                assert_no_secret(&r, &secrets);
            }
            runs += 1;
        }
    }
    // Secrets given as flags.
    for args in [
        vec![
            "--token",
            "s3cr3t-t0ken-QX7",
            "-v=9",
            "web-0",
            "--image=busybox",
        ],
        vec![
            "--username",
            "admin",
            "--password",
            "s3cr3t-passw0rd-QX7",
            "-v=9",
            "web-0",
            "--image=busybox",
        ],
        vec!["--token", "s3cr3t-t0ken-QX7", "-v=9", "--bogus-flag"],
    ] {
        let r = env.run(&args);
        assert_no_secret(&r, &secrets);
        runs += 1;
    }
    assert!(runs > 70);
    // The check itself works: --raw shows what the others hide.
    let kc = kubeconfig(&env, "raw", &ca, "    token: s3cr3t-t0ken-QX7\n");
    let r = env.run(&[
        "config",
        "view",
        "--raw",
        "--kubeconfig",
        kc.to_str().unwrap(),
    ]);
    assert!(r.stdout().contains("s3cr3t-t0ken-QX7"), "{}", r.dump());
    // As does --flatten (kubectl's: flattening implies the raw data).
    let r = env.run(&[
        "config",
        "view",
        "--kubeconfig",
        kc.to_str().unwrap(),
        "--flatten",
    ]);
    assert!(r.stdout().contains("s3cr3t-t0ken-QX7"), "{}", r.dump());
}

// --- (c) exec plugins: no shell, kubectl's environment ------------------------------------

#[test]
fn exec_plugins_run_without_a_shell_and_with_kubectls_environment() {
    let env = Env::new("sec-exec-env");
    let record = env.dir.path().join("record");
    let pwned = env.dir.path().join("pwned");
    let plugin = env.dir.write(
        "plugin.sh",
        &format!(
            "#!/bin/sh\n{{ for a in \"$@\"; do echo \"arg=$a\"; done; echo \"cfg=$CFG_VAR\"; echo \"inherited=$INHERITED_VAR\"; echo \"info=$KUBERNETES_EXEC_INFO\"; }} > '{}'\necho 'plugin says hi' >&2\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{}\"}}}}'\n",
            record.display(),
            env.cluster.token()
        ),
    );
    make_executable(&plugin);
    let user = format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: {}\n      args:\n      - \"$(touch {p})\"\n      - \"; touch {p}\"\n      - \"a b\"\n      env:\n      - name: CFG_VAR\n        value: from-config\n      - name: INHERITED_VAR\n        value: overridden\n      provideClusterInfo: true\n      interactiveMode: Never\n",
        plugin.display(),
        p = pwned.display()
    );
    let kc = kubeconfig(&env, "exec", &ca_line(&env), &user);
    let r = env.run_env(
        &[
            "--kubeconfig",
            kc.to_str().unwrap(),
            "web-0",
            "--image=busybox",
            "-q",
        ],
        &[("INHERITED_VAR", "from-parent")],
    );
    r.assert_code(0);
    // The plugin's stderr reaches the user (kubectl passes it through).
    r.assert_stderr_contains("plugin says hi");
    assert!(!pwned.exists(), "an argument went through a shell");
    let rec = std::fs::read_to_string(&record).unwrap();
    let p = pwned.display();
    assert!(rec.contains(&format!("arg=$(touch {p})\n")), "{rec}");
    assert!(rec.contains(&format!("arg=; touch {p}\n")), "{rec}");
    assert!(rec.contains("arg=a b\n"), "{rec}");
    assert!(rec.contains("cfg=from-config\n"), "{rec}");
    // The kubeconfig's env wins over the inherited environment (client-go appends it).
    assert!(rec.contains("inherited=overridden\n"), "{rec}");
    let info_line = rec.lines().find(|l| l.starts_with("info=")).unwrap();
    let info: serde_json::Value = serde_json::from_str(&info_line[5..]).unwrap();
    assert_eq!(info["kind"], "ExecCredential");
    assert_eq!(info["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(info["spec"]["interactive"], false);
    assert_eq!(info["spec"]["cluster"]["server"], env.cluster.url());
}

#[test]
fn a_relative_exec_command_resolves_against_the_kubeconfig_directory() {
    let env = Env::new("sec-exec-rel");
    std::fs::create_dir_all(env.dir.path().join("conf/bin")).unwrap();
    let plugin = env.dir.write(
        "conf/bin/plugin.sh",
        &format!(
            "#!/bin/sh\necho '{{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{}\"}}}}'\n",
            env.cluster.token()
        ),
    );
    make_executable(&plugin);
    let user = "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: ./bin/plugin.sh\n      interactiveMode: Never\n";
    let kc = kubeconfig(&env, "conf/config", &ca_line(&env), user);
    // Run from elsewhere: the command is not looked up in the working directory.
    env.run(&[
        "--kubeconfig",
        kc.to_str().unwrap(),
        "web-0",
        "--image=busybox",
        "-q",
    ])
    .assert_code(0);
}

// --- (d) bounded input ---------------------------------------------------------------------

fn billion_laughs() -> String {
    let mut s = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (i, c) in "bcdefghijklmnop".chars().enumerate() {
        let prev = (b'a' + i as u8) as char;
        s.push_str(&format!(
            "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
        ));
    }
    s
}

#[track_caller]
fn assert_clean_failure(r: &Run, message: &str, started: Instant) {
    r.assert_code(1).assert_stderr_contains(message);
    assert!(
        !r.stderr().contains("panicked") && !r.stderr().contains("overflow"),
        "{}",
        r.dump()
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn custom_input_is_bounded() {
    let env = Env::new("sec-custom");
    let big = env.dir.write(
        "big.json",
        &format!(
            "{{\"env\":[{{\"name\":\"A\",\"value\":\"{}\"}}]}}",
            "x".repeat(5 << 20)
        ),
    );
    let t = Instant::now();
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "--custom",
        big.to_str().unwrap(),
    ]);
    assert_clean_failure(&r, "file is larger than 4194304 bytes", t);
    // An endless file is refused without being read whole.
    let t = Instant::now();
    let r = env.run(&["web-0", "--image=busybox", "--custom", "/dev/zero"]);
    assert_clean_failure(&r, "file is larger than 4194304 bytes", t);

    let laughs = env.dir.write("laughs.yaml", &billion_laughs());
    let t = Instant::now();
    let r = env.run(&[
        "web-0",
        "--image=busybox",
        "--custom",
        laughs.to_str().unwrap(),
    ]);
    assert_clean_failure(&r, "does not contain a valid container spec", t);

    for (name, text) in [
        ("deep-flow.yaml", "[".repeat(100_000)),
        (
            "deep-block.yaml",
            (0..5000)
                .map(|i| format!("{}- \n", " ".repeat(i)))
                .collect::<String>(),
        ),
        (
            "deep-json.json",
            format!("{}{}", "{\"a\":".repeat(50_000), "}".repeat(50_000)),
        ),
    ] {
        let f = env.dir.write(name, &text);
        let t = Instant::now();
        let r = env.run(&["web-0", "--image=busybox", "--custom", f.to_str().unwrap()]);
        assert_clean_failure(&r, "does not contain a valid container spec", t);
    }
    assert!(env.mutations().is_empty());
}

#[test]
fn filename_input_is_bounded() {
    let env = Env::new("sec-filename");
    let big = env.dir.write(
        "big.yaml",
        &format!(
            "kind: Pod\nmetadata:\n  name: web-0\n  annotations:\n    a: {}\n",
            "x".repeat(5 << 20)
        ),
    );
    let t = Instant::now();
    let r = env.run(&["-f", big.to_str().unwrap(), "--image=busybox"]);
    assert_clean_failure(&r, "is larger than 4194304 bytes", t);
    // From stdin too.
    let t = Instant::now();
    let r = env.run_with_stdin(&["-f", "-", "--image=busybox"], Some(&"#".repeat(5 << 20)));
    assert_clean_failure(&r, "is larger than 4194304 bytes", t);

    let t = Instant::now();
    let r = env.run(&["-f", "/dev/zero", "--image=busybox"]);
    assert_clean_failure(&r, "is larger than 4194304 bytes", t);

    let laughs = env.dir.write("laughs.yaml", &billion_laughs());
    let t = Instant::now();
    let r = env.run(&["-f", laughs.to_str().unwrap(), "--image=busybox"]);
    assert_clean_failure(&r, "error parsing", t);

    for (name, text) in [
        ("deep-flow.yaml", "[".repeat(100_000)),
        (
            "deep-map.yaml",
            (0..2000)
                .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
                .collect::<String>(),
        ),
        (
            "deep-json.json",
            format!("{}{}", "[".repeat(200_000), "]".repeat(200_000)),
        ),
    ] {
        let f = env.dir.write(name, &text);
        let t = Instant::now();
        let r = env.run(&["-f", f.to_str().unwrap(), "--image=busybox"]);
        assert_clean_failure(&r, "error parsing", t);
    }
    assert!(env.mutations().is_empty());
}
