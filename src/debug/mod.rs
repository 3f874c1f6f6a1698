//! Pure builders for the three debug journeys (no I/O): an ephemeral container patch, a copy of
//! a pod, a pod on a node. They work on `serde_json::Value` so that every field of the original
//! pod that kdebug does not know about survives a copy untouched.
//!
//! Each builder returns the request body plus the user-visible messages it implies, in
//! kubectl's order and wording (section 2.5 of the reference). Messages that kubectl prints
//! once per run, before any target is touched (`Targeting container …`, the legacy-profile
//! warning), come from [`validate::validate`] / [`startup_messages`] instead, so that a run with
//! several targets prints them once.
//!
//! The builders: [`ephemeral`], [`copy`], [`node`], [`cp`]; what they share: [`options`] (the
//! command line's part), [`profiles`], [`custom`], [`mirror`], [`marks`], [`container`] (a
//! container in a pod spec), [`order`] (Go's field order), [`names`]; the checks:
//! [`validate`] (kubectl's Validate) and [`image`] (the image-reference grammar); and
//! [`error`].

pub use crate::sys::output::{Message, Stream};
pub use marks::{
    Mark, CREATED_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_SELECTOR, MANAGED_BY_VALUE, MARK_ENV,
    TARGET_ANNOTATION,
};
pub mod container;
pub mod copy;
pub mod cp;
pub mod custom;
pub mod ephemeral;
pub mod error;
pub mod image;
pub mod marks;
pub mod mirror;
pub mod names;
pub mod node;
pub mod options;
pub mod order;
pub mod profiles;
pub mod validate;

#[cfg(test)]
mod testdata;

pub(crate) use container::{
    container_at, container_mut, defaulting_message, env_var, find_container,
    generate_container_name, meta, new_container, non_root_warning, str_field, string_array,
    ALL_CONTAINER_LISTS,
};
pub use error::{DebugError, Malformed};
pub use mirror::Mirror;
pub(crate) use options::targeting_message;
pub use options::{startup_messages, DebugOptions, Profile, LEGACY_WARNING, NON_ROOT_WARNING};

#[cfg(test)]
mod robustness {
    //! No panic on any input: every subtree of the fixture pod and node replaced by values of
    //! every JSON type, through every builder and profile.
    use super::*;
    use serde_json::json;
    use serde_json::Value;

    fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    at.push(k.clone());
                    paths(x, at, out);
                    at.pop();
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    at.push(i.to_string());
                    paths(x, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }

    fn replace(v: &Value, path: &[String], with: &Value) -> Value {
        let mut v = v.clone();
        let pointer: String = path.iter().map(|p| format!("/{p}")).collect();
        if let Some(slot) = v.pointer_mut(&pointer) {
            *slot = with.clone();
        }
        v
    }

    #[test]
    fn builders_never_panic() {
        let replacements = [
            json!(null),
            json!(true),
            json!(-1),
            json!("x"),
            json!([]),
            json!({}),
            json!([{}]),
        ];
        let option_sets: Vec<DebugOptions> = [
            Profile::Legacy,
            Profile::General,
            Profile::Restricted,
            Profile::Sysadmin,
        ]
        .into_iter()
        .map(|profile| DebugOptions {
            image: Some("busybox".into()),
            container: Some("app".into()),
            target: Some("app".into()),
            copy_to: Some("copy".into()),
            profile,
            mirror: Mirror::all(),
            custom: Some(json!({"env": [{"name": "A"}], "securityContext": {"runAsUser": 0}})),
            mark: Some(Mark {
                target: "pod/web".into(),
                created: "now".into(),
            }),
            ..DebugOptions::default()
        })
        .collect();
        let pod = testdata::pod("web");
        let mut all = Vec::new();
        paths(&pod, &mut Vec::new(), &mut all);
        let mut names = testdata::fixed_names(&[]);
        for path in &all {
            for r in &replacements {
                let p = replace(&pod, path, r);
                for o in &option_sets {
                    let _ = ephemeral::build(&p, o, &mut names);
                    let _ = copy::build(&p, o, &mut names);
                    let mut plain = o.clone();
                    plain.mirror = Mirror::default();
                    let _ = node::build(&p, "ns", &plain, &mut names);
                }
            }
        }
        // Odd --custom documents.
        let mut o = option_sets[1].clone();
        for doc in [
            json!(null),
            json!(1),
            json!("s"),
            json!([]),
            json!({"env": 1}),
            json!({"ports": [1]}),
            json!({"resources": {"limits": []}}),
            json!({"securityContext": {"capabilities": {"add": [{}]}}}),
        ] {
            o.custom = Some(doc);
            let _ = ephemeral::build(&pod, &o, &mut names);
            let _ = copy::build(&pod, &o, &mut names);
        }
    }
}
