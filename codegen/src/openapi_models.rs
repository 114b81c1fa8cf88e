//! Typed response models from an OpenAPI document ([`Builder::openapi`](crate::Builder::openapi)).
//!
//! Each consumed operation of the capability is matched to the document's operation with
//! the same HTTP method and path, and the JSON schema of its success response (2xx,
//! preferring 200 and 201) becomes a serde model. The schemas, and every schema of
//! `components/schemas` they reference, are turned into Rust types by
//! [typify](https://crates.io/crates/typify) (the JSON Schema to Rust generator progenitor
//! uses), after they are rewritten as the plain JSON Schema it reads:
//!
//! - OpenAPI 3.0's `nullable: true` becomes a `null` alternative (3.1 writes it as
//!   `type: [string, "null"]`, which typify reads as is);
//! - only the keywords that shape a type are kept (`type`, `properties`, `required`,
//!   `items`, `additionalProperties`, `allOf`, `anyOf`, `oneOf`, `enum`, `const`, `$ref`,
//!   `title`, `description`). Validation keywords (`pattern`, lengths, ranges, `default`)
//!   are dropped: a typed view reads what the upstream sends rather than checking it. String
//!   formats (`date-time`, `uuid`, `email`...) stay `String` (named in the field's doc), so
//!   the generated crate needs no `chrono` or `uuid`; integer and number formats are kept;
//! - `additionalProperties: false` is dropped: fields the upstream adds later are ignored,
//!   not an error.
//!
//! A schema typify cannot convert degrades to `serde_json::Value` (the smallest part that
//! fails: a field, else the whole schema), with a warning; it never fails the build.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use proc_macro2::{Ident, TokenStream, TokenTree};
use quote::quote;
use serde_json::{Map, Value};

use crate::diag::{Diagnostic, Diagnostics, Pos, SourceFile};
use crate::ir::{Capability, Client, Operation, PathPart};
use crate::names::{camel_ident, unraw};

/// An OpenAPI document, read and checked to be one.
#[derive(Debug)]
pub(crate) struct Document {
    /// The file, for located diagnostics.
    pub(crate) file: Arc<SourceFile>,
    /// The document as JSON.
    pub(crate) root: Value,
}

impl Document {
    /// Reads the OpenAPI document (3.0 or 3.1, YAML or JSON) at `path`.
    ///
    /// A missing file, a file that is neither YAML nor JSON, or one that is not an OpenAPI
    /// 3.x document (no `openapi: 3.x` or no `paths`) is an error located in the file.
    pub(crate) fn load(path: &Path) -> Result<Document, Diagnostics> {
        match std::fs::read_to_string(path) {
            Ok(text) => Document::parse(path, text),
            Err(e) => Err(one(Diagnostic::error(format!(
                "cannot read the OpenAPI document `{}`: {e}",
                path.display()
            ))
            .with_help(
                "`Builder::openapi` (or `--openapi`) takes the path of an OpenAPI 3.0 or 3.1 document, YAML or JSON",
            ))),
        }
    }

    /// Parses `text` as the OpenAPI document named `path`.
    pub(crate) fn parse(path: impl Into<PathBuf>, text: String) -> Result<Document, Diagnostics> {
        let file = Arc::new(SourceFile {
            path: path.into(),
            text,
        });
        let fail = |d: Diagnostic| Err(one(d));
        let json = file.text.trim_start().starts_with('{');
        let root: Value = if json {
            match serde_json::from_str(&file.text) {
                Ok(v) => v,
                Err(e) => {
                    let pos = Pos {
                        line: e.line(),
                        column: e.column(),
                    };
                    let msg = e.to_string();
                    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
                    return fail(
                        Diagnostic::error(format!("the OpenAPI document is not valid JSON: {msg}"))
                            .at(&file, Some(pos)),
                    );
                }
            }
        } else {
            match serde_yaml::from_str(&file.text) {
                Ok(v) => v,
                Err(e) => {
                    let (pos, msg) = crate::spec::load::yaml_error(&e);
                    return fail(
                        Diagnostic::error(format!(
                            "the OpenAPI document is neither JSON nor valid YAML: {msg}"
                        ))
                        .at(&file, pos),
                    );
                }
            }
        };
        let version = root.get("openapi").and_then(Value::as_str).unwrap_or("");
        if !version.starts_with("3.") {
            let what = match root.get("swagger") {
                Some(_) => "a Swagger 2.0 document".to_owned(),
                None if root.is_object() => "a document without `openapi: 3.x`".to_owned(),
                None => "not a mapping".to_owned(),
            };
            return fail(
                Diagnostic::error(format!("not an OpenAPI 3.0 or 3.1 document: {what}"))
                    .at(&file, Some(Pos { line: 1, column: 1 }))
                    .with_help("convert it to OpenAPI 3 first"),
            );
        }
        if !root.get("paths").is_some_and(Value::is_object) {
            return fail(
                Diagnostic::error("the OpenAPI document has no `paths`")
                    .at(&file, Some(Pos { line: 1, column: 1 })),
            );
        }
        Ok(Document { file, root })
    }

