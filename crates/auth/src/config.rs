//! [`ClientConfig`]: the HTTP client every generated crate should be built with.

use std::time::Duration;

/// Transport settings, as a by-value builder ending in [`ClientConfig::build`].
///
/// Defaults: connect timeout 10 s, whole-request timeout 60 s, 30 s without data from the server
/// (read timeout), redirects **not** followed (a
/// redirect would otherwise carry API keys to wherever `Location` points; see
/// [`ClientConfig::with_same_origin_redirects`]), no `Referer` header, rustls with the system's
/// roots plus any added here.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    connect_timeout: Duration,
    timeout: Duration,
    read_timeout: Duration,
    user_agent: String,
    root_certificates: Vec<reqwest::Certificate>,
    identity: Option<IdentityPem>,
    /// SHA-256 fingerprints of the only server certificates accepted (see [`crate::tls`]).
    pinned_certificates: Vec<crate::tls::CertificateFingerprint>,
    /// Set only by [`ClientConfig::dangerous_disable_certificate_verification`].
    certificate_verification_disabled: bool,
    /// Redirects followed within the same origin (0: none).
    same_origin_redirects: usize,
}

/// A client certificate and key (PEM). Its `Debug` does not print the key.
#[derive(Clone)]
struct IdentityPem(Vec<u8>);

impl std::fmt::Debug for IdentityPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentityPem([redacted])")
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("invalid PEM certificate: {0}")]
    Certificate(String),
    #[error("invalid client identity (certificate + key PEM): {0}")]
    Identity(String),
    #[error("cannot build the HTTP client: {0}")]
    Build(String),
    #[error("invalid certificate fingerprint: {0}")]
    Fingerprint(String),
    #[error("cannot read `{path}`: {reason}")]
    File { path: String, reason: String },
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            read_timeout: Duration::from_secs(30),
            user_agent: concat!("analytics-clients/", env!("CARGO_PKG_VERSION")).to_string(),
            root_certificates: Vec::new(),
            identity: None,
            pinned_certificates: Vec::new(),
            certificate_verification_disabled: false,
            same_origin_redirects: 0,
        }
    }
}

impl ClientConfig {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for a whole request, body included.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Follows up to `max` redirects that stay on the request's origin (scheme, host and port), so
    /// that headers, cookies and query-string keys only ever reach the server they were meant
    /// for. A redirect to another origin is not followed: the call returns the 3xx as an
    /// unexpected response. More than `max` redirects (a loop) is a transport error.
    pub fn with_same_origin_redirects(mut self, max: usize) -> Self {
        self.same_origin_redirects = max;
        self
    }

    /// Longest wait for the next piece of a response (default 30 s): a server that stops
    /// sending fails the call after this, not after the whole-request timeout.
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Trusts one more CA (PEM), e.g. an on-premises server's own CA.
    pub fn with_root_certificate_pem(mut self, pem: &[u8]) -> Result<Self, ConfigError> {
        let cert = reqwest::Certificate::from_pem(pem)
            .map_err(|e| ConfigError::Certificate(e.without_url().to_string()))?;
        self.root_certificates.push(cert);
        Ok(self)
    }

    /// Trusts every CA certificate in a PEM file (one CA or a bundle). A file without any
    /// certificate is an error.
    pub fn with_root_certificate_pem_file(
        mut self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Self, ConfigError> {
        let path = path.as_ref();
        let pem = read_file(path)?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| ConfigError::Certificate(e.without_url().to_string()))?;
        if certs.is_empty() {
            return Err(ConfigError::Certificate(format!(
                "no certificate in `{}`",
                path.display()
            )));
        }
        self.root_certificates.extend(certs);
        Ok(self)
    }

    /// Presents a client certificate read from a PEM file holding the certificate chain and the
    /// private key (see [`ClientConfig::with_identity_pem`]).
    pub fn with_identity_pem_file(
        self,
        path: impl AsRef<std::path::Path>,
    ) -> Result<Self, ConfigError> {
        let pem = read_file(path.as_ref())?;
        self.with_identity_pem(&pem)
    }

