//! `exposes`: the surfaces a capability offers (REST, MCP, skills, a control port).

use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::{ExposesControl, ExposesMcp, ExposesRest, ExposesSkill, ImportEntry};
use crate::spec::value::{bad_tag, tag_of, variant};

/// An entry of `exposes`: a surface, or (beta5) an import of one.
#[derive(Debug)]
pub enum ExposesEntry {
    /// `type: rest`.
    Rest(Box<ExposesRest>),
    /// `type: mcp`.
    Mcp(Box<ExposesMcp>),
    /// `type: skill`.
    Skill(Box<ExposesSkill>),
    /// `type: control`.
    Control(Box<ExposesControl>),
    /// An adapter imported from another document.
    Import(ImportEntry),
}

impl<'de> Deserialize<'de> for ExposesEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        if value.get("import").is_some() {
            return variant(value).map(ExposesEntry::Import);
        }
        match tag_of(&value) {
            Some("rest") => variant(value).map(|v| ExposesEntry::Rest(Box::new(v))),
            Some("mcp") => variant(value).map(|v| ExposesEntry::Mcp(Box::new(v))),
            Some("skill") => variant(value).map(|v| ExposesEntry::Skill(Box::new(v))),
            Some("control") => variant(value).map(|v| ExposesEntry::Control(Box::new(v))),
            _ => Err(bad_tag(
                &value,
                "exposes",
                &["rest", "mcp", "skill", "control"],
            )),
        }
    }
}

impl ExposesEntry {
    /// The namespace of the surface (a control port has none).
    pub fn namespace(&self) -> Option<&str> {
        match self {
            ExposesEntry::Rest(r) => Some(&r.namespace),
            ExposesEntry::Mcp(m) => Some(&m.namespace),
            ExposesEntry::Skill(s) => Some(&s.namespace),
            ExposesEntry::Control(_) => None,
            ExposesEntry::Import(i) => Some(i.alias.as_deref().unwrap_or(&i.import)),
        }
    }
}
