//! `protobuf`: one message, decoded with the first message type of the `.proto` file of
//! `outputSchema`.
//!
//! The file is compiled at run time by protox (imports resolved from its directory, the
//! Google well-known types built in) into a prost-reflect descriptor; the body is decoded
//! as a dynamic message (prost limits nesting to 100 and checks every length against the
//! bytes left) and turned into JSON: fields present on the wire under their `.proto` names,
//! enums as value names, 64-bit integers as numbers, bytes as base64, maps as objects.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use prost_reflect::{DynamicMessage, Kind, MapKey, MessageDescriptor, Value as Proto};
use serde_json::{Map, Number, Value};

use super::{Budget, Format, FormatError, Limits};

/// The message type a `.proto` file gives.
#[derive(Clone, Debug)]
pub(super) struct ProtoSchema {
    message: MessageDescriptor,
    path: PathBuf,
}

impl ProtoSchema {
    pub(super) fn load(path: &Path) -> Result<ProtoSchema, FormatError> {
        let invalid = |message: String| FormatError::SchemaInvalid {
            format: Format::Protobuf,
            path: path.to_owned(),
            message,
        };
        let directory = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let file_name = path
            .file_name()
            .and_then(|name| name.to_str())
            .ok_or_else(|| invalid("the file name is not UTF-8".into()))?;
        let mut compiler =
            protox::Compiler::new([directory]).map_err(|e| invalid(e.to_string()))?;
        compiler.include_imports(true);
        compiler
            .open_file(path)
            .map_err(|e| invalid(e.to_string()))?;
        let pool = compiler.descriptor_pool();
        let message = pool
            .get_file_by_name(file_name)
            .and_then(|file| file.messages().next())
            .ok_or_else(|| invalid("the file declares no message type".into()))?;
        Ok(ProtoSchema {
            message,
            path: path.to_owned(),
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// The full name of the message type decoded (`package.Message`).
    #[cfg(test)]
    fn message_name(&self) -> &str {
        self.message.full_name()
    }
}

pub(super) fn to_json(
    schema: &ProtoSchema,
    body: &[u8],
    limits: &Limits,
) -> Result<Value, FormatError> {
    let message = DynamicMessage::decode(schema.message.clone(), body).map_err(|e| {
        let message = e.to_string();
        if message.contains("recursion limit") {
            FormatError::TooDeep {
                format: Format::Protobuf,
                limit: 100,
                line: None,
                column: None,
            }
        } else {
            FormatError::Syntax {
                format: Format::Protobuf,
                line: None,
                column: None,
                message: format!(
                    "cannot decode a `{}`: {message}",
                    schema.message.full_name()
                ),
            }
        }
    })?;
    let mut converter = Converter {
        budget: Budget::new(Format::Protobuf, body.len(), limits),
        max_depth: limits.max_depth,
    };
    converter.message(&message, 0)
}

struct Converter {
    budget: Budget,
    max_depth: usize,
}

impl Converter {
    fn message(&mut self, message: &DynamicMessage, depth: usize) -> Result<Value, FormatError> {
        if depth > self.max_depth {
            return Err(FormatError::TooDeep {
                format: Format::Protobuf,
                limit: self.max_depth,
                line: None,
                column: None,
            });
        }
        self.budget.value()?;
        let mut object = Map::new();
        for (field, value) in message.fields() {
            self.budget.text(field.name().len())?;
            let kind = field.kind();
            let converted = match value {
                Proto::Map(entries) => {
                    let value_kind = kind
                        .as_message()
                        .map(|entry| entry.map_entry_value_field().kind());
                    self.map(entries, value_kind.as_ref(), depth)?
                }
                Proto::List(items) => {
                    self.budget.value()?;
                    let mut array = Vec::with_capacity(items.len());
                    for item in items {
                        array.push(self.value(item, Some(&kind), depth)?);
                    }
                    Value::Array(array)
                }
                single => self.value(single, Some(&kind), depth)?,
            };
            object.insert(field.name().to_owned(), converted);
        }
        Ok(Value::Object(object))
    }

    fn map(
        &mut self,
        entries: &std::collections::HashMap<MapKey, Proto>,
        value_kind: Option<&Kind>,
        depth: usize,
    ) -> Result<Value, FormatError> {
        self.budget.value()?;
        // Sorted by key, so the output does not depend on hash order.
        let sorted: BTreeMap<&MapKey, &Proto> = entries.iter().collect();
        let mut object = Map::new();
        for (key, value) in sorted {
            let key = match key {
                MapKey::Bool(b) => b.to_string(),
                MapKey::I32(n) => n.to_string(),
                MapKey::I64(n) => n.to_string(),
                MapKey::U32(n) => n.to_string(),
                MapKey::U64(n) => n.to_string(),
                MapKey::String(s) => s.clone(),
            };
            self.budget.text(key.len())?;
            let value = self.value(value, value_kind, depth)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }

    fn value(
        &mut self,
        value: &Proto,
        kind: Option<&Kind>,
        depth: usize,
    ) -> Result<Value, FormatError> {
        if let Proto::Message(message) = value {
            return self.message(message, depth + 1);
        }
        self.budget.value()?;
        Ok(match value {
            Proto::Bool(b) => Value::Bool(*b),
            Proto::I32(n) => Value::from(*n),
            Proto::I64(n) => Value::from(*n),
            Proto::U32(n) => Value::from(*n),
            Proto::U64(n) => Value::from(*n),
            Proto::F32(n) => float(f64::from(*n)),
            Proto::F64(n) => float(*n),
            Proto::String(s) => Value::String(s.clone()),
            Proto::Bytes(bytes) => {
                Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            Proto::EnumNumber(number) => match kind.and_then(Kind::as_enum) {
                Some(descriptor) => match descriptor.get_value(*number) {
                    Some(known) => Value::String(known.name().to_owned()),
                    None => Value::from(*number),
                },
                None => Value::from(*number),
            },
            Proto::List(items) => {
                let mut array = Vec::with_capacity(items.len());
                for item in items {
                    array.push(self.value(item, kind, depth)?);
                }
                Value::Array(array)
            }
            Proto::Map(entries) => self.map(entries, kind, depth)?,
            Proto::Message(_) => unreachable!("handled above"),
        })
    }
}

fn float(value: f64) -> Value {
    match Number::from_f64(value) {
        Some(number) => Value::Number(number),
        None if value.is_nan() => Value::String("NaN".into()),
        None if value > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{self, Schema, load_schema};
    use serde_json::json;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/formats")
            .join(name)
    }

    fn varint(mut value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return out;
            }
            out.push(byte | 0x80);
        }
    }

    /// A length-delimited field.
    fn bytes_field(number: u64, bytes: &[u8]) -> Vec<u8> {
        let mut out = varint(number << 3 | 2);
        out.extend(varint(bytes.len() as u64));
        out.extend_from_slice(bytes);
        out
    }

    fn varint_field(number: u64, value: u64) -> Vec<u8> {
        let mut out = varint(number << 3);
        out.extend(varint(value));
        out
    }

    #[test]
    fn records_list_fixture_decodes_the_first_message() {
        // engine case fmt-protobuf-schema-file: test-records.proto defines RecordsList, Record
        let text = std::fs::read_to_string(fixture("test-records.proto")).unwrap();
        for needle in [
            "message RecordsList",
            "message Record",
            "string id",
            "string title",
            "string description",
        ] {
            assert!(text.contains(needle), "{needle}");
        }
        let schema = load_schema(Format::Protobuf, &fixture("test-records.proto")).unwrap();
        assert_eq!(message_name(&schema), "test.records.RecordsList");
        let mut record = bytes_field(1, b"1");
        record.extend(bytes_field(2, b"Alpha"));
        record.extend(bytes_field(3, b"First"));
        let mut body = bytes_field(1, &record);
        body.extend(bytes_field(
            1,
            &[
                bytes_field(1, b"2"),
                bytes_field(2, b"Beta"),
                bytes_field(3, b""),
            ]
            .concat(),
        ));
        let tree = formats::to_json(Format::Protobuf, &body, Some(&schema)).unwrap();
        assert_eq!(
            tree,
            json!({"records": [
                {"id": "1", "title": "Alpha", "description": "First"},
                {"id": "2", "title": "Beta", "description": ""}
            ]})
        );
    }

    fn message_name(schema: &Schema) -> String {
        match &schema.kind {
            crate::formats::SchemaKind::Protobuf(proto) => proto.message_name().to_owned(),
            #[allow(unreachable_patterns)]
            _ => panic!("not a protobuf schema"),
        }
    }

    #[test]
    fn relative_paths_resolve_against_the_working_directory() {
        // `cargo test` runs in the package directory.
        let schema = load_schema(
            Format::Protobuf,
            Path::new("tests/formats/test-records.proto"),
        )
        .unwrap();
        assert_eq!(message_name(&schema), "test.records.RecordsList");
        assert_eq!(
            schema.path(),
            Some(Path::new("tests/formats/test-records.proto"))
        );
    }

    #[test]
    fn schema_is_required() {
        // engine case fmt-protobuf-schema-required (absent and empty outputSchema)
        let format = Format::from_label("Protobuf").unwrap();
        let expected =
            "Protobuf format requires outputSchema to be specified in operation specification";
        let err = formats::to_json(format, b"{}", None).unwrap_err();
        assert_eq!(err.to_string(), expected);
        let err = formats::to_json(format, b"{}", Some(&Schema::text(""))).unwrap_err();
        assert_eq!(err.to_string(), expected);
    }

    #[test]
    fn missing_schema_file_uses_the_engine_wording() {
        // engine case fmt-missing-schema-files (protobuf half)
        let err =
            load_schema(Format::Protobuf, Path::new("schemas/does-not-exist.proto")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("Failed to deserialize Protocol Buffer"),
            "{message}"
        );
        assert!(message.contains("Proto schema file not found"), "{message}");
        assert!(
            message.contains("schemas/does-not-exist.proto"),
            "{message}"
        );
    }

    #[test]
    fn imports_enums_maps_oneofs_and_scalars() {
        let schema = load_schema(Format::Protobuf, &fixture("catalog.proto")).unwrap();
        assert_eq!(message_name(&schema), "test.catalog.Catalog");
        let price = [bytes_field(1, b"EUR"), varint_field(2, 12)].concat();
        let product = [bytes_field(1, b"sku-1"), bytes_field(2, &price)].concat();
        let entry_a = [bytes_field(1, b"b"), varint_field(2, 3)].concat();
        let entry_b = [bytes_field(1, b"a"), varint_field(2, 5)].concat();
        let mut body = bytes_field(1, b"Spring");
        body.extend(bytes_field(2, &product));
        body.extend(bytes_field(3, &entry_a));
        body.extend(bytes_field(3, &entry_b));
        body.extend(varint_field(4, 1 << 40));
        body.extend(bytes_field(5, &[0, 1, 2]));
        body.extend(varint_field(6, 1));
        body.extend(bytes_field(8, b"+33"));
        body.extend(bytes_field(9, &[varint(3), varint(4)].concat())); // packed sint32: -2, 2
        body.extend(varint(10 << 3 | 1));
        body.extend(0.5f64.to_le_bytes());
        let tree = formats::to_json(Format::Protobuf, &body, Some(&schema)).unwrap();
        assert_eq!(
            tree,
            json!({
                "name": "Spring",
                "products": [{"sku": "sku-1", "price": {"currency": "EUR", "units": 12}}],
                "stock": {"a": 5, "b": 3},
                "revision": 1_099_511_627_776i64,
                "checksum": "AAEC",
                "status": "STATUS_ACTIVE",
                "phone": "+33",
                "deltas": [-2, 2],
                "ratio": 0.5
            })
        );
        // Default values are not on the wire in proto3, so they are absent.
        let tree = formats::to_json(Format::Protobuf, &[], Some(&schema)).unwrap();
        assert_eq!(tree, json!({}));
        // Unknown enum numbers stay numbers; unknown fields are skipped.
        let mut body = varint_field(6, 7);
        body.extend(varint_field(99, 1));
        let tree = formats::to_json(Format::Protobuf, &body, Some(&schema)).unwrap();
        assert_eq!(tree, json!({"status": 7}));
    }

    #[test]
    fn malformed_bodies_are_errors() {
        let schema = load_schema(Format::Protobuf, &fixture("test-records.proto")).unwrap();
        // engine case fmt-missing-schema-files body 01 02 03, here with a real schema
        let err =
            formats::to_json(Format::Protobuf, &[0x01, 0x02, 0x03], Some(&schema)).unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::Syntax {
                    format: Format::Protobuf,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("test.records.RecordsList"),
            "{err}"
        );
        // A length far beyond the body.
        let mut body = varint(1 << 3 | 2);
        body.extend(varint(1 << 40));
        let err = formats::to_json(Format::Protobuf, &body, Some(&schema)).unwrap_err();
        assert!(matches!(err, FormatError::Syntax { .. }), "{err}");
    }

    #[test]
    fn deep_nesting_is_an_error() {
        let dir = std::env::temp_dir().join(format!("naftiko-proto-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tree.proto");
        std::fs::write(
            &path,
            "syntax = \"proto3\";\nmessage Tree { Tree child = 1; }\n",
        )
        .unwrap();
        let schema = load_schema(Format::Protobuf, &path).unwrap();
        let mut body = Vec::new();
        for _ in 0..500 {
            body = bytes_field(1, &body);
        }
        let err = formats::to_json(Format::Protobuf, &body, Some(&schema)).unwrap_err();
        assert!(matches!(err, FormatError::TooDeep { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn invalid_proto_files_are_errors() {
        let dir = std::env::temp_dir().join(format!("naftiko-proto-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.proto");
        std::fs::write(
            &path,
            "syntax = \"proto3\";\nmessage A { Missing m = 1; }\n",
        )
        .unwrap();
        let err = load_schema(Format::Protobuf, &path).unwrap_err();
        assert!(matches!(err, FormatError::SchemaInvalid { .. }), "{err}");
        let empty = dir.join("empty.proto");
        std::fs::write(&empty, "syntax = \"proto3\";\nenum E { E_0 = 0; }\n").unwrap();
        let err = load_schema(Format::Protobuf, &empty).unwrap_err();
        assert!(
            err.to_string().contains("declares no message type"),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
