//! `naftiko-codegen new`: a standalone crate that builds a service binary for a spec.
//!
//! The crate never names an absolute path: beside or inside a checkout of this repository
//! its dependencies are relative paths to it (and its lockfile is copied, so versions
//! match); elsewhere they are versions from crates.io. The spec and every file it imports
//! are copied under `specs/`, keeping their relative layout.

use std::path::{Component, Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};

/// Options of [`new_crate`].
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The crate name (default: the capability's name).
    pub name: Option<String>,
    /// Where the `naftiko-codegen` crate is, for path dependencies (default: the checkout
    /// this binary was built from, when the new crate sits inside or beside it).
    pub codegen_path: Option<PathBuf>,
}

fn err(msg: String) -> Diagnostics {
    Diagnostics(vec![Diagnostic::error(msg)])
}

/// How the new crate depends on naftiko-codegen and naftiko-runtime.
enum Deps {
    /// Paths relative to the new crate; `lock` is the checkout's lockfile to copy.
    Path {
        codegen: PathBuf,
        runtime: PathBuf,
        lock: Option<PathBuf>,
    },
    /// Versions from crates.io.
    Version(String),
}

/// Checks `spec` and writes a crate for it into `out`; returns the crate name.
pub fn new_crate(spec: &Path, out: &Path, options: &Options) -> Result<String, Diagnostics> {
    let (cap, warnings) = crate::check(spec)?;
    eprint!("{warnings}");
    if out.exists()
        && out
            .read_dir()
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(err(format!("`{}` exists and is not empty", out.display())));
    }
    std::fs::create_dir_all(out)
        .map_err(|e| err(format!("cannot create `{}`: {e}", out.display())))?;
    let out_abs = out
        .canonicalize()
        .map_err(|e| err(format!("cannot resolve `{}`: {e}", out.display())))?;
    let name = options.name.clone().unwrap_or_else(|| cap.name.clone());
    let deps = dependencies(&out_abs, options)?;

    // The spec and the files it imports, under specs/, laid out as they were.
    let sources: Vec<PathBuf> = cap
        .sources
        .iter()
        .map(|p| p.canonicalize().unwrap_or_else(|_| p.clone()))
        .collect();
    let base = common_dir(&sources);
    let mut spec_rel = PathBuf::new();
    for (i, src) in sources.iter().enumerate() {
        let rel = src.strip_prefix(&base).unwrap_or(src);
        let rel = PathBuf::from("specs").join(rel);
        let text = std::fs::read_to_string(src)
            .map_err(|e| err(format!("cannot read `{}`: {e}", src.display())))?;
        write(out, &rel, &text)?;
        if i == 0 {
            spec_rel = rel;
        }
    }
    let spec_rel = slash(&spec_rel);

    let features = cap.runtime_features();
    let features = if features.is_empty() {
        String::new()
    } else {
        format!(
            ", features = [{}]",
            features
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let (runtime_dep, codegen_dep) = match &deps {
        Deps::Path {
            codegen, runtime, ..
        } => (
            format!("{{ path = \"{}\"{features} }}", slash(runtime)),
            format!("{{ path = \"{}\" }}", slash(codegen)),
        ),
        Deps::Version(v) => (
            format!("{{ version = \"{v}\"{features} }}"),
            format!("\"{v}\""),
        ),
    };
    let lib = crate::names::unraw(&crate::names::snake_ident(&name)).to_owned();
    let generated = crate::output_file_name(Path::new(&spec_rel));
    let files: Vec<(PathBuf, String)> = vec![
        (
            "Cargo.toml".into(),
            format!(
                r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

# A crate of its own, not a member of any enclosing workspace.
[workspace]

[dependencies]
naftiko-runtime = {runtime_dep}

[build-dependencies]
naftiko-codegen = {codegen_dep}
"#
            ),
        ),
        (
            "build.rs".into(),
            format!(
                "// Generates the client, the orchestrations and the surfaces from the spec into OUT_DIR;\n// editing the spec or a file it imports regenerates.\nfn main() {{\n    naftiko_codegen::Builder::new().compile(\"{spec_rel}\");\n}}\n"
            ),
        ),
        (
            "src/lib.rs".into(),
            format!(
                "//! Generated from `{spec_rel}` by naftiko-codegen; see the build script.\n\ninclude!(concat!(env!(\"OUT_DIR\"), \"/{generated}\"));\n"
            ),
        ),
        (
            "src/main.rs".into(),
            format!(
                "//! `{name} serve`: the surfaces of the spec. `{name} --help` lists the flags.\n\nfn main() -> std::process::ExitCode {{\n    naftiko_runtime::cli::main(|args| {{\n        let clients = {lib}::Clients::with_config(|namespace| args.config(namespace))?;\n        Ok({lib}::surfaces(&clients))\n    }})\n}}\n"
            ),
        ),
    ];
    for (rel, text) in &files {
        write(out, rel, text)?;
    }
    if let Deps::Path {
        lock: Some(lock), ..
    } = &deps
    {
        std::fs::copy(lock, out.join("Cargo.lock"))
            .map_err(|e| err(format!("cannot copy `{}`: {e}", lock.display())))?;
    }
    Ok(name)
}

fn write(out: &Path, rel: &Path, text: &str) -> Result<(), Diagnostics> {
    let path = out.join(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| err(format!("cannot create `{}`: {e}", dir.display())))?;
    }
    std::fs::write(&path, text).map_err(|e| err(format!("cannot write `{}`: {e}", path.display())))
}

