//! Upstream bodies in other formats, converted to a JSON tree (`outputRawFormat`).
//!
//! A consumed operation may declare `outputRawFormat` (and, for some formats,
//! `outputSchema`); its answer is then converted to a [`serde_json::Value`] before the
//! output mappings (JSONPath) apply, as the reference engine does
//! (`io.naftiko.engine.util.Converter`). One function does it for every format:
//!
//! ```
//! use naftiko_runtime::formats::{self, Format};
//!
//! let tree = formats::to_json(Format::Json, br#"{"status":"ok"}"#, None)?;
//! assert_eq!(tree["status"], "ok");
//! # Ok::<(), formats::FormatError>(())
//! ```
//!
//! Conversion takes the body's bytes and returns a value: no global state, no I/O (schema
//! files are read once, by [`load_schema`]), so it can run on any thread and be measured per
//! KB of input.
//!
//! # Formats and features
//!
//! JSON needs no feature. Each other parser sits behind its own cargo feature of
//! `naftiko-runtime`, so a JSON-only service compiles none of them; without the feature,
//! [`to_json`] answers [`FormatError::FeatureDisabled`] naming the feature to enable.
//!
//! | label | feature | result |
//! |---|---|---|
//! | `json` | none | the document as is (an empty body is `null`) |
//! | `xml` | `xml` | the root element's **content**, always an object (its name is not a key: `$.vessel` on `<vessels><vessel>..</vessel></vessels>`; a root holding only text gives `{"": text}`); child elements become fields, repeated siblings an array (a single child stays an object), attributes plain fields, leaf text a string, an element with attributes and text keeps the text under `""`, an empty element is `""`, `xsi:nil="true"` is `null` |
//! | `yaml` | `yaml` | the first YAML document, numbers and booleans typed as in YAML |
//! | `csv` `tsv` `psv` | `csv` | the first row is the header; every other row an object `{header: value}`, all values strings; the separator is a comma, a tab or a pipe |
//! | `html` | `html` | `{"tables": [[row, ...], ...]}` from `<table>` elements, scoped by the CSS selector in `outputSchema` |
//! | `markdown` | `markdown` (implies `yaml`) | `{"frontMatter", "tables", "sections"}`; `outputSchema` is a heading prefix filtering `sections` |
//! | `avro` | `avro` | one binary-encoded datum (no container header) decoded with the `.avsc` schema of `outputSchema` |
//! | `protobuf` | `protobuf` | one message, the first message type of the `.proto` file of `outputSchema` |
//! | `binary` | none | not converted: see [`binary_body`] |
//!
//! `all-formats` enables them all.
//!
//! ## Table contract (HTML and Markdown)
//!
//! Headers are the header row's cells, trimmed; a table whose headers are all blank is
//! skipped. Each body row becomes an object from header to trimmed cell text: a missing cell
//! is `""`, an extra cell is dropped, duplicate headers keep the last cell (at the first
//! header's position). HTML: headers are the `th` cells of the first `thead` row, else of the
//! first `tr`; rows are `tbody tr`, else every `tr`; a row containing any `th`, or no `td`,
//! is skipped. Without a selector every `table` counts; with one, the matched `table`
//! elements and the tables inside the other matched elements (a table inside two matched
//! elements counts twice, as in the engine). Markdown: only top-level GFM tables.
//!
//! ## Markdown
//!
//! Front matter is read only when the text starts with `---\n` and a later `\n---\n`
//! exists (CRLF counts as LF); it is parsed as YAML and anything but a mapping gives `{}`.
//! `sections` has one entry per heading, `{"heading", "level", "content"}`: `content` is
//! the plain text of the top-level blocks up to the next heading of any level, tables
//! excluded, non-empty blocks joined with `\n`; soft line breaks are spaces, hard ones
//! `\n`, inline markup is dropped (code spans keep their text, code blocks and raw HTML
//! contribute nothing, the items of a list are concatenated as the engine concatenates
//! them). Text before the first heading is ignored. Only the GFM table extension is on
//! (no strikethrough, task lists or footnotes), as in the engine.
//!
//! # Hostile input
//!
//! Every converter returns an error, never panics, on malformed input, and is bounded:
//!
//! - nesting deeper than [`Limits::max_depth`] (256) is an error ([`FormatError::TooDeep`]);
//!   JSON and YAML stop earlier, at serde_json's and serde_yaml's own limit of 128;
//! - XML entities are never expanded: the DTD is skipped, only the five predefined entities
//!   and character references are decoded, any other `&name;` is an error (so a
//!   billion-laughs document fails on its first reference, having allocated nothing);
//! - the tree built is bounded by the input: at most [`Limits::values_per_byte`] values per
//!   input byte and [`Limits::text_per_byte`] bytes of strings per input byte (plus a small
//!   allowance), which stops YAML alias bombs, Avro arrays of zero-byte items, HTML and
//!   Markdown tables that repeat long headers over empty rows, and the HTML parser's
//!   re-opening of formatting elements ([`FormatError::TooLarge`]). The size of the body
//!   itself is bounded by the caller (the HTTP client caps bodies at 16 MiB);
//! - the HTML parser is fed in 1 KiB chunks and stopped at the first chunk that goes over
//!   the depth or size limit, so its own quadratic cases (very deep or misnested markup)
//!   never run long;
//! - Avro is decoded here, against the parsed schema, with every length checked against
//!   the bytes left, so a forged length never allocates more than the body.
//!
//! # Where we deliberately differ from the engine
//!
//! - **Protobuf and Avro work from every surface.** The engine converts them only for REST
//!   operations; its text-based entry point (MCP tools, resources, aggregate functions)
//!   rejects them with "cannot be converted from a text string". We convert bytes
//!   everywhere.
//! - **Errors instead of silent nulls or partial trees.** A body the format cannot parse is
//!   a [`FormatError`] with the format and, where the parser gives one, the line and
//!   column. Binary asked for a JSON tree is an error, not an empty tree.
//! - **Schema files are loaded once, up front** ([`load_schema`]), from a path resolved by
//!   the caller (relative paths against the working directory); the engine reads them on
//!   every call from the working directory, then the Java classpath. A missing file keeps
//!   the engine's wording ("Failed to deserialize Protocol Buffer: Proto schema file not
//!   found: ...").
//! - **XML**: entities other than the predefined ones are an error (Jackson/Woodstox would
//!   expand internal DTD entities within limits); bodies must be UTF-8 (a BOM is skipped;
//!   the engine honours a declared charset); content after the root element is ignored, as
//!   the engine ignores it.
//! - **YAML** scalars follow YAML 1.2 (serde_yaml): `yes`/`no`/`on`/`off` stay strings,
//!   where Jackson's YAML 1.1 reading makes them booleans; `.nan` and `.inf` become the
//!   strings `"NaN"`, `"Infinity"`, `"-Infinity"` (JSON has no such numbers); mapping keys
//!   keep their text. Only the first document of a stream is read, as in the engine.
//! - **CSV/TSV/PSV**: blank lines are skipped (Jackson reads one as a row holding only the
//!   first column, `""`). Quoting is the csv crate's, a little more lenient than Jackson's:
//!   an unterminated quoted field runs to the end of the body and text after a closing
//!   quote is kept (`"x"y` is `xy`), where Jackson reports an error. Short rows give objects
//!   without the missing columns and a row with more fields than the header is an error
//!   (with one trailing blank field tolerated), as in Jackson.
//! - **Limits**: a body nested deeper than [`Limits::max_depth`], or whose tree would
//!   outgrow the budget set by its size, is an error where the engine would try to convert
//!   it with Jackson's own, larger, limits.
//! - **HTML**: selectors are standard CSS (scraper); jsoup's own extensions (`:contains()`,
//!   `:eq()`, ...) are reported as invalid selectors. Cell text follows jsoup's `text()`
//!   (whitespace collapsed, `<br>` and block elements as spaces, script and style left out).
//! - **Protobuf**: the message decoded is the first message type declared in the file, as
//!   in Jackson's schema loader; fields appear only when present on the wire, under their
//!   `.proto` names; enums are their value names, 64-bit integers numbers, bytes base64,
//!   and map fields JSON objects keyed by the map key, sorted.
//! - **Avro**: the natural JSON of the datum: a union is its branch's value (not
//!   `{"type": value}`), bytes and fixed are base64, enums their symbols, decimals strings,
//!   `uuid` a string, `duration` `{months, days, millis}`. Any top-level schema is accepted
//!   (the engine only records); bytes left after the datum are an error (the engine ignores
//!   them), and an object container file is reported as such.
//! - **JSON**: numbers beyond 64 bits become floating point (serde_json without
//!   arbitrary precision), where Jackson keeps big integers.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value;

