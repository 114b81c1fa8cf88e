//! `exposes` of type `rest`: resources, operations, forwards.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_yaml::Value;

use super::{Authentication, Mapping, Method, OutputParam, ParamType, Step, With};
use crate::spec::grammar::{Alpha2Key, Beta5Key, Label, NamedList, either};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposesRest {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: Option<String>,
    pub port: u16,
    pub namespace: String,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    pub authentication: Option<Authentication>,
    /// beta5: the largest binary answer.
    pub max_binary_size: Option<String>,
    #[serde(default)]
    pub resources: NamedList<ExposedResource>,
}

impl ExposesRest {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposedResource {
    pub path: String,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub input_parameters: NamedList<ExposedParam>,
    #[serde(default)]
    pub operations: NamedList<ExposedOperation>,
    pub forward: Option<Forward>,
}

impl ExposedResource {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Forward {
    pub target_namespace: String,
    #[serde(default)]
    pub trusted_headers: Vec<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExposedIn {
    Query,
    Header,
    Path,
    Cookie,
    Body,
}

/// An input of an exposed REST operation or resource.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposedParam {
    #[serde(rename = "in")]
    pub location: ExposedIn,
    #[serde(rename = "type")]
    pub ty: ParamType,
    pub description: Option<String>,
    pub pattern: Option<String>,
    /// A constant, or for `in: body` a JSONPath into the request body (`$.user.id`).
    pub value: Option<String>,
    pub required: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposedOperation {
    #[serde(default)]
    pub method: Method,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub input_parameters: NamedList<ExposedParam>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub call: Option<String>,
    pub with: Option<With>,
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
    pub steps: Option<NamedList<Step>>,
    pub mappings: Option<Vec<Mapping>>,
    /// beta5: the documented responses, by status (OpenAPI-like).
    pub responses: Option<IndexMap<String, Value>>,
    /// beta5: a binary answer.
    pub response_binary: Option<Value>,
}

impl ExposedOperation {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}
