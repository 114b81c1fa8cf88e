//! A fast stand-in for Lago used by `bench/run.sh`: answers every request with Lago's
//! example customers list (from Lago's OpenAPI examples), from memory.
//!
//! `cargo run --release -p lago-customers --example bench_stub -- 127.0.0.1:4100`

use axum::response::IntoResponse;

const BODY: &str = r#"{"customers":[{"lago_id":"1a901a90-1a90-1a90-1a90-1a901a901a90","sequential_id":1,"slug":"LAG-1234-001","external_id":"5eb02857-a71e-4ea2-bcf9-57d3a41bc6ba","billing_entity_code":"acme_corp","address_line1":"5230 Penfield Ave","address_line2":null,"applicable_timezone":"America/Los_Angeles","city":"Woodland Hills","country":"US","currency":"USD","email":"dinesh@piedpiper.test","legal_name":"Coleman-Blair","legal_number":"49-008-2965","logo_url":"http://hooli.com/logo.png","name":"Gavin Belson","firstname":"Gavin","lastname":"Belson","account_type":"customer","customer_type":"company","phone":"1-171-883-3711 x245","state":"CA","tax_identification_number":"EU123456789","timezone":"America/Los_Angeles","url":"http://hooli.com","zipcode":"91364","net_payment_term":30,"created_at":"2022-04-29T08:59:51Z","updated_at":"2022-04-29T08:59:51Z","finalize_zero_amount_invoice":"inherit","skip_invoice_custom_sections":false,"billing_configuration":{"invoice_grace_period":3,"payment_provider":"stripe","payment_provider_code":"stripe-eu-1","provider_customer_id":"cus_12345","sync":true,"sync_with_provider":true,"document_locale":"fr"},"metadata":[],"integration_customers":[],"taxes":[]}],"meta":{"current_page":1,"next_page":null,"prev_page":null,"total_pages":1,"total_count":1}}"#;

async fn answer() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        BODY,
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4100".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("bench stub on http://{}", listener.local_addr()?);
    axum::serve(listener, axum::Router::new().fallback(answer)).await
}
