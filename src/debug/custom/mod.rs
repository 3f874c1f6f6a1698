//! `--custom` (KEP-4292, reference 5.8): a partial `Container` merged onto the profile result.
//!
//! kubectl decodes the file into a Go `corev1.Container` and re-marshals it before applying it
//! as a strategic-merge patch, so what reaches the container is the Go round-trip of the file:
//! field names match case-insensitively, unknown fields vanish, `omitempty` drops false, "" and
//! empty lists of non-pointer fields, while pointer fields (`privileged: false`,
//! `runAsUser: 0`) survive and non-omitempty fields appear with their zero value
//! (`containerPort: 0`, `resources: {}`). [`decode`] reproduces that round-trip from a schema of
//! the Container type (`schema.rs`); [`merge_container`] applies the patch with the Container's
//! merge keys (`merge.rs`).

mod decode;
mod merge;
mod schema;

use serde_json::Value;

pub use decode::{decode, decode_file, DecodeError, TypeMismatch};
pub use merge::merge_container;

use super::DebugError;

/// kubectl's Validate check on the decoded custom container.
pub fn check_forbidden(decoded: &Value) -> Result<(), DebugError> {
    let non_empty_str = |k: &str| {
        decoded
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let non_empty_list = |k: &str| {
        decoded
            .get(k)
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty())
    };
    let present = |k: &str| decoded.get(k).is_some_and(|v| !v.is_null());
    if non_empty_str("name")
        || non_empty_list("command")
        || non_empty_str("image")
        || present("lifecycle")
        || non_empty_list("volumeDevices")
    {
        return Err(DebugError::CustomForbiddenFields);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn case_insensitive_names_and_unknown_fields() {
        let d = decode(
            &json!({"WorkingDir": "/x", "bogus": 1, "SECURITYCONTEXT": {"Privileged": false}}),
        )
        .unwrap();
        assert_eq!(
            crate::text::go::json(&d),
            r#"{"name":"","workingDir":"/x","resources":{},"securityContext":{"privileged":false}}"#
        );
    }

    #[test]
    fn omitempty_drops_zero_values_but_keeps_pointers() {
        let d = decode(&json!({
            "stdin": false, "tty": true, "args": [], "workingDir": "",
            "securityContext": {"runAsUser": 0, "runAsNonRoot": false, "capabilities": {"add": []}},
            "ports": [{"name": "x"}]
        }))
        .unwrap();
        assert_eq!(
            crate::text::go::json(&d),
            r#"{"name":"","ports":[{"name":"x","containerPort":0}],"resources":{},"securityContext":{"capabilities":{},"runAsUser":0,"runAsNonRoot":false},"tty":true}"#
        );
    }

    #[test]
    fn zero_structs_and_null_pointer_fields() {
        let d = decode(&json!({
            "env": [{"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}}],
            "livenessProbe": {"grpc": {"port": 9}, "httpGet": {}}
        }))
        .unwrap();
        assert_eq!(
            d["env"][0]["valueFrom"]["resourceFieldRef"],
            json!({"resource": "limits.cpu", "divisor": "0"})
        );
        assert_eq!(
            crate::text::go::json(&d["livenessProbe"]),
            r#"{"httpGet":{"port":0},"grpc":{"port":9,"service":null}}"#
        );
    }

    #[test]
    fn type_errors_use_go_wording() {
        // Each message checked against kubectl 1.32 (`--custom=cN.json`).
        let msg = |doc: Value| decode_file("c.json", &doc).unwrap_err().to_string();
        let prefix = "c.json does not contain a valid container spec: error unmarshaling JSON: while decoding JSON: ";
        for (doc, want) in [
            (json!({"stdin": "yes"}), "json: cannot unmarshal string into Go struct field Container.stdin of type bool"),
            (json!({"securityContext": {"runAsUser": "x"}}), "json: cannot unmarshal string into Go struct field SecurityContext.securityContext.runAsUser of type int64"),
            (json!({"env": ["x"]}), "json: cannot unmarshal string into Go struct field Container.env of type v1.EnvVar"),
            (json!({"ports": [{"containerPort": 1.5}]}), "json: cannot unmarshal number 1.5 into Go struct field ContainerPort.ports.containerPort of type int32"),
            (json!([1]), "json: cannot unmarshal array into Go value of type v1.Container"),
            (json!({"livenessProbe": {"httpGet": {"port": true}}}), "json: cannot unmarshal bool into Go struct field HTTPGetAction.livenessProbe.httpGet.port of type int32"),
            (json!({"resources": {"limits": {"cpu": "lots"}}}), "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"),
        ] {
            assert_eq!(msg(doc), format!("{prefix}{want}"));
        }
    }

    #[test]
    fn yaml_path_leniency() {
        // kubectl: `{"command":[3]}` is rejected as a forbidden field, not as a type error.
        let d = decode(&json!({"command": [3], "env": [{"name": "A", "value": 1}, {"name": "B", "value": true}],
                               "ports": [{"containerPort": 80.0}], "workingDir": 2.5}))
        .unwrap();
        assert_eq!(d["command"], json!(["3"]));
        assert_eq!(
            d["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "true"}])
        );
        assert_eq!(d["ports"], json!([{"containerPort": 80}]));
        assert_eq!(d["workingDir"], "2.5");
        assert_eq!(check_forbidden(&d), Err(DebugError::CustomForbiddenFields));
    }

    #[test]
    fn forbidden_fields() {
        for doc in [
            json!({"image": "x"}),
            json!({"Name": "x"}),
            json!({"command": ["sh"]}),
            json!({"lifecycle": {}}),
            json!({"volumeDevices": [{"name": "d", "devicePath": "/dev/x"}]}),
        ] {
            let d = decode(&doc).unwrap();
            assert_eq!(
                check_forbidden(&d),
                Err(DebugError::CustomForbiddenFields),
                "{doc}"
            );
        }
        for doc in [
            json!({"image": ""}),
            json!({"command": []}),
            json!({"lifecycle": null}),
            json!({"args": ["x"]}),
        ] {
            let d = decode(&doc).unwrap();
            assert_eq!(check_forbidden(&d), Ok(()), "{doc}");
        }
    }

    #[test]
    fn strategic_merge_rules() {
        let mut c = json!({
            "name": "dbg", "image": "busybox", "args": ["a", "b"],
            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
            "resources": {"limits": {"cpu": "1"}},
            "volumeMounts": [{"name": "v", "mountPath": "/v", "subPath": "s"}, {"name": "k", "mountPath": "/k"}],
            "securityContext": {"capabilities": {"add": ["SYS_PTRACE"]}, "privileged": true}
        });
        let d = decode(&json!({
            "args": ["c"],
            "env": [{"name": "B", "value": "x"}, {"name": "C", "value": "3"}],
            "resources": {"limits": {"memory": "1Gi"}},
            "volumeMounts": [{"name": "w", "mountPath": "/v", "readOnly": true}, {"name": "u", "mountPath": "/u"}],
            "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "runAsUser": 0},
            "stdin": false
        }))
        .unwrap();
        merge_container(&mut c, &d, "dbg");
        assert_eq!(
            c,
            json!({
                "name": "dbg", "image": "busybox", "args": ["c"],
                "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "x"}, {"name": "C", "value": "3"}],
                "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                // kubectl's order (checked in tests/differential.rs): the patch's entries first,
                // then the untouched ones.
                "volumeMounts": [{"name": "w", "mountPath": "/v", "subPath": "s", "readOnly": true}, {"name": "u", "mountPath": "/u"}, {"name": "k", "mountPath": "/k"}],
                "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "privileged": true, "runAsUser": 0}
            })
        );
    }

    #[test]
    fn keyed_lists_are_ordered_like_go_strategic_merge() {
        // kubectl 1.33, `--custom` adding a volume mount to a container that has one: the new
        // mount comes first.
        let mut c = json!({"name": "app", "volumeMounts": [{"name": "sa", "mountPath": "/sa"}],
            "env": [{"name": "A"}, {"name": "B"}, {"name": "C"}]});
        let d = decode(
            &json!({"volumeMounts": [{"name": "extra", "mountPath": "/extra"}],
            "env": [{"name": "Z"}, {"name": "B", "value": "b"}]}),
        )
        .unwrap();
        merge_container(&mut c, &d, "app");
        let names = |list: &str, key: &str| -> Vec<String> {
            c[list]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x[key].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(names("volumeMounts", "mountPath"), ["/extra", "/sa"]);
        // ...and Go decodes the result onto the old list: the new first mount keeps what the
        // old first one had and it lacks.
        let mut c = json!({"name": "app", "volumeMounts": [{"name": "sa", "readOnly": true, "mountPath": "/sa"}]});
        let d =
            decode(&json!({"volumeMounts": [{"name": "extra", "mountPath": "/extra"}]})).unwrap();
        merge_container(&mut c, &d, "app");
        assert_eq!(
            c["volumeMounts"],
            json!([{"name": "extra", "readOnly": true, "mountPath": "/extra"},
                   {"name": "sa", "readOnly": true, "mountPath": "/sa"}])
        );
        // Patch order [Z, B]: Z is new, so it goes before A; A was before B in the original,
        // C after it.
        assert_eq!(names("env", "name"), ["Z", "A", "B", "C"]);
    }
}
