//! TLS settings of the client half (feature `tls`): which servers to trust,
//! the client's own certificate for mutual TLS, and the name to verify.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};

/// The most certificates read from one CA file or directory: a bound on
/// what a misplaced path (a whole system bundle directory, say) can cost.
pub const MAX_CA_CERTIFICATES: usize = 4096;

/// The largest PEM file read (a CA bundle, a certificate chain or a key).
pub const MAX_PEM_FILE_LEN: u64 = 16 * 1024 * 1024;

/// What is wrong with a TLS setting. Every variant names the file or the
/// setting; none shows key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A certificate, key or CA file or directory could not be read.
    #[error("cannot read {what} {path:?}")]
    Read {
        /// What the file is for (`CA file`, `certificate`, `private key`).
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is larger than [`MAX_PEM_FILE_LEN`], or a CA source holds
    /// more than [`MAX_CA_CERTIFICATES`] certificates.
    #[error("{what} {path:?} is too large: {reason}")]
    TooLarge {
        /// What the file is for.
        what: &'static str,
        /// The path.
        path: PathBuf,
        /// Which limit.
        reason: String,
    },
    /// PEM text that holds no usable certificate or key.
    #[error("{what}: {reason}")]
    Pem {
        /// What the PEM is for (`CA certificates`, `client certificate`,
        /// `private key`), with its path when it came from a file.
        what: String,
        /// What is wrong (no `BEGIN CERTIFICATE` block, a malformed block).
        reason: String,
    },
    /// A certificate and key cannot be used together (a key of another
    /// certificate, an unsupported key type).
    #[error("unusable certificate and key: {0}")]
    Identity(#[source] rustls::Error),
    /// The server name to verify is not a DNS name or IP address.
    #[error("invalid TLS server name {0:?}")]
    ServerName(String),
    /// A `LIBPROCESS_SSL_*` variable has a value that cannot be used.
    #[error("{name}={value:?}: {reason}")]
    Environment {
        /// The variable.
        name: &'static str,
        /// Its value (paths and booleans only: never key material).
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// rustls refused the configuration (no usable protocol version).
    #[error("invalid TLS configuration")]
    Config(#[source] rustls::Error),
}

/// The client's certificate chain and private key (mutual TLS).
struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// TLS settings for `https://` masters and agents.
///
/// By default the server's certificate is verified against the system's
/// certificates plus the bundled Mozilla roots, for the host name of the
/// URL, and no client certificate is sent. Verification cannot be turned
/// off. Clusters run with libprocess SSL (`LIBPROCESS_SSL_*`) usually have a
/// private CA and often require client certificates:
///
/// ```no_run
/// use mesos_http::{Client, TlsConfig};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let tls = TlsConfig::new()
///     .ca_file("/etc/mesos/ssl/ca.pem")?                // trust exactly this CA
///     .identity_files("/etc/mesos/ssl/framework.pem",   // mutual TLS
///                     "/etc/mesos/ssl/framework.key")?
///     .server_name("mesos.internal")?;                   // certificates name the cluster
/// let client = Client::builder().tls(tls).build()?;
/// # Ok(()) }
/// ```
///
/// `Debug` shows how many roots there are and whether an identity is set,
/// never key material.
#[derive(Clone, Default)]
pub struct TlsConfig {
    /// `None`: the system's and the bundled roots.
    roots: Option<Vec<CertificateDer<'static>>>,
    identity: Option<Identity>,
    server_name: Option<ServerName<'static>>,
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let roots = match &self.roots {
            None => "system and bundled".to_string(),
            Some(roots) => format!("{} CA certificate(s)", roots.len()),
        };
        f.debug_struct("TlsConfig")
            .field("roots", &roots)
            .field(
                "client_certificate",
                &self.identity.as_ref().map(|i| i.chain.len()),
            )
            .field("server_name", &self.server_name)
            .finish()
    }
}

impl TlsConfig {
    /// The defaults: system and bundled roots, no client certificate, the
    /// URL's host as the name to verify.
    pub fn new() -> Self {
        TlsConfig::default()
    }

    /// Trusts the CA certificates in `pem` (one or more `BEGIN CERTIFICATE`
    /// blocks). The first CA given replaces the default roots; later ones
    /// add to it.
    pub fn ca_pem(self, pem: &[u8]) -> Result<Self, TlsError> {
        self.with_cas(pem, "CA certificates".to_string())
    }

    /// [`ca_pem`](TlsConfig::ca_pem) from a file (`LIBPROCESS_SSL_CA_FILE`).
    pub fn ca_file(self, path: impl AsRef<Path>) -> Result<Self, TlsError> {
        let path = path.as_ref();
        let pem = read_pem_file("CA file", path)?;
        self.with_cas(&pem, format!("CA file {path:?}"))
    }

    /// Trusts every certificate in the files of directory `path`
    /// (`LIBPROCESS_SSL_CA_DIR`: an OpenSSL hashed directory, or any
    /// directory of PEM files). Files that hold no certificate are skipped;
    /// a directory with none at all is an error.
    pub fn ca_dir(mut self, path: impl AsRef<Path>) -> Result<Self, TlsError> {
        let path = path.as_ref();
        let read_error = |source| TlsError::Read {
            what: "CA directory",
            path: path.to_path_buf(),
            source,
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(read_error)?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let mut found = 0usize;
        for file in files {
            let pem = read_pem_file("CA file", &file)?;
            let certs = parse_certificates(&pem, &format!("CA file {file:?}"))?;
            found += certs.len();
            self.add_roots(certs, path)?;
        }
        if found == 0 {
            return Err(TlsError::Pem {
                what: format!("CA directory {path:?}"),
                reason: "no file in it holds a certificate".to_string(),
            });
        }
        Ok(self)
    }

    /// Presents this certificate chain (PEM, leaf first) and private key
    /// (PEM: PKCS#8, PKCS#1 or SEC1) to servers that ask for one (mutual
    /// TLS, `LIBPROCESS_SSL_REQUIRE_CLIENT_CERT` clusters).
    pub fn identity_pem(self, chain_pem: &[u8], key_pem: &[u8]) -> Result<Self, TlsError> {
        self.with_identity(chain_pem, key_pem, None)
    }

    /// [`identity_pem`](TlsConfig::identity_pem) from files
    /// (`LIBPROCESS_SSL_CERT_FILE`, `LIBPROCESS_SSL_KEY_FILE`).
    pub fn identity_files(
        self,
        chain: impl AsRef<Path>,
        key: impl AsRef<Path>,
    ) -> Result<Self, TlsError> {
        let (chain, key) = (chain.as_ref(), key.as_ref());
        let chain_pem = read_pem_file("client certificate", chain)?;
        let key_pem = read_pem_file("private key", key)?;
        self.with_identity(&chain_pem, &key_pem, Some((chain, key)))
    }

    /// Verifies the server's certificate for `name` instead of the URL's
    /// host (a DNS name or an IP address): for masters reached by IP or
    /// through a name their certificates do not carry.
    pub fn server_name(mut self, name: &str) -> Result<Self, TlsError> {
        let trimmed = name.trim_start_matches('[').trim_end_matches(']');
        let parsed = ServerName::try_from(trimmed.to_string())
            .map_err(|_| TlsError::ServerName(name.to_string()))?;
        self.server_name = Some(parsed);
        Ok(self)
    }

    /// The settings a libprocess-based Mesos program reads from its
    /// environment, as an agent hands them to its executors: `None` unless
    /// `LIBPROCESS_SSL_ENABLED` is true (`1`/`true`); then
    /// `LIBPROCESS_SSL_CA_FILE` and `LIBPROCESS_SSL_CA_DIR` (the roots;
    /// without either, the default roots) and `LIBPROCESS_SSL_CERT_FILE`
    /// with `LIBPROCESS_SSL_KEY_FILE` (the client identity; libprocess
    /// requires both). The deprecated `SSL_*` names are read when the
    /// `LIBPROCESS_SSL_*` one is absent, as libprocess does.
    ///
    /// One difference from libprocess, on purpose: certificates are always
    /// verified (libprocess verifies server certificates only with
    /// `LIBPROCESS_SSL_VERIFY_SERVER_CERT=true`), so give the CA that signed
    /// the agent's certificate.
    pub fn from_libprocess_env() -> Result<Option<Self>, TlsError> {
        Self::from_libprocess_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_libprocess_env`](TlsConfig::from_libprocess_env) with the
    /// variables read through `lookup` (for tests and for environments
    /// given as maps).
    pub fn from_libprocess_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, TlsError> {
        let get = |name: &'static str| {
            lookup(name)
                .or_else(|| lookup(name.trim_start_matches("LIBPROCESS_")))
                .map(|v| (name, v))
        };
        let enabled = match get("LIBPROCESS_SSL_ENABLED") {
            None => false,
            Some((name, value)) => parse_bool(name, &value)?,
        };
        if !enabled {
            return Ok(None);
        }
        let mut config = TlsConfig::new();
        if let Some((_, file)) = get("LIBPROCESS_SSL_CA_FILE") {
            config = config.ca_file(file)?;
        }
        if let Some((_, dir)) = get("LIBPROCESS_SSL_CA_DIR") {
            config = config.ca_dir(dir)?;
        }
        match (
            get("LIBPROCESS_SSL_CERT_FILE"),
            get("LIBPROCESS_SSL_KEY_FILE"),
        ) {
            (Some((_, cert)), Some((_, key))) => config = config.identity_files(cert, key)?,
            (None, None) => {}
            (Some((name, value)), None) | (None, Some((name, value))) => {
                return Err(TlsError::Environment {
                    name,
                    value,
                    reason: "LIBPROCESS_SSL_CERT_FILE and LIBPROCESS_SSL_KEY_FILE go together"
                        .to_string(),
                })
            }
        }
        Ok(Some(config))
    }

    /// True when a client certificate is configured.
    pub fn has_identity(&self) -> bool {
        self.identity.is_some()
    }

    /// The name verified instead of the URL's host, if any.
    pub(crate) fn server_name_override(&self) -> Option<ServerName<'static>> {
        self.server_name.clone()
    }

    /// The rustls client configuration (ring provider, TLS 1.2 and 1.3).
    pub(crate) fn client_config(&self) -> Result<rustls::ClientConfig, TlsError> {
        let mut roots = rustls::RootCertStore::empty();
        match &self.roots {
            Some(cas) => {
                for ca in cas {
                    roots.add(ca.clone()).map_err(|e| TlsError::Pem {
                        what: "CA certificates".to_string(),
                        reason: e.to_string(),
                    })?;
                }
            }
            None => add_default_roots(&mut roots),
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_root_certificates(roots);
        match &self.identity {
            None => Ok(builder.with_no_client_auth()),
            Some(identity) => builder
                .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
                .map_err(TlsError::Identity),
        }
    }

    fn with_cas(mut self, pem: &[u8], what: String) -> Result<Self, TlsError> {
        let certs = require_certificates(pem, &what)?;
        self.add_roots(certs, Path::new(&what))?;
        Ok(self)
    }

    fn add_roots(
        &mut self,
        certs: Vec<CertificateDer<'static>>,
        source: &Path,
    ) -> Result<(), TlsError> {
        let roots = self.roots.get_or_insert_with(Vec::new);
        if roots.len() + certs.len() > MAX_CA_CERTIFICATES {
            return Err(TlsError::TooLarge {
                what: "CA source",
                path: source.to_path_buf(),
                reason: format!("more than {MAX_CA_CERTIFICATES} certificates"),
            });
        }
        roots.extend(certs);
        Ok(())
    }

    fn with_identity(
        mut self,
        chain_pem: &[u8],
        key_pem: &[u8],
        paths: Option<(&Path, &Path)>,
    ) -> Result<Self, TlsError> {
        let (chain_what, key_what) = match paths {
            Some((chain, key)) => (
                format!("client certificate {chain:?}"),
                format!("private key {key:?}"),
            ),
            None => ("client certificate".to_string(), "private key".to_string()),
        };
        let chain = require_certificates(chain_pem, &chain_what)?;
        let key = parse_private_key(key_pem, &key_what)?;
        // Check now that rustls accepts the pair (a key of this certificate,
        // of a supported type), rather than at connect time.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Config)?
            .with_root_certificates(rustls::RootCertStore::empty())
            .with_client_auth_cert(chain.clone(), key.clone_key())
            .map_err(TlsError::Identity)?;
        self.identity = Some(Identity { chain, key });
        Ok(self)
    }
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, TlsError> {
    match value.trim() {
        "1" | "true" | "TRUE" | "True" => Ok(true),
        "0" | "false" | "FALSE" | "False" | "" => Ok(false),
        _ => Err(TlsError::Environment {
            name,
            value: value.to_string(),
            reason: "expected true or false".to_string(),
        }),
    }
}

fn read_pem_file(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    let read_error = |source| TlsError::Read {
        what,
        path: path.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(path).map_err(read_error)?.len();
    if len > MAX_PEM_FILE_LEN {
        return Err(TlsError::TooLarge {
            what,
            path: path.to_path_buf(),
            reason: format!("{len} bytes, more than {MAX_PEM_FILE_LEN}"),
        });
    }
    std::fs::read(path).map_err(read_error)
}

/// At least one certificate from `pem`, else an error naming `what`.
pub(crate) fn require_certificates(
    pem: &[u8],
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = parse_certificates(pem, what)?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            what: what.to_string(),
            reason: "no BEGIN CERTIFICATE block".to_string(),
        });
    }
    Ok(certs)
}

/// The private key in `pem`. The key's own parse error could quote the
/// key: the error says only what failed.
pub(crate) fn parse_private_key(
    pem: &[u8],
    what: &str,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|_| TlsError::Pem {
        what: what.to_string(),
        reason: "no usable PRIVATE KEY block (PKCS#8, RSA or EC)".to_string(),
    })
}

pub(crate) fn parse_certificates(
    pem: &[u8],
    what: &str,
) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| TlsError::Pem {
            what: what.to_string(),
            reason: e.to_string(),
        })?;
        if certs.len() == MAX_CA_CERTIFICATES {
            return Err(TlsError::Pem {
                what: what.to_string(),
                reason: format!("more than {MAX_CA_CERTIFICATES} certificates"),
            });
        }
        certs.push(cert);
    }
    Ok(certs)
}

/// The system's certificates plus the bundled Mozilla roots.
fn add_default_roots(roots: &mut rustls::RootCertStore) {
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for cert in rustls_native_certs::load_native_certs().certs {
        // A system certificate rustls cannot use is skipped, as browsers do.
        let _ = roots.add(cert);
    }
}

/// Explains a failed TLS handshake: `Some` when `error`'s chain holds a
/// rustls error, with what to check.
pub(crate) fn explain_handshake_failure(
    error: &(dyn std::error::Error + 'static),
) -> Option<(String, bool)> {
    let mut current = Some(error);
    // Bounded: a chain is a handful of links deep.
    for _ in 0..32 {
        let e = current?;
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(explain(tls));
        }
        // An `io::Error` wrapping another error (as tokio-rustls and
        // hyper-rustls report it, nested) gives as its `source` the
        // wrapped error's source, skipping the wrapped error: descend into
        // it instead.
        current = match e.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

/// What a rustls error means for the user, and whether it is a verdict on
/// the certificates (retrying cannot help) rather than a broken connection.
fn explain(error: &rustls::Error) -> (String, bool) {
    use rustls::{AlertDescription, CertificateError, Error as E};
    match error {
        E::InvalidCertificate(CertificateError::UnknownIssuer) => (
            format!("{error}: the server's certificate is not signed by a trusted CA; give the CA that signed it (TlsConfig::ca_file, LIBPROCESS_SSL_CA_FILE)"),
            true,
        ),
        E::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => (
            format!("{error}: the server's certificate does not name the host in the URL; use the name it carries, or TlsConfig::server_name"),
            true,
        ),
        E::InvalidCertificate(
            CertificateError::Expired
            | CertificateError::ExpiredContext { .. }
            | CertificateError::NotValidYet
            | CertificateError::NotValidYetContext { .. },
        ) => (
            format!("{error}: the server's certificate is outside its validity period (or this machine's clock is wrong)"),
            true,
        ),
        E::InvalidCertificate(_) => (format!("{error}: the server's certificate was refused"), true),
        E::AlertReceived(
            AlertDescription::CertificateRequired
            | AlertDescription::HandshakeFailure
            | AlertDescription::BadCertificate
            | AlertDescription::UnknownCA
            | AlertDescription::CertificateUnknown,
        ) => (
            format!("{error}: the server refused this client's certificate (or its absence); it requires mutual TLS with a certificate it trusts (TlsConfig::identity_files, LIBPROCESS_SSL_CERT_FILE/KEY_FILE)"),
            true,
        ),
        _ => (error.to_string(), false),
    }
}

#[cfg(test)]
mod tests;
