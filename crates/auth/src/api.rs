//! What a spec says about an API that progenitor does not keep: per-operation method, path
//! template and security, and the security schemes. xtask writes one [`ApiDescription`] into each
//! generated crate (`API`).

/// One API's operations and security schemes.
#[derive(Debug)]
pub struct ApiDescription {
    pub title: &'static str,
    pub version: &'static str,
    /// Sorted by [`operation_order`] of their ids.
    pub operations: &'static [Operation],
    pub security_schemes: &'static [SecurityScheme],
}

impl ApiDescription {
    pub fn operation(&self, id: &str) -> Option<&'static Operation> {
        self.operations
            .binary_search_by(|op| operation_order(op.id, id))
            .ok()
            .map(|i| &self.operations[i])
    }

    pub fn scheme(&self, name: &str) -> Option<&'static SecurityScheme> {
        self.security_schemes.iter().find(|s| s.name == name)
    }
}

/// The order of [`ApiDescription::operations`]: shorter ids first, then bytewise. Every call
/// looks its operation up twice; comparing lengths first spares most string comparisons.
pub fn operation_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// One operation of the spec.
#[derive(Debug)]
pub struct Operation {
    pub id: &'static str,
    /// Upper-case HTTP method.
    pub method: &'static str,
    /// Path template as in the spec (`/stats/{id}/`); safe to log.
    pub path: &'static str,
    /// Alternatives (OR) of scheme-name sets (AND). Empty: the operation needs no credentials.
    pub security: &'static [&'static [&'static str]],
    /// Query parameters the spec bounds (`minimum`/`maximum`), checked before sending.
    pub query_ranges: &'static [QueryRange],
    /// Array query parameters sent comma-separated (`style: form, explode: false`), which
    /// progenitor would otherwise repeat (`a=1&a=2`).
    pub comma_separated: &'static [&'static str],
    /// The success body is not JSON (CSV, an archive) and is handed to the caller as a stream:
    /// it is not buffered and has no size limit.
    pub streams_body: bool,
}

/// Inclusive bounds of an integer query parameter.
#[derive(Debug)]
pub struct QueryRange {
    pub name: &'static str,
    pub min: Option<i64>,
    pub max: Option<i64>,
}

impl Operation {
    /// GET, HEAD, PUT, DELETE and OPTIONS may be sent twice without changing the outcome.
    pub fn is_idempotent(&self) -> bool {
        matches!(self.method, "GET" | "HEAD" | "PUT" | "DELETE" | "OPTIONS")
    }
}

/// A named security scheme of the spec.
#[derive(Debug)]
pub struct SecurityScheme {
    pub name: &'static str,
    pub kind: SchemeKind,
}

/// The kinds of credential an OpenAPI 3.0 spec can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemeKind {
    /// A key in a header, query parameter or cookie. `prefix` comes from the scheme's
    /// `x-value-prefix` extension (TONalytica's `Authorization: Key <key>`).
    ApiKey {
        location: KeyLocation,
        parameter: &'static str,
        prefix: &'static str,
    },
    /// `Authorization: <scheme> …` (`bearer`, `basic`), lower case.
    Http {
        scheme: &'static str,
    },
    OAuth2,
    OpenIdConnect,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLocation {
    Header,
    Query,
    Cookie,
}
