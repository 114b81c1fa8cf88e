//! The table contract shared by HTML and Markdown: header cells to keys, rows to objects.

use serde_json::{Map, Value};

use super::{Budget, FormatError, java_is_blank, java_trim};

/// Trims each header; a table whose headers are all blank has none (and is skipped).
pub(super) fn headers(raw: Vec<String>) -> Vec<String> {
    let headers: Vec<String> = raw
        .into_iter()
        .map(|header| match java_trim(&header) {
            trimmed if trimmed.len() == header.len() => header,
            trimmed => trimmed.to_owned(),
        })
        .collect();
    if headers.iter().all(|header| java_is_blank(header)) {
        return Vec::new();
    }
    headers
}

/// One object per row: header to cell, `""` for a missing cell, extra cells dropped,
/// a duplicate header keeping the last cell at the first one's position.
pub(super) fn rows(
    headers: &[String],
    rows: Vec<Vec<String>>,
    budget: &mut Budget,
) -> Result<Value, FormatError> {
    let mut table = Vec::with_capacity(rows.len());
    for row in rows {
        budget.values(1 + headers.len())?;
        let mut object = Map::new();
        let mut cells = row.into_iter();
        for header in headers {
            let cell = cells.next().unwrap_or_default();
            budget.text(header.len() + cell.len())?;
            object.insert(header.clone(), Value::String(cell));
        }
        table.push(Value::Object(object));
    }
    budget.value()?;
    Ok(Value::Array(table))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{Format, Limits};
    use serde_json::json;

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|cell| (*cell).to_owned()).collect()
    }

    #[test]
    fn headers_are_trimmed_and_all_blank_means_none() {
        assert_eq!(
            headers(strings(&[" Name ", "\tPrice", ""])),
            ["Name", "Price", ""]
        );
        assert!(headers(strings(&[" ", "", "\u{2003}"])).is_empty());
        assert!(headers(Vec::new()).is_empty());
    }

    #[test]
    fn missing_cells_are_empty_extra_cells_dropped_duplicates_keep_last() {
        let mut budget = Budget::new(Format::Html, 100, &Limits::default());
        let headers = strings(&["a", "b", "a"]);
        let table = rows(
            &headers,
            vec![strings(&["1"]), strings(&["1", "2", "3", "4"])],
            &mut budget,
        )
        .unwrap();
        assert_eq!(table, json!([{"a": "", "b": ""}, {"a": "3", "b": "2"}]));
        let keys: Vec<&String> = table[1].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "b"]);
    }

    #[test]
    fn padding_counts_against_the_budget() {
        let limits = Limits {
            values_per_byte: 0,
            ..Limits::default()
        };
        let mut budget = Budget::new(Format::Markdown, 10, &limits);
        let headers: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let err = rows(&headers, vec![Vec::new(); 100], &mut budget).unwrap_err();
        assert!(matches!(err, FormatError::TooLarge { .. }), "{err}");
    }
}