    /// The file name, as the generated docs name the document.
    fn name(&self) -> String {
        self.file
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    /// The value a local `$ref` (`#/components/schemas/Customer`) points at, following
    /// references to references.
    fn resolve<'a>(&'a self, mut value: &'a Value) -> Option<&'a Value> {
        for _ in 0..32 {
            match value.get("$ref").and_then(Value::as_str) {
                Some(r) => value = pointer(&self.root, r)?,
                None => return Some(value),
            }
        }
        None
    }

    /// The path of `servers[0].url` (`/api/v1`), its variables replaced by their defaults.
    fn server_path(&self) -> Option<String> {
        let server = self.root.get("servers")?.get(0)?;
        let mut url = server.get("url")?.as_str()?.to_owned();
        if let Some(vars) = server.get("variables").and_then(Value::as_object) {
            for (name, var) in vars {
                if let Some(d) = var.get("default").and_then(Value::as_str) {
                    url = url.replace(&format!("{{{name}}}"), d);
                }
            }
        }
        let path = url_path(&url);
        (!path.contains('{')).then(|| normalize(path))
    }
}

fn one(d: Diagnostic) -> Diagnostics {
    Diagnostics(vec![d])
}

/// A JSON pointer of a local reference (`#/components/schemas/A~1B`).
fn pointer<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let p = reference.strip_prefix('#')?;
    if p.is_empty() {
        return Some(root);
    }
    root.pointer(p)
}

/// The path part of a URL (`https://host/api/v1` -> `/api/v1`; a relative URL as it is).
fn url_path(url: &str) -> &str {
    let rest = match url.find("://") {
        Some(i) => {
            let after = &url[i + 3..];
            match after.find('/') {
                Some(j) => &after[j..],
                None => "",
            }
        }
        None => url,
    };
    rest.split(['?', '#']).next().unwrap_or("")
}

/// A path with its templates made positional (`/customers/{external_id}` ->
/// `/customers/{}`), a leading `/` and no trailing one: two paths match when these are equal.
pub(crate) fn normalize(path: &str) -> String {
    let mut out = String::from("/");
    let mut in_template = false;
    for c in path.trim_matches('/').chars() {
        match (in_template, c) {
            (false, '{') => {
                in_template = true;
                out.push_str("{}");
            }
            (true, '}') => in_template = false,
            (true, _) => {}
            (false, c) => out.push(c),
        }
    }
    // `{{x}}` (a spec's template) leaves a stray `}`.
    out.replace("{}}", "{}")
}

/// The consumed operation's path, normalized (its parameters and variables positional).
fn consumed_path(op: &Operation) -> String {
    let mut s = String::new();
    for part in &op.path {
        match part {
            PathPart::Lit(l) => s.push_str(l.split('?').next().unwrap_or("")),
            PathPart::Param(_) | PathPart::Env(_) => s.push_str("{}"),
        }
    }
    normalize(&s)
}

/// The base URI's path (`https://api.getlago.com/api/v1` -> `/api/v1`), when it is literal.
fn base_path(c: &Client) -> Option<String> {
    let text: String = c
        .base_uri
        .0
        .iter()
        .map(|p| match p {
            crate::ir::Part::Lit(l) => l.as_str(),
            _ => "\u{0}",
        })
        .collect();
    let path = url_path(&text);
    (!path.contains('\u{0}')).then(|| normalize(path))
}

/// Whether the document's path `key` is the consumed path `resource` (relative to the base
/// URI, whose path is `base`): as it is, below the base URI's path, or below the path of
/// the document's first server.
pub(crate) fn path_matches(
    key: &str,
    resource: &str,
    base: Option<&str>,
    server: Option<&str>,
) -> bool {
    let key = normalize(key);
    let join = |a: &str, b: &str| normalize(&format!("{a}{b}"));
    if key == resource {
        return true;
    }
    let Some(base) = base else { return false };
    let full = join(base, resource);
    key == full || server.is_some_and(|s| join(s, &key) == full)
}

/// The document's operation a consumed operation matched, and its success response.
#[derive(Debug)]
pub(crate) struct Matched<'d> {
    /// The document's path template (`/customers/{external_customer_id}`).
    pub(crate) path: &'d str,
    /// The response's status (`200`).
    pub(crate) status: &'d str,
    /// The document's `operationId`, if any.
    pub(crate) operation_id: Option<&'d str>,
    /// The JSON schema of the `application/json` answer (references unresolved).
    pub(crate) schema: Option<&'d Value>,
}

