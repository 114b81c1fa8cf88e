//! `exposes` of type `mcp`: tools, resources and prompts.

use serde::Deserialize;

use super::{Authentication, Mapping, OutputParam, ToolParam, With};
use crate::spec::grammar::{Alpha2Key, Beta5Key, Label, NamedList, either};

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Http,
    Stdio,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposesMcp {
    #[serde(rename = "type")]
    pub kind: String,
    pub transport: Option<Transport>,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub namespace: String,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    pub authentication: Option<Authentication>,
    /// beta5: the largest binary tool result.
    pub max_binary_size: Option<String>,
    /// beta5 (MCP 2026-07-28): how long list results may be cached.
    pub ttl_ms: Option<u64>,
    /// beta5 (MCP 2026-07-28): `public` or `private`.
    pub cache_scope: Option<String>,
    #[serde(default)]
    pub tools: NamedList<McpTool>,
    #[serde(default)]
    pub resources: NamedList<McpResource>,
    #[serde(default)]
    pub prompts: NamedList<McpPrompt>,
}

impl ExposesMcp {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct McpTool {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub input_parameters: NamedList<ToolParam>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub call: Option<String>,
    pub with: Option<With>,
    pub hints: Option<Hints>,
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
    pub steps: Option<NamedList<super::Step>>,
    pub mappings: Option<Vec<Mapping>>,
}

impl McpTool {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hints {
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

/// An MCP resource: files under a `location` (static), or the result of a call or steps
/// (dynamic; a template when its `uri` holds `{placeholders}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct McpResource {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub uri: String,
    pub description: Option<String>,
    pub mime_type: Option<String>,
    /// beta5: the contents are bytes (a blob), not text.
    pub binary: Option<bool>,
    pub call: Option<String>,
    pub with: Option<With>,
    pub steps: Option<NamedList<super::Step>>,
    pub mappings: Option<Vec<Mapping>>,
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
    pub location: Option<String>,
}

impl McpResource {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpPrompt {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    #[serde(default)]
    pub arguments: NamedList<PromptArgument>,
    pub template: Option<Vec<PromptMessage>>,
    pub location: Option<String>,
}

impl McpPrompt {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptArgument {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    pub required: Option<bool>,
}

impl PromptArgument {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptMessage {
    pub role: Role,
    pub content: String,
}
