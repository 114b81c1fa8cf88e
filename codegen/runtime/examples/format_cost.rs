//! What converting an upstream body to JSON costs, per KB, for each text format next to
//! JSON itself: the same 500 customer records written in each format, converted by
//! `formats::to_json` many times (release build, one core).
//!
//! ```sh
//! cargo run --release -p naftiko-runtime --example format_cost --features all-formats
//! ```
//!
//! Avro and Protobuf are left out: their cost depends on the schema as much as on the body.

use std::time::{Duration, Instant};

use naftiko_runtime::formats::{Format, to_json};

const RECORDS: usize = 500;

struct Customer {
    id: usize,
    name: String,
    email: String,
    country: &'static str,
    balance: f64,
}

fn customers() -> Vec<Customer> {
    let countries = ["FR", "US", "DE", "JP", "BR"];
    (0..RECORDS)
        .map(|i| Customer {
            id: i,
            name: format!("Customer number {i}"),
            email: format!("billing+{i}@example.com"),
            country: countries[i % countries.len()],
            balance: i as f64 * 12.5,
        })
        .collect()
}

fn json(cs: &[Customer]) -> String {
    let rows: Vec<String> = cs
        .iter()
        .map(|c| {
            format!(
                r#"{{"id":{},"name":"{}","email":"{}","country":"{}","balance":{}}}"#,
                c.id, c.name, c.email, c.country, c.balance
            )
        })
        .collect();
    format!(r#"{{"customers":[{}]}}"#, rows.join(","))
}

fn xml(cs: &[Customer]) -> String {
    let mut s = String::from("<?xml version=\"1.0\"?><customers>");
    for c in cs {
        s.push_str(&format!(
            "<customer><id>{}</id><name>{}</name><email>{}</email><country>{}</country><balance>{}</balance></customer>",
            c.id, c.name, c.email, c.country, c.balance
        ));
    }
    s.push_str("</customers>");
    s
}

fn yaml(cs: &[Customer]) -> String {
    let mut s = String::from("customers:\n");
    for c in cs {
        s.push_str(&format!(
            "- id: {}\n  name: {}\n  email: {}\n  country: {}\n  balance: {}\n",
            c.id, c.name, c.email, c.country, c.balance
        ));
    }
    s
}

fn delimited(cs: &[Customer], sep: char) -> String {
    let mut s = ["id", "name", "email", "country", "balance"].join(&sep.to_string());
    s.push('\n');
    for c in cs {
        s.push_str(&format!(
            "{}{sep}{}{sep}{}{sep}{}{sep}{}\n",
            c.id, c.name, c.email, c.country, c.balance
        ));
    }
    s
}

fn html(cs: &[Customer]) -> String {
    let mut s = String::from(
        "<html><body><table><tr><th>id</th><th>name</th><th>email</th><th>country</th><th>balance</th></tr>",
    );
    for c in cs {
        s.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.id, c.name, c.email, c.country, c.balance
        ));
    }
    s.push_str("</table></body></html>");
    s
}

fn markdown(cs: &[Customer]) -> String {
    let mut s = String::from(
        "# Customers\n\n| id | name | email | country | balance |\n|---|---|---|---|---|\n",
    );
    for c in cs {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            c.id, c.name, c.email, c.country, c.balance
        ));
    }
    s
}

/// Microseconds per conversion and per KB of body: as many conversions as fit in `budget`.
fn measure(format: Format, body: &[u8], budget: Duration) -> (f64, f64) {
    // Warm up, and check that the body converts.
    to_json(format, body, None).unwrap_or_else(|e| panic!("{format:?}: {e}"));
    let started = Instant::now();
    let mut n = 0u32;
    while started.elapsed() < budget {
        std::hint::black_box(to_json(format, std::hint::black_box(body), None).ok());
        n += 1;
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    (per, per / (body.len() as f64 / 1024.0))
}

fn main() {
    let cs = customers();
    let bodies = [
        (Format::Json, json(&cs)),
        (Format::Xml, xml(&cs)),
        (Format::Yaml, yaml(&cs)),
        (Format::Csv, delimited(&cs, ',')),
        (Format::Tsv, delimited(&cs, '\t')),
        (Format::Psv, delimited(&cs, '|')),
        (Format::Html, html(&cs)),
        (Format::Markdown, markdown(&cs)),
    ];
    println!("| Format | body (KB) | µs per body | µs per KB | × JSON per KB |");
    println!("|---|---|---|---|---|");
    let mut json_per_kb = 0.0;
    for (format, body) in &bodies {
        let (per, per_kb) = measure(*format, body.as_bytes(), Duration::from_secs(2));
        if *format == Format::Json {
            json_per_kb = per_kb;
        }
        println!(
            "| {} | {:.1} | {:.0} | {:.2} | {:.1} |",
            format.label(),
            body.len() as f64 / 1024.0,
            per,
            per_kb,
            per_kb / json_per_kb
        );
    }
}
