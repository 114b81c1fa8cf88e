//! A broken spec becomes compile errors that name its lines (expansion of a valid spec is
//! tested in lago-customers, which has the runtime the generated code needs).

#[test]
fn broken_spec_is_a_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/broken.rs");
}
