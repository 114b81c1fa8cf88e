//! The axum router of one `exposes` entry of type `rest`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::flows::flow;
use super::values::{TemplateCtx, inputs_table, opt_str, text_template};
use super::{Chunk, code, doc};
use crate::ir::{Action, Capability, InboundAuth, Method, OPENAPI_PATH, RestServer};

/// What a route, tool or function does, in a few words, for docs; with `link`, a call
/// links to the client method.
pub(super) fn action_text(cap: &Capability, a: &Action, link: bool) -> String {
    match a {
        Action::Call { call, .. } if link => {
            let c = &cap.clients[call.client];
            let m = &c.ops[call.op].method_name;
            format!(
                "calls [`{}::Client::{m}`](super::{}::Client::{m})",
                c.module, c.module
            )
        }
        Action::Call { call, .. } => {
            let c = &cap.clients[call.client];
            format!("calls `{}.{}`", c.namespace, c.ops[call.op].name)
        }
        Action::Steps { steps, .. } => format!(
            "runs {} step{}",
            steps.len(),
            if steps.len() == 1 { "" } else { "s" }
        ),
        Action::Mock(_) => "answers a mock result".into(),
        Action::Function { function, .. } => {
            let f = &cap.functions[*function];
            format!("runs `{}.{}`", f.namespace, f.name)
        }
    }
}

/// Routes per chunk of the router and of the handlers (see [`super::Chunk`]).
const PER_CHUNK: usize = 64;

