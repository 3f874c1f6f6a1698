//! Node journey (`node/NAME`, reference 4): a pod pinned to the node, tolerating every taint,
//! with host namespaces and the host's `/` at `/host` when the profile says so.

use serde_json::{json, Map, Value};

use super::order::{self, OBJECT_META, POD_SPEC};
use super::profiles::{self, Keep, Style};
use super::{custom, meta, new_container, DebugError, DebugOptions, Message};

/// What to send for one node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRequest {
    /// The pod to `POST /api/v1/namespaces/{namespace}/pods`. Like kubectl's, its metadata
    /// carries no namespace: the request path does.
    pub pod: Value,
    /// `node-debugger-<node>-<5 chars>`.
    pub pod_name: String,
    /// The namespace to create it in (the current one).
    pub namespace: String,
    /// `-c`, else `debugger`.
    pub container_name: String,
    pub node_name: String,
    /// User-visible messages, in kubectl's order.
    pub messages: Vec<Message>,
}

/// `nsenter` into PID 1's mount, UTS, IPC, network and PID namespaces (kubectl-node-shell's
/// way): the command then runs in the node's own root with its own tools, not in the image.
pub const HOST_SHELL_PREFIX: &[&str] = &["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--"];

/// The container command for `--host-shell`: the given command, or `sh`, behind nsenter.
pub fn host_shell_command(args: &[String]) -> Vec<String> {
    let mut cmd: Vec<String> = HOST_SHELL_PREFIX.iter().map(|s| s.to_string()).collect();
    if args.is_empty() {
        cmd.push("sh".into());
    } else {
        cmd.extend(args.iter().cloned());
    }
    cmd
}

