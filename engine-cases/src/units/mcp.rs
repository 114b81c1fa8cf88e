//! Adapters of the MCP prompt and resource functions to the runtime's own: the prompt
//! renderer that `prompts/get` uses, and the URI template matcher of `resources/read`.

use serde_json::{Map, Value};

use super::UnitEnv;

/// `prompt_substitute`: `input.template` rendered with `input.arguments` (a null template
/// is empty text).
pub fn prompt_substitute(input: &Value, _: &UnitEnv) -> Result<Value, String> {
    let template = input.get("template").and_then(Value::as_str).unwrap_or("");
    let args = input
        .get("arguments")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    Ok(Value::String(naftiko_runtime::mcp::render(template, &args)))
}

/// `match_resource_uri`: the variables `input.uri` gives `input.template`, as an object, or
/// null when it does not match.
pub fn match_resource_uri(input: &Value, _: &UnitEnv) -> Result<Value, String> {
    let template = input
        .get("template")
        .and_then(Value::as_str)
        .ok_or("input.template is missing")?;
    let uri = input
        .get("uri")
        .and_then(Value::as_str)
        .ok_or("input.uri is missing")?;
    // Generated code holds its templates as constants; a runner's few cases may leak theirs.
    let template: &'static str = Box::leak(template.to_owned().into_boxed_str());
    Ok(match naftiko_runtime::mcp::match_uri(template, uri) {
        Some(vars) => Value::Object(
            vars.into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                .collect::<Map<_, _>>(),
        ),
        None => Value::Null,
    })
}
