//! Routing and the REST handlers: discovery, get/list/watch/create/delete/patch/update.

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use crate::discovery;
use crate::fault::Fault;
use crate::http::Request;
use crate::server::Ctx;
use crate::status::{self, ApiError};
use crate::store::{self, find_type, meta_str, ResourceType};
use crate::{kubelet, patch, pods, table};

/// Add the request body to the log entry (JSON as is, protobuf decoded).
pub fn log_body(entry: &mut Map<String, Value>, req: &Request) {
    let ct = req.content_type();
    if ct.starts_with("application/vnd.kubernetes.protobuf") {
        use base64::Engine;
        entry.insert(
            "body_base64".into(),
            json!(base64::engine::general_purpose::STANDARD.encode(&req.body)),
        );
        entry.insert("body_encoding".into(), json!("protobuf"));
        match crate::proto::decode_k8s(&req.body) {
            Ok(v) => {
                entry.insert("body".into(), v);
            }
            Err(e) => {
                entry.insert("body_error".into(), json!(e));
            }
        }
    } else {
        entry.insert("body_raw".into(), json!(String::from_utf8_lossy(&req.body)));
        entry.insert("body_encoding".into(), json!("json"));
        if let Ok(v) = serde_json::from_slice::<Value>(&req.body) {
            entry.insert("body".into(), v);
        }
    }
    if req.method == "PATCH" {
        entry.insert("patch_type".into(), json!(ct));
    }
}

/// Decode a request body to JSON (JSON or Kubernetes protobuf).
pub fn decode_body(req: &Request) -> Result<Value, ApiError> {
    let ct = req.content_type();
    if ct.starts_with("application/vnd.kubernetes.protobuf") {
        crate::proto::decode_k8s(&req.body)
            .map_err(|e| status::bad_request(&format!("failed to decode protobuf body: {e}")))
    } else if req.body.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(&req.body).map_err(|e| {
            status::bad_request(&format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf: {e}"
            ))
        })
    }
}

/// A parsed resource URL.
#[derive(Debug, Clone)]
pub struct Target {
    pub t: &'static ResourceType,
    pub ns: Option<String>,
    pub name: Option<String>,
    pub sub: Option<String>,
}

fn parse_target(group: &str, version: &str, segs: &[&str]) -> Option<Target> {
    if segs.is_empty() {
        return None;
    }
    if segs[0] == "namespaces" && segs.len() >= 3 {
        if let Some(t) = find_type(group, version, segs[2]) {
            if t.namespaced {
                return Some(Target {
                    t,
                    ns: Some(segs[1].to_string()),
                    name: segs.get(3).map(|s| s.to_string()),
                    sub: segs.get(4).map(|s| s.to_string()),
                })
                .filter(|_| segs.len() <= 5);
            }
        }
    }
    let t = find_type(group, version, segs[0])?;
    if segs.len() > 3 {
        return None;
    }
    Some(Target {
        t,
        ns: None,
        name: segs.get(1).map(|s| s.to_string()),
        sub: segs.get(2).map(|s| s.to_string()),
    })
}

fn http_verb(req: &Request, target: &Target) -> &'static str {
    match (req.method.as_str(), target.name.is_some()) {
        ("GET", false) if req.q_bool("watch") => "watch",
        ("GET", false) => "list",
        ("GET", true) if req.q_bool("watch") => "watch",
        ("GET", true) => "get",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", false) => "deletecollection",
        ("DELETE", true) => "delete",
        _ => "get",
    }
}

