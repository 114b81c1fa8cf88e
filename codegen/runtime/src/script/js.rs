//! One JavaScript run on a fresh QuickJS runtime: sources evaluated in order in one global
//! scope, `context` given, `result` taken, limits enforced.
//!
//! QuickJS has no file, network, process or environment API of its own (those live in its
//! `quickjs-libc`, which `rquickjs` does not add), and nothing is registered here besides
//! the `context` value: the sandbox is the bare language.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use rquickjs::context::EvalOptions;
use rquickjs::{Coerced, Context, Ctx, FromJs, Runtime, Value as JsValue};
use serde_json::Value;

/// How often QuickJS calls the interrupt handler: once every this many ticks (function
/// calls and loop back-jumps), `JS_INTERRUPT_COUNTER_INIT` in quickjs-ng.
const TICKS_PER_POLL: u64 = 10_000;
/// The native stack a script may use; deep recursion fails with a `RangeError` well before
/// the thread's own stack (2 MiB on tokio's blocking threads) runs out.
const STACK_BYTES: usize = 512 * 1024;

/// The limits of one run.
#[derive(Debug, Clone, Copy)]
pub(super) struct Limits {
    pub timeout: Duration,
    /// In ticks: function calls and loop back-jumps, checked every [`TICKS_PER_POLL`].
    pub statements: u64,
    pub memory_bytes: usize,
}

/// Why a run did not give a result.
#[derive(Debug, PartialEq)]
pub(super) enum Failure {
    StatementLimit,
    Timeout,
    /// A script error (syntax, thrown exception, out of memory): its text.
    Script(String),
}

const RUNNING: u8 = 0;
const STATEMENTS: u8 = 1;
const TIMEOUT: u8 = 2;

/// Evaluates `sources` (`(file name, text)`, in order) with the global `context`, and gives
/// the global `result` as JSON (`None` when it is undefined or null).
pub(super) fn eval(
    sources: &[(String, String)],
    context: &Value,
    limits: Limits,
) -> Result<Option<Value>, Failure> {
    let engine = |e: rquickjs::Error| Failure::Script(format!("script engine: {e}"));
    let rt = Runtime::new().map_err(engine)?;
    rt.set_memory_limit(limits.memory_bytes);
    rt.set_max_stack_size(STACK_BYTES);
    let stop = Arc::new(AtomicU8::new(RUNNING));
    // A timeout too large to add is no deadline at all.
    let deadline = Instant::now().checked_add(limits.timeout);
    let (flag, max) = (stop.clone(), limits.statements);
    let mut ticks: u64 = 0;
    // Returning true raises an exception the script cannot catch; it keeps returning true,
    // so nothing after the first stop runs either.
    rt.set_interrupt_handler(Some(Box::new(move || {
        ticks = ticks.saturating_add(TICKS_PER_POLL);
        if ticks > max {
            let _ =
                flag.compare_exchange(RUNNING, STATEMENTS, Ordering::Relaxed, Ordering::Relaxed);
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = flag.compare_exchange(RUNNING, TIMEOUT, Ordering::Relaxed, Ordering::Relaxed);
        }
        flag.load(Ordering::Relaxed) != RUNNING
    })));
    let ctx = Context::full(&rt).map_err(engine)?;
    let out = ctx.with(|ctx| run(&ctx, sources, context));
    match stop.load(Ordering::Relaxed) {
        STATEMENTS => Err(Failure::StatementLimit),
        TIMEOUT => Err(Failure::Timeout),
        // QuickJS throws `null` when it cannot even allocate the error: say what happened.
        _ if out.is_err() && near_limit(&rt, limits.memory_bytes) => Err(Failure::Script(format!(
            "out of memory (the limit is {} MiB)",
            limits.memory_bytes >> 20
        ))),
        _ => out.map_err(Failure::Script),
    }
}

/// Whether the runtime holds nearly all the memory it may.
fn near_limit(rt: &Runtime, limit: usize) -> bool {
    let used = usize::try_from(rt.memory_usage().malloc_size).unwrap_or(0);
    used >= limit / 10 * 9
}

fn run(
    ctx: &Ctx<'_>,
    sources: &[(String, String)],
    context: &Value,
) -> Result<Option<Value>, String> {
    let value = ctx
        .json_parse(context.to_string())
        .map_err(|e| thrown(ctx, e))?;
    ctx.globals()
        .set("context", value)
        .map_err(|e| thrown(ctx, e))?;
    for (name, text) in sources {
        let mut opts = EvalOptions::default();
        // Scripts assign `result` without declaring it, as the engine's scripts do.
        opts.strict = false;
        opts.filename = Some(name.clone());
        ctx.eval_with_options::<(), _>(text.as_bytes(), opts)
            .map_err(|e| thrown(ctx, e))?;
    }
    let result: JsValue = ctx.globals().get("result").map_err(|e| thrown(ctx, e))?;
    if result.is_undefined() || result.is_null() {
        return Ok(None);
    }
    let Some(text) = ctx.json_stringify(result).map_err(|e| thrown(ctx, e))? else {
        // A function or a symbol: nothing JSON can hold.
        return Ok(None);
    };
    let text = text.to_string().map_err(|e| e.to_string())?;
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| format!("`result` is not JSON: {e}"))
}

