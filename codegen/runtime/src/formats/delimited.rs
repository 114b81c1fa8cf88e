//! `csv`, `tsv`, `psv`: the first row is the header, every other row an object.
//!
//! As Jackson's `CsvMapper` with `emptySchema().withHeader()`: values are strings (no
//! typing), double quotes quote a field (`""` is a quote inside), a short row gives an object
//! without its missing columns, and a row with more fields than the header is an error,
//! except for one trailing blank field (a trailing separator). Blank lines are skipped.

use serde_json::{Map, Value};

use super::{Budget, Format, FormatError, Limits, java_trim};

pub(super) fn to_json(
    format: Format,
    text: &str,
    separator: u8,
    limits: &Limits,
) -> Result<Value, FormatError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut budget = Budget::new(format, text.len(), limits);
    let mut records = reader.records();
    let header = match records.next() {
        None => return Ok(Value::Array(Vec::new())),
        Some(header) => header.map_err(|e| syntax(format, &e))?,
    };
    let header: Vec<String> = header.iter().map(str::to_owned).collect();
    let mut rows = Vec::new();
    for record in records {
        let record = record.map_err(|e| syntax(format, &e))?;
        budget.value()?;
        let mut row = Map::new();
        for (index, field) in record.iter().enumerate() {
            let Some(name) = header.get(index) else {
                if index == header.len() && record.len() == index + 1 && java_trim(field).is_empty()
                {
                    break;
                }
                return Err(FormatError::Syntax {
                    format,
                    line: record.position().map(|p| p.line() as usize),
                    column: None,
                    message: format!(
                        "Too many entries: expected at most {} (value #{} ({} chars) \"{}\")",
                        header.len(),
                        index,
                        field.chars().count(),
                        field
                    ),
                });
            };
            budget.value()?;
            budget.text(name.len() + field.len())?;
            row.insert(name.clone(), Value::String(field.to_owned()));
        }
        rows.push(Value::Object(row));
    }
    Ok(Value::Array(rows))
}

