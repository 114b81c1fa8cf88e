//! Typed answers of a consumed API ([`Builder::openapi`](crate::Builder::openapi)): its
//! `pub mod models` of serde types, and one `<method>_typed` method per operation the
//! OpenAPI document describes, beside the raw method it calls.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{Chunk, code, doc};
use crate::ir::Client;
use crate::openapi_models::{ClientModels, TypedOp};

/// The chunks added to the client module `c`: an `impl Client` block of typed methods,
/// then `pub mod models`.
pub(super) fn chunks<'a>(c: &'a Client, models: &'a ClientModels) -> Vec<Chunk<'a>> {
    let methods = Chunk::items(move || {
        let methods = models.typed.iter().map(|t| method(c, t));
        quote! {
            impl Client {
                #(#methods)*
            }
        }
    });
    let d = doc(&format!(
        "Serde models of the answers of {}, generated from the OpenAPI document {}: the types of the success answers of the operations it describes, and of the schemas they reference.\n\n\
         They are a typed view, read by the `*_typed` methods of [`Client`](super::Client). Fields the schemas do not declare are ignored by this view (an upstream may add fields without breaking it), and an enumeration takes only the values the document lists; the raw methods keep the whole body, every field included.\n\n\
         String formats (`date-time`, `uuid`, ...) are `String`s, named in the field's doc; a schema that cannot be typed is a `serde_json::Value`.",
        code(&c.namespace),
        code(&models.document)
    ));
    let head = quote! {
        #d
        pub mod models
    };
    let items = &models.items;
    vec![
        methods,
        Chunk::Module {
            head,
            body: vec![Chunk::items(move || items.clone())],
        },
    ]
}

/// `<method>_typed`: calls the raw method and reads its body into the model.
fn method(c: &Client, t: &TypedOp) -> TokenStream {
    let op = &c.ops[t.op];
    let raw = format_ident!("{}", op.method_name);
    let name = format_ident!("{}", t.method);
    let model = &t.model;
    let (params, args) = super::client::signature(op);
    let d = doc(&format!(
        "[`Client::{raw}`] with its answer read as [`models::{model}`]: the {} in the OpenAPI document.\n\n\
         Fields the schema does not declare are ignored here; [`Client::{raw}`] keeps the whole body. \
         A body that does not match the model is [`naftiko_runtime::Error::InvalidResponse`], naming the operation and the JSON path of the mismatch; the other errors are the raw method's.",
        t.source
    ));
    let allow = if params.len() > 6 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        quote!()
    };
    quote! {
        #d
        #allow
        pub async fn #name(&self, #(#params),*) -> Result<models::#model, naftiko_runtime::Error> {
            let response = self.#raw(#(#args),*).await?;
            naftiko_runtime::typed::body(&response)
        }
    }
}
