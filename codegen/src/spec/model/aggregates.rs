//! `aggregates`: domain functions (alpha2 `functions`, beta5 `flows`) that tools and
//! operations reference with `ref`.

use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::{ImportEntry, Mapping, OutputParam, Step, ToolParam, With};
use crate::spec::grammar::{Alpha2Key, Beta5Key, Functions, Label, NamedList, either};
use crate::spec::value::variant;

/// An entry of `aggregates`: an aggregate, or (beta5) an import of one.
#[derive(Debug)]
pub enum AggregateEntry {
    Aggregate(Aggregate),
    Import(ImportEntry),
}

impl<'de> Deserialize<'de> for AggregateEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        if value.get("import").is_some() {
            return variant(value).map(AggregateEntry::Import);
        }
        variant(value).map(AggregateEntry::Aggregate)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub namespace: Option<String>,
    functions: Option<Alpha2Key<NamedList<Function>, Functions>>,
    flows: Option<Beta5Key<NamedList<Function>, Functions>>,
}

impl Aggregate {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
    /// `functions` (alpha2) or `flows` (beta5).
    pub fn functions(&self) -> Option<&NamedList<Function>> {
        either(&self.functions, &self.flows)
    }
    /// The key that holds the functions, as written.
    pub fn functions_key(&self) -> &'static str {
        if self.flows.is_some() {
            "flows"
        } else {
            "functions"
        }
    }
}

/// What a function does when called (through a tool or operation's `ref`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Semantics {
    pub safe: Option<bool>,
    pub idempotent: Option<bool>,
    pub cacheable: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Function {
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub semantics: Option<Semantics>,
    pub output_media_type: Option<String>,
    #[serde(default)]
    pub input_parameters: NamedList<ToolParam>,
    pub call: Option<String>,
    pub with: Option<With>,
    pub steps: Option<NamedList<Step>>,
    pub mappings: Option<Vec<Mapping>>,
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
}
