//! Typed deserialization from a parsed YAML value, keeping the path of every error.
//!
//! serde stops at the first error. To report all of them, list items (each tool, each
//! operation, each resource) are deserialized on their own through [`Lenient`], which keeps
//! the error of a broken item instead of failing the whole document.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::source_map::{Seg, YamlPath};

/// A deserialization error with the path of the offending node, relative to where it began.
#[derive(Clone, Debug)]
pub struct ValueError {
    /// Where the error is, relative to where deserializing began.
    pub path: YamlPath,
    /// What is wrong.
    pub message: String,
}

// Errors raised inside a hand-written `Deserialize` can only carry a string; the path of
// the inner error rides in front of the message between these marks and is decoded below.
const MARK: char = '\u{1f}';
const SEP: char = '\u{1e}';

impl ValueError {
    fn from_serde(err: serde_path_to_error::Error<serde_yaml::Error>) -> Self {
        let mut path = YamlPath::from_serde(err.path());
        let mut message = err.inner().to_string();
        // Nested hand-written impls may each have prefixed a path: unwrap them in order.
        while let Some(rest) = message.strip_prefix(MARK) {
            let Some(end) = rest.find(MARK) else { break };
            for seg in rest[..end].split(SEP).filter(|s| !s.is_empty()) {
                if let Some(k) = seg.strip_prefix('k') {
                    path.segs.push(Seg::Key(k.to_owned()));
                } else if let Some(i) = seg.strip_prefix('i').and_then(|i| i.parse().ok()) {
                    path.segs.push(Seg::Index(i));
                }
            }
            message = rest[end + 1..].to_owned();
        }
        // serde reports an unknown key against its map; point at the key itself.
        if let Some(field) = unknown_field(&message)
            && path.segs.last() != Some(&Seg::Key(field.clone()))
        {
            path.segs.push(Seg::Key(field));
        }
        ValueError { path, message }
    }

    /// Folds this error into a serde error whose message carries the path.
    pub fn into_de<E: serde::de::Error>(self) -> E {
        let mut encoded = String::new();
        for s in &self.path.segs {
            match s {
                Seg::Key(k) => encoded.push_str(&format!("k{k}{SEP}")),
                Seg::Index(i) => encoded.push_str(&format!("i{i}{SEP}")),
            }
        }
        E::custom(format!("{MARK}{encoded}{MARK}{}", self.message))
    }

    /// An error at the key `key` of the node being read.
    pub fn at(key: &str, message: impl Into<String>) -> Self {
        ValueError {
            path: YamlPath::root().key(key),
            message: message.into(),
        }
    }
}

fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest[..rest.find('`')?].to_owned())
}

/// Deserializes `T` from a YAML value, with the path of any error.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, ValueError> {
    serde_path_to_error::deserialize(value).map_err(ValueError::from_serde)
}

/// A list item that failed to deserialize keeps its error, so siblings are still checked.
#[derive(Clone, Debug)]
pub enum Lenient<T> {
    /// The item, read.
    Ok(T),
    /// Why it could not be read.
    Err(ValueError),
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Ok(match from_value(value) {
            Ok(v) => Lenient::Ok(v),
            Err(e) => Lenient::Err(e),
        })
    }
}

/// The `type:` of a tagged mapping, if it has a string one.
pub fn tag_of(value: &Value) -> Option<&str> {
    value.get("type").and_then(Value::as_str)
}

/// Deserializes the variant `T` of a tagged enum, keeping inner paths.
pub fn variant<T: DeserializeOwned, E: serde::de::Error>(value: Value) -> Result<T, E> {
    from_value(value).map_err(ValueError::into_de)
}

/// The error for a missing or unknown `type:` of a tagged mapping.
pub fn bad_tag<E: serde::de::Error>(value: &Value, what: &str, expected: &[&str]) -> E {
    let list = expected.join(", ");
    match value.get("type") {
        None => ValueError::at(
            "type",
            format!("missing field `type` ({what}: one of {list})"),
        )
        .into_de(),
        Some(Value::String(s)) => ValueError::at(
            "type",
            format!("unknown {what} type `{s}`, expected one of {list}"),
        )
        .into_de(),
        Some(_) => {
            ValueError::at("type", format!("`type` must be a string, one of {list}")).into_de()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        flag: bool,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Lenient<Inner>>,
    }

    #[test]
    fn lenient_items_keep_their_errors() {
        let v: Value =
            serde_yaml::from_str("items:\n- flag: true\n- flag: yes\n- flog: true\n").unwrap();
        let outer: Outer = from_value(v).unwrap();
        assert!(matches!(outer.items[0], Lenient::Ok(_)));
        let Lenient::Err(e) = &outer.items[1] else {
            panic!()
        };
        assert_eq!(e.path.to_string(), "flag");
        assert!(e.message.contains("invalid type"), "{}", e.message);
        let Lenient::Err(e) = &outer.items[2] else {
            panic!()
        };
        assert_eq!(e.path.to_string(), "flog");
        assert!(e.message.starts_with("unknown field `flog`"));
    }
}