pub fn route(ctx: &mut Ctx) -> io::Result<bool> {
    let path = ctx.req.path.clone();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let accept = ctx.req.header("Accept").unwrap_or("").to_string();
    match segs.as_slice() {
        ["version"] => return ctx.respond_json(200, &discovery::version()),
        ["healthz"] | ["livez"] | ["readyz"] => {
            return ctx.respond(crate::http::Response::text(
                200,
                "text/plain; charset=utf-8",
                b"ok".to_vec(),
            ))
        }
        ["api"] | ["apis"] => {
            let core = segs[0] == "api";
            if !ctx.shared.opts.legacy_discovery {
                if let Some(v) = discovery::wants_aggregated(&accept) {
                    let ct = if v == "v2" {
                        discovery::AGGREGATED_V2
                    } else {
                        discovery::AGGREGATED_V2BETA1
                    };
                    let body =
                        serde_json::to_vec(&discovery::aggregated(core, v)).unwrap_or_default();
                    return ctx.respond(crate::http::Response::text(200, ct, body));
                }
            }
            let v = if core {
                discovery::api_versions(&ctx.shared.addr.to_string())
            } else {
                discovery::api_group_list()
            };
            return ctx.respond_json(200, &v);
        }
        ["api", "v1"] => {
            return ctx.respond_json(200, &discovery::resource_list("", "v1").unwrap_or_default())
        }
        ["apis", g] => {
            return match discovery::api_group(g) {
                Some(v) => ctx.respond_json(200, &v),
                None => ctx.respond_error(&status::page_not_found()),
            }
        }
        ["apis", g, v] => {
            return match discovery::resource_list(g, v) {
                Some(v) => ctx.respond_json(200, &v),
                None => ctx.respond_error(&status::page_not_found()),
            }
        }
        _ => {}
    }
    let target = match segs.as_slice() {
        ["api", "v1", rest @ ..] => parse_target("", "v1", rest),
        ["apis", g, v, rest @ ..] => parse_target(g, v, rest),
        _ => None,
    };
    // /api/v1/namespaces/{name}[/status]
    let Some(target) = target else {
        return ctx.respond_error(&status::page_not_found());
    };
    let verb = http_verb(&ctx.req, &target);
    if ctx.user.read_only
        && (!matches!(verb, "get" | "list" | "watch")
            || matches!(target.sub.as_deref(), Some("attach" | "exec")))
    {
        let e = status::forbidden(
            &ctx.user.name,
            verb,
            target.t.resource,
            target.sub.as_deref().unwrap_or(""),
            target.t.group,
            target.ns.as_deref().unwrap_or(""),
            target.name.as_deref().unwrap_or(""),
        );
        return ctx.respond_error(&e);
    }
    if let Some(v) = impersonation(ctx) {
        return ctx.respond_error(&v);
    }
    match (ctx.req.method.as_str(), &target.name, target.sub.as_deref()) {
        ("GET", None, None) => {
            if ctx.req.q_bool("watch") {
                watch(ctx, &target)
            } else {
                list(ctx, &target)
            }
        }
        ("GET", Some(_), None) => get(ctx, &target),
        ("POST", None, None) => create(ctx, &target),
        ("DELETE", Some(_), None) => delete(ctx, &target),
        ("PATCH", Some(_), None) => patch_object(ctx, &target, None),
        ("PUT", Some(_), None) => update_object(ctx, &target, None),
        (_, Some(_), Some(sub)) if target.t.resource == "pods" => {
            pods::subresource(ctx, &target, sub)
        }
        ("GET", Some(_), Some("status")) => get(ctx, &target),
        ("PATCH", Some(_), Some("status")) => patch_object(ctx, &target, Some("status")),
        ("PUT", Some(_), Some("status")) => update_object(ctx, &target, Some("status")),
        _ => ctx.respond_error(&status::method_not_allowed()),
    }
}

fn impersonation(ctx: &mut Ctx) -> Option<ApiError> {
    let user = ctx.req.header("Impersonate-User")?.to_string();
    if ctx.user.read_only {
        return Some(status::forbidden(
            &ctx.user.name,
            "impersonate",
            "users",
            "",
            "",
            "",
            &user,
        ));
    }
    ctx.entry.insert(
        "impersonated".into(),
        json!({"user": user, "groups": ctx.req.header_all("Impersonate-Group")}),
    );
    None
}

pub fn wants_table(req: &Request) -> bool {
    req.header("Accept")
        .map(|a| a.contains("as=Table"))
        .unwrap_or(false)
}

fn ns_of(target: &Target) -> String {
    target.ns.clone().unwrap_or_default()
}

pub fn get(ctx: &mut Ctx, target: &Target) -> io::Result<bool> {
    let name = target.name.clone().unwrap_or_default();
    let obj = ctx
        .shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(target.t.resource, &ns_of(target), &name)
        .cloned();
    match obj {
        Some(o) if wants_table(&ctx.req) => {
            let rv = meta_str(&o, "resourceVersion").to_string();
            let t = table::table(target.t, &[o], &rv, ctx.req.q("includeObject"), true);
            ctx.respond_json(200, &t)
        }
        Some(o) => ctx.respond_json(200, &o),
        None => ctx.respond_error(&status::not_found(target.t.resource, &name)),
    }
}

