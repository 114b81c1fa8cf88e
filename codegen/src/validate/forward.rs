//! REST `forward`: pass-through resources. A resource's `forward` relays the requests its
//! operations do not take to a consumed API: the target must be a consumed namespace, the
//! route's `path` variable is the multi-segment tail of the upstream path, and the trusted
//! headers must be header names.

use super::Checker;
use crate::ir::{Client, Forward};
use crate::names::{closest, snake_ident};
use crate::spec::model;
use crate::spec::source_map::YamlPath;

/// The route variable that captures the rest of the path (`/proxy/{path}` takes `a/b/c`).
pub(super) const TAIL: &str = "path";

/// Headers that describe one connection, not the message: never copied either way
/// (RFC 9110 section 7.6.1), whatever `trustedHeaders` says; and the ones the proxy sets
/// itself (`Host`, `Content-Length`).
const NEVER_COPIED: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
];

impl Checker<'_> {
    /// Makes the route of a resource with `forward` take a multi-segment `path` tail:
    /// `/proxy/{path}` becomes `/proxy/{*path}`. Returns the number of path segments before
    /// the tail (`None`: the route has no `path` variable), or `Err(())` once reported.
    pub(super) fn forward_tail(
        &mut self,
        axum: &mut String,
        shape: &mut String,
        rpath: &YamlPath,
    ) -> Result<Option<usize>, ()> {
        let var = format!("{{{TAIL}}}");
        let Some(at) = axum.find(&var) else {
            return Ok(None);
        };
        if at + var.len() != axum.len() || !axum[..at].ends_with('/') {
            self.error_value(
                &rpath.key("path"),
                format!(
                    "`{{{TAIL}}}` of a `forward` resource takes the rest of the path: it must be the last segment of the route (`/proxy/{{{TAIL}}}`)"
                ),
            );
            return Err(());
        }
        let before = axum[..at].matches('/').count() - 1;
        axum.replace_range(at.., &format!("{{*{TAIL}}}"));
        // A tail and a one-segment variable are different routes.
        if let Some(s) = shape.rfind("{}") {
            shape.replace_range(s.., "{*}");
        }
        Ok(Some(before))
    }

    /// The pass-through route of a resource: its target resolved, its trusted headers checked.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn forward(
        &mut self,
        f: &model::Forward,
        resource: &model::ExposedResource,
        resource_name: Option<&str>,
        rpath: &YamlPath,
        route: &str,
        tail_after: Option<usize>,
        clients: &[Client],
    ) -> Option<Forward> {
        let fpath = rpath.key("forward");
        let target = &f.target_namespace;
        let Some(client) = clients.iter().position(|c| &c.namespace == target) else {
            let hint = closest(target, clients.iter().map(|c| c.namespace.as_str()));
            let list: Vec<_> = clients
                .iter()
                .map(|c| format!("`{}`", c.namespace))
                .collect();
            let d = self.error_value(
                &fpath.key("targetNamespace"),
                format!("`targetNamespace: {target}`: no consumed namespace `{target}`"),
            );
            d.help = Some(match hint {
                Some(h) => format!("did you mean `{h}`?"),
                None if list.is_empty() => {
                    "this capability consumes nothing: declare the API under `consumes`".into()
                }
                None => format!("consumed namespaces: {}", list.join(", ")),
            });
            return None;
        };
        let mut trusted: Vec<String> = Vec::new();
        let mut bad = false;
        for (i, h) in f.trusted_headers.iter().enumerate() {
            let hpath = fpath.key("trustedHeaders").index(i);
            if http_name(h).is_none() {
                self.error_value(&hpath, format!("`{h}` is not an HTTP header name"));
                bad = true;
                continue;
            }
            if NEVER_COPIED.contains(&h.to_ascii_lowercase().as_str()) {
                self.warn_key(
                    &hpath,
                    format!(
                        "`{h}` is never forwarded: it describes the connection or the message framing, which the proxy sets itself"
                    ),
                );
                continue;
            }
            if !trusted.iter().any(|t| t.eq_ignore_ascii_case(h)) {
                trusted.push(h.clone());
            }
        }
        if bad {
            return None;
        }
        let name = format!("forward-{}", resource_name.unwrap_or(target));
        Some(Forward {
            handler: snake_ident(&name),
            path: route.to_owned(),
            tail_after,
            client,
            trusted_headers: trusted,
            label: resource.label().map(str::to_owned),
            description: resource.description.clone(),
        })
    }
}

/// `name` when it is an HTTP header name (an RFC 9110 token).
fn http_name(name: &str) -> Option<&str> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    (!name.is_empty() && name.chars().all(token)).then_some(name)
}

#[cfg(test)]
mod tests {
    use crate::validate::tests::{check, line_of};

    const SPEC: &str = r#"naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: notion
    baseUri: https://api.notion.com/v1
  exposes:
  - type: rest
    namespace: proxy
    port: 8080
    resources:
    - path: /notion/{{path}}
      name: notion
      forward:
        targetNamespace: notion
        trustedHeaders:
        - Notion-Version
"#;

