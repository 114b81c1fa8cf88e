//! `naftiko-codegen`: check specs, print the generated code or an OpenAPI document, or
//! scaffold a service crate.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "naftiko-codegen",
    version,
    about = "Naftiko capability specs in, checked Rust out"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check specs; prints every diagnostic and exits non-zero on errors.
    Check {
        /// Capability specs, or documents they import (either grammar).
        #[arg(required = true)]
        specs: Vec<PathBuf>,
    },
    /// Print the generated, formatted Rust for a spec.
    Expand {
        /// The capability spec.
        spec: PathBuf,
        /// Only the typed clients, as `Builder::build_server(false)` generates them.
        #[arg(long)]
        client_only: bool,
        /// An OpenAPI document (3.0 or 3.1, YAML or JSON) of the consumed API: the answers of
        /// the operations it describes get serde models and `<method>_typed` methods.
        #[arg(long, value_name = "FILE")]
        openapi: Option<PathBuf>,
    },
    /// Print the OpenAPI 3.1 document of a REST adapter (what it serves at `/openapi.json`).
    Openapi {
        /// The capability spec.
        spec: PathBuf,
        /// The REST adapter's namespace (needed when the spec has several).
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Write a standalone crate that builds a service binary for a spec.
    New {
        /// The capability spec (`naftiko: 1.0.0-alpha2` or `ikanos: 1.0.0-beta5`); the
        /// files it imports are copied beside it.
        spec: PathBuf,
        /// The directory to create.
        #[arg(long)]
        out: PathBuf,
        /// The crate name (default: the spec's name).
        #[arg(long)]
        name: Option<String>,
        /// Path of a naftiko-codegen checkout to depend on by (relative) path. Default: this
        /// binary's checkout when the new crate sits inside or beside it, else versions.
        #[arg(long)]
        codegen_path: Option<PathBuf>,
    },
    /// Print a shell completion script, e.g. `naftiko-codegen completions bash >
    /// ~/.local/share/bash-completion/completions/naftiko-codegen`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Completions { shell } => {
            // Into a buffer first: clap_complete panics on a failed write (`| head`).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "naftiko-codegen", &mut script);
            let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &script);
            ExitCode::SUCCESS
        }
        Command::Check { specs } => {
            let mut failed = false;
            for spec in &specs {
                match naftiko_codegen::check(spec) {
                    Ok((cap, warnings)) => {
                        eprint!("{warnings}");
                        let tools: usize = cap.mcp.iter().map(|m| m.tools.len()).sum();
                        let routes: usize = cap.rest.iter().map(|r| r.routes.len()).sum();
                        let ops: usize = cap.clients.iter().map(|c| c.ops.len()).sum();
                        println!(
                            "{}: ok ({ops} operations, {routes} routes, {tools} tools)",
                            spec.display()
                        );
                    }
                    Err(diags) => {
                        eprint!("{diags}");
                        failed = true;
                    }
                }
            }
            if failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Expand {
            spec,
            client_only,
            openapi,
        } => match naftiko_codegen::generate_with(
            &spec,
            &if client_only {
                naftiko_codegen::Parts::CLIENT
            } else {
                naftiko_codegen::Parts::default()
            },
            openapi.as_deref(),
        ) {
            Ok(g) => {
                eprint!("{}", g.warnings);
                print!("{}", g.source);
                ExitCode::SUCCESS
            }
            Err(diags) => {
                eprint!("{diags}");
                ExitCode::FAILURE
            }
        },
        Command::Openapi { spec, namespace } => match naftiko_codegen::check(&spec) {
            Ok((cap, warnings)) => {
                eprint!("{warnings}");
                match naftiko_codegen::openapi(&cap, namespace.as_deref()) {
                    Ok(doc) => {
                        println!("{doc:#}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        eprintln!("error: {e}");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(diags) => {
                eprint!("{diags}");
                ExitCode::FAILURE
            }
        },
        Command::New {
            spec,
            out,
            name,
            codegen_path,
        } => {
            let options = naftiko_codegen::scaffold::Options { name, codegen_path };
            match naftiko_codegen::scaffold::new_crate(&spec, &out, &options) {
                Ok(name) => {
                    println!("created crate `{name}` in {}", out.display());
                    println!("run it: cd {} && cargo run -- serve", out.display());
                    ExitCode::SUCCESS
                }
                Err(diags) => {
                    eprint!("{diags}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
