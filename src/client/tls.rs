//! TLS the way client-go sets it up: a CA bundle from the kubeconfig replaces the system roots,
//! `insecure-skip-tls-verify` turns verification off, `tls-server-name` sets both SNI and the
//! name that is verified, and client certificates come from PEM data.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, RwLock};

use super::dial::Conn;
use super::proxy::Proxy;
use super::verify::{NameOverride, NoVerification};
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, RootCertStore, SignatureScheme, StreamOwned,
};

/// What the TLS layer needs to know; all byte fields are PEM.
#[derive(Clone, Default)]
pub struct TlsSettings {
    pub ca_pem: Option<Vec<u8>>,
    pub insecure: bool,
    pub server_name: Option<String>,
    pub client_cert_pem: Option<Vec<u8>>,
    pub client_key_pem: Option<Vec<u8>>,
}

/// ring's provider (`rustls::crypto::ring::default_provider()`) without ChaCha20-Poly1305,
/// spelled out because using that function links in every suite it lists: the ChaCha20 code
/// is 50 kB of the binary (BENCHMARKS.md). Every TLS 1.3 server must offer
/// TLS_AES_128_GCM_SHA256, and TLS 1.2 servers (Go's, as the API server) offer ECDHE with
/// AES-GCM. Key exchange, signature algorithms, randomness and key loading are ring's as in
/// the default provider.
fn provider() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::ring::cipher_suite as cs;
    rustls::crypto::CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        ],
        kx_groups: rustls::crypto::ring::DEFAULT_KX_GROUPS.to_vec(),
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &RingProvider,
        key_provider: &RingProvider,
    }
}

/// Randomness and private keys as ring's default provider does them.
#[derive(Debug)]
struct RingProvider;

impl rustls::crypto::SecureRandom for RingProvider {
    fn fill(&self, buf: &mut [u8]) -> Result<(), rustls::crypto::GetRandomFailed> {
        use ring::rand::SecureRandom;
        ring::rand::SystemRandom::new()
            .fill(buf)
            .map_err(|_| rustls::crypto::GetRandomFailed)
    }
}

impl rustls::crypto::KeyProvider for RingProvider {
    fn load_private_key(
        &self,
        key_der: PrivateKeyDer<'static>,
    ) -> Result<Arc<dyn rustls::sign::SigningKey>, rustls::Error> {
        rustls::crypto::ring::sign::any_supported_type(&key_der)
    }
}

/// The signature algorithms of ring's default provider (rustls 0.23's `SUPPORTED_SIG_ALGS`).
static SIGNATURE_ALGORITHMS: rustls::crypto::WebPkiSupportedAlgorithms = {
    use webpki::ring as alg;
    rustls::crypto::WebPkiSupportedAlgorithms {
        all: &[
            alg::ECDSA_P256_SHA256,
            alg::ECDSA_P256_SHA384,
            alg::ECDSA_P384_SHA256,
            alg::ECDSA_P384_SHA384,
            alg::ED25519,
            alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
            alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
            alg::RSA_PKCS1_2048_8192_SHA256,
            alg::RSA_PKCS1_2048_8192_SHA384,
            alg::RSA_PKCS1_2048_8192_SHA512,
            alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
            alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
            alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
        ],
        mapping: &[
            // For TLS 1.2 the curve is not fixed by the SignatureScheme; for TLS 1.3 it is.
            (
                SignatureScheme::ECDSA_NISTP384_SHA384,
                &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384],
            ),
            (
                SignatureScheme::ECDSA_NISTP256_SHA256,
                &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256],
            ),
            (SignatureScheme::ED25519, &[alg::ED25519]),
            (
                SignatureScheme::RSA_PSS_SHA512,
                &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PSS_SHA384,
                &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PSS_SHA256,
                &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA512,
                &[alg::RSA_PKCS1_2048_8192_SHA512],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA384,
                &[alg::RSA_PKCS1_2048_8192_SHA384],
            ),
            (
                SignatureScheme::RSA_PKCS1_SHA256,
                &[alg::RSA_PKCS1_2048_8192_SHA256],
            ),
        ],
    }
};

