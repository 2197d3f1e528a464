//! A small, reviewable view of a generated crate for snapshot tests: each operation's call shape
//! (operationId → builder setters → `send()` result) and the generation-view rewrites.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use quote::ToTokens;

use crate::codegen::Generated;
use crate::spec::Spec;

/// Renders the inventory of one generated crate.
pub fn render(spec: &Spec, generated: &Generated) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} {} ({})",
        spec.openapi.info.title, spec.openapi.info.version, spec.file
    );
    let Ok(file) = syn::parse_file(&generated.source) else {
        out.push_str("(generated source does not parse)\n");
        return out;
    };

    let builders = builder_methods(&file);
    let global = spec.openapi.security.clone().unwrap_or_default();
    for (path, method, op) in spec.openapi.operations() {
        let id = op.operation_id.clone().unwrap_or_default();
        let security = op.security.as_ref().unwrap_or(&global);
        let schemes: Vec<String> = security
            .iter()
            .map(|r| r.keys().cloned().collect::<Vec<_>>().join("+"))
            .collect();
        let schemes = if schemes.is_empty() {
            "none".to_string()
        } else {
            schemes.join(" | ")
        };
        let _ = writeln!(
            out,
            "\n{id}: {} {path} [auth: {schemes}]",
            method.to_uppercase()
        );
        let name = crate::view::pascal(&id);
        match builders.get(&name) {
            None => {
                let _ = writeln!(out, "  (no generated builder `{name}`)");
            }
            Some(methods) => {
                for (setter, ty) in methods {
                    if setter == "send" {
                        let _ = writeln!(out, "  .send() {ty}");
                    } else {
                        let _ = writeln!(out, "  .{setter}({ty})");
                    }
                }
            }
        }
    }
    let _ = writeln!(out, "\n## generation view rewrites");
    if generated.rewrites.is_empty() {
        out.push_str("(none)\n");
    }
    for r in &generated.rewrites {
        let _ = writeln!(out, "{r}");
    }
    out
}

/// builder struct name → [(method, argument or result type)], in source order.
fn builder_methods(file: &syn::File) -> BTreeMap<String, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for item in &file.items {
        let syn::Item::Mod(m) = item else { continue };
        if m.ident != "builder" {
            continue;
        }
        let Some((_, items)) = &m.content else {
            continue;
        };
        for item in items {
            let syn::Item::Impl(imp) = item else { continue };
            if imp.trait_.is_some() {
                continue;
            }
            let syn::Type::Path(p) = imp.self_ty.as_ref() else {
                continue;
            };
            let Some(last) = p.path.segments.last() else {
                continue;
            };
            let mut methods = Vec::new();
            for it in &imp.items {
                let syn::ImplItem::Fn(f) = it else { continue };
                let name = f.sig.ident.to_string();
                if name == "new" {
                    continue;
                }
                let ty = if name == "send" {
                    match &f.sig.output {
                        syn::ReturnType::Type(_, t) => {
                            format!("-> {}", compact(&t.to_token_stream().to_string()))
                        }
                        syn::ReturnType::Default => "-> ()".to_string(),
                    }
                } else {
                    setter_type(f)
                };
                methods.push((name, ty));
            }
            out.insert(last.ident.to_string(), methods);
        }
    }
    out
}

/// The `T` of a setter's `V: TryInto<T>` bound (or its plain argument type).
fn setter_type(f: &syn::ImplItemFn) -> String {
    if let Some(w) = &f.sig.generics.where_clause {
        for p in &w.predicates {
            let text = compact(&p.to_token_stream().to_string());
            if let Some(rest) = text.split("TryInto<").nth(1) {
                return rest.strip_suffix('>').unwrap_or(rest).to_string();
            }
            if text.contains("FnOnce") {
                return "|builder| …".to_string();
            }
        }
    }
    f.sig
        .inputs
        .iter()
        .skip(1)
        .map(|a| compact(&a.to_token_stream().to_string()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `:: std :: vec :: Vec < :: std :: string :: String >` → `Vec<String>`.
fn compact(tokens: &str) -> String {
    let mut s = tokens.replace(' ', "");
    for (long, short) in [
        ("::std::vec::", ""),
        ("::std::string::", ""),
        ("::std::option::", ""),
        ("::std::num::", ""),
        ("::std::collections::", ""),
        ("std::convert::", ""),
        ("::serde_json::", "serde_json::"),
        ("::uuid::", "uuid::"),
        ("::chrono::", "chrono::"),
    ] {
        s = s.replace(long, short);
    }
    s.replace(",>", ">")
        .trim_end_matches(',')
        .replace(',', ", ")
}
