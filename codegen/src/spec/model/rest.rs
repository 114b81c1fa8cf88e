//! `exposes` of type `rest`: resources, operations, forwards.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_yaml::Value;

use super::{Authentication, Mapping, Method, OutputParam, ParamType, Step, With};
use crate::spec::grammar::{Alpha2Key, Beta5Key, Label, NamedList, either};

/// `exposes` of type `rest`: an HTTP API.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposesRest {
    /// The `type:` tag (`rest`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The host it binds (loopback otherwise).
    pub address: Option<String>,
    /// The port it listens on.
    pub port: u16,
    /// The adapter's name among the adapters.
    pub namespace: String,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the API is for.
    pub description: Option<String>,
    /// What callers must present.
    pub authentication: Option<Authentication>,
    /// beta5: the largest binary answer.
    pub max_binary_size: Option<String>,
    /// Its resources, by name.
    #[serde(default)]
    pub resources: NamedList<ExposedResource>,
}

impl ExposesRest {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// A resource of an exposed REST API: a path and its operations, or a forward.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposedResource {
    /// The route, with `{param}` segments.
    pub path: String,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the resource represents.
    pub description: Option<String>,
    /// Tags, for discovery (OpenAPI tags).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Inputs shared by its operations, by name.
    #[serde(default)]
    pub input_parameters: NamedList<ExposedParam>,
    /// Its operations, by name.
    #[serde(default)]
    pub operations: NamedList<ExposedOperation>,
    /// Requests to the path passed through to a consumed API instead.
    pub forward: Option<Forward>,
}

impl ExposedResource {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// `forward:` of a resource: requests passed through to a consumed API.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Forward {
    /// The consumed namespace requests go to.
    pub target_namespace: String,
    /// The request headers passed on (all others are dropped).
    #[serde(default)]
    pub trusted_headers: Vec<String>,
}

/// Where an exposed input is read (`in:`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExposedIn {
    /// A query parameter.
    Query,
    /// A request header.
    Header,
    /// A path segment (`{name}` in the route).
    Path,
    /// A cookie.
    Cookie,
    /// The JSON request body, or a field of it.
    Body,
}

/// An input of an exposed REST operation or resource.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposedParam {
    /// `in`: where it is read.
    #[serde(rename = "in")]
    pub location: ExposedIn,
    /// The declared type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// What it means (OpenAPI).
    pub description: Option<String>,
    /// A regular expression the whole value must match.
    pub pattern: Option<String>,
    /// A constant, or for `in: body` a JSONPath into the request body (`$.user.id`).
    pub value: Option<String>,
    /// Whether a request must give it (path inputs always must; default: no).
    pub required: Option<bool>,
}

/// An operation of an exposed REST resource: a `call`, `steps`, a `ref`, or a mock.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposedOperation {
    /// The HTTP method (default `GET`).
    #[serde(default)]
    pub method: Method,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the operation does.
    pub description: Option<String>,
    /// Tags, for discovery (OpenAPI tags).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its inputs, by name, on top of the resource's.
    #[serde(default)]
    pub input_parameters: NamedList<ExposedParam>,
    /// `ref`: the aggregate function (`namespace.function`) it inherits from.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// The consumed operation it calls (`namespace.operation`).
    pub call: Option<String>,
    /// Values for the called operation's parameters.
    pub with: Option<With>,
    /// The shape of its result.
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
    /// Orchestration steps, by name, run instead of one `call`.
    pub steps: Option<NamedList<Step>>,
    /// How the steps' outputs fill the result.
    pub mappings: Option<Vec<Mapping>>,
    /// beta5: the documented responses, by status (OpenAPI-like).
    pub responses: Option<IndexMap<String, Value>>,
    /// beta5: a binary answer.
    pub response_binary: Option<Value>,
}

impl ExposedOperation {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}