/// Why the TLS settings could not be used; each names the piece of the configuration at fault.
#[derive(Debug)]
pub enum TlsConfigError {
    /// rustls refused the protocol versions (a build without them).
    Setup(rustls::Error),
    /// The server certificate verifier could not be built from the roots.
    Verifier(rustls::server::VerifierBuilderError),
    /// A CA bundle (`what` names it) is not PEM.
    ReadRoots {
        what: &'static str,
        cause: rustls::pki_types::pem::Error,
    },
    /// A CA certificate that rustls would not take.
    UseRoots {
        what: &'static str,
        cause: rustls::Error,
    },
    /// A CA bundle without a single certificate.
    NoRoots {
        what: &'static str,
    },
    /// None of the usual system bundles holds a certificate.
    NoSystemRoots,
    ReadClientCert(rustls::pki_types::pem::Error),
    NoClientCert,
    NoClientKey,
    UseClientCert(rustls::Error),
    /// A client certificate without its key.
    CertWithoutKey,
    /// A client key without its certificate.
    KeyWithoutCert,
}

impl fmt::Display for TlsConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsConfigError::Setup(e) => write!(f, "failed to set up TLS: {e}"),
            TlsConfigError::Verifier(e) => {
                write!(f, "failed to set up certificate verification: {e}")
            }
            TlsConfigError::ReadRoots { what, cause } => write!(f, "failed to read {what}: {cause}"),
            TlsConfigError::UseRoots { what, cause } => write!(f, "failed to use {what}: {cause}"),
            TlsConfigError::NoRoots { what } => {
                write!(f, "failed to read {what}: no PEM certificate found")
            }
            TlsConfigError::NoSystemRoots => f.write_str("no system certificate authorities found (set certificate-authority in the kubeconfig or SSL_CERT_FILE)"),
            TlsConfigError::ReadClientCert(e) => write!(f, "failed to read client certificate: {e}"),
            TlsConfigError::NoClientCert => {
                f.write_str("failed to read client certificate: no PEM certificate found")
            }
            TlsConfigError::NoClientKey => f.write_str("failed to read client key: no PEM private key found (RSA, EC and PKCS#8 are supported)"),
            TlsConfigError::UseClientCert(e) => {
                write!(f, "failed to use client certificate and key: {e}")
            }
            TlsConfigError::CertWithoutKey => f.write_str("client-key-data or client-key must be specified to use the clientCert authentication method"),
            TlsConfigError::KeyWithoutCert => f.write_str("client-cert-data or client-cert must be specified to use the clientCert authentication method"),
        }
    }
}

impl std::error::Error for TlsConfigError {}

/// Builds the rustls configuration.
pub fn client_config(s: &TlsSettings) -> Result<Arc<ClientConfig>, TlsConfigError> {
    let provider = Arc::new(provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        // client-go's minimum is TLS 1.2.
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(TlsConfigError::Setup)?;
    let verifier: Arc<dyn ServerCertVerifier> = if s.insecure {
        Arc::new(NoVerification(provider))
    } else {
        let roots = match &s.ca_pem {
            Some(pem) => roots_from_pem(pem, "certificate-authority")?,
            None => system_roots()?,
        };
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(TlsConfigError::Verifier)?;
        Arc::new(NameOverride {
            inner,
            name: s.server_name.clone(),
        })
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&s.client_cert_pem, &s.client_key_pem) {
        (Some(cert), Some(key)) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert)
                .collect::<Result<_, _>>()
                .map_err(TlsConfigError::ReadClientCert)?;
            if certs.is_empty() {
                return Err(TlsConfigError::NoClientCert);
            }
            let key =
                PrivateKeyDer::from_pem_slice(key).map_err(|_| TlsConfigError::NoClientKey)?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(TlsConfigError::UseClientCert)?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => return Err(TlsConfigError::CertWithoutKey),
        (None, Some(_)) => return Err(TlsConfigError::KeyWithoutCert),
    };
    Ok(Arc::new(config))
}

