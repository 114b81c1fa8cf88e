//! `steps` and `mappings`: orchestrated operations, tools and aggregate functions.

use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::With;
use crate::spec::grammar::{Alpha2Key, Beta5Key, TargetName, either};
use crate::spec::value::{bad_tag, tag_of, variant};

/// One step of an orchestration.
#[derive(Debug)]
pub enum Step {
    /// `type: call`: a call of a consumed operation.
    Call(CallStep),
    /// `type: lookup`: an entry found in an earlier step's output.
    Lookup(LookupStep),
    /// `type: script`: a script run in a sandbox.
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
    /// The `type:` tag (`call`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The consumed operation it calls (`namespace.operation`).
    pub call: String,
    /// Values for the operation's parameters.
    pub with: Option<With>,
}

/// `type: lookup`: the first entry of an earlier step's output whose `match` field equals
/// `lookupValue`, projected to `outputParameters`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LookupStep {
    /// The `type:` tag (`lookup`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The earlier step whose output is searched.
    pub index: String,
    /// `match`: the field of its entries compared.
    #[serde(rename = "match")]
    pub match_field: String,
    /// The value looked up (an expression).
    pub lookup_value: String,
    /// The fields of the found entry that the step outputs.
    pub output_parameters: Vec<String>,
}

/// `type: script`: a script run in a sandbox.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptStep {
    /// The `type:` tag (`script`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The script's language (`javascript`); the governance default otherwise.
    pub language: Option<String>,
    /// The `file:` folder of `file` and `dependencies`; the governance default otherwise.
    pub location: Option<String>,
    /// The script, relative to `location`.
    pub file: String,
    /// Scripts run before `file`, in order, in the same scope.
    #[serde(default)]
    pub dependencies: Vec<String>,
    /// Values for the script's `context`.
    pub with: Option<With>,
}

/// One entry of `mappings`: a value from the step outputs, written at `target`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Mapping {
    target_name: Option<Alpha2Key<String, TargetName>>,
    target: Option<Beta5Key<String, TargetName>>,
    /// A JSONPath into the step outputs (`$.step.field`).
    pub value: String,
}

impl Mapping {
    /// `targetName` (alpha2) or `target` (beta5).
    pub fn target(&self) -> Option<&str> {
        either(&self.target_name, &self.target).map(String::as_str)
    }
}
