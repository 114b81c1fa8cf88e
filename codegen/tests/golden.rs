//! Golden files of generated code. The seed spec's output is also what the lago-customers
//! crate compiles (its build script runs the same generator on the same spec).
//!
//! After an intended change of the output: `UPDATE_GOLDEN=1 cargo test -p naftiko-codegen --test golden`.

mod support;

fn check_golden(spec: &str, golden: &str) {
    let root = support::root();
    let generated = naftiko_codegen::generate(root.join(spec)).unwrap_or_else(|d| panic!("{d}"));
    assert!(generated.warnings.0.is_empty(), "{}", generated.warnings);
    let path = root.join("codegen/tests/golden").join(golden);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &generated.source).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == generated.source,
        "{} differs from the generated code; run with UPDATE_GOLDEN=1 to accept the new output",
        path.display()
    );
}

#[test]
fn seed_spec() {
    check_golden("specs/lago-customers.yaml", "lago_customers.rs");
}

#[test]
fn bookshelf_spec() {
    check_golden("specs/bookshelf.yaml", "bookshelf.rs");
}

#[test]
fn output_is_deterministic() {
    let spec = support::root().join("specs/lago-customers.yaml");
    let a = naftiko_codegen::generate(&spec).unwrap().source;
    for _ in 0..3 {
        assert_eq!(naftiko_codegen::generate(&spec).unwrap().source, a);
    }
}
