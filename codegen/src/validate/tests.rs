//! One test per diagnostic class: each names the right place in the spec.

use crate::diag::Diagnostics;

const BASE: &str = r#"naftiko: 1.0.0-alpha2
info:
  label: Test
  description: A test capability.
binds:
- namespace: env
  keys:
    API_KEY: API_KEY
capability:
  consumes:
  - type: http
    namespace: up
    baseUri: https://api.example.com/v1
    authentication:
      type: bearer
      token: '{{env.API_KEY}}'
    resources:
    - name: items
      path: /items/{item_id}
      operations:
      - name: getitem
        method: GET
        inputParameters:
        - name: item_id
          in: path
          type: string
          required: true
        - name: limit
          in: query
          type: integer
  exposes:
  - type: rest
    namespace: up-rest
    port: 8080
    resources:
    - path: /v1/items/{item-id}
      name: items
      operations:
      - method: GET
        name: getitem
        call: up.getitem
        with:
          item_id: rest.item_id
          limit: rest.limit
  - type: mcp
    namespace: up-mcp
    port: 9090
    transport: http
    tools:
    - name: get-item
      description: Get an item
      hints:
        readOnly: true
      call: up.getitem
      with:
        item_id: tools.item_id
"#;

pub(super) fn check(text: &str) -> Result<crate::ir::Capability, Diagnostics> {
    let project = crate::spec::load_project_str("specs/t.yaml", text.to_owned())?;
    super::check(&project).map(|(c, _)| c)
}

/// The errors of `text` as (message, line, column).
fn errors(text: &str) -> Vec<(String, usize, usize)> {
    match check(text) {
        Ok(_) => panic!("expected errors"),
        Err(d) => d
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                let p = d.pos.expect("every diagnostic is located");
                (d.message.clone(), p.line, p.column)
            })
            .collect(),
    }
}

/// The warnings of an accepted `text` as (message, line, column).
fn warnings(text: &str) -> Vec<(String, usize, usize)> {
    let project = crate::spec::load_project_str("specs/t.yaml", text.to_owned()).unwrap();
    let (_, w) = super::check(&project).unwrap_or_else(|d| panic!("{d}"));
    w.iter()
        .map(|d| {
            let p = d.pos.expect("every diagnostic is located");
            (d.message.clone(), p.line, p.column)
        })
        .collect()
}

pub(super) fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle")
        + 1
}

#[test]
fn base_is_valid() {
    let cap = check(BASE).unwrap();
    assert_eq!(cap.rest[0].routes.len(), 1);
    assert_eq!(cap.mcp[0].tools.len(), 1);
}

#[test]
fn yaml_syntax_error() {
    let text = BASE.replace("    namespace: up-mcp", "    namespace: [up-mcp");
    let e = errors(&text);
    assert_eq!(e.len(), 1);
    assert!(e[0].0.starts_with("YAML syntax error"), "{e:?}");
}

#[test]
fn unknown_key_points_at_the_key() {
    let text = BASE.replace(
        "      call: up.getitem\n      with:\n        item_id: tools",
        "      call: up.getitem\n      descripton: typo\n      with:\n        item_id: tools",
    );
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].0.starts_with("unknown field `descripton`"), "{e:?}");
    assert_eq!((e[0].1, e[0].2), (line_of(&text, "descripton"), 7));
}

#[test]
fn hint_that_is_not_a_boolean() {
    let text = BASE.replace("readOnly: true", "readOnly: maybe");
    let e = errors(&text);
    assert!(
        e[0].0
            .contains("invalid type: string \"maybe\", expected a boolean"),
        "{e:?}"
    );
    assert_eq!((e[0].1, e[0].2), (line_of(&text, "maybe"), 19));
}

#[test]
fn invalid_http_method() {
    let text = BASE.replace("        method: GET\n", "        method: FETCH\n");
    let e = errors(&text);
    assert!(e[0].0.contains("unknown variant `FETCH`"), "{e:?}");
    assert_eq!(e[0].1, line_of(&text, "FETCH"));
}

#[test]
fn call_to_unknown_namespace_and_operation() {
    let text = BASE.replace(
        "      call: up.getitem\n      with:\n        item_id: tools",
        "      call: upp.getitem\n      with:\n        item_id: tools",
    );
    let e = errors(&text);
    assert!(e[0].0.contains("no consumed namespace `upp`"), "{e:?}");
    assert_eq!((e[0].1, e[0].2), (line_of(&text, "upp.getitem"), 13));
    let text = BASE.replace("        call: up.getitem", "        call: up.getitm");
    let e = errors(&text);
    assert!(
        e[0].0.contains("namespace `up` has no operation `getitm`"),
        "{e:?}"
    );
    let d = check(&text).unwrap_err();
    assert_eq!(d.0[0].help.as_deref(), Some("did you mean `up.getitem`?"));
}

