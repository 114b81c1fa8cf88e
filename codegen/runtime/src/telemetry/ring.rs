//! The control port's `/traces`: finished spans grouped by trace; when a trace's local root
//! ends (no parent, or a parent from the caller's `traceparent`) the trace joins a ring of
//! the most recent ones (semantics.md 13.5). Spans that end after their root (an answer
//! streamed on) join their trace if it is still in the ring.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use std::borrow::Cow;

use opentelemetry::KeyValue;
use opentelemetry::trace::{SpanId, SpanKind, Status, TraceId};
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};
use serde_json::{Map, Value, json};

/// Traces whose root has not ended yet, at most: a root that never ends must not make the
/// buffer grow without bound.
const MAX_PENDING: usize = 4096;

/// Spans kept per trace, at most; later ones are counted (`droppedSpans`), not kept, so that
/// a long request with many steps cannot hold unbounded memory.
const MAX_SPANS: usize = 1024;

/// One finished span, kept as the SDK hands it over; it is turned into JSON only when
/// `/traces/{id}` is read, so recording a span costs no formatting.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    /// Its id.
    pub span_id: SpanId,
    /// Its parent's id (`SpanId::INVALID` when it has none).
    pub parent: SpanId,
    /// `rest.request`, `http.client.GET`...
    pub name: Cow<'static, str>,
    /// `SERVER`, `CLIENT`, `INTERNAL`...
    pub kind: &'static str,
    /// When it started.
    pub start: SystemTime,
    /// How long it took.
    pub duration: Duration,
    /// Whether its status is ERROR (UNSET counts as OK).
    pub error: bool,
    /// Its attributes.
    pub attributes: Vec<KeyValue>,
}

impl SpanRecord {
    /// A root span named `name`, started now and already over.
    pub fn named(name: &'static str) -> SpanRecord {
        SpanRecord {
            span_id: SpanId::from(1),
            parent: SpanId::INVALID,
            name: Cow::Borrowed(name),
            kind: "SERVER",
            start: SystemTime::now(),
            duration: Duration::ZERO,
            error: false,
            attributes: Vec::new(),
        }
    }
}

/// One trace in the ring.
#[derive(Debug, Clone)]
pub struct Trace {
    /// 32 hex digits for the traces of this process.
    pub id: String,
    /// Its spans in the order they ended; the last is its local root (the span whose end
    /// completed it) until a late span joins.
    pub spans: Vec<SpanRecord>,
    /// The root's index in `spans`.
    pub root: usize,
    /// Spans not kept beyond [`MAX_SPANS`].
    pub dropped: usize,
}

impl Trace {
    /// A trace of one span.
    pub fn of(id: String, root: SpanRecord) -> Trace {
        Trace {
            id,
            spans: vec![root],
            root: 0,
            dropped: 0,
        }
    }

    fn root(&self) -> &SpanRecord {
        &self.spans[self.root]
    }
}

/// The ring of recent traces.
#[derive(Debug)]
pub struct Ring {
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    pending: HashMap<TraceId, Pending>,
    pending_order: VecDeque<TraceId>,
    /// The traces, oldest first, with the SDK's id of each (for spans that end late).
    traces: VecDeque<(Option<TraceId>, Trace)>,
    /// How many of `traces` have each SDK id (callers may send one trace id with several
    /// requests): a span that ends before its root (the usual child) is told from a late
    /// one without a walk through the whole ring.
    in_ring: HashMap<TraceId, usize>,
}

/// The spans of a trace whose root has not ended yet.
#[derive(Debug, Default)]
struct Pending {
    spans: Vec<SpanRecord>,
    dropped: usize,
}

/// Keeps `span` among `spans` while they are fewer than `cap`, else counts it in `dropped`.
fn keep(spans: &mut Vec<SpanRecord>, dropped: &mut usize, span: SpanRecord, cap: usize) {
    if spans.len() < cap {
        spans.push(span);
    } else {
        *dropped += 1;
    }
}