fn syntax(format: Format, e: &csv::Error) -> FormatError {
    let line = e.position().map(|p| p.line() as usize);
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => format!("field {} is not valid UTF-8", err.field() + 1),
        _ => e.to_string(),
    };
    FormatError::Syntax {
        format,
        line,
        column: None,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats;
    use serde_json::json;

    fn convert(format: Format, text: &str) -> Value {
        formats::to_json(format, text.as_bytes(), None).unwrap()
    }

    #[test]
    fn header_row_gives_keys_and_values_stay_strings() {
        // engine case fmt-csv-header-row-strings
        let tree = convert(
            Format::Csv,
            "id,name,email\n1,Alice Smith,alice@example.com\n2,Bob Johnson,bob@example.com\n3,Carol White,carol@example.com\n",
        );
        let rows = tree.as_array().unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(tree[0]["id"], "1");
        assert_eq!(tree[0]["name"], "Alice Smith");
        assert_eq!(tree[0]["email"], "alice@example.com");
    }

    #[test]
    fn upper_case_label_and_numbers_as_text() {
        // engine case fmt-xml-yaml-csv-labels-case-insensitive (label `CSV`)
        let format = Format::from_label("CSV").unwrap();
        let tree = convert(format, "name,age\nAlice,42\nBob,39\n");
        assert!(tree.is_array());
        assert_eq!(tree[0]["name"], "Alice");
        assert_eq!(tree[1]["age"], "39");
        assert!(tree[1]["age"].is_string());
    }

    #[test]
    fn pipe_separated() {
        // engine case fmt-psv
        let tree = convert(
            Format::Psv,
            "id|name|email\n1|Alice Smith|alice@example.com\n2|Bob Johnson|bob@example.com\n",
        );
        assert_eq!(tree.as_array().unwrap().len(), 2);
        assert_eq!(tree[0]["id"], "1");
        assert_eq!(tree[0]["name"], "Alice Smith");
        assert_eq!(tree[1]["name"], "Bob Johnson");
    }

    #[test]
    fn tab_separated() {
        let tree = convert(Format::Tsv, "a\tb c\n1,5\t x \n");
        assert_eq!(tree, json!([{"a": "1,5", "b c": " x "}]));
    }

    #[test]
    fn each_separator_only_splits_its_own_format() {
        let text = "a,b|c\td\n1,2|3\t4\n";
        assert_eq!(
            convert(Format::Csv, text),
            json!([{"a": "1", "b|c\td": "2|3\t4"}])
        );
        assert_eq!(
            convert(Format::Psv, text),
            json!([{"a,b": "1,2", "c\td": "3\t4"}])
        );
        assert_eq!(
            convert(Format::Tsv, text),
            json!([{"a,b|c": "1,2|3", "d": "4"}])
        );
    }

    #[test]
    fn quoting_follows_csv_rules() {
        let tree = convert(
            Format::Csv,
            "name,note\r\n\"Smith, J\",\"said \"\"hi\"\"\"\r\n\"multi\nline\",\r\n",
        );
        assert_eq!(
            tree,
            json!([{"name": "Smith, J", "note": "said \"hi\""}, {"name": "multi\nline", "note": ""}])
        );
    }

    #[test]
    fn quoting_is_lenient_where_jackson_fails() {
        assert_eq!(
            convert(Format::Csv, "a,b\n1,\"x\"y\n"),
            json!([{"a": "1", "b": "xy"}])
        );
        assert_eq!(
            convert(Format::Csv, "a,b\n\"abc,1\n"),
            json!([{"a": "abc,1\n"}])
        );
    }

    #[test]
    fn short_rows_lack_the_missing_columns() {
        let tree = convert(Format::Csv, "a,b,c\n1\n1,2\n");
        assert_eq!(tree, json!([{"a": "1"}, {"a": "1", "b": "2"}]));
    }

    #[test]
    fn long_rows_are_errors_except_one_trailing_blank() {
        let tree = convert(Format::Csv, "a,b\n1,2,\n3,4, \n");
        assert_eq!(tree, json!([{"a": "1", "b": "2"}, {"a": "3", "b": "4"}]));
        let err = formats::to_json(Format::Csv, b"a,b\n1,2\n1,2,x\n", None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid csv body at line 3: Too many entries: expected at most 2 (value #2 (1 chars) \"x\")"
        );
        let err = formats::to_json(Format::Csv, b"a,b\n1,2,,\n", None).unwrap_err();
        assert!(
            matches!(err, FormatError::Syntax { line: Some(2), .. }),
            "{err}"
        );
    }

    #[test]
    fn blank_lines_are_skipped_and_empty_bodies_are_empty_arrays() {
        assert_eq!(convert(Format::Csv, "a\n\n1\n\n"), json!([{"a": "1"}]));
        assert_eq!(convert(Format::Csv, ""), json!([]));
        assert_eq!(convert(Format::Csv, "a,b\n"), json!([]));
    }

    #[test]
    fn duplicate_headers_keep_the_last_value() {
        assert_eq!(convert(Format::Csv, "a,a\n1,2\n"), json!([{"a": "2"}]));
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let err = formats::to_json(Format::Csv, b"a\n\xff\n", None).unwrap_err();
        assert!(matches!(err, FormatError::NotUtf8 { line: 2, .. }), "{err}");
    }

    #[test]
    fn long_headers_over_tiny_rows_hit_the_budget() {
        let header = "h".repeat(100_000);
        let text = format!("{header}\n{}", "\"\"\n".repeat(400));
        let limits = Limits {
            text_per_byte: 1,
            ..Limits::default()
        };
        let err =
            formats::to_json_with_limits(Format::Csv, text.as_bytes(), None, &limits).unwrap_err();
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
        // Same shape, fewer rows: fine.
        let text = format!("{header}\n{}", "x\n".repeat(5));
        let tree =
            formats::to_json_with_limits(Format::Csv, text.as_bytes(), None, &limits).unwrap();
        assert_eq!(tree.as_array().unwrap().len(), 5);
    }
}
