//! What converting an upstream body to JSON costs, per KB, for each format next to JSON
//! itself: the same 500 customer records written in each format, converted by
//! `formats::to_json` many times (release build, one core).
//!
//! Avro and Protobuf bodies are encoded here from a schema that mirrors the record (`id`
//! long/int64, `name`, `email`, `country` strings, `balance` double), written to a temporary
//! directory and read with `formats::load_schema`, as a generated service reads its
//! `outputSchema`: Avro as one binary datum (no object container), a `Customers` record
//! holding the array; Protobuf as one `Customers` message (the first of the `.proto`)
//! holding a repeated `Customer` field, whose fields have explicit presence so that record
//! 0's zero `id` and `balance` are on the wire too.
//!
//! Before timing, each conversion is checked to give the 500 records (first and last) so
//! that no error path is timed.
//!
//! ```sh
//! cargo run --release -p naftiko-runtime --example format_cost --features all-formats
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use apache_avro::types::Value as Avro;
use naftiko_runtime::formats::{Format, Schema, load_schema, to_json};
use prost_reflect::prost::Message as _;
use prost_reflect::{DynamicMessage, Value as Proto};
use serde_json::Value;

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

/// The Avro schema of the body: one `Customers` record holding the array.
const AVSC: &str = r#"{
  "type": "record",
  "name": "Customers",
  "namespace": "bench",
  "fields": [
    {"name": "customers", "type": {"type": "array", "items": {
      "type": "record",
      "name": "Customer",
      "fields": [
        {"name": "id", "type": "long"},
        {"name": "name", "type": "string"},
        {"name": "email", "type": "string"},
        {"name": "country", "type": "string"},
        {"name": "balance", "type": "double"}
      ]
    }}}
  ]
}"#;

/// The Protobuf schema of the body: the first message, `Customers`, is the one decoded.
const PROTO: &str = r#"syntax = "proto3";

package bench;

message Customers {
  repeated Customer customers = 1;
}

message Customer {
  optional int64 id = 1;
  optional string name = 2;
  optional string email = 3;
  optional string country = 4;
  optional double balance = 5;
}
"#;

/// One binary-encoded datum, what `formats::to_json` reads for Avro.
fn avro(cs: &[Customer]) -> Vec<u8> {
    let schema = apache_avro::Schema::parse_str(AVSC).expect("the Avro schema parses");
    let records = cs
        .iter()
        .map(|c| {
            Avro::Record(vec![
                ("id".into(), Avro::Long(c.id as i64)),
                ("name".into(), Avro::String(c.name.clone())),
                ("email".into(), Avro::String(c.email.clone())),
                ("country".into(), Avro::String(c.country.into())),
                ("balance".into(), Avro::Double(c.balance)),
            ])
        })
        .collect();
    let datum = Avro::Record(vec![("customers".into(), Avro::Array(records))]);
    apache_avro::to_avro_datum(&schema, datum).expect("the records encode as Avro")
}

/// One `Customers` message, encoded with prost-reflect from the `.proto` at `path`.
fn protobuf(cs: &[Customer], path: &Path) -> Vec<u8> {
    let directory = path.parent().expect("the schema is in a directory");
    let mut compiler = protox::Compiler::new([directory]).expect("protox starts");
    compiler.open_file(path).expect("the .proto compiles");
    let pool = compiler.descriptor_pool();
    let customers = pool
        .get_message_by_name("bench.Customers")
        .expect("bench.Customers");
    let customer = pool
        .get_message_by_name("bench.Customer")
        .expect("bench.Customer");
    let records = cs
        .iter()
        .map(|c| {
            let mut m = DynamicMessage::new(customer.clone());
            m.set_field_by_name("id", Proto::I64(c.id as i64));
            m.set_field_by_name("name", Proto::String(c.name.clone()));
            m.set_field_by_name("email", Proto::String(c.email.clone()));
            m.set_field_by_name("country", Proto::String(c.country.into()));
            m.set_field_by_name("balance", Proto::F64(c.balance));
            Proto::Message(m)
        })
        .collect();
    let mut message = DynamicMessage::new(customers);
    message.set_field_by_name("customers", Proto::List(records));
    message.encode_to_vec()
}

