//! Copy journey (`--copy-to`, reference 3): a new pod built from the original's spec, with a
//! debug container added or an existing container modified.

use serde_json::{json, Map, Value};

use super::order::{self, CONTAINER, OBJECT_META, POD_SPEC};
use super::profiles::{self, Keep, Style};
use super::{
    custom, defaulting_message, find_container, generate_container_name, meta, mirror,
    non_root_warning, str_field, string_array, DebugError, DebugOptions, Mark, Message,
    ALL_CONTAINER_LISTS, CREATED_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, TARGET_ANNOTATION,
};

/// What to send for one pod.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyRequest {
    /// The pod to `POST /api/v1/namespaces/{namespace}/pods`.
    pub pod: Value,
    /// `--copy-to`.
    pub pod_name: String,
    /// The original's namespace (the copy lives beside it).
    pub namespace: String,
    /// The container to wait for and attach to; `None` for a `--set-image`-only copy, which
    /// kubectl never attaches to, even with `-it`.
    pub container_name: Option<String>,
    /// `--replace`: delete the original (after the create succeeded).
    pub delete_original: bool,
    /// The original pod's name, for the delete.
    pub original_name: String,
    /// The DeleteOptions body kubectl sends with the delete (grace period 0).
    pub delete_options: Value,
    /// User-visible messages, in kubectl's order.
    pub messages: Vec<Message>,
}

/// `metav1.NewDeleteOptions(0)` as JSON.
pub fn delete_options_body() -> Value {
    json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0})
}

/// kubectl holds the original as a Go struct, so every container it sends carries the
/// non-pointer `resources` struct, `{}` when empty. A pod read from the server already has it;
/// one read from a `-f` file may not.
fn go_container_defaults(spec: &mut Map<String, Value>) {
    for list in ["initContainers", "containers"] {
        for c in spec
            .get_mut(list)
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if let Some(c) = c.as_object_mut() {
                if !c.contains_key("resources") {
                    order::set(c, "resources", Value::Object(Map::new()), CONTAINER);
                }
            }
        }
    }
}

