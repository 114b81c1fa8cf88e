//! The two grammars we read, and the places where they differ in form.
//!
//! `naftiko: 1.0.0-alpha2` (the seed's grammar) and `ikanos: 1.0.0-beta5` (the reference
//! engine's current one) describe the same constructs. They differ in three ways, all
//! handled here so that nothing after deserialization knows which grammar a spec used:
//! - named lists (`tools: [{name: x, ...}]`) became maps keyed by name (`tools: {x: {...}}`);
//!   beta5 still accepts the list form, as its engine does ([`NamedList`]);
//! - some keys were renamed (`label` -> `display`, `targetName` -> `target`, `functions` ->
//!   `flows`, an import's `location` -> `from`): each spelling is accepted only in its own
//!   grammar ([`Alpha2Key`], [`Beta5Key`]);
//! - the root key (`naftiko` / `ikanos`) and version.
//!
//! serde gives a `Deserialize` impl no context, so the grammar of the document being read is
//! kept in a thread-local for the duration of [`with`].

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, Error as _};
use serde::{Deserialize, Deserializer};
use serde_yaml::Value;

use super::source_map::Seg;
use super::value::{Lenient, ValueError, from_value};

/// A grammar this generator reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grammar {
    /// `naftiko: 1.0.0-alpha2`, and the seed's dialect of it.
    Alpha2,
    /// `ikanos: 1.0.0-beta5`.
    Beta5,
}

impl Grammar {
    /// Every grammar: its root key, its version, the grammar.
    pub const ALL: [(&'static str, &'static str, Grammar); 2] = [
        ("naftiko", "1.0.0-alpha2", Grammar::Alpha2),
        ("ikanos", "1.0.0-beta5", Grammar::Beta5),
    ];

    /// The root key that carries the version.
    pub fn root_key(self) -> &'static str {
        match self {
            Grammar::Alpha2 => "naftiko",
            Grammar::Beta5 => "ikanos",
        }
    }

    /// The version string.
    pub fn version(self) -> &'static str {
        match self {
            Grammar::Alpha2 => "1.0.0-alpha2",
            Grammar::Beta5 => "1.0.0-beta5",
        }
    }

    /// The versions we read, for messages: "`naftiko: 1.0.0-alpha2` or `ikanos: 1.0.0-beta5`".
    pub fn supported() -> String {
        Self::ALL
            .iter()
            .map(|(k, v, _)| format!("`{k}: {v}`"))
            .collect::<Vec<_>>()
            .join(" or ")
    }
}

impl fmt::Display for Grammar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.root_key(), self.version())
    }
}

thread_local! {
    static CURRENT: Cell<Grammar> = const { Cell::new(Grammar::Alpha2) };
}

/// Runs `f` (a deserialization) with `grammar` as the grammar of the document being read.
pub fn with<R>(grammar: Grammar, f: impl FnOnce() -> R) -> R {
    let before = CURRENT.with(|c| c.replace(grammar));
    let out = f();
    CURRENT.with(|c| c.set(before));
    out
}

/// The grammar of the document being read.
pub fn current() -> Grammar {
    CURRENT.with(Cell::get)
}

/// A key the two grammars spell differently.
pub trait Spelling {
    /// The key in alpha2.
    const ALPHA2: &'static str;
    /// The key in beta5.
    const BETA5: &'static str;
}

macro_rules! spellings {
    ($($name:ident: $a:literal => $b:literal;)*) => {$(
        #[doc = concat!("`", $a, "` (alpha2) / `", $b, "` (beta5).")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name;
        impl Spelling for $name {
            const ALPHA2: &'static str = $a;
            const BETA5: &'static str = $b;
        }
    )*};
}

spellings! {
    Label: "label" => "display";
    TargetName: "targetName" => "target";
    Functions: "functions" => "flows";
    ImportFrom: "location" => "from";
}

/// A value under the alpha2 spelling of a renamed key; an error in a beta5 document.
#[derive(Clone, PartialEq)]
pub struct Alpha2Key<T, S>(pub T, PhantomData<S>);

/// A value under the beta5 spelling of a renamed key; an error in an alpha2 document.
#[derive(Clone, PartialEq)]
pub struct Beta5Key<T, S>(pub T, PhantomData<S>);

impl<T: fmt::Debug, S> fmt::Debug for Alpha2Key<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T: fmt::Debug, S> fmt::Debug for Beta5Key<T, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de, T: Deserialize<'de>, S: Spelling> Deserialize<'de> for Alpha2Key<T, S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if current() == Grammar::Beta5 {
            return Err(D::Error::custom(format!(
                "`{}` is written `{}` in {}",
                S::ALPHA2,
                S::BETA5,
                Grammar::Beta5
            )));
        }
        T::deserialize(d).map(|v| Alpha2Key(v, PhantomData))
    }
}

impl<'de, T: Deserialize<'de>, S: Spelling> Deserialize<'de> for Beta5Key<T, S> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if current() == Grammar::Alpha2 {
            return Err(D::Error::custom(format!(
                "`{}` is written `{}` in {} (`{}` is the spelling of {})",
                S::BETA5,
                S::ALPHA2,
                Grammar::Alpha2,
                S::BETA5,
                Grammar::Beta5
            )));
        }
        T::deserialize(d).map(|v| Beta5Key(v, PhantomData))
    }
}

/// The value of a renamed key, whichever grammar's spelling held it.
pub fn either<'a, T, S>(
    a: &'a Option<Alpha2Key<T, S>>,
    b: &'a Option<Beta5Key<T, S>>,
) -> Option<&'a T> {
    a.as_ref().map(|v| &v.0).or(b.as_ref().map(|v| &v.0))
}

