//! Checks `consumes:` and builds the client model.

use std::collections::HashMap;

use super::Checker;
use super::expr::{self, PathSeg, Resolved};
use crate::ir::{
    Body, Client, ClientAuth, Fixed, OpParam, Operation, ParamLoc, PathPart, Template,
};
use crate::names::{camel_ident, closest, snake_ident};
use crate::spec::model::{
    Authentication, ConsumedParam, ConsumedResource, ConsumesEntry, ConsumesHttp, FormData,
    ParamIn, ParamType, RequestBody,
};
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;

impl Checker<'_> {
    pub(super) fn consumes(
        &mut self,
        entries: &[Lenient<ConsumesEntry>],
        path: &YamlPath,
    ) -> Vec<Client> {
        let mut clients: Vec<Client> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let epath = path.index(i);
            match self.item(&epath, entry) {
                Some(ConsumesEntry::Http(http)) => {
                    if clients.iter().any(|c| c.namespace == http.namespace) {
                        self.error_value(
                            &epath.key("namespace"),
                            format!("duplicate consumes namespace `{}`", http.namespace),
                        );
                        continue;
                    }
                    if let Some(c) = self.client(http, &epath) {
                        clients.push(c);
                    }
                }
                Some(ConsumesEntry::Import(_)) => self.unsupported(
                    &epath.key("import"),
                    "importing `consumes` from another file",
                ),
                None => {}
            }
        }
        // Two namespaces that differ only in punctuation would collide as Rust modules.
        let mut modules: HashMap<&str, &str> = HashMap::new();
        for (i, c) in clients.iter().enumerate() {
            if let Some(other) = modules.insert(&c.module, &c.namespace) {
                self.error_value(
                    &path.index(i).key("namespace"),
                    format!(
                        "namespaces `{other}` and `{}` both become the Rust module `{}`",
                        c.namespace, c.module
                    ),
                );
            }
        }
        clients
    }

    fn client(&mut self, http: &ConsumesHttp, path: &YamlPath) -> Option<Client> {
        let base = http.base_uri.trim();
        if !(base.starts_with("http://") || base.starts_with("https://"))
            || base.contains(['{', ' '])
        {
            self.error_value(
                &path.key("baseUri"),
                format!("baseUri `{base}` must be an absolute http:// or https:// URL without placeholders"),
            );
        } else if base.ends_with('/') {
            self.error_value(
                &path.key("baseUri"),
                format!("baseUri `{base}` must not end with `/`"),
            )
            .help = Some("operation paths are appended to it and start with `/`".into());
        }
        let auth = http
            .authentication
            .as_ref()
            .and_then(|a| self.client_auth(a, &path.key("authentication")));
        let mut fixed = Vec::new();
        for (i, p) in http.input_parameters.iter().enumerate() {
            let ppath = path.key("inputParameters").index(i);
            match &p.value {
                Some(v) => {
                    if let Some(t) = self.env_template(v, &ppath.key("value"))
                        && let Some(loc) = self.fixed_loc(p, &ppath)
                    {
                        fixed.push(Fixed {
                            name: p.name.clone(),
                            location: loc,
                            value: t,
                        });
                    }
                }
                None => {
                    self.error_key(
                        &ppath,
                        format!(
                            "a consumes-level parameter needs a `value:` (`{}` has none)",
                            p.name
                        ),
                    );
                }
            }
        }
        let mut ops: Vec<Operation> = Vec::new();
        let mut op_paths: HashMap<String, YamlPath> = HashMap::new();
        // Rust method name -> operation name, to catch two names that become one method.
        let mut methods: HashMap<String, String> = HashMap::new();
        for (r, res) in http.resources.iter().enumerate() {
            let rpath = path.key("resources").index(r);
            let Some(res) = self.item(&rpath, res) else {
                continue;
            };
            if res.operations.is_empty() {
                self.error_key(&rpath, format!("resource `{}` has no operations", res.name));
            }
            for (o, op) in res.operations.iter().enumerate() {
                let opath = rpath.key("operations").index(o);
                let Some(op) = self.item(&opath, op) else {
                    continue;
                };
                if let Some(first) = op_paths.get(&op.name) {
                    let first = first.to_string();
                    self.error_value(
                        &opath.key("name"),
                        format!(
                            "duplicate operation `{}` in namespace `{}` (first defined at `{first}`)",
                            op.name, http.namespace
                        ),
                    );
                    continue;
                }
                op_paths.insert(op.name.clone(), opath.clone());
                let Some(op) = self.operation(res, &rpath, op, &opath) else {
                    self.broken_ops
                        .insert(format!("{}.{}", http.namespace, op.name));
                    continue;
                };
                if let Some(prev) = methods.get(&op.method_name) {
                    let msg = format!(
                        "operations `{prev}` and `{}` both become the Rust method `{}`",
                        op.name, op.method_name
                    );
                    self.error_value(&opath.key("name"), msg);
                    continue;
                }
                methods.insert(op.method_name.clone(), op.name.clone());
                ops.push(op);
            }
        }
        Some(Client {
            namespace: http.namespace.clone(),
            module: snake_ident(&http.namespace),
            label: http.label.clone(),
            description: http.description.clone(),
            base_uri: base.to_owned(),
            auth,
            fixed,
            ops,
        })
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
                ClientAuth::ApiKey {
                    name,
                    value,
                    placement: k.placement.unwrap_or_default(),
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

    fn operation(
        &mut self,
        res: &ConsumedResource,
        rpath: &YamlPath,
        op: &crate::spec::model::ConsumedOperation,
        opath: &YamlPath,
    ) -> Option<Operation> {
        let mut ok = true;
        if let Some(f) = &op.output_raw_format
            && f != "json"
        {
            self.unsupported(
                &opath.key("outputRawFormat"),
                &format!("`outputRawFormat: {f}` (only json)"),
            );
            ok = false;
        }
        if op.output_schema.is_some() {
            self.warn_key(
                &opath.key("outputSchema"),
                "`outputSchema` is not used by naftiko-codegen",
            );
        }
        for (i, out) in op.output_parameters.iter().enumerate() {
            if let Err(e) = expr::parse_json_path(&out.value) {
                self.error_value(&opath.key("outputParameters").index(i).key("value"), e);
                ok = false;
            }
        }

        // Declared parameters: the resource's, then the operation's (same name overrides).
        let mut declared: Vec<(ConsumedParam, YamlPath)> = Vec::new();
        let lists = [
            (&res.input_parameters, rpath.key("inputParameters")),
            (&op.input_parameters, opath.key("inputParameters")),
        ];
        for (list, lpath) in lists {
            for (i, p) in list.iter().enumerate() {
                declared.retain(|(d, _)| d.name != p.name);
                declared.push((p.clone(), lpath.index(i)));
            }
        }
        // `in: environment` parameters name variables that templates may use.
        let mut env_alias: HashMap<String, String> = HashMap::new();
        let mut params: Vec<OpParam> = Vec::new();
        let mut fixed: Vec<Fixed> = Vec::new();
        let mut deferred_fixed: Vec<(ConsumedParam, YamlPath)> = Vec::new();
        for (p, ppath) in &declared {
            if p.location == ParamIn::Environment {
                let var = p.value.clone().unwrap_or_else(|| p.name.clone());
                if self.resolve_var(&var).is_err() {
                    self.error_value(
                        &ppath.key("name"),
                        format!("environment parameter `{}` reads `{var}`, which is not declared in `binds`", p.name),
                    );
                    ok = false;
                }
                env_alias.insert(p.name.clone(), var);
                continue;
            }
            if p.value.is_some() {
                deferred_fixed.push((p.clone(), ppath.clone()));
                continue;
            }
            params.push(OpParam {
                name: p.name.clone(),
                field: snake_ident(&p.name),
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

        // The path template.
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
                    .find(|(d, _)| d.name == p.name)
                    .map(|(_, pp)| pp.clone())
                    .unwrap_or_else(|| opath.clone());
                let msg = format!(
                    "path parameter `{}` does not appear in the path `{}`",
                    p.name, res.path
                );
                let hint = closest(&p.name, path_vars.iter().map(|&v| params[v].name.as_str()))
                    .map(|c| format!("the path has `{{{c}}}`"));
                let d = self.error_value(&ppath.key("name"), msg);
                d.help = hint;
                ok = false;
            }
        }

        // Parameters with fixed values; their templates may introduce template-only inputs.
        let mut template_inputs: Vec<String> = Vec::new();
        let note_inputs = |t: &Template, params: &[OpParam], acc: &mut Vec<String>| {
            for n in t.inputs() {
                if !params.iter().any(|p| p.name == n) && !acc.iter().any(|a| a == n) {
                    acc.push(n.to_owned());
                }
            }
        };
        for (p, ppath) in &deferred_fixed {
            let Some(loc) = self.fixed_loc(p, ppath) else {
                ok = false;
                continue;
            };
            let text = p.value.clone().unwrap_or_default();
            match expr::parse_template(&text, |n| resolve(self, n)) {
                Ok(t) => {
                    note_inputs(&t, &params, &mut template_inputs);
                    fixed.push(Fixed {
                        name: p.name.clone(),
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
                RequestBody::Multipart(_) => {
                    self.unsupported(&bpath, "a `multipartForm` body");
                    None
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
                    &opath.key("name"),
                    format!(
                        "parameters `{other}` and `{}` of `{}` both become the Rust name `{}`",
                        p.name, op.name, p.field
                    ),
                );
                ok = false;
            }
        }

        let method_name = snake_ident(&op.name);
        ok.then(|| Operation {
            params_struct: format!("{}Params", camel_ident(&op.name)),
            method_name,
            name: op.name.clone(),
            method: op.method,
            label: op.label.clone(),
            description: op.description.clone().or_else(|| res.description.clone()),
            path_text: res.path.clone(),
            path,
            params,
            fixed,
            body,
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
