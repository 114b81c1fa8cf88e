//! `exposes` of type `skill`: a catalogue of agent skills and their tools.

use indexmap::IndexMap;
use serde::Deserialize;

use super::Authentication;
use crate::spec::grammar::NamedList;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposesSkill {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: Option<String>,
    pub port: u16,
    pub namespace: String,
    pub description: Option<String>,
    pub authentication: Option<Authentication>,
    #[serde(default)]
    pub skills: NamedList<Skill>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Skill {
    pub description: Option<String>,
    pub license: Option<String>,
    pub compatibility: Option<String>,
    pub metadata: Option<IndexMap<String, String>>,
    pub allowed_tools: Option<String>,
    pub argument_hint: Option<String>,
    pub user_invocable: Option<bool>,
    pub disable_model_invocation: Option<bool>,
    /// The folder of the skill's files (`file:///...`).
    pub location: Option<String>,
    #[serde(default)]
    pub tools: NamedList<SkillTool>,
}

/// A tool of a skill: an action of a sibling REST or MCP surface, or an instruction file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillTool {
    pub description: Option<String>,
    pub from: Option<SkillFrom>,
    pub instruction: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SkillFrom {
    pub source_namespace: String,
    pub action: String,
}
