//! Lago's Customers API, generated at build time from `specs/lago-customers.yaml`.
//!
//! - [`lago_customers::Client`]: the typed HTTP client (one async method per operation).
//! - [`lago_customers_rest::router`]: the axum REST adapter (9 routes under `/v1`).
//! - [`lago_customers_mcp::handler`]: the MCP tool registry (9 tools), an rmcp server handler.
//! - [`sandbox`]: an in-memory stand-in for Lago, for trying the service without an account.
//!
//! Each is usable alone; [`surfaces`] bundles them for [`naftiko_runtime::serve`].

include!(concat!(env!("OUT_DIR"), "/lago_customers.rs"));

pub mod sandbox;
