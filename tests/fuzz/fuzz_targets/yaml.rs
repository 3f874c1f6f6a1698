//! The YAML reader: any bytes give a value or an error naming the place, never a panic, a
//! stack overflow or runaway memory (aliases and nesting are bounded).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = kdebug::kubeconfig::yaml::parse_value(data, "fuzz.yaml") {
        // What the reader produced must be printable as JSON and as YAML again.
        let _ = serde_json::to_string(&v);
        let _ = kdebug::kubeconfig::emit::to_yaml(&v);
    }
});