impl Ring {
    /// A ring of `capacity` traces (at least one).
    pub fn new(capacity: usize) -> Ring {
        Ring {
            capacity: capacity.max(1),
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic elsewhere while it was held leaves whole records: keep serving them.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Files one finished span of trace `id`; `root` says whether it completes its trace.
    pub fn record(&self, id: TraceId, span: SpanRecord, root: bool) {
        let mut s = self.state();
        if !root {
            if let Some(p) = s.pending.get_mut(&id) {
                // One place is left for the root, which always completes the trace.
                keep(&mut p.spans, &mut p.dropped, span, MAX_SPANS - 1);
                return;
            }
            // A span that ends after its root joins its trace while the ring holds it.
            if s.in_ring.contains_key(&id)
                && let Some((_, t)) = s.traces.iter_mut().rev().find(|(t, _)| *t == Some(id))
            {
                keep(&mut t.spans, &mut t.dropped, span, MAX_SPANS);
                return;
            }
            if s.pending_order.len() >= MAX_PENDING
                && let Some(old) = s.pending_order.pop_front()
            {
                s.pending.remove(&old);
            }
            s.pending_order.push_back(id);
            s.pending.insert(
                id,
                Pending {
                    spans: vec![span],
                    dropped: 0,
                },
            );
            return;
        }
        let Pending { mut spans, dropped } = match s.pending.remove(&id) {
            Some(p) => {
                if let Some(i) = s.pending_order.iter().rposition(|t| *t == id) {
                    s.pending_order.remove(i);
                }
                p
            }
            None => Pending {
                spans: Vec::with_capacity(1),
                dropped: 0,
            },
        };
        spans.push(span);
        let trace = Trace {
            id: id.to_string(),
            root: spans.len() - 1,
            spans,
            dropped,
        };
        self.push_locked(&mut s, Some(id), trace);
    }

    /// Adds a whole trace (the newest).
    pub fn push(&self, trace: Trace) {
        let mut s = self.state();
        self.push_locked(&mut s, None, trace);
    }

    fn push_locked(&self, s: &mut State, id: Option<TraceId>, trace: Trace) {
        while s.traces.len() >= self.capacity {
            if let Some((Some(old), _)) = s.traces.pop_front()
                && let Some(n) = s.in_ring.get_mut(&old)
            {
                *n -= 1;
                if *n == 0 {
                    s.in_ring.remove(&old);
                }
            }
        }
        if let Some(id) = id {
            *s.in_ring.entry(id).or_default() += 1;
        }
        s.traces.push_back((id, trace));
    }

    /// `GET /traces`: the summaries, most recent first; `operation` keeps the traces whose
    /// root name contains it, `status` those of that status (any case).
    pub fn list(&self, operation: Option<&str>, status: Option<&str>) -> Value {
        let s = self.state();
        let traces: Vec<Value> = s
            .traces
            .iter()
            .rev()
            .map(|(_, t)| t)
            .filter(|t| operation.is_none_or(|o| t.root().name.contains(o)))
            .filter(|t| status.is_none_or(|st| st.eq_ignore_ascii_case(status_of(t.root()))))
            .map(|t| {
                json!({
                    "traceId": t.id,
                    "operation": t.root().name,
                    "durationMs": millis(t.root().duration),
                    "status": status_of(t.root()),
                    "spanCount": t.spans.len() + t.dropped,
                    "timestamp": iso_instant(t.root().start),
                })
            })
            .collect();
        json!({"traces": traces, "bufferSize": self.capacity, "bufferUsed": s.traces.len()})
    }

    /// `GET /traces/{id}`: the trace and its spans, or `None`.
    pub fn get(&self, id: &str) -> Option<Value> {
        let s = self.state();
        let (_, t) = s.traces.iter().find(|(_, t)| t.id == id)?;
        let spans: Vec<Value> = t
            .spans
            .iter()
            .map(|sp| {
                let mut o = Map::new();
                o.insert("traceId".into(), Value::String(t.id.clone()));
                o.insert("spanId".into(), Value::String(sp.span_id.to_string()));
                if sp.parent != SpanId::INVALID {
                    o.insert("parentSpanId".into(), Value::String(sp.parent.to_string()));
                }
                o.insert("name".into(), Value::String(sp.name.to_string()));
                o.insert("kind".into(), Value::String(sp.kind.into()));
                o.insert("durationMs".into(), millis(sp.duration));
                o.insert("status".into(), Value::String(status_of(sp).into()));
                o.insert("timestamp".into(), Value::String(iso_instant(sp.start)));
                let attributes = sp
                    .attributes
                    .iter()
                    .map(|kv| (kv.key.to_string(), attribute(&kv.value)))
                    .collect();
                o.insert("attributes".into(), Value::Object(attributes));
                Value::Object(o)
            })
            .collect();
        let mut out = json!({
            "traceId": t.id,
            "operation": t.root().name,
            "durationMs": millis(t.root().duration),
            "status": status_of(t.root()),
            "timestamp": iso_instant(t.root().start),
            "spans": spans,
        });
        if t.dropped > 0 {
            out["droppedSpans"] = json!(t.dropped);
        }
        Some(out)
    }
}

fn status_of(s: &SpanRecord) -> &'static str {
    if s.error { "ERROR" } else { "OK" }
}

/// Milliseconds with microsecond precision (sub-millisecond spans are the common case here).
fn millis(d: Duration) -> Value {
    let ms = (d.as_micros() as f64) / 1000.0;
    serde_json::Number::from_f64(ms)
        .map(Value::Number)
        .unwrap_or(Value::Null)
}

/// The ISO-8601 instant of `t`.
fn iso_instant(t: SystemTime) -> String {
    crate::instant::iso_instant(t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default())
}

/// The SDK span processor that feeds a [`Ring`].
#[derive(Debug)]
pub(crate) struct Processor(pub Arc<Ring>);

impl SpanProcessor for Processor {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &opentelemetry::Context) {}

    fn on_end(&self, span: SpanData) {
        let root = span.parent_span_id == SpanId::INVALID || span.parent_span_is_remote;
        let record = SpanRecord {
            span_id: span.span_context.span_id(),
            parent: span.parent_span_id,
            name: span.name,
            kind: kind_name(&span.span_kind),
            start: span.start_time,
            duration: span
                .end_time
                .duration_since(span.start_time)
                .unwrap_or_default(),
            error: matches!(span.status, Status::Error { .. }),
            attributes: span.attributes,
        };
        self.0.record(span.span_context.trace_id(), record, root);
    }