mod binary;
mod json;
mod json_scan;

#[cfg(feature = "avro")]
mod avro;
#[cfg(feature = "csv")]
mod delimited;
#[cfg(feature = "html")]
mod html;
#[cfg(feature = "markdown")]
mod markdown;
#[cfg(feature = "protobuf")]
mod protobuf;
#[cfg(any(feature = "html", feature = "markdown"))]
mod table;
#[cfg(feature = "xml")]
mod xml;
#[cfg(feature = "yaml")]
mod yaml;

pub use binary::{BinaryBody, DEFAULT_MAX_BINARY_SIZE, binary_body, parse_binary_size};
pub use json_scan::{MAX_DEPTH as MAX_PASSED_JSON_DEPTH, is_json};

/// The `outputRawFormat` of a consumed operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// JSON, read as is.
    Json,
    /// XML: the root element's content (`xml` feature).
    Xml,
    /// YAML: the first document (`yaml` feature).
    Yaml,
    /// Comma-separated values, the first row the header (`csv` feature).
    Csv,
    /// Tab-separated values, the first row the header (`csv` feature).
    Tsv,
    /// Pipe-separated values, the first row the header (`csv` feature).
    Psv,
    /// The tables of an HTML page, scoped by a CSS selector (`html` feature).
    Html,
    /// Markdown: front matter, tables and sections (`markdown` feature).
    Markdown,
    /// One binary-encoded Avro datum, decoded with an `.avsc` schema (`avro` feature).
    Avro,
    /// One Protobuf message, decoded with a `.proto` schema (`protobuf` feature).
    Protobuf,
    /// Raw bytes passed through with their media type (beta5); never converted to JSON.
    Binary,
}

