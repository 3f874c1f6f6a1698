//! The client's errors: building it ([`ClientError`]) and its requests ([`ApiError`]), printed
//! the way kubectl prints them.

use std::fmt;

use serde_json::Value;

use crate::sys::report::Failure;

/// A `metav1.Status` as the server sends it with an error response.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub details_name: String,
    pub details_kind: String,
    /// (field, message) of each cause.
    pub causes: Vec<(String, String)>,
}

impl Status {
    /// Decodes a Status body. Anything that is not a Status still yields one, carrying the
    /// HTTP code and the body text, so no server answer is ever lost.
    pub fn decode(code: u16, body: &[u8]) -> Status {
        let text = String::from_utf8_lossy(body);
        let Ok(v) = serde_json::from_slice::<Value>(body) else {
            return Status {
                code,
                reason: reason_for(code).into(),
                message: generic_message(code, &text),
                ..Status::default()
            };
        };
        let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let details = v.get("details").cloned().unwrap_or(Value::Null);
        let causes = details
            .get("causes")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|c| (s(c, "field"), s(c, "message"))).collect())
            .unwrap_or_default();
        let mut st = Status {
            code: v
                .get("code")
                .and_then(Value::as_u64)
                .map_or(code, |c| c as u16),
            reason: s(&v, "reason"),
            message: s(&v, "message"),
            details_name: s(&details, "name"),
            details_kind: s(&details, "kind"),
            causes,
        };
        if st.reason.is_empty() && v.get("kind").and_then(Value::as_str) != Some("Status") {
            st.reason = reason_for(code).into();
            st.message = generic_message(code, &text);
        }
        st
    }
}

/// The message of an error answer that carries no Status.
fn generic_message(code: u16, text: &str) -> String {
    match (code, text.trim()) {
        // client-go's NewGenericServerResponse: a 401 without a Status (an authenticating
        // proxy in front of the server answers so) gets this fixed text, body or not.
        (401, _) => "the server has asked for the client to provide credentials".into(),
        (_, "") => format!("the server responded with status {code}"),
        (_, t) => format!(
            "the server responded with status {code}: {}",
            truncate(t, 200)
        ),
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.len() <= n {
        return s.to_string();
    }
    let mut end = n;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// The reason the API server would give for a bare HTTP code.
fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        409 => "Conflict",
        410 => "Expired",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "",
    }
}

#[derive(Debug)]
pub enum ApiError {
    /// The server answered with an error status.
    Status(Box<Status>),
    /// The connection was refused.
    Refused { host: String },
    /// An open connection broke: the server closed it without finishing the answer (a
    /// restarting API server, R11: no TLS close_notify), or it was reset.
    Dropped { host: String, loss: Loss },
    /// The server stayed away for the whole reconnect window (`--reconnect-window`).
    GaveUp {
        server: String,
        tried: std::time::Duration,
        last: Box<ApiError>,
    },
    /// Any other failure to reach the server or read its answer, with its source.
    Transport(Transport),
    /// The answer could not be understood.
    Decode { what: String, cause: String },
    /// The request timed out (`--request-timeout`).
    Timeout(String),
}

