//! Declared inputs of exposed routes, tools and functions, and the scope a `with:` or a
//! template is resolved in.

use super::Checker;
use super::expr;
use crate::ir::{Input, JsonSeg, OpParam, ParamLoc, Source};
use crate::names::snake_ident;
use crate::spec::grammar::NamedList;
use crate::spec::model::{ExposedIn, ExposedParam, ParamType, ToolParam};
use crate::spec::source_map::YamlPath;

/// Which surface a binding is for: it decides how implicit inputs are created.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Surface {
    Rest,
    Mcp,
    /// An aggregate function: its inputs are handed over by the tool or route calling it.
    Function,
}

/// The inputs of one route, tool or function while its references are resolved.
pub(super) struct Scope {
    pub surface: Surface,
    /// The namespace that `namespace.input` references name (the adapter's or aggregate's).
    pub namespace: String,
    /// Route path parameters: snake_case name -> name as written in the route.
    pub route_params: Vec<(String, String)>,
    pub inputs: Vec<Input>,
    /// How many inputs were declared (the rest were created from references).
    pub declared: usize,
    /// Steps already declared (an orchestration's earlier steps), by name.
    pub steps: Vec<String>,
    /// Whether references to inputs that are not declared create them (the seed dialect
    /// relies on it); a function's inputs are exactly the declared ones.
    pub implicit: bool,
}

impl Scope {
    pub fn new(surface: Surface, namespace: &str) -> Self {
        Scope {
            surface,
            namespace: namespace.to_owned(),
            route_params: Vec::new(),
            inputs: Vec::new(),
            declared: 0,
            steps: Vec::new(),
            implicit: true,
        }
    }

    pub fn find(&self, name: &str) -> Option<usize> {
        self.inputs.iter().position(|i| i.name == name)
    }

    /// The input `name`, created from the operation parameter `target` when not declared.
    pub fn input_for(&mut self, name: &str, target: Option<&OpParam>) -> String {
        if self.find(name).is_some() {
            return name.to_owned();
        }
        let route = self
            .route_params
            .iter()
            .find(|(snake, raw)| snake == &snake_ident(name) || raw == name)
            .map(|(_, raw)| raw.clone());
        let ty = target.and_then(|t| t.ty);
        let source = match self.surface {
            Surface::Mcp | Surface::Function => Source::Arg(name.to_owned()),
            Surface::Rest => match (route, target.map(|t| t.location)) {
                (Some(raw), _) => Source::Path(raw),
                (None, Some(ParamLoc::Body)) if name == "body" => Source::Body,
                (None, Some(ParamLoc::Body)) => {
                    Source::BodyPath(vec![JsonSeg::Key(name.to_owned())])
                }
                (None, Some(ParamLoc::Header)) => Source::Header(name.to_owned()),
                (None, Some(ParamLoc::Cookie)) => Source::Cookie(name.to_owned()),
                (None, _) if name == "body" => Source::Body,
                (None, _) => Source::Query(name.to_owned()),
            },
        };
        let required = matches!(source, Source::Path(_)) || target.is_some_and(|t| t.required);
        self.inputs.push(Input {
            name: name.to_owned(),
            source,
            ty: ty
                .or(Some(ParamType::String))
                .filter(|_| name != "body" || ty.is_some()),
            required,
            description: target.and_then(|t| t.description.clone()),
            pattern: None,
        });
        name.to_owned()
    }
}

