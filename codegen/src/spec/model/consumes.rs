//! `consumes`: the upstream HTTP APIs a capability calls.

use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::{Authentication, ImportEntry, Method, OutputParam, ParamType};
use crate::spec::grammar::{Alpha2Key, Beta5Key, Label, NamedList, either};
use crate::spec::value::{bad_tag, tag_of, variant};

/// An entry of `consumes`: an API, or an import of one from another document.
#[derive(Debug)]
pub enum ConsumesEntry {
    Http(Box<ConsumesHttp>),
    Import(ImportEntry),
}

impl<'de> Deserialize<'de> for ConsumesEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        if value.get("import").is_some() {
            return variant(value).map(ConsumesEntry::Import);
        }
        match tag_of(&value) {
            Some("http") => variant(value).map(|h| ConsumesEntry::Http(Box::new(h))),
            _ => Err(bad_tag(&value, "consumes", &["http"])),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumesHttp {
    #[serde(rename = "type")]
    pub kind: String,
    pub namespace: String,
    pub base_uri: String,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    #[serde(default)]
    pub input_parameters: NamedList<ConsumedParam>,
    pub authentication: Option<Authentication>,
    #[serde(default)]
    pub resources: NamedList<ConsumedResource>,
    /// An OpenZiti tunnel (beta5); parsed to be reported as not supported.
    pub tunnel: Option<Value>,
}

impl ConsumesHttp {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ParamIn {
    Query,
    Header,
    Path,
    Cookie,
    Body,
    Environment,
}

/// A parameter of a consumed operation or resource. `type`, `description` and `required`
/// are the seed dialect's; `value` (a constant or a `{{template}}`) is the official one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumedParam {
    #[serde(rename = "in")]
    pub location: ParamIn,
    pub value: Option<String>,
    #[serde(rename = "type")]
    pub ty: Option<ParamType>,
    pub description: Option<String>,
    pub required: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumedResource {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub path: String,
    #[serde(default)]
    pub input_parameters: NamedList<ConsumedParam>,
    #[serde(default)]
    pub operations: NamedList<ConsumedOperation>,
}

impl ConsumedResource {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumedOperation {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub method: Method,
    #[serde(default)]
    pub input_parameters: NamedList<ConsumedParam>,
    pub output_raw_format: Option<String>,
    pub output_schema: Option<String>,
    /// beta5: the media type of a `binary` answer.
    pub output_media_type: Option<String>,
    /// beta5: the largest `binary` answer (`10MiB`).
    pub max_binary_size: Option<String>,
    /// Fields projected out of the answer when the operation runs as a step.
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
    pub body: Option<RequestBody>,
}

impl ConsumedOperation {
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// The request body of a consumed operation.
#[derive(Debug)]
pub enum RequestBody {
    /// A raw string, usually a JSON document with `{{placeholders}}`.
    Raw(String),
    Json(BodyJson),
    Text(BodyText),
    Form(BodyForm),
    Multipart(BodyMultipart),
}

impl<'de> Deserialize<'de> for RequestBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        if let Value::String(s) = value {
            return Ok(RequestBody::Raw(s));
        }
        match tag_of(&value) {
            Some("json") => variant(value).map(RequestBody::Json),
            Some("text" | "xml" | "sparql") => variant(value).map(RequestBody::Text),
            Some("formUrlEncoded") => variant(value).map(RequestBody::Form),
            Some("multipartForm") => variant(value).map(RequestBody::Multipart),
            _ => Err(bad_tag(
                &value,
                "body",
                &[
                    "json",
                    "text",
                    "xml",
                    "sparql",
                    "formUrlEncoded",
                    "multipartForm",
                ],
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyJson {
    #[serde(rename = "type")]
    pub kind: String,
    pub data: Value,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyText {
    #[serde(rename = "type")]
    pub kind: String,
    pub data: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyForm {
    #[serde(rename = "type")]
    pub kind: String,
    pub data: FormData,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FormData {
    Raw(String),
    Fields(indexmap::IndexMap<String, String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyMultipart {
    #[serde(rename = "type")]
    pub kind: String,
    pub data: Vec<MultipartPart>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MultipartPart {
    pub name: String,
    pub value: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}