/// The first array of `RECORDS` items in `value`, depth first.
fn records(value: &Value) -> Option<&Vec<Value>> {
    match value {
        Value::Array(items) if items.len() == RECORDS => Some(items),
        Value::Array(items) => items.iter().find_map(records),
        Value::Object(fields) => fields.values().find_map(records),
        _ => None,
    }
}

/// Whether `value` is `c` as converted: numbers compared as numbers, whether the format
/// gives them as JSON numbers (JSON, YAML, Avro, Protobuf) or as text (XML, CSV, tables).
fn is_customer(value: &Value, c: &Customer) -> bool {
    let number = |key: &str, expected: f64| match &value[key] {
        Value::Number(n) => n.as_f64() == Some(expected),
        Value::String(s) => s.parse::<f64>().ok() == Some(expected),
        _ => false,
    };
    number("id", c.id as f64)
        && value["name"] == c.name.as_str()
        && value["email"] == c.email.as_str()
        && value["country"] == c.country
        && number("balance", c.balance)
}

/// Checks that converting `body` gives the 500 records, so that no error path is timed.
fn check(format: Format, body: &[u8], schema: Option<&Schema>, cs: &[Customer]) {
    let value = to_json(format, body, schema).unwrap_or_else(|e| panic!("{format:?}: {e}"));
    let items = records(&value).unwrap_or_else(|| panic!("{format:?}: no {RECORDS} records"));
    for (i, c) in [(0, &cs[0]), (RECORDS - 1, &cs[RECORDS - 1])] {
        assert!(
            is_customer(&items[i], c),
            "{format:?}: record {i} is {}",
            items[i]
        );
    }
}

/// Microseconds per conversion and per KB of body: as many conversions as fit in `budget`.
fn measure(format: Format, body: &[u8], schema: Option<&Schema>, budget: Duration) -> (f64, f64) {
    // Warm up.
    to_json(format, body, schema).unwrap_or_else(|e| panic!("{format:?}: {e}"));
    let started = Instant::now();
    let mut n = 0u32;
    while started.elapsed() < budget {
        std::hint::black_box(to_json(format, std::hint::black_box(body), schema).ok());
        n += 1;
    }
    let per = started.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    (per, per / (body.len() as f64 / 1024.0))
}

fn main() {
    let cs = customers();
    // The schema files, read back the way a generated service reads its `outputSchema`.
    let directory = std::env::temp_dir().join(format!("format-cost-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("a temporary directory");
    let avsc = directory.join("customers.avsc");
    let proto = directory.join("customers.proto");
    std::fs::write(&avsc, AVSC).expect("customers.avsc written");
    std::fs::write(&proto, PROTO).expect("customers.proto written");
    let avro_schema = load_schema(Format::Avro, &avsc).expect("customers.avsc loads");
    let proto_schema = load_schema(Format::Protobuf, &proto).expect("customers.proto loads");
    let protobuf_body = protobuf(&cs, &proto);
    std::fs::remove_dir_all(&directory).ok();

    let bodies: [(Format, Vec<u8>, Option<&Schema>); 10] = [
        (Format::Json, json(&cs).into_bytes(), None),
        (Format::Xml, xml(&cs).into_bytes(), None),
        (Format::Yaml, yaml(&cs).into_bytes(), None),
        (Format::Csv, delimited(&cs, ',').into_bytes(), None),
        (Format::Tsv, delimited(&cs, '\t').into_bytes(), None),
        (Format::Psv, delimited(&cs, '|').into_bytes(), None),
        (Format::Html, html(&cs).into_bytes(), None),
        (Format::Markdown, markdown(&cs).into_bytes(), None),
        (Format::Avro, avro(&cs), Some(&avro_schema)),
        (Format::Protobuf, protobuf_body, Some(&proto_schema)),
    ];
    for (format, body, schema) in &bodies {
        check(*format, body, *schema, &cs);
    }
    println!("| Format | body (KB) | µs per body | µs per KB | × JSON per KB |");
    println!("|---|---|---|---|---|");
    let mut json_per_kb = 0.0;
    for (format, body, schema) in &bodies {
        let (per, per_kb) = measure(*format, body, *schema, Duration::from_secs(2));
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
