//! The typed model of a capability document, in either grammar we read.
//!
//! One set of types reads both `naftiko: 1.0.0-alpha2` (with the seed's dialect: typed
//! consumed parameters, `with: {x: rest.x}`) and `ikanos: 1.0.0-beta5`: the differences of
//! form are absorbed by [`super::grammar`] while deserializing. Every mapping denies unknown
//! keys, so a typo is an error, never silently ignored. One module per construct.

mod aggregates;
mod auth;
mod consumes;
mod control;
mod exposes;
mod mcp;
mod outputs;
mod rest;
mod skill;
mod steps;

pub use aggregates::*;
pub use auth::*;
pub use consumes::*;
pub use control::*;
pub use exposes::*;
pub use mcp::*;
pub use outputs::*;
pub use rest::*;
pub use skill::*;
pub use steps::*;

use indexmap::IndexMap;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::grammar::{Alpha2Key, Beta5Key, ImportFrom, Label, either};
use super::value::Lenient;

/// A whole document: a capability, or (to be imported) a shared section.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// The version, under the alpha2 root key.
    pub naftiko: Option<String>,
    /// The version, under the beta5 root key.
    pub ikanos: Option<String>,
    /// `info:` the capability's label, description, version and people.
    pub info: Option<Info>,
    /// `binds`: variables whose values are kept outside the spec.
    #[serde(default)]
    pub binds: Vec<Lenient<BindsEntry>>,
    /// `capability:` what it consumes, exposes and aggregates.
    pub capability: Option<Capability>,
    /// Shared consumes, for other documents to import.
    #[serde(default)]
    pub consumes: Vec<Lenient<ConsumesEntry>>,
    /// Shared exposes (beta5).
    #[serde(default)]
    pub exposes: Vec<Lenient<ExposesEntry>>,
    /// Shared aggregates (beta5).
    #[serde(default)]
    pub aggregates: Vec<Lenient<AggregateEntry>>,
}

impl Document {
    /// A document with nothing in it (what a document that failed to parse leaves).
    pub fn empty() -> Self {
        Document {
            naftiko: None,
            ikanos: None,
            info: None,
            binds: Vec::new(),
            capability: None,
            consumes: Vec::new(),
            exposes: Vec::new(),
            aggregates: Vec::new(),
        }
    }
}

/// `info:` metadata about a capability.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Info {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the capability does.
    pub description: Option<String>,
    /// Tags, for discovery.
    #[serde(default)]
    pub tags: Vec<String>,
    /// When it was created.
    pub created: Option<String>,
    /// When it was last modified.
    pub modified: Option<String>,
    /// Its version.
    pub version: Option<String>,
    /// The people related to it.
    #[serde(default)]
    pub stakeholders: Vec<Person>,
}

impl Info {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// A person related to a capability.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Person {
    /// Their role (`owner`, `editor`, ...).
    pub role: String,
    /// Their full name.
    pub full_name: String,
    /// Their email address.
    pub email: Option<String>,
}

/// An entry of `binds`: a binding, or (beta5) an import of one.
#[derive(Debug)]
pub enum BindsEntry {
    /// A binding declared here.
    Binding(Binding),
    /// A binding imported from another document.
    Import(ImportEntry),
}

impl<'de> Deserialize<'de> for BindsEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        if value.get("import").is_some() {
            return super::value::variant(value).map(BindsEntry::Import);
        }
        super::value::variant(value).map(BindsEntry::Binding)
    }
}

/// Variables bound to values kept outside the spec: environment variables, or keys of a file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// The binding's name, to tell its variables apart.
    pub namespace: String,
    /// What the values are.
    pub description: Option<String>,
    /// Where the values are (`file:///...`); the environment when absent.
    pub location: Option<String>,
    /// Variable name -> environment variable name, or key in the file.
    pub keys: IndexMap<String, String>,
}

