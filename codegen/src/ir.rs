//! The checked model: everything the emitters need, resolved and validated.
//!
//! Names are resolved (a `call:` points at an operation by index, a `ref:` at a function),
//! every operation parameter is bound (explicitly by `with:` or implicitly by name), step
//! references are resolved and ordered, and Rust identifiers are chosen. Nothing here says
//! which grammar the spec was written in; emitters only read this, never the YAML.

use std::path::PathBuf;

pub use crate::spec::model::{Method, OutputType, ParamType, Placement, Role, Transport};

/// A checked capability: what the emitters generate code from.
#[derive(Debug)]
pub struct Capability {
    /// The crate-friendly name of the capability (`lago-customers`).
    pub name: String,
    /// Its label (`info.label`).
    pub label: Option<String>,
    /// What it does (`info.description`).
    pub description: Option<String>,
    /// `info.version`, when the spec gives one.
    pub version: Option<String>,
    /// Variables from `binds`, resolved at run time (never at build time).
    pub vars: Vec<Var>,
    /// The consumed APIs, in spec order.
    pub clients: Vec<Client>,
    /// Aggregate functions, callable from tools and routes (`ref`).
    pub functions: Vec<Function>,
    /// The REST adapters, in spec order.
    pub rest: Vec<RestServer>,
    /// The MCP servers, in spec order.
    pub mcp: Vec<McpServer>,
    /// The skill catalogues, in spec order.
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
    /// The surface's namespace (`control` for the control port).
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
    /// The namespace of the binding that declares it.
    pub namespace: String,
    /// What the value is.
    pub description: Option<String>,
    /// Where its value is read.
    pub source: VarSource,
}

/// Where a variable's value is read at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum VarSource {
    /// The environment variable of this name.
    Env(String),
    /// A top-level key of a YAML or JSON file (`file:///./shared/secrets.yaml`).
    File {
        /// The file, as the spec writes it.
        location: String,
        /// The top-level key whose value is the variable's.
        key: String,
    },
}

/// A string built at run time from literals, variables and inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(pub Vec<Part>);

/// A piece of a [`Template`].
#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    /// Literal text.
    Lit(String),
    /// A `binds` variable.
    Env(String),
    /// An input of the operation (consumed side) or of the tool/route (exposed side).
    Input(String),
    /// A value in an earlier step's output (`{{get-ship.imo_number}}`).
    Step(StepRef),
}

impl Template {
    /// The text, when the template has no placeholder.
    pub fn literal(&self) -> Option<&str> {
        match self.0.as_slice() {
            [] => Some(""),
            [Part::Lit(s)] => Some(s),
            _ => None,
        }
    }
    /// The inputs it reads, in order.
    pub fn inputs(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::Input(n) => Some(n.as_str()),
            _ => None,
        })
    }
    /// The `binds` variables it reads, in order.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Part::Env(n) => Some(n.as_str()),
            _ => None,
        })
    }
    /// The step outputs it reads, in order.
    pub fn steps(&self) -> impl Iterator<Item = &StepRef> {
        self.0.iter().filter_map(|p| match p {
            Part::Step(s) => Some(s),
            _ => None,
        })
    }
}

/// A consumed API: a typed client.
#[derive(Debug)]
pub struct Client {
    /// Its namespace in the spec.
    pub namespace: String,
    /// Rust module name (`lago_customers`).
    pub module: String,
    /// Its label (`label` or `display`).
    pub label: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// The base URI; a template when it holds `binds` variables (rendered at start-up).
    pub base_uri: Template,
    /// How its calls authenticate.
    pub auth: Option<ClientAuth>,
    /// Fixed parameters sent with every call (consumes-level `inputParameters` with a value).
    pub fixed: Vec<Fixed>,
    /// Its operations, in spec order.
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
                Some(Body::Multipart(parts)) => {
                    out.extend(parts.iter().flat_map(|p| p.value.vars()))
                }
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

/// How a client's calls authenticate (each credential a template over `binds`).
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(Template),
    /// A key in a header or query parameter.
    ApiKey {
        /// The header or query parameter.
        name: String,
        /// The key.
        value: Template,
        /// Where it goes.
        placement: Placement,
    },
    /// HTTP basic authentication.
    Basic {
        /// The user name.
        username: Template,
        /// The password.
        password: Template,
    },
    /// HTTP digest authentication.
    Digest {
        /// The user name.
        username: Template,
        /// The password.
        password: Template,
    },
}

