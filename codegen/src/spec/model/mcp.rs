//! `exposes` of type `mcp`: tools, resources and prompts.

use serde::Deserialize;

use super::{Authentication, Mapping, OutputParam, ToolParam, With};
use crate::spec::grammar::{Alpha2Key, Beta5Key, Label, NamedList, either};

/// How an MCP server is served (`transport:`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// Streamable HTTP (the default).
    Http,
    /// JSON-RPC over standard input and output (`mcp-stdio`).
    Stdio,
}

/// `exposes` of type `mcp`: an MCP server.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposesMcp {
    /// The `type:` tag (`mcp`).
    #[serde(rename = "type")]
    pub kind: String,
    /// How it is served (default: HTTP).
    pub transport: Option<Transport>,
    /// The host it binds (loopback otherwise).
    pub address: Option<String>,
    /// The port it listens on over HTTP.
    pub port: Option<u16>,
    /// The server's name among the adapters.
    pub namespace: String,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the server is for (its `instructions`).
    pub description: Option<String>,
    /// What callers must present.
    pub authentication: Option<Authentication>,
    /// beta5: the largest binary tool result.
    pub max_binary_size: Option<String>,
    /// beta5 (MCP 2026-07-28): how long list results may be cached.
    pub ttl_ms: Option<u64>,
    /// beta5 (MCP 2026-07-28): `public` or `private`.
    pub cache_scope: Option<String>,
    /// Its tools, by name.
    #[serde(default)]
    pub tools: NamedList<McpTool>,
    /// Its resources, by name.
    #[serde(default)]
    pub resources: NamedList<McpResource>,
    /// Its prompts, by name.
    #[serde(default)]
    pub prompts: NamedList<McpPrompt>,
}

impl ExposesMcp {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// An MCP tool: a `call` of a consumed operation, `steps`, a `ref` to an aggregate
/// function, or (with none of them) a mock.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct McpTool {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the tool does, for the model.
    pub description: Option<String>,
    /// Tags, for discovery.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its arguments, by name.
    #[serde(default)]
    pub input_parameters: NamedList<ToolParam>,
    /// `ref`: the aggregate function (`namespace.function`) it inherits from.
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// The consumed operation it calls (`namespace.operation`).
    pub call: Option<String>,
    /// Values for the called operation's parameters.
    pub with: Option<With>,
    /// Hints about its behaviour, for clients.
    pub hints: Option<Hints>,
    /// The shape of its result.
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
    /// Orchestration steps, by name, run instead of one `call`.
    pub steps: Option<NamedList<super::Step>>,
    /// How the steps' outputs fill the result.
    pub mappings: Option<Vec<Mapping>>,
}

impl McpTool {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// `hints:` of a tool: the MCP tool annotations.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hints {
    /// `readOnly`: it changes nothing.
    pub read_only: Option<bool>,
    /// `destructive`: it may delete or overwrite.
    pub destructive: Option<bool>,
    /// `idempotent`: calling it again with the same arguments does nothing more.
    pub idempotent: Option<bool>,
    /// `openWorld`: it reaches outside systems.
    pub open_world: Option<bool>,
}

/// An MCP resource: files under a `location` (static), or the result of a call or steps
/// (dynamic; a template when its `uri` holds `{placeholders}`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct McpResource {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// The URI, or URI template (`data://users/{id}`).
    pub uri: String,
    /// What it holds.
    pub description: Option<String>,
    /// The media type of its contents.
    pub mime_type: Option<String>,
    /// beta5: the contents are bytes (a blob), not text.
    pub binary: Option<bool>,
    /// The consumed operation a dynamic resource reads (`namespace.operation`).
    pub call: Option<String>,
    /// Values for the called operation's parameters.
    pub with: Option<With>,
    /// Orchestration steps, by name, run instead of one `call`.
    pub steps: Option<NamedList<super::Step>>,
    /// How the steps' outputs fill the contents.
    pub mappings: Option<Vec<Mapping>>,
    /// The shape of the contents.
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
    /// The `file:` folder of a static resource.
    pub location: Option<String>,
}

impl McpResource {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// An MCP prompt: messages written in the spec (`template`) or a file (`location`), with
/// `{{argument}}` placeholders.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpPrompt {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the prompt is for.
    pub description: Option<String>,
    /// Its arguments, by name.
    #[serde(default)]
    pub arguments: NamedList<PromptArgument>,
    /// The messages, in order.
    pub template: Option<Vec<PromptMessage>>,
    /// The `file:` of a prompt read from a file (one user message).
    pub location: Option<String>,
}

impl McpPrompt {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// An argument of a prompt (always a string).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptArgument {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What to give.
    pub description: Option<String>,
    /// Whether `prompts/get` needs it (default: yes).
    pub required: Option<bool>,
}

impl PromptArgument {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// Who says a prompt message.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A message from the user (`user`).
    User,
    /// A message from the model (`assistant`).
    Assistant,
}

/// One message of a prompt's `template`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptMessage {
    /// Who says it.
    pub role: Role,
    /// The text, with `{{argument}}` placeholders.
    pub content: String,
}
