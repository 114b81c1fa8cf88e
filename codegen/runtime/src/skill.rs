//! Skill catalogues (`exposes` of type `skill`): an HTTP surface that describes agent
//! skills and serves their files. It never runs a tool: a skill's tools point at actions
//! of sibling REST or MCP surfaces, or at instruction files.
//!
//! Routes (all GET): `/skills`, `/skills/{name}`, `/skills/{name}/contents`,
//! `/skills/{name}/contents/{file...}`, `/skills/{name}/download` (a zip of the skill's
//! folder). Files are served only from under the skill's `location`: every path segment
//! must be a plain name (`[A-Za-z0-9._-]`, not `.` or `..`) and the resolved file must stay
//! inside the folder, symbolic links included.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use http::{HeaderValue, StatusCode};
use serde_json::{Map, Value, json};

pub use crate::folder::media_type;
use crate::folder::{Lookup, files};
use crate::rest::error_body;

/// One skill, as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct SkillSpec {
    /// The skill's name, its URL segment (`/skills/{name}`).
    pub name: &'static str,
    /// What the skill does and when to use it.
    pub description: &'static str,
    /// `license`: a license name, or a file of the skill.
    pub license: Option<&'static str>,
    /// `compatibility`: what the skill needs of its environment.
    pub compatibility: Option<&'static str>,
    /// `argument-hint`: the arguments it expects, as shown to a user.
    pub argument_hint: Option<&'static str>,
    /// `allowed-tools`: the tools it may use without asking.
    pub allowed_tools: Option<&'static str>,
    /// `user-invocable`: whether a user can invoke it directly.
    pub user_invocable: Option<bool>,
    /// `disable-model-invocation`: whether the model is kept from invoking it on its own.
    pub disable_model_invocation: Option<bool>,
    /// `metadata`: free key-value pairs, in spec order.
    pub metadata: &'static [(&'static str, &'static str)],
    /// The skill's folder (`file:///...`).
    pub location: Option<&'static str>,
    /// Its tools, in spec order.
    pub tools: &'static [SkillTool],
}

/// A tool of a skill.
#[derive(Debug, Clone, Copy)]
pub struct SkillTool {
    /// Its name in the skill.
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// What it points at.
    pub kind: ToolKind,
}

/// What a tool of a skill points at.
#[derive(Debug, Clone, Copy)]
pub enum ToolKind {
    /// An action of a sibling surface; `mode` is `rest` or `mcp`.
    Derived {
        /// The sibling surface's namespace.
        namespace: &'static str,
        /// The action's name there (a tool or an operation).
        action: &'static str,
        /// `rest` or `mcp`.
        mode: &'static str,
    },
    /// An instruction file, relative to the skill's folder.
    Instruction(&'static str),
}

/// The router of a catalogue.
pub fn router(skills: &'static [SkillSpec]) -> Router {
    Router::new()
        .route("/skills", get(catalog))
        .route("/skills/{name}", get(detail))
        .route("/skills/{name}/contents", get(contents))
        .route("/skills/{name}/contents/{*file}", get(file))
        .route("/skills/{name}/download", get(download))
        .with_state(skills)
}

type Skills = State<&'static [SkillSpec]>;

/// An answer that ends a request early (boxed: it is large, and rare).
type Reject = Box<Response>;

fn not_found(why: &str) -> Reject {
    Box::new(error_body(StatusCode::NOT_FOUND, why))
}

fn find(skills: &'static [SkillSpec], name: &str) -> Result<&'static SkillSpec, Reject> {
    skills
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| not_found(&format!("no skill `{name}`")))
}

async fn catalog(State(skills): Skills) -> Response {
    let list: Vec<Value> = skills
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("name".into(), json!(s.name));
            m.insert("description".into(), json!(s.description));
            if let Some(l) = s.license {
                m.insert("license".into(), json!(l));
            }
            m.insert(
                "tools".into(),
                json!(s.tools.iter().map(|t| t.name).collect::<Vec<_>>()),
            );
            Value::Object(m)
        })
        .collect();
    axum::Json(json!({"count": list.len(), "skills": list})).into_response()
}