impl ApiError {
    pub fn status(&self) -> Option<&Status> {
        match self {
            ApiError::Status(s) => Some(s.as_ref()),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<u16> {
        self.status().map(|s| s.code)
    }

    pub fn is_not_found(&self) -> bool {
        self.code() == Some(404)
    }

    /// A failure that may pass by itself (no answer, or a server error), as opposed to the
    /// server's definitive no (a 4xx: forbidden, not found, bad request).
    pub fn may_pass(&self) -> bool {
        self.code().is_none_or(|c| c >= 500)
    }

    /// The server could not be reached or the connection broke: what a restart of the API
    /// server looks like from here (R11), worth trying again while a session is open.
    pub fn is_connection_loss(&self) -> bool {
        matches!(self, ApiError::Refused { .. } | ApiError::Dropped { .. })
    }
}

/// Why the server could not be reached, or its answer not read: each kind with its source,
/// worded as kubectl words it where kubectl has words for it.
#[derive(Debug)]
pub enum Transport {
    /// The server's certificate was not accepted (Go's x509 words).
    Tls(super::tls::TlsFailure),
    /// The server ended the TLS session with an alert.
    TlsAlert(rustls::AlertDescription),
    /// The proxy could not carry the connection.
    Proxy(super::dial::ProxyError),
    /// The proxy itself refused the TCP connection.
    ProxyRefused { proxy: String },
    /// The server's name resolves to no address.
    NoSuchHost { host: String },
    /// The connection, or the reading of an answer, failed in the operating system.
    Io {
        step: Step,
        host: String,
        kind: std::io::ErrorKind,
    },
    /// The credentials for the request could not be had.
    Credentials(Credentials),
    /// The answer to the attach upgrade was not a WebSocket's.
    Upgrade(Upgrade),
    /// A header that cannot be sent (a name, or the value of the named header).
    BadHeader { name: String, value: bool },
    /// The HTTP library's own failure, of a kind kdebug does not name.
    Http(ureq::ErrorKind),
}

/// What was being done when the operating system said no.
#[derive(Debug, Clone)]
pub enum Step {
    Connect,
    Upgrade,
    Read { method: String, path: String },
}

/// Why a request had no credentials.
#[derive(Debug)]
pub enum Credentials {
    TokenFile {
        path: std::path::PathBuf,
        cause: std::io::Error,
    },
    /// The exec plugin (or the OIDC refresh) failed, in its own words.
    Plugin(Box<dyn std::error::Error + Send + Sync>),
    /// The client certificate the plugin gave could not be used.
    PluginCertificate(super::tls::TlsConfigError),
}

/// How an answer to the upgrade fell short.
#[derive(Debug)]
pub enum Upgrade {
    Malformed,
    /// A header the handshake needs is missing or wrong (its description).
    Header(&'static str),
    /// The server chose a protocol we did not offer.
    Protocol {
        offered: String,
        got: String,
    },
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Tls(t) => write!(f, "{t}"),
            Transport::TlsAlert(a) => f.write_str(&super::tls::remote_alert(*a)),
            Transport::Proxy(p) => write!(f, "{p}"),
            Transport::ProxyRefused { proxy } => {
                write!(f, "proxy {proxy} refused the TCP connection: is it running?")
            }
            Transport::NoSuchHost { host } => write!(f, "dial tcp: lookup {host}: no such host"),
            Transport::Io { step, host, kind } => match step {
                Step::Connect => write!(f, "failed to connect to {host}: {kind}"),
                Step::Upgrade => write!(f, "failed to upgrade the attach connection: {kind}"),
                Step::Read { method, path } => write!(
                    f,
                    "failed to read the response to {method} {path} from {host}: {kind}"
                ),
            },
            Transport::Credentials(c) => match c {
                Credentials::TokenFile { path, cause } => {
                    write!(f, "failed to read token file {}: {cause}", path.display())
                }
                Credentials::Plugin(e) => write!(f, "getting credentials: {e}"),
                Credentials::PluginCertificate(e) => write!(f, "{e}"),
            },
            Transport::Upgrade(u) => match u {
                Upgrade::Malformed => {
                    f.write_str("failed to upgrade the attach connection: malformed HTTP response")
                }
                Upgrade::Header(what) => {
                    write!(f, "failed to upgrade the attach connection: {what}")
                }
                Upgrade::Protocol { offered, got } => write!(
                    f,
                    "the server chose no supported streaming protocol (offered {offered}, got {got:?})"
                ),
            },
            Transport::BadHeader { name, value: false } => write!(f, "invalid header name {name}"),
            Transport::BadHeader { name, value: true } => {
                write!(f, "invalid value for header {name}")
            }
            Transport::Http(kind) => write!(f, "{kind}"),
        }
    }
}

/// How an open connection broke, in kdebug's words (never the TLS library's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// The peer closed it before the answer or the session ended (TLS: no close_notify).
    Closed,
    /// Reset, aborted, or a write into a closed connection.
    Reset,
}

impl Loss {
    /// The loss an I/O error stands for, if it is one.
    pub fn of(e: &std::io::Error) -> Option<Loss> {
        use std::io::ErrorKind as K;
        match e.kind() {
            K::UnexpectedEof => Some(Loss::Closed),
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::NotConnected => {
                Some(Loss::Reset)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Loss::Closed => "the server closed the connection",
            Loss::Reset => "the connection was reset",
        })
    }
}

impl Status {
    fn unauthorized(&self) -> bool {
        self.code == 401 || self.reason == "Unauthorized"
    }
}

