//! The kubeconfig loader: file bytes -> model (kubectl's strict typing), then what
//! `config view` does with the model (redacted and raw).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let origin = std::path::Path::new("/fuzz/.kube/config");
    if let Ok(config) = kdebug::kubeconfig::model::load_bytes(data, "/fuzz/.kube/config", origin) {
        for redact in [true, false] {
            let v = kdebug::kubeconfig::view::config_to_json(&config, redact);
            let _ = kdebug::kubeconfig::emit::to_yaml(&v);
            let _ = kdebug::kubeconfig::view::go_json(&v);
        }
    }
});
