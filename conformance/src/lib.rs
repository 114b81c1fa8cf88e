//! Tests against reference material that is not part of this repository: the reference
//! engine's corpus and tutorial (`naftiko/`) and Lago's OpenAPI document (`lago/`).
//!
//! The material is found once, by the build script: the folder named by `NAFTIKO_SHARED`,
//! else `../shared` beside the repository. Without it every test here is reported as
//! ignored (with the reason), so a fresh clone's `cargo test --workspace` passes.
//! `.ci/run` requires it.

use std::path::PathBuf;

use serde_json::{Value, json};

/// Why the tests of this crate are ignored when the material is absent.
pub const ABSENT: &str = "needs the shared reference material: set NAFTIKO_SHARED to its folder (or place it at ../shared)";

/// The folder of the shared reference material.
///
/// Only tests compiled with cfg `naftiko_shared` call this, so it exists.
pub fn shared_dir() -> PathBuf {
    match option_env!("NAFTIKO_SHARED_DIR") {
        Some(d) => PathBuf::from(d),
        None => panic!("{ABSENT}"),
    }
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_path_buf()
}

/// A target directory for crates that tests generate and build: beside the workspace's own
/// (cargo holds that one's lock while the tests run), under `$CARGO_TARGET_DIR` when set.
pub fn scratch_target() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("e2e")
}

/// Runs `cargo <args>` in `dir` with [`scratch_target`]; panics with its output on failure.
pub fn cargo(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", scratch_target())
        .env_remove("RUSTFLAGS")
        // Fixtures need no debugger: no debug info keeps the shared target small.
        .env("CARGO_PROFILE_DEV_DEBUG", "false")
        .output()
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo {args:?} failed in {}:\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Lago's OpenAPI document (`lago/openapi.yaml`), as JSON Schema validators.
pub struct OpenApi(Value);

impl OpenApi {
    pub fn load() -> OpenApi {
        let path = shared_dir().join("lago/openapi.yaml");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        OpenApi(serde_yaml::from_str(&text).expect("Lago's OpenAPI document is YAML"))
    }

    /// The path of the document, for tools that read it themselves (Prism).
    pub fn path() -> PathBuf {
        shared_dir().join("lago/openapi.yaml")
    }

    /// The response schema of `method path` for `status`, as a validator whose `$ref`s
    /// resolve inside the document.
    pub fn validator(&self, method: &str, path: &str, status: u16) -> jsonschema::Validator {
        let op = &self.0["paths"][path][method.to_lowercase()];
        assert!(op.is_object(), "no {method} {path} in the OpenAPI document");
        let mut response = op["responses"][status.to_string()].clone();
        if let Some(r) = response.get("$ref").and_then(Value::as_str) {
            response = self.pointer(r);
        }
        let schema = response["content"]["application/json"]["schema"].clone();
        assert!(
            !schema.is_null(),
            "no JSON schema for {status} of {method} {path}"
        );
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "allOf": [schema],
            "components": self.0["components"].clone(),
        });
        jsonschema::validator_for(&root).expect("a valid schema")
    }

    fn pointer(&self, r: &str) -> Value {
        self.0
            .pointer(r.trim_start_matches('#'))
            .cloned()
            .unwrap_or(Value::Null)
    }
}

/// Panics with every schema error of `value`.
pub fn assert_valid(v: &jsonschema::Validator, value: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match Lago's schema:\n{}\n{value:#}",
        errors.join("\n")
    );
}
