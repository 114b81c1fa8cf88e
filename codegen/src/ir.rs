//! The checked model: everything the emitters need, resolved and validated.
//!
//! Names are resolved (a `call:` points at an operation by index, a `ref:` at a function),
//! every operation parameter is bound (explicitly by `with:` or implicitly by name), step
//! references are resolved and ordered, and Rust identifiers are chosen. Nothing here says
//! which grammar the spec was written in; emitters only read this, never the YAML.

use std::path::PathBuf;

pub use crate::spec::model::{Method, OutputType, ParamType, Placement, Role, Transport};

#[derive(Debug)]
pub struct Capability {
    /// The crate-friendly name of the capability (`lago-customers`).
    pub name: String,
    pub label: Option<String>,
    pub description: Option<String>,
    /// `info.version`, when the spec gives one.
    pub version: Option<String>,
    /// Variables from `binds`, resolved at run time (never at build time).
    pub vars: Vec<Var>,
    pub clients: Vec<Client>,
    /// Aggregate functions, callable from tools and routes (`ref`).
    pub functions: Vec<Function>,
    pub rest: Vec<RestServer>,
    pub mcp: Vec<McpServer>,
    pub skills: Vec<SkillServer>,
    /// The control adapter's `management.scripting`, when it has one.
    pub scripting: Option<ScriptingPolicy>,
    /// The control port (health, status, metrics), when the spec declares one.
    pub control: Option<Control>,
    /// The grammar and version the spec is written in (`naftiko 1.0.0-alpha2`), as the
    /// control port's `/status` reports it. Nothing is generated differently from it.
    pub spec_version: String,
    /// Every file the spec was read from, for `cargo::rerun-if-changed`.
    pub sources: Vec<PathBuf>,
}

/// One exposed surface, as tools outside the generator see it (`check`, the engine-case runner).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurfaceInfo {
    /// `rest`, `mcp`, `skill` or `control`.
    pub kind: &'static str,
    pub namespace: String,
    /// The port declared in the spec (`None` for stdio).
    pub port: Option<u16>,
    /// An MCP server declared with `transport: stdio`.
    pub stdio: bool,
}

impl Capability {
    /// Every exposed surface: REST adapters, MCP servers, skill catalogues, then the
    /// control port.
    pub fn surfaces(&self) -> Vec<SurfaceInfo> {
        let rest = self.rest.iter().map(|r| SurfaceInfo {
            kind: "rest",
            namespace: r.namespace.clone(),
            port: Some(r.port),
            stdio: false,
        });
        let mcp = self.mcp.iter().map(|m| SurfaceInfo {
            kind: "mcp",
            namespace: m.namespace.clone(),
            port: m.port,
            stdio: m.transport == Transport::Stdio,
        });
        let skill = self.skills.iter().map(|s| SurfaceInfo {
            kind: "skill",
            namespace: s.namespace.clone(),
            port: Some(s.port),
            stdio: false,
        });
        // The control port has no namespace; `control` names it (`serve --control-addr`).
        let control = self.control.iter().map(|c| SurfaceInfo {
            kind: "control",
            namespace: "control".into(),
            port: Some(c.port),
            stdio: false,
        });
        rest.chain(mcp).chain(skill).chain(control).collect()
    }

