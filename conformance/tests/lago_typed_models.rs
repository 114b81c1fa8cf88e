//! Typed answers for the Lago spec from Lago's own OpenAPI document (`Builder::openapi`):
//! each of the 9 consumed operations gets a typed method, the generated crate builds with
//! clippy's warnings denied, and Lago's example bodies (`lago/examples/`), served by a stub
//! upstream over a real socket, are read by the typed methods into the models: 8 of 9 as
//! they are, and the current-usage example, which contradicts Lago's schema (a `null`
//! where an integer is required), is the documented error naming the path.
//!
//! The document is AGPL: it is read from the shared folder only, never copied here.

use std::process::Command;

use naftiko_conformance::{cargo, scratch_target, shared_dir, workspace_root};

/// The 9 operations of specs/lago-customers.yaml, by client method.
const METHODS: [&str; 9] = [
    "createcustomer",
    "findallcustomers",
    "deleteappliedcoupon",
    "generatecustomercheckouturl",
    "findcustomercurrentusage",
    "findallcustomerpastusage",
    "getcustomerportalurl",
    "findcustomer",
    "destroycustomer",
];

#[test]
#[cfg_attr(
    not(naftiko_shared),
    ignore = "needs the shared reference material: set NAFTIKO_SHARED to its folder, or place it at ../shared"
)]
fn lago_examples_read_into_the_typed_models() {
    let root = workspace_root();
    let shared = shared_dir();
    let g = naftiko_codegen::generate_with_openapi(
        root.join("specs/lago-customers.yaml"),
        shared.join("lago/openapi.yaml"),
    )
    .unwrap_or_else(|d| panic!("{d}"));
    // Every operation is described by the document: no warning.
    assert!(g.warnings.0.is_empty(), "{}", g.warnings);
    for m in METHODS {
        assert!(
            g.source.contains(&format!("pub async fn {m}_typed(")),
            "no typed method for {m}"
        );
    }
    assert_eq!(g.source.matches("_typed(\n").count(), METHODS.len());
    // Fields typed as any value (schemas that could not be typed, or untyped ones).
    let models = &g.source[g.source.find("pub mod models {").unwrap()..];
    let values = models.matches("serde_json::Value").count();
    println!("{values} model field(s) typed as serde_json::Value");

    let dir = scratch_target().join("lago-typed");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("src/lago_customers.rs"), &g.source).unwrap();
    std::fs::write(
        dir.join("src/lib.rs"),
        "//! The generated Lago code, with its typed answers.\n\npub mod api {\n    include!(\"lago_customers.rs\");\n}\n",
    )
    .unwrap();
    std::fs::write(dir.join("src/main.rs"), DRIVER).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"lago-typed\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[dependencies]\nnaftiko-runtime = {{ path = \"{}\", features = [\"testing\"] }}\ntokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n",
            root.join("codegen/runtime").display()
        ),
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    cargo(&dir, &["clippy", "--quiet", "--", "-D", "warnings"]);
    cargo(&dir, &["build", "--quiet"]);
    let out = Command::new(scratch_target().join("debug/lago-typed"))
        .arg(shared.join("lago/examples"))
        .output()
        .expect("run the driver");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the driver failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // 8 of Lago's 9 example bodies are read, none of their fields ignored by the models.
    for m in METHODS.iter().filter(|m| **m != "findcustomercurrentusage") {
        assert!(
            stdout.contains(&format!("{m}: read, 0 field(s) of the example ignored []")),
            "{m}:\n{stdout}"
        );
    }
    // The current-usage example contradicts Lago's schema: a filter's `pricing_unit_details`
    // has `amount_cents: null` where the schema (`UsagePricingUnitDetailsObject`) requires an
    // integer. The typed view says so, with the path; the raw method keeps the body.
    assert!(
        stdout.contains("findcustomercurrentusage: mismatch: upstream call `lago-customers.findcustomercurrentusage` returned an invalid response: the body does not match the model `CustomerUsage` at `customer_usage.charges_usage[0].grouped_usage[0].filters[0].pricing_unit_details.amount_cents`: invalid type: null, expected i64"),
        "{stdout}"
    );
    assert!(
        stdout.contains("raw findcustomercurrentusage: the whole body"),
        "{stdout}"
    );
    assert!(stdout.contains("all 9 typed calls made"), "{stdout}");
}

/// The generated crate's program: each typed method against a stub serving Lago's example
/// body of its operation; prints, per operation, the example's fields the model ignores.
const DRIVER: &str = r#"//! Calls the 9 typed methods of the generated Lago client against a stub serving Lago's examples.

use std::path::{Path, PathBuf};

use lago_typed::api::lago_customers::Client;
use naftiko_runtime::client::ClientConfig;
use naftiko_runtime::serde::Serialize;
use naftiko_runtime::serde_json::{self, Value};
use naftiko_runtime::testing::{RecordingStub, Reply};

