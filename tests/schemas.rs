//! The bodies kdebug sends and the objects it reads, against our own schemas in
//! `vendor-schemas/`, and those schemas against the upstream OpenAPI document.
//!
//! The validator is deliberately tiny: it knows the keywords the schemas use and fails on any
//! other, so a schema can never be "valid" because a keyword was silently ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kdebug::debug::{copy, ephemeral, node, DebugOptions, Mark, Mirror, Profile};
use serde_json::{json, Value};

const FIXTURE: &str = include_str!("../src/debug/fixtures/fixture.json");

const KNOWN_KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "title",
    "description",
    "x-kdebug-upstream",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "const",
    "allOf",
    "propertyNames",
    "minItems",
    "maxItems",
    "maxProperties",
    "minLength",
    "minimum",
    "maximum",
];

struct Schemas {
    docs: BTreeMap<String, Value>,
}

impl Schemas {
    fn load() -> Schemas {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vendor-schemas");
        let mut docs = BTreeMap::new();
        for entry in std::fs::read_dir(&dir).expect("vendor-schemas/") {
            let path = entry.expect("dir entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&path).expect("schema readable");
            let v: Value =
                serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not JSON: {e}"));
            docs.insert(name, v);
        }
        Schemas { docs }
    }

    /// Validates `v` against the schema file `doc`; returns every violation.
    fn validate(&self, doc: &str, v: &Value) -> Vec<String> {
        let schema = self
            .docs
            .get(doc)
            .unwrap_or_else(|| panic!("no schema {doc}"));
        let mut errors = Vec::new();
        self.check(doc, schema, v, "$", &mut errors);
        errors
    }

    fn assert_valid(&self, doc: &str, v: &Value, what: &str) {
        let errors = self.validate(doc, v);
        assert!(
            errors.is_empty(),
            "{what} against {doc}:\n{}",
            errors.join("\n")
        );
    }

    fn resolve(&self, base: &str, r: &str) -> (String, &Value) {
        let (file, pointer) = match r.split_once('#') {
            Some(("", p)) => (base.to_string(), p),
            Some((f, p)) => (f.to_string(), p),
            None => (r.to_string(), ""),
        };
        let doc = self
            .docs
            .get(&file)
            .unwrap_or_else(|| panic!("$ref {r}: no schema file {file}"));
        let target = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("$ref {r}: no {pointer} in {file}"));
        (file, target)
    }

