//! `avro`: one binary-encoded datum (no object container header), decoded against the
//! `.avsc` schema of `outputSchema`.
//!
//! apache-avro parses the schema; the datum is decoded here, so every length and block
//! count is checked against the bytes left and the budget before anything is allocated
//! (apache-avro's own decoder allocates a claimed length up front, up to a process-wide
//! cap of 512 MB). The result is the datum's natural JSON: records are objects, unions the
//! value of their branch, enums their symbol, bytes and fixed base64, decimals strings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use apache_avro::Schema;
use apache_avro::schema::Namespace;
use base64::Engine as _;
use serde_json::{Map, Number, Value};

use super::{Budget, Format, FormatError, Limits};

/// The magic bytes of an Avro object container file.
const CONTAINER_MAGIC: &[u8] = b"Obj\x01";

/// A parsed `.avsc` schema, with its named types indexed by full name.
#[derive(Clone, Debug)]
pub(super) struct AvroSchema {
    schema: Schema,
    names: HashMap<String, Schema>,
    path: PathBuf,
}

impl AvroSchema {
    pub(super) fn load(path: &Path) -> Result<AvroSchema, FormatError> {
        let text = std::fs::read_to_string(path).map_err(|source| FormatError::SchemaRead {
            format: Format::Avro,
            path: path.to_owned(),
            source,
        })?;
        let invalid = |message: String| FormatError::SchemaInvalid {
            format: Format::Avro,
            path: path.to_owned(),
            message,
        };
        let schema = Schema::parse_str(&text).map_err(|e| invalid(e.to_string()))?;
        let mut names = HashMap::new();
        collect_names(&schema, &None, &mut names, 0).map_err(invalid)?;
        Ok(AvroSchema {
            schema,
            names,
            path: path.to_owned(),
        })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }
}

/// Indexes records, enums and fixed types by full name, for `Ref`s.
fn collect_names(
    schema: &Schema,
    enclosing: &Namespace,
    names: &mut HashMap<String, Schema>,
    depth: usize,
) -> Result<(), String> {
    if depth > 256 {
        return Err("the schema nests deeper than 256 levels".into());
    }
    match schema {
        Schema::Record(record) => {
            let name = record.name.fully_qualified_name(enclosing);
            names.insert(name.fullname(None), schema.clone());
            for field in &record.fields {
                collect_names(&field.schema, &name.namespace, names, depth + 1)?;
            }
        }
        Schema::Enum(inner) => {
            let name = inner.name.fully_qualified_name(enclosing);
            names.insert(name.fullname(None), schema.clone());
        }
        Schema::Fixed(inner) => {
            let name = inner.name.fully_qualified_name(enclosing);
            names.insert(name.fullname(None), schema.clone());
        }
        Schema::Array(array) => collect_names(&array.items, enclosing, names, depth + 1)?,
        Schema::Map(map) => collect_names(&map.types, enclosing, names, depth + 1)?,
        Schema::Union(union) => {
            for variant in union.variants() {
                collect_names(variant, enclosing, names, depth + 1)?;
            }
        }
        Schema::Decimal(decimal) => collect_names(&decimal.inner, enclosing, names, depth + 1)?,
        _ => {}
    }
    Ok(())
}

pub(super) fn to_json(
    schema: &AvroSchema,
    body: &[u8],
    limits: &Limits,
) -> Result<Value, FormatError> {
    let mut decoder = Decoder {
        input: body,
        at: 0,
        names: &schema.names,
        budget: Budget::new(Format::Avro, body.len(), limits),
        max_depth: limits.max_depth,
    };
    let container = || {
        syntax(
            0,
            "the body is an Avro object container file; outputRawFormat avro takes one binary-encoded datum"
                .into(),
        )
    };
    let value = match decoder.value(&schema.schema, &None, 0) {
        Ok(value) => value,
        Err(_) if body.starts_with(CONTAINER_MAGIC) => return Err(container()),
        Err(e) => return Err(e),
    };
    if decoder.at != body.len() {
        if body.starts_with(CONTAINER_MAGIC) {
            return Err(container());
        }
        return Err(syntax(
            decoder.at,
            format!("{} bytes left after the datum", body.len() - decoder.at),
        ));
    }
    Ok(value)
}

