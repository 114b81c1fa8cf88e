//! `exposes` of type `control`: health, status, metrics, traces, scripting governance.

use serde::Deserialize;
use serde_yaml::Value;

use super::Authentication;

/// `exposes` of type `control`: the control port.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExposesControl {
    /// The `type:` tag (`control`).
    #[serde(rename = "type")]
    pub kind: String,
    /// The host it binds (loopback otherwise).
    pub address: Option<String>,
    /// The port it listens on.
    pub port: u16,
    /// What callers must present.
    pub authentication: Option<Authentication>,
    /// Which management routes it serves.
    pub management: Option<Management>,
    /// Metrics, traces and their export.
    pub observability: Option<Observability>,
}

/// `management:` of the control port: which routes it serves.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Management {
    /// `/health/live` and `/health/ready` (default: on).
    pub health: Option<bool>,
    /// `/status` (default: off).
    pub info: Option<bool>,
    /// `POST /config/reload` (parsed, not served).
    pub reload: Option<bool>,
    /// `POST /config/validate` (parsed, not served).
    pub validate: Option<bool>,
    /// `true`, or `{level-control, stream, max-subscribers}`.
    pub logs: Option<Value>,
    /// Scripting governance, changed through `/scripting`.
    pub scripting: Option<Scripting>,
}

/// `management.scripting`: the defaults and limits of script steps.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Scripting {
    /// Whether script steps may run (the environment decides when absent).
    pub enabled: Option<bool>,
    /// Where steps without `location` find their files (a `file:` URI).
    pub default_location: Option<String>,
    /// The language of steps without `language`.
    pub default_language: Option<String>,
    /// Milliseconds a script may run.
    pub timeout: Option<u64>,
    /// Statements a script may run.
    pub statement_limit: Option<u64>,
    /// The languages steps may use; empty allows all.
    #[serde(default)]
    pub allowed_languages: Vec<String>,
}

/// `observability:` of the control port.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Observability {
    /// Whether any of it is on (default: yes).
    pub enabled: Option<bool>,
    /// The `/metrics` endpoint.
    pub metrics: Option<Metrics>,
    /// Trace settings (parsed; traces are not generated).
    pub traces: Option<Traces>,
    /// Where telemetry is exported (parsed; nothing is exported).
    pub exporters: Option<Exporters>,
}

/// `observability.metrics`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    /// The `/metrics` endpoint on the control port.
    pub local: Option<LocalEndpoint>,
}

/// A local endpoint of the control port (`/metrics`, `/traces`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LocalEndpoint {
    /// Whether it is served (default: yes).
    pub enabled: Option<bool>,
    /// Traces kept for `/traces`.
    pub buffer_size: Option<u64>,
}

/// `observability.traces`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Traces {
    /// The share of traces sampled, from 0 to 1.
    pub sampling: Option<f64>,
    /// How trace context is propagated to upstreams.
    pub propagation: Option<String>,
    /// The `/traces` endpoint on the control port.
    pub local: Option<LocalEndpoint>,
}

/// `observability.exporters`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exporters {
    /// An OTLP exporter.
    pub otlp: Option<Otlp>,
}

/// `observability.exporters.otlp`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Otlp {
    /// Where telemetry is sent (an http(s) URL).
    pub endpoint: String,
}