    fn check(&self, base: &str, s: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
        let s = match s {
            Value::Bool(true) => return,
            Value::Bool(false) => {
                errors.push(format!("{at}: not allowed here"));
                return;
            }
            Value::Object(m) => m,
            other => panic!("schema at {at} is not a schema: {other}"),
        };
        for k in s.keys() {
            assert!(
                KNOWN_KEYWORDS.contains(&k.as_str()),
                "unsupported keyword {k} ({base})"
            );
        }
        if let Some(Value::String(r)) = s.get("$ref") {
            let (file, target) = self.resolve(base, r);
            self.check(&file, target, v, at, errors);
        }
        if let Some(Value::Array(all)) = s.get("allOf") {
            for sub in all {
                self.check(base, sub, v, at, errors);
            }
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => panic!("bad type at {at}"),
            };
            if !types.iter().any(|t| type_matches(t, v)) {
                errors.push(format!("{at}: expected {types:?}, got {}", short(v)));
                return;
            }
        }
        if let Some(Value::Array(options)) = s.get("enum") {
            if !options.contains(v) {
                errors.push(format!("{at}: {} not in {options:?}", short(v)));
            }
        }
        if let Some(c) = s.get("const") {
            if c != v {
                errors.push(format!("{at}: {} is not {c}", short(v)));
            }
        }
        if let Some(n) = s.get("minLength").and_then(Value::as_u64) {
            if v.as_str().is_some_and(|x| (x.chars().count() as u64) < n) {
                errors.push(format!("{at}: shorter than {n}"));
            }
        }
        if let Some(n) = s.get("minimum").and_then(Value::as_f64) {
            if v.as_f64().is_some_and(|x| x < n) {
                errors.push(format!("{at}: below {n}"));
            }
        }
        if let Some(n) = s.get("maximum").and_then(Value::as_f64) {
            if v.as_f64().is_some_and(|x| x > n) {
                errors.push(format!("{at}: above {n}"));
            }
        }
        if let Value::Array(items) = v {
            if let Some(n) = s.get("minItems").and_then(Value::as_u64) {
                if (items.len() as u64) < n {
                    errors.push(format!("{at}: fewer than {n} items"));
                }
            }
            if let Some(n) = s.get("maxItems").and_then(Value::as_u64) {
                if (items.len() as u64) > n {
                    errors.push(format!("{at}: more than {n} items"));
                }
            }
            if let Some(item) = s.get("items") {
                for (i, x) in items.iter().enumerate() {
                    self.check(base, item, x, &format!("{at}[{i}]"), errors);
                }
            }
        }
        if let Value::Object(obj) = v {
            if let Some(n) = s.get("maxProperties").and_then(Value::as_u64) {
                if (obj.len() as u64) > n {
                    errors.push(format!("{at}: more than {n} properties"));
                }
            }
            if let Some(Value::Array(req)) = s.get("required") {
                for r in req.iter().filter_map(Value::as_str) {
                    if !obj.contains_key(r) {
                        errors.push(format!("{at}: missing {r}"));
                    }
                }
            }
            let props = s.get("properties").and_then(Value::as_object);
            if let Some(names) = s.get("propertyNames") {
                for k in obj.keys() {
                    self.check(
                        base,
                        names,
                        &Value::String(k.clone()),
                        &format!("{at} key {k}"),
                        errors,
                    );
                }
            }
            for (k, x) in obj {
                let here = format!("{at}.{k}");
                match props.and_then(|p| p.get(k)) {
                    Some(ps) => self.check(base, ps, x, &here, errors),
                    None => {
                        if let Some(extra) = s.get("additionalProperties") {
                            self.check(base, extra, x, &here, errors);
                        }
                    }
                }
            }
        }
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.as_i64().is_some() || v.as_u64().is_some(),
        other => panic!("unknown type {other}"),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 80 {
        format!("{}…", &s[..80])
    } else {
        s
    }
}

// ------------------------------------------------------------------------------------------
// Fixtures.

fn fixture() -> Value {
    serde_json::from_str(FIXTURE).expect("fixture")
}

fn pod(name: &str) -> Value {
    let f = fixture();
    f["namespaces"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|ns| ns["pods"].as_array().cloned().unwrap_or_default())
        .find(|p| p["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no pod {name}"))
}

