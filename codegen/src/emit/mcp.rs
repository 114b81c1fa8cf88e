//! The MCP tool registry of one `exposes` entry of type `mcp`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::flows::flow;
use super::rest::action_text;
use super::values::{inputs_table, opt_str, output_schema};
use super::{Chunk, code, doc, typed};
use crate::ir::{Capability, Input, McpServer, PromptBody, ResourceKind, Role, Source, Transport};
use crate::names::{snake_ident, unraw};

/// One line of documentation for an input.
pub(crate) fn input_doc(i: &Input) -> String {
    let from = match &i.source {
        Source::Path(n) => format!("path `{{{n}}}`"),
        Source::Query(n) => format!("query {}", code(n)),
        Source::Header(n) => format!("header {}", code(n)),
        Source::Cookie(n) => format!("cookie {}", code(n)),
        Source::Body => "the JSON body".into(),
        Source::BodyPath(_) | Source::BodyField(_) => "a field of the JSON body".into(),
        Source::Arg(_) => "argument".into(),
        Source::Const(v) => format!("the constant {}", code(v)),
    };
    let ty =
        i.ty.map(|t| format!("{t:?}").to_lowercase())
            .unwrap_or_else(|| "any".into());
    let mut s = format!(
        "{} ({from}, {ty}{})",
        code(&i.name),
        if i.required { ", required" } else { "" }
    );
    if let Some(d) = &i.description {
        s.push_str(&format!(": {}", d.trim()));
    }
    s
}

/// Tools per chunk of their functions (see [`super::Chunk`]).
const PER_CHUNK: usize = 64;