impl ClientAuth {
    /// The templates of its credentials.
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
    /// A segment of the path.
    Path,
    /// A query parameter.
    Query,
    /// A request header.
    Header,
    /// A cookie.
    Cookie,
    /// The whole JSON body (`in: body` named `body`, the seed's form) or one field of it.
    Body,
    /// Used only inside templates (`{{name}}` in the path, body or a parameter value).
    Template,
}

/// A constant or templated parameter (`in: header`, `value: "{{REGISTRY_VERSION}}"`).
#[derive(Debug, Clone)]
pub struct Fixed {
    /// The name on the wire.
    pub name: String,
    /// Where it goes.
    pub location: ParamLoc,
    /// Its value (a constant or a `{{template}}`).
    pub value: Template,
}

/// A parameter of a consumed operation that callers give.
#[derive(Debug, Clone)]
pub struct OpParam {
    /// The name on the wire (`periods_count`, `status[]`).
    pub name: String,
    /// The Rust identifier (`periods_count`, `status`).
    pub field: String,
    /// Where it goes.
    pub location: ParamLoc,
    /// The declared type (`None`: untyped, taken as text).
    pub ty: Option<ParamType>,
    /// Whether a call must give it (path parameters always).
    pub required: bool,
    /// What it means, for the method's docs.
    pub description: Option<String>,
}

/// A piece of an operation's path.
#[derive(Debug, Clone)]
pub enum PathPart {
    /// Literal text.
    Lit(String),
    /// Index into `Operation::params`.
    Param(usize),
    /// A `binds` variable, read at call time.
    Env(String),
}

/// The request body of a consumed operation.
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
        /// The `Content-Type` sent.
        content_type: String,
        /// The body, with its placeholders.
        template: Template,
    },
    /// `application/x-www-form-urlencoded` fields.
    Form(Vec<(String, Template)>),
    /// `multipart/form-data` parts, in order.
    Multipart(Vec<FormPart>),
}

/// One part of a `multipart/form-data` body.
#[derive(Debug, Clone, PartialEq)]
pub struct FormPart {
    /// The form field's name.
    pub name: String,
    /// Its content, with `{{placeholders}}`, sent as rendered.
    pub value: Template,
    /// The file name of a file part (`Content-Disposition: ...; filename=`).
    pub filename: Option<String>,
    /// The part's media type.
    pub content_type: Option<String>,
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
    /// The default: JSON.
    pub fn json() -> Self {
        Format {
            label: "json".into(),
            schema: None,
        }
    }
    /// Whether the format is JSON.
    pub fn is_json(&self) -> bool {
        self.label == "json"
    }
}

/// A field a consumed operation's `outputParameters` project out of its answer (step mode).
#[derive(Debug, Clone)]
pub struct Projection {
    /// The field's name in the step's output.
    pub name: String,
    /// Where it is in the answer.
    pub path: Vec<JsonSeg>,
}

/// A consumed operation: a method of its client.
#[derive(Debug)]
pub struct Operation {
    /// Its name in the spec (`call: namespace.name`).
    pub name: String,
    /// The client method name (`findallcustomerpastusage`).
    pub method_name: String,
    /// The parameter struct name (`FindallcustomerpastusageParams`).
    pub params_struct: String,
    /// The HTTP method.
    pub method: Method,
    /// Its label (`label` or `display`).
    pub label: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// The path as written in the spec, for docs.
    pub path_text: String,
    /// The path, in pieces, appended to the base URI.
    pub path: Vec<PathPart>,
    /// The parameters callers give, in order.
    pub params: Vec<OpParam>,
    /// Parameters sent with every call (a constant or a template).
    pub fixed: Vec<Fixed>,
    /// The request body, if any.
    pub body: Option<Body>,
    /// How the answer is read.
    pub format: Format,
    /// What a step calling this operation keeps of the answer (empty: all of it).
    pub projection: Vec<Projection>,
}

