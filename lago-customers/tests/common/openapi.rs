//! Lago's OpenAPI document (`../shared/lago/openapi.yaml`) as JSON Schema validators.

use serde_json::{Value, json};

pub struct OpenApi(Value);

impl OpenApi {
    pub fn load() -> OpenApi {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/lago/openapi.yaml"
        );
        let text =
            std::fs::read_to_string(path).expect("Lago's OpenAPI document in ../shared/lago");
        let doc: Value = serde_yaml::from_str(&text).expect("OpenAPI YAML");
        OpenApi(doc)
    }

    /// The response schema of `method path` for `status`, as a validator whose `$ref`s
    /// resolve inside the document.
    pub fn validator(&self, method: &str, path: &str, status: u16) -> jsonschema::Validator {
        let op = &self.0["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "no {method} {path} in the OpenAPI document");
        let mut response = op["responses"][status.to_string()].clone();
        if let Some(r) = response.get("$ref").and_then(Value::as_str) {
            response = self.pointer(r);
        }
        let schema = response["content"]["application/json"]["schema"].clone();
        assert!(
            !schema.is_null(),
            "no JSON schema for {status} of {method} {path}"
        );
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": self.0["components"].clone(),
        });
        jsonschema::validator_for(&root).expect("a valid schema")
    }

    fn pointer(&self, r: &str) -> Value {
        self.0
            .pointer(r.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// Panics with every schema error of `value`.
pub fn assert_valid(v: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match Lago's schema:\n{}\n{value:#}",
        errors.join("\n")
    );
}
