//! The three journeys, each one driver calling small steps: resolve the target, build the
//! body (pure, in `debug/`), send it, wait for the container, attach (or follow its logs),
//! clean up. Targets are processed in order, as kubectl does.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use serde_json::{json, Value};

use crate::api::{self, State};
use crate::attach::{self, frames::Outcome, AttachError, AttachOptions};
use crate::cli::plan::{Output, Plan};
use crate::cli::target::{Kind, Target};
use crate::client::{ApiError, Client};
use crate::debug::{self, DebugOptions, Mark, Message, Stream};
use crate::run::{Connection, RunError};
use crate::wait::{self, WaitOptions};

/// How many times a 409 Conflict on the patch is retried with the pod read again.
const CONFLICT_RETRIES: u32 = 3;

/// Prints builder messages, honouring `-q`.
pub fn print_messages(messages: &[Message], quiet: bool) {
    for m in messages {
        if quiet && m.quiet_suppressed {
            continue;
        }
        // With --dry-run, stdout carries only the requests, so it can be piped to a parser.
        match m.stream {
            Stream::Stdout if !DATA_ON_STDOUT.load(std::sync::atomic::Ordering::Relaxed) => {
                println!("{}", m.text);
            }
            _ => {
                let _ = std::io::stdout().flush();
                eprintln!("{}", m.text);
            }
        }
    }
}

/// Set for `--dry-run`: stdout is for the printed requests only.
pub static DATA_ON_STDOUT: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// A debug target once read from the server (or a file).
pub struct Resolved {
    pub kind: Kind,
    pub object: Value,
    /// Where it came from, for messages and the kdebug.io/target annotation.
    pub label: String,
}

/// Reads the targets named on the command line, in order, all of them before returning
/// (fan-out), then those a selector picks.
pub fn resolve_targets(conn: &Connection, p: &Plan) -> Result<Vec<Resolved>, RunError> {
    let mut out = Vec::new();
    visit_targets(conn, p, &mut |r| {
        out.push(r);
        Ok(())
    })?;
    if let Some(sel) = &p.selector {
        // `node/` with -l selects nodes; otherwise the selector picks pods.
        let nodes = p.targets.iter().any(|t| t.kind == Kind::Node);
        let (path, kind, singular) = if nodes {
            ("/api/v1/nodes".to_string(), Kind::Node, "node")
        } else if p.all_namespaces {
            ("/api/v1/pods".to_string(), Kind::Pod, "pod")
        } else {
            (api::pods_path(&conn.namespace), Kind::Pod, "pod")
        };
        let list = conn.client.get_query(&path, &[("labelSelector", sel)])?;
        for object in api::items(&list) {
            let label = format!("{singular}/{}", api::name(&object));
            out.push(Resolved {
                kind,
                object,
                label,
            });
        }
        if out.is_empty() {
            return Err(RunError::Other(format!(
                "no {} match the selector {sel:?}",
                if nodes { "nodes" } else { "pods" }
            )));
        }
    }
    Ok(out)
}

/// GET a named pod. On a 404 outside `default`, kubectl (cli-runtime's Info.Get) asks whether
/// the namespace exists, and reports `namespaces "x" not found` when it does not.
fn get_pod(conn: &Connection, ns: &str, name: &str) -> Result<Value, RunError> {
    match conn.client.get(&api::pod_path(ns, name)) {
        Err(e) if e.is_not_found() && !ns.is_empty() && ns != "default" => {
            match conn.client.get(&format!("/api/v1/namespaces/{ns}")) {
                Err(missing) if missing.is_not_found() => Err(missing.into()),
                _ => Err(e.into()),
            }
        }
        r => Ok(r?),
    }
}

