//! `pub mod aggregates`: one async function per aggregate function of the spec, which the
//! tools and routes that `ref` it call.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::flows::flow;
use super::{code, doc};
use crate::ir::Capability;

pub(super) fn module(cap: &Capability) -> TokenStream {
    if cap.functions.is_empty() {
        return quote!();
    }
    let fns = cap.functions.iter().map(|f| {
        let ident = format_ident!("{}", f.ident);
        let mut text = format!(
            "Aggregate function {}.",
            code(&format!("{}.{}", f.namespace, f.name))
        );
        if let Some(d) = &f.description {
            text.push_str(&format!("\n\n{d}"));
        }
        let s = f.semantics;
        let flags: Vec<String> = [
            ("safe", s.safe),
            ("idempotent", s.idempotent),
            ("cacheable", s.cacheable),
        ]
        .iter()
        .filter_map(|(n, v)| v.map(|v| format!("{n}: {v}")))
        .collect();
        if !flags.is_empty() {
            text.push_str(&format!("\n\nSemantics: {}.", flags.join(", ")));
        }
        if !f.flow.inputs.is_empty() {
            text.push_str("\n\nInputs:");
            for i in &f.flow.inputs {
                text.push_str(&format!("\n- {}", super::mcp::input_doc(i)));
            }
        }
        let prefix = crate::names::unraw(&f.ident).to_uppercase();
        let code = flow(cap, &f.flow, &ident, doc(&text), &prefix, quote!(pub));
        let (statics, function) = (code.statics, code.function);
        quote! { #statics #function }
    });
    quote! {
        /// The aggregate functions of the spec: tools and routes that `ref` one call it.
        pub mod aggregates {
            #(#fns)*
        }
    }
}
