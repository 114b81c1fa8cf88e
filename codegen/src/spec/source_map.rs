//! Where each node of a YAML document sits, by its path (`capability.exposes[0].tools[2].call`).
//!
//! serde gives us typed values but forgets positions; checks that run after parsing (an
//! unknown `call:` target, a duplicate tool) look their node up here to point at it.

use saphyr_parser::{Event, Parser, Span};

use crate::diag::Pos;

/// One step of a path into a YAML document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    /// The value of a mapping key.
    Key(String),
    /// An item of a sequence (from 0).
    Index(usize),
}

/// A path into a YAML document, rendered as `a.b[2].c`. `file` tells which document of a
/// project (0: the spec itself, others: files it imports) the path is in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct YamlPath {
    /// The document it is in (0: the spec itself).
    pub file: usize,
    /// The steps from the document's root.
    pub segs: Vec<Seg>,
}

impl YamlPath {
    /// The root of the spec itself.
    pub fn root() -> Self {
        YamlPath::default()
    }
    /// The root of document number `file` of a project.
    pub fn root_of(file: usize) -> Self {
        YamlPath {
            file,
            segs: Vec::new(),
        }
    }
    /// This path, then the mapping key `k`.
    pub fn key(&self, k: &str) -> Self {
        self.seg(&Seg::Key(k.to_owned()))
    }
    /// This path, then item `i` of a sequence.
    pub fn index(&self, i: usize) -> Self {
        self.seg(&Seg::Index(i))
    }
    /// This path, then one more step.
    pub fn seg(&self, s: &Seg) -> Self {
        let mut p = self.clone();
        p.segs.push(s.clone());
        p
    }
    /// Converts the path that serde_path_to_error tracked.
    pub fn from_serde(path: &serde_path_to_error::Path) -> Self {
        use serde_path_to_error::Segment;
        YamlPath {
            file: 0,
            segs: path
                .iter()
                .filter_map(|s| match s {
                    Segment::Seq { index } => Some(Seg::Index(*index)),
                    Segment::Map { key } => Some(Seg::Key(key.clone())),
                    Segment::Enum { .. } | Segment::Unknown => None,
                })
                .collect(),
        }
    }
    /// `other` (a path relative to this one) appended.
    pub fn join(&self, other: &YamlPath) -> Self {
        let mut p = self.clone();
        p.segs.extend(other.segs.iter().cloned());
        p
    }
}

impl std::fmt::Display for YamlPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut first = true;
        for s in &self.segs {
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

/// One node of the document: where it starts, where its key is, and its children.
#[derive(Debug)]
struct Node {
    key: Option<Pos>,
    value: Pos,
    children: Children,
}

#[derive(Debug)]
enum Children {
    Leaf,
    /// Keys in document order; mappings are small, so a scan beats hashing.
    Map(Vec<(String, usize)>),
    Seq(Vec<usize>),
}

/// Positions of every key and value of a document, as a tree parallel to it.
#[derive(Debug, Default)]
pub struct SourceMap {
    nodes: Vec<Node>,
}

/// A YAML syntax error, located.
#[derive(Debug)]
pub struct SyntaxError {
    /// What the parser reported.
    pub message: String,
    /// Where in the file.
    pub pos: Pos,
}

fn pos(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

/// A collection being read, and for a mapping the key waiting for its value.
struct Frame {
    node: usize,
    pending_key: Option<(String, Pos)>,
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
            let children = match event {
                Event::DocumentStart(_) => {
                    docs += 1;
                    if docs > 1 {
                        return Err(SyntaxError {
                            message: "a spec file holds one YAML document; found a second one"
                                .into(),
                            pos: at,
                        });
                    }
                    continue;
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                    continue;
                }
                Event::Scalar(value, ..) => {
                    if let Some(frame) = stack.last_mut()
                        && frame.pending_key.is_none()
                        && matches!(map.nodes[frame.node].children, Children::Map(_))
                    {
                        frame.pending_key = Some((value.into_owned(), at));
                        continue;
                    }
                    Children::Leaf
                }
                Event::Alias(_) => Children::Leaf,
                Event::MappingStart(..) => Children::Map(Vec::new()),
                Event::SequenceStart(..) => Children::Seq(Vec::new()),
                _ => continue,
            };
            let is_collection = !matches!(children, Children::Leaf);
            let idx = map.nodes.len();
            let key = map.attach(&mut stack, idx);
            map.nodes.push(Node {
                key,
                value: at,
                children,
            });
            if is_collection {
                stack.push(Frame {
                    node: idx,
                    pending_key: None,
                });
            }
        }
        Ok(map)
    }

    /// Links node `idx` (about to be pushed) to the innermost collection; returns its key position.
    fn attach(&mut self, stack: &mut [Frame], idx: usize) -> Option<Pos> {
        let frame = stack.last_mut()?;
        match &mut self.nodes[frame.node].children {
            Children::Map(entries) => {
                // A complex key (a collection used as a key) is not addressable: skip it.
                let (k, kpos) = frame.pending_key.take()?;
                entries.push((k, idx));
                Some(kpos)
            }
            Children::Seq(items) => {
                items.push(idx);
                None
            }
            Children::Leaf => None,
        }
    }

    /// Where the value at `path` starts; for a missing node, the nearest ancestor that exists.
    pub fn value_pos(&self, path: &YamlPath) -> Option<Pos> {
        self.lookup(path).map(|n| n.value)
    }

    /// Where the key of `path` is written (falls back to the value, then to ancestors).
    pub fn key_pos(&self, path: &YamlPath) -> Option<Pos> {
        self.lookup(path).map(|n| n.key.unwrap_or(n.value))
    }

    /// The deepest node along `path` (the node itself when it is written).
    fn lookup(&self, path: &YamlPath) -> Option<&Node> {
        let mut node = self.nodes.first()?;
        for seg in &path.segs {
            let next = match (&node.children, seg) {
                (Children::Map(entries), Seg::Key(k)) => entries
                    .iter()
                    .rev()
                    .find(|(name, _)| name == k)
                    .map(|(_, i)| *i),
                (Children::Seq(items), Seg::Index(i)) => items.get(*i).copied(),
                _ => None,
            };
            match next {
                Some(i) => node = &self.nodes[i],
                None => return Some(node),
            }
        }
        Some(node)
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
