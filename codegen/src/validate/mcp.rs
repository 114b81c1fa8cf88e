//! `exposes` of type `mcp`: the server and its tools (hints included).

use std::collections::HashMap;

use super::Checker;
use super::aggregates::ActionParts;
use super::inputs::{Scope, Surface};
use crate::ir::{Action, Client, Flow, Input, McpServer, Method, Source, Tool, Transport};
use crate::names::{snake_ident, title_case, valid_tool_name};
use crate::spec::model::{ExposesMcp, Hints, McpTool};
use crate::spec::source_map::YamlPath;

/// The four MCP tool hints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Annotations {
    read_only: bool,
    destructive: bool,
    idempotent: bool,
    open_world: bool,
}

impl Checker<'_> {
    pub(super) fn mcp(
        &mut self,
        m: &ExposesMcp,
        namespace: Option<&str>,
        path: &YamlPath,
        clients: &[Client],
    ) -> Option<McpServer> {
        let namespace = namespace.unwrap_or(&m.namespace).to_owned();
        let transport = m.transport.unwrap_or(Transport::Http);
        match (transport, m.port) {
            (Transport::Http, None) => {
                self.error_key(path, "an MCP server with `transport: http` needs a `port:`");
            }
            (Transport::Stdio, Some(_)) => {
                self.warn_key(
                    &path.key("port"),
                    "`port` is not used with `transport: stdio`",
                );
            }
            _ => {}
        }
        let resources = self.resources(&m.resources, path, &namespace, clients);
        let prompts = self.prompts(&m.prompts, path);
        let auth = self.inbound_auth(&m.authentication, path);
        let address = self.address(&m.address, path);
        let mut tools: Vec<Tool> = Vec::new();
        let mut names: HashMap<String, YamlPath> = HashMap::new();
        // Rust name -> tool name, to catch two names that become one identifier.
        let mut idents: HashMap<String, String> = HashMap::new();
        if m.tools.is_empty() && m.resources.is_empty() && m.prompts.is_empty() {
            self.error_key(
                path,
                format!("MCP server `{namespace}` has no tools, resources or prompts"),
            );
        }
        for t in m.tools.iter() {
            let tpath = path.key("tools").seg(&t.seg);
            let Some(item) = self.item(&tpath, &t.item) else {
                continue;
            };
            let Some(tool) = self.tool(item, t.name.clone(), &tpath, &namespace, clients) else {
                continue;
            };
            if let Some(first) = names.get(&tool.name) {
                let first = first.to_string();
                self.error_key(
                    &tpath,
                    format!("duplicate tool name `{}` (first at `{first}`)", tool.name),
                );
                continue;
            }
            let handler = snake_ident(&tool.name);
            if let Some(other) = idents.get(&handler) {
                let msg = format!(
                    "tools `{other}` and `{}` both become the Rust name `{handler}`",
                    tool.name
                );
                self.error_key(&tpath, msg);
                continue;
            }
            idents.insert(handler, tool.name.clone());
            names.insert(tool.name.clone(), tpath.clone());
            tools.push(tool);
        }
        Some(McpServer {
            module: snake_ident(&namespace),
            namespace,
            label: m.label().map(str::to_owned),
            description: m.description.clone(),
            transport,
            address,
            port: m.port,
            auth,
            tools,
            resources,
            prompts,
        })
    }

    fn tool(
        &mut self,
        t: &McpTool,
        name: Option<String>,
        tpath: &YamlPath,
        namespace: &str,
        clients: &[Client],
    ) -> Option<Tool> {
        let mut scope = Scope::new(Surface::Mcp, namespace);
        self.tool_inputs(&mut scope, &t.input_parameters, tpath);
        let mut name = name.filter(|n| !n.trim().is_empty());
        let mut description = t.description.clone();
        let derived;
        let (action, schema) = match &t.reference {
            Some(reference) => {
                if t.call.is_some() || t.steps.is_some() {
                    self.error_key(tpath, "a tool with `ref` takes its call or steps from the function: remove `call`/`steps`");
                    return None;
                }
                let fi = self.resolve_ref(reference, &tpath.key("ref"))?;
                let f = &self.functions[fi];
                name = name.or_else(|| Some(f.name.clone()));
                description = description.or_else(|| f.description.clone());
                let schema = f.flow.schema.clone();
                // The tool's own inputs if it declares any, else the function's.
                if scope.inputs.is_empty() {
                    scope.inputs = f
                        .flow
                        .inputs
                        .iter()
                        .map(|i| Input {
                            source: Source::Arg(i.name.clone()),
                            ..i.clone()
                        })
                        .collect();
                    scope.declared = scope.inputs.len();
                }
                derived = function_hints(f, clients, &self.functions);
                let args = self.function_args(&mut scope, fi, t.with.as_ref(), tpath)?;
                (Action::Function { function: fi, args }, schema)
            }
            None => {
                let (action, schema) = self.action(
                    &mut scope,
                    ActionParts {
                        call: t.call.as_deref(),
                        with: t.with.as_ref(),
                        steps: t.steps.as_ref(),
                        mappings: t.mappings.as_ref(),
                        outputs: &t.output_parameters,
                    },
                    tpath,
                    clients,
                )?;
                derived = action_hints(&action, clients, &self.functions);
                if let Action::Call { call, .. } = &action {
                    description = description
                        .or_else(|| clients[call.client].ops[call.op].description.clone());
                }
                (action, schema)
            }
        };
        let Some(name) = name else {
            self.error_key(
                tpath,
                "a tool needs a `name` (or a `ref` to a function to take it from)",
            );
            return None;
        };
        if !valid_tool_name(&name) {
            self.error_key(
                tpath,
                format!("tool name `{name}` must be 1 to 128 characters of A-Z, a-z, 0-9, `_`, `-` and `.`"),
            );
            return None;
        }
        let hints = self.merge_hints(derived, t.hints, tpath, &name, &action, clients);
        let title = t
            .label()
            .map(str::to_owned)
            .unwrap_or_else(|| match &description {
                Some(d) if d.len() <= 80 && !d.contains('\n') => d.clone(),
                _ => title_case(&name),
            });
        Some(Tool {
            name,
            title,
            description,
            read_only: hints.read_only,
            destructive: hints.destructive,
            idempotent: hints.idempotent,
            open_world: hints.open_world,
            flow: Flow {
                inputs: scope.inputs,
                action,
                schema,
            },
        })
    }

    /// The spec's hints over the derived ones, with warnings for contradictions.
    fn merge_hints(
        &mut self,
        derived: Annotations,
        hints: Option<Hints>,
        tpath: &YamlPath,
        name: &str,
        action: &Action,
        clients: &[Client],
    ) -> Annotations {
        let h = hints.unwrap_or_default();
        let read_only = h.read_only.unwrap_or(derived.read_only);
        let destructive = h.destructive.unwrap_or(derived.destructive) && !read_only;
        if read_only && let Action::Call { call, .. } = action {
            let op = &clients[call.client].ops[call.op];
            if op.method != Method::Get {
                self.warn_key(
                    &tpath.key("hints"),
                    format!(
                        "tool `{name}` is marked read-only but calls {} {}",
                        op.method.as_str(),
                        op.path_text
                    ),
                );
            }
        }
        if h.read_only == Some(true) && h.destructive == Some(true) {
            self.warn_key(
                &tpath.key("hints"),
                "a read-only tool cannot be destructive; `destructive` is ignored",
            );
        }
        Annotations {
            read_only,
            destructive,
            idempotent: h.idempotent.unwrap_or(derived.idempotent),
            open_world: h.open_world.unwrap_or(derived.open_world),
        }
    }
}