fn all_pods() -> Vec<Value> {
    let f = fixture();
    f["namespaces"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|ns| ns["pods"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn names() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("abc{n:02}")
    }
}

const PROFILES: [Profile; 6] = [
    Profile::Legacy,
    Profile::General,
    Profile::Baseline,
    Profile::Restricted,
    Profile::Netadmin,
    Profile::Sysadmin,
];

fn mark() -> Option<Mark> {
    Some(Mark {
        target: "pod/web".into(),
        created: "2025-01-01T00:00:00Z".into(),
    })
}

/// A spread of option sets, each used with every profile.
fn option_sets() -> Vec<DebugOptions> {
    let base = DebugOptions {
        image: Some("busybox:1.36".into()),
        ..DebugOptions::default()
    };
    vec![
        base.clone(),
        DebugOptions {
            container: Some("dbg".into()),
            args: vec!["sh".into(), "-c".into(), "echo <hi> & bye".into()],
            env: vec![("A".into(), "1".into()), ("B".into(), String::new())],
            stdin: true,
            tty: true,
            image_pull_policy: Some("Always".into()),
            ..base.clone()
        },
        DebugOptions {
            arguments_only: true,
            args: vec!["--x".into()],
            custom: Some(
                json!({"workingDir": "/tmp", "env": [{"name": "C", "value": "x"}],
                               "securityContext": {"runAsUser": 0, "capabilities": {"add": ["NET_ADMIN"]}}}),
            ),
            mark: mark(),
            ..base.clone()
        },
    ]
}

// ------------------------------------------------------------------------------------------
// Sent bodies.

#[test]
fn ephemeral_patches_are_valid() {
    let s = Schemas::load();
    for p in all_pods() {
        for mut o in option_sets() {
            for profile in PROFILES {
                o.profile = profile;
                let plan = ephemeral::build(&p, &o, &mut names()).expect("build");
                let body: Value = serde_json::from_str(&plan.patch_body()).expect("patch is JSON");
                s.assert_valid(
                    "ephemeral-containers-patch.schema.json",
                    &body,
                    &format!("patch for {} with {profile}", p["metadata"]["name"]),
                );
            }
        }
    }
    // With --target and --mirror (no subPath mounts reach the ephemeral container).
    let mut o = option_sets().remove(0);
    o.target = Some("app".into());
    o.mirror = Mirror::all();
    let plan = ephemeral::build(&pod("web"), &o, &mut names()).unwrap();
    s.assert_valid(
        "ephemeral-containers-patch.schema.json",
        &plan.patch,
        "mirrored patch",
    );
}

#[test]
fn copy_pods_are_valid() {
    let s = Schemas::load();
    for p in all_pods() {
        for mut o in option_sets() {
            o.copy_to = Some("copy".into());
            for profile in PROFILES {
                o.profile = profile;
                o.keep_init_containers = profile != Profile::General;
                let plan = copy::build(&p, &o, &mut names()).expect("build");
                let what = format!("copy of {} with {profile}", p["metadata"]["name"]);
                s.assert_valid("copy-pod.schema.json", &plan.pod, &what);
                s.assert_valid("pod.schema.json", &plan.pod, &what);
                s.assert_valid("delete-options.schema.json", &plan.delete_options, &what);
            }
        }
    }
    // --set-image only, and modifying the app container with --mirror.
    let o = DebugOptions {
        copy_to: Some("copy".into()),
        set_image: vec![("*".into(), "busybox:1".into())],
        ..DebugOptions::default()
    };
    let plan = copy::build(&pod("web"), &o, &mut names()).unwrap();
    s.assert_valid("copy-pod.schema.json", &plan.pod, "set-image copy");
    let o = DebugOptions {
        copy_to: Some("copy".into()),
        container: Some("app".into()),
        image: Some("busybox:1".into()),
        mirror: Mirror::all(),
        profile: Profile::Restricted,
        ..DebugOptions::default()
    };
    let plan = copy::build(&pod("web"), &o, &mut names()).unwrap();
    s.assert_valid("copy-pod.schema.json", &plan.pod, "mirrored copy");
}

#[test]
fn node_pods_are_valid() {
    let s = Schemas::load();
    let f = fixture();
    let node_obj = &f["nodes"][0];
    for mut o in option_sets() {
        for profile in PROFILES {
            o.profile = profile;
            let plan = node::build(node_obj, "default", &o, &mut names()).expect("build");
            let what = format!("node pod with {profile}");
            s.assert_valid("node-debug-pod.schema.json", &plan.pod, &what);
            s.assert_valid("pod.schema.json", &plan.pod, &what);
        }
    }
}

/// The schemas must be able to fail: bodies kdebug must never send are rejected.
#[test]
fn schemas_reject_what_the_api_would() {
    let s = Schemas::load();
    let o = DebugOptions {
        image: Some("busybox:1.36".into()),
        container: Some("dbg".into()),
        ..DebugOptions::default()
    };
    let plan = ephemeral::build(&pod("web"), &o, &mut names()).unwrap();
    let ok = plan.patch.clone();
    let bad = |edit: &dyn Fn(&mut Value)| {
        let mut v = ok.clone();
        edit(&mut v);
        v
    };
    let p = "ephemeral-containers-patch.schema.json";
    for (what, body) in [
        (
            "ports",
            bad(&|v| v["spec"]["ephemeralContainers"][0]["ports"] = json!([{"containerPort": 80}])),
        ),
        (
            "probe",
            bad(&|v| v["spec"]["ephemeralContainers"][0]["livenessProbe"] = json!({})),
        ),
        (
            "resources",
            bad(&|v| {
                v["spec"]["ephemeralContainers"][0]["resources"] = json!({"limits": {"cpu": "1"}})
            }),
        ),
        (
            "subPath",
            bad(&|v| {
                v["spec"]["ephemeralContainers"][0]["volumeMounts"] =
                    json!([{"name": "x", "mountPath": "/x", "subPath": "y"}])
            }),
        ),
        (
            "two containers",
            bad(
                &|v| v["spec"]["ephemeralContainers"] = json!([{"name": "a", "image": "b", "terminationMessagePolicy": "File"}, {"name": "c", "image": "d", "terminationMessagePolicy": "File"}]),
            ),
        ),
        (
            "no image",
            bad(&|v| {
                v["spec"]["ephemeralContainers"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("image");
            }),
        ),
        (
            "other spec field",
            bad(&|v| v["spec"]["containers"] = json!([])),
        ),
        (
            "bad pull policy",
            bad(&|v| v["spec"]["ephemeralContainers"][0]["imagePullPolicy"] = json!("Sometimes")),
        ),
        (
            "stdin string",
            bad(&|v| v["spec"]["ephemeralContainers"][0]["stdin"] = json!("true")),
        ),
        (
            "runAsUser string",
            bad(&|v| {
                v["spec"]["ephemeralContainers"][0]["securityContext"] = json!({"runAsUser": "0"})
            }),
        ),
    ] {
        assert!(
            !s.validate(p, &body).is_empty(),
            "{what} should be rejected"
        );
    }
    assert!(s.validate(p, &ok).is_empty());

    let copy_plan = copy::build(
        &pod("web"),
        &DebugOptions {
            copy_to: Some("c".into()),
            ..o.clone()
        },
        &mut names(),
    )
    .unwrap();
    let mut leaked = copy_plan.pod.clone();
    leaked["metadata"]["ownerReferences"] = json!([]);
    assert!(!s.validate("copy-pod.schema.json", &leaked).is_empty());
    let mut with_ephemeral = copy_plan.pod.clone();
    with_ephemeral["spec"]["ephemeralContainers"] = json!([]);
    assert!(!s
        .validate("copy-pod.schema.json", &with_ephemeral)
        .is_empty());

    let node_plan = node::build(&fixture()["nodes"][0], "default", &o, &mut names()).unwrap();
    let mut restarting = node_plan.pod.clone();
    restarting["spec"]["restartPolicy"] = json!("Always");
    assert!(!s
        .validate("node-debug-pod.schema.json", &restarting)
        .is_empty());
    assert!(!s
        .validate(
            "delete-options.schema.json",
            &json!({"kind": "DeleteOptions", "apiVersion": "v1"})
        )
        .is_empty());
}

// ------------------------------------------------------------------------------------------
// Read objects.

#[test]
fn read_objects_are_valid() {
    let s = Schemas::load();
    for p in all_pods() {
        s.assert_valid("pod.schema.json", &p, "fixture pod");
        s.assert_valid(
            "watch-event.schema.json",
            &json!({"type": "MODIFIED", "object": p}),
            "watch event",
        );
    }
    for n in fixture()["nodes"].as_array().unwrap() {
        s.assert_valid("node.schema.json", n, "fixture node");
    }
    // Status bodies as the recording API server returned them (err-pod-not-found,
    // err-duplicate-container-name).
    let not_found = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "pods \"nope\" not found", "reason": "NotFound", "code": 404,
        "details": {"name": "nope", "kind": "pods"}});
    let invalid = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": "Pod \"web\" is invalid: spec.ephemeralContainers[0].name: Duplicate value: \"app\"",
        "reason": "Invalid", "code": 422,
        "details": {"name": "web", "kind": "Pod", "causes": [{"reason": "FieldValueDuplicate",
            "message": "Duplicate value: \"app\"", "field": "spec.ephemeralContainers[0].name"}]}});
    for st in [&not_found, &invalid] {
        s.assert_valid("status.schema.json", st, "status");
    }
    s.assert_valid(
        "watch-event.schema.json",
        &json!({"type": "ERROR", "object": invalid}),
        "error event",
    );
    s.assert_valid(
        "watch-event.schema.json",
        &json!({"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1", "metadata": {"resourceVersion": "12"}}}),
        "bookmark",
    );
    assert!(!s
        .validate(
            "watch-event.schema.json",
            &json!({"type": "CHANGED", "object": {}})
        )
        .is_empty());
    assert!(!s
        .validate("status.schema.json", &json!({"kind": "Status"}))
        .is_empty());
    assert!(!s
        .validate("node.schema.json", &json!({"metadata": {}}))
        .is_empty());
}

