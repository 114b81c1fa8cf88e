//! Token streams from the checked model, and their formatting into Rust source.
//!
//! Generated code calls `naftiko_runtime` (re-exported pieces of axum, rmcp and serde_json
//! included), so a crate that uses it depends on `naftiko-runtime` and `tokio` only.

mod client;
mod mcp;
mod rest;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{
    Call, Capability, Expr, Input, JsonSeg, OpParam, ParamLoc, ParamType, Part, Shape, Source,
    Template,
};

/// The whole generated file for `cap`, as tokens.
pub fn capability(cap: &Capability) -> TokenStream {
    let clients = cap.clients.iter().map(client::module);
    let rest = cap.rest.iter().map(|r| rest::module(cap, r));
    let mcp = cap.mcp.iter().map(|m| mcp::module(cap, m));
    let clients_struct = clients_struct(cap);
    let surfaces = surfaces_fn(cap);
    let name = &cap.name;
    let label = cap.label.as_deref().unwrap_or(&cap.name);
    let description = cap.description.as_deref().unwrap_or("");
    let vars = cap.vars.iter().map(|v| {
        let ident = format_ident!("{}", v.name);
        let name = &v.name;
        let doc = doc(&format!(
            "`{name}`: read from the environment variable of that name (bound in namespace `{}`).{}",
            v.namespace,
            v.description.as_deref().map(|d| format!("\n\n{d}")).unwrap_or_default()
        ));
        quote! { #doc pub const #ident: &str = #name; }
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
        /// The variables this capability reads from the environment (its `binds`).
        pub mod vars {
            #(#vars)*
        }
        #(#clients)*
        #clients_struct
        #(#rest)*
        #(#mcp)*
        #surfaces
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

fn clients_struct(cap: &Capability) -> TokenStream {
    let fields = cap.clients.iter().map(|c| {
        let m = format_ident!("{}", c.module);
        let d = doc(&format!(
            "Client of {} ({}).",
            code(&c.namespace),
            code(&c.base_uri)
        ));
        quote! { #d pub #m: #m::Client }
    });
    let inits = cap.clients.iter().map(|c| {
        let m = format_ident!("{}", c.module);
        let ns = &c.namespace;
        quote! { #m: #m::Client::new(config(#ns))? }
    });
    quote! {
        /// Clients of every API this capability consumes; cheap to clone.
        #[derive(Clone, Debug)]
        pub struct Clients {
            #(#fields,)*
        }
        impl Clients {
            /// Builds every client with default settings; credentials come from the environment.
            pub fn from_env() -> Result<Self, naftiko_runtime::Error> {
                Self::with_config(|_| naftiko_runtime::client::ClientConfig::default())
            }
            /// Builds every client with the settings `config` gives for its namespace.
            #[allow(unused_mut, unused_variables)]
            pub fn with_config(
                mut config: impl FnMut(&'static str) -> naftiko_runtime::client::ClientConfig,
            ) -> Result<Self, naftiko_runtime::Error> {
                Ok(Self { #(#inits,)* })
            }
        }
    }
}

fn surfaces_fn(cap: &Capability) -> TokenStream {
    let upstreams = cap.clients.iter().map(|c| {
        let m = format_ident!("{}", c.module);
        quote! { surfaces.upstreams.push((#m::NAMESPACE, clients.#m.base_url().to_owned())); }
    });
    let rest = cap.rest.iter().map(|r| {
        let m = format_ident!("{}", r.module);
        quote! { surfaces.rest.push(#m::surface(clients)); }
    });
    let mcp = cap.mcp.iter().map(|s| {
        let m = format_ident!("{}", s.module);
        quote! { surfaces.mcp.push(#m::surface(clients)); }
    });
    quote! {
        /// Every surface this capability exposes, ready for `naftiko_runtime::serve`.
        pub fn surfaces(clients: &Clients) -> naftiko_runtime::serve::Surfaces {
            let mut surfaces = naftiko_runtime::serve::Surfaces::new(CAPABILITY, LABEL);
            #(#upstreams)*
            #(#rest)*
            #(#mcp)*
            let _ = clients;
            surfaces
        }
    }
}

/// The Rust type of an operation parameter.
pub(crate) fn param_type(p: &OpParam) -> TokenStream {
    let base = match (p.ty, p.location) {
        (Some(ParamType::Integer), _) => quote!(i64),
        (Some(ParamType::Number), _) => quote!(f64),
        (Some(ParamType::Boolean), _) => quote!(bool),
        (Some(ParamType::String), _) => quote!(String),
        (Some(ParamType::Array), ParamLoc::Query | ParamLoc::Header | ParamLoc::Cookie) => {
            quote!(Vec<String>)
        }
        (Some(ParamType::Array | ParamType::Object), _) => {
            quote!(naftiko_runtime::serde_json::Value)
        }
        (None, ParamLoc::Body | ParamLoc::Template) => quote!(naftiko_runtime::serde_json::Value),
        (None, _) => quote!(String),
    };
    if p.required {
        base
    } else {
        quote!(Option<#base>)
    }
}

/// `&[Seg::Key("a"), Seg::Index(0)]`.
pub(crate) fn json_path(segs: &[JsonSeg]) -> TokenStream {
    let s = segs.iter().map(|s| match s {
        JsonSeg::Key(k) => quote!(naftiko_runtime::Seg::Key(#k)),
        JsonSeg::Index(i) => {
            let i = Literal::usize_unsuffixed(*i);
            quote!(naftiko_runtime::Seg::Index(#i))
        }
        JsonSeg::Wildcard => quote!(naftiko_runtime::Seg::All),
    });
    quote!(&[#(#s),*])
}

/// A `naftiko_runtime::Shape` constant expression.
pub(crate) fn shape(s: &Shape) -> TokenStream {
    match s {
        Shape::Whole => quote!(naftiko_runtime::Shape::Whole),
        Shape::Path(p) => {
            let p = json_path(p);
            quote!(naftiko_runtime::Shape::Path(#p))
        }
        Shape::Object { base, fields } => {
            let base = json_path(base);
            let f = fields.iter().map(|(k, v)| {
                let v = shape(v);
                quote!((#k, #v))
            });
            quote!(naftiko_runtime::Shape::Object { base: #base, fields: &[#(#f),*] })
        }
        Shape::Array { base, item } => {
            let base = json_path(base);
            let item = shape(item);
            quote!(naftiko_runtime::Shape::Array { base: #base, item: &#item })
        }
        Shape::Const(v) => {
            let text = v.to_string();
            quote!(naftiko_runtime::Shape::Const(#text))
        }
    }
}

/// The static input table of a route or tool.
pub(crate) fn inputs_table(inputs: &[Input]) -> TokenStream {
    let rows = inputs.iter().map(|i| {
        let name = &i.name;
        let source = match &i.source {
            Source::Path(n) => quote!(naftiko_runtime::Source::Path(#n)),
            Source::Query(n) => quote!(naftiko_runtime::Source::Query(#n)),
            Source::Header(n) => quote!(naftiko_runtime::Source::Header(#n)),
            Source::Cookie(n) => quote!(naftiko_runtime::Source::Cookie(#n)),
            Source::Body => quote!(naftiko_runtime::Source::Body),
            Source::BodyPath(p) => {
                let p = json_path(p);
                quote!(naftiko_runtime::Source::BodyPath(#p))
            }
            Source::Arg(n) => quote!(naftiko_runtime::Source::Arg(#n)),
        };
        let ty = match i.ty {
            Some(ParamType::String) => quote!(naftiko_runtime::Ty::String),
            Some(ParamType::Integer) => quote!(naftiko_runtime::Ty::Integer),
            Some(ParamType::Number) => quote!(naftiko_runtime::Ty::Number),
            Some(ParamType::Boolean) => quote!(naftiko_runtime::Ty::Boolean),
            Some(ParamType::Array) => quote!(naftiko_runtime::Ty::Array),
            Some(ParamType::Object) => quote!(naftiko_runtime::Ty::Object),
            None => quote!(naftiko_runtime::Ty::Any),
        };
        let required = i.required;
        let description = opt_str(i.description.as_deref());
        let pattern = opt_str(i.pattern.as_deref());
        quote! {
            naftiko_runtime::InputSpec {
                name: #name,
                source: #source,
                ty: #ty,
                required: #required,
                description: #description,
                pattern: #pattern,
            }
        }
    });
    quote!(&[#(#rows),*])
}

pub(crate) fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

/// The `call_*` function shared by a route or tool: checked inputs -> typed client call.
pub(crate) fn call_fn(
    cap: &Capability,
    call: &Call,
    name: &proc_macro2::Ident,
    doc: TokenStream,
) -> TokenStream {
    let client = &cap.clients[call.client];
    let op = &client.ops[call.op];
    let cm = format_ident!("{}", client.module);
    let method = format_ident!("{}", op.method_name);
    let mut lets = Vec::new();
    let mut args = Vec::new();
    for (i, p) in op.path_params() {
        let v = format_ident!("{}", p.field);
        let value = arg_value(p, call.args[i].as_ref());
        let (ty, arg) = match p.ty {
            Some(ParamType::Integer) => (quote!(i64), quote!(#v)),
            Some(ParamType::Number) => (quote!(f64), quote!(#v)),
            Some(ParamType::Boolean) => (quote!(bool), quote!(#v)),
            _ => (quote!(String), quote!(&#v)),
        };
        lets.push(quote! { let #v: #ty = #value; });
        args.push(arg);
    }
    if op.has_params_struct() {
        let st = format_ident!("{}", op.params_struct);
        let fields = op.other_params().map(|(i, p)| {
            let f = format_ident!("{}", p.field);
            let value = arg_value(p, call.args[i].as_ref());
            quote! { #f: #value }
        });
        lets.push(quote! { let params = super::#cm::#st { #(#fields,)* }; });
        args.push(quote!(&params));
    }
    let uses = |f: fn(&Expr) -> bool| call.args.iter().flatten().any(f);
    let inputs = if uses(|e| matches!(e, Expr::Input(_))) {
        quote!(mut inputs)
    } else if uses(|e| matches!(e, Expr::Template(_))) {
        quote!(inputs)
    } else {
        quote!(_inputs)
    };
    quote! {
        #doc
        async fn #name(
            clients: &super::Clients,
            #inputs: naftiko_runtime::Inputs,
        ) -> Result<naftiko_runtime::Response, naftiko_runtime::Error> {
            #(#lets)*
            clients.#cm.#method(#(#args),*).await
        }
    }
}

/// The expression that yields one operation argument from the inputs.
fn arg_value(p: &OpParam, e: Option<&Expr>) -> TokenStream {
    let value = match e {
        None => {
            return if p.required {
                quote!(Default::default())
            } else {
                quote!(None)
            };
        }
        Some(Expr::Input(name)) => {
            return if p.required {
                quote!(inputs.take(#name)?)
            } else {
                quote!(inputs.take_opt(#name)?)
            };
        }
        Some(Expr::Const(v)) => {
            let text = v.to_string();
            quote!(naftiko_runtime::convert(naftiko_runtime::json(#text)?)?)
        }
        Some(Expr::Env(var)) => {
            quote!(naftiko_runtime::convert(naftiko_runtime::serde_json::Value::String(naftiko_runtime::env::var(#var)?))?)
        }
        Some(Expr::Template(t)) => {
            let s = text_template(t, |name| quote!(inputs.text(#name)?));
            quote!(naftiko_runtime::convert(naftiko_runtime::serde_json::Value::String(#s))?)
        }
    };
    if p.required {
        value
    } else {
        quote!(Some(#value))
    }
}

/// A block that renders a text template; `input` gives the text of an input by name.
pub(crate) fn text_template(t: &Template, input: impl Fn(&str) -> TokenStream) -> TokenStream {
    text_template_with(t, input, |v| quote!(naftiko_runtime::env::var(#v)?))
}

/// Like [`text_template`], with `env` giving the value of a `binds` variable.
pub(crate) fn text_template_with(
    t: &Template,
    input: impl Fn(&str) -> TokenStream,
    env: impl Fn(&str) -> TokenStream,
) -> TokenStream {
    if let Some(lit) = t.literal() {
        return quote!(String::from(#lit));
    }
    if let [Part::Env(v)] = t.0.as_slice() {
        return env(v);
    }
    let pushes = t.0.iter().map(|part| match part {
        Part::Lit(l) => quote!(s.push_str(#l);),
        Part::Env(v) => {
            let v = env(v);
            quote!(s.push_str(&#v);)
        }
        Part::Input(n) => {
            let v = input(n);
            quote!(s.push_str(&#v);)
        }
    });
    quote!({
        let mut s = String::new();
        #(#pushes)*
        s
    })
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