/// Builds the copy of `pod` (the object as the API server returned it).
pub fn build(
    pod: &Value,
    opts: &DebugOptions,
    names: &mut dyn FnMut() -> String,
) -> Result<CopyRequest, DebugError> {
    let copy_name = opts
        .copy_to
        .clone()
        .filter(|s| !s.is_empty())
        .ok_or(DebugError::MalformedObject(super::Malformed::CopyName))?;
    let original_spec = pod
        .get("spec")
        .filter(|s| s.is_object())
        .ok_or(DebugError::MalformedObject(super::Malformed::PodSpec))?;
    let metadata = meta(pod)?;
    let namespace = metadata.namespace.to_string();
    let original_name = metadata.name.to_string();
    let mut messages = Vec::new();

    // Fresh metadata: name, namespace, labels and annotations only. No ownerReferences, so
    // the copy is not adopted or deleted by the original's controller.
    let mut meta = Map::new();
    order::set(
        &mut meta,
        "name",
        Value::String(copy_name.clone()),
        OBJECT_META,
    );
    if !namespace.is_empty() {
        order::set(
            &mut meta,
            "namespace",
            Value::String(namespace.clone()),
            OBJECT_META,
        );
    }
    order::set(&mut meta, "creationTimestamp", Value::Null, OBJECT_META);
    for key in ["labels", "annotations"] {
        // Go drops nil and empty maps alike (omitempty).
        if let Some(m) = pod
            .get("metadata")
            .and_then(|m| m.get(key))
            .filter(|v| v.as_object().is_some_and(|m| !m.is_empty()))
        {
            order::set(&mut meta, key, m.clone(), OBJECT_META);
        }
    }

    let mut spec = original_spec.as_object().cloned().unwrap_or_default();
    // A pod cannot be created with ephemeral containers.
    order::remove(&mut spec, "ephemeralContainers");
    go_container_defaults(&mut spec);
    if let Some(share) = opts.share_processes {
        order::set(
            &mut spec,
            "shareProcessNamespace",
            Value::Bool(share),
            POD_SPEC,
        );
    }
    if !opts.same_node {
        order::remove(&mut spec, "nodeName");
    }
    apply_set_image(&mut spec, opts);

    let mut copy = Map::new();
    copy.insert("kind".into(), Value::String("Pod".into()));
    copy.insert("apiVersion".into(), Value::String("v1".into()));
    copy.insert("metadata".into(), Value::Object(meta));
    copy.insert("spec".into(), Value::Object(spec));
    copy.insert("status".into(), Value::Object(Map::new()));
    let mut copy = Value::Object(copy);

    // kubectl builds a name -> container map from regular, then init containers, so an init
    // container wins a (invalid) name clash.
    let existing = opts.container().and_then(|c| {
        find_container(&copy["spec"], c, &["initContainers", "containers"]).map(|_| c.to_string())
    });
    let dc_name = match existing {
        Some(name) => name,
        None => {
            let Some(image) = opts.image() else {
                if !opts.set_image.is_empty() {
                    // A --set-image-only copy: created as is, without the profile (kubectl
                    // returns before applying it) and without a container to attach to.
                    mark(&mut copy, opts.mark.as_ref());
                    return Ok(plan(
                        copy,
                        copy_name,
                        namespace,
                        None,
                        original_name,
                        opts,
                        messages,
                    ));
                }
                return Err(DebugError::ImageRequiredForNewContainer);
            };
            let name = match opts.container() {
                Some(c) => c.to_string(),
                None => {
                    let n = generate_container_name(&copy["spec"], names);
                    messages.push(defaulting_message(&n));
                    n
                }
            };
            let mut c = Map::new();
            c.insert("name".into(), Value::String(name.clone()));
            c.insert("image".into(), Value::String(image.to_string()));
            c.insert("resources".into(), Value::Object(Map::new()));
            c.insert(
                "terminationMessagePolicy".into(),
                Value::String("File".into()),
            );
            if let Some(s) = copy.get_mut("spec").and_then(Value::as_object_mut) {
                profiles::push_to_list(s, "containers", Value::Object(c), POD_SPEC);
            }
            name
        }
    };

    if let Some(c) = find_container(&copy["spec"], &dc_name, &["initContainers", "containers"])
        .and_then(|r| super::container_mut(&mut copy["spec"], r))
        .and_then(Value::as_object_mut)
    {
        modify_container(c, opts);
    }

    profiles::apply(
        opts.profile,
        Style::Copy,
        &mut copy,
        &dc_name,
        Keep::from_options(opts),
    );

    if !opts.mirror.is_empty() {
        let source_name = opts.container().ok_or(DebugError::MirrorNeedsContainer)?;
        let source = mirror::source_container(original_spec, source_name).ok_or(
            DebugError::MirrorSourceNotFound {
                container: source_name.to_string(),
                pod: original_name.clone(),
            },
        )?;
        let spec_now = copy["spec"].clone();
        if let Some(dc) = find_container(&spec_now, &dc_name, &ALL_CONTAINER_LISTS)
            .and_then(|r| super::container_mut(&mut copy["spec"], r))
        {
            messages.extend(mirror::apply(
                dc,
                source,
                original_spec,
                opts.mirror,
                mirror::Journey::Copy,
            ));
        }
    }

    if let Some(doc) = opts.custom() {
        let patch = custom::decode(doc)?;
        custom::check_forbidden(&patch)?;
        // kubectl's custom-profile lookup only searches regular containers.
        let r = find_container(&copy["spec"], &dc_name, &["containers"]).ok_or_else(|| {
            DebugError::CustomContainerNotFound {
                container: dc_name.clone(),
                pod: copy_name.clone(),
            }
        })?;
        if let Some(c) = super::container_mut(&mut copy["spec"], r) {
            custom::merge_container(c, &patch, &dc_name);
        }
    }

    mark(&mut copy, opts.mark.as_ref());

    // 1.33 warning: the debug container among the regular containers of the copy.
    let dc = find_container(&copy["spec"], &dc_name, &["containers"])
        .and_then(|r| super::container_at(&copy["spec"], r));
    if let Some(w) = non_root_warning(&copy["spec"], dc) {
        messages.push(w);
    }

    Ok(plan(
        copy,
        copy_name,
        namespace,
        Some(dc_name),
        original_name,
        opts,
        messages,
    ))
}

