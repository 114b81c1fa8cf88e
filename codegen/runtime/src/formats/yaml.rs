//! `yaml`: the first document of the body, typed as YAML (serde_yaml).
//!
//! The tree is built directly from serde_yaml's events by a visitor that counts what it
//! builds, so an alias bomb (a few aliases each replaying a large anchored node) stops at
//! the budget instead of filling memory. Mapping keys keep their text (`1: a` gives the key
//! `"1"`); a key that is a sequence or mapping is an error. Tags are dropped (the tagged
//! value is kept). `.nan` and `.inf` become `"NaN"`, `"Infinity"`, `"-Infinity"`.

use std::fmt;

use serde::de::{self, DeserializeSeed, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::{Budget, Format, FormatError, Limits};

pub(super) fn to_json(text: &str, limits: &Limits) -> Result<Value, FormatError> {
    let Some(document) = serde_yaml::Deserializer::from_str(text).next() else {
        return Ok(Value::Null);
    };
    let mut state = State {
        budget: Budget::new(Format::Yaml, text.len(), limits),
        max_depth: limits.max_depth,
        failure: None,
    };
    let result = Node {
        state: &mut state,
        depth: 0,
    }
    .deserialize(document);
    match (result, state.failure) {
        (_, Some(failure)) => Err(failure),
        (Ok(value), None) => Ok(value),
        (Err(e), None) => Err(syntax(&e)),
    }
}

fn syntax(e: &serde_yaml::Error) -> FormatError {
    let mut message = e.to_string();
    if let Some(at) = message.rfind(" at line ") {
        message.truncate(at);
    }
    let (line, column) = match e.location() {
        Some(location) => (Some(location.line()), Some(location.column())),
        None => (None, None),
    };
    if message.starts_with("recursion limit exceeded") {
        // serde_yaml's own limit, stricter than `Limits::max_depth`.
        return FormatError::TooDeep {
            format: Format::Yaml,
            limit: 128,
            line,
            column,
        };
    }
    FormatError::Syntax {
        format: Format::Yaml,
        line,
        column,
        message,
    }
}

struct State {
    budget: Budget,
    max_depth: usize,
    /// Why the visitor stopped, when it was our limit and not the YAML.
    failure: Option<FormatError>,
}

impl State {
    fn charge<E: de::Error>(&mut self, values: usize, text: usize) -> Result<(), E> {
        let charged = self
            .budget
            .values(values)
            .and_then(|()| self.budget.text(text));
        charged.map_err(|failure| {
            let message = failure.to_string();
            self.failure = Some(failure);
            E::custom(message)
        })
    }
}

/// Builds one value (and what it contains).
struct Node<'s> {
    state: &'s mut State,
    depth: usize,
}

