//! Test certificates, generated per test run with rcgen: a CA, a server
//! certificate for `localhost` and `127.0.0.1`, a client certificate, and a
//! second, unrelated CA (for "wrong CA" tests). Nothing is checked in.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// PEM texts of a small public key infrastructure for tests.
#[derive(Debug, Clone)]
pub struct TestPki {
    /// The CA that signed the server and client certificates.
    pub ca_pem: String,
    /// The server certificate (`localhost`, `127.0.0.1`, `::1`).
    pub server_pem: String,
    /// Its private key.
    pub server_key_pem: String,
    /// A client certificate (for mutual TLS), signed by the CA.
    pub client_pem: String,
    /// Its private key.
    pub client_key_pem: String,
    /// A CA that signed nothing here.
    pub other_ca_pem: String,
}

fn ca(name: &str) -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().expect("a CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let pem = params.self_signed(&key).expect("a CA certificate").pem();
    (params, key, pem)
}

fn leaf(
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &Issuer<'_, &KeyPair>,
) -> (String, String) {
    let key = KeyPair::generate().expect("a key");
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let mut params = CertificateParams::new(names.clone()).expect("parameters");
    params
        .distinguished_name
        .push(DnType::CommonName, &names[0]);
    params.extended_key_usages = vec![usage];
    let cert = params
        .signed_by(&key, issuer)
        .expect("a signed certificate");
    (cert.pem(), key.serialize_pem())
}

/// A fresh set of test certificates.
pub fn test_pki() -> TestPki {
    let (ca_params, ca_key, ca_pem) = ca("mesos-rs test CA");
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let (server_pem, server_key_pem) = leaf(
        &["localhost", "127.0.0.1", "::1"],
        ExtendedKeyUsagePurpose::ServerAuth,
        &issuer,
    );
    let (client_pem, client_key_pem) = leaf(
        &["mesos-rs-test-client"],
        ExtendedKeyUsagePurpose::ClientAuth,
        &issuer,
    );
    let (_, _, other_ca_pem) = ca("an unrelated CA");
    TestPki {
        ca_pem,
        server_pem,
        server_key_pem,
        client_pem,
        client_key_pem,
        other_ca_pem,
    }
}
