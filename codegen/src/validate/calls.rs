//! Binding a call: `call: namespace.operation`, its `with:`, and the parameters bound
//! implicitly by name. Used by direct calls, call steps and aggregate functions alike.

use std::collections::HashSet;

use super::Checker;
use super::expr::{self, Resolved};
use super::inputs::{Scope, Surface};
use crate::ir::{Call, Client, Expr, OpParam, ParamLoc, Part, StepRef};
use crate::names::{closest, snake_ident};
use crate::spec::model::{With, WithValue};
use crate::spec::source_map::YamlPath;

impl Checker<'_> {
    /// Resolves `namespace.operation`.
    pub(super) fn resolve_call(
        &mut self,
        text: &str,
        path: &YamlPath,
        clients: &[Client],
    ) -> Option<(usize, usize)> {
        let text = text.trim();
        if self.broken_ops.contains(text) {
            return None;
        }
        let Some((ns, op)) = text.split_once('.') else {
            self.error_value(
                path,
                format!("`call: {text}` must be `namespace.operation`"),
            );
            return None;
        };
        if op.contains('.') {
            self.error_value(
                path,
                format!("`call: {text}` must be `namespace.operation` (one dot): resources are not part of a call"),
            );
            return None;
        }
        let Some(ci) = clients.iter().position(|c| c.namespace == ns) else {
            let hint = closest(ns, clients.iter().map(|c| c.namespace.as_str()));
            let list: Vec<_> = clients
                .iter()
                .map(|c| format!("`{}`", c.namespace))
                .collect();
            let d = self.error_value(
                path,
                format!("`call: {text}`: no consumed namespace `{ns}`"),
            );
            d.help = Some(match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None if list.is_empty() => "this capability consumes nothing".into(),
                None => format!("consumed namespaces: {}", list.join(", ")),
            });
            return None;
        };
        let Some(&(_, oi)) = self.op_index.get(text) else {
            let hint = closest(op, clients[ci].ops.iter().map(|o| o.name.as_str()));
            let d = self.error_value(
                path,
                format!("`call: {text}`: namespace `{ns}` has no operation `{op}`"),
            );
            d.help = hint.map(|h| format!("did you mean `{ns}.{h}`?"));
            return None;
        };
        Some((ci, oi))
    }

    /// Binds every parameter of the called operation: from `with:`, else implicitly by name.
    /// `with_path` is where `with:` sits; `warn_unused` reports declared inputs that feed
    /// nothing (for a direct call; an orchestration has several calls).
    pub(super) fn bind(
        &mut self,
        scope: &mut Scope,
        with: Option<&With>,
        path: &YamlPath,
        clients: &[Client],
        (ci, oi): (usize, usize),
        warn_unused: bool,
    ) -> Option<Call> {
        let op = &clients[ci].ops[oi];
        let call_name = format!("{}.{}", clients[ci].namespace, op.name);
        let mut args: Vec<Option<Expr>> = vec![None; op.params.len()];
        let mut ok = true;
        if let Some(with) = with {
            for (key, value) in with {
                let wpath = path.key("with").key(key);
                let Some(pi) = op.params.iter().position(|p| &p.name == key) else {
                    // The engine ignores such a key; it is almost always a typo or a
                    // parameter the operation forgot to declare, so say so (not an error:
                    // the spec runs the same either way).
                    let hint = closest(key, op.params.iter().map(|p| p.name.as_str()));
                    let inputs: Vec<_> =
                        op.params.iter().map(|p| format!("`{}`", p.name)).collect();
                    let help = match hint {
                        Some(h) => format!("did you mean `{h}`?"),
                        None if inputs.is_empty() => format!("`{call_name}` declares no inputs"),
                        None => format!("its inputs are {}", inputs.join(", ")),
                    };
                    self.warn_key(
                        &wpath,
                        format!("`with` key `{key}` is not an input of `{call_name}`: it is not sent ({help})"),
                    );
                    continue;
                };
                match self.with_expr(scope, value, Some(&op.params[pi]), &wpath) {
                    Some(e) => args[pi] = Some(e),
                    None => ok = false,
                }
            }
        }
        for (pi, p) in op.params.iter().enumerate() {
            if args[pi].is_some() {
                continue;
            }
            let by_name = scope.find(&p.name).is_some()
                || scope
                    .route_params
                    .iter()
                    .any(|(s, _)| s == &snake_ident(&p.name));
            if by_name
                || (scope.implicit
                    && !(p.location == ParamLoc::Path && scope.surface == Surface::Rest))
            {
                // `with:` renames or fixes what it lists; every other parameter is an input
                // of the same name (the seed dialect relies on this).
                args[pi] = Some(Expr::Input(scope.input_for(&p.name, Some(p))));
            } else if p.required {
                let d = self.error_key(
                    path,
                    format!(
                        "{} parameter `{}` of `{call_name}` ({} {}) is bound to nothing",
                        if p.location == ParamLoc::Path {
                            "path"
                        } else {
                            "required"
                        },
                        p.name,
                        op.method.as_str(),
                        op.path_text
                    ),
                );
                d.help = Some(match scope.surface {
                    Surface::Rest if p.location == ParamLoc::Path => format!(
                        "add `{{{}}}` to the route path, or bind it with `with: {{{}: ...}}`",
                        p.name.replace('_', "-"),
                        p.name
                    ),
                    _ => format!(
                        "declare an input `{}`, or bind it with `with: {{{}: ...}}`",
                        p.name, p.name
                    ),
                });
                ok = false;
            }
        }
        if warn_unused {
            // Declared inputs that feed nothing are probably a mistake.
            for input in scope.inputs.iter().take(scope.declared) {
                let used = args.iter().flatten().any(|e| match e {
                    Expr::Input(n) => n == &input.name,
                    Expr::Template(t) => t.inputs().any(|n| n == input.name),
                    _ => false,
                });
                if !used {
                    self.warn_key(
                        path,
                        format!("input `{}` is not passed to `{call_name}`", input.name),
                    );
                }
            }
        }
        ok.then_some(Call {
            client: ci,
            op: oi,
            args,
        })
    }

    /// One `with:` value: a reference to an input or a step output, a template, or a constant.
    /// `target` is the parameter it feeds (for the type of an input it creates).
    pub(super) fn with_expr(
        &mut self,
        scope: &mut Scope,
        value: &WithValue,
        target: Option<&OpParam>,
        path: &YamlPath,
    ) -> Option<Expr> {
        let text = match value {
            WithValue::Json(v) => return Some(Expr::Const(v.clone())),
            WithValue::Str(s) => s.trim(),
        };
        let own = scope.namespace.clone();
        let dialect = match scope.surface {
            Surface::Rest => Some("rest"),
            Surface::Mcp => Some("tools"),
            Surface::Function => None,
        };
        // `$.step.field`: an earlier step's output.
        if let Some(rest) = text.strip_prefix("$.")
            && !scope.steps.is_empty()
        {
            return self.step_ref(scope, rest, path).map(Expr::Step);
        }
        let reference = text
            .strip_prefix("$this.")
            .and_then(|r| {
                r.strip_prefix(own.as_str())
                    .and_then(|r| r.strip_prefix('.'))
            })
            .or_else(|| dialect.and_then(|d| text.strip_prefix(d)?.strip_prefix('.')))
            .or_else(|| {
                text.strip_prefix(own.as_str())
                    .and_then(|r| r.strip_prefix('.'))
            });
        if let Some(name) = reference {
            let declared = scope
                .inputs
                .iter()
                .take(scope.declared)
                .any(|i| i.name == name);
            if !declared
                && (scope.declared > 0 || !scope.implicit)
                && (text.starts_with("$this.") || text.starts_with(&own))
            {
                let hint = closest(name, scope.inputs.iter().map(|i| i.name.as_str()));
                let d = self.error_value(
                    path,
                    format!("`{text}`: `{own}` declares no input `{name}`"),
                );
                d.help = hint.map(|h| format!("did you mean `{h}`?"));
                return None;
            }
            return Some(Expr::Input(scope.input_for(name, target)));
        }
        if text.contains("{{") {
            let t = self.scoped_template(scope, text, target, path)?;
            return Some(match t.0.as_slice() {
                [Part::Input(n)] => Expr::Input(n.clone()),
                [Part::Env(v)] => Expr::Env(v.clone()),
                [Part::Step(s)] => Expr::Step(s.clone()),
                _ => Expr::Template(t),
            });
        }
        // `other-namespace.x` or `$this.other.x` is a reference we cannot resolve, not a constant.
        let prefix = text.strip_prefix("$this.").unwrap_or(text);
        if let Some((ns, _)) = prefix.split_once('.')
            && (self.namespaces_known().contains(ns)
                || text.starts_with("$this.")
                || ns == "rest"
                || ns == "tools")
        {
            self.error_value(
                path,
                format!("`{text}` refers to namespace `{ns}`; a `with:` value may refer only to inputs of `{own}` (`{own}.name`, `$this.{own}.name`)"),
            );
            return None;
        }
        Some(Expr::Const(serde_json::Value::String(text.to_owned())))
    }

    /// A `{{...}}` template over the scope: `binds` variables, earlier steps' outputs
    /// (`{{step.field}}`), and inputs (created when the scope allows).
    pub(super) fn scoped_template(
        &mut self,
        scope: &mut Scope,
        text: &str,
        target: Option<&OpParam>,
        path: &YamlPath,
    ) -> Option<crate::ir::Template> {
        let mut created = Vec::new();
        let mut unknown = None;
        let vars = &*self;
        let t = expr::parse_template(text, |n| {
            if let Ok(r) = vars.resolve_var(n) {
                return Ok(r);
            }
            let head = n.split(['.', '[']).next().unwrap_or(n);
            if let Some(step) = scope.steps.iter().position(|s| s == head) {
                let rest = &n[head.len()..];
                let path = expr::parse_json_path(&format!("${rest}"))?;
                return Ok(Resolved::Step(StepRef {
                    step,
                    name: head.to_owned(),
                    path,
                }));
            }
            if n.contains('.') {
                return vars.resolve_var(n);
            }
            if scope.find(n).is_none() && !scope.implicit {
                unknown.get_or_insert_with(|| n.to_owned());
            }
            created.push(n.to_owned());
            Ok(Resolved::Input(n.to_owned()))
        });
        let t = match t {
            Ok(t) => t,
            Err(e) => {
                self.error_value(path, e);
                return None;
            }
        };
        if let Some(n) = unknown {
            let hint = closest(&n, scope.inputs.iter().map(|i| i.name.as_str()));
            let d = self.error_value(
                path,
                format!("`{{{{{n}}}}}`: no input, step or `binds` variable is named `{n}`"),
            );
            d.help = hint.map(|h| format!("did you mean `{h}`?"));
            return None;
        }
        let single = t.0.len() == 1;
        for n in created {
            let target = (scope.find(&n).is_none() && single)
                .then_some(target)
                .flatten();
            scope.input_for(&n, target);
        }
        Some(t)
    }

    /// `step.a.b` (after `$.`): a path into the output of an earlier step.
    pub(super) fn step_ref(
        &mut self,
        scope: &Scope,
        text: &str,
        path: &YamlPath,
    ) -> Option<StepRef> {
        let head = text.split(['.', '[']).next().unwrap_or(text);
        let Some(step) = scope.steps.iter().position(|s| s == head) else {
            let hint = closest(head, scope.steps.iter().map(String::as_str));
            let d = self.error_value(
                path,
                format!("`$.{text}`: no earlier step is named `{head}`"),
            );
            d.help = Some(match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None if scope.steps.is_empty() => "there is no earlier step".into(),
                None => format!("earlier steps: {}", scope.steps.join(", ")),
            });
            return None;
        };
        match expr::parse_json_path(&format!("${}", &text[head.len()..])) {
            Ok(p) => Some(StepRef {
                step,
                name: head.to_owned(),
                path: p,
            }),
            Err(e) => {
                self.error_value(path, e);
                None
            }
        }
    }

    /// The namespaces the spec declares (consumed, exposed, aggregates), for messages.
    fn namespaces_known(&self) -> HashSet<String> {
        let mut out: HashSet<String> = self
            .op_index
            .keys()
            .filter_map(|k| k.split_once('.').map(|(ns, _)| ns.to_owned()))
            .collect();
        out.extend(
            self.function_index
                .keys()
                .filter_map(|k| k.split_once('.').map(|(ns, _)| ns.to_owned())),
        );
        out
    }
}
