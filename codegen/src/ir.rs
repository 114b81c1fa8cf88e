//! The checked model: everything the emitters need, resolved and validated.
//!
//! Names are resolved (a `call:` points at an operation by index), every operation
//! parameter is bound (explicitly by `with:` or implicitly by name), and Rust identifiers
//! are chosen. Emitters only read this; they never look at the YAML again.

use std::path::PathBuf;

pub use crate::spec::model::{Method, ParamType, Placement, Transport};

#[derive(Debug)]
pub struct Capability {
    /// The crate-friendly name of the capability (`lago-customers`).
    pub name: String,
    pub label: Option<String>,
    pub description: Option<String>,
    /// Variables from `binds`, read from the environment at run time.
    pub vars: Vec<Var>,
    pub clients: Vec<Client>,
    pub rest: Vec<RestServer>,
    pub mcp: Vec<McpServer>,
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
    /// Every exposed surface, in the order of the spec's kinds (REST, then MCP).
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
        rest.chain(mcp).collect()
    }

    /// The namespaces of the consumed APIs, in spec order.
    pub fn client_namespaces(&self) -> Vec<String> {
        self.clients.iter().map(|c| c.namespace.clone()).collect()
    }
}

#[derive(Debug, Clone)]
pub struct Var {
    /// The variable name (`LAGO_API_KEY`); also the environment variable read at run time.
    pub name: String,
    pub namespace: String,
    pub description: Option<String>,
}

/// A string built at run time from literals, environment variables and inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Template(pub Vec<Part>);

#[derive(Debug, Clone, PartialEq)]
pub enum Part {
    Lit(String),
    /// A `binds` variable, read from the environment.
    Env(String),
    /// An input of the operation (consumed side) or of the tool/route (exposed side).
    Input(String),
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
}

#[derive(Debug)]
pub struct Client {
    pub namespace: String,
    /// Rust module name (`lago_customers`).
    pub module: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub base_uri: String,
    pub auth: Option<ClientAuth>,
    /// Fixed parameters sent with every call (consumes-level `inputParameters` with a value).
    pub fixed: Vec<Fixed>,
    pub ops: Vec<Operation>,
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
    /// An MCP tool argument.
    Arg(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum JsonSeg {
    Key(String),
    Index(usize),
    /// `[*]`: every element.
    Wildcard,
}

/// An input of an exposed route or tool.
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

/// What an operation parameter receives.
#[derive(Debug, Clone)]
pub enum Expr {
    Input(String),
    Const(serde_json::Value),
    Template(Template),
    Env(String),
}

/// An exposed route's or tool's call: which operation, and with what.
#[derive(Debug)]
pub struct Call {
    pub client: usize,
    pub op: usize,
    /// One per operation parameter, in order; `None` leaves an optional parameter out.
    pub args: Vec<Option<Expr>>,
}

/// The shape of an exposed result, mapped from the upstream JSON body.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `$.`: the whole body, passed through.
    Whole,
    Path(Vec<JsonSeg>),
    Object {
        base: Vec<JsonSeg>,
        fields: Vec<(String, Shape)>,
    },
    Array {
        base: Vec<JsonSeg>,
        item: Box<Shape>,
    },
    Const(serde_json::Value),
}

#[derive(Debug)]
pub struct RestServer {
    pub namespace: String,
    pub module: String,
    pub description: Option<String>,
    pub address: Option<String>,
    pub port: u16,
    pub auth: Option<InboundAuth>,
    pub routes: Vec<Route>,
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
    pub inputs: Vec<Input>,
    pub call: Call,
    pub output: Shape,
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
    pub inputs: Vec<Input>,
    pub call: Call,
    pub output: Shape,
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