impl Format {
    /// Every format, in the order of the enum.
    pub const ALL: [Format; 11] = [
        Format::Json,
        Format::Xml,
        Format::Yaml,
        Format::Csv,
        Format::Tsv,
        Format::Psv,
        Format::Html,
        Format::Markdown,
        Format::Avro,
        Format::Protobuf,
        Format::Binary,
    ];

    /// The format named by an `outputRawFormat` label, compared case-insensitively like the
    /// engine (`json` `xml` `yaml` `csv` `tsv` `psv` `html` `markdown` `protobuf` `avro`
    /// `binary`). Any other label is an error worded like the engine's
    /// (`Unsupported "ini" format specified`).
    pub fn from_label(label: &str) -> Result<Format, FormatError> {
        Format::ALL
            .into_iter()
            .find(|format| format.label().eq_ignore_ascii_case(label))
            .ok_or_else(|| FormatError::UnknownFormat {
                label: label.to_owned(),
            })
    }

    /// Like [`Format::from_label`], with an absent `outputRawFormat` meaning JSON.
    pub fn from_optional_label(label: Option<&str>) -> Result<Format, FormatError> {
        label.map_or(Ok(Format::Json), Format::from_label)
    }

    /// The label as the spec writes it (lower case).
    pub const fn label(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Xml => "xml",
            Format::Yaml => "yaml",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Psv => "psv",
            Format::Html => "html",
            Format::Markdown => "markdown",
            Format::Avro => "avro",
            Format::Protobuf => "protobuf",
            Format::Binary => "binary",
        }
    }

    /// The cargo feature of `naftiko-runtime` this format needs (`None` for JSON and binary).
    pub const fn feature(self) -> Option<&'static str> {
        match self {
            Format::Json | Format::Binary => None,
            Format::Xml => Some("xml"),
            Format::Yaml => Some("yaml"),
            Format::Csv | Format::Tsv | Format::Psv => Some("csv"),
            Format::Html => Some("html"),
            Format::Markdown => Some("markdown"),
            Format::Avro => Some("avro"),
            Format::Protobuf => Some("protobuf"),
        }
    }

    /// Whether this build of the runtime has this format's parser compiled in.
    pub const fn is_compiled_in(self) -> bool {
        match self {
            Format::Json | Format::Binary => true,
            Format::Xml => cfg!(feature = "xml"),
            Format::Yaml => cfg!(feature = "yaml"),
            Format::Csv | Format::Tsv | Format::Psv => cfg!(feature = "csv"),
            Format::Html => cfg!(feature = "html"),
            Format::Markdown => cfg!(feature = "markdown"),
            Format::Avro => cfg!(feature = "avro"),
            Format::Protobuf => cfg!(feature = "protobuf"),
        }
    }

    /// Whether [`to_json`] applies (every format but [`Format::Binary`]).
    pub const fn converts_to_json(self) -> bool {
        !matches!(self, Format::Binary)
    }

    /// Whether `outputSchema` must name a schema file ([`load_schema`]).
    pub const fn needs_schema_file(self) -> bool {
        matches!(self, Format::Avro | Format::Protobuf)
    }

    /// The engine's capitalised name, used in its "requires outputSchema" message.
    const fn engine_name(self) -> &'static str {
        match self {
            Format::Avro => "Avro",
            Format::Protobuf => "Protobuf",
            other => other.label(),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Format {
    type Err = FormatError;

    fn from_str(label: &str) -> Result<Format, FormatError> {
        Format::from_label(label)
    }
}

/// The format-specific `outputSchema` of a consumed operation.
///
/// For HTML it is a CSS selector and for Markdown a heading prefix ([`Schema::text`]); for
/// Avro and Protobuf a schema file, loaded once by [`load_schema`]. Other formats ignore it.
#[derive(Clone, Debug)]
pub struct Schema {
    kind: SchemaKind,
}

#[derive(Clone, Debug)]
enum SchemaKind {
    Text(String),
    #[cfg(feature = "avro")]
    Avro(Box<avro::AvroSchema>),
    #[cfg(feature = "protobuf")]
    Protobuf(protobuf::ProtoSchema),
}

impl Schema {
    /// `outputSchema` as written: a CSS selector (HTML) or a heading prefix (Markdown).
    pub fn text(value: impl Into<String>) -> Schema {
        Schema {
            kind: SchemaKind::Text(value.into()),
        }
    }

    /// The text given to [`Schema::text`], if this is not a loaded schema file.
    pub fn as_text(&self) -> Option<&str> {
        match &self.kind {
            SchemaKind::Text(text) => Some(text),
            #[allow(unreachable_patterns)]
            _ => None,
        }
    }

    /// The file a loaded schema was read from.
    pub fn path(&self) -> Option<&Path> {
        match &self.kind {
            SchemaKind::Text(_) => None,
            #[cfg(feature = "avro")]
            SchemaKind::Avro(schema) => Some(schema.path()),
            #[cfg(feature = "protobuf")]
            SchemaKind::Protobuf(schema) => Some(schema.path()),
        }
    }

    /// Checks, ahead of any body, that this schema suits `format`: a loaded file of the
    /// right kind for Avro and Protobuf, a valid CSS selector for HTML. Generated code can
    /// call it at start-up so a bad spec fails before the first request.
    pub fn check(&self, format: Format) -> Result<(), FormatError> {
        if !format.is_compiled_in() {
            return Err(FormatError::feature_disabled(format));
        }
        match format {
            Format::Avro | Format::Protobuf => self.file_for(format).map(|_| ()),
            Format::Html => {
                #[cfg(feature = "html")]
                if let Some(selector) = self.text_for(format)? {
                    html::parse_selector(selector)?;
                }
                Ok(())
            }
            Format::Markdown => self.text_for(format).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// The selector or prefix for HTML/Markdown (`None` when blank, as in the engine).
    #[allow(dead_code)]
    fn text_for(&self, format: Format) -> Result<Option<&str>, FormatError> {
        match &self.kind {
            SchemaKind::Text(text) if java_is_blank(text) => Ok(None),
            SchemaKind::Text(text) => Ok(Some(text)),
            #[allow(unreachable_patterns)]
            _ => Err(FormatError::SchemaMismatch {
                format,
                expected: if format == Format::Html {
                    "a CSS selector"
                } else {
                    "a heading prefix"
                },
            }),
        }
    }

    /// The loaded schema file for Avro/Protobuf, or the engine's "requires outputSchema".
    fn file_for(&self, format: Format) -> Result<&SchemaKind, FormatError> {
        match &self.kind {
            SchemaKind::Text(text) if text.is_empty() => {
                Err(FormatError::SchemaRequired { format })
            }
            SchemaKind::Text(_) => Err(FormatError::SchemaMismatch {
                format,
                expected: "a schema file loaded with `formats::load_schema`",
            }),
            #[cfg(feature = "avro")]
            kind @ SchemaKind::Avro(_) if format == Format::Avro => Ok(kind),
            #[cfg(feature = "protobuf")]
            kind @ SchemaKind::Protobuf(_) if format == Format::Protobuf => Ok(kind),
            #[allow(unreachable_patterns)]
            _ => Err(FormatError::SchemaMismatch {
                format,
                expected: if format == Format::Avro {
                    "an Avro schema (.avsc)"
                } else {
                    "a Protobuf schema (.proto)"
                },
            }),
        }
    }
}

/// Loads the `outputSchema` file of an Avro (`.avsc`, JSON) or Protobuf (`.proto`, compiled
/// at run time) operation. A relative path is resolved against the working directory.
///
/// An empty path gives the engine's "requires outputSchema" error, a missing file its
/// "schema file not found" wording.
pub fn load_schema(format: Format, path: &Path) -> Result<Schema, FormatError> {
    if !format.needs_schema_file() {
        return Err(FormatError::SchemaMismatch {
            format,
            expected: "text (a CSS selector or heading prefix), not a schema file",
        });
    }
    if !format.is_compiled_in() {
        return Err(FormatError::feature_disabled(format));
    }
    if path.as_os_str().is_empty() {
        return Err(FormatError::SchemaRequired { format });
    }
    if !path.is_file() {
        return Err(FormatError::SchemaNotFound {
            format,
            path: path.to_owned(),
        });
    }
    match format {
        #[cfg(feature = "avro")]
        Format::Avro => Ok(Schema {
            kind: SchemaKind::Avro(Box::new(avro::AvroSchema::load(path)?)),
        }),
        #[cfg(feature = "protobuf")]
        Format::Protobuf => Ok(Schema {
            kind: SchemaKind::Protobuf(protobuf::ProtoSchema::load(path)?),
        }),
        _ => Err(FormatError::feature_disabled(format)),
    }
}

/// Bounds on what a conversion may build (see "Hostile input" in the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of elements, blocks or values accepted (default 256). JSON keeps
    /// serde_json's fixed limit of 128 and does not consult it.
    pub max_depth: usize,
    /// JSON values built per input byte, plus 4096 (default 2).
    pub values_per_byte: usize,
    /// Bytes of strings built per input byte, plus 1 MiB (default 32: CSV and table headers
    /// are repeated in every row).
    pub text_per_byte: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 256,
            values_per_byte: 2,
            text_per_byte: 32,
        }
    }
}