#[test]
fn with_key_that_is_not_an_input() {
    // The engine ignores such a key, so the spec is accepted, with a located warning.
    let text = BASE.replace("          limit: rest.limit", "          limt: rest.limit");
    let w = warnings(&text);
    let limt = w
        .iter()
        .find(|w| {
            w.0.contains("`with` key `limt` is not an input of `up.getitem`")
        })
        .unwrap_or_else(|| panic!("{w:?}"));
    assert!(limt.0.contains("did you mean `limit`?"), "{w:?}");
    assert_eq!((limt.1, limt.2), (line_of(&text, "limt:"), 11));
}

#[test]
fn path_parameter_bound_to_nothing() {
    let text = BASE
        .replace("    - path: /v1/items/{item-id}", "    - path: /v1/items")
        .replace("          item_id: rest.item_id\n", "");
    let e = errors(&text);
    assert!(
        e.iter().any(|e| e.0.contains(
            "path parameter `item_id` of `up.getitem` (GET /items/{item_id}) is bound to nothing"
        )),
        "{e:?}"
    );
}

/// An exposed path variable that no input declares and no `with` reads is almost always a
/// typo (OpenAPI linters refuse it too): located at the route's path.
#[test]
fn route_variable_read_by_nothing() {
    let text = BASE.replace(
        "    - path: /v1/items/{item-id}",
        "    - path: /v1/items/{item-id}/{portal}/y",
    );
    let e = errors(&text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!(
        e[0].0,
        "route parameter `{portal}` is read by no input and no `with`"
    );
    assert_eq!(e[0].1, line_of(&text, "{portal}"));
}

#[test]
fn env_variable_not_in_binds() {
    let text = BASE.replace("'{{env.API_KEY}}'", "'{{env.API_TOKEN}}'");
    let e = errors(&text);
    assert!(
        e[0].0
            .contains("`API_TOKEN` is not declared in `binds` under namespace `env`"),
        "{e:?}"
    );
    assert_eq!(e[0].1, line_of(&text, "API_TOKEN"));
}

#[test]
fn duplicate_names() {
    let tool = "    - name: get-item\n      description: Get an item\n      hints:\n        readOnly: true\n      call: up.getitem\n      with:\n        item_id: tools.item_id\n";
    let text = format!("{BASE}{tool}");
    let e = errors(&text);
    assert!(e[0].0.contains("duplicate tool name `get-item`"), "{e:?}");
    assert_eq!(e[0].1, text.lines().count() - 6);

    let op = "      - method: GET\n        name: getitem2\n        call: up.getitem\n";
    let text = BASE.replace("  - type: mcp\n", &format!("{op}  - type: mcp\n"));
    let e = errors(&text);
    assert!(
        e[0].0.contains("duplicate route `GET /v1/items/{item-id}`"),
        "{e:?}"
    );

    let text = BASE.replace("        - name: limit\n          in: query\n          type: integer\n", "        - name: limit\n          in: query\n          type: integer\n      - name: getitem\n        method: DELETE\n");
    let e = errors(&text);
    assert!(
        e[0].0
            .contains("duplicate operation `getitem` in namespace `up`"),
        "{e:?}"
    );
}

#[test]
fn port_clash() {
    let text = BASE.replace("    port: 9090", "    port: 8080");
    let e = errors(&text);
    assert!(
        e[0].0
            .contains("port 8080 is already used by `capability.exposes[0]`"),
        "{e:?}"
    );
    assert_eq!(e[0].1, line_of(&text, "namespace: up-mcp") + 1);
}

#[test]
fn all_errors_are_reported() {
    let text = BASE
        .replace("readOnly: true", "readOnly: 3")
        .replace("        call: up.getitem", "        call: up.nope")
        .replace("    port: 9090", "    port: 8080");
    let e = errors(&text);
    assert_eq!(e.len(), 3, "{e:?}");
}

#[test]
fn unsupported_constructs_are_located() {
    let text = BASE.replace(
        "      type: bearer\n      token: '{{env.API_KEY}}'\n",
        "      type: oauth2\n      authorizationServerUri: https://auth.example.com\n      resource: https://api.example.com\n",
    );
    let e = errors(&text);
    assert!(e[0].0.contains("not supported yet"), "{e:?}");
    assert_eq!(e[0].1, line_of(&text, "type: oauth2"));
}

#[test]
fn control_port() {
    let control =
        "  - type: control\n    port: 9999\n    management:\n      info: true\n  - type: mcp\n";
    let cap = check(&BASE.replace("  - type: mcp\n", control)).unwrap();
    let c = cap.control.expect("a control port");
    assert_eq!(
        (c.port, c.health, c.info, c.metrics),
        (9999, true, true, true)
    );
    assert_eq!(cap.spec_version, "naftiko 1.0.0-alpha2");

    let off = "  - type: control\n    port: 9999\n    observability:\n      enabled: false\n  - type: mcp\n";
    assert!(
        !check(&BASE.replace("  - type: mcp\n", off))
            .unwrap()
            .control
            .unwrap()
            .metrics
    );

    let two =
        "  - type: control\n    port: 9998\n  - type: control\n    port: 9999\n  - type: mcp\n";
    let text = BASE.replace("  - type: mcp\n", two);
    let e = errors(&text);
    assert!(e[0].0.contains("one control port"), "{e:?}");
    assert_eq!(e[0].1, line_of(&text, "port: 9999") - 1);

    let clash = "  - type: control\n    port: 8080\n  - type: mcp\n";
    let e = errors(&BASE.replace("  - type: mcp\n", clash));
    assert!(e[0].0.contains("port 8080 is already used"), "{e:?}");

    // Trace settings reach the model; the gRPC port is warned about.
    let traces = "  - type: control\n    port: 9999\n    observability:\n      traces:\n        sampling: 0.5\n        propagation: b3\n        local:\n          buffer-size: 7\n      exporters:\n        otlp:\n          endpoint: http://collector:4317\n  - type: mcp\n";
    let text = BASE.replace("  - type: mcp\n", traces);
    let t = check(&text).unwrap().control.unwrap().traces;
    assert_eq!(
        t,
        crate::ir::Traces {
            enabled: true,
            local: true,
            buffer: 7,
            sampling: 0.5,
            otlp: Some("http://collector:4317".into()),
            b3: true,
        }
    );
    let w = warnings(&text);
    assert!(w.iter().any(|(m, _, _)| m.contains("port 4317")), "{w:?}");
    let bad = traces.replace("sampling: 0.5", "sampling: 2");
    let e = errors(&BASE.replace("  - type: mcp\n", &bad));
    assert!(e[0].0.contains("a ratio from 0 to 1"), "{e:?}");
    let huge = traces.replace("buffer-size: 7", "buffer-size: 1000000000");
    let e = errors(&BASE.replace("  - type: mcp\n", &huge));
    assert!(e[0].0.contains("at most 100000 traces"), "{e:?}");
    // Off: no traces, whatever the rest says.
    let t = check(&BASE.replace("  - type: mcp\n", off))
        .unwrap()
        .control
        .unwrap()
        .traces;
    assert!(!t.enabled && !t.local);
}

#[test]
fn prompts_and_resources_are_checked() {
    let text = BASE.replace("    tools:\n", "    prompts:\n    - name: p\n    tools:\n");
    let e = errors(&text);
    assert!(e[0].0.contains("a prompt has either `template`"), "{e:?}");
    assert_eq!(e[0].1, line_of(&text, "- name: p"));

    let text = BASE.replace(
        "    tools:\n",
        "    resources:\n    - name: r\n      uri: data://x/{a b}\n      call: up.getitem\n    tools:\n",
    );
    let e = errors(&text);
    assert!(e[0].0.contains("a variable is made of letters"), "{e:?}");
    assert_eq!(e[0].1, line_of(&text, "uri: data://x"));
}

#[test]
fn rendering_is_rustc_like() {
    let text = BASE.replace("        call: up.getitem", "        call: up.getitm");
    let d = check(&text).unwrap_err();
    let shown = d.to_string();
    let line = line_of(&text, "up.getitm");
    assert!(
        shown.contains(&format!("--> specs/t.yaml:{line}:15")),
        "{shown}"
    );
    assert!(shown.contains("        call: up.getitm"), "{shown}");
    assert!(
        shown.contains("= help: did you mean `up.getitem`?"),
        "{shown}"
    );
}

#[test]
fn implicit_bindings() {
    // No `with:`: path parameters bind by name from the route (kebab to snake), others
    // become inputs of the same name.
    let text = BASE.replace(
        "        with:\n          item_id: rest.item_id\n          limit: rest.limit\n",
        "",
    );
    let cap = check(&text).unwrap();
    let r = &cap.rest[0].routes[0];
    assert_eq!(
        r.flow.inputs[0].source,
        crate::ir::Source::Path("item-id".into())
    );
    assert_eq!(
        r.flow.inputs[1].source,
        crate::ir::Source::Query("limit".into())
    );
    // A tool with no `with:` requires the path parameters as arguments.
    let tool = &cap.mcp[0].tools[0];
    assert_eq!(tool.flow.inputs[0].name, "item_id");
    assert!(tool.flow.inputs[0].required);
}

#[test]
fn never_panics_on_truncated_or_mangled_input() {
    let seed = include_str!("../../../specs/lago-customers.yaml");
    for cut in (0..seed.len()).step_by(97) {
        let mut end = cut;
        while !seed.is_char_boundary(end) {
            end += 1;
        }
        let _ = check(&seed[..end]);
        let mangled = seed[..end].replace(": ", ": [").replace("- ", "-");
        let _ = check(&mangled);
    }
    for text in [
        "",
        "---",
        "[]",
        "naftiko: 1",
        "capability: 3",
        "\u{0}",
        "a: *x",
    ] {
        let _ = check(text);
    }
}