/// Reads the named targets, then the `-f` objects, one at a time and in order, handing each
/// to `f` before reading the next: kubectl's visitor does the same, so with `web-0 nope`
/// web-0 is debugged before `nope` turns out to be missing.
fn visit_targets(
    conn: &Connection,
    p: &Plan,
    f: &mut dyn FnMut(Resolved) -> Result<(), RunError>,
) -> Result<(), RunError> {
    let ns = conn.namespace.as_str();
    // With -l, `node/` only says "select nodes"; the selector names them below.
    for t in p
        .targets
        .iter()
        .filter(|t| !(p.selector.is_some() && t.kind == Kind::Node))
    {
        match t.kind {
            Kind::Pod => f(Resolved {
                kind: Kind::Pod,
                object: get_pod(conn, ns, &t.name)?,
                label: t.to_string(),
            })?,
            Kind::Node => f(Resolved {
                kind: Kind::Node,
                object: conn.client.get(&format!("/api/v1/nodes/{}", t.name))?,
                label: t.to_string(),
            })?,
            _ => {
                let pods = crate::workload::pods(&conn.client, ns, t)?;
                let take = if p.all_pods { pods.len() } else { 1 };
                if !p.all_pods && pods.len() > 1 && !p.quiet {
                    eprintln!(
                        "Found {} pods, using pod/{}",
                        pods.len(),
                        api::name(&pods[0])
                    );
                }
                for pod in pods.into_iter().take(take) {
                    let label = format!("pod/{}", api::name(&pod));
                    f(Resolved {
                        kind: Kind::Pod,
                        object: pod,
                        label,
                    })?;
                }
            }
        }
    }
    for file in &p.filenames {
        for object in read_objects(file)? {
            let kind = match object.get("kind").and_then(Value::as_str) {
                Some("Pod") => Kind::Pod,
                Some("Node") => Kind::Node,
                other => {
                    let api_version = object
                        .get("apiVersion")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let gv = if api_version.contains('/') {
                        api_version.to_string()
                    } else {
                        format!("/{api_version}")
                    };
                    return Err(RunError::Other(format!(
                        "\"{gv}, Kind={}\" not supported by debug",
                        other.unwrap_or("")
                    )));
                }
            };
            let obj_ns = api::namespace(&object);
            if kind == Kind::Pod
                && conn.namespace_explicit
                && !obj_ns.is_empty()
                && obj_ns != conn.namespace
            {
                return Err(RunError::Other(format!(
                    "the namespace from the provided object {obj_ns:?} does not match the namespace {:?}. You must pass '--namespace={obj_ns}' to perform this operation.",
                    conn.namespace
                )));
            }
            let label = format!(
                "{}/{}",
                if kind == Kind::Pod { "pod" } else { "node" },
                api::name(&object)
            );
            f(Resolved {
                kind,
                object,
                label,
            })?;
        }
    }
    Ok(())
}

/// `-f FILE`: JSON or a YAML stream (our own reader), `-` for stdin; one object per document.
fn read_objects(path: &str) -> Result<Vec<Value>, RunError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let limit = crate::MAX_INPUT_BYTES as u64 + 1;
    let read = if path == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|f| f.take(limit).read_to_end(&mut bytes))
    };
    read.map_err(|e| RunError::Other(format!("failed to read {path}: {e}")))?;
    if bytes.len() > crate::MAX_INPUT_BYTES {
        return Err(RunError::Other(format!(
            "{path} is larger than {} bytes",
            crate::MAX_INPUT_BYTES
        )));
    }
    // JSON, else YAML documents split at `---` lines, as kubectl's reader does. A `List` is
    // not flattened: kubectl's builder hands it to debug, which refuses its kind.
    let docs = match serde_json::from_slice::<Value>(&bytes) {
        Ok(v) => vec![v],
        Err(_) => yaml_documents(&bytes)
            .into_iter()
            .map(|doc| {
                crate::kubeconfig::yaml::parse_value(doc, path)
                    .map_err(|e| RunError::Other(format!("error parsing {path}: {e}")))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let mut out = Vec::new();
    for v in docs {
        if v.is_null() {
            continue; // an empty document
        }
        if !v.is_object() {
            return Err(RunError::Other(format!(
                "{path} does not contain a Kubernetes object"
            )));
        }
        out.push(v);
    }
    Ok(out)
}

/// Splits a YAML stream into documents at lines that start with `---` (apimachinery's
/// YAMLReader: only spaces or a comment may follow the marker).
fn yaml_documents(bytes: &[u8]) -> Vec<&[u8]> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    while pos < bytes.len() {
        let end = bytes[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(bytes.len(), |i| pos + i + 1);
        let line = &bytes[pos..end];
        let rest = line
            .strip_prefix(b"---")
            .map(|r| String::from_utf8_lossy(r).trim().to_string());
        if rest.is_some_and(|r| r.is_empty() || r.starts_with('#')) {
            if pos > start {
                docs.push(&bytes[start..pos]);
            }
            start = end;
        }
        pos = end;
    }
    if start < bytes.len() {
        docs.push(&bytes[start..]);
    }
    docs
}

/// `kdebug POD...`: every target in order; the exit code is the last one's.
pub fn run(conn: &Connection, p: &Plan) -> Result<u8, RunError> {
    if p.fan_out() {
        let targets = resolve_targets(conn, p)?;
        return crate::fanout::run(conn, p, targets);
    }
    let mut code = 0;
    visit_targets(conn, p, &mut |t| {
        code = debug_one(conn, p, &t, &mut Sink::terminal())?;
        Ok(())
    })?;
    Ok(code)
}

/// Where a run's output goes: the terminal, or (fan-out) a prefixing or per-pod writer.
/// The journey records the debug container's name in it for the fan-out summary.
pub struct Sink<'a> {
    out: Option<&'a mut (dyn Write + Send)>,
    pub container: Option<String>,
}

impl<'a> Sink<'a> {
    pub fn terminal() -> Sink<'a> {
        Sink {
            out: None,
            container: None,
        }
    }

    pub fn captured(out: &'a mut (dyn Write + Send)) -> Sink<'a> {
        Sink {
            out: Some(out),
            container: None,
        }
    }

    fn writer(&mut self) -> Box<dyn Write + '_> {
        match &mut self.out {
            None => Box::new(crate::logs::stdout()),
            Some(w) => Box::new(&mut **w),
        }
    }

    fn interactive(&self) -> bool {
        self.out.is_none()
    }
}

