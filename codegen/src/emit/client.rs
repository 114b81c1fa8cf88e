//! The typed HTTP client of one `consumes` entry.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::values::{TemplateCtx, param_type, text_template};
use super::{Chunk, code, doc};
use crate::ir::{
    Body, Client, ClientAuth, Fixed, OpParam, Operation, ParamLoc, Part, PathPart, Placement,
    Template,
};
use crate::openapi_models::ClientModels;

/// Operations per `impl Client` block (and parameter structs per chunk): a spec of
/// thousands of operations is formatted a block at a time.
const PER_CHUNK: usize = 64;

/// The client module of `c`; `models`: its typed answers, from an OpenAPI document.
pub(super) fn module<'a>(
    c: &'a Client,
    forwarded: bool,
    models: Option<&'a ClientModels>,
) -> Chunk<'a> {
    let m = format_ident!("{}", c.module);
    let base = c.base_uri_text();
    let base = &base;
    let ns = &c.namespace;
    let mut module_doc = format!("Client of the consumed API {}", code(ns));
    if let Some(l) = &c.label {
        module_doc.push_str(&format!(" ({l})"));
    }
    module_doc.push_str(&format!(", at {}.", code(base)));
    if let Some(d) = &c.description {
        module_doc.push_str(&format!("\n\n{d}"));
    }
    let module_doc = doc(&module_doc);
    let auth = auth(c.auth.as_ref());
    let fixed = c.fixed.iter().map(|f| {
        let name = &f.name;
        let loc = loc_tokens(f.location);
        let value = text_template(&f.value, TemplateCtx::Construct);
        quote! { (#loc, #name, #value) }
    });
    let var_names = c.vars();
    let base_vars: Vec<&str> = c.base_uri.vars().collect();
    let base_value = if c.base_uri.literal().is_some() {
        quote!(naftiko_runtime::client::HttpClient::new(
            NAMESPACE, BASE_URI, auth, fixed, config
        ))
    } else {
        let t = text_template(&c.base_uri, TemplateCtx::Construct);
        quote!(naftiko_runtime::client::HttpClient::new(NAMESPACE, &#t, auth, fixed, config)
            .map_err(|e| naftiko_runtime::client::base_from_binds(e, &[#(#base_vars),*]))?)
    };
    let base_value = if c.base_uri.literal().is_some() {
        quote!(#base_value?)
    } else {
        base_value
    };
    let statics: Vec<TokenStream> = c.ops.iter().filter_map(schema_static).collect();
    // The client keeps the variables its calls read; the others are read once, here.
    let keeps_vars = !c.call_vars().is_empty();
    let vars_field = if keeps_vars {
        quote! {
            /// The `binds` variables its calls read, resolved when it was created.
            vars: naftiko_runtime::binds::Vars,
        }
    } else {
        quote!()
    };
    let vars_init = if keeps_vars { quote!(vars,) } else { quote!() };
    let mut op_chunks = c.ops.chunks(PER_CHUNK);
    let first: &[crate::ir::Operation] = op_chunks.next().unwrap_or(&[]);
    let methods = first.iter().map(method);
    let auth_doc = match &c.auth {
        Some(ClientAuth::Bearer(t)) => format!(
            "\n\nCalls are authenticated with a bearer token from {}.",
            env_list(t)
        ),
        Some(ClientAuth::ApiKey { name, value, .. }) => {
            format!(
                "\n\nCalls carry the API key {} from {}.",
                code(name),
                env_list(value)
            )
        }
        Some(ClientAuth::Basic { username, .. }) => {
            format!(
                "\n\nCalls use HTTP basic authentication ({}).",
                env_list(username)
            )
        }
        Some(ClientAuth::Digest { username, .. }) => {
            format!(
                "\n\nCalls use HTTP digest authentication ({}).",
                env_list(username)
            )
        }
        None => String::new(),
    };
    let new_doc = doc(&format!(
        "Creates the client with `config` (base URL, timeouts, variables).{auth_doc}\n\nVariables are taken from [`ClientConfig::with_var`](naftiko_runtime::client::ClientConfig::with_var) overrides, else from where the spec's `binds` say (an environment variable, or a key of a file read at start-up); a missing one is an error."
    ));
    let head = quote!(#module_doc pub mod #m);
    let accessor = match forwarded {
        true => super::forward::client_accessor(),
        false => quote!(),
    };
    let main = quote! {
            /// The base URI declared in the spec; [`ClientConfig::base_url`](naftiko_runtime::client::ClientConfig::base_url) overrides it.
            pub const BASE_URI: &str = #base;
            /// The consumed namespace.
            pub const NAMESPACE: &str = #ns;
            #(#statics)*
            /// Typed client: one async method per operation. Cheap to clone.
            #[derive(Clone, Debug)]
            pub struct Client {
                http: naftiko_runtime::client::HttpClient,
                #vars_field
            }
            impl Client {
                /// Creates the client with default settings (see [`Client::new`]).
                pub fn from_env() -> Result<Self, naftiko_runtime::Error> {
                    Self::new(naftiko_runtime::client::ClientConfig::default())
                }
                #new_doc
                #[allow(unused_variables)]
                pub fn new(config: naftiko_runtime::client::ClientConfig) -> Result<Self, naftiko_runtime::Error> {
                    let vars = naftiko_runtime::binds::Vars::resolve(super::BINDS, &[#(#var_names),*], &config.vars)?;
                    let auth = #auth;
                    let fixed = vec![#(#fixed),*];
                    Ok(Self {
                        http: #base_value,
                        #vars_init
                    })
                }
                /// The base URL calls go to.
                pub fn base_url(&self) -> &str {
                    self.http.base_url()
                }
                #accessor
                #(#methods)*
            }
    };
    let mut body = vec![Chunk::items(move || main)];
    for ops in op_chunks {
        body.push(Chunk::items(move || {
            let methods = ops.iter().map(method);
            quote! {
                impl Client {
                    #(#methods)*
                }
            }
        }));
    }
    let with_params: Vec<&crate::ir::Operation> =
        c.ops.iter().filter(|o| o.has_params_struct()).collect();
    for ops in with_params.chunks(PER_CHUNK) {
        let ops = ops.to_vec();
        body.push(Chunk::items(move || {
            let structs = ops.into_iter().map(params_struct);
            quote!(#(#structs)*)
        }));
    }
    if let Some(models) = models {
        body.extend(super::models::chunks(c, models));
    }
    Chunk::Module { head, body }
}

fn env_list(t: &Template) -> String {
    let vars: Vec<String> =
        t.0.iter()
            .filter_map(|p| match p {
                Part::Env(v) => Some(code(v)),
                _ => None,
            })
            .collect();
    if vars.is_empty() {
        "the spec".into()
    } else {
        vars.join(", ")
    }
}

fn auth(a: Option<&ClientAuth>) -> TokenStream {
    let t = |t: &Template| text_template(t, TemplateCtx::Construct);
    match a {
        None => quote!(naftiko_runtime::client::Auth::None),
        Some(ClientAuth::Bearer(token)) => {
            let token = t(token);
            quote!(naftiko_runtime::client::Auth::Bearer(naftiko_runtime::Secret::new(#token)))
        }
        Some(ClientAuth::ApiKey {
            name,
            value,
            placement,
        }) => {
            let value = t(value);
            let in_query = *placement == Placement::Query;
            quote!(naftiko_runtime::client::Auth::ApiKey {
                name: #name,
                value: naftiko_runtime::Secret::new(#value),
                in_query: #in_query,
            })
        }
        Some(ClientAuth::Basic { username, password }) => {
            let (u, p) = (t(username), t(password));
            quote!(naftiko_runtime::client::Auth::Basic {
                username: #u,
                password: naftiko_runtime::Secret::new(#p),
            })
        }
        Some(ClientAuth::Digest { username, password }) => {
            let (u, p) = (t(username), t(password));
            quote!(naftiko_runtime::client::Auth::Digest {
                username: #u,
                password: naftiko_runtime::Secret::new(#p),
            })
        }
    }
}

fn loc_tokens(l: ParamLoc) -> TokenStream {
    match l {
        ParamLoc::Query => quote!(naftiko_runtime::client::Loc::Query),
        ParamLoc::Cookie => quote!(naftiko_runtime::client::Loc::Cookie),
        _ => quote!(naftiko_runtime::client::Loc::Header),
    }
}

fn param_doc(p: &OpParam) -> String {
    let where_ = match p.location {
        ParamLoc::Path => "path",
        ParamLoc::Query => "query",
        ParamLoc::Header => "header",
        ParamLoc::Cookie => "cookie",
        ParamLoc::Body => "body",
        ParamLoc::Template => "template",
    };
    let mut s = format!(
        "{} ({where_}{})",
        code(&p.name),
        if p.required { ", required" } else { "" }
    );
    if let Some(d) = &p.description {
        s.push_str(&format!(": {}", d.trim()));
    }
    s
}

fn method(op: &Operation) -> TokenStream {
    let name = format_ident!("{}", op.method_name);
    let mut text = op.description.clone().unwrap_or_else(|| op.name.clone());
    if let Some(l) = &op.label {
        text = format!("{l}\n\n{text}");
    }
    text.push_str(&format!(
        "\n\n`{} {}` (operation {}).",
        op.method.as_str(),
        op.path_text,
        code(&op.name)
    ));
    let path_params: Vec<_> = op.path_params().collect();
    if !path_params.is_empty() {
        text.push_str("\n\nPath parameters, each sent as one percent-encoded segment:");
        for (_, p) in &path_params {
            text.push_str(&format!("\n- {}", param_doc(p)));
        }
    }
    text.push_str("\n\nA 2xx answer is `Ok`; any other status is [`naftiko_runtime::Error::Upstream`] with the upstream status and body.");
    let d = doc(&text);
    let (args, _) = signature(op);
    let value_of = |i: usize| -> TokenStream {
        let p = &op.params[i];
        let f = format_ident!("{}", p.field);
        if p.location == ParamLoc::Path {
            quote!(#f)
        } else {
            quote!(params.#f)
        }
    };
    let path = op.path.iter().map(|part| match part {
        PathPart::Lit(l) => quote!(req.path(#l);),
        PathPart::Env(v) => quote!(req.path_param(#v, self.vars.get(#v)?)?;),
        PathPart::Param(i) => {
            let name = &op.params[*i].name;
            let v = value_of(*i);
            quote!(req.path_param(#name, &#v)?;)
        }
    });
    let by_name = |n: &str| -> TokenStream {
        match op.params.iter().position(|p| p.name == n) {
            Some(i) => {
                let v = value_of(i);
                quote!(naftiko_runtime::client::text(&#v))
            }
            None => quote!(String::new()),
        }
    };
    let params = op.other_params().filter_map(|(i, p)| {
        let name = &p.name;
        let v = value_of(i);
        match p.location {
            ParamLoc::Query => Some(quote!(req.query(#name, &#v);)),
            ParamLoc::Header => Some(quote!(req.header(#name, &#v)?;)),
            ParamLoc::Cookie => Some(quote!(req.cookie(#name, &#v);)),
            _ => None,
        }
    });
    let fixed = op.fixed.iter().map(|f: &Fixed| {
        let name = &f.name;
        let value = text_template(&f.value, TemplateCtx::Client(&by_name));
        match f.location {
            ParamLoc::Query => quote!(req.query(#name, &#value);),
            ParamLoc::Cookie => quote!(req.cookie(#name, &#value);),
            _ => quote!(req.header(#name, &#value)?;),
        }
    });
    let body = match &op.body {
        None => quote!(),
        Some(Body::Whole(i)) => {
            let v = value_of(*i);
            quote!(req.json(&#v)?;)
        }
        Some(Body::Fields(fs)) => {
            let fields = fs.iter().map(|i| {
                let name = &op.params[*i].name;
                let v = value_of(*i);
                quote!(req.body_field(#name, &#v)?;)
            });
            quote!(#(#fields)*)
        }
        Some(Body::JsonTemplate(t)) => {
            let pushes = json_template(t, |n| match op.params.iter().position(|p| p.name == n) {
                Some(i) => value_of(i),
                None => quote!(naftiko_runtime::serde_json::Value::Null),
            });
            quote!(req.raw_body("application/json", #pushes);)
        }
        Some(Body::Text {
            content_type,
            template,
        }) => {
            let s = text_template(template, TemplateCtx::Client(&by_name));
            quote!(req.raw_body(#content_type, #s);)
        }
        Some(Body::Form(fields)) => {
            let fields = fields.iter().map(|(k, t)| {
                let v = text_template(t, TemplateCtx::Client(&by_name));
                quote!((#k, #v))
            });
            quote!(req.form(&[#(#fields),*]);)
        }
        Some(Body::Multipart(parts)) => {
            let parts = parts.iter().map(|p| {
                let name = &p.name;
                let value = text_template(&p.value, TemplateCtx::Client(&by_name));
                let filename = match &p.filename {
                    Some(f) => quote!(Some(#f)),
                    None => quote!(None),
                };
                let content_type = match &p.content_type {
                    Some(c) => quote!(Some(#c)),
                    None => quote!(None),
                };
                quote!(naftiko_runtime::client::FormPart {
                    name: #name,
                    value: #value,
                    filename: #filename,
                    content_type: #content_type,
                })
            });
            quote!(req.multipart(&[#(#parts),*]);)
        }
    };
    let http_method = format_ident!("{}", op.method.as_str());
    let op_name = &op.name;
    let needs_mut = !op.path.is_empty()
        || op.other_params().any(|(_, p)| {
            matches!(
                p.location,
                ParamLoc::Query | ParamLoc::Header | ParamLoc::Cookie
            )
        })
        || !op.fixed.is_empty()
        || op.body.is_some();
    let format = format_call(op);
    let needs_mut = needs_mut || !format.is_empty();
    let mut_req = if needs_mut { quote!(mut) } else { quote!() };
    let allow = if args.len() > 6 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        quote!()
    };
    quote! {
        #d
        #allow
        pub async fn #name(&self, #(#args),*) -> Result<naftiko_runtime::Response, naftiko_runtime::Error> {
            let #mut_req req = self.http.request(naftiko_runtime::Method::#http_method, #op_name);
            #(#path)*
            #(#params)*
            #(#fixed)*
            #body
            #format
            self.http.send(req).await
        }
    }
}

/// The parameters of an operation's method (`external_id: &str`, `params: &FooParams`),
/// and the names that pass them on.
pub(super) fn signature(op: &Operation) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let (mut params, mut names) = (Vec::new(), Vec::new());
    for (_, p) in op.path_params() {
        let f = format_ident!("{}", p.field);
        let ty = match p.ty {
            Some(crate::ir::ParamType::Integer) => quote!(i64),
            Some(crate::ir::ParamType::Number) => quote!(f64),
            Some(crate::ir::ParamType::Boolean) => quote!(bool),
            _ => quote!(&str),
        };
        params.push(quote!(#f: #ty));
        names.push(quote!(#f));
    }
    if op.has_params_struct() {
        let st = format_ident!("{}", op.params_struct);
        params.push(quote!(params: &#st));
        names.push(quote!(params));
    }
    (params, names)
}

/// The runtime `Format` of an operation's `outputRawFormat`.
fn format_variant(label: &str) -> TokenStream {
    let v = match label {
        "xml" => quote!(Xml),
        "yaml" => quote!(Yaml),
        "csv" => quote!(Csv),
        "tsv" => quote!(Tsv),
        "psv" => quote!(Psv),
        "html" => quote!(Html),
        "markdown" => quote!(Markdown),
        "avro" => quote!(Avro),
        "protobuf" => quote!(Protobuf),
        "binary" => quote!(Binary),
        _ => quote!(Json),
    };
    quote!(naftiko_runtime::formats::Format::#v)
}

fn schema_ident(op: &Operation) -> proc_macro2::Ident {
    format_ident!(
        "{}_SCHEMA",
        crate::names::unraw(&op.method_name).to_uppercase()
    )
}

/// The static `outputSchema` of an operation that has one: a selector or heading prefix as
/// text, or a schema file loaded on first use (relative to the working directory).
fn schema_static(op: &Operation) -> Option<TokenStream> {
    let schema = op.format.schema.as_deref()?;
    let ident = schema_ident(op);
    let variant = format_variant(&op.format.label);
    Some(match op.format.label.as_str() {
        "html" | "markdown" => quote! {
            static #ident: std::sync::LazyLock<naftiko_runtime::formats::Schema> =
                std::sync::LazyLock::new(|| naftiko_runtime::formats::Schema::text(#schema));
        },
        "avro" | "protobuf" => quote! {
            static #ident: std::sync::LazyLock<Result<naftiko_runtime::formats::Schema, String>> =
                std::sync::LazyLock::new(|| {
                    naftiko_runtime::formats::load_schema(#variant, std::path::Path::new(#schema))
                        .map_err(|e| e.to_string())
                });
        },
        _ => return None,
    })
}

/// `req.format(..)` for an operation whose answer is not JSON (nothing for JSON).
fn format_call(op: &Operation) -> TokenStream {
    if op.format.is_json() {
        return quote!();
    }
    let variant = format_variant(&op.format.label);
    let ident = schema_ident(op);
    match (op.format.label.as_str(), &op.format.schema) {
        ("html" | "markdown", Some(_)) => quote!(req.format(#variant, Some(&*#ident));),
        ("avro" | "protobuf", Some(_)) => quote! {
            let schema = #ident.as_ref().map_err(|e| naftiko_runtime::Error::Config(e.clone()))?;
            req.format(#variant, Some(schema));
        },
        _ => quote!(req.format(#variant, None);),
    }
}

/// Renders a JSON template: placeholders inside JSON strings are escaped as string content,
/// others are written as JSON values, so an input can never break the document's structure.
fn json_template(t: &Template, value: impl Fn(&str) -> TokenStream) -> TokenStream {
    let mut in_string = false;
    let mut pushes = Vec::new();
    for part in &t.0 {
        match part {
            Part::Lit(l) => {
                let mut escaped = false;
                for ch in l.chars() {
                    match (in_string, escaped, ch) {
                        (true, true, _) => escaped = false,
                        (true, false, '\\') => escaped = true,
                        (_, false, '"') => in_string = !in_string,
                        _ => {}
                    }
                }
                pushes.push(quote!(s.push_str(#l);));
            }
            Part::Env(v) => {
                pushes.push(if in_string {
                    quote!(naftiko_runtime::client::push_json_str(&mut s, self.vars.get(#v)?);)
                } else {
                    quote!(naftiko_runtime::client::push_json(&mut s, self.vars.get(#v)?)?;)
                });
            }
            Part::Step(_) => {}
            Part::Input(n) => {
                let v = value(n);
                pushes.push(if in_string {
                    quote!(naftiko_runtime::client::push_json_str(&mut s, &naftiko_runtime::client::text(&#v));)
                } else {
                    quote!(naftiko_runtime::client::push_json(&mut s, &#v)?;)
                });
            }
        }
    }
    quote!({
        let mut s = String::new();
        #(#pushes)*
        s
    })
}

fn params_struct(op: &Operation) -> TokenStream {
    let st = format_ident!("{}", op.params_struct);
    let d = doc(&format!(
        "Parameters of [`Client::{}`] other than its path parameters.",
        op.method_name
    ));
    let fields = op.other_params().map(|(_, p)| {
        let f = format_ident!("{}", p.field);
        let ty = param_type(p);
        let d = doc(&param_doc(p));
        quote! { #d pub #f: #ty }
    });
    quote! {
        #d
        #[derive(Clone, Debug, Default)]
        pub struct #st {
            #(#fields,)*
        }
    }
}
