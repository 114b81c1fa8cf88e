//! Finds the shared reference material (`NAFTIKO_SHARED`, else `../shared` beside the
//! repository). When it is there, the tests that read it are compiled in (cfg
//! `naftiko_shared`) and learn where it is; when not, they are reported as ignored.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(naftiko_shared)");
    println!("cargo::rerun-if-env-changed=NAFTIKO_SHARED");
    println!("cargo::rerun-if-changed=build.rs");
    let explicit = std::env::var_os("NAFTIKO_SHARED").filter(|v| !v.is_empty());
    let dir = match &explicit {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"),
    };
    let complete = dir.join("naftiko/corpus").is_dir() && dir.join("lago/openapi.yaml").is_file();
    if !complete {
        if explicit.is_some() {
            println!(
                "cargo::warning=NAFTIKO_SHARED={} holds no naftiko/corpus and lago/openapi.yaml: the tests that need them are ignored",
                dir.display()
            );
        }
        return;
    }
    let dir = dir.canonicalize().unwrap_or(dir);
    println!("cargo::rustc-cfg=naftiko_shared");
    println!("cargo::rustc-env=NAFTIKO_SHARED_DIR={}", dir.display());
    // Edits of the material rerun the tests' build (a changed spec, a new case).
    println!("cargo::rerun-if-changed={}", dir.display());
}
