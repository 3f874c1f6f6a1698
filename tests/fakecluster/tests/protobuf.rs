//! Protobuf bodies kubectl 1.32 sent (from the recorded transcripts) decode to the JSON Go
//! prints for them.

use base64::Engine;
use serde_json::Value;

#[test]
fn kubectl_protobuf_bodies_decode_like_go() {
    let cases: Vec<Value> =
        serde_json::from_str(include_str!("data/protobuf-bodies.json")).expect("cases");
    assert!(cases.len() > 10);
    let mut failures = Vec::new();
    for c in &cases {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(c["body_base64"].as_str().unwrap())
            .unwrap();
        let got = fakecluster::proto::decode_k8s(&raw).expect("decode");
        if got != c["body"] {
            failures.push(format!(
                "{} {}:\n got  {}\n want {}",
                c["scenario"], c["method"], got, c["body"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
