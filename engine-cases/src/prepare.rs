//! Preparing cases: fixture files, the spec each case runs, generation through the
//! generator library, and ONE acceptance crate holding a module per generated spec.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::case::{Case, SpecRef};

/// The origin written for `${UPSTREAM}` at generation time; every consumed namespace is
/// pointed at a stub with `--base-url` at run time.
pub const PLACEHOLDER_ORIGIN: &str = "http://upstream.invalid";

/// Package name of the acceptance crate (its binary has the same name).
const ACCEPTANCE: &str = "naftiko-engine-acceptance";

/// Where things are.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The repository (holds `codegen/runtime` and `Cargo.lock`).
    pub repo: PathBuf,
    /// The cargo target directory shared with the workspace.
    pub target: PathBuf,
    /// The corpus case specs are relative to.
    pub corpus: PathBuf,
    /// `<target>/engine-cases`.
    pub out: PathBuf,
}

/// One exposed surface of a generated spec (from `ir::Capability::surfaces`).
#[derive(Debug, Clone)]
pub struct Surface {
    /// `rest`, `mcp`, later `skill` and `control`.
    pub kind: String,
    /// The surface's namespace (the key of `--listen`).
    pub namespace: String,
    /// An MCP server declared with `transport: stdio`.
    pub stdio: bool,
}

/// A spec the generator accepted.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Its exposed surfaces.
    pub surfaces: Vec<Surface>,
    /// Its consumed namespaces, in spec order.
    pub clients: Vec<String>,
    /// The generated Rust source.
    pub source: String,
}

/// A spec the generator rejected: its first error.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The diagnostic's message.
    pub message: String,
    /// `file:line:col`, when known.
    pub location: Option<String>,
    /// True when the diagnostic names file, line and column.
    pub located: bool,
}

impl Rejected {
    pub fn describe(&self) -> String {
        match &self.location {
            Some(l) => format!("{} at {l}", self.message),
            None => self.message.clone(),
        }
    }
}

/// Fixture directories and the spec of one case.
#[derive(Debug, Clone)]
pub struct CaseFiles {
    /// Holds `files`; the value of `${FIXTURES}`.
    pub fixtures: PathBuf,
    /// The working directory of the case's service (holds `files_in_cwd`).
    pub cwd: PathBuf,
    /// The spec file the generator reads.
    pub spec_path: Option<PathBuf>,
    /// The spec parsed as plain YAML (for rules, binds and translation).
    pub spec_json: Option<Value>,
}

/// Replaces the generation-time placeholders.
pub fn substitute(text: &str, fixtures: &Path) -> String {
    text.replace("${UPSTREAM}", PLACEHOLDER_ORIGIN)
        .replace("${FIXTURES}", &fixtures.to_string_lossy())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the only-if-changed way, so cargo does not rebuild for nothing.
fn write_if_changed(path: &Path, text: &str) -> Result<(), String> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return Ok(());
    }
    write(path, text)
}

/// A file or directory name made of `[a-z0-9_]`.
pub fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    out.trim_matches('_').to_owned()
}

/// Writes the case's fixture files and inline spec; parses the spec as YAML.
pub fn case_files(case: &Case, paths: &Paths) -> Result<CaseFiles, String> {
    let fixtures = paths.out.join("fixtures").join(sanitize(&case.id));
    let cwd = fixtures.join("_cwd");
    std::fs::create_dir_all(&cwd).map_err(|e| format!("{}: {e}", cwd.display()))?;
    for (key, dir) in [("files", &fixtures), ("files_in_cwd", &cwd)] {
        if let Some(Value::Object(files)) = case.get(key) {
            for (rel, content) in files {
                let text = content
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| content.to_string());
                write(&dir.join(rel), &substitute(&text, &fixtures))?;
            }
        }
    }
    let (spec_path, text) = match case.spec() {
        SpecRef::None => (None, None),
        SpecRef::File(rel) => {
            let p = paths.corpus.join(&rel);
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            (Some(p), Some(text))
        }
        SpecRef::Inline(text) => {
            let text = substitute(&text, &fixtures);
            let p = match case.get("spec_location").and_then(Value::as_str) {
                Some(loc) => PathBuf::from(substitute(loc, &fixtures)),
                None => fixtures.join(format!("{}.yaml", case.id)),
            };
            write(&p, &text)?;
            (Some(p), Some(text))
        }
    };
    let spec_json = text.and_then(|t| serde_yaml::from_str::<Value>(&t).ok());
    Ok(CaseFiles {
        fixtures,
        cwd,
        spec_path,
        spec_json,
    })
}

