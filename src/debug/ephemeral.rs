//! Ephemeral journey (reference 2.2-2.3): one new ephemeral container, sent as the two-way
//! strategic-merge patch kubectl computes between the pod and the pod with the container
//! appended.

use serde_json::{Map, Value};

use super::order::{self, CONTAINER};
use super::profiles::{self, Keep, Style};
use super::{
    custom, defaulting_message, generate_container_name, mirror, new_container, non_root_warning,
    str_field, DebugError, DebugOptions, Message, MARK_ENV,
};

/// Content type of the PATCH to `pods/{name}/ephemeralcontainers`.
pub const PATCH_CONTENT_TYPE: &str = "application/strategic-merge-patch+json";

/// What to send for one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct EphemeralRequest {
    /// Name of the new ephemeral container (to wait for and attach to).
    pub container_name: String,
    /// The new ephemeral container, fields in Go struct order.
    pub container: Value,
    /// The strategic-merge patch body exactly as kubectl sends it (keys sorted like Go's
    /// `map[string]interface{}`), for `PATCH …/pods/{name}/ephemeralcontainers`.
    pub patch: Value,
    /// User-visible messages, in kubectl's order.
    pub messages: Vec<Message>,
}

impl EphemeralRequest {
    /// The patch serialised byte for byte as kubectl does.
    pub fn patch_body(&self) -> String {
        crate::text::go::json(&self.patch)
    }
}