impl Operation {
    /// The path parameters, with their index in `params`.
    pub fn path_params(&self) -> impl Iterator<Item = (usize, &OpParam)> {
        self.params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == ParamLoc::Path)
    }
    /// The other parameters, with their index in `params`.
    pub fn other_params(&self) -> impl Iterator<Item = (usize, &OpParam)> {
        self.params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location != ParamLoc::Path)
    }
    /// Whether the method takes a parameter struct (it has non-path parameters).
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
    /// A query parameter, by name.
    Query(String),
    /// A request header, by name.
    Header(String),
    /// A cookie, by name.
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

/// One step of a JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonSeg {
    /// `.name`: a field of an object.
    Key(String),
    /// `[n]`: an element of an array.
    Index(usize),
    /// `[*]`: every element.
    Wildcard,
}

/// An input of an exposed route, tool or function.
#[derive(Debug, Clone)]
pub struct Input {
    /// The name flows read it by.
    pub name: String,
    /// Where its value comes from.
    pub source: Source,
    /// The declared type (`None`: any value).
    pub ty: Option<ParamType>,
    /// Whether a request without it is rejected.
    pub required: bool,
    /// What it means (OpenAPI, MCP input schema).
    pub description: Option<String>,
    /// A regular expression the value must match (REST `pattern`).
    pub pattern: Option<String>,
}

/// What an operation parameter, a function input or a template receives.
#[derive(Debug, Clone)]
pub enum Expr {
    /// An input, by name.
    Input(String),
    /// A constant.
    Const(serde_json::Value),
    /// A string built from inputs, variables and step outputs.
    Template(Template),
    /// A `binds` variable, by name.
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
    /// The path inside that output.
    pub path: Vec<JsonSeg>,
}

impl StepRef {
    /// The reference as the spec writes it (`get-ship.imo_number`).
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
    /// Index into [`Capability::clients`].
    pub client: usize,
    /// Index into that client's [`Client::ops`].
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
        /// Where the value is.
        path: Vec<JsonSeg>,
        /// The declared type (`None`: any value).
        ty: Option<OutputType>,
        /// The longest string kept, in characters.
        max_length: Option<usize>,
    },
    /// An object of named fields, each mapped from the value at `base`.
    Object {
        /// Where the fields' paths start.
        base: Vec<JsonSeg>,
        /// Each field's name and shape, in output order.
        fields: Vec<(String, Shape)>,
    },
    /// Every element of the array at `base`, mapped through `item`.
    Array {
        /// Where the array is.
        base: Vec<JsonSeg>,
        /// The shape of each element, relative to it.
        item: Box<Shape>,
    },
    /// The object at `base`, each of its values mapped through `value` (a dictionary).
    Map {
        /// Where the object is.
        base: Vec<JsonSeg>,
        /// The shape of each value, relative to it.
        value: Box<Shape>,
    },
    /// A constant.
    Const(serde_json::Value),
}

/// A result built from templates over the inputs, with no call (a mock).
#[derive(Debug, Clone, PartialEq)]
pub enum Mock {
    /// An object of named fields.
    Object(Vec<(String, Mock)>),
    /// An array of one element.
    Array(Box<Mock>),
    /// One value: a template over the inputs.
    Value {
        /// The text, with `{{input}}` placeholders.
        template: Template,
        /// The type the text is converted to.
        ty: OutputType,
    },
}

/// The declared type of a result: what MCP's `outputSchema` and typed results show.
#[derive(Debug, Clone, PartialEq)]
pub enum Schema {
    /// A string, number, integer or boolean.
    Scalar(OutputType),
    /// Any JSON value.
    Any,
    /// An object of named fields.
    Object(Vec<(String, Schema)>),
    /// An array of one element type.
    Array(Box<Schema>),
    /// An object whose values all have one type.
    Map(Box<Schema>),
}

/// One step of an orchestration.
#[derive(Debug, Clone)]
pub enum Step {
    /// Calls a consumed operation; its output is the answer (converted, projected).
    Call {
        /// The step's name.
        name: String,
        /// The operation called, and its arguments.
        call: Call,
    },
    /// The first entry of an earlier step's output whose `field` equals `value`.
    Lookup {
        /// The step's name.
        name: String,
        /// The step whose output is searched.
        index: usize,
        /// The field compared.
        field: String,
        /// The value looked up.
        value: LookupValue,
        /// The fields kept of the matching entry.
        keep: Vec<String>,
    },
    /// Runs a script; its output is the script's `result`.
    Script {
        /// The step's name.
        name: String,
        /// The script and its context.
        script: Script,
    },
}

