//! Checks `consumes:` and builds the client model.

use std::collections::HashMap;

use super::Checker;
use super::expr::{self, PathSeg, Resolved};
use super::imports::Section;
use crate::ir::{
    Body, Client, ClientAuth, Fixed, Format, OpParam, Operation, ParamLoc, Part, PathPart,
    Projection, Template,
};
use crate::names::{camel_ident, closest, snake_ident};
use crate::spec::model::{
    Authentication, ConsumedOperation, ConsumedParam, ConsumedResource, ConsumesEntry,
    ConsumesHttp, FormData, ParamIn, ParamType, RequestBody,
};
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;

/// The `outputRawFormat` labels we read (lower case).
const FORMATS: &[&str] = &[
    "json", "xml", "yaml", "csv", "tsv", "psv", "html", "markdown", "avro", "protobuf", "binary",
];

impl<'a> Checker<'a> {
    pub(super) fn consumes(
        &mut self,
        entries: &'a [Lenient<ConsumesEntry>],
        path: &YamlPath,
    ) -> Vec<Client> {
        let section = Section {
            key: "consumes",
            split: |e: &ConsumesEntry| match e {
                ConsumesEntry::Http(h) => Ok(&**h),
                ConsumesEntry::Import(i) => Err(i),
            },
            of: |d| &d.consumes,
            namespace: |h: &ConsumesHttp| Some(&h.namespace),
        };
        let defs = self.definitions(entries, path, &section);
        let mut clients: Vec<Client> = Vec::new();
        let mut paths: Vec<YamlPath> = Vec::new();
        for def in defs {
            let namespace = def
                .alias
                .clone()
                .unwrap_or_else(|| def.def.namespace.clone());
            if clients.iter().any(|c| c.namespace == namespace) {
                self.error_value(
                    &def.path.key("namespace"),
                    format!("duplicate consumes namespace `{namespace}`"),
                )
                .help = Some("give one of them another namespace (`as:` on an import)".into());
                continue;
            }
            if let Some(c) = self.client(def.def, &namespace, &def.path) {
                clients.push(c);
                paths.push(def.path);
            }
        }
        // Two namespaces that differ only in punctuation would collide as Rust modules.
        let mut modules: HashMap<&str, &str> = HashMap::new();
        for (i, c) in clients.iter().enumerate() {
            if let Some(other) = modules.insert(&c.module, &c.namespace) {
                let msg = format!(
                    "namespaces `{other}` and `{}` both become the Rust module `{}`",
                    c.namespace, c.module
                );
                self.error_value(&paths[i].key("namespace"), msg);
            }
        }
        clients
    }

