//! Spec → generation view → progenitor → formatted Rust source with a provenance header.

use std::panic::{self, AssertUnwindSafe};

use openapiv3::{OpenAPI, ReferenceOr, SecurityScheme};
use proc_macro2::TokenStream;
use progenitor::{GenerationSettings, Generator, HooksMode, InterfaceStyle, TagStyle};
use quote::quote;

use crate::postprocess;
use crate::problem::{pointer, Problem};
use crate::spec::{Spec, METHODS};
use crate::view::{self, View};

/// The generated source of one client crate, plus facts the crate's manifest must reflect.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Contents of `crates/<name>/src/generated.rs`.
    pub source: String,
    /// What the generation view rewrote, for review.
    pub rewrites: Vec<view::Rewrite>,
    /// Optional dependencies the generated types need (`chrono`, `uuid`).
    pub extra_dependencies: Vec<&'static str>,
}

/// Settings shared by every crate: builder-style calls, one hooks implementation per crate carrying
/// auth, JSON-schema derives for users who embed our types in their own schemas.
fn settings() -> GenerationSettings {
    let mut s = GenerationSettings::new();
    s.with_interface(InterfaceStyle::Builder)
        .with_tag(TagStyle::Merged)
        .with_hooks(HooksMode::Expected)
        .with_inner_type(quote!(analytics_auth::Auth))
        .with_derive("schemars::JsonSchema")
        .with_map_type("::std::collections::BTreeMap");
    for (schema, rust_type) in REPLACED_SCHEMAS {
        s.with_replacement(schema, rust_type, std::iter::empty());
    }
    s
}

/// Schemas whose generated type is a hand-written one: large row arrays are kept as compact
/// JSON text (`analytics_auth::rows::Rows`) instead of a `serde_json::Value` per cell, which
/// takes six to ten times the body size in memory.
///
/// A replacement inside the generated crate (`crate::…`) is also re-exported from `types`, so
/// that the schema keeps its place there. Serenytics' `FormattedDataResponse` (result or
/// application error) is read in one pass by `status` instead of through an untagged enum, which
/// buffers the whole body into an intermediate tree first.
pub const REPLACED_SCHEMAS: &[(&str, &str)] = &[
    ("QueryResultRows", "analytics_auth::rows::Rows"),
    ("FormattedDataRows", "analytics_auth::rows::Rows"),
    (
        "FormattedDataResponse",
        "crate::formatted::FormattedDataResponse",
    ),
];

/// Replaced types that decode a whole body themselves (keeping parts of it instead of copying):
/// (type, decoder `fn(&Bytes) -> Result<Type, serde_json::Error>`). The generated success arm
/// decodes them with `analytics_auth::hooks::decode_with` (see `postprocess`).
pub const REPLACED_DECODERS: &[(&str, &str)] = &[(
    "crate::formatted::FormattedDataResponse",
    "crate::formatted::FormattedDataResponse::from_body",
)];

/// Generates the crate source for `spec`.
pub fn generate(spec: &Spec) -> Result<Generated, Vec<Problem>> {
    let View { openapi, rewrites } = view::derive(spec)?;
    let (tokens, extra_dependencies) =
        run_progenitor(&openapi).map_err(|message| locate_failure(spec, &openapi, &message))?;
    let tables = security_tables(spec, &openapi)?;

    let mut file: syn::File = syn::parse2(quote! { #tokens #tables }).map_err(|e| {
        vec![Problem::new(
            &spec.file,
            "",
            format!("progenitor produced unparsable code: {e}"),
            "report this as a generator bug",
        )]
    })?;
    every_operation_generated(spec, &file)?;
    postprocess::apply(&mut file).map_err(|m| {
        vec![Problem::new(
            &spec.file,
            "",
            m,
            "update xtask/src/postprocess.rs for this progenitor version",
        )]
    })?;
    let body = prettyplease::unparse(&file);
    let source = format!("{}{}", header(spec), body);
    Ok(Generated {
        source,
        rewrites,
        extra_dependencies,
    })
}

