//! B3 multi-header propagation (`X-B3-TraceId`, `X-B3-SpanId`, `X-B3-Sampled`, `X-B3-Flags`),
//! what a spec's `traces.propagation` other than `w3c` selects, as in the reference engine
//! (`otel.propagators=b3multi`). Zipkin's format, written out here rather than pulling the
//! Zipkin exporter crate for its propagator.

use std::sync::OnceLock;

use opentelemetry::Context;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapPropagator, text_map_propagator::FieldIter,
};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};

const TRACE_ID: &str = "x-b3-traceid";
const SPAN_ID: &str = "x-b3-spanid";
const SAMPLED: &str = "x-b3-sampled";
const FLAGS: &str = "x-b3-flags";

/// The B3 multi-header propagator.
#[derive(Debug, Default)]
pub(crate) struct B3Multi;

fn fields() -> &'static [String] {
    static FIELDS: OnceLock<[String; 4]> = OnceLock::new();
    FIELDS.get_or_init(|| [TRACE_ID, SPAN_ID, SAMPLED, FLAGS].map(str::to_owned))
}

/// A trace id of 16 or 32 hex digits (a 64-bit one is the low half).
fn trace_id(text: &str) -> Option<TraceId> {
    let t = text.trim();
    let ok = (t.len() == 16 || t.len() == 32) && t.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| TraceId::from_hex(t).ok())
        .flatten()
        .filter(|id| *id != TraceId::INVALID)
}

fn span_id(text: &str) -> Option<SpanId> {
    let t = text.trim();
    let ok = t.len() == 16 && t.bytes().all(|b| b.is_ascii_hexdigit());
    ok.then(|| SpanId::from_hex(t).ok())
        .flatten()
        .filter(|id| *id != SpanId::INVALID)
}

impl TextMapPropagator for B3Multi {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let sc = span.span_context();
        if !sc.is_valid() {
            return;
        }
        injector.set(TRACE_ID, sc.trace_id().to_string());
        injector.set(SPAN_ID, sc.span_id().to_string());
        injector.set(SAMPLED, if sc.is_sampled() { "1" } else { "0" }.to_owned());
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        let (Some(trace), Some(span)) = (
            extractor.get(TRACE_ID).and_then(trace_id),
            extractor.get(SPAN_ID).and_then(span_id),
        ) else {
            return cx.clone();
        };
        // `X-B3-Flags: 1` (debug) implies sampled; no sampling header leaves it to us.
        let debug = extractor.get(FLAGS).is_some_and(|f| f.trim() == "1");
        let sampled = debug
            || extractor
                .get(SAMPLED)
                .is_some_and(|s| matches!(s.trim(), "1" | "true" | "d"));
        let flags = if sampled {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        cx.with_remote_span_context(SpanContext::new(
            trace,
            span,
            flags,
            true,
            TraceState::default(),
        ))
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(fields())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn b3_headers_round_trip_and_bad_ones_are_ignored() {
        let mut headers: HashMap<String, String> = HashMap::new();
        headers.insert(TRACE_ID.into(), "463ac35c9f6413ad48485a3953bb6124".into());
        headers.insert(SPAN_ID.into(), "a2fb4a1d1a96d312".into());
        headers.insert(SAMPLED.into(), "1".into());
        let cx = B3Multi.extract(&headers);
        let sc = cx.span().span_context().clone();
        assert!(sc.is_valid() && sc.is_remote() && sc.is_sampled());
        assert_eq!(
            sc.trace_id().to_string(),
            "463ac35c9f6413ad48485a3953bb6124"
        );

        let mut out: HashMap<String, String> = HashMap::new();
        B3Multi.inject_context(&cx, &mut out);
        assert_eq!(out[TRACE_ID], "463ac35c9f6413ad48485a3953bb6124");
        assert_eq!(out[SPAN_ID], "a2fb4a1d1a96d312");
        assert_eq!(out[SAMPLED], "1");

        // A 64-bit trace id is the low half.
        headers.insert(TRACE_ID.into(), "48485a3953bb6124".into());
        let sc = B3Multi.extract(&headers).span().span_context().clone();
        assert_eq!(
            sc.trace_id().to_string(),
            "000000000000000048485a3953bb6124"
        );

        for bad in ["", "xyz", "0000000000000000", "48485a3953bb61245"] {
            headers.insert(TRACE_ID.into(), bad.into());
            assert!(
                !B3Multi.extract(&headers).span().span_context().is_valid(),
                "{bad}"
            );
        }
    }
}