/// Hints from the HTTP methods an action calls: GET only is read-only and idempotent; a
/// DELETE, PUT or PATCH may destroy; a mock touches nothing outside.
fn action_hints(
    action: &Action,
    clients: &[Client],
    functions: &[crate::ir::Function],
) -> Annotations {
    let methods: Vec<Method> = match action {
        Action::Call { call, .. } => vec![clients[call.client].ops[call.op].method],
        Action::Steps { steps, .. } => steps
            .iter()
            .filter_map(|s| match s {
                crate::ir::Step::Call { call, .. } => {
                    Some(clients[call.client].ops[call.op].method)
                }
                crate::ir::Step::Lookup { .. } | crate::ir::Step::Script { .. } => None,
            })
            .collect(),
        Action::Mock(_) => {
            return Annotations {
                read_only: true,
                destructive: false,
                idempotent: true,
                open_world: false,
            };
        }
        Action::Function { function, .. } => {
            return action_hints(&functions[*function].flow.action, clients, functions);
        }
    };
    let read_only = methods.iter().all(|m| *m == Method::Get);
    Annotations {
        read_only,
        destructive: methods
            .iter()
            .any(|m| matches!(m, Method::Put | Method::Patch | Method::Delete)),
        idempotent: methods
            .iter()
            .all(|m| matches!(m, Method::Get | Method::Put | Method::Delete)),
        open_world: true,
    }
}

/// Hints of a tool that refers to a function: its `semantics` (`safe: true` is read-only and
/// not destructive, `safe: false` not read-only; `idempotent` as declared), the rest from
/// what the function calls. `cacheable` has no MCP counterpart.
fn function_hints(
    f: &crate::ir::Function,
    clients: &[Client],
    functions: &[crate::ir::Function],
) -> Annotations {
    let mut a = action_hints(&f.flow.action, clients, functions);
    match f.semantics.safe {
        Some(true) => {
            a.read_only = true;
            a.destructive = false;
        }
        Some(false) => a.read_only = false,
        None => {}
    }
    if let Some(i) = f.semantics.idempotent {
        a.idempotent = i;
    }
    a
}