    fn force_flush(&self) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> opentelemetry_sdk::error::OTelSdkResult {
        Ok(())
    }
}

fn kind_name(k: &SpanKind) -> &'static str {
    match k {
        SpanKind::Server => "SERVER",
        SpanKind::Client => "CLIENT",
        SpanKind::Producer => "PRODUCER",
        SpanKind::Consumer => "CONSUMER",
        SpanKind::Internal => "INTERNAL",
    }
}

fn attribute(v: &opentelemetry::Value) -> Value {
    use opentelemetry::Value as V;
    match v {
        V::Bool(b) => Value::Bool(*b),
        V::I64(i) => Value::from(*i),
        V::F64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        V::String(s) => Value::String(s.to_string()),
        other => Value::String(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u64, name: &'static str) -> SpanRecord {
        SpanRecord {
            span_id: SpanId::from(id),
            start: SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000),
            duration: Duration::from_micros(1500),
            ..SpanRecord::named(name)
        }
    }

    #[test]
    fn the_ring_keeps_the_most_recent_first_and_evicts_the_oldest() {
        let ring = Ring::new(2);
        for t in 1..=3u128 {
            ring.record(TraceId::from(t), span(1, "rest.request"), true);
        }
        let list = ring.list(None, None);
        let ids: Vec<&str> = list["traces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["traceId"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [TraceId::from(3).to_string(), TraceId::from(2).to_string()]
        );
        assert_eq!(list["bufferSize"], 2);
        assert_eq!(list["bufferUsed"], 2);
        assert!(ring.get(&TraceId::from(1).to_string()).is_none());
        assert_eq!(list["traces"][0]["durationMs"], 1.5);
    }

    #[test]
    fn children_wait_for_their_root_and_late_spans_join_their_trace() {
        let ring = Ring::new(10);
        let id = TraceId::from(7);
        let mut child = span(2, "http.client.GET");
        child.parent = SpanId::from(1);
        child.kind = "CLIENT";
        child.error = true;
        child.attributes = vec![KeyValue::new("http.response.status_code", 502)];
        ring.record(id, child.clone(), false);
        assert_eq!(ring.list(None, None)["bufferUsed"], 0);
        ring.record(id, span(1, "mcp.request"), true);
        ring.record(id, child, false);
        let t = ring.get(&id.to_string()).unwrap();
        assert_eq!(t["operation"], "mcp.request");
        assert_eq!(t["spans"].as_array().unwrap().len(), 3);
        assert_eq!(t["spans"][0]["parentSpanId"], SpanId::from(1).to_string());
        assert_eq!(
            t["spans"][0]["attributes"]["http.response.status_code"],
            502
        );
        assert!(t["spans"][1].get("parentSpanId").is_none());
        let count =
            |o: Option<&str>, s: Option<&str>| ring.list(o, s)["traces"].as_array().unwrap().len();
        assert_eq!(count(Some("mcp"), Some("ok")), 1);
        assert_eq!(count(Some("rest"), None), 0);
        assert_eq!(count(None, Some("ERROR")), 0);
    }

    #[test]
    fn a_late_span_joins_the_newest_trace_of_its_id_after_an_older_one_is_evicted() {
        // Two requests under one caller trace id, then a third trace pushes the older out.
        let ring = Ring::new(2);
        let id = TraceId::from(5);
        ring.record(id, span(1, "rest.request"), true);
        ring.record(id, span(3, "rest.request"), true);
        ring.record(TraceId::from(6), span(1, "rest.request"), true);
        let mut late = span(4, "http.client.GET");
        late.parent = SpanId::from(3);
        ring.record(id, late, false);
        let t = ring.get(&id.to_string()).unwrap();
        assert_eq!(t["spans"].as_array().unwrap().len(), 2);
        // Evicted everywhere: a late span of it now waits for a root instead.
        ring.record(TraceId::from(8), span(1, "rest.request"), true);
        ring.record(TraceId::from(9), span(1, "rest.request"), true);
        ring.record(id, span(7, "http.client.GET"), false);
        assert!(ring.get(&id.to_string()).is_none());
        assert_eq!(ring.state().in_ring.len(), 2);
    }

    #[test]
    fn a_trace_keeps_at_most_max_spans() {
        let ring = Ring::new(1);
        let id = TraceId::from(9);
        for i in 0..(MAX_SPANS as u64 + 10) {
            let mut c = span(i + 2, "step.call");
            c.parent = SpanId::from(1);
            ring.record(id, c, false);
        }
        ring.record(id, span(1, "rest.request"), true);
        let t = ring.get(&id.to_string()).unwrap();
        assert_eq!(t["spans"].as_array().unwrap().len(), MAX_SPANS);
        assert_eq!(t["droppedSpans"], 11);
        assert_eq!(t["operation"], "rest.request");
        assert_eq!(
            ring.list(None, None)["traces"][0]["spanCount"],
            MAX_SPANS + 11
        );
    }
}
