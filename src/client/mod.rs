//! One synchronous REST client for the API server: TLS, credentials, impersonation, timeouts,
//! proxies, bounded retries on 429/503, kubectl-style errors and `-v` tracing with secrets
//! redacted. Blocking I/O on purpose: kdebug needs a handful of requests and a few streams,
//! and threads are simpler and smaller than an async runtime.

mod auth;
mod classify;
pub mod credentials;
pub mod dial;
pub mod error;
mod for_kube;
pub mod oidc;
pub mod proxy;
pub mod reconnect;
pub mod socks;
pub mod tls;
mod verify;
pub mod ws;

use std::io::Read;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::Value;

pub use auth::{Auth, Impersonation, PluginCredential, PluginRunner};
use classify::loss_words;
pub use error::{ApiError, ClientError, Loss, Status};

/// Everything the client needs, already resolved from kubeconfig, flags or in-cluster files.
pub struct Settings {
    pub server: String,
    pub tls: tls::TlsSettings,
    pub auth: Auth,
    pub impersonate: Impersonation,
    pub proxy_url: Option<String>,
    pub request_timeout: Option<Duration>,
    pub verbosity: u8,
}

pub struct Client {
    agent: ureq::Agent,
    base: String,
    https: bool,
    connector: Arc<tls::Connector>,
    tls_settings: tls::TlsSettings,
    auth: Auth,
    impersonate: Impersonation,
    proxy: Option<proxy::Proxy>,
    request_timeout: Option<Duration>,
    verbosity: u8,
    reconnect: reconnect::Reconnect,
}

/// One request as it is sent.
#[derive(Clone, Copy)]
struct Call<'a> {
    method: &'a str,
    path: &'a str,
    query: &'a [(&'a str, &'a str)],
    content_type: Option<&'a str>,
    body: Option<&'a [u8]>,
    /// A streaming GET (watch, log follow): no `timeout` sent for a watch.
    stream: bool,
    /// Bounds the whole exchange, body included.
    limit: Option<Duration>,
}

pub fn user_agent() -> String {
    format!("kdebug/v{} (linux/amd64)", env!("CARGO_PKG_VERSION"))
}

/// How often 429/503 with Retry-After are retried, and the longest wait honoured.
const MAX_RETRIES: u32 = 5;
const MAX_RETRY_WAIT: Duration = Duration::from_secs(10);

impl Client {
    pub fn new(s: Settings) -> Result<Client, ClientError> {
        let base = s.server.trim_end_matches('/').to_string();
        let https = base.starts_with("https://");
        if !https && !base.starts_with("http://") {
            return Err(ClientError::InvalidServer(base));
        }
        let mut tls_settings = s.tls;
        // client-go attaches credentials only to https servers; a client certificate is a
        // credential too.
        if !https {
            tls_settings.client_cert_pem = None;
            tls_settings.client_key_pem = None;
        }
        let host = proxy::host_of(&base);
        let proxy =
            proxy::choose(s.proxy_url.as_deref(), &base, &host).map_err(ClientError::Proxy)?;
        if proxy.is_some() && !https {
            return Err(ClientError::ProxyForPlainHttp(base));
        }
        let connector = Arc::new(tls::Connector {
            config: RwLock::new(tls::client_config(&tls_settings).map_err(ClientError::Tls)?),
            server_name: tls_settings.server_name.clone(),
            tunnel: proxy
                .as_ref()
                .map(|p| (p.clone(), proxy::host_port_of(&base))),
        });
        let builder = ureq::AgentBuilder::new()
            .tls_connector(connector.clone())
            .user_agent(&user_agent())
            .resolver(proxy::Resolver {
                proxy: proxy.clone(),
            })
            .timeout_connect(Duration::from_secs(30))
            .max_idle_connections_per_host(16)
            .redirects(0);
        Ok(Client {
            agent: builder.build(),
            base,
            https,
            connector,
            tls_settings,
            auth: if https { s.auth } else { Auth::None },
            impersonate: s.impersonate,
            proxy,
            request_timeout: s.request_timeout.filter(|d| !d.is_zero()),
            verbosity: s.verbosity,
            reconnect: reconnect::Reconnect::default(),
        })
    }