/// Parsed list/watch filters.
struct Filters {
    labels: Vec<store::Req>,
    fields: Vec<store::Req>,
}

fn filters(ctx: &Ctx) -> Result<Filters, ApiError> {
    let labels = store::parse_selector(ctx.req.q("labelSelector").unwrap_or(""))
        .map_err(|e| status::bad_request(&e))?;
    let fields = store::parse_selector(ctx.req.q("fieldSelector").unwrap_or(""))
        .map_err(|e| status::bad_request(&e))?;
    for f in &fields {
        if !matches!(f, store::Req::Eq(..) | store::Req::NotEq(..)) {
            return Err(status::bad_request(&format!(
                "invalid field selector: {:?}",
                ctx.req.q("fieldSelector").unwrap_or("")
            )));
        }
    }
    Ok(Filters { labels, fields })
}

impl Filters {
    fn matches(&self, obj: &Value) -> bool {
        store::matches_labels(obj, &self.labels) && store::matches_fields(obj, &self.fields)
    }
}

pub fn strip_type_meta(mut o: Value) -> Value {
    if let Some(m) = o.as_object_mut() {
        m.remove("kind");
        m.remove("apiVersion");
    }
    o
}

/// A list continue token: base64url (no padding) of `{"v":"meta.k8s.io/v1","rv":N,"start":K}`
/// where K is the key after the last item returned plus a NUL, the real server's format
/// (it is opaque to clients). rv -1 continues at the current resourceVersion.
fn encode_continue(rv: i64, key: &(String, String)) -> String {
    use base64::Engine;
    let start = if key.0.is_empty() {
        format!("{}\u{0}", key.1)
    } else {
        format!("{}/{}\u{0}", key.0, key.1)
    };
    let j = json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(j.to_string())
}

fn decode_continue(token: &str, namespaced: bool) -> Result<(i64, (String, String)), ApiError> {
    use base64::Engine;
    // Guess (not observed here): the wording of the real server's errors for a bad token.
    let bad = |why: &str| status::bad_request(&format!("invalid continue token: {why}"));
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad("continue key is not valid: illegal base64 data"))?;
    let j: Value = serde_json::from_slice(&raw)
        .map_err(|_| bad("continue key is not valid: malformed JSON"))?;
    if j["v"] != "meta.k8s.io/v1" {
        return Err(bad(
            "continue key is not valid: server does not recognize this encoded version",
        ));
    }
    let rv = j["rv"]
        .as_i64()
        .filter(|rv| *rv != 0)
        .ok_or_else(|| bad("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"))?;
    let start = j["start"].as_str().unwrap_or("");
    let start = start.strip_suffix('\u{0}').unwrap_or(start);
    if start.is_empty() || start.contains("..") {
        return Err(bad(
            "continue key is not valid: encoded start key is not valid",
        ));
    }
    let key = if namespaced {
        match start.split_once('/') {
            Some((ns, name)) => (ns.to_string(), name.to_string()),
            None => {
                return Err(bad(
                    "continue key is not valid: encoded start key is not valid",
                ))
            }
        }
    } else {
        (String::new(), start.to_string())
    };
    Ok((rv, key))
}

