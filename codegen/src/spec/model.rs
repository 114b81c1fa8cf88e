//! The typed model of a Naftiko capability document (`naftiko: 1.0.0-alpha2`).
//!
//! It accepts both the official alpha2 grammar and the dialect of the seed spec (typed
//! consumed parameters, `with: {x: rest.x}`). Every mapping denies unknown keys, so a typo
//! is an error, never silently ignored. Constructs we do not generate code for yet
//! (aggregates, steps, skills, control, MCP resources and prompts) are still parsed so that
//! the checker can point at them with a "not supported yet" diagnostic.

use indexmap::IndexMap;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::value::{Lenient, bad_tag, tag_of, variant};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub naftiko: String,
    pub info: Option<Info>,
    #[serde(default)]
    pub binds: Vec<Binding>,
    pub capability: Option<Capability>,
    /// File-level consumes, as in shared files that others import.
    #[serde(default)]
    pub consumes: Vec<Lenient<ConsumesEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Info {
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    pub created: Option<String>,
    pub modified: Option<String>,
    #[serde(default)]
    pub stakeholders: Vec<Person>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Person {
    pub role: String,
    pub full_name: String,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    pub namespace: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub keys: IndexMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    #[serde(default)]
    pub binds: Vec<Binding>,
    #[serde(default)]
    pub exposes: Vec<Lenient<Exposes>>,
    #[serde(default)]
    pub consumes: Vec<Lenient<ConsumesEntry>>,
    pub aggregates: Option<Value>,
}

// ---------------------------------------------------------------- consumes

#[derive(Debug)]
pub enum ConsumesEntry {
    Http(Box<ConsumesHttp>),
    Import(ImportedConsumes),
}

impl<'de> Deserialize<'de> for ConsumesEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        if value.get("import").is_some() || value.get("location").is_some() {
            return variant(value).map(ConsumesEntry::Import);
        }
        match tag_of(&value) {
            Some("http") => variant(value).map(|h| ConsumesEntry::Http(Box::new(h))),
            _ => Err(bad_tag(&value, "consumes", &["http"])),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportedConsumes {
    pub location: String,
    pub import: String,
    #[serde(rename = "as")]
    pub alias: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumesHttp {
    #[serde(rename = "type")]
    pub kind: String,
    pub namespace: String,
    pub base_uri: String,
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub input_parameters: Vec<ConsumedParam>,
    pub authentication: Option<Authentication>,
    #[serde(default)]
    pub resources: Vec<Lenient<ConsumedResource>>,
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

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
}

/// A parameter of a consumed operation or resource. `type`, `description` and `required`
/// are the seed dialect's; `value` (a constant or a `{{template}}`) is the official one.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumedParam {
    pub name: String,
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
    pub name: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub path: String,
    #[serde(default)]
    pub input_parameters: Vec<ConsumedParam>,
    #[serde(default)]
    pub operations: Vec<Lenient<ConsumedOperation>>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    #[default]
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
    #[serde(rename = "DELETE")]
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConsumedOperation {
    pub name: String,
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub method: Method,
    #[serde(default)]
    pub input_parameters: Vec<ConsumedParam>,
    pub output_raw_format: Option<String>,
    pub output_schema: Option<String>,
    #[serde(default)]
    pub output_parameters: Vec<ConsumedOutputParam>,
    pub body: Option<RequestBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsumedOutputParam {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: OutputType,
    pub value: String,
    pub description: Option<String>,
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
    Fields(IndexMap<String, String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyMultipart {
    #[serde(rename = "type")]
    pub kind: String,
    pub data: Vec<Value>,
}

/// Outbound (consumes) or inbound (exposes) authentication.
#[derive(Debug)]
pub enum Authentication {
    Basic(AuthBasic),
    ApiKey(AuthApiKey),
    Bearer(AuthBearer),
    Digest(AuthBasic),
    OAuth2(AuthOAuth2),
}

impl<'de> Deserialize<'de> for Authentication {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        match tag_of(&value) {
            Some("basic") => variant(value).map(Authentication::Basic),
            Some("digest") => variant(value).map(Authentication::Digest),
            Some("apikey") => variant(value).map(Authentication::ApiKey),
            Some("bearer") => variant(value).map(Authentication::Bearer),
            Some("oauth2") => variant(value).map(Authentication::OAuth2),
            _ => Err(bad_tag(
                &value,
                "authentication",
                &["bearer", "apikey", "basic", "digest", "oauth2"],
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthBasic {
    #[serde(rename = "type")]
    pub kind: String,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Placement {
    #[default]
    Header,
    Query,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthApiKey {
    #[serde(rename = "type")]
    pub kind: String,
    pub key: Option<String>,
    pub value: Option<String>,
    pub placement: Option<Placement>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthBearer {
    #[serde(rename = "type")]
    pub kind: String,
    pub token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuthOAuth2 {
    #[serde(rename = "type")]
    pub kind: String,
    pub authorization_server_uri: String,
    pub resource: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    pub audience: Option<String>,
    pub token_endpoint: Option<String>,
    pub token_validation: Option<String>,
}

// ---------------------------------------------------------------- exposes

#[derive(Debug)]
pub enum Exposes {
    Rest(ExposesRest),
    Mcp(ExposesMcp),
    /// `skill` or `control`: parsed only to be reported as not supported yet.
    Other(String),
}

impl<'de> Deserialize<'de> for Exposes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        match tag_of(&value) {
            Some("rest") => variant(value).map(Exposes::Rest),
            Some("mcp") => variant(value).map(Exposes::Mcp),
            Some(other @ ("skill" | "control")) => Ok(Exposes::Other(other.to_owned())),
            _ => Err(bad_tag(
                &value,
                "exposes",
                &["rest", "mcp", "skill", "control"],
            )),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposesRest {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: Option<String>,
    pub port: u16,
    pub namespace: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub authentication: Option<Authentication>,
    #[serde(default)]
    pub resources: Vec<Lenient<ExposedResource>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposedResource {
    pub path: String,
    pub name: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub input_parameters: Vec<ExposedParam>,
    #[serde(default)]
    pub operations: Vec<Lenient<ExposedOperation>>,
    pub forward: Option<Forward>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Forward {
    pub target_namespace: String,
    #[serde(default)]
    pub trusted_headers: Vec<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ExposedIn {
    Query,
    Header,
    Path,
    Cookie,
    Body,
}

/// An input of an exposed REST operation or resource (official grammar).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposedParam {
    pub name: String,
    #[serde(rename = "in")]
    pub location: ExposedIn,
    #[serde(rename = "type")]
    pub ty: ParamType,
    pub description: Option<String>,
    pub pattern: Option<String>,
    /// For `in: body`, a JSONPath into the request body (`$.user.id`).
    pub value: Option<String>,
    pub required: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ExposedOperation {
    #[serde(default)]
    pub method: Method,
    pub name: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub input_parameters: Vec<ExposedParam>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub call: Option<String>,
    pub with: Option<IndexMap<String, WithValue>>,
    #[serde(default)]
    pub output_parameters: Vec<OutputParam>,
    pub steps: Option<Value>,
    pub mappings: Option<Value>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Http,
    Stdio,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposesMcp {
    #[serde(rename = "type")]
    pub kind: String,
    pub transport: Option<Transport>,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub namespace: String,
    pub label: Option<String>,
    pub description: Option<String>,
    pub authentication: Option<Authentication>,
    #[serde(default)]
    pub tools: Vec<Lenient<McpTool>>,
    pub resources: Option<Value>,
    pub prompts: Option<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct McpTool {
    pub name: Option<String>,
    pub label: Option<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub input_parameters: Vec<ToolParam>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub call: Option<String>,
    pub with: Option<IndexMap<String, WithValue>>,
    pub hints: Option<Hints>,
    #[serde(default)]
    pub output_parameters: Vec<OutputParam>,
    pub steps: Option<Value>,
    pub mappings: Option<Value>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolParam {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ParamType,
    pub description: Option<String>,
    pub required: Option<bool>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Hints {
    pub read_only: Option<bool>,
    pub destructive: Option<bool>,
    pub idempotent: Option<bool>,
    pub open_world: Option<bool>,
}

/// A value of a `with:` map: an expression string, or a number constant.
#[derive(Clone, Debug, PartialEq)]
pub enum WithValue {
    Str(String),
    Int(i64),
    Float(f64),
}

impl<'de> Deserialize<'de> for WithValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = WithValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string expression or a number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<WithValue, E> {
                Ok(WithValue::Str(v.to_owned()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<WithValue, E> {
                Ok(WithValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<WithValue, E> {
                i64::try_from(v)
                    .map(WithValue::Int)
                    .map_err(|_| E::custom("integer out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<WithValue, E> {
                Ok(WithValue::Float(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OutputType {
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
}

/// An output parameter: a mapping (`mapping: $.customer`), a nested shape, or a constant.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputParam {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub ty: OutputType,
    pub description: Option<String>,
    pub mapping: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "const")]
    pub constant: Option<Value>,
    pub properties: Option<IndexMap<String, OutputParam>>,
    pub items: Option<Items>,
}

/// `items:` of an array output: one shape (mapped) or a list of named fields (orchestrated).
#[derive(Clone, Debug)]
pub enum Items {
    One(Box<OutputParam>),
    Many(Vec<OutputParam>),
}

impl<'de> Deserialize<'de> for Items {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        if value.is_sequence() {
            variant(value).map(Items::Many)
        } else {
            variant(value).map(|v| Items::One(Box::new(v)))
        }
    }
}