/// A script step (JavaScript): where its files are, and what its `context` holds.
#[derive(Debug, Clone)]
pub struct Script {
    /// `None`: the governance's default, at run time.
    pub language: Option<String>,
    /// A `file:` URI; `None`: the governance's default, at run time.
    pub location: Option<String>,
    /// The script, relative to `location`.
    pub file: String,
    /// Scripts run before `file`, in order, in the same scope.
    pub dependencies: Vec<String>,
    /// The earlier steps, whose outputs the script sees (all of them).
    pub reads: Vec<usize>,
    /// `with`: extra entries of `context`, over the inputs and step outputs.
    pub with: Vec<(String, Expr)>,
}

/// `management.scripting` of the control adapter: the governance script steps start with.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptingPolicy {
    /// Whether scripts may run (`None`: the environment decides).
    pub enabled: Option<bool>,
    /// Where steps without `location` find their files (a `file:` URI).
    pub default_location: Option<String>,
    /// The language of steps without `language`.
    pub default_language: Option<String>,
    /// Milliseconds a script may run.
    pub timeout_ms: Option<u64>,
    /// Statements a script may run.
    pub statement_limit: Option<u64>,
    /// The languages steps may use; empty allows all.
    pub allowed_languages: Vec<String>,
}

impl Step {
    /// The step's name.
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

/// What a lookup step looks up.
#[derive(Debug, Clone)]
pub enum LookupValue {
    /// A value in an earlier step's output.
    Step(StepRef),
    /// A string built from inputs, variables and step outputs.
    Template(Template),
}

/// One entry of `mappings`: the value at `source`, written at the dotted `target`.
#[derive(Debug, Clone)]
pub struct MappingOut {
    /// The dotted target, split (`["route", "from"]`).
    pub target: Vec<String>,
    /// The step output it takes.
    pub source: StepRef,
}

/// What a tool, route or function does, and what it answers.
#[derive(Debug, Clone)]
pub enum Action {
    /// One call; the answer mapped through `shape`.
    Call {
        /// The operation called, and its arguments.
        call: Call,
        /// How its answer becomes the result.
        shape: Shape,
    },
    /// Steps in order (independent safe ones together), then `mappings` build the result.
    Steps {
        /// The steps, in spec order.
        steps: Vec<Step>,
        /// Steps grouped in the order they run: each group's steps run concurrently.
        waves: Vec<Vec<usize>>,
        /// How the result is built from the step outputs.
        mappings: Vec<MappingOut>,
    },
    /// No call: the result is built from the inputs.
    Mock(Mock),
    /// An aggregate function, with its inputs taken from the caller's.
    Function {
        /// Index into [`Capability::functions`].
        function: usize,
        /// Its inputs, by name, with what each receives.
        args: Vec<(String, Expr)>,
    },
}

/// An executable unit: inputs, action, and the declared type of its result.
#[derive(Debug, Clone)]
pub struct Flow {
    /// What callers give, and where each value is read.
    pub inputs: Vec<Input>,
    /// What it does.
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
    /// Its name in the aggregate.
    pub name: String,
    /// The Rust function name (`crew_resolver__resolve_crew_for_ship` style, unique).
    pub ident: String,
    /// What it does.
    pub description: Option<String>,
    /// How it behaves (the hints of tools that call it).
    pub semantics: Semantics,
    /// Its inputs and action.
    pub flow: Flow,
}

/// `semantics:` of a function, as the spec gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Semantics {
    /// It changes nothing.
    pub safe: Option<bool>,
    /// Calling it again with the same inputs does nothing more.
    pub idempotent: Option<bool>,
    /// Its result may be cached.
    pub cacheable: Option<bool>,
}

