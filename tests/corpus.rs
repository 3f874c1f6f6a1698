//! The kubeconfig conformance corpus: every case recorded from kubectl is replayed through the
//! real kdebug binary and compared the way the corpus README prescribes.
//!
//! `KUBECONFIG_CORPUS=<dir>/cases` selects the cases (default: the shared corpus). When the
//! directory does not exist the test says so and passes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde_json::Value;

const DEFAULT_CORPUS: &str = "/work/shared/kubeconfig-corpus/cases";

/// How one case ended.
enum Outcome {
    Pass(&'static str),
    Skip(String),
    Fail(String),
}

struct Case {
    name: String,
    dir: PathBuf,
}

fn read(dir: &Path, file: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(file)).ok()?;
    Some(text.replace("@CASE_DIR@", &dir.to_string_lossy()))
}

#[test]
fn kubeconfig_corpus() {
    let root = std::env::var_os("KUBECONFIG_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_CORPUS));
    let Ok(entries) = std::fs::read_dir(&root) else {
        println!(
            "kubeconfig corpus skipped: {} does not exist (set KUBECONFIG_CORPUS)",
            root.display()
        );
        return;
    };
    let mut cases: Vec<Case> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().join("cmd").is_file())
        .map(|e| Case {
            name: e.file_name().to_string_lossy().into_owned(),
            dir: e.path(),
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(!cases.is_empty(), "no cases under {}", root.display());

    // A throw-away HOME so that no real ~/.kube/config is ever read.
    let home = std::env::temp_dir().join(format!("kdebug-corpus-home-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&home);

    let (mut passed, mut exact, mut skipped, mut failed) = (0, 0, 0, Vec::new());
    for case in &cases {
        let canon = case.dir.canonicalize().unwrap_or_else(|_| case.dir.clone());
        let case = Case {
            name: case.name.clone(),
            dir: canon,
        };
        let outcome = run_case(&case, &home);
        match &outcome {
            Outcome::Pass(how) => {
                passed += 1;
                if *how == "exact" {
                    exact += 1;
                }
                println!("PASS {} ({how})", case.name);
            }
            Outcome::Skip(why) => {
                skipped += 1;
                println!("SKIP {}: {why}", case.name);
            }
            Outcome::Fail(why) => {
                println!("FAIL {}: {why}", case.name);
                failed.push(case.name.clone());
            }
        }
    }
    let _ = std::fs::remove_dir_all(&home);
    println!(
        "kubeconfig corpus {}: {} cases, {passed} passed ({exact} exact), {skipped} skipped, {} failed",
        root.display(),
        cases.len(),
        failed.len()
    );
    assert!(failed.is_empty(), "failing corpus cases: {failed:?}");
}

fn run_case(case: &Case, home: &Path) -> Outcome {
    let Some(cmd) = read(&case.dir, "cmd") else {
        return Outcome::Fail("cannot read cmd".into());
    };
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let mut env = Vec::new();
    let mut i = 0;
    while i < words.len() && words[i].contains('=') && !words[i].starts_with('-') {
        if let Some((k, v)) = words[i].split_once('=') {
            env.push((k.to_string(), v.to_string()));
        }
        i += 1;
    }
    if words.get(i) != Some(&"kubectl") {
        return Outcome::Skip(format!("command is not a kubectl invocation: {cmd}"));
    }
    let args = &words[i + 1..];
    if args.first() != Some(&"config") {
        return Outcome::Skip(format!(
            "only `kubectl config` commands are modelled: {cmd}"
        ));
    }
    let sub = args.get(1).copied().unwrap_or("");
    if !matches!(sub, "view" | "current-context" | "get-contexts") {
        return Outcome::Skip(format!(
            "`kubectl config {sub}` is not part of kdebug (it only reads kubeconfigs)"
        ));
    }

    let mut c = Command::new(env!("CARGO_BIN_EXE_kdebug"));
    c.args(args)
        .current_dir(&case.dir)
        .env_remove("KUBECONFIG")
        .env("HOME", home);
    for (k, v) in &env {
        c.env(k, v);
    }
    let out = match c.output() {
        Ok(o) => o,
        Err(e) => return Outcome::Fail(format!("cannot run kdebug: {e}")),
    };
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let rc = out.status.code().unwrap_or(-1);
    let want_rc: i32 = read(&case.dir, "expected.rc")
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0);

    if want_rc != 0 {
        return check_error(case, rc, &stderr);
    }
    if rc != 0 {
        return Outcome::Fail(format!("exit {rc}, want 0; stderr: {}", stderr.trim()));
    }
    if !stderr.is_empty() {
        return Outcome::Fail(format!("unexpected stderr: {}", stderr.trim()));
    }
    if let Some(want) = read(&case.dir, "expected.json") {
        let want: Value = match serde_json::from_str(&want) {
            Ok(v) => v,
            Err(e) => return Outcome::Fail(format!("expected.json is not JSON: {e}")),
        };
        let got: Value = match serde_json::from_str(&stdout) {
            Ok(v) => v,
            Err(e) => return Outcome::Fail(format!("output is not JSON ({e}): {stdout}")),
        };
        if got == want {
            return Outcome::Pass("exact");
        }
        if normalise(&got) == normalise(&want) {
            return Outcome::Pass("equal modulo the allowed normalisations");
        }
        return Outcome::Fail(format!(
            "JSON differs\n--- want\n{}\n--- got\n{}",
            serde_json::to_string_pretty(&want).unwrap_or_default(),
            serde_json::to_string_pretty(&got).unwrap_or_default()
        ));
    }
    if let Some(want) = read(&case.dir, "expected.out") {
        if stdout == want {
            return Outcome::Pass("exact");
        }
        return Outcome::Fail(format!("output differs\n--- want\n{want}--- got\n{stdout}"));
    }
    Outcome::Fail("case has neither expected.json nor expected.out".into())
}

/// Error cases: non-zero exit; the message names the file and, for syntax and type errors, a
/// line near the defect (expected.line or kubectl's own line, ±2); semantic errors must carry
/// the gist of kubectl's message.
fn check_error(case: &Case, rc: i32, stderr: &str) -> Outcome {
    if rc == 0 {
        return Outcome::Fail("exit 0, want an error".into());
    }
    if stderr.trim().is_empty() {
        return Outcome::Fail("failed without a message on stderr".into());
    }
    let want_err = read(&case.dir, "expected.err").unwrap_or_default();
    let Some(line_spec) = read(&case.dir, "expected.line") else {
        return check_gist(stderr, &want_err);
    };
    let line_spec = line_spec.trim();
    let (file, line) = match line_spec.rsplit_once(':') {
        Some((f, l)) => (f, l.parse::<usize>().ok()),
        None => (line_spec, None),
    };
    if !stderr.contains(&format!("{file:?}")) && !stderr.contains(file) {
        return Outcome::Fail(format!("message does not name {file}: {stderr}"));
    }
    let Some(want_line) = line else {
        return Outcome::Pass("error names the file");
    };
    let Some(got_line) = first_line_number(stderr) else {
        return Outcome::Fail(format!(
            "message names no line (want {want_line}): {stderr}"
        ));
    };
    let kubectl_line = first_line_number(&want_err);
    let near = |l: usize| got_line.abs_diff(l) <= 2;
    if near(want_line) || kubectl_line.is_some_and(near) {
        Outcome::Pass("error names the file and the line")
    } else {
        Outcome::Fail(format!(
            "line {got_line}, want {want_line} (kubectl said {kubectl_line:?}): {stderr}"
        ))
    }
}

/// The number after the first "line " in a message.
fn first_line_number(s: &str) -> Option<usize> {
    let at = s.find("line ")? + 5;
    let digits: String = s[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// Same message, or one that carries every quoted name of kubectl's and its final clause.
fn check_gist(got: &str, want: &str) -> Outcome {
    if got == want {
        return Outcome::Pass("exact");
    }
    let want = want.trim().trim_start_matches("error: ");
    let last = want.rsplit(": ").next().unwrap_or(want).trim();
    let quoted: Vec<&str> = want.split('"').skip(1).step_by(2).collect();
    if got.contains(last) && quoted.iter().all(|q| got.contains(q)) {
        Outcome::Pass("same gist as kubectl's message")
    } else {
        Outcome::Fail(format!(
            "message {got:?} lacks the gist of kubectl's {want:?}"
        ))
    }
}

/// The README's normalisations: named lists as maps, `*-data` compared as decoded bytes, and
/// "absent" equal to "", null, false, [] and {}.
fn normalise(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, val) in m {
                let n = if matches!(k.as_str(), "clusters" | "users" | "contexts" | "extensions") {
                    named_to_map(val)
                } else if k.ends_with("-data") {
                    match val.as_str().map(decode_b64) {
                        Some(Some(bytes)) => Value::String(format!("bytes:{bytes:?}")),
                        _ => normalise(val),
                    }
                } else {
                    normalise(val)
                };
                if !is_empty(&n) {
                    out.insert(k.clone(), n);
                }
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(normalise).collect()),
        other => other.clone(),
    }
}

fn named_to_map(v: &Value) -> Value {
    let Value::Array(items) = v else {
        return normalise(v);
    };
    let mut map = BTreeMap::new();
    for it in items {
        let name = it
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let mut rest = normalise(it);
        if let Value::Object(m) = &mut rest {
            m.remove("name");
        }
        map.insert(name, rest);
    }
    Value::Object(map.into_iter().collect())
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        Value::Number(_) => false,
    }
}

fn decode_b64(s: &str) -> Option<Vec<u8>> {
    let clean: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    base64::engine::general_purpose::STANDARD.decode(clean).ok()
}
