//! Typed access to generated flows: arguments from a serde struct, results into one.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::{Error, Reply};

/// The arguments of a typed call, as the argument map a caller would send.
pub fn args<T: Serialize>(args: &T) -> Result<Option<Map<String, Value>>, Error> {
    match serde_json::to_value(args) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        Ok(Value::Null) => Ok(None),
        Ok(other) => Err(Error::InvalidInput(format!(
            "arguments must be an object, got {other}"
        ))),
        Err(e) => Err(Error::InvalidInput(format!("arguments: {e}"))),
    }
}

/// A flow's result as its declared type.
pub fn result<T: DeserializeOwned>(reply: Reply) -> Result<T, Error> {
    let value = reply.into_value()?;
    serde_json::from_value(value).map_err(|e| Error::InvalidResponse {
        operation: std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("result")
            .to_owned(),
        message: format!("the result does not have its declared type: {e}"),
    })
}