/// `limit`/`continue` paging as the real server does it from etcd (documented API behaviour,
/// not observed on the reference cluster): at most `limit` items in key order, a `continue`
/// token while more remain, every page read at the first page's resourceVersion (the list's
/// `resourceVersion` stays that one), `remainingItemCount` when there is no selector, and 410
/// Expired once that version has left the retained history.
fn list(ctx: &mut Ctx, target: &Target) -> io::Result<bool> {
    let f = match filters(ctx) {
        Ok(f) => f,
        Err(e) => return ctx.respond_error(&e),
    };
    let limit = ctx
        .req
        .q("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let cont = match ctx.req.q("continue").filter(|c| !c.is_empty()) {
        Some(tok) => match decode_continue(tok, target.t.namespaced) {
            Ok(c) => Some(c),
            Err(e) => return ctx.respond_error(&e),
        },
        None => None,
    };
    let no_selector = f.labels.is_empty() && f.fields.is_empty();
    let page = {
        let s = ctx.shared.store.lock().unwrap_or_else(|e| e.into_inner());
        let at = match &cont {
            Some((rv, _)) if *rv > 0 => *rv as u64,
            _ => s.rv,
        };
        let after = cont.as_ref().map(|(_, k)| k);
        s.list_at(
            target.t.resource,
            target.ns.as_deref(),
            at,
            after,
            |o| f.matches(o),
            limit,
            no_selector,
        )
        .map(|(items, rest)| (items, rest, at))
    };
    let (items, rest, at) = match page {
        Ok(p) => p,
        Err(_) => {
            // Guess from the apiserver's source: the Status carries a token that continues
            // (inconsistently) at the current resourceVersion.
            let mut e = status::err(
                410,
                "Expired",
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
                None,
            );
            if let Some((_, key)) = &cont {
                e.body["metadata"] = json!({"continue": encode_continue(-1, key)});
            }
            return ctx.respond_error(&e);
        }
    };
    let rv = at.to_string();
    let mut meta = json!({"resourceVersion": rv});
    if rest > 0 {
        if let Some(last) = items.last() {
            let key = (
                meta_str(last, "namespace").to_string(),
                meta_str(last, "name").to_string(),
            );
            meta["continue"] = json!(encode_continue(at as i64, &key));
            if no_selector {
                meta["remainingItemCount"] = json!(rest);
            }
        }
    }
    if wants_table(&ctx.req) {
        let mut t = table::table(target.t, &items, &rv, ctx.req.q("includeObject"), true);
        t["metadata"] = meta;
        return ctx.respond_json(200, &t);
    }
    let list = json!({
        "kind": format!("{}List", target.t.kind),
        "apiVersion": store::api_version(target.t),
        "metadata": meta,
        "items": items.into_iter().map(strip_type_meta).collect::<Vec<_>>(),
    });
    ctx.respond_json(200, &list)
}

fn event_json(kind: &str, obj: &Value) -> Vec<u8> {
    let mut b = serde_json::to_vec(&json!({"type": kind, "object": obj})).unwrap_or_default();
    b.push(b'\n');
    b
}

fn container_states(obj: &Value) -> Value {
    let mut m = Map::new();
    for key in [
        "initContainerStatuses",
        "containerStatuses",
        "ephemeralContainerStatuses",
    ] {
        if let Some(list) = obj
            .pointer(&format!("/status/{key}"))
            .and_then(|v| v.as_array())
        {
            for cs in list {
                let name = cs.get("name").and_then(|v| v.as_str()).unwrap_or("");
                let state = cs
                    .get("state")
                    .and_then(|s| s.as_object())
                    .and_then(|s| s.keys().next().cloned())
                    .unwrap_or_default();
                m.insert(name.to_string(), json!(state));
            }
        }
    }
    Value::Object(m)
}

/// The name a `fieldSelector` pins a watch to (`metadata.name=X`), used to route events.
fn pinned_name(f: &Filters) -> Option<String> {
    f.fields.iter().find_map(|r| match r {
        store::Req::Eq(k, v) if k == "metadata.name" => Some(v.clone()),
        _ => None,
    })
}

/// Unregisters a watch's queue from the store however the handler ends.
struct WatchGuard<'a> {
    shared: &'a crate::Shared,
    queue: Arc<store::WatchQueue>,
}

impl Drop for WatchGuard<'_> {
    fn drop(&mut self) {
        self.shared
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unwatch(&self.queue);
    }
}

