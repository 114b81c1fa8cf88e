//! The pass-through routes (`forward`) of a REST adapter: a static that describes each and
//! a handler that hands the request to `naftiko_runtime::forward`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{code, doc};
use crate::ir::{Capability, Forward};

/// What a pass-through route does, in a few words, for docs.
pub(super) fn text(cap: &Capability, f: &Forward) -> String {
    format!(
        "forwards the methods no operation takes to {}",
        code(&cap.clients[f.client].namespace)
    )
}

/// The static and the handler of one pass-through route.
pub(super) fn handler(cap: &Capability, f: &Forward) -> TokenStream {
    let h = format_ident!("{}", f.handler);
    let bare = crate::names::unraw(&f.handler);
    let spec = format_ident!("{}", bare.to_uppercase());
    let client = &cap.clients[f.client];
    let m = format_ident!("{}", client.module);
    let tail = match f.tail_after {
        Some(n) => {
            let n = proc_macro2::Literal::usize_unsuffixed(n);
            quote!(Some(#n))
        }
        None => quote!(None),
    };
    let trusted = &f.trusted_headers;
    let mut text = f.description.clone().unwrap_or_else(|| {
        format!(
            "Pass-through to {} ({}).",
            code(&client.namespace),
            code(&client.base_uri_text())
        )
    });
    if let Some(l) = &f.label {
        text = format!("{l}\n\n{text}");
    }
    let target = match f.tail_after {
        Some(_) => "the base URI followed by the route's `path`, with the caller's query",
        None => "the base URI, with the caller's query",
    };
    text.push_str(&format!(
        "\n\n`{}` {}: the request goes to {target}; its body is streamed both ways.",
        f.path,
        self::text(cap, f)
    ));
    if f.trusted_headers.is_empty() {
        text.push_str("\n\nNo inbound header is copied but the body's own.");
    } else {
        let names: Vec<String> = f.trusted_headers.iter().map(|h| code(h)).collect();
        text.push_str(&format!(
            "\n\nInbound headers copied: {}.",
            names.join(", ")
        ));
    }
    let d = doc(&text);
    let spec_doc = doc(&format!("How `{}` is forwarded.", f.path));
    quote! {
        #spec_doc
        static #spec: naftiko_runtime::forward::Forward = naftiko_runtime::forward::Forward {
            tail_after: #tail,
            trusted_headers: &[#(#trusted),*],
        };
        #d
        async fn #h(
            naftiko_runtime::axum::extract::State(clients): naftiko_runtime::axum::extract::State<super::Clients>,
            request: naftiko_runtime::axum::extract::Request,
        ) -> naftiko_runtime::axum::response::Response {
            naftiko_runtime::forward::forward(clients.#m.http_client(), &#spec, request).await
        }
    }
}

/// The accessor a forwarded client gets, for the handlers above.
pub(super) fn client_accessor() -> TokenStream {
    quote! {
        /// The HTTP client underneath, for the pass-through routes (`forward`) to this API.
        pub fn http_client(&self) -> &naftiko_runtime::client::HttpClient {
            &self.http
        }
    }
}
