//! Requests per kind, sent over real sockets (or the stdio pipe) to the child running the
//! case's generated service: REST, MCP JSON-RPC over Streamable HTTP or stdio, raw HTTP to
//! the MCP endpoint, raw stdio lines.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};

use crate::checks::{Observed, show};
use crate::child::{Child, Killer, Spawn, free_port};
use crate::prepare::Surface;

/// Longest wait for one answer.
const ANSWER: Duration = Duration::from_secs(10);
/// Longest wait for the service to listen.
const START: Duration = Duration::from_secs(10);
/// The MCP protocol version offered in the handshake (the engine's).
const PROTOCOL: &str = "2025-11-25";

/// How to start the case's service.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The acceptance binary.
    pub binary: PathBuf,
    /// The module of the case's spec (first argument of the binary).
    pub module: String,
    /// The spec's surfaces; HTTP ones get a free port each.
    pub surfaces: Vec<Surface>,
    /// `(namespace, origin)` of every consumed API.
    pub base_urls: Vec<(String, String)>,
    /// The case's `env` and the bind variables.
    pub env: Vec<(String, String)>,
    /// Working directory of the service.
    pub cwd: PathBuf,
    /// Keep MCP sessions (`--mcp-sessions`): the case asserts `Mcp-Session-Id`.
    pub mcp_sessions: bool,
    /// A header sent with every MCP request (the credential the spec expects).
    pub mcp_auth: Option<(String, String)>,
    /// The case checks spans: they are read from the control port's `/traces`, which
    /// `--control-addr` turns on when the spec has no control adapter.
    pub spans: bool,
}

/// The namespace under which a control port the runner turns on is listed.
const RUNNER_CONTROL: &str = "(runner control)";

/// The running children of one case, started when first needed.
pub struct Session<'a> {
    launch: &'a Launch,
    killer: &'a Killer,
    rt: &'a tokio::runtime::Handle,
    http: reqwest::Client,
    serve: Option<(Child, BTreeMap<String, u16>)>,
    stdio: BTreeMap<String, (Child, bool)>,
    next_id: i64,
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn observed(self) -> Observed {
        Observed {
            status: Some(self.status),
            headers: self.headers,
            body: Some(self.body),
            ..Observed::default()
        }
    }
}

/// The JSON-RPC message of an answer: the JSON body, or the SSE `data:` event carrying
/// `id` (else the last one).
pub fn rpc_of(content_type: Option<&str>, body: &[u8], id: Option<&Value>) -> Option<Value> {
    let text = String::from_utf8_lossy(body);
    let is_sse = content_type.is_some_and(|c| c.contains("text/event-stream"))
        || text.trim_start().starts_with("data:")
        || text.trim_start().starts_with("event:")
        || text.trim_start().starts_with("id:");
    if !is_sse {
        return serde_json::from_str(text.trim()).ok();
    }
    let mut messages = Vec::new();
    for event in text.split("\n\n") {
        let data: Vec<&str> = event
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| d.strip_prefix(' ').unwrap_or(d))
            .collect();
        if data.is_empty() {
            continue;
        }
        if let Ok(v) = serde_json::from_str::<Value>(&data.join("\n")) {
            messages.push(v);
        }
    }
    if let Some(id) = id
        && let Some(m) = messages.iter().find(|m| m.get("id") == Some(id))
    {
        return Some(m.clone());
    }
    messages.pop()
}

fn headers_of(req: &Value) -> Vec<(String, String)> {
    req.get("headers")
        .and_then(Value::as_object)
        .map(|h| {
            h.iter()
                .map(|(k, v)| (k.clone(), crate::pointer::text_of(v)))
                .collect()
        })
        .unwrap_or_default()
}

fn with_query(path: &str, req: &Value) -> String {
    let Some(q) = req
        .get("query")
        .and_then(Value::as_object)
        .filter(|q| !q.is_empty())
    else {
        return path.to_owned();
    };
    let pairs: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(&crate::pointer::text_of(v))))
        .collect();
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{}", pairs.join("&"))
}

