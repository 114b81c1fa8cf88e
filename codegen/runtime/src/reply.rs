//! What a generated flow (a tool, a route, an aggregate function) answers.

use http::StatusCode;
use serde_json::Value;

use crate::{Error, Response, Shape};

/// The result of a flow, before a surface turns it into an HTTP response or an MCP result.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An upstream answer passed through as it is (no output mapping).
    Raw(Response),
    /// A JSON result, and the status a REST caller gets.
    Json {
        /// The status a REST caller gets.
        status: StatusCode,
        /// The result, as JSON.
        value: Value,
    },
}

impl Reply {
    /// A JSON result answered with 200.
    pub fn json(value: Value) -> Reply {
        Reply::Json {
            status: StatusCode::OK,
            value,
        }
    }

    /// An upstream answer mapped through `shape`: passed through when the shape is the
    /// whole body, else converted (by the operation's format) and mapped.
    pub fn mapped(response: Response, shape: &Shape) -> Result<Reply, Error> {
        if matches!(shape, Shape::Whole) {
            return Ok(Reply::Raw(response));
        }
        let value = response.json()?;
        let value = shape
            .apply(&value)
            .map_err(|message| Error::InvalidResponse {
                operation: format!("{}.{}", response.namespace, response.operation),
                message,
            })?;
        Ok(Reply::Json {
            status: response.status,
            value,
        })
    }

    /// A JSON result checked against its declared type (`shape`): values of the declared
    /// type converted, missing ones `null`; `what` names the result in an error.
    pub fn conform(value: Value, shape: &Shape, what: &str) -> Result<Reply, Error> {
        let value = shape
            .apply(&value)
            .map_err(|message| Error::InvalidResponse {
                operation: what.to_owned(),
                message,
            })?;
        Ok(Reply::json(value))
    }

    /// The result as JSON (an upstream body converted by its format).
    pub fn into_value(self) -> Result<Value, Error> {
        match self {
            Reply::Raw(r) => r.json(),
            Reply::Json { value, .. } => Ok(value),
        }
    }
}