/// Where every REST adapter serves its OpenAPI document, unless its spec takes the route.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// A REST adapter: an axum router.
#[derive(Debug)]
pub struct RestServer {
    /// Its namespace in the spec.
    pub namespace: String,
    /// The Rust module name.
    pub module: String,
    /// What it is for.
    pub description: Option<String>,
    /// The host it binds (loopback otherwise).
    pub address: Option<String>,
    /// The port it listens on.
    pub port: u16,
    /// What callers must present.
    pub auth: Option<InboundAuth>,
    /// Its routes, in spec order.
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

/// One route of a REST adapter.
#[derive(Debug)]
pub struct Route {
    /// The operation's name in the spec (`method-resource` when it has none).
    pub name: String,
    /// The Rust handler name.
    pub handler: String,
    /// The HTTP method.
    pub method: Method,
    /// The route as axum writes it (`/v1/customers/{external-customer-id}`).
    pub path: String,
    /// Its label (`label` or `display`).
    pub label: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Its inputs and action.
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
    /// Its label (`label` or `display`).
    pub label: Option<String>,
    /// What it does.
    pub description: Option<String>,
}

/// An MCP server: a tool registry.
#[derive(Debug)]
pub struct McpServer {
    /// Its namespace in the spec.
    pub namespace: String,
    /// The Rust module name.
    pub module: String,
    /// Its label (`label` or `display`).
    pub label: Option<String>,
    /// What it is for (its `instructions`; the capability's description otherwise).
    pub description: Option<String>,
    /// Served over HTTP or stdio.
    pub transport: Transport,
    /// The host it binds (loopback otherwise).
    pub address: Option<String>,
    /// The port it listens on (`None` over stdio).
    pub port: Option<u16>,
    /// What callers must present.
    pub auth: Option<InboundAuth>,
    /// Its tools, in spec order.
    pub tools: Vec<Tool>,
    /// Its resources, in spec order.
    pub resources: Vec<Resource>,
    /// Its prompts, in spec order.
    pub prompts: Vec<Prompt>,
}

/// The control port: an `exposes` entry of type `control`.
#[derive(Debug)]
pub struct Control {
    /// The host it binds (loopback otherwise).
    pub address: Option<String>,
    /// The port it listens on.
    pub port: u16,
    /// What callers must present.
    pub auth: Option<InboundAuth>,
    /// `/health/live` and `/health/ready`.
    pub health: bool,
    /// `/status`.
    pub info: bool,
    /// `/metrics` (and recording them).
    pub metrics: bool,
    /// OpenTelemetry traces.
    pub traces: Traces,
}

/// The control adapter's trace settings (`observability`), defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Traces {
    /// `observability.enabled`.
    pub enabled: bool,
    /// `traces.local.enabled`: `/traces`.
    pub local: bool,
    /// `traces.local.buffer-size` (100 by default).
    pub buffer: u64,
    /// `traces.sampling` (1 by default).
    pub sampling: f64,
    /// `exporters.otlp.endpoint`.
    pub otlp: Option<String>,
    /// `traces.propagation` other than `w3c` (the engine's rule): B3 multi-header.
    pub b3: bool,
}

/// An MCP resource.
#[derive(Debug)]
pub struct Resource {
    /// Its name in the spec.
    pub name: String,
    /// Its label, or its name.
    pub title: String,
    /// What it holds.
    pub description: Option<String>,
    /// The URI, or URI template (`data://users/{userId}/profile`).
    pub uri: String,
    /// The media type of its contents, when the spec gives one.
    pub mime_type: Option<String>,
    /// Where its contents come from.
    pub kind: ResourceKind,
}

/// Where an MCP resource's contents come from.
#[derive(Debug)]
pub enum ResourceKind {
    /// The files under a folder (`file:///...`), each a resource `<uri>/<relative path>`.
    Files {
        /// The folder, as the spec writes it.
        location: String,
    },
    /// The result of a flow; its inputs are the URI template's variables.
    Flow {
        /// Whether its URI is a template (it has `{variables}`).
        template: bool,
        /// Its inputs and action.
        flow: Flow,
    },
}

/// An MCP prompt.
#[derive(Debug)]
pub struct Prompt {
    /// Its name in the spec.
    pub name: String,
    /// Its label, if any.
    pub title: Option<String>,
    /// What it is for.
    pub description: Option<String>,
    /// Its arguments, in spec order.
    pub arguments: Vec<PromptArgument>,
    /// Its messages.
    pub body: PromptBody,
}

