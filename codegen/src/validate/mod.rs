//! Checks a loaded spec and builds the checked model ([`crate::ir`]).
//!
//! Every problem becomes a located diagnostic; checking goes on after an error so that one
//! run reports all of them. Nothing here panics on any input.

mod consumes;
mod exposes;
pub mod expr;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use crate::diag::{Diagnostic, Diagnostics};
use crate::ir::{self, Capability, Var};
use crate::spec::LoadedSpec;
use crate::spec::model::Binding;
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;
use expr::Resolved;

/// Checks `spec`; on success returns the checked model and any warnings.
pub fn check(spec: &LoadedSpec) -> Result<(Capability, Diagnostics), Diagnostics> {
    let mut c = Checker {
        spec,
        diags: Diagnostics::default(),
        vars: Vec::new(),
        var_index: HashMap::new(),
        broken_ops: Default::default(),
        op_index: HashMap::new(),
    };
    let cap = c.run();
    if c.diags.has_errors() {
        Err(c.diags)
    } else {
        Ok((cap, c.diags))
    }
}

pub(crate) struct Checker<'a> {
    pub spec: &'a LoadedSpec,
    pub diags: Diagnostics,
    pub vars: Vec<Var>,
    /// `namespace.KEY` and bare `KEY` -> index into `vars`.
    pub var_index: HashMap<String, usize>,
    /// `namespace.operation` of operations already reported as invalid, so that calls to
    /// them do not add a second, misleading error.
    pub broken_ops: std::collections::HashSet<String>,
    /// `namespace.operation` -> (client, operation) indexes, for `call:` lookups.
    pub op_index: HashMap<String, (usize, usize)>,
}

