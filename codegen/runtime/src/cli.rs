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
    /// Seconds for a whole upstream call: every attempt, the waits between them, the body.
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Attempts per upstream call, first included: a GET after a connection error, 429,
    /// 502, 503 or 504; another method only when the connection could not be made.
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub attempts: u32,
    /// Log message bodies (MCP arguments and results) at debug and trace level; without
    /// it they are kept out of the logs, as they may hold customer data.
    #[arg(long)]
    pub log_bodies: bool,
    /// How log lines are written to stderr: `text` for people, `json` (one object per line:
    /// timestamp, level, fields, spans) for log collectors.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "LOG_FORMAT")]
    pub log_format: LogFormat,
}

/// The shape of log lines (`--log-format`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per event (tracing-subscriber's JSON format).
    Json,
}

/// Logs to stderr as `args` (`--log-bodies`, `--log-format`) say; see [`init_tracing_with`].
pub fn init_logging(args: &ClientArgs) {
    init_tracing_as(args.log_bodies, args.log_format);
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
    /// Another browser origin allowed to call the MCP server (e.g. `https://app.example.com`).
    #[arg(long = "allowed-origin", value_name = "ORIGIN")]
    pub allowed_origins: Vec<String>,
    /// Keep MCP sessions (needed for server-to-client streams); stateless otherwise.
    #[arg(long)]
    pub mcp_sessions: bool,
    /// Largest request body, in bytes; a larger one gets 413.
    #[arg(long, default_value_t = crate::rest::DEFAULT_BODY_LIMIT, value_name = "BYTES")]
    pub body_limit: usize,
    /// Requests handled at once per surface (MCP: calls), counted once their body has
    /// arrived; more get 503 with Retry-After.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_concurrency: usize,
    /// Open connections per surface (lowered to what the open-file limit allows); at the
    /// cap, idle connections are closed to make room.
    #[arg(long, default_value_t = crate::serve::DEFAULT_MAX_CONNECTIONS, value_name = "N")]
    pub max_connections: usize,
    /// Seconds for a request's headers to arrive (from its first byte; on a new
    /// connection, from the connection); then the connection is closed.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS", value_parser = seconds)]
    pub header_timeout: f64,
    /// Seconds for a whole request body to arrive; then 408.
    #[arg(long, default_value_t = 60.0, value_name = "SECONDS", value_parser = seconds)]
    pub body_timeout: f64,
    /// Seconds a keep-alive connection may stay open with no request in progress.
    #[arg(long, default_value_t = 75.0, value_name = "SECONDS", value_parser = seconds)]
    pub idle_timeout: f64,
    /// Concurrent HTTP/2 streams per connection.
    #[arg(long, default_value_t = 128, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams: u32,
    /// Seconds that requests in flight get to finish after SIGTERM or Ctrl-C (idle and
    /// slow connections are closed at once).
    #[arg(long, default_value_t = 30.0, value_name = "SECONDS", value_parser = seconds)]
    pub shutdown_timeout: f64,
    /// Threads serving requests, each with its own upstream connections (default: one per CPU).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub workers: Option<u16>,
    /// Where the control port listens (`/health/live`, `/health/ready`, `/status`,
    /// `/metrics`): overrides the spec's control adapter, or turns one on (off by default).
    #[arg(long, value_name = "ADDR")]
    pub control_addr: Option<SocketAddr>,
    /// Seconds readiness reports down after SIGTERM before the listeners close, so that a
    /// load balancer stops sending first (Kubernetes: a few seconds).
    #[arg(long, default_value_t = 0.0, value_name = "SECONDS", value_parser = seconds_or_zero)]
    pub shutdown_delay: f64,
    /// Log one line per request (surface, method, path, `x-request-id`, status, time) and
    /// tag every line logged during a request with its id.
    #[arg(long)]
    pub access_log: bool,
    /// The upstream flags.
    #[command(flatten)]
    pub client: ClientArgs,
}

