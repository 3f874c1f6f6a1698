//! The image-reference grammar kubectl checks `--image` and `--set-image` against:
//! distribution/reference's anchored `ReferenceRegexp`, written out by hand (no regex crate).

/// Whether `s` matches distribution/reference's anchored `ReferenceRegexp`:
/// `(domain "/")? path-component ("/" path-component)* (":" tag)? ("@" digest)?`.
/// Like kubectl, no length limit is applied (only the regexp is consulted).
pub fn is_reference(s: &str) -> bool {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !is_digest(d)) {
        return false;
    }
    // The tag, if any, follows the last ':' after the last '/'. A ':' before a '/' can only be
    // a port. Both readings of a trailing ":x" are tried, as the regexp would.
    let last_slash = rest.rfind('/');
    if let Some(colon) = rest.rfind(':') {
        if last_slash.is_none_or(|sl| colon > sl) {
            let (name, tag) = (&rest[..colon], &rest[colon + 1..]);
            if is_tag(tag) && is_name(name) {
                return true;
            }
        }
    }
    is_name(rest)
}

fn is_name(s: &str) -> bool {
    if is_remote_name(s) {
        return true;
    }
    match s.split_once('/') {
        Some((domain, remote)) => is_domain(domain) && is_remote_name(remote),
        None => false,
    }
}

/// `path-component ("/" path-component)*`, each `[a-z0-9]+ (separator [a-z0-9]+)*` with
/// separator `[._]|__|-+`.
fn is_remote_name(s: &str) -> bool {
    s.split('/').all(is_path_component)
}

fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut i = 0;
    let run = |i: &mut usize| {
        let start = *i;
        while b.get(*i).copied().is_some_and(alnum) {
            *i += 1;
        }
        *i > start
    };
    if !run(&mut i) {
        return false;
    }
    while i < b.len() {
        match b.get(i) {
            Some(b'.') => i += 1,
            Some(b'_') => {
                i += 1;
                if b.get(i) == Some(&b'_') {
                    i += 1;
                }
            }
            Some(b'-') => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
        if !run(&mut i) {
            return false;
        }
    }
    true
}

/// `host (":" [0-9]+)?` with host a dotted domain name or a bracketed IPv6 address.
fn is_domain(s: &str) -> bool {
    let (host, port) = if s.starts_with('[') {
        match s.find(']') {
            Some(end) => {
                let host = &s[..=end];
                let after = &s[end + 1..];
                match after.strip_prefix(':') {
                    Some(p) => (host, Some(p)),
                    None if after.is_empty() => (host, None),
                    None => return false,
                }
            }
            None => return false,
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|c| c.is_ascii_digit())) {
        return false;
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !inner.is_empty() && inner.bytes().all(|c| c.is_ascii_hexdigit() || c == b':');
    }
    host.split('.').all(|c| {
        let b = c.as_bytes();
        !b.is_empty()
            && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
            && b.first().is_some_and(u8::is_ascii_alphanumeric)
            && b.last().is_some_and(u8::is_ascii_alphanumeric)
    })
}

/// `[\w][\w.-]{0,127}`
fn is_tag(s: &str) -> bool {
    let b = s.as_bytes();
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    !b.is_empty()
        && b.len() <= 128
        && b.first().is_some_and(word)
        && b.iter().all(|c| word(c) || *c == b'.' || *c == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
fn is_digest(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let component_ok = |c: &str| {
        let b = c.as_bytes();
        b.first().is_some_and(u8::is_ascii_alphabetic) && b.iter().all(u8::is_ascii_alphanumeric)
    };
    hex.len() >= 32
        && hex.bytes().all(|c| c.is_ascii_hexdigit())
        && alg.split(['-', '_', '+', '.']).all(component_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references() {
        for ok in [
            "busybox",
            "busybox:1.36",
            "library/busybox:latest",
            "docker.io/library/busybox:1.36",
            "localhost:5000/a/b:tag",
            "localhost:5000",
            "LOCALHOST:5000/x",
            "[::1]:5000/x:y",
            "registry.example.com/a_b/c__d/e-f/g--h.i:V1.0-rc_1",
            "busybox@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "busybox:1.36@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "a.b-c.d/x",
        ] {
            assert!(is_reference(ok), "{ok}");
        }
        for bad in [
            "",
            "Not_A/Valid:Image:Ref",
            "Busybox",
            "a b",
            "busybox:",
            ":tag",
            "a//b",
            "a/",
            "-a",
            "a-",
            "a___b",
            "busybox@sha256:abc",
            "busybox@@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "-host.com/a",
            "host:port/a",
            "busybox:-tag",
        ] {
            assert!(!is_reference(bad), "{bad}");
        }
    }
}
