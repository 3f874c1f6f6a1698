//! The `oidc` auth-provider, as client-go's plugin/pkg/client/auth/oidc: the `id-token` is
//! used while it has more than 10 s left; otherwise the `refresh-token` is exchanged at the
//! issuer's token endpoint (found through `/.well-known/openid-configuration`) and the new
//! tokens are written back into the kubeconfig file that defined the user.
//!
//! The two issuer requests are plain HTTP/1.1 over std and rustls, independent of the REST
//! client: they carry the refresh token and client secret, and are never traced beyond
//! their method, URL and status.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;

use crate::kubeconfig::persist::PersistError;
use crate::sys::secret::Secret;
use crate::text::b64::B64Error;

use super::tls::TlsConfigError;

/// client-go's expiryDelta: a token this close to its expiry counts as expired.
const EXPIRY_DELTA: Duration = Duration::from_secs(10);
const ISSUER_TIMEOUT: Duration = Duration::from_secs(30);

/// Writes the new (key, value) pairs back; `Err` is a warning, the run goes on.
pub type Persister = Box<dyn Fn(&[(&str, &str)]) -> Result<(), PersistError> + Send + Sync>;

/// Why no id-token could be had; the wording is client-go's (and x/oauth2's) where it has one.
#[derive(Debug)]
pub enum OidcError {
    NoIssuer,
    NoClientId,
    CaData(B64Error),
    CaFile {
        path: String,
        cause: std::io::Error,
    },
    Tls(TlsConfigError),
    NoRefreshToken,
    /// The discovery document was refused; `text` is the start of the answer.
    Metadata {
        status: u16,
        reason: String,
        text: String,
    },
    Discovery(serde_json::Error),
    NoTokenEndpoint,
    /// The issuer refused the refresh: its error code and description, else the answer.
    Refused {
        error: Option<String>,
        description: Option<String>,
        status: u16,
        reason: String,
        body: String,
    },
    NoAccessToken,
    NoIdToken,
    Io {
        method: String,
        url: String,
        cause: std::io::Error,
    },
    UnsupportedUrl(String),
    NoAddress(String),
    NoTlsConfig,
    BadHost {
        host: String,
        cause: rustls::pki_types::InvalidDnsNameError,
    },
    TlsStart(rustls::Error),
    Malformed {
        method: String,
        url: String,
    },
    /// `cause`: the payload is not base64 (None: not three parts).
    NotJwt(Option<base64::DecodeError>),
    Claims(serde_json::Error),
}

impl std::fmt::Display for OidcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OidcError::NoIssuer => f.write_str("Must provide idp-issuer-url"),
            OidcError::NoClientId => f.write_str("Must provide client-id"),
            OidcError::CaData(e) => {
                write!(f, "failed to decode idp-certificate-authority-data: {e}")
            }
            OidcError::CaFile { path, cause } => {
                write!(f, "failed to read idp-certificate-authority {path}: {cause}")
            }
            OidcError::Tls(e) => write!(f, "{e}"),
            OidcError::NoRefreshToken => {
                f.write_str("No valid id-token, and cannot refresh without refresh-token")
            }
            OidcError::Metadata {
                status,
                reason,
                text,
            } => write!(
                f,
                "oidc: failed to query metadata endpoint {status} {reason}: {text:?}"
            ),
            OidcError::Discovery(e) => {
                write!(f, "oidc: failed to decode provider discovery object: {e}")
            }
            OidcError::NoTokenEndpoint => {
                f.write_str("oidc: discovery object doesn't contain a token_endpoint")
            }
            OidcError::Refused {
                error,
                description,
                status,
                reason,
                body,
            } => {
                // x/oauth2's RetrieveError.
                f.write_str("failed to refresh token: ")?;
                match (error, description) {
                    (Some(e), Some(d)) => write!(f, "oauth2: {e:?} {d:?}"),
                    (Some(e), None) => write!(f, "oauth2: {e:?}"),
                    _ => write!(
                        f,
                        "oauth2: cannot fetch token: {status} {reason}\nResponse: {body}"
                    ),
                }
            }
            OidcError::NoAccessToken => f.write_str(
                "failed to refresh token: oauth2: server response missing access_token",
            ),
            OidcError::NoIdToken => f.write_str("token response did not contain an id_token, either the scope \"openid\" wasn't requested upon login, or the provider doesn't support id_tokens as part of the refresh response"),
            OidcError::Io { method, url, cause } => write!(f, "oidc: {method} {url}: {cause}"),
            OidcError::UnsupportedUrl(url) => write!(f, "oidc: unsupported URL {url:?}"),
            OidcError::NoAddress(host) => write!(f, "oidc: no address for {host}"),
            OidcError::NoTlsConfig => f.write_str("oidc: no TLS configuration"),
            OidcError::BadHost { host, cause } => write!(f, "oidc: bad host name {host}: {cause}"),
            OidcError::TlsStart(e) => write!(f, "oidc: {e}"),
            OidcError::Malformed { method, url } => {
                write!(f, "oidc: {method} {url}: malformed HTTP response")
            }
            OidcError::NotJwt(None) => f.write_str("ID Token is not a valid JWT"),
            OidcError::NotJwt(Some(e)) => write!(f, "ID Token is not a valid JWT: {e}"),
            OidcError::Claims(e) => write!(f, "parsing claims: {e}"),
        }
    }
}

