//! What a failed request means, in kdebug's words: each transport failure classified from
//! its source (TLS, proxy, refused, dropped, timed out), never a library's text.

use std::io;

use super::error::{Step, Transport};
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
        ApiError::Transport(Transport::Io {
            step: Step::Read {
                method: method.into(),
                path: path.into(),
            },
            host: self.base.clone(),
            kind: e.kind(),
        })
    }

    pub(super) fn transport_error(&self, t: ureq::Transport, method: &str, path: &str) -> ApiError {
        let host = proxy::host_port_of(&self.base);
        let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(&t);
        let mut io_kind = None;
        while let Some(s) = source {
            if let Some(tls) = s.downcast_ref::<tls::TlsFailure>() {
                return ApiError::Transport(Transport::Tls(tls.clone()));
            }
            if let Some(io) = s.downcast_ref::<io::Error>() {
                io_kind.get_or_insert(io.kind());
                if let Some(p) = dial::proxy_failure(io) {
                    return ApiError::Transport(Transport::Proxy(p));
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
                        return ApiError::Transport(Transport::Tls(tls.clone()));
                    }
                    // An alert after the handshake: TLS 1.3 servers reject a client
                    // certificate on the first read.
                    if let Some(rustls::Error::AlertReceived(a)) =
                        inner.downcast_ref::<rustls::Error>()
                    {
                        return ApiError::Transport(Transport::TlsAlert(*a));
                    }
                }
            }
            source = s.source();
        }
        match t.kind() {
            ureq::ErrorKind::Dns => ApiError::Transport(Transport::NoSuchHost {
                host: proxy::host_of(&self.base),
            }),
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
            kind => ApiError::Transport(match (kind, io_kind) {
                (ureq::ErrorKind::ConnectionFailed, Some(kind)) => Transport::Io {
                    step: Step::Connect,
                    host,
                    kind,
                },
                (_, Some(kind)) => Transport::Io {
                    step: Step::Read {
                        method: method.into(),
                        path: path.into(),
                    },
                    host: self.base.clone(),
                    kind,
                },
                (kind, None) => Transport::Http(kind),
            }),
        }
    }

    /// A refused TCP connection: with a proxy it is the proxy that refused.
    pub(super) fn refused(&self, host: String) -> ApiError {
        match &self.proxy {
            Some(p) => ApiError::Transport(Transport::ProxyRefused {
                proxy: p.url.clone(),
            }),
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