impl Checker<'_> {
    /// Declared inputs of an MCP tool or a function (`inputParameters` of `ToolParam`s).
    pub(super) fn tool_inputs(
        &mut self,
        scope: &mut Scope,
        params: &NamedList<ToolParam>,
        path: &YamlPath,
    ) {
        for p in params.iter() {
            let ppath = path.key("inputParameters").seg(&p.seg);
            let (Some(name), Some(item)) = (
                self.name_of(&ppath, &p.name, "an input parameter"),
                self.item(&ppath, &p.item),
            ) else {
                continue;
            };
            if scope.find(&name).is_some() {
                self.error_key(&ppath, format!("duplicate input `{name}`"));
                continue;
            }
            scope.inputs.push(Input {
                source: Source::Arg(name.clone()),
                name,
                ty: Some(item.ty),
                // MCP arguments are required unless the spec says otherwise (the engine's
                // rule, and JSON Schema's `required` list is built from it).
                required: item.required.unwrap_or(true),
                description: item.description.clone(),
                pattern: None,
            });
        }
        scope.declared = scope.inputs.len();
    }

    /// Declared inputs of a REST operation: the resource's, then the operation's.
    pub(super) fn rest_inputs(
        &mut self,
        scope: &mut Scope,
        lists: &[(&NamedList<ExposedParam>, YamlPath)],
    ) {
        for (list, lpath) in lists {
            for p in list.iter() {
                let ppath = lpath.seg(&p.seg);
                let (Some(name), Some(item)) = (
                    self.name_of(&ppath, &p.name, "an input parameter"),
                    self.item(&ppath, &p.item),
                ) else {
                    continue;
                };
                if let Some(i) = scope.find(&name) {
                    // The operation's declaration overrides the resource's.
                    scope.inputs.remove(i);
                }
                let Some(input) = self.rest_input(scope, &name, item, &ppath) else {
                    continue;
                };
                scope.inputs.push(input);
            }
        }
        scope.declared = scope.inputs.len();
    }

    fn rest_input(
        &mut self,
        scope: &Scope,
        name: &str,
        p: &ExposedParam,
        ppath: &YamlPath,
    ) -> Option<Input> {
        if let Some(pattern) = &p.pattern
            && let Err(e) = regex_syntax_check(pattern)
        {
            self.error_value(&ppath.key("pattern"), format!("invalid pattern: {e}"));
        }
        let constant = p.value.as_ref().filter(|v| !v.starts_with('$'));
        let source = match (constant, p.location) {
            (Some(v), _) => Source::Const(v.clone()),
            (None, ExposedIn::Path) => {
                let Some((_, raw)) = scope
                    .route_params
                    .iter()
                    .find(|(snake, raw)| raw == name || snake == &snake_ident(name))
                else {
                    let d = self.error_key(
                        ppath,
                        format!("path parameter `{name}` does not appear in the route"),
                    );
                    d.help = Some(format!("add `{{{name}}}` to the resource's `path`"));
                    return None;
                };
                Source::Path(raw.clone())
            }
            (None, ExposedIn::Query) => Source::Query(name.to_owned()),
            (None, ExposedIn::Header) => Source::Header(name.to_owned()),
            (None, ExposedIn::Cookie) => Source::Cookie(name.to_owned()),
            (None, ExposedIn::Body) => match &p.value {
                Some(v) => match expr::parse_json_path(v) {
                    Ok(segs) if segs.is_empty() => Source::Body,
                    Ok(segs) => Source::BodyPath(segs),
                    Err(e) => {
                        self.error_value(&ppath.key("value"), e);
                        return None;
                    }
                },
                None => Source::BodyField(name.to_owned()),
            },
        };
        let required = matches!(source, Source::Path(_)) || p.required.unwrap_or(false);
        Some(Input {
            name: name.to_owned(),
            ty: Some(p.ty),
            required,
            description: p.description.clone(),
            pattern: p.pattern.clone(),
            source,
        })
    }
}

/// Checks a `pattern` at build time, so that it cannot fail at run time.
fn regex_syntax_check(pattern: &str) -> Result<(), String> {
    // Balanced brackets and a known escape set cover what an anchored regex needs here;
    // the runtime compiles it with the `regex` crate (a pattern it refuses is ignored).
    let mut depth = 0i32;
    let mut class = false;
    let mut escaped = false;
    for c in pattern.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '[' if !class => class = true,
            ']' if class => class = false,
            '(' if !class => depth += 1,
            ')' if !class => {
                depth -= 1;
                if depth < 0 {
                    return Err("unbalanced `)`".into());
                }
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced `(`".into());
    }
    if class {
        return Err("unclosed `[`".into());
    }
    if escaped {
        return Err("trailing `\\`".into());
    }
    Ok(())
}
