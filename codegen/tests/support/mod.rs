//! Helpers shared by the end-to-end tests: building generated crates and running them.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf()
}

/// A target directory for crates built by tests, kept apart from the workspace's own
/// (cargo holds that one's lock while tests build) and shared between test runs; under
/// `$CARGO_TARGET_DIR` when it is set.
pub fn e2e_target() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("e2e")
}

/// Runs `cargo <args>` in `dir` with the e2e target directory; panics with its output on failure.
pub fn cargo(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", e2e_target())
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
