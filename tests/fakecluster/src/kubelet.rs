//! The simulated kubelet: scheduling, container state transitions, processes, image pulls.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

use crate::process::{self, Spec};
use crate::store::{meta_str, type_for_kind};
use crate::util::{now_parts, rand_hex, rfc3339};
use crate::Shared;

pub const ANN_TERMINATED: &str = "fake.kdebug/terminated";
pub const ANN_ATTACH: &str = "fake.kdebug/attach";
pub const ANN_STDIN_CLOSE: &str = "fake.kdebug/stdin-close";
pub const ANN_LOG_PREFIX: &str = "fake.kdebug/log.";

/// Which list of the pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Init,
    Regular,
    Ephemeral,
}

impl Kind {
    pub fn spec_key(self) -> &'static str {
        match self {
            Kind::Init => "initContainers",
            Kind::Regular => "containers",
            Kind::Ephemeral => "ephemeralContainers",
        }
    }
    pub fn status_key(self) -> &'static str {
        match self {
            Kind::Init => "initContainerStatuses",
            Kind::Regular => "containerStatuses",
            Kind::Ephemeral => "ephemeralContainerStatuses",
        }
    }
}

/// Find a container by name in any list.
pub fn find_container(pod: &Value, name: &str) -> Option<(Kind, Value)> {
    for k in [Kind::Regular, Kind::Init, Kind::Ephemeral] {
        if let Some(c) = pod
            .pointer(&format!("/spec/{}", k.spec_key()))
            .and_then(|l| l.as_array())
            .and_then(|l| {
                l.iter()
                    .find(|c| c.get("name").and_then(|n| n.as_str()) == Some(name))
            })
        {
            return Some((k, c.clone()));
        }
    }
    None
}

pub fn container_status(pod: &Value, name: &str) -> Option<Value> {
    for k in [Kind::Regular, Kind::Init, Kind::Ephemeral] {
        if let Some(s) = pod
            .pointer(&format!("/status/{}", k.status_key()))
            .and_then(|l| l.as_array())
            .and_then(|l| {
                l.iter()
                    .find(|c| c.get("name").and_then(|n| n.as_str()) == Some(name))
            })
        {
            return Some(s.clone());
        }
    }
    None
}

pub fn annotation<'a>(pod: &'a Value, key: &str) -> Option<&'a str> {
    pod.pointer("/metadata/annotations")
        .and_then(|a| a.get(key))
        .and_then(|v| v.as_str())
}

/// Mutate a pod and store it (MODIFIED event). False if the pod is gone.
pub fn update_pod(shared: &Shared, ns: &str, name: &str, f: impl FnOnce(&mut Value)) -> bool {
    let t = type_for_kind("Pod").expect("pod type");
    shared.with_store(|s| {
        let Some(mut p) = s.get("pods", ns, name).cloned() else {
            return false;
        };
        f(&mut p);
        s.put(t, p);
        true
    })
}

fn pod_uid(shared: &Shared, ns: &str, name: &str) -> Option<String> {
    shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get("pods", ns, name)
        .map(|p| meta_str(p, "uid").to_string())
}

fn sleep_ms(shared: &Shared, ms: u64) -> bool {
    let mut left = ms;
    while left > 0 {
        if shared.stopped() {
            return false;
        }
        let step = left.min(20);
        thread::sleep(Duration::from_millis(step));
        left -= step;
    }
    !shared.stopped()
}

/// Full image reference as the runtime reports it.
pub fn image_ref(image: &str) -> String {
    let (name, tag) = match image.rsplit_once('@') {
        Some(_) => (image.to_string(), String::new()),
        None => {
            let last = image.rsplit('/').next().unwrap_or(image);
            if last.contains(':') {
                (image.to_string(), String::new())
            } else {
                (image.to_string(), ":latest".to_string())
            }
        }
    };
    let first = name.split('/').next().unwrap_or("");
    let has_registry =
        name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    let full = if has_registry {
        name
    } else if name.contains('/') {
        format!("docker.io/{name}")
    } else {
        format!("docker.io/library/{name}")
    };
    format!("{full}{tag}")
}

fn digest_for(s: &str) -> String {
    // A stable fake digest derived from the name.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..4)
        .map(|i| format!("{:016x}", h.rotate_left(i * 16) ^ (i as u64)))
        .collect()
}