/// Converts an upstream body in `format` to a JSON tree, with the default [`Limits`].
///
/// `schema` is the operation's `outputSchema`: required for Avro and Protobuf (loaded with
/// [`load_schema`]), optional for HTML and Markdown ([`Schema::text`]), ignored otherwise.
pub fn to_json(format: Format, body: &[u8], schema: Option<&Schema>) -> Result<Value, FormatError> {
    to_json_with_limits(format, body, schema, &Limits::default())
}

/// [`to_json`] with explicit limits.
pub fn to_json_with_limits(
    format: Format,
    body: &[u8],
    schema: Option<&Schema>,
    limits: &Limits,
) -> Result<Value, FormatError> {
    if !format.converts_to_json() {
        return Err(FormatError::NotConvertible { format });
    }
    if !format.is_compiled_in() {
        return Err(FormatError::feature_disabled(format));
    }
    let _ = limits;
    match format {
        Format::Json => json::to_json(body),
        #[cfg(feature = "xml")]
        Format::Xml => xml::to_json(text(format, body)?, limits),
        #[cfg(feature = "yaml")]
        Format::Yaml => yaml::to_json(text(format, body)?, limits),
        #[cfg(feature = "csv")]
        Format::Csv => delimited::to_json(format, text(format, body)?, b',', limits),
        #[cfg(feature = "csv")]
        Format::Tsv => delimited::to_json(format, text(format, body)?, b'\t', limits),
        #[cfg(feature = "csv")]
        Format::Psv => delimited::to_json(format, text(format, body)?, b'|', limits),
        #[cfg(feature = "html")]
        Format::Html => {
            let selector = match schema {
                Some(schema) => schema.text_for(format)?,
                None => None,
            };
            html::to_json(text(format, body)?, selector, limits)
        }
        #[cfg(feature = "markdown")]
        Format::Markdown => {
            let prefix = match schema {
                Some(schema) => schema.text_for(format)?,
                None => None,
            };
            markdown::to_json(text(format, body)?, prefix, limits)
        }
        Format::Avro | Format::Protobuf => {
            let schema = schema.ok_or(FormatError::SchemaRequired { format })?;
            match schema.file_for(format)? {
                #[cfg(feature = "avro")]
                SchemaKind::Avro(schema) => avro::to_json(schema, body, limits),
                #[cfg(feature = "protobuf")]
                SchemaKind::Protobuf(schema) => protobuf::to_json(schema, body, limits),
                _ => Err(FormatError::feature_disabled(format)),
            }
        }
        _ => {
            let _ = schema;
            Err(FormatError::feature_disabled(format))
        }
    }
}

