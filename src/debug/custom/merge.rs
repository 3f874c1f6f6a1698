//! The strategic merge of the decoded container onto the debug container, with the
//! Container's merge keys and Go's element order.

use serde_json::{Map, Value};

use crate::debug::order::{self, CONTAINER, SECURITY_CONTEXT};

/// Applies the decoded custom container to `container` as kubectl does: the patch's name
/// becomes the container's name, then a strategic merge with the Container schema (`env` by
/// `name`, `volumeMounts` by `mountPath`, `ports` by `containerPort`, `volumeDevices` by
/// `devicePath`; maps merge recursively; other lists are replaced).
pub fn merge_container(container: &mut Value, decoded: &Value, name: &str) {
    let Some(patch) = decoded.as_object() else {
        return;
    };
    let mut patch = patch.clone();
    patch.insert("name".into(), Value::String(name.into()));
    if !container.is_object() {
        *container = Value::Object(Map::new());
    }
    let before = container.clone();
    if let Some(c) = container.as_object_mut() {
        merge_map(c, &patch, Level::Container);
    }
    *container = go_unmarshal_into(Some(&before), container);
}

/// Go's `json.Unmarshal` onto an existing value, as kubectl decodes the patched container onto
/// the container it patched: an object keeps the fields the JSON lacks (recursively), and the
/// i-th element of a list is decoded onto the old i-th element. So when the merge put a new
/// element where another one was, the new one inherits the fields it lacks from it (kubectl
/// 1.33: a custom volume mount placed first gets the old first mount's `readOnly: true`).
pub(super) fn go_unmarshal_into(old: Option<&Value>, new: &Value) -> Value {
    match (old, new) {
        (Some(Value::Object(o)), Value::Object(n)) => {
            let mut out = Map::new();
            for (k, v) in n {
                out.insert(k.clone(), go_unmarshal_into(o.get(k), v));
            }
            for (k, v) in o {
                if !n.contains_key(k) {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Object(out)
        }
        (Some(Value::Array(o)), Value::Array(n)) => Value::Array(
            n.iter()
                .enumerate()
                .map(|(i, x)| go_unmarshal_into(o.get(i), x))
                .collect(),
        ),
        _ => new.clone(),
    }
}

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Level {
    Container,
    SecurityContext,
    Other,
}

pub(super) fn merge_key(level: Level, key: &str) -> Option<&'static str> {
    if level != Level::Container {
        return None;
    }
    match key {
        "env" => Some("name"),
        "volumeMounts" => Some("mountPath"),
        "ports" => Some("containerPort"),
        "volumeDevices" => Some("devicePath"),
        _ => None,
    }
}

pub(super) fn field_order(level: Level) -> &'static [&'static str] {
    match level {
        Level::Container => CONTAINER,
        Level::SecurityContext => SECURITY_CONTEXT,
        Level::Other => &[],
    }
}

pub(super) fn merge_map(
    original: &mut Map<String, Value>,
    patch: &Map<String, Value>,
    level: Level,
) {
    for (k, pv) in patch {
        if pv.is_null() {
            // SMP: null deletes; with IgnoreUnmatchedNulls it is never added.
            order::remove(original, k);
            continue;
        }
        let child = if level == Level::Container && k == "securityContext" {
            Level::SecurityContext
        } else {
            Level::Other
        };
        match (original.get_mut(k), pv) {
            (Some(Value::Object(o)), Value::Object(p)) => merge_map(o, p, child),
            (Some(Value::Array(o)), Value::Array(p)) if merge_key(level, k).is_some() => {
                let key = merge_key(level, k).unwrap_or("name");
                merge_list(o, p, key);
            }
            (Some(slot), _) => *slot = pv.clone(),
            (None, _) => order::set(original, k, without_nulls(pv), field_order(level)),
        }
    }
}

/// Elements with the same merge key are merged, new ones added; then the order Go's strategic
/// merge gives (normalizeElementOrder): the patch's elements in patch order, the original's
/// other elements in their order, interleaved so that an original element goes before a patch
/// element only when both were in the original in that order. So a new element comes before
/// the original elements that follow it: `[sa]` + `[extra]` gives `[extra, sa]`.
pub(super) fn merge_list(original: &mut Vec<Value>, patch: &[Value], key: &str) {
    let server_order = original.clone();
    for p in patch {
        let Some(pm) = p.as_object() else {
            original.push(p.clone());
            continue;
        };
        let k = pm.get(key);
        match original
            .iter_mut()
            .find(|o| k.is_some() && o.get(key) == k)
            .and_then(Value::as_object_mut)
        {
            Some(om) => merge_map(om, pm, Level::Other),
            None => original.push(without_nulls(p)),
        }
    }
    if !patch.iter().all(|p| p.get(key).is_some()) {
        return;
    }
    let index = |list: &[Value], item: &Value| {
        list.iter()
            .position(|x| x.get(key).is_some() && x.get(key) == item.get(key))
    };
    let (mut from_patch, server_only): (Vec<Value>, Vec<Value>) = std::mem::take(original)
        .into_iter()
        .partition(|item| index(patch, item).is_some());
    from_patch.sort_by_key(|item| index(patch, item));
    let (mut left, mut right) = (
        server_only.into_iter().peekable(),
        from_patch.into_iter().peekable(),
    );
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (index(&server_order, l), index(&server_order, r)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        original.extend(next);
    }
}

pub(super) fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}
