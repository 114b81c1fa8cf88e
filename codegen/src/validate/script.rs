//! `type: script` steps (JavaScript only) and the scripting governance of the control
//! adapter (`management.scripting`), which gives their defaults.
//!
//! Script files are read at run time (the control port may move the default location), so
//! what can be checked here is the shape: the language, plain path segments, and, when the
//! location is a folder this build can see, that the files are there and inside it.

use std::path::{Path, PathBuf};

use super::Checker;
use super::inputs::Scope;
use crate::ir::{Script, ScriptingPolicy, Step};
use crate::spec::model::{ExposesEntry, ScriptStep};
use crate::spec::source_map::YamlPath;
use crate::spec::value::Lenient;

/// The languages the engine knows; only JavaScript runs here.
const LANGUAGES: &[&str] = &["javascript", "js", "python", "groovy"];

impl Checker<'_> {
    /// `management.scripting` of the first control adapter in `exposes`, checked.
    pub(super) fn scripting_policy(
        &mut self,
        entries: &[Lenient<ExposesEntry>],
        path: &YamlPath,
    ) -> Option<ScriptingPolicy> {
        let (i, s) = entries.iter().enumerate().find_map(|(i, e)| match e {
            Lenient::Ok(ExposesEntry::Control(c)) => {
                Some((i, c.management.as_ref()?.scripting.as_ref()?))
            }
            _ => None,
        })?;
        let spath = path.index(i).key("management").key("scripting");
        if let Some(l) = &s.default_location
            && !l.starts_with("file:")
        {
            self.error_value(
                &spath.key("defaultLocation"),
                format!("`defaultLocation: {l}` must be a `file:///` URI of a folder"),
            );
        }
        let languages = s
            .default_language
            .iter()
            .map(|l| (l, spath.key("defaultLanguage")));
        let allowed = s.allowed_languages.iter().enumerate();
        let allowed = allowed.map(|(i, l)| (l, spath.key("allowedLanguages").index(i)));
        for (l, p) in languages.chain(allowed).collect::<Vec<_>>() {
            if !LANGUAGES.contains(&canonical(l).as_str()) {
                self.error_value(&p, format!("unknown script language `{l}`"))
                    .help =
                    Some("one of `javascript`, `python`, `groovy`; only JavaScript runs".into());
            }
        }
        for (v, key) in [
            (s.timeout, "timeout"),
            (s.statement_limit, "statementLimit"),
        ] {
            if v == Some(0) {
                self.warn_key(
                    &spath.key(key),
                    format!("`{key}: 0` sets no limit: the default applies"),
                );
            }
        }
        Some(ScriptingPolicy {
            enabled: s.enabled,
            default_location: s.default_location.clone(),
            default_language: s.default_language.clone(),
            timeout_ms: s.timeout.filter(|v| *v > 0),
            statement_limit: s.statement_limit.filter(|v| *v > 0),
            allowed_languages: s.allowed_languages.clone(),
        })
    }

    /// A script step: language, files, `with`.
    pub(super) fn script_step(
        &mut self,
        scope: &mut Scope,
        name: &str,
        s: &ScriptStep,
        p: &YamlPath,
    ) -> Option<Step> {
        let policy = self.scripting.clone();
        let defaults = policy.as_ref();
        let mut ok = self.script_language(s, p, defaults);
        match defaults.and_then(|d| d.enabled) {
            Some(true) => {}
            Some(false) => self.warn_key(
                p,
                format!("script step `{name}` fails until scripting is enabled: the control adapter sets `management.scripting.enabled: false`"),
            ),
            None => self.warn_key(
                p,
                format!("script step `{name}` runs only when scripting is enabled: set `management.scripting.enabled: true` on the control adapter, or `NAFTIKO_SCRIPTING=true` where it runs"),
            ),
        }
        let location = match (
            &s.location,
            defaults.and_then(|d| d.default_location.as_ref()),
        ) {
            (Some(l), _) => {
                if !l.starts_with("file:") {
                    self.error_value(
                        &p.key("location"),
                        format!("script location `{l}` must be a `file:///` URI of a folder"),
                    );
                    ok = false;
                }
                Some(l.clone())
            }
            (None, Some(l)) => Some(l.clone()),
            (None, None) => {
                self.error_key(p, format!("script step `{name}` has no `location`"))
                    .help = Some("add `location: file:///...` (the folder of its files), or `defaultLocation` under the control adapter's `management.scripting`".into());
                ok = false;
                None
            }
        };
        let mut files = vec![(s.file.as_str(), p.key("file"))];
        for (i, d) in s.dependencies.iter().enumerate() {
            files.push((d.as_str(), p.key("dependencies").index(i)));
        }
        for (rel, fpath) in &files {
            if let Some(bad) = bad_segment(rel) {
                self.error_value(
                    fpath,
                    format!("script file `{rel}` is outside its location: the segment `{bad}` is not a plain name"),
                )
                .help = Some("a path inside the location is made of plain names: letters, digits, `.`, `_`, `-` (no `..`)".into());
                ok = false;
            }
        }
        if ok && let Some(loc) = &location {
            ok = self.script_files(loc, &files, p);
        }
        let mut with = Vec::new();
        for (key, value) in s.with.iter().flatten() {
            match self.with_expr(scope, value, None, &p.key("with").key(key)) {
                Some(e) => with.push((key.clone(), e)),
                None => ok = false,
            }
        }
        ok.then(|| Step::Script {
            name: name.to_owned(),
            script: Script {
                language: s.language.clone(),
                location: s.location.clone(),
                file: s.file.clone(),
                dependencies: s.dependencies.clone(),
                reads: (0..scope.steps.len()).collect(),
                with,
            },
        })
    }

    /// Checks the step's language (its own, else the default): JavaScript, and allowed.
    fn script_language(
        &mut self,
        s: &ScriptStep,
        p: &YamlPath,
        defaults: Option<&ScriptingPolicy>,
    ) -> bool {
        let default = defaults.and_then(|d| d.default_language.as_ref());
        let (lang, at) = match (&s.language, default) {
            (Some(l), _) => (l, p.key("language")),
            (None, Some(l)) => (l, p.clone()),
            (None, None) => {
                self.error_key(p, "a script step needs a `language`")
                    .help = Some("add `language: javascript`, or `defaultLanguage` under the control adapter's `management.scripting`".into());
                return false;
            }
        };
        let canon = canonical(lang);
        let allowed = defaults
            .map(|d| d.allowed_languages.as_slice())
            .unwrap_or_default();
        if !allowed.is_empty() && !allowed.iter().any(|a| canonical(a) == canon) {
            self.error_value(
                &at,
                format!(
                    "script language `{lang}` is not in the control adapter's `allowedLanguages` ({})",
                    allowed.join(", ")
                ),
            );
            return false;
        }
        match canon.as_str() {
            "javascript" => true,
            "python" | "groovy" => {
                self.error_value(
                    &at,
                    format!(
                        "script language `{lang}` is not supported: write the step in JavaScript"
                    ),
                )
                .help = Some(
                    "naftiko-codegen runs scripts in JavaScript only (`language: javascript`)"
                        .into(),
                );
                false
            }
            _ => {
                self.error_value(
                    &at,
                    format!("unknown script language `{lang}`: write the step in JavaScript"),
                )
                .help = Some("`language: javascript`".into());
                false
            }
        }
    }

    /// When the location is a folder this build can see: every file is there, inside it.
    /// Otherwise a warning: the files are only looked for at run time.
    fn script_files(&mut self, location: &str, files: &[(&str, YamlPath)], p: &YamlPath) -> bool {
        let Some(dir) = location_path(location)
            .canonicalize()
            .ok()
            .filter(|d| d.is_dir())
        else {
            self.warn_key(
                p,
                format!("script location `{location}` is not a folder here: its files are looked for when the step runs"),
            );
            return true;
        };
        let mut ok = true;
        for (rel, fpath) in files {
            match dir.join(rel).canonicalize() {
                Ok(real) if !real.starts_with(&dir) => {
                    self.error_value(
                        fpath,
                        format!("script file `{rel}` is outside its location `{location}` (through a link)"),
                    );
                    ok = false;
                }
                Ok(real) if real.is_file() => {}
                _ => {
                    self.error_value(
                        fpath,
                        format!(
                            "script file `{rel}` not found in `{location}` (looked for `{}`)",
                            dir.join(rel).display()
                        ),
                    );
                    ok = false;
                }
            }
        }
        ok
    }
}

