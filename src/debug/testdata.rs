//! Test fixtures: the pods/node the kubectl transcripts were recorded against
//! (`fixtures/fixture.json`) and what kubectl 1.32 sent (`fixtures/transcripts.json`, the
//! PATCH/POST/DELETE bodies, stdout and stderr of each scenario in
//! `../shared/kubectl-transcripts`).

use serde_json::Value;

const FIXTURE: &str = include_str!("fixtures/fixture.json");
const TRANSCRIPTS: &str = include_str!("fixtures/transcripts.json");

fn parse(s: &str) -> Value {
    serde_json::from_str(s).expect("fixture is JSON")
}

/// A pod of the `default` namespace (or any namespace) by name.
pub fn pod(name: &str) -> Value {
    let f = parse(FIXTURE);
    for ns in f["namespaces"].as_object().expect("namespaces").values() {
        for p in ns["pods"].as_array().into_iter().flatten() {
            if p["metadata"]["name"] == name {
                return p.clone();
            }
        }
    }
    panic!("no pod {name} in fixture")
}

pub fn node(name: &str) -> Value {
    let f = parse(FIXTURE);
    f["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["metadata"]["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no node {name} in fixture"))
}

fn scenario(name: &str) -> Value {
    let t = parse(TRANSCRIPTS);
    t.get(name)
        .cloned()
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

fn request(name: &str, method: &str, nth: usize) -> Value {
    scenario(name)["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .filter(|r| r["method"] == method)
        .nth(nth)
        .cloned()
        .unwrap_or_else(|| panic!("no {method} #{nth} in {name}"))
}

/// The body of the nth request with `method` in a scenario, as a JSON value.
pub fn request_body(name: &str, method: &str, nth: usize) -> Value {
    let r = request(name, method, nth);
    match r.get("body_raw").and_then(Value::as_str) {
        Some(raw) => parse(raw),
        None => r["body"].clone(),
    }
}

/// The raw JSON body (PATCH requests are JSON on the wire; creates were protobuf).
pub fn request_raw(name: &str, method: &str, nth: usize) -> String {
    request(name, method, nth)["body_raw"]
        .as_str()
        .expect("raw body")
        .to_string()
}

pub fn request_path(name: &str, method: &str, nth: usize) -> String {
    request(name, method, nth)["path"]
        .as_str()
        .expect("path")
        .to_string()
}

pub fn stdout(name: &str) -> String {
    scenario(name)["stdout"]
        .as_str()
        .expect("stdout")
        .to_string()
}

pub fn stderr(name: &str) -> String {
    scenario(name)["stderr"]
        .as_str()
        .expect("stderr")
        .to_string()
}

/// The scenario files kubectl read (`--custom=…`).
pub fn scenario_file_json(name: &str) -> Value {
    match name {
        "custom.json" => parse(include_str!("fixtures/custom.json")),
        "custom-forbidden.json" => parse(include_str!("fixtures/custom-forbidden.json")),
        other => panic!("no scenario file {other}"),
    }
}

/// A name source returning the given suffixes, then `zzzzz` forever.
pub fn fixed_names(suffixes: &[&str]) -> impl FnMut() -> String {
    let mut items: Vec<String> = suffixes.iter().rev().map(|s| s.to_string()).collect();
    move || items.pop().unwrap_or_else(|| "zzzzz".to_string())
}

/// Sorts every `env` list by name (kubectl's --env order is random) and replaces generated
/// suffixes so bodies from different runs compare equal.
pub fn normalize_env(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                let mut x = normalize_env(x);
                if k == "env" {
                    if let Value::Array(items) = &mut x {
                        items.sort_by(|a, b| {
                            a["name"]
                                .as_str()
                                .unwrap_or("")
                                .cmp(b["name"].as_str().unwrap_or(""))
                        });
                    }
                }
                out.insert(k.clone(), x);
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(normalize_env).collect()),
        other => other.clone(),
    }
}

/// Replaces the 5-character suffix of `node-debugger-<node>-xxxxx` / `debugger-xxxxx`.
pub fn normalize_names(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), normalize_names(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize_names).collect()),
        Value::String(s) if s.starts_with("debugger-") || s.starts_with("node-debugger-") => {
            let cut = s.len().saturating_sub(5);
            Value::String(format!("{}XXXXX", &s[..cut]))
        }
        other => other.clone(),
    }
}
