//! `html`: `{"tables": [[row, ...], ...]}` from the page's tables (html5ever via scraper).
//!
//! The rules are jsoup's, as the engine applies them (see the module docs of
//! [`formats`](super)): tables chosen by the optional CSS selector, headers from the first
//! `thead` row (else the first row), rows from `tbody` (else every `tr`), header rows and
//! rows without `td` skipped, cell text as jsoup's `Element.text()`.
//!
//! The parser is fed in small chunks through a sink that counts the nodes it creates, the
//! attribute bytes it copies and the depth of each element placed; past a limit the parse
//! stops at the end of the chunk with an error. HTML parsing itself never fails.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use ego_tree::NodeRef;
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName};
use scraper::{Html, HtmlTreeSink, Node, Selector};
use serde_json::{Map, Value};

use super::{Budget, Format, FormatError, Limits, java_trim, table};

/// Bytes of input given to the parser at a time; limits are checked between chunks.
const CHUNK: usize = 1024;

pub(super) fn parse_selector(selector: &str) -> Result<Selector, FormatError> {
    Selector::parse(selector).map_err(|e| FormatError::Selector {
        selector: selector.to_owned(),
        message: e.to_string(),
    })
}

pub(super) fn to_json(
    text: &str,
    selector: Option<&str>,
    limits: &Limits,
) -> Result<Value, FormatError> {
    let selector = selector.map(parse_selector).transpose()?;
    let html = parse(text, limits)?;
    let root = html.tree.root();
    let tables: Vec<NodeRef<'_, Node>> = match &selector {
        None => descendants(root)
            .filter(|node| is(*node, "table"))
            .collect(),
        Some(selector) => {
            let mut tables = Vec::new();
            for matched in html.select(selector) {
                if matched.value().name().eq_ignore_ascii_case("table") {
                    tables.push(*matched);
                } else {
                    tables.extend(
                        descendants(*matched)
                            .skip(1)
                            .filter(|node| is(*node, "table")),
                    );
                }
            }
            tables
        }
    };
    let mut budget = Budget::new(Format::Html, text.len(), limits);
    let mut out = Vec::new();
    for node in tables {
        let (headers, rows) = read_table(node, &mut budget)?;
        let headers = table::headers(headers);
        if headers.is_empty() {
            continue;
        }
        out.push(table::rows(&headers, rows, &mut budget)?);
    }
    let mut result = Map::new();
    result.insert("tables".into(), Value::Array(out));
    Ok(Value::Object(result))
}

/// The header texts and the body rows' cell texts of one table.
#[allow(clippy::type_complexity)]
fn read_table(
    table: NodeRef<'_, Node>,
    budget: &mut Budget,
) -> Result<(Vec<String>, Vec<Vec<String>>), FormatError> {
    // What a node's ancestors up to the table are (the table itself included, as in jsoup).
    #[derive(Clone, Copy, Default)]
    struct Within {
        thead: bool,
        tbody: bool,
        first_row: bool,
        first_thead_row: bool,
    }
    let mut thead_headers = Vec::new();
    let mut first_row_headers = Vec::new();
    let mut tbody_rows = Vec::new();
    let mut all_rows = Vec::new();
    let mut stack = vec![(table, Within::default())];
    while let Some((node, within)) = stack.pop() {
        if node.id() != table.id() {
            if is(node, "th") {
                if within.first_thead_row {
                    thead_headers.push(node);
                }
                if within.first_row {
                    first_row_headers.push(node);
                }
            } else if is(node, "tr") {
                if within.tbody {
                    tbody_rows.push(node);
                }
                all_rows.push(node);
            }
        }
        let first_row = is(node, "tr") && is_first_child(node);
        let inner = Within {
            thead: within.thead || is(node, "thead"),
            tbody: within.tbody || is(node, "tbody"),
            first_row: within.first_row || first_row,
            first_thead_row: within.first_thead_row || (first_row && within.thead),
        };
        let mut child = node.last_child();
        while let Some(c) = child {
            stack.push((c, inner));
            child = c.prev_sibling();
        }
    }
    let header_cells = if thead_headers.is_empty() {
        first_row_headers
    } else {
        thead_headers
    };
    let headers = header_cells
        .into_iter()
        .map(|cell| cell_text(cell, budget))
        .collect::<Result<Vec<_>, _>>()?;
    let row_nodes = if tbody_rows.is_empty() {
        all_rows
    } else {
        tbody_rows
    };
    let mut rows = Vec::new();
    for row in row_nodes {
        // A row holding any `th` is a header row; a row without `td` is not data.
        if descendants(row).skip(1).any(|node| is(node, "th")) {
            continue;
        }
        let cells = descendants(row)
            .skip(1)
            .filter(|node| is(*node, "td"))
            .map(|cell| cell_text(cell, budget))
            .collect::<Result<Vec<_>, _>>()?;
        if !cells.is_empty() {
            rows.push(cells);
        }
    }
    Ok((headers, rows))
}