/// `js` and `javascript` are one language; case does not matter (as at run time).
fn canonical(lang: &str) -> String {
    match lang.to_ascii_lowercase().as_str() {
        "js" => "javascript".to_owned(),
        other => other.to_owned(),
    }
}

/// The first segment of a relative path that is not a plain name, as the runtime's
/// `folder::safe_segment` decides: letters, digits, `.`, `_`, `-`; not `.` or `..`.
fn bad_segment(rel: &str) -> Option<&str> {
    rel.split('/').find(|s| {
        s.is_empty()
            || *s == "."
            || *s == ".."
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    })
}

/// The path a `file:` location names, as the runtime reads it: `file:///./x` and
/// `file:///../x` are relative to the working directory.
fn location_path(location: &str) -> PathBuf {
    let rest = location.strip_prefix("file://").unwrap_or(location);
    match rest.strip_prefix('/') {
        Some(r) if r.starts_with("./") || r.starts_with("../") => Path::new(r).to_path_buf(),
        _ => PathBuf::from(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::{bad_segment, location_path};
    use crate::diag::Diagnostics;
    use crate::ir::Capability;

    fn check_text(text: &str) -> Result<(Capability, Diagnostics), Diagnostics> {
        let project = crate::spec::load_project_str("specs/t.yaml", text.to_owned())?;
        crate::validate::check(&project)
    }

    const SPEC: &str = r#"
naftiko: "1.0.0-alpha2"
info: {label: "S", description: "d"}
capability:
  consumes:
    - type: http
      namespace: api
      baseUri: "https://example.com"
      resources:
        - name: items
          path: /items
          operations:
            - {name: list-items, method: GET}
  exposes:
    - type: mcp
      namespace: tools
      port: 3000
      tools:
        - name: filtered
          description: "d"
          steps:
            - {type: call, name: list, call: api.list-items}
            - type: script
              name: keep
              STEP
"#;

    fn spec(step: &str) -> String {
        SPEC.replace("STEP", &step.replace('\n', "\n              "))
    }

    #[test]
    fn python_is_refused_where_it_is_written() {
        let out = check_text(&spec(
            "language: python\nlocation: \"file:///srv/scripts\"\nfile: keep.py",
        ));
        let e = out.unwrap_err();
        let d =
            e.0.iter()
                .find(|d| d.message.contains("python"))
                .expect("an error");
        assert!(
            d.message
                .contains("not supported: write the step in JavaScript"),
            "{}",
            d.message
        );
        assert!(d.pos.is_some(), "located");
    }

    #[test]
    fn traversal_is_refused_where_it_is_written() {
        let out = check_text(&spec(
            "language: javascript\nlocation: \"file:///srv/scripts\"\nfile: ../../etc/passwd\ndependencies: [lib/ok.js, \"a b.js\"]",
        ));
        let e = out.unwrap_err();
        let msgs: Vec<_> =
            e.0.iter()
                .filter(|d| d.message.contains("outside its location"))
                .collect();
        assert_eq!(msgs.len(), 2, "{e:?}");
        assert!(msgs.iter().all(|d| d.pos.is_some()));
    }

    #[test]
    fn javascript_checks() {
        // Not a folder here: accepted, with a warning.
        let (cap, warnings) = check_text(&spec(
            "language: js\nlocation: \"file:///nowhere/scripts\"\nfile: keep.js\nwith: {min: 2}",
        ))
        .unwrap();
        assert!(cap.uses_scripts());
        assert!(cap.runtime_features().contains(&"script"));
        assert!(
            warnings
                .0
                .iter()
                .any(|d| d.message.contains("not a folder here"))
        );
        // No language and no default.
        let e = check_text(&spec("location: \"file:///x\"\nfile: keep.js")).unwrap_err();
        assert!(e.0.iter().any(|d| d.message.contains("needs a `language`")));
    }

    #[test]
    fn files_are_checked_when_the_folder_is_here() {
        let dir = std::env::temp_dir().join(format!("naftiko-check-script-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("keep.js"), "result = 1;").unwrap();
        let loc = format!("file://{}", dir.display());
        assert!(
            check_text(&spec(&format!(
                "language: javascript\nlocation: \"{loc}\"\nfile: keep.js"
            )))
            .is_ok()
        );
        let e = check_text(&spec(&format!(
            "language: javascript\nlocation: \"{loc}\"\nfile: gone.js"
        )))
        .unwrap_err();
        assert!(
            e.0.iter()
                .any(|d| d.message.contains("not found") && d.pos.is_some())
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn segments_and_locations() {
        assert_eq!(bad_segment("lib/a.js"), None);
        assert_eq!(bad_segment("../a.js"), Some(".."));
        assert_eq!(bad_segment("a//b"), Some(""));
        assert_eq!(
            location_path("file:///./scripts"),
            std::path::PathBuf::from("./scripts")
        );
        assert_eq!(
            location_path("file:///srv/x"),
            std::path::PathBuf::from("/srv/x")
        );
    }
}
