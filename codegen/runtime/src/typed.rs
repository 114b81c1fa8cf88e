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

/// An upstream answer read as the model `T` (what the `*_typed` client methods generated
/// from an OpenAPI document return).
///
/// A body that does not match is [`Error::InvalidResponse`] naming the operation
/// (`namespace.operation`) and the path of the mismatch (`customer.metadata[0].key`).
/// Fields `T` does not declare are ignored, as serde does; the [`Response`] keeps them.
pub fn body<T: DeserializeOwned>(response: &crate::Response) -> Result<T, Error> {
    let invalid = |message: String| Error::InvalidResponse {
        operation: format!("{}.{}", response.namespace, response.operation),
        message,
    };
    let model = std::any::type_name::<T>().rsplit("::").next().unwrap_or("");
    if response.body.is_empty() {
        return Err(invalid(format!(
            "the body is empty, the model `{model}` expects JSON"
        )));
    }
    let de = &mut serde_json::Deserializer::from_slice(&response.body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            invalid(format!("the body is not valid JSON: {inner}"))
        } else {
            invalid(format!(
                "the body does not match the model `{model}` at `{path}`: {inner}"
            ))
        }
    })
}
