//! The case model (`naftiko-engine-case/1`): a thin typed view over the case's JSON.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One case file.
#[derive(Debug, Clone)]
pub struct Case {
    /// The case id (its file name without `.json`).
    pub id: String,
    /// How to run it (`mcp`, `rest`, `load`, `unit`, ...).
    pub kind: String,
    /// Construct tags; the first is the primary construct.
    pub constructs: Vec<String>,
    /// The whole file, for fields read by one module only.
    pub raw: Value,
}

/// Where the case's spec comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum SpecRef {
    None,
    /// Relative to the corpus directory.
    File(String),
    /// YAML text with `${UPSTREAM}` / `${FIXTURES}` placeholders.
    Inline(String),
}

/// One `upstream` entry.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// The consumed namespace the entry stands for.
    pub namespace: String,
    /// Method to match (upper case).
    pub method: String,
    /// Path relative to the namespace's `baseUri`.
    pub path: String,
    /// Query pairs the request must carry.
    pub query: Vec<(String, String)>,
    /// No server listens for the namespace in the test.
    pub unreachable: bool,
    /// Status of the stub's answer.
    pub status: u16,
    /// Media type of the stub's answer.
    pub content_type: Option<String>,
    /// The body as sent (JSON serialised when the entry gives `body_json`).
    pub body: Option<String>,
    /// What the test asserts the stub received (`headers`, `query`, `path`, `body`).
    pub received: Option<Value>,
}

impl Case {
    /// Reads and checks the header of a case file.
    pub fn load(path: &Path) -> Result<Case, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let raw: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        Case::from_value(raw, stem.as_deref()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// A case from its JSON; `fallback_id` names it when it has no `id`.
    pub fn from_value(raw: Value, fallback_id: Option<&str>) -> Result<Case, String> {
        if raw.get("format").and_then(Value::as_str) != Some("naftiko-engine-case/1") {
            return Err("not a naftiko-engine-case/1 file".into());
        }
        let id = raw
            .get("id")
            .and_then(Value::as_str)
            .or(fallback_id)
            .unwrap_or_default()
            .to_owned();
        let kind = raw
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let constructs = raw
            .get("constructs")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Case {
            id,
            kind,
            constructs,
            raw,
        })
    }

    /// Every case file of a directory, sorted by id.
    pub fn load_dir(dir: &Path) -> Result<Vec<Case>, String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        let mut cases = files
            .iter()
            .map(|f| Case::load(f))
            .collect::<Result<Vec<_>, _>>()?;
        cases.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(cases)
    }

    /// The primary construct (first tag).
    pub fn construct(&self) -> &str {
        self.constructs
            .first()
            .map(String::as_str)
            .unwrap_or("(none)")
    }

    pub fn get(&self, key: &str) -> Option<&Value> {
        self.raw.get(key).filter(|v| !v.is_null())
    }

    pub fn str_list(&self, key: &str) -> Vec<String> {
        self.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn spec(&self) -> SpecRef {
        match self.get("spec") {
            Some(Value::String(s)) => SpecRef::File(s.clone()),
            Some(Value::Object(o)) => match o.get("inline").and_then(Value::as_str) {
                Some(t) => SpecRef::Inline(t.to_owned()),
                None => SpecRef::None,
            },
            _ => SpecRef::None,
        }
    }

    pub fn expect(&self) -> &Value {
        self.get("expect").unwrap_or(&Value::Null)
    }

    /// The `expect` blocks of the case: top level, each step, nested `cases` and
    /// `if_status_200`, in that order.
    pub fn expects(&self) -> Vec<&Value> {
        fn add<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
            if !v.is_object() {
                return;
            }
            out.push(v);
            if let Some(n) = v.get("if_status_200") {
                add(n, out);
            }
            if let Some(Value::Array(cases)) = v.get("cases") {
                cases.iter().for_each(|c| add(c, out));
            }
        }
        let mut out = Vec::new();
        add(self.expect(), &mut out);
        for s in self.steps() {
            if let Some(e) = s.get("expect") {
                add(e, &mut out);
            }
        }
        out
    }

    /// Every check of every `expect` block.
    pub fn checks(&self) -> Vec<&Value> {
        self.expects()
            .into_iter()
            .filter_map(|e| e.get("checks").and_then(Value::as_array))
            .flatten()
            .collect()
    }

    /// The steps of a `sequence` case.
    pub fn steps(&self) -> Vec<&Value> {
        self.get("steps")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default()
    }

    /// Every request of the case: the `request`, or each step's.
    pub fn requests(&self) -> Vec<&Value> {
        match self.get("request") {
            Some(r) => vec![r],
            None => self
                .steps()
                .iter()
                .filter_map(|s| s.get("request"))
                .collect(),
        }
    }

    pub fn upstream(&self) -> Vec<Upstream> {
        let Some(Value::Array(entries)) = self.get("upstream") else {
            return Vec::new();
        };
        entries
            .iter()
            .map(|u| {
                let s = |k: &str| u.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
                let resp = u.get("response");
                let body = resp.and_then(|r| {
                    r.get("body_text")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .or_else(|| r.get("body_json").map(Value::to_string))
                });
                Upstream {
                    namespace: s("namespace"),
                    method: s("method").to_ascii_uppercase(),
                    path: s("path"),
                    query: u
                        .get("query")
                        .and_then(Value::as_object)
                        .map(|q| {
                            q.iter()
                                .map(|(k, v)| (k.clone(), crate::pointer::text_of(v)))
                                .collect()
                        })
                        .unwrap_or_default(),
                    unreachable: u
                        .get("unreachable")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    status: resp
                        .and_then(|r| r.get("status"))
                        .and_then(Value::as_u64)
                        .unwrap_or(200) as u16,
                    content_type: resp
                        .and_then(|r| r.get("content_type"))
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    body,
                    received: u.get("received").cloned(),
                }
            })
            .collect()
    }
}