fn syntax(at: usize, message: String) -> FormatError {
    FormatError::Syntax {
        format: Format::Avro,
        line: None,
        column: None,
        message: format!("at byte {at}: {message}"),
    }
}

struct Decoder<'a> {
    input: &'a [u8],
    at: usize,
    names: &'a HashMap<String, Schema>,
    budget: Budget,
    max_depth: usize,
}

impl<'a> Decoder<'a> {
    /// Decodes one value. Kept small: compound types go to their own functions, so each
    /// level of nesting costs little stack (the depth is capped by `Limits::max_depth`).
    fn value(
        &mut self,
        schema: &Schema,
        enclosing: &Namespace,
        depth: usize,
    ) -> Result<Value, FormatError> {
        if depth > self.max_depth {
            return Err(FormatError::TooDeep {
                format: Format::Avro,
                limit: self.max_depth,
                line: None,
                column: None,
            });
        }
        self.budget.value()?;
        match schema {
            Schema::Array(array) => self.array(&array.items, enclosing, depth),
            Schema::Map(map) => self.map(&map.types, enclosing, depth),
            Schema::Union(union) => {
                let variant = self.branch(union.variants())?;
                self.value(variant, enclosing, depth + 1)
            }
            Schema::Record(record) => self.record(record, enclosing, depth),
            Schema::Ref { name } => {
                let (named, namespace) = self.named(name, enclosing)?;
                self.value(named, &namespace, depth + 1)
            }
            scalar => self.scalar(scalar),
        }
    }

    #[inline(never)]
    fn array(
        &mut self,
        items: &Schema,
        enclosing: &Namespace,
        depth: usize,
    ) -> Result<Value, FormatError> {
        let mut values = Vec::new();
        while let Some(count) = self.block()? {
            for _ in 0..count {
                values.push(self.value(items, enclosing, depth + 1)?);
            }
        }
        Ok(Value::Array(values))
    }

    #[inline(never)]
    fn map(
        &mut self,
        values: &Schema,
        enclosing: &Namespace,
        depth: usize,
    ) -> Result<Value, FormatError> {
        let mut object = Map::new();
        while let Some(count) = self.block()? {
            for _ in 0..count {
                let key = self.string()?.to_owned();
                let value = self.value(values, enclosing, depth + 1)?;
                object.insert(key, value);
            }
        }
        Ok(Value::Object(object))
    }

    #[inline(never)]
    fn record(
        &mut self,
        record: &apache_avro::schema::RecordSchema,
        enclosing: &Namespace,
        depth: usize,
    ) -> Result<Value, FormatError> {
        let namespace = record.name.fully_qualified_name(enclosing).namespace;
        let mut object = Map::new();
        for field in &record.fields {
            let value = self.value(&field.schema, &namespace, depth + 1)?;
            object.insert(field.name.clone(), value);
        }
        Ok(Value::Object(object))
    }