impl std::error::Error for OidcError {}

pub struct Oidc {
    cfg: BTreeMap<String, Secret<String>>,
    tls: Option<Arc<rustls::ClientConfig>>,
    persist: Persister,
    verbosity: u8,
}

impl Oidc {
    /// client-go's newOIDCAuthProvider checks.
    pub fn new(
        cfg: BTreeMap<String, Secret<String>>,
        persist: Persister,
        verbosity: u8,
    ) -> Result<Oidc, OidcError> {
        let get = |k: &str| cfg.get(k).map(|v| v.expose().as_str()).unwrap_or("");
        if get("idp-issuer-url").is_empty() {
            return Err(OidcError::NoIssuer);
        }
        if get("client-id").is_empty() {
            return Err(OidcError::NoClientId);
        }
        let ca = if !get("idp-certificate-authority-data").is_empty() {
            Some(
                crate::text::b64::decode(get("idp-certificate-authority-data"))
                    .map_err(OidcError::CaData)?,
            )
        } else if !get("idp-certificate-authority").is_empty() {
            let path = get("idp-certificate-authority");
            Some(std::fs::read(path).map_err(|cause| OidcError::CaFile {
                path: path.to_string(),
                cause,
            })?)
        } else {
            None
        };
        let tls = super::tls::client_config(&super::tls::TlsSettings {
            ca_pem: ca,
            ..Default::default()
        })
        .map_err(OidcError::Tls)?;
        Ok(Oidc {
            cfg,
            tls: Some(tls),
            persist,
            verbosity,
        })
    }

    fn get(&self, k: &str) -> &str {
        self.cfg.get(k).map(|v| v.expose().as_str()).unwrap_or("")
    }

    /// A usable id-token and its expiry, refreshing (once) when the stored one is expired.
    pub fn token(&mut self) -> Result<(Secret<String>, Option<SystemTime>), OidcError> {
        let id = self.get("id-token").to_string();
        if !id.is_empty() {
            let exp = jwt_expiry(&id)?;
            if exp.is_some_and(|e| SystemTime::now() + EXPIRY_DELTA < e) {
                return Ok((Secret::new(id), exp.map(|e| e - EXPIRY_DELTA)));
            }
        }
        let refresh = self.get("refresh-token").to_string();
        if refresh.is_empty() {
            return Err(OidcError::NoRefreshToken);
        }
        let endpoint = self.token_endpoint()?;
        let (new_id, new_refresh) = self.refresh(&endpoint, &refresh)?;
        let mut updates = vec![("id-token", new_id.as_str())];
        if let Some(r) = new_refresh.as_deref().filter(|r| *r != refresh) {
            updates.push(("refresh-token", r));
        }
        if let Err(why) = (self.persist)(&updates) {
            crate::sys::output::Printer::default().warn(&format!("could not write the refreshed OIDC tokens back: {why}; they are used for this run only"));
        }
        for (k, v) in &updates {
            self.cfg.insert(k.to_string(), Secret::new(v.to_string()));
        }
        let exp = jwt_expiry(&new_id)?;
        Ok((Secret::new(new_id), exp.map(|e| e - EXPIRY_DELTA)))
    }