fn watch(ctx: &mut Ctx, target: &Target) -> io::Result<bool> {
    let f = match filters(ctx) {
        Ok(f) => f,
        Err(e) => return ctx.respond_error(&e),
    };
    let (gone, gone_http, drop_after) = {
        let target_s = format!("{}?{}", ctx.req.path, ctx.req.raw_query);
        let mut faults = ctx.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        let gone = faults
            .take(&target_s, |f| matches!(f, Fault::GoneOnNextWatch))
            .is_some();
        let gone_http = faults
            .take(&target_s, |f| matches!(f, Fault::GoneHttpOnNextWatch))
            .is_some();
        let drop = match faults.take(&target_s, |f| matches!(f, Fault::DropWatchAfter { .. })) {
            Some(Fault::DropWatchAfter { events }) => Some(events),
            _ => None,
        };
        (gone, gone_http, drop)
    };
    let rv_param = ctx.req.q("resourceVersion").unwrap_or("").to_string();
    let send_initial = ctx.req.q_bool("sendInitialEvents");
    let bookmarks = ctx.req.q_bool("allowWatchBookmarks");
    let timeout = ctx
        .req
        .q("timeoutSeconds")
        .and_then(|s| s.parse::<f64>().ok())
        .or_else(|| {
            ctx.req
                .q("timeout")
                .and_then(crate::util::parse_go_duration)
        })
        .unwrap_or(1800.0);
    let as_table = wants_table(&ctx.req);
    let include = ctx.req.q("includeObject").map(String::from);

    // The watch is registered under the same lock as the snapshot it starts from, so no
    // event falls between the two. From then on it gets only the events routed to it (by
    // resource, namespace and pinned name), not a scan of the whole history.
    let from = match rv_param.as_str() {
        "" | "0" => None,
        other => match other.parse::<u64>() {
            Ok(rv) => Some(rv),
            Err(_) => {
                return ctx.respond_error(&status::bad_request(&format!(
                    "invalid resource version: {other}"
                )))
            }
        },
    };
    let (start_rv, initial, registered) = {
        let mut s = ctx.shared.store.lock().unwrap_or_else(|e| e.into_inner());
        let current = |s: &store::Store| -> Vec<Value> {
            s.list_where(target.t.resource, target.ns.as_deref(), |o| f.matches(o))
        };
        let (start, initial) = match from {
            // sendInitialEvents: the current state, then changes after that snapshot.
            None => (s.rv, current(&s)),
            Some(_) if send_initial => (s.rv, current(&s)),
            Some(rv) => (rv, vec![]),
        };
        let reg = if let (true, Some(rv)) = (gone, from) {
            Err(store::TooOld {
                rv,
                oldest: s.oldest_rv,
            })
        } else {
            s.watch(target.t.resource, target.ns.clone(), pinned_name(&f), start)
        };
        (start, initial, reg)
    };
    let (queue, expired) = match registered {
        Ok(q) => (Some(q), None),
        Err(t) => (None, Some((t.rv, t.oldest))),
    };
    let _guard = queue.clone().map(|queue| WatchGuard {
        shared: ctx.shared,
        queue,
    });
    if gone_http {
        let e = status::err(
            410,
            "Expired",
            &format!("too old resource version: {} ({})", rv_param, start_rv),
            None,
        );
        ctx.entry.insert("fault".into(), json!("gone-http"));
        return ctx.respond_error(&e);
    }
    ctx.start_stream(200, "application/json")?;
    let started = Instant::now();
    let mut sent: Vec<Value> = Vec::new();
    let mut end = "timeout";
    let mut first_table = true;
    let encode = |kind: &str, obj: &Value, first: &mut bool| -> Vec<u8> {
        if as_table && kind != "BOOKMARK" && kind != "ERROR" {
            let rv = meta_str(obj, "resourceVersion").to_string();
            let t = table::table(
                target.t,
                std::slice::from_ref(obj),
                &rv,
                include.as_deref(),
                *first,
            );
            *first = false;
            event_json(kind, &t)
        } else {
            event_json(kind, obj)
        }
    };
    let mut result: io::Result<()> = Ok(());
    if let Some((rv, oldest)) = expired {
        let st = status::status(
            410,
            "Expired",
            &format!("too old resource version: {rv} ({oldest})"),
            None,
        );
        let b = event_json("ERROR", &st);
        sent.push(json!({"type":"ERROR","code":410}));
        result = ctx.chunk(&b);
        end = "expired";
    } else if let Some(queue) = &queue {
        let interval = Duration::from_millis(ctx.shared.opts.bookmark_interval_ms.max(10));
        let mut last_bookmark = Instant::now();
        let mut count = 0usize;
        'outer: {
            for obj in &initial {
                let b = encode("ADDED", obj, &mut first_table);
                sent.push(json!({"type":"ADDED","name":meta_str(obj,"name"),"resourceVersion":meta_str(obj,"resourceVersion")}));
                if let Err(e) = ctx.chunk(&b) {
                    result = Err(e);
                    break 'outer;
                }
                count += 1;
                if drop_after.map(|n| count >= n).unwrap_or(false) {
                    end = "dropped";
                    break 'outer;
                }
            }
            if send_initial && bookmarks {
                let bm = bookmark(target.t, start_rv, true);
                sent.push(json!({"type":"BOOKMARK","resourceVersion":start_rv.to_string(),"initialEventsEnd":true}));
                if let Err(e) = ctx.chunk(&event_json("BOOKMARK", &bm)) {
                    result = Err(e);
                    break 'outer;
                }
            }
            loop {
                if ctx.shared.stopped() {
                    end = "server-stopped";
                    break;
                }
                let elapsed = started.elapsed().as_secs_f64();
                if elapsed >= timeout {
                    end = "timeout";
                    break;
                }
                // Wait on this watch's own queue until it has events, a bookmark is due or
                // the timeout passes.
                let bookmark_due = || bookmarks && last_bookmark.elapsed() >= interval;
                let mut wait = Duration::from_millis(200)
                    .min(Duration::from_secs_f64((timeout - elapsed).max(0.001)));
                if bookmarks {
                    wait = wait.min(interval.saturating_sub(last_bookmark.elapsed()));
                }
                {
                    let st = queue.state.lock().unwrap_or_else(|e| e.into_inner());
                    if st.events.is_empty() && !st.overflowed && !st.woken && !wait.is_zero() {
                        let _ = queue
                            .cv
                            .wait_timeout(st, wait)
                            .unwrap_or_else(|e| e.into_inner());
                    }
                }
                // Take the batch; with a bookmark due, take it together with the store's
                // resourceVersion (store lock first, as the writers do): every event up to
                // that version is then either in the batch or already sent, so the bookmark
                // written after the batch never passes an event this watch has not had
                // (issue 14; the real cacher sends bookmarks through the watcher's queue).
                let (batch, bookmark_rv, overflowed) = if bookmark_due() {
                    let s = ctx.shared.store.lock().unwrap_or_else(|e| e.into_inner());
                    let mut st = queue.state.lock().unwrap_or_else(|e| e.into_inner());
                    (std::mem::take(&mut st.events), Some(s.rv), st.overflowed)
                } else {
                    let mut st = queue.state.lock().unwrap_or_else(|e| e.into_inner());
                    (std::mem::take(&mut st.events), None, st.overflowed)
                };
                if overflowed {
                    end = "overflow";
                    break;
                }
                for ev in batch {
                    let obj = ev.object();
                    if !f.matches(&obj) {
                        continue;
                    }
                    let b = if as_table {
                        encode(ev.kind, &obj, &mut first_table)
                    } else {
                        // The committed bytes, as event_json would write them.
                        let mut b = Vec::with_capacity(ev.json.len() + 40);
                        b.extend_from_slice(b"{\"type\":\"");
                        b.extend_from_slice(ev.kind.as_bytes());
                        b.extend_from_slice(b"\",\"object\":");
                        b.extend_from_slice(&ev.json);
                        b.extend_from_slice(b"}\n");
                        b
                    };
                    sent.push(json!({
                        "type": ev.kind,
                        "name": ev.name,
                        "resourceVersion": ev.rv.to_string(),
                        "t_ms": started.elapsed().as_millis() as u64,
                        "container_states": container_states(&obj),
                    }));
                    if let Err(e) = ctx.chunk(&b) {
                        result = Err(e);
                        end = "client-closed";
                        break 'outer;
                    }
                    count += 1;
                    if drop_after.map(|n| count >= n).unwrap_or(false) {
                        end = "dropped";
                        break 'outer;
                    }
                }
                if let Some(rv) = bookmark_rv {
                    last_bookmark = Instant::now();
                    let bm = bookmark(target.t, rv, false);
                    sent.push(json!({"type":"BOOKMARK","resourceVersion":rv.to_string()}));
                    if let Err(e) = ctx.chunk(&event_json("BOOKMARK", &bm)) {
                        result = Err(e);
                        end = "client-closed";
                        break 'outer;
                    }
                }
                if ctx.peer_closed() {
                    end = "client-closed";
                    break;
                }
            }
        }
    }
    ctx.entry
        .insert("watch".into(), json!({"events_sent": sent, "end": end}));
    if end == "dropped" {
        ctx.entry.insert("fault".into(), json!("drop-watch"));
    }
    result?;
    if end == "client-closed" {
        return Ok(false);
    }
    ctx.end_stream()?;
    Ok(true)
}

