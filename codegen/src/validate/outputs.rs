//! `outputParameters`: mapped shapes (after a call), mock values (no call) and declared
//! result types (after steps).

use super::Checker;
use super::expr;
use super::inputs::Scope;
use crate::ir::{Mock, OutputType, Schema, Shape};
use crate::spec::grammar::NamedList;
use crate::spec::model::{Items, OutputParam};
use crate::spec::source_map::YamlPath;

impl Checker<'_> {
    /// The shape of a result mapped from a call's answer. No outputs: the answer itself.
    pub(super) fn mapped_shape(
        &mut self,
        outs: &NamedList<OutputParam>,
        path: &YamlPath,
    ) -> Option<Shape> {
        let items: Vec<_> = outs.iter().collect();
        match items.as_slice() {
            [] => Some(Shape::Whole),
            [one] if one.name.is_none() => {
                let p = path.seg(&one.seg);
                let o = self.item(&p, &one.item)?;
                let s = self.shape(o, &p)?;
                Some(match s {
                    Shape::Path { path, .. } if path.is_empty() && o.ty != OutputType::Array => {
                        Shape::Whole
                    }
                    Shape::Object { base, fields } if base.is_empty() && fields.is_empty() => {
                        Shape::Whole
                    }
                    s => s,
                })
            }
            many => {
                // Several outputs build an object of their names (the engine keeps only the
                // first that is not null: a bug we do not copy).
                let mut fields = Vec::new();
                for n in many {
                    let p = path.seg(&n.seg);
                    let Some(name) = &n.name else {
                        self.error_key(&p, "with several output parameters, each needs a `name:`");
                        return None;
                    };
                    let o = self.item(&p, &n.item)?;
                    fields.push((name.clone(), self.shape(o, &p)?));
                }
                Some(Shape::Object {
                    base: Vec::new(),
                    fields,
                })
            }
        }
    }

    fn json_path(&mut self, text: &str, path: &YamlPath) -> Option<Vec<crate::ir::JsonSeg>> {
        match expr::parse_json_path(text) {
            Ok(s) => Some(s),
            Err(e) => {
                self.error_value(path, e);
                None
            }
        }
    }

    fn shape(&mut self, o: &OutputParam, path: &YamlPath) -> Option<Shape> {
        if let Some(c) = &o.constant {
            return match serde_json::to_value(c) {
                Ok(v) => Some(Shape::Const(v)),
                Err(e) => {
                    self.error_value(&path.key("const"), format!("`const` is not JSON: {e}"));
                    None
                }
            };
        }
        // `value: $.x` with no `mapping` is the consumed-side spelling of a mapping.
        let (mapping, key) = match (&o.mapping, &o.value) {
            (Some(m), _) => (Some(m.as_str()), "mapping"),
            (None, Some(v)) if v.trim_start().starts_with('$') => (Some(v.as_str()), "value"),
            (None, Some(v)) if v.contains("{{") => {
                self.unsupported(
                    &path.key("value"),
                    "a templated `value:` beside a `call:` (it is a mock value: remove the call, or use `mapping:`)",
                );
                return None;
            }
            (None, Some(v)) => {
                return self
                    .typed_const(v, o.ty, &path.key("value"))
                    .map(Shape::Const);
            }
            (None, None) => (None, "mapping"),
        };
        let base = match mapping {
            Some(m) => Some(self.json_path(m, &path.key(key))?),
            None => None,
        };
        let max_length = self.max_length(o, path);
        if let Some(values) = &o.values {
            if o.ty != OutputType::Object {
                self.error_key(
                    &path.key("values"),
                    "`values` maps the entries of an object: it needs `type: object`",
                );
                return None;
            }
            let Some(base) = base else {
                self.error_key(
                    path,
                    "`values` needs a `mapping:` to the object whose values it maps",
                );
                return None;
            };
            let value = self.item_shape(values, &path.key("values"))?;
            return Some(Shape::Map {
                base,
                value: Box::new(value),
            });
        }
        match (o.ty, &o.properties, &o.items) {
            (OutputType::Object, Some(props), _) => {
                let mut fields = Vec::new();
                for (k, p) in props {
                    self.property_name(k, p, &path.key("properties").key(k));
                    fields.push((k.clone(), self.shape(p, &path.key("properties").key(k))?));
                }
                Some(Shape::Object {
                    base: base.unwrap_or_default(),
                    fields,
                })
            }
            (OutputType::Array, _, Some(items)) => {
                let Some(base) = base else {
                    self.error_key(path, "an array output needs a `mapping:` to the array");
                    return None;
                };
                let item = match items {
                    Items::One(item) => self.item_shape(item, &path.key("items"))?,
                    // A list of one unnamed shape is that shape (alpha2 writes it so too).
                    Items::Named(list) if list.len() == 1 && list.0[0].name.is_none() => {
                        let p = path.key("items").seg(&list.0[0].seg);
                        let item = self.item(&p, &list.0[0].item)?;
                        self.item_shape(item, &p)?
                    }
                    Items::Named(fields) => {
                        let mut out = Vec::new();
                        for f in fields.iter() {
                            let p = path.key("items").seg(&f.seg);
                            let name = self.name_of(&p, &f.name, "a field of `items`")?;
                            let o = self.item(&p, &f.item)?;
                            let s = match (&o.mapping, &o.value) {
                                (None, None) => Shape::Path {
                                    path: vec![crate::ir::JsonSeg::Key(name.clone())],
                                    ty: Some(o.ty),
                                    max_length: None,
                                },
                                _ => self.shape(o, &p)?,
                            };
                            out.push((name, s));
                        }
                        Shape::Object {
                            base: Vec::new(),
                            fields: out,
                        }
                    }
                };
                Some(Shape::Array {
                    base,
                    item: Box::new(item),
                })
            }
            _ => match base {
                Some(b) => Some(Shape::Path {
                    path: b,
                    ty: Some(o.ty).filter(|t| !matches!(t, OutputType::Object | OutputType::Array)),
                    max_length,
                }),
                None => {
                    self.error_key(path, "an output parameter needs a `mapping:` (a JSONPath such as `$.` or `$.customer`)");
                    None
                }
            },
        }
    }

    /// A property may repeat its key as `name` (alpha2 does); a different name is a mistake.
    fn property_name(&mut self, key: &str, p: &OutputParam, path: &YamlPath) {
        if let Some(n) = &p.name
            && n != key
        {
            self.error_value(
                &path.key("name"),
                format!("property `{key}` is named `{n}`: the key of a property is its name"),
            );
        }
    }

    /// The shape of each element (of an array) or value (of a dictionary): without a
    /// mapping, the element itself, of the declared type.
    fn item_shape(&mut self, o: &OutputParam, path: &YamlPath) -> Option<Shape> {
        let plain = o.mapping.is_none()
            && o.value.is_none()
            && o.constant.is_none()
            && o.properties.is_none()
            && o.items.is_none()
            && o.values.is_none();
        if plain {
            // Copied as it is (the engine's rule): its declared type documents it.
            return Some(Shape::Path {
                path: Vec::new(),
                ty: None,
                max_length: self.max_length(o, path),
            });
        }
        self.shape(o, path)
    }

    fn max_length(&mut self, o: &OutputParam, path: &YamlPath) -> Option<usize> {
        let v = o.max_length.as_ref()?;
        let n = match v {
            serde_yaml::Value::Number(n) => n.as_u64(),
            serde_yaml::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        if n.is_none() {
            self.error_value(&path.key("maxLength"), "`maxLength` must be a whole number");
        }
        n.map(|n| n as usize)
    }

    /// A constant `value:` written as text, as a JSON value of the declared type.
    fn typed_const(
        &mut self,
        text: &str,
        ty: OutputType,
        path: &YamlPath,
    ) -> Option<serde_json::Value> {
        match typed(text, ty) {
            Ok(v) => Some(v),
            Err(e) => {
                self.error_value(path, e);
                None
            }
        }
    }

    /// Whether the outputs declare values to return without a call (a mock).
    pub(super) fn has_values(outs: &NamedList<OutputParam>) -> bool {
        fn any(o: &OutputParam) -> bool {
            o.value.is_some()
                || o.properties.as_ref().is_some_and(|p| p.values().any(any))
                || match &o.items {
                    Some(Items::One(i)) => any(i),
                    Some(Items::Named(l)) => l
                        .iter()
                        .any(|n| matches!(&n.item, crate::spec::value::Lenient::Ok(o) if any(o))),
                    None => false,
                }
        }
        outs.iter()
            .any(|n| matches!(&n.item, crate::spec::value::Lenient::Ok(o) if any(o)))
    }

    /// A mock result: each output's `value` is a template over the inputs, typed as declared.
    pub(super) fn mock(
        &mut self,
        scope: &mut Scope,
        outs: &NamedList<OutputParam>,
        path: &YamlPath,
    ) -> Option<Mock> {
        let mut fields = Vec::new();
        let mut ok = true;
        for n in outs.iter() {
            let p = path.seg(&n.seg);
            let Some(o) = self.item(&p, &n.item) else {
                ok = false;
                continue;
            };
            match self.mock_value(scope, o, &p) {
                Some(m) => {
                    let name = n.name.clone().unwrap_or_else(|| "value".into());
                    fields.retain(|(k, _): &(String, Mock)| k != &name);
                    fields.push((name, m));
                }
                None => ok = false,
            }
        }
        ok.then_some(Mock::Object(fields))
    }

    fn mock_value(&mut self, scope: &mut Scope, o: &OutputParam, path: &YamlPath) -> Option<Mock> {
        if let Some(v) = &o.value {
            let implicit = std::mem::replace(&mut scope.implicit, false);
            let t = self.scoped_template(scope, v, None, &path.key("value"));
            scope.implicit = implicit;
            let t = t?;
            if let Some(lit) = t.literal() {
                self.typed_const(lit, o.ty, &path.key("value"))?;
            }
            return Some(Mock::Value {
                template: t,
                ty: o.ty,
            });
        }
        match (o.ty, &o.properties, &o.items) {
            (OutputType::Object, Some(props), _) => {
                let mut fields = Vec::new();
                for (k, p) in props {
                    self.property_name(k, p, &path.key("properties").key(k));
                    fields.push((
                        k.clone(),
                        self.mock_value(scope, p, &path.key("properties").key(k))?,
                    ));
                }
                Some(Mock::Object(fields))
            }
            (OutputType::Array, _, Some(Items::One(item))) => Some(Mock::Array(Box::new(
                self.mock_value(scope, item, &path.key("items"))?,
            ))),
            (OutputType::Array, _, Some(Items::Named(fields))) => {
                let mut out = Vec::new();
                for f in fields.iter() {
                    let p = path.key("items").seg(&f.seg);
                    let name = self.name_of(&p, &f.name, "a field of `items`")?;
                    let o = self.item(&p, &f.item)?;
                    out.push((name, self.mock_value(scope, o, &p)?));
                }
                Some(Mock::Array(Box::new(Mock::Object(out))))
            }
            _ => {
                self.error_key(
                    path,
                    "an output of a tool without `call` or `steps` needs a `value:` (the mock result)",
                );
                None
            }
        }
    }

    /// The declared result type of an orchestration's outputs (names and types).
    pub(super) fn declared_schema(
        &mut self,
        outs: &NamedList<OutputParam>,
        path: &YamlPath,
    ) -> Option<Schema> {
        if outs.is_empty() {
            return None;
        }
        let mut fields = Vec::new();
        for n in outs.iter() {
            let p = path.seg(&n.seg);
            let o = self.item(&p, &n.item)?;
            let name = n.name.clone().unwrap_or_else(|| "value".into());
            fields.push((name, self.schema_of_param(o, &p)?));
        }
        Some(Schema::Object(fields))
    }

    fn schema_of_param(&mut self, o: &OutputParam, path: &YamlPath) -> Option<Schema> {
        Some(match (o.ty, &o.properties, &o.items) {
            (OutputType::Object, Some(props), _) => {
                let mut fields = Vec::new();
                for (k, p) in props {
                    self.property_name(k, p, &path.key("properties").key(k));
                    fields.push((
                        k.clone(),
                        self.schema_of_param(p, &path.key("properties").key(k))?,
                    ));
                }
                Schema::Object(fields)
            }
            (OutputType::Object, None, _) => Schema::Object(Vec::new()),
            (OutputType::Array, _, Some(Items::One(i))) => {
                Schema::Array(Box::new(self.schema_of_param(i, &path.key("items"))?))
            }
            (OutputType::Array, _, Some(Items::Named(fields))) => {
                let mut out = Vec::new();
                for f in fields.iter() {
                    let p = path.key("items").seg(&f.seg);
                    let name = self.name_of(&p, &f.name, "a field of `items`")?;
                    let o = self.item(&p, &f.item)?;
                    out.push((name, self.schema_of_param(o, &p)?));
                }
                Schema::Array(Box::new(Schema::Object(out)))
            }
            (OutputType::Array, _, None) => Schema::Array(Box::new(Schema::Any)),
            (t, _, _) => Schema::Scalar(t),
        })
    }
}

