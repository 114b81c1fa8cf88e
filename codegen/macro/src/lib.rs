//! `capability!("specs/x.yaml")`: the code naftiko-codegen generates for a spec, expanded
//! in place. The path is relative to the calling crate's root (the folder of its
//! `Cargo.toml`), as progenitor's `generate_api!` resolves it, so it reads the same from
//! any module; a path found only beside the calling file (`include_str!`'s rule) is taken
//! from there. A spec error is a compile error on the path literal whose message names the
//! spec's file, line and column. Editing the spec, or a file it imports, rebuilds the crate.
//!
//! ```ignore
//! naftiko_codegen_macro::capability!("specs/lago-customers.yaml");
//! ```
//!
//! The crate must depend on `naftiko-runtime`. For code you can read in `OUT_DIR` and for
//! warnings printed by cargo, prefer a build script with `naftiko_codegen::Builder`.

#![warn(missing_docs)]

use proc_macro::TokenStream;
use quote::quote;
use syn::{LitStr, parse_macro_input};

/// Expands to the code generated for the spec at the given path (see the crate docs).
#[proc_macro]
pub fn capability(input: TokenStream) -> TokenStream {
    let lit = parse_macro_input!(input as LitStr);
    let dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    // Relative to the crate's root; else, when only found there, to the calling file.
    let from_root = std::path::Path::new(&dir).join(lit.value());
    let beside_caller = || {
        proc_macro::Span::call_site()
            .local_file()
            .and_then(|file| locate(&file, &dir))
            .and_then(|f| f.parent().map(|p| p.join(lit.value())))
            .filter(|p| p.is_file())
    };
    let path = if from_root.is_file() {
        from_root
    } else {
        beside_caller().unwrap_or(from_root)
    };
    expand(&path, &lit, &dir).into()
}

/// The tokens `capability!` expands to for the spec at `path`: the generated code, or one
/// `compile_error!` per spec error, each naming the spec's file (relative to `dir`), line
/// and column. Kept apart from the macro entry point so it can be tested as a function.
fn expand(path: &std::path::Path, lit: &LitStr, dir: &str) -> proc_macro2::TokenStream {
    match naftiko_codegen::generate(path) {
        Ok(generated) => {
            let code: proc_macro2::TokenStream = match generated.source.parse() {
                Ok(c) => c,
                Err(e) => {
                    return syn::Error::new(
                        lit.span(),
                        format!("internal error: generated code does not parse: {e}"),
                    )
                    .to_compile_error();
                }
            };
            // Rebuilds the crate when the spec, or a file it imports, changes.
            let tracked = generated
                .capability
                .sources
                .iter()
                .map(|p| p.to_string_lossy().into_owned());
            quote! {
                #(const _: &str = include_str!(#tracked);)*
                #code
            }
        }
        Err(diags) => {
            let mut errors = diags.iter().filter(|d| d.is_error()).map(|d| {
                let loc = d
                    .location()
                    .map(|l| l.replacen(&format!("{dir}/"), "", 1))
                    .unwrap_or_else(|| lit.value());
                let mut msg = format!("{loc}: {}", d.message);
                if let Some(h) = &d.help {
                    msg.push_str(&format!("\n  help: {h}"));
                }
                syn::Error::new(lit.span(), msg)
            });
            let mut first = errors
                .next()
                .unwrap_or_else(|| syn::Error::new(lit.span(), "invalid spec"));
            for e in errors {
                first.combine(e);
            }
            first.to_compile_error()
        }
    }
}

/// The calling source file as an absolute path. rustc may name it relative to the workspace
/// root or to the package, so the candidates are tried in turn.
fn locate(file: &std::path::Path, manifest_dir: &str) -> Option<std::path::PathBuf> {
    if file.is_absolute() {
        return Some(file.to_path_buf());
    }
    let cwd = std::env::current_dir().ok();
    cwd.iter()
        .map(|c| c.join(file))
        .chain(
            std::path::Path::new(manifest_dir)
                .ancestors()
                .map(|a| a.join(file)),
        )
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A spec with a typo in two `call:`s: each becomes a `compile_error!` naming the
    /// spec's file, line and column, with the suggestion.
    #[test]
    fn broken_spec_is_a_compile_error_per_spec_error() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let path = std::path::Path::new(dir).join("tests/specs/broken.yaml");
        let lit = LitStr::new("tests/specs/broken.yaml", proc_macro2::Span::call_site());
        let tokens = expand(&path, &lit, dir).to_string();
        assert_eq!(tokens.matches("compile_error").count(), 2, "{tokens}");
        for at in [
            "tests/specs/broken.yaml:281:15:",
            "tests/specs/broken.yaml:392:13:",
        ] {
            assert!(tokens.contains(at), "no error at {at}: {tokens}");
        }
        assert!(
            tokens.contains("namespace `lago-customers` has no operation `findcustomr`"),
            "{tokens}"
        );
        assert!(
            tokens.contains("did you mean `lago-customers.findcustomer`?"),
            "{tokens}"
        );
        assert!(!tokens.contains(dir), "absolute path leaked: {tokens}");
    }

    /// A missing spec is one located error, not a panic.
    #[test]
    fn missing_spec_is_a_compile_error() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let path = std::path::Path::new(dir).join("tests/specs/absent.yaml");
        let lit = LitStr::new("tests/specs/absent.yaml", proc_macro2::Span::call_site());
        let tokens = expand(&path, &lit, dir).to_string();
        assert_eq!(tokens.matches("compile_error").count(), 1, "{tokens}");
        assert!(tokens.contains("absent.yaml"), "{tokens}");
    }
}