/// jsoup's `Element.text()`, trimmed: whitespace collapsed to single spaces, a space for
/// `<br>` and around block elements, `<pre>`-like content kept as is, script and style
/// content left out.
fn cell_text(cell: NodeRef<'_, Node>, budget: &mut Budget) -> Result<String, FormatError> {
    let mut out = String::new();
    // Pre-order walk that also visits each element's end, without recursion.
    let mut stack = vec![(cell, false)];
    while let Some((node, closing)) = stack.pop() {
        match node.value() {
            Node::Text(text) => {
                let parent = node.parent();
                if parent.is_some_and(|p| is(p, "script") || is(p, "style")) {
                    continue;
                }
                if parent.is_some_and(preserves_whitespace) {
                    out.push_str(text);
                } else {
                    let strip_leading = out.ends_with(' ');
                    append_normalised(&mut out, text, strip_leading);
                }
            }
            Node::Element(element) if !closing => {
                let name = element.name();
                if !out.is_empty() && (is_block(name) || name == "br") && !out.ends_with(' ') {
                    out.push(' ');
                }
                stack.push((node, true));
                let mut child = node.last_child();
                while let Some(c) = child {
                    stack.push((c, false));
                    child = c.prev_sibling();
                }
            }
            Node::Element(element)
                if node.id() != cell.id()
                    && is_block(element.name())
                    && node.next_sibling().is_some_and(|s| s.value().is_text())
                    && !out.ends_with(' ') =>
            {
                out.push(' ');
            }
            _ => {}
        }
    }
    let text = match java_trim(&out) {
        trimmed if trimmed.len() == out.len() => out,
        trimmed => trimmed.to_owned(),
    };
    budget.text(text.len())?;
    Ok(text)
}

/// jsoup's `StringUtil.appendNormalisedWhitespace`.
fn append_normalised(out: &mut String, text: &str, strip_leading: bool) {
    let mut last_was_white = false;
    let mut reached_non_white = false;
    for c in text.chars() {
        if matches!(c, ' ' | '\t' | '\n' | '\u{c}' | '\r' | '\u{a0}') {
            if (strip_leading && !reached_non_white) || last_was_white {
                continue;
            }
            out.push(' ');
            last_was_white = true;
        } else if !matches!(c, '\u{200b}' | '\u{ad}') {
            out.push(c);
            last_was_white = false;
            reached_non_white = true;
        }
    }
}

/// jsoup keeps whitespace inside these elements (it looks six levels up).
fn preserves_whitespace(element: NodeRef<'_, Node>) -> bool {
    let mut node = Some(element);
    for _ in 0..6 {
        let Some(current) = node else {
            return false;
        };
        if ["pre", "plaintext", "title", "textarea"]
            .iter()
            .any(|name| is(current, name))
        {
            return true;
        }
        node = current.parent();
    }
    false
}

