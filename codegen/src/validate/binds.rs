//! `binds`: variables whose values live outside the spec (environment, files), read at run
//! time. Templates name them as `{{VAR}}` (or `{{namespace.VAR}}`).

use super::Checker;
use super::imports::Section;
use crate::ir::{Var, VarSource};
use crate::spec::model::{Binding, BindsEntry};
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;

impl<'a> Checker<'a> {
    pub(super) fn binds_of(&mut self, entries: &'a [Lenient<BindsEntry>], path: &YamlPath) {
        let section = Section {
            key: "binds",
            split: |e: &BindsEntry| match e {
                BindsEntry::Binding(b) => Ok(b),
                BindsEntry::Import(i) => Err(i),
            },
            of: |d| &d.binds,
            namespace: |b: &Binding| Some(&b.namespace),
        };
        for def in self.definitions(entries, path, &section) {
            let namespace = def
                .alias
                .clone()
                .unwrap_or_else(|| def.def.namespace.clone());
            self.binding(def.def, &namespace, &def.path);
        }
    }

    fn binding(&mut self, b: &Binding, namespace: &str, bpath: &YamlPath) {
        let file = match &b.location {
            None => false,
            Some(loc) if loc.starts_with("file:") => true,
            Some(loc) => {
                let scheme = loc.split_once("://").map_or(loc.as_str(), |(s, _)| s);
                let d = self.error_value(
                    &bpath.key("location"),
                    format!("bind location `{loc}`: the `{scheme}` provider is not supported"),
                );
                d.help = Some(
                    "use a `file:///...` location (a YAML or JSON file read at start-up), or no `location` to read environment variables".into(),
                );
                continue_keys_only(self, b, bpath);
                return;
            }
        };
        if b.keys.is_empty() {
            self.error_key(bpath, "a binding needs `keys` (VARIABLE: source key)");
        }
        for (name, source) in &b.keys {
            let kpath = bpath.key("keys").key(name);
            if !is_identifier(name) {
                self.error_key(
                    &kpath,
                    format!("variable `{name}` must be made of letters, digits and `_`, starting with a letter"),
                );
                continue;
            }
            if !is_var_name(name) {
                self.warn_key(
                    &kpath,
                    format!("variable `{name}` should be UPPER_SNAKE_CASE (`^[A-Z][A-Z0-9_]*$`): the grammar asks it, so variables stand out beside inputs"),
                );
            }
            if source.trim().is_empty() || source.contains(['=', '\0']) {
                self.error_value(
                    &kpath,
                    format!("`{source}` cannot name an environment variable or a file key"),
                );
                continue;
            }
            let source = if file {
                VarSource::File {
                    location: b.location.clone().unwrap_or_default(),
                    key: source.clone(),
                }
            } else {
                VarSource::Env(source.clone())
            };
            self.declare_var(name, namespace, b.description.clone(), source);
        }
    }

    fn declare_var(
        &mut self,
        name: &str,
        namespace: &str,
        description: Option<String>,
        source: VarSource,
    ) {
        // A later binding of the same variable wins, as in the engine.
        let idx = match self.var_index.get(name) {
            Some(&idx) => {
                self.vars[idx] = Var {
                    name: name.to_owned(),
                    namespace: namespace.to_owned(),
                    description,
                    source,
                };
                idx
            }
            None => {
                self.vars.push(Var {
                    name: name.to_owned(),
                    namespace: namespace.to_owned(),
                    description,
                    source,
                });
                self.vars.len() - 1
            }
        };
        self.var_index.insert(name.to_owned(), idx);
        self.var_index.insert(format!("{namespace}.{name}"), idx);
    }
}

/// Keys of a binding whose provider is refused are still declared, so that templates using
/// them do not add a second error.
fn continue_keys_only(c: &mut Checker<'_>, b: &Binding, _path: &YamlPath) {
    for (name, source) in &b.keys {
        if is_identifier(name) {
            c.declare_var(
                name,
                &b.namespace,
                b.description.clone(),
                VarSource::Env(source.clone()),
            );
        }
    }
}

fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_var_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}