    /// How this client rides out a lost API server (see [`reconnect`]).
    pub fn reconnect(&self) -> &reconnect::Reconnect {
        &self.reconnect
    }

    /// Runs `attempt` until it succeeds or fails otherwise than by a lost connection; while a
    /// session is open a lost connection is tried again with backoff for the reconnect
    /// window (`resend`: whether a request that may have reached the server can be sent
    /// again; a refused connection never reached it).
    fn riding_out<T>(
        &self,
        resend: bool,
        mut attempt: impl FnMut() -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut tries = 0;
        loop {
            match attempt() {
                // Once a signal is ending the run (Ctrl-C), its cleanup tries once.
                Err(e)
                    if e.is_connection_loss()
                        && self.reconnect.retrying()
                        && !crate::sys::signals::exiting()
                        && (resend || matches!(e, ApiError::Refused { .. })) =>
                {
                    tries += 1;
                    match self.reconnect.lost(&self.base, &loss_words(&e), tries) {
                        Ok(wait) => std::thread::sleep(wait),
                        Err(tried) => {
                            return Err(ApiError::GaveUp {
                                server: self.base.clone(),
                                tried,
                                last: Box::new(e),
                            })
                        }
                    }
                }
                Err(e) if e.is_connection_loss() => return Err(e),
                other => {
                    if tries > 0 {
                        self.reconnect.back(&self.base);
                    }
                    return other;
                }
            }
        }
    }

    pub fn server(&self) -> &str {
        &self.base
    }

    pub fn verbosity(&self) -> u8 {
        self.verbosity
    }

    pub fn get(&self, path: &str) -> Result<Value, ApiError> {
        self.json("GET", path, &[], None, None)
    }

    pub fn get_query(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ApiError> {
        self.json("GET", path, query, None, None)
    }

    /// A GET decoded straight into `T`: fields `T` does not name are skipped while decoding,
    /// so a page of 500 pods costs its bytes, not a tree of every field (fan-out's list).
    pub fn get_as<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let buf = self.riding_out(true, || {
            let resp = self.send_once("GET", path, query, None, None)?;
            self.read_body("GET", path, resp)
        })?;
        serde_json::from_slice(&buf).map_err(|e| decode_error("GET", path, e))
    }

