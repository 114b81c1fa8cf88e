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
    /// An aggregate declared here.
    Aggregate(Aggregate),
    /// An aggregate imported from another document.
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

/// A domain aggregate: functions that tools and operations call with `ref`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// The first part of its functions' `ref` (`namespace.function`).
    pub namespace: Option<String>,
    functions: Option<Alpha2Key<NamedList<Function>, Functions>>,
    flows: Option<Beta5Key<NamedList<Function>, Functions>>,
}

impl Aggregate {
    /// `label` (alpha2) or `display` (beta5).
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
    /// It changes nothing (a tool calling it is read-only).
    pub safe: Option<bool>,
    /// Calling it again with the same inputs does nothing more.
    pub idempotent: Option<bool>,
    /// Its result may be cached.
    pub cacheable: Option<bool>,
}

/// A function of an aggregate: a `call` or `steps`, with its inputs and result.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Function {
    /// What the function does.
    pub description: Option<String>,
    /// Tags, for discovery.
    #[serde(default)]
    pub tags: Vec<String>,
    /// How it behaves when called (the hints of tools that call it).
    pub semantics: Option<Semantics>,
    /// The media type its result is advertised with.
    pub output_media_type: Option<String>,
    /// Its inputs, by name.
    #[serde(default)]
    pub input_parameters: NamedList<ToolParam>,
    /// The consumed operation it calls (`namespace.operation`).
    pub call: Option<String>,
    /// Values for the called operation's parameters.
    pub with: Option<With>,
    /// Orchestration steps, by name, run instead of one `call`.
    pub steps: Option<NamedList<Step>>,
    /// How the steps' outputs fill the result.
    pub mappings: Option<Vec<Mapping>>,
    /// The shape of its result.
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
}
