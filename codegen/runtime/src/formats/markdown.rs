//! `markdown`: `{"frontMatter", "tables", "sections"}` (pulldown-cmark, GFM tables only).
//!
//! The engine walks commonmark-java's tree; we read pulldown-cmark's events and keep the
//! same contract (see the module docs of [`formats`](super)): YAML front matter, top-level
//! tables under the shared row contract, and one section per heading whose content is the
//! plain text of the following top-level blocks.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::{Map, Value};

use super::{Budget, Format, FormatError, Limits, java_trim, table, yaml};

/// A top-level block being read.
enum Block {
    Heading {
        level: usize,
        text: String,
    },
    Table {
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
        row: Vec<String>,
        cell: String,
        in_head: bool,
    },
    Other {
        text: String,
    },
}

struct Section {
    heading: String,
    level: usize,
    parts: Vec<String>,
}

pub(super) fn to_json(
    text: &str,
    heading_prefix: Option<&str>,
    limits: &Limits,
) -> Result<Value, FormatError> {
    let text = if text.contains("\r\n") {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    let (front_matter, body) = front_matter(&text, limits)?;
    let mut budget = Budget::new(Format::Markdown, text.len(), limits);

    let mut depth = 0usize;
    let mut code_blocks = 0usize;
    let mut block: Option<Block> = None;
    let mut section: Option<Section> = None;
    let mut sections = Vec::new();
    let mut tables = Vec::new();
    let mut keep = |section: Section, budget: &mut Budget| -> Result<(), FormatError> {
        if heading_prefix.is_some_and(|prefix| !section.heading.starts_with(prefix)) {
            return Ok(());
        }
        let content = section.parts.join("\n");
        budget.values(4)?;
        budget.text(content.len() + section.heading.len() + 20)?;
        let mut object = Map::new();
        object.insert("heading".into(), Value::String(section.heading));
        object.insert("level".into(), Value::from(section.level));
        object.insert(
            "content".into(),
            Value::String(java_trim(&content).to_owned()),
        );
        sections.push(Value::Object(object));
        Ok(())
    };

    for event in Parser::new_ext(body, Options::ENABLE_TABLES) {
        match event {
            Event::Start(tag) => {
                if depth == 0 {
                    block = Some(match &tag {
                        Tag::Heading { level, .. } => Block::Heading {
                            level: *level as usize,
                            text: String::new(),
                        },
                        Tag::Table(_) => Block::Table {
                            headers: Vec::new(),
                            rows: Vec::new(),
                            row: Vec::new(),
                            cell: String::new(),
                            in_head: false,
                        },
                        _ => Block::Other {
                            text: String::new(),
                        },
                    });
                } else if let Some(Block::Table { cell, in_head, .. }) = &mut block {
                    match tag {
                        Tag::TableHead => *in_head = true,
                        Tag::TableCell => cell.clear(),
                        _ => {}
                    }
                }
                if matches!(tag, Tag::CodeBlock(_)) {
                    code_blocks += 1;
                }
                depth += 1;
                if depth > limits.max_depth {
                    return Err(FormatError::TooDeep {
                        format: Format::Markdown,
                        limit: limits.max_depth,
                        line: None,
                        column: None,
                    });
                }
            }
            Event::End(tag) => {
                depth = depth.saturating_sub(1);
                if tag == TagEnd::CodeBlock {
                    code_blocks = code_blocks.saturating_sub(1);
                }
                if let Some(Block::Table {
                    headers,
                    rows,
                    row,
                    cell,
                    in_head,
                }) = &mut block
                {
                    match tag {
                        TagEnd::TableCell if *in_head => headers.push(std::mem::take(cell)),
                        TagEnd::TableCell => row.push(java_trim(cell).to_owned()),
                        TagEnd::TableHead => *in_head = false,
                        TagEnd::TableRow if !*in_head => rows.push(std::mem::take(row)),
                        _ => {}
                    }
                }
                if depth == 0 {
                    match block.take() {
                        Some(Block::Heading { level, text }) => {
                            if let Some(done) = section.take() {
                                keep(done, &mut budget)?;
                            }
                            section = Some(Section {
                                heading: java_trim(&text).to_owned(),
                                level,
                                parts: Vec::new(),
                            });
                        }
                        Some(Block::Table { headers, rows, .. }) => {
                            let headers = table::headers(headers);
                            if !headers.is_empty() {
                                tables.push(table::rows(&headers, rows, &mut budget)?);
                            }
                        }
                        Some(Block::Other { text }) => {
                            let text = java_trim(&text);
                            if let Some(section) = &mut section
                                && !text.is_empty()
                            {
                                section.parts.push(text.to_owned());
                            }
                        }
                        None => {}
                    }
                }
            }
            Event::Text(text) | Event::Code(text) if code_blocks == 0 => push(&mut block, &text),
            Event::SoftBreak => push(&mut block, " "),
            Event::HardBreak => push(&mut block, "\n"),
            // Raw HTML, code block content and the extensions we do not enable: no text.
            _ => {}
        }
    }
    if let Some(done) = section.take() {
        keep(done, &mut budget)?;
    }

    let mut result = Map::new();
    result.insert("frontMatter".into(), Value::Object(front_matter));
    result.insert("tables".into(), Value::Array(tables));
    result.insert("sections".into(), Value::Array(sections));
    Ok(Value::Object(result))
}

/// Text of the current block (a table's text goes to its current cell).
fn push(block: &mut Option<Block>, text: &str) {
    match block {
        Some(Block::Heading { text: out, .. } | Block::Other { text: out }) => out.push_str(text),
        Some(Block::Table { cell, .. }) => cell.push_str(text),
        None => {}
    }
}

/// Splits `---\n<yaml>\n---\n` off the text; the YAML must be a mapping to count.
fn front_matter<'t>(
    text: &'t str,
    limits: &Limits,
) -> Result<(Map<String, Value>, &'t str), FormatError> {
    let Some(end) = text
        .strip_prefix("---\n")
        .and_then(|rest| rest.find("\n---\n"))
        .map(|at| at + 4)
    else {
        return Ok((Map::new(), text));
    };
    let body = &text[end + 5..];
    let block = java_trim(&text[4..end]);
    if block.is_empty() {
        return Ok((Map::new(), body));
    }
    let parsed = yaml::to_json(block, limits).map_err(|e| match e {
        FormatError::Syntax {
            line,
            column,
            message,
            ..
        } => FormatError::Syntax {
            format: Format::Markdown,
            // The front matter starts on the second line (after trimming, roughly).
            line: line.map(|line| line + 1),
            column,
            message: format!("front matter: {message}"),
        },
        FormatError::TooDeep { limit, .. } => FormatError::TooDeep {
            format: Format::Markdown,
            limit,
            line: None,
            column: None,
        },
        FormatError::TooLarge {
            what, limit, input, ..
        } => FormatError::TooLarge {
            format: Format::Markdown,
            what,
            limit,
            input,
        },
        other => other,
    })?;
    match parsed {
        Value::Object(map) => Ok((map, body)),
        _ => Ok((Map::new(), body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{self, Schema};
    use serde_json::json;

    fn convert(markdown: &str, prefix: Option<&str>) -> Value {
        let schema = prefix.map(Schema::text);
        formats::to_json(Format::Markdown, markdown.as_bytes(), schema.as_ref()).unwrap()
    }

    #[test]
    fn front_matter_tables_and_sections() {
        // engine case fmt-markdown-frontmatter-tables-sections
        let tree = convert(
            "---\ntitle: Product Release Notes\nversion: 2.1.0\n---\n\n## Overview\nThis release introduces **table extraction** for markdown.\n\n| Feature | Status |\n|---------|--------|\n| HTML support | GA |\n| Markdown support | Beta |\n",
            None,
        );
        assert_eq!(tree["frontMatter"]["title"], "Product Release Notes");
        assert_eq!(tree["tables"].as_array().unwrap().len(), 1);
        assert_eq!(tree["tables"][0][0]["Status"], "GA");
        assert_eq!(tree["sections"][0]["heading"], "Overview");
        assert_eq!(
            tree,
            json!({
                "frontMatter": {"title": "Product Release Notes", "version": "2.1.0"},
                "tables": [[
                    {"Feature": "HTML support", "Status": "GA"},
                    {"Feature": "Markdown support", "Status": "Beta"}
                ]],
                "sections": [{
                    "heading": "Overview",
                    "level": 2,
                    "content": "This release introduces table extraction for markdown."
                }]
            })
        );
    }

    #[test]
    fn inline_formatting_is_stripped() {
        // engine case fmt-markdown-inline-formatting-stripped
        let tree = convert(
            "---\ntitle: Release Notes\nversion: 2.1.0\n---\n\n## Overview\nThis **release** introduces [new features](https://example.com).\n\n| Feature | Status |\n|---------|--------|\n| Search  | GA     |\n",
            None,
        );
        assert_eq!(tree["frontMatter"]["title"], "Release Notes");
        assert_eq!(tree["frontMatter"]["version"], "2.1.0");
        assert_eq!(tree["tables"][0][0]["Status"], "GA");
        assert_eq!(tree["sections"][0]["heading"], "Overview");
        assert_eq!(
            tree["sections"][0]["content"],
            "This release introduces new features."
        );
    }

    #[test]
    fn same_table_contract_as_html() {
        // engine case fmt-html-markdown-same-table-contract
        let markdown = convert(
            "| Name | Price | Stock |\n|------|-------|-------|\n| Widget | $42 | 150 |\n| Gadget | $99 | 30 |\n",
            None,
        );
        assert_eq!(markdown["tables"][0][0]["Price"], "$42");
        #[cfg(feature = "html")]
        {
            let html = formats::to_json(
                Format::Html,
                b"<table>\n  <thead>\n    <tr><th>Name</th><th>Price</th><th>Stock</th></tr>\n  </thead>\n  <tbody>\n    <tr><td>Widget</td><td>$42</td><td>150</td></tr>\n    <tr><td>Gadget</td><td>$99</td><td>30</td></tr>\n  </tbody>\n</table>\n",
                None,
            )
            .unwrap();
            assert_eq!(markdown["tables"], html["tables"]);
        }
        assert_eq!(
            markdown["tables"],
            json!([[
                {"Name": "Widget", "Price": "$42", "Stock": "150"},
                {"Name": "Gadget", "Price": "$99", "Stock": "30"}
            ]])
        );
    }

    #[test]
    fn sections_end_at_the_next_heading_of_any_level() {
        let tree = convert(
            "intro ignored\n\n# One\nfirst\nline\n\nsecond  \nhard\n### Deep\n`code` and *em*\n## Two\n",
            None,
        );
        assert_eq!(
            tree["sections"],
            json!([
                {"heading": "One", "level": 1, "content": "first line\nsecond\nhard"},
                {"heading": "Deep", "level": 3, "content": "code and em"},
                {"heading": "Two", "level": 2, "content": ""}
            ])
        );
    }

    #[test]
    fn code_blocks_raw_html_and_tables_add_no_content() {
        let tree = convert(
            "# H\n\n```\nfn x() {}\n```\n\n<div>raw</div>\n\npara <span>x</span>y\n\n| a |\n|---|\n| 1 |\n\n    indented\n",
            None,
        );
        assert_eq!(tree["sections"][0]["content"], "para xy");
        assert_eq!(tree["tables"], json!([[{"a": "1"}]]));
    }

    #[test]
    fn list_items_are_concatenated_like_the_engine() {
        let tree = convert("# H\n- a\n- b\n\n> quoted\n> text\n", None);
        assert_eq!(tree["sections"][0]["content"], "ab\nquoted text");
    }

    #[test]
    fn heading_prefix_filters_sections_only() {
        let markdown =
            "# Results 2024\nx\n# Notes\ny\n## Results detail\nz\n\n| a |\n|---|\n| 1 |\n";
        let tree = convert(markdown, Some("Results"));
        let headings: Vec<&str> = tree["sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["heading"].as_str().unwrap())
            .collect();
        assert_eq!(headings, ["Results 2024", "Results detail"]);
        assert_eq!(tree["tables"].as_array().unwrap().len(), 1);
        // Case-sensitive, and a blank prefix filters nothing.
        assert_eq!(convert(markdown, Some("results"))["sections"], json!([]));
        assert_eq!(
            convert(markdown, Some("  "))["sections"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn only_top_level_tables_count() {
        let tree = convert(
            "> | a |\n> |---|\n> | 1 |\n\n- | b |\n  |---|\n  | 2 |\n",
            None,
        );
        assert_eq!(tree["tables"], json!([]));
    }

    #[test]
    fn table_rows_missing_and_extra_cells() {
        let tree = convert("| a | b |\n|---|---|\n| 1 |\n| 1 | 2 | 3 |\n", None);
        assert_eq!(
            tree["tables"],
            json!([[{"a": "1", "b": ""}, {"a": "1", "b": "2"}]])
        );
        let tree = convert("|   |   |\n|---|---|\n| 1 | 2 |\n", None);
        assert_eq!(tree["tables"], json!([]));
    }

    #[test]
    fn front_matter_rules() {
        // Not at the very start: no front matter.
        let tree = convert("\n---\ntitle: x\n---\n", None);
        assert_eq!(tree["frontMatter"], json!({}));
        // No closing line: no front matter.
        assert_eq!(convert("---\ntitle: x\n", None)["frontMatter"], json!({}));
        // Not a mapping: {}.
        assert_eq!(
            convert("---\n- a\n---\n# H\n", None)["frontMatter"],
            json!({})
        );
        // CRLF counts as LF; values are typed as YAML.
        let tree = convert("---\r\nn: 3\r\nok: true\r\n---\r\n# H\r\ntext\r\n", None);
        assert_eq!(tree["frontMatter"], json!({"n": 3, "ok": true}));
        assert_eq!(tree["sections"][0]["content"], "text");
        // Empty front matter.
        assert_eq!(convert("---\n\n---\n# H\n", None)["frontMatter"], json!({}));
    }

    #[test]
    fn invalid_front_matter_is_an_error() {
        let err = formats::to_json(Format::Markdown, b"---\na: [1\n---\n# H\n", None).unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::Syntax {
                    format: Format::Markdown,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("front matter: "), "{err}");
    }

    #[test]
    fn empty_document() {
        assert_eq!(
            convert("", None),
            json!({"frontMatter": {}, "tables": [], "sections": []})
        );
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let markdown = ">".repeat(10_000) + " deep\n";
        let err = formats::to_json(Format::Markdown, markdown.as_bytes(), None).unwrap_err();
        assert!(
            matches!(err, FormatError::TooDeep { limit: 256, .. }),
            "{err}"
        );
        let markdown = ">".repeat(100) + " fine\n";
        assert!(formats::to_json(Format::Markdown, markdown.as_bytes(), None).is_ok());
    }

    #[test]
    fn wide_header_over_empty_rows_hits_the_budget() {
        let header = format!("|{}\n|{}\n", "h|".repeat(2000), "-|".repeat(2000));
        let markdown = header + &"|x|\n".repeat(3000);
        let err = formats::to_json(Format::Markdown, markdown.as_bytes(), None).unwrap_err();
        assert!(matches!(err, FormatError::TooLarge { .. }), "{err}");
    }
}