/// The first error of a rejected spec.
pub fn first_error(d: &naftiko_codegen::Diagnostics) -> Rejected {
    let first = d.iter().find(|x| x.is_error()).or_else(|| d.iter().next());
    match first {
        Some(x) => Rejected {
            message: x.message.clone(),
            location: x.location(),
            located: x.file.is_some() && x.pos.is_some(),
        },
        None => Rejected {
            message: "rejected without a diagnostic".into(),
            location: None,
            located: false,
        },
    }
}

fn generated(g: naftiko_codegen::Generated) -> Generated {
    Generated {
        surfaces: g
            .capability
            .surfaces()
            .into_iter()
            .map(|s| Surface {
                kind: s.kind.to_owned(),
                namespace: s.namespace,
                stdio: s.stdio,
            })
            .collect(),
        clients: g.capability.client_namespaces(),
        source: g.source,
    }
}

/// Runs the generator on a spec file; a panic of the generator is a rejection too.
pub fn generate_file(path: &Path) -> Result<Generated, Rejected> {
    let p = path.to_owned();
    match std::panic::catch_unwind(move || naftiko_codegen::generate(&p)) {
        Ok(Ok(g)) => Ok(generated(g)),
        Ok(Err(d)) => Err(first_error(&d)),
        Err(_) => Err(Rejected {
            message: "the generator panicked".into(),
            location: None,
            located: false,
        }),
    }
}

/// Runs the generator on spec text (fragments wrapped into a spec).
pub fn generate_text(name: &str, text: &str) -> Result<Generated, Rejected> {
    let (n, t) = (name.to_owned(), text.to_owned());
    match std::panic::catch_unwind(move || naftiko_codegen::generate_str(n, t)) {
        Ok(Ok(g)) => Ok(generated(g)),
        Ok(Err(d)) => Err(first_error(&d)),
        Err(_) => Err(Rejected {
            message: "the generator panicked".into(),
            location: None,
            located: false,
        }),
    }
}

/// The acceptance crate: one module per distinct generated source.
#[derive(Debug, Default)]
pub struct Acceptance {
    /// Module name -> generated source.
    pub modules: BTreeMap<String, String>,
    by_source: BTreeMap<String, String>,
    /// Modules dropped because they do not compile -> the first compiler error.
    pub broken: BTreeMap<String, String>,
    /// Set when the crate could not be built at all.
    pub failure: Option<String>,
    /// The built binary.
    pub binary: PathBuf,
    /// Package (and binary) name of the crate; `naftiko-engine-acceptance` when `None`.
    pub package: Option<String>,
    /// Features of `naftiko-runtime` to enable; when `None`, every body format when a
    /// generated spec uses one, else none.
    pub features: Option<Vec<String>>,
}

impl Acceptance {
    /// An empty crate with its own package name and runtime features, for other tests that
    /// share a target directory with the runner's crate.
    pub fn named(package: &str, features: &[&str]) -> Self {
        Acceptance {
            package: Some(package.to_owned()),
            features: Some(features.iter().map(|f| (*f).to_owned()).collect()),
            ..Acceptance::default()
        }
    }

    fn package(&self) -> &str {
        self.package.as_deref().unwrap_or(ACCEPTANCE)
    }

