//! The same spec expanded in place by `capability!` gives the same surfaces as the build script.

mod expanded {
    naftiko_codegen_macro::capability!("../specs/lago-customers.yaml");
}

#[test]
fn macro_expands_the_seed_spec() {
    assert_eq!(expanded::lago_customers_mcp::TOOLS.len(), 9);
    assert_eq!(expanded::lago_customers_rest::ROUTES, 9);
    assert_eq!(expanded::lago_customers_rest::PORT, 8080);
    assert_eq!(expanded::lago_customers_mcp::PORT, Some(9090));
    let names: Vec<&str> = expanded::lago_customers_mcp::TOOLS
        .iter()
        .map(|t| t.name)
        .collect();
    let built: Vec<&str> = lago_customers::lago_customers_mcp::TOOLS
        .iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, built);
}