    fn token_endpoint(&self) -> Result<String, OidcError> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.get("idp-issuer-url").trim_end_matches('/')
        );
        let (status, reason, body) = self.http("GET", &url, &[], b"")?;
        if status != 200 {
            // client-go: no huge error (an HTML page, say).
            let mut text = String::from_utf8_lossy(&body).into_owned();
            if text.len() > 80 {
                text = format!("{}...", text.chars().take(80).collect::<String>());
            }
            return Err(OidcError::Metadata {
                status,
                reason,
                text,
            });
        }
        let doc: serde_json::Value = serde_json::from_slice(&body).map_err(OidcError::Discovery)?;
        match doc.get("token_endpoint").and_then(|t| t.as_str()) {
            Some(t) if !t.is_empty() => Ok(t.to_string()),
            _ => Err(OidcError::NoTokenEndpoint),
        }
    }

    /// The refresh-token grant (RFC 6749 6), the client authenticated with HTTP Basic (what
    /// golang.org/x/oauth2 tries first); a public client (no secret) sends its id in the body.
    fn refresh(
        &self,
        endpoint: &str,
        refresh: &str,
    ) -> Result<(String, Option<String>), OidcError> {
        let enc = super::encode;
        let id = self.get("client-id");
        let secret = self.get("client-secret");
        let mut body = format!("grant_type=refresh_token&refresh_token={}", enc(refresh));
        let mut headers = vec![(
            "Content-Type",
            "application/x-www-form-urlencoded".to_string(),
        )];
        if secret.is_empty() {
            body.push_str(&format!("&client_id={}", enc(id)));
        } else {
            let basic = base64::engine::general_purpose::STANDARD.encode(format!(
                "{}:{}",
                enc(id),
                enc(secret)
            ));
            headers.push(("Authorization", format!("Basic {basic}")));
        }
        let scopes = self.get("extra-scopes");
        if !scopes.is_empty() {
            body.push_str(&format!("&scope={}", enc(&scopes.replace(',', " "))));
        }
        let (status, reason, resp) = self.http("POST", endpoint, &headers, body.as_bytes())?;
        let doc: Option<serde_json::Value> = serde_json::from_slice(&resp).ok();
        let field =
            |k: &str| -> Option<String> { doc.as_ref()?.get(k)?.as_str().map(str::to_string) };
        if !(200..300).contains(&status) {
            return Err(OidcError::Refused {
                error: field("error"),
                description: field("error_description"),
                status,
                reason,
                body: String::from_utf8_lossy(&resp).into_owned(),
            });
        }
        if field("access_token").is_none() && field("id_token").is_none() {
            return Err(OidcError::NoAccessToken);
        }
        let Some(id_token) = field("id_token") else {
            return Err(OidcError::NoIdToken);
        };
        Ok((id_token, field("refresh_token").filter(|r| !r.is_empty())))
    }

    /// One HTTP/1.1 request with `Connection: close`; the body is read to its end.
    fn http(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: &[u8],
    ) -> Result<(u16, String, Vec<u8>), OidcError> {
        let fail = |cause: std::io::Error| OidcError::Io {
            method: method.to_string(),
            url: url.to_string(),
            cause,
        };
        let (tls, host, port, path) = split_url(url)?;
        if self.verbosity >= 6 {
            crate::sys::output::trace(&format!("I oidc: {method} {url}"));
        }
        let addr = super::proxy::resolve(&format!("{host}:{port}")).map_err(fail)?;
        let tcp = TcpStream::connect_timeout(
            addr.first()
                .ok_or_else(|| OidcError::NoAddress(host.clone()))?,
            ISSUER_TIMEOUT,
        )
        .map_err(fail)?;
        tcp.set_read_timeout(Some(ISSUER_TIMEOUT)).map_err(fail)?;
        tcp.set_write_timeout(Some(ISSUER_TIMEOUT)).map_err(fail)?;
        let host_header = if (tls && port == 443) || (!tls && port == 80) {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {}\r\nAccept: application/json\r\nConnection: close\r\nContent-Length: {}\r\n",
            super::user_agent(),
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        let mut raw = Vec::new();
        if tls {
            let config = self.tls.clone().ok_or(OidcError::NoTlsConfig)?;
            let name =
                rustls::pki_types::ServerName::try_from(host.trim_matches(['[', ']']).to_string())
                    .map_err(|cause| OidcError::BadHost {
                        host: host.clone(),
                        cause,
                    })?;
            let conn = rustls::ClientConnection::new(config, name).map_err(OidcError::TlsStart)?;
            let mut s = rustls::StreamOwned::new(conn, tcp);
            s.write_all(req.as_bytes()).map_err(fail)?;
            s.write_all(body).map_err(fail)?;
            read_all(&mut s, &mut raw).map_err(fail)?;
        } else {
            let mut s = tcp;
            s.write_all(req.as_bytes()).map_err(fail)?;
            s.write_all(body).map_err(fail)?;
            read_all(&mut s, &mut raw).map_err(fail)?;
        }
        let (status, reason, body) = parse_response(&raw).ok_or_else(|| OidcError::Malformed {
            method: method.to_string(),
            url: url.to_string(),
        })?;
        if self.verbosity >= 6 {
            crate::sys::output::trace(&format!("I oidc: {method} {url} {status} {reason}"));
        }
        Ok((status, reason, body))
    }
}