/// One item of a named list: its name, where it sits, and its body (or its error).
#[derive(Debug, Clone)]
pub struct Named<T> {
    /// The name: the `name:` of a list item, or the key of a map entry.
    pub name: Option<String>,
    /// The path step to the item (`[2]` for a list item, `.x` for a map entry).
    pub seg: Seg,
    /// The item, or why it could not be read.
    pub item: Lenient<T>,
}

/// A list of named items: `[{name: x, ...}]` in both grammars, or `{x: {...}}` in beta5.
///
/// The item type has no `name` field: the name is taken out before the item is read, so
/// that a map entry cannot name itself twice.
#[derive(Debug, Clone)]
pub struct NamedList<T>(pub Vec<Named<T>>);

impl<T> Default for NamedList<T> {
    fn default() -> Self {
        NamedList(Vec::new())
    }
}

impl<T> NamedList<T> {
    /// Whether the list has no items.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The number of items.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// The items, in document order.
    pub fn iter(&self) -> std::slice::Iter<'_, Named<T>> {
        self.0.iter()
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for NamedList<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        let mut out = Vec::new();
        match value {
            Value::Null => {}
            Value::Sequence(items) => {
                for (i, item) in items.into_iter().enumerate() {
                    out.push(list_item(i, item));
                }
            }
            Value::Mapping(map) => {
                if current() == Grammar::Alpha2 {
                    return Err(D::Error::custom(format!(
                        "a list of named items is written as a YAML list in {} (a map keyed by name is the form of {})",
                        Grammar::Alpha2,
                        Grammar::Beta5
                    )));
                }
                for (k, v) in map {
                    let Value::String(name) = k else {
                        return Err(D::Error::custom("the keys of a named map must be strings"));
                    };
                    let item = match &v {
                        Value::Mapping(m) if m.contains_key("name") => {
                            Lenient::Err(ValueError::at(
                                "name",
                                format!(
                                    "unknown field `name`: in a map keyed by name the key (`{name}`) is the name"
                                ),
                            ))
                        }
                        _ => lenient(v),
                    };
                    out.push(Named {
                        seg: Seg::Key(name.clone()),
                        name: Some(name),
                        item,
                    });
                }
            }
            _ => {
                return Err(D::Error::custom(
                    "expected a list of named items (or, in ikanos 1.0.0-beta5, a map keyed by name)",
                ));
            }
        }
        Ok(NamedList(out))
    }
}

fn list_item<T: DeserializeOwned>(i: usize, item: Value) -> Named<T> {
    let seg = Seg::Index(i);
    let Value::Mapping(mut map) = item else {
        return Named {
            name: None,
            seg,
            item: lenient(item),
        };
    };
    let name = match map.remove("name") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            let shown = serde_yaml::to_string(&other).unwrap_or_default();
            return Named {
                name: None,
                seg,
                item: Lenient::Err(ValueError::at(
                    "name",
                    format!("`name` must be a string, got `{}`", shown.trim()),
                )),
            };
        }
    };
    Named {
        name,
        seg,
        item: lenient(Value::Mapping(map)),
    }
}

fn lenient<T: DeserializeOwned>(v: Value) -> Lenient<T> {
    match from_value(v) {
        Ok(t) => Lenient::Ok(t),
        Err(e) => Lenient::Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        n: i64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        items: NamedList<Item>,
        label: Option<Alpha2Key<String, Label>>,
        display: Option<Beta5Key<String, Label>>,
    }

    fn read(g: Grammar, text: &str) -> Result<Doc, ValueError> {
        let v: Value = serde_yaml::from_str(text).unwrap();
        with(g, || from_value(v))
    }

    #[test]
    fn both_forms_in_beta5_list_only_in_alpha2() {
        let list = "items:\n- name: a\n  n: 1\n- name: b\n  n: 2\n";
        let map = "items:\n  a: {n: 1}\n  b: {n: 2}\n";
        for (g, text) in [
            (Grammar::Alpha2, list),
            (Grammar::Beta5, list),
            (Grammar::Beta5, map),
        ] {
            let d = read(g, text).unwrap();
            let names: Vec<_> = d.items.iter().map(|i| i.name.clone().unwrap()).collect();
            assert_eq!(names, ["a", "b"]);
            assert!(d.items.iter().all(|i| matches!(i.item, Lenient::Ok(_))));
        }
        let e = read(Grammar::Alpha2, map).unwrap_err();
        assert!(e.message.contains("YAML list"), "{}", e.message);
        assert_eq!(e.path.to_string(), "items");
        let d = read(Grammar::Beta5, "items:\n  a: {name: a, n: 1}\n").unwrap();
        let Lenient::Err(e) = &d.items.0[0].item else {
            panic!()
        };
        assert!(e.message.contains("key (`a`) is the name"));
    }

    #[test]
    fn renamed_keys_belong_to_their_grammar() {
        let d = read(Grammar::Alpha2, "items: []\nlabel: x\n").unwrap();
        assert_eq!(either(&d.label, &d.display).unwrap(), "x");
        let d = read(Grammar::Beta5, "items: []\ndisplay: y\n").unwrap();
        assert_eq!(either(&d.label, &d.display).unwrap(), "y");
        let e = read(Grammar::Beta5, "items: []\nlabel: x\n").unwrap_err();
        assert_eq!(e.path.to_string(), "label");
        assert!(e.message.contains("written `display`"), "{}", e.message);
        let e = read(Grammar::Alpha2, "items: []\ndisplay: x\n").unwrap_err();
        assert!(e.message.contains("written `label`"), "{}", e.message);
    }
}
