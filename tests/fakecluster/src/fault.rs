//! Fault injection: switchable misbehaviour for the next matching requests.

/// A fault to inject. Counted faults apply to the next `requests` matching requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Extra latency before every response from now on.
    Latency { ms: u64 },
    /// The next watch ends (cleanly, end of the chunked body) after `events` events.
    DropWatchAfter { events: usize },
    /// The next PATCH answers 409 Conflict.
    ConflictOnNextPatch,
    /// The next watch answers with an ERROR event, 410 Expired ("too old resource version").
    GoneOnNextWatch,
    /// The next watch answers HTTP 410 Gone with a Status body.
    GoneHttpOnNextWatch,
    /// 429 TooManyRequests with `Retry-After` for the next `requests` requests.
    TooManyRequests {
        requests: usize,
        retry_after_secs: u64,
    },
    /// 503 ServiceUnavailable with `Retry-After` for the next `requests` requests.
    Unavailable {
        requests: usize,
        retry_after_secs: u64,
    },
    /// 500 InternalError for the next `requests` requests.
    InternalError { requests: usize },
    /// The next `requests` response bodies are written in small pieces with `delay_ms` pauses.
    SlowBody { requests: usize, delay_ms: u64 },
    /// The next `requests` responses carry garbage bytes instead of JSON (status 200).
    Garbage { requests: usize },
    /// The next attach WebSocket is closed (no status, no close frame) after sending `frames`
    /// data frames (the initial empty frame included).
    CloseWebSocketAfter { frames: usize },
    /// The next upgrade request is read and never answered.
    UpgradeNeverAnswers,
    /// The next upgrade request is refused (400 Bad Request, no upgrade).
    RefuseUpgrade,
    /// 404 "the server could not find the requested resource" (empty details, as for a URL the
    /// server does not serve) for the next `requests` requests: with `@ephemeralcontainers`,
    /// a cluster whose EphemeralContainers feature is off.
    NoSuchResource { requests: usize },
}

impl Fault {
    /// Parse the CLI syntax: `latency:MS`, `drop-watch:N`, `conflict`, `gone`, `gone-http`,
    /// `429:K[:RETRY]`, `503:K[:RETRY]`, `500:K`, `slow-body:K:MS`, `garbage:K`, `ws-close:N`,
    /// `upgrade-hang`, `upgrade-refuse`, `404:K`. Returns the fault and an optional `@path-substring`.
    pub fn parse(spec: &str) -> Result<(Fault, Option<String>), String> {
        let (spec, filter) = match spec.split_once('@') {
            Some((s, f)) => (s, Some(f.to_string())),
            None => (spec, None),
        };
        let parts: Vec<&str> = spec.split(':').collect();
        let n = |i: usize, default: u64| -> Result<u64, String> {
            match parts.get(i) {
                Some(s) => s
                    .parse()
                    .map_err(|_| format!("bad number {s:?} in fault {spec:?}")),
                None => Ok(default),
            }
        };
        let f = match parts[0] {
            "latency" => Fault::Latency { ms: n(1, 100)? },
            "drop-watch" => Fault::DropWatchAfter {
                events: n(1, 1)? as usize,
            },
            "conflict" => Fault::ConflictOnNextPatch,
            "gone" => Fault::GoneOnNextWatch,
            "gone-http" => Fault::GoneHttpOnNextWatch,
            "429" => Fault::TooManyRequests {
                requests: n(1, 1)? as usize,
                retry_after_secs: n(2, 1)?,
            },
            "503" => Fault::Unavailable {
                requests: n(1, 1)? as usize,
                retry_after_secs: n(2, 1)?,
            },
            "500" => Fault::InternalError {
                requests: n(1, 1)? as usize,
            },
            "slow-body" => Fault::SlowBody {
                requests: n(1, 1)? as usize,
                delay_ms: n(2, 200)?,
            },
            "garbage" => Fault::Garbage {
                requests: n(1, 1)? as usize,
            },
            "ws-close" => Fault::CloseWebSocketAfter {
                frames: n(1, 1)? as usize,
            },
            "upgrade-hang" => Fault::UpgradeNeverAnswers,
            "upgrade-refuse" => Fault::RefuseUpgrade,
            "404" => Fault::NoSuchResource {
                requests: n(1, 1)? as usize,
            },
            other => return Err(format!("unknown fault {other:?}")),
        };
        Ok((f, filter))
    }
}