    /// The optional features of `naftiko-runtime` the generated code needs: the body
    /// formats its upstreams answer in, and `skill` for skill catalogues.
    pub fn runtime_features(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = self
            .clients
            .iter()
            .flat_map(|c| &c.ops)
            .filter_map(|o| match o.format.label.as_str() {
                "xml" => Some("xml"),
                "csv" | "tsv" | "psv" => Some("csv"),
                "yaml" => Some("yaml"),
                "html" => Some("html"),
                "markdown" => Some("markdown"),
                "avro" => Some("avro"),
                "protobuf" => Some("protobuf"),
                _ => None,
            })
            .collect();
        if !self.skills.is_empty() {
            out.push("skill");
        }
        if self.uses_scripts() {
            out.push("script");
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether the capability runs script steps or declares a scripting governance: its
    /// clients then carry the governance.
    pub fn uses_scripts(&self) -> bool {
        let flows = self
            .functions
            .iter()
            .map(|f| &f.flow)
            .chain(
                self.rest
                    .iter()
                    .flat_map(|r| r.routes.iter().map(|r| &r.flow)),
            )
            .chain(
                self.mcp
                    .iter()
                    .flat_map(|m| m.tools.iter().map(|t| &t.flow)),
            )
            .chain(self.mcp.iter().flat_map(|m| {
                m.resources.iter().filter_map(|r| match &r.kind {
                    ResourceKind::Flow { flow, .. } => Some(flow),
                    ResourceKind::Files { .. } => None,
                })
            }));
        self.scripting.is_some() || flows.into_iter().any(Flow::has_script)
    }

    /// The namespaces of the consumed APIs, in spec order.
    pub fn client_namespaces(&self) -> Vec<String> {
        self.clients.iter().map(|c| c.namespace.clone()).collect()
    }
}

/// A variable of `binds`.
#[derive(Debug, Clone)]
pub struct Var {
    /// The name templates use (`{{REGISTRY_TOKEN}}`).
    pub name: String,
    pub namespace: String,
    pub description: Option<String>,
    pub source: VarSource,
}

/// Where a variable's value is read at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum VarSource {
    /// The environment variable of this name.
    Env(String),
    /// A top-level key of a YAML or JSON file (`file:///./shared/secrets.yaml`).
    File { location: String, key: String },
}

/// A string built at run time from literals, variables and inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(pub Vec<Part>);

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    /// A `binds` variable.
    Env(String),
    /// An input of the operation (consumed side) or of the tool/route (exposed side).
    Input(String),
    /// A value in an earlier step's output (`{{get-ship.imo_number}}`).
    Step(StepRef),
}

impl Template {
    pub fn literal(&self) -> Option<&str> {
        match self.0.as_slice() {
            [] => Some(""),
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }
    pub fn inputs(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::Input(n) => Some(n.as_str()),
            _ => None,
        })
    }
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::Env(n) => Some(n.as_str()),
            _ => None,
        })
    }
    pub fn steps(&self) -> impl Iterator<Item = &StepRef> {
        self.0.iter().filter_map(|p| match p {
            Part::Step(s) => Some(s),
            _ => None,
        })
    }
}

#[derive(Debug)]
pub struct Client {
    pub namespace: String,
    /// Rust module name (`lago_customers`).
    pub module: String,
    pub label: Option<String>,
    pub description: Option<String>,
    /// The base URI; a template when it holds `binds` variables (rendered at start-up).
    pub base_uri: Template,
    pub auth: Option<ClientAuth>,
    /// Fixed parameters sent with every call (consumes-level `inputParameters` with a value).
    pub fixed: Vec<Fixed>,
    pub ops: Vec<Operation>,
}

