//! `steps` and `mappings`: orchestrated operations, tools and aggregate functions.

use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::With;
use crate::spec::grammar::{Alpha2Key, Beta5Key, TargetName, either};
use crate::spec::value::{bad_tag, tag_of, variant};

/// One step of an orchestration.
#[derive(Debug)]
pub enum Step {
    Call(CallStep),
    Lookup(LookupStep),
    Script(ScriptStep),
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        match tag_of(&value) {
            Some("call") => variant(value).map(Step::Call),
            Some("lookup") => variant(value).map(Step::Lookup),
            Some("script") => variant(value).map(Step::Script),
            _ => Err(bad_tag(&value, "step", &["call", "lookup", "script"])),
        }
    }
}

/// `type: call`: one call of a consumed operation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallStep {
    #[serde(rename = "type")]
    pub kind: String,
    pub call: String,
    pub with: Option<With>,
}

/// `type: lookup`: the first entry of an earlier step's output whose `match` field equals
/// `lookupValue`, projected to `outputParameters`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LookupStep {
    #[serde(rename = "type")]
    pub kind: String,
    pub index: String,
    #[serde(rename = "match")]
    pub match_field: String,
    pub lookup_value: String,
    pub output_parameters: Vec<String>,
}

/// `type: script`: a script run in a sandbox.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptStep {
    #[serde(rename = "type")]
    pub kind: String,
    pub language: Option<String>,
    pub location: Option<String>,
    pub file: String,
    #[serde(default)]
    pub dependencies: Vec<String>,
    pub with: Option<With>,
}

/// One entry of `mappings`: a value from the step outputs, written at `target`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mapping {
    target_name: Option<Alpha2Key<String, TargetName>>,
    target: Option<Beta5Key<String, TargetName>>,
    pub value: String,
}

impl Mapping {
    /// `targetName` (alpha2) or `target` (beta5).
    pub fn target(&self) -> Option<&str> {
        either(&self.target_name, &self.target).map(String::as_str)
    }
}
