use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use super::*;

/// A scratch folder of scripts, removed on drop.
struct Scripts(PathBuf);

impl Scripts {
    fn new(name: &str, files: &[(&str, &str)]) -> Scripts {
        let root =
            std::env::temp_dir().join(format!("naftiko-script-{name}-{}", std::process::id()));
        for (rel, text) in files {
            let p = root.join("scripts").join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        std::fs::create_dir_all(root.join("scripts")).unwrap();
        Scripts(root)
    }
    /// `file:///…/scripts`, leaked: specs hold `&'static str`.
    fn location(&self) -> &'static str {
        format!("file://{}", self.0.join("scripts").display()).leak()
    }
}

impl Drop for Scripts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn on() -> Policy {
    Policy {
        enabled: Some(true),
        ..Policy::DEFAULT
    }
}

fn step(file: &'static str, location: &'static str) -> ScriptSpec {
    ScriptSpec {
        step: "transform",
        language: Some("javascript"),
        location: Some(location),
        file,
        dependencies: &[],
    }
}

async fn message(gov: &Governance, spec: &ScriptSpec) -> String {
    match run(gov, spec, json!({})).await {
        Err(Error::Script(m)) => m,
        other => panic!("expected a script error, got {other:?}"),
    }
}

#[tokio::test]
async fn result_object_and_stats() {
    let dir = Scripts::new(
        "result",
        &[(
            "t.js",
            "result = {greeting: 'hello', n: context.n + 1, flag: true};",
        )],
    );
    let gov = Governance::new(on());
    let out = run(&gov, &step("t.js", dir.location()), json!({"n": 41}))
        .await
        .unwrap();
    assert_eq!(
        out,
        Some(json!({"greeting": "hello", "n": 42, "flag": true}))
    );
    let stats = gov.snapshot()["stats"].clone();
    assert_eq!(
        (
            stats["totalExecutions"].clone(),
            stats["totalErrors"].clone()
        ),
        (json!(1), json!(0))
    );
    assert!(stats["lastExecutionAt"].is_string());
}

#[tokio::test]
async fn dependencies_run_first_in_the_same_scope() {
    let dir = Scripts::new(
        "deps",
        &[
            (
                "lib/array-utils.js",
                "function active(xs) { return xs.filter(x => x.type === 'User'); }",
            ),
            (
                "main.js",
                "result = active(context['list-members']).map(m => m.login);",
            ),
        ],
    );
    let gov = Governance::new(on());
    let spec = ScriptSpec {
        dependencies: &["lib/array-utils.js"],
        ..step("main.js", dir.location())
    };
    let members = json!({"list-members": [{"login": "alice", "type": "User"},
                                           {"login": "bot", "type": "Bot"}]});
    assert_eq!(
        run(&gov, &spec, members).await.unwrap(),
        Some(json!(["alice"]))
    );
}

#[tokio::test]
async fn defaults_come_from_the_governance() {
    let dir = Scripts::new("defaults", &[("t.js", "result = 1;")]);
    let gov = Governance::new(Policy {
        default_location: Some(dir.location()),
        default_language: Some("js"),
        ..on()
    });
    let spec = ScriptSpec {
        language: None,
        location: None,
        ..step("t.js", "")
    };
    assert_eq!(run(&gov, &spec, json!({})).await.unwrap(), Some(json!(1)));
    // The control port may move the default location: files are read at each run.
    gov.update(&json!({"defaultLocation": "file:///nowhere/at/all"}))
        .unwrap();
    assert!(message(&gov, &spec).await.contains("not a readable folder"));
    let bare = Governance::new(on());
    assert!(message(&bare, &spec).await.contains("has no 'language'"));
    let spec = ScriptSpec {
        location: None,
        ..step("t.js", "")
    };
    assert!(message(&bare, &spec).await.contains("has no 'location'"));
}

