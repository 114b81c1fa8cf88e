//! Loading a spec file: read, parse YAML (located syntax errors), tell the grammar from the
//! root key, deserialize the model in that grammar.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_yaml::Value;

use super::grammar::{self, Grammar};
use super::model::Document;
use super::source_map::{SourceMap, YamlPath};
use super::value::{ValueError, from_value};
use crate::diag::{Diagnostic, Diagnostics, Pos, SourceFile};

/// Where a diagnostic points when its node cannot be found (two YAML parsers may read an
/// odd document differently): the start of the file, never nowhere.
const START: Pos = Pos { line: 1, column: 1 };

/// A parsed spec: its text, where each node sits, its grammar and the typed document.
#[derive(Debug)]
pub struct LoadedSpec {
    /// The file's path and text.
    pub file: Arc<SourceFile>,
    /// Where each node of the document sits.
    pub map: SourceMap,
    /// The grammar the document was read in (from its root key).
    pub grammar: Grammar,
    /// The typed document.
    pub doc: Document,
    /// Problems found while loading that do not stop checking (an unknown version).
    pub early: Vec<Diagnostic>,
}

impl LoadedSpec {
    /// A diagnostic pointing at the key of `path`.
    pub fn at_key(&self, path: &YamlPath, d: Diagnostic) -> Diagnostic {
        d.at(&self.file, Some(self.map.key_pos(path).unwrap_or(START)))
    }
    /// A diagnostic pointing at the value of `path`.
    pub fn at_value(&self, path: &YamlPath, d: Diagnostic) -> Diagnostic {
        d.at(&self.file, Some(self.map.value_pos(path).unwrap_or(START)))
    }
    /// The diagnostic for a deserialization error under `base`.
    pub fn value_error(&self, base: &YamlPath, err: &ValueError) -> Diagnostic {
        let path = base.join(&err.path);
        let d = Diagnostic::error(err.message.clone());
        if err.message.starts_with("unknown field") {
            self.at_key(
                &path,
                d.with_help(format!("remove the key, or fix its spelling (at `{path}`)")),
            )
        } else {
            self.at_value(&path, d)
        }
    }
    /// The directory relative paths in this document start from.
    pub fn dir(&self) -> PathBuf {
        self.file
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// Reads and parses the spec at `path`.
pub fn load_file(path: &Path) -> Result<LoadedSpec, Diagnostics> {
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(path, text),
        Err(e) => Err(Diagnostics(vec![Diagnostic::error(format!(
            "cannot read spec `{}`: {e}",
            path.display()
        ))])),
    }
}

/// Parses `text` as the spec named `path` (the name is used in diagnostics, and its folder
/// for relative imports).
pub fn load_str(path: impl Into<PathBuf>, text: String) -> Result<LoadedSpec, Diagnostics> {
    let file = Arc::new(SourceFile {
        path: path.into(),
        text,
    });
    let fail = |d: Diagnostic| Err(Diagnostics(vec![d]));
    let map = match SourceMap::build(&file.text) {
        Ok(m) => m,
        Err(e) => {
            return fail(
                Diagnostic::error(format!("YAML syntax error: {}", e.message))
                    .at(&file, Some(e.pos)),
            );
        }
    };
    let value: Value = match serde_yaml::from_str(&file.text) {
        Ok(v) => v,
        Err(e) => {
            let (pos, msg) = yaml_error(&e);
            return fail(Diagnostic::error(format!("invalid YAML: {msg}")).at(&file, pos));
        }
    };
    if !value.is_mapping() {
        return fail(
            Diagnostic::error(format!(
                "a spec must be a YAML mapping that starts with {}",
                Grammar::supported()
            ))
            .at(&file, Some(START)),
        );
    }
    let mut early = Vec::new();
    let root = YamlPath::root();
    let at = |key: &str| map.value_pos(&root.key(key)).unwrap_or(START);
    let present: Vec<(&str, &str, Grammar)> = Grammar::ALL
        .iter()
        .copied()
        .filter(|(k, _, _)| value.get(*k).is_some())
        .collect();
    let grammar = match present.as_slice() {
        [] => {
            early.push(
                Diagnostic::error(format!(
                    "the spec declares no version: it must start with {}",
                    Grammar::supported()
                ))
                .at(&file, Some(START)),
            );
            Grammar::Alpha2
        }
        [(key, version, g)] => {
            let found = value.get(*key).and_then(Value::as_str).unwrap_or_default();
            if found != *version {
                early.push(
                    Diagnostic::error(format!(
                        "unsupported spec version `{key}: {found}`: naftiko-codegen reads {}",
                        Grammar::supported()
                    ))
                    .at(&file, Some(at(key))),
                );
            }
            *g
        }
        [.., (key, _, g)] => {
            early.push(
                Diagnostic::error(format!(
                    "the spec declares both `naftiko` and `ikanos`: keep the one of its grammar ({})",
                    Grammar::supported()
                ))
                .at(&file, Some(at(key))),
            );
            *g
        }
    };
    match grammar::with(grammar, || from_value::<Document>(value)) {
        Ok(doc) => Ok(LoadedSpec {
            file,
            map,
            grammar,
            doc,
            early,
        }),
        Err(e) => {
            let partial = LoadedSpec {
                file,
                map,
                grammar,
                doc: Document::empty(),
                early: Vec::new(),
            };
            let mut diags = early;
            diags.push(partial.value_error(&YamlPath::root(), &e));
            Err(Diagnostics(diags))
        }
    }
}

/// The file a relative reference (`./shared/x.yml`, `file:///./x`, `file:///abs/x`) names,
/// from the folder `base`.
pub fn resolve_path(base: &Path, reference: &str) -> PathBuf {
    let r = reference.trim();
    let r = match r.strip_prefix("file://") {
        // `file:///./x` and `file://./x` are relative; `file:///x` is absolute.
        Some(rest) => rest
            .strip_prefix('/')
            .filter(|x| x.starts_with("./") || x.starts_with("../"))
            .unwrap_or(rest),
        None => r,
    };
    let p = Path::new(r);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

/// Where a YAML error is, and its message without the " at line L column C" that yaml_serde
/// appends (a diagnostic shows the location on its own).
pub(crate) fn yaml_error(e: &serde_yaml::Error) -> (Option<Pos>, String) {
    let pos = e.location().map(|l| Pos {
        line: l.line(),
        column: l.column(),
    });
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
    (pos, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve_from_the_folder() {
        let base = Path::new("/specs");
        assert_eq!(
            resolve_path(base, "./shared/a.yml"),
            Path::new("/specs/./shared/a.yml")
        );
        assert_eq!(
            resolve_path(base, "file:///./shared/a.yml"),
            Path::new("/specs/./shared/a.yml")
        );
        assert_eq!(
            resolve_path(base, "file://./a.yml"),
            Path::new("/specs/./a.yml")
        );
        assert_eq!(
            resolve_path(base, "file:///etc/a.yml"),
            Path::new("/etc/a.yml")
        );
        assert_eq!(
            resolve_path(base, "../x.yaml"),
            Path::new("/specs/../x.yaml")
        );
    }

    #[test]
    fn grammar_comes_from_the_root_key() {
        let s = load_str("a.yaml", "ikanos: 1.0.0-beta5\ncapability: {}\n".into()).unwrap();
        assert_eq!(s.grammar, Grammar::Beta5);
        assert!(s.early.is_empty());
        let s = load_str("a.yaml", "naftiko: 1.0.0-alpha3\ncapability: {}\n".into()).unwrap();
        assert_eq!(s.grammar, Grammar::Alpha2);
        assert!(
            s.early[0]
                .message
                .contains("`naftiko: 1.0.0-alpha2` or `ikanos: 1.0.0-beta5`")
        );
        assert_eq!(
            s.early[0].pos,
            Some(Pos {
                line: 1,
                column: 10
            })
        );
    }
}