impl Client {
    /// The base URI as written, for docs and messages.
    pub fn base_uri_text(&self) -> String {
        template_text(&self.base_uri)
    }
    /// The `binds` variables its operations read at call time (in paths, parameters, bodies).
    pub fn call_vars(&self) -> Vec<&str> {
        let mut out = Vec::new();
        for op in &self.ops {
            out.extend(op.fixed.iter().flat_map(|f| f.value.vars()));
            out.extend(op.path.iter().filter_map(|p| match p {
                PathPart::Env(v) => Some(v.as_str()),
                _ => None,
            }));
            match &op.body {
                Some(Body::JsonTemplate(t)) | Some(Body::Text { template: t, .. }) => {
                    out.extend(t.vars())
                }
                Some(Body::Form(fields)) => out.extend(fields.iter().flat_map(|(_, t)| t.vars())),
                _ => {}
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Every `binds` variable this client reads.
    pub fn vars(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.base_uri.vars().collect();
        if let Some(a) = &self.auth {
            out.extend(a.templates().into_iter().flat_map(Template::vars));
        }
        for f in &self.fixed {
            out.extend(f.value.vars());
        }
        out.extend(self.call_vars());
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// A template as it was written: `{{name}}` for each placeholder.
pub fn template_text(t: &Template) -> String {
    t.0.iter()
        .map(|p| match p {
            Part::Lit(l) => l.clone(),
            Part::Env(v) | Part::Input(v) => format!("{{{{{v}}}}}"),
            Part::Step(s) => format!("{{{{{}}}}}", s.display()),
        })
        .collect()
}

#[derive(Debug, Clone)]
pub enum ClientAuth {
    Bearer(Template),
    ApiKey {
        name: String,
        value: Template,
        placement: Placement,
    },
    Basic {
        username: Template,
        password: Template,
    },
    Digest {
        username: Template,
        password: Template,
    },
}

impl ClientAuth {
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            ClientAuth::Bearer(t) => vec![t],
            ClientAuth::ApiKey { value, .. } => vec![value],
            ClientAuth::Basic { username, password }
            | ClientAuth::Digest { username, password } => {
                vec![username, password]
            }
        }
    }
}

/// Where a parameter goes in the upstream request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamLoc {
    Path,
    Query,
    Header,
    Cookie,
    /// The whole JSON body (`in: body` named `body`, the seed's form) or one field of it.
    Body,
    /// Used only inside templates (`{{name}}` in the path, body or a parameter value).
    Template,
}

/// A constant or templated parameter (`in: header`, `value: "{{REGISTRY_VERSION}}"`).
#[derive(Debug, Clone)]
pub struct Fixed {
    pub name: String,
    pub location: ParamLoc,
    pub value: Template,
}

#[derive(Debug, Clone)]
pub struct OpParam {
    /// The name on the wire (`periods_count`, `status[]`).
    pub name: String,
    /// The Rust identifier (`periods_count`, `status`).
    pub field: String,
    pub location: ParamLoc,
    pub ty: Option<ParamType>,
    pub required: bool,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub enum PathPart {
    Lit(String),
    /// Index into `Operation::params`.
    Param(usize),
    Env(String),
}

#[derive(Debug, Clone)]
pub enum Body {
    /// The JSON body is the parameter itself (the seed's `in: body` named `body`).
    Whole(usize),
    /// Several `in: body` parameters: a JSON object of them.
    Fields(Vec<usize>),
    /// A JSON document with `{{placeholders}}`.
    JsonTemplate(Template),
    /// A text body with `{{placeholders}}` and its content type.
    Text {
        content_type: String,
        template: Template,
    },
    /// `application/x-www-form-urlencoded` fields.
    Form(Vec<(String, Template)>),
}

/// How an upstream answer is read before mappings apply.
#[derive(Debug, Clone, PartialEq)]
pub struct Format {
    /// The `outputRawFormat` label, lower case (`json`, `xml`, `csv`, ...).
    pub label: String,
    /// The format-specific `outputSchema` (a CSS selector, a heading prefix, a schema file).
    pub schema: Option<String>,
}

impl Format {
    pub fn json() -> Self {
        Format {
            label: "json".into(),
            schema: None,
        }
    }
    pub fn is_json(&self) -> bool {
        self.label == "json"
    }
}

/// A field a consumed operation's `outputParameters` project out of its answer (step mode).
#[derive(Debug, Clone)]
pub struct Projection {
    pub name: String,
    pub path: Vec<JsonSeg>,
}

#[derive(Debug)]
pub struct Operation {
    pub name: String,
    /// The client method name (`findallcustomerpastusage`).
    pub method_name: String,
    /// The parameter struct name (`FindallcustomerpastusageParams`).
    pub params_struct: String,
    pub method: Method,
    pub label: Option<String>,
    pub description: Option<String>,
    /// The path as written in the spec, for docs.
    pub path_text: String,
    pub path: Vec<PathPart>,
    pub params: Vec<OpParam>,
    pub fixed: Vec<Fixed>,
    pub body: Option<Body>,
    pub format: Format,
    /// What a step calling this operation keeps of the answer (empty: all of it).
    pub projection: Vec<Projection>,
}

impl Operation {
    pub fn path_params(&self) -> impl Iterator<Item = (usize, &OpParam)> {
        self.params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == ParamLoc::Path)
    }
    pub fn other_params(&self) -> impl Iterator<Item = (usize, &OpParam)> {
        self.params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location != ParamLoc::Path)
    }
    pub fn has_params_struct(&self) -> bool {
        self.other_params().next().is_some()
    }
    /// Whether repeating the call is harmless (GET, PUT, DELETE).
    pub fn idempotent(&self) -> bool {
        matches!(self.method, Method::Get | Method::Put | Method::Delete)
    }
}

/// Where an exposed input comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A path segment of the route, by its name in the route (`external-customer-id`).
    Path(String),
    Query(String),
    Header(String),
    Cookie(String),
    /// The whole JSON request body.
    Body,
    /// A value inside the JSON request body (JSONPath segments).
    BodyPath(Vec<JsonSeg>),
    /// A body input declared without `value`: the body's field of that name; when the body
    /// has none, the whole body if it is of the input's type (the engine's rule).
    BodyField(String),
    /// An MCP tool argument, or an input handed to a function by its caller.
    Arg(String),
    /// A constant (`value:` of a REST input).
    Const(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonSeg {
    Key(String),
    Index(usize),
    /// `[*]`: every element.
    Wildcard,
}

/// An input of an exposed route, tool or function.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub source: Source,
    pub ty: Option<ParamType>,
    pub required: bool,
    pub description: Option<String>,
    /// A regular expression the value must match (REST `pattern`).
    pub pattern: Option<String>,
}

/// What an operation parameter, a function input or a template receives.
#[derive(Debug, Clone)]
pub enum Expr {
    Input(String),
    Const(serde_json::Value),
    Template(Template),
    Env(String),
    /// A value in an earlier step's output (`$.get-ship.imo_number`).
    Step(StepRef),
}

/// A path into the output of an earlier step.
#[derive(Debug, Clone, PartialEq)]
pub struct StepRef {
    /// Index into the flow's steps.
    pub step: usize,
    /// The step's name, for docs.
    pub name: String,
    pub path: Vec<JsonSeg>,
}

impl StepRef {
    pub fn display(&self) -> String {
        let mut s = self.name.clone();
        for seg in &self.path {
            match seg {
                JsonSeg::Key(k) => {
                    s.push('.');
                    s.push_str(k);
                }
                JsonSeg::Index(i) => s.push_str(&format!("[{i}]")),
                JsonSeg::Wildcard => s.push_str("[*]"),
            }
        }
        s
    }
}

/// One call of a consumed operation: which operation, and with what.
#[derive(Debug, Clone)]
pub struct Call {
    pub client: usize,
    pub op: usize,
    /// One per operation parameter, in order; `None` leaves an optional parameter out.
    pub args: Vec<Option<Expr>>,
}

impl Call {
    /// The earlier steps this call reads.
    pub fn step_refs(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for e in self.args.iter().flatten() {
            match e {
                Expr::Step(s) => out.push(s.step),
                Expr::Template(t) => out.extend(t.steps().map(|s| s.step)),
                _ => {}
            }
        }
        out
    }
}

/// The shape of a mapped result, taken from the upstream answer (converted to JSON).
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `$.`: the whole body, passed through.
    Whole,
    /// The value at a path, typed as declared.
    Path {
        path: Vec<JsonSeg>,
        ty: Option<OutputType>,
        max_length: Option<usize>,
    },
    Object {
        base: Vec<JsonSeg>,
        fields: Vec<(String, Shape)>,
    },
    Array {
        base: Vec<JsonSeg>,
        item: Box<Shape>,
    },
    /// The object at `base`, each of its values mapped through `value` (a dictionary).
    Map {
        base: Vec<JsonSeg>,
        value: Box<Shape>,
    },
    Const(serde_json::Value),
}