/// Each operation of the spec must have its method on `Client`; nothing is dropped silently.
fn every_operation_generated(spec: &Spec, file: &syn::File) -> Result<(), Vec<Problem>> {
    let mut methods = std::collections::BTreeSet::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        let is_client =
            matches!(imp.self_ty.as_ref(), syn::Type::Path(p) if p.path.is_ident("Client"));
        if is_client && imp.trait_.is_none() {
            for it in &imp.items {
                if let syn::ImplItem::Fn(f) = it {
                    methods.insert(f.sig.ident.to_string());
                }
            }
        }
    }
    let missing: Vec<Problem> = spec
        .openapi
        .operations()
        .filter_map(|(path, method, op)| {
            let id = op.operation_id.as_deref().unwrap_or_default();
            let name = heck::ToSnakeCase::to_snake_case(id);
            (!methods.contains(&name) && !methods.contains(&format!("{name}_"))).then(|| {
                Problem::new(
                    &spec.file,
                    pointer(["paths", path, method]),
                    format!("operation `{id}` has no `Client::{name}` in the generated code"),
                    "report this as a generator bug",
                )
            })
        })
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing)
    }
}

/// The first lines of every generated file: what made it, from what, and that it is not to be edited.
/// Its lint allows are the generated code's only ones; doc comments carry spec descriptions,
/// which are prose for people, not rustdoc links (`the distance [meters]`).
pub fn header(spec: &Spec) -> String {
    format!(
        "// @generated by `cargo xtask regenerate` from {} (sha256 {}).\n\
         // Do not edit: change the spec, then run `cargo xtask regenerate`.\n\
         #![allow(clippy::all, clippy::pedantic, clippy::unwrap_used, missing_debug_implementations, unused_imports, unused_mut, dead_code, rust_2018_idioms, rustdoc::broken_intra_doc_links)]\n",
        spec.file, spec.sha256
    )
}

/// Runs progenitor on a spec as written, without the generation view: what the view protects
/// against (used by the fixture tests to show why each rule exists).
pub fn progenitor_without_view(spec: &Spec) -> Result<(), String> {
    run_progenitor(&spec.openapi).map(|_| ())
}

/// Runs progenitor, turning both its errors and its panics into a message.
fn run_progenitor(openapi: &OpenAPI) -> Result<(TokenStream, Vec<&'static str>), String> {
    let previous_hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut generator = Generator::new(&settings());
        let tokens = generator
            .generate_tokens(openapi)
            .map_err(|e| e.to_string())?;
        let types = generator.get_type_space();
        let mut deps = Vec::new();
        if types.uses_chrono() {
            deps.push("chrono");
        }
        if types.uses_uuid() {
            deps.push("uuid");
        }
        // `regress` is not one: the generated code checks patterns with `analytics_auth::pattern`
        // (see `postprocess::check_patterns_in_one_pass`).
        if generator.uses_futures() {
            deps.push("futures");
        }
        Ok((tokens, deps))
    }));
    panic::set_hook(previous_hook);
    match result {
        Ok(r) => r,
        Err(payload) => Err(format!("progenitor panicked: {}", panic_message(&payload))),
    }
}

fn panic_message(payload: &Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string())
}

/// progenitor's messages rarely name the operation; generate each operation alone to find which.
fn locate_failure(spec: &Spec, openapi: &OpenAPI, message: &str) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (path, item) in &openapi.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for method in METHODS {
            let mut single = openapi.clone();
            let mut only = item.clone();
            let keep = match method {
                "get" => only.get.take(),
                "put" => only.put.take(),
                "post" => only.post.take(),
                "delete" => only.delete.take(),
                "options" => only.options.take(),
                "head" => only.head.take(),
                "patch" => only.patch.take(),
                _ => only.trace.take(),
            };
            let Some(op) = keep else { continue };
            let op_id = op.operation_id.clone().unwrap_or_default();
            let mut one = openapiv3::PathItem {
                parameters: item.parameters.clone(),
                ..Default::default()
            };
            match method {
                "get" => one.get = Some(op),
                "put" => one.put = Some(op),
                "post" => one.post = Some(op),
                "delete" => one.delete = Some(op),
                "options" => one.options = Some(op),
                "head" => one.head = Some(op),
                "patch" => one.patch = Some(op),
                _ => one.trace = Some(op),
            }
            single.paths.paths = [(path.clone(), ReferenceOr::Item(one))]
                .into_iter()
                .collect();
            if let Err(m) = run_progenitor(&single) {
                problems.push(Problem::new(
                    &spec.file,
                    pointer(["paths", path, method]),
                    format!("operation `{op_id}` cannot be generated: {m}"),
                    "rewrite the construct in the spec or add a generation-view rule in xtask/src/view.rs",
                ));
            }
        }
    }
    if problems.is_empty() {
        problems.push(Problem::new(
            &spec.file,
            "",
            message.to_string(),
            "the failure is not tied to one operation; check components",
        ));
    }
    problems
}

