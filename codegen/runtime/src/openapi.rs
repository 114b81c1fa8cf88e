//! The OpenAPI document a generated REST adapter serves at `GET /openapi.json`.

use axum::response::{IntoResponse, Response};
use http::HeaderValue;
use http::header::CONTENT_TYPE;

/// The answer to `GET /openapi.json`: the document the generator wrote, as it is.
pub fn response(document: &'static str) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        document,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_json() {
        let r = response("{}");
        assert_eq!(r.status(), http::StatusCode::OK);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
    }
}
