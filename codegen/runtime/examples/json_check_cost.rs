//! What checking a passed-through JSON body costs: `formats::is_json` (the scan REST
//! pass-through uses) against serde_json's `IgnoredAny`, per call and per KB (release build,
//! one core). The body is a file given as the argument (Lago's customer list, say) or, by
//! default, 50 customer-like records of strings, numbers, nulls and nested objects.
//!
//! ```sh
//! cargo run --release -p naftiko-runtime --example json_check_cost [BODY.json]
//! ```

use std::time::{Duration, Instant};

fn default_body() -> Vec<u8> {
    let records: Vec<_> = (0..50)
        .map(|i| {
            serde_json::json!({
                "lago_id": format!("1a901a90-1a90-1a90-1a90-1a901a90{i:04}"),
                "external_id": format!("cust-{i}"),
                "name": "Gavin Belson \"Hooli\"",
                "email": "dinesh@piedpiper.test",
                "address_line1": "5230 Penfield Ave",
                "city": "Woodland Hills",
                "country": "US",
                "currency": "USD",
                "timezone": "America/Los_Angeles",
                "net_payment_term": null,
                "balance_cents": i * 1050,
                "tax_rate": 12.5,
                "created_at": "2022-04-29T08:59:51Z",
                "billing_configuration": {"invoice_grace_period": 3, "payment_provider": "stripe", "document_locale": "fr"},
                "metadata": [{"key": "tier", "value": "gold", "display_in_invoice": true}],
            })
        })
        .collect();
    serde_json::to_vec(
        &serde_json::json!({"customers": records, "meta": {"current_page": 1, "total_count": 50}}),
    )
    .unwrap_or_default()
}

/// Nanoseconds per call of `f` over about a second, after a warm-up.
fn per_call(mut f: impl FnMut() -> bool) -> f64 {
    let mut calls = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(200) {
        std::hint::black_box(f());
    }
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..64 {
            std::hint::black_box(f());
        }
        calls += 64;
    }
    start.elapsed().as_nanos() as f64 / calls as f64
}

fn main() {
    let body = match std::env::args().nth(1) {
        Some(path) => match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: cannot read {path}: {e}");
                std::process::exit(2);
            }
        },
        None => default_body(),
    };
    let serde = |b: &[u8]| serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok();
    if !naftiko_runtime::formats::is_json(&body) || !serde(&body) {
        eprintln!("error: the body is not JSON");
        std::process::exit(2);
    }
    let kb = body.len() as f64 / 1024.0;
    println!("| Check | ns per call | ns per KB |");
    println!("|---|---|---|");
    for (name, f) in [
        (
            "formats::is_json (scan)",
            &(|| naftiko_runtime::formats::is_json(std::hint::black_box(&body)))
                as &dyn Fn() -> bool,
        ),
        ("serde_json IgnoredAny", &|| {
            serde(std::hint::black_box(&body))
        }),
    ] {
        let ns = per_call(f);
        println!("| {name} | {ns:.0} | {:.0} |", ns / kb);
    }
    println!("\n{} bytes", body.len());
}
