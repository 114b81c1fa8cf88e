//! `GET` and `PUT /scripting` of the control port.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

use super::Governance;

/// The `/scripting` route, for the control adapter to mount.
pub fn router(gov: Arc<Governance>) -> axum::Router {
    axum::Router::new()
        .route("/scripting", get(read).put(change))
        .with_state(gov)
}

async fn read(State(gov): State<Arc<Governance>>) -> Json<Value> {
    Json(gov.snapshot())
}

async fn change(State(gov): State<Arc<Governance>>, body: Bytes) -> Response {
    let patch = match serde_json::from_slice::<Value>(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("the body is not valid JSON: {e}")),
    };
    match gov.update(&patch) {
        Ok(v) => Json(v).into_response(),
        Err(e) => bad(e),
    }
}

fn bad(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::Policy;

    async fn put(gov: &Arc<Governance>, body: &str) -> (StatusCode, Value) {
        let resp = change(State(gov.clone()), Bytes::from(body.to_owned())).await;
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn get_and_put() {
        let gov = Arc::new(Governance::new(Policy::DEFAULT));
        let _ = router(gov.clone());
        let Json(v) = read(State(gov.clone())).await;
        assert_eq!(v["timeout"], json!(60_000));
        let (s, v) = put(&gov, r#"{"timeout": 10000}"#).await;
        assert_eq!((s, v["timeout"].clone()), (StatusCode::OK, json!(10_000)));
        let (s, v) = put(&gov, r#"{"timeout": 0}"#).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["error"], "'timeout' must be greater than or equal to 1");
        let (s, v) = put(&gov, "{").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(v["error"].as_str().unwrap().contains("not valid JSON"));
    }
}