impl ServeArgs {
    /// The serving settings these flags give; the rest keep [`ServeOptions::default`].
    pub fn options(&self) -> ServeOptions {
        let mut o = ServeOptions {
            rest_addr: self.rest_addr,
            mcp_addr: self.mcp_addr,
            listen: self.listen.clone(),
            body_limit: self.body_limit,
            max_concurrency: self.max_concurrency,
            max_connections: self.max_connections,
            header_timeout: Duration::from_secs_f64(self.header_timeout),
            body_timeout: Duration::from_secs_f64(self.body_timeout),
            idle_timeout: Duration::from_secs_f64(self.idle_timeout),
            max_streams: self.max_streams,
            drain: Duration::from_secs_f64(self.shutdown_timeout),
            control_addr: self.control_addr,
            shutdown_delay: Duration::from_secs_f64(self.shutdown_delay),
            access_log: self.access_log,
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

/// A number of seconds: positive and finite.
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(n) if n.is_finite() && n > 0.0 && n < 1.0e9 => Ok(n),
        _ => Err(format!("`{s}` is not a positive number of seconds")),
    }
}

/// A number of seconds that may be zero (a delay that can be off).
fn seconds_or_zero(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(0.0) => Ok(0.0),
        _ => seconds(s),
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
    /// The upstream flags.
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
    Serve(Box<ServeArgs>),
    /// Serve the MCP server over stdin/stdout (how desktop MCP clients launch servers).
    McpStdio(StdioArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
}

/// `completions <SHELL>`: the arguments of a service's completion subcommand.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    pub shell: clap_complete::Shell,
}

impl CompletionsArgs {
    /// Writes the completion script of `command` to stdout, for the program `argv0` (its file
    /// name is the command name the shell completes).
    pub fn print(&self, mut command: clap::Command, argv0: Option<&std::ffi::OsStr>) {
        let name = argv0
            .and_then(|a| std::path::Path::new(a).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| command.get_name().to_owned());
        // Into a buffer first: clap_complete panics on a failed write (`| head` closes the pipe).
        let mut script = Vec::new();
        clap_complete::generate(self.shell, &mut command, name, &mut script);
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), &script);
    }
}

/// Logs to stderr (stdout stays clean for the stdio transport); `RUST_LOG` filters.
/// Message bodies stay out of the logs (see [`init_tracing_with`]).
pub fn init_tracing() {
    init_tracing_with(false);
}

/// Longest log line written; the rest of a longer one (caller input, say) is cut off.
pub const MAX_LOG_LINE: usize = 4096;

/// Logs to stderr, as [`init_tracing`]. Unless `log_bodies`, the targets that log message
/// bodies at debug or trace level (the MCP SDK logs every message, HTTP/2 its frames) are
/// held at info and debug, whatever `RUST_LOG` asks. Every line is at most
/// [`MAX_LOG_LINE`] bytes.
pub fn init_tracing_with(log_bodies: bool) {
    init_tracing_as(log_bodies, LogFormat::Text);
}

/// Like [`init_tracing_with`], in the `format` given.
pub fn init_tracing_as(log_bodies: bool, format: LogFormat) {
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,rmcp=warn"));
    let bodies = match log_bodies {
        true => Targets::new().with_default(LevelFilter::TRACE),
        false => Targets::new()
            .with_default(LevelFilter::TRACE)
            .with_target("rmcp", LevelFilter::INFO)
            .with_target("h2", LevelFilter::DEBUG),
    };
    // Hang-ups are shown when RUST_LOG asks for DEBUG (or more) somewhere.
    let hang_ups = HangUps {
        show: filter
            .max_level_hint()
            .is_some_and(|l| l >= LevelFilter::DEBUG),
    };
    let registry = tracing_subscriber::registry()
        .with(filter)
        .with(bodies)
        .with(hang_ups);
    let _ = match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(|| CappedLines::text(std::io::stderr()))
                    // Colour codes only for a person at a terminal, not in files or collectors.
                    .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                    .with_target(false),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_writer(|| CappedLines::json(std::io::stderr())),
            )
            .try_init(),
    };
}

