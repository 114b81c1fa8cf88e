//! The catalogue of one `exposes` entry of type `skill`: a static table of skills, served
//! by `naftiko_runtime::skill` (feature `skill` of the runtime).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::values::opt_str;
use super::{code, doc};
use crate::ir::{Capability, SkillServer, SkillToolKind};

pub(super) fn module(_cap: &Capability, s: &SkillServer) -> TokenStream {
    let m = format_ident!("{}", s.module);
    let ns = &s.namespace;
    let port = proc_macro2::Literal::u16_unsuffixed(s.port);
    let address = opt_str(s.address.as_deref());
    let mut text = format!(
        "Skill catalogue {}: {} skill{} on port {port}.",
        code(ns),
        s.skills.len(),
        if s.skills.len() == 1 { "" } else { "s" }
    );
    if let Some(d) = &s.description {
        text.push_str(&format!("\n\n{d}"));
    }
    text.push_str("\n\n| Skill | Tools |\n|---|---|");
    for k in &s.skills {
        let tools: Vec<String> = k.tools.iter().map(|t| format!("`{}`", t.name)).collect();
        text.push_str(&format!("\n| `{}` | {} |", k.name, tools.join(", ")));
    }
    let module_doc = doc(&text);
    let skills = s.skills.iter().map(|k| {
        let name = &k.name;
        let description = &k.description;
        let license = opt_str(k.license.as_deref());
        let compatibility = opt_str(k.compatibility.as_deref());
        let argument_hint = opt_str(k.argument_hint.as_deref());
        let allowed_tools = opt_str(k.allowed_tools.as_deref());
        let opt_bool = |b: Option<bool>| match b {
            Some(b) => quote!(Some(#b)),
            None => quote!(None),
        };
        let user_invocable = opt_bool(k.user_invocable);
        let disable = opt_bool(k.disable_model_invocation);
        let metadata = k.metadata.iter().map(|(a, b)| quote!((#a, #b)));
        let location = opt_str(k.location.as_deref());
        let tools = k.tools.iter().map(|t| {
            let tname = &t.name;
            let tdesc = &t.description;
            let kind = match &t.kind {
                SkillToolKind::Derived {
                    namespace,
                    action,
                    mode,
                } => quote!(naftiko_runtime::skill::ToolKind::Derived {
                    namespace: #namespace,
                    action: #action,
                    mode: #mode,
                }),
                SkillToolKind::Instruction(f) => {
                    quote!(naftiko_runtime::skill::ToolKind::Instruction(#f))
                }
            };
            quote!(naftiko_runtime::skill::SkillTool {
                name: #tname,
                description: #tdesc,
                kind: #kind,
            })
        });
        quote!(naftiko_runtime::skill::SkillSpec {
            name: #name,
            description: #description,
            license: #license,
            compatibility: #compatibility,
            argument_hint: #argument_hint,
            allowed_tools: #allowed_tools,
            user_invocable: #user_invocable,
            disable_model_invocation: #disable,
            metadata: &[#(#metadata),*],
            location: #location,
            tools: &[#(#tools),*],
        })
    });
    let auth = super::rest::inbound(s.auth.as_ref());
    let count = proc_macro2::Literal::usize_unsuffixed(s.skills.len());
    let label = s.description.as_deref().unwrap_or(ns);
    quote! {
        #module_doc
        pub mod #m {
            /// The namespace of this catalogue.
            pub const NAMESPACE: &str = #ns;
            /// The port declared in the spec.
            pub const PORT: u16 = #port;
            /// The address declared in the spec, if any; servers bind loopback otherwise.
            pub const ADDRESS: Option<&str> = #address;
            /// The skills, in spec order.
            pub static SKILLS: &[naftiko_runtime::skill::SkillSpec] = &[#(#skills),*];
            /// The router of this catalogue (`GET /skills`, `/skills/{name}`, its files).
            pub fn router(clients: &super::Clients) -> Result<naftiko_runtime::axum::Router, naftiko_runtime::Error> {
                let router = naftiko_runtime::rest::with_fallbacks(naftiko_runtime::skill::router(SKILLS));
                naftiko_runtime::rest::with_auth(router, auth(&clients.vars)?)
            }
            /// This catalogue as a servable surface.
            pub fn surface(clients: &super::Clients) -> naftiko_runtime::serve::RestSurface {
                let clients = clients.clone();
                naftiko_runtime::serve::RestSurface {
                    kind: "skill",
                        namespace: NAMESPACE,
                    description: #label,
                    port: PORT,
                    address: ADDRESS,
                    routes: #count,
                    streamed: &[],
                    router: Box::new(move || router(&clients)),
                }
            }
            #auth
        }
    }
}
