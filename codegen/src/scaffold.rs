//! `naftiko-codegen new`: a standalone crate that builds a service binary for a spec.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};

/// Options of [`new_crate`].
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The crate name (default: the capability's name).
    pub name: Option<String>,
    /// Where the `naftiko-codegen` crate is (default: the source this binary was built from).
    pub codegen_path: Option<PathBuf>,
}

fn err(msg: String) -> Diagnostics {
    Diagnostics(vec![Diagnostic::error(msg)])
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
    let name = options.name.clone().unwrap_or_else(|| cap.name.clone());
    let codegen = match &options.codegen_path {
        Some(p) => p.clone(),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")),
    };
    let codegen = codegen.canonicalize().unwrap_or(codegen);
    let runtime = codegen.join("runtime");
    let spec_file = spec
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| "capability.yaml".into());
    let lib = crate::names::unraw(&crate::names::snake_ident(&name)).to_owned();
    let generated = crate::output_file_name(Path::new(&spec_file));
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
naftiko-runtime = {{ path = "{runtime}" }}

[build-dependencies]
naftiko-codegen = {{ path = "{codegen}" }}
"#,
                runtime = runtime.display(),
                codegen = codegen.display(),
            ),
        ),
        (
            "build.rs".into(),
            format!(
                "// Generates the client, REST router and MCP tools from the spec into OUT_DIR.\nfn main() {{\n    naftiko_codegen::Builder::new().compile(\"specs/{spec_file}\");\n}}\n"
            ),
        ),
        (
            "src/lib.rs".into(),
            format!(
                "//! Generated from `specs/{spec_file}` by naftiko-codegen; see the build script.\n\ninclude!(concat!(env!(\"OUT_DIR\"), \"/{generated}\"));\n"
            ),
        ),
        (
            "src/main.rs".into(),
            format!(
                "//! `{name} serve`: the REST and MCP surfaces of the spec. `{name} --help` lists the flags.\n\nfn main() -> std::process::ExitCode {{\n    naftiko_runtime::cli::main(|args| {{\n        let clients = {lib}::Clients::with_config(|namespace| args.config(namespace))?;\n        Ok({lib}::surfaces(&clients))\n    }})\n}}\n"
            ),
        ),
    ];
    let write = |rel: &Path, text: &str| -> Result<(), Diagnostics> {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| err(format!("cannot create `{}`: {e}", dir.display())))?;
        }
        std::fs::write(&path, text)
            .map_err(|e| err(format!("cannot write `{}`: {e}", path.display())))
    };
    for (rel, text) in &files {
        write(rel, text)?;
    }
    let spec_text = std::fs::read_to_string(spec)
        .map_err(|e| err(format!("cannot read `{}`: {e}", spec.display())))?;
    write(&Path::new("specs").join(&spec_file), &spec_text)?;
    Ok(name)
}