#[test]
fn go_json_is_what_serde_parses() {
    // The bodies are serialised with Go's escaping; they must stay plain JSON.
    let o = &option_sets()[1];
    let plan = ephemeral::build(&pod("web"), o, &mut names()).unwrap();
    let text = plan.patch_body();
    assert!(text.contains("\\u003chi\\u003e \\u0026 bye"), "{text}");
    let back: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(back, plan.patch);
    assert_eq!(kdebug::text::go::json(&back), text);
}

// ------------------------------------------------------------------------------------------
// Our schemas against upstream.

fn openapi_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("KDEBUG_OPENAPI_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/openapi"),
    };
    dir.join("api__v1_openapi.json").is_file().then_some(dir)
}

/// The upstream schema a property points at (`$ref` or `allOf: [{$ref}]`), if any.
fn upstream_ref(p: &Value) -> Option<String> {
    let r = p.get("$ref").or_else(|| {
        p.get("allOf")
            .and_then(|a| a.get(0))
            .and_then(|x| x.get("$ref"))
    })?;
    r.as_str()
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .map(str::to_string)
}

fn upstream_types(up: &Value, all: &serde_json::Map<String, Value>) -> Vec<String> {
    if let Some(name) = upstream_ref(up) {
        return all
            .get(&name)
            .map(|s| upstream_types(s, all))
            .unwrap_or_default();
    }
    if let Some(t) = up.get("type").and_then(Value::as_str) {
        return vec![t.to_string()];
    }
    if let Some(Value::Array(one)) = up.get("oneOf") {
        return one
            .iter()
            .filter_map(|x| x.get("type").and_then(Value::as_str).map(str::to_string))
            .collect();
    }
    // A schema with only properties is an object.
    if up.get("properties").is_some() {
        return vec!["object".into()];
    }
    Vec::new()
}