fn bookmark(t: &ResourceType, rv: u64, initial_end: bool) -> Value {
    let mut meta = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_end {
        meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let mut o = json!({"kind": t.kind, "apiVersion": store::api_version(t), "metadata": meta});
    if t.resource == "pods" {
        o["spec"] = json!({"containers": null});
        o["status"] = json!({});
    }
    o
}

pub fn dry_run(req: &Request) -> bool {
    req.q("dryRun").map(|v| v == "All").unwrap_or(false)
}

fn create(ctx: &mut Ctx, target: &Target) -> io::Result<bool> {
    let body = match decode_body(&ctx.req) {
        Ok(v) => v,
        Err(e) => return ctx.respond_error(&e),
    };
    let Value::Object(_) = body else {
        return ctx.respond_error(&status::bad_request("the request body must be an object"));
    };
    let mut obj = body;
    let ns = ns_of(target);
    if let Some(kind) = obj.get("kind").and_then(|k| k.as_str()) {
        if kind != target.t.kind {
            let e = status::bad_request(&format!(
                "the API version in the data ({}) does not match the expected API version ({})",
                obj.get("apiVersion").and_then(|v| v.as_str()).unwrap_or(""),
                store::api_version(target.t)
            ));
            return ctx.respond_error(&e);
        }
    }
    obj["kind"] = json!(target.t.kind);
    obj["apiVersion"] = json!(store::api_version(target.t));
    if !obj.get("metadata").map(|m| m.is_object()).unwrap_or(false) {
        obj["metadata"] = json!({});
    }
    let body_ns = meta_str(&obj, "namespace").to_string();
    if target.t.namespaced {
        if !body_ns.is_empty() && body_ns != ns {
            let e = status::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            );
            return ctx.respond_error(&e);
        }
        obj["metadata"]["namespace"] = json!(ns);
    }
    let mut name = meta_str(&obj, "name").to_string();
    if name.is_empty() {
        let gen = meta_str(&obj, "generateName").to_string();
        if gen.is_empty() {
            let e = status::invalid(
                target.t.kind,
                "",
                &[status::FieldError::new(
                    status::FieldErrorKind::Required,
                    "metadata.name",
                    None,
                    "name or generateName is required",
                )],
            );
            return ctx.respond_error(&e);
        }
        name = format!("{gen}{}", crate::util::rand_suffix(5));
        obj["metadata"]["name"] = json!(name);
    }
    if target.t.namespaced {
        let ns_exists = ctx
            .shared
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get("namespaces", "", &ns)
            .is_some();
        if !ns_exists {
            return ctx.respond_error(&status::not_found("namespaces", &ns));
        }
    }
    if target.t.resource == "pods" {
        if let Err(e) = pods::validate_create(&obj) {
            return ctx.respond_error(&e);
        }
        pods::default_pod(&mut obj);
    }
    let meta = obj["metadata"].as_object_mut().expect("metadata");
    meta.insert("uid".into(), json!(crate::util::uuid4()));
    meta.insert(
        "creationTimestamp".into(),
        json!(crate::util::now_rfc3339()),
    );
    meta.remove("resourceVersion");
    meta.remove("deletionTimestamp");
    if target.t.resource != "pods" {
        meta.insert("generation".into(), json!(1));
    }
    let obj = crate::world::order_object(obj);
    let t = target.t;
    let dry = dry_run(&ctx.req);
    let res = ctx.shared.with_store(|s| {
        if s.get(t.resource, &ns, &name).is_some() {
            return Err(status::already_exists(t.resource, &name));
        }
        if dry {
            let mut o = obj.clone();
            o["metadata"]["resourceVersion"] = json!("");
            return Ok(o);
        }
        Ok(s.put(t, obj))
    });
    match res {
        Ok(o) => {
            if t.resource == "pods" && !dry {
                kubelet::pod_created(ctx.shared, &ns, &name);
            }
            ctx.respond_json(201, &o)
        }
        Err(e) => ctx.respond_error(&e),
    }
}

