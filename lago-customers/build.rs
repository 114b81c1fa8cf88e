//! Generates the Lago client, REST router and MCP tools from the spec into OUT_DIR.
//! A spec error fails the build with the spec's file, line and column.

fn main() {
    naftiko_codegen::Builder::new().compile("../specs/lago-customers.yaml");
}
