//! Variables of the spec's `binds`, read from the environment at run time (never at build time).

use crate::Error;

/// The value of the environment variable `name`; a missing or empty one is an error.
pub fn var(name: &str) -> Result<String, Error> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::MissingEnv(name.to_owned())),
    }
}