#[derive(Debug, Clone)]
struct Pending {
    fault: Fault,
    filter: Option<String>,
    remaining: usize,
}

/// What a request must suffer, decided when it arrives.
#[derive(Debug, Default, Clone)]
pub struct Decision {
    pub status: Option<(u16, u64)>,
    pub slow_ms: Option<u64>,
    pub garbage: bool,
    /// Answer 404 for a resource the server does not serve.
    pub no_such_resource: bool,
}

#[derive(Debug, Default)]
pub struct Faults {
    pub latency_ms: u64,
    pending: Vec<Pending>,
}

impl Faults {
    pub fn add(&mut self, fault: Fault, filter: Option<String>) {
        let remaining = match &fault {
            Fault::Latency { ms } => {
                self.latency_ms = *ms;
                return;
            }
            Fault::TooManyRequests { requests, .. }
            | Fault::Unavailable { requests, .. }
            | Fault::InternalError { requests }
            | Fault::SlowBody { requests, .. }
            | Fault::Garbage { requests }
            | Fault::NoSuchResource { requests } => *requests,
            _ => 1,
        };
        self.pending.push(Pending {
            fault,
            filter,
            remaining,
        });
    }

    pub fn clear(&mut self) {
        self.pending.clear();
        self.latency_ms = 0;
    }

    /// Take one use of the first pending fault accepted by `want` that matches `target`.
    pub fn take(&mut self, target: &str, want: impl Fn(&Fault) -> bool) -> Option<Fault> {
        let idx = self.pending.iter().position(|p| {
            want(&p.fault)
                && p.filter
                    .as_ref()
                    .map(|f| target.contains(f.as_str()))
                    .unwrap_or(true)
        })?;
        let p = &mut self.pending[idx];
        let f = p.fault.clone();
        p.remaining = p.remaining.saturating_sub(1);
        if p.remaining == 0 {
            self.pending.remove(idx);
        }
        Some(f)
    }

    /// Decide the generic (any request) faults for one request.
    pub fn decide(&mut self, target: &str) -> Decision {
        let mut d = Decision::default();
        if let Some(f) = self.take(target, |f| {
            matches!(
                f,
                Fault::TooManyRequests { .. }
                    | Fault::Unavailable { .. }
                    | Fault::InternalError { .. }
            )
        }) {
            d.status = Some(match f {
                Fault::TooManyRequests {
                    retry_after_secs, ..
                } => (429, retry_after_secs),
                Fault::Unavailable {
                    retry_after_secs, ..
                } => (503, retry_after_secs),
                _ => (500, 0),
            });
        }
        if let Some(Fault::SlowBody { delay_ms, .. }) =
            self.take(target, |f| matches!(f, Fault::SlowBody { .. }))
        {
            d.slow_ms = Some(delay_ms);
        }
        if self
            .take(target, |f| matches!(f, Fault::Garbage { .. }))
            .is_some()
        {
            d.garbage = true;
        }
        if self
            .take(target, |f| matches!(f, Fault::NoSuchResource { .. }))
            .is_some()
        {
            d.no_such_resource = true;
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_count() {
        let (f, filt) = Fault::parse("429:2:3@/pods").unwrap();
        assert_eq!(
            f,
            Fault::TooManyRequests {
                requests: 2,
                retry_after_secs: 3
            }
        );
        let mut fs = Faults::default();
        fs.add(f, filt);
        assert!(fs.decide("/version").status.is_none());
        assert_eq!(fs.decide("/api/v1/pods").status, Some((429, 3)));
        assert_eq!(fs.decide("/api/v1/pods").status, Some((429, 3)));
        assert!(fs.decide("/api/v1/pods").status.is_none());
        assert!(Fault::parse("nope").is_err());
        let (f, filt) = Fault::parse("404@ephemeralcontainers").unwrap();
        assert_eq!(f, Fault::NoSuchResource { requests: 1 });
        fs.add(f, filt);
        assert!(!fs.decide("/api/v1/namespaces/d/pods/p").no_such_resource);
        assert!(
            fs.decide("/api/v1/namespaces/d/pods/p/ephemeralcontainers")
                .no_such_resource
        );
        assert!(
            !fs.decide("/api/v1/namespaces/d/pods/p/ephemeralcontainers")
                .no_such_resource
        );
    }
}
