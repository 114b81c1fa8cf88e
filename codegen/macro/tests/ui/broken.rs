naftiko_codegen_macro::capability!("broken.yaml");

fn main() {}