/// Builds the node debugging pod for `node` (the Node object).
pub fn build(
    node: &Value,
    namespace: &str,
    opts: &DebugOptions,
    names: &mut dyn FnMut() -> String,
) -> Result<NodeRequest, DebugError> {
    let node_name = Some(meta(node)?.name)
        .filter(|n| !n.is_empty())
        .ok_or(DebugError::MalformedObject(super::Malformed::NodeName))?
        .to_string();
    if !opts.mirror.is_empty() {
        return Err(DebugError::MirrorOnNode);
    }
    // nsenter into PID 1 needs the host's PID namespace and privilege: sysadmin gives both.
    let host_shell_opts;
    let opts = if opts.host_shell {
        let mut o = opts.clone();
        o.profile = super::Profile::Sysadmin;
        o.args = host_shell_command(&opts.args);
        o.arguments_only = false;
        host_shell_opts = o;
        &host_shell_opts
    } else {
        opts
    };
    let container_name = opts.container().unwrap_or("debugger").to_string();
    // No existence check and no truncation, like kubectl: collisions are rare enough.
    let pod_name = format!("node-debugger-{node_name}-{}", names());
    let messages = vec![Message::info(format!(
        "Creating debugging pod {pod_name} with container {container_name} on node {node_name}."
    ))];

    let mut meta = Map::new();
    order::set(
        &mut meta,
        "name",
        Value::String(pod_name.clone()),
        OBJECT_META,
    );
    order::set(&mut meta, "creationTimestamp", Value::Null, OBJECT_META);

    let mut spec = Map::new();
    order::set(
        &mut spec,
        "containers",
        Value::Array(vec![new_container(&container_name, opts)]),
        POD_SPEC,
    );
    order::set(&mut spec, "restartPolicy", json!("Never"), POD_SPEC);
    order::set(&mut spec, "nodeName", json!(node_name), POD_SPEC);
    // Tolerate every taint, NoExecute included (k/k#98253).
    order::set(
        &mut spec,
        "tolerations",
        json!([{"operator": "Exists"}]),
        POD_SPEC,
    );

    let mut pod = Map::new();
    pod.insert("kind".into(), json!("Pod"));
    pod.insert("apiVersion".into(), json!("v1"));
    pod.insert("metadata".into(), Value::Object(meta));
    pod.insert("spec".into(), Value::Object(spec));
    pod.insert("status".into(), Value::Object(Map::new()));
    let mut pod = Value::Object(pod);

    profiles::apply(
        opts.profile,
        Style::Node,
        &mut pod,
        &container_name,
        Keep::from_options(opts),
    );

    if let Some(doc) = opts.custom() {
        let patch = custom::decode(doc)?;
        custom::check_forbidden(&patch)?;
        if let Some(c) = pod
            .get_mut("spec")
            .and_then(|s| s.get_mut("containers"))
            .and_then(Value::as_array_mut)
            .and_then(|a| a.first_mut())
        {
            custom::merge_container(c, &patch, &container_name);
        }
    }

    super::copy::mark(&mut pod, opts.mark.as_ref());

    Ok(NodeRequest {
        pod,
        pod_name,
        namespace: namespace.to_string(),
        container_name,
        node_name,
        messages,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::debug::testdata::{self, fixed_names, normalize_names};
    use crate::debug::{Mark, Profile};

    fn opts() -> DebugOptions {
        DebugOptions {
            image: Some("busybox:1.36".into()),
            ..DebugOptions::default()
        }
    }

    /// Builds with the suffix kubectl drew and compares the body and the message.
    fn check(scenario: &str, o: &DebugOptions) -> NodeRequest {
        let sent = testdata::request_body(scenario, "POST", 0);
        let name = sent["metadata"]["name"].as_str().unwrap().to_string();
        let suffix = &name[name.len() - 5..];
        let plan = build(
            &testdata::node("node-1"),
            "default",
            o,
            &mut fixed_names(&[suffix]),
        )
        .unwrap();
        assert_eq!(plan.pod, sent, "{scenario}");
        assert_eq!(normalize_names(&plan.pod), normalize_names(&sent));
        // Byte for byte what Go's json.Marshal of the same pod gives (key order included).
        assert_eq!(
            crate::text::go::json(&plan.pod),
            serde_json::to_string(&sent).unwrap(),
            "{scenario}"
        );
        let out = testdata::stdout(scenario);
        if !out.is_empty() {
            // The attach scenarios continue with the session's output.
            let first = out.lines().next().unwrap_or("");
            assert_eq!(plan.messages[0].text, first);
        }
        plan
    }

    #[test]
    fn legacy_and_container_name() {
        let plan = check("node-quiet", &opts());
        assert_eq!(plan.container_name, "debugger");
        assert!(plan.messages[0].quiet_suppressed);
        let mut o = opts();
        o.container = Some("dbg".into());
        let plan = check("node-container-name", &o);
        assert_eq!(plan.container_name, "dbg");
        assert_eq!(plan.node_name, "node-1");
    }

    #[test]
    fn stdin() {
        let mut o = opts();
        o.stdin = true;
        check("attach-node-stdin", &o);
    }

    #[test]
    fn profiles() {
        for (p, scenario) in [
            (Profile::General, "node-profile-general"),
            (Profile::Baseline, "node-profile-baseline"),
            (Profile::Sysadmin, "node-profile-sysadmin"),
        ] {
            let mut o = opts();
            o.profile = p;
            check(scenario, &o);
        }
    }

    #[test]
    fn profiles_without_transcripts() {
        let build_with = |p: Profile| {
            let mut o = opts();
            o.profile = p;
            build(
                &testdata::node("node-1"),
                "default",
                &o,
                &mut fixed_names(&["abcde"]),
            )
            .unwrap()
            .pod
        };
        let net = build_with(Profile::Netadmin);
        assert_eq!(
            crate::text::go::json(&net["spec"]),
            r#"{"containers":[{"name":"debugger","image":"busybox:1.36","resources":{},"terminationMessagePolicy":"File","securityContext":{"capabilities":{"add":["NET_ADMIN","NET_RAW"]}}}],"restartPolicy":"Never","nodeName":"node-1","hostNetwork":true,"hostPID":true,"hostIPC":true,"tolerations":[{"operator":"Exists"}]}"#
        );
        let restricted = build_with(Profile::Restricted);
        assert_eq!(
            crate::text::go::json(&restricted["spec"]),
            r#"{"containers":[{"name":"debugger","image":"busybox:1.36","resources":{},"terminationMessagePolicy":"File","securityContext":{"capabilities":{"drop":["ALL"]},"runAsNonRoot":true,"allowPrivilegeEscalation":false,"seccompProfile":{"type":"RuntimeDefault"}}}],"restartPolicy":"Never","nodeName":"node-1","tolerations":[{"operator":"Exists"}]}"#
        );
    }

    #[test]
    fn args_env_custom_and_mark() {
        let mut o = opts();
        o.args = vec!["chroot".into(), "/host".into()];
        o.env = vec![("A".into(), "1".into())];
        o.tty = true;
        o.stdin = true;
        o.image_pull_policy = Some("IfNotPresent".into());
        o.profile = Profile::General;
        o.custom = Some(serde_json::json!({"securityContext": {"privileged": true}}));
        o.mark = Some(Mark {
            target: "node/node-1".into(),
            created: "2025-01-01T00:00:00Z".into(),
        });
        let plan = build(
            &testdata::node("node-1"),
            "ns1",
            &o,
            &mut fixed_names(&["abcde"]),
        )
        .unwrap();
        assert_eq!(plan.pod_name, "node-debugger-node-1-abcde");
        assert_eq!(plan.namespace, "ns1");
        assert_eq!(
            crate::text::go::json(&plan.pod),
            r#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"node-debugger-node-1-abcde","creationTimestamp":null,"labels":{"app.kubernetes.io/managed-by":"kdebug"},"annotations":{"kdebug.io/target":"node/node-1","kdebug.io/created":"2025-01-01T00:00:00Z"}},"spec":{"volumes":[{"name":"host-root","hostPath":{"path":"/"}}],"containers":[{"name":"debugger","image":"busybox:1.36","command":["chroot","/host"],"env":[{"name":"A","value":"1"}],"resources":{},"volumeMounts":[{"name":"host-root","mountPath":"/host"}],"terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent","securityContext":{"privileged":true},"stdin":true,"tty":true}],"restartPolicy":"Never","nodeName":"node-1","hostNetwork":true,"hostPID":true,"hostIPC":true,"tolerations":[{"operator":"Exists"}]},"status":{}}"#
        );
    }

    #[test]
    fn host_shell_enters_pid_1_privileged() {
        let mut o = opts();
        o.host_shell = true;
        o.stdin = true;
        o.tty = true;
        let pod = build(
            &testdata::node("node-1"),
            "default",
            &o,
            &mut fixed_names(&["abcde"]),
        )
        .unwrap()
        .pod;
        let spec = &pod["spec"];
        assert_eq!(spec["hostPID"], true);
        assert_eq!(spec["hostNetwork"], true);
        assert_eq!(spec["hostIPC"], true);
        let c = &spec["containers"][0];
        assert_eq!(c["securityContext"]["privileged"], true);
        assert_eq!(
            c["command"],
            serde_json::json!(["nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--", "sh"])
        );
        assert_eq!(c["stdin"], true);
        // A command given after -- runs on the node instead of sh.
        o.args = vec!["systemctl".into(), "status".into(), "kubelet".into()];
        o.arguments_only = true;
        let pod = build(
            &testdata::node("node-1"),
            "default",
            &o,
            &mut fixed_names(&["abcde"]),
        )
        .unwrap()
        .pod;
        let c = &pod["spec"]["containers"][0];
        assert_eq!(c["command"][9], "systemctl");
        assert_eq!(c["command"][11], "kubelet");
        assert!(c.get("args").is_none());
    }

    #[test]
    fn errors() {
        assert!(build(
            &serde_json::json!({}),
            "default",
            &opts(),
            &mut fixed_names(&[])
        )
        .is_err());
        let mut o = opts();
        o.mirror = crate::debug::Mirror::all();
        assert_eq!(
            build(
                &testdata::node("node-1"),
                "default",
                &o,
                &mut fixed_names(&[])
            )
            .unwrap_err(),
            DebugError::MirrorOnNode
        );
    }
}