/// A result built from templates over the inputs, with no call (a mock).
#[derive(Debug, Clone, PartialEq)]
pub enum Mock {
    Object(Vec<(String, Mock)>),
    /// An array of one element.
    Array(Box<Mock>),
    Value {
        template: Template,
        ty: OutputType,
    },
}

/// The declared type of a result: what MCP's `outputSchema` and typed results show.
#[derive(Debug, Clone, PartialEq)]
pub enum Schema {
    Scalar(OutputType),
    /// Any JSON value.
    Any,
    Object(Vec<(String, Schema)>),
    Array(Box<Schema>),
    /// An object whose values all have one type.
    Map(Box<Schema>),
}

/// One step of an orchestration.
#[derive(Debug, Clone)]
pub enum Step {
    /// Calls a consumed operation; its output is the answer (converted, projected).
    Call { name: String, call: Call },
    /// The first entry of an earlier step's output whose `field` equals `value`.
    Lookup {
        name: String,
        /// The step whose output is searched.
        index: usize,
        field: String,
        value: LookupValue,
        /// The fields kept of the matching entry.
        keep: Vec<String>,
    },
    /// Runs a script; its output is the script's `result`.
    Script { name: String, script: Script },
}

/// A script step (JavaScript): where its files are, and what its `context` holds.
#[derive(Debug, Clone)]
pub struct Script {
    /// `None`: the governance's default, at run time.
    pub language: Option<String>,
    /// A `file:` URI; `None`: the governance's default, at run time.
    pub location: Option<String>,
    pub file: String,
    pub dependencies: Vec<String>,
    /// The earlier steps, whose outputs the script sees (all of them).
    pub reads: Vec<usize>,
    /// `with`: extra entries of `context`, over the inputs and step outputs.
    pub with: Vec<(String, Expr)>,
}

