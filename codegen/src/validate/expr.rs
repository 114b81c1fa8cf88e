//! Small languages inside spec strings: `{{templates}}`, JSONPath mappings, path templates.

use crate::ir::{JsonSeg, Part, StepRef, Template};

/// How a `{{name}}` inside a template resolves.
pub enum Resolved {
    /// A variable of `binds`, by name.
    Env(String),
    /// An input, by name.
    Input(String),
    /// The output of an earlier step.
    Step(StepRef),
}

/// Parses `text` with `{{name}}` placeholders; `resolve` names each placeholder or refuses it.
pub fn parse_template(
    text: &str,
    mut resolve: impl FnMut(&str) -> Result<Resolved, String>,
) -> Result<Template, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            parts.push(Part::Lit(rest[..start].to_owned()));
        }
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(format!("unclosed `{{{{` in `{text}`"));
        };
        let name = after[..end].trim();
        if name.is_empty() {
            return Err(format!("empty `{{{{}}}}` in `{text}`"));
        }
        parts.push(match resolve(name)? {
            Resolved::Env(v) => Part::Env(v),
            Resolved::Input(i) => Part::Input(i),
            Resolved::Step(s) => Part::Step(s),
        });
        rest = &after[end + 2..];
    }
    if !rest.is_empty() {
        parts.push(Part::Lit(rest.to_owned()));
    }
    Ok(Template(parts))
}

/// Parses a JSONPath of the subset mappings use: `$`, `$.`, `$.a.b`, `$.a[0]`, `$['a b']`, `[*]`.
pub fn parse_json_path(text: &str) -> Result<Vec<JsonSeg>, String> {
    let t = text.trim();
    let Some(mut rest) = t.strip_prefix('$') else {
        return Err(format!(
            "a mapping must be a JSONPath starting with `$`, got `{text}`"
        ));
    };
    let mut segs = Vec::new();
    if rest == "." {
        return Ok(segs);
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            if key.is_empty() {
                return Err(format!("empty key in JSONPath `{text}`"));
            }
            if key == "*" {
                segs.push(JsonSeg::Wildcard);
            } else {
                segs.push(JsonSeg::Key(key.to_owned()));
            }
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                return Err(format!("unclosed `[` in JSONPath `{text}`"));
            };
            let inner = r[..end].trim();
            if inner == "*" {
                segs.push(JsonSeg::Wildcard);
            } else if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|q| q.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|q| q.strip_suffix('"')))
            {
                segs.push(JsonSeg::Key(q.to_owned()));
            } else if let Ok(i) = inner.parse::<usize>() {
                segs.push(JsonSeg::Index(i));
            } else {
                return Err(format!(
                    "unsupported JSONPath selector `[{inner}]` in `{text}` (supported: keys, indexes, `[*]`)"
                ));
            }
            rest = &r[end + 1..];
        } else {
            return Err(format!("unexpected `{rest}` in JSONPath `{text}`"));
        }
    }
    Ok(segs)
}

/// A segment of a path template.
#[derive(Debug, PartialEq)]
pub enum PathSeg<'a> {
    /// Literal text.
    Lit(&'a str),
    /// A `{name}` or `{{name}}` placeholder.
    Var(&'a str),
}

/// Splits `/customers/{id}/x` or `/ships/{{imo}}` into literals and placeholders.
pub fn parse_path(text: &str) -> Result<Vec<PathSeg<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        if start > 0 {
            out.push(PathSeg::Lit(&rest[..start]));
        }
        let (open, close) = if rest[start..].starts_with("{{") {
            (2, "}}")
        } else {
            (1, "}")
        };
        let after = &rest[start + open..];
        let Some(end) = after.find(close) else {
            return Err(format!("unclosed `{{` in path `{text}`"));
        };
        let name = after[..end].trim();
        if name.is_empty() || name.contains(['{', '}', '/']) {
            return Err(format!(
                "invalid placeholder `{}` in path `{text}`",
                &after[..end]
            ));
        }
        out.push(PathSeg::Var(name));
        rest = &after[end + close.len()..];
    }
    if rest.contains('}') {
        return Err(format!("unmatched `}}` in path `{text}`"));
    }
    if !rest.is_empty() {
        out.push(PathSeg::Lit(rest));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_paths() {
        assert_eq!(parse_json_path("$.").unwrap(), vec![]);
        assert_eq!(parse_json_path("$").unwrap(), vec![]);
        assert_eq!(
            parse_json_path("$.properties.Name.title[0].text").unwrap(),
            vec![
                JsonSeg::Key("properties".into()),
                JsonSeg::Key("Name".into()),
                JsonSeg::Key("title".into()),
                JsonSeg::Index(0),
                JsonSeg::Key("text".into())
            ]
        );
        assert_eq!(
            parse_json_path("$['a b'][*]").unwrap(),
            vec![JsonSeg::Key("a b".into()), JsonSeg::Wildcard]
        );
        assert!(parse_json_path("customer").is_err());
        assert!(parse_json_path("$.a[?(@.x)]").is_err());
    }

    #[test]
    fn paths() {
        assert_eq!(
            parse_path("/customers/{external_id}/x").unwrap(),
            vec![
                PathSeg::Lit("/customers/"),
                PathSeg::Var("external_id"),
                PathSeg::Lit("/x")
            ]
        );
        assert_eq!(
            parse_path("ships/{{imo}}").unwrap(),
            vec![PathSeg::Lit("ships/"), PathSeg::Var("imo")]
        );
        assert!(parse_path("/a/{b").is_err());
    }

    #[test]
    fn templates() {
        let t = parse_template("Bearer {{ env.TOKEN }}!", |n| {
            Ok(Resolved::Env(n.trim_start_matches("env.").into()))
        })
        .unwrap();
        assert_eq!(
            t.0,
            vec![
                Part::Lit("Bearer ".into()),
                Part::Env("TOKEN".into()),
                Part::Lit("!".into())
            ]
        );
        assert!(parse_template("{{x", |_| Ok(Resolved::Input("x".into()))).is_err());
    }
}
