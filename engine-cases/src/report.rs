//! The report: one line per case, a per-construct table, the counts line, optional JSON.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::run::Verdict;

/// The line printed for a case.
pub fn line(id: &str, v: &Verdict) -> String {
    match v {
        Verdict::Pass(None) => format!("PASS {id}"),
        Verdict::Pass(Some(note)) => format!("PASS {id} ({note})"),
        Verdict::Fail(why) => format!("FAIL {id}: {why}"),
        Verdict::Skip(rule) => format!("SKIP {id}: {rule}"),
    }
}

/// Counts per construct and in all.
#[derive(Debug, Default)]
pub struct Tally {
    by_construct: BTreeMap<String, [usize; 3]>,
    results: Vec<Value>,
}

impl Tally {
    pub fn add(&mut self, id: &str, construct: &str, kind: &str, v: &Verdict) {
        let slot = match v {
            Verdict::Pass(_) => 0,
            Verdict::Fail(_) => 1,
            Verdict::Skip(_) => 2,
        };
        self.by_construct.entry(construct.to_owned()).or_default()[slot] += 1;
        let (verdict, reason) = match v {
            Verdict::Pass(n) => ("pass", n.clone().unwrap_or_default()),
            Verdict::Fail(w) => ("fail", w.clone()),
            Verdict::Skip(r) => ("skip", r.clone()),
        };
        self.results.push(json!({"id": id, "construct": construct, "kind": kind, "verdict": verdict, "reason": reason}));
    }

    pub fn totals(&self) -> [usize; 3] {
        self.by_construct
            .values()
            .fold([0; 3], |a, c| [a[0] + c[0], a[1] + c[1], a[2] + c[2]])
    }

    /// The per-construct table and the closing counts line.
    pub fn summary(&self) -> String {
        let width = self
            .by_construct
            .keys()
            .map(String::len)
            .max()
            .unwrap_or(9)
            .max(9);
        let mut out = format!("\n{:width$}  passed  failed  skipped\n", "construct");
        for (c, [p, f, s]) in &self.by_construct {
            out.push_str(&format!("{c:width$}  {p:>6}  {f:>6}  {s:>7}\n"));
        }
        let [p, f, s] = self.totals();
        out.push_str(&format!("\n{p} passed, {f} failed, {s} skipped\n"));
        out
    }

    pub fn write_json(&self, path: &Path) -> Result<(), String> {
        let [p, f, s] = self.totals();
        let doc = json!({"passed": p, "failed": f, "skipped": s, "cases": self.results});
        std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap_or_default())
            .map_err(|e| format!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_counts() {
        let mut t = Tally::default();
        t.add("a", "mcp-core", "mcp", &Verdict::Pass(None));
        t.add("b", "mcp-core", "mcp", &Verdict::Fail("x".into()));
        t.add("c", "otel", "unit", &Verdict::Skip("r".into()));
        assert_eq!(line("b", &Verdict::Fail("x".into())), "FAIL b: x");
        assert!(t.summary().ends_with("1 passed, 1 failed, 1 skipped\n"));
        assert!(t.summary().contains("mcp-core"));
    }
}
