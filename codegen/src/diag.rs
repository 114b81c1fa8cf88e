//! Located diagnostics, rendered the way rustc renders its own.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A position in a spec file (1-based line and column, in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// The line, from 1.
    pub line: usize,
    /// The column, from 1, in characters.
    pub column: usize,
}

/// The text of one spec file, kept to show the offending line.
#[derive(Debug)]
pub struct SourceFile {
    /// The path it was read from.
    pub path: PathBuf,
    /// Its whole text.
    pub text: String,
}

impl SourceFile {
    /// The text of line number `line` (from 1), if the file has it.
    pub fn line(&self, line: usize) -> Option<&str> {
        self.text.lines().nth(line.checked_sub(1)?)
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The spec cannot be used: nothing is generated.
    Error,
    /// Code is generated, but something is likely wrong.
    Warning,
}

/// One finding about a spec: what is wrong, where, and (when we know) how to fix it.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Whether it is an error or a warning.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// The file it is in, when known.
    pub file: Option<Arc<SourceFile>>,
    /// Where in the file, when known.
    pub pos: Option<Pos>,
    /// How to fix it, when we know.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error with no location yet.
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            file: None,
            pos: None,
            help: None,
        }
    }

    /// A warning with no location yet.
    pub fn warning(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(message)
        }
    }

    /// Located at `pos` in `file`.
    pub fn at(mut self, file: &Arc<SourceFile>, pos: Option<Pos>) -> Self {
        self.file = Some(file.clone());
        self.pos = pos;
        self
    }

    /// With a `help:` line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Whether it is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `path:line:col`, as editors and `cargo::error=` expect.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(match self.pos {
            Some(p) => format!("{}:{}:{}", display_path(&file.path), p.line, p.column),
            None => display_path(&file.path),
        })
    }
}

fn display_path(path: &Path) -> String {
    path.display().to_string()
}

impl fmt::Display for Diagnostic {
    /// Renders like rustc:
    ///
    /// ```text
    /// error: unknown operation `lago-customers.nope`
    ///   --> specs/x.yaml:238:9
    ///     |
    /// 238 |         call: lago-customers.nope
    ///     |         ^
    ///     = help: ...
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        writeln!(f, "{level}: {}", self.message)?;
        let line_text = match (&self.file, self.pos) {
            (Some(file), Some(pos)) => file.line(pos.line).map(|t| (pos, t)),
            _ => None,
        };
        let gutter = line_text
            .map(|(p, _)| p.line.to_string().len())
            .unwrap_or(1);
        if let Some(loc) = self.location() {
            writeln!(f, "{:gutter$}--> {loc}", "")?;
        }
        if let Some((pos, text)) = line_text {
            let text = text.trim_end();
            let caret_pad: String = text
                .chars()
                .take(pos.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            writeln!(f, "{:gutter$} |", "")?;
            writeln!(f, "{} | {text}", pos.line)?;
            writeln!(f, "{:gutter$} | {caret_pad}^", "")?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "{:gutter$} = help: {help}", "")?;
        }
        Ok(())
    }
}

/// Every diagnostic found in one run; an `Err` of the public API.
#[derive(Debug, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }
    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }
    /// How many are errors.
    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }
    /// Every diagnostic, in the order found.
    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let n = self.error_count();
        if n > 0 {
            writeln!(
                f,
                "error: the spec has {n} error{}",
                if n == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
