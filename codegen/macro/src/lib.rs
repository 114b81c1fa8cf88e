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

use proc_macro::TokenStream;
use quote::quote;
use syn::{LitStr, parse_macro_input};

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
    match naftiko_codegen::generate(&path) {
        Ok(generated) => {
            let code: proc_macro2::TokenStream = match generated.source.parse() {
                Ok(c) => c,
                Err(e) => {
                    return syn::Error::new(
                        lit.span(),
                        format!("internal error: generated code does not parse: {e}"),
                    )
                    .to_compile_error()
                    .into();
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
            .into()
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
            first.to_compile_error().into()
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
