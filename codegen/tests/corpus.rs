//! Every Lago sibling spec is accepted and its generated code compiles without a clippy
//! warning; every top-level spec of the reference engine's corpus is either accepted (and
//! compiles) or rejected with located diagnostics only, never a panic.

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

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
fn corpora() {
    let root = support::root();
    let shared = root.parent().unwrap().join("shared");
    let lago = yaml_files(&shared.join("lago/capabilities"), false);
    let naftiko = yaml_files(&shared.join("naftiko/corpus"), true);
    assert_eq!(
        lago.len(),
        17,
        "the Lago capabilities are expected in ../shared"
    );
    assert!(
        naftiko.len() >= 40,
        "the Naftiko corpus is expected in ../shared"
    );

    let mut accepted: Vec<(String, String)> = Vec::new();
    for spec in &lago {
        let g = naftiko_codegen::generate(spec)
            .unwrap_or_else(|d| panic!("{} is rejected:\n{d}", spec.display()));
        accepted.push((module_name(spec), g.source));
    }
    let (mut ok, mut rejected) = (0, 0);
    let mut report = String::new();
    for spec in &naftiko {
        match naftiko_codegen::generate(spec) {
            Ok(g) => {
                ok += 1;
                accepted.push((module_name(spec), g.source));
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
                    spec.file_name().unwrap().to_string_lossy()
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
    let dir = support::e2e_target().join("corpus-crate");
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
            "[package]\nname = \"corpus-crate\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n[workspace]\n\n[dependencies]\nnaftiko-runtime = {{ path = \"{}\" }}\n",
            root.join("codegen/runtime").display()
        ),
    )
    .unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    support::cargo(&dir, &["clippy", "--quiet", "--", "-D", "warnings"]);
}

fn module_name(spec: &Path) -> String {
    let stem = spec.file_stem().unwrap().to_string_lossy();
    let parent = spec
        .parent()
        .and_then(|p| p.file_name())
        .unwrap()
        .to_string_lossy();
    let s: String = format!("{parent}_{stem}")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("spec_{s}")
}