/// An entry that takes a named section from another document.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportEntry {
    /// `http` for an imported API (optional: the entry is an import by its `import` key).
    #[serde(rename = "type")]
    pub kind: Option<String>,
    location: Option<Alpha2Key<String, ImportFrom>>,
    from: Option<Beta5Key<String, ImportFrom>>,
    /// The namespace to take from that document.
    pub import: String,
    /// The namespace it takes here (default: the same).
    #[serde(rename = "as")]
    pub alias: Option<String>,
    /// What the import is for.
    pub description: Option<String>,
}

impl ImportEntry {
    /// The document imported from: `location` (alpha2) or `from` (beta5).
    pub fn source(&self) -> Option<&str> {
        either(&self.location, &self.from).map(String::as_str)
    }
    /// The key that names the document, as written.
    pub fn source_key(&self) -> &'static str {
        if self.from.is_some() {
            "from"
        } else {
            "location"
        }
    }
}

/// `capability:` the APIs consumed, the adapters exposed, the aggregates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    /// `binds`: variables whose values are kept outside the spec.
    #[serde(default)]
    pub binds: Vec<Lenient<BindsEntry>>,
    /// The adapters exposed (REST, MCP, skill, control).
    #[serde(default)]
    pub exposes: Vec<Lenient<ExposesEntry>>,
    /// The HTTP APIs consumed.
    #[serde(default)]
    pub consumes: Vec<Lenient<ConsumesEntry>>,
    /// Domain functions, for `ref`.
    #[serde(default)]
    pub aggregates: Vec<Lenient<AggregateEntry>>,
}

/// An HTTP method.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    /// `GET` (the default).
    #[default]
    #[serde(rename = "GET")]
    Get,
    /// `POST`.
    #[serde(rename = "POST")]
    Post,
    /// `PUT`.
    #[serde(rename = "PUT")]
    Put,
    /// `PATCH`.
    #[serde(rename = "PATCH")]
    Patch,
    /// `DELETE`.
    #[serde(rename = "DELETE")]
    Delete,
}

impl Method {
    /// The method as HTTP writes it (`GET`).
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
    /// Whether the method only reads (GET): calls with it may run early or concurrently.
    pub fn is_safe(self) -> bool {
        self == Method::Get
    }
}

/// The declared type of an input parameter.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// A JSON string.
    String,
    /// Any JSON number.
    Number,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A JSON array.
    Array,
    /// A JSON object.
    Object,
}

impl ParamType {
    /// The type as the spec writes it (`string`).
    pub fn as_str(self) -> &'static str {
        match self {
            ParamType::String => "string",
            ParamType::Number => "number",
            ParamType::Integer => "integer",
            ParamType::Boolean => "boolean",
            ParamType::Array => "array",
            ParamType::Object => "object",
        }
    }
}

/// The input of an MCP tool, an aggregate function, or a prompt's argument list.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolParam {
    /// The declared type.
    #[serde(rename = "type")]
    pub ty: ParamType,
    /// What it means (shown to the model).
    pub description: Option<String>,
    /// Whether a caller must give it (default: yes).
    pub required: Option<bool>,
}

/// A value of a `with:` map: an expression string, or a constant of any other JSON type.
#[derive(Clone, Debug, PartialEq)]
pub enum WithValue {
    /// A string: a reference to an input or a step output (`$.step.field`), a
    /// `{{template}}`, or text.
    Str(String),
    /// A number, boolean, list or map, passed as it is.
    Json(serde_json::Value),
}

impl<'de> Deserialize<'de> for WithValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WithValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string expression or a constant")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WithValue, E> {
                Ok(WithValue::Str(v.to_owned()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<WithValue, E> {
                Ok(WithValue::Json(v.into()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WithValue, E> {
                Ok(WithValue::Json(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WithValue, E> {
                Ok(WithValue::Json(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<WithValue, E> {
                serde_json::Number::from_f64(v)
                    .map(|n| WithValue::Json(n.into()))
                    .ok_or_else(|| E::custom("not a finite number"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<WithValue, E> {
                Err(E::custom(
                    "a `with:` value cannot be null: remove the key to leave the parameter out",
                ))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<WithValue, A::Error> {
                let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(WithValue::Json(v))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<WithValue, A::Error> {
                let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(WithValue::Json(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// `with:`: values for the inputs of what is called.
pub type With = IndexMap<String, WithValue>;