/// The document's operation for `op` of client `c`, and its success response.
pub(crate) fn find_operation<'d>(
    doc: &'d Document,
    c: &Client,
    op: &Operation,
) -> Option<Matched<'d>> {
    let resource = consumed_path(op);
    let base = base_path(c);
    let server = doc.server_path();
    let method = op.method.as_str().to_ascii_lowercase();
    let paths = doc.root.get("paths")?.as_object()?;
    let (path, item) = paths.iter().find(|(k, item)| {
        path_matches(k, &resource, base.as_deref(), server.as_deref())
            && doc.resolve(item).and_then(|i| i.get(&method)).is_some()
    })?;
    let operation = doc.resolve(item)?.get(&method)?;
    let responses = operation.get("responses").and_then(Value::as_object);
    let mut codes: Vec<&String> = responses
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| k.starts_with('2'))
        .collect();
    // 200, 201, the other 2xx in order, then `2XX`.
    codes.sort_by_key(|k| match k.as_str() {
        "200" => (0, String::new()),
        "201" => (1, String::new()),
        k if k.bytes().all(|b| b.is_ascii_digit()) => (2, k.to_owned()),
        k => (3, k.to_owned()),
    });
    let operation_id = operation.get("operationId").and_then(Value::as_str);
    for code in &codes {
        let response = responses
            .and_then(|r| r.get(code.as_str()))
            .and_then(|r| doc.resolve(r));
        let Some(content) = response
            .and_then(|r| r.get("content"))
            .and_then(Value::as_object)
        else {
            continue;
        };
        let media = content.get("application/json").or_else(|| {
            content
                .iter()
                .find(|(k, _)| {
                    let m = k.split(';').next().unwrap_or("").trim();
                    m == "application/json" || m.ends_with("+json")
                })
                .map(|(_, v)| v)
        });
        if let Some(schema) = media.and_then(|m| m.get("schema")) {
            return Some(Matched {
                path,
                status: code,
                operation_id,
                schema: Some(schema),
            });
        }
    }
    Some(Matched {
        path,
        status: codes.first().map(|c| c.as_str()).unwrap_or(""),
        operation_id,
        schema: None,
    })
}

/// The models of one consumed API: the `models` module and its typed operations.
#[derive(Debug)]
pub(crate) struct ClientModels {
    /// The document's file name, for docs.
    pub(crate) document: String,
    /// The items of `pub mod models` (already using `naftiko_runtime::serde`).
    pub(crate) items: TokenStream,
    /// The operations that got a model, in spec order.
    pub(crate) typed: Vec<TypedOp>,
}

/// A consumed operation whose answer has a model.
#[derive(Debug)]
pub(crate) struct TypedOp {
    /// Index into the client's operations.
    pub(crate) op: usize,
    /// The typed method's name (`findcustomer_typed`).
    pub(crate) method: String,
    /// The model's name in `models` (`Customer`).
    pub(crate) model: Ident,
    /// Where it comes from, for docs: `` `GET /customers/{external_customer_id}` answer 200 ``.
    pub(crate) source: String,
}

/// The models of every client of `cap` (one entry per client, `None` for a client none of
/// whose operations the document describes); warnings go to `warnings`.
pub(crate) fn build(
    cap: &Capability,
    doc: &Document,
    warnings: &mut Diagnostics,
) -> Vec<Option<ClientModels>> {
    let mut out = Vec::new();
    let mut matched_any = false;
    let mut unmatched = Vec::new();
    for c in &cap.clients {
        let mut roots: Vec<Root> = Vec::new();
        for (i, op) in c.ops.iter().enumerate() {
            if !op.format.is_json() {
                continue;
            }
            let Some(m) = find_operation(doc, c, op) else {
                unmatched.push(format!(
                    "`{}.{}` ({} {})",
                    c.namespace,
                    op.name,
                    op.method.as_str(),
                    op.path_text
                ));
                continue;
            };
            matched_any = true;
            let Some(schema) = m.schema else {
                warnings.push(
                    Diagnostic::warning(format!(
                        "`{}.{}` matches `{} {}` of the OpenAPI document, which declares no JSON success answer: no typed method",
                        c.namespace,
                        op.name,
                        op.method.as_str(),
                        m.path
                    ))
                    .at(&doc.file, None),
                );
                continue;
            };
            let mut source = format!("`{} {}` answer {}", op.method.as_str(), m.path, m.status);
            if let Some(id) = m.operation_id {
                source.push_str(&format!(" (`{id}`)"));
            }
            roots.push(Root {
                op: i,
                schema,
                source,
            });
        }
        out.push(client_models(c, doc, roots, warnings));
    }
    if !matched_any {
        warnings.push(
            Diagnostic::warning(
                "the OpenAPI document describes none of the consumed operations: no typed models are generated",
            )
            .at(&doc.file, None)
            .with_help(
                "operations are matched by HTTP method and path (relative to the base URI, or with its path or the document's `servers[0].url` path)",
            ),
        );
    } else if !unmatched.is_empty() {
        warnings.push(
            Diagnostic::warning(format!(
                "the OpenAPI document does not describe {}: no typed method for {}",
                unmatched.join(", "),
                if unmatched.len() == 1 { "it" } else { "them" }
            ))
            .at(&doc.file, None),
        );
    }
    out
}

