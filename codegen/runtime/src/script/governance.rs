//! Scripting governance: the settings of `management.scripting`, changed at run time through
//! the control port (`GET`/`PUT /scripting`), and the execution statistics.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

/// The languages the control port accepts as settings (the engine's). Only JavaScript runs;
/// the others are refused when a step uses them.
pub const LANGUAGES: &[&str] = &["javascript", "python", "groovy"];

/// `management.scripting` as the spec declares it.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// `None`: the environment decides (`NAFTIKO_SCRIPTING=true` enables).
    pub enabled: Option<bool>,
    /// Where steps without `location` find their files (a `file:` URI).
    pub default_location: Option<&'static str>,
    /// The language of steps without `language`.
    pub default_language: Option<&'static str>,
    /// Milliseconds a script may run.
    pub timeout_ms: u64,
    /// Statements (function calls and loop iterations) a script may run.
    pub statement_limit: u64,
    /// The languages steps may use; empty allows all.
    pub allowed_languages: &'static [&'static str],
}

impl Policy {
    /// The engine's defaults: nothing set, 60 s, 100 000 statements.
    pub const DEFAULT: Policy = Policy {
        enabled: None,
        default_location: None,
        default_language: None,
        timeout_ms: 60_000,
        statement_limit: 100_000,
        allowed_languages: &[],
    };
}

impl Default for Policy {
    fn default() -> Self {
        Policy::DEFAULT
    }
}

/// The settings in force (the policy, as changed through the control port); the fields
/// mean what [`Policy`]'s do.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// `None`: the environment decides (`NAFTIKO_SCRIPTING=true` enables).
    pub enabled: Option<bool>,
    /// Where steps without `location` find their files (a `file:` URI).
    pub default_location: Option<String>,
    /// The language of steps without `language`.
    pub default_language: Option<String>,
    /// Milliseconds a script may run.
    pub timeout_ms: u64,
    /// Statements (function calls and loop iterations) a script may run.
    pub statement_limit: u64,
    /// The languages steps may use; empty allows all.
    pub allowed_languages: Vec<String>,
}

impl From<Policy> for Settings {
    fn from(p: Policy) -> Self {
        Settings {
            enabled: p.enabled,
            default_location: p.default_location.map(str::to_owned),
            default_language: p.default_language.map(str::to_owned),
            timeout_ms: p.timeout_ms,
            statement_limit: p.statement_limit,
            allowed_languages: p
                .allowed_languages
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
        }
    }
}

#[derive(Debug, Default)]
struct Stats {
    executions: u64,
    errors: u64,
    total: Duration,
    /// When the last run started, after the Unix epoch.
    last_at: Option<Duration>,
}

/// The scripting settings and statistics of one running capability; share it in an `Arc`.
#[derive(Debug)]
pub struct Governance {
    settings: Mutex<Settings>,
    stats: Mutex<Stats>,
}

impl Governance {
    /// A governance starting from the spec's policy, with no run counted yet.
    pub fn new(policy: Policy) -> Self {
        Governance {
            settings: Mutex::new(policy.into()),
            stats: Mutex::new(Stats::default()),
        }
    }