    /// The errors of `text` as (message, help, line, column).
    fn errors(text: &str) -> Vec<(String, Option<String>, usize, usize)> {
        match check(text) {
            Ok(_) => panic!("expected errors"),
            Err(d) => d
                .iter()
                .filter(|d| d.is_error())
                .map(|d| {
                    let p = d.pos.expect("located");
                    (d.message.clone(), d.help.clone(), p.line, p.column)
                })
                .collect(),
        }
    }

    #[test]
    fn forward_is_checked_into_the_model() {
        let cap = check(SPEC).unwrap();
        let f = &cap.rest[0].forwards[0];
        assert_eq!(f.path, "/notion/{*path}");
        assert_eq!(f.tail_after, Some(1));
        assert_eq!(f.client, 0);
        assert_eq!(f.trusted_headers, ["Notion-Version"]);
        assert_eq!(f.handler, "forward_notion");
        assert!(cap.rest[0].routes.is_empty());
    }

    #[test]
    fn beta5_reads_the_same() {
        let text = r#"ikanos: 1.0.0-beta5
capability:
  consumes:
  - type: http
    namespace: notion
    baseUri: https://api.notion.com/v1
  exposes:
  - type: rest
    namespace: proxy
    port: 8080
    resources:
      notion:
        path: /notion/{{path}}
        forward:
          targetNamespace: notion
"#;
        let cap = check(text).unwrap();
        assert_eq!(cap.rest[0].forwards[0].path, "/notion/{*path}");
        assert_eq!(cap.rest[0].forwards[0].handler, "forward_notion");
    }

    #[test]
    fn unknown_namespace_is_located_with_a_suggestion() {
        let text = SPEC.replace("targetNamespace: notion", "targetNamespace: notoin");
        let e = errors(&text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(
            e[0].0,
            "`targetNamespace: notoin`: no consumed namespace `notoin`"
        );
        assert_eq!(e[0].1.as_deref(), Some("did you mean `notion`?"));
        assert_eq!(
            (e[0].2, e[0].3),
            (line_of(&text, "targetNamespace: notoin"), 26)
        );
    }

    #[test]
    fn unknown_namespace_lists_the_consumed_ones() {
        let text = SPEC.replace("targetNamespace: notion", "targetNamespace: github");
        let e = errors(&text);
        assert_eq!(e[0].1.as_deref(), Some("consumed namespaces: `notion`"));
    }

    #[test]
    fn the_tail_must_end_the_route() {
        let text = SPEC.replace("/notion/{{path}}", "/notion/{{path}}/x");
        let e = errors(&text);
        assert!(e[0].0.contains("must be the last segment"), "{e:?}");
        assert_eq!(e[0].2, line_of(&text, "/notion/{{path}}/x"));
    }

    #[test]
    fn bad_and_hop_by_hop_trusted_headers() {
        let text = SPEC.replace("- Notion-Version", "- Notion Version");
        let e = errors(&text);
        assert_eq!(e[0].0, "`Notion Version` is not an HTTP header name");
        assert_eq!(e[0].2, line_of(&text, "- Notion Version"));
        let text = SPEC.replace("- Notion-Version", "- Notion-Version\n        - Connection");
        let project = crate::spec::load_project_str("specs/t.yaml", text).unwrap();
        let (cap, w) = crate::validate::check(&project).unwrap();
        assert_eq!(cap.rest[0].forwards[0].trusted_headers, ["Notion-Version"]);
        assert!(
            w.iter()
                .any(|d| d.message.contains("`Connection` is never forwarded")),
            "{w:?}"
        );
    }

    #[test]
    fn operations_and_forward_share_the_route() {
        let text = r#"naftiko: 1.0.0-alpha2
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://api.example.com
  exposes:
  - type: rest
    namespace: proxy
    port: 8080
    resources:
    - path: /items/{{path}}
      operations:
      - method: GET
        name: list
        outputParameters:
        - type: string
          value: listed
      forward:
        targetNamespace: up
"#;
        let cap = check(text).unwrap();
        let r = &cap.rest[0];
        assert_eq!(r.routes[0].path, "/items/{*path}");
        assert_eq!(r.forwards[0].path, "/items/{*path}");
        assert_eq!(r.forwards[0].handler, "forward_up");
    }

    #[test]
    fn a_variable_where_the_tail_starts_is_refused() {
        let text = SPEC.replace(
            "    - path: /notion/{{path}}\n",
            "    - path: /notion/{{page}}\n      operations:\n      - method: GET\n        name: page\n        inputParameters:\n        - name: page\n          in: path\n          type: string\n        outputParameters:\n        - type: string\n          value: '{{page}}'\n    - path: /notion/{{path}}\n",
        );
        let e = errors(&text);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].0
                .contains("clashes with the pass-through route `/notion/{*path}`"),
            "{e:?}"
        );
    }

    #[test]
    fn a_resource_needs_operations_or_forward() {
        let text = SPEC.replace(
            "      forward:\n        targetNamespace: notion\n        trustedHeaders:\n        - Notion-Version\n",
            "      description: nothing\n",
        );
        let e = errors(&text);
        assert!(e[0].0.contains("`operations:` or `forward:`"), "{e:?}");
    }
}
