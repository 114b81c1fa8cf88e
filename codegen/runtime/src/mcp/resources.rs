//! MCP resources: the files under a folder, or the result of a generated flow, read by URI.
//!
//! `resources/list` lists each file of a folder resource as `<uri>/<relative path>` and each
//! fixed-URI flow resource; `resources/templates/list` lists the flow resources whose URI
//! has `{variables}`. `resources/read` takes the first resource, in spec order, whose URI
//! matches.

use std::borrow::Cow;

use rmcp::ErrorData as McpError;
use rmcp::model::{ReadResourceResult, Resource, ResourceContents, ResourceTemplate};
use serde_json::{Map, Value};

use super::ToolSet;
use crate::folder::{self, Lookup};
use crate::{Error, InputSpec, Inputs, Reply};

/// One resource, as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct ResourceSpec {
    /// The resource's name in the spec.
    pub name: &'static str,
    /// The `label`, or the name when there is none.
    pub title: &'static str,
    /// What it holds, if the spec says.
    pub description: Option<&'static str>,
    /// The URI, or URI template (`data://users/{id}/profile`).
    pub uri: &'static str,
    /// Its media type; otherwise guessed from a file's extension, or JSON for a result.
    pub mime_type: Option<&'static str>,
    /// Where its content comes from.
    pub source: ResourceSource,
}

/// Where a resource's content comes from.
#[derive(Debug, Clone, Copy)]
pub enum ResourceSource {
    /// Every file under this `file:` folder, each its own resource.
    Files {
        /// The folder's `file:` location.
        location: &'static str,
    },
    /// The result of a flow ([`ToolSet::read`]); its inputs are the URI's variables.
    Result {
        /// The URI's variables, as the flow's inputs.
        inputs: &'static [InputSpec],
    },
}

impl ResourceSpec {
    fn is_template(&self) -> bool {
        matches!(self.source, ResourceSource::Result { .. }) && self.uri.contains('{')
    }
}

/// `resources/list`: files of folder resources (sorted by path) and fixed-URI results.
pub(super) fn list(specs: &[ResourceSpec]) -> Vec<Resource> {
    let mut out = Vec::new();
    for spec in specs {
        match spec.source {
            ResourceSource::Files { location } => {
                let Some(dir) = folder::open(location) else {
                    tracing::warn!(
                        resource = spec.name,
                        location,
                        "the resource's folder does not exist"
                    );
                    continue;
                };
                for (rel, _) in folder::files(&dir) {
                    let mime = spec.mime_type.unwrap_or_else(|| folder::media_type(&rel));
                    out.push(entry(spec, format!("{}/{rel}", spec.uri), Some(mime)));
                }
            }
            ResourceSource::Result { .. } if !spec.is_template() => {
                out.push(entry(spec, spec.uri.to_owned(), spec.mime_type));
            }
            ResourceSource::Result { .. } => {}
        }
    }
    out
}

fn entry(spec: &ResourceSpec, uri: String, mime: Option<&str>) -> Resource {
    let mut r = Resource::new(uri, spec.name).with_title(spec.title);
    if let Some(d) = spec.description {
        r = r.with_description(d);
    }
    if let Some(m) = mime {
        r = r.with_mime_type(m);
    }
    r
}

/// `resources/templates/list`: the flow resources whose URI has variables.
pub(super) fn templates(specs: &[ResourceSpec]) -> Vec<ResourceTemplate> {
    specs
        .iter()
        .filter(|s| s.is_template())
        .map(|spec| {
            let mut t = ResourceTemplate::new(spec.uri, spec.name).with_title(spec.title);
            if let Some(d) = spec.description {
                t = t.with_description(d);
            }
            if let Some(m) = spec.mime_type {
                t = t.with_mime_type(m);
            }
            t
        })
        .collect()
}

/// `resources/read`.
pub(super) async fn read(set: &dyn ToolSet, uri: &str) -> Result<ReadResourceResult, McpError> {
    for (index, spec) in set.resources().iter().enumerate() {
        match spec.source {
            ResourceSource::Files { location } => {
                let rel = if uri == spec.uri {
                    ""
                } else if let Some(rel) =
                    uri.strip_prefix(spec.uri).and_then(|r| r.strip_prefix('/'))
                {
                    rel
                } else {
                    continue;
                };
                return read_file(spec, location, uri, rel).await;
            }
            ResourceSource::Result { inputs } => {
                let Some(vars) = match_uri(spec.uri, uri) else {
                    continue;
                };
                let args: Map<String, Value> = vars
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
                    .collect();
                let inputs = Inputs::from_args(inputs, Some(args))
                    .map_err(|e| invalid(format!("Invalid params: {e}")))?;
                let mime = spec.mime_type.unwrap_or("application/json");
                let text = match set.read(index, inputs).await {
                    Ok(reply) => text_of(reply).map_err(|e| internal(spec, &e))?,
                    Err(e) => return Err(internal(spec, &e)),
                };
                return Ok(ReadResourceResult::new(vec![
                    ResourceContents::text(text, uri).with_mime_type(mime),
                ]));
            }
        }
    }
    Err(invalid(format!(
        "Invalid params: Unknown resource URI: {uri}"
    )))
}