fn now_rfc3339() -> String {
    crate::time::format(SystemTime::now())
}

fn options_for(p: &Plan, target: &Resolved) -> DebugOptions {
    let mut opts = p.opts.clone();
    // Fan-out makes one copy per pod, so each needs its own name: NAME-POD.
    if let (true, Some(base), Kind::Pod) = (p.fan_out(), &p.opts.copy_to, target.kind) {
        opts.copy_to = Some(format!("{base}-{}", api::name(&target.object)));
    }
    opts.mark = Some(Mark {
        target: target.label.clone(),
        created: now_rfc3339(),
    });
    opts
}

/// Prints a dry-run request: method, path, content type and the body.
fn print_request(p: &Plan, method: &str, path: &str, content_type: &str, body: &Value) {
    let envelope =
        json!({"method": method, "path": path, "contentType": content_type, "body": body});
    match p.output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&envelope).unwrap_or_default()
        ),
        Output::Yaml => print!("---\n{}", crate::kubeconfig::emit::to_yaml(&envelope)),
    }
}

/// One target, start to finish. Returns the exit code.
pub fn debug_one(
    conn: &Connection,
    p: &Plan,
    target: &Resolved,
    sink: &mut Sink,
) -> Result<u8, RunError> {
    match (target.kind, p.opts.copy_to.is_some()) {
        (Kind::Node, _) => node_journey(conn, p, target, sink),
        (_, true) => copy_journey(conn, p, target, sink),
        _ => ephemeral_journey(conn, p, target, sink),
    }
}

