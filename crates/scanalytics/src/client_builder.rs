//! [`ClientBuilder`]: credentials + token store + limits in, a ready [`Client`] out.

use std::time::Duration;

use analytics_auth::oauth2::{
    ClientAuthentication, OAuth2, OAuth2BuildError, TokenPlacement, TokenStore,
};
use analytics_auth::rate_limit::{Limit, RateLimiter, RetryPolicy, SendPolicy, Unauthenticated};
use analytics_auth::{Auth, ClientConfig, ConfigError, Secret};

use crate::Client;

/// The production server.
pub const DEFAULT_BASE_URL: &str = "https://query.scanalyticsinc.com";

/// The token endpoint, relative to the base URL (trailing slash required by the server).
pub const TOKEN_PATH: &str = "/o/token/";

/// Client-side limits for an authenticated client: the documented 180/min and 1,200/h less ~2 %
/// headroom for network jitter, in bursts of at most 5.
pub fn authenticated_limits() -> [Limit; 2] {
    [
        Limit::per_minute(176).with_burst(5),
        Limit::per_hour(1176).with_burst(5),
    ]
}

/// Client-side limit for an anonymous client: the documented 20/min less one, bursts of 3.
pub fn anonymous_limits() -> [Limit; 1] {
    [Limit::per_minute(19).with_burst(3)]
}

enum Grant {
    Anonymous,
    Password {
        client_id: String,
        username: String,
        password: Secret,
    },
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
    },
    RefreshToken {
        client_id: String,
        refresh_token: Secret,
    },
    StoredTokens {
        client_id: String,
    },
}

/// Builds a [`Client`] for the Scanalytics API.
///
/// ```no_run
/// use scanalytics::oauth2::FileTokenStore;
///
/// # fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = scanalytics::ClientBuilder::new()
///     .password("my-client-id", "me@example.com", "my password")
///     .token_store(FileTokenStore::new("/var/lib/myapp/scanalytics-tokens.json"))
///     .build()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
pub struct ClientBuilder {
    base_url: String,
    credentials: Grant,
    client_secret: Option<Secret>,
    client_authentication: ClientAuthentication,
    placement: TokenPlacement,
    store: Option<
        Box<
            dyn FnOnce(
                analytics_auth::oauth2::OAuth2Builder,
            ) -> analytics_auth::oauth2::OAuth2Builder,
        >,
    >,
    refresh_margin: Option<Duration>,
    limiter: Option<RateLimiter>,
    retry: RetryPolicy,
    config: ClientConfig,
    http: Option<reqwest::Client>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.credentials {
            Grant::Anonymous => "anonymous",
            Grant::Password { .. } => "password",
            Grant::ClientCredentials { .. } => "client_credentials",
            Grant::RefreshToken { .. } => "refresh_token",
            Grant::StoredTokens { .. } => "stored_tokens",
        };
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("credentials", &kind)
            .field("client_authentication", &self.client_authentication)
            .field("placement", &self.placement)
            .field("limiter", &self.limiter)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    OAuth2(#[from] OAuth2BuildError),
}

impl ClientBuilder {
    /// Anonymous (no credentials) against [`DEFAULT_BASE_URL`] until a credential is chosen.
    pub fn new() -> Self {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_string(),
            credentials: Grant::Anonymous,
            client_secret: None,
            client_authentication: ClientAuthentication::RequestBody,
            placement: TokenPlacement::Header,
            store: None,
            refresh_margin: None,
            limiter: None,
            retry: RetryPolicy::default(),
            config: ClientConfig::new(),
            http: None,
        }
    }

