//! Checks `exposes:` (REST adapters and MCP servers) and binds each to its operation.

use std::collections::HashMap;

use indexmap::IndexMap;

use super::Checker;
use super::expr::{self, PathSeg, Resolved};
use crate::ir::{
    Call, Client, Expr, InboundAuth, Input, McpServer, OpParam, ParamLoc, RestServer, Route, Shape,
    Source, Tool, Transport,
};
use crate::names::{closest, snake_ident, title_case, valid_tool_name};
use crate::spec::model::{
    Authentication, ExposedIn, Exposes, ExposesMcp, ExposesRest, Items, McpTool, Method,
    OutputParam, OutputType, ParamType, WithValue,
};
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;

/// Which surface a binding is for: it decides how implicit inputs are created.
#[derive(Clone, Copy, PartialEq)]
enum Surface {
    Rest,
    Mcp,
}

/// The inputs of one route or tool while its `with:` is resolved.
struct Scope<'a> {
    surface: Surface,
    namespace: &'a str,
    /// Route path parameters: snake_case name -> name as written in the route.
    route_params: Vec<(String, String)>,
    inputs: Vec<Input>,
    /// Which inputs were declared (the rest were created from references).
    declared: usize,
}

impl Scope<'_> {
    fn find(&self, name: &str) -> Option<usize> {
        self.inputs.iter().position(|i| i.name == name)
    }

    /// The input `name`, created from the operation parameter `target` when not declared.
    fn input_for(&mut self, name: &str, target: Option<&OpParam>) -> String {
        if self.find(name).is_some() {
            return name.to_owned();
        }
        let route = self
            .route_params
            .iter()
            .find(|(snake, raw)| snake == &snake_ident(name) || raw == name)
            .map(|(_, raw)| raw.clone());
        let ty = target.and_then(|t| t.ty);
        let source = match self.surface {
            Surface::Mcp => Source::Arg(name.to_owned()),
            Surface::Rest => match (route, target.map(|t| t.location)) {
                (Some(raw), _) => Source::Path(raw),
                (None, Some(ParamLoc::Body)) if name == "body" => Source::Body,
                (None, Some(ParamLoc::Body)) => {
                    Source::BodyPath(vec![crate::ir::JsonSeg::Key(name.to_owned())])
                }
                (None, Some(ParamLoc::Header)) => Source::Header(name.to_owned()),
                (None, Some(ParamLoc::Cookie)) => Source::Cookie(name.to_owned()),
                (None, _) if name == "body" => Source::Body,
                (None, _) => Source::Query(name.to_owned()),
            },
        };
        let required = matches!(source, Source::Path(_)) || target.is_some_and(|t| t.required);
        self.inputs.push(Input {
            name: name.to_owned(),
            source,
            ty: ty
                .or(Some(ParamType::String))
                .filter(|_| name != "body" || ty.is_some()),
            required,
            description: target.and_then(|t| t.description.clone()),
            pattern: None,
        });
        name.to_owned()
    }
}