async fn read_file(
    spec: &ResourceSpec,
    location: &'static str,
    uri: &str,
    rel: &str,
) -> Result<ReadResourceResult, McpError> {
    let Some(dir) = folder::open(location) else {
        return Err(McpError::internal_error(
            format!(
                "Internal error: the folder of resource `{}` does not exist",
                spec.name
            ),
            None,
        ));
    };
    let path = match folder::lookup(&dir, rel) {
        Lookup::File(p) => p,
        Lookup::BadSegment(seg) if seg == "." || seg == ".." => {
            return Err(invalid(format!(
                "Invalid params: Path traversal detected for resource URI: {uri}"
            )));
        }
        Lookup::BadSegment(seg) => {
            return Err(invalid(format!(
                "Invalid params: Invalid path segment in resource URI: {seg}"
            )));
        }
        Lookup::Outside => {
            return Err(invalid(format!(
                "Invalid params: Path traversal detected for resource URI: {uri} (it leads out of the resource's folder)"
            )));
        }
        Lookup::Folder => {
            return Err(invalid(format!(
                "Invalid params: resource URI resolves to a directory, not a file: {uri}"
            )));
        }
        Lookup::Missing => {
            return Err(McpError::internal_error(
                format!("Internal error: no file for resource URI {uri}"),
                None,
            ));
        }
    };
    let bytes = tokio::task::spawn_blocking(move || std::fs::read(path))
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(|| {
            McpError::internal_error(format!("Internal error: cannot read {uri}"), None)
        })?;
    let mime = spec.mime_type.unwrap_or_else(|| folder::media_type(rel));
    let content = match String::from_utf8(bytes) {
        Ok(text) => ResourceContents::text(text, uri),
        // Not text: sent as base64, as MCP carries binary contents.
        Err(e) => {
            use base64::Engine as _;
            ResourceContents::blob(
                base64::engine::general_purpose::STANDARD.encode(e.into_bytes()),
                uri,
            )
        }
    };
    Ok(ReadResourceResult::new(vec![content.with_mime_type(mime)]))
}

/// The text of a flow's result: JSON, or an upstream body passed through as it came.
fn text_of(reply: Reply) -> Result<String, Error> {
    match reply {
        Reply::Raw(r) if !r.status.is_success() => Err(Error::Upstream {
            operation: format!("{}.{}", r.namespace, r.operation),
            status: r.status,
            content_type: r.content_type,
            body: r.body,
        }),
        Reply::Raw(r) => Ok(String::from_utf8_lossy(&r.body).into_owned()),
        Reply::Json { value, .. } => Ok(value.to_string()),
    }
}

fn invalid(message: String) -> McpError {
    McpError::invalid_params(Cow::Owned(message), None)
}

fn internal(spec: &ResourceSpec, e: &Error) -> McpError {
    McpError::internal_error(
        format!("Internal error: resource `{}`: {e}", spec.name),
        None,
    )
}

/// Matches `uri` against a URI template: each `{name}` takes one non-empty path segment
/// (no `/`), everything else is literal. The variables' values, or `None`.
pub fn match_uri<'u>(template: &'static str, uri: &'u str) -> Option<Vec<(&'static str, &'u str)>> {
    let mut vars = Vec::new();
    let mut t = template;
    let mut u = uri;
    loop {
        let Some(start) = t.find('{') else {
            return (t == u).then_some(vars);
        };
        let end = start + t[start..].find('}')?;
        u = u.strip_prefix(&t[..start])?;
        let name = &t[start + 1..end];
        t = &t[end + 1..];
        // The value runs to the next `/`, or to where the next literal text begins.
        let next_literal = &t[..t.find('{').unwrap_or(t.len())];
        let segment_end = u.find('/').unwrap_or(u.len());
        let value_end = if next_literal.is_empty() || next_literal.starts_with('/') {
            segment_end
        } else {
            u[..segment_end].find(next_literal)?
        };
        if value_end == 0 {
            return None;
        }
        vars.push((name, &u[..value_end]));
        u = &u[value_end..];
    }
}

#[cfg(test)]
mod tests {
    use super::match_uri;

    #[test]
    fn templates_match_one_segment_per_variable() {
        assert_eq!(
            match_uri("data://users/{id}/profile", "data://users/u-1/profile"),
            Some(vec![("id", "u-1")])
        );
        assert_eq!(
            match_uri("data://users/{id}/profile", "data://users//profile"),
            None
        );
        assert_eq!(
            match_uri("data://users/{id}/profile", "data://users/a/b/profile"),
            None
        );
        assert_eq!(match_uri("data://users/{id}", "data://users/a/b"), None);
        assert_eq!(match_uri("data://x", "data://x"), Some(vec![]));
        assert_eq!(match_uri("data://x", "data://xy"), None);
        assert_eq!(
            match_uri("data://{a}/{b}.json", "data://p/q.json"),
            Some(vec![("a", "p"), ("b", "q")])
        );
    }
}
