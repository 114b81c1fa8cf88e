//! Metric units: what the runtime records, through the same `metrics` facade and the same
//! Prometheus exporter as the control port's `/metrics`, in a registry of the adapter's own.

use std::sync::Mutex;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use serde_json::{Map, Value, json};

use super::UnitEnv;
use crate::pointer::text_of;

fn labels(input: &Value) -> Vec<(String, String)> {
    input
        .get("labels")
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), text_of(v))).collect())
        .unwrap_or_default()
}

/// `prometheus_serialize`: one instrument (`counter`, `up_down_counter`, `gauge` or
/// `histogram`) recorded with the case's labels, rendered as `/metrics` renders it.
pub fn prometheus_serialize(input: &Value, _: &UnitEnv) -> Result<Value, String> {
    let labels = labels(input);
    let description = input
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let number = |k: &str| input.get(k).and_then(Value::as_f64);
    let text = naftiko_runtime::metrics::render_locally(|| {
        if let Some(name) = input.get("counter").and_then(Value::as_str) {
            if let Some(d) = &description {
                metrics::describe_counter!(name.to_owned(), d.clone());
            }
            metrics::counter!(name.to_owned(), &labels)
                .increment(number("add").unwrap_or(1.0) as u64);
        } else if let Some(name) = input
            .get("up_down_counter")
            .or_else(|| input.get("gauge"))
            .and_then(Value::as_str)
        {
            if let Some(d) = &description {
                metrics::describe_gauge!(name.to_owned(), d.clone());
            }
            let g = metrics::gauge!(name.to_owned(), &labels);
            match number("set") {
                Some(v) => g.set(v),
                None => g.increment(number("add").unwrap_or(1.0)),
            }
        } else if let Some(name) = input.get("histogram").and_then(Value::as_str) {
            if let Some(d) = &description {
                metrics::describe_histogram!(name.to_owned(), d.clone());
            }
            metrics::histogram!(name.to_owned(), &labels).record(number("record").unwrap_or(0.0));
        }
    })
    .map_err(|e| e.to_string())?;
    Ok(Value::String(text))
}

/// `otel_prometheus`: the runtime's own request metric (`record_request`), rendered.
pub fn prometheus_after_request(input: &Value, _: &UnitEnv) -> Result<Value, String> {
    let r = input
        .get("record_request")
        .ok_or("input.record_request is missing")?;
    let adapter = match r.get("adapter").and_then(Value::as_str) {
        Some("mcp") => "mcp",
        Some("skill") => "skill",
        _ => "rest",
    };
    let text = naftiko_runtime::metrics::render_locally(|| {
        naftiko_runtime::metrics::describe();
        naftiko_runtime::metrics::request(
            adapter,
            r.get("operation").and_then(Value::as_str).unwrap_or(""),
            &r.get("status").map(text_of).unwrap_or_default(),
            std::time::Duration::from_secs_f64(
                r.get("seconds").and_then(Value::as_f64).unwrap_or(0.0),
            ),
        );
    })
    .map_err(|e| e.to_string())?;
    Ok(Value::String(text))
}

/// An instrument's name and labels.
type Instrument = (String, Vec<(String, String)>);

/// Every instrument registered, with its labels.
#[derive(Default)]
struct Capture(Mutex<Vec<Instrument>>);

impl Capture {
    fn keep(&self, key: &Key) {
        let labels = key
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((key.name().to_owned(), labels));
    }
}

impl Recorder for Capture {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
        self.keep(key);
        Counter::noop()
    }
    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
        self.keep(key);
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        self.keep(key);
        Histogram::noop()
    }
}

/// `record_http_client_metric`: the runtime's record of one upstream call (`status_code` 0:
/// no answer); the output maps each instrument to `{attributes}`.
pub fn http_client_metric(input: &Value, _: &UnitEnv) -> Result<Value, String> {
    let status = input
        .get("status_code")
        .and_then(Value::as_u64)
        .filter(|s| *s > 0)
        .map(|s| s as u16);
    let capture = Capture::default();
    naftiko_runtime::metrics::record_locally(&capture, || {
        naftiko_runtime::metrics::client_call(
            input.get("method").and_then(Value::as_str).unwrap_or("GET"),
            input
                .get("host")
                .and_then(Value::as_str)
                .unwrap_or("api.example.com"),
            status,
            std::time::Duration::from_millis(5),
        );
    });
    let mut out = Map::new();
    for (name, labels) in capture.0.into_inner().unwrap_or_else(|e| e.into_inner()) {
        let attributes: Map<String, Value> = labels
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        out.insert(name, json!({"attributes": attributes}));
    }
    Ok(Value::Object(out))
}
