//! Reading a spec: YAML text -> typed model, with the position of every node.
//!
//! This is the front-end of the generator: the two grammars (`naftiko: 1.0.0-alpha2` and
//! `ikanos: 1.0.0-beta5`) are read into one typed model here ([`grammar`]), and the files a
//! spec imports are read beside it ([`project`]).

pub mod grammar;
pub mod load;
pub mod model;
pub mod project;
pub mod source_map;
pub mod value;

pub use load::{LoadedSpec, load_file, load_str};
pub use project::{Project, load_project, load_project_str};
