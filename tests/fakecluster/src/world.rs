//! The initial state: the default world or a fixture file.

use serde_json::{json, Value};

use crate::store::{self, meta_str, type_for_kind, ResourceType, Store};

const CREATED: &str = "2025-01-01T00:00:00Z";

/// Reorder an object's keys like the Go API server prints them.
pub fn order_object(obj: Value) -> Value {
    match obj.get("kind").and_then(|k| k.as_str()) {
        Some("Pod") => crate::proto::order_like_go(obj, "core.Pod"),
        Some("Node") => crate::proto::order_like_go(obj, "core.Node"),
        Some("Namespace") => crate::proto::order_like_go(obj, "core.Namespace"),
        Some("Service") => crate::proto::order_like_go(obj, "core.Service"),
        _ => obj,
    }
}

fn stable_hex(seed: &str, n: usize) -> String {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = String::new();
    let mut i = 0u64;
    while out.len() < n {
        for b in seed.bytes() {
            h ^= b as u64 ^ i;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        out.push_str(&format!("{h:016x}"));
        i += 1;
    }
    out.truncate(n);
    out
}

/// Give a pod without status the status of a pod that has been running for a while.
fn running_status(pod: &mut Value) {
    let name = meta_str(pod, "name").to_string();
    let started = meta_str(pod, "creationTimestamp").to_string();
    let started = if started.is_empty() {
        CREATED.to_string()
    } else {
        started
    };
    let node = pod
        .pointer("/spec/nodeName")
        .and_then(|n| n.as_str())
        .unwrap_or("")
        .to_string();
    if node.is_empty() {
        pod["spec"]["nodeName"] = json!("node-1");
    }
    let cstatus = |c: &Value, init: bool| -> Value {
        let cname = c.get("name").and_then(|n| n.as_str()).unwrap_or("");
        let image = c.get("image").and_then(|n| n.as_str()).unwrap_or("");
        let id = format!(
            "containerd://{}",
            stable_hex(&format!("{name}/{cname}"), 64)
        );
        let image_ref = crate::kubelet::image_ref(image);
        let repo = image_ref
            .rsplit_once(':')
            .map(|(r, _)| r.to_string())
            .unwrap_or(image_ref.clone());
        let mut s = json!({
            "name": cname,
            "state": {},
            "lastState": {},
            "ready": !init,
            "restartCount": 0,
            "image": image_ref,
            "imageID": format!("{repo}@sha256:{}", stable_hex(image, 64)),
            "containerID": id,
            "started": !init,
        });
        s["state"] = if init {
            json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": started, "containerID": id}})
        } else {
            json!({"running": {"startedAt": started}})
        };
        s
    };
    let list = |k: &str| -> Vec<Value> {
        pod.pointer(&format!("/spec/{k}"))
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let mut regular: Vec<Value> = list("containers")
        .iter()
        .map(|c| cstatus(c, false))
        .collect();
    regular.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    let init: Vec<Value> = list("initContainers")
        .iter()
        .map(|c| cstatus(c, true))
        .collect();
    let cond = |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": started});
    let qos = crate::pods::qos_class(&pod["spec"]);
    let ip = format!(
        "10.244.0.{}",
        2 + (stable_hex(&name, 2).len() + name.len()) % 250
    );
    let mut status = json!({
        "phase": "Running",
        "conditions": [cond("PodReadyToStartContainers"), cond("Initialized"), cond("Ready"), cond("ContainersReady"), cond("PodScheduled")],
        "hostIP": "192.0.2.10",
        "hostIPs": [{"ip": "192.0.2.10"}],
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "startTime": started,
    });
    if !init.is_empty() {
        status["initContainerStatuses"] = json!(init);
    }
    status["containerStatuses"] = json!(regular);
    status["qosClass"] = json!(qos);
    pod["status"] = status;
}

/// Complete an object for storage: type meta, namespace, uid, timestamps; pods without a
/// status are defaulted and made Running.
pub fn normalise(t: &ResourceType, mut obj: Value) -> Value {
    if !obj.is_object() {
        return obj;
    }
    obj["kind"] = json!(t.kind);
    obj["apiVersion"] = json!(store::api_version(t));
    if !obj.get("metadata").map(|m| m.is_object()).unwrap_or(false) {
        obj["metadata"] = json!({});
    }
    if t.namespaced && meta_str(&obj, "namespace").is_empty() {
        obj["metadata"]["namespace"] = json!("default");
    }
    if meta_str(&obj, "uid").is_empty() {
        obj["metadata"]["uid"] = json!(crate::util::uuid4());
    }
    if meta_str(&obj, "creationTimestamp").is_empty() {
        obj["metadata"]["creationTimestamp"] = json!(crate::util::now_rfc3339());
    }
    if t.resource == "pods" && obj.get("status").is_none() {
        let keep_node = obj.pointer("/spec/nodeName").cloned();
        crate::pods::default_pod(&mut obj);
        obj["metadata"]
            .as_object_mut()
            .map(|m| m.remove("generation"));
        if let Some(n) = keep_node {
            obj["spec"]["nodeName"] = n;
        }
        running_status(&mut obj);
    }
    order_object(obj)
}

/// What the node holds (`status.images`, R12: a real node lists its images there, each
/// with its names, a digest and tags, as below; which images, and their sizes, are made up).
fn node_images() -> Value {
    json!([
        {"names": ["docker.io/library/busybox@sha256:7b3ccabffc97de872a30dfd234fd972a66d247c8cfc69b0550f276481852627c", "docker.io/library/busybox:1.36"], "sizeBytes": 2160406},
        {"names": ["registry.k8s.io/pause@sha256:ee6521f290b2168b6e0935a181d4cff9be1ac3f505666ef0e3c98fae8199917a", "registry.k8s.io/pause:3.10"], "sizeBytes": 320368},
        {"names": ["docker.io/library/nginx@sha256:124b44bfc9ccd1f3cedf4b592d4d1e8bddb78b51ec2ed5056c52d3692baebc19", "docker.io/library/nginx:1.27"], "sizeBytes": 72995146}
    ])
}

fn node(name: &str, ip: &str) -> Value {
    json!({
        "metadata": {
            "name": name,
            "uid": "9a8b7c6d-0000-4000-8000-000000000001",
            "resourceVersion": "90",
            "creationTimestamp": "2024-12-31T00:00:00Z",
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": ""
            },
            "annotations": {"node.alpha.kubernetes.io/ttl": "0", "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
        },
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "capacity": {"cpu": "4", "ephemeral-storage": "100Gi", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "4", "ephemeral-storage": "100Gi", "memory": "16Gi", "pods": "110"},
            "conditions": [
                {"type": "MemoryPressure", "status": "False", "lastHeartbeatTime": CREATED, "lastTransitionTime": "2024-12-31T00:00:30Z", "reason": "KubeletHasSufficientMemory", "message": "kubelet has sufficient memory available"},
                {"type": "DiskPressure", "status": "False", "lastHeartbeatTime": CREATED, "lastTransitionTime": "2024-12-31T00:00:30Z", "reason": "KubeletHasNoDiskPressure", "message": "kubelet has no disk pressure"},
                {"type": "PIDPressure", "status": "False", "lastHeartbeatTime": CREATED, "lastTransitionTime": "2024-12-31T00:00:30Z", "reason": "KubeletHasSufficientPID", "message": "kubelet has sufficient PID available"},
                {"type": "Ready", "status": "True", "lastHeartbeatTime": CREATED, "lastTransitionTime": "2024-12-31T00:00:30Z", "reason": "KubeletReady", "message": "kubelet is posting ready status"}
            ],
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "images": node_images(),
            "nodeInfo": {
                "machineID": "00000000000000000000000000000000",
                "systemUUID": "00000000000000000000000000000000",
                "bootID": "00000000000000000000000000000000",
                "kernelVersion": "6.1.0",
                "osImage": "Debian GNU/Linux 12 (bookworm)",
                "containerRuntimeVersion": "containerd://1.7.24",
                "kubeletVersion": "v1.32.4",
                "kubeProxyVersion": "v1.32.4",
                "operatingSystem": "linux",
                "architecture": "amd64"
            }
        }
    })
}

fn sa_mount() -> Value {
    json!({"name": "kube-api-access-x7k2p", "readOnly": true, "mountPath": crate::pods::SA_MOUNT_PATH})
}

fn web_pod() -> Value {
    let probe = |path: &str| json!({"httpGet": {"path": path, "port": 80, "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3});
    json!({
        "metadata": {
            "name": "web-0",
            "namespace": "default",
            "uid": "6f1c2c7e-8a51-4a0f-9d4b-2f0d5e0a1111",
            "resourceVersion": "100",
            "creationTimestamp": CREATED,
            "labels": {"app": "web", "pod-template-hash": "5d4f8", "tier": "frontend"},
            "annotations": {"example.com/owner": "team-a", "kubectl.kubernetes.io/default-container": "app"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d4f8", "uid": "0b1f5d3c-2222-4c3a-9e1e-7a6b5c4d3e2f", "controller": true, "blockOwnerDeletion": true}]
        },
        "spec": {
            "volumes": [{
                "name": "kube-api-access-x7k2p",
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
                    ],
                    "defaultMode": 420
                }
            }],
            "initContainers": [{
                "name": "init",
                "image": "busybox:1.36",
                "command": ["sh", "-c", "echo init done"],
                "resources": {},
                "volumeMounts": [sa_mount()],
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent"
            }],
            "containers": [
                {
                    "name": "app",
                    "image": "nginx:1.25",
                    "ports": [{"name": "http", "containerPort": 80, "protocol": "TCP"}],
                    "env": [{"name": "APP_MODE", "value": "production"}],
                    "resources": {"limits": {"memory": "128Mi"}, "requests": {"cpu": "100m", "memory": "64Mi"}},
                    "volumeMounts": [sa_mount()],
                    "livenessProbe": probe("/healthz"),
                    "readinessProbe": probe("/ready"),
                    "startupProbe": probe("/started"),
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent"
                },
                {
                    "name": "sidecar",
                    "image": "busybox:1.36",
                    "command": ["sh", "-c", "while true; do date; sleep 10; done"],
                    "resources": {},
                    "volumeMounts": [sa_mount()],
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                    "imagePullPolicy": "IfNotPresent"
                }
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "nodeName": "node-1",
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ],
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority"
        }
    })
}

fn lonely_pod() -> Value {
    json!({
        "metadata": {
            "name": "lonely",
            "namespace": "default",
            "uid": "6f1c2c7e-8a51-4a0f-9d4b-2f0d5e0a2222",
            "resourceVersion": "100",
            "creationTimestamp": CREATED,
            "labels": {"app": "lonely"}
        },
        "spec": {
            "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "infinity"]}],
            "nodeName": "node-1"
        }
    })
}

fn workloads() -> Vec<(&'static str, Value)> {
    let selector = json!({"matchLabels": {"app": "web"}});
    let template = json!({
        "metadata": {"labels": {"app": "web", "tier": "frontend"}, "creationTimestamp": null},
        "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}, {"name": "sidecar", "image": "busybox:1.36"}]}
    });
    vec![
        (
            "Deployment",
            json!({
                "metadata": {"name": "web", "namespace": "default", "uid": "0b1f5d3c-1111-4c3a-9e1e-7a6b5c4d3e2f", "resourceVersion": "98", "creationTimestamp": CREATED, "generation": 1, "labels": {"app": "web"}},
                "spec": {"replicas": 1, "selector": selector, "template": template},
                "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1, "availableReplicas": 1}
            }),
        ),
        (
            "ReplicaSet",
            json!({
                "metadata": {"name": "web-5d4f8", "namespace": "default", "uid": "0b1f5d3c-2222-4c3a-9e1e-7a6b5c4d3e2f", "resourceVersion": "99", "creationTimestamp": CREATED, "generation": 1,
                    "labels": {"app": "web", "pod-template-hash": "5d4f8"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": "0b1f5d3c-1111-4c3a-9e1e-7a6b5c4d3e2f", "controller": true, "blockOwnerDeletion": true}]},
                "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d4f8"}}, "template": template},
                "status": {"replicas": 1, "fullyLabeledReplicas": 1, "readyReplicas": 1, "availableReplicas": 1, "observedGeneration": 1}
            }),
        ),
        (
            "Service",
            json!({
                "metadata": {"name": "web", "namespace": "default", "uid": "0b1f5d3c-3333-4c3a-9e1e-7a6b5c4d3e2f", "resourceVersion": "97", "creationTimestamp": CREATED, "labels": {"app": "web"}},
                "spec": {"ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 80}], "selector": {"app": "web"}, "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"], "type": "ClusterIP", "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
                "status": {"loadBalancer": {}}
            }),
        ),
    ]
}

fn namespace(name: &str) -> Value {
    json!({
        "metadata": {"name": name, "uid": crate::util::uuid4(), "resourceVersion": "1", "creationTimestamp": "2024-12-31T00:00:00Z", "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    })
}

fn seed(store: &mut Store, kind: &str, obj: Value) {
    if let Some(t) = type_for_kind(kind) {
        let o = normalise(t, obj);
        store.seed(t, o);
    }
}

/// Namespace default and kube-system, node node-1, pods web-0 and lonely, Deployment web,
/// ReplicaSet web-5d4f8, Service web.
pub fn default_world() -> Store {
    let mut s = Store::new(100);
    for ns in ["default", "kube-system", "kube-public"] {
        seed(&mut s, "Namespace", namespace(ns));
    }
    seed(&mut s, "Node", node("node-1", "192.0.2.10"));
    seed(&mut s, "Pod", web_pod());
    seed(&mut s, "Pod", lonely_pod());
    for (k, o) in workloads() {
        seed(&mut s, k, o);
    }
    s
}

/// `n` running pods `audit-0000`, `audit-0001`, ... in `default` on node-1, labelled
/// `app=audit`, each with one container `main` (busybox:1.36, `sleep infinity`): the fleet of
/// issue 14's fan-out, for tests and benchmarks.
pub fn audit_pods(n: usize) -> Vec<Value> {
    let width = n.saturating_sub(1).to_string().len().max(4);
    (0..n)
        .map(|i| {
            json!({
                "metadata": {"name": format!("audit-{i:0width$}"), "namespace": "default", "labels": {"app": "audit"}},
                "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "busybox:1.36", "command": ["sleep", "infinity"]}]}
            })
        })
        .collect()
}

/// Add `n` audit pods (see `audit_pods`) to a store as initial state.
pub fn seed_audit_pods(store: &mut Store, n: usize) {
    for p in audit_pods(n) {
        seed(store, "Pod", p);
    }
}

const LIST_KEYS: &[(&str, &str)] = &[
    ("namespaces", "Namespace"),
    ("nodes", "Node"),
    ("pods", "Pod"),
    ("services", "Service"),
    ("deployments", "Deployment"),
    ("replicasets", "ReplicaSet"),
    ("statefulsets", "StatefulSet"),
    ("daemonsets", "DaemonSet"),
    ("jobs", "Job"),
    ("cronjobs", "CronJob"),
    ("replicationcontrollers", "ReplicationController"),
];

/// Build the store from a fixture: `{"pods":[...],"nodes":[...],"deployments":[...],...}`.
/// Also accepted: `"namespaces": {"ns": {"pods": [...], ...}}` (the transcripts' fixture) and
/// `"resourceVersion": N`. Namespaces referenced by objects are created; without nodes the
/// default `node-1` is added.
pub fn from_fixture(f: &Value) -> Result<Store, String> {
    let obj = f.as_object().ok_or("the fixture must be a JSON object")?;
    let start = obj
        .get("resourceVersion")
        .and_then(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .unwrap_or(100);
    let mut s = Store::new(start);
    let mut items: Vec<(&str, Value)> = Vec::new();
    for (key, kind) in LIST_KEYS {
        match obj.get(*key) {
            Some(Value::Array(a)) => items.extend(a.iter().map(|o| (*kind, o.clone()))),
            Some(Value::Object(nss)) if *key == "namespaces" => {
                for (ns, content) in nss {
                    items.push(("Namespace", json!({"metadata": {"name": ns}})));
                    for (k2, kind2) in LIST_KEYS {
                        if let Some(Value::Array(a)) = content.get(*k2) {
                            for o in a {
                                let mut o = o.clone();
                                if o.pointer("/metadata/namespace").is_none() {
                                    o["metadata"]["namespace"] = json!(ns);
                                }
                                items.push((*kind2, o));
                            }
                        }
                    }
                }
            }
            Some(_) => return Err(format!("fixture key {key:?} must be a list")),
            None => {}
        }
    }
    for k in obj.keys() {
        if !k.starts_with('_')
            && k != "resourceVersion"
            && !LIST_KEYS.iter().any(|(key, _)| key == k)
        {
            return Err(format!("unknown fixture key {k:?}"));
        }
    }
    let mut namespaces: Vec<String> = vec!["default".into(), "kube-system".into()];
    for (kind, o) in &items {
        if *kind == "Namespace" {
            continue;
        }
        let t = type_for_kind(kind).expect("kind");
        if t.namespaced {
            let ns = meta_str(o, "namespace");
            let ns = if ns.is_empty() { "default" } else { ns };
            if !namespaces.iter().any(|n| n == ns) {
                namespaces.push(ns.to_string());
            }
        }
    }
    for ns in &namespaces {
        if !items
            .iter()
            .any(|(k, o)| *k == "Namespace" && meta_str(o, "name") == ns)
        {
            seed(&mut s, "Namespace", namespace(ns));
        }
    }
    if !items.iter().any(|(k, _)| *k == "Node") {
        seed(&mut s, "Node", node("node-1", "192.0.2.10"));
    }
    for (kind, o) in items {
        if kind == "Namespace" && o.get("spec").is_none() {
            let name = meta_str(&o, "name").to_string();
            seed(&mut s, kind, namespace(&name));
        } else {
            seed(&mut s, kind, o);
        }
    }
    s.oldest_rv = s.rv;
    Ok(s)
}