async fn detail(State(skills): Skills, UrlPath(name): UrlPath<String>) -> Response {
    let s = match find(skills, &name) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let mut m = Map::new();
    m.insert("name".into(), json!(s.name));
    m.insert("description".into(), json!(s.description));
    let optional = [
        ("license", s.license),
        ("compatibility", s.compatibility),
        ("argument-hint", s.argument_hint),
        ("allowed-tools", s.allowed_tools),
    ];
    for (k, v) in optional {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    }
    if let Some(v) = s.user_invocable {
        m.insert("user-invocable".into(), json!(v));
    }
    if let Some(v) = s.disable_model_invocation {
        m.insert("disable-model-invocation".into(), json!(v));
    }
    if !s.metadata.is_empty() {
        let meta: Map<String, Value> = s
            .metadata
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        m.insert("metadata".into(), Value::Object(meta));
    }
    let tools: Vec<Value> = s
        .tools
        .iter()
        .map(|t| match t.kind {
            ToolKind::Derived {
                namespace,
                action,
                mode,
            } => json!({
                "name": t.name,
                "description": t.description,
                "type": "derived",
                "invocationRef": {"targetNamespace": namespace, "action": action, "mode": mode},
            }),
            ToolKind::Instruction(file) => json!({
                "name": t.name,
                "description": t.description,
                "type": "instruction",
                "instruction": file,
            }),
        })
        .collect();
    m.insert("tools".into(), Value::Array(tools));
    axum::Json(Value::Object(m)).into_response()
}

/// The skill's folder, canonical; 404 when it has none or it does not exist.
fn folder(s: &SkillSpec) -> Result<PathBuf, Reject> {
    let Some(location) = s.location else {
        return Err(not_found(&format!(
            "skill `{}` has no files (no `location`)",
            s.name
        )));
    };
    crate::folder::open(location)
        .ok_or_else(|| not_found(&format!("the folder of skill `{}` does not exist", s.name)))
}

async fn contents(State(skills): Skills, UrlPath(name): UrlPath<String>) -> Response {
    let dir = match find(skills, &name).and_then(folder) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let list: Vec<Value> = files(&dir)
        .into_iter()
        .map(|(rel, p)| {
            let size = std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0);
            json!({"path": rel, "size": size, "type": media_type(&rel)})
        })
        .collect();
    axum::Json(json!({"name": name, "files": list})).into_response()
}

async fn file(State(skills): Skills, UrlPath((name, file)): UrlPath<(String, String)>) -> Response {
    let dir = match find(skills, &name).and_then(folder) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let real = match crate::folder::lookup(&dir, &file) {
        Lookup::File(real) => real,
        Lookup::BadSegment(_) => {
            return error_body(
                StatusCode::BAD_REQUEST,
                "a file path must be made of plain names (letters, digits, `.`, `_`, `-`)",
            );
        }
        Lookup::Outside => {
            return error_body(
                StatusCode::BAD_REQUEST,
                "the path leads out of the skill's folder",
            );
        }
        Lookup::Folder | Lookup::Missing => {
            return error_body(StatusCode::NOT_FOUND, &format!("no file `{file}`"));
        }
    };
    match tokio::task::spawn_blocking(move || std::fs::read(&real)).await {
        Ok(Ok(bytes)) => (
            [(CONTENT_TYPE, HeaderValue::from_static(media_type(&file)))],
            bytes,
        )
            .into_response(),
        _ => error_body(StatusCode::NOT_FOUND, &format!("no file `{file}`")),
    }
}

async fn download(State(skills): Skills, UrlPath(name): UrlPath<String>) -> Response {
    let dir = match find(skills, &name).and_then(folder) {
        Ok(d) => d,
        Err(r) => return *r,
    };
    let zipped = tokio::task::spawn_blocking(move || zip_folder(&dir)).await;
    match zipped {
        Ok(Ok(bytes)) => {
            let disposition = format!("attachment; filename=\"{name}.zip\"");
            let mut r = (
                [(CONTENT_TYPE, HeaderValue::from_static("application/zip"))],
                bytes,
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                r.headers_mut().insert(CONTENT_DISPOSITION, v);
            }
            r
        }
        Ok(Err(e)) => error_body(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("cannot zip the skill: {e}"),
        ),
        Err(_) => error_body(StatusCode::INTERNAL_SERVER_ERROR, "cannot zip the skill"),
    }
}

fn zip_folder(dir: &Path) -> Result<Vec<u8>, String> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (rel, path) in files(dir) {
            let bytes = std::fs::read(&path).map_err(|e| format!("{rel}: {e}"))?;
            zip.start_file(rel.as_str(), options)
                .map_err(|e| e.to_string())?;
            zip.write_all(&bytes).map_err(|e| e.to_string())?;
        }
        zip.finish().map_err(|e| e.to_string())?;
    }
    Ok(out.into_inner())
}
