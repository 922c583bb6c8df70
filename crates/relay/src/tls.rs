//! TLS for the relay: rustls, TLS 1.3 only, with the `ring` provider (no C toolchain beyond the
//! one Rust needs). Agents' tokens and callers' numbers cross this connection, so there is no
//! downgrade to TLS 1.2 for old clients: every client we ship speaks 1.3.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;
use crate::config::TlsConfig;

/// Builds the rustls server configuration from the PEM files named in the config.
pub(crate) fn server_config(tls: &TlsConfig) -> Result<Arc<ServerConfig>, Error> {
    let tls_err = |key: &str, message: String| Error::Tls(format!("{key}: {message}"));
    let certs = CertificateDer::pem_file_iter(&tls.cert)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            tls_err(
                "tls.cert",
                format!("cannot read {}: {e}", tls.cert.display()),
            )
        })?;
    if certs.is_empty() {
        return Err(tls_err(
            "tls.cert",
            format!("{} holds no certificate", tls.cert.display()),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key)
        .map_err(|e| tls_err("tls.key", format!("cannot read {}: {e}", tls.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_err("tls.key", format!("does not match the certificate: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