/// Path dependencies when a checkout of naftiko-codegen is at hand and the new crate sits
/// inside or beside it (or `--codegen-path` names one); else versions.
fn dependencies(out: &Path, options: &Options) -> Result<Deps, Diagnostics> {
    let version = {
        let v = env!("CARGO_PKG_VERSION");
        let mut parts = v.split('.');
        format!(
            "{}.{}",
            parts.next().unwrap_or("0"),
            parts.next().unwrap_or("1")
        )
    };
    let (codegen, explicit) = match &options.codegen_path {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from(env!("CARGO_MANIFEST_DIR")), false),
    };
    let Ok(codegen) = codegen.canonicalize() else {
        if explicit {
            return Err(err(format!(
                "`{}` (--codegen-path) does not exist",
                codegen.display()
            )));
        }
        return Ok(Deps::Version(version));
    };
    let workspace = codegen.parent().unwrap_or(&codegen).to_path_buf();
    let near = out.starts_with(&workspace) || out.parent() == workspace.parent();
    if !explicit && !near {
        return Ok(Deps::Version(version));
    }
    let lock = workspace.join("Cargo.lock");
    Ok(Deps::Path {
        runtime: relative(out, &codegen.join("runtime")),
        codegen: relative(out, &codegen),
        lock: lock.is_file().then_some(lock),
    })
}

/// `to` relative to the folder `from` (both absolute).
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let same = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut out = PathBuf::new();
    for _ in same..a.len() {
        out.push("..");
    }
    for c in &b[same..] {
        out.push(c);
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The deepest folder that holds every one of `files`.
fn common_dir(files: &[PathBuf]) -> PathBuf {
    let mut base = files
        .first()
        .and_then(|f| f.parent())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    for f in files.iter().skip(1) {
        while !f.starts_with(&base) {
            match base.parent() {
                Some(p) => base = p.to_path_buf(),
                None => break,
            }
        }
    }
    base
}

/// A path with `/` separators, for Cargo.toml and Rust string literals.
fn slash(p: &Path) -> String {
    p.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative(Path::new("/w/main/target/x"), Path::new("/w/main/codegen")),
            PathBuf::from("../../codegen")
        );
        assert_eq!(
            relative(Path::new("/w/app"), Path::new("/w/main/codegen/runtime")),
            PathBuf::from("../main/codegen/runtime")
        );
        assert_eq!(
            common_dir(&[
                PathBuf::from("/s/tutorial/step.yml"),
                PathBuf::from("/s/tutorial/shared/a.yml")
            ]),
            PathBuf::from("/s/tutorial")
        );
        assert_eq!(
            common_dir(&[PathBuf::from("/s/a/x.yml"), PathBuf::from("/s/b/y.yml")]),
            PathBuf::from("/s")
        );
    }
}