impl Node<'_> {
    fn child(&mut self) -> Node<'_> {
        Node {
            state: self.state,
            depth: self.depth + 1,
        }
    }

    fn enter<E: de::Error>(&mut self) -> Result<(), E> {
        if self.depth >= self.state.max_depth {
            let failure = FormatError::TooDeep {
                format: Format::Yaml,
                limit: self.state.max_depth,
                line: None,
                column: None,
            };
            let message = failure.to_string();
            self.state.failure = Some(failure);
            return Err(E::custom(message));
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.state.charge(1, 0)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.state.charge(1, 0)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.state.charge(1, 0)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => self.visit_f64(v as f64),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        match u64::try_from(v) {
            Ok(v) => self.visit_u64(v),
            Err(_) => self.visit_f64(v as f64),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.state.charge(1, 0)?;
        Ok(match Number::from_f64(v) {
            Some(number) => Value::Number(number),
            None if v.is_nan() => Value::String("NaN".into()),
            None if v > 0.0 => Value::String("Infinity".into()),
            None => Value::String("-Infinity".into()),
        })
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.state.charge(1, v.len())?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        self.state.charge(1, v.len())?;
        Ok(Value::String(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.state.charge(1, 0)?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        self.enter()?;
        self.state.charge(1, 0)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.child())? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        self.enter()?;
        self.state.charge(1, 0)?;
        let mut fields = Map::new();
        while let Some(key) = map.next_key_seed(Key {
            state: &mut *self.state,
        })? {
            let value = map.next_value_seed(self.child())?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        // A value with a local tag (`!thing value`): the tag is dropped.
        let (_tag, variant) = data.variant::<String>()?;
        variant.newtype_variant_seed(self)
    }
}

/// A mapping key, as its text.
struct Key<'s> {
    state: &'s mut State,
}

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        self.state.charge(0, v.len())?;
        Ok(v.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats;
    use serde_json::json;

    fn convert(yaml: &str) -> Value {
        formats::to_json(Format::Yaml, yaml.as_bytes(), None).unwrap()
    }

    #[test]
    fn numbers_stay_numbers() {
        // engine case fmt-xml-yaml-csv-labels-case-insensitive (label `YAML`)
        let format = Format::from_label("YAML").unwrap();
        let tree = formats::to_json(format, b"name: Alice\nage: 42\n", None).unwrap();
        assert_eq!(tree["name"], "Alice");
        assert_eq!(tree["age"], 42);
        assert!(tree["age"].is_u64());
    }

    #[test]
    fn users_document() {
        // engine case fmt-yaml-to-json
        let tree = convert(
            "users:\n  - id: \"1\"\n    name: \"Alice Smith\"\n    email: \"alice@example.com\"\n  - id: \"2\"\n    name: \"Bob Johnson\"\n    email: \"bob@example.com\"\n  - id: \"3\"\n    name: \"Carol White\"\n    email: \"carol@example.com\"\n",
        );
        assert_eq!(tree["users"].as_array().unwrap().len(), 3);
        assert_eq!(tree["users"][0]["id"], "1");
        assert_eq!(tree["users"][0]["name"], "Alice Smith");
        assert_eq!(tree["users"][1]["email"], "bob@example.com");
        assert_eq!(tree["users"][2]["name"], "Carol White");
        assert_eq!(tree["users"][2]["email"], "carol@example.com");
    }

    #[test]
    fn scalars_are_typed_as_yaml() {
        let tree = convert(
            "i: -7\nf: 2.5\nb: true\nn: ~\ne:\ns: '42'\nv: 2.1.0\nh: 0x1F\nyes: yes\ninf: .inf\nnan: .nan\n",
        );
        assert_eq!(
            tree,
            json!({"i": -7, "f": 2.5, "b": true, "n": null, "e": null, "s": "42", "v": "2.1.0",
                   "h": 31, "yes": "yes", "inf": "Infinity", "nan": "NaN"})
        );
    }

    #[test]
    fn keys_keep_their_text_and_order() {
        let tree = convert("z: 1\n1: one\ntrue: t\n~: nothing\na: 2\n");
        let keys: Vec<&String> = tree.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["z", "1", "true", "~", "a"]);
    }

    #[test]
    fn tags_and_aliases() {
        let tree = convert("base: &b {x: 1}\ncopy: *b\ntagged: !custom {y: 2}\nstr: !!str 12\n");
        assert_eq!(
            tree,
            json!({"base": {"x": 1}, "copy": {"x": 1}, "tagged": {"y": 2}, "str": "12"})
        );
    }

    #[test]
    fn only_the_first_document_is_read() {
        assert_eq!(convert("a: 1\n---\nb: 2\n"), json!({"a": 1}));
        assert_eq!(convert(""), Value::Null);
        assert_eq!(convert("- 1\n- [2, 3]\n"), json!([1, [2, 3]]));
    }

    #[test]
    fn complex_keys_are_errors() {
        let err = formats::to_json(Format::Yaml, b"? [a, b]\n: 1\n", None).unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::Syntax {
                    format: Format::Yaml,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn malformed_yaml_reports_line_and_column() {
        let err = formats::to_json(Format::Yaml, b"a: 1\nb: [1, 2\nc: 3\n", None).unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::Syntax {
                    format: Format::Yaml,
                    line: Some(_),
                    column: Some(_),
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().starts_with("invalid yaml body at line "),
            "{err}"
        );
        let err = formats::to_json(Format::Yaml, b"a: 1\n  b: 2\n", None).unwrap_err();
        assert!(
            matches!(err, FormatError::Syntax { line: Some(2), .. }),
            "{err}"
        );
    }

    #[test]
    fn alias_bomb_stops_at_the_budget() {
        // Each level doubles: 2^40 strings if expanded.
        let mut yaml = String::from("a0: &a0 [\"lol\", \"lol\"]\n");
        for i in 1..40 {
            yaml.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}]\n", p = i - 1));
        }
        let err = formats::to_json(Format::Yaml, yaml.as_bytes(), None).unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::TooLarge { .. } | FormatError::Syntax { .. }
            ),
            "{err}"
        );
        // A large anchored string replayed by many short aliases: text budget.
        let big = "x".repeat(1 << 20);
        let yaml = format!("s: &s \"{big}\"\nl: [{}]\n", vec!["*s"; 200].join(", "));
        let err = formats::to_json(Format::Yaml, yaml.as_bytes(), None).unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::TooLarge {
                    what: "bytes of text",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let yaml = "[".repeat(1000) + &"]".repeat(1000);
        let err = formats::to_json(Format::Yaml, yaml.as_bytes(), None).unwrap_err();
        assert!(matches!(err, FormatError::TooDeep { .. }), "{err}");
        let limits = Limits {
            max_depth: 3,
            ..Limits::default()
        };
        let err = formats::to_json_with_limits(Format::Yaml, b"a: {b: {c: {d: 1}}}", None, &limits)
            .unwrap_err();
        assert!(
            matches!(err, FormatError::TooDeep { limit: 3, .. }),
            "{err}"
        );
        assert!(
            formats::to_json_with_limits(Format::Yaml, b"a: {b: {c: 1}}", None, &limits).is_ok()
        );
    }
}