    /// The module for a source, added on first use (`hint` names it).
    pub fn module_for(&mut self, hint: &str, source: &str) -> String {
        if let Some(m) = self.by_source.get(source) {
            return m.clone();
        }
        let base = format!("m_{}", sanitize(hint));
        let mut name = base.clone();
        let mut n = 2;
        while self.modules.contains_key(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.modules.insert(name.clone(), source.to_owned());
        self.by_source.insert(source.to_owned(), name.clone());
        name
    }

    /// Why a module cannot run, if it cannot.
    pub fn unusable(&self, module: &str) -> Option<String> {
        if let Some(e) = self.broken.get(module) {
            return Some(format!("generated code does not compile: {e}"));
        }
        self.failure
            .as_ref()
            .map(|f| format!("the acceptance crate could not be built: {f}"))
    }

    /// Writes the crate and builds it; modules that do not compile are dropped (their
    /// cases fail) and the rest rebuilt.
    pub fn build(&mut self, paths: &Paths) -> Result<(), String> {
        let dir = paths.out.join("acceptance");
        self.binary = paths.target.join("debug").join(self.package());
        if self.modules.is_empty() {
            return Ok(());
        }
        loop {
            self.write(&dir, paths)?;
            let out = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .current_dir(&paths.repo)
                .env("CARGO_TARGET_DIR", &paths.target)
                .env("CARGO_TERM_COLOR", "never")
                .args(["build", "--message-format", "short", "--manifest-path"])
                .arg(dir.join("Cargo.toml"))
                .output()
                .map_err(|e| format!("cannot run cargo: {e}"))?;
            if out.status.success() {
                return Ok(());
            }
            let stderr = String::from_utf8_lossy(&out.stderr);
            let bad = offending_modules(&stderr);
            let known: Vec<(String, String)> = bad
                .into_iter()
                .filter(|(m, _)| self.modules.contains_key(m))
                .collect();
            if known.is_empty() {
                let first = stderr
                    .lines()
                    .find(|l| l.contains("error"))
                    .unwrap_or("cargo build failed");
                self.failure = Some(crate::checks::show(first));
                return Ok(());
            }
            for (m, e) in known {
                eprintln!("engine-cases: module {m} does not compile: {e}");
                self.modules.remove(&m);
                self.broken.insert(m, e);
            }
            if self.modules.is_empty() {
                return Ok(());
            }
        }
    }

    fn write(&self, dir: &Path, paths: &Paths) -> Result<(), String> {
        let specs = dir.join("src").join("specs");
        std::fs::create_dir_all(&specs).map_err(|e| format!("{}: {e}", specs.display()))?;
        let runtime = paths.repo.join("codegen").join("runtime");
        // Optional body formats only when a generated spec uses them: they are heavy and
        // the workspace may not have built them.
        let uses = |what: &str| self.modules.values().any(|src| src.contains(what));
        let features = match &self.features {
            Some(f) => f.clone(),
            None => {
                let mut f = Vec::new();
                if uses("naftiko_runtime::formats::Format::") {
                    f.extend(runtime_features(&runtime.join("Cargo.toml")));
                }
                if uses("naftiko_runtime::skill::") {
                    f.push("skill".to_owned());
                }
                if uses("naftiko_runtime::script::") {
                    f.push("script".to_owned());
                }
                f
            }
        };
        let package = self.package();
        write_if_changed(
            &dir.join("Cargo.toml"),
            &format!(
                "# Written by naftiko-engine-cases: one module per spec of the engine cases.\n\
                 [package]\nname = \"{package}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
                 # A workspace of its own, sharing the repository's target directory and lock.\n\
                 [workspace]\n\n[dependencies]\nnaftiko-runtime = {{ path = \"{}\", features = {features:?} }}\n",
                runtime.display()
            ),
        )?;
        // Same dependency versions as the workspace, so its compiled crates are reused.
        if let Ok(lock) = std::fs::read_to_string(paths.repo.join("Cargo.lock")) {
            write_if_changed(&dir.join("Cargo.lock"), &lock)?;
        }
        let mut main = String::from(
            "//! Written by naftiko-engine-cases: `<module> serve|mcp-stdio ...` runs one generated spec.\n\
             #![allow(warnings)]\n\n",
        );
        for m in self.modules.keys() {
            main.push_str(&format!("#[path = \"specs/{m}.rs\"]\nmod {m};\n"));
        }
        main.push_str(
            "\nfn main() -> std::process::ExitCode {\n    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();\n    if args.len() < 2 {\n        eprintln!(\"usage: naftiko-engine-acceptance <module> serve|mcp-stdio ...\");\n        return std::process::ExitCode::from(2);\n    }\n    let module = args.remove(1);\n    match module.to_str().unwrap_or(\"\") {\n",
        );
        for m in self.modules.keys() {
            main.push_str(&format!(
                "        \"{m}\" => {m}::engine_cases_main(args),\n"
            ));
        }
        main.push_str("        other => {\n            eprintln!(\"unknown module `{other}`\");\n            std::process::ExitCode::from(2)\n        }\n    }\n}\n");
        write_if_changed(&dir.join("src").join("main.rs"), &main)?;
        for (m, source) in &self.modules {
            let text = format!(
                "{source}\n\n/// Written by naftiko-engine-cases: the service's command line.\npub fn engine_cases_main(args: Vec<std::ffi::OsString>) -> std::process::ExitCode {{\n    naftiko_runtime::cli::main_from(args, |client_args| {{\n        let clients = Clients::with_config(|namespace| client_args.config(namespace))?;\n        Ok(surfaces(&clients))\n    }})\n}}\n"
            );
            write_if_changed(&specs.join(format!("{m}.rs")), &text)?;
        }
        // Modules of earlier runs would not be compiled (no `mod`), but keep the folder tidy.
        if let Ok(entries) = std::fs::read_dir(&specs) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(stem) = name.strip_suffix(".rs")
                    && !self.modules.contains_key(stem)
                {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(())
    }
}

/// The features of the runtime to enable: every optional body format it offers.
fn runtime_features(manifest: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(manifest).unwrap_or_default();
    let mut in_features = false;
    let mut names = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_features = l == "[features]";
            continue;
        }
        if in_features && let Some((k, _)) = l.split_once('=') {
            let k = k.trim();
            if !k.starts_with('#') && !k.is_empty() {
                names.push(k.to_owned());
            }
        }
    }
    if names.iter().any(|n| n == "all-formats") {
        vec!["all-formats".to_owned()]
    } else {
        Vec::new()
    }
}

/// Modules named in rustc's errors (`src/specs/<m>.rs:L:C: error...`), with the first
/// error of each.
pub fn offending_modules(stderr: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in stderr.lines() {
        let Some(at) = line.find("specs/") else {
            continue;
        };
        let rest = &line[at + "specs/".len()..];
        let Some(end) = rest.find(".rs:") else {
            continue;
        };
        if !line.contains("error") {
            continue;
        }
        let module = rest[..end].to_owned();
        out.entry(module)
            .or_insert_with(|| crate::checks::show(line.trim()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustc_errors_name_modules() {
        let err = "   Compiling x v0.0.0\nsrc/specs/m_a.rs:10:5: error[E0425]: cannot find value `x`\nsrc/specs/m_a.rs:11:5: error: again\nsrc/specs/m_b.rs:1:1: warning: unused\nerror: could not compile `x`\n";
        let m = offending_modules(err);
        assert_eq!(m.len(), 1);
        assert!(m["m_a"].contains("E0425"));
    }

    #[test]
    fn names() {
        assert_eq!(
            sanitize("engine-tests/mcp/mcp-capability.yaml"),
            "engine_tests_mcp_mcp_capability_yaml"
        );
        let mut a = Acceptance::default();
        let m1 = a.module_for("x", "src1");
        let m2 = a.module_for("x", "src2");
        assert_eq!(a.module_for("y", "src1"), m1);
        assert_ne!(m1, m2);
    }
}
