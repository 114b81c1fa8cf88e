//! A stub of the upstream APIs built from their OpenAPI documents, answering the way
//! Microcks answers for the tutorial: the request picks a path template and a method, and
//! the operation's 2xx response example is chosen by the operation's dispatcher
//! (`x-microcks-operation`): the example named `/imo_number=IMO-9321483` for that path value,
//! `?status=active` for that query, else the dispatcher's `fallback`, else the first example.
//! `{{ request.body/field }}` in an example is replaced with that field of the request's JSON
//! body. Every request is recorded.
//!
//! One server holds every API, each under the path of its document's first `servers` URL, so
//! a service pointed at `<origin><that path>` calls it exactly as it would call Microcks.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use naftiko_engine_cases::stub::{decode, query_pairs};
use serde_json::Value;

/// One OpenAPI document.
pub struct Api {
    /// The first `servers` URL, as written.
    pub server_url: String,
    /// The path of that URL (no trailing `/`): where the stub serves the API.
    pub base_path: String,
    pub doc: Value,
}

/// What the stub answers.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Index of the API (in [`Apis::list`]).
    pub api: usize,
    pub method: String,
    /// The path after the API's base path, as received (still encoded).
    pub raw_path: String,
    /// Its segments, percent-decoded.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Seen {
    pub fn describe(&self, apis: &Apis) -> String {
        format!(
            "{} {}{}{}",
            self.method,
            apis.list[self.api].base_path,
            self.raw_path,
            if self.query.is_empty() {
                String::new()
            } else {
                format!(
                    "?{}",
                    self.query
                        .iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join("&")
                )
            }
        )
    }
}

/// The value of each parameter of a path template, by name.
pub type PathValues = Vec<(String, String)>;

/// The APIs the stub serves.
pub struct Apis {
    pub list: Vec<Api>,
}

fn url_path(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let path = rest.find('/').map(|i| &rest[i..]).unwrap_or("");
    path.trim_end_matches('/').to_owned()
}

/// The segments of a path (`/a/b` -> `["a", "b"]`; `/` -> `[]`).
pub fn split_path(p: &str) -> Vec<&str> {
    p.split('/').filter(|s| !s.is_empty()).collect()
}