/// Holds back the MCP SDK's ERROR events for a client that hung up mid-call (its answer could
/// not be sent: "fail to response message", "failed to send pending response during drain",
/// "channel closed"...): a normal event, not an error of this service. They are logged only
/// when the log level allows DEBUG.
struct HangUps {
    show: bool,
}

/// What rmcp says when it cannot hand an answer to a peer that has gone.
const HANG_UP_MESSAGES: &[&str] = &[
    "fail to response message",
    "response send task failed",
    "failed to send pending response during drain",
    "response send task failed during drain",
    "fail to close sink",
];

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for HangUps {
    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        let meta = event.metadata();
        if *meta.level() != tracing::Level::ERROR || !meta.target().starts_with("rmcp") || self.show
        {
            return true;
        }
        !is_hang_up(event)
    }
}

/// Whether `event` (an rmcp ERROR) reports an answer that could not reach a departed peer.
fn is_hang_up(event: &tracing::Event<'_>) -> bool {
    struct Text(String);
    impl tracing::field::Visit for Text {
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            use std::fmt::Write as _;
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }
    let mut text = Text(String::new());
    event.record(&mut text);
    let text = text.0.to_ascii_lowercase();
    HANG_UP_MESSAGES.iter().any(|m| text.contains(m))
        || text.contains("channel closed")
        || text.contains("connection closed")
}

/// A writer that cuts each log line (one `write` of the formatter) at [`MAX_LOG_LINE`].
/// A cut JSON line is written as a JSON object of its own, so every line stays valid JSON.
struct CappedLines<W> {
    out: W,
    json: bool,
}

impl<W> CappedLines<W> {
    fn text(out: W) -> Self {
        CappedLines { out, json: false }
    }

    fn json(out: W) -> Self {
        CappedLines { out, json: true }
    }
}

impl<W: std::io::Write> std::io::Write for CappedLines<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() <= MAX_LOG_LINE {
            self.out.write_all(buf)?;
            return Ok(buf.len());
        }
        let mut cut = MAX_LOG_LINE;
        while cut > 0 && (buf[cut] & 0xC0) == 0x80 {
            cut -= 1;
        }
        if self.json {
            let line = serde_json::json!({
                "level": "WARN",
                "message": "a log line was cut",
                "line_start": String::from_utf8_lossy(&buf[..cut]),
                "bytes_not_logged": buf.len() - cut,
            });
            writeln!(self.out, "{line}")?;
        } else {
            self.out.write_all(&buf[..cut])?;
            writeln!(self.out, " ... [{} more bytes not logged]", buf.len() - cut)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
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
    let args: Vec<std::ffi::OsString> = args.into_iter().map(Into::into).collect();
    let cli = Cli::parse_from(&args);
    let client = match &cli.command {
        Command::Serve(a) => &a.client,
        Command::McpStdio(a) => &a.client,
        Command::Completions(c) => {
            c.print(
                <Cli as clap::CommandFactory>::command(),
                args.first().map(|a| a.as_os_str()),
            );
            return ExitCode::SUCCESS;
        }
    };
    init_logging(client);
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
                Command::Completions(_) => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt as _;

    /// Counts the events that reach the end of the stack.
    #[derive(Clone, Default)]
    struct Count(std::sync::Arc<std::sync::atomic::AtomicUsize>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
        fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[test]
    fn a_client_hanging_up_is_not_an_error() {
        let count = Count::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::INFO)
            .with(HangUps { show: false })
            .with(count.clone());
        tracing::subscriber::with_default(subscriber, || {
            // As rmcp logs them (target `rmcp::service`).
            tracing::error!(target: "rmcp::service", error = %"channel closed", "fail to response message");
            tracing::error!(target: "rmcp::service", error = %"broken pipe", "failed to send pending response during drain");
            // A real error of the SDK, and ours, still get through.
            tracing::error!(target: "rmcp::service", error = %"bad frame", "session store load failed");
            tracing::error!(target: "naftiko_runtime::serve", "channel closed");
        });
        assert_eq!(count.0.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