/// A matched operation's answer schema.
struct Root<'d> {
    op: usize,
    schema: &'d Value,
    source: String,
}

const COMPONENTS: &str = "#/components/schemas/";

/// The models module of one client, from its matched operations.
fn client_models(
    c: &Client,
    doc: &Document,
    roots: Vec<Root<'_>>,
    warnings: &mut Diagnostics,
) -> Option<ClientModels> {
    if roots.is_empty() {
        return None;
    }
    let components = doc
        .root
        .pointer("/components/schemas")
        .and_then(Value::as_object);
    let mut notes = Notes(
        Vec::new(),
        components
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect(),
    );
    // Every referenced component, transitively, in the document's order.
    let mut used = BTreeSet::new();
    let mut stack: Vec<&Value> = roots.iter().map(|r| r.schema).collect();
    while let Some(v) = stack.pop() {
        let mut refs = Vec::new();
        collect_refs(v, &mut refs);
        for r in refs {
            if let Some(name) = r.strip_prefix(COMPONENTS)
                && let Some(s) = components.and_then(|c| c.get(name))
                && used.insert(name.to_owned())
            {
                stack.push(s);
            }
        }
    }
    let mut defs: Vec<(String, Value)> = Vec::new();
    let mut def_names: BTreeSet<String> = BTreeSet::new();
    for (name, schema) in components.into_iter().flatten() {
        if used.contains(name) {
            defs.push((name.clone(), convert(schema, name, &mut notes)));
            def_names.insert(name.clone());
        }
    }
    // Each operation's answer: its component, or a definition of its own.
    let mut root_defs = Vec::new();
    for r in &roots {
        let component = r
            .schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|s| s.strip_prefix(COMPONENTS))
            .filter(|n| def_names.contains(*n));
        let only_ref = r.schema.as_object().is_some_and(|o| {
            o.keys()
                .all(|k| matches!(k.as_str(), "$ref" | "description" | "summary"))
        });
        let name = match component {
            Some(n) if only_ref => n.to_owned(),
            _ => {
                let op = &c.ops[r.op];
                let base = format!("{}Response", camel_ident(unraw(&op.method_name)));
                let mut name = base.clone();
                let mut n = 2;
                while def_names.contains(&name) {
                    name = format!("{base}{n}");
                    n += 1;
                }
                let what = format!("the answer of `{}`", op.name);
                defs.push((name.clone(), convert(r.schema, &what, &mut notes)));
                def_names.insert(name.clone());
                name
            }
        };
        root_defs.push(name);
    }
    for n in notes.0 {
        warnings.push(Diagnostic::warning(n).at(&doc.file, None));
    }
    let mut space = match type_space(&defs) {
        Ok(space) => space,
        Err(_) => {
            // Find the parts typify cannot convert, read them as `serde_json::Value`, retry.
            let mut degraded = Vec::new();
            let defs: Vec<(String, Value)> = defs
                .into_iter()
                .map(|(name, schema)| {
                    let schema = degrade(&schema, &name, &mut degraded);
                    (name, schema)
                })
                .collect();
            for (what, e) in degraded {
                warnings.push(
                    Diagnostic::warning(format!(
                        "OpenAPI schema {what} cannot be typed ({e}): it is read as `serde_json::Value`"
                    ))
                    .at(&doc.file, None),
                );
            }
            match type_space(&defs) {
                Ok(space) => space,
                Err(e) => {
                    warnings.push(
                        Diagnostic::warning(format!(
                            "the OpenAPI schemas of `{}` cannot be typed ({e}): no typed methods",
                            c.namespace
                        ))
                        .at(&doc.file, None),
                    );
                    return None;
                }
            }
        }
    };
    let mut typed = Vec::new();
    let taken: BTreeSet<&str> = c.ops.iter().map(|o| unraw(&o.method_name)).collect();
    for (r, def) in roots.into_iter().zip(root_defs) {
        let op = &c.ops[r.op];
        let method = format!("{}_typed", unraw(&op.method_name));
        if taken.contains(method.as_str()) {
            warnings.push(
                Diagnostic::warning(format!(
                    "no typed method for `{}.{}`: `{method}` is the name of another operation's method",
                    c.namespace, op.name
                ))
                .at(&doc.file, None),
            );
            continue;
        }
        let reference = schemars::schema::Schema::new_ref(format!("#/definitions/{def}"));
        let ident = guarded(|| {
            let id = space.add_type(&reference).map_err(|e| e.to_string())?;
            let ty = space.get_type(&id).map_err(|e| e.to_string())?;
            syn::parse2::<Ident>(ty.ident()).map_err(|e| e.to_string())
        });
        match ident {
            Ok(model) => typed.push(TypedOp {
                op: r.op,
                method,
                model,
                source: r.source,
            }),
            Err(e) => warnings.push(
                Diagnostic::warning(format!(
                    "no typed method for `{}.{}`: its model `{def}` has no name ({e})",
                    c.namespace, op.name
                ))
                .at(&doc.file, None),
            ),
        }
    }
    if typed.is_empty() {
        return None;
    }
    let items = match guarded(|| Ok(space.to_stream())).and_then(runtime_serde) {
        Ok(items) => items,
        Err(e) => {
            warnings.push(
                Diagnostic::warning(format!(
                    "the models of `{}` cannot be generated ({e}): no typed methods",
                    c.namespace
                ))
                .at(&doc.file, None),
            );
            return None;
        }
    };
    Some(ClientModels {
        document: doc.name(),
        items,
        typed,
    })
}

