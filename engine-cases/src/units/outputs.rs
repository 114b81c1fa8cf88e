//! Probe plans for output parameters, mock values, templates, JSONPath and formats: tools
//! whose outputs do the case's operation on an upstream answer or on their inputs.

use serde_json::{Map, Value, json};

use super::input_list;
use super::plans::*;

/// `resolve_output_parameter`: the output parameter on a tool whose upstream answers
/// `root`; a `value` rendered against parameters is a mock (a tool without a call whose
/// inputs are the parameters).
pub fn output_parameter(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let param = field(one, "outputParameter").ok_or("input.outputParameter is missing")?;
        let params = field(one, "parameters");
        let name = format!("probe-{i}");
        let templated = param
            .get("value")
            .and_then(Value::as_str)
            .is_some_and(|v| v.contains("{{"));
        let mock = param.get("value").is_some()
            && param.get("mapping").is_none()
            && (params.is_some() || templated);
        if mock {
            p.tool(tool(
                &name,
                inputs_of(params),
                json!({"outputParameters": [param]}),
            ));
            p.call_tool(&name, args_of(params), Read::Field(mock_key(param)));
            continue;
        }
        let call = p.operation(&name, json!({}));
        p.tool(tool(
            &name,
            Vec::new(),
            json!({"call": call, "outputParameters": [param]}),
        ));
        let root = one.get("root").cloned().unwrap_or(Value::Null).to_string();
        p.answer(&name, &root, "application/json");
        p.call_tool(&name, json!({}), Read::Result);
    }
    Ok(p.done())
}

/// `build_mock_value`: a tool without a call whose output is the parameter, whose inputs
/// are the case's parameters.
pub fn mock_value(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let param = field(one, "outputParameter").ok_or("input.outputParameter is missing")?;
        let params = field(one, "parameters");
        let name = format!("probe-{i}");
        p.tool(tool(
            &name,
            inputs_of(params),
            json!({"outputParameters": [param]}),
        ));
        p.call_tool(&name, args_of(params), Read::Field(mock_key(param)));
    }
    Ok(p.done())
}

/// `render_template`: a mock tool whose output `value` is the template and whose inputs
/// are the case's parameters.
pub fn render_template(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let params = field(one, "parameters");
        let name = format!("probe-{i}");
        let outputs = match one.get("template").and_then(Value::as_str) {
            Some(t) => json!([{"type": "string", "value": t}]),
            None => json!([]),
        };
        p.tool(tool(
            &name,
            inputs_of(params),
            json!({"outputParameters": outputs}),
        ));
        p.call_tool(&name, args_of(params), Read::Field("value".into()));
    }
    Ok(p.done())
}

/// A tool mapping `$.v` of an upstream answer through `param`'s other fields.
fn mapped_probe(p: &mut Plan, name: &str, root: &Value, param: Value) {
    let call = p.operation(name, json!({}));
    p.tool(tool(
        name,
        Vec::new(),
        json!({"call": call, "outputParameters": [param]}),
    ));
    p.answer(name, &root.to_string(), "application/json");
    p.call_tool(name, json!({}), Read::Result);
}

/// `jsonpath`: a tool whose output parameter maps `path` of an upstream answer `root`.
/// `type: object` without properties keeps whatever the path selects (no typing).
pub fn jsonpath(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let path = one
            .get("path")
            .and_then(Value::as_str)
            .ok_or("input.path is missing")?;
        let root = one.get("root").cloned().unwrap_or(Value::Null);
        mapped_probe(
            &mut p,
            &format!("probe-{i}"),
            &root,
            json!({"type": "object", "mapping": path}),
        );
    }
    Ok(p.done())
}

/// `apply_max_length`: a string output with `maxLength` over an upstream value.
pub fn max_length(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let value = one.get("value").cloned().unwrap_or(Value::Null);
        let mut param = json!({"type": "string", "mapping": "$.v"});
        if let Some(m) = field(one, "maxLength") {
            param["maxLength"] = m.clone();
        }
        mapped_probe(&mut p, &format!("probe-{i}"), &json!({"v": value}), param);
    }
    Ok(p.done())
}

