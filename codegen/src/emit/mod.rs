//! Token streams from the checked model, and their formatting into Rust source.
//!
//! Generated code calls `naftiko_runtime` (re-exported pieces of axum, rmcp, tokio and
//! serde_json included), so a crate that uses it depends on `naftiko-runtime` only.
//! One module per construct: clients, flows (calls, steps, mocks), aggregate functions,
//! REST adapters, MCP servers, skill catalogues.

mod aggregates;
mod client;
mod control;
mod flows;
mod forward;
mod mcp;
mod models;
mod openapi;
mod rest;
mod script;
mod skill;
mod typed;
mod values;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use crate::ir::{Capability, Flow, VarSource};

/// The OpenAPI 3.1 document of REST adapter `r` of `cap` (what its router serves).
pub fn openapi(cap: &Capability, r: &crate::ir::RestServer) -> serde_json::Value {
    openapi::document(cap, r)
}

/// The whole generated file for `cap`, as chunks formatted one at a time ([`render`]):
/// the `parts` asked for; `models` (one per client, or none) adds typed answers to the clients.
pub fn capability<'a>(
    cap: &'a Capability,
    parts: &crate::Parts,
    models: &'a [Option<crate::openapi_models::ClientModels>],
) -> Vec<Chunk<'a>> {
    let mut chunks = vec![Chunk::items(move || header_items(cap))];
    chunks.extend(cap.clients.iter().enumerate().map(|(i, c)| {
        let forwarded = parts.rest
            && cap
                .rest
                .iter()
                .flat_map(|r| &r.forwards)
                .any(|f| f.client == i);
        client::module(c, forwarded, models.get(i).and_then(Option::as_ref))
    }));
    chunks.push(Chunk::items(move || clients_struct(cap)));
    if let Some(f) = aggregates::module(cap) {
        chunks.push(f);
    }
    if parts.rest {
        chunks.extend(cap.rest.iter().map(|r| rest::module(cap, r)));
        chunks.extend(
            cap.skills
                .iter()
                .map(|s| Chunk::items(move || skill::module(cap, s))),
        );
    }
    if parts.mcp {
        chunks.extend(cap.mcp.iter().map(|m| mcp::module(cap, m)));
    }
    if parts.serve {
        if let Some(c) = &cap.control {
            chunks.push(Chunk::items(move || control::module(cap, c)));
        }
        let parts = *parts;
        chunks.push(Chunk::items(move || surfaces_fn(cap, &parts)));
    }
    chunks
}

