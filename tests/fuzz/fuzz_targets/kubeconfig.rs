//! The kubeconfig loader: file bytes -> model (kubectl's strict typing), then what
//! `config view` does with the model (redacted and raw). What `config view --raw` writes must
//! load back to the same configuration.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    use kdebug::kubeconfig::{model, view};
    use kdebug::text::emit;
    let origin = std::path::Path::new("/fuzz/.kube/config");
    let Ok(config) = model::load_bytes(data, "/fuzz/.kube/config", origin) else {
        return;
    };
    let _ = kdebug::text::go::json_indent(&view::config_to_json(&config, true));
    let raw = view::config_to_json(&config, false);
    let text = emit::to_yaml(&raw);
    let _ = emit::to_yaml(&view::config_to_json(&config, true));
    match model::load_bytes(text.as_bytes(), "/fuzz/.kube/config", origin) {
        Ok(back) => {
            let again = view::config_to_json(&back, false);
            assert!(again == raw, "config view --raw:\n{text}\nloads back as {again}\nwas {raw}");
        }
        Err(e) => panic!("config view --raw output does not load: {e:?}\n{text}"),
    }
});