impl Checker<'_> {
    pub(super) fn exposes(
        &mut self,
        entries: &[Lenient<Exposes>],
        path: &YamlPath,
        clients: &[Client],
    ) -> (Vec<RestServer>, Vec<McpServer>) {
        let mut rest = Vec::new();
        let mut mcp = Vec::new();
        self.op_index = clients
            .iter()
            .enumerate()
            .flat_map(|(ci, c)| {
                c.ops
                    .iter()
                    .enumerate()
                    .map(move |(oi, o)| (format!("{}.{}", c.namespace, o.name), (ci, oi)))
            })
            .collect();
        let mut namespaces: HashMap<String, YamlPath> = HashMap::new();
        for c in clients {
            namespaces.insert(c.namespace.clone(), path.clone());
        }
        let mut ports: Vec<(u16, String, YamlPath)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let epath = path.index(i);
            let Some(e) = self.item(&epath, e) else {
                continue;
            };
            let (ns, port, address) = match e {
                Exposes::Rest(r) => (&r.namespace, Some(r.port), &r.address),
                Exposes::Mcp(m) => (&m.namespace, m.port, &m.address),
                Exposes::Other(kind) => {
                    self.unsupported(&epath.key("type"), &format!("`exposes` of type `{kind}`"));
                    continue;
                }
            };
            if namespaces.contains_key(ns) {
                self.error_value(
                    &epath.key("namespace"),
                    format!("duplicate namespace `{ns}`"),
                );
            }
            namespaces.insert(ns.clone(), epath.clone());
            if let Some(port) = port {
                let addr = address.clone().unwrap_or_else(|| "127.0.0.1".into());
                if let Some((_, _, other)) = ports.iter().find(|(p, a, _)| {
                    *p == port && (a == &addr || a == "0.0.0.0" || addr == "0.0.0.0")
                }) {
                    let other = other.to_string();
                    self.error_value(
                        &epath.key("port"),
                        format!("port {port} is already used by `{other}`"),
                    );
                }
                ports.push((port, addr, epath.clone()));
            }
            match e {
                Exposes::Rest(r) => {
                    if let Some(s) = self.rest(r, &epath, clients, &namespaces) {
                        rest.push(s);
                    }
                }
                Exposes::Mcp(m) => {
                    if let Some(s) = self.mcp(m, &epath, clients, &namespaces) {
                        mcp.push(s);
                    }
                }
                Exposes::Other(_) => {}
            }
        }
        (rest, mcp)
    }

    fn inbound_auth(
        &mut self,
        auth: &Option<Authentication>,
        path: &YamlPath,
    ) -> Option<InboundAuth> {
        let path = path.key("authentication");
        let need = |c: &mut Self, v: &Option<String>, key: &str| c.auth_field(v, &path, key);
        match auth.as_ref()? {
            Authentication::Bearer(b) => need(self, &b.token, "token").map(InboundAuth::Bearer),
            Authentication::ApiKey(k) => {
                let value = need(self, &k.value, "value")?;
                let name = k.key.clone().unwrap_or_else(|| "X-API-Key".into());
                Some(InboundAuth::ApiKey {
                    name,
                    value,
                    placement: k.placement.unwrap_or_default(),
                })
            }
            Authentication::Basic(b) => Some(InboundAuth::Basic {
                username: need(self, &b.username, "username")?,
                password: need(self, &b.password, "password")?,
            }),
            Authentication::Digest(_) | Authentication::OAuth2(_) => {
                self.unsupported(
                    &path.key("type"),
                    "this inbound authentication type (bearer, apikey and basic are)",
                );
                None
            }
        }
    }

    fn address(&mut self, address: &Option<String>, path: &YamlPath) -> Option<String> {
        let a = address.as_ref()?;
        let ok = !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
        if !ok {
            self.error_value(
                &path.key("address"),
                format!("`{a}` is not a host name or IP address"),
            );
        }
        Some(a.clone())
    }

    fn rest(
        &mut self,
        r: &ExposesRest,
        path: &YamlPath,
        clients: &[Client],
        namespaces: &HashMap<String, YamlPath>,
    ) -> Option<RestServer> {
        let auth = self.inbound_auth(&r.authentication, path);
        let address = self.address(&r.address, path);
        let mut routes: Vec<Route> = Vec::new();
        // Route shape (params blanked) -> (path as written, where) to catch conflicts.
        let mut shapes: HashMap<String, (String, YamlPath)> = HashMap::new();
        let mut seen: HashMap<(String, Method), YamlPath> = HashMap::new();
        let mut handlers: HashMap<String, YamlPath> = HashMap::new();
        if r.resources.is_empty() {
            self.error_key(
                path,
                format!("REST adapter `{}` has no resources", r.namespace),
            );
        }
        for (ri, res) in r.resources.iter().enumerate() {
            let rpath = path.key("resources").index(ri);
            let Some(res) = self.item(&rpath, res) else {
                continue;
            };
            if res.forward.is_some() {
                self.unsupported(
                    &rpath.key("forward"),
                    "`forward` (pass-through proxy resources)",
                );
                continue;
            }
            if res.operations.is_empty() {
                self.error_key(&rpath, "a resource needs `operations:`");
                continue;
            }
            // The route path, in axum's syntax.
            let segs = match expr::parse_path(&res.path) {
                Ok(s) => s,
                Err(e) => {
                    self.error_value(&rpath.key("path"), e);
                    continue;
                }
            };
            let mut axum_path = String::new();
            let mut shape = String::new();
            let mut route_params = Vec::new();
            if !res.path.starts_with('/') {
                axum_path.push('/');
                shape.push('/');
            }
            let mut bad = false;
            for s in &segs {
                match s {
                    PathSeg::Lit(l) => {
                        if l.contains(['?', '#', '*']) {
                            self.error_value(
                                &rpath.key("path"),
                                "a route path must not hold `?`, `#` or `*`",
                            );
                            bad = true;
                        }
                        axum_path.push_str(l);
                        shape.push_str(l);
                    }
                    PathSeg::Var(v) => {
                        if !v
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                        {
                            self.error_value(&rpath.key("path"), format!("route parameter `{v}` must be made of letters, digits, `-` and `_`"));
                            bad = true;
                        }
                        if route_params
                            .iter()
                            .any(|(_, raw): &(String, String)| raw == v)
                        {
                            self.error_value(
                                &rpath.key("path"),
                                format!("`{v}` appears twice in the route"),
                            );
                            bad = true;
                        }
                        axum_path.push('{');
                        axum_path.push_str(v);
                        axum_path.push('}');
                        shape.push_str("{}");
                        route_params.push((snake_ident(v), (*v).to_owned()));
                    }
                }
            }
            if axum_path.contains("//") {
                self.error_value(
                    &rpath.key("path"),
                    "a route path must not hold an empty segment (`//`)",
                );
                bad = true;
            }
            if bad {
                continue;
            }
            match shapes.get(&shape) {
                Some((other, where_)) if other != &axum_path => {
                    let msg = format!(
                        "route `{axum_path}` conflicts with `{other}` (at `{where_}`): the same route must use the same parameter names"
                    );
                    self.error_value(&rpath.key("path"), msg);
                    continue;
                }
                _ => {
                    shapes.insert(shape, (axum_path.clone(), rpath.clone()));
                }
            }
            for (oi, op) in res.operations.iter().enumerate() {
                let opath = rpath.key("operations").index(oi);
                let Some(op) = self.item(&opath, op) else {
                    continue;
                };
                if let Some(first) = seen.get(&(axum_path.clone(), op.method)) {
                    let first = first.to_string();
                    self.error_value(
                        &opath.key("method"),
                        format!(
                            "duplicate route `{} {axum_path}` (first at `{first}`)",
                            op.method.as_str()
                        ),
                    );
                    continue;
                }
                seen.insert((axum_path.clone(), op.method), opath.clone());
                if op.steps.is_some() {
                    self.unsupported(&opath.key("steps"), "`steps` (orchestrated operations)");
                    continue;
                }
                if op.mappings.is_some() {
                    self.unsupported(&opath.key("mappings"), "`mappings`");
                    continue;
                }
                if op.reference.is_some() {
                    self.unsupported(&opath.key("ref"), "`ref` to an aggregate function");
                    continue;
                }
                let Some(call_text) = &op.call else {
                    self.error_key(&opath, "a REST operation needs `call: namespace.operation`");
                    continue;
                };
                let Some((ci, oi2)) = self.resolve_call(call_text, &opath.key("call"), clients)
                else {
                    continue;
                };
                let name = op.name.clone().unwrap_or_else(|| {
                    format!(
                        "{}-{}",
                        op.method.as_str().to_lowercase(),
                        res.name.clone().unwrap_or_else(|| axum_path.clone())
                    )
                });
                let handler = snake_ident(&name);
                if let Some(first) = handlers.get(&handler) {
                    let first = first.to_string();
                    self.error_value(
                        &opath.key("name"),
                        format!("duplicate operation name `{name}` (first at `{first}`)"),
                    );
                    continue;
                }
                handlers.insert(handler.clone(), opath.clone());

                let mut scope = Scope {
                    surface: Surface::Rest,
                    namespace: &r.namespace,
                    route_params: route_params.clone(),
                    inputs: Vec::new(),
                    declared: 0,
                };
                let declared = res
                    .input_parameters
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (p, rpath.key("inputParameters").index(i)))
                    .chain(
                        op.input_parameters
                            .iter()
                            .enumerate()
                            .map(|(i, p)| (p, opath.key("inputParameters").index(i))),
                    );
                for (p, lpath) in declared {
                    let source = match p.location {
                        ExposedIn::Path => {
                            match route_params
                                .iter()
                                .find(|(s, raw)| raw == &p.name || s == &p.name)
                            {
                                Some((_, raw)) => Source::Path(raw.clone()),
                                None => {
                                    self.error_value(&lpath, format!("path input `{}` is not a parameter of the route `{axum_path}`", p.name));
                                    continue;
                                }
                            }
                        }
                        ExposedIn::Query => Source::Query(p.name.clone()),
                        ExposedIn::Header => Source::Header(p.name.clone()),
                        ExposedIn::Cookie => Source::Cookie(p.name.clone()),
                        ExposedIn::Body => match &p.value {
                            Some(v) => match expr::parse_json_path(v) {
                                Ok(segs) if segs.is_empty() => Source::Body,
                                Ok(segs) => Source::BodyPath(segs),
                                Err(e) => {
                                    self.error_value(&lpath, e);
                                    continue;
                                }
                            },
                            None => Source::BodyPath(vec![crate::ir::JsonSeg::Key(p.name.clone())]),
                        },
                    };
                    scope.inputs.retain(|i| i.name != p.name);
                    scope.inputs.push(Input {
                        name: p.name.clone(),
                        required: p.location == ExposedIn::Path || p.required.unwrap_or(false),
                        source,
                        ty: Some(p.ty),
                        description: p.description.clone(),
                        pattern: p.pattern.clone(),
                    });
                }
                scope.declared = scope.inputs.len();
                let Some(call) = self.bind(
                    &mut scope,
                    op.with.as_ref(),
                    &opath,
                    clients,
                    ci,
                    oi2,
                    namespaces,
                ) else {
                    continue;
                };
                let output = self.outputs(&op.output_parameters, &opath.key("outputParameters"));
                let Some(output) = output else { continue };
                let opd = &clients[ci].ops[oi2];
                routes.push(Route {
                    name,
                    handler,
                    method: op.method,
                    path: axum_path.clone(),
                    label: op.label.clone(),
                    description: op.description.clone().or_else(|| opd.description.clone()),
                    inputs: scope.inputs,
                    call,
                    output,
                });
            }
        }
        Some(RestServer {
            namespace: r.namespace.clone(),
            module: snake_ident(&r.namespace),
            description: r.description.clone(),
            address,
            port: r.port,
            auth,
            routes,
        })
    }

    fn mcp(
        &mut self,
        m: &ExposesMcp,
        path: &YamlPath,
        clients: &[Client],
        namespaces: &HashMap<String, YamlPath>,
    ) -> Option<McpServer> {
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
        if m.resources.is_some() {
            self.unsupported(&path.key("resources"), "MCP `resources`");
        }
        if m.prompts.is_some() {
            self.unsupported(&path.key("prompts"), "MCP `prompts`");
        }
        let auth = self.inbound_auth(&m.authentication, path);
        let address = self.address(&m.address, path);
        let mut tools: Vec<Tool> = Vec::new();
        let mut names: HashMap<String, YamlPath> = HashMap::new();
        // Rust name -> tool name, to catch two names that become one identifier.
        let mut idents: HashMap<String, String> = HashMap::new();
        if m.tools.is_empty() {
            self.error_key(path, format!("MCP server `{}` has no tools", m.namespace));
        }
        for (ti, t) in m.tools.iter().enumerate() {
            let tpath = path.key("tools").index(ti);
            let Some(t) = self.item(&tpath, t) else {
                continue;
            };
            if let Some(tool) = self.tool(t, &tpath, m, clients, namespaces) {
                if let Some(first) = names.get(&tool.name) {
                    let first = first.to_string();
                    self.error_value(
                        &tpath.key("name"),
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
                    self.error_value(&tpath.key("name"), msg);
                    continue;
                }
                idents.insert(handler, tool.name.clone());
                names.insert(tool.name.clone(), tpath.clone());
                tools.push(tool);
            }
        }
        Some(McpServer {
            namespace: m.namespace.clone(),
            module: snake_ident(&m.namespace),
            label: m.label.clone(),
            description: m.description.clone(),
            transport,
            address,
            port: m.port,
            auth,
            tools,
        })
    }

    fn tool(
        &mut self,
        t: &McpTool,
        tpath: &YamlPath,
        m: &ExposesMcp,
        clients: &[Client],
        namespaces: &HashMap<String, YamlPath>,
    ) -> Option<Tool> {
        if t.reference.is_some() {
            self.unsupported(&tpath.key("ref"), "`ref` to an aggregate function");
            return None;
        }
        if t.steps.is_some() {
            self.unsupported(&tpath.key("steps"), "`steps` (orchestrated tools)");
            return None;
        }
        if t.mappings.is_some() {
            self.unsupported(&tpath.key("mappings"), "`mappings`");
            return None;
        }
        let Some(name) = &t.name else {
            self.error_key(tpath, "a tool needs a `name:`");
            return None;
        };
        if !valid_tool_name(name) {
            self.error_value(&tpath.key("name"), format!("tool name `{name}` must be 1 to 128 characters of A-Z, a-z, 0-9, `_`, `-` and `.`"));
            return None;
        }
        let Some(call_text) = &t.call else {
            if t.output_parameters.iter().any(|o| o.value.is_some()) {
                self.unsupported(
                    &tpath.key("outputParameters"),
                    "a mock tool (fixed output values, no `call:`)",
                );
            } else {
                self.error_key(tpath, "a tool needs `call: namespace.operation`");
            }
            return None;
        };
        let (ci, oi) = self.resolve_call(call_text, &tpath.key("call"), clients)?;
        let mut scope = Scope {
            surface: Surface::Mcp,
            namespace: &m.namespace,
            route_params: Vec::new(),
            inputs: t
                .input_parameters
                .iter()
                .map(|p| Input {
                    name: p.name.clone(),
                    source: Source::Arg(p.name.clone()),
                    ty: Some(p.ty),
                    // The schema's default for tool inputs is required.
                    required: p.required.unwrap_or(true),
                    description: p.description.clone(),
                    pattern: None,
                })
                .collect(),
            declared: t.input_parameters.len(),
        };
        let mut dup = HashMap::new();
        for (i, p) in t.input_parameters.iter().enumerate() {
            if dup.insert(p.name.clone(), i).is_some() {
                self.error_value(
                    &tpath.key("inputParameters").index(i).key("name"),
                    format!("duplicate input `{}`", p.name),
                );
            }
        }
        let call = self.bind(
            &mut scope,
            t.with.as_ref(),
            tpath,
            clients,
            ci,
            oi,
            namespaces,
        )?;
        let output = self.outputs(&t.output_parameters, &tpath.key("outputParameters"))?;
        let op = &clients[ci].ops[oi];
        // Defaults from the HTTP method; the spec's hints win.
        let (ro, de, id) = match op.method {
            Method::Get => (true, false, true),
            Method::Post => (false, false, false),
            Method::Put => (false, true, true),
            Method::Patch => (false, true, false),
            Method::Delete => (false, true, true),
        };
        let h = t.hints.unwrap_or_default();
        let read_only = h.read_only.unwrap_or(ro);
        let destructive = h.destructive.unwrap_or(de) && !read_only;
        if read_only && op.method != Method::Get {
            self.warn_key(
                &tpath.key("hints"),
                format!(
                    "tool `{name}` is marked read-only but calls {} {}",
                    op.method.as_str(),
                    op.path_text
                ),
            );
        }
        if h.read_only == Some(true) && h.destructive == Some(true) {
            self.warn_key(
                &tpath.key("hints"),
                "a read-only tool cannot be destructive; `destructive` is ignored",
            );
        }
        let description = t.description.clone().or_else(|| op.description.clone());
        let title = t.label.clone().unwrap_or_else(|| match &description {
            Some(d) if d.len() <= 80 && !d.contains('\n') => d.clone(),
            _ => title_case(name),
        });
        Some(Tool {
            name: name.clone(),
            title,
            description,
            read_only,
            destructive,
            idempotent: h.idempotent.unwrap_or(id),
            open_world: h.open_world.unwrap_or(true),
            inputs: scope.inputs,
            call,
            output,
        })
    }

    /// Resolves `namespace.operation`.
    fn resolve_call(
        &mut self,
        text: &str,
        path: &YamlPath,
        clients: &[Client],
    ) -> Option<(usize, usize)> {
        if self.broken_ops.contains(text) {
            return None;
        }
        let Some((ns, op)) = text.split_once('.') else {
            self.error_value(
                path,
                format!("`call: {text}` must be `namespace.operation`"),
            );
            return None;
        };
        let Some(ci) = clients.iter().position(|c| c.namespace == ns) else {
            let hint = closest(ns, clients.iter().map(|c| c.namespace.as_str()));
            let list: Vec<_> = clients
                .iter()
                .map(|c| format!("`{}`", c.namespace))
                .collect();
            let d = self.error_value(
                path,
                format!("`call: {text}`: no consumed namespace `{ns}`"),
            );
            d.help = Some(match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None if list.is_empty() => "this capability consumes nothing".into(),
                None => format!("consumed namespaces: {}", list.join(", ")),
            });
            return None;
        };
        let Some(&(_, oi)) = self.op_index.get(text) else {
            let hint = closest(op, clients[ci].ops.iter().map(|o| o.name.as_str()));
            let d = self.error_value(
                path,
                format!("`call: {text}`: namespace `{ns}` has no operation `{op}`"),
            );
            d.help = hint.map(|h| format!("did you mean `{ns}.{h}`?"));
            return None;
        };
        Some((ci, oi))
    }

    /// Binds every parameter of the called operation: from `with:`, else implicitly by name.
    #[allow(clippy::too_many_arguments)]
    fn bind(
        &mut self,
        scope: &mut Scope<'_>,
        with: Option<&IndexMap<String, WithValue>>,
        path: &YamlPath,
        clients: &[Client],
        ci: usize,
        oi: usize,
        namespaces: &HashMap<String, YamlPath>,
    ) -> Option<Call> {
        let op = &clients[ci].ops[oi];
        let call_name = format!("{}.{}", clients[ci].namespace, op.name);
        let mut args: Vec<Option<Expr>> = vec![None; op.params.len()];
        let mut ok = true;
        if let Some(with) = with {
            for (key, value) in with {
                let wpath = path.key("with").key(key);
                let Some(pi) = op.params.iter().position(|p| &p.name == key) else {
                    let hint = closest(key, op.params.iter().map(|p| p.name.as_str()));
                    let inputs: Vec<_> =
                        op.params.iter().map(|p| format!("`{}`", p.name)).collect();
                    let d = self.error_key(
                        &wpath,
                        format!("`with` key `{key}` is not an input of `{call_name}`"),
                    );
                    d.help = Some(match hint {
                        Some(h) => format!("did you mean `{h}`?"),
                        None if inputs.is_empty() => format!("`{call_name}` takes no inputs"),
                        None => format!("its inputs are {}", inputs.join(", ")),
                    });
                    ok = false;
                    continue;
                };
                match self.with_expr(scope, value, &op.params[pi], &wpath, namespaces) {
                    Some(e) => args[pi] = Some(e),
                    None => ok = false,
                }
            }
        }
        for (pi, p) in op.params.iter().enumerate() {
            if args[pi].is_some() {
                continue;
            }
            let by_name = scope.find(&p.name).is_some()
                || scope
                    .route_params
                    .iter()
                    .any(|(s, _)| s == &snake_ident(&p.name));
            if p.location == ParamLoc::Path && scope.surface == Surface::Rest && !by_name {
                let d = self.error_key(
                    path,
                    format!(
                        "path parameter `{{{}}}` of `{call_name}` ({}) is bound to nothing",
                        p.name, op.path_text
                    ),
                );
                d.help = Some(format!(
                    "add `{{{}}}` to the route path, or bind it with `with: {{{}: ...}}`",
                    p.name.replace('_', "-"),
                    p.name
                ));
                ok = false;
            } else {
                // `with:` renames or fixes what it lists; every other parameter is an input
                // of the same name (the seed dialect relies on this).
                args[pi] = Some(Expr::Input(scope.input_for(&p.name, Some(p))));
            }
        }
        // Declared inputs that feed nothing are probably a mistake.
        for input in scope.inputs.iter().take(scope.declared) {
            let used = args.iter().flatten().any(|e| match e {
                Expr::Input(n) => n == &input.name,
                Expr::Template(t) => t.inputs().any(|n| n == input.name),
                _ => false,
            });
            if !used {
                self.warn_key(
                    path,
                    format!("input `{}` is not passed to `{call_name}`", input.name),
                );
            }
        }
        ok.then_some(Call {
            client: ci,
            op: oi,
            args,
        })
    }

    /// One `with:` value: a reference to an input, a template, or a constant.
    fn with_expr(
        &mut self,
        scope: &mut Scope<'_>,
        value: &WithValue,
        target: &OpParam,
        path: &YamlPath,
        namespaces: &HashMap<String, YamlPath>,
    ) -> Option<Expr> {
        let text = match value {
            WithValue::Int(i) => return Some(Expr::Const((*i).into())),
            WithValue::Float(f) => {
                return serde_json::Number::from_f64(*f)
                    .map(|n| Expr::Const(n.into()))
                    .or_else(|| {
                        self.error_value(path, "not a finite number");
                        None
                    });
            }
            WithValue::Str(s) => s.trim(),
        };
        let own = scope.namespace.to_owned();
        let dialect = match scope.surface {
            Surface::Rest => "rest",
            Surface::Mcp => "tools",
        };
        let reference = text
            .strip_prefix("$this.")
            .and_then(|r| r.strip_prefix(&own).and_then(|r| r.strip_prefix('.')))
            .or_else(|| text.strip_prefix(&format!("{dialect}.")))
            .or_else(|| text.strip_prefix(&own).and_then(|r| r.strip_prefix('.')));
        if let Some(name) = reference {
            if !scope
                .inputs
                .iter()
                .take(scope.declared)
                .any(|i| i.name == name)
                && scope.declared > 0
                && (text.starts_with("$this.") || text.starts_with(&own))
            {
                let hint = closest(name, scope.inputs.iter().map(|i| i.name.as_str()));
                let d = self.error_value(
                    path,
                    format!("`{text}`: `{own}` declares no input `{name}`"),
                );
                d.help = hint.map(|h| format!("did you mean `{h}`?"));
                return None;
            }
            return Some(Expr::Input(scope.input_for(name, Some(target))));
        }
        if text.contains("{{") {
            let mut created = Vec::new();
            let t = expr::parse_template(text, |n| match self.resolve_var(n) {
                Ok(r) => Ok(r),
                Err(e) if n.contains('.') => Err(e),
                Err(_) => {
                    created.push(n.to_owned());
                    Ok(Resolved::Input(n.to_owned()))
                }
            });
            let t = match t {
                Ok(t) => t,
                Err(e) => {
                    self.error_value(path, e);
                    return None;
                }
            };
            for n in created {
                let target = (scope.find(&n).is_none()).then_some(target);
                scope.input_for(&n, target.filter(|_| t.0.len() == 1));
            }
            return Some(match t.0.as_slice() {
                [crate::ir::Part::Input(n)] => Expr::Input(n.clone()),
                [crate::ir::Part::Env(v)] => Expr::Env(v.clone()),
                _ => Expr::Template(t),
            });
        }
        // `other-namespace.x` or `$this.other.x` is a reference we cannot resolve, not a constant.
        let prefix = text.strip_prefix("$this.").unwrap_or(text);
        if let Some((ns, _)) = prefix.split_once('.')
            && (namespaces.contains_key(ns)
                || text.starts_with("$this.")
                || ns == "rest"
                || ns == "tools")
        {
            self.error_value(
                path,
                format!("`{text}` refers to namespace `{ns}`; a `with:` value may refer only to inputs of `{own}` (`{dialect}.name`, `$this.{own}.name`)"),
            );
            return None;
        }
        Some(Expr::Const(serde_json::Value::String(text.to_owned())))
    }

    /// The result shape from `outputParameters`.
    fn outputs(&mut self, outs: &[OutputParam], path: &YamlPath) -> Option<Shape> {
        match outs {
            [] => Some(Shape::Whole),
            [one] if one.name.is_none() => {
                let s = self.shape(one, &path.index(0))?;
                Some(if s == Shape::Path(Vec::new()) {
                    Shape::Whole
                } else {
                    s
                })
            }
            many => {
                let mut fields = Vec::new();
                for (i, o) in many.iter().enumerate() {
                    let Some(name) = &o.name else {
                        self.error_key(
                            &path.index(i),
                            "with several output parameters, each needs a `name:`",
                        );
                        return None;
                    };
                    fields.push((name.clone(), self.shape(o, &path.index(i))?));
                }
                Some(Shape::Object {
                    base: Vec::new(),
                    fields,
                })
            }
        }
    }

    fn shape(&mut self, o: &OutputParam, path: &YamlPath) -> Option<Shape> {
        if let Some(c) = &o.constant {
            return match serde_json::to_value(c) {
                Ok(v) => Some(Shape::Const(v)),
                Err(e) => {
                    self.error_value(&path.key("const"), format!("`const` is not JSON: {e}"));
                    None
                }
            };
        }
        if o.value.is_some() {
            self.unsupported(
                &path.key("value"),
                "an output `value:` (mock or orchestrated outputs)",
            );
            return None;
        }
        let base = match &o.mapping {
            Some(m) => match expr::parse_json_path(m) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.error_value(&path.key("mapping"), e);
                    return None;
                }
            },
            None => None,
        };
        match (o.ty, &o.properties, &o.items) {
            (OutputType::Object, Some(props), _) => {
                let mut fields = Vec::new();
                for (k, p) in props {
                    fields.push((k.clone(), self.shape(p, &path.key("properties").key(k))?));
                }
                Some(Shape::Object {
                    base: base.unwrap_or_default(),
                    fields,
                })
            }
            (OutputType::Array, _, Some(Items::One(item))) => {
                let Some(base) = base else {
                    self.error_key(path, "an array output needs a `mapping:` to the array");
                    return None;
                };
                let item = self.shape(item, &path.key("items"))?;
                Some(Shape::Array {
                    base,
                    item: Box::new(item),
                })
            }
            (OutputType::Array, _, Some(Items::Many(_))) => {
                self.unsupported(
                    &path.key("items"),
                    "a list of named `items` (orchestrated outputs)",
                );
                None
            }
            _ => match base {
                Some(b) => Some(Shape::Path(b)),
                None => {
                    self.error_key(path, "an output parameter needs a `mapping:` (a JSONPath such as `$.` or `$.customer`)");
                    None
                }
            },
        }
    }
}