/// The capability's constants, its variables and where they are read.
fn header_items(cap: &Capability) -> TokenStream {
    let name = &cap.name;
    let label = cap.label.as_deref().unwrap_or(&cap.name);
    let description = cap.description.as_deref().unwrap_or("");
    let mut seen = std::collections::HashSet::new();
    let vars = cap
        .vars
        .iter()
        .filter(|v| seen.insert(v.name.to_uppercase()))
        .map(|v| {
            let ident = format_ident!("{}", v.name.to_uppercase());
            let name = &v.name;
            let from = match &v.source {
                VarSource::Env(e) => format!("the environment variable `{e}`"),
                VarSource::File { location, key } => format!("the key `{key}` of `{location}`"),
            };
            let doc = doc(&format!(
                "`{name}` (namespace `{}`): read at run time from {from}.{}",
                v.namespace,
                v.description
                    .as_deref()
                    .map(|d| format!("\n\n{d}"))
                    .unwrap_or_default()
            ));
            quote! { #doc pub const #ident: &str = #name; }
        });
    let binds = cap.vars.iter().map(|v| {
        let var = &v.name;
        let from = match &v.source {
            VarSource::Env(e) => quote!(naftiko_runtime::binds::From::Env(#e)),
            VarSource::File { location, key } => {
                quote!(naftiko_runtime::binds::From::File { location: #location, key: #key })
            }
        };
        quote!(naftiko_runtime::binds::Bind { var: #var, from: #from })
    });
    let cap_doc = doc(&format!(
        "The capability's name, from its spec file: `{name}`."
    ));
    let label_doc = doc("The capability's label (`info.label`).");
    let desc_doc = doc("The capability's description (`info.description`).");
    quote! {
        #cap_doc
        pub const CAPABILITY: &str = #name;
        #label_doc
        pub const LABEL: &str = #label;
        #desc_doc
        pub const DESCRIPTION: &str = #description;
        /// The names of the variables of this capability's `binds`.
        pub mod vars {
            #(#vars)*
        }
        /// Where each variable of `binds` is read at run time (never at build time).
        pub static BINDS: &[naftiko_runtime::binds::Bind] = &[#(#binds),*];
    }
}

/// `#[doc = "..."]` attributes, one per line.
pub(crate) fn doc(text: &str) -> TokenStream {
    let lines = text.trim().lines().map(|l| {
        let l = if l.is_empty() {
            String::new()
        } else {
            format!(" {}", l.trim_end())
        };
        quote! { #[doc = #l] }
    });
    quote! { #(#lines)* }
}

/// `value` in backticks for rustdoc, or an escaped form when it holds backticks.
pub(crate) fn code(value: &str) -> String {
    if value.contains('`') {
        format!("``{value}``")
    } else {
        format!("`{value}`")
    }
}

/// The variables of `binds` read on the exposed side (flows and inbound authentication):
/// `Clients` resolves them once, when it is built.
fn exposed_vars(cap: &Capability) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut flow = |f: &Flow| {
        let mut v = Vec::new();
        flow_vars(f, &mut v);
        out.extend(v.into_iter().map(str::to_owned));
    };
    cap.functions.iter().for_each(|f| flow(&f.flow));
    cap.rest
        .iter()
        .flat_map(|r| &r.routes)
        .for_each(|r| flow(&r.flow));
    cap.mcp
        .iter()
        .flat_map(|m| &m.tools)
        .for_each(|t| flow(&t.flow));
    let auths = cap
        .rest
        .iter()
        .filter_map(|r| r.auth.as_ref())
        .chain(cap.mcp.iter().filter_map(|m| m.auth.as_ref()))
        .chain(cap.skills.iter().filter_map(|s| s.auth.as_ref()));
    for a in auths {
        for t in a.templates() {
            out.extend(t.vars().map(str::to_owned));
        }
    }
    out.sort();
    out.dedup();
    out
}

fn flow_vars<'f>(f: &'f Flow, out: &mut Vec<&'f str>) {
    use crate::ir::{Action, LookupValue, Mock, Step};
    fn mock<'m>(m: &'m Mock, out: &mut Vec<&'m str>) {
        match m {
            Mock::Object(fs) => fs.iter().for_each(|(_, m)| mock(m, out)),
            Mock::Array(i) => mock(i, out),
            Mock::Value { template, .. } => out.extend(template.vars()),
        }
    }
    match &f.action {
        Action::Call { call, .. } => call
            .args
            .iter()
            .flatten()
            .for_each(|e| values::expr_vars(e, out)),
        Action::Function { args, .. } => args.iter().for_each(|(_, e)| values::expr_vars(e, out)),
        Action::Mock(m) => mock(m, out),
        Action::Steps { steps, .. } => {
            for s in steps {
                match s {
                    Step::Call { call, .. } => call
                        .args
                        .iter()
                        .flatten()
                        .for_each(|e| values::expr_vars(e, out)),
                    Step::Lookup {
                        value: LookupValue::Template(t),
                        ..
                    } => out.extend(t.vars()),
                    Step::Lookup { .. } => {}
                    Step::Script { script, .. } => script
                        .with
                        .iter()
                        .for_each(|(_, e)| values::expr_vars(e, out)),
                }
            }
        }
    }
}

fn clients_struct(cap: &Capability) -> TokenStream {
    let fields = cap.clients.iter().map(|c| {
        let m = format_ident!("{}", c.module);
        let d = doc(&format!(
            "Client of {} ({}).",
            code(&c.namespace),
            code(&c.base_uri_text())
        ));
        quote! { #d pub #m: #m::Client }
    });
    let inits = cap.clients.iter().map(|c| {
        let m = format_ident!("{}", c.module);
        let ns = &c.namespace;
        quote! {
            let c = config(#ns);
            overrides.extend(c.vars.iter().cloned());
            let #m = #m::Client::new(c)?;
        }
    });
    let names = cap.clients.iter().map(|c| format_ident!("{}", c.module));
    let vars = exposed_vars(cap);
    // Only capabilities with scripts carry a governance: the others stay as they were.
    let policy = script::policy(cap);
    let (field, init, name) = if cap.uses_scripts() {
        (
            quote! {
                /// The scripting governance script steps run under; the control port shares it.
                pub scripting: std::sync::Arc<naftiko_runtime::script::Governance>,
            },
            quote! {
                let scripting = std::sync::Arc::new(naftiko_runtime::script::Governance::new(SCRIPTING));
            },
            quote!(scripting,),
        )
    } else {
        Default::default()
    };
    quote! {
        #policy
        /// Clients of every API this capability consumes, and the variables its surfaces
        /// read; cheap to clone.
        #[derive(Clone, Debug)]
        pub struct Clients {
            #(#fields,)*
            /// The `binds` variables the surfaces read (inbound tokens, templates).
            pub vars: naftiko_runtime::binds::Vars,
            #field
        }
        impl Clients {
            /// Builds every client with default settings; variables come from `binds`.
            pub fn from_env() -> Result<Self, naftiko_runtime::Error> {
                Self::with_config(|_| naftiko_runtime::client::ClientConfig::default())
            }
            /// Builds every client with the settings `config` gives for its namespace.
            /// Variable overrides of any client's settings apply to the surfaces too.
            #[allow(unused_mut, unused_variables)]
            pub fn with_config(
                mut config: impl FnMut(&'static str) -> naftiko_runtime::client::ClientConfig,
            ) -> Result<Self, naftiko_runtime::Error> {
                let mut overrides: Vec<(String, naftiko_runtime::Secret)> = Vec::new();
                #(#inits)*
                let vars = naftiko_runtime::binds::Vars::resolve(BINDS, &[#(#vars),*], &overrides)?;
                #init
                Ok(Self { #(#names,)* vars, #name })
            }
        }
    }
}

fn surfaces_fn(cap: &Capability, parts: &crate::Parts) -> TokenStream {
    let upstreams = cap.clients.iter().map(|c| {
        let m = format_ident!("{}", c.module);
        quote! { surfaces.upstreams.push((#m::NAMESPACE, clients.#m.base_url().to_owned())); }
    });
    let rest = cap.rest.iter().filter(|_| parts.rest).map(|r| {
        let m = format_ident!("{}", r.module);
        quote! { surfaces.rest.push(#m::surface(clients)); }
    });
    let mcp = cap.mcp.iter().filter(|_| parts.mcp).map(|s| {
        let m = format_ident!("{}", s.module);
        quote! { surfaces.mcp.push(#m::surface(clients)); }
    });
    let skills = cap.skills.iter().filter(|_| parts.rest).map(|s| {
        let m = format_ident!("{}", s.module);
        quote! { surfaces.rest.push(#m::surface(clients)); }
    });
    let control = cap
        .control
        .as_ref()
        .map(|_| quote! { surfaces.control = Some(control_port::surface(clients)); });
    let spec_version = &cap.spec_version;
    quote! {
        /// The grammar and version the spec is written in.
        pub const SPEC_VERSION: &str = #spec_version;
        /// Every surface this capability exposes, ready for `naftiko_runtime::serve`.
        #[allow(unused_mut)]
        pub fn surfaces(clients: &Clients) -> naftiko_runtime::serve::Surfaces {
            let mut surfaces = naftiko_runtime::serve::Surfaces::new(CAPABILITY, LABEL);
            surfaces.spec_version = SPEC_VERSION;
            #(#upstreams)*
            #(#rest)*
            #(#mcp)*
            #(#skills)*
            #control
            let _ = clients;
            surfaces
        }
    }
}

/// A piece of the generated file, formatted on its own so that memory stays bounded by
/// the largest piece, not the whole file (a spec of 10,000 operations makes 50 MB of Rust).
pub(crate) enum Chunk<'a> {
    /// Items, built only when they are formatted.
    Items(Box<dyn FnOnce() -> TokenStream + 'a>),
    /// `head { body }`: a module (`head` is its attributes and `pub mod name`).
    Module {
        head: TokenStream,
        body: Vec<Chunk<'a>>,
    },
}

impl<'a> Chunk<'a> {
    pub(crate) fn items(f: impl FnOnce() -> TokenStream + 'a) -> Self {
        Chunk::Items(Box::new(f))
    }
}

/// Formats `chunks` as Rust source with prettyplease, `header` first.
pub fn render(chunks: Vec<Chunk<'_>>, header: &str) -> Result<String, String> {
    let mut out = String::from(header);
    render_into(chunks, 0, &mut out)?;
    Ok(out)
}

fn render_into(chunks: Vec<Chunk<'_>>, indent: usize, out: &mut String) -> Result<(), String> {
    let pad = " ".repeat(indent);
    for (i, chunk) in chunks.into_iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match chunk {
            Chunk::Items(build) => {
                // Items inside a module are formatted inside as many empty modules, so that
                // prettyplease wraps lines at their real indentation; the wrappers are cut.
                let mut tokens = build();
                for _ in 0..indent / 4 {
                    tokens = quote!(mod __chunk { #tokens });
                }
                let text = format(tokens, "")?;
                let depth = indent / 4;
                let lines: Vec<&str> = text.lines().collect();
                let inner = &lines[depth.min(lines.len())..lines.len().saturating_sub(depth)];
                for line in inner {
                    out.push_str(line);
                    out.push('\n');
                }
            }
            Chunk::Module { head, body } => {
                // `head {}` formatted, its `{}` opened around the body.
                let text = format(quote!(#head {}), "")?;
                let text = text.trim_end();
                let text = text.strip_suffix("{}").unwrap_or(text).trim_end();
                for line in text.lines() {
                    out.push_str(&pad);
                    out.push_str(line);
                    out.push('\n');
                }
                out.truncate(out.trim_end().len());
                out.push_str(" {\n");
                render_into(body, indent + 4, out)?;
                out.push_str(&pad);
                out.push_str("}\n");
            }
        }
    }
    Ok(())
}

/// Formats tokens as Rust source with prettyplease, with blank lines between items.
pub fn format(tokens: TokenStream, header: &str) -> Result<String, String> {
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    let text = prettyplease::unparse(&file);
    let mut out = String::with_capacity(text.len() + text.len() / 8 + header.len());
    out.push_str(header);
    let mut prev = "";
    for line in text.lines() {
        let t = line.trim_start();
        let p = prev.trim();
        let starts_item = [
            "///",
            "#[",
            "pub ",
            "fn ",
            "async fn ",
            "impl",
            "struct ",
            "enum ",
            "mod ",
            "static ",
            "const ",
            "use ",
        ]
        .iter()
        .any(|k| t.starts_with(k));
        let after_item = p.ends_with('}') || p.ends_with(';');
        let both_use = t.starts_with("use ") && p.starts_with("use ");
        let indent = line.len() - t.len();
        let prev_indent = prev.len() - prev.trim_start().len();
        if starts_item
            && after_item
            && !both_use
            && indent <= prev_indent
            && !p.starts_with("let ")
            && !p.is_empty()
        {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        prev = line;
    }
    Ok(out)
}