/// Why a body could not be converted, or a format or schema not used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// An `outputRawFormat` label that is not a format (the engine's wording).
    #[error("Unsupported \"{label}\" format specified")]
    UnknownFormat {
        /// The label as written.
        label: String,
    },
    /// The format's parser is not compiled into this build.
    #[error("outputRawFormat `{format}` needs the `{feature}` feature of naftiko-runtime")]
    FeatureDisabled {
        /// The format asked for.
        format: Format,
        /// The cargo feature that compiles its parser in.
        feature: &'static str,
    },
    /// `binary` bodies bypass conversion.
    #[error(
        "outputRawFormat `{format}` is not converted to JSON: binary bodies pass through as bytes (see `formats::binary_body`)"
    )]
    NotConvertible {
        /// The format asked for ([`Format::Binary`]).
        format: Format,
    },
    /// Avro or Protobuf without `outputSchema` (the engine's wording).
    #[error(
        "{} format requires outputSchema to be specified in operation specification",
        format.engine_name()
    )]
    SchemaRequired {
        /// The format that needs the schema.
        format: Format,
    },
    /// The `outputSchema` file does not exist (the engine's wording).
    #[error("{}", schema_not_found(*format, path))]
    SchemaNotFound {
        /// The format the schema is for.
        format: Format,
        /// The path looked up.
        path: PathBuf,
    },
    /// The `outputSchema` file could not be read.
    #[error("cannot read the {format} schema {}: {source}", path.display())]
    SchemaRead {
        /// The format the schema is for.
        format: Format,
        /// The schema file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The `outputSchema` file is not a valid schema.
    #[error("invalid {format} schema {}: {message}", path.display())]
    SchemaInvalid {
        /// The format the schema is for.
        format: Format,
        /// The schema file.
        path: PathBuf,
        /// What the schema parser reported.
        message: String,
    },
    /// An `outputSchema` of the wrong kind for the format.
    #[error("the outputSchema of outputRawFormat `{format}` must be {expected}")]
    SchemaMismatch {
        /// The format the schema is for.
        format: Format,
        /// What the format takes as `outputSchema`.
        expected: &'static str,
    },
    /// The HTML `outputSchema` is not a CSS selector we can use.
    #[error("invalid CSS selector `{selector}` in outputSchema: {message}")]
    Selector {
        /// The selector as written.
        selector: String,
        /// Why it is rejected.
        message: String,
    },
    /// A text format whose body is not UTF-8.
    #[error("{format} body is not valid UTF-8 at line {line}, column {column}")]
    NotUtf8 {
        /// The body's format.
        format: Format,
        /// The line of the first invalid byte (1-based).
        line: usize,
        /// Its column, in characters (1-based).
        column: usize,
    },
    /// The body is not valid in its format.
    #[error("invalid {format} body{}: {message}", at(*line, *column))]
    Syntax {
        /// The body's format.
        format: Format,
        /// The line of the error (1-based), when the parser gives one.
        line: Option<usize>,
        /// Its column (1-based), when the parser gives one.
        column: Option<usize>,
        /// What the parser reported.
        message: String,
    },
    /// The body nests deeper than the limit.
    #[error("{format} body nests deeper than {limit} levels{}", at(*line, *column))]
    TooDeep {
        /// The body's format.
        format: Format,
        /// The deepest nesting allowed, in levels.
        limit: usize,
        /// The line where the limit was passed (1-based), when known.
        line: Option<usize>,
        /// Its column (1-based), when known.
        column: Option<usize>,
    },
    /// The converted tree would grow past the bound set by the body's size.
    #[error(
        "{format} body expands past the conversion limit of {limit} {what} for a body of {input} bytes"
    )]
    TooLarge {
        /// The body's format.
        format: Format,
        /// What ran out (`values`, `bytes of text`, `nodes`, ...).
        what: &'static str,
        /// The bound, in units of `what`.
        limit: usize,
        /// The body's size, in bytes.
        input: usize,
    },
    /// A `maxBinarySize` that does not match `^\d+(\.\d+)?(B|KiB|MiB|GiB)$`.
    #[error("invalid maxBinarySize `{value}`: {reason}")]
    BinarySize {
        /// The `maxBinarySize` as written.
        value: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// A binary body larger than `maxBinarySize`.
    #[error("binary body of {size} bytes exceeds maxBinarySize ({max} bytes)")]
    BinaryTooLarge {
        /// The body's size, in bytes.
        size: usize,
        /// The `maxBinarySize`, in bytes.
        max: usize,
    },
}

