//! The server's TLS settings (features `server` and `tls`).

use std::fmt;
use std::sync::Arc;

use crate::tls::{parse_private_key, require_certificates};
use crate::TlsError;

/// A server's certificate and key, and optionally the CA its clients'
/// certificates must be signed by (mutual TLS, what libprocess calls
/// `LIBPROCESS_SSL_REQUIRE_CLIENT_CERT`). Cheap to clone.
///
/// ```no_run
/// # fn main() -> Result<(), mesos_http::TlsError> {
/// let chain = std::fs::read("server.pem").unwrap();
/// let key = std::fs::read("server.key").unwrap();
/// let tls = mesos_http::server::ServerTls::from_pem(&chain, &key)?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    client_certificates: bool,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("client_certificates", &self.client_certificates)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// Serves with this certificate chain (PEM, leaf first) and private key
    /// (PEM); clients need no certificate.
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        Self::build(chain_pem, key_pem, None)
    }

    /// Like [`from_pem`](ServerTls::from_pem), and every client must present
    /// a certificate signed by one of the CAs in `client_ca_pem`: the
    /// handshake fails otherwise.
    pub fn require_client_certificates(
        chain_pem: &[u8],
        key_pem: &[u8],
        client_ca_pem: &[u8],
    ) -> Result<Self, TlsError> {
        Self::build(chain_pem, key_pem, Some(client_ca_pem))
    }

    /// True when clients must present a certificate.
    pub fn requires_client_certificates(&self) -> bool {
        self.client_certificates
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(Arc::clone(&self.config))
    }

    fn build(
        chain_pem: &[u8],
        key_pem: &[u8],
        client_ca_pem: Option<&[u8]>,
    ) -> Result<Self, TlsError> {
        let chain = require_certificates(chain_pem, "server certificate")?;
        let key = parse_private_key(key_pem, "server private key")?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?;
        let builder = match client_ca_pem {
            None => builder.with_no_client_auth(),
            Some(pem) => {
                let mut roots = rustls::RootCertStore::empty();
                for ca in require_certificates(pem, "client CA certificates")? {
                    roots.add(ca).map_err(|e| TlsError::Pem {
                        what: "client CA certificates".to_string(),
                        reason: e.to_string(),
                    })?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()
                .map_err(|e| TlsError::Pem {
                    what: "client CA certificates".to_string(),
                    reason: e.to_string(),
                })?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(TlsError::Identity)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(ServerTls {
            config: Arc::new(config),
            client_certificates: client_ca_pem.is_some(),
        })
    }
}