pub(super) fn module<'a>(cap: &'a Capability, r: &'a RestServer) -> Chunk<'a> {
    let m = format_ident!("{}", r.module);
    let ns = &r.namespace;
    let port = proc_macro2::Literal::u16_unsuffixed(r.port);
    let address = opt_str(r.address.as_deref());
    let all_routes = r.routes.len() + r.forwards.len();
    let mut text = format!(
        "REST adapter {}: {} route{} on port {port}.",
        code(ns),
        all_routes,
        if all_routes == 1 { "" } else { "s" }
    );
    if let Some(d) = &r.description {
        text.push_str(&format!("\n\n{d}"));
    }
    text.push_str("\n\n| Method | Path | Does |\n|---|---|---|");
    for route in &r.routes {
        text.push_str(&format!(
            "\n| {} | `{}` | {} |",
            route.method.as_str(),
            route.path,
            action_text(cap, &route.flow.action, false)
        ));
    }
    for f in &r.forwards {
        text.push_str(&format!(
            "\n| any other | `{}` | {} |",
            f.path,
            super::forward::text(cap, f)
        ));
    }
    if !r.declares_openapi_route() {
        text.push_str(&format!(
            "\n| GET | `{OPENAPI_PATH}` | answers [`OPENAPI`], this adapter's OpenAPI document |"
        ));
    }
    let module_doc = doc(&text);

    let handler = move |route: &'a crate::ir::Route| {
        let h = format_ident!("{}", route.handler);
        let bare = crate::names::unraw(&route.handler);
        let run = format_ident!("run_{}", bare);
        let inputs = format_ident!("{}_INPUTS", bare.to_uppercase());
        let table = inputs_table(&route.flow.inputs);
        let mut text = route
            .description
            .clone()
            .unwrap_or_else(|| route.name.clone());
        if let Some(l) = &route.label {
            text = format!("{l}\n\n{text}");
        }
        text.push_str(&format!(
            "\n\n`{} {}` {}.",
            route.method.as_str(),
            route.path,
            action_text(cap, &route.flow.action, true)
        ));
        if !route.flow.inputs.is_empty() {
            text.push_str("\n\nInputs:");
            for i in &route.flow.inputs {
                text.push_str(&format!("\n- {}", super::mcp::input_doc(i)));
            }
        }
        let d = doc(&text);
        let code = flow(
            cap,
            &route.flow,
            &run,
            quote!(),
            &bare.to_uppercase(),
            quote!(),
            ns,
        );
        let (statics, run_fn) = (code.statics, code.function);
        quote! {
            static #inputs: &[naftiko_runtime::InputSpec] = #table;
            #statics
            #d
            async fn #h(
                naftiko_runtime::axum::extract::State(clients): naftiko_runtime::axum::extract::State<super::Clients>,
                request: naftiko_runtime::rest::RestRequest,
            ) -> naftiko_runtime::axum::response::Response {
                let result = match request.inputs(#inputs) {
                    Ok(inputs) => #run(&clients, inputs).await,
                    Err(e) => Err(e),
                };
                naftiko_runtime::rest::reply(result)
            }
            #run_fn
        }
    };
    let auth = inbound(r.auth.as_ref());
    let count = proc_macro2::Literal::usize_unsuffixed(all_routes);
    let label = r.description.as_deref().unwrap_or(ns);
    let head = quote!(#module_doc pub mod #m);
    // The pass-through routes, whose request bodies the server streams.
    let streamed = r.forwards.iter().map(|f| {
        let route = &f.path;
        let ops = r
            .routes
            .iter()
            .filter(|x| x.path == f.path)
            .map(|x| x.method.as_str());
        quote!(naftiko_runtime::forward::Passthrough { route: #route, operations: &[#(#ops),*] })
    });
    let streamed = quote!(&[#(#streamed),*]);
    // Built when formatted: a large adapter's router is big.
    let main = move || {
        // Routes sharing a path are chained on one `MethodRouter`.
        let mut paths: Vec<(&str, Vec<TokenStream>)> = Vec::new();
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for route in &r.routes {
            let h = format_ident!("{}", route.handler);
            let f = match route.method {
                Method::Get => quote!(get),
                Method::Post => quote!(post),
                Method::Put => quote!(put),
                Method::Patch => quote!(patch),
                Method::Delete => quote!(delete),
            };
            let entry = quote!(#f(#h));
            match index.get(route.path.as_str()) {
                Some(&i) => paths[i].1.push(entry),
                None => {
                    index.insert(&route.path, paths.len());
                    paths.push((&route.path, vec![entry]));
                }
            }
        }
        // Pass-through routes take the methods no operation of their route takes.
        for f in &r.forwards {
            let h = format_ident!("{}", f.handler);
            match index.get(f.path.as_str()) {
                Some(&i) => paths[i].1.push(quote!(fallback(#h))),
                None => {
                    index.insert(&f.path, paths.len());
                    paths.push((&f.path, vec![quote!(any(#h))]));
                }
            }
        }
        // The generated document, unless the spec serves its own there.
        let served = !r.declares_openapi_route();
        if served {
            let entry = quote!(get(|| async {
                naftiko_runtime::openapi::response(OPENAPI)
            }));
            match index.get(OPENAPI_PATH) {
                Some(&i) => paths[i].1.push(entry),
                None => paths.push((OPENAPI_PATH, vec![entry])),
            }
        }
        let openapi = raw_str(
            &serde_json::to_string_pretty(&super::openapi::document(cap, r)).unwrap_or_default(),
        );
        let openapi_doc = doc(&if served {
            format!("The OpenAPI 3.1 document of this adapter, served at `GET {OPENAPI_PATH}`.")
        } else {
            format!(
                "The OpenAPI 3.1 document of this adapter (not served: the spec declares `GET {OPENAPI_PATH}` itself)."
            )
        });
        let routes: Vec<TokenStream> = paths
            .iter()
            .map(|(p, methods)| {
                let mut chain = methods.iter();
                let first = chain.next();
                let rest = chain.map(|m| quote!(.#m));
                quote!(.route(#p, naftiko_runtime::axum::routing::#first #(#rest)*))
            })
            .collect();
        // Routes are added a block at a time, so that a large adapter is not one expression
        // thousands of calls deep.
        let route_blocks = routes
            .chunks(PER_CHUNK)
            .map(|block| quote!(let router = router #(#block)*;));
        quote! {
                /// The namespace of this adapter.
                pub const NAMESPACE: &str = #ns;
                /// The port declared in the spec.
                pub const PORT: u16 = #port;
                /// The address declared in the spec, if any; servers bind loopback otherwise.
                pub const ADDRESS: Option<&str> = #address;
                /// The number of routes.
                pub const ROUTES: usize = #count;
                #openapi_doc
                pub const OPENAPI: &str = #openapi;
                /// The router of this adapter; mount it in your own axum app or serve it alone.
                ///
                /// Inbound authentication declared in the spec is applied; body limits and
                /// timeouts are the server's (see `naftiko_runtime::serve`).
                pub fn router(clients: super::Clients) -> Result<naftiko_runtime::axum::Router, naftiko_runtime::Error> {
                    let auth = auth(&clients.vars)?;
                    let router = naftiko_runtime::axum::Router::new();
                    #(#route_blocks)*
                    let router = router.with_state(clients);
                    naftiko_runtime::rest::with_auth(naftiko_runtime::rest::with_fallbacks(router), auth)
                }
                /// This adapter as a servable surface.
                pub fn surface(clients: &super::Clients) -> naftiko_runtime::serve::RestSurface {
                    let clients = clients.clone();
                    naftiko_runtime::serve::RestSurface {
                        kind: "rest",
                        namespace: NAMESPACE,
                        description: #label,
                        port: PORT,
                        address: ADDRESS,
                        routes: ROUTES,
                        streamed: #streamed,
                        router: Box::new(move || router(clients)),
                    }
                }
                #auth
        }
    };
    let mut body = vec![Chunk::items(main)];
    for routes in r.routes.chunks(PER_CHUNK) {
        body.push(Chunk::items(move || {
            let handlers = routes.iter().map(handler);
            quote!(#(#handlers)*)
        }));
    }
    if !r.forwards.is_empty() {
        body.push(Chunk::items(move || {
            let handlers = r.forwards.iter().map(|f| super::forward::handler(cap, f));
            quote!(#(#handlers)*)
        }));
    }
    Chunk::Module { head, body }
}

/// `fn auth(vars)`: the inbound authentication of a surface, built at start-up from the
/// resolved variables of `binds`.
pub(super) fn inbound(a: Option<&InboundAuth>) -> TokenStream {
    let t = |t| text_template(t, TemplateCtx::Construct);
    let value = match a {
        None => quote!(naftiko_runtime::auth::Inbound::None),
        Some(InboundAuth::Bearer(token)) => {
            let token = t(token);
            quote!(naftiko_runtime::auth::Inbound::Bearer(naftiko_runtime::Secret::new(#token)))
        }
        Some(InboundAuth::ApiKey {
            name,
            value,
            placement,
        }) => {
            let value = t(value);
            let in_query = *placement == crate::ir::Placement::Query;
            quote!(naftiko_runtime::auth::Inbound::ApiKey {
                name: #name,
                value: naftiko_runtime::Secret::new(#value),
                in_query: #in_query,
            })
        }
        Some(InboundAuth::Basic { username, password }) => {
            let (u, p) = (t(username), t(password));
            quote!(naftiko_runtime::auth::Inbound::Basic {
                username: #u,
                password: naftiko_runtime::Secret::new(#p),
            })
        }
    };
    quote! {
        /// The authentication callers must present, as declared in the spec.
        #[allow(unused_variables)]
        pub fn auth(vars: &naftiko_runtime::binds::Vars) -> Result<naftiko_runtime::auth::Inbound, naftiko_runtime::Error> {
            Ok(#value)
        }
    }
}

/// `r#"..."#` with as many `#` as `text` needs, so that it reads as it is.
fn raw_str(text: &str) -> proc_macro2::Literal {
    let mut hashes = String::from("#");
    while text.contains(&format!("\"{hashes}")) {
        hashes.push('#');
    }
    format!("r{hashes}\"{text}\"{hashes}")
        .parse()
        .unwrap_or_else(|_| proc_macro2::Literal::string(text))
}