/// Notes about what the conversion left out, reported as warnings, and the names of the
/// components references may point at.
#[derive(Default)]
struct Notes(Vec<String>, BTreeSet<String>);

/// Every `$ref` under `v`.
fn collect_refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r),
                    ("example" | "examples", _) => {}
                    _ => collect_refs(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Integer and number formats typify maps to Rust types of the standard library.
const NUMERIC_FORMATS: &[&str] = &[
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float", "double",
];

/// An OpenAPI schema (3.0 or 3.1) as the JSON Schema typify reads (see the module doc).
/// `what` names it in notes.
fn convert(schema: &Value, what: &str, notes: &mut Notes) -> Value {
    let Value::Object(m) = schema else {
        // `true`, `false` or garbage: any value.
        return Value::Object(Map::new());
    };
    let mut out = Map::new();
    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
        let target = match r.strip_prefix(COMPONENTS) {
            Some(name) if notes.1.contains(name) => format!("#/definitions/{name}"),
            _ => {
                notes.0.push(format!(
                    "OpenAPI schema {what}: the reference `{r}` is not to a schema of `components/schemas`: it is read as `serde_json::Value`"
                ));
                return nullable(m, Value::Object(Map::new()));
            }
        };
        out.insert("$ref".into(), Value::String(target));
        if let Some(d) = m.get("description") {
            out.insert("description".into(), d.clone());
        }
        return nullable(m, Value::Object(out));
    }
    let mut description = m
        .get("description")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(f) = m.get("format").and_then(Value::as_str) {
        if NUMERIC_FORMATS.contains(&f) {
            out.insert("format".into(), Value::String(f.to_owned()));
        } else {
            let d = description.get_or_insert_default();
            if !d.is_empty() {
                d.push_str("\n\n");
            }
            d.push_str(&format!("Format: `{f}`."));
        }
    }
    if m.get("deprecated") == Some(&Value::Bool(true)) {
        let d = description.get_or_insert_default();
        if !d.is_empty() {
            d.push_str("\n\n");
        }
        d.push_str("Deprecated.");
    }
    if let Some(d) = description {
        out.insert("description".into(), Value::String(d));
    }
    for (k, v) in m {
        match k.as_str() {
            "type" if v.is_string() || v.is_array() => {
                out.insert(k.clone(), v.clone());
            }
            "title" | "required" | "enum" | "const" => {
                out.insert(k.clone(), v.clone());
            }
            "properties" => {
                if let Value::Object(props) = v {
                    let props: Map<String, Value> = props
                        .iter()
                        .map(|(name, s)| {
                            (name.clone(), convert(s, &format!("{what}.{name}"), notes))
                        })
                        .collect();
                    out.insert(k.clone(), Value::Object(props));
                }
            }
            "items" if v.is_object() || v.is_boolean() => {
                out.insert(k.clone(), convert(v, &format!("{what}[]"), notes));
            }
            "additionalProperties" if v.is_object() => {
                out.insert(k.clone(), convert(v, &format!("{what}.*"), notes));
            }
            "allOf" | "anyOf" | "oneOf" => {
                if let Value::Array(items) = v {
                    let items = items.iter().map(|s| convert(s, what, notes)).collect();
                    out.insert(k.clone(), Value::Array(items));
                }
            }
            _ => {}
        }
    }
    // An OpenAPI 3.0 enum of a nullable type lists `null` itself only sometimes.
    nullable(m, Value::Object(out))
}

