//! The YAML reader: any bytes give a value or an error naming the place, never a panic, a
//! stack overflow or runaway memory (aliases and nesting are bounded). What it reads, the
//! kubectl-style writer (`config view`, `--dry-run -o yaml`) must write so that it reads back
//! the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Numbers compare by value (`1.0` and `1` print alike).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = kdebug::text::yaml::parse_value(data, "fuzz.yaml") else {
        return;
    };
    let _ = serde_json::to_string(&v);
    let text = kdebug::text::emit::to_yaml(&v);
    match kdebug::text::yaml::parse_value(text.as_bytes(), "emitted.yaml") {
        Ok(back) => assert!(same(&v, &back), "emitted:\n{text}\nread back: {back}\nwas: {v}"),
        Err(e) => panic!("emitted YAML does not read back: {e}\n{text}"),
    }
});
