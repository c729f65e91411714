//! Unit tests of the TLS settings.

use super::*;

#[test]
fn libprocess_environment_off_unless_enabled() {
    let none = TlsConfig::from_libprocess_lookup(|_| None).unwrap();
    assert!(none.is_none());
    let off = TlsConfig::from_libprocess_lookup(|n| {
        (n == "LIBPROCESS_SSL_ENABLED").then(|| "false".to_string())
    })
    .unwrap();
    assert!(off.is_none());
    let on = TlsConfig::from_libprocess_lookup(|n| {
        (n == "LIBPROCESS_SSL_ENABLED").then(|| "1".to_string())
    })
    .unwrap()
    .expect("enabled");
    assert!(on.roots.is_none() && !on.has_identity());
    let legacy =
        TlsConfig::from_libprocess_lookup(|n| (n == "SSL_ENABLED").then(|| "true".to_string()))
            .unwrap();
    assert!(legacy.is_some());
}

#[test]
fn libprocess_environment_errors_are_typed() {
    let err = TlsConfig::from_libprocess_lookup(|n| match n {
        "LIBPROCESS_SSL_ENABLED" => Some("yes please".into()),
        _ => None,
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::Environment {
                name: "LIBPROCESS_SSL_ENABLED",
                ..
            }
        ),
        "{err:?}"
    );
    let err = TlsConfig::from_libprocess_lookup(|n| match n {
        "LIBPROCESS_SSL_ENABLED" => Some("true".into()),
        "LIBPROCESS_SSL_KEY_FILE" => Some("/nonexistent/key.pem".into()),
        _ => None,
    })
    .unwrap_err();
    assert!(err.to_string().contains("go together"), "{err}");
    let err = TlsConfig::from_libprocess_lookup(|n| match n {
        "LIBPROCESS_SSL_ENABLED" => Some("true".into()),
        "LIBPROCESS_SSL_CA_FILE" => Some("/nonexistent/ca.pem".into()),
        _ => None,
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            TlsError::Read {
                what: "CA file",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn garbage_pem_is_refused_without_echoing_it() {
    let err = TlsConfig::new().ca_pem(b"not a certificate").unwrap_err();
    assert!(matches!(err, TlsError::Pem { .. }), "{err:?}");
    let secret = b"-----BEGIN PRIVATE KEY-----\nc2VjcmV0LXNlY3JldA==\n-----END PRIVATE KEY-----\n";
    let cert = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    let err = TlsConfig::new().identity_pem(cert, secret).unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains("c2VjcmV0"), "{text}");
}

#[test]
fn verdicts_are_found_inside_nested_io_errors() {
    use rustls::CertificateError;
    let nested = std::io::Error::other(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
    ));
    let (reason, verdict) = explain_handshake_failure(&nested).expect("found");
    assert!(
        verdict && reason.contains("not signed by a trusted CA"),
        "{reason}"
    );
    let refused = std::io::Error::other(rustls::Error::AlertReceived(
        rustls::AlertDescription::CertificateRequired,
    ));
    let (reason, verdict) = explain_handshake_failure(&refused).expect("found");
    assert!(verdict && reason.contains("mutual TLS"), "{reason}");
    let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
    assert!(explain_handshake_failure(&reset).is_none());
}

#[test]
fn server_names_are_dns_names_or_addresses() {
    assert!(TlsConfig::new().server_name("mesos.internal").is_ok());
    assert!(TlsConfig::new().server_name("127.0.0.1").is_ok());
    assert!(TlsConfig::new().server_name("[::1]").is_ok());
    assert!(matches!(
        TlsConfig::new().server_name("not a name!"),
        Err(TlsError::ServerName(_))
    ));
}

#[test]
fn debug_shows_no_key_material() {
    let config = TlsConfig::new().server_name("m").unwrap();
    let text = format!("{config:?}");
    assert!(text.contains("system and bundled"), "{text}");
}
