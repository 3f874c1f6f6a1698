//! What a failed request means, in kdebug's words: each transport failure classified from
//! its source (TLS, proxy, refused, dropped, timed out), never a library's text.

use std::io;

use super::{dial, proxy, tls, ApiError, Client, Loss};

impl Client {
    pub(super) fn io_error(&self, e: io::Error, method: &str, path: &str) -> ApiError {
        if matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ) {
            return ApiError::Timeout(format!(
                "the server did not send the whole response to {method} {path}{}",
                self.request_timeout
                    .map(|d| format!(
                        " within {} (--request-timeout)",
                        crate::text::duration::format_go(d)
                    ))
                    .unwrap_or_else(|| " in time".into())
            ));
        }
        if let Some(loss) = Loss::of(&e) {
            return ApiError::Dropped {
                host: proxy::host_port_of(&self.base),
                loss,
            };
        }
        ApiError::Transport(format!(
            "failed to read the response to {method} {path} from {}: {}",
            self.base,
            e.kind()
        ))
    }

    pub(super) fn transport_error(&self, t: ureq::Transport, method: &str, path: &str) -> ApiError {
        let host = proxy::host_port_of(&self.base);
        let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&t);
        while let Some(s) = source {
            if let Some(tls) = s.downcast_ref::<tls::TlsFailure>() {
                return ApiError::Transport(tls.to_string());
            }
            if let Some(io) = s.downcast_ref::<io::Error>() {
                if let Some(msg) = dial::proxy_failure(io) {
                    return ApiError::Transport(msg);
                }
                if io.kind() == io::ErrorKind::ConnectionRefused {
                    return self.refused(host);
                }
                if let Some(loss) = Loss::of(io) {
                    return ApiError::Dropped { host, loss };
                }
                if matches!(
                    io.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) {
                    return ApiError::Timeout(format!(
                        "{method} {}{path} timed out{}",
                        self.base,
                        self.request_timeout
                            .map(|d| format!(
                                " after {} (--request-timeout)",
                                crate::text::duration::format_go(d)
                            ))
                            .unwrap_or_default()
                    ));
                }
                if let Some(inner) = io.get_ref() {
                    if let Some(tls) = inner.downcast_ref::<tls::TlsFailure>() {
                        return ApiError::Transport(tls.to_string());
                    }
                    // An alert after the handshake: TLS 1.3 servers reject a client
                    // certificate on the first read.
                    if let Some(rustls::Error::AlertReceived(a)) =
                        inner.downcast_ref::<rustls::Error>()
                    {
                        return ApiError::Transport(tls::remote_alert(*a));
                    }
                }
            }
            source = s.source();
        }
        match t.kind() {
            ureq::ErrorKind::Dns => ApiError::Transport(format!(
                "dial tcp: lookup {}: no such host",
                proxy::host_of(&self.base)
            )),
            ureq::ErrorKind::ConnectionFailed if t.to_string().contains("refused") => {
                self.refused(host)
            }
            // ureq's own word for a connection that closed before the status line.
            ureq::ErrorKind::Io | ureq::ErrorKind::BadStatus
                if t.to_string().contains("closed") || t.to_string().contains("EOF") =>
            {
                ApiError::Dropped {
                    host,
                    loss: Loss::Closed,
                }
            }
            _ => {
                let msg = t.to_string();
                ApiError::Transport(match std::error::Error::source(&t) {
                    Some(s) if !msg.contains(&s.to_string()) => format!("{msg}: {s}"),
                    _ => msg,
                })
            }
        }
    }

    /// A refused TCP connection: with a proxy it is the proxy that refused.
    pub(super) fn refused(&self, host: String) -> ApiError {
        match &self.proxy {
            Some(p) => ApiError::Transport(dial::unreachable(p)),
            None => ApiError::Refused { host },
        }
    }
}

/// A lost connection in a few words, for the "reconnecting" line.
pub(super) fn loss_words(e: &ApiError) -> String {
    match e {
        ApiError::Refused { .. } => "connection refused".into(),
        ApiError::Dropped { loss, .. } => loss.to_string(),
        other => other.to_string(),
    }
}