    pub fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.json("POST", path, &[], Some("application/json"), Some(body))
    }

    pub fn patch(&self, path: &str, content_type: &str, body: &Value) -> Result<Value, ApiError> {
        self.json("PATCH", path, &[], Some(content_type), Some(body))
    }

    /// PATCH with a body serialised by the caller (kubectl's exact bytes).
    pub fn patch_raw(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Value, ApiError> {
        // The same patch again is a no-op on the server (R1), so it may be resent.
        self.riding_out(true, || {
            let resp = self.send_once("PATCH", path, &[], Some(content_type), Some(body))?;
            self.read_json("PATCH", path, resp)
        })
    }

    pub fn delete(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        self.json("DELETE", path, &[], Some("application/json"), Some(body))
    }

    /// A streaming GET (watch, log follow): the body is handed over as it arrives. `limit`
    /// bounds the whole exchange, body included, so a stream that goes silent cannot hang us.
    pub fn stream(
        &self,
        path: &str,
        query: &[(&str, &str)],
        limit: Option<Duration>,
    ) -> Result<Box<dyn Read + Send + Sync>, ApiError> {
        let resp = self.riding_out(true, || {
            self.send_with(&Call {
                method: "GET",
                path,
                query,
                content_type: None,
                body: None,
                stream: true,
                limit,
            })
        })?;
        Ok(resp.into_reader())
    }

    fn json(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        content_type: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
        self.riding_out(method != "POST", || {
            let resp = self.send_once(method, path, query, content_type, bytes.as_deref())?;
            self.read_json(method, path, resp)
        })
    }

    fn read_json(&self, method: &str, path: &str, resp: ureq::Response) -> Result<Value, ApiError> {
        let buf = self.read_body(method, path, resp)?;
        serde_json::from_slice(&buf).map_err(|e| decode_error(method, path, e))
    }

    fn read_body(
        &self,
        method: &str,
        path: &str,
        resp: ureq::Response,
    ) -> Result<Vec<u8>, ApiError> {
        let mut buf = Vec::new();
        resp.into_reader()
            .take(256 << 20)
            .read_to_end(&mut buf)
            .map_err(|e| self.io_error(e, method, path))?;
        if self.verbosity >= 8 {
            crate::sys::output::trace(&format!(
                "I0000 request.go] Response Body: {}",
                String::from_utf8_lossy(&buf)
            ));
        }
        Ok(buf)
    }

    fn url(&self, path: &str, query: &[(&str, &str)], stream: bool) -> String {
        let mut url = format!("{}{}", self.base, path);
        let mut pairs: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        // kubectl sends --request-timeout to the server as well.
        if let (Some(t), false) = (
            self.request_timeout,
            stream && query.iter().any(|(k, _)| *k == "watch"),
        ) {
            pairs.push(("timeout".into(), crate::text::duration::format_go(t)));
        }
        // By key only, as Go's url.Values.Encode: a repeated key (exec's `command`) keeps
        // its values in order.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        for (i, (k, v)) in pairs.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&encode(k));
            url.push('=');
            url.push_str(&encode(v));
        }
        url
    }

    /// A request with the client's `--request-timeout` (see [`Client::send_with`]).
    fn send_once(
        &self,
        method: &str,
        path: &str,
        query: &[(&str, &str)],
        content_type: Option<&str>,
        body: Option<&[u8]>,
    ) -> Result<ureq::Response, ApiError> {
        self.send_with(&Call {
            method,
            path,
            query,
            content_type,
            body,
            stream: false,
            limit: self.request_timeout,
        })
    }

    /// Sends one request with credentials, retrying 429/503 answers that carry Retry-After
    /// (bounded) and re-running an exec plugin once after a 401.
    fn send_with(&self, call: &Call) -> Result<ureq::Response, ApiError> {
        let Call {
            method,
            path,
            query,
            content_type,
            body,
            stream,
            limit,
        } = *call;
        let url = self.url(path, query, stream);
        let mut refreshed = false;
        let mut attempt = 0;
        let first = Instant::now();
        loop {
            attempt += 1;
            let mut req = self
                .agent
                .request(method, &url)
                .set("Accept", "application/json, */*");
            if let Some(t) = limit {
                req = req.timeout(t);
            }
            if let Some(ct) = content_type {
                req = req.set("Content-Type", ct);
            }
            for (k, v) in self.auth_headers(refreshed && attempt > 1)? {
                req = req.set(&k, &v);
            }
            let mut seen: Vec<String> = Vec::new();
            for (k, v) in self.impersonation_headers() {
                let nth = seen.iter().filter(|s| s.eq_ignore_ascii_case(&k)).count();
                seen.push(k.clone());
                req = req.set(&nth_spelling(&k, nth), &v);
            }
            if self.verbosity >= 8 {
                if let Some(b) = body {
                    crate::sys::output::trace(&format!(
                        "I0000 request.go] Request Body: {}",
                        String::from_utf8_lossy(b)
                    ));
                }
            }
            let started = Instant::now();
            let result = match body {
                Some(b) => req.send_bytes(b),
                None => req.call(),
            };
            let status = match &result {
                Ok(r) => r.status(),
                Err(ureq::Error::Status(code, _)) => *code,
                Err(_) => 0,
            };
            if self.verbosity >= 6 {
                crate::sys::output::trace(&format!(
                    "I0000 round_trippers.go] {method} {url} {} in {} milliseconds",
                    if status == 0 {
                        "(no response)".to_string()
                    } else {
                        format!("{status} {}", status_text(status))
                    },
                    started.elapsed().as_millis()
                ));
            }
            match result {
                Ok(resp) => return Ok(resp),
                Err(ureq::Error::Status(code, resp)) => {
                    let retry_after = resp
                        .header("Retry-After")
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let mut buf = Vec::new();
                    let _ = resp.into_reader().take(1 << 20).read_to_end(&mut buf);
                    if self.verbosity >= 8 {
                        crate::sys::output::trace(&format!(
                            "I0000 request.go] Response Body: {}",
                            String::from_utf8_lossy(&buf)
                        ));
                    }
                    if code == 401 && !refreshed && matches!(self.auth, Auth::Exec { .. }) {
                        refreshed = true;
                        self.forget_plugin_credential();
                        continue;
                    }
                    // client-go: 429 and any 5xx that carries Retry-After are retried, within
                    // the request's own timeout.
                    if let (429 | 500..=599, Some(secs)) = (code, retry_after) {
                        let wait = Duration::from_secs(secs).min(MAX_RETRY_WAIT);
                        let in_time = limit.is_none_or(|l| first.elapsed() + wait < l);
                        if attempt <= MAX_RETRIES && in_time {
                            std::thread::sleep(wait);
                            continue;
                        }
                    }
                    return Err(ApiError::Status(Box::new(Status::decode(code, &buf))));
                }
                Err(ureq::Error::Transport(t)) => return Err(self.transport_error(t, method, path)),
            }
        }
    }

    /// Opens a WebSocket to `path` (attach), offering `protocols` in one header.
    pub fn websocket(
        &self,
        path: &str,
        query: &[(&str, &str)],
        protocols: &[&str],
    ) -> Result<ws::Socket, ApiError> {
        let url = self.url(path, query, true);
        self.riding_out(true, || {
            let mut headers = self.auth_headers(false)?;
            headers.extend(self.impersonation_headers());
            ws::connect(self, &url, protocols, headers)
        })
    }

    pub(crate) fn connector(&self) -> &Arc<tls::Connector> {
        &self.connector
    }

    pub(crate) fn is_https(&self) -> bool {
        self.https
    }

    pub(crate) fn proxy(&self) -> Option<&proxy::Proxy> {
        self.proxy.as_ref()
    }
}

