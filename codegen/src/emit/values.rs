//! Token streams for values: JSONPaths, shapes, schemas, input tables, templates and the
//! expressions that feed an operation parameter.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{
    Expr, Input, JsonSeg, OpParam, OutputType, ParamLoc, ParamType, Part, Schema, Shape, Source,
    StepRef, Template,
};

/// `&[Seg::Key("a"), Seg::Index(0)]`.
pub(crate) fn json_path(segs: &[JsonSeg]) -> TokenStream {
    let s = segs.iter().map(|s| match s {
        JsonSeg::Key(k) => quote!(naftiko_runtime::Seg::Key(#k)),
        JsonSeg::Index(i) => {
            let i = Literal::usize_unsuffixed(*i);
            quote!(naftiko_runtime::Seg::Index(#i))
        }
        JsonSeg::Wildcard => quote!(naftiko_runtime::Seg::All),
    });
    quote!(&[#(#s),*])
}

/// The runtime `Ty` of a declared output type.
pub(crate) fn output_ty(t: Option<OutputType>) -> TokenStream {
    match t {
        Some(OutputType::String) => quote!(naftiko_runtime::Ty::String),
        Some(OutputType::Integer) => quote!(naftiko_runtime::Ty::Integer),
        Some(OutputType::Number) => quote!(naftiko_runtime::Ty::Number),
        Some(OutputType::Boolean) => quote!(naftiko_runtime::Ty::Boolean),
        Some(OutputType::Array) => quote!(naftiko_runtime::Ty::Array),
        Some(OutputType::Object) => quote!(naftiko_runtime::Ty::Object),
        None => quote!(naftiko_runtime::Ty::Any),
    }
}

/// A `naftiko_runtime::Shape` constant expression.
pub(crate) fn shape(s: &Shape) -> TokenStream {
    match s {
        Shape::Whole => quote!(naftiko_runtime::Shape::Whole),
        Shape::Path {
            path,
            ty,
            max_length,
        } => {
            let p = json_path(path);
            let ty = output_ty(*ty);
            let max = match max_length {
                Some(n) => {
                    let n = Literal::usize_unsuffixed(*n);
                    quote!(Some(#n))
                }
                None => quote!(None),
            };
            quote!(naftiko_runtime::Shape::Path { path: #p, ty: #ty, max_length: #max })
        }
        Shape::Object { base, fields } => {
            let base = json_path(base);
            let f = fields.iter().map(|(k, v)| {
                let v = shape(v);
                quote!((#k, #v))
            });
            quote!(naftiko_runtime::Shape::Object { base: #base, fields: &[#(#f),*] })
        }
        Shape::Array { base, item } => {
            let base = json_path(base);
            let item = shape(item);
            quote!(naftiko_runtime::Shape::Array { base: #base, item: &#item })
        }
        Shape::Map { base, value } => {
            let base = json_path(base);
            let value = shape(value);
            quote!(naftiko_runtime::Shape::Map { base: #base, value: &#value })
        }
        Shape::Const(v) => {
            let text = v.to_string();
            quote!(naftiko_runtime::Shape::Const(#text))
        }
    }
}

/// The JSON Schema (2020-12) of a declared result, as MCP's `outputSchema` takes it: an
/// object; another type is wrapped as `{"result": ...}`. Mapped values may be missing, so
/// scalars also allow `null`.
pub(crate) fn output_schema(s: &Schema) -> serde_json::Value {
    use serde_json::json;
    let inner = schema_json(s);
    match s {
        Schema::Object(_) => inner,
        _ => json!({
            "type": "object",
            "properties": {"result": inner},
            "required": ["result"],
        }),
    }
}

/// The JSON Schema (2020-12) of a declared result as the value itself (no wrapping); mapped
/// values may be missing, so scalars, arrays and maps also allow `null`.
pub(crate) fn schema_json(s: &Schema) -> serde_json::Value {
    use serde_json::{Map, Value, json};
    match s {
        Schema::Any => json!({}),
        Schema::Scalar(t) => json!({"type": [t.as_str(), "null"]}),
        Schema::Array(item) => json!({"type": ["array", "null"], "items": schema_json(item)}),
        Schema::Map(value) => {
            json!({"type": ["object", "null"], "additionalProperties": schema_json(value)})
        }
        Schema::Object(fields) => {
            let mut props = Map::new();
            for (k, v) in fields {
                props.insert(k.clone(), schema_json(v));
            }
            let mut o = Map::new();
            o.insert("type".into(), json!("object"));
            o.insert("properties".into(), Value::Object(props));
            Value::Object(o)
        }
    }
}

/// The static input table of a route, tool or function.
pub(crate) fn inputs_table(inputs: &[Input]) -> TokenStream {
    let rows = inputs.iter().map(|i| {
        let name = &i.name;
        let source = match &i.source {
            Source::Path(n) => quote!(naftiko_runtime::Source::Path(#n)),
            Source::Query(n) => quote!(naftiko_runtime::Source::Query(#n)),
            Source::Header(n) => quote!(naftiko_runtime::Source::Header(#n)),
            Source::Cookie(n) => quote!(naftiko_runtime::Source::Cookie(#n)),
            Source::Body => quote!(naftiko_runtime::Source::Body),
            Source::BodyPath(p) => {
                let p = json_path(p);
                quote!(naftiko_runtime::Source::BodyPath(#p))
            }
            Source::BodyField(n) => quote!(naftiko_runtime::Source::BodyField(#n)),
            Source::Arg(n) => quote!(naftiko_runtime::Source::Arg(#n)),
            Source::Const(v) => quote!(naftiko_runtime::Source::Const(#v)),
        };
        let ty = param_ty(i.ty);
        let required = i.required;
        let description = opt_str(i.description.as_deref());
        let pattern = opt_str(i.pattern.as_deref());
        quote! {
            naftiko_runtime::InputSpec {
                name: #name,
                source: #source,
                ty: #ty,
                required: #required,
                description: #description,
                pattern: #pattern,
            }
        }
    });
    quote!(&[#(#rows),*])
}

pub(crate) fn param_ty(t: Option<ParamType>) -> TokenStream {
    match t {
        Some(ParamType::String) => quote!(naftiko_runtime::Ty::String),
        Some(ParamType::Integer) => quote!(naftiko_runtime::Ty::Integer),
        Some(ParamType::Number) => quote!(naftiko_runtime::Ty::Number),
        Some(ParamType::Boolean) => quote!(naftiko_runtime::Ty::Boolean),
        Some(ParamType::Array) => quote!(naftiko_runtime::Ty::Array),
        Some(ParamType::Object) => quote!(naftiko_runtime::Ty::Object),
        None => quote!(naftiko_runtime::Ty::Any),
    }
}

pub(crate) fn opt_str(s: Option<&str>) -> TokenStream {
    match s {
        Some(s) => quote!(Some(#s)),
        None => quote!(None),
    }
}

/// The Rust type of an operation parameter.
pub(crate) fn param_type(p: &OpParam) -> TokenStream {
    let base = match (p.ty, p.location) {
        (Some(ParamType::Integer), _) => quote!(i64),
        (Some(ParamType::Number), _) => quote!(f64),
        (Some(ParamType::Boolean), _) => quote!(bool),
        (Some(ParamType::String), _) => quote!(String),
        (Some(ParamType::Array), ParamLoc::Query | ParamLoc::Header | ParamLoc::Cookie) => {
            quote!(Vec<String>)
        }
        (Some(ParamType::Array | ParamType::Object), _) => {
            quote!(naftiko_runtime::serde_json::Value)
        }
        (None, ParamLoc::Body | ParamLoc::Template) => quote!(naftiko_runtime::serde_json::Value),
        (None, _) => quote!(String),
    };
    if p.required {
        base
    } else {
        quote!(Option<#base>)
    }
}

/// The local variable that holds a step's output.
pub(crate) fn step_var(step: usize, name: &str) -> proc_macro2::Ident {
    let base = crate::names::unraw(&crate::names::snake_ident(name)).to_owned();
    format_ident!("step_{}_{}", step, base)
}

/// `select(&step_var, path)`: a value of an earlier step's output.
pub(crate) fn step_value(s: &StepRef) -> TokenStream {
    let v = step_var(s.step, &s.name);
    let p = json_path(&s.path);
    if s.path.is_empty() {
        quote!(#v.clone())
    } else {
        quote!(naftiko_runtime::select(&#v, #p))
    }
}

/// How the code in a flow reads its inputs: `take` moves a value out (one call reads each
/// input once); `get` clones it (an orchestration may read an input from several steps).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Read {
    Take,
    Get,
}

/// The expression that yields one operation argument.
pub(crate) fn arg_value(p: &OpParam, e: Option<&Expr>, read: Read) -> TokenStream {
    let value = match e {
        None => {
            return if p.required {
                quote!(Default::default())
            } else {
                quote!(None)
            };
        }
        Some(Expr::Input(name)) => {
            return match (read, p.required) {
                (Read::Take, true) => quote!(inputs.take(#name)?),
                (Read::Take, false) => quote!(inputs.take_opt(#name)?),
                (Read::Get, true) => quote!(inputs.get(#name)?),
                (Read::Get, false) => quote!(inputs.get_opt(#name)?),
            };
        }
        Some(e) => {
            let v = expr_value(e);
            quote!(naftiko_runtime::convert(#v)?)
        }
    };
    if p.required {
        value
    } else {
        quote!(Some(#value))
    }
}

/// An expression as a `serde_json::Value`.
pub(crate) fn expr_value(e: &Expr) -> TokenStream {
    match e {
        Expr::Input(name) => quote!(inputs.value(#name)),
        Expr::Const(v) => {
            let text = v.to_string();
            quote!(naftiko_runtime::json(#text)?)
        }
        Expr::Env(var) => {
            quote!(naftiko_runtime::serde_json::Value::String(clients.vars.get(#var)?.to_owned()))
        }
        Expr::Template(t) => {
            let s = text_template(t, TemplateCtx::Exposed);
            quote!(naftiko_runtime::serde_json::Value::String(#s))
        }
        Expr::Step(s) => step_value(s),
    }
}

/// Where a template is rendered: it decides how inputs and variables are read.
#[derive(Clone, Copy)]
pub(crate) enum TemplateCtx<'a> {
    /// In a flow: inputs from `inputs`, variables from `clients.vars`, step outputs.
    Exposed,
    /// In a client method: parameters by name, variables from `self.vars`.
    Client(&'a dyn Fn(&str) -> TokenStream),
    /// At client construction: variables from `vars` (a local), no inputs.
    Construct,
}

/// A block that renders a text template into a `String`.
pub(crate) fn text_template(t: &Template, ctx: TemplateCtx<'_>) -> TokenStream {
    if let Some(lit) = t.literal() {
        return quote!(String::from(#lit));
    }
    let var = |v: &str| -> TokenStream {
        match ctx {
            TemplateCtx::Exposed => quote!(clients.vars.get(#v)?),
            TemplateCtx::Client(_) => quote!(self.vars.get(#v)?),
            TemplateCtx::Construct => quote!(vars.get(#v)?),
        }
    };
    match (t.0.as_slice(), ctx) {
        ([Part::Env(v)], _) => {
            let v = var(v);
            return quote!(#v.to_owned());
        }
        ([Part::Input(n)], TemplateCtx::Exposed) => return quote!(inputs.text(#n)?),
        _ => {}
    }
    let pushes = t.0.iter().map(|part| match part {
        Part::Lit(l) if l.chars().count() == 1 => {
            let c = l.chars().next().unwrap_or_default();
            quote!(s.push(#c);)
        }
        Part::Lit(l) => quote!(s.push_str(#l);),
        Part::Env(v) => {
            let v = var(v);
            quote!(s.push_str(#v);)
        }
        Part::Input(n) => match ctx {
            TemplateCtx::Exposed => quote!(s.push_str(&inputs.text(#n)?);),
            TemplateCtx::Client(by_name) => {
                let v = by_name(n);
                quote!(s.push_str(&#v);)
            }
            TemplateCtx::Construct => quote!(),
        },
        Part::Step(r) => {
            let v = step_value(r);
            quote!(s.push_str(&naftiko_runtime::steps::text(&#v));)
        }
    });
    quote!({
        let mut s = String::new();
        #(#pushes)*
        s
    })
}

/// Every variable of `binds` an expression reads.
pub(crate) fn expr_vars<'e>(e: &'e Expr, out: &mut Vec<&'e str>) {
    match e {
        Expr::Env(v) => out.push(v),
        Expr::Template(t) => out.extend(t.vars()),
        _ => {}
    }
}