fn image_id(image: &str) -> String {
    let r = image_ref(image);
    let repo = match r.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => repo.to_string(),
        _ => r.clone(),
    };
    let repo = repo.split('@').next().unwrap_or(&repo).to_string();
    format!("{repo}@sha256:{}", digest_for(&r))
}

fn base_status(c: &Value) -> Value {
    let image = c.get("image").and_then(|v| v.as_str()).unwrap_or("");
    json!({
        "name": c.get("name").cloned().unwrap_or(json!("")),
        "state": {},
        "lastState": {},
        "ready": false,
        "restartCount": 0,
        "image": image,
        "imageID": "",
        "started": false,
    })
}

fn waiting(c: &Value, reason: &str, message: Option<&str>) -> Value {
    let mut s = base_status(c);
    let mut w = json!({"reason": reason});
    if let Some(m) = message {
        w["message"] = json!(m);
    }
    s["state"] = json!({"waiting": w});
    s
}

fn running(c: &Value, started: i64, id: &str, kind: Kind) -> Value {
    let image = c.get("image").and_then(|v| v.as_str()).unwrap_or("");
    let mut s = base_status(c);
    s["state"] = json!({"running": {"startedAt": rfc3339(started)}});
    s["ready"] = json!(kind == Kind::Regular);
    s["image"] = json!(image_ref(image));
    s["imageID"] = json!(image_id(image));
    s["containerID"] = json!(id);
    s["started"] = json!(true);
    if kind == Kind::Ephemeral {
        s.as_object_mut().map(|m| m.remove("started"));
    }
    s
}

fn terminated(c: &Value, code: i32, started: i64, id: &str) -> Value {
    let image = c.get("image").and_then(|v| v.as_str()).unwrap_or("");
    let mut s = base_status(c);
    s["state"] = json!({"terminated": {
        "exitCode": code,
        "reason": if code == 0 { "Completed" } else { "Error" },
        "startedAt": rfc3339(started),
        "finishedAt": rfc3339(now_parts().0),
        "containerID": id,
    }});
    s["image"] = json!(image_ref(image));
    s["imageID"] = json!(image_id(image));
    s["containerID"] = json!(id);
    s
}

fn set_status(pod: &mut Value, kind: Kind, st: Value) {
    if !pod.get("status").map(|s| s.is_object()).unwrap_or(false) {
        pod["status"] = json!({});
    }
    let key = kind.status_key();
    let name = st.get("name").cloned();
    let list = pod["status"]
        .as_object_mut()
        .expect("status")
        .entry(key)
        .or_insert(json!([]));
    if let Some(a) = list.as_array_mut() {
        match a.iter().position(|x| x.get("name") == name.as_ref()) {
            Some(i) => a[i] = st,
            None => a.push(st),
        }
        a.sort_by(|x, y| {
            x.get("name")
                .and_then(|n| n.as_str())
                .cmp(&y.get("name").and_then(|n| n.as_str()))
        });
    }
    recompute(pod);
}

fn state_of(s: &Value) -> &str {
    s.get("state")
        .and_then(|st| st.as_object())
        .and_then(|m| m.keys().next())
        .map(|k| k.as_str())
        .unwrap_or("")
}