    fn client(&mut self, http: &ConsumesHttp, namespace: &str, path: &YamlPath) -> Option<Client> {
        if http.tunnel.is_some() {
            self.unsupported(&path.key("tunnel"), "an OpenZiti `tunnel`");
        }
        let base_uri = self.base_uri(&http.base_uri, &path.key("baseUri"))?;
        let auth = http
            .authentication
            .as_ref()
            .and_then(|a| self.client_auth(a, &path.key("authentication")));
        // Consumes-level parameters: with a value, sent with every call; without one, an
        // input that every operation takes (like a resource-level parameter).
        let mut fixed = Vec::new();
        let mut shared = Vec::new();
        for p in http.input_parameters.iter() {
            let ppath = path.key("inputParameters").seg(&p.seg);
            let (Some(name), Some(item)) = (
                self.name_of(&ppath, &p.name, "a parameter"),
                self.item(&ppath, &p.item),
            ) else {
                continue;
            };
            match &item.value {
                Some(v) => {
                    if let Some(t) = self.env_template(v, &ppath.key("value"))
                        && let Some(loc) = self.fixed_loc(item, &ppath)
                    {
                        fixed.push(Fixed {
                            name,
                            location: loc,
                            value: t,
                        });
                    }
                }
                None => shared.push((name, item.clone(), ppath)),
            }
        }
        let mut ops: Vec<Operation> = Vec::new();
        let mut op_paths: HashMap<String, YamlPath> = HashMap::new();
        // Rust method name -> operation name, to catch two names that become one method.
        let mut methods: HashMap<String, String> = HashMap::new();
        for r in http.resources.iter() {
            let rpath = path.key("resources").seg(&r.seg);
            let Some(res) = self.item(&rpath, &r.item) else {
                continue;
            };
            if res.operations.is_empty() {
                self.error_key(&rpath, "a consumed resource needs `operations`");
            }
            for o in res.operations.iter() {
                let opath = rpath.key("operations").seg(&o.seg);
                let Some(op_name) = self.name_of(&opath, &o.name, "an operation") else {
                    continue;
                };
                let Some(op) = self.item(&opath, &o.item) else {
                    self.broken_ops.insert(format!("{namespace}.{op_name}"));
                    continue;
                };
                if let Some(first) = op_paths.get(&op_name) {
                    let first = first.to_string();
                    self.error_value(
                        &opath,
                        format!(
                            "duplicate operation `{op_name}` in namespace `{namespace}` (first defined at `{first}`)"
                        ),
                    );
                    continue;
                }
                op_paths.insert(op_name.clone(), opath.clone());
                let Some(op) = self.operation(&shared, res, &rpath, &op_name, op, &opath) else {
                    self.broken_ops.insert(format!("{namespace}.{op_name}"));
                    continue;
                };
                if let Some(prev) = methods.get(&op.method_name) {
                    let msg = format!(
                        "operations `{prev}` and `{}` both become the Rust method `{}`",
                        op.name, op.method_name
                    );
                    self.error_value(&opath, msg);
                    continue;
                }
                methods.insert(op.method_name.clone(), op.name.clone());
                ops.push(op);
            }
        }
        Some(Client {
            namespace: namespace.to_owned(),
            module: snake_ident(namespace),
            label: http.label().map(str::to_owned),
            description: http.description.clone(),
            base_uri,
            auth,
            fixed,
            ops,
        })
    }

    /// The base URI: an absolute http(s) URL; `binds` variables may fill parts of it
    /// (rendered once at start-up, where a value that makes an invalid URL is an error).
    fn base_uri(&mut self, text: &str, path: &YamlPath) -> Option<Template> {
        let base = text.trim();
        let t = self.env_template(base, path)?;
        let head = match t.0.first() {
            Some(Part::Lit(l)) => l.as_str(),
            _ => "",
        };
        let scheme_ok = head.starts_with("http://") || head.starts_with("https://");
        if !scheme_ok || base.contains(' ') {
            self.error_value(
                path,
                format!("baseUri `{base}` must be an absolute http:// or https:// URL"),
            );
            return None;
        }
        if base.ends_with('/') {
            self.error_value(path, format!("baseUri `{base}` must not end with `/`"))
                .help = Some("operation paths are appended to it and start with `/`".into());
            return None;
        }
        if t.literal().is_some() && (base.contains('?') || base.contains('#')) {
            self.error_value(
                path,
                format!("baseUri `{base}` must not hold a query or fragment"),
            );
            return None;
        }
        Some(t)
    }

    fn client_auth(&mut self, auth: &Authentication, path: &YamlPath) -> Option<ClientAuth> {
        let field = |c: &mut Self, v: &Option<String>, key: &str| c.auth_field(v, path, key);
        Some(match auth {
            Authentication::Bearer(b) => ClientAuth::Bearer(field(self, &b.token, "token")?),
            Authentication::ApiKey(k) => {
                let value = field(self, &k.value, "value")?;
                let Some(name) = k.key.clone() else {
                    self.error_key(path, "`key:` (the header or query parameter name) is required for apikey authentication");
                    return None;
                };
                let Some(placement) = k.placement else {
                    self.error_key(
                        path,
                        "`placement:` (`header` or `query`) is required for apikey authentication",
                    );
                    return None;
                };
                ClientAuth::ApiKey {
                    name,
                    value,
                    placement,
                }
            }
            Authentication::Basic(b) => ClientAuth::Basic {
                username: field(self, &b.username, "username")?,
                password: field(self, &b.password, "password")?,
            },
            Authentication::Digest(b) => ClientAuth::Digest {
                username: field(self, &b.username, "username")?,
                password: field(self, &b.password, "password")?,
            },
            Authentication::OAuth2(_) => {
                self.unsupported(
                    &path.key("type"),
                    "`oauth2` authentication of a consumed API",
                );
                return None;
            }
        })
    }