#[tokio::test]
async fn loops_stop_at_their_limits() {
    let dir = Scripts::new("loops", &[("loop.js", "while (true) { var x = 1; }")]);
    let gov = Governance::new(on());
    let spec = step("loop.js", dir.location());
    assert_eq!(
        message(&gov, &spec).await,
        "Script step 'transform' exceeded the statement limit (100000)"
    );
    gov.update(&json!({"timeout": 100, "statementLimit": 1_000_000_000_000u64}))
        .unwrap();
    let started = Instant::now();
    assert_eq!(
        message(&gov, &spec).await,
        "Script step 'transform' exceeded the timeout limit (100 ms)"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(gov.snapshot()["stats"]["totalErrors"], 2);
}

/// A looping script runs on a blocking thread: other tasks of a one-thread runtime go on.
#[tokio::test(flavor = "current_thread")]
async fn a_loop_does_not_block_other_tasks() {
    let dir = Scripts::new("blocking", &[("loop.js", "for (;;) {}")]);
    let gov = Governance::new(Policy {
        timeout_ms: 1500,
        statement_limit: u64::MAX,
        ..on()
    });
    let spec = step("loop.js", dir.location());
    let looping = run(&gov, &spec, json!({}));
    let other = async {
        let started = Instant::now();
        tokio::time::sleep(Duration::from_millis(20)).await;
        started.elapsed()
    };
    let (looped, waited) = tokio::join!(looping, other);
    assert!(looped.is_err());
    assert!(waited < Duration::from_millis(500), "{waited:?}");
}

#[tokio::test]
async fn traversal_and_links_are_refused() {
    let dir = Scripts::new("traversal", &[("t.js", "result = 1;")]);
    std::fs::write(dir.0.join("secret.js"), "result = 'secret';").unwrap();
    let gov = Governance::new(on());
    let m = message(&gov, &step("../../etc/passwd", dir.location())).await;
    assert!(m.contains("the segment '..' is not a plain name"), "{m}");
    let spec = ScriptSpec {
        dependencies: &["../secret.js"],
        ..step("t.js", dir.location())
    };
    assert!(message(&gov, &spec).await.contains("not a plain name"));
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(dir.0.join("secret.js"), dir.0.join("scripts/link.js")).unwrap();
        let m = message(&gov, &step("link.js", dir.location())).await;
        assert!(m.contains("leads outside its location"), "{m}");
    }
    assert!(
        message(&gov, &step("none.js", dir.location()))
            .await
            .contains("cannot find")
    );
}

#[tokio::test]
async fn disabled_unless_enabled() {
    let dir = Scripts::new("disabled", &[("t.js", "result = 1;")]);
    let off = Governance::new(Policy {
        enabled: Some(false),
        ..Policy::DEFAULT
    });
    let m = message(&off, &step("t.js", dir.location())).await;
    assert!(m.contains("requires scripting support"), "{m}");
    assert!(m.contains("management.scripting.enabled=false"), "{m}");
    assert_eq!(off.snapshot()["stats"]["totalExecutions"], 0);
    let unset = Governance::new(Policy::DEFAULT);
    let env_on = ["NAFTIKO_SCRIPTING", "IKANOS_SCRIPTING"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|v| v.eq_ignore_ascii_case("true")));
    if !env_on {
        let m = message(&unset, &step("t.js", dir.location())).await;
        assert!(m.contains("NAFTIKO_SCRIPTING=true"), "{m}");
    }
}

#[tokio::test]
async fn languages() {
    let dir = Scripts::new(
        "languages",
        &[("t.py", "result = 1"), ("t.js", "result = 1;")],
    );
    let gov = Governance::new(on());
    let python = ScriptSpec {
        language: Some("python"),
        ..step("t.py", dir.location())
    };
    let m = message(&gov, &python).await;
    assert!(
        m.ends_with("which is not supported: write the step in JavaScript"),
        "{m}"
    );
    let only_js = Governance::new(Policy {
        allowed_languages: &["javascript"],
        ..on()
    });
    let groovy = ScriptSpec {
        language: Some("groovy"),
        ..python
    };
    assert!(
        message(&only_js, &groovy)
            .await
            .contains("not in the allowed languages")
    );
    let js = ScriptSpec {
        language: Some("JS"),
        ..step("t.js", dir.location())
    };
    assert_eq!(run(&only_js, &js, json!({})).await.unwrap(), Some(json!(1)));
}

#[tokio::test]
async fn script_errors_name_the_step() {
    let dir = Scripts::new(
        "errors",
        &[(
            "host.js",
            "var rt = java.lang.Runtime.getRuntime();\nresult = rt;",
        )],
    );
    let gov = Governance::new(on());
    let m = message(&gov, &step("host.js", dir.location())).await;
    assert!(
        m.starts_with("Script step 'transform' failed: ReferenceError"),
        "{m}"
    );
    assert!(m.contains("host.js:1"), "{m}");
}