pub(super) fn module<'a>(cap: &'a Capability, s: &'a McpServer) -> Chunk<'a> {
    let m = format_ident!("{}", s.module);
    let ns = &s.namespace;
    let port = match s.port.map(proc_macro2::Literal::u16_unsuffixed) {
        Some(p) => quote!(Some(#p)),
        None => quote!(None),
    };
    let address = opt_str(s.address.as_deref());
    let stdio = s.transport == Transport::Stdio;
    let mut text = format!(
        "MCP server {}: {} tool{}{}.",
        code(ns),
        s.tools.len(),
        if s.tools.len() == 1 { "" } else { "s" },
        match (s.transport, s.port) {
            (Transport::Http, Some(p)) => format!(", Streamable HTTP on port {p}"),
            (Transport::Stdio, _) => ", over stdio".into(),
            _ => String::new(),
        }
    );
    if !s.resources.is_empty() || !s.prompts.is_empty() {
        text.push_str(&format!(
            " Also {} resource{} and {} prompt{}.",
            s.resources.len(),
            if s.resources.len() == 1 { "" } else { "s" },
            s.prompts.len(),
            if s.prompts.len() == 1 { "" } else { "s" },
        ));
    }
    if let Some(d) = &s.description {
        text.push_str(&format!("\n\n{d}"));
    }
    text.push_str("\n\n| Tool | Does | Hints |\n|---|---|---|");
    for t in &s.tools {
        let mut hints = Vec::new();
        if t.read_only {
            hints.push("read-only");
        }
        if t.destructive {
            hints.push("destructive");
        }
        if t.idempotent {
            hints.push("idempotent");
        }
        if t.open_world {
            hints.push("open-world");
        }
        text.push_str(&format!(
            "\n| `{}` | {} | {} |",
            t.name,
            action_text(cap, &t.flow.action, false),
            hints.join(", ")
        ));
    }
    let module_doc = doc(&text);
    // Each tool's input table and function, built when its chunk is formatted.
    let tool_code = move |t: &'a crate::ir::Tool| {
        let base = unraw(&snake_ident(&t.name)).to_owned();
        let inputs = format_ident!("{}_INPUTS", base.to_uppercase());
        let run = format_ident!("run_{}", base);
        let table = inputs_table(&t.flow.inputs);
        let description = t.description.as_deref().unwrap_or(&t.title);
        let mut text = format!("Tool {}: {}", code(&t.name), description);
        text.push_str(&format!(
            "\n\nIt {}.",
            action_text(cap, &t.flow.action, true)
        ));
        if !t.flow.inputs.is_empty() {
            text.push_str("\n\nArguments:");
            for i in &t.flow.inputs {
                text.push_str(&format!("\n- {}", input_doc(i)));
            }
        }
        let code = flow(
            cap,
            &t.flow,
            &run,
            doc(&text),
            &base.to_uppercase(),
            quote!(),
            ns,
        );
        let (statics, function) = (code.statics, code.function);
        quote! {
            static #inputs: &[naftiko_runtime::InputSpec] = #table;
            #statics
            #function
        }
    };
    let auth = super::rest::inbound(s.auth.as_ref());
    // The server's name is its namespace, as the reference engine names it.
    let server_name = &s.namespace;
    let instructions = s
        .description
        .clone()
        .or_else(|| cap.description.clone())
        .unwrap_or_default();
    let label = s
        .label
        .clone()
        .or_else(|| cap.label.clone())
        .unwrap_or_else(|| cap.name.clone());
    let head = quote!(#module_doc pub mod #m);
    // Built when formatted: a large server's tool table is big.
    let main = move || {
        let entries: Vec<typed::Entry<'_>> = s
            .tools
            .iter()
            .map(|t| {
                let base = unraw(&snake_ident(&t.name)).to_owned();
                let inputs = format_ident!("{}_INPUTS", base.to_uppercase());
                let run = format_ident!("run_{}", base);
                typed::Entry {
                    name: &t.name,
                    description: t.description.as_deref(),
                    flow: &t.flow,
                    inputs: quote!(super::#inputs),
                    run: quote!(super::#run),
                }
            })
            .collect();
        let api = typed::api("tool", &entries);
        let (resource_code, resource_specs, read_arms) = resources(cap, s);
        let prompt_specs = prompts(s);
        // Servers without resources or prompts keep the trait's empty defaults.
        let mut tables = TokenStream::new();
        let mut methods = TokenStream::new();
        if !resource_specs.is_empty() {
            tables.extend(quote! {
                /// The resources of this server, in spec order.
                pub static RESOURCES: &[naftiko_runtime::mcp::ResourceSpec] = &[#(#resource_specs),*];
            });
            methods.extend(quote! {
                fn resources(&self) -> &'static [naftiko_runtime::mcp::ResourceSpec] {
                    RESOURCES
                }
            });
        }
        if !read_arms.is_empty() {
            methods.extend(quote! {
                fn read(
                    &self,
                    resource: usize,
                    inputs: naftiko_runtime::Inputs,
                ) -> naftiko_runtime::BoxFuture<'_, Result<naftiko_runtime::Reply, naftiko_runtime::Error>> {
                    Box::pin(async move {
                        match resource {
                            #(#read_arms)*
                            _ => Err(naftiko_runtime::Error::UnknownTool(resource)),
                        }
                    })
                }
            });
        }
        if !prompt_specs.is_empty() {
            tables.extend(quote! {
                /// The prompts of this server, in spec order.
                pub static PROMPTS: &[naftiko_runtime::mcp::PromptSpec] = &[#(#prompt_specs),*];
            });
            methods.extend(quote! {
                fn prompts(&self) -> &'static [naftiko_runtime::mcp::PromptSpec] {
                    PROMPTS
                }
            });
        }
        let mut specs = Vec::new();
        let mut arms = Vec::new();
        for (i, t) in s.tools.iter().enumerate() {
            let base = unraw(&snake_ident(&t.name)).to_owned();
            let inputs = format_ident!("{}_INPUTS", base.to_uppercase());
            let run = format_ident!("run_{}", base);
            let name = &t.name;
            let title = &t.title;
            let description = t.description.as_deref().unwrap_or(&t.title);
            let (ro, de, id, ow) = (t.read_only, t.destructive, t.idempotent, t.open_world);
            let schema = t.flow.schema.as_ref().map(|s| output_schema(s).to_string());
            let schema = opt_str(schema.as_deref());
            specs.push(quote! {
                naftiko_runtime::mcp::ToolSpec {
                    name: #name,
                    title: #title,
                    description: #description,
                    read_only: #ro,
                    destructive: #de,
                    idempotent: #id,
                    open_world: #ow,
                    inputs: #inputs,
                    output_schema: #schema,
                }
            });
            arms.push(quote!(#i => #run(&self.clients, inputs).await,));
        }
        quote! {
                /// The namespace of this server.
                pub const NAMESPACE: &str = #ns;
                /// The port declared in the spec (`None` for stdio).
                pub const PORT: Option<u16> = #port;
                /// The address declared in the spec, if any; servers bind loopback otherwise.
                pub const ADDRESS: Option<&str> = #address;
                /// Whether the spec declares `transport: stdio`.
                pub const STDIO: bool = #stdio;
                /// The tools of this server, in spec order.
                pub static TOOLS: &[naftiko_runtime::mcp::ToolSpec] = &[#(#specs),*];
                #tables
                #resource_code
                /// The tool registry: dispatches each tool to the typed client. Cheap to clone.
                #[derive(Clone, Debug)]
                pub struct Tools {
                    clients: super::Clients,
                }
                impl Tools {
                    /// A registry calling through `clients`.
                    pub fn new(clients: super::Clients) -> Self {
                        Self { clients }
                    }
                }
                impl naftiko_runtime::mcp::ToolSet for Tools {
                    fn server(&self) -> naftiko_runtime::mcp::ServerSpec {
                        naftiko_runtime::mcp::ServerSpec {
                            name: #server_name,
                            title: #label,
                            version: env!("CARGO_PKG_VERSION"),
                            instructions: #instructions,
                        }
                    }
                    fn tools(&self) -> &'static [naftiko_runtime::mcp::ToolSpec] {
                        TOOLS
                    }
                    fn call(
                        &self,
                        tool: usize,
                        inputs: naftiko_runtime::Inputs,
                    ) -> naftiko_runtime::BoxFuture<'_, Result<naftiko_runtime::Reply, naftiko_runtime::Error>> {
                        Box::pin(async move {
                            match tool {
                                #(#arms)*
                                _ => Err(naftiko_runtime::Error::UnknownTool(tool)),
                            }
                        })
                    }
                    #methods
                }
                /// The MCP handler (an rmcp `ServerHandler`) for these tools.
                pub fn handler(clients: super::Clients) -> naftiko_runtime::mcp::Handler {
                    naftiko_runtime::mcp::Handler::new(Tools::new(clients))
                }
                /// This server as a servable surface.
                pub fn surface(clients: &super::Clients) -> naftiko_runtime::serve::McpSurface {
                    naftiko_runtime::serve::McpSurface {
                        namespace: NAMESPACE,
                        port: PORT,
                        address: ADDRESS,
                        stdio: STDIO,
                        tools: TOOLS.len(),
                        auth: auth(&clients.vars),
                        handler: handler(clients.clone()),
                    }
                }
                #auth
                #api
        }
    };
    let mut body = vec![Chunk::items(main)];
    for tools in s.tools.chunks(PER_CHUNK) {
        body.push(Chunk::items(move || {
            let code = tools.iter().map(tool_code);
            quote!(#(#code)*)
        }));
    }
    Chunk::Module { head, body }
}

/// The resource table, the flow function of each resource that runs one, and the
/// dispatch arms of `ToolSet::read`.
fn resources(cap: &Capability, s: &McpServer) -> (TokenStream, Vec<TokenStream>, Vec<TokenStream>) {
    let mut out = TokenStream::new();
    let mut specs = Vec::new();
    let mut arms = Vec::new();
    for (i, r) in s.resources.iter().enumerate() {
        let (name, title, uri) = (&r.name, &r.title, &r.uri);
        let description = opt_str(r.description.as_deref());
        let mime = opt_str(r.mime_type.as_deref());
        let source = match &r.kind {
            ResourceKind::Files { location } => {
                quote!(naftiko_runtime::mcp::ResourceSource::Files { location: #location })
            }
            ResourceKind::Flow { flow: f, .. } => {
                let base = unraw(&snake_ident(&r.name)).to_uppercase();
                let inputs = format_ident!("RESOURCE_{}_INPUTS", base);
                let run = format_ident!("read_{}", base.to_lowercase());
                let table = inputs_table(&f.inputs);
                let mut text = format!(
                    "Resource {}: {}",
                    code(uri),
                    r.description.as_deref().unwrap_or(&r.title)
                );
                text.push_str(&format!("\n\nIt {}.", action_text(cap, &f.action, true)));
                let fc = flow(
                    cap,
                    f,
                    &run,
                    doc(&text),
                    &format!("RESOURCE_{base}"),
                    quote!(),
                    &s.namespace,
                );
                let (statics, function) = (fc.statics, fc.function);
                out.extend(quote! {
                    static #inputs: &[naftiko_runtime::InputSpec] = #table;
                    #statics
                    #function
                });
                arms.push(quote!(#i => #run(&self.clients, inputs).await,));
                quote!(naftiko_runtime::mcp::ResourceSource::Result { inputs: #inputs })
            }
        };
        specs.push(quote! {
            naftiko_runtime::mcp::ResourceSpec {
                name: #name,
                title: #title,
                description: #description,
                uri: #uri,
                mime_type: #mime,
                source: #source,
            }
        });
    }
    (out, specs, arms)
}

/// The prompt table.
fn prompts(s: &McpServer) -> Vec<TokenStream> {
    s.prompts
        .iter()
        .map(|p| {
            let name = &p.name;
            let title = opt_str(p.title.as_deref());
            let description = opt_str(p.description.as_deref());
            let arguments = p.arguments.iter().map(|a| {
                let (name, required) = (&a.name, a.required);
                let title = opt_str(a.title.as_deref());
                let description = opt_str(a.description.as_deref());
                quote! {
                    naftiko_runtime::mcp::PromptArgumentSpec {
                        name: #name,
                        title: #title,
                        description: #description,
                        required: #required,
                    }
                }
            });
            let body = match &p.body {
                PromptBody::Messages(messages) => {
                    let messages = messages.iter().map(|(role, text)| {
                        let role = match role {
                            Role::User => quote!(naftiko_runtime::mcp::PromptRole::User),
                            Role::Assistant => quote!(naftiko_runtime::mcp::PromptRole::Assistant),
                        };
                        quote!((#role, #text))
                    });
                    quote!(naftiko_runtime::mcp::PromptBody::Messages(&[#(#messages),*]))
                }
                PromptBody::File(location) => {
                    quote!(naftiko_runtime::mcp::PromptBody::File(#location))
                }
            };
            quote! {
                naftiko_runtime::mcp::PromptSpec {
                    name: #name,
                    title: #title,
                    description: #description,
                    arguments: &[#(#arguments),*],
                    body: #body,
                }
            }
        })
        .collect()
}
