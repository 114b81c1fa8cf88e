//! `lago-customers serve`: Lago's Customers API as a REST adapter (port 8080) and an MCP
//! server (port 9090), generated from `specs/lago-customers.yaml`.

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use lago_customers::{Clients, sandbox::Sandbox, surfaces};
use naftiko_runtime::cli::{
    ClientArgs, CompletionsArgs, ServeArgs, StdioArgs, explain, init_logging, run,
};
use naftiko_runtime::{Error, serve};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    version,
    about = "Lago's Customers API as a REST adapter and an MCP server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve REST (default 127.0.0.1:8080) and MCP Streamable HTTP (127.0.0.1:9090/mcp).
    #[command(after_help = ENVIRONMENT)]
    Serve {
        #[command(flatten)]
        args: Box<ServeArgs>,
        /// Serve against an in-memory Lago stand-in instead of Lago (no account needed).
        #[arg(long)]
        sandbox: bool,
    },
    /// Serve the MCP tools over stdin/stdout (how desktop MCP clients launch servers).
    #[command(after_help = ENVIRONMENT)]
    McpStdio {
        #[command(flatten)]
        args: StdioArgs,
        /// Use the in-memory Lago stand-in instead of Lago.
        #[arg(long)]
        sandbox: bool,
    },
    /// Print a shell completion script, e.g. `lago-customers completions bash >
    /// ~/.local/share/bash-completion/completions/lago-customers`.
    Completions(CompletionsArgs),
}

/// What `--help` says of the environment.
const ENVIRONMENT: &str = "Environment:\n  \
    LAGO_API_KEY   Lago API key (required unless --sandbox); never logged\n  \
    LAGO_API_URL   Lago server, e.g. https://api.eu.getlago.com/api/v1 (default \
    https://api.getlago.com/api/v1); a URL without a path, as self-hosted Lago's .env \
    writes it, gets /api/v1 appended; --base-url wins over it\n  \
    RUST_LOG       log filter (default info)";

/// The Lago clients: `LAGO_API_KEY` is the token; `--base-url` or `LAGO_API_URL` the server.
async fn clients(args: &ClientArgs, sandbox: bool) -> Result<Clients, Error> {
    let mut config = args.config(lago_customers::lago_customers::NAMESPACE);
    if sandbox {
        let url = Sandbox::new()
            .spawn()
            .await
            .map_err(|e| Error::Config(format!("cannot start the sandbox: {e}")))?;
        tracing::warn!(
            "SANDBOX MODE: calls go to an in-memory Lago stand-in at {url}, not to Lago; data is lost on exit"
        );
        config = config.base_url(url).with_var("LAGO_API_KEY", "sandbox");
    } else if config.base_url.is_none()
        && let Ok(url) = std::env::var("LAGO_API_URL")
        && !url.is_empty()
    {
        config = config.base_url(lago_api_url(&url));
    }
    Clients::with_config(|_| config.clone())
}

/// `LAGO_API_URL` as Lago's own setup means it: a self-hosted Lago's `.env` names the host
/// (`http://localhost:3000`) and Lago's clients append `/api/v1`, so a URL without a path
/// gets it too; a URL with a path is taken as it is.
fn lago_api_url(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let after_scheme = trimmed.split_once("://").map_or(trimmed, |(_, rest)| rest);
    if after_scheme.contains('/') {
        trimmed.to_owned()
    } else {
        format!("{trimmed}/api/v1")
    }
}

/// The one-line explanation of a failure, with what to do.
fn explain_lago(e: &Error) -> String {
    match e {
        Error::MissingEnv(v) => format!(
            "{v} is not set: export {v}=<your Lago API key>, or run with --sandbox to try it without a Lago account"
        ),
        e => explain(e),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(match &cli.command {
        Command::Serve { args, .. } => &args.client,
        Command::McpStdio { args, .. } => &args.client,
        Command::Completions(c) => {
            c.print(Cli::command(), Some("lago-customers".as_ref()));
            return ExitCode::SUCCESS;
        }
    });
    run(
        async {
            match cli.command {
                Command::Serve { args, sandbox } => {
                    let clients = clients(&args.client, sandbox).await?;
                    serve::run(surfaces(&clients), args.options()).await
                }
                Command::McpStdio { args, sandbox } => {
                    let clients = clients(&args.client, sandbox).await?;
                    serve::run_stdio(surfaces(&clients), args.server.as_deref()).await
                }
                Command::Completions(_) => Ok(()),
            }
        },
        explain_lago,
    )
}

#[cfg(test)]
mod tests {
    use super::lago_api_url;

    #[test]
    fn a_host_gets_the_api_path_as_lagos_clients_add_it() {
        assert_eq!(
            lago_api_url("http://localhost:3000"),
            "http://localhost:3000/api/v1"
        );
        assert_eq!(
            lago_api_url("http://localhost:3000/"),
            "http://localhost:3000/api/v1"
        );
        assert_eq!(
            lago_api_url("https://api.eu.getlago.com/api/v1"),
            "https://api.eu.getlago.com/api/v1"
        );
        assert_eq!(
            lago_api_url("https://lago.example.com/billing/api/v1/"),
            "https://lago.example.com/billing/api/v1"
        );
    }
}