    /// The settings in force now.
    pub fn settings(&self) -> Settings {
        self.settings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Counts one run that started at `started` and took `took`.
    pub(super) fn record(&self, started: SystemTime, took: Duration, ok: bool) {
        let mut s = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        s.executions += 1;
        s.errors += u64::from(!ok);
        s.total += took;
        s.last_at = started.duration_since(UNIX_EPOCH).ok();
    }

    /// The body of `GET /scripting`: the settings (unset ones left out) and the statistics.
    pub fn snapshot(&self) -> Value {
        let s = self.settings();
        let mut out = Map::new();
        if let Some(e) = s.enabled {
            out.insert("enabled".into(), json!(e));
        }
        if let Some(l) = s.default_location {
            out.insert("defaultLocation".into(), json!(l));
        }
        if let Some(l) = s.default_language {
            out.insert("defaultLanguage".into(), json!(l));
        }
        out.insert("timeout".into(), json!(s.timeout_ms));
        out.insert("statementLimit".into(), json!(s.statement_limit));
        if !s.allowed_languages.is_empty() {
            out.insert("allowedLanguages".into(), json!(s.allowed_languages));
        }
        let st = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let average = if st.executions == 0 {
            0.0
        } else {
            let ms = st.total.as_secs_f64() * 1000.0 / st.executions as f64;
            (ms * 100.0).round() / 100.0
        };
        let mut stats = Map::new();
        stats.insert("totalExecutions".into(), json!(st.executions));
        stats.insert("totalErrors".into(), json!(st.errors));
        stats.insert("averageDurationMs".into(), json!(average));
        if let Some(at) = st.last_at {
            stats.insert(
                "lastExecutionAt".into(),
                json!(crate::instant::iso_instant(at)),
            );
        }
        out.insert("stats".into(), Value::Object(stats));
        Value::Object(out)
    }

    /// `PUT /scripting`: changes the fields `patch` has, and gives the new snapshot.
    ///
    /// Unlike the engine, which applies field by field and keeps the fields changed before a
    /// bad one, every field is checked first: a bad one changes nothing.
    pub fn update(&self, patch: &Value) -> Result<Value, String> {
        let Value::Object(patch) = patch else {
            return Err("the body must be a JSON object".into());
        };
        let mut next = self.settings();
        if let Some(v) = patch.get("enabled") {
            next.enabled = Some(v.as_bool().ok_or("'enabled' must be a boolean")?);
        }
        if let Some(v) = patch.get("timeout") {
            next.timeout_ms = at_least_one("timeout", v)?;
        }
        if let Some(v) = patch.get("statementLimit") {
            next.statement_limit = at_least_one("statementLimit", v)?;
        }
        if let Some(v) = patch.get("defaultLocation") {
            match v.as_str() {
                Some(l) if l.starts_with("file:///") => next.default_location = Some(l.to_owned()),
                _ => return Err("'defaultLocation' must be an absolute file:/// URI".into()),
            }
        }
        if let Some(v) = patch.get("defaultLanguage") {
            next.default_language = Some(language(v)?);
        }
        if let Some(v) = patch.get("allowedLanguages") {
            let items = v.as_array().ok_or("'allowedLanguages' must be an array")?;
            next.allowed_languages = items.iter().map(language).collect::<Result<_, _>>()?;
        }
        *self.settings.lock().unwrap_or_else(|e| e.into_inner()) = next;
        Ok(self.snapshot())
    }
}

/// An integral JSON number >= 1, with the engine's messages.
fn at_least_one(field: &str, v: &Value) -> Result<u64, String> {
    if let Some(n) = v.as_u64() {
        if n >= 1 {
            return Ok(n);
        }
    } else if v.as_i64().is_none() {
        return Err(format!(
            "'{field}' must be an integer greater than or equal to 1"
        ));
    }
    Err(format!("'{field}' must be greater than or equal to 1"))
}

fn language(v: &Value) -> Result<String, String> {
    match v.as_str() {
        Some(l) if LANGUAGES.contains(&l) => Ok(l.to_owned()),
        _ => {
            let shown = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            Err(format!(
                "Unsupported language '{shown}'. Supported: [{}]",
                LANGUAGES.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gov() -> Governance {
        Governance::new(Policy {
            enabled: Some(true),
            default_location: Some("file:///app/scripts"),
            default_language: Some("javascript"),
            timeout_ms: 3000,
            statement_limit: 50_000,
            allowed_languages: &["javascript", "python"],
        })
    }

    #[test]
    fn snapshot_shows_set_fields_and_stats() {
        let s = gov().snapshot();
        assert_eq!(
            s,
            json!({"enabled": true, "defaultLocation": "file:///app/scripts",
                   "defaultLanguage": "javascript", "timeout": 3000, "statementLimit": 50000,
                   "allowedLanguages": ["javascript", "python"],
                   "stats": {"totalExecutions": 0, "totalErrors": 0, "averageDurationMs": 0.0}})
        );
        let bare = Governance::new(Policy::DEFAULT).snapshot();
        assert_eq!(bare["timeout"], 60_000);
        assert!(bare.get("enabled").is_none() && bare.get("allowedLanguages").is_none());
    }

    #[test]
    fn stats_count_runs() {
        let g = gov();
        let at = UNIX_EPOCH + Duration::from_millis(1_777_636_800_250);
        g.record(at, Duration::from_millis(10), true);
        g.record(at, Duration::from_millis(5), false);
        let s = g.snapshot()["stats"].clone();
        assert_eq!(s["totalExecutions"], 2);
        assert_eq!(s["totalErrors"], 1);
        assert_eq!(s["averageDurationMs"], 7.5);
        assert_eq!(s["lastExecutionAt"], "2026-05-01T12:00:00.250Z");
    }

    #[test]
    fn updates_apply_all_or_nothing() {
        let g = gov();
        let s = g
            .update(
                &json!({"enabled": false, "timeout": 7000, "statementLimit": 75000,
                            "defaultLanguage": "python", "allowedLanguages": ["groovy"],
                            "defaultLocation": "file:///new/path"}),
            )
            .unwrap();
        assert_eq!(s["enabled"], false);
        assert_eq!(s["timeout"], 7000);
        assert_eq!(s["statementLimit"], 75000);
        assert_eq!(s["defaultLanguage"], "python");
        assert_eq!(s["allowedLanguages"], json!(["groovy"]));
        assert_eq!(s["defaultLocation"], "file:///new/path");
        let before = g.settings();
        for (patch, message) in [
            (
                json!({"timeout": "x"}),
                "'timeout' must be an integer greater than or equal to 1",
            ),
            (
                json!({"timeout": 1.5}),
                "'timeout' must be an integer greater than or equal to 1",
            ),
            (
                json!({"timeout": 0}),
                "'timeout' must be greater than or equal to 1",
            ),
            (
                json!({"statementLimit": -3}),
                "'statementLimit' must be greater than or equal to 1",
            ),
            (
                json!({"defaultLocation": "./x"}),
                "'defaultLocation' must be an absolute file:/// URI",
            ),
            (
                json!({"defaultLanguage": "ruby"}),
                "Unsupported language 'ruby'. Supported: [javascript, python, groovy]",
            ),
            (
                json!({"allowedLanguages": "js"}),
                "'allowedLanguages' must be an array",
            ),
            (json!({"enabled": "yes"}), "'enabled' must be a boolean"),
            // A good field before a bad one is not applied either.
            (
                json!({"timeout": 9, "defaultLanguage": "ruby"}),
                "Unsupported language",
            ),
            (json!([1]), "the body must be a JSON object"),
        ] {
            let e = g.update(&patch).unwrap_err();
            assert!(e.starts_with(message), "{patch}: {e}");
            assert_eq!(g.settings(), before, "{patch} changed nothing");
        }
    }
}
