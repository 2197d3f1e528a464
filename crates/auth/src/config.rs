//! [`ClientConfig`]: the HTTP client every generated crate should be built with.

use std::time::Duration;

/// Transport settings, as a by-value builder ending in [`ClientConfig::build`].
///
/// Defaults: connect timeout 10 s, whole-request timeout 60 s, redirects **not** followed (a
/// redirect would otherwise carry API keys to wherever `Location` points), rustls with the
/// system's roots plus any added here.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    connect_timeout: Duration,
    timeout: Duration,
    user_agent: String,
    root_certificates: Vec<reqwest::Certificate>,
    identity: Option<IdentityPem>,
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
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(60),
            user_agent: concat!("analytics-clients/", env!("CARGO_PKG_VERSION")).to_string(),
            root_certificates: Vec::new(),
            identity: None,
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
            .user_agent(&self.user_agent)
            .redirect(reqwest::redirect::Policy::none());
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

/// reqwest is built without a default rustls crypto provider (aws-lc-rs costs ~30 s of C build);
/// install *ring* as the process default unless the application installed one already.
pub fn ensure_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing the race to another thread installing a provider is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}