fn status_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        101 => "Switching Protocols",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        410 => "Gone",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "",
    }
}

fn decode_error(method: &str, path: &str, e: serde_json::Error) -> ApiError {
    ApiError::Decode {
        what: format!("the response to {method} {path}"),
        cause: e.to_string(),
    }
}

/// Percent-encodes a query component (RFC 3986 unreserved characters stay).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_query_components() {
        assert_eq!(encode("metadata.name=web"), "metadata.name%3Dweb");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }
}

/// ureq 2 keeps one header per exact name (`set` replaces a header spelled the same way), but
/// header names are case-insensitive. The n-th repeat of a name is spelled with other letter
/// cases, so that each value goes out as its own header, as client-go sends one
/// `Impersonate-Group` per group (the API server reads them as a list, not split at commas).
fn nth_spelling(name: &str, n: usize) -> String {
    let mut bit = 0;
    name.chars()
        .map(|c| {
            if !c.is_ascii_alphabetic() {
                return c;
            }
            let flip = n >> bit & 1 == 1;
            bit += 1;
            match (flip, c.is_ascii_uppercase()) {
                (false, _) => c,
                (true, true) => c.to_ascii_lowercase(),
                (true, false) => c.to_ascii_uppercase(),
            }
        })
        .collect()
}

#[cfg(test)]
mod spelling_tests {
    use super::nth_spelling;

    #[test]
    fn repeated_headers_get_distinct_spellings_of_one_name() {
        let names: Vec<String> = (0..4)
            .map(|n| nth_spelling("Impersonate-Group", n))
            .collect();
        assert_eq!(names[0], "Impersonate-Group");
        for (i, a) in names.iter().enumerate() {
            assert!(a.eq_ignore_ascii_case("Impersonate-Group"));
            assert!(names[i + 1..].iter().all(|b| a != b), "{names:?}");
        }
    }
}