/// Phase and conditions from container statuses.
fn recompute(pod: &mut Value) {
    let now = rfc3339(now_parts().0);
    let statuses = |k: &str| -> Vec<Value> {
        pod.pointer(&format!("/status/{k}"))
            .and_then(|l| l.as_array())
            .cloned()
            .unwrap_or_default()
    };
    let n_regular = pod
        .pointer("/spec/containers")
        .and_then(|c| c.as_array())
        .map(|a| a.len())
        .unwrap_or(0);
    let n_init = pod
        .pointer("/spec/initContainers")
        .and_then(|c| c.as_array())
        .map(|a| a.len())
        .unwrap_or(0);
    let regular = statuses("containerStatuses");
    let init = statuses("initContainerStatuses");
    let inits_done = init.len() >= n_init
        && init.iter().all(|s| {
            state_of(s) == "terminated"
                && s.pointer("/state/terminated/exitCode")
                    .and_then(|c| c.as_i64())
                    == Some(0)
                || s.get("started") == Some(&json!(true)) && state_of(s) == "running"
        });
    let all_running = regular.len() >= n_regular
        && n_regular > 0
        && regular.iter().all(|s| state_of(s) == "running");
    let all_terminated =
        regular.len() >= n_regular && regular.iter().all(|s| state_of(s) == "terminated");
    let any_running = regular.iter().any(|s| state_of(s) == "running");
    let restart = pod
        .pointer("/spec/restartPolicy")
        .and_then(|r| r.as_str())
        .unwrap_or("Always")
        .to_string();
    let phase = if all_terminated && !regular.is_empty() && restart != "Always" {
        if regular.iter().all(|s| {
            s.pointer("/state/terminated/exitCode")
                .and_then(|c| c.as_i64())
                == Some(0)
        }) {
            "Succeeded"
        } else {
            "Failed"
        }
    } else if any_running || (all_terminated && !regular.is_empty()) {
        "Running"
    } else {
        "Pending"
    };
    pod["status"]["phase"] = json!(phase);
    let ready = all_running;
    let cond = |t: &str, ok: bool, reason: Option<&str>| {
        let mut c = json!({"type": t, "status": if ok {"True"} else {"False"}, "lastProbeTime": null, "lastTransitionTime": now});
        if let (false, Some(r)) = (ok, reason) {
            c["reason"] = json!(r);
        }
        c
    };
    let mut old: Vec<Value> = pod
        .pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .cloned()
        .unwrap_or_default();
    let new = vec![
        cond("PodReadyToStartContainers", true, None),
        cond("Initialized", inits_done, Some("ContainersNotInitialized")),
        cond(
            "Ready",
            ready,
            Some(if phase == "Succeeded" || phase == "Failed" {
                "PodCompleted"
            } else {
                "ContainersNotReady"
            }),
        ),
        cond(
            "ContainersReady",
            ready,
            Some(if phase == "Succeeded" || phase == "Failed" {
                "PodCompleted"
            } else {
                "ContainersNotReady"
            }),
        ),
        cond("PodScheduled", true, None),
    ];
    // Keep the transition time of unchanged conditions.
    let mut out = Vec::new();
    for mut c in new {
        if let Some(o) = old.iter_mut().find(|o| o.get("type") == c.get("type")) {
            if o.get("status") == c.get("status") {
                c["lastTransitionTime"] = o["lastTransitionTime"].clone();
            }
        }
        out.push(c);
    }
    pod["status"]["conditions"] = json!(out);
}

fn node_ip(shared: &Shared, node: &str) -> String {
    shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get("nodes", "", node)
        .and_then(|n| n.pointer("/status/addresses").cloned())
        .and_then(|a| {
            a.as_array()?
                .iter()
                .find(|x| x.get("type") == Some(&json!("InternalIP")))
                .and_then(|x| x.get("address"))
                .and_then(|x| x.as_str())
                .map(|s| s.to_string())
        })
        .unwrap_or_else(|| "192.0.2.10".into())
}

fn first_node(shared: &Shared) -> String {
    shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .list("nodes", None)
        .first()
        .map(|n| meta_str(n, "name").to_string())
        .unwrap_or_else(|| "node-1".into())
}