fn roots_from_pem(pem: &[u8], what: &'static str) -> Result<RootCertStore, TlsConfigError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|cause| TlsConfigError::ReadRoots { what, cause })?;
        roots
            .add(cert)
            .map_err(|cause| TlsConfigError::UseRoots { what, cause })?;
    }
    if roots.is_empty() {
        return Err(TlsConfigError::NoRoots { what });
    }
    Ok(roots)
}

/// The system trust store, read from the usual bundle locations (a static binary cannot rely
/// on any library to find it). `SSL_CERT_FILE` wins, as in Go.
fn system_roots() -> Result<RootCertStore, TlsConfigError> {
    let mut candidates = Vec::new();
    if let Some(f) = std::env::var_os("SSL_CERT_FILE") {
        candidates.push(std::path::PathBuf::from(f));
    }
    for f in [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/pki/tls/cacert.pem",
        "/etc/ssl/cert.pem",
    ] {
        candidates.push(f.into());
    }
    for path in candidates {
        if let Ok(pem) = std::fs::read(&path) {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&pem).flatten() {
                let _ = roots.add(cert);
            }
            if !roots.is_empty() {
                return Ok(roots);
            }
        }
    }
    Err(TlsConfigError::NoSystemRoots)
}

/// A TLS failure with the reason spelled the way people know it from kubectl (Go's x509).
#[derive(Debug, Clone)]
pub struct TlsFailure {
    pub host: String,
    pub reason: String,
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Go's wording; the reason names the host where it matters.
        write!(f, "tls: failed to verify certificate: {}", self.reason)
    }
}

impl std::error::Error for TlsFailure {}

fn describe(e: &rustls::Error, host: &str) -> String {
    let time = |t: &UnixTime| {
        crate::text::time::format(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.as_secs()),
        )
    };
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            // Go reports a chain whose signature does not check out against a CA of the same
            // name as signed by an unknown authority too.
            CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                "x509: certificate signed by unknown authority".into()
            }
            CertificateError::NotValidForNameContext { presented, .. } => {
                hostname_error(host, presented)
            }
            CertificateError::NotValidForName => {
                format!("x509: certificate is not valid for {host}")
            }
            CertificateError::ExpiredContext {
                time: now,
                not_after,
            } => format!(
                "x509: certificate has expired or is not yet valid: current time {} is after {}",
                time(now),
                time(not_after)
            ),
            CertificateError::Expired => "x509: certificate has expired or is not yet valid".into(),
            CertificateError::NotValidYetContext {
                time: now,
                not_before,
            } => format!(
                "x509: certificate has expired or is not yet valid: current time {} is before {}",
                time(now),
                time(not_before)
            ),
            CertificateError::NotValidYet => {
                "x509: certificate has expired or is not yet valid".into()
            }
            other => format!("x509: {other:?}"),
        },
        rustls::Error::AlertReceived(a) => remote_alert(*a),
        other => other.to_string(),
    }
}

/// Go's `x509.HostnameError` text from the names the certificate presents (rustls gives them
/// as `DnsName("a")` and `IpAddress(1.2.3.4)`).
fn hostname_error(host: &str, presented: &[String]) -> String {
    let inner = |s: &str, tag: &str| {
        s.strip_prefix(tag)
            .and_then(|r| r.strip_prefix('('))
            .and_then(|r| r.strip_suffix(')'))
            .map(|r| r.trim_matches('"').to_string())
    };
    if host.parse::<std::net::IpAddr>().is_ok() {
        let ips: Vec<String> = presented
            .iter()
            .filter_map(|p| inner(p, "IpAddress"))
            .collect();
        if ips.is_empty() {
            return format!(
                "x509: cannot validate certificate for {host} because it doesn't contain any IP SANs"
            );
        }
        return format!(
            "x509: certificate is valid for {}, not {host}",
            ips.join(", ")
        );
    }
    let dns: Vec<String> = presented
        .iter()
        .filter_map(|p| inner(p, "DnsName"))
        .collect();
    if dns.is_empty() {
        return format!("x509: certificate is not valid for any names, but wanted to match {host}");
    }
    format!(
        "x509: certificate is valid for {}, not {host}",
        dns.join(", ")
    )
}