/// Query component encoding (unreserved characters kept).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl<'a> Session<'a> {
    pub fn new(
        launch: &'a Launch,
        killer: &'a Killer,
        rt: &'a tokio::runtime::Handle,
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(ANSWER)
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Session {
            launch,
            killer,
            rt,
            http,
            serve: None,
            stdio: BTreeMap::new(),
            next_id: 1,
        })
    }

    fn common_args(&self) -> Vec<String> {
        let mut a = vec![
            "--timeout".into(),
            "5".into(),
            "--connect-timeout".into(),
            "2".into(),
            "--attempts".into(),
            "1".into(),
        ];
        for (ns, url) in &self.launch.base_urls {
            a.push("--base-url".into());
            a.push(format!("{ns}={url}"));
        }
        a
    }

    /// The `serve` child and the port of each HTTP surface.
    fn served(&mut self) -> Result<&BTreeMap<String, u16>, String> {
        if self.serve.is_none() {
            let mut args = vec![self.launch.module.clone(), "serve".into()];
            let mut ports = BTreeMap::new();
            for s in self.launch.surfaces.iter().filter(|s| !s.stdio) {
                let p = free_port()?;
                if s.kind == "control" {
                    args.push("--control-addr".into());
                    args.push(format!("127.0.0.1:{p}"));
                } else {
                    args.push("--listen".into());
                    args.push(format!("{}=127.0.0.1:{p}", s.namespace));
                }
                ports.insert(s.namespace.clone(), p);
            }
            if self.launch.spans && !self.launch.surfaces.iter().any(|s| s.kind == "control") {
                let p = free_port()?;
                args.push("--control-addr".into());
                args.push(format!("127.0.0.1:{p}"));
                ports.insert(RUNNER_CONTROL.to_owned(), p);
            }
            if ports.is_empty() {
                return Err("the generated service has no HTTP surface".into());
            }
            if self.launch.mcp_sessions {
                args.push("--mcp-sessions".into());
            }
            args.extend(self.common_args());
            let child = Child::spawn(
                Spawn {
                    program: &self.launch.binary,
                    args,
                    env: self.launch.env.clone(),
                    cwd: &self.launch.cwd,
                    stdio: false,
                },
                self.killer,
            )?;
            let list: Vec<u16> = ports.values().copied().collect();
            child.wait_ports(&list, START)?;
            self.serve = Some((child, ports));
        }
        Ok(self.serve.as_ref().map(|(_, p)| p).expect("started above"))
    }

    /// Every span the service recorded, read from its control port's `/traces`: the
    /// spans of each trace, oldest trace first.
    pub fn spans(&mut self) -> Result<Value, String> {
        let port = match self.port_of("control") {
            Ok(p) => p,
            Err(_) => *self
                .served()?
                .get(RUNNER_CONTROL)
                .ok_or("no control port to read spans from")?,
        };
        let base = format!("http://127.0.0.1:{port}/traces");
        // A trace joins the buffer when its root span ends, just before the answer goes.
        let deadline = std::time::Instant::now() + Duration::from_secs(3);
        let list = loop {
            let a = self.send("GET", &base, &[], None)?;
            let list: Value = serde_json::from_slice(&a.body)
                .map_err(|e| format!("GET /traces answered {} ({e})", a.status))?;
            let n = list["traces"].as_array().map_or(0, Vec::len);
            if n > 0 || std::time::Instant::now() > deadline {
                break list;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(50));
        let mut spans = Vec::new();
        let ids: Vec<String> = list["traces"]
            .as_array()
            .into_iter()
            .flatten()
            .rev()
            .filter_map(|t| t["traceId"].as_str().map(str::to_owned))
            .collect();
        for id in ids {
            let a = self.send("GET", &format!("{base}/{id}"), &[], None)?;
            let t: Value = serde_json::from_slice(&a.body)
                .map_err(|e| format!("GET /traces/{id} answered {} ({e})", a.status))?;
            spans.extend(t["spans"].as_array().cloned().unwrap_or_default());
        }
        Ok(Value::Array(spans))
    }

    fn port_of(&mut self, kind: &str) -> Result<u16, String> {
        let ns = self
            .launch
            .surfaces
            .iter()
            .find(|s| s.kind == kind && !s.stdio)
            .map(|s| s.namespace.clone())
            .ok_or_else(|| format!("the generated service has no {kind} surface over HTTP"))?;
        self.served()?
            .get(&ns)
            .copied()
            .ok_or_else(|| format!("no port for `{ns}`"))
    }

    fn stderr_tail(&self) -> String {
        self.serve
            .as_ref()
            .map(|(c, _)| c.stderr_tail())
            .unwrap_or_default()
    }

    fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(String, String)],
        body: Option<Vec<u8>>,
    ) -> Result<Answer, String> {
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|e| e.to_string())?;
        let mut rb = self.http.request(method, url);
        for (k, v) in headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        if let Some(b) = body {
            rb = rb.body(b);
        }
        self.rt.block_on(async move {
            let resp = rb
                .send()
                .await
                .map_err(|e| format!("request to {url} failed: {e}"))?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = resp
                .bytes()
                .await
                .map_err(|e| format!("reading the answer of {url}: {e}"))?
                .to_vec();
            Ok(Answer {
                status,
                headers,
                body,
            })
        })
    }

    /// Sends one request of the case (`request` or a step's).
    pub fn request(&mut self, req: &Value, kind: &str) -> Result<Observed, String> {
        let protocol = req
            .get("protocol")
            .and_then(Value::as_str)
            .unwrap_or(match kind {
                "rest" => "rest",
                "mcp-http" => "mcp-http",
                "mcp-stdio" => "mcp-stdio",
                "control" | "skill" => "http",
                _ => "mcp",
            });
        let result = match protocol {
            "rest" => self.plain_http(req, "rest"),
            "http" => {
                let adapter = req
                    .get("adapter")
                    .and_then(Value::as_str)
                    .unwrap_or("control")
                    .to_owned();
                self.plain_http(req, &adapter)
            }
            "mcp-http" => self.mcp_raw(req),
            "mcp-stdio" => self.stdio_lines(req),
            _ if req.get("transport").and_then(Value::as_str) == Some("stdio") => {
                self.mcp_stdio(req)
            }
            _ => self.mcp_http(req),
        };
        result.map_err(|e| {
            let tail = self.stderr_tail();
            if tail.is_empty() {
                e
            } else {
                format!("{e}; service stderr: {tail}")
            }
        })
    }

    fn plain_http(&mut self, req: &Value, kind: &str) -> Result<Observed, String> {
        let port = self.port_of(kind)?;
        let method = req.get("method").and_then(Value::as_str).unwrap_or("GET");
        let path = req.get("path").and_then(Value::as_str).unwrap_or("/");
        let url = format!("http://127.0.0.1:{port}{}", with_query(path, req));
        let mut headers = headers_of(req);
        let body = if let Some(j) = req.get("body_json") {
            if !headers
                .iter()
                .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
            {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            Some(j.to_string().into_bytes())
        } else {
            req.get("body_text")
                .and_then(Value::as_str)
                .map(|t| t.as_bytes().to_vec())
        };
        Ok(self.send(method, &url, &headers, body)?.observed())
    }

    fn mcp_url(&mut self, path: &str) -> Result<String, String> {
        let port = self.port_of("mcp")?;
        let path = match path {
            "" | "/" => "/mcp".to_owned(),
            p if p.starts_with("/mcp") => p.to_owned(),
            p => format!("/mcp{p}"),
        };
        Ok(format!("http://127.0.0.1:{port}{path}"))
    }

    fn with_auth(&self, headers: &mut Vec<(String, String)>) {
        if let Some((k, v)) = &self.launch.mcp_auth
            && !headers.iter().any(|(h, _)| h.eq_ignore_ascii_case(k))
        {
            headers.push((k.clone(), v.clone()));
        }
    }

    /// The JSON-RPC message of an `mcp` request.
    fn message(&mut self, req: &Value) -> (Value, Option<Value>) {
        let method = req.get("method").and_then(Value::as_str).unwrap_or("");
        let mut m = json!({"jsonrpc": "2.0", "method": method});
        let notification = req
            .get("notification")
            .and_then(Value::as_bool)
            .unwrap_or(false)
            || method.starts_with("notifications/");
        let id = if notification {
            None
        } else {
            let id = req.get("id").cloned().unwrap_or_else(|| {
                let id = json!(self.next_id);
                self.next_id += 1;
                id
            });
            m["id"] = id.clone();
            Some(id)
        };
        if let Some(p) = req.get("params") {
            m["params"] = p.clone();
        }
        (m, id)
    }

    fn handshake_wanted(req: &Value) -> bool {
        req.get("handshake")
            .and_then(Value::as_bool)
            .unwrap_or(true)
            && req.get("method").and_then(Value::as_str) != Some("initialize")
    }

    fn initialize() -> Value {
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL,
            "capabilities": {},
            "clientInfo": {"name": "naftiko-engine-cases", "version": "1.0"}}})
    }

    fn mcp_http(&mut self, req: &Value) -> Result<Observed, String> {
        let url = self.mcp_url("/")?;
        self.mcp_http_at(&url, req)
    }

    /// Handshake (unless the request says not to), then the request, at `url`.
    fn mcp_http_at(&mut self, url: &str, req: &Value) -> Result<Observed, String> {
        let url = url.to_owned();
        let mut base = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (
                "Accept".to_owned(),
                "application/json, text/event-stream".to_owned(),
            ),
        ];
        self.with_auth(&mut base);
        for (k, v) in headers_of(req) {
            base.retain(|(h, _)| !h.eq_ignore_ascii_case(&k));
            base.push((k, v));
        }
        if Self::handshake_wanted(req) {
            let a = self.send(
                "POST",
                &url,
                &base,
                Some(Self::initialize().to_string().into_bytes()),
            )?;
            let rpc = rpc_of(a.header("content-type"), &a.body, Some(&json!(0)));
            let version = rpc
                .as_ref()
                .and_then(|r| r.pointer("/result/protocolVersion"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    format!(
                        "handshake: initialize answered HTTP {}: {}",
                        a.status,
                        show(&String::from_utf8_lossy(&a.body))
                    )
                })?;
            if let Some(s) = a.header("mcp-session-id") {
                base.push(("Mcp-Session-Id".into(), s.to_owned()));
            }
            base.push(("MCP-Protocol-Version".into(), version));
            let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
            let n = self.send("POST", &url, &base, Some(note.to_string().into_bytes()))?;
            if n.status >= 300 {
                return Err(format!(
                    "handshake: notifications/initialized answered HTTP {}: {}",
                    n.status,
                    show(&String::from_utf8_lossy(&n.body))
                ));
            }
        }
        let (m, id) = self.message(req);
        let a = self.send("POST", &url, &base, Some(m.to_string().into_bytes()))?;
        let rpc = rpc_of(a.header("content-type"), &a.body, id.as_ref());
        let mut obs = a.observed();
        obs.no_response = rpc.is_none();
        obs.rpc = rpc;
        Ok(obs)
    }

    fn mcp_raw(&mut self, req: &Value) -> Result<Observed, String> {
        let path = req.get("path").and_then(Value::as_str).unwrap_or("/");
        let url = self.mcp_url(path)?;
        let method = req
            .get("http_method")
            .or_else(|| req.get("method"))
            .and_then(Value::as_str)
            .unwrap_or("POST")
            .to_owned();
        let mut headers = headers_of(req);
        self.with_auth(&mut headers);
        // Rule: MCP clients must accept JSON and SSE (Streamable HTTP transport); the engine
        // does not insist, so its tests omit the header. Without it every raw request
        // would only observe the 406 of the SDK, so the runner adds it when absent.
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("accept"))
        {
            headers.push((
                "Accept".into(),
                "application/json, text/event-stream".into(),
            ));
        }
        let body = req
            .get("body_text")
            .and_then(Value::as_str)
            .map(|t| t.as_bytes().to_vec());
        let a = self.send(&method, &url, &headers, body)?;
        let rpc = rpc_of(a.header("content-type"), &a.body, None);
        let mut obs = a.observed();
        obs.no_response = rpc.is_none();
        obs.rpc = rpc;
        Ok(obs)
    }

    /// The namespace served over stdio: the first MCP server declared with stdio, else
    /// the first MCP server.
    fn stdio_namespace(&self) -> Result<String, String> {
        let mcp: Vec<&Surface> = self
            .launch
            .surfaces
            .iter()
            .filter(|s| s.kind == "mcp")
            .collect();
        mcp.iter()
            .find(|s| s.stdio)
            .or(mcp.first())
            .map(|s| s.namespace.clone())
            .ok_or_else(|| "the generated service has no MCP server".into())
    }

    fn spawn_stdio(&self, ns: &str) -> Result<Child, String> {
        let mut args = vec![
            self.launch.module.clone(),
            "mcp-stdio".into(),
            "--server".into(),
            ns.to_owned(),
        ];
        args.extend(self.common_args());
        Child::spawn(
            Spawn {
                program: &self.launch.binary,
                args,
                env: self.launch.env.clone(),
                cwd: &self.launch.cwd,
                stdio: true,
            },
            self.killer,
        )
    }

    /// Reads stdout lines until the message with `id`; other lines are skipped.
    fn read_answer(child: &Child, id: &Value) -> Result<Value, String> {
        let deadline = std::time::Instant::now() + ANSWER;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let Some(line) = child.read_line(left) else {
                return Err(format!(
                    "no answer with id {id} on stdout: {}",
                    child.stderr_tail()
                ));
            };
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && v.get("id") == Some(id)
            {
                return Ok(v);
            }
        }
    }

    fn mcp_stdio(&mut self, req: &Value) -> Result<Observed, String> {
        let ns = self.stdio_namespace()?;
        if !self.stdio.contains_key(&ns) {
            let c = self.spawn_stdio(&ns)?;
            self.stdio.insert(ns.clone(), (c, false));
        }
        let handshake = Self::handshake_wanted(req);
        let (m, id) = self.message(req);
        let (child, initialized) = self.stdio.get_mut(&ns).expect("inserted above");
        if handshake && !*initialized {
            child.write_line(&Self::initialize().to_string())?;
            Self::read_answer(child, &json!(0))?;
            child.write_line(
                &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
            )?;
            *initialized = true;
        }
        child.write_line(&m.to_string())?;
        let mut obs = Observed::default();
        match id {
            Some(id) => obs.rpc = Some(Self::read_answer(child, &id)?),
            None => {
                obs.no_response = child.read_line(Duration::from_millis(500)).is_none();
            }
        }
        Ok(obs)
    }

    fn stdio_lines(&mut self, req: &Value) -> Result<Observed, String> {
        let ns = self.stdio_namespace()?;
        let mut child = self.spawn_stdio(&ns)?;
        let lines: Vec<String> = req
            .get("stdin_lines")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        // Requests (with an id) get one answer each; notifications none.
        let expected = lines
            .iter()
            .filter(|l| {
                serde_json::from_str::<Value>(l).ok().is_some_and(|v| {
                    v.get("id").is_some_and(|i| !i.is_null()) && v.get("method").is_some()
                })
            })
            .count();
        for l in &lines {
            child.write_line(l)?;
        }
        let mut out = Vec::new();
        let deadline = std::time::Instant::now() + ANSWER;
        while out.len() < expected {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match child.read_line(left) {
                Some(l) => out.push(l),
                None => break,
            }
        }
        // A short grace period catches lines that should not be there.
        while let Some(l) = child.read_line(Duration::from_millis(300)) {
            out.push(l);
        }
        let mut obs = Observed {
            no_response: out.is_empty(),
            rpc: out.last().and_then(|l| serde_json::from_str(l).ok()),
            ..Observed::default()
        };
        obs.stdout_lines = Some(out);
        Ok(obs)
    }

    /// Starts the service's HTTP surfaces (a service that cannot start is an error).
    pub fn start(&mut self) -> Result<(), String> {
        self.served().map(|_| ())
    }

    /// An `mcp` request to the MCP server `namespace` over Streamable HTTP.
    pub fn mcp_on(&mut self, namespace: &str, req: &Value) -> Result<Observed, String> {
        let port = *self
            .served()?
            .get(namespace)
            .ok_or_else(|| format!("no port for `{namespace}`"))?;
        self.mcp_http_at(&format!("http://127.0.0.1:{port}/mcp"), req)
    }

    /// `tools/list` of the MCP server `namespace` (over stdio when it is a stdio server).
    pub fn tools_list(&mut self, namespace: &str, stdio: bool) -> Result<Vec<Value>, String> {
        let req = json!({"protocol": "mcp", "method": "tools/list", "params": {}});
        let obs = if stdio {
            let mut c = self.spawn_stdio(namespace)?;
            c.write_line(&Self::initialize().to_string())?;
            Self::read_answer(&c, &json!(0))?;
            c.write_line(
                &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
            )?;
            c.write_line(
                &json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}})
                    .to_string(),
            )?;
            Observed {
                rpc: Some(Self::read_answer(&c, &json!(1))?),
                ..Observed::default()
            }
        } else {
            let port = *self
                .served()?
                .get(namespace)
                .ok_or_else(|| format!("no port for `{namespace}`"))?;
            self.mcp_http_at(&format!("http://127.0.0.1:{port}/mcp"), &req)?
        };
        obs.rpc
            .as_ref()
            .and_then(|r| r.pointer("/result/tools"))
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                format!(
                    "tools/list of `{namespace}` gave no tools: {}",
                    show(&obs.rpc.map(|r| r.to_string()).unwrap_or_default())
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_and_json_answers() {
        let sse = b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{}}\n\n";
        assert_eq!(
            rpc_of(Some("text/event-stream"), sse, Some(&json!(2))),
            Some(json!({"jsonrpc": "2.0", "id": 2, "result": {}}))
        );
        assert_eq!(
            rpc_of(Some("application/json"), b"{\"id\":1}", None),
            Some(json!({"id": 1}))
        );
        assert_eq!(rpc_of(None, b"", None), None);
        assert_eq!(
            with_query("/a", &json!({"query": {"q": "a b"}})),
            "/a?q=a%20b"
        );
    }
}
