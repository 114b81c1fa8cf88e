//! Inputs of exposed routes and tools: where each comes from, its type, and typed access.
//!
//! REST inputs arrive as text (path, query, header, cookie) or JSON (body); MCP arguments as
//! JSON. Both are checked against the generated [`InputSpec`] table into one [`Inputs`] map,
//! which the generated binding code reads with typed getters.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};

use crate::{Error, Seg};

/// The declared type of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A JSON string.
    String,
    /// A whole number (64 bits).
    Integer,
    /// Any JSON number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// A JSON array.
    Array,
    /// A JSON object.
    Object,
    /// Untyped (official-grammar parameters without `type`).
    Any,
}

impl Ty {
    /// The type as error messages name it (`an integer`).
    pub fn name(self) -> &'static str {
        match self {
            Ty::String => "a string",
            Ty::Integer => "an integer",
            Ty::Number => "a number",
            Ty::Boolean => "a boolean",
            Ty::Array => "an array",
            Ty::Object => "an object",
            Ty::Any => "a value",
        }
    }

    /// Whether a JSON value is of this type as it stands (no conversion from text).
    pub fn accepts(self, v: &Value) -> bool {
        match self {
            Ty::String => v.is_string(),
            Ty::Integer => v.is_i64() || v.is_u64(),
            Ty::Number => v.is_number(),
            Ty::Boolean => v.is_boolean(),
            Ty::Array => v.is_array(),
            Ty::Object => v.is_object(),
            Ty::Any => true,
        }
    }
}