/// Static tables of each operation's method, path template and security requirements, and of the
/// spec's security schemes (progenitor drops both), plus the hooks implementation that feeds them to
/// the auth glue.
fn security_tables(spec: &Spec, openapi: &OpenAPI) -> Result<TokenStream, Vec<Problem>> {
    let global = openapi.security.clone().unwrap_or_default();
    let mut ops = Vec::new();
    for (path, item) in &openapi.paths.paths {
        let ReferenceOr::Item(item) = item else {
            continue;
        };
        for (method, op) in item.iter() {
            let id = op.operation_id.clone().unwrap_or_default();
            let requirements = op.security.clone().unwrap_or_else(|| global.clone());
            let alternatives: Vec<Vec<String>> = requirements
                .iter()
                .map(|r| r.keys().cloned().collect())
                .collect();
            let mut query = query_facts(item.parameters.iter().chain(&op.parameters));
            query.streams_body = streams_success_body(openapi, op);
            ops.push((id, method.to_uppercase(), path.clone(), alternatives, query));
        }
    }
    // The order `analytics_auth::operation_order` searches in: by length, then bytewise.
    ops.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(&b.0)));

    let mut problems = Vec::new();
    let mut schemes = Vec::new();
    if let Some(components) = &openapi.components {
        for (name, scheme) in &components.security_schemes {
            let at = pointer(["components", "securitySchemes", name]);
            let ReferenceOr::Item(scheme) = scheme else {
                problems.push(Problem::new(
                    &spec.file,
                    at,
                    "a security scheme `$ref` is not supported",
                    "write the scheme inline",
                ));
                continue;
            };
            let kind = match scheme {
                SecurityScheme::APIKey {
                    location,
                    name: param,
                    extensions,
                    ..
                } => {
                    let loc = match location {
                        openapiv3::APIKeyLocation::Query => quote!(Query),
                        openapiv3::APIKeyLocation::Header => quote!(Header),
                        openapiv3::APIKeyLocation::Cookie => quote!(Cookie),
                    };
                    let prefix = extensions
                        .get("x-value-prefix")
                        .and_then(|v| v.as_str())
                        .unwrap_or("");
                    quote!(analytics_auth::SchemeKind::ApiKey { location: analytics_auth::KeyLocation::#loc, parameter: #param, prefix: #prefix })
                }
                SecurityScheme::HTTP { scheme, .. } => {
                    let scheme = scheme.to_ascii_lowercase();
                    quote!(analytics_auth::SchemeKind::Http { scheme: #scheme })
                }
                SecurityScheme::OAuth2 { .. } => quote!(analytics_auth::SchemeKind::OAuth2),
                SecurityScheme::OpenIDConnect { .. } => {
                    quote!(analytics_auth::SchemeKind::OpenIdConnect)
                }
            };
            schemes.push(quote!(analytics_auth::SecurityScheme { name: #name, kind: #kind }));
        }
    }
    for (id, _, _, alternatives, _) in &ops {
        for name in alternatives.iter().flatten() {
            let declared = openapi
                .components
                .as_ref()
                .is_some_and(|c| c.security_schemes.contains_key(name));
            if !declared {
                problems.push(Problem::new(
                    &spec.file,
                    "/components/securitySchemes",
                    format!("operation `{id}` requires undeclared security scheme `{name}`"),
                    "declare it under components.securitySchemes",
                ));
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let operations = ops.iter().map(|(id, method, path, alternatives, query)| {
        let alternatives = alternatives.iter().map(|names| quote!(&[#(#names),*]));
        let ranges = query.ranges.iter().map(|(name, min, max)| {
            let min = opt_i64(*min);
            let max = opt_i64(*max);
            quote!(analytics_auth::QueryRange { name: #name, min: #min, max: #max })
        });
        let comma = &query.comma_separated;
        let streams = query.streams_body;
        quote!(analytics_auth::Operation {
            id: #id,
            method: #method,
            path: #path,
            security: &[#(#alternatives),*],
            query_ranges: &[#(#ranges),*],
            comma_separated: &[#(#comma),*],
            streams_body: #streams,
        })
    });
    let title = &openapi.info.title;
    let version = &openapi.info.version;
    Ok(quote! {
        /// What the spec says about this API that progenitor does not keep: each operation's method,
        /// path template and security requirements, and the security schemes. The auth glue reads it.
        pub static API: analytics_auth::ApiDescription = analytics_auth::ApiDescription {
            title: #title,
            version: #version,
            operations: &[#(#operations),*],
            security_schemes: &[#(#schemes),*],
        };

        impl ClientHooks<analytics_auth::Auth> for Client {
            async fn pre<E>(
                &self,
                request: &mut reqwest::Request,
                info: &OperationInfo,
            ) -> std::result::Result<(), Error<E>> {
                analytics_auth::hooks::pre(&self.inner, &API, info.operation_id, request)
                    .await
                    .map_err(|e| Error::Custom(e.to_string()))
            }

            // Returns the auth crate's future itself: an `async fn` here would wrap it in one
            // more state machine that every call copies.
            fn exec(
                &self,
                request: reqwest::Request,
                info: &OperationInfo,
            ) -> impl std::future::Future<Output = reqwest::Result<reqwest::Response>> {
                analytics_auth::hooks::exec(&self.client, &self.inner, &API, info.operation_id, request)
            }
        }
    })
}

/// Facts about an operation's query parameters that progenitor does not act on.
#[derive(Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct QueryFacts {
    /// (name, minimum, maximum) of bounded integer parameters.
    ranges: Vec<(String, Option<i64>, Option<i64>)>,
    /// Array parameters with `explode: false`.
    comma_separated: Vec<String>,
    /// A success body that is not JSON (CSV, an archive): progenitor hands it over as a stream,
    /// so the transport must not buffer it.
    streams_body: bool,
}

/// Whether a 2xx response of `op` has a body that is not JSON.
fn streams_success_body(openapi: &OpenAPI, op: &openapiv3::Operation) -> bool {
    op.responses.responses.iter().any(|(status, response)| {
        let success = matches!(status, openapiv3::StatusCode::Code(c) if (200..300).contains(c))
            || matches!(status, openapiv3::StatusCode::Range(2));
        let response = match response {
            ReferenceOr::Item(r) => Some(r),
            ReferenceOr::Reference { reference } => reference
                .strip_prefix("#/components/responses/")
                .and_then(|name| openapi.components.as_ref()?.responses.get(name))
                .and_then(|r| r.as_item()),
        };
        success
            && response.is_some_and(|r| {
                r.content.keys().any(|media| {
                    let media = media.split(';').next().unwrap_or_default().trim();
                    media != "application/json" && !media.ends_with("+json")
                })
            })
    })
}

fn query_facts<'a>(
    params: impl Iterator<Item = &'a ReferenceOr<openapiv3::Parameter>>,
) -> QueryFacts {
    use openapiv3::{Parameter, ParameterSchemaOrContent, SchemaKind, Type};
    let mut facts = QueryFacts::default();
    for param in params {
        // The view inlined every parameter reference.
        let ReferenceOr::Item(Parameter::Query { parameter_data, .. }) = param else {
            continue;
        };
        let ParameterSchemaOrContent::Schema(ReferenceOr::Item(schema)) = &parameter_data.format
        else {
            continue;
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::Integer(i)) if i.minimum.is_some() || i.maximum.is_some() => {
                let min = i
                    .minimum
                    .map(|m| if i.exclusive_minimum { m + 1 } else { m });
                let max = i
                    .maximum
                    .map(|m| if i.exclusive_maximum { m - 1 } else { m });
                facts.ranges.push((parameter_data.name.clone(), min, max));
            }
            SchemaKind::Type(Type::Array(_)) if parameter_data.explode == Some(false) => {
                facts.comma_separated.push(parameter_data.name.clone());
            }
            _ => {}
        }
    }
    facts
}

fn opt_i64(v: Option<i64>) -> TokenStream {
    match v {
        Some(v) => quote!(Some(#v)),
        None => quote!(None),
    }
}
