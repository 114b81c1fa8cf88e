//! `consumes`: the upstream HTTP APIs a capability calls.

use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::{Authentication, ImportEntry, Method, OutputParam, ParamType};
use crate::spec::grammar::{Alpha2Key, Beta5Key, Label, NamedList, either};
use crate::spec::value::{bad_tag, tag_of, variant};

/// An entry of `consumes`: an API, or an import of one from another document.
#[derive(Debug)]
pub enum ConsumesEntry {
    /// An API declared here.
    Http(Box<ConsumesHttp>),
    /// An API imported from another document.
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

/// One consumed HTTP API (`type: http`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumesHttp {
    /// The `type:` tag (`http`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The name calls use (`call: namespace.operation`).
    pub namespace: String,
    /// `baseUri`: the API's root URL, which resource paths are appended to.
    pub base_uri: String,
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the API does.
    pub description: Option<String>,
    /// `inputParameters` sent with every call of the API.
    #[serde(default)]
    pub input_parameters: NamedList<ConsumedParam>,
    /// How every call authenticates.
    pub authentication: Option<Authentication>,
    /// The API's resources, by name.
    #[serde(default)]
    pub resources: NamedList<ConsumedResource>,
    /// An OpenZiti tunnel (beta5); parsed to be reported as not supported.
    pub tunnel: Option<Value>,
}

impl ConsumesHttp {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// Where a consumed parameter is sent (`in:`).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ParamIn {
    /// A query parameter.
    Query,
    /// A request header.
    Header,
    /// A path segment (`{name}` in the resource's path).
    Path,
    /// A cookie.
    Cookie,
    /// A field of the JSON body.
    Body,
    /// Not sent: a `binds` variable (named by `value:`) that the operation's templates read
    /// under the parameter's name.
    Environment,
}

/// A parameter of a consumed operation or resource. `type`, `description` and `required`
/// are the seed dialect's; `value` (a constant or a `{{template}}`) is the official one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumedParam {
    /// `in`: where it is sent.
    #[serde(rename = "in")]
    pub location: ParamIn,
    /// A constant or `{{template}}`: the parameter is then fixed, not an input of the call.
    pub value: Option<String>,
    /// The declared type (seed dialect).
    #[serde(rename = "type")]
    pub ty: Option<ParamType>,
    /// What the parameter means.
    pub description: Option<String>,
    /// Whether a call must give it (path parameters always must).
    pub required: Option<bool>,
}

/// A resource of a consumed API: a path and the operations on it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumedResource {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the resource represents.
    pub description: Option<String>,
    /// Tags, for discovery.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The path appended to `baseUri`, with `{param}` segments.
    pub path: String,
    /// Parameters shared by the resource's operations.
    #[serde(default)]
    pub input_parameters: NamedList<ConsumedParam>,
    /// The operations, by name.
    #[serde(default)]
    pub operations: NamedList<ConsumedOperation>,
}

impl ConsumedResource {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// One HTTP operation of a consumed resource.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumedOperation {
    label: Option<Alpha2Key<String, Label>>,
    display: Option<Beta5Key<String, Label>>,
    /// What the operation does.
    pub description: Option<String>,
    /// Tags, for discovery.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The HTTP method (default `GET`).
    #[serde(default)]
    pub method: Method,
    /// Its parameters, on top of the resource's and the API's.
    #[serde(default)]
    pub input_parameters: NamedList<ConsumedParam>,
    /// `outputRawFormat`: the format of the answer (default `json`).
    pub output_raw_format: Option<String>,
    /// `outputSchema`: the schema file (Avro, Protobuf), CSS selector (HTML) or heading
    /// prefix (Markdown) its format uses.
    pub output_schema: Option<String>,
    /// beta5: the media type of a `binary` answer.
    pub output_media_type: Option<String>,
    /// beta5: the largest `binary` answer (`10MiB`).
    pub max_binary_size: Option<String>,
    /// Fields projected out of the answer when the operation runs as a step.
    #[serde(default)]
    pub output_parameters: NamedList<OutputParam>,
    /// The request body, if any.
    pub body: Option<RequestBody>,
}

impl ConsumedOperation {
    /// `label` (alpha2) or `display` (beta5).
    pub fn label(&self) -> Option<&str> {
        either(&self.label, &self.display).map(String::as_str)
    }
}

/// The request body of a consumed operation.
#[derive(Debug)]
pub enum RequestBody {
    /// A raw string, usually a JSON document with `{{placeholders}}`.
    Raw(String),
    /// `type: json`: `data` sent as JSON.
    Json(BodyJson),
    /// `type: text`, `xml` or `sparql`: `data` sent as text.
    Text(BodyText),
    /// `type: formUrlEncoded`: a form.
    Form(BodyForm),
    /// `type: multipartForm`: a multipart form.
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

/// A JSON request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyJson {
    /// The `type:` tag (`json`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The payload: an object, an array, or a template string.
    pub data: Value,
}

/// A text, XML or SPARQL request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyText {
    /// The `type:` tag (`text`, `xml` or `sparql`): it sets the content type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The body, with `{{placeholders}}`.
    pub data: String,
}

/// A URL-encoded form request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyForm {
    /// The `type:` tag (`formUrlEncoded`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The form's fields.
    pub data: FormData,
}

/// The fields of a URL-encoded form.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum FormData {
    /// Already encoded (`a=1&b={{x}}`).
    Raw(String),
    /// Field name -> value (with `{{placeholders}}`), encoded when sent.
    Fields(indexmap::IndexMap<String, String>),
}

/// A multipart form request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyMultipart {
    /// The `type:` tag (`multipartForm`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The parts, in order.
    pub data: Vec<MultipartPart>,
}

/// One part of a multipart form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MultipartPart {
    /// The form field's name.
    pub name: String,
    /// Its content, with `{{placeholders}}`.
    pub value: String,
    /// The file name sent in `Content-Disposition`: the part is then a file.
    pub filename: Option<String>,
    /// The part's media type.
    pub content_type: Option<String>,
}