fn delete(ctx: &mut Ctx, target: &Target) -> io::Result<bool> {
    let opts = match decode_body(&ctx.req) {
        Ok(v) => v,
        Err(e) => return ctx.respond_error(&e),
    };
    let ns = ns_of(target);
    let name = target.name.clone().unwrap_or_default();
    let grace = opts
        .get("gracePeriodSeconds")
        .and_then(|v| v.as_i64())
        .or_else(|| {
            ctx.req
                .q("gracePeriodSeconds")
                .and_then(|s| s.parse::<i64>().ok())
        });
    let t = target.t;
    let existing = ctx
        .shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(t.resource, &ns, &name)
        .cloned();
    let Some(existing) = existing else {
        return ctx.respond_error(&status::not_found(t.resource, &name));
    };
    if dry_run(&ctx.req) {
        return ctx.respond_json(200, &existing);
    }
    if t.resource == "pods" {
        let grace = grace.unwrap_or_else(|| {
            existing
                .pointer("/spec/terminationGracePeriodSeconds")
                .and_then(|v| v.as_i64())
                .unwrap_or(30)
        });
        let obj = pods::delete_pod(ctx.shared, &ns, &name, grace);
        return match obj {
            Some(o) => ctx.respond_json(200, &o),
            None => ctx.respond_error(&status::not_found(t.resource, &name)),
        };
    }
    let gone = ctx.shared.with_store(|s| s.delete(t, &ns, &name));
    match gone {
        Some(o) => {
            let mut details = json!({"name": name, "kind": t.resource, "uid": meta_str(&o, "uid")});
            if !t.group.is_empty() {
                details["group"] = json!(t.group);
            }
            let st = json!({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":details});
            ctx.respond_json(200, &st)
        }
        None => ctx.respond_error(&status::not_found(t.resource, &name)),
    }
}

/// Take the ConflictOnNextPatch fault if armed.
pub fn conflict_fault(ctx: &mut Ctx) -> bool {
    let target = format!("{}?{}", ctx.req.path, ctx.req.raw_query);
    let hit = ctx
        .shared
        .faults
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(&target, |f| matches!(f, Fault::ConflictOnNextPatch))
        .is_some();
    if hit {
        ctx.entry.insert("fault".into(), json!("conflict"));
    }
    hit
}

pub fn patch_object(ctx: &mut Ctx, target: &Target, sub: Option<&str>) -> io::Result<bool> {
    let ns = ns_of(target);
    let name = target.name.clone().unwrap_or_default();
    if conflict_fault(ctx) {
        return ctx.respond_error(&status::conflict(target.t.resource, &name));
    }
    let Some(old) = ctx
        .shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(target.t.resource, &ns, &name)
        .cloned()
    else {
        return ctx.respond_error(&status::not_found(target.t.resource, &name));
    };
    let new = match patch::apply_request(&ctx.req, &old) {
        Ok(v) => v,
        Err(e) => return ctx.respond_error(&e),
    };
    let mut merged = old.clone();
    match sub {
        Some("status") => merged["status"] = new.get("status").cloned().unwrap_or(json!({})),
        _ => {
            for (k, v) in new.as_object().into_iter().flatten() {
                if k != "status" {
                    merged[k] = v.clone();
                }
            }
            keep_immutable_meta(&mut merged, &old);
        }
    }
    store_update(ctx, target, merged)
}

fn keep_immutable_meta(new: &mut Value, old: &Value) {
    for k in [
        "name",
        "namespace",
        "uid",
        "creationTimestamp",
        "resourceVersion",
    ] {
        if let Some(v) = old.pointer(&format!("/metadata/{k}")) {
            new["metadata"][k] = v.clone();
        }
    }
    new["kind"] = old["kind"].clone();
    new["apiVersion"] = old["apiVersion"].clone();
}

pub fn update_object(ctx: &mut Ctx, target: &Target, sub: Option<&str>) -> io::Result<bool> {
    let ns = ns_of(target);
    let name = target.name.clone().unwrap_or_default();
    let body = match decode_body(&ctx.req) {
        Ok(v) => v,
        Err(e) => return ctx.respond_error(&e),
    };
    let Some(old) = ctx
        .shared
        .store
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(target.t.resource, &ns, &name)
        .cloned()
    else {
        return ctx.respond_error(&status::not_found(target.t.resource, &name));
    };
    let rv = meta_str(&body, "resourceVersion");
    if !rv.is_empty() && rv != meta_str(&old, "resourceVersion") || conflict_fault(ctx) {
        return ctx.respond_error(&status::conflict(target.t.resource, &name));
    }
    let mut merged = old.clone();
    match sub {
        Some("status") => merged["status"] = body.get("status").cloned().unwrap_or(json!({})),
        _ => {
            merged = body;
            merged["status"] = old.get("status").cloned().unwrap_or(Value::Null);
            if merged["status"].is_null() {
                merged.as_object_mut().map(|m| m.remove("status"));
            }
            keep_immutable_meta(&mut merged, &old);
        }
    }
    store_update(ctx, target, merged)
}

fn store_update(ctx: &mut Ctx, target: &Target, obj: Value) -> io::Result<bool> {
    if dry_run(&ctx.req) {
        return ctx.respond_json(200, &obj);
    }
    let t = target.t;
    let stored = ctx.shared.with_store(|s| s.put(t, obj));
    ctx.respond_json(200, &stored)
}
