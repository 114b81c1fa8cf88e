//! Generates the Lago client, REST router and MCP tools from the spec into OUT_DIR.
//! A spec error fails the build with the spec's file, line and column.

fn main() {
    // In the repository the spec is `../specs/lago-customers.yaml`; the packaged crate
    // (`cargo package`) carries it as `lago-customers.yaml`, a link to that file.
    let spec = if std::path::Path::new("../specs/lago-customers.yaml").is_file() {
        "../specs/lago-customers.yaml"
    } else {
        "lago-customers.yaml"
    };
    naftiko_codegen::Builder::new().compile(spec);
}