/// The JSON text of an example's value (strings, such as XML documents, as they are).
fn body_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Replaces `{{ request.body/<pointer> }}` in every string of `v` with that value of `body`.
fn templated(v: &Value, body: Option<&Value>) -> Value {
    match v {
        Value::String(s) if s.contains("{{") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                let Some(end) = after.find("}}") else {
                    out.push_str(&rest[start..]);
                    rest = "";
                    break;
                };
                let expr = after[..end].trim();
                if let Some(pointer) = expr.strip_prefix("request.body") {
                    if let Some(found) = body.and_then(|b| b.pointer(pointer)) {
                        out.push_str(&body_text(found));
                    }
                } else {
                    out.push_str(&rest[start..start + 2 + end + 2]);
                }
                rest = &after[end + 2..];
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| templated(x, body)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), templated(x, body)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The first example of a parameter (`examples`, else `example`, else the schema's).
pub fn param_example(p: &Value) -> Option<Value> {
    if let Some(Value::Object(ex)) = p.get("examples")
        && let Some(first) = ex.values().next()
    {
        return first.get("value").cloned();
    }
    p.get("example")
        .or_else(|| p.pointer("/schema/example"))
        .cloned()
}

impl Apis {
    /// Every OpenAPI document (`*.yaml`) of `dir`, sorted by file name.
    pub fn load(dir: &Path) -> Result<Apis, String> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
            .collect();
        files.sort();
        let mut list = Vec::new();
        for f in files {
            let doc = super::spec::load_yaml(&f)?;
            let server_url = doc
                .pointer("/servers/0/url")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("{}: no servers[0].url", f.display()))?
                .to_owned();
            list.push(Api {
                base_path: url_path(&server_url),
                server_url,
                doc,
            });
        }
        Ok(Apis { list })
    }

    /// The API served at the start of `path`, and the rest of the path.
    fn api_at<'p>(&self, path: &'p str) -> Option<(usize, &'p str)> {
        self.list.iter().enumerate().find_map(|(i, a)| {
            let rest = path.strip_prefix(&a.base_path)?;
            (rest.is_empty() || rest.starts_with('/')).then_some((i, rest))
        })
    }

    /// The path template of `api` matching the decoded `segments`, with the value of each
    /// of its parameters; literal segments beat parameters.
    pub fn template(&self, api: usize, segments: &[String]) -> Option<(String, PathValues)> {
        let paths = self.list[api].doc.get("paths")?.as_object()?;
        let mut best: Option<(usize, String, PathValues)> = None;
        for template in paths.keys() {
            let parts = split_path(template);
            if parts.len() != segments.len() {
                continue;
            }
            let mut values = Vec::new();
            let mut literal = 0;
            let fits = parts.iter().zip(segments).all(|(t, s)| {
                match t.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
                    Some(name) => {
                        values.push((name.to_owned(), s.clone()));
                        true
                    }
                    None => {
                        literal += 1;
                        t == s
                    }
                }
            });
            if fits && best.as_ref().is_none_or(|(l, _, _)| literal > *l) {
                best = Some((literal, template.clone(), values));
            }
        }
        best.map(|(_, t, v)| (t, v))
    }

    /// The operation object of `method template`.
    pub fn operation(&self, api: usize, template: &str, method: &str) -> Option<&Value> {
        self.list[api]
            .doc
            .pointer(&format!(
                "/paths/{}/{}",
                template.replace('~', "~0").replace('/', "~1"),
                method.to_ascii_lowercase()
            ))
            .filter(|o| o.is_object())
    }

    /// The answer to a request: `segments` decoded, after the API's base path.
    pub fn answer(
        &self,
        api: usize,
        method: &str,
        segments: &[String],
        query: &[(String, String)],
        body: &str,
    ) -> Answer {
        let plain = |status: u16, text: String| Answer {
            status,
            content_type: Some("text/plain".into()),
            body: text,
        };
        let Some((template, values)) = self.template(api, segments) else {
            return plain(
                404,
                format!("no path of the document matches /{}", segments.join("/")),
            );
        };
        let Some(op) = self.operation(api, &template, method) else {
            return plain(405, format!("no {method} {template} in the document"));
        };
        let mut codes: Vec<(&String, &Value)> = op
            .get("responses")
            .and_then(Value::as_object)
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        codes.sort_by(|a, b| a.0.cmp(b.0));
        let Some((code, ok)) = codes.iter().find(|(c, _)| c.starts_with('2')) else {
            return plain(500, format!("no 2xx response for {method} {template}"));
        };
        let status: u16 = code.parse().unwrap_or(200);
        let Some((media, content)) = ok
            .get("content")
            .and_then(Value::as_object)
            .and_then(|c| c.iter().next())
        else {
            return Answer {
                status,
                content_type: None,
                body: String::new(),
            };
        };
        let examples: Vec<(String, Value)> = match content.get("examples") {
            Some(Value::Object(ex)) => ex
                .iter()
                .map(|(k, v)| (k.clone(), v.get("value").cloned().unwrap_or(Value::Null)))
                .collect(),
            _ => content
                .get("example")
                .map(|e| vec![(String::new(), e.clone())])
                .unwrap_or_default(),
        };

        // The dispatcher: URI_PARTS keys on path values, URI_PARAMS on query values, a
        // FALLBACK wraps one of them with the example to use when nothing matches.
        let xop = op.get("x-microcks-operation");
        let mut dispatcher = xop
            .and_then(|x| x.get("dispatcher"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut rules = xop
            .and_then(|x| x.get("dispatcherRules"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut fallback = None;
        if dispatcher == "FALLBACK"
            && let Ok(inner) = serde_json::from_str::<Value>(&rules)
        {
            dispatcher = inner["dispatcher"].as_str().unwrap_or("").to_owned();
            fallback = inner["fallback"].as_str().map(str::to_owned);
            rules = inner["dispatcherRules"].as_str().unwrap_or("").to_owned();
        }
        let names: Vec<&str> = rules
            .split(['&', '/', ','])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        let key = match dispatcher.as_str() {
            "URI_PARTS" => Some(
                names
                    .iter()
                    .filter_map(|n| values.iter().find(|(k, _)| k == n))
                    .map(|(k, v)| format!("/{k}={v}"))
                    .collect::<String>(),
            ),
            "URI_PARAMS" => {
                let pairs: Vec<String> = names
                    .iter()
                    .filter_map(|n| query.iter().find(|(k, _)| k == n))
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                (!pairs.is_empty()).then(|| format!("?{}", pairs.join("&")))
            }
            _ => None,
        };
        let keyed = !dispatcher.is_empty() && dispatcher != "SCRIPT";
        let chosen = key
            .and_then(|k| examples.iter().find(|(n, _)| *n == k))
            .or_else(|| {
                let f = fallback.as_deref()?;
                examples.iter().find(|(n, _)| n == f)
            })
            .or_else(|| {
                if keyed && fallback.is_none() {
                    None
                } else {
                    examples.first()
                }
            });
        let Some((_, example)) = chosen else {
            // Microcks finds no response for these values: the documented error, if any.
            let error = codes
                .iter()
                .filter(|(c, _)| c.starts_with('4'))
                .find_map(|(c, r)| {
                    let (m, content) = r.get("content")?.as_object()?.iter().next()?;
                    let ex = content.get("examples")?.as_object()?.values().next()?;
                    Some((
                        c.parse().unwrap_or(404),
                        m.clone(),
                        body_text(ex.get("value")?),
                    ))
                });
            return match error {
                Some((status, media, body)) => Answer {
                    status,
                    content_type: Some(media),
                    body,
                },
                None => plain(
                    404,
                    format!("no example of {method} {template} for these values"),
                ),
            };
        };
        let request_body = serde_json::from_str::<Value>(body).ok();
        Answer {
            status,
            content_type: Some(media.clone()),
            body: body_text(&templated(example, request_body.as_ref())),
        }
    }
}

/// The running stub.
pub struct Stub {
    /// `http://127.0.0.1:port`.
    pub origin: String,
    pub apis: Arc<Apis>,
    log: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Shared = (Arc<Apis>, Arc<Mutex<Vec<Seen>>>);

impl Stub {
    pub async fn start(apis: Apis) -> Result<Stub, String> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let origin = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let apis = Arc::new(apis);
        let log = Arc::new(Mutex::new(Vec::new()));
        let app = axum::Router::new()
            .fallback(serve)
            .with_state((apis.clone(), log.clone()));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Stub {
            origin,
            apis,
            log,
            task,
        })
    }

    /// The requests received since the last call.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

async fn serve(State((apis, log)): State<Shared>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20)
        .await
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let path = parts.uri.path().to_owned();
    let query = query_pairs(parts.uri.query().unwrap_or(""));
    let Some((api, rest)) = apis.api_at(&path) else {
        let mut r = Response::new(Body::from(format!("no API is served at {path}")));
        *r.status_mut() = StatusCode::NOT_FOUND;
        return r;
    };
    let segments: Vec<String> = split_path(rest).into_iter().map(decode).collect();
    let answer = apis.answer(api, parts.method.as_str(), &segments, &query, &body);
    let headers = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    log.lock().unwrap_or_else(|e| e.into_inner()).push(Seen {
        api,
        method: parts.method.as_str().to_owned(),
        raw_path: rest.to_owned(),
        segments,
        query,
        headers,
        body,
    });
    let mut r = Response::new(Body::from(answer.body));
    *r.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    if let Some(ct) = answer.content_type
        && let Ok(v) = HeaderValue::from_str(&ct)
    {
        r.headers_mut().insert(axum::http::header::CONTENT_TYPE, v);
    }
    r
}
