//! Certificate pinning: trust exactly one (or a few) server certificates by their SHA-256
//! fingerprint, for appliances whose self-signed certificate cannot be used as a root.
//!
//! Why: on-premises appliances (Boston Dynamics Scout, …) often serve a self-signed certificate
//! that is marked as a CA (`basicConstraints: CA:TRUE`). rustls/webpki refuse such a certificate
//! as a server (end-entity) certificate (`CaUsedAsEndEntity`) even when it is configured as a
//! trusted root, so "add the certificate as a root" does not work for them. Pinning does: the
//! handshake is accepted only when the server's end-entity certificate is byte-for-byte one of the
//! pinned certificates, and the server still has to prove possession of that certificate's key
//! (the handshake signature is verified with the *ring* provider's algorithms).
//!
//! What pinning does **not** check: the host name and the validity period. Both are meaningless
//! for an exact pinned certificate (an attacker cannot present it without its private key); an
//! expired appliance certificate keeps working until it is replaced, and then the pin must be
//! updated. Use [`crate::ClientConfig::with_pinned_certificate_sha256`].

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

use crate::config::ConfigError;

/// The SHA-256 fingerprint of a DER-encoded certificate, as `openssl x509 -noout -fingerprint
/// -sha256` prints it (`AB:CD:…`). Parsing accepts upper or lower case hex, with or without `:`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CertificateFingerprint([u8; 32]);

impl CertificateFingerprint {
    /// The fingerprint of a certificate in DER form.
    pub fn of_der(der: &[u8]) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        let mut out = [0u8; 32];
        out.copy_from_slice(digest.as_ref());
        CertificateFingerprint(out)
    }

    /// The fingerprint of the first certificate in a PEM document.
    pub fn of_pem(pem: &[u8]) -> Result<Self, ConfigError> {
        let cert = CertificateDer::from_pem_slice(pem)
            .map_err(|e| ConfigError::Certificate(e.to_string()))?;
        Ok(Self::of_der(&cert))
    }

    /// Parses `AB:CD:…` / `abcd…` (64 hex digits, `:` and spaces ignored, optional `sha256:`
    /// or `SHA256 Fingerprint=` prefix as printed by openssl).
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let trimmed = text.trim();
        let body = trimmed
            .rsplit_once('=')
            .map_or(trimmed, |(_, fp)| fp)
            .trim_start_matches("sha256:")
            .trim_start_matches("SHA256:");
        let hex: Vec<u8> = body.bytes().filter(|b| !matches!(b, b':' | b' ')).collect();
        let bad = || {
            ConfigError::Fingerprint(format!(
                "expected 64 hex digits (SHA-256), got `{}`",
                text.trim()
            ))
        };
        if hex.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (i, pair) in hex.chunks(2).enumerate() {
            let s = std::str::from_utf8(pair).map_err(|_| bad())?;
            out[i] = u8::from_str_radix(s, 16).map_err(|_| bad())?;
        }
        Ok(CertificateFingerprint(out))
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Display for CertificateFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for CertificateFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CertificateFingerprint({self})")
    }
}

/// A rustls verifier that accepts exactly the pinned end-entity certificates.
#[derive(Debug)]
pub(crate) struct PinnedVerifier {
    pins: Vec<CertificateFingerprint>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl PinnedVerifier {
    pub(crate) fn new(pins: Vec<CertificateFingerprint>) -> Self {
        PinnedVerifier {
            pins,
            algorithms: rustls::crypto::ring::default_provider().signature_verification_algorithms,
        }
    }
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
        let seen = CertificateFingerprint::of_der(end_entity);
        if self.pins.contains(&seen) {
            Ok(ServerCertVerified::assertion())
        } else {
            tracing::warn!(
                fingerprint = %seen,
                "server certificate does not match any pinned SHA-256 fingerprint"
            );
            Err(rustls::Error::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
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

/// A rustls client configuration (ring provider, safe default protocol versions) that trusts
/// only the pinned certificates and optionally presents a client identity (PEM with the
/// certificate chain and the private key).
///
/// No ALPN protocols are offered, so connections use HTTP/1.1 (what Scout serves).
pub(crate) fn pinned_rustls_config(
    pins: &[CertificateFingerprint],
    identity_pem: Option<&[u8]>,
) -> Result<rustls::ClientConfig, ConfigError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ConfigError::Build(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedVerifier::new(pins.to_vec())));
    let config = match identity_pem {
        None => builder.with_no_client_auth(),
        Some(pem) => {
            let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
                .collect::<Result<_, _>>()
                .map_err(|e| ConfigError::Identity(e.to_string()))?;
            if chain.is_empty() {
                return Err(ConfigError::Identity(
                    "no certificate in the identity PEM".to_string(),
                ));
            }
            // The error of a key parse never contains key material.
            let key = PrivateKeyDer::from_pem_slice(pem)
                .map_err(|e| ConfigError::Identity(e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| ConfigError::Identity(e.to_string()))?
        }
    };
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_in_openssl_and_plain_forms() {
        let fp = CertificateFingerprint::of_der(b"not really a certificate");
        let shown = fp.to_string();
        assert_eq!(shown.len(), 32 * 3 - 1);
        assert_eq!(CertificateFingerprint::parse(&shown).ok(), Some(fp));
        let plain = shown.replace(':', "").to_lowercase();
        assert_eq!(CertificateFingerprint::parse(&plain).ok(), Some(fp));
        let openssl = format!("SHA256 Fingerprint={shown}");
        assert_eq!(CertificateFingerprint::parse(&openssl).ok(), Some(fp));
        assert!(CertificateFingerprint::parse("AB:CD").is_err());
        assert!(CertificateFingerprint::parse(&"zz".repeat(32)).is_err());
    }
}