/// The text of what the script threw (`TypeError: x is not a function (at file.js:3)`).
fn thrown(ctx: &Ctx<'_>, e: rquickjs::Error) -> String {
    if !matches!(e, rquickjs::Error::Exception) {
        return e.to_string();
    }
    let value = ctx.catch();
    let text = Coerced::<String>::from_js(ctx, value.clone())
        .map(|c| c.0)
        .unwrap_or_else(|_| "uncaught exception".to_owned());
    let place = value
        .as_object()
        .and_then(|o| o.get::<_, Option<Coerced<String>>>("stack").ok().flatten())
        .and_then(|s| first_place(&s.0));
    match place {
        Some(p) => format!("{text} (at {p})"),
        None => text,
    }
}

/// `file.js:3:5` from the first frame of a QuickJS stack (`    at f (file.js:3:5)`).
fn first_place(stack: &str) -> Option<String> {
    let line = stack.lines().find(|l| l.trim_start().starts_with("at "))?;
    let inner = match (line.rfind('('), line.rfind(')')) {
        (Some(a), Some(b)) if a < b => &line[a + 1..b],
        _ => line.trim_start().strip_prefix("at ")?,
    };
    (!inner.is_empty() && inner != "native").then(|| inner.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn limits() -> Limits {
        Limits {
            timeout: Duration::from_secs(10),
            statements: 100_000,
            memory_bytes: 16 << 20,
        }
    }

    fn one(text: &str, context: Value) -> Result<Option<Value>, Failure> {
        eval(&[("t.js".into(), text.into())], &context, limits())
    }

    #[test]
    fn result_and_context() {
        assert_eq!(
            one(
                "result = {greeting: 'hello', count: 42, flag: true}",
                json!({})
            )
            .unwrap(),
            Some(json!({"greeting": "hello", "count": 42, "flag": true}))
        );
        assert_eq!(
            one(
                "result = context.xs.filter(x => x > 1)",
                json!({"xs": [1, 2, 3]})
            )
            .unwrap(),
            Some(json!([2, 3]))
        );
        assert_eq!(one("var x = 1", json!({})).unwrap(), None);
        assert_eq!(one("result = null", json!({})).unwrap(), None);
    }

    #[test]
    fn errors_name_the_place() {
        let Err(Failure::Script(m)) = one("\nvar rt = java.lang.Runtime;", json!({})) else {
            panic!("expected an error");
        };
        assert!(m.starts_with("ReferenceError:"), "{m}");
        assert!(m.contains("t.js:2"), "{m}");
        let Err(Failure::Script(m)) = one("result = {", json!({})) else {
            panic!("expected a syntax error");
        };
        assert!(m.starts_with("SyntaxError"), "{m}");
    }

    #[test]
    fn no_host_access() {
        let probe = "result = [typeof require, typeof fetch, typeof std, typeof os, \
                     typeof process, typeof XMLHttpRequest, typeof java, typeof console, \
                     typeof Deno]";
        let Some(Value::Array(kinds)) = one(probe, json!({})).unwrap() else {
            panic!("an array");
        };
        assert!(kinds.iter().all(|k| k == "undefined"), "{kinds:?}");
        // No module loader either: a dynamic import fails.
        let r = one("import('fs').then(m => result = m)", json!({})).unwrap();
        assert_eq!(r, None);
    }

    #[test]
    fn loops_stop_at_the_statement_limit() {
        let started = Instant::now();
        assert_eq!(
            one("while (true) { var x = 1; }", json!({})),
            Err(Failure::StatementLimit)
        );
        // An uncatchable stop: a `catch` does not swallow it.
        assert_eq!(
            one("try { for (;;) {} } catch (e) { result = 1 }", json!({})),
            Err(Failure::StatementLimit)
        );
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn loops_stop_at_the_timeout() {
        let started = Instant::now();
        let limits = Limits {
            timeout: Duration::from_millis(100),
            statements: u64::MAX,
            ..limits()
        };
        let r = eval(
            &[("t.js".into(), "while (true) {}".into())],
            &json!({}),
            limits,
        );
        assert_eq!(r, Err(Failure::Timeout));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn memory_is_bounded() {
        let limits = Limits {
            statements: u64::MAX,
            ..limits()
        };
        let grow = "var a = []; for (;;) a.push('x'.repeat(1000));";
        let Err(Failure::Script(m)) = eval(&[("t.js".into(), grow.into())], &json!({}), limits)
        else {
            panic!("expected out of memory");
        };
        assert!(m.contains("out of memory"), "{m}");
    }
}
