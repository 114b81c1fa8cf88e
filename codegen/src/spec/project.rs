//! A spec and the documents it imports from (`import` entries of `consumes`, and in beta5 of
//! `exposes`, `aggregates` and `binds`).
//!
//! Imports are not transitive: only the root document's import entries are followed, each
//! file is read once, and the entry taken from it must be a definition (an import of an
//! import is an error where it is resolved). Paths are relative to the importing file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::load::{LoadedSpec, load_file, load_str, resolve_path};
use super::model::{AggregateEntry, BindsEntry, ConsumesEntry, ExposesEntry, ImportEntry};
use super::source_map::YamlPath;
use super::value::Lenient;
use crate::diag::{Diagnostic, Diagnostics};

/// The spec (file 0) and every document it imports from.
#[derive(Debug)]
pub struct Project {
    /// The spec (index 0), then each imported file, in the order first read.
    pub files: Vec<LoadedSpec>,
    /// Canonical path -> index into `files`.
    index: HashMap<PathBuf, usize>,
    /// Problems met while reading imported files (reported by the checker with the rest).
    pub diags: Vec<Diagnostic>,
}

impl Project {
    /// The spec itself.
    pub fn root(&self) -> &LoadedSpec {
        &self.files[0]
    }

    /// The document an import entry of file `from` names, if it could be read.
    pub fn imported(&self, from: usize, entry: &ImportEntry) -> Option<usize> {
        let source = entry.source()?;
        let path = resolve_path(&self.files.get(from)?.dir(), source);
        self.index.get(&canonical(&path)).copied()
    }

    /// Every file the spec was read from, for `cargo::rerun-if-changed`.
    pub fn sources(&self) -> Vec<PathBuf> {
        self.files.iter().map(|f| f.file.path.clone()).collect()
    }
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// Reads the spec at `path` and the files it imports.
pub fn load_project(path: &Path) -> Result<Project, Diagnostics> {
    project(load_file(path)?)
}

/// Like [`load_project`], for spec text in memory named `path` (imports resolve from its folder).
pub fn load_project_str(path: impl Into<PathBuf>, text: String) -> Result<Project, Diagnostics> {
    project(load_str(path, text)?)
}

fn project(root: LoadedSpec) -> Result<Project, Diagnostics> {
    let mut imports: Vec<(&ImportEntry, YamlPath)> = Vec::new();
    {
        let doc = &root.doc;
        let base = YamlPath::root();
        let cap = base.key("capability");
        collect(&doc.binds, &base.key("binds"), &mut imports, |e| match e {
            BindsEntry::Import(i) => Some(i),
            _ => None,
        });
        collect(
            &doc.consumes,
            &base.key("consumes"),
            &mut imports,
            |e| match e {
                ConsumesEntry::Import(i) => Some(i),
                _ => None,
            },
        );
        collect(
            &doc.exposes,
            &base.key("exposes"),
            &mut imports,
            |e| match e {
                ExposesEntry::Import(i) => Some(i),
                _ => None,
            },
        );
        collect(
            &doc.aggregates,
            &base.key("aggregates"),
            &mut imports,
            |e| match e {
                AggregateEntry::Import(i) => Some(i),
                _ => None,
            },
        );
        if let Some(c) = &doc.capability {
            collect(&c.binds, &cap.key("binds"), &mut imports, |e| match e {
                BindsEntry::Import(i) => Some(i),
                _ => None,
            });
            collect(
                &c.consumes,
                &cap.key("consumes"),
                &mut imports,
                |e| match e {
                    ConsumesEntry::Import(i) => Some(i),
                    _ => None,
                },
            );
            collect(&c.exposes, &cap.key("exposes"), &mut imports, |e| match e {
                ExposesEntry::Import(i) => Some(i),
                _ => None,
            });
            collect(
                &c.aggregates,
                &cap.key("aggregates"),
                &mut imports,
                |e| match e {
                    AggregateEntry::Import(i) => Some(i),
                    _ => None,
                },
            );
        }
    }
    let mut diags = Vec::new();
    let mut loaded: Vec<LoadedSpec> = Vec::new();
    let mut index = HashMap::new();
    let root_path = canonical(&root.file.path);
    let dir = root.dir();
    let mut seen: HashMap<PathBuf, ()> = HashMap::new();
    for (entry, path) in &imports {
        let Some(source) = entry.source() else {
            diags.push(root.at_key(
                path,
                Diagnostic::error(format!(
                    "an import needs `{}:` (the file to import from)",
                    entry.source_key()
                )),
            ));
            continue;
        };
        let file = resolve_path(&dir, source);
        let key = canonical(&file);
        if key == root_path {
            diags.push(root.at_value(
                &path.key(entry.source_key()),
                Diagnostic::error(format!(
                    "`{source}` is this spec itself: a document cannot import from itself"
                )),
            ));
            continue;
        }
        if seen.insert(key.clone(), ()).is_some() {
            continue;
        }
        if !file.is_file() {
            diags.push(
                root.at_value(
                    &path.key(entry.source_key()),
                    Diagnostic::error(format!(
                        "import source file not found: `{source}` (looked for `{}`)",
                        file.display()
                    ))
                    .with_help("paths are relative to the folder of the importing spec"),
                ),
            );
            continue;
        }
        match load_file(&file) {
            Ok(spec) => {
                index.insert(key, loaded.len() + 1);
                loaded.push(spec);
            }
            Err(d) => {
                diags.push(root.at_value(
                    &path.key(entry.source_key()),
                    Diagnostic::error(format!("`{source}` cannot be imported: it does not load")),
                ));
                diags.extend(d.0);
            }
        }
    }
    let mut files = vec![root];
    files.extend(loaded);
    Ok(Project {
        files,
        index,
        diags,
    })
}

fn collect<'a, T>(
    entries: &'a [Lenient<T>],
    path: &YamlPath,
    out: &mut Vec<(&'a ImportEntry, YamlPath)>,
    pick: impl Fn(&'a T) -> Option<&'a ImportEntry>,
) {
    for (i, e) in entries.iter().enumerate() {
        if let Lenient::Ok(v) = e
            && let Some(import) = pick(v)
        {
            out.push((import, path.index(i)));
        }
    }
}
