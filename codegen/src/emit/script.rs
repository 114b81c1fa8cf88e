//! Script steps: the call of `naftiko_runtime::script::run` with the step's `context`, and
//! the scripting governance the generated `Clients` carry.

use proc_macro2::TokenStream;
use quote::quote;

use super::values::{expr_value, step_var};
use crate::ir::{Capability, Input, Script, ScriptingPolicy, Step};

/// An expression giving the step's output (`Result<Value, Error>`, `null` for no result).
///
/// `context` holds, in increasing precedence: the flow's inputs, the outputs of the earlier
/// steps, then the step's `with` (as the engine binds them).
pub(super) fn run(name: &str, script: &Script, inputs: &[Input], steps: &[Step]) -> TokenStream {
    let inputs = inputs.iter().map(|i| {
        let n = &i.name;
        quote!((#n, inputs.value(#n)))
    });
    let outputs = script.reads.iter().map(|&i| {
        let n = steps[i].name();
        let v = step_var(i, n);
        quote!((#n, #v.clone()))
    });
    let with = script.with.iter().map(|(k, e)| {
        let v = expr_value(e);
        quote!((#k, #v))
    });
    let opt = |v: &Option<String>| match v {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let (language, location) = (opt(&script.language), opt(&script.location));
    let file = &script.file;
    let deps = &script.dependencies;
    quote! {
        naftiko_runtime::script::run(
            &clients.scripting,
            &naftiko_runtime::script::ScriptSpec {
                step: #name,
                language: #language,
                location: #location,
                file: #file,
                dependencies: &[#(#deps),*],
            },
            naftiko_runtime::script::context(vec![#(#inputs,)* #(#outputs,)* #(#with,)*]),
        )
        .await
        .map(Option::unwrap_or_default)
    }
}

/// `SCRIPTING`, the governance the spec declares, when the capability uses scripts.
pub(super) fn policy(cap: &Capability) -> TokenStream {
    if !cap.uses_scripts() {
        return TokenStream::new();
    }
    let none = ScriptingPolicy {
        enabled: None,
        default_location: None,
        default_language: None,
        timeout_ms: None,
        statement_limit: None,
        allowed_languages: Vec::new(),
    };
    let p = cap.scripting.as_ref().unwrap_or(&none);
    let opt = |v: &Option<String>| match v {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    };
    let enabled = match p.enabled {
        Some(b) => quote!(Some(#b)),
        None => quote!(None),
    };
    let (location, language) = (opt(&p.default_location), opt(&p.default_language));
    let default = quote!(naftiko_runtime::script::Policy::DEFAULT);
    let timeout = p
        .timeout_ms
        .map_or_else(|| quote!(#default.timeout_ms), |t| quote!(#t));
    let limit = p
        .statement_limit
        .map_or_else(|| quote!(#default.statement_limit), |t| quote!(#t));
    let allowed = &p.allowed_languages;
    quote! {
        /// The scripting governance of `management.scripting` (the engine's defaults where
        /// it says nothing); the control port may change it while the capability runs.
        pub const SCRIPTING: naftiko_runtime::script::Policy = naftiko_runtime::script::Policy {
            enabled: #enabled,
            default_location: #location,
            default_language: #language,
            timeout_ms: #timeout,
            statement_limit: #limit,
            allowed_languages: &[#(#allowed),*],
        };
    }
}
