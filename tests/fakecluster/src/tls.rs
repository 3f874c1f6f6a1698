//! A generated CA, a server certificate for 127.0.0.1/localhost and client certificates.

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

fn io_err<E: std::fmt::Display>(e: E) -> io::Error {
    io::Error::other(e.to_string())
}

/// A client certificate and key (PEM) issued by the cluster CA.
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub user: String,
    pub groups: Vec<String>,
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
}

pub struct Pki {
    pub ca_pem: String,
    ca_params: CertificateParams,
    ca_key: KeyPair,
    pub server_config: Arc<rustls::ServerConfig>,
}

fn ca_cert(params: &CertificateParams, key: &KeyPair) -> io::Result<rcgen::Certificate> {
    params.clone().self_signed(key).map_err(io_err)
}

impl Pki {
    /// `expired`: the server certificate's validity ended in 2021 (TLS failure tests).
    pub fn generate(expired: bool) -> io::Result<Pki> {
        let ca_key = KeyPair::generate().map_err(io_err)?;
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(io_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "fakecluster-ca");
        ca_params.distinguished_name = dn;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = ca_cert(&ca_params, &ca_key)?;
        let ca_pem = ca.pem();

        let server_key = KeyPair::generate().map_err(io_err)?;
        let mut sp = CertificateParams::new(vec![
            "127.0.0.1".to_string(),
            "localhost".to_string(),
            "::1".to_string(),
        ])
        .map_err(io_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "kube-apiserver");
        sp.distinguished_name = dn;
        sp.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if expired {
            sp.not_before = rcgen::date_time_ymd(2020, 1, 1);
            sp.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let server = sp.signed_by(&server_key, &ca, &ca_key).map_err(io_err)?;

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(ca.der().to_vec()))
            .map_err(io_err)?;
        let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider.clone(),
        )
        .allow_unauthenticated()
        .build()
        .map_err(io_err)?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(io_err)?
            .with_client_cert_verifier(verifier)
            .with_single_cert(
                vec![CertificateDer::from(server.der().to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
            )
            .map_err(io_err)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Pki {
            ca_pem,
            ca_params,
            ca_key,
            server_config: Arc::new(config),
        })
    }

    /// Issue a client certificate (CN = user, O = groups).
    pub fn client_cert(&self, user: &str, groups: &[&str]) -> io::Result<ClientCert> {
        let ca = ca_cert(&self.ca_params, &self.ca_key)?;
        let key = KeyPair::generate().map_err(io_err)?;
        let mut p = CertificateParams::new(Vec::<String>::new()).map_err(io_err)?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, user);
        for g in groups {
            dn.push(DnType::OrganizationName, *g);
        }
        p.distinguished_name = dn;
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let cert = p.signed_by(&key, &ca, &self.ca_key).map_err(io_err)?;
        Ok(ClientCert {
            user: user.to_string(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().to_vec(),
        })
    }
}
