//! MCP `resources` (files under a folder, or the result of a call or steps) and `prompts`
//! (messages with `{{argument}}` placeholders, inline or from a file).

use super::Checker;
use super::aggregates::ActionParts;
use super::inputs::{Scope, Surface};
use crate::ir::{
    Client, Flow, Input, ParamType, Prompt, PromptArgument, PromptBody, Resource, ResourceKind,
    Source,
};
use crate::spec::grammar::NamedList;
use crate::spec::model::{McpPrompt, McpResource};
use crate::spec::source_map::YamlPath;

impl Checker<'_> {
    pub(super) fn resources(
        &mut self,
        list: &NamedList<McpResource>,
        path: &YamlPath,
        namespace: &str,
        clients: &[Client],
    ) -> Vec<Resource> {
        let mut out: Vec<Resource> = Vec::new();
        for r in list.iter() {
            let rpath = path.key("resources").seg(&r.seg);
            let (Some(name), Some(res)) = (
                self.name_of(&rpath, &r.name, "a resource"),
                self.item(&rpath, &r.item),
            ) else {
                continue;
            };
            if out.iter().any(|x| x.name == name) {
                self.error_key(&rpath, format!("duplicate resource `{name}`"));
                continue;
            }
            if out.iter().any(|x| x.uri == res.uri) {
                self.error_value(
                    &rpath.key("uri"),
                    format!("another resource has the URI `{}`", res.uri),
                );
                continue;
            }
            if !res.uri.contains("://") {
                self.error_value(
                    &rpath.key("uri"),
                    format!("resource URI `{}` needs a scheme (`data://...`)", res.uri),
                );
                continue;
            }
            let variables = match uri_variables(&res.uri) {
                Ok(v) => v,
                Err(e) => {
                    self.error_value(&rpath.key("uri"), e);
                    continue;
                }
            };
            let kind = match (&res.location, res.call.is_some() || res.steps.is_some()) {
                (Some(_), true) => {
                    self.error_key(
                        &rpath,
                        "a resource has either `location` (files) or `call`/`steps`, not both",
                    );
                    continue;
                }
                (Some(loc), false) => {
                    if !loc.starts_with("file:") {
                        self.error_value(
                            &rpath.key("location"),
                            format!(
                                "resource location `{loc}` must be a `file:///` URI of a folder"
                            ),
                        );
                        continue;
                    }
                    if !variables.is_empty() {
                        self.error_value(
                            &rpath.key("uri"),
                            "a resource of files has a fixed URI (no `{placeholders}`)",
                        );
                        continue;
                    }
                    ResourceKind::Files {
                        location: loc.clone(),
                    }
                }
                (None, false) => {
                    self.error_key(&rpath, "a resource needs `location` (a folder of files) or `call`/`steps` (a result)");
                    continue;
                }
                (None, true) => {
                    // The URI template's variables are the flow's inputs.
                    let mut scope = Scope::new(Surface::Mcp, namespace);
                    scope.implicit = false;
                    scope.inputs = variables
                        .iter()
                        .map(|v| Input {
                            name: v.clone(),
                            source: Source::Arg(v.clone()),
                            ty: Some(ParamType::String),
                            required: true,
                            description: None,
                            pattern: None,
                        })
                        .collect();
                    scope.declared = scope.inputs.len();
                    let Some((action, schema)) = self.action(
                        &mut scope,
                        ActionParts {
                            call: res.call.as_deref(),
                            with: res.with.as_ref(),
                            steps: res.steps.as_ref(),
                            mappings: res.mappings.as_ref(),
                            outputs: &res.output_parameters,
                        },
                        &rpath,
                        clients,
                    ) else {
                        continue;
                    };
                    ResourceKind::Flow {
                        template: !variables.is_empty(),
                        flow: Flow {
                            inputs: scope.inputs,
                            action,
                            schema,
                        },
                    }
                }
            };
            if res.binary == Some(true) {
                self.unsupported(&rpath.key("binary"), "a binary resource (`binary: true`)");
                continue;
            }
            out.push(Resource {
                title: res
                    .label()
                    .map(str::to_owned)
                    .unwrap_or_else(|| name.clone()),
                name,
                description: res.description.clone(),
                uri: res.uri.clone(),
                mime_type: res.mime_type.clone(),
                kind,
            });
        }
        out
    }

    pub(super) fn prompts(&mut self, list: &NamedList<McpPrompt>, path: &YamlPath) -> Vec<Prompt> {
        let mut out: Vec<Prompt> = Vec::new();
        for p in list.iter() {
            let ppath = path.key("prompts").seg(&p.seg);
            let (Some(name), Some(prompt)) = (
                self.name_of(&ppath, &p.name, "a prompt"),
                self.item(&ppath, &p.item),
            ) else {
                continue;
            };
            if out.iter().any(|x| x.name == name) {
                self.error_key(&ppath, format!("duplicate prompt `{name}`"));
                continue;
            }
            let mut arguments: Vec<PromptArgument> = Vec::new();
            for a in prompt.arguments.iter() {
                let apath = ppath.key("arguments").seg(&a.seg);
                let (Some(aname), Some(arg)) = (
                    self.name_of(&apath, &a.name, "a prompt argument"),
                    self.item(&apath, &a.item),
                ) else {
                    continue;
                };
                if arguments.iter().any(|x| x.name == aname) {
                    self.error_key(&apath, format!("duplicate argument `{aname}`"));
                    continue;
                }
                arguments.push(PromptArgument {
                    name: aname,
                    title: arg.label().map(str::to_owned),
                    description: arg.description.clone(),
                    required: arg.required.unwrap_or(true),
                });
            }
            let body = match (&prompt.template, &prompt.location) {
                (Some(messages), None) => {
                    for (i, m) in messages.iter().enumerate() {
                        for placeholder in placeholders(&m.content) {
                            if !arguments.iter().any(|a| a.name == placeholder) {
                                self.warn_key(
                                    &ppath.key("template").index(i).key("content"),
                                    format!("`{{{{{placeholder}}}}}` names no argument of prompt `{name}`: it is left as written"),
                                );
                            }
                        }
                    }
                    PromptBody::Messages(
                        messages
                            .iter()
                            .map(|m| (m.role, m.content.clone()))
                            .collect(),
                    )
                }
                (None, Some(loc)) => {
                    if !loc.starts_with("file:") {
                        self.error_value(
                            &ppath.key("location"),
                            format!("prompt location `{loc}` must be a `file:///` URI"),
                        );
                        continue;
                    }
                    PromptBody::File(loc.clone())
                }
                _ => {
                    self.error_key(&ppath, "a prompt has either `template` (messages) or `location` (a file), exactly one");
                    continue;
                }
            };
            out.push(Prompt {
                name,
                title: prompt.label().map(str::to_owned),
                description: prompt.description.clone(),
                arguments,
                body,
            });
        }
        out
    }
}

/// The `{name}` variables of a URI template (letters, digits and `_`).
fn uri_variables(uri: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut rest = uri;
    while let Some(start) = rest.find('{') {
        let Some(end) = rest[start..].find('}') else {
            return Err(format!("unclosed `{{` in resource URI `{uri}`"));
        };
        let name = &rest[start + 1..start + end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "`{{{name}}}` in resource URI `{uri}`: a variable is made of letters, digits and `_`"
            ));
        }
        if out.iter().any(|v| v == name) {
            return Err(format!(
                "`{{{name}}}` appears twice in resource URI `{uri}`"
            ));
        }
        out.push(name.to_owned());
        rest = &rest[start + end + 1..];
    }
    Ok(out)
}

/// The `{{name}}` placeholders of a prompt message.
fn placeholders(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start + 2..].find("}}") else {
            break;
        };
        let name = &rest[start + 2..start + 2 + end];
        if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            out.push(name.to_owned());
        }
        rest = &rest[start + 2 + end + 2..];
    }
    out
}
