//! /version, /api, /apis and group-version discovery, legacy and aggregated (v2).

use serde_json::{json, Value};

use crate::store::{verbs, ResourceType, TYPES};

pub const AGGREGATED_V2: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
pub const AGGREGATED_V2BETA1: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";

pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "gitVersion": "v1.32.4",
        "gitCommit": "59526cd4867447956156ae3a602fcbac10a2c335",
        "gitTreeState": "clean",
        "buildDate": "2025-04-22T16:03:51Z",
        "goVersion": "go1.23.6",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// Which aggregated version the Accept header asks for, if any.
pub fn wants_aggregated(accept: &str) -> Option<&'static str> {
    let a = accept.replace(' ', "");
    if a.contains("as=APIGroupDiscoveryList") {
        if a.contains("v=v2;") || a.contains("v=v2,") || a.ends_with("v=v2") {
            return Some("v2");
        }
        if a.contains("v=v2beta1") {
            return Some("v2beta1");
        }
    }
    None
}

fn groups() -> Vec<&'static str> {
    let mut g: Vec<&str> = Vec::new();
    for t in TYPES {
        if !t.group.is_empty() && !g.contains(&t.group) {
            g.push(t.group);
        }
    }
    g
}

fn resource_v2(t: &ResourceType) -> Value {
    let mut r = json!({
        "resource": t.resource,
        "responseKind": {"group": t.group, "version": t.version, "kind": t.kind},
        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": t.singular,
        "verbs": verbs(),
    });
    if !t.short.is_empty() {
        r["shortNames"] = json!(t.short);
    }
    if !t.categories.is_empty() {
        r["categories"] = json!(t.categories);
    }
    let subs: Vec<Value> = t
        .subresources
        .iter()
        .map(|(name, g, v, k, verbs)| {
            json!({"subresource": name, "responseKind": {"group": g, "version": v, "kind": k}, "verbs": verbs})
        })
        .collect();
    if !subs.is_empty() {
        r["subresources"] = json!(subs);
    }
    r
}

fn group_v2(group: &str) -> Value {
    let resources: Vec<Value> = TYPES
        .iter()
        .filter(|t| t.group == group)
        .map(resource_v2)
        .collect();
    let mut meta = json!({"creationTimestamp": null});
    if !group.is_empty() {
        meta = json!({"name": group, "creationTimestamp": null});
    }
    json!({
        "metadata": meta,
        "versions": [{"version": "v1", "resources": resources, "freshness": "Current"}]
    })
}

/// The aggregated document for /api (core) or /apis (named groups).
pub fn aggregated(core: bool, version: &str) -> Value {
    let items: Vec<Value> = if core {
        vec![group_v2("")]
    } else {
        groups().into_iter().map(group_v2).collect()
    };
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{version}"),
        "metadata": {},
        "items": items
    })
}

pub fn api_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

pub fn api_group_list() -> Value {
    let groups: Vec<Value> = groups()
        .into_iter()
        .map(|g| {
            let gv = json!({"groupVersion": format!("{g}/v1"), "version": "v1"});
            json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn api_group(group: &str) -> Option<Value> {
    if !groups().contains(&group) {
        return None;
    }
    let gv = json!({"groupVersion": format!("{group}/v1"), "version": "v1"});
    Some(
        json!({"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": [gv.clone()], "preferredVersion": gv}),
    )
}

/// APIResourceList for one group version (legacy discovery).
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    let types: Vec<&ResourceType> = TYPES
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .collect();
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for t in types {
        let mut r = json!({
            "name": t.resource,
            "singularName": t.singular,
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": verbs(),
        });
        if !t.short.is_empty() {
            r["shortNames"] = json!(t.short);
        }
        if !t.categories.is_empty() {
            r["categories"] = json!(t.categories);
        }
        resources.push(r);
        for (name, g, v, k, verbs) in t.subresources {
            let mut s = json!({
                "name": format!("{}/{}", t.resource, name),
                "singularName": "",
                "namespaced": t.namespaced,
                "kind": k,
                "verbs": verbs,
            });
            if !g.is_empty() {
                s["group"] = json!(g);
                s["version"] = json!(v);
            }
            resources.push(s);
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}
