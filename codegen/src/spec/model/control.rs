//! `exposes` of type `control`: health, status, metrics, traces, scripting governance.

use serde::Deserialize;
use serde_yaml::Value;

use super::Authentication;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposesControl {
    #[serde(rename = "type")]
    pub kind: String,
    pub address: Option<String>,
    pub port: u16,
    pub authentication: Option<Authentication>,
    pub management: Option<Management>,
    pub observability: Option<Observability>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Management {
    pub health: Option<bool>,
    pub info: Option<bool>,
    pub reload: Option<bool>,
    pub validate: Option<bool>,
    /// `true`, or `{level-control, stream, max-subscribers}`.
    pub logs: Option<Value>,
    pub scripting: Option<Scripting>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scripting {
    pub enabled: Option<bool>,
    pub default_location: Option<String>,
    pub default_language: Option<String>,
    pub timeout: Option<u64>,
    pub statement_limit: Option<u64>,
    #[serde(default)]
    pub allowed_languages: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observability {
    pub enabled: Option<bool>,
    pub metrics: Option<Metrics>,
    pub traces: Option<Traces>,
    pub exporters: Option<Exporters>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub local: Option<LocalEndpoint>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LocalEndpoint {
    pub enabled: Option<bool>,
    pub buffer_size: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traces {
    pub sampling: Option<f64>,
    pub propagation: Option<String>,
    pub local: Option<LocalEndpoint>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exporters {
    pub otlp: Option<Otlp>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Otlp {
    pub endpoint: String,
}
