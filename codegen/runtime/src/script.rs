//! Script steps (`type: script`) in JavaScript, on embedded QuickJS, under the scripting
//! governance of the control port.
//!
//! A run: permission, language and location (the step's, else the governance defaults),
//! files resolved inside the location ([`crate::folder`] rules: plain segments only, links
//! may not lead out), dependencies then the file evaluated in one global scope with
//! `context` set, and the global `result` as the step's output. Files are read at each run,
//! since the control port may move `defaultLocation`.
//!
//! Differences from the engine, on purpose:
//! - without `management.scripting.enabled`, scripting is on only when `NAFTIKO_SCRIPTING`
//!   (or `IKANOS_SCRIPTING`) is `true`; the engine allows anything but `false`;
//! - only JavaScript runs; Python and Groovy steps fail, naming JavaScript;
//! - the statement limit counts what QuickJS counts (function calls and loop back-jumps),
//!   checked every 10 000 of them, so it stops a loop late by at most that much;
//! - a run may allocate [`MEMORY_LIMIT_BYTES`]; the engine has no memory limit;
//! - a limit of 0 (timeout or statements) means the default, never "no limit".

#[cfg(feature = "serve")]
mod control;
mod governance;
mod js;

use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

#[cfg(feature = "serve")]
pub use control::router;
pub use governance::{Governance, LANGUAGES, Policy, Settings};

use crate::Error;
use crate::folder::{self, Lookup};

/// Memory one script run may allocate (64 MiB): plenty for reshaping JSON, and a bound on
/// what a runaway script can take from the process.
pub const MEMORY_LIMIT_BYTES: usize = 64 << 20;

/// Extra time the caller waits for a run's thread after the timeout: the interrupt handler
/// stops scripts, but a long native call (one huge regular expression) is only seen after.
const GRACE: Duration = Duration::from_secs(1);

/// One script step as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct ScriptSpec {
    /// The step's name, for messages.
    pub step: &'static str,
    /// The step's language (`javascript`); the governance's default otherwise.
    pub language: Option<&'static str>,
    /// A `file:` URI of the folder holding `file` and `dependencies`.
    pub location: Option<&'static str>,
    /// The script, relative to the location (`/`-separated).
    pub file: &'static str,
    /// Scripts evaluated before `file`, in order, in the same global scope.
    pub dependencies: &'static [&'static str],
}

/// Runs a script step with `context` as its global `context`; its output is the global
/// `result` (`None` when unset or null). Every permitted run counts in the statistics.
///
/// The script runs on a blocking thread, so a looping script never holds up the async
/// workers; it is stopped by its statement limit or its timeout.
pub async fn run(
    gov: &Governance,
    spec: &ScriptSpec,
    context: Value,
) -> Result<Option<Value>, Error> {
    let settings = gov.settings();
    permitted(&settings, spec.step)?;
    let (started, clock) = (SystemTime::now(), Instant::now());
    let out = execute(settings, *spec, context).await;
    gov.record(started, clock.elapsed(), out.is_ok());
    out
}

/// A script's `context`: the entries in order, a later one replacing an earlier one of the
/// same name; `null` values (a lookup without a match, an unset input) are left out.
pub fn context(entries: Vec<(&str, Value)>) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in entries {
        if !v.is_null() {
            out.insert(k.to_owned(), v);
        }
    }
    Value::Object(out)
}

/// Whether a script step named `step` may run now: the error it would fail with if not.
pub fn require_permitted(gov: &Governance, step: &str) -> Result<(), Error> {
    permitted(&gov.settings(), step)
}

fn fail(step: &str, message: impl std::fmt::Display) -> Error {
    Error::Script(format!("Script step '{step}' {message}"))
}

/// The spec's `enabled`, else the environment: only `true` enables.
fn permitted(s: &Settings, step: &str) -> Result<(), Error> {
    let why = match s.enabled {
        Some(true) => return Ok(()),
        Some(false) => "via management.scripting.enabled=false",
        None => {
            let on = ["NAFTIKO_SCRIPTING", "IKANOS_SCRIPTING"]
                .iter()
                .any(|v| std::env::var(v).is_ok_and(|v| v.trim().eq_ignore_ascii_case("true")));
            if on {
                return Ok(());
            }
            "by default: set management.scripting.enabled: true on the control adapter, \
             or NAFTIKO_SCRIPTING=true"
        }
    };
    Err(fail(
        step,
        format!("requires scripting support. Scripting is disabled {why}"),
    ))
}