    #[inline(never)]
    fn branch<'s>(&mut self, variants: &'s [Schema]) -> Result<&'s Schema, FormatError> {
        let start = self.at;
        let index = self.long()?;
        usize::try_from(index)
            .ok()
            .and_then(|i| variants.get(i))
            .ok_or_else(|| {
                syntax(
                    start,
                    format!(
                        "union branch {index} out of range ({} branches)",
                        variants.len()
                    ),
                )
            })
    }

    /// The schema a `Ref` names, and the namespace inside it.
    #[inline(never)]
    fn named(
        &self,
        name: &apache_avro::schema::Name,
        enclosing: &Namespace,
    ) -> Result<(&'a Schema, Namespace), FormatError> {
        let full = name.fully_qualified_name(enclosing);
        let names: &'a HashMap<String, Schema> = self.names;
        match names.get(&full.fullname(None)) {
            Some(named) => Ok((named, full.namespace)),
            None => Err(syntax(
                self.at,
                format!("unknown type `{}`", full.fullname(None)),
            )),
        }
    }

    /// Every type that holds no other value.
    #[inline(never)]
    fn scalar(&mut self, schema: &Schema) -> Result<Value, FormatError> {
        Ok(match schema {
            Schema::Null => Value::Null,
            Schema::Boolean => match self.take(1)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                other => return Err(syntax(self.at - 1, format!("invalid boolean byte {other}"))),
            },
            Schema::Int | Schema::Date | Schema::TimeMillis => Value::from(self.int()?),
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => Value::from(self.long()?),
            Schema::Float => {
                let bytes = self.take(4)?;
                float(f64::from(f32::from_le_bytes([
                    bytes[0], bytes[1], bytes[2], bytes[3],
                ])))
            }
            Schema::Double => {
                let bytes = self.take(8)?;
                let mut array = [0u8; 8];
                array.copy_from_slice(bytes);
                float(f64::from_le_bytes(array))
            }
            Schema::Bytes | Schema::BigDecimal => Value::String(base64(self.bytes()?)),
            Schema::String => Value::String(self.string()?.to_owned()),
            Schema::Uuid => {
                let start = self.at;
                let bytes = self.bytes()?;
                if bytes.len() == 16 {
                    Value::String(uuid(bytes))
                } else {
                    let text = std::str::from_utf8(bytes)
                        .map_err(|_| syntax(start, "uuid is not valid UTF-8".into()))?;
                    Value::String(text.to_owned())
                }
            }
            Schema::Decimal(decimal) => {
                let start = self.at;
                let unscaled = match decimal.inner.as_ref() {
                    Schema::Fixed(fixed) => self.take(fixed.size)?,
                    _ => self.bytes()?,
                };
                Value::String(
                    decimal_string(unscaled, decimal.scale)
                        .ok_or_else(|| syntax(start, "decimal wider than 128 bits".into()))?,
                )
            }
            Schema::Duration => {
                let bytes = self.take(12)?;
                let part = |i: usize| {
                    u32::from_le_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]])
                };
                let mut object = Map::new();
                object.insert("months".into(), Value::from(part(0)));
                object.insert("days".into(), Value::from(part(4)));
                object.insert("millis".into(), Value::from(part(8)));
                Value::Object(object)
            }
            Schema::Enum(inner) => {
                let start = self.at;
                let index = self.int()?;
                let symbol = usize::try_from(index)
                    .ok()
                    .and_then(|i| inner.symbols.get(i))
                    .ok_or_else(|| {
                        syntax(
                            start,
                            format!(
                                "enum index {index} out of range ({} symbols)",
                                inner.symbols.len()
                            ),
                        )
                    })?;
                Value::String(symbol.clone())
            }
            Schema::Fixed(fixed) => Value::String(base64(self.take(fixed.size)?)),
            Schema::Array(_)
            | Schema::Map(_)
            | Schema::Union(_)
            | Schema::Record(_)
            | Schema::Ref { .. } => {
                return Err(syntax(self.at, "internal: compound type as scalar".into()));
            }
        })
    }

    fn take(&mut self, len: usize) -> Result<&[u8], FormatError> {
        let left = self.input.len() - self.at;
        if len > left {
            return Err(syntax(
                self.at,
                format!("needs {len} more bytes, {left} left"),
            ));
        }
        let bytes = &self.input[self.at..self.at + len];
        self.at += len;
        Ok(bytes)
    }

    /// A zigzag varint of at most 64 bits.
    fn long(&mut self) -> Result<i64, FormatError> {
        let start = self.at;
        let mut value: u64 = 0;
        for shift in (0..64).step_by(7) {
            let byte = *self
                .input
                .get(self.at)
                .ok_or_else(|| syntax(start, "truncated integer".into()))?;
            self.at += 1;
            if shift == 63 && byte > 1 {
                return Err(syntax(start, "integer overflows 64 bits".into()));
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err(syntax(start, "integer overflows 64 bits".into()))
    }

    fn int(&mut self) -> Result<i32, FormatError> {
        let start = self.at;
        let value = self.long()?;
        i32::try_from(value).map_err(|_| syntax(start, format!("{value} overflows an int")))
    }

    /// A length prefix, checked against the bytes left.
    fn len(&mut self) -> Result<usize, FormatError> {
        let start = self.at;
        let len = self.long()?;
        usize::try_from(len)
            .ok()
            .filter(|len| *len <= self.input.len() - self.at)
            .ok_or_else(|| {
                syntax(
                    start,
                    format!(
                        "length {len} with {} bytes left",
                        self.input.len() - self.at
                    ),
                )
            })
    }

    fn bytes(&mut self) -> Result<&[u8], FormatError> {
        let len = self.len()?;
        self.take(len)
    }

    fn string(&mut self) -> Result<&str, FormatError> {
        let start = self.at;
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| syntax(start, "string is not valid UTF-8".into()))
    }

    /// The item count of the next array or map block, `None` at the end.
    fn block(&mut self) -> Result<Option<u64>, FormatError> {
        let count = self.long()?;
        if count == 0 {
            return Ok(None);
        }
        if count < 0 {
            // A negative count is followed by the block's size in bytes.
            self.long()?;
        }
        // Items are counted against the budget as they are read, never reserved up front.
        Ok(Some(count.unsigned_abs()))
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

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn uuid(bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A two's complement big-endian unscaled value with `scale` digits after the point.
fn decimal_string(unscaled: &[u8], scale: usize) -> Option<String> {
    if unscaled.len() > 16 {
        return None;
    }
    let negative = unscaled.first().is_some_and(|b| b & 0x80 != 0);
    let mut value: i128 = if negative { -1 } else { 0 };
    for byte in unscaled {
        value = (value << 8) | i128::from(*byte);
    }
    let digits = value.unsigned_abs().to_string();
    let digits = if digits.len() <= scale {
        format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
    } else {
        digits
    };
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    let sign = if value < 0 { "-" } else { "" };
    Some(if scale == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{fraction}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{self, Schema as FormatSchema, load_schema};
    use serde_json::json;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/formats")
            .join(name)
    }

    fn schema_from(text: &str) -> FormatSchema {
        let dir = std::env::temp_dir().join(format!(
            "naftiko-avro-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "{:x}.avsc",
            text.bytes().map(u64::from).sum::<u64>()
        ));
        std::fs::write(&path, text).unwrap();
        let schema = load_schema(Format::Avro, &path).unwrap();
        std::fs::remove_file(&path).unwrap();
        schema
    }

    fn decode(schema: &FormatSchema, body: &[u8]) -> Result<Value, FormatError> {
        formats::to_json(Format::Avro, body, Some(schema))
    }

    /// Zigzag varint of `n`.
    fn long(n: i64) -> Vec<u8> {
        let mut value = ((n << 1) ^ (n >> 63)) as u64;
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

    fn string(s: &str) -> Vec<u8> {
        let mut out = long(s.len() as i64);
        out.extend_from_slice(s.as_bytes());
        out
    }

    #[test]
    fn records_list_fixture_decodes() {
        // The engine's schemas/test-records.avsc: RecordsList{records: [Record{id, title, description?}]}
        let schema = load_schema(Format::Avro, &fixture("test-records.avsc")).unwrap();
        let mut body = long(2); // one block of two records
        body.extend(string("1"));
        body.extend(string("Alpha"));
        body.extend(long(1)); // union branch 1: string
        body.extend(string("First"));
        body.extend(string("2"));
        body.extend(string("Beta"));
        body.extend(long(0)); // union branch 0: null
        body.extend(long(0)); // end of array
        let tree = decode(&schema, &body).unwrap();
        assert_eq!(
            tree,
            json!({"records": [
                {"id": "1", "title": "Alpha", "description": "First"},
                {"id": "2", "title": "Beta", "description": null}
            ]})
        );
    }

    #[test]
    fn schema_is_required() {
        // engine case fmt-avro-schema-required: empty outputSchema
        let format = Format::from_label("Avro").unwrap();
        let err = formats::to_json(format, b"{}", Some(&FormatSchema::text(""))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Avro format requires outputSchema to be specified in operation specification"
        );
        let err = formats::to_json(format, b"{}", None).unwrap_err();
        assert!(matches!(err, FormatError::SchemaRequired { .. }), "{err}");
        let err = load_schema(format, Path::new("")).unwrap_err();
        assert!(matches!(err, FormatError::SchemaRequired { .. }), "{err}");
        let err = formats::to_json(format, b"{}", Some(&FormatSchema::text("x.avsc"))).unwrap_err();
        assert!(matches!(err, FormatError::SchemaMismatch { .. }), "{err}");
    }

    #[test]
    fn missing_schema_file_uses_the_engine_wording() {
        // engine case fmt-missing-schema-files (avro half)
        let err = load_schema(Format::Avro, Path::new("schemas/does-not-exist.avsc")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("Failed to deserialize Avro data"),
            "{message}"
        );
        assert!(message.contains("Avro schema file not found"), "{message}");
        assert!(message.contains("schemas/does-not-exist.avsc"), "{message}");
    }

    #[test]
    fn invalid_schema_file_is_an_error() {
        let dir = std::env::temp_dir().join(format!("naftiko-avro-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.avsc");
        std::fs::write(
            &path,
            r#"{"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}"#,
        )
        .unwrap();
        let err = load_schema(Format::Avro, &path).unwrap_err();
        assert!(matches!(err, FormatError::SchemaInvalid { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn primitive_and_logical_types() {
        let schema = schema_from(
            r#"{"type": "record", "name": "All", "namespace": "t", "fields": [
                {"name": "b", "type": "boolean"},
                {"name": "i", "type": "int"},
                {"name": "l", "type": "long"},
                {"name": "f", "type": "float"},
                {"name": "d", "type": "double"},
                {"name": "by", "type": "bytes"},
                {"name": "s", "type": "string"},
                {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
                {"name": "fx", "type": {"type": "fixed", "name": "Two", "size": 2}},
                {"name": "m", "type": {"type": "map", "values": "int"}},
                {"name": "dec", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}},
                {"name": "date", "type": {"type": "int", "logicalType": "date"}},
                {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
                {"name": "u", "type": {"type": "string", "logicalType": "uuid"}},
                {"name": "n", "type": "null"},
                {"name": "again", "type": "Color"},
                {"name": "nan", "type": "double"}
            ]}"#,
        );
        let mut body = vec![1];
        body.extend(long(-3));
        body.extend(long(1 << 40));
        body.extend(1.5f32.to_le_bytes());
        body.extend((-0.25f64).to_le_bytes());
        body.extend(long(3));
        body.extend([0, 1, 2]);
        body.extend(string("héllo"));
        body.extend(long(1));
        body.extend([0xAB, 0xCD]);
        body.extend(long(-1)); // map block of 1, with a byte size
        body.extend(long(4));
        body.extend(string("k"));
        body.extend(long(7));
        body.extend(long(0));
        body.extend(long(2));
        body.extend((-12345i16).to_be_bytes()); // -123.45
        body.extend(long(19000));
        body.extend(long(1_700_000_000_000));
        body.extend(string("123e4567-e89b-12d3-a456-426614174000"));
        body.extend(long(0));
        body.extend(f64::NAN.to_le_bytes());
        let tree = decode(&schema, &body).unwrap();
        assert_eq!(
            tree,
            json!({"b": true, "i": -3, "l": 1_099_511_627_776i64, "f": 1.5, "d": -0.25,
                   "by": "AAEC", "s": "héllo", "e": "GREEN", "fx": "q80=", "m": {"k": 7},
                   "dec": "-123.45", "date": 19000, "ts": 1_700_000_000_000i64,
                   "u": "123e4567-e89b-12d3-a456-426614174000", "n": null, "again": "RED",
                   "nan": "NaN"})
        );
    }

    #[test]
    fn recursive_named_types_resolve() {
        let schema = schema_from(
            r#"{"type": "record", "name": "Node", "namespace": "x", "fields": [
                {"name": "v", "type": "int"},
                {"name": "next", "type": ["null", "Node"]}
            ]}"#,
        );
        let mut body = long(1);
        body.extend(long(1));
        body.extend(long(2));
        body.extend(long(0));
        let tree = decode(&schema, &body).unwrap();
        assert_eq!(tree, json!({"v": 1, "next": {"v": 2, "next": null}}));
        // A chain deeper than the limit is an error, not a stack overflow.
        let mut body = Vec::new();
        for _ in 0..1000 {
            body.extend(long(1));
            body.extend(long(1));
        }
        body.extend(long(1));
        body.extend(long(0));
        let err = decode(&schema, &body).unwrap_err();
        assert!(matches!(err, FormatError::TooDeep { .. }), "{err}");
    }

    #[test]
    fn decimal_strings() {
        assert_eq!(decimal_string(&[0x04, 0xD2], 2).unwrap(), "12.34");
        assert_eq!(decimal_string(&[0xFF], 0).unwrap(), "-1");
        assert_eq!(decimal_string(&[0x05], 3).unwrap(), "0.005");
        assert_eq!(decimal_string(&[], 1).unwrap(), "0.0");
        assert!(decimal_string(&[1; 17], 0).is_none());
    }

    #[test]
    fn forged_lengths_never_allocate() {
        let schema = schema_from(
            r#"{"type": "record", "name": "S", "fields": [{"name": "s", "type": "string"}]}"#,
        );
        let body = long(400 * 1024 * 1024); // claims a 400 MiB string in a 5-byte body
        let err = decode(&schema, &body).unwrap_err();
        assert!(
            err.to_string()
                .contains("length 419430400 with 0 bytes left"),
            "{err}"
        );
        let err = decode(&schema, &long(-1)).unwrap_err();
        assert!(matches!(err, FormatError::Syntax { .. }), "{err}");
    }

    #[test]
    fn arrays_of_empty_items_stop_at_the_budget() {
        let schema = schema_from(r#"{"type": "array", "items": "null"}"#);
        let mut body = long(i64::MAX / 2);
        body.extend(long(0));
        let err = decode(&schema, &body).unwrap_err();
        assert!(matches!(err, FormatError::TooLarge { .. }), "{err}");
    }

    #[test]
    fn truncated_trailing_and_invalid_data() {
        let schema = load_schema(Format::Avro, &fixture("test-records.avsc")).unwrap();
        // engine case fmt-missing-schema-files body 01 02 03, here with a real schema
        let err = decode(&schema, &[0x01, 0x02, 0x03]).unwrap_err();
        assert!(
            matches!(
                err,
                FormatError::Syntax {
                    format: Format::Avro,
                    ..
                }
            ),
            "{err}"
        );
        let mut body = long(0);
        body.push(9);
        let err = decode(&schema, &body).unwrap_err();
        assert!(
            err.to_string().contains("1 bytes left after the datum"),
            "{err}"
        );
        let err = decode(&schema, &[0xFF; 11]).unwrap_err();
        assert!(err.to_string().contains("overflows 64 bits"), "{err}");
        let mut body = long(1);
        body.extend(string("1"));
        body.extend(string("t"));
        body.extend(long(5));
        let err = decode(&schema, &body).unwrap_err();
        assert!(
            err.to_string().contains("union branch 5 out of range"),
            "{err}"
        );
        let mut body = long(1);
        body.extend([2, 0xC3, 0x28]);
        let err = decode(&schema, &body).unwrap_err();
        assert!(err.to_string().contains("not valid UTF-8"), "{err}");
    }

    #[test]
    fn container_files_are_named_as_such() {
        let schema = load_schema(Format::Avro, &fixture("test-records.avsc")).unwrap();
        let err = decode(&schema, b"Obj\x01\x04\x16avro.schema").unwrap_err();
        assert!(err.to_string().contains("object container file"), "{err}");
    }
}