fn ephemeral_journey(
    conn: &Connection,
    p: &Plan,
    target: &Resolved,
    sink: &mut Sink,
) -> Result<u8, RunError> {
    let client = &conn.client;
    let mut pod = target.object.clone();
    let ns = match api::namespace(&pod) {
        "" => conn.namespace.clone(),
        n => n.to_string(),
    };
    let name = api::name(&pod).to_string();
    let opts = options_for(p, target);
    let mut names = debug::names::generator();
    let path = format!("{}/ephemeralcontainers", api::pod_path(&ns, &name));
    let mut early = None;
    let mut attempt = 0;
    let container = loop {
        attempt += 1;
        let plan = debug::ephemeral::build(&pod, &opts, &mut names)?;
        print_messages(&plan.messages, p.quiet || !sink.interactive());
        if p.dry_run {
            print_request(
                p,
                "PATCH",
                &path,
                debug::ephemeral::PATCH_CONTENT_TYPE,
                &plan.patch,
            );
            return Ok(0);
        }
        if early.is_none() && (p.attach || p.fan_out()) {
            early = Some(wait::watch_early(client, &ns, &name, p.timeout));
        }
        match client.patch_raw(
            &path,
            debug::ephemeral::PATCH_CONTENT_TYPE,
            plan.patch_body().as_bytes(),
        ) {
            Ok(_) => {
                sink.container = Some(plan.container_name.clone());
                break plan.container_name;
            }
            // kubectl: a 404 that names no object means the subresource itself is missing.
            // kubectl quotes the server's message (a StatusError's text).
            Err(ApiError::Status(s)) if s.code == 404 && s.details_name.is_empty() => {
                return Err(RunError::Other(format!(
                    "ephemeral containers are disabled for this cluster (error from server: {:?})",
                    s.message
                )));
            }
            Err(e) if e.code() == Some(409) && attempt <= CONFLICT_RETRIES => {
                pod = client.get(&api::pod_path(&ns, &name))?;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    };
    if !p.attach && !p.fan_out() {
        return Ok(0);
    }
    let restart_always = api::str_at(&pod, &["spec", "restartPolicy"]) == "Always";
    let ended = if restart_always {
        Some(format!(
            "Session ended, the ephemeral container will not be restarted but may be reattached using 'kdebug attach {name} -c {container} -i -t' if it is still running"
        ))
    } else {
        None
    };
    follow(conn, p, &ns, &name, &container, ended, sink, early)
}

fn copy_journey(
    conn: &Connection,
    p: &Plan,
    target: &Resolved,
    sink: &mut Sink,
) -> Result<u8, RunError> {
    let client = &conn.client;
    let original = &target.object;
    let ns = match api::namespace(original) {
        "" => conn.namespace.clone(),
        n => n.to_string(),
    };
    let opts = options_for(p, target);
    let mut names = debug::names::generator();
    let plan = debug::copy::build(original, &opts, &mut names)?;
    print_messages(&plan.messages, p.quiet || !sink.interactive());
    let orig_path = api::pod_path(&ns, api::name(original));
    let Some(created) = create_pod(conn, p, &ns, &plan.pod)? else {
        if plan.delete_original {
            print_request(
                p,
                "DELETE",
                &orig_path,
                "application/json",
                &plan.delete_options,
            );
        }
        return Ok(0);
    };
    let copy_name = created.name.clone();
    let result = (|| {
        if plan.delete_original {
            client.delete(&orig_path, &plan.delete_options)?;
        }
        let Some(container) = plan.container_name.clone() else {
            return Ok(0);
        };
        sink.container = Some(container.clone());
        if !p.attach && !p.fan_out() {
            return Ok(0);
        }
        let ended = (api::str_at(&created.pod, &["spec", "restartPolicy"]) == "Always").then(|| {
            format!("Session ended, resume using 'kdebug attach {copy_name} -c {container} -i -t' command when the pod is running")
        });
        follow(
            conn,
            p,
            &ns,
            &copy_name,
            &container,
            ended,
            sink,
            created.early,
        )
    })();
    finish_cleanup(created.cleanup, result)
}

fn node_journey(
    conn: &Connection,
    p: &Plan,
    target: &Resolved,
    sink: &mut Sink,
) -> Result<u8, RunError> {
    let ns = conn.namespace.clone();
    let opts = options_for(p, target);
    let mut names = debug::names::generator();
    let plan = debug::node::build(&target.object, &ns, &opts, &mut names)?;
    print_messages(&plan.messages, p.quiet || !sink.interactive());
    let Some(created) = create_pod(conn, p, &ns, &plan.pod)? else {
        return Ok(0);
    };
    sink.container = Some(plan.container_name.clone());
    let result = if p.attach || p.fan_out() {
        let container = &plan.container_name;
        follow(
            conn,
            p,
            &ns,
            &created.name,
            container,
            None,
            sink,
            created.early,
        )
    } else {
        Ok(0)
    };
    finish_cleanup(created.cleanup, result)
}

/// A pod this run created, what waits on it, and the cleanup registered for it.
struct Created {
    name: String,
    pod: Value,
    early: Option<wait::EarlyWatch>,
    cleanup: Option<u64>,
}

/// The step the copy and node journeys share: POST the pod, with the watch opened alongside,
/// and register its deletion for `--rm`. With `--dry-run` it prints the request instead.
fn create_pod(
    conn: &Connection,
    p: &Plan,
    ns: &str,
    pod: &Value,
) -> Result<Option<Created>, RunError> {
    let path = api::pods_path(ns);
    if p.dry_run {
        print_request(p, "POST", &path, "application/json", pod);
        return Ok(None);
    }
    let early = open_early(conn, p, ns, pod);
    let created = conn.client.post(&path, pod)?;
    let name = api::name(&created).to_string();
    let cleanup =
        p.rm.then(|| remove_on_exit(&conn.client, ns, &name, p.quiet));
    // The early watch selects by the name we asked for; a server that named the pod
    // otherwise gets a fresh list and watch.
    let early = early.filter(|_| name == api::name(pod));
    Ok(Some(Created {
        name,
        pod: created,
        early,
        cleanup,
    }))
}

/// Opens the watch on a pod about to be created alongside the POST, when the run will wait
/// for it (see [`wait::EarlyWatch`]).
fn open_early(conn: &Connection, p: &Plan, ns: &str, pod: &Value) -> Option<wait::EarlyWatch> {
    let name = api::name(pod);
    (!name.is_empty() && (p.attach || p.fan_out()))
        .then(|| wait::watch_early(&conn.client, ns, name, p.timeout))
}

/// Registers the deletion of a created pod, to run at the end or on a signal.
fn remove_on_exit(client: &Arc<Client>, ns: &str, name: &str, quiet: bool) -> u64 {
    let client = Arc::clone(client);
    let (ns, name) = (ns.to_string(), name.to_string());
    crate::signals::on_exit(move || delete_created(&client, &ns, &name, quiet))
}

fn delete_created(client: &Client, ns: &str, name: &str, quiet: bool) {
    match crate::leftovers::delete_pod(client, ns, name) {
        Ok(_) => {
            if !quiet {
                eprintln!("pod/{name} deleted");
            }
        }
        Err(e) if e.is_not_found() => {}
        Err(e) => {
            eprintln!("warning: created pod {ns}/{name}, could not delete it: {e}; run `kdebug gc`")
        }
    }
}

fn finish_cleanup(cleanup: Option<u64>, result: Result<u8, RunError>) -> Result<u8, RunError> {
    if let Some(f) = cleanup.and_then(crate::signals::take) {
        f();
    }
    result
}

/// Waits for the container, then attaches (with `-i`) or follows its logs from the start
/// (without `-i`, so nothing printed before an attach could start is lost), and returns the
/// container's exit code.
#[allow(clippy::too_many_arguments)]
fn follow(
    conn: &Connection,
    p: &Plan,
    ns: &str,
    pod: &str,
    container: &str,
    ended: Option<String>,
    sink: &mut Sink,
    early: Option<wait::EarlyWatch>,
) -> Result<u8, RunError> {
    let client = &conn.client;
    let ready = wait::until_started_with(
        client,
        ns,
        pod,
        container,
        &WaitOptions {
            timeout: p.timeout,
            quiet: p.quiet || !sink.interactive(),
        },
        early,
    )?;
    if let State::Terminated { exit_code, .. } = ready.state {
        crate::logs::copy(client, ns, pod, container, false, &mut *sink.writer())?;
        return Ok(exit_code as u8);
    }
    if !p.opts.stdin || !sink.interactive() {
        crate::logs::copy(client, ns, pod, container, true, &mut *sink.writer())?;
        return final_exit_code(
            client,
            ns,
            pod,
            container,
            ready.watch,
            Duration::from_secs(10),
        );
    }
    attach_and_report(
        conn,
        p.quiet,
        ns,
        pod,
        container,
        p.opts.tty,
        ended,
        &ready.pod,
        ready.watch,
    )
}

/// Attaches to a running container with stdin; kubectl's TTY rules, messages and fallback.
#[allow(clippy::too_many_arguments)]
pub fn attach_and_report(
    conn: &Connection,
    quiet: bool,
    ns: &str,
    pod: &str,
    container: &str,
    want_tty: bool,
    ended: Option<String>,
    pod_obj: &Value,
    watch: Option<wait::Rest>,
) -> Result<u8, RunError> {
    let client = &conn.client;
    let mut tty = want_tty;
    let container_tty = api::container_spec(pod_obj, container)
        .and_then(|c| c.get("tty"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if tty && !container_tty {
        if !quiet {
            eprintln!("error: Unable to use a TTY - container {container} did not allocate one");
        }
        tty = false;
    } else if !tty && container_tty {
        tty = true;
    }
    if tty && !crate::term::is_terminal(0) {
        if !quiet {
            eprintln!("Unable to use a TTY - input is not a terminal or the right kind of file");
        }
        tty = false;
    }
    if !quiet {
        eprintln!("If you don't see a command prompt, try pressing enter.");
    }
    let opts = AttachOptions {
        container: container.to_string(),
        stdin: true,
        tty,
    };
    match attach::run(client, ns, pod, &opts) {
        Ok(outcome) => {
            if tty && !quiet {
                if let Some(msg) = ended {
                    println!("{msg}");
                }
            }
            match outcome {
                Outcome::ExitCode(n) => Ok(n),
                Outcome::Failure(msg) => Err(RunError::Other(msg)),
                Outcome::Success => {
                    final_exit_code(client, ns, pod, container, watch, Duration::from_secs(2))
                }
            }
        }
        Err(AttachError::Connect(e)) => {
            eprintln!("warning: couldn't attach to pod/{pod}, falling back to streaming logs: {e}");
            crate::logs::copy(
                client,
                ns,
                pod,
                container,
                false,
                &mut crate::logs::stdout(),
            )
            .map_err(|le| {
                RunError::Attach(AttachError::Lost(format!(
                    "{e}; and the logs failed too: {le}"
                )))
            })?;
            final_exit_code(client, ns, pod, container, watch, Duration::from_secs(2))
        }
        Err(e) => Err(e.into()),
    }
}

/// The container's exit code once it has terminated; 0 if it is still running after `grace`
/// (the session ended but the process lives on, as after a detach). The watch that saw the
/// container start, when there is one, shows the end too; otherwise (or if it ends first) the
/// pod is read until then.
fn final_exit_code(
    client: &Client,
    ns: &str,
    pod: &str,
    container: &str,
    watch: Option<wait::Rest>,
    grace: Duration,
) -> Result<u8, RunError> {
    let start = Instant::now();
    if let Some(code) = watch.and_then(|w| w.exit_code(pod, container, grace)) {
        return Ok(code as u8);
    }
    loop {
        let obj = client.get(&api::pod_path(ns, pod))?;
        if let State::Terminated { exit_code, .. } =
            api::state(api::container_status(&obj, container))
        {
            return Ok(exit_code as u8);
        }
        if start.elapsed() >= grace {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `kdebug attach POD [-c CONTAINER] [-i] [-t]`: back into a running debug container.
pub fn reattach(conn: &Connection, p: &Plan) -> Result<u8, RunError> {
    let [target] = p.targets.as_slice() else {
        return Err(RunError::Other("attach needs exactly one POD".into()));
    };
    let target: &Target = target;
    if target.kind != Kind::Pod {
        return Err(RunError::Other(format!(
            "cannot attach to {target}: only pods have containers"
        )));
    }
    let ns = &conn.namespace;
    let pod = conn.client.get(&api::pod_path(ns, &target.name))?;
    let container = match &p.opts.container {
        Some(c) => c.clone(),
        None => pod
            .pointer("/spec/ephemeralContainers")
            .and_then(Value::as_array)
            .and_then(|a| a.last())
            .or_else(|| pod.pointer("/spec/containers/0"))
            .map(|c| api::str_at(c, &["name"]).to_string())
            .unwrap_or_default(),
    };
    if api::container_spec(&pod, &container).is_none() {
        return Err(RunError::Other(format!(
            "container {container} not found in pod {}",
            target.name
        )));
    }
    match api::state(api::container_status(&pod, &container)) {
        State::Terminated { exit_code, .. } => {
            crate::logs::copy(
                &conn.client,
                ns,
                &target.name,
                &container,
                false,
                &mut crate::logs::stdout(),
            )?;
            Ok(exit_code as u8)
        }
        _ if !p.opts.stdin => {
            crate::logs::copy(
                &conn.client,
                ns,
                &target.name,
                &container,
                true,
                &mut crate::logs::stdout(),
            )?;
            final_exit_code(
                &conn.client,
                ns,
                &target.name,
                &container,
                None,
                Duration::from_secs(2),
            )
        }
        _ => attach_and_report(
            conn,
            p.quiet,
            ns,
            &target.name,
            &container,
            p.opts.tty,
            None,
            &pod,
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::yaml_documents;

    #[test]
    fn yaml_streams_split_at_document_markers() {
        let docs = |s: &'static str| -> Vec<String> {
            yaml_documents(s.as_bytes())
                .into_iter()
                .map(|d| String::from_utf8_lossy(d).into_owned())
                .collect()
        };
        assert_eq!(docs("a: 1\n"), ["a: 1\n"]);
        assert_eq!(
            docs("---\na: 1\n--- # two\nb: 2\n---\n"),
            ["a: 1\n", "b: 2\n"]
        );
        // Not a marker: something else follows the dashes.
        assert_eq!(docs("a: |\n  ---x\n"), ["a: |\n  ---x\n"]);
        assert_eq!(docs("---x: 1\n"), ["---x: 1\n"]);
    }
}
