//! `exposes` of type `rest`: routes, their inputs, and what each does.

use std::collections::HashMap;

use super::Checker;
use super::aggregates::ActionParts;
use super::expr::{self, PathSeg};
use super::inputs::{Scope, Surface};
use crate::ir::{Action, Client, Flow, Forward, Method, OPENAPI_PATH, RestServer, Route, Source};
use crate::names::snake_ident;
use crate::spec::model::{ExposedOperation, ExposedResource, ExposesRest};
use crate::spec::source_map::YamlPath;

/// A route path in axum's syntax, with its parameters.
struct RoutePath {
    axum: String,
    /// The route with its parameters blanked, to catch two spellings of one route.
    shape: String,
    /// (snake_case name, name as written) of each parameter.
    params: Vec<(String, String)>,
    /// The route of a `forward` resource: its `path` variable is the pass-through tail,
    /// which operations need not read.
    forward: bool,
}

impl Checker<'_> {
    pub(super) fn rest(
        &mut self,
        r: &ExposesRest,
        namespace: Option<&str>,
        path: &YamlPath,
        clients: &[Client],
    ) -> Option<RestServer> {
        let namespace = namespace.unwrap_or(&r.namespace).to_owned();
        let auth = self.inbound_auth(&r.authentication, path);
        let address = self.address(&r.address, path);
        let mut routes: Vec<Route> = Vec::new();
        let mut forwards: Vec<Forward> = Vec::new();
        let mut forward_at: HashMap<String, YamlPath> = HashMap::new();
        let mut shapes: HashMap<String, (String, YamlPath)> = HashMap::new();
        let mut seen: HashMap<(String, Method), YamlPath> = HashMap::new();
        let mut handlers: HashMap<String, YamlPath> = HashMap::new();
        if r.resources.is_empty() {
            self.warn_key(
                path,
                format!("REST adapter `{namespace}` has no resources: every request gets 404"),
            );
        }
        for res in r.resources.iter() {
            let rpath = path.key("resources").seg(&res.seg);
            let Some(resource) = self.item(&rpath, &res.item) else {
                continue;
            };
            if resource.operations.is_empty() && resource.forward.is_none() {
                self.error_key(&rpath, "a resource needs `operations:` or `forward:`");
                continue;
            }
            let Some(mut route) = self.route_path(&resource.path, &rpath) else {
                continue;
            };
            // `forward`: the route's `path` variable takes the rest of the path, for the
            // operations of the resource too (as the engine registers it).
            let mut tail_after = None;
            if resource.forward.is_some() {
                match self.forward_tail(&mut route.axum, &mut route.shape, &rpath) {
                    Ok(t) => tail_after = t,
                    Err(()) => continue,
                }
                route.forward = true;
            }
            match shapes.get(&route.shape) {
                Some((other, where_)) if other != &route.axum => {
                    let msg = format!(
                        "route `{}` conflicts with `{other}` (at `{where_}`): the same route must use the same parameter names",
                        route.axum
                    );
                    self.error_value(&rpath.key("path"), msg);
                    continue;
                }
                _ => {
                    shapes.insert(route.shape.clone(), (route.axum.clone(), rpath.clone()));
                }
            }
            for o in resource.operations.iter() {
                let opath = rpath.key("operations").seg(&o.seg);
                let Some(op) = self.item(&opath, &o.item) else {
                    continue;
                };
                if let Some(first) = seen.get(&(route.axum.clone(), op.method)) {
                    let first = first.to_string();
                    self.error_value(
                        &opath.key("method"),
                        format!(
                            "duplicate route `{} {}` (first at `{first}`)",
                            op.method.as_str(),
                            route.axum
                        ),
                    );
                    continue;
                }
                seen.insert((route.axum.clone(), op.method), opath.clone());
                let Some(r) = self.route(
                    &namespace,
                    res.name.as_deref(),
                    resource,
                    &rpath,
                    o.name.clone(),
                    op,
                    &opath,
                    &route,
                    clients,
                ) else {
                    continue;
                };
                let mut r = r;
                if handlers.contains_key(&r.handler) && o.name.is_none() {
                    // A name taken from a function (`ref`) may repeat on another method of
                    // the same resource: the method tells them apart.
                    r.name = format!("{}-{}", r.method.as_str().to_lowercase(), r.name);
                    r.handler = snake_ident(&r.name);
                }
                if let Some(first) = handlers.get(&r.handler) {
                    let first = first.to_string();
                    self.error_key(
                        &opath,
                        format!("duplicate operation name `{}` (first at `{first}`)", r.name),
                    );
                    continue;
                }
                handlers.insert(r.handler.clone(), opath.clone());
                routes.push(r);
            }
            if let Some(f) = &resource.forward {
                let fpath = rpath.key("forward");
                if let Some(first) = forward_at.get(&route.axum) {
                    let first = first.to_string();
                    self.error_key(
                        &fpath,
                        format!(
                            "a second `forward` on route `{}` (first at `{first}`)",
                            route.axum
                        ),
                    );
                    continue;
                }
                let Some(fwd) = self.forward(
                    f,
                    resource,
                    res.name.as_deref(),
                    &rpath,
                    &route.axum,
                    tail_after,
                    clients,
                ) else {
                    continue;
                };
                let mut fwd = fwd;
                if handlers.contains_key(&fwd.handler) {
                    // Another forward to the same API, or an operation of that name.
                    fwd.handler = snake_ident(&format!("{}-{}", fwd.handler, forwards.len()));
                }
                handlers.insert(fwd.handler.clone(), fpath.clone());
                forward_at.insert(route.axum.clone(), fpath);
                forwards.push(fwd);
            }
        }
        // axum takes one variable per place in a path: a one-segment variable where a
        // pass-through tail starts makes the router fail at start-up.
        for f in &forwards {
            let Some(at) = f.path.find("{*") else {
                continue;
            };
            let prefix = &f.path[..at];
            let mut clashes: Vec<(String, YamlPath)> = seen
                .iter()
                .filter(|((p, _), _)| {
                    p != &f.path && p.starts_with(prefix) && p[prefix.len()..].starts_with('{')
                })
                .map(|((p, _), at)| (p.clone(), at.clone()))
                .collect();
            clashes.sort_by_key(|(_, at)| at.to_string());
            for (p, at) in clashes {
                self.error_key(
                    &at,
                    format!(
                        "route `{p}` clashes with the pass-through route `{}`: a variable cannot start where its `path` tail starts",
                        f.path
                    ),
                )
                .help = Some(format!(
                    "give this route a literal segment after `{prefix}`, or move the `forward` elsewhere"
                ));
            }
        }
        let own_openapi = routes
            .iter()
            .any(|r| r.method == Method::Get && r.path == OPENAPI_PATH);
        if let Some(at) = seen.get(&(OPENAPI_PATH.to_owned(), Method::Get))
            && own_openapi
        {
            let at = at.clone();
            self.warn_key(
                &at,
                format!(
                    "`GET {OPENAPI_PATH}` is this spec's own route: the generated OpenAPI document of `{namespace}` is not served there (it stays in `OPENAPI`)"
                ),
            );
        }
        Some(RestServer {
            module: snake_ident(&namespace),
            namespace,
            description: r
                .description
                .clone()
                .or_else(|| r.label().map(str::to_owned)),
            address,
            port: r.port,
            auth,
            routes,
            forwards,
        })
    }

    fn route_path(&mut self, text: &str, rpath: &YamlPath) -> Option<RoutePath> {
        let segs = match expr::parse_path(text) {
            Ok(s) => s,
            Err(e) => {
                self.error_value(&rpath.key("path"), e);
                return None;
            }
        };
        let mut axum = String::new();
        let mut shape = String::new();
        let mut params: Vec<(String, String)> = Vec::new();
        if !text.starts_with('/') {
            axum.push('/');
            shape.push('/');
        }
        let mut bad = false;
        for s in &segs {
            match s {
                PathSeg::Lit(l) => {
                    if l.contains(['?', '#', '*']) {
                        self.error_value(
                            &rpath.key("path"),
                            "a route path must not hold `?`, `#` or `*`",
                        );
                        bad = true;
                    }
                    axum.push_str(l);
                    shape.push_str(l);
                }
                PathSeg::Var(v) => {
                    if !v
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
                    {
                        self.error_value(
                            &rpath.key("path"),
                            format!(
                                "route parameter `{v}` must be made of letters, digits, `-` and `_`"
                            ),
                        );
                        bad = true;
                    }
                    if params.iter().any(|(_, raw)| raw == v) {
                        self.error_value(
                            &rpath.key("path"),
                            format!("`{v}` appears twice in the route"),
                        );
                        bad = true;
                    }
                    axum.push('{');
                    axum.push_str(v);
                    axum.push('}');
                    shape.push_str("{}");
                    params.push((snake_ident(v), (*v).to_owned()));
                }
            }
        }
        if axum.contains("//") {
            self.error_value(
                &rpath.key("path"),
                "a route path must not hold an empty segment (`//`)",
            );
            bad = true;
        }
        (!bad).then_some(RoutePath {
            axum,
            shape,
            params,
            forward: false,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn route(
        &mut self,
        namespace: &str,
        resource_name: Option<&str>,
        resource: &ExposedResource,
        rpath: &YamlPath,
        op_name: Option<String>,
        op: &ExposedOperation,
        opath: &YamlPath,
        route: &RoutePath,
        clients: &[Client],
    ) -> Option<Route> {
        let mut scope = Scope::new(Surface::Rest, namespace);
        scope.route_params = route.params.clone();
        self.rest_inputs(
            &mut scope,
            &[
                (&resource.input_parameters, rpath.key("inputParameters")),
                (&op.input_parameters, opath.key("inputParameters")),
            ],
        );
        if op.reference.is_none()
            && op.call.is_none()
            && op.steps.is_none()
            && !Self::has_values(&op.output_parameters)
        {
            // The engine answers 404 to such an operation: it is not served at all.
            self.warn_key(
                opath,
                format!(
                    "nothing to do: no `call`, `ref`, `steps` or output `value`s, so `{} {}` is not served (404)",
                    op.method.as_str(),
                    route.axum
                ),
            );
            return None;
        }
        let mut name = op_name;
        let mut description = op.description.clone();
        let (action, schema) = match &op.reference {
            Some(reference) => {
                if op.call.is_some() || op.steps.is_some() {
                    self.error_key(opath, "an operation with `ref` takes its call or steps from the function: remove `call`/`steps`");
                    return None;
                }
                let fi = self.resolve_ref(reference, &opath.key("ref"))?;
                let f = &self.functions[fi];
                name = name.or_else(|| Some(f.name.clone()));
                description = description.or_else(|| f.description.clone());
                let schema = f.flow.schema.clone();
                let args = self.function_args(&mut scope, fi, op.with.as_ref(), opath)?;
                (Action::Function { function: fi, args }, schema)
            }
            None => self.action(
                &mut scope,
                ActionParts {
                    call: op.call.as_deref(),
                    with: op.with.as_ref(),
                    steps: op.steps.as_ref(),
                    mappings: op.mappings.as_ref(),
                    outputs: &op.output_parameters,
                },
                opath,
                clients,
            )?,
        };
        // A route parameter that nothing reads is almost always a typo.
        for (_, raw) in &route.params {
            if route.forward && raw == super::forward::TAIL {
                continue;
            }
            if !scope
                .inputs
                .iter()
                .any(|i| i.source == Source::Path(raw.clone()))
            {
                let d = self.error_value(
                    &rpath.key("path"),
                    format!("route parameter `{{{raw}}}` is read by no input and no `with`"),
                );
                d.help = Some(format!(
                    "declare an input `{raw}` with `in: path`, bind it in `with`, or remove it from the path"
                ));
                return None;
            }
        }
        let name = name.unwrap_or_else(|| {
            format!(
                "{}-{}",
                op.method.as_str().to_lowercase(),
                resource_name
                    .map(str::to_owned)
                    .unwrap_or_else(|| route.axum.clone())
            )
        });
        if let Action::Call { call, .. } = &action {
            description =
                description.or_else(|| clients[call.client].ops[call.op].description.clone());
        }
        Some(Route {
            handler: snake_ident(&name),
            name,
            method: op.method,
            path: route.axum.clone(),
            label: op.label().map(str::to_owned),
            description,
            flow: Flow {
                inputs: scope.inputs,
                action,
                schema,
            },
        })
    }
}