/// An ephemeral container named `name` already in the pod is refused, naming its state.
fn refuse_used_name(pod: &Value, spec: &Value, name: &str) -> Result<(), DebugError> {
    let used = spec
        .get("ephemeralContainers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|c| c.get("name").and_then(Value::as_str) == Some(name));
    if !used {
        return Ok(());
    }
    let status = pod
        .pointer("/status/ephemeralContainerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|s| s.get("name").and_then(Value::as_str) == Some(name));
    let state = status
        .and_then(|s| s.get("state"))
        .and_then(Value::as_object)
        .and_then(|m| m.keys().next())
        .map_or("not started", String::as_str);
    let metadata = super::meta(pod)?;
    let namespace = match metadata.namespace {
        "" => "default",
        ns => ns,
    };
    Err(DebugError::EphemeralNameInUse {
        namespace: namespace.into(),
        pod: metadata.name.into(),
        container: name.into(),
        state: state.into(),
    })
}

/// Builds the ephemeral debug container for `pod` (the object as the API server returned it).
pub fn build(
    pod: &Value,
    opts: &DebugOptions,
    names: &mut dyn FnMut() -> String,
) -> Result<EphemeralRequest, DebugError> {
    let spec = pod
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or(DebugError::MalformedObject(super::Malformed::PodSpec))?;
    let mut messages = Vec::new();

    // -c is used verbatim, unless an ephemeral container already has that name: the server
    // would keep the old one and start nothing (R1 of tests/fakecluster/REAL.md). Otherwise a
    // fresh name.
    let name = match opts.container() {
        Some(c) => {
            refuse_used_name(pod, spec, c)?;
            c.to_string()
        }
        None => {
            let n = generate_container_name(spec, names);
            messages.push(defaulting_message(&n));
            n
        }
    };

    let mut ec = new_container(&name, opts);
    if let (Some(t), Some(m)) = (opts.target(), ec.as_object_mut()) {
        order::set(m, "targetContainerName", Value::String(t.into()), CONTAINER);
    }

    // kubectl appends the container to a deep copy of the pod and runs the profile on that
    // copy, so the DC lookup (first match over init, regular, ephemeral) sees the whole pod.
    // When -c repeats an existing container's name, the profile therefore changes that
    // container, and kubectl's two-way diff also carries those changes; we send only the
    // ephemeral list. The server rejects such a patch either way ("Duplicate value").
    let mut work = pod.clone();
    if let Some(s) = work.get_mut("spec").and_then(Value::as_object_mut) {
        profiles::push_to_list(s, "ephemeralContainers", ec, super::order::POD_SPEC);
    }
    profiles::apply(
        opts.profile,
        Style::Ephemeral,
        &mut work,
        &name,
        Keep::from_options(opts),
    );

    let mut ec = last_ephemeral(&work).cloned().unwrap_or(Value::Null);

    // kdebug --mirror: after the profile, before the custom profile.
    if !opts.mirror.is_empty() {
        let target = opts.target().ok_or(DebugError::MirrorNeedsTarget)?;
        let pod_name = super::meta(pod)?.name;
        let source =
            mirror::source_container(spec, target).ok_or(DebugError::MirrorSourceNotFound {
                container: target.to_string(),
                pod: pod_name.to_string(),
            })?;
        messages.extend(mirror::apply(
            &mut ec,
            source,
            spec,
            opts.mirror,
            mirror::Journey::Ephemeral,
        ));
    }

    if let Some(doc) = opts.custom() {
        let patch = custom::decode(doc)?;
        custom::check_forbidden(&patch)?;
        custom::merge_container(&mut ec, &patch, &name);
    }

    if opts.mark.is_some() {
        if let Some(c) = ec.as_object_mut() {
            profiles::push_to_list(c, "env", super::env_var(MARK_ENV, "1"), CONTAINER);
        }
    }

    if let Some(w) = non_root_warning(spec, Some(&ec)) {
        messages.push(w);
    }

    let work_spec = work.get("spec").unwrap_or(&Value::Null);
    let patch = patch_for(spec, work_spec, &ec);
    Ok(EphemeralRequest {
        container_name: name,
        container: ec,
        patch,
        messages,
    })
}

fn last_ephemeral(pod: &Value) -> Option<&Value> {
    pod.get("spec")?
        .get("ephemeralContainers")?
        .as_array()?
        .last()
}

/// The two-way strategic-merge patch between the pod and the pod with `ec` appended. Go omits
/// an empty `ephemeralContainers`, so with none before, the list is simply "added" (no order
/// directive); otherwise the diff carries `$setElementOrder` with every name, new one last.
///
/// `work` is the spec the profile ran on. When `-c` names an existing regular or init
/// container, kubectl's profile finds that container first and changes it instead of the new
/// one; the patch then carries that change too (the server rejects the duplicate name anyway,
/// but the request is kubectl's).
fn patch_for(spec: &Value, work: &Value, ec: &Value) -> Value {
    let mut s = Map::new();
    for list in ["containers", "initContainers"] {
        let (Some(before), Some(after)) = (
            spec.get(list).and_then(Value::as_array),
            work.get(list).and_then(Value::as_array),
        ) else {
            continue;
        };
        let changed: Vec<Value> = before
            .iter()
            .zip(after)
            .filter(|(b, a)| b != a)
            .map(|(b, a)| {
                let mut d = Map::new();
                d.insert("name".into(), a.get("name").cloned().unwrap_or(Value::Null));
                if let Value::Object(rest) = diff_maps(b, a) {
                    d.extend(rest);
                }
                Value::Object(d)
            })
            .collect();
        if changed.is_empty() || before.len() != after.len() {
            continue;
        }
        let names = after
            .iter()
            .map(|c| {
                let mut m = Map::new();
                m.insert("name".into(), c.get("name").cloned().unwrap_or(Value::Null));
                Value::Object(m)
            })
            .collect();
        s.insert(format!("$setElementOrder/{list}"), Value::Array(names));
        s.insert(list.into(), Value::Array(changed));
    }
    let existing: Vec<&Value> = spec
        .get("ephemeralContainers")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    if !existing.is_empty() {
        let mut order_list: Vec<Value> = existing
            .iter()
            .map(|c| {
                let mut m = Map::new();
                let n = str_field(c, "name").unwrap_or("");
                m.insert("name".into(), Value::String(n.into()));
                Value::Object(m)
            })
            .collect();
        let mut m = Map::new();
        m.insert(
            "name".into(),
            ec.get("name").cloned().unwrap_or(Value::Null),
        );
        order_list.push(Value::Object(m));
        s.insert(
            "$setElementOrder/ephemeralContainers".into(),
            Value::Array(order_list),
        );
    }
    s.insert("ephemeralContainers".into(), Value::Array(vec![ec.clone()]));
    let mut root = Map::new();
    root.insert("spec".into(), Value::Object(s));
    crate::text::go::sorted(&Value::Object(root))
}

/// Two-way diff of two JSON objects as a merge patch: changed and added keys with their new
/// value (objects recursively), removed keys as `null`; lists are replaced whole (the
/// securityContext fields a profile changes have no merge keys).
fn diff_maps(before: &Value, after: &Value) -> Value {
    let (Some(b), Some(a)) = (before.as_object(), after.as_object()) else {
        return after.clone();
    };
    let mut out = Map::new();
    for (k, old) in b {
        if !a.contains_key(k) {
            out.insert(k.clone(), Value::Null);
        } else if a[k] != *old {
            let d = if old.is_object() && a[k].is_object() {
                diff_maps(old, &a[k])
            } else {
                a[k].clone()
            };
            out.insert(k.clone(), d);
        }
    }
    for (k, new) in a {
        if !b.contains_key(k) {
            out.insert(k.clone(), new.clone());
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debug::testdata::{self, fixed_names, normalize_env};
    use crate::debug::{Mark, Profile};
    use serde_json::json;

    fn opts(image: &str, container: &str) -> DebugOptions {
        DebugOptions {
            image: Some(image.into()),
            container: Some(container.into()),
            ..DebugOptions::default()
        }
    }

    /// Builds for the fixture pod and compares with the PATCH body kubectl sent.
    fn check(scenario: &str, o: &DebugOptions, pod: &str) -> EphemeralRequest {
        let plan = build(&testdata::pod(pod), o, &mut fixed_names(&["bnnrb"])).unwrap();
        let sent = testdata::request_body(scenario, "PATCH", 0);
        let ours: Value = serde_json::from_str(&plan.patch_body()).unwrap();
        assert_eq!(normalize_env(&ours), normalize_env(&sent), "{scenario}");
        plan
    }

    #[test]
    fn command_matches_kubectl_byte_for_byte() {
        let mut o = opts("busybox:1.36", "dbg");
        o.args = vec!["sh".into(), "-c".into(), "echo hello; sleep 3600".into()];
        let plan = check("ephemeral-command", &o, "web");
        assert_eq!(
            plan.patch_body(),
            testdata::request_raw("ephemeral-command", "PATCH", 0)
        );
        assert!(plan.messages.is_empty());
    }

    #[test]
    fn arguments_only() {
        let mut o = opts("busybox:1.36", "dbg");
        o.args = vec!["sleep".into(), "3600".into()];
        o.arguments_only = true;
        check("ephemeral-arguments-only", &o, "web");
    }

    #[test]
    fn env_in_command_line_order() {
        let mut o = opts("busybox:1.36", "dbg");
        o.env = vec![("FOO".into(), "bar".into()), ("ALPHA".into(), "1".into())];
        let plan = check("ephemeral-env", &o, "web");
        assert_eq!(
            plan.patch_body(),
            r#"{"spec":{"ephemeralContainers":[{"env":[{"name":"FOO","value":"bar"},{"name":"ALPHA","value":"1"}],"image":"busybox:1.36","name":"dbg","resources":{},"terminationMessagePolicy":"File"}]}}"#
        );
    }

    #[test]
    fn every_profile() {
        for (p, scenario) in [
            (Profile::Legacy, "ephemeral-profile-legacy"),
            (Profile::General, "ephemeral-profile-general"),
            (Profile::Netadmin, "ephemeral-profile-netadmin"),
            (Profile::Restricted, "ephemeral-profile-restricted"),
            (Profile::Sysadmin, "ephemeral-profile-sysadmin"),
        ] {
            let mut o = opts("busybox:1.36", "dbg");
            o.profile = p;
            let plan = check(scenario, &o, "web");
            assert_eq!(
                plan.patch_body(),
                testdata::request_raw(scenario, "PATCH", 0),
                "{scenario}"
            );
        }
        // baseline has no transcript: it clears the (absent) security context.
        let mut o = opts("busybox:1.36", "dbg");
        o.profile = Profile::Baseline;
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.patch_body(),
            testdata::request_raw("ephemeral-profile-legacy", "PATCH", 0)
        );
    }

    #[test]
    fn profile_on_an_existing_container_name_changes_that_container_like_kubectl() {
        // kubectl 1.33, `-c app` / `-c init-db` on the fixture pod: the profile finds the
        // regular (or init) container of that name first, and the two-way patch says so.
        let mut o = opts("b", "app");
        o.profile = Profile::General;
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.patch_body(),
            r#"{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"name":"app","securityContext":{"capabilities":{"add":["SYS_PTRACE"]}}}],"ephemeralContainers":[{"image":"b","name":"app","resources":{},"terminationMessagePolicy":"File"}]}}"#
        );
        let mut o = opts("b", "init-db");
        o.profile = Profile::Sysadmin;
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.patch_body(),
            r#"{"spec":{"$setElementOrder/initContainers":[{"name":"init-db"}],"ephemeralContainers":[{"image":"b","name":"init-db","resources":{},"terminationMessagePolicy":"File"}],"initContainers":[{"name":"init-db","securityContext":{"privileged":true}}]}}"#
        );
        // baseline clears a security context the init container does not have: no change.
        o.profile = Profile::Baseline;
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.patch_body(),
            r#"{"spec":{"ephemeralContainers":[{"image":"b","name":"init-db","resources":{},"terminationMessagePolicy":"File"}]}}"#
        );
        // ...and a removed field is sent as null.
        let plan = build(
            &testdata::pod("web"),
            &opts_profile("b", "app", Profile::Baseline),
            &mut fixed_names(&[]),
        )
        .unwrap();
        assert_eq!(
            plan.patch_body(),
            r#"{"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"sidecar"}],"containers":[{"name":"app","securityContext":null}],"ephemeralContainers":[{"image":"b","name":"app","resources":{},"terminationMessagePolicy":"File"}]}}"#
        );
    }

    fn opts_profile(image: &str, container: &str, profile: Profile) -> DebugOptions {
        DebugOptions {
            profile,
            ..opts(image, container)
        }
    }

    #[test]
    fn generated_name_and_message() {
        let mut o = opts("busybox:1.36", "");
        o.container = None;
        let plan = check("ephemeral-generated-name", &o, "web");
        assert_eq!(plan.container_name, "debugger-bnnrb");
        assert_eq!(
            plan.messages,
            vec![Message::info(
                "Defaulting debug container name to debugger-bnnrb.".into()
            )]
        );
        assert_eq!(
            testdata::stdout("ephemeral-generated-name"),
            "Defaulting debug container name to debugger-bnnrb.\n"
        );
    }

    #[test]
    fn generated_name_is_redrawn_on_collision() {
        let mut pod = testdata::pod("web");
        pod["spec"]["initContainers"][0]["name"] = json!("debugger-aaaaa");
        pod["spec"]["ephemeralContainers"] = json!([{"name": "debugger-bbbbb"}]);
        let o = DebugOptions {
            image: Some("busybox".into()),
            ..DebugOptions::default()
        };
        let plan = build(&pod, &o, &mut fixed_names(&["aaaaa", "bbbbb", "ccccc"])).unwrap();
        assert_eq!(plan.container_name, "debugger-ccccc");
    }

    #[test]
    fn stdin_tty_target_pull_policy() {
        let mut o = opts("busybox:1.36", "dbg");
        o.stdin = true;
        check("attach-ephemeral-stdin", &o, "web");
        o.tty = true;
        o.target = Some("app".into());
        o.image_pull_policy = Some("Always".into());
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.patch_body(),
            r#"{"spec":{"ephemeralContainers":[{"image":"busybox:1.36","imagePullPolicy":"Always","name":"dbg","resources":{},"stdin":true,"targetContainerName":"app","terminationMessagePolicy":"File","tty":true}]}}"#
        );
        let keys: Vec<&str> = plan
            .container
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "name",
                "image",
                "resources",
                "terminationMessagePolicy",
                "imagePullPolicy",
                "stdin",
                "tty",
                "targetContainerName"
            ]
        );
    }

    #[test]
    fn existing_ephemeral_containers_give_set_element_order() {
        let plan = build(
            &testdata::pod("withephem"),
            &opts("busybox:1.36", "dbg"),
            &mut fixed_names(&[]),
        )
        .unwrap();
        let existing = testdata::pod("withephem")["spec"]["ephemeralContainers"][0]["name"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            plan.patch_body(),
            format!(
                r#"{{"spec":{{"$setElementOrder/ephemeralContainers":[{{"name":"{existing}"}},{{"name":"dbg"}}],"ephemeralContainers":[{{"image":"busybox:1.36","name":"dbg","resources":{{}},"terminationMessagePolicy":"File"}}]}}}}"#
            )
        );
    }

    #[test]
    fn custom_profile_json() {
        let mut o = opts("busybox:1.36", "dbg");
        o.profile = Profile::General;
        o.custom = Some(testdata::scenario_file_json("custom.json"));
        let plan = check("ephemeral-custom-json", &o, "web");
        assert_eq!(
            plan.patch_body(),
            testdata::request_raw("ephemeral-custom-json", "PATCH", 0)
        );
    }

    #[test]
    fn custom_profile_yaml_equivalent() {
        // custom.yaml from the scenario files, as the CLI's YAML reader turns it into JSON.
        let mut o = opts("busybox:1.36", "dbg");
        o.profile = Profile::General;
        o.custom = Some(json!({
            "env": [{"name": "CUSTOM_ENV", "value": "from-yaml"}],
            "securityContext": {"runAsNonRoot": true, "capabilities": {"drop": ["ALL"]}},
            "stdin": true
        }));
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.patch_body(),
            r#"{"spec":{"ephemeralContainers":[{"env":[{"name":"CUSTOM_ENV","value":"from-yaml"}],"image":"busybox:1.36","name":"dbg","resources":{},"securityContext":{"capabilities":{"add":["SYS_PTRACE"],"drop":["ALL"]},"runAsNonRoot":true},"stdin":true,"terminationMessagePolicy":"File"}]}}"#
        );
    }

    #[test]
    fn custom_forbidden_field() {
        let mut o = opts("busybox:1.36", "dbg");
        o.custom = Some(testdata::scenario_file_json("custom-forbidden.json"));
        let err = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap_err();
        assert_eq!(
            format!("{}\n", crate::sys::report::error_text(&err)),
            testdata::stderr("err-custom-forbidden-field")
        );
    }

    #[test]
    fn empty_custom_document_is_ignored() {
        let mut o = opts("busybox:1.36", "dbg");
        o.custom = Some(Value::Null);
        let plan = check("ephemeral-profile-legacy", &o, "web");
        assert!(plan.messages.is_empty());
    }

    #[test]
    fn non_root_warning_1_33() {
        let mut pod = testdata::pod("web");
        pod["spec"]["securityContext"] = json!({"runAsUser": 1000});
        let mut o = opts("busybox:1.36", "dbg");
        o.profile = Profile::Netadmin;
        let plan = build(&pod, &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.messages,
            vec![Message::warning(crate::debug::NON_ROOT_WARNING.into())]
        );
        // general adds SYS_PTRACE too; restricted/baseline/legacy add nothing.
        for (p, warns) in [
            (Profile::General, true),
            (Profile::Sysadmin, true),
            (Profile::Restricted, false),
            (Profile::Baseline, false),
            (Profile::Legacy, false),
        ] {
            o.profile = p;
            let plan = build(&pod, &o, &mut fixed_names(&[])).unwrap();
            assert_eq!(!plan.messages.is_empty(), warns, "{p}");
        }
        // A custom runAsUser: 0 silences it.
        o.profile = Profile::Sysadmin;
        o.custom = Some(json!({"securityContext": {"runAsUser": 0}}));
        let plan = build(&pod, &o, &mut fixed_names(&[])).unwrap();
        assert!(plan.messages.is_empty());
        // Pod-level root: no warning.
        pod["spec"]["securityContext"] = json!({"runAsUser": 0});
        o.custom = None;
        let plan = build(&pod, &o, &mut fixed_names(&[])).unwrap();
        assert!(plan.messages.is_empty());
    }

    #[test]
    fn duplicate_name_and_unknown_target_are_left_to_the_server() {
        let o = opts("busybox:1.36", "app");
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.patch_body(),
            testdata::request_raw("err-duplicate-container-name", "PATCH", 0)
        );
        let mut o = opts("busybox:1.36", "dbg");
        o.target = Some("nope".into());
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.patch_body(),
            testdata::request_raw("err-target-not-found", "PATCH", 0)
        );
    }

    #[test]
    fn a_used_ephemeral_name_is_refused_naming_its_state() {
        let pod = json!({
            "metadata": {"name": "q1", "namespace": "team"},
            "spec": {"containers": [{"name": "app"}], "ephemeralContainers": [{"name": "dbg"}]},
            "status": {"ephemeralContainerStatuses": [
                {"name": "dbg", "state": {"terminated": {"exitCode": 0}}}
            ]}
        });
        let Err(err) = build(&pod, &opts("busybox", "dbg"), &mut fixed_names(&[])) else {
            panic!("a used name was accepted");
        };
        assert_eq!(
            err.to_string(),
            "pod team/q1 already has an ephemeral container \"dbg\" (it is terminated; choose another -c, or reattach with: kdebug attach q1 -c dbg -i)"
        );
        let mut unstarted = pod.clone();
        unstarted["status"] = json!({});
        let err = build(&unstarted, &opts("busybox", "dbg"), &mut fixed_names(&[]));
        assert!(err
            .err()
            .unwrap()
            .to_string()
            .contains("(it is not started;"));
        // Another name is fine.
        assert!(build(&pod, &opts("busybox", "dbg2"), &mut fixed_names(&[])).is_ok());
    }

    #[test]
    fn quiet_run_gets_a_suppressible_message() {
        let o = DebugOptions {
            image: Some("busybox:1.36".into()),
            ..DebugOptions::default()
        };
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&["f68gn"])).unwrap();
        assert_eq!(
            plan.patch_body(),
            testdata::request_raw("ephemeral-quiet", "PATCH", 0)
        );
        assert_eq!(plan.messages.len(), 1);
        assert!(plan.messages[0].quiet_suppressed);
        assert_eq!(plan.messages[0].stream, crate::debug::Stream::Stdout);
        assert_eq!(testdata::stdout("ephemeral-quiet"), "");
    }

    #[test]
    fn second_pod_of_a_run() {
        let o = opts("busybox:1.36", "dbg");
        let plan = build(&testdata::pod("single"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.patch,
            testdata::request_body("ephemeral-two-pods", "PATCH", 1)
        );
    }

    #[test]
    fn marking_appends_env_last() {
        let mut o = opts("busybox:1.36", "dbg");
        o.env = vec![("FOO".into(), "bar".into())];
        o.custom = Some(json!({"env": [{"name": "C", "value": "x"}]}));
        o.mark = Some(Mark {
            target: "pod/web".into(),
            created: "2025-01-01T00:00:00Z".into(),
        });
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.container["env"],
            // Go's strategic merge puts the custom profile's new C first.
            json!([{"name": "C", "value": "x"}, {"name": "FOO", "value": "bar"}, {"name": "KDEBUG", "value": "1"}])
        );
    }

    #[test]
    fn malformed_pod_is_an_error_not_a_panic() {
        let o = opts("busybox:1.36", "dbg");
        for pod in [
            json!(null),
            json!([]),
            json!({"spec": 3}),
            json!({"spec": {"containers": 5, "ephemeralContainers": "x"}}),
        ] {
            let _ = build(&pod, &o, &mut fixed_names(&[]));
        }
        assert!(build(&json!({}), &o, &mut fixed_names(&[])).is_err());
    }
}
