//! `https://` for the master and the agents (feature `tls`).

use std::path::Path;

use mesos_http::server::ServerTls;
use mesos_http::TlsError;

/// TLS for a [`LocalCluster`](crate::LocalCluster): the master and every
/// agent serve `https://` with this certificate, and executors are started
/// with the `LIBPROCESS_SSL_*` variables a libprocess agent with SSL hands
/// them (`LIBPROCESS_SSL_ENABLED`, `LIBPROCESS_SSL_CA_FILE` and, with
/// client certificates required, `LIBPROCESS_SSL_CERT_FILE`/`KEY_FILE`),
/// the files written under the cluster's work directory.
///
/// ```no_run
/// use mesos_local::{ClusterTls, LocalCluster};
/// # async fn run(cert: &[u8], key: &[u8], ca: &[u8]) -> Result<(), Box<dyn std::error::Error>> {
/// let cluster = LocalCluster::builder()
///     .tls(ClusterTls::new(cert, key, ca)?)
///     .start()
///     .await?;
/// assert!(cluster.master_url().starts_with("https://"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClusterTls {
    pub(crate) server: ServerTls,
    ca_pem: Vec<u8>,
    executor_identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for ClusterTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterTls")
            .field("server", &self.server)
            .field("executor_certificate", &self.executor_identity.is_some())
            .finish_non_exhaustive()
    }
}

impl ClusterTls {
    /// Serves with `chain_pem` (the server certificate, leaf first, valid
    /// for the cluster's address, e.g. `127.0.0.1` and `localhost`) and
    /// `key_pem`; executors trust `ca_pem`.
    pub fn new(chain_pem: &[u8], key_pem: &[u8], ca_pem: &[u8]) -> Result<Self, TlsError> {
        // Refuse a CA that executors could not use, now rather than in them.
        mesos_http::TlsConfig::new().ca_pem(ca_pem)?;
        Ok(ClusterTls {
            server: ServerTls::from_pem(chain_pem, key_pem)?,
            ca_pem: ca_pem.to_vec(),
            executor_identity: None,
        })
    }

    /// Mutual TLS, as libprocess's `LIBPROCESS_SSL_REQUIRE_CLIENT_CERT`:
    /// every client (schedulers, executors) must present a certificate
    /// signed by `client_ca_pem`; executors get `executor_chain_pem` and
    /// `executor_key_pem` for theirs.
    pub fn require_client_certificates(
        mut self,
        chain_pem: &[u8],
        key_pem: &[u8],
        client_ca_pem: &[u8],
        executor_chain_pem: &[u8],
        executor_key_pem: &[u8],
    ) -> Result<Self, TlsError> {
        mesos_http::TlsConfig::new().identity_pem(executor_chain_pem, executor_key_pem)?;
        self.server = ServerTls::require_client_certificates(chain_pem, key_pem, client_ca_pem)?;
        self.executor_identity = Some((executor_chain_pem.to_vec(), executor_key_pem.to_vec()));
        Ok(self)
    }

    /// Writes the files executors read into `dir` and returns their
    /// `LIBPROCESS_SSL_*` variables.
    pub(crate) fn executor_environment(
        &self,
        dir: &Path,
    ) -> std::io::Result<Vec<(String, String)>> {
        std::fs::create_dir_all(dir)?;
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, &self.ca_pem)?;
        let mut env = vec![
            ("LIBPROCESS_SSL_ENABLED".to_string(), "true".to_string()),
            (
                "LIBPROCESS_SSL_CA_FILE".to_string(),
                ca.display().to_string(),
            ),
            (
                "LIBPROCESS_SSL_VERIFY_SERVER_CERT".to_string(),
                "true".to_string(),
            ),
        ];
        if let Some((chain, key)) = &self.executor_identity {
            let (cert_file, key_file) = (dir.join("executor.pem"), dir.join("executor.key"));
            std::fs::write(&cert_file, chain)?;
            write_private(&key_file, key)?;
            env.push((
                "LIBPROCESS_SSL_CERT_FILE".to_string(),
                cert_file.display().to_string(),
            ));
            env.push((
                "LIBPROCESS_SSL_KEY_FILE".to_string(),
                key_file.display().to_string(),
            ));
            env.push((
                "LIBPROCESS_SSL_REQUIRE_CLIENT_CERT".to_string(),
                "true".to_string(),
            ));
        }
        Ok(env)
    }
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents)
}
