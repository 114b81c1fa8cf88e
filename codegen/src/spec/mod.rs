//! Reading a spec: YAML text -> typed model, with the position of every node.

pub mod load;
pub mod model;
pub mod source_map;
pub mod value;

pub use load::{LoadedSpec, load_file, load_str};