/// jsoup's block tags (a space separates their text from what surrounds them).
fn is_block(name: &str) -> bool {
    const BLOCK: &[&str] = &[
        "html",
        "head",
        "body",
        "frameset",
        "script",
        "noscript",
        "style",
        "meta",
        "link",
        "title",
        "frame",
        "noframes",
        "section",
        "nav",
        "aside",
        "hgroup",
        "header",
        "footer",
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "ul",
        "ol",
        "pre",
        "div",
        "blockquote",
        "hr",
        "address",
        "figure",
        "figcaption",
        "form",
        "fieldset",
        "ins",
        "del",
        "dl",
        "dt",
        "dd",
        "li",
        "table",
        "caption",
        "thead",
        "tfoot",
        "tbody",
        "colgroup",
        "col",
        "tr",
        "th",
        "td",
        "video",
        "audio",
        "canvas",
        "details",
        "menu",
        "plaintext",
        "template",
        "article",
        "main",
        "svg",
        "math",
        "center",
        "dir",
        "applet",
        "marquee",
        "listing",
    ];
    BLOCK.contains(&name)
}

fn is(node: NodeRef<'_, Node>, name: &str) -> bool {
    node.value()
        .as_element()
        .is_some_and(|element| element.name() == name)
}

/// jsoup's `:first-child`: the first element among its siblings, under an element.
fn is_first_child(node: NodeRef<'_, Node>) -> bool {
    let Some(parent) = node.parent() else {
        return false;
    };
    if !parent.value().is_element() {
        return false;
    }
    let mut sibling = node.prev_sibling();
    while let Some(s) = sibling {
        if s.value().is_element() {
            return false;
        }
        sibling = s.prev_sibling();
    }
    true
}

