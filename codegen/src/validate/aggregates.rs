//! `aggregates`: domain functions (alpha2 `functions`, beta5 `flows`), and the `ref` of a
//! tool or route to one of them.

use super::Checker;
use super::imports::Section;
use super::inputs::{Scope, Surface};
use super::outputs::{schema_of, schema_of_mock};
use crate::ir::{Action, Client, Expr, Flow, Function, Semantics};
use crate::names::{closest, snake_ident};
use crate::spec::model::{Aggregate, AggregateEntry, With};
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;

impl<'a> Checker<'a> {
    pub(super) fn aggregates(
        &mut self,
        entries: &'a [Lenient<AggregateEntry>],
        path: &YamlPath,
        clients: &[Client],
    ) {
        let section = Section {
            key: "aggregates",
            split: |e: &AggregateEntry| match e {
                AggregateEntry::Aggregate(a) => Ok(a),
                AggregateEntry::Import(i) => Err(i),
            },
            of: |d| &d.aggregates,
            namespace: |a: &Aggregate| a.namespace.as_deref(),
        };
        for def in self.definitions(entries, path, &section) {
            let a = def.def;
            let Some(namespace) = def.alias.clone().or_else(|| a.namespace.clone()) else {
                self.error_key(&def.path, "an aggregate needs a `namespace`: its functions are referenced as `namespace.function`");
                continue;
            };
            let Some(functions) = a.functions() else {
                self.error_key(
                    &def.path,
                    "an aggregate needs `functions` (alpha2) or `flows` (beta5)",
                );
                continue;
            };
            let fpath = def.path.key(a.functions_key());
            for f in functions.iter() {
                let p = fpath.seg(&f.seg);
                let Some(name) = self.name_of(&p, &f.name, "a function") else {
                    continue;
                };
                let key = format!("{namespace}.{name}");
                if self.function_index.contains_key(&key) {
                    self.error_key(&p, format!("duplicate aggregate function `{key}`"));
                    continue;
                }
                let Some(func) = self.item(&p, &f.item) else {
                    self.broken_functions.insert(key);
                    continue;
                };
                let mut scope = Scope::new(Surface::Function, &namespace);
                scope.implicit = false;
                self.tool_inputs(&mut scope, &func.input_parameters, &p);
                let action = self.action(
                    &mut scope,
                    ActionParts {
                        call: func.call.as_deref(),
                        with: func.with.as_ref(),
                        steps: func.steps.as_ref(),
                        mappings: func.mappings.as_ref(),
                        outputs: &func.output_parameters,
                    },
                    &p,
                    clients,
                );
                let Some((action, schema)) = action else {
                    self.broken_functions.insert(key);
                    continue;
                };
                let semantics = func
                    .semantics
                    .as_ref()
                    .map(|s| Semantics {
                        safe: s.safe,
                        idempotent: s.idempotent,
                        cacheable: s.cacheable,
                    })
                    .unwrap_or_default();
                let ident = unique_ident(&self.functions, &key);
                self.function_index.insert(key, self.functions.len());
                self.functions.push(Function {
                    namespace: namespace.clone(),
                    name,
                    ident,
                    description: func.description.clone(),
                    semantics,
                    flow: Flow {
                        inputs: scope.inputs,
                        action,
                        schema,
                    },
                });
            }
        }
    }

    /// What a tool, route or function does: `steps` (with `mappings`), one `call`, or, with
    /// neither, a mock built from its output values. Also the declared result type.
    pub(super) fn action(
        &mut self,
        scope: &mut Scope,
        parts: ActionParts<'_>,
        path: &YamlPath,
        clients: &[Client],
    ) -> Option<(Action, Option<crate::ir::Schema>)> {
        let outs_path = path.key("outputParameters");
        match (parts.call, parts.steps) {
            (Some(_), Some(_)) => {
                self.error_key(path, "declare either `call` or `steps`, not both");
                None
            }
            (None, Some(steps)) => {
                let schema = self.declared_schema(parts.outputs, &outs_path);
                if parts.with.is_some_and(|w| !w.is_empty()) {
                    self.warn_key(
                        &path.key("with"),
                        "`with` beside `steps` is not used: give each call step its own `with`",
                    );
                }
                let action = self.orchestration(scope, steps, parts.mappings, path, clients)?;
                self.check_targets(&action, parts.outputs, &outs_path, path);
                Some((action, schema))
            }
            (Some(call), None) => {
                if parts.mappings.is_some() {
                    self.error_key(
                        &path.key("mappings"),
                        "`mappings` needs `steps`: they map step outputs",
                    );
                }
                let target = self.resolve_call(call, &path.key("call"), clients)?;
                let call = self.bind(scope, parts.with, path, clients, target, true)?;
                let shape = self.mapped_shape(parts.outputs, &outs_path)?;
                let schema = schema_of(&shape);
                Some((Action::Call { call, shape }, schema))
            }
            (None, None) => {
                if !Self::has_values(parts.outputs) {
                    // The engine answers `{}` for such a tool; so do we, but it is worth a word.
                    self.warn_key(
                        path,
                        "nothing to do: no `call`, no `steps` and no output `value`s, so it answers `{}`",
                    );
                    return Some((Action::Mock(crate::ir::Mock::Object(Vec::new())), None));
                }
                let mock = self.mock(scope, parts.outputs, &outs_path)?;
                let schema = Some(schema_of_mock(&mock));
                Some((Action::Mock(mock), schema))
            }
        }
    }

