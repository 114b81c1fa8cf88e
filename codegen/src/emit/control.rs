//! The control port: what it serves and its authentication, as `control_port::surface`.

use proc_macro2::TokenStream;
use quote::quote;

use super::values::opt_str;
use super::{code, doc};
use crate::ir::{Capability, Control};

pub(super) fn module(cap: &Capability, c: &Control) -> TokenStream {
    let address = opt_str(c.address.as_deref());
    let (port, health, info, metrics) = (
        proc_macro2::Literal::u16_unsuffixed(c.port),
        c.health,
        c.info,
        c.metrics,
    );
    let mut routes = Vec::new();
    if c.health {
        routes.push("`/health/live`, `/health/ready`");
    }
    if c.info {
        routes.push("`/status`");
    }
    if c.metrics {
        routes.push("`/metrics`");
    }
    if c.traces.enabled && c.traces.local {
        routes.push("`/traces`");
    }
    let t = &c.traces;
    let (enabled, local) = (t.enabled, t.local);
    let sampling = proc_macro2::Literal::f64_unsuffixed(t.sampling);
    let buffer = proc_macro2::Literal::usize_unsuffixed(t.buffer as usize);
    let otlp = opt_str(t.otlp.as_deref());
    let b3 = t.b3;
    // The engine serves `/scripting` whenever the control adapter has a scripting block.
    let scripting = cap.scripting.is_some();
    if scripting {
        routes.push("`/scripting`");
    }
    let extra = if scripting {
        quote!(vec![naftiko_runtime::script::router(
            clients.scripting.clone()
        )])
    } else {
        quote!(Vec::new())
    };
    let module_doc = doc(&format!(
        "The control port, {}: {}.",
        code(&c.port.to_string()),
        if routes.is_empty() {
            "no routes".to_owned()
        } else {
            routes.join(", ")
        }
    ));
    let auth = super::rest::inbound(c.auth.as_ref());
    quote! {
        #module_doc
        pub mod control_port {
            /// What the control port serves.
            pub const SPEC: naftiko_runtime::control::ControlSpec = naftiko_runtime::control::ControlSpec {
                address: #address,
                port: #port,
                health: #health,
                info: #info,
                metrics: #metrics,
                traces: naftiko_runtime::telemetry::TraceSpec {
                    enabled: #enabled,
                    local: #local,
                    buffer: #buffer,
                    sampling: #sampling,
                    otlp: #otlp,
                    b3: #b3,
                },
            };
            #auth
            /// The control port as a servable surface.
            pub fn surface(clients: &super::Clients) -> naftiko_runtime::control::ControlSurface {
                naftiko_runtime::control::ControlSurface {
                    spec: SPEC,
                    auth: auth(&clients.vars),
                    extra: #extra,
                }
            }
        }
    }
}
