//! One line of a watch stream (`{"type":...,"object":...}`), as far as kdebug needs it.
//! Pure, never panics: the fuzz target `watch` drives it.

use serde_json::Value;

use super::Meta;

/// One watch event, as far as the wait needs it.
#[derive(Debug, PartialEq)]
pub enum WatchEvent {
    /// ADDED or MODIFIED: the object and its resourceVersion.
    Changed {
        resource_version: String,
        object: Value,
    },
    Deleted,
    Bookmark {
        resource_version: String,
    },
    /// ERROR: the Status code it carries (410 means relist).
    Error {
        code: Option<u64>,
    },
    /// A type the wait ignores.
    Other,
}

/// What one line of a watch stream holds.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    Blank,
    Event(WatchEvent),
    /// Not a watch event (half a line, garbage): the watch is resumed.
    Malformed,
}

/// Decodes one line of a watch stream (`{"type":...,"object":...}`). Pure, never panics.
pub fn decode_event(line: &[u8]) -> Decoded {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Decoded::Blank;
    }
    let Ok(Value::Object(mut event)) = serde_json::from_slice::<Value>(line) else {
        return Decoded::Malformed;
    };
    let object = event.remove("object").unwrap_or(Value::Null);
    // An object whose metadata cannot be read has no resourceVersion to go on from.
    let rv = |o: &Value| Meta::read(o).map_or(String::new(), |m| m.resource_version.into());
    Decoded::Event(
        match event.get("type").and_then(Value::as_str).unwrap_or("") {
            "ADDED" | "MODIFIED" => WatchEvent::Changed {
                resource_version: rv(&object),
                object,
            },
            "DELETED" => WatchEvent::Deleted,
            "BOOKMARK" => WatchEvent::Bookmark {
                resource_version: rv(&object),
            },
            "ERROR" => WatchEvent::Error {
                code: object.get("code").and_then(Value::as_u64),
            },
            _ => WatchEvent::Other,
        },
    )
}

/// Decodes a whole watch body the way the wait reads it: line by line, up to the first line
/// that is not UTF-8 or not an event.
pub fn decode_events(body: &[u8]) -> Vec<Decoded> {
    let mut out = Vec::new();
    for line in body.split(|&b| b == b'\n') {
        if std::str::from_utf8(line).is_err() {
            break;
        }
        let d = decode_event(line);
        let stop = d == Decoded::Malformed;
        out.push(d);
        if stop {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_watch_lines() {
        let added = br#"{"type":"ADDED","object":{"metadata":{"name":"p","resourceVersion":"7"}}}"#;
        assert!(matches!(
            decode_event(added),
            Decoded::Event(WatchEvent::Changed { resource_version, .. }) if resource_version == "7"
        ));
        assert_eq!(decode_event(b"  "), Decoded::Blank);
        assert_eq!(decode_event(b"{\"type\":"), Decoded::Malformed);
        assert_eq!(decode_event(b"[1]"), Decoded::Malformed);
        assert_eq!(
            decode_event(br#"{"type":"ERROR","object":{"code":410}}"#),
            Decoded::Event(WatchEvent::Error { code: Some(410) })
        );
        assert_eq!(
            decode_event(br#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}"#),
            Decoded::Event(WatchEvent::Bookmark {
                resource_version: "9".into()
            })
        );
        assert_eq!(
            decode_event(br#"{"type":"DELETED","object":5}"#),
            Decoded::Event(WatchEvent::Deleted)
        );
        let body = b"{\"type\":\"X\"}\n\ngarbage\n{\"type\":\"DELETED\"}\n";
        assert_eq!(
            decode_events(body),
            vec![
                Decoded::Event(WatchEvent::Other),
                Decoded::Blank,
                Decoded::Malformed
            ]
        );
    }
}