struct Upstream<'a> {
    ours: &'a serde_json::Map<String, Value>,
    all: &'a serde_json::Map<String, Value>,
    problems: Vec<String>,
}

impl Upstream<'_> {
    /// Our property schema `p` must accept what upstream's `up` produces.
    fn compare(&mut self, at: &str, p: &Value, up: &Value) {
        let (our_types, our_upstream): (Vec<String>, Option<String>) =
            match p.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let def_name = r.rsplit('/').next().unwrap_or("");
                    let def = self.ours.get(def_name);
                    let types = def.map(types_of).unwrap_or_default();
                    let up_name = def
                        .and_then(|d| d.get("x-kdebug-upstream"))
                        .and_then(Value::as_str)
                        .map(str::to_string);
                    (types, up_name)
                }
                None => (types_of(p), None),
            };
        if let (Some(ours), Some(theirs)) = (&our_upstream, upstream_ref(up)) {
            if *ours != theirs {
                self.problems
                    .push(format!("{at}: we say {ours}, upstream says {theirs}"));
            }
        }
        let theirs = upstream_types(up, self.all);
        if !our_types.is_empty() {
            for t in &theirs {
                if !our_types.contains(t) {
                    self.problems.push(format!(
                        "{at}: upstream type {t} not accepted by our {our_types:?}"
                    ));
                }
            }
        }
        if let (Some(Value::Array(ours)), Some(Value::Array(up_enum))) =
            (p.get("enum"), up.get("enum"))
        {
            for e in ours {
                if !up_enum.contains(e) {
                    self.problems
                        .push(format!("{at}: enum value {e} unknown upstream"));
                }
            }
        }
        if let (Some(items), Some(up_items)) = (p.get("items"), up.get("items")) {
            self.compare(&format!("{at}[]"), items, up_items);
        }
        if let (Some(extra), Some(up_extra)) = (
            p.get("additionalProperties").filter(|x| x.is_object()),
            up.get("additionalProperties").filter(|x| x.is_object()),
        ) {
            self.compare(&format!("{at}{{}}"), extra, up_extra);
        }
    }
}