fn example(dir: &Path, name: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(name)).expect("example");
    serde_json::from_str(&text).expect("example JSON")
}

/// The paths of `example` that `typed` (the model, serialized again) does not hold.
fn ignored(example: &Value, typed: &Value, at: &str, out: &mut Vec<String>) {
    match (example, typed) {
        (Value::Object(e), Value::Object(t)) => {
            for (k, v) in e {
                match t.get(k) {
                    Some(tv) => ignored(v, tv, &format!("{at}.{k}"), out),
                    // Absent from the model's JSON: null, or an empty map or list.
                    None if v.is_null()
                        || v.as_object().is_some_and(|o| o.is_empty())
                        || v.as_array().is_some_and(|a| a.is_empty()) => {}
                    None => out.push(format!("{at}.{k}")),
                }
            }
        }
        (Value::Array(e), Value::Array(t)) => {
            for (i, (ev, tv)) in e.iter().zip(t).enumerate() {
                ignored(ev, tv, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn report<T: Serialize>(name: &str, example: &Value, model: &T) {
    let typed = serde_json::to_value(model).expect("serialize");
    let mut out = Vec::new();
    ignored(example, &typed, "$", &mut out);
    println!("{name}: read, {} field(s) of the example ignored {out:?}", out.len());
}

#[tokio::main]
async fn main() {
    let dir = PathBuf::from(std::env::args().nth(1).expect("examples folder"));
    let customer = example(&dir, "customer.response.json");
    let list = example(&dir, "customers_list.response.json");
    let coupon = example(&dir, "applied_coupon_delete.response.json");
    let checkout = example(&dir, "customer_checkout_url.response.json");
    let current = example(&dir, "customer_current_usage.response.json");
    let past = example(&dir, "customer_past_usage.response.json");
    let portal = example(&dir, "customer_portal_url.response.json");
    let stub = RecordingStub::start().await.expect("stub");
    {
        let (customer, list, coupon, checkout, current, past, portal) = (
            customer.clone(), list.clone(), coupon.clone(), checkout.clone(),
            current.clone(), past.clone(), portal.clone(),
        );
        stub.respond(move |r| {
            let segs: Vec<&str> = r.path.trim_start_matches('/').split('/').collect();
            let body = match (r.method.as_str(), segs.as_slice()) {
                ("POST", ["customers"]) => customer.clone(),
                ("GET", ["customers"]) => list.clone(),
                ("DELETE", ["customers", _, "applied_coupons", _]) => coupon.clone(),
                ("POST", ["customers", _, "checkout_url"]) => checkout.clone(),
                ("GET", ["customers", _, "current_usage"]) => current.clone(),
                ("GET", ["customers", _, "past_usage"]) => past.clone(),
                ("GET", ["customers", _, "portal_url"]) => portal.clone(),
                ("GET" | "DELETE", ["customers", _]) => customer.clone(),
                _ => return Reply::json(404, serde_json::json!({"status": 404, "error": "Not Found"})),
            };
            Reply::json(200, body)
        });
    }
    let config = ClientConfig::default().base_url(stub.url()).with_var("LAGO_API_KEY", "k");
    let c = Client::new(config).expect("client");
    let id = "5eb02857-a71e-4ea2-bcf9-57d3a41bc6ba";
    macro_rules! check {
        ($name:literal, $call:expr, $example:expr) => {
            match $call.await {
                Ok(model) => report($name, &$example, &model),
                Err(e) => println!("{}: mismatch: {e}", $name),
            }
        };
    }
    check!("createcustomer", c.createcustomer_typed(&Default::default()), customer);
    check!("findallcustomers", c.findallcustomers_typed(&Default::default()), list);
    check!("deleteappliedcoupon", c.deleteappliedcoupon_typed(id, "c-1"), coupon);
    check!("generatecustomercheckouturl", c.generatecustomercheckouturl_typed(id), checkout);
    check!("findcustomercurrentusage", c.findcustomercurrentusage_typed(id, &Default::default()), current);
    check!("findallcustomerpastusage", c.findallcustomerpastusage_typed(id, &Default::default()), past);
    check!("getcustomerportalurl", c.getcustomerportalurl_typed(id), portal);
    check!("findcustomer", c.findcustomer_typed(id), customer);
    check!("destroycustomer", c.destroycustomer_typed(id), customer);
    // The raw method keeps the whole body, whatever the model says.
    let raw = c.findcustomercurrentusage(id, &Default::default()).await.expect("raw").json().expect("json");
    assert_eq!(raw, current);
    println!("raw findcustomercurrentusage: the whole body");
    println!("all 9 typed calls made");
}
"#;