    /// Mapping targets must be declared outputs, when outputs are declared.
    fn check_targets(
        &mut self,
        action: &Action,
        outs: &crate::spec::grammar::NamedList<crate::spec::model::OutputParam>,
        outs_path: &YamlPath,
        path: &YamlPath,
    ) {
        let Action::Steps { mappings, .. } = action else {
            return;
        };
        let declared: Vec<&str> = outs.iter().filter_map(|n| n.name.as_deref()).collect();
        if declared.is_empty() {
            return;
        }
        for (i, m) in mappings.iter().enumerate() {
            let first = m.target[0].as_str();
            if !declared.contains(&first) {
                let hint = closest(first, declared.iter().copied());
                let d = self.error_value(
                    &path.key("mappings").index(i),
                    format!(
                        "mapping target `{}` is not a declared output",
                        m.target.join(".")
                    ),
                );
                d.help = Some(match hint {
                    Some(h) => format!("did you mean `{h}`?"),
                    None => format!("declare it in `outputParameters` (at `{outs_path}`)"),
                });
            }
        }
    }

    /// A `ref: namespace.function`: the function's index.
    pub(super) fn resolve_ref(&mut self, text: &str, path: &YamlPath) -> Option<usize> {
        let text = text.trim();
        if let Some(&i) = self.function_index.get(text) {
            return Some(i);
        }
        if self.broken_functions.contains(text) {
            return None;
        }
        let known: Vec<String> = self.function_index.keys().cloned().collect();
        let hint = closest(text, known.iter().map(String::as_str));
        let d = self.error_value(path, format!("unknown aggregate function ref `{text}`"));
        d.help = Some(match hint {
            Some(h) => format!("did you mean `{h}`?"),
            None if known.is_empty() => "this capability declares no aggregate functions".into(),
            None => format!("functions: {}", super::imports::list(&known)),
        });
        None
    }

    /// The inputs handed to function `fi` by a caller whose inputs are in `scope`: the
    /// caller's `with` first, then the caller's inputs of the same name.
    pub(super) fn function_args(
        &mut self,
        scope: &mut Scope,
        fi: usize,
        with: Option<&With>,
        path: &YamlPath,
    ) -> Option<Vec<(String, Expr)>> {
        let inputs: Vec<(String, bool, Option<crate::ir::ParamType>)> = self.functions[fi]
            .flow
            .inputs
            .iter()
            .map(|i| (i.name.clone(), i.required, i.ty))
            .collect();
        let fname = format!(
            "{}.{}",
            self.functions[fi].namespace, self.functions[fi].name
        );
        let mut args = Vec::new();
        let mut ok = true;
        if let Some(with) = with {
            for (k, v) in with {
                let wpath = path.key("with").key(k);
                if !inputs.iter().any(|(n, _, _)| n == k) {
                    let hint = closest(k, inputs.iter().map(|(n, _, _)| n.as_str()));
                    let d = self.error_key(
                        &wpath,
                        format!("`with` key `{k}` is not an input of function `{fname}`"),
                    );
                    d.help = hint.map(|h| format!("did you mean `{h}`?"));
                    ok = false;
                    continue;
                }
                match self.with_expr(scope, v, None, &wpath) {
                    Some(e) => args.push((k.clone(), e)),
                    None => ok = false,
                }
            }
        }
        for (name, required, ty) in &inputs {
            if args.iter().any(|(n, _)| n == name) {
                continue;
            }
            if scope.find(name).is_some() {
                args.push((name.clone(), Expr::Input(name.clone())));
            } else if scope.implicit {
                // The caller declares no such input: it takes one (a route parameter of the
                // same name, else a query parameter or argument).
                let target = crate::ir::OpParam {
                    name: name.clone(),
                    field: snake_ident(name),
                    location: crate::ir::ParamLoc::Query,
                    ty: *ty,
                    required: *required,
                    description: None,
                };
                args.push((
                    name.clone(),
                    Expr::Input(scope.input_for(name, Some(&target))),
                ));
            } else if *required {
                let d = self.error_key(
                    path,
                    format!("input `{name}` of function `{fname}` is bound to nothing"),
                );
                d.help = Some(format!(
                    "declare an input `{name}`, or bind it with `with: {{{name}: ...}}`"
                ));
                ok = false;
            }
        }
        ok.then_some(args)
    }
}

/// The parts of a tool, route or function that say what it does.
pub(super) struct ActionParts<'s> {
    pub call: Option<&'s str>,
    pub with: Option<&'s With>,
    pub steps: Option<&'s crate::spec::grammar::NamedList<crate::spec::model::Step>>,
    pub mappings: Option<&'s Vec<crate::spec::model::Mapping>>,
    pub outputs: &'s crate::spec::grammar::NamedList<crate::spec::model::OutputParam>,
}

/// A Rust name for a function, unique among `functions`.
fn unique_ident(functions: &[Function], key: &str) -> String {
    let base = crate::names::unraw(&snake_ident(&key.replace('.', "_"))).to_owned();
    let mut ident = base.clone();
    let mut n = 2;
    while functions.iter().any(|f| f.ident == ident) {
        ident = format!("{base}_{n}");
        n += 1;
    }
    ident
}