/// Where an exposed input is read from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Source {
    /// A route path parameter, by its name in the route.
    Path(&'static str),
    /// A query parameter, by its name.
    Query(&'static str),
    /// A request header, by its name.
    Header(&'static str),
    /// A cookie, by its name.
    Cookie(&'static str),
    /// The whole JSON request body.
    Body,
    /// A value inside the JSON request body.
    BodyPath(&'static [Seg]),
    /// A body input declared without `value`: the body's field of that name; when the body
    /// has none, the whole body if it is of the input's type (the reference engine's rule,
    /// so `{name: payload, in: body}` can take a body sent as is).
    BodyField(&'static str),
    /// An MCP tool argument, or an input handed to a function by its caller.
    Arg(&'static str),
    /// A constant declared in the spec (`value:` of a REST input).
    Const(&'static str),
}

impl Source {
    /// How to name the input in an error message (`query parameter `x``).
    pub fn describe(&self, name: &str) -> String {
        match self {
            Source::Path(n) => format!("path parameter `{n}`"),
            Source::Query(n) => format!("query parameter `{n}`"),
            Source::Header(n) => format!("header `{n}`"),
            Source::Cookie(n) => format!("cookie `{n}`"),
            Source::Body => "request body".into(),
            Source::BodyPath(_) | Source::BodyField(_) => format!("body field `{name}`"),
            Source::Arg(n) => format!("argument `{n}`"),
            Source::Const(_) => format!("constant `{name}`"),
        }
    }
}

/// One input of a route or tool, as declared in (or derived from) the spec.
#[derive(Debug, Clone, Copy)]
pub struct InputSpec {
    /// The name the generated code reads it by (the key in [`Inputs`]).
    pub name: &'static str,
    /// Where its value is read.
    pub source: Source,
    /// The type its value must have (text is converted to it).
    pub ty: Ty,
    /// Whether a request without it is rejected.
    pub required: bool,
    /// Its description in the spec, shown in a tool's input schema.
    pub description: Option<&'static str>,
    /// A regular expression the whole value must match.
    pub pattern: Option<&'static str>,
}

/// Checked inputs, by name.
#[derive(Debug, Default)]
pub struct Inputs {
    values: Vec<(&'static str, Value)>,
}

/// Raw input before checking: text (REST) or JSON.
#[cfg_attr(not(feature = "rest"), allow(dead_code))]
pub(crate) enum Raw {
    Text(String),
    Texts(Vec<String>),
    Json(Value),
}

impl Inputs {
    /// Checks MCP tool arguments against `specs`. Unknown arguments are refused, so a
    /// misspelled optional argument is not silently dropped.
    pub fn from_args(
        specs: &'static [InputSpec],
        args: Option<Map<String, Value>>,
    ) -> Result<Self, Error> {
        let mut args = args.unwrap_or_default();
        let (inputs, mut errors) = Self::gather(specs, |spec| {
            let key = match spec.source {
                Source::Arg(n) => n,
                Source::Const(v) => return Ok(Some(Raw::Text(v.to_owned()))),
                _ => spec.name,
            };
            Ok(args.remove(key).map(Raw::Json))
        })?;
        for k in args.keys() {
            let known: Vec<&str> = specs.iter().map(|s| s.name).collect();
            errors.push(if known.is_empty() {
                format!("unknown argument `{k}`: this tool takes no arguments")
            } else {
                format!("unknown argument `{k}` (expected: {})", known.join(", "))
            });
        }
        Self::finish(inputs, errors)
    }

    /// Checks raw values gathered from a request; `raw(spec)` yields each input, if present.
    #[cfg(feature = "rest")]
    pub(crate) fn collect(
        specs: &'static [InputSpec],
        raw: impl FnMut(&InputSpec) -> Result<Option<Raw>, Error>,
    ) -> Result<Self, Error> {
        let (inputs, errors) = Self::gather(specs, raw)?;
        Self::finish(inputs, errors)
    }

    /// Checks every input `raw` yields; returns the good ones and a message per bad one.
    fn gather(
        specs: &'static [InputSpec],
        mut raw: impl FnMut(&InputSpec) -> Result<Option<Raw>, Error>,
    ) -> Result<(Self, Vec<String>), Error> {
        let mut errors = Vec::new();
        let mut inputs = Inputs::default();
        for spec in specs {
            match raw(spec)? {
                None | Some(Raw::Json(Value::Null)) => {
                    if spec.required {
                        errors.push(format!(
                            "missing required {}",
                            spec.source.describe(spec.name)
                        ));
                    }
                }
                // `?id=` names the parameter but gives it no value: for a required one, that
                // is as missing as leaving it out (it must not reach the upstream empty).
                Some(Raw::Texts(v))
                    if spec.required
                        && matches!(spec.source, Source::Query(_))
                        && v.iter().all(String::is_empty) =>
                {
                    errors.push(format!(
                        "missing required {} (it is empty)",
                        spec.source.describe(spec.name)
                    ));
                }
                Some(r) => match check(spec, r) {
                    Ok(v) => inputs.values.push((spec.name, v)),
                    Err(e) => errors.push(e),
                },
            }
        }
        Ok((inputs, errors))
    }

    /// All the errors in one message, or the inputs.
    fn finish(inputs: Self, errors: Vec<String>) -> Result<Self, Error> {
        if errors.is_empty() {
            Ok(inputs)
        } else {
            Err(Error::invalid(errors.join("; ")))
        }
    }

    /// Inputs handed over as they are (a tool or route calling an aggregate function): the
    /// caller already checked them.
    pub fn from_values(values: Vec<(&'static str, Value)>) -> Self {
        Inputs {
            values: values.into_iter().filter(|(_, v)| !v.is_null()).collect(),
        }
    }

    /// The value of an input (`null` when absent), for handing it over.
    pub fn value(&self, name: &str) -> Value {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or(Value::Null)
    }

    /// A required input, converted to `T`, leaving it in place (an orchestration reads an
    /// input from several steps).
    pub fn get<T: FromInput>(&self, name: &str) -> Result<T, Error> {
        match self.values.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => {
                T::from_input(v.clone()).map_err(|e| Error::invalid(format!("input `{name}`: {e}")))
            }
            None => Err(Error::invalid(format!("missing required input `{name}`"))),
        }
    }

    /// An optional input, converted to `T`, leaving it in place.
    pub fn get_opt<T: FromInput>(&self, name: &str) -> Result<Option<T>, Error> {
        match self.values.iter().find(|(n, _)| *n == name) {
            Some((_, v)) => T::from_input(v.clone())
                .map(Some)
                .map_err(|e| Error::invalid(format!("input `{name}`: {e}"))),
            None => Ok(None),
        }
    }

    fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.values.iter().position(|(n, _)| *n == name)?;
        Some(self.values.swap_remove(i).1)
    }

    /// Takes a required input, converted to `T`.
    pub fn take<T: FromInput>(&mut self, name: &str) -> Result<T, Error> {
        match self.remove(name) {
            Some(v) => T::from_input(v).map_err(|e| Error::invalid(format!("input `{name}`: {e}"))),
            None => Err(Error::invalid(format!("missing required input `{name}`"))),
        }
    }

    /// Takes an optional input, converted to `T`.
    pub fn take_opt<T: FromInput>(&mut self, name: &str) -> Result<Option<T>, Error> {
        match self.remove(name) {
            Some(v) => T::from_input(v)
                .map(Some)
                .map_err(|e| Error::invalid(format!("input `{name}`: {e}"))),
            None => Ok(None),
        }
    }

    /// The text of an input for a template (empty when absent).
    pub fn text(&self, name: &str) -> Result<String, Error> {
        Ok(match self.values.iter().find(|(n, _)| *n == name) {
            Some((_, Value::String(s))) => s.clone(),
            Some((_, Value::Null)) | None => String::new(),
            Some((_, v)) => v.to_string(),
        })
    }
}

/// Converts and checks one raw value against its spec.
pub(crate) fn check(spec: &InputSpec, raw: Raw) -> Result<Value, String> {
    let what = || spec.source.describe(spec.name);
    let value = match (spec.ty, raw) {
        (Ty::Array, Raw::Texts(v)) => Value::Array(v.into_iter().map(Value::String).collect()),
        (Ty::Array, Raw::Text(t)) => Value::Array(vec![Value::String(t)]),
        (_, Raw::Texts(mut v)) if v.len() == 1 => {
            text_value(spec, v.remove(0)).map_err(|e| format!("{} {e}", what()))?
        }
        (_, Raw::Texts(_)) => return Err(format!("{} is given more than once", what())),
        (_, Raw::Text(t)) => text_value(spec, t).map_err(|e| format!("{} {e}", what()))?,
        (ty, Raw::Json(v)) => {
            let ok = match ty {
                Ty::String => v.is_string(),
                Ty::Integer => {
                    v.as_i64().is_some()
                        || v.as_f64()
                            .is_some_and(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                }
                Ty::Number => v.is_number(),
                Ty::Boolean => v.is_boolean(),
                Ty::Array => v.is_array(),
                Ty::Object => v.is_object(),
                Ty::Any => true,
            };
            if !ok {
                return Err(format!(
                    "{} must be {}, got {}",
                    what(),
                    ty.name(),
                    kind(&v)
                ));
            }
            match (ty, &v) {
                (Ty::Integer, Value::Number(n)) if n.as_i64().is_none() => {
                    Value::from(n.as_f64().unwrap_or_default() as i64)
                }
                _ => v,
            }
        }
    };
    if let (Some(pattern), Value::String(s)) = (spec.pattern, &value)
        && !matches_pattern(pattern, s)
    {
        return Err(format!("{} does not match the pattern `{pattern}`", what()));
    }
    Ok(value)
}

fn text_value(spec: &InputSpec, t: String) -> Result<Value, String> {
    Ok(match spec.ty {
        Ty::String | Ty::Any => Value::String(t),
        Ty::Integer => match t.trim().parse::<i64>() {
            Ok(i) => Value::from(i),
            Err(_) => return Err(format!("must be an integer, got `{t}`")),
        },
        Ty::Number => match t.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Value::from(f),
            _ => return Err(format!("must be a number, got `{t}`")),
        },
        Ty::Boolean => match t.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(format!("must be `true` or `false`, got `{t}`")),
        },
        Ty::Array => Value::Array(vec![Value::String(t)]),
        Ty::Object => match serde_json::from_str::<Value>(&t) {
            Ok(v @ Value::Object(_)) => v,
            _ => return Err("must be a JSON object".into()),
        },
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Whether `text` matches `pattern` (anchored); patterns are compiled once and cached.
fn matches_pattern(pattern: &'static str, text: &str) -> bool {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    let re = cache
        .entry(pattern)
        .or_insert_with(|| regex::Regex::new(&format!("^(?:{pattern})$")).ok());
    // A pattern that does not compile was reported at generation time; do not block input.
    re.as_ref().is_none_or(|re| re.is_match(text))
}

/// Conversion of a checked input into the type an operation parameter has.
pub trait FromInput: Sized {
    /// Converts the checked value; `Err` says why it does not fit (the caller names the
    /// input).
    fn from_input(v: Value) -> Result<Self, String>;
}

impl FromInput for String {
    fn from_input(v: Value) -> Result<Self, String> {
        match v {
            Value::String(s) => Ok(s),
            Value::Number(_) | Value::Bool(_) => Ok(v.to_string()),
            other => Err(format!("expected text, got {}", kind(&other))),
        }
    }
}

impl FromInput for i64 {
    fn from_input(v: Value) -> Result<Self, String> {
        match &v {
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| format!("expected an integer, got {n}")),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("expected an integer, got `{s}`")),
            other => Err(format!("expected an integer, got {}", kind(other))),
        }
    }
}

impl FromInput for f64 {
    fn from_input(v: Value) -> Result<Self, String> {
        match &v {
            Value::Number(n) => n
                .as_f64()
                .ok_or_else(|| format!("expected a number, got {n}")),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| format!("expected a number, got `{s}`")),
            other => Err(format!("expected a number, got {}", kind(other))),
        }
    }
}

impl FromInput for bool {
    fn from_input(v: Value) -> Result<Self, String> {
        match &v {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" => Ok(true),
            Value::String(s) if s == "false" => Ok(false),
            other => Err(format!("expected a boolean, got {}", kind(other))),
        }
    }
}

impl FromInput for Vec<String> {
    fn from_input(v: Value) -> Result<Self, String> {
        match v {
            Value::Array(items) => items.into_iter().map(String::from_input).collect(),
            other => Ok(vec![String::from_input(other)?]),
        }
    }
}

impl FromInput for Value {
    fn from_input(v: Value) -> Result<Self, String> {
        Ok(v)
    }
}

/// Converts a JSON value (a constant or rendered template) into a parameter type.
pub fn convert<T: FromInput>(v: Value) -> Result<T, Error> {
    T::from_input(v).map_err(Error::invalid)
}

/// Parses JSON text that the generator wrote (a constant of the spec).
pub fn json(text: &str) -> Result<Value, Error> {
    serde_json::from_str(text).map_err(|e| Error::Config(format!("invalid constant `{text}`: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static SPECS: &[InputSpec] = &[
        InputSpec {
            name: "id",
            source: Source::Arg("id"),
            ty: Ty::String,
            required: true,
            description: None,
            pattern: None,
        },
        InputSpec {
            name: "n",
            source: Source::Arg("n"),
            ty: Ty::Integer,
            required: false,
            description: None,
            pattern: None,
        },
        InputSpec {
            name: "code",
            source: Source::Arg("code"),
            ty: Ty::String,
            required: false,
            description: None,
            pattern: Some("[a-z]+"),
        },
    ];

    #[test]
    fn args_are_checked() {
        let args = json!({"id": "x", "n": 3}).as_object().cloned();
        let mut i = Inputs::from_args(SPECS, args).unwrap();
        assert_eq!(i.take::<String>("id").unwrap(), "x");
        assert_eq!(i.take_opt::<i64>("n").unwrap(), Some(3));
        let e = Inputs::from_args(SPECS, json!({"n": "3"}).as_object().cloned()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("missing required argument `id`"), "{msg}");
        assert!(
            msg.contains("argument `n` must be an integer, got a string"),
            "{msg}"
        );
        let e =
            Inputs::from_args(SPECS, json!({"id": "x", "nn": 1}).as_object().cloned()).unwrap_err();
        assert!(e.to_string().contains("unknown argument `nn`"));
        let e = Inputs::from_args(SPECS, json!({"id": "x", "code": "A1"}).as_object().cloned())
            .unwrap_err();
        assert!(e.to_string().contains("pattern"));
    }

    #[test]
    fn an_empty_required_query_value_is_missing() {
        static QUERY: &[InputSpec] = &[
            InputSpec {
                name: "sub",
                source: Source::Query("sub"),
                ty: Ty::String,
                required: true,
                description: None,
                pattern: None,
            },
            InputSpec {
                name: "code",
                source: Source::Query("code"),
                ty: Ty::String,
                required: false,
                description: None,
                pattern: None,
            },
        ];
        let e = Inputs::collect(QUERY, |s| {
            Ok(Some(Raw::Texts(vec![String::new()])).filter(|_| s.name == "sub"))
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "missing required query parameter `sub` (it is empty)"
        );
        // An optional one keeps its empty value; a given value is taken.
        let mut i = Inputs::collect(QUERY, |s| {
            Ok(Some(Raw::Texts(vec![match s.name {
                "sub" => "s-1".to_owned(),
                _ => String::new(),
            }])))
        })
        .unwrap();
        assert_eq!(i.take::<String>("sub").unwrap(), "s-1");
        assert_eq!(i.take::<String>("code").unwrap(), "");
    }

    #[test]
    fn text_is_typed() {
        let spec = &SPECS[1];
        assert_eq!(check(spec, Raw::Text("12".into())).unwrap(), json!(12));
        let e = check(spec, Raw::Text("abc".into())).unwrap_err();
        assert_eq!(e, "argument `n` must be an integer, got `abc`");
    }
}