impl Checker<'_> {
    pub fn error_key(&mut self, path: &YamlPath, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.spec.at_key(path, Diagnostic::error(message));
        self.diags.push(d);
        self.diags.0.last_mut().expect("just pushed")
    }

    pub fn error_value(&mut self, path: &YamlPath, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.spec.at_value(path, Diagnostic::error(message));
        self.diags.push(d);
        self.diags.0.last_mut().expect("just pushed")
    }

    pub fn warn_key(&mut self, path: &YamlPath, message: impl Into<String>) {
        let d = self.spec.at_key(path, Diagnostic::warning(message));
        self.diags.push(d);
    }

    pub fn unsupported(&mut self, path: &YamlPath, what: &str) {
        self.error_key(
            path,
            format!("{what} is not supported yet by naftiko-codegen"),
        )
        .help = Some("remove it, or run this capability with the Naftiko reference engine".into());
    }

    /// The value of a list item, or its deserialization error reported.
    pub fn item<'t, T>(&mut self, path: &YamlPath, item: &'t Lenient<T>) -> Option<&'t T> {
        match item {
            Lenient::Ok(v) => Some(v),
            Lenient::Err(e) => {
                let d = self.spec.value_error(path, e);
                self.diags.push(d);
                None
            }
        }
    }

    fn run(&mut self) -> Capability {
        let doc = &self.spec.doc;
        let root = YamlPath::root();
        if doc.naftiko != "1.0.0-alpha2" {
            self.error_value(
                &root.key("naftiko"),
                format!(
                    "unsupported spec version `{}`: naftiko-codegen reads `1.0.0-alpha2`",
                    doc.naftiko
                ),
            );
        }
        self.binds(&doc.binds, &root.key("binds"));
        let Some(cap) = &doc.capability else {
            self.error_key(&root, "the spec has no `capability:`: nothing to generate")
                .help = Some(
                "a file with only top-level `consumes:` is meant to be imported by another spec"
                    .into(),
            );
            return self.empty();
        };
        let cpath = root.key("capability");
        self.binds(&cap.binds, &cpath.key("binds"));
        if cap.aggregates.is_some() {
            self.unsupported(&cpath.key("aggregates"), "`aggregates`");
        }
        if !doc.consumes.is_empty() {
            self.warn_key(
                &root.key("consumes"),
                "top-level `consumes:` is only used when this file is imported; the capability uses `capability.consumes`",
            );
        }
        let clients = self.consumes(&cap.consumes, &cpath.key("consumes"));
        let (rest, mcp) = self.exposes(&cap.exposes, &cpath.key("exposes"), &clients);
        if cap.consumes.is_empty() && cap.exposes.is_empty() {
            self.error_key(&cpath, "the capability consumes and exposes nothing");
        }
        let info = doc.info.as_ref();
        Capability {
            name: capability_name(self.spec),
            label: info.and_then(|i| i.label.clone()),
            description: info.and_then(|i| i.description.clone()),
            vars: self.vars.clone(),
            clients,
            rest,
            mcp,
            sources: vec![self.spec.file.path.clone()],
        }
    }

    fn empty(&self) -> Capability {
        Capability {
            name: capability_name(self.spec),
            label: None,
            description: None,
            vars: Vec::new(),
            clients: Vec::new(),
            rest: Vec::new(),
            mcp: Vec::new(),
            sources: vec![self.spec.file.path.clone()],
        }
    }

    fn binds(&mut self, binds: &[Binding], path: &YamlPath) {
        for (i, b) in binds.iter().enumerate() {
            let bpath = path.index(i);
            if let Some(loc) = &b.location
                && !loc.starts_with("file:")
                && !loc.contains("://")
            {
                self.error_value(&bpath.key("location"), format!("`{loc}` is not a URI"));
            }
            for name in b.keys.keys() {
                let kpath = bpath.key("keys").key(name);
                if !name.starts_with(|c: char| c.is_ascii_uppercase())
                    || !name
                        .chars()
                        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                {
                    self.error_key(
                        &kpath,
                        format!("variable `{name}` must be UPPER_SNAKE_CASE: it is read from the environment variable of that name"),
                    );
                    continue;
                }
                let idx = match self.var_index.get(name) {
                    Some(&idx) => idx,
                    None => {
                        self.vars.push(Var {
                            name: name.clone(),
                            namespace: b.namespace.clone(),
                            description: b.description.clone(),
                        });
                        self.vars.len() - 1
                    }
                };
                self.var_index.insert(name.clone(), idx);
                self.var_index
                    .insert(format!("{}.{name}", b.namespace), idx);
            }
        }
    }

    /// Resolves a `{{name}}` that may only name a `binds` variable.
    pub fn resolve_var(&self, name: &str) -> Result<Resolved, String> {
        match self.var_index.get(name) {
            Some(&i) => Ok(Resolved::Env(self.vars[i].name.clone())),
            None => {
                let (ns, key) = name.split_once('.').unwrap_or(("", name));
                if ns.is_empty() {
                    Err(format!(
                        "`{{{{{name}}}}}`: `{name}` is not declared in `binds`"
                    ))
                } else {
                    Err(format!(
                        "`{{{{{name}}}}}`: `{key}` is not declared in `binds` under namespace `{ns}`"
                    ))
                }
            }
        }
    }

    /// A required field of an `authentication:` block at `auth`, parsed as a `binds` template.
    pub fn auth_field(
        &mut self,
        value: &Option<String>,
        auth: &YamlPath,
        key: &str,
    ) -> Option<ir::Template> {
        match value {
            Some(v) => self.env_template(v, &auth.key(key)),
            None => {
                self.error_key(
                    auth,
                    format!("`{key}:` is required for this authentication"),
                );
                None
            }
        }
    }

    /// Parses a template that may only use `binds` variables (auth, base settings).
    pub fn env_template(&mut self, text: &str, path: &YamlPath) -> Option<ir::Template> {
        match expr::parse_template(text, |n| self.resolve_var(n)) {
            Ok(t) => Some(t),
            Err(e) => {
                self.error_value(path, e).help = Some(
                    "declare it: `binds: [{namespace: env, keys: {NAME: NAME}}]`; the value is read from the environment variable NAME at run time".into(),
                );
                None
            }
        }
    }
}

/// The capability's name: the spec file's stem (`lago-customers`).
fn capability_name(spec: &LoadedSpec) -> String {
    let stem = spec
        .file
        .path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("capability");
    let stem = stem.strip_suffix(".capability").unwrap_or(stem);
    let name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches('-').to_owned();
    if name.is_empty() {
        "capability".into()
    } else {
        name
    }
}