/// kubectl's StandardErrorMessage words a 401 with its own `error: ` prefix and a failed
/// decode goes through CheckErr's default; a server status or a connection failure is
/// printed as it is.
impl Failure for ApiError {
    fn prefixed(&self) -> bool {
        match self {
            ApiError::Status(s) => s.unauthorized(),
            ApiError::Decode { .. } | ApiError::GaveUp { .. } => true,
            ApiError::Refused { .. }
            | ApiError::Dropped { .. }
            | ApiError::Transport(_)
            | ApiError::Timeout(_) => false,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Status(s) if s.unauthorized() => {
                let msg = if s.message.is_empty() { "Unauthorized" } else { &s.message };
                write!(f, "You must be logged in to the server ({msg})")
            }
            // kubectl spells out validation failures field by field.
            ApiError::Status(s) if s.reason == "Invalid" && !s.details_kind.is_empty() => {
                let head = format!("The {} {:?} is invalid", s.details_kind, s.details_name);
                match s.causes.as_slice() {
                    [] => write!(f, "{head}"),
                    [(field, msg)] => write!(f, "{head}: {}", cause(field, msg)),
                    many => {
                        write!(f, "{head}: ")?;
                        for (field, msg) in many {
                            write!(f, "\n* {}", cause(field, msg))?;
                        }
                        Ok(())
                    }
                }
            }
            ApiError::Status(s) if s.reason.is_empty() => write!(f, "Error from server: {}", s.message),
            ApiError::Status(s) => write!(f, "Error from server ({}): {}", s.reason, s.message),
            ApiError::Refused { host } => write!(
                f,
                "The connection to the server {host} was refused - did you specify the right host or port?"
            ),
            ApiError::Dropped { host, loss } => {
                write!(f, "Unable to connect to the server {host}: {loss}")
            }
            ApiError::GaveUp {
                server,
                tried,
                last,
            } => write!(
                f,
                "lost the API server at {server}: kdebug tried to reconnect for {} (--reconnect-window) and it did not come back; last: {last}",
                // Whole seconds: the window it stands for, not the scheduler's jitter.
                crate::text::duration::format_go(std::time::Duration::from_secs(
                    tried.as_secs_f64().round() as u64
                )),
            ),
            ApiError::Transport(t) => write!(f, "Unable to connect to the server: {t}"),
            ApiError::Decode { what, cause } => write!(f, "failed to decode {what}: {cause}"),
            ApiError::Timeout(msg) => write!(f, "Unable to connect to the server: {msg}"),
        }
    }
}

/// Why no client could be built from a resolved configuration (before any request).
#[derive(Debug)]
pub enum ClientError {
    /// The server URL has no `https://` or `http://` scheme.
    InvalidServer(String),
    /// The proxy (`proxy-url` or the environment) could not be parsed or used; the message
    /// names the URL.
    Proxy(super::proxy::ProxyUrlError),
    /// A proxy was chosen for a plain `http://` server: only https is tunnelled.
    ProxyForPlainHttp(String),
    /// The TLS settings (CA, client certificate and key) could not be used.
    Tls(super::tls::TlsConfigError),
    /// `auth-provider: gcp` or `azure`, removed from kubectl; `instead` names the credential
    /// plugin to use.
    RemovedAuthProvider {
        name: &'static str,
        instead: &'static str,
    },
    /// An `auth-provider` kubectl never had.
    UnknownAuthProvider(String),
    /// The `oidc` auth provider's settings could not be used.
    Oidc(super::oidc::OidcError),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::InvalidServer(url) => write!(
                f,
                "invalid server URL {url:?}: it must start with https:// or http://"
            ),
            ClientError::ProxyForPlainHttp(server) => write!(
                f,
                "proxy for {server}: kdebug tunnels only https servers through a proxy"
            ),
            ClientError::Proxy(e) => write!(f, "{e}"),
            ClientError::Tls(e) => write!(f, "{e}"),
            ClientError::Oidc(e) => write!(f, "{e}"),
            ClientError::RemovedAuthProvider { name, instead } => write!(
                f,
                "The {name} auth plugin has been removed.\nPlease use the {instead} kubectl/client-go credential plugin instead."
            ),
            ClientError::UnknownAuthProvider(name) => {
                write!(f, "no Auth Provider found for name {name:?}")
            }
        }
    }
}

/// All of them come before any request: kubectl prints such errors after `error: `.
impl Failure for ClientError {}

impl std::error::Error for ClientError {}

fn cause(field: &str, msg: &str) -> String {
    if field.is_empty() {
        msg.to_string()
    } else {
        format!("{field}: {msg}")
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(body: &str, code: u16) -> String {
        crate::sys::report::error_text(&ApiError::Status(Box::new(Status::decode(
            code,
            body.as_bytes(),
        ))))
    }

    #[test]
    fn not_found_like_kubectl() {
        let body = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pods \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"pods"},"code":404}"#;
        assert_eq!(
            err(body, 404),
            r#"Error from server (NotFound): pods "x" not found"#
        );
    }

    #[test]
    fn invalid_lists_causes() {
        let body = r#"{"kind":"Status","status":"Failure","message":"x","reason":"Invalid","details":{"name":"web","kind":"Pod","causes":[{"reason":"FieldValueDuplicate","message":"Duplicate value: \"app\"","field":"spec.ephemeralContainers[0].name"}]},"code":422}"#;
        assert_eq!(
            err(body, 422),
            r#"The Pod "web" is invalid: spec.ephemeralContainers[0].name: Duplicate value: "app""#
        );
    }

    #[test]
    fn unauthorized_and_garbage() {
        assert_eq!(
            err(
                r#"{"kind":"Status","reason":"Unauthorized","message":"Unauthorized","code":401}"#,
                401
            ),
            "error: You must be logged in to the server (Unauthorized)"
        );
        for body in [
            "",
            "Unauthorized\n",
            "<html>401 Authorization Required</html>",
        ] {
            assert_eq!(
                err(body, 401),
                "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
            );
        }
        assert_eq!(
            err("<html>oops</html>", 500),
            "Error from server (InternalError): the server responded with status 500: <html>oops</html>"
        );
    }
}