/// Reads to EOF; a TLS peer that closes without close_notify still ends the body.
fn read_all(s: &mut dyn Read, out: &mut Vec<u8>) -> std::io::Result<()> {
    match s.read_to_end(out) {
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
        r => r.map(|_| ()),
    }
}

/// `(https?, host, port, path?query)` of an absolute http(s) URL.
fn split_url(url: &str) -> Result<(bool, String, u16, String), OidcError> {
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(OidcError::UnsupportedUrl(url.to_string()));
    };
    let (hostport, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => match p.parse() {
            Ok(p) => (h.to_string(), p),
            Err(_) => (hostport.to_string(), if tls { 443 } else { 80 }),
        },
        _ => (hostport.to_string(), if tls { 443 } else { 80 }),
    };
    Ok((tls, host, port, path.to_string()))
}

/// Status, reason and body (chunked transfer coding undone) of a whole HTTP/1.1 response.
fn parse_response(raw: &[u8]) -> Option<(u16, String, Vec<u8>)> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut parts = status_line.splitn(3, ' ');
    parts.next()?;
    let status: u16 = parts.next()?.parse().ok()?;
    let reason = parts.next().unwrap_or("").to_string();
    let chunked = lines.any(|l| {
        l.split_once(':').is_some_and(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.trim().eq_ignore_ascii_case("chunked")
        })
    });
    let mut body = &raw[end + 4..];
    if !chunked {
        return Some((status, reason, body.to_vec()));
    }
    let mut out = Vec::new();
    loop {
        let nl = body.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&body[..nl]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        body = &body[nl + 2..];
        if size == 0 {
            return Some((status, reason, out));
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

/// The `exp` claim of a JWT (client-go's idTokenExpired reads no other).
pub fn jwt_expiry(token: &str) -> Result<Option<SystemTime>, OidcError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(OidcError::NotJwt(None));
    }
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|e| OidcError::NotJwt(Some(e)))?;
    let claims: serde_json::Value = serde_json::from_slice(&payload).map_err(OidcError::Claims)?;
    Ok(claims
        .get("exp")
        .and_then(|e| e.as_f64())
        .map(|secs| UNIX_EPOCH + Duration::from_secs_f64(secs.max(0.0))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(exp: u64) -> String {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.sig",
            b(r#"{"alg":"none"}"#),
            b(&format!(r#"{{"exp":{exp}}}"#))
        )
    }

    #[test]
    fn reads_the_expiry_claim() {
        let t = jwt(2_000_000_000);
        assert_eq!(
            jwt_expiry(&t).unwrap(),
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000))
        );
        assert_eq!(
            jwt_expiry("a.b").unwrap_err().to_string(),
            "ID Token is not a valid JWT"
        );
    }

    #[test]
    fn a_valid_token_is_used_without_asking_the_issuer() {
        let far = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 3600;
        let cfg: BTreeMap<String, Secret<String>> = [
            ("idp-issuer-url", "http://127.0.0.1:1"),
            ("client-id", "k"),
            ("id-token", &jwt(far)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Secret::new(v.to_string())))
        .collect();
        let mut o = Oidc::new(cfg, Box::new(|_| panic!("no write")), 0).unwrap();
        assert_eq!(o.token().unwrap().0.expose(), &jwt(far));
        let no_issuer = BTreeMap::from([("client-id".to_string(), Secret::new("k".to_string()))]);
        assert_eq!(
            Oidc::new(no_issuer, Box::new(|_| Ok(())), 0)
                .err()
                .unwrap()
                .to_string(),
            "Must provide idp-issuer-url"
        );
    }

    #[test]
    fn parses_plain_and_chunked_responses() {
        let plain = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(
            parse_response(plain).unwrap(),
            (200, "OK".into(), b"{}".to_vec())
        );
        let chunked = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap().2, b"abcde");
        assert_eq!(
            split_url("https://idp.example:8443/realms/x").unwrap(),
            (true, "idp.example".into(), 8443, "/realms/x".into())
        );
        assert_eq!(split_url("http://[::1]").unwrap().2, 80);
    }
}