/// `management.scripting` of the control adapter: the governance script steps start with.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptingPolicy {
    pub enabled: Option<bool>,
    pub default_location: Option<String>,
    pub default_language: Option<String>,
    pub timeout_ms: Option<u64>,
    pub statement_limit: Option<u64>,
    pub allowed_languages: Vec<String>,
}

impl Step {
    pub fn name(&self) -> &str {
        match self {
            Step::Call { name, .. } | Step::Lookup { name, .. } | Step::Script { name, .. } => name,
        }
    }
    /// The earlier steps this one reads.
    pub fn deps(&self) -> Vec<usize> {
        let mut d = match self {
            Step::Call { call, .. } => call.step_refs(),
            Step::Lookup { index, value, .. } => {
                let mut v = vec![*index];
                match value {
                    LookupValue::Step(s) => v.push(s.step),
                    LookupValue::Template(t) => v.extend(t.steps().map(|s| s.step)),
                }
                v
            }
            Step::Script { script, .. } => {
                let mut v = script.reads.clone();
                for (_, e) in &script.with {
                    match e {
                        Expr::Step(s) => v.push(s.step),
                        Expr::Template(t) => v.extend(t.steps().map(|s| s.step)),
                        _ => {}
                    }
                }
                v
            }
        };
        d.sort_unstable();
        d.dedup();
        d
    }
}

#[derive(Debug, Clone)]
pub enum LookupValue {
    Step(StepRef),
    Template(Template),
}

/// One entry of `mappings`: the value at `source`, written at the dotted `target`.
#[derive(Debug, Clone)]
pub struct MappingOut {
    pub target: Vec<String>,
    pub source: StepRef,
}

/// What a tool, route or function does, and what it answers.
#[derive(Debug, Clone)]
pub enum Action {
    /// One call; the answer mapped through `shape`.
    Call { call: Call, shape: Shape },
    /// Steps in order (independent safe ones together), then `mappings` build the result.
    Steps {
        steps: Vec<Step>,
        /// Steps grouped in the order they run: each group's steps run concurrently.
        waves: Vec<Vec<usize>>,
        mappings: Vec<MappingOut>,
    },
    /// No call: the result is built from the inputs.
    Mock(Mock),
    /// An aggregate function, with its inputs taken from the caller's.
    Function {
        function: usize,
        args: Vec<(String, Expr)>,
    },
}

/// An executable unit: inputs, action, and the declared type of its result.
#[derive(Debug, Clone)]
pub struct Flow {
    pub inputs: Vec<Input>,
    pub action: Action,
    /// The declared result type, when the spec declares one.
    pub schema: Option<Schema>,
}

impl Flow {
    /// Whether one of its steps is a script.
    pub fn has_script(&self) -> bool {
        matches!(&self.action, Action::Steps { steps, .. }
            if steps.iter().any(|s| matches!(s, Step::Script { .. })))
    }
}

/// An aggregate function (`functions` in alpha2, `flows` in beta5).
#[derive(Debug)]
pub struct Function {
    /// The aggregate's namespace.
    pub namespace: String,
    pub name: String,
    /// The Rust function name (`crew_resolver__resolve_crew_for_ship` style, unique).
    pub ident: String,
    pub description: Option<String>,
    pub semantics: Semantics,
    pub flow: Flow,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Semantics {
    pub safe: Option<bool>,
    pub idempotent: Option<bool>,
    pub cacheable: Option<bool>,
}

/// Where every REST adapter serves its OpenAPI document, unless its spec takes the route.
pub const OPENAPI_PATH: &str = "/openapi.json";

#[derive(Debug)]
pub struct RestServer {
    pub namespace: String,
    pub module: String,
    pub description: Option<String>,
    pub address: Option<String>,
    pub port: u16,
    pub auth: Option<InboundAuth>,
    pub routes: Vec<Route>,
    /// Pass-through routes (`forward`): what no route's method takes goes to an upstream.
    pub forwards: Vec<Forward>,
}

impl RestServer {
    /// Whether the spec declares `GET /openapi.json` itself (then the spec's route wins and
    /// the generated document is not served).
    pub fn declares_openapi_route(&self) -> bool {
        self.routes
            .iter()
            .any(|r| r.method == Method::Get && r.path == OPENAPI_PATH)
    }
}

#[derive(Debug)]
pub struct Route {
    pub name: String,
    pub handler: String,
    pub method: Method,
    /// The route as axum writes it (`/v1/customers/{external-customer-id}`).
    pub path: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub flow: Flow,
}

/// A pass-through route (`forward`): the requests no operation of its resource takes are
/// relayed to a consumed API as they are (method, path tail, query, body, trusted headers)
/// and its answer relayed back (status, body and its media type).
#[derive(Debug)]
pub struct Forward {
    /// The Rust handler name (`forward_notion`).
    pub handler: String,
    /// The route as axum writes it; a `path` variable is the multi-segment tail
    /// (`/notion/{*path}`).
    pub path: String,
    /// Path segments of the route before its `{*path}` tail; `None` when it has none (every
    /// request then goes to the base URI itself).
    pub tail_after: Option<usize>,
    /// Index into [`Capability::clients`]: the consumed API requests go to.
    pub client: usize,
    /// The inbound headers copied to the upstream (matched without regard to case).
    pub trusted_headers: Vec<String>,
    pub label: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug)]