fn plan(
    pod: Value,
    pod_name: String,
    namespace: String,
    container_name: Option<String>,
    original_name: String,
    opts: &DebugOptions,
    messages: Vec<Message>,
) -> CopyRequest {
    CopyRequest {
        pod,
        pod_name,
        namespace,
        container_name,
        delete_original: opts.replace,
        original_name,
        delete_options: delete_options_body(),
        messages,
    }
}

/// `--set-image`: regular containers only; a specific name beats `*`; unknown names are
/// ignored.
fn apply_set_image(spec: &mut Map<String, Value>, opts: &DebugOptions) {
    if opts.set_image.is_empty() {
        return;
    }
    let star = opts.set_image_for("*");
    let Some(containers) = spec.get_mut("containers").and_then(Value::as_array_mut) else {
        return;
    };
    for c in containers.iter_mut() {
        let name = str_field(c, "name").unwrap_or("").to_string();
        let image = opts.set_image_for(&name).or(star);
        if let (Some(image), Some(m)) = (image.filter(|i| !i.is_empty()), c.as_object_mut()) {
            order::set(m, "image", Value::String(image.to_string()), CONTAINER);
        }
    }
}

/// Step 8 of 3.1: args, env, image, pull policy, stdin and tty on the chosen container.
fn modify_container(c: &mut Map<String, Value>, opts: &DebugOptions) {
    if !opts.args.is_empty() {
        if opts.arguments_only {
            order::set(c, "args", string_array(&opts.args), CONTAINER);
        } else {
            order::set(c, "command", string_array(&opts.args), CONTAINER);
            order::remove(c, "args");
        }
    }
    let env = opts.env_vars();
    if !env.is_empty() {
        // Replaced entirely: the container's own env is lost, as with kubectl.
        order::set(c, "env", Value::Array(env), CONTAINER);
    }
    if let Some(image) = opts.image() {
        order::set(c, "image", Value::String(image.into()), CONTAINER);
    }
    if let Some(p) = opts.pull_policy() {
        order::set(c, "imagePullPolicy", Value::String(p.into()), CONTAINER);
    }
    // Always overwritten, even on an existing container (false is omitted by Go).
    for (key, on) in [("stdin", opts.stdin), ("tty", opts.tty)] {
        if on {
            order::set(c, key, Value::Bool(true), CONTAINER);
        } else {
            order::remove(c, key);
        }
    }
}