fn types_of(s: &Value) -> Vec<String> {
    match s.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

#[test]
fn schemas_agree_with_upstream_openapi() {
    let Some(dir) = openapi_dir() else {
        eprintln!("skipping: no ../shared/openapi/api__v1_openapi.json (set KDEBUG_OPENAPI_DIR)");
        return;
    };
    let text = std::fs::read_to_string(dir.join("api__v1_openapi.json")).expect("openapi readable");
    let openapi: Value = serde_json::from_str(&text).expect("openapi is JSON");
    let all = openapi["components"]["schemas"]
        .as_object()
        .expect("components.schemas");
    let s = Schemas::load();
    let defs = s.docs["k8s.schema.json"]["$defs"]
        .as_object()
        .expect("$defs");
    let mut check = Upstream {
        ours: defs,
        all,
        problems: Vec::new(),
    };
    let mut checked = 0;
    for (name, def) in defs {
        let up_name = def
            .get("x-kdebug-upstream")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{name} names no upstream schema"));
        let Some(up) = all.get(up_name) else {
            check
                .problems
                .push(format!("{name}: no upstream {up_name}"));
            continue;
        };
        // Leaf types (Quantity, IntOrString): compare the types themselves.
        if def.get("properties").is_none() {
            check.compare(name, def, up);
            checked += 1;
            continue;
        }
        let up_props = up.get("properties").and_then(Value::as_object);
        for (prop, p) in def["properties"].as_object().unwrap() {
            checked += 1;
            match up_props.and_then(|u| u.get(prop)) {
                Some(u) => check.compare(&format!("{name}.{prop}"), p, u),
                None => check
                    .problems
                    .push(format!("{name}.{prop}: not in upstream {up_name}")),
            }
        }
        for r in def
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().unwrap_or("");
            if up_props.is_some_and(|u| !u.contains_key(r)) {
                check
                    .problems
                    .push(format!("{name}: required {r} unknown upstream"));
            }
        }
    }
    assert!(checked > 100, "only {checked} properties checked");
    assert!(check.problems.is_empty(), "{}", check.problems.join("\n"));
}

#[test]
fn upstream_check_can_fail() {
    let Some(dir) = openapi_dir() else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("api__v1_openapi.json")).unwrap();
    let openapi: Value = serde_json::from_str(&text).unwrap();
    let all = openapi["components"]["schemas"].as_object().unwrap();
    let defs = serde_json::Map::new();
    let mut check = Upstream {
        ours: &defs,
        all,
        problems: Vec::new(),
    };
    let container = &all["io.k8s.api.core.v1.Container"]["properties"];
    check.compare("stdin", &json!({"type": "string"}), &container["stdin"]);
    check.compare(
        "ipp",
        &json!({"type": "string", "enum": ["Sometimes"]}),
        &container["imagePullPolicy"],
    );
    check.compare(
        "args",
        &json!({"type": "array", "items": {"type": "integer"}}),
        &container["args"],
    );
    assert_eq!(check.problems.len(), 3, "{:?}", check.problems);
}
