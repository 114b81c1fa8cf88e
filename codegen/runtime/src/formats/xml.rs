//! `xml`: the tree Jackson's `XmlMapper.readTree` gives, read with quick-xml.
//!
//! The root element is `$`: its name is dropped and its content is the tree. Child
//! elements become fields; a name repeated among siblings becomes an array (a single child
//! stays an object or string); attributes are plain fields (local names, namespace
//! declarations left out); leaf text is a string, kept as written; an element with
//! attributes or children keeps its non-blank text under the key `""`; an empty element is
//! `""`; `xsi:nil="true"` is `null`. The root always gives an object (`{"": text}` for a
//! root holding only text), as Jackson 2.14 and later do.
//!
//! No DTD is read and no entity is expanded: the predefined entities and character
//! references are decoded, any other reference is an error.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::NsReader;
use serde_json::{Map, Value};

use super::{Budget, Format, FormatError, Limits, insert_repeated, line_column};

/// An element whose end tag has not been read yet.
struct Open {
    name: String,
    fields: Map<String, Value>,
    /// Text read since the element started or since its last child element.
    text: String,
    nil: bool,
}

impl Open {
    /// A child element starts: text before it is mixed content, kept under `""` unless blank.
    fn child_starts(&mut self) {
        if !self.text.is_empty() {
            let text = std::mem::take(&mut self.text);
            if !is_blank(&text) {
                insert_repeated(&mut self.fields, String::new(), Value::String(text));
            }
        }
    }

    fn finish(mut self, is_root: bool) -> Value {
        if self.nil {
            return Value::Null;
        }
        if self.fields.is_empty() {
            if !is_root {
                return Value::String(self.text);
            }
            if is_blank(&self.text) {
                return Value::Object(Map::new());
            }
        } else if is_blank(&self.text) {
            return Value::Object(self.fields);
        }
        insert_repeated(&mut self.fields, String::new(), Value::String(self.text));
        Value::Object(self.fields)
    }
}

/// XML whitespace: space, tab, CR, LF.
fn is_blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

pub(super) fn to_json(text: &str, limits: &Limits) -> Result<Value, FormatError> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut budget = Budget::new(Format::Xml, text.len(), limits);
    let mut stack: Vec<Open> = Vec::new();
    loop {
        // Where the event starts: errors about it point there.
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| syntax(text, reader.error_position(), e.to_string()))?;
        match event {
            Event::Start(start) | Event::Empty(start) if stack.len() >= limits.max_depth => {
                let _ = start;
                let (line, column) = line_column(text, position as usize);
                return Err(FormatError::TooDeep {
                    format: Format::Xml,
                    limit: limits.max_depth,
                    line: Some(line),
                    column: Some(column),
                });
            }
            Event::Start(start) => {
                let open = open(&reader, &start, text, position, &mut budget)?;
                if let Some(parent) = stack.last_mut() {
                    parent.child_starts();
                }
                stack.push(open);
            }
            Event::Empty(start) => {
                let open = open(&reader, &start, text, position, &mut budget)?;
                match stack.last_mut() {
                    Some(parent) => {
                        parent.child_starts();
                        let name = open.name.clone();
                        insert_repeated(&mut parent.fields, name, open.finish(false));
                    }
                    None => return Ok(open.finish(true)),
                }
            }
            Event::End(_) => {
                // quick-xml checks that end tags match, so the stack is not empty here.
                let Some(open) = stack.pop() else {
                    return Err(syntax(text, position, "end tag without a start tag".into()));
                };
                match stack.last_mut() {
                    Some(parent) => {
                        let name = open.name.clone();
                        insert_repeated(&mut parent.fields, name, open.finish(false));
                    }
                    // Whatever follows the root element is ignored, as Jackson ignores it.
                    None => return Ok(open.finish(true)),
                }
            }
            Event::Text(content) => {
                let content = content.xml10_content();
                match stack.last_mut() {
                    Some(open) => open.text.push_str(&content),
                    None if is_blank(&content) => {}
                    None => {
                        return Err(syntax(
                            text,
                            position,
                            "text outside the root element".into(),
                        ));
                    }
                }
            }
            Event::CData(content) => match stack.last_mut() {
                Some(open) => open.text.push_str(&content.xml10_content()),
                None => {
                    return Err(syntax(
                        text,
                        position,
                        "CDATA outside the root element".into(),
                    ));
                }
            },
            Event::GeneralRef(reference) => {
                let resolved =
                    resolve(&reference).map_err(|message| syntax(text, position, message))?;
                match stack.last_mut() {
                    Some(open) => open.text.push_str(&resolved),
                    None => {
                        return Err(syntax(
                            text,
                            position,
                            "entity reference outside the root element".into(),
                        ));
                    }
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
            Event::Eof => {
                return match stack.last() {
                    Some(open) => Err(syntax(
                        text,
                        position,
                        format!(
                            "unexpected end of document: `<{}>` is not closed",
                            open.name
                        ),
                    )),
                    None if is_blank(text) => Ok(Value::Null),
                    None => Err(syntax(text, position, "no root element".into())),
                };
            }
        }
    }
}