/// `schema`, allowing `null` too when the OpenAPI schema `m` says `nullable: true`.
fn nullable(m: &Map<String, Value>, schema: Value) -> Value {
    if m.get("nullable") != Some(&Value::Bool(true)) {
        return schema;
    }
    let Value::Object(mut s) = schema else {
        return schema;
    };
    if let Some(Value::Array(values)) = s.get_mut("enum")
        && !values.contains(&Value::Null)
    {
        values.push(Value::Null);
    }
    match s.get("type").cloned() {
        Some(Value::String(t)) => {
            s.insert("type".into(), serde_json::json!([t, "null"]));
            Value::Object(s)
        }
        Some(Value::Array(mut ts)) => {
            if !ts.contains(&Value::from("null")) {
                ts.push(Value::from("null"));
            }
            s.insert("type".into(), Value::Array(ts));
            Value::Object(s)
        }
        _ => {
            // A reference or a composition: either it, or null.
            let description = s.remove("description");
            let mut out = Map::new();
            if let Some(d) = description {
                out.insert("description".into(), d);
            }
            out.insert(
                "anyOf".into(),
                serde_json::json!([Value::Object(s), {"type": "null"}]),
            );
            Value::Object(out)
        }
    }
}

thread_local! {
    /// Whether a panic of this thread is caught by [`guarded`], so not to be printed.
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, a panic of typify (it panics on some schemas) becoming an error. The panic
/// hook in place is kept for every other panic.
fn guarded<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    match result {
        Ok(r) => r,
        Err(p) => Err(p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "typify panicked".into())),
    }
}

/// The settings of every conversion: serde models that also compare (`PartialEq`), maps
/// ordered (`BTreeMap`) so that serializing one is deterministic.
fn settings() -> typify::TypeSpaceSettings {
    let mut s = typify::TypeSpaceSettings::default();
    s.with_struct_builder(false)
        .with_derive("PartialEq".to_owned())
        .with_map_type("::std::collections::BTreeMap");
    s
}

