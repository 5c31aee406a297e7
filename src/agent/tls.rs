//! The agent's TLS identity: a self-signed certificate (rcgen, ring) made at `agent init`,
//! loaded into a rustls server configuration with the ring provider at `agent run`.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A new certificate and key: PEM texts and the certificate's DER bytes (for the fingerprint).
pub struct NewIdentity {
    pub cert_pem: String,
    pub key_pem: String,
    pub cert_der: Vec<u8>,
}

/// A self-signed certificate for these subject names (DNS names or IP addresses).
pub fn generate(sans: &[String]) -> Result<NewIdentity, String> {
    let certified = rcgen::generate_simple_self_signed(sans.to_vec())
        .map_err(|e| format!("cannot create the certificate: {e}"))?;
    Ok(NewIdentity {
        cert_pem: certified.cert.pem(),
        key_pem: certified.signing_key.serialize_pem(),
        cert_der: certified.cert.der().to_vec(),
    })
}

/// The DER bytes of the certificate in `cert.pem` (for printing its fingerprint).
pub fn load_cert_der(dir: &Path) -> Result<Vec<u8>, String> {
    let path = dir.join("cert.pem");
    let cert = CertificateDer::from_pem_file(&path)
        .map_err(|e| format!("{}: cannot read the certificate: {e}", path.display()))?;
    Ok(cert.as_ref().to_vec())
}

/// The rustls server configuration for the certificate and key in `dir`.
pub fn server_config(dir: &Path) -> Result<Arc<rustls::ServerConfig>, String> {
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    let cert = CertificateDer::from_pem_file(&cert_path)
        .map_err(|e| format!("{}: cannot read the certificate: {e}", cert_path.display()))?;
    let key = PrivateKeyDer::from_pem_file(&key_path)
        .map_err(|e| format!("{}: cannot read the private key: {e}", key_path.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS setup: {e}"))?
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .map_err(|e| {
        format!(
            "{}: the key does not fit the certificate: {e}",
            key_path.display()
        )
    })?;
    Ok(Arc::new(config))
}
