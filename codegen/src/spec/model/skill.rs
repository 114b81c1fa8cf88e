//! `exposes` of type `skill`: a catalogue of agent skills and their tools.

use indexmap::IndexMap;
use serde::Deserialize;

use super::Authentication;
use crate::spec::grammar::NamedList;

/// `exposes` of type `skill`: a catalogue of agent skills, served over HTTP.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposesSkill {
    /// The `type:` tag (`skill`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The host it binds (loopback otherwise).
    pub address: Option<String>,
    /// The port it listens on.
    pub port: u16,
    /// The catalogue's name among the adapters.
    pub namespace: String,
    /// What the catalogue is for.
    pub description: Option<String>,
    /// What callers must present.
    pub authentication: Option<Authentication>,
    /// Its skills, by name.
    #[serde(default)]
    pub skills: NamedList<Skill>,
}

/// One skill, with the front matter of the Agent Skills format.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Skill {
    /// What the skill does and when to use it.
    pub description: Option<String>,
    /// `license`: a license name, or a file of the skill.
    pub license: Option<String>,
    /// `compatibility`: what the skill needs of its environment.
    pub compatibility: Option<String>,
    /// `metadata`: free key-value pairs.
    pub metadata: Option<IndexMap<String, String>>,
    /// `allowed-tools`: the tools it may use without asking.
    pub allowed_tools: Option<String>,
    /// `argument-hint`: the arguments it expects, as shown to a user.
    pub argument_hint: Option<String>,
    /// `user-invocable`: whether a user can invoke it directly.
    pub user_invocable: Option<bool>,
    /// `disable-model-invocation`: whether the model is kept from invoking it on its own.
    pub disable_model_invocation: Option<bool>,
    /// The folder of the skill's files (`file:///...`).
    pub location: Option<String>,
    /// Its tools, by name.
    #[serde(default)]
    pub tools: NamedList<SkillTool>,
}

/// A tool of a skill: an action of a sibling REST or MCP surface, or an instruction file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillTool {
    /// What the tool does.
    pub description: Option<String>,
    /// The sibling action it stands for.
    pub from: Option<SkillFrom>,
    /// Its instruction file, relative to the skill's `location`.
    pub instruction: Option<String>,
}

/// `from:` of a skill's tool: an action of a sibling REST or MCP surface.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillFrom {
    /// The sibling surface's namespace.
    pub source_namespace: String,
    /// The operation (REST) or tool (MCP) there.
    pub action: String,
}
