//! Edits to progenitor's output that its settings cannot express. Each pass says what it changes
//! and why; each fails loudly when progenitor's output no longer has the shape it expects, so
//! that an upgrade cannot silently drop a pass.

use quote::quote;
use syn::visit_mut::{self, VisitMut};

/// Runs every pass on one generated file.
pub fn apply(file: &mut syn::File) -> Result<(), String> {
    gate_json_schema(file);
    redact_secret_fields(file);
    use_safe_default_client(file)?;
    drop_api_version_header(file)?;
    drop_empty_header_maps(file)?;
    display_string_newtypes(file);
    encode_path_segments_in_place(file)?;
    format_urls_in_one_buffer(file)?;
    mark_unset_parameters_without_allocating(file)?;
    check_patterns_in_one_pass(file)?;
    decode_within_body_limits(file)?;
    decode_replaced_types_with_their_decoder(file)?;
    skip_absent_query_parameters(file)?;
    reexport_replaced_types(file)?;
    end_request_locals_before_the_answer(file)?;
    Ok(())
}

/// Field names whose values are credentials.
const SECRET_FIELDS: &[&str] = &[
    "password",
    "token",
    "api_key",
    "apikey",
    "access_token",
    "refresh_token",
    "client_secret",
    "secret",
];

/// Generated types derive `Debug`, which would print passwords and tokens (a login form, an OAuth2
/// token response, an organization's key). Structs with a credential field get a `Debug` that
/// prints `[redacted]` for it instead.
fn redact_secret_fields(file: &mut syn::File) {
    fn visit(items: &mut Vec<syn::Item>) {
        let mut impls: Vec<syn::Item> = Vec::new();
        for item in items.iter_mut() {
            match item {
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &mut m.content {
                        visit(inner);
                    }
                }
                syn::Item::Struct(st) => {
                    let syn::Fields::Named(fields) = &st.fields else {
                        continue;
                    };
                    let names: Vec<syn::Ident> = fields
                        .named
                        .iter()
                        .filter_map(|f| f.ident.clone())
                        .collect();
                    let is_secret = |n: &syn::Ident| {
                        let name = n.to_string();
                        SECRET_FIELDS.contains(&name.trim_end_matches('_'))
                    };
                    if !names.iter().any(is_secret) || !remove_derive(&mut st.attrs, "Debug") {
                        continue;
                    }
                    let ident = &st.ident;
                    let label = ident.to_string();
                    let generics = &st.generics;
                    let entries = names.iter().map(|n| {
                        let key = n.to_string();
                        if is_secret(n) {
                            quote!(.field(#key, &"[redacted]"))
                        } else {
                            quote!(.field(#key, &self.#n))
                        }
                    });
                    impls.push(syn::parse_quote! {
                        impl #generics ::std::fmt::Debug for #ident #generics {
                            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                                f.debug_struct(#label) #(#entries)* .finish()
                            }
                        }
                    });
                }
                _ => {}
            }
        }
        items.extend(impls);
    }
    visit(&mut file.items);
}

/// Removes `name` from every `#[derive(..)]` of `attrs`; true when it was there.
fn remove_derive(attrs: &mut [syn::Attribute], name: &str) -> bool {
    let mut removed = false;
    for attr in attrs.iter_mut() {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let Ok(paths) = attr.parse_args_with(
            syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
        ) else {
            continue;
        };
        let kept: Vec<&syn::Path> = paths
            .iter()
            .filter(|p| {
                let hit = p.segments.last().is_some_and(|s| s.ident == name);
                removed |= hit;
                !hit
            })
            .collect();
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
    removed
}

/// `schemars::JsonSchema` on every generated type costs build time most users do not need: put the
/// derives and impls behind the crate feature `schemars`.
fn gate_json_schema(file: &mut syn::File) {
    fn visit(items: &mut [syn::Item]) {
        for item in items {
            match item {
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &mut m.content {
                        visit(inner);
                    }
                }
                syn::Item::Struct(syn::ItemStruct { attrs, .. })
                | syn::Item::Enum(syn::ItemEnum { attrs, .. }) => gate_derive(attrs),
                syn::Item::Impl(imp) => {
                    let is_json_schema = imp
                        .trait_
                        .as_ref()
                        .and_then(|t| t.0.segments.last())
                        .is_some_and(|s| s.ident == "JsonSchema");
                    if is_json_schema {
                        imp.attrs
                            .push(syn::parse_quote!(#[cfg(feature = "schemars")]));
                    }
                }
                _ => {}
            }
        }
    }
    fn gate_derive(attrs: &mut Vec<syn::Attribute>) {
        if remove_derive(attrs, "JsonSchema") {
            attrs.push(
                syn::parse_quote!(#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]),
            );
        }
    }
    visit(&mut file.items);
}

/// progenitor's `Client::new` builds a plain reqwest client that follows redirects, which would
/// carry `X-API-KEY`-style headers to whatever origin a `Location` names. Make it use the auth
/// crate's defaults (redirects off, timeouts, rustls with ring) like every other constructor.
fn use_safe_default_client(file: &mut syn::File) -> Result<(), String> {
    let body: syn::Block = syn::parse_quote!({
        let client = analytics_auth::ClientConfig::default()
            .build()
            .expect("the default HTTP client configuration builds");
        Self::new_with_client(baseurl, client, inner)
    });
    for item in &mut file.items {
        let syn::Item::Impl(imp) = item else { continue };
        let is_client =
            matches!(imp.self_ty.as_ref(), syn::Type::Path(p) if p.path.is_ident("Client"));
        if !is_client || imp.trait_.is_some() {
            continue;
        }
        for it in &mut imp.items {
            if let syn::ImplItem::Fn(f) = it {
                if f.sig.ident == "new" {
                    f.block = body;
                    f.attrs.retain(|a| !a.path().is_ident("doc"));
                    f.attrs.push(syn::parse_quote!(#[doc = " Creates a client with `analytics_auth::ClientConfig::default()`: redirects are not followed, 10 s connect and 60 s request timeouts. Use `new_with_client` with `ClientConfig::build` to change them."]));
                    return Ok(());
                }
            }
        }
    }
    Err("progenitor's `Client::new` was not found to give it safe defaults".to_string())
}

/// progenitor sends `api-version: <info.version>` with every request (a Dropshot convention);
/// none of our APIs define that header. Drop it, and the header map's capacity that was counted
/// for it, so that no request carries it and none pays for it.
fn drop_api_version_header(file: &mut syn::File) -> Result<(), String> {
    #[derive(Default)]
    struct Dropper {
        header_maps: usize,
        dropped: usize,
    }
    impl VisitMut for Dropper {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            let before = block.stmts.len();
            block.stmts.retain(|stmt| !is_api_version_append(stmt));
            let dropped = before - block.stmts.len();
            self.dropped += dropped;
            for stmt in &mut block.stmts {
                if let Some(capacity) = header_map_capacity(stmt) {
                    self.header_maps += 1;
                    if dropped == 1 {
                        let n: usize = capacity.base10_parse().unwrap_or(1);
                        *capacity = syn::LitInt::new(
                            &format!("{}usize", n.saturating_sub(1)),
                            capacity.span(),
                        );
                    }
                }
            }
            visit_mut::visit_block_mut(self, block);
        }
    }
    fn is_api_version_append(stmt: &syn::Stmt) -> bool {
        let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
            return false;
        };
        let first = call.args.first();
        call.method == "append"
            && first.is_some_and(|arg| quote!(#arg).to_string().contains("\"api-version\""))
    }
    /// The `N` of `let mut header_map = ::reqwest::header::HeaderMap::with_capacity(N);`.
    fn header_map_capacity(stmt: &mut syn::Stmt) -> Option<&mut syn::LitInt> {
        let syn::Stmt::Local(local) = stmt else {
            return None;
        };
        let syn::Pat::Ident(name) = &local.pat else {
            return None;
        };
        if name.ident != "header_map" {
            return None;
        }
        let init = local.init.as_mut()?;
        let syn::Expr::Call(call) = init.expr.as_mut() else {
            return None;
        };
        match call.args.first_mut() {
            Some(syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            })) => Some(n),
            _ => None,
        }
    }
    let mut dropper = Dropper::default();
    dropper.visit_file_mut(file);
    if dropper.dropped != dropper.header_maps {
        return Err(format!(
            "expected one `api-version` header per request, found {} in {} header maps",
            dropper.dropped, dropper.header_maps
        ));
    }
    Ok(())
}

/// After [`drop_api_version_header`], an operation without header parameters builds an empty
/// header map and hands it to `.headers(..)`, which walks and drops it on every call. Both go.
fn drop_empty_header_maps(file: &mut syn::File) -> Result<(), String> {
    #[derive(Default)]
    struct Dropper {
        unexpected: Vec<String>,
    }
    /// Replaces `builder.headers(header_map)` with `builder`; counts the replacements.
    struct Unchain(usize);
    impl VisitMut for Unchain {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            visit_mut::visit_expr_mut(self, expr);
            let syn::Expr::MethodCall(call) = expr else {
                return;
            };
            let arg = call.args.first();
            if call.method == "headers"
                && call.args.len() == 1
                && arg.is_some_and(|a| quote!(#a).to_string() == "header_map")
            {
                *expr = (*call.receiver).clone();
                self.0 += 1;
            }
        }
    }
    impl VisitMut for Dropper {
        fn visit_block_mut(&mut self, block: &mut syn::Block) {
            let empty = block.stmts.iter().position(|stmt| {
                let text = quote!(#stmt).to_string().replace(' ', "");
                text == "letmutheader_map=::reqwest::header::HeaderMap::with_capacity(0usize);"
            });
            if let Some(at) = empty {
                let removed = block.stmts.remove(at);
                let mut unchain = Unchain(0);
                for stmt in &mut block.stmts {
                    unchain.visit_stmt_mut(stmt);
                }
                let stmts = &block.stmts;
                let rest = quote!(#(#stmts)*).to_string();
                if unchain.0 != 1
                    || rest
                        .split(|c: char| !c.is_alphanumeric() && c != '_')
                        .any(|w| w == "header_map")
                {
                    self.unexpected.push(quote!(#removed).to_string());
                }
            }
            visit_mut::visit_block_mut(self, block);
        }
    }
    let mut dropper = Dropper::default();
    dropper.visit_file_mut(file);
    match dropper.unexpected.first() {
        Some(map) => Err(format!(
            "an empty header map used other than once by `.headers(..)`: {map}"
        )),
        None => Ok(()),
    }
}

/// typify's string newtypes (a pattern-checked id, a string with a length limit) deref to their
/// `String` but have no `Display`. Give them one, so that they print as their value and can be
/// written into a URL by [`encode_path_segments_in_place`].
fn display_string_newtypes(file: &mut syn::File) {
    fn visit(items: &mut Vec<syn::Item>) {
        let displayed: Vec<String> = items
            .iter()
            .filter_map(|item| match item {
                syn::Item::Impl(i) => {
                    let tr = i.trait_.as_ref()?;
                    let is_display = tr.0.segments.last()?.ident == "Display";
                    let ty = &i.self_ty;
                    is_display.then(|| quote!(#ty).to_string())
                }
                _ => None,
            })
            .collect();
        let mut impls: Vec<syn::Item> = Vec::new();
        for item in items.iter_mut() {
            match item {
                syn::Item::Mod(m) => {
                    if let Some((_, inner)) = &mut m.content {
                        visit(inner);
                    }
                }
                syn::Item::Struct(st) => {
                    let syn::Fields::Unnamed(fields) = &st.fields else {
                        continue;
                    };
                    let field = fields.unnamed.first();
                    let wraps_string = fields.unnamed.len() == 1
                        && field.is_some_and(|f| {
                            let ty = &f.ty;
                            quote!(#ty).to_string().replace(' ', "") == "::std::string::String"
                        });
                    let ident = &st.ident;
                    if !wraps_string || displayed.contains(&ident.to_string()) {
                        continue;
                    }
                    impls.push(syn::parse_quote! {
                        impl ::std::fmt::Display for #ident {
                            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                                f.write_str(&self.0)
                            }
                        }
                    });
                }
                _ => {}
            }
        }
        items.extend(impls);
    }
    visit(&mut file.items);
}

/// progenitor formats each path parameter as `encode_path(&value.to_string())`: two strings per
/// parameter per call. In the `format!` that builds the URL, each becomes
/// `analytics_auth::hooks::PathSegment(&value)`, which encodes the same way as it is written.
fn encode_path_segments_in_place(file: &mut syn::File) -> Result<(), String> {
    #[derive(Default)]
    struct Replacer {
        unexpected: Vec<String>,
    }
    fn is_encode_path(call: &syn::ExprCall) -> bool {
        let func = &call.func;
        quote!(#func).to_string() == "encode_path"
    }
    impl VisitMut for Replacer {
        fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
            if !mac.path.is_ident("format") {
                return;
            }
            let parser = syn::punctuated::Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated;
            let Ok(mut args) = mac.parse_body_with(parser) else {
                return;
            };
            let mut changed = false;
            for arg in args.iter_mut() {
                let syn::Expr::Call(call) = arg else { continue };
                if !is_encode_path(call) {
                    continue;
                }
                let value = match call.args.first() {
                    Some(syn::Expr::Reference(r)) if call.args.len() == 1 => {
                        match r.expr.as_ref() {
                            syn::Expr::MethodCall(m)
                                if m.method == "to_string" && m.args.is_empty() =>
                            {
                                &m.receiver
                            }
                            _ => {
                                self.unexpected.push(quote!(#call).to_string());
                                continue;
                            }
                        }
                    }
                    _ => {
                        self.unexpected.push(quote!(#call).to_string());
                        continue;
                    }
                };
                *arg = syn::parse_quote!(analytics_auth::hooks::PathSegment(&#value));
                changed = true;
            }
            if changed {
                mac.tokens = quote!(#args);
            }
        }
        fn visit_expr_call_mut(&mut self, call: &mut syn::ExprCall) {
            // Outside a `format!`: a place this pass does not know.
            if is_encode_path(call) {
                self.unexpected.push(quote!(#call).to_string());
            }
            visit_mut::visit_expr_call_mut(self, call);
        }
    }
    let mut replacer = Replacer::default();
    replacer.visit_file_mut(file);
    match replacer.unexpected.first() {
        Some(call) => Err(format!("an `encode_path` call of unknown shape: {call}")),
        None => Ok(()),
    }
}

/// `let url = format!(..)` sizes its string from the literal parts of the path (often none) and
/// grows it several times per request. It becomes
/// `let url = analytics_auth::hooks::url(format_args!(..))`, one buffer of a usual URL's size.
fn format_urls_in_one_buffer(file: &mut syn::File) -> Result<(), String> {
    #[derive(Default)]
    struct Replacer {
        urls: usize,
        unexpected: Vec<String>,
    }
    impl VisitMut for Replacer {
        fn visit_local_mut(&mut self, local: &mut syn::Local) {
            visit_mut::visit_local_mut(self, local);
            let syn::Pat::Ident(name) = &local.pat else {
                return;
            };
            if name.ident != "url" {
                return;
            }
            let Some(init) = local.init.as_mut() else {
                return;
            };
            let syn::Expr::Macro(m) = init.expr.as_mut() else {
                let expr = &init.expr;
                self.unexpected.push(quote!(#expr).to_string());
                return;
            };
            if !m.mac.path.is_ident("format") {
                self.unexpected.push(quote!(#m).to_string());
                return;
            }
            let tokens = &m.mac.tokens;
            *init.expr = syn::parse_quote!(analytics_auth::hooks::url(format_args!(#tokens)));
            self.urls += 1;
        }
    }
    let mut replacer = Replacer::default();
    replacer.visit_file_mut(file);
    match replacer.unexpected.first() {
        Some(url) => Err(format!("a request URL of unknown shape: {url}")),
        None => Ok(()),
    }
}

/// typify checks a string's `pattern` with `::regress::Regex`, which tries the pattern at every
/// position and allocates on every check. Every use becomes `analytics_auth::pattern::Regex`,
/// which checks simple patterns (`^[0-9a-f]{24}$`) in one pass and hands the rest to `regress`.
fn check_patterns_in_one_pass(file: &mut syn::File) -> Result<(), String> {
    struct Replacer;
    impl VisitMut for Replacer {
        /// `::regress::Regex` and `::regress::Regex::new`.
        fn visit_path_mut(&mut self, path: &mut syn::Path) {
            let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
            if path.leading_colon.is_some()
                && names.starts_with(&["regress".into(), "Regex".into()])
            {
                let rest = path.segments.iter().skip(2);
                *path = syn::parse_quote!(analytics_auth::pattern::Regex #(:: #rest)*);
            }
            visit_mut::visit_path_mut(self, path);
        }
    }
    Replacer.visit_file_mut(file);
    let text = quote!(#file).to_string();
    match text.find("regress") {
        Some(at) => Err(format!(
            "a use of `regress` of unknown shape: …{}…",
            &text[at.saturating_sub(60)..(at + 60).min(text.len())]
        )),
        None => Ok(()),
    }
}

/// progenitor's `ResponseValue::from_response` reads a body without any limit on its size or
/// time. Every call becomes `analytics_auth::hooks::decode(&client.inner, response)`, which reads
/// within the client's body limits and decodes the same way.
fn decode_within_body_limits(file: &mut syn::File) -> Result<(), String> {
    #[derive(Default)]
    struct Replacer {
        unexpected: Vec<String>,
    }
    impl VisitMut for Replacer {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            visit_mut::visit_expr_mut(self, expr);
            let syn::Expr::Call(call) = expr else { return };
            let syn::Expr::Path(func) = call.func.as_ref() else {
                return;
            };
            let segments: Vec<String> = func
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            if segments.last().map(String::as_str) != Some("from_response") {
                return;
            }
            let generic = func.path.segments.iter().any(|s| !s.arguments.is_none());
            if segments != ["ResponseValue", "from_response"] || generic || call.args.len() != 1 {
                self.unexpected.push(quote!(#call).to_string());
                return;
            }
            let response = &call.args[0];
            *expr = syn::parse_quote!(analytics_auth::hooks::decode(&client.inner, #response));
        }
    }
    let mut replacer = Replacer::default();
    replacer.visit_file_mut(file);
    if let Some(call) = replacer.unexpected.first() {
        return Err(format!("a `from_response` call of unknown shape: {call}"));
    }
    Ok(())
}

/// A replaced type with a decoder of its own ([`crate::codegen::REPLACED_DECODERS`]) is decoded by
/// it: in each `send` that returns `ResponseValue<Type>`, the success arm
/// (`200u16 => analytics_auth::hooks::decode(&client.inner, response).await`) becomes
/// `analytics_auth::hooks::decode_with(&client.inner, response, <decoder>).await`.
fn decode_replaced_types_with_their_decoder(file: &mut syn::File) -> Result<(), String> {
    struct Replacer {
        missing: Vec<String>,
    }
    impl VisitMut for Replacer {
        fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
            let output = &f.sig.output;
            let returns = quote!(#output).to_string().replace(' ', "");
            let found = crate::codegen::REPLACED_DECODERS
                .iter()
                .find(|(ty, _)| returns.contains(&format!("ResponseValue<{ty}>")));
            let Some((ty, decoder)) = found else {
                return visit_mut::visit_impl_item_fn_mut(self, f);
            };
            let Ok(decoder) = syn::parse_str::<syn::Path>(decoder) else {
                self.missing.push(format!("{decoder} is not a path"));
                return;
            };
            let mut arms = Arms {
                decoder,
                replaced: 0,
            };
            arms.visit_block_mut(&mut f.block);
            if arms.replaced == 0 {
                self.missing
                    .push(format!("{}: no success arm decodes {ty}", f.sig.ident));
            }
        }
    }
    /// Replaces the decode call of success arms (not the ones inside `Err(..)`).
    struct Arms {
        decoder: syn::Path,
        replaced: usize,
    }
    impl VisitMut for Arms {
        fn visit_arm_mut(&mut self, arm: &mut syn::Arm) {
            visit_mut::visit_arm_mut(self, arm);
            // `200u16 => decode(..).await` or `200u16 => { decode(..).await }`.
            let mut body = arm.body.as_mut();
            while let syn::Expr::Block(block) = body {
                match block.block.stmts.as_mut_slice() {
                    [syn::Stmt::Expr(inner, None)] => body = inner,
                    _ => return,
                }
            }
            let syn::Expr::Await(awaited) = body else {
                return;
            };
            let syn::Expr::Call(call) = awaited.base.as_mut() else {
                return;
            };
            let func = &call.func;
            if quote!(#func).to_string().replace(' ', "") != "analytics_auth::hooks::decode" {
                return;
            }
            let args = &call.args;
            let decoder = &self.decoder;
            *awaited.base = syn::parse_quote!(analytics_auth::hooks::decode_with(#args, #decoder));
            self.replaced += 1;
        }
    }
    let mut replacer = Replacer {
        missing: Vec::new(),
    };
    replacer.visit_file_mut(file);
    match replacer.missing.first() {
        Some(problem) => Err(format!(
            "a replaced decoder could not be applied: {problem}"
        )),
        None => Ok(()),
    }
}

/// progenitor's builders start each required parameter as
/// `Err("<name> was not initialized".to_string())`: an allocation per call, freed as soon as the
/// setter runs. They start as `Err(String::new())` instead (no allocation; a conversion error
/// always has a message), and `send` turns an empty message back into the original one with
/// `analytics_auth::hooks::unset_or(message, "<name> was not initialized")`.
fn mark_unset_parameters_without_allocating(file: &mut syn::File) -> Result<(), String> {
    #[derive(Default)]
    struct Marker {
        problems: Vec<String>,
    }
    /// `Err("...".to_string())` → the message.
    fn unset_message(expr: &syn::Expr) -> Option<String> {
        let syn::Expr::Call(call) = expr else {
            return None;
        };
        let func = &call.func;
        let [syn::Expr::MethodCall(to_string)] = call.args.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(message),
            ..
        }) = to_string.receiver.as_ref()
        else {
            return None;
        };
        let message = message.value();
        (quote!(#func).to_string() == "Err"
            && to_string.method == "to_string"
            && message.ends_with(" was not initialized"))
        .then_some(message)
    }
    /// In `send`: `let <field> = <..>.map_err(Error::InvalidRequest)?;` for each unset field.
    struct Restore<'a> {
        unset: &'a std::collections::BTreeMap<String, String>,
        restored: std::collections::BTreeSet<String>,
    }
    impl VisitMut for Restore<'_> {
        fn visit_local_mut(&mut self, local: &mut syn::Local) {
            visit_mut::visit_local_mut(self, local);
            let syn::Pat::Ident(name) = &local.pat else {
                return;
            };
            let Some(message) = self.unset.get(&name.ident.to_string()) else {
                return;
            };
            let Some(init) = local.init.as_mut() else {
                return;
            };
            let syn::Expr::Try(tried) = init.expr.as_mut() else {
                return;
            };
            let syn::Expr::MethodCall(map_err) = tried.expr.as_mut() else {
                return;
            };
            let arg = map_err.args.first();
            if map_err.method == "map_err"
                && map_err.args.len() == 1
                && arg.is_some_and(|a| {
                    quote!(#a).to_string().replace(' ', "") == "Error::InvalidRequest"
                })
            {
                map_err.args[0] = syn::parse_quote!(|message| {
                    Error::InvalidRequest(analytics_auth::hooks::unset_or(message, #message))
                });
                self.restored.insert(name.ident.to_string());
            }
        }
    }
    impl VisitMut for Marker {
        fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
            let mut unset = std::collections::BTreeMap::new();
            for impl_item in &mut item.items {
                let syn::ImplItem::Fn(f) = impl_item else {
                    continue;
                };
                if f.sig.ident != "new" {
                    continue;
                }
                for stmt in &mut f.block.stmts {
                    let syn::Stmt::Expr(syn::Expr::Struct(init), None) = stmt else {
                        continue;
                    };
                    for field in &mut init.fields {
                        let syn::Member::Named(name) = &field.member else {
                            continue;
                        };
                        if let Some(message) = unset_message(&field.expr) {
                            unset.insert(name.to_string(), message);
                            field.expr = syn::parse_quote!(Err(String::new()));
                        }
                    }
                }
            }
            if unset.is_empty() {
                return visit_mut::visit_item_impl_mut(self, item);
            }
            let mut restore = Restore {
                unset: &unset,
                restored: Default::default(),
            };
            for impl_item in &mut item.items {
                if let syn::ImplItem::Fn(f) = impl_item {
                    if f.sig.ident == "send" {
                        restore.visit_impl_item_fn_mut(f);
                    }
                }
            }
            let ty = &item.self_ty;
            for field in unset.keys().filter(|f| !restore.restored.contains(*f)) {
                self.problems.push(format!(
                    "`{}`: `{field}` starts unset but `send` does not check it with `map_err(Error::InvalidRequest)`",
                    quote!(#ty).to_string().replace(' ', "")
                ));
            }
        }
    }
    let mut marker = Marker::default();
    marker.visit_file_mut(file);
    match marker.problems.first() {
        Some(problem) => Err(problem.clone()),
        None => Ok(()),
    }
}

/// An `async fn` keeps room for every borrowed local until the end of its scope, through every
/// later await: in progenitor's `send`, the request (borrowed by `pre`), the path parameters
/// (borrowed by the URL), the exec result (borrowed by `post`) and the response (borrowed for its
/// status) all stayed in the future while the body was read, and the result while the request
/// was in flight. The statements that build and send the request move into blocks that end before
/// the next await, and the match reads a status taken inside them:
///
/// ```text
/// let Self { .. } = self;             let Self { .. } = self;
/// <build the request>                 let info = OperationInfo { .. };
/// let info = OperationInfo { .. };    let (status, response) = {
/// client.pre(&mut request, &info)?;       let exec = { <build>; <pre>; client.exec(request, &info) };
/// let result = client.exec(..).await;     let result = exec.await;
/// client.post(&result, &info)?;           <post>; let response = result?;
/// let response = result?;                 (response.status().as_u16(), response)
/// match response.status().as_u16() {  };
///     ..                              match status { .. }
/// ```
/// Every `send` must have this shape. The future of a MONARC `get_stats` call went from 1360 to
/// 912 bytes with it.
fn end_request_locals_before_the_answer(file: &mut syn::File) -> Result<(), String> {
    #[derive(Default)]
    struct Scoper {
        /// The type whose `impl` is being visited.
        builder: String,
        unexpected: Vec<String>,
    }
    fn text(stmt: &syn::Stmt) -> String {
        quote!(#stmt).to_string().replace(' ', "")
    }
    impl VisitMut for Scoper {
        fn visit_item_impl_mut(&mut self, item: &mut syn::ItemImpl) {
            let ty = &item.self_ty;
            self.builder = quote!(#ty).to_string().replace(' ', "");
            visit_mut::visit_item_impl_mut(self, item);
        }

        fn visit_impl_item_fn_mut(&mut self, f: &mut syn::ImplItemFn) {
            if f.sig.ident != "send" || f.sig.asyncness.is_none() {
                return visit_mut::visit_impl_item_fn_mut(self, f);
            }
            let stmts = &f.block.stmts;
            let n = stmts.len();
            let tail = [
                "client.pre(&mutrequest,&info).await?;",
                "letresult=client.exec(request,&info).await;",
                "client.post(&result,&info).await?;",
                "letresponse=result?;",
            ];
            let shaped = n >= tail.len() + 3
                && text(&stmts[0]).starts_with("letSelf{client")
                && text(&stmts[n - 6]).starts_with("letinfo=OperationInfo{")
                && stmts[n - 5..n - 1]
                    .iter()
                    .zip(tail)
                    .all(|(stmt, expected)| text(stmt) == expected)
                && matches!(&stmts[n - 1], syn::Stmt::Expr(syn::Expr::Match(m), None)
                    if { let on = &m.expr; quote!(#on).to_string().replace(' ', "") == "response.status().as_u16()" });
            if !shaped {
                self.unexpected.push(self.builder.clone());
                return;
            }
            let destructure = &stmts[0];
            let build = &stmts[1..n - 6];
            let info = &stmts[n - 6];
            let pre = &stmts[n - 5];
            let mut answer = stmts[n - 1].clone();
            if let syn::Stmt::Expr(syn::Expr::Match(m), None) = &mut answer {
                *m.expr = syn::parse_quote!(status);
            }
            f.block.stmts = syn::parse_quote! {
                #destructure
                #info
                let (status, response) = {
                    let exec = {
                        #(#build)*
                        #pre
                        client.exec(request, &info)
                    };
                    let result = exec.await;
                    client.post(&result, &info).await?;
                    let response = result?;
                    (response.status().as_u16(), response)
                };
                #answer
            };
        }
    }
    let mut scoper = Scoper::default();
    scoper.visit_file_mut(file);
    match scoper.unexpected.first() {
        Some(f) => Err(format!(
            "{} `send` function(s) not of progenitor's shape (build, info, pre, exec, post, match), e.g. `{f}::send`",
            scoper.unexpected.len()
        )),
        None => Ok(()),
    }
}

/// progenitor adds each query parameter with `.query(&QueryParam::new(name, &value))`, and reqwest
/// rewrites the URL's query even when an optional value is `None`. Each such call becomes
/// `analytics_auth::hooks::query_param(builder, name, &value)`, which skips absent values.
fn skip_absent_query_parameters(file: &mut syn::File) -> Result<(), String> {
    #[derive(Default)]
    struct Replacer {
        unexpected: Vec<String>,
    }
    impl VisitMut for Replacer {
        fn visit_expr_mut(&mut self, expr: &mut syn::Expr) {
            visit_mut::visit_expr_mut(self, expr);
            let syn::Expr::MethodCall(call) = expr else {
                return;
            };
            if call.method != "query" {
                return;
            }
            let param = match call.args.first() {
                Some(syn::Expr::Reference(r)) if call.args.len() == 1 => r.expr.as_ref(),
                _ => {
                    self.unexpected.push(quote!(#call).to_string());
                    return;
                }
            };
            let syn::Expr::Call(new) = param else {
                self.unexpected.push(quote!(#call).to_string());
                return;
            };
            let func = &new.func;
            let is_query_param =
                quote!(#func).to_string().replace(' ', "") == "progenitor_client::QueryParam::new";
            if !is_query_param || new.args.len() != 2 {
                self.unexpected.push(quote!(#call).to_string());
                return;
            }
            let builder = &call.receiver;
            let (name, value) = (&new.args[0], &new.args[1]);
            *expr = syn::parse_quote!(analytics_auth::hooks::query_param(#builder, #name, #value));
        }
    }
    let mut replacer = Replacer::default();
    replacer.visit_file_mut(file);
    match replacer.unexpected.first() {
        Some(call) => Err(format!("a `.query(..)` call of unknown shape: {call}")),
        None => Ok(()),
    }
}

/// A schema replaced by a type of the generated crate itself (`crate::…`, see
/// [`crate::codegen::REPLACED_SCHEMAS`]) keeps its name in `types`: `pub use` it there.
fn reexport_replaced_types(file: &mut syn::File) -> Result<(), String> {
    let text = quote!(#file).to_string().replace(' ', "");
    let uses: Vec<syn::Item> = crate::codegen::REPLACED_SCHEMAS
        .iter()
        .filter(|(_, path)| path.starts_with("crate::") && text.contains(path))
        .map(|(schema, path)| {
            let path: syn::Path = syn::parse_str(path).map_err(|e| format!("{path}: {e}"))?;
            let name = syn::Ident::new(schema, proc_macro2::Span::call_site());
            if path.segments.last().is_some_and(|s| s.ident == name) {
                Ok(syn::parse_quote!(pub use #path;))
            } else {
                Ok(syn::parse_quote!(pub use #path as #name;))
            }
        })
        .collect::<Result<_, String>>()?;
    if uses.is_empty() {
        return Ok(());
    }
    let types = file.items.iter_mut().find_map(|item| match item {
        syn::Item::Mod(m) if m.ident == "types" => m.content.as_mut(),
        _ => None,
    });
    let Some((_, items)) = types else {
        return Err("progenitor's `types` module was not found".to_string());
    };
    items.extend(uses);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(tokens: proc_macro2::TokenStream) -> syn::File {
        syn::parse2(tokens).unwrap_or_else(|e| panic!("{e}"))
    }

    fn text(file: &syn::File) -> String {
        prettyplease::unparse(file)
    }

    #[test]
    fn the_api_version_header_and_its_capacity_go() {
        let mut f = file(quote! {
            async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(2usize);
                header_map.append(
                    ::reqwest::header::HeaderName::from_static("api-version"),
                    ::reqwest::header::HeaderValue::from_static(super::Client::api_version()),
                );
                header_map.append("X-Request-Id", request_id.to_string().try_into()?);
            }
        });
        drop_api_version_header(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f);
        assert!(!out.contains("api-version"), "{out}");
        assert!(out.contains("with_capacity(1usize)"), "{out}");
        assert!(out.contains("\"X-Request-Id\""), "{out}");
    }

    #[test]
    fn a_header_map_without_the_version_header_is_an_error() {
        let mut f = file(quote! {
            async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append("X-Request-Id", request_id.to_string().try_into()?);
            }
        });
        let error = drop_api_version_header(&mut f).unwrap_err();
        assert!(error.contains("found 0 in 1 header maps"), "{error}");
    }

    #[test]
    fn every_from_response_decodes_within_limits() {
        let mut f = file(quote! {
            async fn send() {
                match response.status().as_u16() {
                    200u16 => ResponseValue::from_response(response).await,
                    404u16 => Err(Error::ErrorResponse(ResponseValue::from_response(response).await?)),
                    _ => Err(Error::UnexpectedResponse(response)),
                }
            }
        });
        decode_within_body_limits(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f);
        assert!(!out.contains("from_response"), "{out}");
        assert_eq!(
            out.matches("analytics_auth::hooks::decode(&client.inner, response)")
                .count(),
            2,
            "{out}"
        );
    }

    #[test]
    fn a_from_response_of_unknown_shape_is_an_error() {
        let mut f = file(quote! {
            async fn send() {
                ResponseValue::<T>::from_response(response).await
            }
        });
        let error = decode_within_body_limits(&mut f).unwrap_err();
        assert!(error.contains("unknown shape"), "{error}");
    }

    #[test]
    fn query_parameters_go_through_the_absent_value_check() {
        let mut f = file(quote! {
            async fn send() {
                let request = client
                    .client
                    .get(url)
                    .query(&progenitor_client::QueryParam::new("_fields", &fields))
                    .query(&progenitor_client::QueryParam::new("_limit", &limit))
                    .build()?;
            }
        });
        skip_absent_query_parameters(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f)
            .split_whitespace()
            .collect::<String>()
            .replace(",)", ")");
        assert!(!out.contains(".query("), "{out}");
        assert!(
            out.contains(
                "analytics_auth::hooks::query_param(analytics_auth::hooks::query_param(client.client.get(url),\"_fields\",&fields),\"_limit\",&limit)"
            ),
            "{out}"
        );
    }

    #[test]
    fn a_query_call_of_unknown_shape_is_an_error() {
        let mut f = file(quote! {
            fn f() { builder.query(&[("a", 1)]); }
        });
        let error = skip_absent_query_parameters(&mut f).unwrap_err();
        assert!(error.contains("unknown shape"), "{error}");
    }

    #[test]
    fn replacements_inside_the_crate_keep_their_name_in_types() {
        let mut used = file(quote! {
            pub mod types { pub struct Other; }
            fn send() -> ResponseValue<crate::formatted::FormattedDataResponse> { todo!() }
        });
        reexport_replaced_types(&mut used).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&used);
        assert!(
            out.contains("pub use crate::formatted::FormattedDataResponse;"),
            "{out}"
        );

        let mut unused = file(quote! { pub mod types { pub struct Other; } });
        reexport_replaced_types(&mut unused).unwrap_or_else(|e| panic!("{e}"));
        assert!(!text(&unused).contains("pub use"), "{}", text(&unused));
    }

    #[test]
    fn an_empty_header_map_is_not_built() {
        let mut f = file(quote! {
            async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(0usize);
                let request = client.client.get(url).header(ACCEPT, json).headers(header_map).build()?;
            }
            async fn with_header() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(1usize);
                header_map.append("X-Request-Id", request_id.to_string().try_into()?);
                let request = client.client.get(url).headers(header_map).build()?;
            }
        });
        drop_empty_header_maps(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f).split_whitespace().collect::<String>();
        assert!(
            out.contains(
                "asyncfnsend(){letrequest=client.client.get(url).header(ACCEPT,json).build()?;}"
            ),
            "{out}"
        );
        assert!(out.contains(".headers(header_map)"), "{out}");
        assert_eq!(out.matches("letmutheader_map").count(), 1, "{out}");
    }

    #[test]
    fn an_empty_header_map_used_elsewhere_is_an_error() {
        let mut f = file(quote! {
            async fn send() {
                let mut header_map = ::reqwest::header::HeaderMap::with_capacity(0usize);
                header_map.append("X", value);
                let request = client.client.get(url).headers(header_map).build()?;
            }
        });
        let error = drop_empty_header_maps(&mut f).unwrap_err();
        assert!(error.contains("empty header map"), "{error}");
    }

    #[test]
    fn path_parameters_are_encoded_as_they_are_written() {
        let mut f = file(quote! {
            async fn send() {
                let url = format!("{}/stats/{}/runs/{}", client.baseurl, encode_path(&id.to_string()), encode_path(&run.to_string()),);
            }
        });
        encode_path_segments_in_place(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f).split_whitespace().collect::<String>();
        assert!(
            out.contains("format!(\"{}/stats/{}/runs/{}\",client.baseurl,analytics_auth::hooks::PathSegment(&id),analytics_auth::hooks::PathSegment(&run),)"),
            "{out}"
        );
    }

    #[test]
    fn an_encode_path_of_unknown_shape_is_an_error() {
        for tokens in [
            quote! { fn f() { let url = format!("{}", encode_path(id)); } },
            quote! { fn f() { let segment = encode_path(&id.to_string()); } },
        ] {
            let error = encode_path_segments_in_place(&mut file(tokens)).unwrap_err();
            assert!(error.contains("unknown shape"), "{error}");
        }
    }

    #[test]
    fn string_newtypes_display_their_value() {
        let mut f = file(quote! {
            pub mod types {
                pub struct Id(::std::string::String);
                pub struct Shown(::std::string::String);
                impl ::std::fmt::Display for Shown {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result { todo!() }
                }
                pub struct Count(u64);
            }
        });
        display_string_newtypes(&mut f);
        let out = text(&f).split_whitespace().collect::<String>();
        assert!(out.contains("impl::std::fmt::DisplayforId{"), "{out}");
        assert!(out.contains("f.write_str(&self.0)"), "{out}");
        assert_eq!(out.matches("::std::fmt::Displayfor").count(), 2, "{out}");
    }

    #[test]
    fn patterns_are_checked_by_the_one_pass_regex() {
        let mut f = file(quote! {
            fn from_str(value: &str) {
                static PATTERN: ::std::sync::LazyLock<::regress::Regex> =
                    ::std::sync::LazyLock::new(|| ::regress::Regex::new("^[0-9a-f]{24}$").unwrap());
                if PATTERN.find(value).is_none() {}
            }
        });
        check_patterns_in_one_pass(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f).split_whitespace().collect::<String>();
        assert!(!out.contains("regress"), "{out}");
        assert_eq!(
            out.matches("analytics_auth::pattern::Regex").count(),
            2,
            "{out}"
        );

        let mut other = file(quote! { fn f() { regress::Regex::new("a"); } });
        let error = check_patterns_in_one_pass(&mut other).unwrap_err();
        assert!(error.contains("unknown shape"), "{error}");
    }

    #[test]
    fn request_urls_are_written_into_one_buffer() {
        let mut f = file(quote! {
            async fn send() {
                let url = format!("{}/jobs/{}", client.baseurl, analytics_auth::hooks::PathSegment(&job_id),);
                let message = format!("error converting supplied value for name: {e}");
            }
        });
        format_urls_in_one_buffer(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f).split_whitespace().collect::<String>();
        assert!(
            out.contains("leturl=analytics_auth::hooks::url(format_args!(\"{}/jobs/{}\",client.baseurl,analytics_auth::hooks::PathSegment(&job_id),),);"),
            "{out}"
        );
        assert!(out.contains("letmessage=format!("), "{out}");

        let mut other = file(quote! { fn f() { let url = base.join(path); } });
        let error = format_urls_in_one_buffer(&mut other).unwrap_err();
        assert!(error.contains("unknown shape"), "{error}");
    }

    #[test]
    fn replaced_types_with_a_decoder_use_it_for_success_only() {
        let mut f = file(quote! {
            impl<'a> QueryFormattedData<'a> {
                pub async fn send(self) -> Result<ResponseValue<crate::formatted::FormattedDataResponse>, Error<types::HttpError>> {
                    match response.status().as_u16() {
                        200u16 => analytics_auth::hooks::decode(&client.inner, response).await,
                        401u16 => {
                            Err(Error::ErrorResponse(analytics_auth::hooks::decode(&client.inner, response).await?))
                        }
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
            impl<'a> Braced<'a> {
                pub async fn send(self) -> Result<ResponseValue<crate::formatted::FormattedDataResponse>, Error<()>> {
                    match response.status().as_u16() {
                        200u16 => { analytics_auth::hooks::decode(&client.inner, response).await }
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
            impl<'a> Other<'a> {
                pub async fn send(self) -> Result<ResponseValue<types::Other>, Error<()>> {
                    match response.status().as_u16() {
                        200u16 => analytics_auth::hooks::decode(&client.inner, response).await,
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        });
        decode_replaced_types_with_their_decoder(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f).split_whitespace().collect::<String>();
        assert_eq!(
            out.matches("analytics_auth::hooks::decode_with(&client.inner,response,crate::formatted::FormattedDataResponse::from_body,).await").count()
                + out.matches("analytics_auth::hooks::decode_with(&client.inner,response,crate::formatted::FormattedDataResponse::from_body).await").count(),
            2,
            "{out}"
        );
        assert_eq!(
            out.matches("analytics_auth::hooks::decode(&client.inner,response)")
                .count(),
            2,
            "{out}"
        );

        let mut without = file(quote! {
            impl<'a> QueryFormattedData<'a> {
                pub async fn send(self) -> Result<ResponseValue<crate::formatted::FormattedDataResponse>, Error<()>> {
                    todo!()
                }
            }
        });
        let error = decode_replaced_types_with_their_decoder(&mut without).unwrap_err();
        assert!(error.contains("no success arm"), "{error}");
    }

    #[test]
    fn send_ends_its_request_locals_before_reading_the_answer() {
        let mut f = file(quote! {
            impl<'a> GetStats<'a> {
                pub async fn send(self) -> Result<ResponseValue<types::Stats>, Error<types::Error>> {
                    let Self { client, id } = self;
                    let id = id.map_err(Error::InvalidRequest)?;
                    let url = analytics_auth::hooks::url(format_args!("{}/stats/{}/", client.baseurl, PathSegment(&id)));
                    #[allow(unused_mut)]
                    let mut request = client.client.get(url).build()?;
                    let info = OperationInfo { operation_id: "get_stats" };
                    client.pre(&mut request, &info).await?;
                    let result = client.exec(request, &info).await;
                    client.post(&result, &info).await?;
                    let response = result?;
                    match response.status().as_u16() {
                        200u16 => analytics_auth::hooks::decode(&client.inner, response).await,
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        });
        end_request_locals_before_the_answer(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f).split_whitespace().collect::<Vec<_>>().join(" ");
        let expected = [
            "let Self { client, id } = self;",
            "let info = OperationInfo { operation_id: \"get_stats\", };",
            "let (status, response) = { let exec = { let id = id.map_err(Error::InvalidRequest)?;",
            "let mut request = client.client.get(url).build()?; client.pre(&mut request, &info).await?; client.exec(request, &info) };",
            "let result = exec.await; client.post(&result, &info).await?; let response = result?; (response.status().as_u16(), response) };",
            "match status { 200u16 => analytics_auth::hooks::decode(&client.inner, response).await,",
        ];
        let mut from = 0;
        for part in expected {
            let at = out[from..]
                .find(part)
                .unwrap_or_else(|| panic!("`{part}` missing after byte {from} of {out}"));
            from += at + part.len();
        }
    }

    #[test]
    fn a_send_of_another_shape_is_an_error() {
        let mut f = file(quote! {
            impl<'a> GetStats<'a> {
                pub async fn send(self) -> Result<ResponseValue<()>, Error<()>> {
                    let Self { client } = self;
                    let mut request = client.client.get(url).build()?;
                    let info = OperationInfo { operation_id: "get_stats" };
                    client.pre(&mut request, &info).await?;
                    let response = client.exec(request, &info).await?;
                    match response.status().as_u16() {
                        _ => Err(Error::UnexpectedResponse(response)),
                    }
                }
            }
        });
        let error = end_request_locals_before_the_answer(&mut f).unwrap_err();
        assert!(error.contains("1 `send` function(s)"), "{error}");
        assert!(error.contains("GetStats<'a>::send"), "{error}");
    }

    #[test]
    fn unset_parameters_start_without_an_allocation_and_keep_their_message() {
        let mut f = file(quote! {
            impl<'a> GetStats<'a> {
                pub fn new(client: &'a super::Client) -> Self {
                    Self {
                        client: client,
                        id: Err("id was not initialized".to_string()),
                        fields: Ok(None),
                    }
                }
                pub async fn send(self) -> Result<(), Error<()>> {
                    let Self { client, id, fields } = self;
                    let id = id.map_err(Error::InvalidRequest)?;
                    let fields = fields.map_err(Error::InvalidRequest)?;
                }
            }
        });
        mark_unset_parameters_without_allocating(&mut f).unwrap_or_else(|e| panic!("{e}"));
        let out = text(&f).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            out.contains("id: Err(String::new()), fields: Ok(None),"),
            "{out}"
        );
        assert!(
            out.contains("let id = id .map_err(|message| { Error::InvalidRequest( analytics_auth::hooks::unset_or(message, \"id was not initialized\"), ) })?;"),
            "{out}"
        );
        assert!(
            out.contains("let fields = fields.map_err(Error::InvalidRequest)?;"),
            "{out}"
        );
        assert!(!out.contains("to_string"), "{out}");
    }

    #[test]
    fn an_unset_parameter_that_send_does_not_check_is_an_error() {
        let mut f = file(quote! {
            impl<'a> GetStats<'a> {
                pub fn new(client: &'a super::Client) -> Self {
                    Self { client: client, id: Err("id was not initialized".to_string()) }
                }
                pub async fn send(self) -> Result<(), Error<()>> {
                    let Self { client, id } = self;
                    let id = id.unwrap_or_default();
                }
            }
        });
        let error = mark_unset_parameters_without_allocating(&mut f).unwrap_err();
        assert!(
            error.contains("`GetStats<'a>`: `id` starts unset"),
            "{error}"
        );
    }
}
