//! [`BasicLogin`]: the username + password credential of `GET /api/token` (scheme
//! `LoginBasicAuth`), the first step of the key bootstrap the official client's test-suite uses.
//!
//! ```rust,no_run
//! # async fn run() -> Result<(), serenytics::Error> {
//! use serenytics::{Auth, BasicLogin, Client, ClientConfig};
//! let http = ClientConfig::new().build().expect("client");
//! let login = Client::new_with_client("https://api.serenytics.com", http.clone(),
//!     Auth::custom(BasicLogin::new("john@doe.com", "password")));
//! let token = login.get_token().send().await?.into_inner().token;
//! let session = Client::new_with_client("https://api.serenytics.com", http,
//!     Auth::api_key_for_scheme("SessionTokenAuth", token));
//! let key = session.create_api_key().send().await?.into_inner().api_key;
//! # let _ = key; Ok(()) }
//! ```

use analytics_auth::{AuthError, Authorizer, SchemeKind, Secret, SecurityScheme};
use futures::future::BoxFuture;
use reqwest::header::{HeaderValue, AUTHORIZATION};

/// HTTP Basic credentials. `Debug` shows the username only.
#[derive(Debug)]
pub struct BasicLogin {
    username: String,
    password: Secret,
}

impl BasicLogin {
    pub fn new(username: impl Into<String>, password: impl Into<Secret>) -> Self {
        BasicLogin {
            username: username.into(),
            password: password.into(),
        }
    }
}

impl Authorizer for BasicLogin {
    fn satisfies(&self, scheme: &SecurityScheme) -> bool {
        matches!(scheme.kind, SchemeKind::Http { scheme: "basic" })
    }

    fn authorize<'a>(
        &'a self,
        scheme: &'a SecurityScheme,
        request: &'a mut reqwest::Request,
    ) -> BoxFuture<'a, Result<(), AuthError>> {
        Box::pin(async move {
            let raw = format!("{}:{}", self.username, self.password.expose());
            let mut value = HeaderValue::from_str(&format!("Basic {}", base64(raw.as_bytes())))
                .map_err(|_| AuthError::InvalidHeaderValue {
                    scheme: scheme.name.to_string(),
                })?;
            value.set_sensitive(true);
            request.headers_mut().insert(AUTHORIZATION, value);
            Ok(())
        })
    }
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            (
                "{\"__country__\": \"France\"}",
                "eyJfX2NvdW50cnlfXyI6ICJGcmFuY2UifQ==",
            ),
        ] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
    }

    #[test]
    fn debug_hides_the_password() {
        let login = BasicLogin::new("john", "canary-pw-1");
        assert!(!format!("{login:?}").contains("canary-pw-1"));
    }
}
