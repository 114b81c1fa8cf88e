//! MCP prompts: messages with `{{argument}}` placeholders, written in the spec or read
//! from a file, rendered by `prompts/get`.

use std::borrow::Cow;

use rmcp::ErrorData as McpError;
use rmcp::model::{GetPromptResult, JsonObject, Prompt, PromptArgument, PromptMessage, Role};
use serde_json::Value;

/// One prompt, as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct PromptSpec {
    /// The name clients get it by.
    pub name: &'static str,
    /// A human-readable title, if the spec gives one.
    pub title: Option<&'static str>,
    /// What the prompt is for, if the spec says.
    pub description: Option<&'static str>,
    /// The arguments its placeholders take.
    pub arguments: &'static [PromptArgumentSpec],
    /// Its messages.
    pub body: PromptBody,
}

/// An argument of a prompt.
#[derive(Debug, Clone, Copy)]
pub struct PromptArgumentSpec {
    /// The name its `{{placeholder}}` uses.
    pub name: &'static str,
    /// A human-readable title, if the spec gives one.
    pub title: Option<&'static str>,
    /// What to give, if the spec says.
    pub description: Option<&'static str>,
    /// Whether `prompts/get` without it is an error.
    pub required: bool,
}

/// The messages of a prompt.
#[derive(Debug, Clone, Copy)]
pub enum PromptBody {
    /// Messages written in the spec: `(role, text)`, the role `user` or `assistant`.
    Messages(&'static [(PromptRole, &'static str)]),
    /// One user message: the whole file at this `file:` location, read when asked for.
    File(&'static str),
}

/// Who says a prompt message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptRole {
    /// A message from the user.
    User,
    /// A message from the model.
    Assistant,
}

/// `prompts/list`, in spec order.
pub(super) fn list(specs: &[PromptSpec]) -> Vec<Prompt> {
    specs
        .iter()
        .map(|p| {
            let arguments: Vec<PromptArgument> = p
                .arguments
                .iter()
                .map(|a| {
                    let mut arg = PromptArgument::new(a.name).with_required(a.required);
                    if let Some(t) = a.title {
                        arg = arg.with_title(t);
                    }
                    if let Some(d) = a.description {
                        arg = arg.with_description(d);
                    }
                    arg
                })
                .collect();
            let mut prompt = Prompt::new(
                p.name,
                p.description,
                (!arguments.is_empty()).then_some(arguments),
            );
            if let Some(t) = p.title {
                prompt = prompt.with_title(t);
            }
            prompt
        })
        .collect()
}

/// `prompts/get`: the messages with the arguments put in. A required argument that is
/// missing is an error (the client should have sent it); an optional one leaves its
/// placeholder as written.
pub(super) async fn get(
    specs: &[PromptSpec],
    name: &str,
    args: Option<JsonObject>,
) -> Result<GetPromptResult, McpError> {
    let Some(spec) = specs.iter().find(|p| p.name == name) else {
        return Err(invalid(format!("Invalid params: Unknown prompt: {name}")));
    };
    let args = args.unwrap_or_default();
    let missing: Vec<&str> = spec
        .arguments
        .iter()
        .filter(|a| a.required && args.get(a.name).is_none_or(Value::is_null))
        .map(|a| a.name)
        .collect();
    if !missing.is_empty() {
        return Err(invalid(format!(
            "Invalid params: prompt `{name}` needs the argument{} {}",
            if missing.len() == 1 { "" } else { "s" },
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let messages = match spec.body {
        PromptBody::Messages(messages) => messages
            .iter()
            .map(|(role, text)| {
                let role = match role {
                    PromptRole::User => Role::User,
                    PromptRole::Assistant => Role::Assistant,
                };
                PromptMessage::new_text(role, render(text, &args))
            })
            .collect(),
        PromptBody::File(location) => {
            let path = crate::binds::location_path(location);
            let text = tokio::task::spawn_blocking(move || std::fs::read_to_string(path))
                .await
                .ok()
                .and_then(Result::ok)
                .ok_or_else(|| {
                    McpError::internal_error(
                        format!("Internal error: Prompt file not found for '{name}': {location}"),
                        None,
                    )
                })?;
            vec![PromptMessage::new_text(Role::User, render(&text, &args))]
        }
    };
    let mut result = GetPromptResult::new(messages);
    if let Some(d) = spec.description {
        result = result.with_description(d);
    }
    Ok(result)
}

fn invalid(message: String) -> McpError {
    McpError::invalid_params(Cow::Owned(message), None)
}

/// Replaces each `{{name}}` (`name` of letters, digits, `_`) that names an argument with
/// its value: strings as they are, other values as JSON. Inserted text is not scanned
/// again, and unknown placeholders stay as written.
pub fn render(template: &str, args: &JsonObject) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find("}}").and_then(|end| {
            let name = &after[..end];
            let plain =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            let value = args.get(name).filter(|v| plain && !v.is_null())?;
            Some((end, value))
        });
        match value {
            Some((end, value)) => {
                match value {
                    Value::String(s) => out.push_str(s),
                    other => out.push_str(&other.to_string()),
                }
                rest = &after[end + 2..];
            }
            // Not a placeholder here: move one brace on (`{{{a}}}` holds `{{a}}`).
            None => {
                out.push('{');
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::render;
    use serde_json::json;

    #[test]
    fn placeholders() {
        let args = json!({"a": "x{{b}}", "b": "B", "n": 3, "d": "$1 \\ "})
            .as_object()
            .cloned()
            .unwrap();
        assert_eq!(render("{{a}}-{{b}}", &args), "x{{b}}-B");
        assert_eq!(
            render("{{n}} {{missing}} {{ a }}", &args),
            "3 {{missing}} {{ a }}"
        );
        assert_eq!(render("{{d}}", &args), "$1 \\ ");
        assert_eq!(render("{{a", &args), "{{a");
        assert_eq!(render("{{{a}}}", &args), "{x{{b}}}");
    }
}