    fn fixed_loc(&mut self, p: &ConsumedParam, path: &YamlPath) -> Option<ParamLoc> {
        Some(match p.location {
            ParamIn::Query => ParamLoc::Query,
            ParamIn::Header => ParamLoc::Header,
            ParamIn::Cookie => ParamLoc::Cookie,
            ParamIn::Path | ParamIn::Body | ParamIn::Environment => {
                self.error_value(
                    &path.key("in"),
                    "a parameter with a fixed `value:` must be `in: query`, `header` or `cookie`",
                );
                return None;
            }
        })
    }

    /// How the operation's answer is read (`outputRawFormat`, `outputSchema`).
    fn format(&mut self, op: &ConsumedOperation, opath: &YamlPath) -> Option<Format> {
        let label = op
            .output_raw_format
            .as_deref()
            .unwrap_or("json")
            .trim()
            .to_ascii_lowercase();
        if !FORMATS.contains(&label.as_str()) {
            let d = self.error_value(
                &opath.key("outputRawFormat"),
                format!("unknown outputRawFormat `{label}`"),
            );
            d.help = Some(format!("one of {}", FORMATS.join(", ")));
            return None;
        }
        let schema = op.output_schema.clone();
        if matches!(label.as_str(), "avro" | "protobuf") {
            let Some(file) = &schema else {
                // The engine loads such a spec and fails each call; so do we, but say so.
                self.warn_key(
                    opath,
                    format!("outputRawFormat `{label}` needs `outputSchema:` (the schema file): every call of this operation will fail"),
                );
                return Some(Format { label, schema });
            };
            let resolved = crate::spec::load::resolve_path(&self.spec(opath).dir(), file);
            if !resolved.is_file() {
                self.error_value(
                    &opath.key("outputSchema"),
                    format!(
                        "schema file `{file}` not found (looked for `{}`)",
                        resolved.display()
                    ),
                )
                .help = Some("paths are relative to the folder of the spec".into());
                return None;
            }
        }
        Some(Format { label, schema })
    }