pub struct McpServer {
    pub namespace: String,
    pub module: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub transport: Transport,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub auth: Option<InboundAuth>,
    pub tools: Vec<Tool>,
    pub resources: Vec<Resource>,
    pub prompts: Vec<Prompt>,
}

/// The control port: an `exposes` entry of type `control`.
#[derive(Debug)]
pub struct Control {
    pub address: Option<String>,
    pub port: u16,
    pub auth: Option<InboundAuth>,
    /// `/health/live` and `/health/ready`.
    pub health: bool,
    /// `/status`.
    pub info: bool,
    /// `/metrics` (and recording them).
    pub metrics: bool,
}

/// An MCP resource.
#[derive(Debug)]
pub struct Resource {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    /// The URI, or URI template (`data://users/{userId}/profile`).
    pub uri: String,
    pub mime_type: Option<String>,
    pub kind: ResourceKind,
}

#[derive(Debug)]
pub enum ResourceKind {
    /// The files under a folder (`file:///...`), each a resource `<uri>/<relative path>`.
    Files { location: String },
    /// The result of a flow; its inputs are the URI template's variables.
    Flow { template: bool, flow: Flow },
}

/// An MCP prompt.
#[derive(Debug)]
pub struct Prompt {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub arguments: Vec<PromptArgument>,
    pub body: PromptBody,
}

#[derive(Debug)]
pub struct PromptArgument {
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub required: bool,
}

#[derive(Debug)]
pub enum PromptBody {
    /// Messages written in the spec: (role, text with `{{argument}}` placeholders).
    Messages(Vec<(Role, String)>),
    /// One user message: the whole file at this `file:///` location.
    File(String),
}

#[derive(Debug)]
pub struct Tool {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub read_only: bool,
    pub destructive: bool,
    pub idempotent: bool,
    pub open_world: bool,
    pub flow: Flow,
}

/// Authentication required from callers of an exposed surface.
#[derive(Debug, Clone)]
pub enum InboundAuth {
    Bearer(Template),
    ApiKey {
        name: String,
        value: Template,
        placement: Placement,
    },
    Basic {
        username: Template,
        password: Template,
    },
}

impl InboundAuth {
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            InboundAuth::Bearer(t) => vec![t],
            InboundAuth::ApiKey { value, .. } => vec![value],
            InboundAuth::Basic { username, password } => vec![username, password],
        }
    }
}

/// A skill catalogue (`exposes` of type `skill`).
#[derive(Debug)]
pub struct SkillServer {
    pub namespace: String,
    pub module: String,
    pub description: Option<String>,
    pub address: Option<String>,
    pub port: u16,
    pub auth: Option<InboundAuth>,
    pub skills: Vec<Skill>,
}

#[derive(Debug)]
pub struct Skill {
    pub name: String,
    pub description: String,
    pub license: Option<String>,
    pub compatibility: Option<String>,
    pub argument_hint: Option<String>,
    pub allowed_tools: Option<String>,
    pub user_invocable: Option<bool>,
    pub disable_model_invocation: Option<bool>,
    pub metadata: Vec<(String, String)>,
    /// The folder of the skill's files, as written (`file:///...`).
    pub location: Option<String>,
    pub tools: Vec<SkillTool>,
}

#[derive(Debug)]
pub struct SkillTool {
    pub name: String,
    pub description: String,
    pub kind: SkillToolKind,
}

#[derive(Debug)]
pub enum SkillToolKind {
    /// An action of a sibling surface: `mode` is `rest` or `mcp`.
    Derived {
        namespace: String,
        action: String,
        mode: &'static str,
    },
    /// An instruction file under the skill's location.
    Instruction(String),
}
