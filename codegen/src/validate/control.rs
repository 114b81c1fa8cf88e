//! `exposes` of type `control`: which routes the control port serves, its address and
//! authentication, and the observability settings it carries.

use super::Checker;
use crate::ir::Control;
use crate::spec::model::ExposesControl;
use crate::spec::source_map::YamlPath;

/// The most traces `/traces` may keep: each is held in memory with its spans.
const MAX_TRACE_BUFFER: u64 = 100_000;

impl Checker<'_> {
    pub(super) fn control(&mut self, c: &ExposesControl, path: &YamlPath) -> Option<Control> {
        let auth = self.inbound_auth(&c.authentication, path);
        let management = c.management.as_ref();
        let mpath = path.key("management");
        if let Some(m) = management {
            for (set, key) in [(m.reload, "reload"), (m.validate, "validate")] {
                if set == Some(true) {
                    self.warn_key(
                        &mpath.key(key),
                        format!("`{key}` serves nothing (the reference engine parses it and serves nothing either)"),
                    );
                }
            }
            if m.logs.is_some() {
                self.warn_key(
                    &mpath.key("logs"),
                    "`logs` serves nothing: logs go to stderr (`--log-format json` for machines)",
                );
            }
        }
        let obs = c.observability.as_ref();
        let opath = path.key("observability");
        // The engine's rule: no `observability` block means on; `enabled: false` means off.
        let enabled = obs.and_then(|o| o.enabled).unwrap_or(true);
        let metrics = enabled
            && obs
                .and_then(|o| o.metrics.as_ref())
                .and_then(|m| m.local.as_ref())
                .and_then(|l| l.enabled)
                .unwrap_or(true);
        if let Some(o) = obs.filter(|_| enabled) {
            if let Some(t) = &o.traces {
                if let Some(s) = t.sampling
                    && !(0.0..=1.0).contains(&s)
                {
                    self.error_value(
                        &opath.key("traces").key("sampling"),
                        format!("`sampling` is a ratio from 0 to 1, not {s}"),
                    );
                }
                match t.local.as_ref().and_then(|l| l.buffer_size) {
                    Some(0) => {
                        self.error_value(
                            &opath.key("traces").key("local").key("buffer-size"),
                            "`buffer-size` keeps at least one trace",
                        );
                    }
                    // Each trace is held in memory with its spans.
                    Some(n) if n > MAX_TRACE_BUFFER => {
                        self.error_value(
                            &opath.key("traces").key("local").key("buffer-size"),
                            format!("`buffer-size` keeps at most {MAX_TRACE_BUFFER} traces in memory, not {n}"),
                        );
                    }
                    _ => {}
                }
            }
            if let Some(e) = o.exporters.as_ref().and_then(|e| e.otlp.as_ref()) {
                // A blank endpoint means no export, as in the engine.
                let blank = e.endpoint.trim().is_empty();
                if !(blank
                    || e.endpoint.starts_with("http://")
                    || e.endpoint.starts_with("https://"))
                {
                    self.error_value(
                        &opath.key("exporters").key("otlp").key("endpoint"),
                        format!(
                            "the OTLP endpoint `{}` must be an http:// or https:// URL",
                            e.endpoint
                        ),
                    );
                }
                // Spans go out as OTLP over HTTP (protobuf); 4317 is the gRPC port by convention.
                if e.endpoint.trim_end_matches('/').ends_with(":4317") {
                    self.warn_key(
                        &opath.key("exporters").key("otlp").key("endpoint"),
                        format!(
                            "spans are exported as OTLP over HTTP (`{}/v1/traces`); port 4317 is OTLP over gRPC by convention, the HTTP port is 4318",
                            e.endpoint.trim_end_matches('/')
                        ),
                    );
                }
            }
        }
        let traces = obs.and_then(|o| o.traces.as_ref());
        let local = traces.and_then(|t| t.local.as_ref());
        let traces = crate::ir::Traces {
            enabled,
            local: enabled && local.and_then(|l| l.enabled).unwrap_or(true),
            buffer: local.and_then(|l| l.buffer_size).unwrap_or(100).max(1),
            sampling: traces
                .and_then(|t| t.sampling)
                .unwrap_or(1.0)
                .clamp(0.0, 1.0),
            otlp: obs
                .and_then(|o| o.exporters.as_ref())
                .and_then(|e| e.otlp.as_ref())
                .map(|o| o.endpoint.trim().to_owned())
                .filter(|e| !e.is_empty()),
            b3: traces
                .and_then(|t| t.propagation.as_deref())
                .is_some_and(|p| !p.eq_ignore_ascii_case("w3c")),
        };
        Some(Control {
            traces,
            address: c.address.clone(),
            port: c.port,
            auth,
            health: management.and_then(|m| m.health).unwrap_or(true),
            info: management.and_then(|m| m.info).unwrap_or(false),
            metrics,
        })
    }
}