/// The text of a constant as a JSON value of type `ty` (`"3"` as number 3).
pub(super) fn typed(text: &str, ty: OutputType) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let t = text.trim();
    match ty {
        OutputType::String => Ok(Value::String(text.to_owned())),
        OutputType::Integer => t
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("`{text}` is not an integer")),
        OutputType::Number => t
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(|n| {
                // Keep integers integral (`42`, not `42.0`).
                t.parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(Value::Number(n))
            })
            .ok_or_else(|| format!("`{text}` is not a number")),
        OutputType::Boolean => match t {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("`{text}` is not `true` or `false`")),
        },
        OutputType::Object | OutputType::Array => serde_json::from_str(t)
            .ok()
            .filter(|v: &Value| {
                (ty == OutputType::Object) == v.is_object()
                    && (ty == OutputType::Array) == v.is_array()
            })
            .ok_or_else(|| format!("`{text}` is not a JSON {}", ty.as_str())),
    }
}

/// The declared type of a mapped shape, where the spec declares one.
pub(super) fn schema_of(shape: &Shape) -> Option<Schema> {
    Some(match shape {
        Shape::Whole => return None,
        Shape::Path { ty, .. } => ty.map(Schema::Scalar).unwrap_or(Schema::Any),
        Shape::Object { fields, .. } => Schema::Object(
            fields
                .iter()
                .map(|(k, s)| (k.clone(), schema_of(s).unwrap_or(Schema::Any)))
                .collect(),
        ),
        Shape::Array { item, .. } => {
            Schema::Array(Box::new(schema_of(item).unwrap_or(Schema::Any)))
        }
        Shape::Map { value, .. } => Schema::Map(Box::new(schema_of(value).unwrap_or(Schema::Any))),
        Shape::Const(v) => match v {
            serde_json::Value::String(_) => Schema::Scalar(OutputType::String),
            serde_json::Value::Bool(_) => Schema::Scalar(OutputType::Boolean),
            serde_json::Value::Number(_) => Schema::Scalar(OutputType::Number),
            _ => Schema::Any,
        },
    })
}

/// The declared type of a mock result.
pub(super) fn schema_of_mock(mock: &Mock) -> Schema {
    match mock {
        Mock::Object(fields) => Schema::Object(
            fields
                .iter()
                .map(|(k, m)| (k.clone(), schema_of_mock(m)))
                .collect(),
        ),
        Mock::Array(item) => Schema::Array(Box::new(schema_of_mock(item))),
        Mock::Value { ty, .. } => Schema::Scalar(*ty),
    }
}
