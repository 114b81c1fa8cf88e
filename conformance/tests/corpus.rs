//! Every Lago sibling spec is accepted and its generated code compiles without a clippy
//! warning; every spec of the reference engine's corpus (alpha2 and beta5) is either
//! accepted (and compiles) or rejected with located diagnostics only, never a panic.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use naftiko_conformance::{cargo, scratch_target, shared_dir, workspace_root};

fn yaml_files(dir: &Path, recurse: bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            // `shared/` folders hold files that other specs import, not capabilities.
            if recurse && p.file_name().is_some_and(|n| n != "shared") {
                out.extend(yaml_files(&p, true));
            }
        } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
#[cfg_attr(
    not(naftiko_shared),
    ignore = "needs the shared reference material: set NAFTIKO_SHARED to its folder, or place it at ../shared"
)]
fn corpora() {
    let shared = shared_dir();
    let lago = yaml_files(&shared.join("lago/capabilities"), false);
    let mut naftiko = yaml_files(&shared.join("naftiko/corpus"), true);
    // The current grammar (ikanos 1.0.0-beta5): the engine's test specs and the tutorial.
    naftiko.extend(yaml_files(&shared.join("naftiko/beta5/engine-tests"), true));
    naftiko.extend(yaml_files(&shared.join("naftiko/beta5/tutorial"), false));
    assert_eq!(lago.len(), 17, "the 17 Lago capabilities");
    assert!(naftiko.len() >= 40, "the Naftiko corpus");

    let mut accepted: Vec<(String, String)> = Vec::new();
    // The runtime features the accepted specs need, as `naftiko-codegen new` would enable.
    let mut features = std::collections::BTreeSet::new();
    for spec in &lago {
        let g = naftiko_codegen::generate(spec)
            .unwrap_or_else(|d| panic!("{} is rejected:\n{d}", spec.display()));
        features.extend(g.capability.runtime_features());
        accepted.push((module_name(&shared, spec), g.source));
    }
    let (mut ok, mut rejected) = (0, 0);
    let mut report = String::new();
    for spec in &naftiko {
        match naftiko_codegen::generate(spec) {
            Ok(g) => {
                ok += 1;
                features.extend(g.capability.runtime_features());
                accepted.push((module_name(&shared, spec), g.source));
            }
            Err(d) => {
                rejected += 1;
                for diag in d.iter() {
                    assert!(
                        diag.file.is_some() && diag.pos.is_some(),
                        "{}: diagnostic without a location: {diag}",
                        spec.display()
                    );
                }
                let first = d
                    .iter()
                    .find(|d| d.is_error())
                    .map(|d| d.message.clone())
                    .unwrap_or_default();
                let _ = writeln!(
                    report,
                    "  rejected {}: {first}",
                    spec.strip_prefix(&shared).unwrap_or(spec).display()
                );
            }
        }
    }
    println!(
        "Lago: {} of {} accepted. Naftiko corpus: {ok} accepted, {rejected} rejected with located diagnostics.\n{report}",
        lago.len(),
        lago.len()
    );

    // One crate holding every accepted spec's code, checked by clippy with warnings denied.
    let root = workspace_root();
    let dir = scratch_target().join("corpus-crate");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let mut lib = String::from("//! Generated code of every accepted corpus spec.\n");
    for (name, source) in &accepted {
        std::fs::write(dir.join("src").join(format!("{name}.rs")), source).unwrap();
        let _ = writeln!(lib, "pub mod {name} {{\n    include!(\"{name}.rs\");\n}}");
    }
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"corpus-crate\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[dependencies]\nnaftiko-runtime = {{ path = \"{}\", features = [{}] }}\n",
            root.join("codegen/runtime").display(),
            features
                .iter()
                .map(|f| format!("\"{f}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    cargo(&dir, &["clippy", "--quiet", "--", "-D", "warnings"]);
}

/// A module name unique per spec: its path under the shared folder, in snake case.
fn module_name(shared: &Path, spec: &Path) -> String {
    let rel = spec.strip_prefix(shared).unwrap_or(spec).with_extension("");
    let mut s = String::from("spec");
    for c in rel.to_string_lossy().chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        };
        // Runs of separators become one `_`, so the name stays snake case.
        if c != '_' || !s.ends_with('_') {
            s.push(c);
        }
    }
    if s.ends_with('_') {
        s.pop();
    }
    s
}