    /// Another server (e.g. a test server); no trailing slash.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_string();
        self
    }

    /// Password grant of a public OAuth client (add [`Self::client_secret`] for a confidential
    /// one). The password is kept to log in again when a refresh token is refused.
    pub fn password(
        mut self,
        client_id: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Secret>,
    ) -> Self {
        self.credentials = Grant::Password {
            client_id: client_id.into(),
            username: username.into(),
            password: password.into(),
        };
        self
    }

    /// Client-credentials grant (tokens act for the application's owner; no refresh tokens).
    pub fn client_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        self.credentials = Grant::ClientCredentials {
            client_id: client_id.into(),
            client_secret: client_secret.into(),
        };
        self
    }

    /// Start from a refresh token obtained elsewhere (no password kept: when the refresh token
    /// is refused, calls fail with "re-authentication needed").
    pub fn refresh_token(
        mut self,
        client_id: impl Into<String>,
        refresh_token: impl Into<Secret>,
    ) -> Self {
        self.credentials = Grant::RefreshToken {
            client_id: client_id.into(),
            refresh_token: refresh_token.into(),
        };
        self
    }

    /// Use only what the token store holds (e.g. saved by an earlier password login).
    pub fn stored_tokens(mut self, client_id: impl Into<String>) -> Self {
        self.credentials = Grant::StoredTokens {
            client_id: client_id.into(),
        };
        self
    }

    /// The client secret of a confidential client, sent with every token request.
    pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Send the client secret as HTTP Basic instead of form fields.
    pub fn client_authentication(mut self, how: ClientAuthentication) -> Self {
        self.client_authentication = how;
        self
    }

    /// Where the access token goes: `Authorization: Bearer` (default) or `?access_token=`.
    /// ([`TokenPlacement::FormBody`] needs a form body, which no data route of this API has.)
    pub fn token_placement(mut self, placement: TokenPlacement) -> Self {
        self.placement = placement;
        self
    }

    /// Where tokens are persisted; every new refresh token is saved here before it is used.
    /// Without a store, tokens live in memory only.
    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.store = Some(Box::new(move |b| b.token_store(store)));
        self
    }

    /// Refresh the access token this long before it expires (default 5 min).
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// Use this rate limiter instead of the default one (e.g. one shared by several clients of the
    /// same account, or other limits). Clones of a limiter share its buckets.
    pub fn rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// How 429 answers to GET requests are retried (default [`RetryPolicy::default`]).
    pub fn retry_policy(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Transport settings (timeouts, extra CA) for API and token requests.
    pub fn client_config(mut self, config: ClientConfig) -> Self {
        self.config = config;
        self
    }

    /// A ready-made `reqwest::Client` (overrides [`Self::client_config`]).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Loads the token store and returns the client. No request is made until the first call.
    pub fn build(self) -> Result<Client, BuildError> {
        let http = match self.http {
            Some(h) => h,
            None => self.config.build()?,
        };
        let anonymous = matches!(self.credentials, Grant::Anonymous);
        let limiter = self.limiter.unwrap_or_else(|| {
            if anonymous {
                RateLimiter::new(anonymous_limits())
            } else {
                RateLimiter::new(authenticated_limits())
            }
        });
        let policy = SendPolicy::new()
            .with_limiter(limiter)
            .with_retry(self.retry);
        let token_url = format!("{}{TOKEN_PATH}", self.base_url);
        let oauth = |client_id: String| {
            let mut b = OAuth2::builder(token_url.clone(), client_id)
                .client_authentication(self.client_authentication)
                .placement(self.placement)
                .http_client(http.clone())
                .send_policy(policy.clone());
            if let Some(secret) = self.client_secret.clone() {
                b = b.client_secret(secret);
            }
            if let Some(margin) = self.refresh_margin {
                b = b.refresh_margin(margin);
            }
            b
        };
        let builder = match self.credentials {
            Grant::Anonymous => {
                let auth = Auth::custom(Unauthenticated::new(policy));
                return Ok(Client::new_with_client(&self.base_url, http, auth));
            }
            Grant::Password {
                client_id,
                username,
                password,
            } => oauth(client_id).password(username, password),
            Grant::ClientCredentials {
                client_id,
                client_secret,
            } => oauth(client_id).client_credentials(client_secret),
            Grant::RefreshToken {
                client_id,
                refresh_token,
            } => oauth(client_id).refresh_token(refresh_token),
            Grant::StoredTokens { client_id } => oauth(client_id),
        };
        let builder = match self.store {
            Some(with_store) => with_store(builder),
            None => builder,
        };
        let auth = Auth::custom(builder.build()?);
        Ok(Client::new_with_client(&self.base_url, http, auth))
    }
}
