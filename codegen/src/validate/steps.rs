//! `steps` and `mappings`: an orchestration, checked and ordered.
//!
//! Steps keep their declaration order, except that steps which only read (GET calls,
//! lookups) and do not depend on each other run together: the steps are grouped in "waves",
//! each wave's calls running concurrently. A step that changes something (POST, PUT, PATCH,
//! DELETE) runs after every earlier step, and every later step runs after it, so the order
//! of effects is the one the spec declares.

use std::collections::HashMap;

use super::Checker;
use super::inputs::Scope;
use crate::ir::{Action, Client, LookupValue, MappingOut, Step};
use crate::names::closest;
use crate::spec::grammar::NamedList;
use crate::spec::model::{self, Mapping};
use crate::spec::source_map::YamlPath;

impl Checker<'_> {
    /// Checks `steps` and `mappings` of a tool, route or function.
    pub(super) fn orchestration(
        &mut self,
        scope: &mut Scope,
        steps: &NamedList<model::Step>,
        mappings: Option<&Vec<Mapping>>,
        path: &YamlPath,
        clients: &[Client],
    ) -> Option<Action> {
        let spath = path.key("steps");
        if steps.is_empty() {
            self.error_key(&spath, "`steps` is empty: declare at least one step");
            return None;
        }
        let mut out: Vec<Step> = Vec::new();
        let mut seen: HashMap<String, YamlPath> = HashMap::new();
        let mut ok = true;
        for s in steps.iter() {
            let p = spath.seg(&s.seg);
            let Some(name) = self.name_of(&p, &s.name, "a step") else {
                ok = false;
                continue;
            };
            if let Some(first) = seen.get(&name) {
                let first = first.to_string();
                self.error_key(
                    &p,
                    format!("duplicate step name `{name}` (first at `{first}`)"),
                );
                ok = false;
                continue;
            }
            seen.insert(name.clone(), p.clone());
            let Some(step) = self.item(&p, &s.item) else {
                ok = false;
                scope.steps.push(name);
                continue;
            };
            let built = match step {
                model::Step::Call(c) => self
                    .resolve_call(&c.call, &p.key("call"), clients)
                    .and_then(|target| {
                        self.bind(scope, c.with.as_ref(), &p, clients, target, false)
                    })
                    .map(|call| Step::Call {
                        name: name.clone(),
                        call,
                    }),
                model::Step::Lookup(l) => self.lookup(scope, &name, l, &p),
                model::Step::Script(sc) => self.script_step(scope, &name, sc, &p),
            };
            match built {
                Some(s) => out.push(s),
                None => ok = false,
            }
            scope.steps.push(name);
        }
        let mut targets = Vec::new();
        if let Some(mappings) = mappings {
            let mpath = path.key("mappings");
            for (i, m) in mappings.iter().enumerate() {
                let p = mpath.index(i);
                let Some(target) = m.target() else {
                    self.error_key(
                        &p,
                        "a mapping needs a target (`targetName` in alpha2, `target` in beta5)",
                    );
                    ok = false;
                    continue;
                };
                let segs: Vec<String> = target.split('.').map(str::to_owned).collect();
                if segs.iter().any(|s| s.is_empty()) {
                    self.error_value(
                        &p,
                        format!("mapping target `{target}` has an empty segment"),
                    );
                    ok = false;
                    continue;
                }
                let Some(rest) = m.value.trim().strip_prefix("$.") else {
                    self.error_value(
                        &p.key("value"),
                        format!("a mapping value must be `$.step.field`, got `{}`", m.value),
                    );
                    ok = false;
                    continue;
                };
                match self.step_ref(scope, rest, &p.key("value")) {
                    Some(source) => targets.push((
                        MappingOut {
                            target: segs,
                            source,
                        },
                        p,
                    )),
                    None => ok = false,
                }
            }
            if mappings.is_empty() {
                self.warn_key(
                    &mpath,
                    "`mappings` is empty: the result is the last step's output",
                );
            }
        }
        if !ok || out.len() != steps.len() {
            return None;
        }
        let safe: Vec<bool> = out
            .iter()
            .map(|s| match s {
                Step::Call { call, .. } => clients[call.client].ops[call.op].method.is_safe(),
                // A script has no effect outside: it only reads.
                Step::Lookup { .. } | Step::Script { .. } => true,
            })
            .collect();
        let deps: Vec<Vec<usize>> = out.iter().map(Step::deps).collect();
        Some(Action::Steps {
            waves: waves(&safe, &deps),
            steps: out,
            mappings: targets.into_iter().map(|(m, _)| m).collect(),
        })
    }

    fn lookup(
        &mut self,
        scope: &mut Scope,
        name: &str,
        l: &model::LookupStep,
        p: &YamlPath,
    ) -> Option<Step> {
        let Some(index) = scope.steps.iter().position(|s| s == &l.index) else {
            let hint = closest(&l.index, scope.steps.iter().map(String::as_str));
            let d = self.error_value(
                &p.key("index"),
                format!("lookup `index: {}` is not an earlier step", l.index),
            );
            d.help = hint.map(|h| format!("did you mean `{h}`?"));
            return None;
        };
        if l.match_field.trim().is_empty() {
            self.error_value(
                &p.key("match"),
                "`match` must name a field of the index's entries",
            );
            return None;
        }
        let value = match l.lookup_value.trim().strip_prefix("$.") {
            Some(rest) => LookupValue::Step(self.step_ref(scope, rest, &p.key("lookupValue"))?),
            None => LookupValue::Template(self.scoped_template(
                scope,
                &l.lookup_value,
                None,
                &p.key("lookupValue"),
            )?),
        };
        Some(Step::Lookup {
            name: name.to_owned(),
            index,
            field: l.match_field.clone(),
            value,
            keep: l.output_parameters.clone(),
        })
    }
}

