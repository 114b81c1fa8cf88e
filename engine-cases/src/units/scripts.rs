//! `execute_script_step` and `require_scripting_permitted`: the runtime's script steps,
//! called directly with the case's step, bindings and governance.

use serde_json::{Map, Value};

use naftiko_runtime::script::{self, Governance, Policy, ScriptSpec};

use super::UnitEnv;

/// `execute_script_step`: the step's output (`null` when it sets no `result`).
///
/// A case without `scripting` ran with the engine's default, scripting on; ours is off
/// unless enabled, so such a case runs with `enabled: true`.
pub fn execute(input: &Value, env: &UnitEnv) -> Result<Value, String> {
    let step = input.get("step").ok_or("input.step is missing")?;
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(|s| leak(fill(s, env)));
    // A `location: null` on the step is no location; no key at all is the test's folder.
    let location = match step.get("location") {
        Some(v) => text(Some(v)),
        None => text(input.get("location")),
    };
    let deps: Vec<&'static str> = step
        .get("dependencies")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|s| leak(s.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let spec = ScriptSpec {
        step: leak(text(step.get("name")).unwrap_or("step").to_owned()),
        language: text(step.get("language")),
        location,
        file: text(step.get("file")).ok_or("input.step.file is missing")?,
        dependencies: Vec::leak(deps),
    };
    let mut policy = policy(input.get("scripting"), env);
    policy.enabled = policy.enabled.or(Some(true));
    let gov = Governance::new(policy);
    let mut context = Map::new();
    for key in ["runtime_parameters", "step_outputs"] {
        if let Some(Value::Object(m)) = input.get(key) {
            context.extend(m.clone());
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(script::run(&gov, &spec, Value::Object(context)))
        .map(Option::unwrap_or_default)
        .map_err(|e| e.to_string())
}

/// `require_scripting_permitted`: nothing when a step may run, else the refusal.
pub fn permitted(input: &Value, env: &UnitEnv) -> Result<Value, String> {
    let step = input.get("step").and_then(Value::as_str).unwrap_or("step");
    let gov = Governance::new(policy(input.get("scripting"), env));
    script::require_permitted(&gov, step)
        .map(|()| Value::Null)
        .map_err(|e| e.to_string())
}

/// The case's `scripting` block as a policy (the engine's defaults for what it leaves out).
fn policy(s: Option<&Value>, env: &UnitEnv) -> Policy {
    let s = s.cloned().unwrap_or_default();
    let text = |k: &str| s.get(k).and_then(Value::as_str).map(|v| leak(fill(v, env)));
    let allowed: Vec<&'static str> = s
        .get("allowedLanguages")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(|v| leak(v.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    Policy {
        enabled: s.get("enabled").and_then(Value::as_bool),
        default_location: text("defaultLocation"),
        default_language: text("defaultLanguage"),
        timeout_ms: s
            .get("timeout")
            .and_then(Value::as_u64)
            .unwrap_or(Policy::DEFAULT.timeout_ms),
        statement_limit: s
            .get("statementLimit")
            .and_then(Value::as_u64)
            .unwrap_or(Policy::DEFAULT.statement_limit),
        allowed_languages: Vec::leak(allowed),
    }
}

fn fill(text: &str, env: &UnitEnv) -> String {
    text.replace("${FIXTURES}", &env.fixtures.to_string_lossy())
}

/// The runtime's specs hold `&'static str` (generated code's constants); a case is run once.
fn leak(s: String) -> &'static str {
    s.leak()
}