/// An argument of an MCP prompt.
#[derive(Debug)]
pub struct PromptArgument {
    /// Its name, as placeholders write it.
    pub name: String,
    /// Its label, if any.
    pub title: Option<String>,
    /// What to give.
    pub description: Option<String>,
    /// Whether `prompts/get` needs it.
    pub required: bool,
}

/// The messages of an MCP prompt.
#[derive(Debug)]
pub enum PromptBody {
    /// Messages written in the spec: (role, text with `{{argument}}` placeholders).
    Messages(Vec<(Role, String)>),
    /// One user message: the whole file at this `file:///` location.
    File(String),
}

/// An MCP tool.
#[derive(Debug)]
pub struct Tool {
    /// The name clients call it by.
    pub name: String,
    /// Its label, else a short description, else its name in title case.
    pub title: String,
    /// What it does, for the model.
    pub description: Option<String>,
    /// The `readOnlyHint` annotation.
    pub read_only: bool,
    /// The `destructiveHint` annotation.
    pub destructive: bool,
    /// The `idempotentHint` annotation.
    pub idempotent: bool,
    /// The `openWorldHint` annotation.
    pub open_world: bool,
    /// Its inputs and action.
    pub flow: Flow,
}

/// Authentication required from callers of an exposed surface.
#[derive(Debug, Clone)]
pub enum InboundAuth {
    /// `Authorization: Bearer <token>`.
    Bearer(Template),
    /// A key in a header or query parameter.
    ApiKey {
        /// The header or query parameter.
        name: String,
        /// The expected key.
        value: Template,
        /// Where it is looked for.
        placement: Placement,
    },
    /// HTTP basic authentication.
    Basic {
        /// The expected user name.
        username: Template,
        /// The expected password.
        password: Template,
    },
}

impl InboundAuth {
    /// The templates of its credentials.
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
    /// Its namespace in the spec.
    pub namespace: String,
    /// The Rust module name.
    pub module: String,
    /// What it is for.
    pub description: Option<String>,
    /// The host it binds (loopback otherwise).
    pub address: Option<String>,
    /// The port it listens on.
    pub port: u16,
    /// What callers must present.
    pub auth: Option<InboundAuth>,
    /// Its skills, in spec order.
    pub skills: Vec<Skill>,
}

/// One skill of a catalogue.
#[derive(Debug)]
pub struct Skill {
    /// Its name, the URL segment of `/skills/{name}`.
    pub name: String,
    /// What it does and when to use it.
    pub description: String,
    /// `license`: a license name, or a file of the skill.
    pub license: Option<String>,
    /// `compatibility`: what it needs of its environment.
    pub compatibility: Option<String>,
    /// `argument-hint`: the arguments it expects, as shown to a user.
    pub argument_hint: Option<String>,
    /// `allowed-tools`: the tools it may use without asking.
    pub allowed_tools: Option<String>,
    /// `user-invocable`: whether a user can invoke it directly.
    pub user_invocable: Option<bool>,
    /// `disable-model-invocation`: whether the model is kept from invoking it on its own.
    pub disable_model_invocation: Option<bool>,
    /// `metadata`: free key-value pairs, in spec order.
    pub metadata: Vec<(String, String)>,
    /// The folder of the skill's files, as written (`file:///...`).
    pub location: Option<String>,
    /// Its tools, in spec order.
    pub tools: Vec<SkillTool>,
}

/// A tool of a skill.
#[derive(Debug)]
pub struct SkillTool {
    /// Its name in the skill.
    pub name: String,
    /// What it does.
    pub description: String,
    /// What it points at.
    pub kind: SkillToolKind,
}

/// What a tool of a skill points at.
#[derive(Debug)]
pub enum SkillToolKind {
    /// An action of a sibling surface: `mode` is `rest` or `mcp`.
    Derived {
        /// The sibling surface's namespace.
        namespace: String,
        /// The operation (REST) or tool (MCP) there.
        action: String,
        /// `rest` or `mcp`.
        mode: &'static str,
    },
    /// An instruction file under the skill's location.
    Instruction(String),
}