    fn operation(
        &mut self,
        shared: &[(String, ConsumedParam, YamlPath)],
        res: &ConsumedResource,
        rpath: &YamlPath,
        op_name: &str,
        op: &ConsumedOperation,
        opath: &YamlPath,
    ) -> Option<Operation> {
        let mut ok = true;
        let format = self.format(op, opath);
        ok &= format.is_some();
        if (op.max_binary_size.is_some() || op.output_media_type.is_some())
            && format.as_ref().is_some_and(|f| f.label != "binary")
        {
            self.warn_key(
                opath,
                "`outputMediaType` and `maxBinarySize` apply to `outputRawFormat: binary` only",
            );
        }
        // Consumed `outputParameters`: fields a step keeps of the answer.
        let mut projection = Vec::new();
        for o in op.output_parameters.iter() {
            let ppath = opath.key("outputParameters").seg(&o.seg);
            let Some(out) = self.item(&ppath, &o.item) else {
                ok = false;
                continue;
            };
            let Some(text) = out.value.as_ref().or(out.mapping.as_ref()) else {
                self.error_key(
                    &ppath,
                    "a consumed output parameter needs `value:` (a JSONPath such as `$.id`)",
                );
                ok = false;
                continue;
            };
            let key = if out.value.is_some() {
                "value"
            } else {
                "mapping"
            };
            match expr::parse_json_path(text) {
                Ok(segs) => {
                    if let Some(name) = &o.name {
                        projection.push(Projection {
                            name: name.clone(),
                            path: segs,
                        });
                    }
                }
                Err(e) => {
                    self.error_value(&ppath.key(key), e);
                    ok = false;
                }
            }
        }

        // Declared parameters: consumes-level, then the resource's, then the operation's
        // (the same name overrides).
        let mut declared: Vec<(String, ConsumedParam, YamlPath)> = shared.to_vec();
        let lists = [
            (&res.input_parameters, rpath.key("inputParameters")),
            (&op.input_parameters, opath.key("inputParameters")),
        ];
        for (list, lpath) in lists {
            for p in list.iter() {
                let ppath = lpath.seg(&p.seg);
                let (Some(name), Some(item)) = (
                    self.name_of(&ppath, &p.name, "a parameter"),
                    self.item(&ppath, &p.item),
                ) else {
                    ok = false;
                    continue;
                };
                declared.retain(|(d, _, _)| d != &name);
                declared.push((name, item.clone(), ppath));
            }
        }
        // `in: environment` parameters name variables that templates may use.
        let mut env_alias: HashMap<String, String> = HashMap::new();
        let mut params: Vec<OpParam> = Vec::new();
        let mut deferred_fixed: Vec<(String, ConsumedParam, YamlPath)> = Vec::new();
        for (name, p, ppath) in &declared {
            if p.location == ParamIn::Environment {
                let var = p.value.clone().unwrap_or_else(|| name.clone());
                if self.resolve_var(&var).is_err() {
                    self.error_key(
                        ppath,
                        format!("environment parameter `{name}` reads `{var}`, which is not declared in `binds`"),
                    );
                    ok = false;
                }
                env_alias.insert(name.clone(), var);
                continue;
            }
            if p.value.is_some() {
                deferred_fixed.push((name.clone(), p.clone(), ppath.clone()));
                continue;
            }
            params.push(OpParam {
                name: name.clone(),
                field: snake_ident(name),
                location: match p.location {
                    ParamIn::Path => ParamLoc::Path,
                    ParamIn::Query => ParamLoc::Query,
                    ParamIn::Header => ParamLoc::Header,
                    ParamIn::Cookie => ParamLoc::Cookie,
                    ParamIn::Body | ParamIn::Environment => ParamLoc::Body,
                },
                ty: p.ty,
                // Path parameters are always required; others only when the spec says so.
                required: p.location == ParamIn::Path || p.required.unwrap_or(false),
                description: p.description.clone(),
            });
        }

        // Resolves `{{name}}` in this operation: a binds variable, else an input by name.
        let resolve = |c: &Self, n: &str| -> Result<Resolved, String> {
            if let Some(v) = env_alias.get(n) {
                return c.resolve_var(v);
            }
            match c.resolve_var(n) {
                Ok(r) => Ok(r),
                Err(e) if n.contains('.') => Err(e),
                Err(_) => Ok(Resolved::Input(n.to_owned())),
            }
        };

        // The path template: the resource path, joined to the base URI with one `/`.
        let mut path = Vec::new();
        let segs = match expr::parse_path(&res.path) {
            Ok(s) => s,
            Err(e) => {
                self.error_value(&rpath.key("path"), e);
                return None;
            }
        };
        if !res.path.starts_with('/') {
            path.push(PathPart::Lit("/".into()));
        }
        let mut path_vars = Vec::new();
        for seg in segs {
            match seg {
                PathSeg::Lit(l) => {
                    if l.contains(['?', '#']) {
                        self.error_value(
                            &rpath.key("path"),
                            "a resource path must not hold `?` or `#`: declare query parameters in `inputParameters`",
                        );
                        ok = false;
                    }
                    path.push(PathPart::Lit(l.to_owned()));
                }
                PathSeg::Var(name) => match resolve(self, name) {
                    Ok(Resolved::Env(v)) => path.push(PathPart::Env(v)),
                    Ok(Resolved::Input(n)) => {
                        let idx = match params.iter().position(|p| p.name == n) {
                            Some(i) if params[i].location == ParamLoc::Path => i,
                            Some(i) => {
                                let msg = format!(
                                    "`{n}` is used in the path but declared `in: {}`",
                                    loc_name(params[i].location)
                                );
                                self.error_value(&rpath.key("path"), msg);
                                ok = false;
                                i
                            }
                            None => {
                                params.push(OpParam {
                                    description: Some(format!(
                                        "`{n}` in the path of `{} {}`.",
                                        op.method.as_str(),
                                        res.path
                                    )),
                                    name: n.clone(),
                                    field: snake_ident(&n),
                                    location: ParamLoc::Path,
                                    ty: Some(ParamType::String),
                                    required: true,
                                });
                                params.len() - 1
                            }
                        };
                        if path_vars.contains(&idx) {
                            self.error_value(
                                &rpath.key("path"),
                                format!("`{n}` appears twice in the path"),
                            );
                            ok = false;
                        }
                        path_vars.push(idx);
                        path.push(PathPart::Param(idx));
                    }
                    Ok(Resolved::Step(_)) => {
                        self.error_value(
                            &rpath.key("path"),
                            "a consumed path cannot read step outputs",
                        );
                        ok = false;
                    }
                    Err(e) => {
                        self.error_value(&rpath.key("path"), e);
                        ok = false;
                    }
                },
            }
        }
        for (i, p) in params.iter().enumerate() {
            if p.location == ParamLoc::Path && !path_vars.contains(&i) {
                let ppath = declared
                    .iter()
                    .find(|(d, _, _)| d == &p.name)
                    .map(|(_, _, pp)| pp.clone())
                    .unwrap_or_else(|| opath.clone());
                let msg = format!(
                    "path parameter `{}` does not appear in the path `{}`",
                    p.name, res.path
                );
                let hint = closest(&p.name, path_vars.iter().map(|&v| params[v].name.as_str()))
                    .map(|c| format!("the path has `{{{c}}}`"));
                let d = self.error_key(&ppath, msg);
                d.help = hint;
                ok = false;
            }
        }

        // Parameters with fixed values; their templates may introduce template-only inputs.
        let mut fixed: Vec<Fixed> = Vec::new();
        let mut template_inputs: Vec<String> = Vec::new();
        let note_inputs = |t: &Template, params: &[OpParam], acc: &mut Vec<String>| {
            for n in t.inputs() {
                if !params.iter().any(|p| p.name == n) && !acc.iter().any(|a| a == n) {
                    acc.push(n.to_owned());
                }
            }
        };
        for (name, p, ppath) in &deferred_fixed {
            let Some(loc) = self.fixed_loc(p, ppath) else {
                ok = false;
                continue;
            };
            let text = p.value.clone().unwrap_or_default();
            match expr::parse_template(&text, |n| resolve(self, n)) {
                Ok(t) => {
                    note_inputs(&t, &params, &mut template_inputs);
                    fixed.push(Fixed {
                        name: name.clone(),
                        location: loc,
                        value: t,
                    });
                }
                Err(e) => {
                    self.error_value(&ppath.key("value"), e);
                    ok = false;
                }
            }
        }

        // The request body.
        let body_params: Vec<usize> = params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.location == ParamLoc::Body)
            .map(|(i, _)| i)
            .collect();
        let mut body = match body_params.as_slice() {
            [] => None,
            [one] if params[*one].name == "body" => Some(Body::Whole(*one)),
            many => Some(Body::Fields(many.to_vec())),
        };
        if let Some(b) = &op.body {
            let bpath = opath.key("body");
            if body.is_some() {
                self.error_key(
                    &bpath,
                    "an operation has either `body:` or `in: body` parameters, not both",
                );
                ok = false;
            }
            let mut tpl = |c: &mut Self, text: &str| -> Option<Template> {
                match expr::parse_template(text, |n| resolve(c, n)) {
                    Ok(t) => {
                        note_inputs(&t, &params, &mut template_inputs);
                        Some(t)
                    }
                    Err(e) => {
                        c.error_value(&bpath, e);
                        None
                    }
                }
            };
            body = match b {
                RequestBody::Raw(s) => {
                    let t = tpl(self, s);
                    let trimmed = s.trim_start();
                    t.map(|template| {
                        if trimmed.starts_with(['{', '[']) {
                            Body::JsonTemplate(template)
                        } else {
                            Body::Text {
                                content_type: "text/plain; charset=utf-8".into(),
                                template,
                            }
                        }
                    })
                }
                RequestBody::Json(j) => match &j.data {
                    serde_yaml::Value::String(s) => tpl(self, s).map(Body::JsonTemplate),
                    data => match serde_json::to_string(data) {
                        Ok(s) => tpl(self, &s).map(Body::JsonTemplate),
                        Err(e) => {
                            self.error_value(
                                &bpath.key("data"),
                                format!("`data` is not JSON: {e}"),
                            );
                            None
                        }
                    },
                },
                RequestBody::Text(t) => {
                    let content_type = match t.kind.as_str() {
                        "xml" => "application/xml",
                        "sparql" => "application/sparql-query",
                        _ => "text/plain; charset=utf-8",
                    };
                    tpl(self, &t.data).map(|template| Body::Text {
                        content_type: content_type.into(),
                        template,
                    })
                }
                RequestBody::Form(f) => match &f.data {
                    FormData::Raw(s) => tpl(self, s).map(|template| Body::Text {
                        content_type: "application/x-www-form-urlencoded".into(),
                        template,
                    }),
                    FormData::Fields(fields) => {
                        let mut out = Vec::new();
                        for (k, v) in fields {
                            out.push((k.clone(), tpl(self, v)?));
                        }
                        Some(Body::Form(out))
                    }
                },
                RequestBody::Multipart(m) => {
                    let mut parts = Vec::new();
                    let mut good = true;
                    for (i, part) in m.data.iter().enumerate() {
                        let ppath = bpath.key("data").index(i);
                        // A line break would end the part's header early.
                        for (key, text) in [
                            ("name", Some(&part.name)),
                            ("filename", part.filename.as_ref()),
                            ("contentType", part.content_type.as_ref()),
                        ] {
                            if text.is_some_and(|t| t.contains(['\r', '\n'])) {
                                self.error_value(
                                    &ppath.key(key),
                                    format!("a multipart `{key}` must fit on one line"),
                                );
                                good = false;
                            }
                        }
                        match tpl(self, &part.value) {
                            Some(value) => parts.push(crate::ir::FormPart {
                                name: part.name.clone(),
                                value,
                                filename: part.filename.clone(),
                                content_type: part.content_type.clone(),
                            }),
                            None => good = false,
                        }
                    }
                    good.then_some(Body::Multipart(parts))
                }
            };
            if body.is_none() {
                ok = false;
            }
        }
        for n in template_inputs {
            params.push(OpParam {
                field: snake_ident(&n),
                name: n,
                location: ParamLoc::Template,
                ty: None,
                required: false,
                description: None,
            });
        }

        // Rust field names must be unique within the operation.
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for p in &params {
            if let Some(other) = fields.insert(&p.field, &p.name) {
                self.error_value(
                    opath,
                    format!(
                        "parameters `{other}` and `{}` of `{op_name}` both become the Rust name `{}`",
                        p.name, p.field
                    ),
                );
                ok = false;
            }
        }

        let method_name = snake_ident(op_name);
        (ok && format.is_some()).then(|| Operation {
            params_struct: format!("{}Params", camel_ident(op_name)),
            method_name,
            name: op_name.to_owned(),
            method: op.method,
            label: op.label().map(str::to_owned),
            description: op.description.clone().or_else(|| res.description.clone()),
            path_text: res.path.clone(),
            path,
            params,
            fixed,
            body,
            format: format.unwrap_or_else(Format::json),
            projection,
        })
    }
}

pub(super) fn loc_name(l: ParamLoc) -> &'static str {
    match l {
        ParamLoc::Path => "path",
        ParamLoc::Query => "query",
        ParamLoc::Header => "header",
        ParamLoc::Cookie => "cookie",
        ParamLoc::Body => "body",
        ParamLoc::Template => "template",
    }
}