/// Reads a start tag: its local name, attributes and `xsi:nil`.
fn open(
    reader: &NsReader<&[u8]>,
    start: &BytesStart<'_>,
    text: &str,
    position: u64,
    budget: &mut Budget,
) -> Result<Open, FormatError> {
    budget.value()?;
    let name = start.local_name().into_inner().to_owned();
    let nil = start.attributes().has_nil(reader.resolver());
    let mut fields = Map::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| syntax(text, position, e.to_string()))?;
        if attribute.key.as_namespace_binding().is_some() {
            continue;
        }
        let key = attribute.key.local_name().into_inner().to_owned();
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| {
                syntax(
                    text,
                    position,
                    format!(
                        "attribute `{key}` of `<{name}>`: {e} (DTD entities are never expanded)"
                    ),
                )
            })?;
        budget.value()?;
        insert_repeated(&mut fields, key, Value::String(value.into_owned()));
    }
    Ok(Open {
        name,
        fields,
        text: String::new(),
        nil,
    })
}

/// Decodes a character reference or one of the five predefined entities.
fn resolve(reference: &BytesRef<'_>) -> Result<String, String> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref() {
            Ok(Some(c)) => Ok(c.to_string()),
            Ok(None) | Err(_) => Err(format!(
                "invalid character reference `&{};`",
                reference.xml10_content()
            )),
        };
    }
    let name = reference.xml10_content();
    resolve_predefined_entity(&name)
        .map(str::to_owned)
        .ok_or_else(|| {
            format!("entity `&{name};` is not defined (DTD entities are never expanded)")
        })
}

