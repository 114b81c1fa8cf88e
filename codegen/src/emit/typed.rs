//! Typed results for code that uses the generated crate as a library: for each tool (and
//! aggregate function) whose result the spec declares, a serde struct of its arguments, a
//! serde struct of its result (rustdoc from the spec), and an async function that checks
//! the arguments, runs the flow and returns the typed result.
//!
//! They live in a `pub mod api` beside the surface, so their names cannot clash with the
//! surface's own items.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::doc;
use crate::ir::{Flow, Input, OutputType, ParamType, Schema};
use crate::names::{camel_ident, snake_ident, unraw};

/// One flow to offer typed: its name, description, flow, and the paths (from `api`) of its
/// input table and of its run function.
pub(super) struct Entry<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub flow: &'a Flow,
    pub inputs: TokenStream,
    pub run: TokenStream,
}

/// `pub mod api { ... }` for `entries`, or nothing when none declares its result.
pub(super) fn api(what: &str, entries: &[Entry<'_>]) -> TokenStream {
    let items: Vec<TokenStream> = entries.iter().filter_map(|e| entry(what, e)).collect();
    if items.is_empty() {
        return quote!();
    }
    let d = doc(&format!(
        "Typed access to the {what}s whose result the spec declares: arguments and results as serde structs."
    ));
    quote! {
        #d
        pub mod api {
            #(#items)*
        }
    }
}

fn entry(what: &str, e: &Entry<'_>) -> Option<TokenStream> {
    let schema = e.flow.schema.as_ref()?;
    let base = camel_ident(e.name);
    let args = format_ident!("{}Args", base);
    let output = format_ident!("{}Output", base);
    let func = format_ident!("{}", snake_ident(e.name));
    let mut structs = Vec::new();
    let out_ty = rust_type(schema, &format!("{base}Output"), &mut structs, true);
    let out_def = match schema {
        Schema::Object(_) => quote!(),
        _ => {
            let d = doc(&format!("The result of {what} `{}`.", e.name));
            quote!(#d pub type #output = #out_ty;)
        }
    };
    let fields = e.flow.inputs.iter().map(arg_field);
    let args_doc = doc(&format!("The arguments of {what} `{}`.", e.name));
    let mut fdoc = format!("Runs {what} `{}`", e.name);
    if let Some(d) = e.description {
        fdoc.push_str(&format!(": {}", d.trim()));
    }
    fdoc.push_str("\n\nThe arguments are checked as a caller's would be (missing or mistyped ones are [`naftiko_runtime::Error::InvalidInput`]); the result is converted to its declared type.");
    let fdoc = doc(&fdoc);
    let (inputs, run) = (&e.inputs, &e.run);
    Some(quote! {
        #args_doc
        #[derive(Clone, Debug, Default, PartialEq, naftiko_runtime::serde::Serialize)]
        #[serde(crate = "naftiko_runtime::serde")]
        pub struct #args {
            #(#fields)*
        }
        #(#structs)*
        #out_def
        #fdoc
        pub async fn #func(
            clients: &super::super::Clients,
            args: &#args,
        ) -> Result<#output, naftiko_runtime::Error> {
            let inputs = naftiko_runtime::Inputs::from_args(#inputs, naftiko_runtime::typed::args(args)?)?;
            naftiko_runtime::typed::result(#run(clients, inputs).await?)
        }
    })
}

fn arg_field(i: &Input) -> TokenStream {
    let field = format_ident!("{}", snake_ident(&i.name));
    let name = &i.name;
    let ty = match i.ty {
        Some(ParamType::String) | None => quote!(String),
        Some(ParamType::Integer) => quote!(i64),
        Some(ParamType::Number) => quote!(f64),
        Some(ParamType::Boolean) => quote!(bool),
        Some(ParamType::Array) => quote!(Vec<naftiko_runtime::serde_json::Value>),
        Some(ParamType::Object) => {
            quote!(naftiko_runtime::serde_json::Map<String, naftiko_runtime::serde_json::Value>)
        }
    };
    let d = doc(i.description.as_deref().unwrap_or(&format!("`{name}`.")));
    let rename = rename(&field, name);
    if i.required {
        quote! { #d #rename pub #field: #ty, }
    } else {
        quote! {
            #d
            #rename
            #[serde(skip_serializing_if = "Option::is_none")]
            pub #field: Option<#ty>,
        }
    }
}

/// `#[serde(rename = "..")]` when the Rust name differs from the JSON one.
fn rename(field: &Ident, name: &str) -> TokenStream {
    if unraw(&field.to_string()) == name {
        quote!()
    } else {
        quote!(#[serde(rename = #name)])
    }
}

/// The Rust type of a declared result; nested objects become structs named after their
/// path (`GetShipOutputSpecs`), pushed to `structs`. Values a mapping may miss are
/// `Option`s (`top` is the result itself, which is always there).
fn rust_type(s: &Schema, name: &str, structs: &mut Vec<TokenStream>, top: bool) -> TokenStream {
    let t = match s {
        Schema::Any => return quote!(naftiko_runtime::serde_json::Value),
        Schema::Scalar(OutputType::String) => quote!(String),
        Schema::Scalar(OutputType::Integer) => quote!(i64),
        Schema::Scalar(OutputType::Number) => quote!(f64),
        Schema::Scalar(OutputType::Boolean) => quote!(bool),
        Schema::Scalar(OutputType::Object | OutputType::Array) => {
            return quote!(naftiko_runtime::serde_json::Value);
        }
        Schema::Array(item) => {
            // Mapped objects are always objects; scalars may be missing.
            let always = matches!(**item, Schema::Object(_));
            let item = rust_type(item, &format!("{name}Item"), structs, always);
            quote!(Vec<#item>)
        }
        Schema::Map(value) => {
            let value = rust_type(value, &format!("{name}Value"), structs, false);
            quote!(std::collections::BTreeMap<String, #value>)
        }
        Schema::Object(fields) => {
            let ident = format_ident!("{}", name);
            let fs: Vec<TokenStream> = fields
                .iter()
                .map(|(k, v)| {
                    let field = format_ident!("{}", snake_ident(k));
                    let ty = rust_type(v, &format!("{name}{}", camel_ident(k)), structs, false);
                    let rename = rename(&field, k);
                    let d = doc(&format!("`{k}`."));
                    quote! { #d #rename #[serde(default)] pub #field: #ty, }
                })
                .collect();
            let d = doc(&format!(
                "{} `{name}`: every field may be missing from the answer, so each is optional.",
                if top { "Result" } else { "Part of the result:" }
            ));
            structs.push(quote! {
                #d
                #[derive(Clone, Debug, Default, PartialEq, naftiko_runtime::serde::Serialize, naftiko_runtime::serde::Deserialize)]
                #[serde(crate = "naftiko_runtime::serde")]
                pub struct #ident {
                    #(#fs)*
                }
            });
            quote!(#ident)
        }
    };
    if top { t } else { quote!(Option<#t>) }
}
