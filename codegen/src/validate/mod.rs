//! Checks a loaded spec (and the files it imports) and builds the checked model
//! ([`crate::ir`]).
//!
//! Every problem becomes a located diagnostic; checking goes on after an error so that one
//! run reports all of them. Nothing here panics on any input. One module per construct.

mod aggregates;
mod binds;
mod calls;
mod consumes;
mod control;
mod exposes;
pub mod expr;
mod forward;
mod imports;
mod inputs;
mod mcp;
mod mcp_resources;
mod outputs;
mod rest;
mod script;
mod skill;
mod steps;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use crate::diag::{Diagnostic, Diagnostics};
use crate::ir::{self, Capability, Var};
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;
use crate::spec::{LoadedSpec, Project};
use expr::Resolved;

/// Checks `project`; on success returns the checked model and any warnings.
pub fn check(project: &Project) -> Result<(Capability, Diagnostics), Diagnostics> {
    let mut c = Checker {
        project,
        diags: Diagnostics::default(),
        vars: Vec::new(),
        var_index: HashMap::new(),
        broken_ops: HashSet::new(),
        op_index: HashMap::new(),
        functions: Vec::new(),
        function_index: HashMap::new(),
        broken_functions: HashSet::new(),
        scripting: None,
    };
    for d in project.files.iter().flat_map(|f| f.early.iter()) {
        c.diags.push(d.clone());
    }
    c.diags.0.extend(project.diags.iter().cloned());
    let cap = c.run();
    if c.diags.has_errors() {
        Err(c.diags)
    } else {
        Ok((cap, c.diags))
    }
}

pub(crate) struct Checker<'a> {
    pub project: &'a Project,
    pub diags: Diagnostics,
    pub vars: Vec<Var>,
    /// `namespace.KEY` and bare `KEY` -> index into `vars`.
    pub var_index: HashMap<String, usize>,
    /// `namespace.operation` of operations already reported as invalid, so that calls to
    /// them do not add a second, misleading error.
    pub broken_ops: HashSet<String>,
    /// `namespace.operation` -> (client, operation) indexes, for `call:` lookups.
    pub op_index: HashMap<String, (usize, usize)>,
    pub functions: Vec<ir::Function>,
    /// `aggregate-namespace.function` -> index into `functions`.
    pub function_index: HashMap<String, usize>,
    /// Functions already reported as invalid.
    pub broken_functions: HashSet<String>,
    /// The control adapter's `management.scripting`: the defaults of script steps.
    pub scripting: Option<ir::ScriptingPolicy>,
}

