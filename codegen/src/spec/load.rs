//! Loading a spec file: read, parse YAML (located syntax errors), deserialize the model.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_yaml::Value;

use super::model::Document;
use super::source_map::{SourceMap, YamlPath};
use super::value::{ValueError, from_value};
use crate::diag::{Diagnostic, Diagnostics, Pos, SourceFile};

/// Where a diagnostic points when its node cannot be found (two YAML parsers may read an
/// odd document differently): the start of the file, never nowhere.
const START: Pos = Pos { line: 1, column: 1 };

/// A parsed spec: its text, where each node sits, and the typed document.
#[derive(Debug)]
pub struct LoadedSpec {
    pub file: Arc<SourceFile>,
    pub map: SourceMap,
    pub doc: Document,
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

/// Parses `text` as the spec named `path` (the name is used in diagnostics only).
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
            let pos = e.location().map(|l| Pos {
                line: l.line(),
                column: l.column(),
            });
            let msg = e.to_string();
            // yaml_serde appends " at line L column C"; the location is shown separately.
            let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
            return fail(Diagnostic::error(format!("invalid YAML: {msg}")).at(&file, pos));
        }
    };
    if !value.is_mapping() {
        return fail(
            Diagnostic::error("a spec must be a YAML mapping with `naftiko:` and `capability:`")
                .at(&file, Some(Pos { line: 1, column: 1 })),
        );
    }
    match from_value::<Document>(value) {
        Ok(doc) => Ok(LoadedSpec { file, map, doc }),
        Err(e) => {
            let partial = LoadedSpec {
                file,
                map,
                doc: empty_doc(),
            };
            fail(partial.value_error(&YamlPath::root(), &e))
        }
    }
}

fn empty_doc() -> Document {
    Document {
        naftiko: String::new(),
        info: None,
        binds: Vec::new(),
        capability: None,
        consumes: Vec::new(),
    }
}