/// Groups steps into waves: `safe[i]` says whether step `i` only reads, `deps[i]` which
/// earlier steps it reads. A safe step joins the first wave after its dependencies and after
/// the last unsafe step; an unsafe step starts a wave after every earlier step.
pub(super) fn waves(safe: &[bool], deps: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut waves: Vec<Vec<usize>> = Vec::new();
    let mut wave_of: Vec<usize> = Vec::with_capacity(safe.len());
    // The first wave a step may join (after the last unsafe step).
    let mut floor = 0;
    for i in 0..safe.len() {
        let w = if safe[i] {
            deps[i]
                .iter()
                .map(|&d| wave_of[d] + 1)
                .max()
                .unwrap_or(0)
                .max(floor)
        } else {
            waves.len()
        };
        if w == waves.len() {
            waves.push(Vec::new());
        }
        waves[w].push(i);
        wave_of.push(w);
        if !safe[i] {
            floor = w + 1;
        }
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::waves;

    #[test]
    fn independent_reads_run_together_writes_keep_order() {
        // get-ship, list-crew (independent GETs), then a lookup of both.
        assert_eq!(
            waves(&[true, true, true], &[vec![], vec![], vec![0, 1]]),
            vec![vec![0, 1], vec![2]]
        );
        // A POST between two independent GETs: the second GET waits for it.
        assert_eq!(
            waves(&[true, false, true], &[vec![], vec![], vec![]]),
            vec![vec![0], vec![1], vec![2]]
        );
        // A POST waits for every earlier step, even independent ones.
        assert_eq!(
            waves(&[true, true, false], &[vec![], vec![0], vec![]]),
            vec![vec![0], vec![1], vec![2]]
        );
        // Reads after a write that do not depend on each other run together.
        assert_eq!(
            waves(&[false, true, true], &[vec![], vec![0], vec![]]),
            vec![vec![0], vec![1, 2]]
        );
    }
}
