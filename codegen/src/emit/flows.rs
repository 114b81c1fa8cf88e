//! What a tool, route or function does, as straight-line async Rust: one call mapped to its
//! output shape; steps in waves (the calls of a wave run concurrently) and mappings; a mock
//! built from templates; or a call of an aggregate function.

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use super::values::{
    Read, TemplateCtx, arg_value, expr_value, json_path, output_ty, shape, step_value, step_var,
    text_template,
};
use crate::ir::{Action, Call, Capability, Expr, Flow, LookupValue, Mock, ParamType, Step};

/// The generated code of one flow: statics beside it, and its `async fn`.
pub(crate) struct FlowCode {
    pub statics: TokenStream,
    pub function: TokenStream,
}

/// `async fn #name(clients: &super::Clients, inputs: Inputs) -> Result<Reply, Error>`.
/// `prefix` names its statics (`GET_SHIP` gives `GET_SHIP_OUTPUT`); `vis` is its visibility;
/// `namespace` is the adapter or aggregate it belongs to (its steps' spans and metrics).
pub(crate) fn flow(
    cap: &Capability,
    f: &Flow,
    name: &Ident,
    doc: TokenStream,
    prefix: &str,
    vis: TokenStream,
    namespace: &str,
) -> FlowCode {
    let read = read_mode(f);
    let mut statics = TokenStream::new();
    let body = match &f.action {
        Action::Call { call, shape: s } => {
            let out = format_ident!("{}_OUTPUT", prefix);
            let s = shape(s);
            statics = quote!(static #out: naftiko_runtime::Shape = #s;);
            let call = call_expr(cap, call, read);
            quote! {
                let response = #call;
                naftiko_runtime::Reply::mapped(response, &#out)
            }
        }
        Action::Mock(m) => {
            let v = mock_expr(m);
            quote!(Ok(naftiko_runtime::Reply::json(#v)))
        }
        Action::Function { function, args } => {
            let func = &cap.functions[*function];
            let ident = format_ident!("{}", func.ident);
            let reference = format!("{}.{}", func.namespace, func.name);
            let values = args.iter().map(|(n, e)| {
                let v = expr_value(e);
                quote!((#n, #v))
            });
            quote! {
                let inputs = naftiko_runtime::Inputs::from_values(vec![#(#values),*]);
                naftiko_runtime::telemetry::aggregate(
                    #reference,
                    super::aggregates::#ident(clients, inputs),
                )
                .await
            }
        }
        Action::Steps {
            steps,
            waves,
            mappings,
        } => {
            // With declared outputs, the mapped result is checked against them (and their
            // types), so that it matches the tool's `outputSchema`.
            let conform = match &f.schema {
                Some(schema @ crate::ir::Schema::Object(_)) if !mappings.is_empty() => {
                    let out = format_ident!("{}_RESULT", prefix);
                    let s = shape(&shape_of_schema(schema, Vec::new()));
                    statics = quote!(static #out: naftiko_runtime::Shape = #s;);
                    Some(out)
                }
                _ => None,
            };
            steps_body(
                cap,
                &f.inputs,
                steps,
                waves,
                mappings,
                conform.as_ref(),
                Owner {
                    what: name.to_string().trim_start_matches("run_"),
                    namespace,
                },
            )
        }
    };
    let uses = Uses::of(f);
    let clients = if uses.clients {
        quote!(clients)
    } else {
        quote!(_clients)
    };
    let inputs = match (uses.inputs, read) {
        (false, _) => quote!(_inputs),
        (true, Read::Take) => quote!(mut inputs),
        (true, Read::Get) => quote!(inputs),
    };
    let function = quote! {
        #doc
        #vis async fn #name(
            #clients: &super::Clients,
            #inputs: naftiko_runtime::Inputs,
        ) -> Result<naftiko_runtime::Reply, naftiko_runtime::Error> {
            #body
        }
    };
    FlowCode { statics, function }
}

/// What a flow's function reads.
struct Uses {
    clients: bool,
    inputs: bool,
}

impl Uses {
    fn of(f: &Flow) -> Uses {
        let mut names = Vec::new();
        let mut vars = false;
        input_refs(f, &mut names, &mut vars);
        let clients = vars || !matches!(f.action, Action::Mock(_));
        Uses {
            clients,
            inputs: !names.is_empty(),
        }
    }
}

/// Every input a flow reads (once per read), and whether it reads a `binds` variable.
fn input_refs<'f>(f: &'f Flow, names: &mut Vec<&'f str>, vars: &mut bool) {
    let mut expr = |e: &'f Expr, names: &mut Vec<&'f str>| match e {
        Expr::Input(n) => names.push(n),
        Expr::Template(t) => {
            names.extend(t.inputs());
            *vars |= t.vars().next().is_some();
        }
        Expr::Env(_) => *vars = true,
        _ => {}
    };
    match &f.action {
        Action::Call { call, .. } => call.args.iter().flatten().for_each(|e| expr(e, names)),
        Action::Function { args, .. } => args.iter().for_each(|(_, e)| expr(e, names)),
        Action::Steps { steps, .. } => {
            for s in steps {
                match s {
                    Step::Call { call, .. } => {
                        call.args.iter().flatten().for_each(|e| expr(e, names))
                    }
                    Step::Lookup {
                        value: LookupValue::Template(t),
                        ..
                    } => names.extend(t.inputs()),
                    Step::Lookup { .. } => {}
                    Step::Script { script, .. } => {
                        // Its `context` holds every input.
                        names.extend(f.inputs.iter().map(|i| i.name.as_str()));
                        script.with.iter().for_each(|(_, e)| expr(e, names));
                    }
                }
            }
        }
        Action::Mock(m) => mock_refs(m, names, vars),
    }
}

fn mock_refs<'m>(m: &'m Mock, names: &mut Vec<&'m str>, vars: &mut bool) {
    match m {
        Mock::Object(fields) => fields.iter().for_each(|(_, m)| mock_refs(m, names, vars)),
        Mock::Array(item) => mock_refs(item, names, vars),
        Mock::Value { template, .. } => {
            names.extend(template.inputs());
            *vars |= template.vars().next().is_some();
        }
    }
}

/// `Take` when one call reads each input once; `Get` when an input is read more than once.
fn read_mode(f: &Flow) -> Read {
    let mut names = Vec::new();
    let mut vars = false;
    input_refs(f, &mut names, &mut vars);
    let once = names
        .iter()
        .enumerate()
        .all(|(i, n)| !names[..i].contains(n));
    // A template reads an input by reference: it must not have been taken before.
    let templated = match &f.action {
        Action::Call { call, .. } => call
            .args
            .iter()
            .flatten()
            .any(|e| matches!(e, Expr::Template(_))),
        _ => true,
    };
    if once && !templated && matches!(f.action, Action::Call { .. }) {
        Read::Take
    } else {
        Read::Get
    }
}

/// A block that calls the operation and yields its `Response` (`?` on errors).
pub(crate) fn call_expr(cap: &Capability, call: &Call, read: Read) -> TokenStream {
    let client = &cap.clients[call.client];
    let op = &client.ops[call.op];
    let cm = format_ident!("{}", client.module);
    let method = format_ident!("{}", op.method_name);
    let mut lets = Vec::new();
    let mut args = Vec::new();
    for (i, p) in op.path_params() {
        let v = format_ident!("{}", p.field);
        let value = arg_value(p, call.args[i].as_ref(), read);
        let (ty, arg) = match p.ty {
            Some(ParamType::Integer) => (quote!(i64), quote!(#v)),
            Some(ParamType::Number) => (quote!(f64), quote!(#v)),
            Some(ParamType::Boolean) => (quote!(bool), quote!(#v)),
            _ => (quote!(String), quote!(&#v)),
        };
        lets.push(quote! { let #v: #ty = #value; });
        args.push(arg);
    }
    if op.has_params_struct() {
        let st = format_ident!("{}", op.params_struct);
        let fields = op.other_params().map(|(i, p)| {
            let f = format_ident!("{}", p.field);
            let value = arg_value(p, call.args[i].as_ref(), read);
            quote! { #f: #value }
        });
        lets.push(quote! { let params = super::#cm::#st { #(#fields,)* }; });
        args.push(quote!(&params));
    }
    if lets.is_empty() {
        return quote!(clients.#cm.#method(#(#args),*).await?);
    }
    quote!({
        #(#lets)*
        clients.#cm.#method(#(#args),*).await?
    })
}

/// A mock result as a `serde_json::Value` expression.
fn mock_expr(m: &Mock) -> TokenStream {
    match m {
        Mock::Object(fields) => {
            let inserts = fields.iter().map(|(k, v)| {
                let v = mock_expr(v);
                quote!(m.insert(#k.to_owned(), #v);)
            });
            quote!({
                let mut m = naftiko_runtime::serde_json::Map::new();
                #(#inserts)*
                naftiko_runtime::serde_json::Value::Object(m)
            })
        }
        Mock::Array(item) => {
            let v = mock_expr(item);
            quote!(naftiko_runtime::serde_json::Value::Array(vec![#v]))
        }
        Mock::Value { template, ty } => {
            let text = text_template(template, TemplateCtx::Exposed);
            let ty = output_ty(Some(*ty));
            quote!(naftiko_runtime::mock::typed(#text, #ty)?)
        }
    }
}

/// Whose orchestration it is: the flow (for error messages) and its adapter or aggregate
/// namespace (for its steps' spans and metrics).
struct Owner<'a> {
    what: &'a str,
    namespace: &'a str,
}

/// The body of an orchestration: each wave's calls and scripts joined, its lookups, then
/// mappings.
fn steps_body(
    cap: &Capability,
    inputs: &[crate::ir::Input],
    steps: &[Step],
    waves: &[Vec<usize>],
    mappings: &[crate::ir::MappingOut],
    conform: Option<&Ident>,
    owner: Owner,
) -> TokenStream {
    let Owner { what, namespace } = owner;
    // Which step outputs are read (by later steps, by mappings, or as the result).
    let mut read = vec![false; steps.len()];
    for s in steps {
        for d in s.deps() {
            read[d] = true;
        }
    }
    for m in mappings {
        read[m.source.step] = true;
    }
    if mappings.is_empty()
        && let Some(last) = read.last_mut()
    {
        *last = true;
    }
    let mut out = Vec::new();
    for wave in waves {
        let calls: Vec<usize> = wave
            .iter()
            .copied()
            .filter(|&i| matches!(steps[i], Step::Call { .. } | Step::Script { .. }))
            .collect();
        let names: Vec<TokenStream> = calls
            .iter()
            .map(|&i| {
                if read[i] {
                    let v = step_var(i, steps[i].name());
                    quote!(#v)
                } else {
                    quote!(_)
                }
            })
            .collect();
        let values: Vec<TokenStream> = calls
            .iter()
            .map(|&i| match &steps[i] {
                Step::Call { call, .. } => {
                    let client = &cap.clients[call.client];
                    let op = &client.ops[call.op];
                    let fields = op.projection.iter().map(|p| {
                        let n = &p.name;
                        let path = json_path(&p.path);
                        quote!((#n, #path))
                    });
                    let target = format!("{}.{}", client.namespace, op.name);
                    let call = call_expr(cap, call, Read::Get);
                    traced_step(
                        i,
                        quote!(naftiko_runtime::telemetry::Step::Call(#target)),
                        namespace,
                        quote!(naftiko_runtime::steps::output(#call, &[#(#fields),*])),
                    )
                }
                Step::Script { name, script } => {
                    let file = &script.file;
                    // A compiled service runs JavaScript only.
                    let language = script.language.as_deref().unwrap_or("javascript");
                    traced_step(
                        i,
                        quote!(naftiko_runtime::telemetry::Step::Script {
                            file: #file,
                            language: #language,
                        }),
                        namespace,
                        super::script::run(name, script, inputs, steps),
                    )
                }
                Step::Lookup { .. } => unreachable!("calls and scripts only"),
            })
            .collect();
        match calls.len() {
            0 => {}
            1 => {
                let (n, v) = (&names[0], &values[0]);
                out.push(quote!(let #n = #v?;));
            }
            _ => {
                let blocks = values.iter().map(|v| quote!(async { #v }));
                out.push(quote! {
                    let (#(#names),*) = naftiko_runtime::tokio::try_join!(#(#blocks),*)?;
                });
            }
        }
        for &i in wave {
            if let Step::Lookup {
                name,
                index,
                field,
                value,
                keep,
            } = &steps[i]
            {
                let v = step_var(i, name);
                let idx = step_var(*index, steps[*index].name());
                let key = match value {
                    LookupValue::Step(s) => step_value(s),
                    LookupValue::Template(t) => {
                        let t = text_template(t, TemplateCtx::Exposed);
                        quote!(naftiko_runtime::serde_json::Value::String(#t))
                    }
                };
                let bind = if read[i] { quote!(#v) } else { quote!(_) };
                // The key is computed first: reading it may fail (`?`), the lookup cannot.
                let key_var = format_ident!("{}_key", v);
                let lookup = traced_step(
                    i,
                    quote!(naftiko_runtime::telemetry::Step::Lookup(#field)),
                    namespace,
                    quote!(naftiko_runtime::steps::lookup(&#idx, #field, &#key_var, &[#(#keep),*])),
                );
                out.push(quote! {
                    let #key_var = #key;
                    let #bind = #lookup;
                });
            }
        }
    }
    let result = if mappings.is_empty() {
        let last = steps.len() - 1;
        let v = step_var(last, steps[last].name());
        quote!(Ok(naftiko_runtime::Reply::json(#v)))
    } else {
        let puts = mappings.iter().map(|m| {
            let target = &m.target;
            let v = step_value(&m.source);
            quote!(naftiko_runtime::steps::put(&mut out, &[#(#target),*], #v);)
        });
        let value = quote!(naftiko_runtime::serde_json::Value::Object(out));
        let reply = match conform {
            Some(shape) => quote!(naftiko_runtime::Reply::conform(#value, &#shape, #what)),
            None => quote!(Ok(naftiko_runtime::Reply::json(#value))),
        };
        quote! {
            let mut out = naftiko_runtime::serde_json::Map::new();
            #(#puts)*
            #reply
        }
    };
    quote! {
        #(#out)*
        #result
    }
}

/// `value` (an expression) run as step `index`: in its span, its duration recorded.
fn traced_step(
    index: usize,
    step: TokenStream,
    namespace: &str,
    value: TokenStream,
) -> TokenStream {
    let index = proc_macro2::Literal::usize_unsuffixed(index);
    quote!(naftiko_runtime::telemetry::step(#index, #step, #namespace, async { #value }).await)
}

/// The shape that checks a value against a declared result type (`at` is its path).
fn shape_of_schema(schema: &crate::ir::Schema, at: Vec<crate::ir::JsonSeg>) -> crate::ir::Shape {
    use crate::ir::{JsonSeg, OutputType, Schema, Shape};
    match schema {
        Schema::Object(fields) => Shape::Object {
            base: at,
            fields: fields
                .iter()
                .map(|(k, s)| (k.clone(), shape_of_schema(s, vec![JsonSeg::Key(k.clone())])))
                .collect(),
        },
        Schema::Array(item) => Shape::Array {
            base: at,
            item: Box::new(shape_of_schema(item, Vec::new())),
        },
        Schema::Map(value) => Shape::Map {
            base: at,
            value: Box::new(shape_of_schema(value, Vec::new())),
        },
        Schema::Scalar(t) => Shape::Path {
            path: at,
            ty: Some(*t).filter(|t| !matches!(t, OutputType::Object | OutputType::Array)),
            max_length: None,
        },
        Schema::Any => Shape::Path {
            path: at,
            ty: None,
            max_length: None,
        },
    }
}