impl FormatError {
    fn feature_disabled(format: Format) -> FormatError {
        FormatError::FeatureDisabled {
            format,
            feature: format.feature().unwrap_or("none"),
        }
    }

    /// The format the error is about, when there is one.
    pub fn format(&self) -> Option<Format> {
        match self {
            FormatError::FeatureDisabled { format, .. }
            | FormatError::NotConvertible { format }
            | FormatError::SchemaRequired { format }
            | FormatError::SchemaNotFound { format, .. }
            | FormatError::SchemaRead { format, .. }
            | FormatError::SchemaInvalid { format, .. }
            | FormatError::SchemaMismatch { format, .. }
            | FormatError::NotUtf8 { format, .. }
            | FormatError::Syntax { format, .. }
            | FormatError::TooDeep { format, .. }
            | FormatError::TooLarge { format, .. } => Some(*format),
            FormatError::Selector { .. } => Some(Format::Html),
            FormatError::BinarySize { .. } | FormatError::BinaryTooLarge { .. } => {
                Some(Format::Binary)
            }
            FormatError::UnknownFormat { .. } => None,
        }
    }
}

fn schema_not_found(format: Format, path: &Path) -> String {
    match format {
        Format::Protobuf => format!(
            "Failed to deserialize Protocol Buffer: Proto schema file not found: {}",
            path.display()
        ),
        Format::Avro => format!(
            "Failed to deserialize Avro data: Avro schema file not found: {}",
            path.display()
        ),
        other => format!("{other} schema file not found: {}", path.display()),
    }
}