impl Checker<'_> {
    /// The document a path is in.
    pub fn spec(&self, path: &YamlPath) -> &LoadedSpec {
        self.project
            .files
            .get(path.file)
            .unwrap_or_else(|| self.project.root())
    }

    pub fn error_key(&mut self, path: &YamlPath, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.spec(path).at_key(path, Diagnostic::error(message));
        self.diags.push(d);
        self.diags.0.last_mut().expect("just pushed")
    }

    pub fn error_value(&mut self, path: &YamlPath, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.spec(path).at_value(path, Diagnostic::error(message));
        self.diags.push(d);
        self.diags.0.last_mut().expect("just pushed")
    }

    pub fn warn_key(&mut self, path: &YamlPath, message: impl Into<String>) {
        let d = self.spec(path).at_key(path, Diagnostic::warning(message));
        self.diags.push(d);
    }

    pub fn unsupported(&mut self, path: &YamlPath, what: &str) {
        self.error_key(
            path,
            format!("{what} is not supported yet by naftiko-codegen"),
        )
        .help = Some("remove it, or run this capability with the reference engine".into());
    }

    /// The value of a list item, or its deserialization error reported.
    pub fn item<'t, T>(&mut self, path: &YamlPath, item: &'t Lenient<T>) -> Option<&'t T> {
        match item {
            Lenient::Ok(v) => Some(v),
            Lenient::Err(e) => {
                let d = self.spec(path).value_error(path, e);
                self.diags.push(d);
                None
            }
        }
    }

    /// The name of a named-list item, or an error at the item when it has none.
    pub fn name_of(
        &mut self,
        path: &YamlPath,
        name: &Option<String>,
        what: &str,
    ) -> Option<String> {
        match name {
            Some(n) if !n.trim().is_empty() => Some(n.clone()),
            _ => {
                self.error_key(path, format!("{what} needs a `name`"));
                None
            }
        }
    }

    fn run(&mut self) -> Capability {
        let root = self.project.root();
        let doc = &root.doc;
        let base = YamlPath::root();
        self.binds_of(&doc.binds, &base.key("binds"));
        let info = doc.info.as_ref();
        let label = info.and_then(|i| i.label().map(str::to_owned));
        let description = info.and_then(|i| i.description.clone());
        let version = info.and_then(|i| i.version.clone());
        let Some(cap) = &doc.capability else {
            // A shared document: its sections are checked on their own.
            return self.shared_document(label, description);
        };
        let cpath = base.key("capability");
        self.binds_of(&cap.binds, &cpath.key("binds"));
        if !doc.consumes.is_empty() || !doc.exposes.is_empty() || !doc.aggregates.is_empty() {
            self.warn_key(
                &base,
                "top-level `consumes`, `exposes` and `aggregates` are only used when this file is imported; the capability uses `capability.*`",
            );
        }
        self.scripting = self.scripting_policy(&cap.exposes, &cpath.key("exposes"));
        let clients = self.consumes(&cap.consumes, &cpath.key("consumes"));
        self.index_ops(&clients);
        self.aggregates(&cap.aggregates, &cpath.key("aggregates"), &clients);
        let surfaces = self.exposes(&cap.exposes, &cpath.key("exposes"), &clients);
        if cap.consumes.is_empty() && cap.exposes.is_empty() {
            self.error_key(&cpath, "the capability consumes and exposes nothing");
        } else if cap.exposes.is_empty() {
            self.error_key(&cpath, "the capability exposes nothing: add a REST adapter, an MCP server or a skill catalogue under `exposes`");
        }
        Capability {
            name: capability_name(root),
            label,
            description,
            version,
            vars: self.vars.clone(),
            clients,
            functions: std::mem::take(&mut self.functions),
            rest: surfaces.rest,
            mcp: surfaces.mcp,
            skills: surfaces.skills,
            scripting: self.scripting.take(),
            control: surfaces.control,
            spec_version: format!("{} {}", root.grammar.root_key(), root.grammar.version()),
            sources: self.project.sources(),
        }
    }

    /// A document without `capability:` (a shared file): each section is checked as far as
    /// it can be alone; nothing is generated from it.
    fn shared_document(
        &mut self,
        label: Option<String>,
        description: Option<String>,
    ) -> Capability {
        let root = self.project.root();
        let doc = &root.doc;
        let base = YamlPath::root();
        let sections = !doc.consumes.is_empty()
            || !doc.exposes.is_empty()
            || !doc.aggregates.is_empty()
            || !doc.binds.is_empty();
        if !sections {
            self.error_key(&base, "the spec has no `capability:` and no shared section: nothing to check")
                .help = Some(
                "a shared document holds `consumes`, `exposes`, `aggregates` or `binds` for other specs to import".into(),
            );
        }
        let clients = self.consumes(&doc.consumes, &base.key("consumes"));
        self.index_ops(&clients);
        self.shared_sections(&clients);
        Capability {
            name: capability_name(root),
            label,
            description,
            version: None,
            vars: self.vars.clone(),
            clients,
            functions: Vec::new(),
            rest: Vec::new(),
            mcp: Vec::new(),
            skills: Vec::new(),
            scripting: None,
            control: None,
            spec_version: format!("{} {}", root.grammar.root_key(), root.grammar.version()),
            sources: self.project.sources(),
        }
    }

    fn index_ops(&mut self, clients: &[ir::Client]) {
        self.op_index = clients
            .iter()
            .enumerate()
            .flat_map(|(ci, c)| {
                c.ops
                    .iter()
                    .enumerate()
                    .map(move |(oi, o)| (format!("{}.{}", c.namespace, o.name), (ci, oi)))
            })
            .collect();
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
                    "declare it in `binds` (`keys: {NAME: ENV_VAR}`); its value is read at run time".into(),
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
