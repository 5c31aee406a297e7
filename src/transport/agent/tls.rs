//! TLS to an agent with its certificate pinned: the agent's certificate is self-signed, so
//! instead of a CA chain the client accepts exactly the certificate whose SHA-256 matches the
//! fingerprint in hosts.toml (handshake signatures are still verified, so a copied
//! certificate without its key does not pass).

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use subtle::ConstantTimeEq;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::super::{ErrorKind, TransportError};
use crate::protocol::cert_fingerprint;

/// Accepts the one certificate whose SHA-256 is `pin`; remembers what was presented so a
/// mismatch can be reported with both fingerprints.
#[derive(Debug)]
struct PinnedVerifier {
    pin: [u8; 32],
    presented: Arc<Mutex<Option<String>>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.presented.lock() {
            *seen = Some(cert_fingerprint(end_entity.as_ref()));
        }
        let digest = ring::digest::digest(&ring::digest::SHA256, end_entity.as_ref());
        if bool::from(digest.as_ref().ct_eq(&self.pin)) {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "agent certificate does not match the pinned fingerprint".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Runs the TLS handshake on `tcp`, accepting only the pinned certificate. A mismatch is a
/// host-key error that shows both fingerprints and what to do.
pub async fn handshake(
    name: &str,
    url: &str,
    server_host: &str,
    pin: &(String, [u8; 32]),
    tcp: TcpStream,
) -> Result<TlsStream<TcpStream>, TransportError> {
    let (config, presented) = pinned_client_config(pin.1).map_err(|e| {
        TransportError::new(ErrorKind::Io, format!("{name}: TLS set-up failed: {e}"))
    })?;
    // The name only fills SNI: trust comes from the pin, not from the name.
    let server_name =
        ServerName::try_from(server_host.to_string()).unwrap_or_else(|_| loopback_name());
    match TlsConnector::from(Arc::new(config))
        .connect(server_name, tcp)
        .await
    {
        Ok(stream) => Ok(stream),
        Err(e) => {
            let seen = presented.lock().ok().and_then(|s| s.clone());
            match seen {
                Some(fp) if fp != format_pin(&pin.1) => Err(TransportError::new(
                    ErrorKind::HostKey,
                    format!(
                        "{name}: REFUSED: the agent at {url} presented certificate {fp}, but \
                         hosts.toml pins {}. Either the agent was re-initialised (check its \
                         fingerprint on the host: it is printed by `fleetdeck agent init`) and \
                         the pin must be updated, or someone is intercepting the connection: \
                         do not update the pin until you know which",
                        pin.0
                    ),
                )),
                _ => Err(TransportError::new(
                    ErrorKind::Connect,
                    format!(
                        "{name}: TLS handshake with the agent at {url} failed: {e} (is the agent \
                         running with --insecure-plaintext? then the url is ws://)"
                    ),
                )),
            }
        }
    }
}

/// What the client presented, once a handshake got that far.
pub type Presented = Arc<Mutex<Option<String>>>;

/// A rustls client configuration (ring provider) that accepts only the certificate whose
/// SHA-256 is `pin`, and where the certificate the server presented is recorded. Public so
/// the agent server's tests connect exactly as consoles do.
pub fn pinned_client_config(pin: [u8; 32]) -> Result<(ClientConfig, Presented), rustls::Error> {
    let provider: Arc<CryptoProvider> = Arc::new(rustls::crypto::ring::default_provider());
    let presented: Presented = Arc::new(Mutex::new(None));
    let verifier = PinnedVerifier {
        pin,
        presented: presented.clone(),
        algorithms: provider.signature_verification_algorithms,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok((config, presented))
}

fn format_pin(bytes: &[u8; 32]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A stand-in server name when the url's host is not a valid one (SNI only; the pin decides).
fn loopback_name() -> ServerName<'static> {
    ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into())
}