fn at(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(" at line {line}, column {column}"),
        (Some(line), None) => format!(" at line {line}"),
        _ => String::new(),
    }
}

/// The body as text: UTF-8, a byte order mark skipped.
#[allow(dead_code)]
fn text(format: Format, body: &[u8]) -> Result<&str, FormatError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    std::str::from_utf8(body).map_err(|e| {
        let valid = &body[..e.valid_up_to()];
        // The prefix is valid UTF-8 by construction.
        let (line, column) = line_column(std::str::from_utf8(valid).unwrap_or(""), valid.len());
        FormatError::NotUtf8 {
            format,
            line,
            column,
        }
    })
}

/// 1-based line and column (in characters) of a byte offset of `text`.
#[allow(dead_code)]
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// `String.trim()` of Java: strips the characters up to U+0020.
#[allow(dead_code)]
fn java_trim(text: &str) -> &str {
    text.trim_matches(|c: char| c <= ' ')
}

/// `String.isBlank()` of Java: only `Character.isWhitespace` characters (Unicode spaces
/// but not the no-break ones, and the ASCII separators U+001C to U+001F).
#[allow(dead_code)]
fn java_is_blank(text: &str) -> bool {
    text.chars().all(|c| {
        (c.is_whitespace() && !matches!(c, '\u{a0}' | '\u{2007}' | '\u{202f}'))
            || ('\u{1c}'..='\u{1f}').contains(&c)
    })
}

/// What a conversion may still build: counts values and string bytes against [`Limits`].
#[allow(dead_code)]
struct Budget {
    format: Format,
    input: usize,
    values_left: usize,
    values_limit: usize,
    text_left: usize,
    text_limit: usize,
}

#[allow(dead_code)]
impl Budget {
    fn new(format: Format, input: usize, limits: &Limits) -> Budget {
        let values_limit = input
            .saturating_mul(limits.values_per_byte)
            .saturating_add(4096);
        let text_limit = input
            .saturating_mul(limits.text_per_byte)
            .saturating_add(1 << 20);
        Budget {
            format,
            input,
            values_left: values_limit,
            values_limit,
            text_left: text_limit,
            text_limit,
        }
    }

    /// One more JSON value.
    fn value(&mut self) -> Result<(), FormatError> {
        self.values(1)
    }

    fn values(&mut self, count: usize) -> Result<(), FormatError> {
        match self.values_left.checked_sub(count) {
            Some(left) => {
                self.values_left = left;
                Ok(())
            }
            None => Err(FormatError::TooLarge {
                format: self.format,
                what: "values",
                limit: self.values_limit,
                input: self.input,
            }),
        }
    }

    /// `len` more bytes of strings (keys or values) that are copies, not input.
    fn text(&mut self, len: usize) -> Result<(), FormatError> {
        match self.text_left.checked_sub(len) {
            Some(left) => {
                self.text_left = left;
                Ok(())
            }
            None => Err(FormatError::TooLarge {
                format: self.format,
                what: "bytes of text",
                limit: self.text_limit,
                input: self.input,
            }),
        }
    }
}

