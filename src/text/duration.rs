//! Go-style durations (`1h30m`, `5m`, `30s`, `250ms`) as kubectl's flags take them.

use std::time::Duration;

/// Parses a Go duration string. A bare `0` is zero; other bare numbers are refused (callers
/// that accept bare seconds, like `--request-timeout`, handle them first).
pub fn parse_go(s: &str) -> Option<Duration> {
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total += n * scale;
    }
    Duration::try_from_secs_f64(total).ok()
}

/// `--request-timeout`: a bare integer means seconds, otherwise a Go duration.
pub fn parse_request_timeout(s: &str) -> Option<Duration> {
    if let Ok(n) = s.parse::<u64>() {
        return Some(Duration::from_secs(n));
    }
    parse_go(s)
}

/// Formats a duration the way Go prints it in a `timeout=` query (`5m6s`, `32s`, `1h0m0s`).
pub fn format_go(d: Duration) -> String {
    let total = d.as_secs();
    let ms = d.subsec_millis();
    if total == 0 && ms > 0 {
        return format!("{ms}ms");
    }
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60);
    let sec = if ms > 0 {
        format!("{s}.{ms:03}").trim_end_matches('0').to_string()
    } else {
        s.to_string()
    };
    if h > 0 {
        format!("{h}h{m}m{sec}s")
    } else if m > 0 {
        format!("{m}m{sec}s")
    } else {
        format!("{sec}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse_go("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_go("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go("0"), Some(Duration::ZERO));
        assert_eq!(parse_go("5"), None);
        assert_eq!(parse_go("5x"), None);
        assert_eq!(parse_go(""), None);
        assert_eq!(parse_go("m"), None);
    }

    #[test]
    fn request_timeout_takes_bare_seconds() {
        assert_eq!(parse_request_timeout("7"), Some(Duration::from_secs(7)));
        assert_eq!(parse_request_timeout("1m"), Some(Duration::from_secs(60)));
        assert_eq!(parse_request_timeout("soon"), None);
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go(Duration::from_secs(306)), "5m6s");
        assert_eq!(format_go(Duration::from_secs(32)), "32s");
        assert_eq!(format_go(Duration::from_secs(3600)), "1h0m0s");
        assert_eq!(format_go(Duration::from_millis(1500)), "1.5s");
    }
}