async fn execute(s: Settings, spec: ScriptSpec, context: Value) -> Result<Option<Value>, Error> {
    let limits = js::Limits {
        timeout: Duration::from_millis(positive(s.timeout_ms, Policy::DEFAULT.timeout_ms)),
        statements: positive(s.statement_limit, Policy::DEFAULT.statement_limit),
        memory_bytes: MEMORY_LIMIT_BYTES,
    };
    let timeout_ms = limits.timeout.as_millis();
    let statements = limits.statements;
    let task = tokio::task::spawn_blocking(move || {
        let sources = sources(&s, &spec)?;
        js::eval(&sources, &context, limits).map_err(|f| match f {
            js::Failure::StatementLimit => fail(
                spec.step,
                format!("exceeded the statement limit ({statements})"),
            ),
            js::Failure::Timeout => fail(
                spec.step,
                format!("exceeded the timeout limit ({timeout_ms} ms)"),
            ),
            js::Failure::Script(m) => fail(spec.step, format!("failed: {m}")),
        })
    });
    match tokio::time::timeout(limits.timeout.saturating_add(GRACE), task).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => Err(fail(spec.step, format!("failed: {e}"))),
        Err(_) => Err(fail(
            spec.step,
            format!("exceeded the timeout limit ({timeout_ms} ms)"),
        )),
    }
}

fn positive(v: u64, default: u64) -> u64 {
    if v == 0 { default } else { v }
}

/// The language a step runs in, checked against the allowed ones; only JavaScript runs.
fn language(s: &Settings, spec: &ScriptSpec) -> Result<(), Error> {
    let Some(lang) = spec.language.or(s.default_language.as_deref()) else {
        return Err(fail(
            spec.step,
            "has no 'language'. Set it on the step or as management.scripting.defaultLanguage",
        ));
    };
    let canon = canonical(lang);
    if !s.allowed_languages.is_empty() && !s.allowed_languages.iter().any(|a| canonical(a) == canon)
    {
        return Err(fail(
            spec.step,
            format!(
                "uses language '{lang}', which is not in the allowed languages [{}]",
                s.allowed_languages.join(", ")
            ),
        ));
    }
    match canon.as_str() {
        "javascript" => Ok(()),
        "python" | "groovy" => Err(fail(
            spec.step,
            format!("uses language '{lang}', which is not supported: write the step in JavaScript"),
        )),
        _ => Err(fail(
            spec.step,
            format!("uses unknown language '{lang}': write the step in JavaScript"),
        )),
    }
}

/// `js` and `javascript` are one language; case does not matter.
fn canonical(lang: &str) -> String {
    match lang.to_ascii_lowercase().as_str() {
        "js" => "javascript".to_owned(),
        other => other.to_owned(),
    }
}

/// The texts to evaluate, dependencies first: `(path relative to the location, text)`.
fn sources(s: &Settings, spec: &ScriptSpec) -> Result<Vec<(String, String)>, Error> {
    language(s, spec)?;
    let Some(location) = spec.location.or(s.default_location.as_deref()) else {
        return Err(fail(
            spec.step,
            "has no 'location'. Set it on the step or as management.scripting.defaultLocation",
        ));
    };
    let Some(dir) = folder::open(location) else {
        return Err(fail(
            spec.step,
            format!("cannot use location '{location}': it is not a readable folder"),
        ));
    };
    let mut out = Vec::new();
    for rel in spec.dependencies.iter().chain([&spec.file]) {
        let path = match folder::lookup(&dir, rel) {
            Lookup::File(p) => p,
            Lookup::BadSegment(seg) => {
                return Err(fail(
                    spec.step,
                    format!("cannot use '{rel}': the segment '{seg}' is not a plain name"),
                ));
            }
            Lookup::Outside => {
                return Err(fail(
                    spec.step,
                    format!("cannot use '{rel}': it leads outside its location"),
                ));
            }
            Lookup::Folder | Lookup::Missing => {
                return Err(fail(
                    spec.step,
                    format!("cannot find the file '{rel}' in '{location}'"),
                ));
            }
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| fail(spec.step, format!("cannot read '{rel}': {e}")))?;
        out.push(((*rel).to_owned(), text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
