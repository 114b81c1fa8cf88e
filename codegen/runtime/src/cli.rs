//! The command line of generated service binaries: `serve` and `mcp-stdio`.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::client::ClientConfig;
use crate::serve::{ServeOptions, Surfaces};
use crate::{Error, Secret};

/// Upstream settings shared by every command.
#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    /// Upstream base URL, replacing the spec's `baseUri`. With several consumed APIs, give
    /// `NAMESPACE=URL` once per API.
    #[arg(long = "base-url", value_name = "URL")]
    pub base_urls: Vec<String>,
    /// Seconds to establish an upstream connection.
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub connect_timeout: f64,
    /// Seconds for a whole upstream call.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Attempts for calls that are safe to repeat (GET, PUT, DELETE), first included.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub attempts: u32,
}

impl ClientArgs {
    /// The client settings for the consumed `namespace`.
    pub fn config(&self, namespace: &str) -> ClientConfig {
        let mut c = ClientConfig::default()
            .connect_timeout(Duration::from_secs_f64(self.connect_timeout.max(0.001)))
            .timeout(Duration::from_secs_f64(self.timeout.max(0.001)))
            .retry(crate::client::RetryPolicy {
                max_attempts: self.attempts.max(1),
                ..Default::default()
            });
        for b in &self.base_urls {
            match b.split_once('=') {
                Some((ns, url)) if ns == namespace => c = c.base_url(url),
                Some(_) => {}
                None => c = c.base_url(b.clone()),
            }
        }
        c
    }
}

/// Flags of `serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address of the REST adapter (default: 127.0.0.1 and the spec's port).
    #[arg(long, value_name = "ADDR")]
    pub rest_addr: Option<SocketAddr>,
    /// Address of the MCP server (default: 127.0.0.1 and the spec's port).
    #[arg(long, value_name = "ADDR")]
    pub mcp_addr: Option<SocketAddr>,
    /// Address of one surface, by its namespace (`shipyard-tools=0.0.0.0:3001`); repeatable.
    #[arg(long = "listen", value_name = "NAMESPACE=ADDR", value_parser = parse_listen)]
    pub listen: Vec<(String, SocketAddr)>,
    /// A bearer token MCP callers must present.
    #[arg(long, env = "MCP_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub mcp_token: Option<String>,
    /// A bearer token REST callers must present.
    #[arg(long, env = "REST_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub rest_token: Option<String>,
    /// Another host name MCP clients may use in `Host` (loopback names are always accepted).
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// Another browser origin allowed to call the MCP server (e.g. https://app.example.com).
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
    /// Keep MCP sessions (needed for server-to-client streams); stateless otherwise.
    #[arg(long)]
    pub mcp_sessions: bool,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = crate::rest::DEFAULT_BODY_LIMIT, value_name = "BYTES")]
    pub body_limit: usize,
    /// Requests handled at once per surface; more get 503.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_concurrency: usize,
    /// Threads serving requests, each with its own upstream connections (default: one per CPU).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl ServeArgs {
    pub fn options(&self) -> ServeOptions {
        let mut o = ServeOptions {
            rest_addr: self.rest_addr,
            mcp_addr: self.mcp_addr,
            listen: self.listen.clone(),
            body_limit: self.body_limit,
            max_concurrency: self.max_concurrency,
            mcp_token: self
                .mcp_token
                .clone()
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            rest_token: self
                .rest_token
                .clone()
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            ..ServeOptions::default()
        };
        if let Some(n) = self.workers {
            o.workers = n.into();
        }
        o.mcp.sessions = self.mcp_sessions;
        o.mcp.max_body = self.body_limit;
        o.mcp
            .allowed_hosts
            .extend(self.allowed_hosts.iter().cloned());
        o.mcp
            .allowed_origins
            .extend(self.allowed_origins.iter().cloned());
        o
    }
}

/// `NAMESPACE=ADDR` of `--listen`.
fn parse_listen(s: &str) -> Result<(String, SocketAddr), String> {
    let (ns, addr) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected NAMESPACE=ADDR"))?;
    let addr = addr
        .parse()
        .map_err(|e| format!("`{addr}` is not an address like 127.0.0.1:8080: {e}"))?;
    Ok((ns.to_owned(), addr))
}

/// Flags of `mcp-stdio`.
#[derive(Args, Debug, Clone)]
pub struct StdioArgs {
    /// The MCP server to serve (default: the first of the spec).
    #[arg(long, value_name = "NAMESPACE")]
    pub server: Option<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

#[derive(Parser, Debug)]
#[command(version, about = "A service generated from a Naftiko capability spec")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the REST adapters and MCP servers of the spec.
    Serve(ServeArgs),
    /// Serve the MCP server over stdin/stdout (how desktop MCP clients launch servers).
    McpStdio(StdioArgs),
}

/// Logs to stderr (stdout stays clean for the stdio transport); `RUST_LOG` filters.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// The `main` of a generated service: `build` makes the surfaces from the client settings.
pub fn main(build: impl FnOnce(&ClientArgs) -> Result<Surfaces, Error>) -> ExitCode {
    main_from(std::env::args_os(), build)
}

/// Like [`main`], with the command line given (the first item is the program name).
pub fn main_from<I, T>(
    args: I,
    build: impl FnOnce(&ClientArgs) -> Result<Surfaces, Error>,
) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::parse_from(args);
    init_tracing();
    run(
        async move {
            match cli.command {
                Command::Serve(args) => {
                    let surfaces = build(&args.client)?;
                    crate::serve::run(surfaces, args.options()).await
                }
                Command::McpStdio(args) => {
                    let surfaces = build(&args.client)?;
                    crate::serve::run_stdio(surfaces, args.server.as_deref()).await
                }
            }
        },
        explain,
    )
}

/// Runs `service` on a multi-threaded runtime; on failure prints `explain(error)` on one line.
pub fn run(
    service: impl std::future::Future<Output = Result<(), Error>>,
    explain: impl Fn(&Error) -> String,
) -> ExitCode {
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(service) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", explain(&e));
            ExitCode::FAILURE
        }
    }
}

/// A one-line explanation with what to do.
pub fn explain(e: &Error) -> String {
    match e {
        Error::MissingEnv(v) => format!(
            "environment variable `{v}` is not set: set it (export {v}=...) before starting"
        ),
        e => e.to_string(),
    }
}
