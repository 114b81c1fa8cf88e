//! Variables of the spec's `binds`, resolved at run time (never baked into the binary):
//! environment variables, or top-level keys of a YAML or JSON file.
//!
//! A `file:` location is read once per process and cached. `file:///./x` and `file://./x`
//! are relative to the working directory (as the reference engine reads them); `file:///x`
//! is absolute.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

use crate::{Error, Secret};

/// Where one variable's value is read.
#[derive(Debug, Clone, Copy)]
pub enum From {
    /// The environment variable of this name.
    Env(&'static str),
    /// A top-level key of a YAML (`.yaml`, `.yml`) or JSON file.
    File {
        /// The file, as the spec writes it (`file:///./secrets.yaml`).
        location: &'static str,
        /// The top-level key whose value is the variable's.
        key: &'static str,
    },
}

/// One variable of the spec's `binds`.
#[derive(Debug, Clone, Copy)]
pub struct Bind {
    /// The name templates use (`REGISTRY_TOKEN`).
    pub var: &'static str,
    /// Where its value is read.
    pub from: From,
}

/// Resolved variables, by name. Values are secrets: never printed.
#[derive(Debug, Clone, Default)]
pub struct Vars(Arc<Vec<(String, Secret)>>);

impl Vars {
    /// Resolves `names` (each declared in `binds`): an override first, else its source.
    pub fn resolve(
        binds: &[Bind],
        names: &[&str],
        overrides: &[(String, Secret)],
    ) -> Result<Vars, Error> {
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            out.push((
                (*name).to_owned(),
                Secret::new(value(binds, name, overrides)?),
            ));
        }
        Ok(Vars(Arc::new(out)))
    }

    /// The value of `name`; an error names a variable the generated code did not resolve
    /// (a generator bug, never a user's).
    pub fn get(&self, name: &str) -> Result<&str, Error> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.expose())
            .ok_or_else(|| Error::Config(format!("variable `{name}` was not resolved at start-up")))
    }
}

/// The value of the variable `name`: an override, else what `binds` says, else the
/// environment variable of that name (a variable not declared in `binds`).
pub fn value(binds: &[Bind], name: &str, overrides: &[(String, Secret)]) -> Result<String, Error> {
    if let Some((_, v)) = overrides.iter().rev().find(|(n, _)| n == name) {
        return Ok(v.expose().to_owned());
    }
    match binds.iter().rev().find(|b| b.var == name).map(|b| b.from) {
        Some(From::Env(env)) => crate::env::var(env),
        Some(From::File { location, key }) => {
            file_value(location, key).map_err(|message| Error::Bind {
                var: name.to_owned(),
                message,
            })
        }
        None => crate::env::var(name),
    }
}

/// The file a `file:` location names.
pub fn location_path(location: &str) -> PathBuf {
    let rest = location.strip_prefix("file://").unwrap_or(location);
    match rest.strip_prefix('/') {
        Some(r) if r.starts_with("./") || r.starts_with("../") => PathBuf::from(r),
        _ => PathBuf::from(rest),
    }
}

type Cache = Mutex<HashMap<&'static str, Arc<Result<serde_json::Map<String, Value>, String>>>>;

fn file_value(location: &'static str, key: &str) -> Result<String, String> {
    static FILES: OnceLock<Cache> = OnceLock::new();
    let files = FILES.get_or_init(Default::default);
    let parsed = {
        let mut files = files.lock().unwrap_or_else(|e| e.into_inner());
        files
            .entry(location)
            .or_insert_with(|| Arc::new(read_file(location)))
            .clone()
    };
    let map = parsed.as_ref().as_ref().map_err(Clone::clone)?;
    match map.get(key) {
        None | Some(Value::Null) => Err(format!("key `{key}` not found in `{location}`")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(v) => Ok(v.to_string()),
    }
}

fn read_file(location: &str) -> Result<serde_json::Map<String, Value>, String> {
    let path = location_path(location);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read `{}` ({location}): {e}", path.display()))?;
    let yaml = location.ends_with(".yaml") || location.ends_with(".yml");
    let value: Value = if yaml {
        serde_yaml::from_str(&text).map_err(|e| format!("`{location}` is not valid YAML: {e}"))?
    } else {
        serde_json::from_str(&text).map_err(|e| format!("`{location}` is not valid JSON: {e}"))?
    };
    match value {
        Value::Object(m) => Ok(m),
        _ => Err(format!(
            "`{location}` does not hold a mapping at its root level"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(
            location_path("file:///./shared/s.yaml"),
            PathBuf::from("./shared/s.yaml")
        );
        assert_eq!(location_path("file://./s.yaml"), PathBuf::from("./s.yaml"));
        assert_eq!(
            location_path("file:///etc/s.json"),
            PathBuf::from("/etc/s.json")
        );
    }

    #[test]
    fn file_and_env_values() {
        let dir = std::env::temp_dir().join(format!("naftiko-binds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let yaml = dir.join("s.yaml");
        std::fs::write(&yaml, "token: abc\nport: 8080\n").unwrap();
        let json = dir.join("s.json");
        std::fs::write(&json, r#"{"key": "k1"}"#).unwrap();
        let yaml_loc: &'static str =
            Box::leak(format!("file://{}", yaml.display()).into_boxed_str());
        let json_loc: &'static str =
            Box::leak(format!("file://{}", json.display()).into_boxed_str());
        let binds = [
            Bind {
                var: "TOKEN",
                from: From::File {
                    location: yaml_loc,
                    key: "token",
                },
            },
            Bind {
                var: "PORT",
                from: From::File {
                    location: yaml_loc,
                    key: "port",
                },
            },
            Bind {
                var: "KEY",
                from: From::File {
                    location: json_loc,
                    key: "key",
                },
            },
            Bind {
                var: "MISSING",
                from: From::File {
                    location: yaml_loc,
                    key: "nope",
                },
            },
        ];
        let v = Vars::resolve(&binds, &["TOKEN", "PORT", "KEY"], &[]).unwrap();
        assert_eq!(v.get("TOKEN").unwrap(), "abc");
        assert_eq!(v.get("PORT").unwrap(), "8080");
        assert_eq!(v.get("KEY").unwrap(), "k1");
        let e = Vars::resolve(&binds, &["MISSING"], &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("MISSING") && e.contains("`nope` not found"),
            "{e}"
        );
        let o = Vars::resolve(
            &binds,
            &["MISSING"],
            &[("MISSING".into(), Secret::new("x"))],
        )
        .unwrap();
        assert_eq!(o.get("MISSING").unwrap(), "x");
    }
}