/// The node and everything under it, in document order, without recursion.
fn descendants(root: NodeRef<'_, Node>) -> impl Iterator<Item = NodeRef<'_, Node>> {
    let mut next = Some(root);
    std::iter::from_fn(move || {
        let node = next?;
        next = if let Some(child) = node.first_child() {
            Some(child)
        } else {
            let mut current = node;
            loop {
                if current.id() == root.id() {
                    break None;
                }
                if let Some(sibling) = current.next_sibling() {
                    break Some(sibling);
                }
                match current.parent() {
                    Some(parent) => current = parent,
                    None => break None,
                }
            }
        };
        Some(node)
    })
}

/// What stopped the parse.
#[derive(Clone, Copy, Debug)]
enum Trip {
    Deep,
    Nodes,
    Text,
}

/// Parses the document in chunks, stopping at the first chunk past a limit.
fn parse(text: &str, limits: &Limits) -> Result<Html, FormatError> {
    let trip = Rc::new(Cell::new(None));
    let sink = Guarded {
        inner: HtmlTreeSink::new(Html::new_document()),
        depth: RefCell::new(HashMap::new()),
        nodes: Cell::new(0),
        max_nodes: text
            .len()
            .saturating_mul(limits.values_per_byte)
            .saturating_add(4096),
        copied: Cell::new(0),
        max_copied: text
            .len()
            .saturating_mul(limits.text_per_byte)
            .saturating_add(1 << 20),
        max_depth: limits.max_depth,
        trip: Rc::clone(&trip),
    };
    let stopped = |trip: Trip| match trip {
        Trip::Deep => FormatError::TooDeep {
            format: Format::Html,
            limit: limits.max_depth,
            line: None,
            column: None,
        },
        Trip::Nodes => FormatError::TooLarge {
            format: Format::Html,
            what: "nodes",
            limit: text
                .len()
                .saturating_mul(limits.values_per_byte)
                .saturating_add(4096),
            input: text.len(),
        },
        Trip::Text => FormatError::TooLarge {
            format: Format::Html,
            what: "bytes of attributes",
            limit: text
                .len()
                .saturating_mul(limits.text_per_byte)
                .saturating_add(1 << 20),
            input: text.len(),
        },
    };
    let mut parser = html5ever::parse_document(sink, Default::default());
    let mut rest = text;
    while !rest.is_empty() {
        let mut cut = rest.len().min(CHUNK);
        while !rest.is_char_boundary(cut) {
            cut += 1;
        }
        let (chunk, tail) = rest.split_at(cut);
        parser.process(StrTendril::from_slice(chunk));
        if let Some(reason) = trip.get() {
            return Err(stopped(reason));
        }
        rest = tail;
    }
    let html = parser.finish();
    if let Some(reason) = trip.get() {
        return Err(stopped(reason));
    }
    Ok(html)
}

/// scraper's tree sink, counting what the parser builds.
struct Guarded {
    inner: HtmlTreeSink,
    /// Depth of every element placed in the tree (the document is 0).
    depth: RefCell<HashMap<Handle, usize>>,
    nodes: Cell<usize>,
    max_nodes: usize,
    copied: Cell<usize>,
    max_copied: usize,
    max_depth: usize,
    trip: Rc<Cell<Option<Trip>>>,
}

type Handle = <HtmlTreeSink as TreeSink>::Handle;

impl Guarded {
    fn stop(&self, reason: Trip) {
        if self.trip.get().is_none() {
            self.trip.set(Some(reason));
        }
    }

    fn count_node(&self) {
        let nodes = self.nodes.get() + 1;
        self.nodes.set(nodes);
        if nodes > self.max_nodes {
            self.stop(Trip::Nodes);
        }
    }

    fn count_attributes(&self, attributes: &[Attribute]) {
        let bytes: usize = attributes
            .iter()
            .map(|a| a.value.len() + a.name.local.len())
            .sum();
        let copied = self.copied.get().saturating_add(bytes);
        self.copied.set(copied);
        if copied > self.max_copied {
            self.stop(Trip::Text);
        }
    }

    fn depth_of(&self, node: &Handle) -> usize {
        self.depth.borrow().get(node).copied().unwrap_or(0)
    }

    fn placed(&self, child: &NodeOrText<Handle>, depth: usize) {
        match child {
            NodeOrText::AppendNode(node) => {
                if depth > self.max_depth {
                    self.stop(Trip::Deep);
                }
                self.depth.borrow_mut().insert(*node, depth);
            }
            NodeOrText::AppendText(_) => self.count_node(),
        }
    }
}

impl TreeSink for Guarded {
    type Handle = Handle;
    type Output = Html;
    type ElemName<'a> = <HtmlTreeSink as TreeSink>::ElemName<'a>;

    fn finish(self) -> Html {
        self.inner.finish()
    }

    fn parse_error(&self, _message: std::borrow::Cow<'static, str>) {}

    fn get_document(&self) -> Handle {
        self.inner.get_document()
    }

    fn elem_name<'a>(&'a self, target: &'a Handle) -> Self::ElemName<'a> {
        self.inner.elem_name(target)
    }

    fn create_element(
        &self,
        name: QualName,
        attributes: Vec<Attribute>,
        flags: ElementFlags,
    ) -> Handle {
        self.count_node();
        self.count_attributes(&attributes);
        self.inner.create_element(name, attributes, flags)
    }

    fn create_comment(&self, text: StrTendril) -> Handle {
        self.count_node();
        self.inner.create_comment(text)
    }

    fn create_pi(&self, target: StrTendril, data: StrTendril) -> Handle {
        self.count_node();
        self.inner.create_pi(target, data)
    }

    fn append(&self, parent: &Handle, child: NodeOrText<Handle>) {
        self.placed(&child, self.depth_of(parent) + 1);
        self.inner.append(parent, child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &Handle,
        prev_element: &Handle,
        child: NodeOrText<Handle>,
    ) {
        let depth = self.depth_of(element).max(self.depth_of(prev_element) + 1);
        self.placed(&child, depth);
        self.inner
            .append_based_on_parent_node(element, prev_element, child);
    }

    fn append_doctype_to_document(
        &self,
        name: StrTendril,
        public_id: StrTendril,
        system_id: StrTendril,
    ) {
        self.inner
            .append_doctype_to_document(name, public_id, system_id);
    }

    fn mark_script_already_started(&self, node: &Handle) {
        self.inner.mark_script_already_started(node);
    }

    fn pop(&self, node: &Handle) {
        self.inner.pop(node);
    }

    fn get_template_contents(&self, target: &Handle) -> Handle {
        self.inner.get_template_contents(target)
    }

    fn same_node(&self, x: &Handle, y: &Handle) -> bool {
        self.inner.same_node(x, y)
    }

    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode);
    }

    fn append_before_sibling(&self, sibling: &Handle, new_node: NodeOrText<Handle>) {
        self.placed(&new_node, self.depth_of(sibling));
        self.inner.append_before_sibling(sibling, new_node);
    }

    fn add_attrs_if_missing(&self, target: &Handle, attributes: Vec<Attribute>) {
        self.count_attributes(&attributes);
        self.inner.add_attrs_if_missing(target, attributes);
    }

    fn associate_with_form(
        &self,
        target: &Handle,
        form: &Handle,
        nodes: (&Handle, Option<&Handle>),
    ) {
        self.inner.associate_with_form(target, form, nodes);
    }

    fn remove_from_parent(&self, target: &Handle) {
        self.inner.remove_from_parent(target);
    }

    fn reparent_children(&self, node: &Handle, new_parent: &Handle) {
        self.inner.reparent_children(node, new_parent);
    }

    fn is_mathml_annotation_xml_integration_point(&self, handle: &Handle) -> bool {
        self.inner
            .is_mathml_annotation_xml_integration_point(handle)
    }

    fn set_current_line(&self, line_number: u64) {
        self.inner.set_current_line(line_number);
    }

    fn allow_declarative_shadow_roots(&self, intended_parent: &Handle) -> bool {
        self.inner.allow_declarative_shadow_roots(intended_parent)
    }

    fn attach_declarative_shadow(
        &self,
        location: &Handle,
        template: &Handle,
        attributes: &[Attribute],
    ) -> bool {
        self.inner
            .attach_declarative_shadow(location, template, attributes)
    }

    fn maybe_clone_an_option_into_selectedcontent(&self, option: &Handle) {
        self.inner
            .maybe_clone_an_option_into_selectedcontent(option);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{self, Schema};
    use serde_json::json;
    use std::time::{Duration, Instant};

    fn convert(html: &str, selector: Option<&str>) -> Value {
        let schema = selector.map(Schema::text);
        formats::to_json(Format::Html, html.as_bytes(), schema.as_ref()).unwrap()
    }

    #[test]
    fn css_selector_scopes_the_tables() {
        // engine case fmt-html-css-selector
        let tree = convert(
            "<div>\n  <table class=\"ignored\">\n    <tr><th>Name</th><th>Stock</th></tr>\n    <tr><td>Ignored</td><td>0</td></tr>\n  </table>\n  <table class=\"products\">\n    <tr><th>Name</th><th>Stock</th></tr>\n    <tr><td>Kept</td><td>42</td></tr>\n  </table>\n</div>\n",
            Some("table.products"),
        );
        assert_eq!(tree, json!({"tables": [[{"Name": "Kept", "Stock": "42"}]]}));
    }

    #[test]
    fn products_page_with_thead_and_tbody() {
        // engine case fmt-html-selector-table
        let tree = convert(
            "<html>\n  <body>\n    <section class=\"inventory\">\n      <table class=\"products\">\n        <thead>\n          <tr><th>Name</th><th>Price</th><th>Stock</th></tr>\n        </thead>\n        <tbody>\n          <tr><td>Widget</td><td>$42</td><td>150</td></tr>\n          <tr><td>Gadget</td><td>$99</td><td>30</td></tr>\n        </tbody>\n      </table>\n    </section>\n  </body>\n</html>\n",
            Some("table.products"),
        );
        assert_eq!(tree["tables"].as_array().unwrap().len(), 1);
        assert_eq!(tree["tables"][0].as_array().unwrap().len(), 2);
        assert_eq!(tree["tables"][0][0]["Name"], "Widget");
        assert_eq!(tree["tables"][0][1]["Price"], "$99");
        assert_eq!(tree["tables"][0][0]["Stock"], "150");
    }

    #[test]
    fn rows_with_th_are_skipped() {
        // engine case fmt-html-rows-with-th-skipped
        let tree = convert(
            "<table>\n  <tr><th>Name</th><th>Price</th></tr>\n  <tr><th>Widget</th><td>$42</td></tr>\n  <tr><td>Gadget</td><td>$99</td></tr>\n</table>\n",
            None,
        );
        assert_eq!(
            tree,
            json!({"tables": [[{"Name": "Gadget", "Price": "$99"}]]})
        );
    }

    #[test]
    fn same_table_contract_as_markdown_html_side() {
        // engine case fmt-html-markdown-same-table-contract (HTML half; markdown.rs compares)
        let tree = convert(
            "<table>\n  <thead>\n    <tr><th>Name</th><th>Price</th><th>Stock</th></tr>\n  </thead>\n  <tbody>\n    <tr><td>Widget</td><td>$42</td><td>150</td></tr>\n    <tr><td>Gadget</td><td>$99</td><td>30</td></tr>\n  </tbody>\n</table>\n",
            None,
        );
        assert_eq!(
            tree,
            json!({"tables": [[
                {"Name": "Widget", "Price": "$42", "Stock": "150"},
                {"Name": "Gadget", "Price": "$99", "Stock": "30"}
            ]]})
        );
    }

    #[test]
    fn without_selector_every_table_counts() {
        let tree = convert(
            "<table><tr><th>a</th></tr><tr><td>1</td></tr></table><p>x</p><table><tr><th>b</th></tr><tr><td>2</td></tr></table>",
            None,
        );
        assert_eq!(tree, json!({"tables": [[{"a": "1"}], [{"b": "2"}]]}));
        assert_eq!(convert("<p>no tables</p>", None), json!({"tables": []}));
        assert_eq!(convert("", Some(" ")), json!({"tables": []}));
    }

    #[test]
    fn selector_on_a_container_takes_its_tables() {
        let html = "<section id=s><div><table><tr><th>a</th></tr><tr><td>1</td></tr></table></div></section><table><tr><th>b</th></tr><tr><td>2</td></tr></table>";
        assert_eq!(convert(html, Some("#s")), json!({"tables": [[{"a": "1"}]]}));
        // Nested matches count the table once per matched element, as in the engine.
        assert_eq!(
            convert(html, Some("section, div")),
            json!({"tables": [[{"a": "1"}], [{"a": "1"}]]})
        );
        assert_eq!(
            convert(html, Some("TABLE")).as_object().unwrap()["tables"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn headers_come_from_the_first_thead_row_else_the_first_row() {
        let tree = convert(
            "<table><thead><tr><th>A</th></tr><tr><th>ignored</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>",
            None,
        );
        assert_eq!(tree, json!({"tables": [[{"A": "1"}]]}));
        let tree = convert(
            "<table><thead><tr><td>no th here</td></tr></thead><tr><th>B</th></tr><tr><td>2</td></tr></table>",
            None,
        );
        assert_eq!(tree, json!({"tables": [[{"B": "2"}]]}));
    }

    #[test]
    fn without_tbody_every_row_counts() {
        // Only a `thead`: no `tbody` is implied, so its rows are the candidates.
        let tree = convert(
            "<table><thead><tr><th>a</th></tr><tr><td>1</td></tr></thead></table>",
            None,
        );
        assert_eq!(tree, json!({"tables": [[{"a": "1"}]]}));
    }

    #[test]
    fn tables_without_headers_are_skipped() {
        assert_eq!(
            convert("<table><tr><td>1</td></tr></table>", None),
            json!({"tables": []})
        );
        assert_eq!(
            convert(
                "<table><tr><th> </th><th></th></tr><tr><td>1</td></tr></table>",
                None
            ),
            json!({"tables": []})
        );
    }

    #[test]
    fn missing_cells_extra_cells_and_duplicate_headers() {
        let tree = convert(
            "<table><tr><th>a</th><th>b</th><th>a</th></tr><tr><td>1</td></tr><tr><td>1</td><td>2</td><td>3</td><td>4</td></tr><tr></tr></table>",
            None,
        );
        assert_eq!(
            tree,
            json!({"tables": [[{"a": "", "b": ""}, {"a": "3", "b": "2"}]]})
        );
    }

    #[test]
    fn cell_text_is_normalised_like_jsoup() {
        let tree = convert(
            "<table><tr><th>\n  Name\n</th><th>Note</th></tr><tr><td> A&nbsp;&amp;&nbsp;B </td><td>one<br>two <b>bold</b><div>block</div>tail<script>x()</script><pre> keep  this </pre></td></tr></table>",
            None,
        );
        assert_eq!(tree["tables"][0][0]["Name"], "A & B");
        assert_eq!(
            tree["tables"][0][0]["Note"],
            "one two bold block tail  keep  this"
        );
    }

    #[test]
    fn invalid_selectors_are_errors() {
        let schema = Schema::text("table[");
        let err = formats::to_json(Format::Html, b"<table></table>", Some(&schema)).unwrap_err();
        assert!(matches!(err, FormatError::Selector { .. }), "{err}");
        assert!(
            err.to_string()
                .starts_with("invalid CSS selector `table[` in outputSchema"),
            "{err}"
        );
        assert!(schema.check(Format::Html).is_err());
        assert!(Schema::text("table.products").check(Format::Html).is_ok());
    }

    #[test]
    fn malformed_html_still_parses() {
        let tree = convert("<table><tr><th>a<tr><td>1<td>2</table></div></span>", None);
        assert_eq!(tree, json!({"tables": [[{"a": "1"}]]}));
    }

    #[test]
    fn deep_nesting_is_stopped_early() {
        let html = "<div>".repeat(200_000);
        let started = Instant::now();
        let err = formats::to_json(Format::Html, html.as_bytes(), None).unwrap_err();
        assert!(
            matches!(err, FormatError::TooDeep { limit: 256, .. }),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let html = "<span>".repeat(200_000) + &"</x>".repeat(200_000);
        let started = Instant::now();
        let err = formats::to_json(Format::Html, html.as_bytes(), None).unwrap_err();
        assert!(matches!(err, FormatError::TooDeep { .. }), "{err}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let html = "<div>".repeat(200) + "<table><tr><th>a</th></tr><tr><td>1</td></tr></table>";
        assert_eq!(convert(&html, None), json!({"tables": [[{"a": "1"}]]}));
    }

    #[test]
    fn reopened_formatting_elements_are_bounded() {
        // Misnested formatting elements are re-opened for every paragraph.
        let open: String = (0..200).map(|i| format!("<b id={i}>")).collect();
        let html = format!("<p>{open}</p>{}", "<p>x</p>".repeat(50_000));
        let limits = Limits {
            max_depth: 100_000,
            ..Limits::default()
        };
        let started = Instant::now();
        let err =
            formats::to_json_with_limits(Format::Html, html.as_bytes(), None, &limits).unwrap_err();
        assert!(
            matches!(err, FormatError::TooLarge { what: "nodes", .. }),
            "{err}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn long_attributes_copied_by_reopening_are_bounded() {
        let big = "x".repeat(200_000);
        let html = format!("<p><b title=\"{big}\"></p>{}", "<p>y</p>".repeat(2_000));
        let err = formats::to_json(Format::Html, html.as_bytes(), None).unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::TooLarge {
                    what: "bytes of attributes",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn chunk_boundaries_inside_characters_are_fine() {
        let cell = "é".repeat(3000);
        let html = format!("<table><tr><th>h</th></tr><tr><td>{cell}</td></tr></table>");
        assert_eq!(convert(&html, None)["tables"][0][0]["h"], cell.as_str());
    }
}