/// Extra facts an `also` expectation states about engine helpers.
///
/// `fix_json_path_with_spaces` (`{path: rewritten}`): the engine rewrites a dotted key with
/// spaces into bracket notation before evaluating it; our JSONPath parser reads the
/// dotted form as the same path (compared on the parsed segments; Jayway's `$.[` is `$[`).
pub fn also(key: &str, value: &Value) -> Result<(), String> {
    use naftiko_codegen::validate::expr::parse_json_path;
    match key {
        "fix_json_path_with_spaces" => {
            for (from, to) in value.as_object().into_iter().flatten() {
                let to = to.as_str().unwrap_or("").replace("$.[", "$[");
                let a = parse_json_path(from).map_err(|e| format!("also.{key}: {e}"))?;
                let b = parse_json_path(&to).map_err(|e| format!("also.{key}: {e}"))?;
                if a != b {
                    return Err(format!(
                        "also.{key}: `{from}` reads as {a:?}, `{to}` as {b:?}"
                    ));
                }
            }
            Ok(())
        }
        _ => Err(format!("also.{key}: not known to the runner")),
    }
}

/// `convert_to_json`: a consumed operation with `outputRawFormat` answering `text`, and a
/// tool passing the converted body through (`mapping: $.`).
pub fn convert(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let format = one.get("format").and_then(Value::as_str).map(str::to_owned);
        let mut op = Map::new();
        if let Some(f) = &format {
            op.insert("outputRawFormat".into(), Value::String(f.clone()));
        }
        if let Some(s) = one
            .get("outputSchema")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            op.insert("outputSchema".into(), Value::String(s.to_owned()));
        }
        let call = p.operation(&name, Value::Object(op));
        p.tool(tool(
            &name,
            Vec::new(),
            json!({"call": call, "outputParameters": [{"type": "object", "mapping": "$."}]}),
        ));
        let text = one.get("text").and_then(Value::as_str).unwrap_or("");
        p.answer(&name, text, format_media(format.as_deref()));
        p.call_tool(&name, json!({}), Read::Result);
    }
    Ok(p.done())
}

/// `tool_annotations`: the tool's label and hints on a generated MCP tool.
pub fn annotations(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let mut t = one.get("tool").cloned().ok_or("input.tool is missing")?;
        let name = format!("probe-{i}");
        let call = p.operation(&name, json!({}));
        t["name"] = Value::String(name.clone());
        t["call"] = Value::String(call);
        if t.get("description").is_none() {
            t["description"] = Value::String(format!("Probe {i}"));
        }
        p.tool(t);
        p.probe(
            Ask::ToolsList {
                server: PROBE_MCP.into(),
            },
            Read::Annotations(name),
        );
    }
    Ok(p.done())
}

/// `apply_output_mappings`: a tool whose upstream answers `response_text`, with the
/// case's output parameters (and the consumed operation's `outputRawFormat`).
pub fn output_mappings(input: &Value, _: &PlanCtx) -> Result<SpecPlan, String> {
    let (list, many) = input_list(input);
    let mut p = Plan::new(many);
    for (i, one) in list.iter().enumerate() {
        p.next();
        let name = format!("probe-{i}");
        let mut extra = json!({});
        if let Some(f) = field(one, "outputRawFormat") {
            extra["outputRawFormat"] = f.clone();
        }
        let call = p.operation(&name, extra);
        let mut fields = json!({"call": call});
        if let Some(o) =
            field(one, "outputParameters").filter(|o| o.as_array().is_some_and(|a| !a.is_empty()))
        {
            fields["outputParameters"] = o.clone();
        }
        p.tool(tool(&name, Vec::new(), fields));
        let text = one
            .get("response_text")
            .and_then(Value::as_str)
            .unwrap_or("");
        p.answer(&name, text, media_of(text));
        p.call_tool(&name, json!({}), Read::MappedOrNull(text.to_owned()));
    }
    Ok(p.done())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_path_with_spaces() {
        assert!(
            also(
                "fix_json_path_with_spaces",
                &json!({"$.user details.email": "$.['user details'].email"})
            )
            .is_ok()
        );
        assert!(
            also(
                "fix_json_path_with_spaces",
                &json!({"$.a b.c": "$['a b'].d"})
            )
            .is_err()
        );
    }
}
