//! `pub mod aggregates`: one async function per aggregate function of the spec, which the
//! tools and routes that `ref` it call.

use quote::{format_ident, quote};

use super::flows::flow;
use super::{Chunk, code, doc};
use crate::ir::Capability;

/// Functions per chunk (see [`super::Chunk`]).
const PER_CHUNK: usize = 64;

pub(super) fn module(cap: &Capability) -> Option<Chunk<'_>> {
    if cap.functions.is_empty() {
        return None;
    }
    let function = move |f: &crate::ir::Function| {
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
        let code = flow(
            cap,
            &f.flow,
            &ident,
            doc(&text),
            &prefix,
            quote!(pub),
            &f.namespace,
        );
        let (statics, function) = (code.statics, code.function);
        quote! { #statics #function }
    };
    let body = cap
        .functions
        .chunks(PER_CHUNK)
        .map(|fs| {
            Chunk::items(move || {
                let fns = fs.iter().map(function);
                quote!(#(#fns)*)
            })
        })
        .collect();
    Some(Chunk::Module {
        head: quote! {
            /// The aggregate functions of the spec: tools and routes that `ref` one call it.
            pub mod aggregates
        },
        body,
    })
}
