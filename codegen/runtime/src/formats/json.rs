//! `json` (and no `outputRawFormat`): the body parsed as is.

use serde_json::Value;

use super::{Format, FormatError};

/// Parses a JSON body. An empty (or all-whitespace) body is `null`, as the engine's
/// `readTree` of no content; a byte order mark is skipped.
pub(super) fn to_json(body: &[u8]) -> Result<Value, FormatError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| {
        let mut message = e.to_string();
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        let (line, column) = (Some(e.line()), Some(e.column()));
        if message.starts_with("recursion limit exceeded") {
            // serde_json's own limit, stricter than `Limits::max_depth`.
            FormatError::TooDeep {
                format: Format::Json,
                limit: 128,
                line,
                column,
            }
        } else {
            FormatError::Syntax {
                format: Format::Json,
                line,
                column,
                message,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats;
    use serde_json::json;

    #[test]
    fn no_format_means_json() {
        // engine case fmt-json-default: format null -> JSON
        let format = Format::from_optional_label(None).unwrap();
        let tree = formats::to_json(format, br#"{"status":"ok"}"#, None).unwrap();
        assert_eq!(tree["status"], "ok");
    }

    #[test]
    fn the_document_is_kept_as_is() {
        let tree = to_json(br#"{"a":[1,2.5,"x",true,null],"b":{"c":{}}}"#).unwrap();
        assert_eq!(
            tree,
            json!({"a": [1, 2.5, "x", true, null], "b": {"c": {}}})
        );
    }

    #[test]
    fn empty_body_is_null() {
        assert_eq!(to_json(b"").unwrap(), Value::Null);
        assert_eq!(to_json(b" \n").unwrap(), Value::Null);
    }

    #[test]
    fn bom_is_skipped() {
        assert_eq!(to_json(b"\xEF\xBB\xBF[1]").unwrap(), json!([1]));
    }

    #[test]
    fn xml_without_a_format_is_a_json_error() {
        // engine case steps-xml-mapping-needs-raw-format: an XML body read as JSON fails.
        let err = to_json(b"<vessels><vessel><vesselCode>V001</vesselCode></vessel></vessels>")
            .unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::Syntax {
                    format: Format::Json,
                    line: Some(1),
                    column: Some(1),
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "invalid json body at line 1, column 1: expected value"
        );
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let body = "[".repeat(10_000) + &"]".repeat(10_000);
        let err = to_json(body.as_bytes()).unwrap_err();
        assert!(
            matches!(err, FormatError::TooDeep { limit: 128, .. }),
            "{err}"
        );
    }

    #[test]
    fn truncated_document_reports_where() {
        let err = to_json(b"{\n  \"a\": [1,\n").unwrap_err();
        assert!(
            matches!(err, FormatError::Syntax { line: Some(3), .. }),
            "{err}"
        );
    }
}