/// A TLS alert from the server, in Go's words (`remote error: tls: bad certificate`), with a
/// hint: the usual cause is a client certificate the server does not accept.
pub fn remote_alert(a: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    let go = match a {
        A::BadCertificate => "bad certificate".to_string(),
        A::UnknownCA => "unknown certificate authority".into(),
        A::DecryptError => "error decrypting message".into(),
        A::CertificateRequired => "certificate required".into(),
        A::CertificateExpired => "expired certificate".into(),
        A::CertificateRevoked => "revoked certificate".into(),
        A::CertificateUnknown => "unknown certificate".into(),
        A::UnsupportedCertificate => "unsupported certificate".into(),
        A::AccessDenied => "access denied".into(),
        A::HandshakeFailure => "handshake failure".into(),
        A::ProtocolVersion => "protocol version not supported".into(),
        A::IllegalParameter => "illegal parameter".into(),
        A::DecodeError => "error decoding message".into(),
        A::InternalError => "internal error".into(),
        other => format!("{other:?}"),
    };
    format!("remote error: tls: {go} (the server rejected the TLS connection; check the client certificate)")
}

/// The TLS stream type used for API requests and WebSocket attach.
pub type TlsStream = StreamOwned<ClientConnection, Conn>;

/// Opens TLS over `sock` and completes the handshake now, so that certificate problems are
/// reported as such rather than as a failed read later.
pub fn handshake<S: Read + Write>(
    config: Arc<ClientConfig>,
    sni: &str,
    mut sock: S,
) -> io::Result<StreamOwned<ClientConnection, S>> {
    let name = ServerName::try_from(sni.to_string()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid server name {sni:?}"),
        )
    })?;
    let mut conn = ClientConnection::new(config, name)
        .map_err(|e| io::Error::other(format!("failed to start TLS: {e}")))?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut sock) {
            let reason = match e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                Some(tls) => describe(tls, sni),
                None => e.to_string(),
            };
            return Err(io::Error::other(TlsFailure {
                host: sni.to_string(),
                reason,
            }));
        }
    }
    Ok(StreamOwned::new(conn, sock))
}

/// ureq's TLS hook. The configuration can be swapped when an exec plugin hands out a new
/// client certificate.
pub struct Connector {
    pub config: RwLock<Arc<ClientConfig>>,
    pub server_name: Option<String>,
    /// With a proxy: the proxy and the `host:port` to ask it to tunnel to.
    pub tunnel: Option<(Proxy, String)>,
}

impl Connector {
    pub fn current(&self) -> Arc<ClientConfig> {
        match self.config.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn sni<'a>(&'a self, host: &'a str) -> &'a str {
        self.server_name.as_deref().unwrap_or(host)
    }
}

#[derive(Debug)]
struct Wrapped(TlsStream);

impl Read for Wrapped {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Wrapped {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl ureq::ReadWrite for Wrapped {
    fn socket(&self) -> Option<&TcpStream> {
        Some(self.0.get_ref().tcp())
    }
}

impl ureq::TlsConnector for Connector {
    fn connect(
        &self,
        dns_name: &str,
        io: Box<dyn ureq::ReadWrite>,
    ) -> Result<Box<dyn ureq::ReadWrite>, ureq::Error> {
        let sock = io
            .socket()
            .ok_or_else(|| io::Error::other("TLS needs a TCP socket"))?
            .try_clone()?;
        let conn = match &self.tunnel {
            Some((proxy, target)) => super::dial::through(proxy, sock, target, self)?,
            None => Conn::Plain(sock),
        };
        let stream = handshake(self.current(), self.sni(dns_name), conn)?;
        Ok(Box::new(Wrapped(stream)))
    }
}