    /// Accepts the server only if its certificate has this SHA-256 fingerprint (`AB:CD:…` as
    /// `openssl x509 -noout -fingerprint -sha256 -in cert.pem` prints it). May be called more than
    /// once (e.g. during a certificate rollover); any pinned certificate is accepted.
    ///
    /// This is the safe answer for appliances whose self-signed certificate is marked as a CA,
    /// which rustls refuses as a server certificate even when added as a root. With a pin, the
    /// roots (system and added) are **not** consulted, and host name and validity dates are not
    /// checked: the exact certificate is trusted (see [`crate::tls`]).
    pub fn with_pinned_certificate_sha256(
        mut self,
        fingerprint: &str,
    ) -> Result<Self, ConfigError> {
        self.pinned_certificates
            .push(crate::tls::CertificateFingerprint::parse(fingerprint)?);
        Ok(self)
    }

    /// Like [`ClientConfig::with_pinned_certificate_sha256`], with a parsed fingerprint.
    pub fn with_pinned_certificate(
        mut self,
        fingerprint: crate::tls::CertificateFingerprint,
    ) -> Self {
        self.pinned_certificates.push(fingerprint);
        self
    }

    /// **DANGER: turns off all verification of the server's certificate.** Anyone on the network
    /// path can then impersonate the server and read the session cookies, passwords and data.
    /// Off by default; never use it outside a throw-away test setup. For a self-signed server use
    /// [`ClientConfig::with_root_certificate_pem`] (its CA) or
    /// [`ClientConfig::with_pinned_certificate_sha256`] (its exact certificate) instead.
    /// Every [`ClientConfig::build`] with this set logs a warning.
    pub fn dangerous_disable_certificate_verification(mut self) -> Self {
        self.certificate_verification_disabled = true;
        self
    }

    /// Whether [`ClientConfig::dangerous_disable_certificate_verification`] was called.
    pub fn certificate_verification_disabled(&self) -> bool {
        self.certificate_verification_disabled
    }

    /// Presents a client certificate (PEM with certificate chain and private key).
    pub fn with_identity_pem(mut self, pem: &[u8]) -> Result<Self, ConfigError> {
        reqwest::Identity::from_pem(pem)
            .map_err(|e| ConfigError::Identity(e.without_url().to_string()))?;
        self.identity = Some(IdentityPem(pem.to_vec()));
        Ok(self)
    }

    /// Builds the `reqwest::Client` to hand to a generated `Client::new_with_client`.
    pub fn build(&self) -> Result<reqwest::Client, ConfigError> {
        ensure_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.timeout)
            .read_timeout(self.read_timeout)
            .user_agent(&self.user_agent)
            .referer(false)
            .redirect(redirect_policy(self.same_origin_redirects));
        if self.certificate_verification_disabled {
            tracing::warn!(
                "TLS certificate verification is DISABLED for this client \
                 (ClientConfig::dangerous_disable_certificate_verification): \
                 the server is not authenticated"
            );
            builder = builder.tls_danger_accept_invalid_certs(true);
        } else if !self.pinned_certificates.is_empty() {
            let identity = self
                .identity
                .as_ref()
                .map(|IdentityPem(pem)| pem.as_slice());
            let tls = crate::tls::pinned_rustls_config(&self.pinned_certificates, identity)?;
            return builder
                .tls_backend_preconfigured(tls)
                .build()
                .map_err(|e| ConfigError::Build(e.without_url().to_string()));
        }
        for cert in &self.root_certificates {
            builder = builder.add_root_certificate(cert.clone());
        }
        if let Some(IdentityPem(pem)) = &self.identity {
            let identity = reqwest::Identity::from_pem(pem)
                .map_err(|e| ConfigError::Identity(e.without_url().to_string()))?;
            builder = builder.identity(identity);
        }
        builder
            .build()
            .map_err(|e| ConfigError::Build(e.without_url().to_string()))
    }
}

fn redirect_policy(max: usize) -> reqwest::redirect::Policy {
    if max == 0 {
        return reqwest::redirect::Policy::none();
    }
    reqwest::redirect::Policy::custom(move |attempt| {
        let same_origin = attempt
            .previous()
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if !same_origin {
            attempt.stop()
        } else if attempt.previous().len() > max {
            attempt.error(TooManyRedirects(max))
        } else {
            attempt.follow()
        }
    })
}

/// The error of a redirect chain longer than allowed (usually a loop).
#[derive(Debug, thiserror::Error)]
#[error("more than {0} redirects")]
struct TooManyRedirects(usize);

fn read_file(path: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        reason: e.to_string(),
    })
}

/// reqwest is built without a default rustls crypto provider (aws-lc-rs costs ~30 s of C build);
/// install *ring* as the process default unless the application installed one already.
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing the race to another thread installing a provider is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
