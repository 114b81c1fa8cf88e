//! Entries of a section, with `import` entries replaced by the definitions they name.

use super::Checker;
use crate::names::closest;
use crate::spec::model::{Document, ImportEntry};
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;

/// A definition of a section (an API, a surface, an aggregate, a binding), inline or imported.
pub(super) struct Def<'a, T> {
    pub def: &'a T,
    /// Where the definition is (in the spec, or in the file it was imported from).
    pub path: YamlPath,
    /// The namespace given by the import's `as`, which replaces the definition's own.
    pub alias: Option<String>,
}

/// How a section's entries split into definitions and imports.
pub(super) struct Section<'a, E, T> {
    /// The section's key (`consumes`).
    pub key: &'static str,
    pub split: fn(&'a E) -> Result<&'a T, &'a ImportEntry>,
    /// The section at the root of an imported document.
    pub of: fn(&'a Document) -> &'a [Lenient<E>],
    pub namespace: fn(&T) -> Option<&str>,
}

impl<'a> Checker<'a> {
    /// The definitions of `entries` (at `path`), imports resolved.
    pub(super) fn definitions<E, T>(
        &mut self,
        entries: &'a [Lenient<E>],
        path: &YamlPath,
        section: &Section<'a, E, T>,
    ) -> Vec<Def<'a, T>> {
        let mut out = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let epath = path.index(i);
            let Some(entry) = self.item(&epath, entry) else {
                continue;
            };
            match (section.split)(entry) {
                Ok(def) => out.push(Def {
                    def,
                    path: epath,
                    alias: None,
                }),
                Err(import) => {
                    if let Some(d) = self.import(import, &epath, section) {
                        out.push(d);
                    }
                }
            }
        }
        out
    }

    fn import<E, T>(
        &mut self,
        import: &'a ImportEntry,
        path: &YamlPath,
        section: &Section<'a, E, T>,
    ) -> Option<Def<'a, T>> {
        let project = self.project;
        // A file that could not be read was reported when the project was loaded.
        let file = project.imported(path.file, import)?;
        let spec = &project.files[file];
        let source = import.source().unwrap_or_default();
        let entries = (section.of)(&spec.doc);
        let base = YamlPath::root_of(file).key(section.key);
        if entries.is_empty() {
            self.error_value(
                &path.key(import.source_key()),
                format!(
                    "`{source}` has no top-level `{}`: it cannot provide `{}`",
                    section.key, import.import
                ),
            );
            return None;
        }
        let mut names = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let epath = base.index(i);
            let Some(entry) = self.item(&epath, entry) else {
                continue;
            };
            match (section.split)(entry) {
                Ok(def) => {
                    let ns = (section.namespace)(def);
                    if ns == Some(import.import.as_str()) {
                        return Some(Def {
                            def,
                            path: epath,
                            alias: import.alias.clone().filter(|a| !a.is_empty()),
                        });
                    }
                    names.extend(ns.map(str::to_owned));
                }
                Err(inner) if inner.import == import.import => {
                    self.error_value(
                        &path.key("import"),
                        format!(
                            "`{}` in `{source}` is itself an import: imports are not followed from imported files",
                            import.import
                        ),
                    );
                    return None;
                }
                Err(_) => {}
            }
        }
        let hint = closest(&import.import, names.iter().map(String::as_str));
        let d = self.error_value(
            &path.key("import"),
            format!(
                "namespace `{}` not found in the `{}` of `{source}`",
                import.import, section.key
            ),
        );
        d.help = Some(match hint {
            Some(h) => format!("did you mean `{h}`?"),
            None => format!("it declares {}", list(&names)),
        });
        None
    }
}

/// `a`, `b` and `c` in backticks, or "nothing".
pub(super) fn list(names: &[String]) -> String {
    if names.is_empty() {
        return "nothing".into();
    }
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
