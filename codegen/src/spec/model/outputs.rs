//! `outputParameters`: the shape of a result (mapped, orchestrated, mock or consumed).

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use crate::spec::grammar::NamedList;
use crate::spec::value::variant;

/// The declared type of an output parameter.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OutputType {
    /// A JSON string.
    String,
    /// Any JSON number.
    Number,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A JSON object.
    Object,
    /// A JSON array.
    Array,
}

impl OutputType {
    /// The type as the spec writes it (`string`).
    pub fn as_str(self) -> &'static str {
        match self {
            OutputType::String => "string",
            OutputType::Number => "number",
            OutputType::Integer => "integer",
            OutputType::Boolean => "boolean",
            OutputType::Object => "object",
            OutputType::Array => "array",
        }
    }
}

/// An output parameter. Which keys make sense depends on where it is:
/// - mapped (after a `call`): `mapping` (JSONPath), nested `properties` / `items`, `const`;
/// - mock (no call): `value` (a `{{template}}` over the inputs);
/// - orchestrated (after `steps` and `mappings`): a name and a type, to declare the result;
/// - consumed (on an upstream operation): `value` as a JSONPath projection.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OutputParam {
    /// Only under `properties` (alpha2 repeats the key there); list items carry their name
    /// in the named list.
    pub name: Option<String>,
    /// The declared type.
    #[serde(rename = "type")]
    pub ty: OutputType,
    /// What the value means.
    pub description: Option<String>,
    /// A mapped output's JSONPath into the answer (`$.data.id`).
    pub mapping: Option<String>,
    /// A mock's `{{template}}`, or a consumed output's JSONPath.
    pub value: Option<String>,
    /// `const`: a constant result.
    #[serde(rename = "const")]
    pub constant: Option<Value>,
    /// An object's fields, by name.
    pub properties: Option<IndexMap<String, OutputParam>>,
    /// An array's elements.
    pub items: Option<Items>,
    /// With `mapping` to an object: the shape of each of its values (a dictionary).
    pub values: Option<Box<OutputParam>>,
    /// Strings longer than this are cut (the engine's `maxLength`).
    pub max_length: Option<Value>,
}

/// `items:` of an array output: one shape (mapped), or named fields (orchestrated: a list
/// of named parameters in alpha2, a map keyed by name in beta5).
#[derive(Clone, Debug)]
pub enum Items {
    /// The shape of every element.
    One(Box<OutputParam>),
    /// Named fields of every element.
    Named(NamedList<OutputParam>),
}

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        // One shape declares its own `type:`; a map of named fields has shapes as values.
        let one = matches!(value.get("type"), Some(Value::String(_)));
        if value.is_sequence() || (value.is_mapping() && !one) {
            variant(value).map(Items::Named)
        } else {
            variant(value).map(|v| Items::One(Box::new(v)))
        }
    }
}