/// Adds `value` under `key`, turning a repeated key into an array (XML siblings).
#[cfg(feature = "xml")]
fn insert_repeated(map: &mut serde_json::Map<String, Value>, key: String, value: Value) {
    use serde_json::map::Entry;
    match map.entry(key) {
        Entry::Vacant(entry) => {
            entry.insert(value);
        }
        Entry::Occupied(mut entry) => match entry.get_mut() {
            Value::Array(items) => items.push(value),
            existing => {
                let first = existing.take();
                *existing = Value::Array(vec![first, value]);
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_case_insensitive_like_the_engine() {
        // engine case fmt-format-labels
        let cases = [
            ("yaml", Format::Yaml),
            ("tsv", Format::Tsv),
            ("psv", Format::Psv),
            ("html", Format::Html),
            ("markdown", Format::Markdown),
            ("protobuf", Format::Protobuf),
            ("avro", Format::Avro),
            ("JSON", Format::Json),
            ("json", Format::Json),
            ("Xml", Format::Xml),
            ("CSV", Format::Csv),
            ("binary", Format::Binary),
        ];
        for (label, format) in cases {
            assert_eq!(Format::from_label(label).unwrap(), format, "{label}");
            assert_eq!(label.parse::<Format>().unwrap(), format);
        }
        let err = Format::from_label("ini").unwrap_err();
        assert_eq!(err.to_string(), "Unsupported \"ini\" format specified");
        assert!(Format::from_label("").is_err());
        assert_eq!(Format::from_optional_label(None).unwrap(), Format::Json);
        assert_eq!(
            Format::from_optional_label(Some("Yaml")).unwrap(),
            Format::Yaml
        );
    }

    #[test]
    fn every_label_round_trips() {
        for format in Format::ALL {
            assert_eq!(Format::from_label(format.label()).unwrap(), format);
            assert_eq!(format.to_string(), format.label());
            assert_eq!(
                format.feature().is_none(),
                matches!(format, Format::Json | Format::Binary)
            );
        }
    }

    #[test]
    fn json_and_binary_are_always_compiled_in() {
        assert!(Format::Json.is_compiled_in());
        assert!(Format::Binary.is_compiled_in());
        assert_eq!(Format::Xml.is_compiled_in(), cfg!(feature = "xml"));
        assert_eq!(Format::Tsv.is_compiled_in(), cfg!(feature = "csv"));
        assert_eq!(
            Format::Protobuf.is_compiled_in(),
            cfg!(feature = "protobuf")
        );
    }

    #[test]
    fn binary_is_not_converted() {
        let err = to_json(Format::Binary, b"\x89PNG", None).unwrap_err();
        assert!(matches!(err, FormatError::NotConvertible { .. }), "{err}");
        assert!(err.to_string().contains("binary_body"), "{err}");
    }

    #[test]
    fn a_disabled_format_names_its_feature() {
        for format in Format::ALL {
            if format.is_compiled_in() {
                continue;
            }
            let err = to_json(format, b"x", None).unwrap_err();
            let feature = format.feature().unwrap();
            assert_eq!(
                err.to_string(),
                format!(
                    "outputRawFormat `{format}` needs the `{feature}` feature of naftiko-runtime"
                )
            );
        }
        // Without the feature the message is fixed whatever the build: check it directly.
        let err = FormatError::feature_disabled(Format::Xml);
        assert_eq!(
            err.to_string(),
            "outputRawFormat `xml` needs the `xml` feature of naftiko-runtime"
        );
    }

    #[test]
    fn schema_required_uses_the_engine_wording() {
        // engine cases fmt-avro-schema-required, fmt-protobuf-schema-required
        let err = FormatError::SchemaRequired {
            format: Format::Avro,
        };
        assert_eq!(
            err.to_string(),
            "Avro format requires outputSchema to be specified in operation specification"
        );
        let err = FormatError::SchemaRequired {
            format: Format::Protobuf,
        };
        assert_eq!(
            err.to_string(),
            "Protobuf format requires outputSchema to be specified in operation specification"
        );
    }

    #[test]
    fn schema_files_are_only_for_avro_and_protobuf() {
        let err = load_schema(Format::Html, Path::new("x.proto")).unwrap_err();
        assert!(matches!(err, FormatError::SchemaMismatch { .. }), "{err}");
        assert!(Schema::text("table.x").path().is_none());
        assert_eq!(Schema::text("table.x").as_text(), Some("table.x"));
    }

    #[test]
    fn text_rejects_invalid_utf8_with_its_position() {
        let err = text(Format::Csv, b"a,b\nc,\xff\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "csv body is not valid UTF-8 at line 2, column 3"
        );
        assert_eq!(text(Format::Csv, b"\xEF\xBB\xBFa,b").unwrap(), "a,b");
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé\nx", 0), (1, 1));
        assert_eq!(line_column("ab\ncé\nx", 3), (2, 1));
        assert_eq!(line_column("ab\ncé\nx", 7), (3, 1));
        assert_eq!(line_column("ab\ncéd", 7), (2, 4));
    }

    #[test]
    fn budget_counts_values_and_text() {
        let limits = Limits {
            max_depth: 8,
            values_per_byte: 1,
            text_per_byte: 0,
        };
        let mut budget = Budget::new(Format::Json, 10, &limits);
        budget.values(4106).unwrap();
        let err = budget.value().unwrap_err();
        assert!(
            matches!(err, FormatError::TooLarge { what: "values", .. }),
            "{err}"
        );
        budget.text(1 << 20).unwrap();
        assert!(budget.text(1).is_err());
    }

    #[test]
    fn schemas_and_errors_cross_threads() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<Schema>();
        send_sync::<Format>();
        send_sync::<Limits>();
        send_sync::<FormatError>();
        send_sync::<BinaryBody>();
    }

    #[test]
    fn java_trim_and_blank() {
        assert_eq!(java_trim("\t a b \u{1}"), "a b");
        assert_eq!(java_trim("\u{a0}x\u{a0}"), "\u{a0}x\u{a0}");
        assert!(java_is_blank(" \t\n\u{2003}\u{1f}"));
        assert!(java_is_blank(""));
        assert!(!java_is_blank(" x "));
        assert!(!java_is_blank("\u{a0}"));
    }
}