/// The types of `defs` (JSON Schemas whose references are `#/definitions/<name>`).
fn type_space(defs: &[(String, Value)]) -> Result<typify::TypeSpace, String> {
    let schemas = defs
        .iter()
        .map(|(name, v)| {
            serde_json::from_value::<schemars::schema::Schema>(v.clone())
                .map(|s| (name.clone(), s))
                .map_err(|e| format!("`{name}`: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    guarded(move || {
        let mut space = typify::TypeSpace::new(&settings());
        space.add_ref_types(schemas).map_err(|e| e.to_string())?;
        Ok(space)
    })
}

/// Whether `schema` alone (its references read as any value) converts.
fn converts(schema: &Value) -> Result<(), String> {
    let mut alone = schema.clone();
    stub_refs(&mut alone);
    type_space(&[("Probe".to_owned(), alone)]).map(|_| ())
}

fn stub_refs(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.contains_key("$ref") {
                m.clear();
            }
            m.values_mut().for_each(stub_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(stub_refs),
        _ => {}
    }
}

/// `schema` with each smallest part that does not convert replaced by `{}` (any value);
/// what was replaced, and why, is added to `out`.
fn degrade(schema: &Value, what: &str, out: &mut Vec<(String, String)>) -> Value {
    let Err(e) = converts(schema) else {
        return schema.clone();
    };
    let mut s = schema.clone();
    if let Value::Object(m) = &mut s {
        let mut found = Vec::new();
        if let Some(Value::Object(props)) = m.get_mut("properties") {
            for (name, p) in props.iter_mut() {
                *p = degrade(p, &format!("{what}.{name}"), &mut found);
            }
        }
        for key in ["items", "additionalProperties"] {
            if let Some(p) = m.get_mut(key) {
                *p = degrade(p, &format!("{what}[]"), &mut found);
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(items)) = m.get_mut(key) {
                for p in items.iter_mut() {
                    *p = degrade(p, what, &mut found);
                }
            }
        }
        if !found.is_empty() && converts(&s).is_ok() {
            out.extend(found);
            return s;
        }
    }
    out.push((format!("`{what}`"), e));
    let mut any = Map::new();
    if let Some(d) = schema.get("description") {
        any.insert("description".into(), d.clone());
    }
    Value::Object(any)
}

/// typify's output with its `::serde` and `::serde_json` paths taken from
/// `naftiko_runtime` (the generated crate depends on it only), and
/// `#[serde(crate = "naftiko_runtime::serde")]` on each serde type.
fn runtime_serde(tokens: TokenStream) -> Result<TokenStream, String> {
    let tokens = reroot(tokens);
    let mut file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("typify's output does not parse: {e}"))?;
    add_serde_crate(&mut file.items);
    let items = &file.items;
    Ok(quote!(#(#items)*))
}

/// `::serde::X` -> `naftiko_runtime::serde::X` (and `::serde_json`), in every group.
/// typify writes these paths with a leading `::` only, never inside another path.
fn reroot(tokens: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if let (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)), Some(TokenTree::Ident(id))) =
            (trees.get(i), trees.get(i + 1), trees.get(i + 2))
            && a.as_char() == ':'
            && b.as_char() == ':'
            && (id == "serde" || id == "serde_json")
        {
            let id = id.clone();
            out.extend(quote!(naftiko_runtime::#id));
            i += 3;
            continue;
        }
        // typify's docs (`#[doc = "Text"]`, one attribute for several lines) as the rest of
        // the generated code writes them: one `/// Text` per line.
        if let (Some(TokenTree::Punct(hash)), Some(TokenTree::Group(g))) =
            (trees.get(i), trees.get(i + 1))
            && hash.as_char() == '#'
            && g.delimiter() == proc_macro2::Delimiter::Bracket
            && let Some(text) = doc_text(g.stream())
        {
            out.extend(crate::emit::doc(&text));
            i += 2;
            continue;
        }
        // A type path typify writes into a serde attribute from tokens
        // (`":: std :: collections :: BTreeMap::is_empty"`), without the spaces.
        if let TokenTree::Literal(l) = &trees[i]
            && let Ok(s) = syn::parse2::<syn::LitStr>(TokenTree::Literal(l.clone()).into())
            && s.value().starts_with(":: ")
        {
            let path = s.value().replace(" :: ", "::").replace(":: ", "::");
            out.push(TokenTree::Literal(proc_macro2::Literal::string(&path)));
            i += 1;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let mut ng = proc_macro2::Group::new(g.delimiter(), reroot(g.stream()));
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
            }
            t => out.push(t.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// The text of a `doc = "..."` attribute.
fn doc_text(attr: TokenStream) -> Option<String> {
    match syn::parse2::<syn::Meta>(attr).ok()? {
        syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

fn add_serde_crate(items: &mut [syn::Item]) {
    let uses_serde = |attrs: &[syn::Attribute]| {
        attrs.iter().any(|a| {
            let meta = &a.meta;
            let text = quote!(#meta).to_string();
            a.path().is_ident("derive")
                && (text.contains("Deserialize") || text.contains("Serialize"))
        })
    };
    let attr: syn::Attribute = syn::parse_quote!(#[serde(crate = "naftiko_runtime::serde")]);
    for item in items {
        match item {
            syn::Item::Struct(s) if uses_serde(&s.attrs) => s.attrs.push(attr.clone()),
            syn::Item::Enum(e) if uses_serde(&e.attrs) => e.attrs.push(attr.clone()),
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &mut m.content {
                    add_serde_crate(items);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The Rust source of the models of `defs` (OpenAPI schemas by component name).
    fn models(defs: &[(&str, Value)]) -> (String, Vec<String>) {
        let mut notes = Notes(
            Vec::new(),
            defs.iter().map(|(n, _)| (*n).to_owned()).collect(),
        );
        let defs: Vec<(String, Value)> = defs
            .iter()
            .map(|(n, s)| ((*n).to_owned(), convert(s, n, &mut notes)))
            .collect();
        let space = type_space(&defs).unwrap_or_else(|e| panic!("{e}"));
        let tokens = runtime_serde(space.to_stream()).unwrap();
        (crate::emit::format(tokens, "").unwrap(), notes.0)
    }

    #[test]
    fn paths_match_by_position_below_the_base_or_the_server() {
        assert_eq!(normalize("customers/{external_id}/"), "/customers/{}");
        assert_eq!(normalize("/books/{{book_id}}/loans"), "/books/{}/loans");
        let r = "/customers/{}";
        // Relative to the base URI, as the spec writes it.
        assert!(path_matches(
            "/customers/{external_customer_id}",
            r,
            None,
            None
        ));
        // The document's paths hold the base URI's path.
        assert!(path_matches(
            "/api/v1/customers/{id}",
            r,
            Some("/api/v1"),
            None
        ));
        // The document's server URL holds part of it.
        assert!(path_matches(
            "/v1/customers/{id}",
            r,
            Some("/api/v1"),
            Some("/api")
        ));
        assert!(!path_matches(
            "/customers",
            r,
            Some("/api/v1"),
            Some("/api/v1")
        ));
        assert!(!path_matches("/customers/{id}/x", r, None, None));
        assert!(!path_matches("/customers/me", r, None, None));
        assert_eq!(url_path("https://h.example/api/v1?x=1"), "/api/v1");
        assert_eq!(url_path("https://h.example"), "");
        assert_eq!(url_path("/v2"), "/v2");
    }

    #[test]
    fn a_missing_or_wrong_document_is_a_located_error() {
        let e = Document::load(Path::new("no/such/openapi.yaml")).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("cannot read the OpenAPI document `no/such/openapi.yaml`"),
            "{text}"
        );
        let e = Document::parse("bad.yaml", "openapi: 3.1.0\npaths: [\n".into()).unwrap_err();
        assert!(
            e.0[0].message.contains("neither JSON nor valid YAML"),
            "{e}"
        );
        assert!(e.0[0].location().unwrap().starts_with("bad.yaml:"), "{e}");
        let e = Document::parse("bad.json", "{\"openapi\": \"3.0.0\",\n \"paths\": }".into())
            .unwrap_err();
        assert_eq!(e.0[0].location().as_deref(), Some("bad.json:2:11"), "{e}");
        let e = Document::parse("v2.yaml", "swagger: '2.0'\npaths: {}\n".into()).unwrap_err();
        assert!(e.to_string().contains("Swagger 2.0"), "{e}");
        let e = Document::parse("x.yaml", "openapi: 3.0.0\n".into()).unwrap_err();
        assert!(e.to_string().contains("no `paths`"), "{e}");
        assert!(Document::parse("ok.json", r#"{"openapi": "3.1.0", "paths": {}}"#.into()).is_ok());
    }

    #[test]
    fn schemas_become_serde_models() {
        let (src, notes) = models(&[
            (
                "Pet",
                json!({
                    "description": "A pet.",
                    "allOf": [
                        {"$ref": "#/components/schemas/Named"},
                        {"type": "object", "required": ["kind"], "properties": {
                            "kind": {"$ref": "#/components/schemas/Kind"},
                            "nick-name": {"type": "string", "nullable": true},
                            "born": {"type": "string", "format": "date-time", "description": "Birth."},
                            "weight": {"type": ["number", "null"], "format": "float"},
                            "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                            "code": {"type": "string", "pattern": "^[A-Z]+$", "maxLength": 3},
                            "owner": {"$ref": "#/components/schemas/Missing"}
                        }}
                    ]
                }),
            ),
            (
                "Named",
                json!({"type": "object", "required": ["name"], "additionalProperties": false,
                       "properties": {"name": {"type": "string", "description": "The name."}}}),
            ),
            (
                "Kind",
                json!({"type": "string", "enum": ["cat", "dog"], "nullable": true}),
            ),
        ]);
        for want in [
            "/// A pet.\n",
            "pub struct Pet {",
            "/// The name.\n",
            "pub name: ::std::string::String,",
            // allOf merged, required kept; nullable (3.0) and `[number, null]` (3.1) optional.
            "pub kind: Kind,",
            "rename = \"nick-name\"",
            "pub nick_name: ::std::option::Option<::std::string::String>,",
            "pub weight: ::std::option::Option<f32>,",
            // String formats are strings, named in the doc; patterns are not checked.
            "/// Birth.\n",
            "/// Format: `date-time`.\n",
            "pub born: ::std::option::Option<::std::string::String>,",
            "pub code: ::std::option::Option<::std::string::String>,",
            "::std::collections::BTreeMap<",
            // A dangling reference: any value.
            "naftiko_runtime::serde_json::Value",
            // The enum, `null` allowed.
            "pub struct Kind(pub ::std::option::Option<KindInner>);",
            "#[serde(rename = \"cat\")]",
            "naftiko_runtime::serde::Deserialize,",
            "#[serde(crate = \"naftiko_runtime::serde\")]",
        ] {
            assert!(src.contains(want), "no {want:?} in:\n{src}");
        }
        // Unknown fields are ignored, typify's paths are the runtime's.
        let own = src.replace("naftiko_runtime::serde", "");
        for unwanted in ["deny_unknown_fields", "::serde", "regress", "chrono"] {
            assert!(!own.contains(unwanted), "{unwanted:?} in:\n{src}");
        }
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].contains("#/components/schemas/Missing"),
            "{notes:?}"
        );
        // Same input, same output.
        let again = models(&[(
            "Named",
            json!({"type": "object", "properties": {"a": {"type": "string"}}}),
        )]);
        assert_eq!(
            again,
            models(&[(
                "Named",
                json!({"type": "object", "properties": {"a": {"type": "string"}}})
            )])
        );
    }

    #[test]
    fn a_schema_typify_cannot_convert_degrades_to_a_value() {
        // An untyped enum of values of several types makes typify panic.
        let schema = json!({"type": "object", "required": ["ok"], "properties": {
            "ok": {"type": "string"},
            "odd": {"enum": [1, "a", {"x": 1}], "description": "Mixed."}
        }});
        assert!(converts(&schema).is_err());
        let mut degraded = Vec::new();
        let schema = degrade(&schema, "Odd", &mut degraded);
        assert_eq!(degraded.len(), 1, "{degraded:?}");
        assert_eq!(degraded[0].0, "`Odd.odd`");
        assert!(
            degraded[0].1.contains("multiple implied types"),
            "{degraded:?}"
        );
        assert_eq!(
            schema["properties"]["odd"],
            json!({"description": "Mixed."})
        );
        assert_eq!(schema["properties"]["ok"], json!({"type": "string"}));
        let (src, _) = models(&[("Odd", schema)]);
        assert!(
            src.contains("pub odd: ::std::option::Option<naftiko_runtime::serde_json::Value>"),
            "{src}"
        );
        assert!(src.contains("pub ok: ::std::string::String"), "{src}");
    }
}
