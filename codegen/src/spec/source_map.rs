//! Where each node of a YAML document sits, by its path (`capability.exposes[0].tools[2].call`).
//!
//! serde gives us typed values but forgets positions; checks that run after parsing (an
//! unknown `call:` target, a duplicate tool) look their node up here to point at it.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};

use crate::diag::Pos;

/// One step of a path into a YAML document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into a YAML document, rendered as `a.b[2].c`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct YamlPath(pub Vec<Seg>);

impl YamlPath {
    pub fn root() -> Self {
        YamlPath(Vec::new())
    }
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
    /// Converts the path that serde_path_to_error tracked.
    pub fn from_serde(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment;
        YamlPath(
            path.iter()
                .filter_map(|s| match s {
                    Segment::Seq { index } => Some(Seg::Index(*index)),
                    Segment::Map { key } => Some(Seg::Key(key.clone())),
                    Segment::Enum { .. } | Segment::Unknown => None,
                })
                .collect(),
        )
    }
    pub fn join(&self, other: &YamlPath) -> Self {
        let mut p = self.clone();
        p.0.extend(other.0.iter().cloned());
        p
    }
}

impl std::fmt::Display for YamlPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for s in &self.0 {
            match s {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug)]
struct NodeLoc {
    key: Option<Pos>,
    value: Pos,
}

/// Positions of every key and value of a document.
#[derive(Debug, Default)]
pub struct SourceMap {
    nodes: HashMap<YamlPath, NodeLoc>,
}

/// A YAML syntax error, located.
#[derive(Debug)]
pub struct SyntaxError {
    pub message: String,
    pub pos: Pos,
}

fn pos(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

enum Frame {
    Map {
        path: YamlPath,
        pending_key: Option<(String, Pos)>,
    },
    Seq {
        path: YamlPath,
        next: usize,
    },
}

impl SourceMap {
    /// Parses `text` as YAML and records where each node is. Fails on YAML syntax errors.
    pub fn build(text: &str) -> Result<SourceMap, SyntaxError> {
        let mut map = SourceMap::default();
        let mut stack: Vec<Frame> = Vec::new();
        let mut docs = 0usize;
        for ev in Parser::new_from_str(text) {
            let (event, span) = ev.map_err(|e| SyntaxError {
                message: e.info().to_owned(),
                pos: Pos {
                    line: e.marker().line(),
                    column: e.marker().col() + 1,
                },
            })?;
            let at = pos(&span);
            match event {
                Event::DocumentStart(_) => {
                    docs += 1;
                    if docs > 1 {
                        return Err(SyntaxError {
                            message: "a spec file holds one YAML document; found a second one"
                                .into(),
                            pos: at,
                        });
                    }
                }
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map { pending_key, .. }) = stack.last_mut()
                        && pending_key.is_none()
                    {
                        *pending_key = Some((value.into_owned(), at));
                        continue;
                    }
                    Self::child_path(&mut stack, &mut map, at);
                }
                Event::Alias(_) => {
                    if let Some(Frame::Map { pending_key, .. }) = stack.last_mut()
                        && pending_key.is_none()
                    {
                        *pending_key = Some(("*alias".into(), at));
                        continue;
                    }
                    Self::child_path(&mut stack, &mut map, at);
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let is_map = matches!(event, Event::MappingStart(..));
                    let path = if stack.is_empty() {
                        map.nodes.insert(
                            YamlPath::root(),
                            NodeLoc {
                                key: None,
                                value: at,
                            },
                        );
                        Some(YamlPath::root())
                    } else {
                        Self::child_path(&mut stack, &mut map, at)
                    };
                    // A complex key (a mapping used as a key) has no path of its own.
                    let path = path.unwrap_or_else(|| YamlPath::root().key("?"));
                    stack.push(if is_map {
                        Frame::Map {
                            path,
                            pending_key: None,
                        }
                    } else {
                        Frame::Seq { path, next: 0 }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        Ok(map)
    }

    /// Records the node that starts at `at` as the next child of the innermost collection.
    fn child_path(stack: &mut [Frame], map: &mut SourceMap, at: Pos) -> Option<YamlPath> {
        let frame = stack.last_mut()?;
        let (path, key_pos) = match frame {
            Frame::Map { path, pending_key } => {
                let (k, kpos) = pending_key.take()?;
                (path.key(&k), Some(kpos))
            }
            Frame::Seq { path, next } => {
                let p = path.index(*next);
                *next += 1;
                (p, None)
            }
        };
        map.nodes.insert(
            path.clone(),
            NodeLoc {
                key: key_pos,
                value: at,
            },
        );
        Some(path)
    }

    /// Where the value at `path` starts; for a missing node, the nearest ancestor that exists.
    pub fn value_pos(&self, path: &YamlPath) -> Option<Pos> {
        self.lookup(path).map(|n| n.value)
    }

    /// Where the key of `path` is written (falls back to the value, then to ancestors).
    pub fn key_pos(&self, path: &YamlPath) -> Option<Pos> {
        self.lookup(path).map(|n| n.key.unwrap_or(n.value))
    }

    /// Whether `path` is written in the document.
    pub fn contains(&self, path: &YamlPath) -> bool {
        self.nodes.contains_key(path)
    }

    fn lookup(&self, path: &YamlPath) -> Option<NodeLoc> {
        let mut p = path.0.clone();
        loop {
            if let Some(n) = self.nodes.get(&YamlPath(p.clone())) {
                return Some(*n);
            }
            p.pop()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_of_keys_and_values() {
        let text = "a:\n  b:\n    - x: 1\n      y: [2, 3]\n";
        let map = SourceMap::build(text).unwrap();
        let y = YamlPath::root().key("a").key("b").index(0).key("y");
        assert_eq!(map.key_pos(&y), Some(Pos { line: 4, column: 7 }));
        assert_eq!(
            map.value_pos(&y),
            Some(Pos {
                line: 4,
                column: 10
            })
        );
        assert_eq!(
            map.value_pos(&y.index(1)),
            Some(Pos {
                line: 4,
                column: 14
            })
        );
        // A missing node falls back to its nearest ancestor.
        assert_eq!(
            map.key_pos(&YamlPath::root().key("a").key("b").index(0).key("zzz")),
            Some(Pos { line: 3, column: 7 })
        );
    }

    #[test]
    fn syntax_error_is_located() {
        let err = SourceMap::build("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.pos.line >= 1);
    }

    #[test]
    fn path_display() {
        let p = YamlPath::root().key("with").key("status[]").index(1);
        assert_eq!(p.to_string(), "with.status[][1]");
    }
}