fn syntax(text: &str, position: u64, message: String) -> FormatError {
    let (line, column) = line_column(text, usize::try_from(position).unwrap_or(usize::MAX));
    FormatError::Syntax {
        format: Format::Xml,
        line: Some(line),
        column: Some(column),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats;
    use serde_json::json;

    fn convert(xml: &str) -> Value {
        formats::to_json(Format::Xml, xml.as_bytes(), None).unwrap()
    }

    fn error(xml: &str) -> FormatError {
        formats::to_json(Format::Xml, xml.as_bytes(), None).unwrap_err()
    }

    #[test]
    fn root_name_is_dropped() {
        // engine case fmt-xml-yaml-csv-labels-case-insensitive (label `XML`)
        let format = Format::from_label("XML").unwrap();
        let tree = formats::to_json(format, b"<root><name>Alice</name></root>", None).unwrap();
        assert_eq!(tree, json!({"name": "Alice"}));
    }

    #[test]
    fn tutorial_vessels_map_under_dollar_vessel() {
        // engine case tut5-imported-legacy-xml-vessels: `$.vessel` is the repeated element.
        let tree = convert(
            "<vessels>\n  <vessel>\n    <vesselCode>LEGACY-4012</vesselCode>\n    <vesselName>Old Faithful</vesselName>\n    <category>cargo</category>\n    <flagState>GB</flagState>\n    <operationalStatus>active</operationalStatus>\n  </vessel>\n  <vessel>\n    <vesselCode>LEGACY-2087</vesselCode>\n    <vesselName>Iron Maiden</vesselName>\n    <category>bulk_carrier</category>\n    <flagState>PA</flagState>\n    <operationalStatus>laid_up</operationalStatus>\n  </vessel>\n</vessels>\n",
        );
        assert_eq!(
            tree,
            json!({"vessel": [
                {"vesselCode": "LEGACY-4012", "vesselName": "Old Faithful", "category": "cargo", "flagState": "GB", "operationalStatus": "active"},
                {"vesselCode": "LEGACY-2087", "vesselName": "Iron Maiden", "category": "bulk_carrier", "flagState": "PA", "operationalStatus": "laid_up"}
            ]})
        );
    }

    #[test]
    fn mcp_and_rest_vessel_bodies() {
        // engine cases fmt-xml-mcp-tool (compact) and fmt-xml-rest-operation (declaration, indented)
        let tree = convert(
            "<vessels><vessel><vesselCode>V001</vesselCode><vesselName>Sea Eagle</vesselName></vessel><vessel><vesselCode>V002</vesselCode><vesselName>Ocean Star</vesselName></vessel></vessels>",
        );
        assert_eq!(tree["vessel"][0]["vesselCode"], "V001");
        assert_eq!(tree["vessel"][0]["vesselName"], "Sea Eagle");
        assert_eq!(tree["vessel"][1]["vesselCode"], "V002");
        assert_eq!(tree["vessel"][1]["vesselName"], "Ocean Star");
        let tree = convert(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<vessels>\n  <vessel>\n    <vesselCode>V001</vesselCode>\n    <vesselName>Sea Eagle</vesselName>\n  </vessel>\n  <vessel>\n    <vesselCode>V002</vesselCode>\n    <vesselName>Harbor Star</vesselName>\n  </vessel>\n</vessels>\n",
        );
        assert_eq!(
            tree,
            json!({"vessel": [
                {"vesselCode": "V001", "vesselName": "Sea Eagle"},
                {"vesselCode": "V002", "vesselName": "Harbor Star"}
            ]})
        );
    }

    #[test]
    fn repeated_users_become_an_array() {
        // engine case rest-map-output-xml-format-on-consumed-op
        let tree = convert(
            "<root><user><id>1</id><name>Alice</name></user><user><id>2</id><name>Bob</name></user></root>",
        );
        assert_eq!(
            tree,
            json!({"user": [{"id": "1", "name": "Alice"}, {"id": "2", "name": "Bob"}]})
        );
    }

    #[test]
    fn a_single_child_stays_an_object() {
        let tree = convert("<vessels><vessel><vesselCode>V001</vesselCode></vessel></vessels>");
        assert_eq!(tree, json!({"vessel": {"vesselCode": "V001"}}));
    }

    #[test]
    fn leaf_values_are_strings() {
        let tree = convert("<r><n>42</n><b>true</b><f> 1.5 </f></r>");
        assert_eq!(tree, json!({"n": "42", "b": "true", "f": " 1.5 "}));
    }

    #[test]
    fn attributes_are_plain_fields_and_text_goes_under_empty_key() {
        let tree = convert(r#"<r><price currency="EUR">12</price><tag id="7"/></r>"#);
        assert_eq!(
            tree,
            json!({"price": {"currency": "EUR", "": "12"}, "tag": {"id": "7"}})
        );
        let tree = convert(r#"<r version="2"><a>x</a></r>"#);
        assert_eq!(tree, json!({"version": "2", "a": "x"}));
    }

    #[test]
    fn empty_elements_are_empty_strings() {
        let tree = convert("<r><a/><b></b><c>  </c></r>");
        assert_eq!(tree, json!({"a": "", "b": "", "c": "  "}));
    }

    #[test]
    fn root_with_only_text_or_nothing() {
        assert_eq!(convert("<r>hello</r>"), json!({"": "hello"}));
        assert_eq!(convert("<r/>"), json!({}));
        assert_eq!(convert("<r>\n</r>"), json!({}));
        assert_eq!(convert(""), Value::Null);
    }

    #[test]
    fn repeated_siblings_apart_still_group() {
        let tree = convert("<r><a>1</a><b>x</b><a>2</a><a>3</a></r>");
        assert_eq!(tree, json!({"a": ["1", "2", "3"], "b": "x"}));
    }

    #[test]
    fn attribute_and_child_of_the_same_name_group() {
        let tree = convert(r#"<r id="1"><id>2</id></r>"#);
        assert_eq!(tree, json!({"id": ["1", "2"]}));
    }

    #[test]
    fn mixed_content_keeps_text_under_empty_key() {
        let tree = convert("<r><p>lorem <b>ipsum</b> dolor</p></r>");
        assert_eq!(tree, json!({"p": {"": ["lorem ", " dolor"], "b": "ipsum"}}));
    }

    #[test]
    fn namespaces_use_local_names() {
        let tree = convert(
            r#"<s:Envelope xmlns:s="urn:s" xmlns="urn:d"><s:Body><m:item xmlns:m="urn:m" m:kind="a">x</m:item></s:Body></s:Envelope>"#,
        );
        assert_eq!(tree, json!({"Body": {"item": {"kind": "a", "": "x"}}}));
    }

    #[test]
    fn xsi_nil_is_null() {
        let tree = convert(
            r#"<r xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><a xsi:nil="true"/><b xsi:nil="false">x</b></r>"#,
        );
        assert_eq!(tree, json!({"a": null, "b": {"nil": "false", "": "x"}}));
    }

    #[test]
    fn entities_cdata_and_character_references_are_decoded() {
        let tree = convert(
            r#"<r a="x &amp; y"><t>&lt;b&gt; &#233;&#x41; &quot;q&quot; &apos;</t><c><![CDATA[<raw> & ]]></c></r>"#,
        );
        assert_eq!(
            tree,
            json!({"a": "x & y", "t": "<b> éA \"q\" '", "c": "<raw> & "})
        );
    }

    #[test]
    fn comments_processing_instructions_and_doctype_are_ignored() {
        let tree = convert(
            "<?xml version=\"1.0\"?><!DOCTYPE r><!-- c --><r><?pi x?><a>1<!-- c -->2</a></r>",
        );
        assert_eq!(tree, json!({"a": "12"}));
    }

    #[test]
    fn content_after_the_root_is_ignored() {
        assert_eq!(convert("<r><a>1</a></r><!-- end -->\n"), json!({"a": "1"}));
    }

    #[test]
    fn billion_laughs_is_refused_without_expanding() {
        let mut xml =
            String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n");
        for i in 1..10 {
            let prev = if i == 1 {
                "lol".to_owned()
            } else {
                format!("lol{}", i - 1)
            };
            xml.push_str(&format!(
                " <!ENTITY lol{i} \"{}\">\n",
                format!("&{prev};").repeat(10)
            ));
        }
        xml.push_str("]>\n<lolz>&lol9;</lolz>");
        let err = error(&xml);
        assert!(
            err.to_string()
                .contains("entity `&lol9;` is not defined (DTD entities are never expanded)"),
            "{err}"
        );
        assert!(
            matches!(
                err,
                FormatError::Syntax {
                    line: Some(14),
                    column: Some(7),
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn external_entities_are_never_read() {
        let err = error("<!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><r>&xxe;</r>");
        assert!(err.to_string().contains("`&xxe;` is not defined"), "{err}");
        let err = error("<!DOCTYPE r [<!ENTITY e \"v\">]><r a=\"&e;\"/>");
        assert!(err.to_string().contains("attribute `a` of `<r>`"), "{err}");
    }

    #[test]
    fn malformed_documents_are_errors_with_position() {
        let err = error("<r>\n  <a>1</b>\n</r>");
        assert!(
            matches!(
                err,
                FormatError::Syntax {
                    format: Format::Xml,
                    line: Some(2),
                    ..
                }
            ),
            "{err}"
        );
        let err = error("<r><a>1</a>");
        assert!(err.to_string().contains("`<r>` is not closed"), "{err}");
        let err = error("just text");
        assert!(
            err.to_string().contains("text outside the root element"),
            "{err}"
        );
        let err = error("<r a=\"1\" a=\"2\"/>");
        assert!(matches!(err, FormatError::Syntax { .. }), "{err}");
        let err = error("<r>&#0;</r>");
        assert!(
            err.to_string().contains("invalid character reference"),
            "{err}"
        );
        let err = error("<r><a x=1/></r>");
        assert!(matches!(err, FormatError::Syntax { .. }), "{err}");
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let err = formats::to_json(Format::Xml, b"<r>\xC3\x28</r>", None).unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::NotUtf8 {
                    line: 1,
                    column: 4,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn deep_nesting_is_capped() {
        let xml = "<a>".repeat(300) + &"</a>".repeat(300);
        let err = error(&xml);
        assert!(
            matches!(err, FormatError::TooDeep { limit: 256, .. }),
            "{err}"
        );
        let xml = "<a>".repeat(255) + &"</a>".repeat(255);
        assert!(formats::to_json(Format::Xml, xml.as_bytes(), None).is_ok());
        let xml = "<a/>".to_owned() + &"<a>".repeat(1_000_000);
        // content after the root is never read
        assert_eq!(convert(&xml), json!({}));
    }

    #[test]
    fn many_attributes_are_bounded_by_the_budget() {
        let limits = Limits {
            values_per_byte: 0,
            ..Limits::default()
        };
        let attrs: String = (0..5000).map(|i| format!(" a{i}=\"\"")).collect();
        let xml = format!("<r{attrs}/>");
        let err =
            formats::to_json_with_limits(Format::Xml, xml.as_bytes(), None, &limits).unwrap_err();
        assert!(matches!(err, FormatError::TooLarge { .. }), "{err}");
        assert!(formats::to_json(Format::Xml, xml.as_bytes(), None).is_ok());
    }
}