/// kdebug's marking of a pod it creates: the managed-by label, target and creation time.
pub(crate) fn mark(pod: &mut Value, mark: Option<&Mark>) {
    let Some(mark) = mark else { return };
    let Some(meta) = pod.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(labels) = profiles::object_field(meta, "labels", OBJECT_META) {
        labels.insert(
            MANAGED_BY_LABEL.into(),
            Value::String(MANAGED_BY_VALUE.into()),
        );
    }
    if let Some(ann) = profiles::object_field(meta, "annotations", OBJECT_META) {
        ann.insert(TARGET_ANNOTATION.into(), Value::String(mark.target.clone()));
        ann.insert(
            CREATED_ANNOTATION.into(),
            Value::String(mark.created.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debug::testdata::{self, fixed_names, normalize_env};
    use crate::debug::Profile;

    fn opts() -> DebugOptions {
        DebugOptions {
            image: Some("busybox:1.36".into()),
            container: Some("dbg".into()),
            copy_to: Some("web-copy".into()),
            ..DebugOptions::default()
        }
    }

    fn check(scenario: &str, o: &DebugOptions) -> CopyRequest {
        let plan = build(&testdata::pod("web"), o, &mut fixed_names(&["bnnrb"])).unwrap();
        let sent = testdata::request_body(scenario, "POST", 0);
        assert_eq!(normalize_env(&plan.pod), normalize_env(&sent), "{scenario}");
        assert_eq!(
            testdata::request_path(scenario, "POST", 0),
            format!("/api/v1/namespaces/{}/pods", plan.namespace)
        );
        plan
    }

    #[test]
    fn containers_of_a_file_pod_get_go_empty_resources() {
        // kubectl 1.33, `-f pod.yaml --copy-to`: the containers read from the file had no
        // `resources`; kubectl's Go struct sends `{}` for each.
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"initContainers": [{"name": "i", "image": "busybox"}],
                     "containers": [{"name": "app", "image": "nginx", "terminationMessagePolicy": "File"}]}});
        let plan = build(&pod, &opts(), &mut fixed_names(&[])).unwrap();
        let spec = &plan.pod["spec"];
        assert_eq!(
            spec["initContainers"][0],
            json!({"name": "i", "image": "busybox", "resources": {}})
        );
        let app = spec["containers"][0].as_object().unwrap();
        assert_eq!(
            app.keys().collect::<Vec<_>>(),
            ["name", "image", "resources", "terminationMessagePolicy"]
        );
    }

    #[test]
    fn command() {
        let mut o = opts();
        o.args = vec!["sleep".into(), "1d".into()];
        let plan = check("copy-command", &o);
        assert_eq!(plan.container_name.as_deref(), Some("dbg"));
        assert_eq!(plan.pod_name, "web-copy");
        assert!(!plan.delete_original);
        assert!(plan.messages.is_empty());
    }

    #[test]
    fn env() {
        let mut o = opts();
        o.env = vec![("FOO".into(), "bar".into())];
        check("copy-env", &o);
    }

    #[test]
    fn every_profile() {
        for (p, scenario) in [
            (Profile::Legacy, "copy-profile-legacy"),
            (Profile::General, "copy-profile-general"),
            (Profile::Baseline, "copy-profile-baseline"),
            (Profile::Netadmin, "copy-profile-netadmin"),
            (Profile::Restricted, "copy-profile-restricted"),
            (Profile::Sysadmin, "copy-profile-sysadmin"),
        ] {
            let mut o = opts();
            o.profile = p;
            check(scenario, &o);
        }
    }

    #[test]
    fn keep_flags() {
        let mut o = opts();
        o.profile = Profile::General;
        o.keep_labels = true;
        o.keep_annotations = true;
        o.keep_liveness = true;
        o.keep_readiness = true;
        o.keep_startup = true;
        o.keep_init_containers = true;
        check("copy-keep-all-general", &o);

        let mut o = opts();
        o.profile = Profile::General;
        o.keep_annotations = true;
        check("copy-keep-annotations", &o);

        let mut o = opts();
        o.profile = Profile::General;
        o.keep_readiness = true;
        check("copy-keep-readiness", &o);
    }

    #[test]
    fn keep_init_containers_false_drops_them() {
        let mut o = opts();
        o.profile = Profile::General;
        o.keep_init_containers = false;
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert!(plan.pod["spec"].get("initContainers").is_none());
        // Legacy ignores the flag.
        o.profile = Profile::Legacy;
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert!(plan.pod["spec"].get("initContainers").is_some());
    }

    #[test]
    fn replace() {
        let mut o = opts();
        o.replace = true;
        let plan = check("copy-replace", &o);
        assert!(plan.delete_original);
        assert_eq!(plan.original_name, "web");
        assert_eq!(
            plan.delete_options,
            testdata::request_body("copy-replace", "DELETE", 0)
        );
        assert_eq!(
            testdata::request_path("copy-replace", "DELETE", 0),
            format!(
                "/api/v1/namespaces/{}/pods/{}",
                plan.namespace, plan.original_name
            )
        );
    }

    #[test]
    fn share_processes_explicit() {
        let mut o = opts();
        o.share_processes = Some(true);
        check("copy-share-processes-true", &o);
        // Explicit false beats the profile's "true if unset".
        o.share_processes = Some(false);
        o.profile = Profile::General;
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(plan.pod["spec"]["shareProcessNamespace"], false);
    }

    #[test]
    fn stdin() {
        let mut o = opts();
        o.stdin = true;
        check("attach-copy-stdin", &o);
    }

    #[test]
    fn modify_existing_app_container() {
        let mut o = opts();
        o.container = Some("app".into());
        o.image = Some("busybox:1.36".into());
        let plan = check("copy-modify-app-image", &o);
        assert_eq!(plan.container_name.as_deref(), Some("app"));

        let mut o = opts();
        o.container = Some("app".into());
        o.image = None;
        o.arguments_only = true;
        o.args = vec!["--debug".into(), "--verbose".into()];
        check("copy-modify-app-args-only", &o);
    }

    #[test]
    fn modify_existing_replaces_command_env_and_stdin() {
        let mut pod = testdata::pod("web");
        pod["spec"]["containers"][1]["args"] = json!(["x"]);
        pod["spec"]["containers"][1]["stdin"] = json!(true);
        pod["spec"]["containers"][1]["env"] = json!([{"name": "OLD", "value": "1"}]);
        let mut o = opts();
        o.container = Some("sidecar".into());
        o.image = None;
        o.args = vec!["sh".into()];
        o.env = vec![("NEW".into(), "2".into())];
        let plan = build(&pod, &o, &mut fixed_names(&[])).unwrap();
        let c = &plan.pod["spec"]["containers"][1];
        assert_eq!(c["command"], json!(["sh"]));
        assert!(c.get("args").is_none());
        assert!(c.get("stdin").is_none());
        assert_eq!(c["env"], json!([{"name": "NEW", "value": "2"}]));
        assert_eq!(c["image"], "busybox:1.36");
    }

    #[test]
    fn modify_init_container() {
        let mut o = opts();
        o.container = Some("init-db".into());
        o.profile = Profile::Sysadmin;
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        let init = &plan.pod["spec"]["initContainers"][0];
        assert_eq!(init["image"], "busybox:1.36");
        assert_eq!(init["securityContext"]["privileged"], true);
        assert_eq!(plan.pod["spec"]["containers"].as_array().unwrap().len(), 2);
        // The custom profile only looks at regular containers.
        o.custom = Some(json!({"workingDir": "/"}));
        let err = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unable to find the init-db container in the pod web-copy"
        );
    }

    #[test]
    fn set_image_star_and_specific() {
        let mut o = opts();
        o.image = None;
        o.container = None;
        o.set_image = vec![
            ("*".into(), "busybox:1".into()),
            ("app".into(), "nginx:2".into()),
            ("nope".into(), "x".into()),
        ];
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(plan.container_name, None);
        let spec = &plan.pod["spec"];
        assert_eq!(spec["containers"][0]["image"], "nginx:2");
        assert_eq!(spec["containers"][1]["image"], "busybox:1");
        // Init containers are never touched.
        assert_eq!(spec["initContainers"][0]["image"], "busybox:1.36");
        // kubectl returns before the profile: the legacy label strip does not happen.
        assert_eq!(plan.pod["metadata"]["labels"]["app"], "web");
        assert!(plan.messages.is_empty());
    }

    #[test]
    fn generated_name() {
        let mut o = opts();
        o.container = None;
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&["bnnrb"])).unwrap();
        assert_eq!(plan.container_name.as_deref(), Some("debugger-bnnrb"));
        assert_eq!(
            plan.messages,
            vec![Message::info(
                "Defaulting debug container name to debugger-bnnrb.".into()
            )]
        );
    }

    #[test]
    fn missing_image() {
        let mut o = opts();
        o.image = None;
        let err = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "you must specify image when creating new container"
        );
    }

    #[test]
    fn same_node_keeps_node_name_and_unknown_fields_survive() {
        let mut pod = testdata::pod("web");
        pod["spec"]["futureField"] = json!({"x": [1, 2]});
        pod["spec"]["containers"][0]["futureContainerField"] = json!(true);
        pod["spec"]["ephemeralContainers"] = json!([{"name": "old"}]);
        let mut o = opts();
        o.same_node = true;
        let plan = build(&pod, &o, &mut fixed_names(&[])).unwrap();
        let spec = &plan.pod["spec"];
        assert_eq!(spec["nodeName"], "node-1");
        assert_eq!(spec["futureField"], json!({"x": [1, 2]}));
        assert_eq!(spec["containers"][0]["futureContainerField"], true);
        assert!(spec.get("ephemeralContainers").is_none());
        let meta = plan.pod["metadata"].as_object().unwrap();
        let keys: Vec<&str> = meta.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["name", "namespace", "creationTimestamp", "annotations"]
        );
    }

    #[test]
    fn marking() {
        let mut o = opts();
        o.profile = Profile::General;
        o.mark = Some(Mark {
            target: "pod/web".into(),
            created: "2025-01-01T00:00:00Z".into(),
        });
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(
            plan.pod["metadata"]["labels"],
            json!({"app.kubernetes.io/managed-by": "kdebug"})
        );
        assert_eq!(
            plan.pod["metadata"]["annotations"],
            json!({"kdebug.io/target": "pod/web", "kdebug.io/created": "2025-01-01T00:00:00Z"})
        );
    }

    #[test]
    fn non_root_warning_only_for_regular_dc() {
        let mut pod = testdata::pod("web");
        pod["spec"]["securityContext"] = json!({"runAsUser": 1000});
        let mut o = opts();
        o.profile = Profile::Sysadmin;
        let plan = build(&pod, &o, &mut fixed_names(&[])).unwrap();
        assert_eq!(plan.messages.len(), 1);
        assert_eq!(plan.messages[0].text, crate::debug::NON_ROOT_WARNING);
        o.container = Some("init-db".into());
        let plan = build(&pod, &o, &mut fixed_names(&[])).unwrap();
        assert!(plan.messages.is_empty());
    }

    #[test]
    fn mirror_restores_app_env_and_user() {
        let mut pod = testdata::pod("web");
        pod["spec"]["containers"][0]["securityContext"]["runAsUser"] = json!(101);
        let mut o = opts();
        o.container = Some("app".into());
        o.profile = Profile::Baseline;
        o.env = vec![("DEBUG".into(), "1".into())];
        o.mirror = crate::debug::Mirror::all();
        let plan = build(&pod, &o, &mut fixed_names(&[])).unwrap();
        let app = &plan.pod["spec"]["containers"][0];
        assert_eq!(
            app["env"],
            json!([{"name": "APP_MODE", "value": "production"}, {"name": "DEBUG", "value": "1"}])
        );
        assert_eq!(app["securityContext"], json!({"runAsUser": 101}));
        // Without -c there is nothing to mirror.
        o.container = None;
        assert_eq!(
            build(&pod, &o, &mut fixed_names(&[])).unwrap_err(),
            DebugError::MirrorNeedsContainer
        );
    }

    #[test]
    fn custom_on_copy() {
        let mut o = opts();
        o.profile = Profile::General;
        o.custom = Some(testdata::scenario_file_json("custom.json"));
        let plan = build(&testdata::pod("web"), &o, &mut fixed_names(&[])).unwrap();
        let dbg = &plan.pod["spec"]["containers"][2];
        assert_eq!(
            dbg,
            &json!({"name": "dbg", "image": "busybox:1.36", "workingDir": "/tmp",
                    "env": [{"name": "CUSTOM_ENV", "value": "from-json"}], "resources": {},
                    "terminationMessagePolicy": "File",
                    "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}, "runAsUser": 1000}})
        );
    }
}