/// A new pod: schedule it, create its sandbox, run init containers, start its containers.
pub fn pod_created(shared: &Arc<Shared>, ns: &str, name: &str) {
    let shared = shared.clone();
    let (ns, name) = (ns.to_string(), name.to_string());
    thread::spawn(move || {
        let d = shared.opts.kubelet_delay_ms;
        let uid = pod_uid(&shared, &ns, &name);
        let default_node = first_node(&shared);
        // Scheduler.
        let mut node = String::new();
        let ok = update_pod(&shared, &ns, &name, |p| {
            let n = p
                .pointer("/spec/nodeName")
                .and_then(|n| n.as_str())
                .unwrap_or("");
            node = if n.is_empty() {
                default_node.clone()
            } else {
                n.to_string()
            };
            p["spec"]["nodeName"] = json!(node);
            let now = rfc3339(now_parts().0);
            p["status"]["conditions"] = json!([{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":now}]);
        });
        if !ok || !sleep_ms(&shared, d / 2) || pod_uid(&shared, &ns, &name) != uid {
            return;
        }
        // Sandbox: statuses waiting.
        let ip = node_ip(&shared, &node);
        let pod_ip = format!("10.244.0.{}", 2 + (crate::util::rand_u64() % 250));
        let ok = update_pod(&shared, &ns, &name, |p| {
            let now = rfc3339(now_parts().0);
            p["status"]["hostIP"] = json!(ip);
            p["status"]["hostIPs"] = json!([{"ip": ip}]);
            p["status"]["podIP"] = json!(pod_ip);
            p["status"]["podIPs"] = json!([{"ip": pod_ip}]);
            p["status"]["startTime"] = json!(now);
            let has_init = p
                .pointer("/spec/initContainers")
                .and_then(|c| c.as_array())
                .map(|a| !a.is_empty())
                .unwrap_or(false);
            for k in [Kind::Init, Kind::Regular] {
                let cs = p
                    .pointer(&format!("/spec/{}", k.spec_key()))
                    .and_then(|c| c.as_array())
                    .cloned()
                    .unwrap_or_default();
                for c in cs {
                    let reason = if k == Kind::Regular && has_init {
                        "PodInitializing"
                    } else {
                        "ContainerCreating"
                    };
                    set_status(p, k, waiting(&c, reason, None));
                }
            }
        });
        if !ok || !sleep_ms(&shared, d / 2) || pod_uid(&shared, &ns, &name) != uid {
            return;
        }
        // Init containers complete (their scripts are not run).
        let inits = containers_of(&shared, &ns, &name, Kind::Init);
        if !inits.is_empty() {
            update_pod(&shared, &ns, &name, |p| {
                let started = now_parts().0;
                for c in &inits {
                    let id = format!("containerd://{}", rand_hex(64));
                    set_status(p, Kind::Init, terminated(c, 0, started, &id));
                }
            });
        }
        for c in containers_of(&shared, &ns, &name, Kind::Regular) {
            let cname = c
                .get("name")
                .and_then(|n| n.as_str())
                .unwrap_or("")
                .to_string();
            start_container(&shared, &ns, &name, &cname, Kind::Regular);
        }
    });
}

fn containers_of(shared: &Shared, ns: &str, name: &str, kind: Kind) -> Vec<Value> {
    shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get("pods", ns, name)
        .and_then(|p| p.pointer(&format!("/spec/{}", kind.spec_key())).cloned())
        .and_then(|c| c.as_array().cloned())
        .unwrap_or_default()
}

/// An ephemeral container was added: waiting, then started.
pub fn ephemeral_added(shared: &Arc<Shared>, ns: &str, name: &str, container: &str) {
    let shared = shared.clone();
    let (ns, name, container) = (ns.to_string(), name.to_string(), container.to_string());
    thread::spawn(move || {
        let d = shared.opts.kubelet_delay_ms;
        if !sleep_ms(&shared, d / 2) {
            return;
        }
        let ok = update_pod(&shared, &ns, &name, |p| {
            if let Some((_, c)) = find_container(p, &container) {
                set_status(p, Kind::Ephemeral, waiting(&c, "ContainerCreating", None));
            }
        });
        if !ok || !sleep_ms(&shared, d - d / 2) {
            return;
        }
        start_container(&shared, &ns, &name, &container, Kind::Ephemeral);
    });
}

fn proc_key(ns: &str, pod: &str, c: &str) -> (String, String, String) {
    (ns.to_string(), pod.to_string(), c.to_string())
}

fn argv_of(c: &Value) -> Vec<String> {
    let strs = |k: &str| -> Vec<String> {
        c.get(k)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut argv = strs("command");
    argv.extend(strs("args"));
    argv
}

fn spec_for(shared: &Shared, pod: &Value, c: &Value) -> Spec {
    let cname = c.get("name").and_then(|n| n.as_str()).unwrap_or("");
    let argv = argv_of(c);
    let image = c.get("image").and_then(|v| v.as_str()).unwrap_or("");
    Spec {
        banner: format!(
            "[fakecluster] {}/{} container {} ({}) started: {}\n",
            meta_str(pod, "namespace"),
            meta_str(pod, "name"),
            cname,
            image,
            if argv.is_empty() {
                "<image entrypoint>".to_string()
            } else {
                argv.join(" ")
            }
        ),
        initial_log: annotation(pod, &format!("{ANN_LOG_PREFIX}{cname}"))
            .unwrap_or("")
            .to_string(),
        argv,
        stdin: c.get("stdin") == Some(&json!(true)),
        stdin_once: c.get("stdinOnce") == Some(&json!(true)),
        tty: c.get("tty") == Some(&json!(true)),
        mode: shared.opts.container,
        name: meta_str(pod, "name").to_string(),
        target_root: target_root(shared, pod, c),
        image_bin: image_bin(shared, image),
        exec_root: None,
    }
}

/// `ROOTFS/.images/IMAGE/bin` (the image name with `/` and `:` as `_`), if it exists: a
/// test gives a debug image its own programs there (a tar that misbehaves, say).
pub(crate) fn image_bin(shared: &Shared, image: &str) -> Option<std::path::PathBuf> {
    let name: String = image
        .chars()
        .map(|c| if c == '/' || c == ':' { '_' } else { c })
        .collect();
    let dir = shared
        .opts
        .rootfs
        .as_ref()?
        .join(".images")
        .join(name)
        .join("bin");
    dir.is_dir().then_some(dir)
}

/// `ROOTFS/NS/POD/CONTAINER` for a container that targets another (`targetContainerName`),
/// created empty when the test did not make it: the target's root always exists.
pub(crate) fn target_root(shared: &Shared, pod: &Value, c: &Value) -> Option<std::path::PathBuf> {
    let base = shared.opts.rootfs.as_ref()?;
    let target = c.get("targetContainerName")?.as_str()?;
    let dir = base
        .join(meta_str(pod, "namespace"))
        .join(meta_str(pod, "name"))
        .join(target);
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir)
}

fn forced_exit(pod: &Value) -> Option<i32> {
    if let Some(v) = annotation(pod, ANN_TERMINATED) {
        return Some(v.parse().unwrap_or(0));
    }
    if annotation(pod, "oracle.fake/new-container-state") == Some("terminated") {
        return Some(0);
    }
    None
}

/// Pull the image and start a container (or fail the way the kubelet does).
pub fn start_container(shared: &Arc<Shared>, ns: &str, pod_name: &str, cname: &str, kind: Kind) {
    let Some(pod) = shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get("pods", ns, pod_name)
        .cloned()
    else {
        return;
    };
    let Some((_, c)) = find_container(&pod, cname) else {
        return;
    };
    let image = c
        .get("image")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let uid = meta_str(&pod, "uid").to_string();
    if image.contains("does-not-exist") {
        image_pull_loop(
            shared.clone(),
            ns.to_string(),
            pod_name.to_string(),
            c,
            kind,
            uid,
        );
        return;
    }
    if image.contains("invalid-config") {
        update_pod(shared, ns, pod_name, |p| {
            set_status(
                p,
                kind,
                waiting(
                    &c,
                    "CreateContainerConfigError",
                    Some("configmap \"invalid-config\" not found"),
                ),
            )
        });
        return;
    }
    let started = now_parts().0;
    let id = format!("containerd://{}", rand_hex(64));
    if let Some(code) = forced_exit(&pod) {
        update_pod(shared, ns, pod_name, |p| {
            set_status(p, kind, terminated(&c, code, started, &id))
        });
        return;
    }
    let spec = spec_for(shared, &pod, &c);
    let shared2 = shared.clone();
    let (ns2, pod2, c2) = (ns.to_string(), pod_name.to_string(), c.clone());
    let id2 = id.clone();
    let (proc, go) = process::spawn_gated(
        spec,
        Box::new(move |code| {
            // R4: the exit shows in the status only on the kubelet's next relist.
            if !sleep_ms(&shared2, shared2.opts.relist_ms) {
                return;
            }
            update_pod(&shared2, &ns2, &pod2, |p| {
                if meta_str(p, "uid") == uid {
                    set_status(p, kind, terminated(&c2, code, started, &id2));
                }
            });
        }),
    );
    // Registered before the status says running, started after.
    shared
        .procs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(proc_key(ns, pod_name, cname), proc);
    update_pod(shared, ns, pod_name, |p| {
        set_status(p, kind, running(&c, started, &id, kind))
    });
    go();
}

fn image_pull_loop(
    shared: Arc<Shared>,
    ns: String,
    pod: String,
    c: Value,
    kind: Kind,
    uid: String,
) {
    thread::spawn(move || {
        let image = c
            .get("image")
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string();
        let r = image_ref(&image);
        let pull_err = format!(
            "Failed to pull image \"{image}\": rpc error: code = NotFound desc = failed to pull and unpack image \"{r}\": failed to resolve reference \"{r}\": {r}: not found"
        );
        let backoff = format!("Back-off pulling image \"{image}\"");
        // R6: the pull is tried for a while (about 15 s on a real node) with the status
        // still `waiting ContainerCreating` (set before the start), then fails.
        let creating = shared
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get("pods", &ns, &pod)
            .and_then(|p| container_status(p, c["name"].as_str().unwrap_or("")))
            .map(|st| st.pointer("/state/waiting/reason") == Some(&json!("ContainerCreating")))
            .unwrap_or(false);
        if !creating {
            update_pod(&shared, &ns, &pod, |p| {
                if meta_str(p, "uid") == uid {
                    set_status(p, kind, waiting(&c, "ContainerCreating", None));
                }
            });
        }
        if !sleep_ms(&shared, shared.opts.image_pull_fail_ms) {
            return;
        }
        let mut wait = shared.opts.kubelet_delay_ms.max(50) * 2;
        let mut err_turn = true;
        loop {
            let (reason, msg) = if err_turn {
                ("ErrImagePull", pull_err.as_str())
            } else {
                ("ImagePullBackOff", backoff.as_str())
            };
            let mut alive = false;
            update_pod(&shared, &ns, &pod, |p| {
                if meta_str(p, "uid") == uid {
                    alive = true;
                    set_status(p, kind, waiting(&c, reason, Some(msg)));
                }
            });
            if !alive || !sleep_ms(&shared, wait) {
                return;
            }
            err_turn = !err_turn;
            wait = (wait * 2).min(10_000);
        }
    });
}

/// The process of a running container, starting a scripted one for fixture containers that
/// were "running" before the server started.
pub fn process_for(
    shared: &Arc<Shared>,
    ns: &str,
    pod: &str,
    cname: &str,
) -> Option<Arc<process::Process>> {
    if let Some(p) = shared
        .procs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&proc_key(ns, pod, cname))
    {
        return Some(p.clone());
    }
    let pod_v = shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get("pods", ns, pod)
        .cloned()?;
    let st = container_status(&pod_v, cname)?;
    if state_of(&st) != "running" {
        return None;
    }
    let (kind, c) = find_container(&pod_v, cname)?;
    let spec = spec_for(shared, &pod_v, &c);
    let started = st
        .pointer("/state/running/startedAt")
        .and_then(|s| s.as_str())
        .and_then(crate::util::parse_rfc3339)
        .unwrap_or(now_parts().0);
    let id = st
        .get("containerID")
        .and_then(|s| s.as_str())
        .map(String::from)
        .unwrap_or_else(|| format!("containerd://{}", rand_hex(64)));
    let shared2 = shared.clone();
    let (ns2, pod2) = (ns.to_string(), pod.to_string());
    let uid = meta_str(&pod_v, "uid").to_string();
    let (proc, go) = process::spawn_gated(
        spec,
        Box::new(move |code| {
            // R4: as above, the exit is seen on the next relist.
            if !sleep_ms(&shared2, shared2.opts.relist_ms) {
                return;
            }
            update_pod(&shared2, &ns2, &pod2, |p| {
                if meta_str(p, "uid") == uid {
                    set_status(p, kind, terminated(&c, code, started, &id));
                }
            });
        }),
    );
    let mut procs = shared.procs.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(existing) = procs.get(&proc_key(ns, pod, cname)) {
        // Another request won the race; this one is abandoned unstarted.
        return Some(existing.clone());
    }
    procs.insert(proc_key(ns, pod, cname), proc.clone());
    drop(procs);
    go();
    Some(proc)
}

/// A pod was deleted: kill its processes.
pub fn pod_deleted(shared: &Shared, ns: &str, name: &str) {
    let mut procs = shared.procs.lock().unwrap_or_else(|e| e.into_inner());
    let keys: Vec<_> = procs
        .keys()
        .filter(|(n, p, _)| n == ns && p == name)
        .cloned()
        .collect();
    for k in keys {
        if let Some(p) = procs.remove(&k) {
            p.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_refs() {
        assert_eq!(image_ref("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(image_ref("busybox:1.36"), "docker.io/library/busybox:1.36");
        assert_eq!(
            image_ref("nicolaka/netshoot"),
            "docker.io/nicolaka/netshoot:latest"
        );
        assert_eq!(image_ref("ghcr.io/a/b:1"), "ghcr.io/a/b:1");
        assert!(image_id("busybox:1.36").starts_with("docker.io/library/busybox@sha256:"));
    }
}
