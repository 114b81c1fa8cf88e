//! A beta5 spec expanded in place and run in process against a recording stub: an imported
//! API, a bind read from a file, an aggregate flow (two concurrent calls and a lookup) used
//! through the typed API and the MCP handler, a mapped tool, a mock tool, an upstream error
//! inside the steps.

use std::time::{Duration, Instant};

use naftiko_runtime::client::ClientConfig;
use naftiko_runtime::testing::{RecordingStub, Reply};
use serde_json::json;

mod fleet {
    naftiko_codegen_macro::capability!("tests/specs/fleet.yaml");
}

use fleet::fleet_tools::api;

/// The stub answers each call after `delay`; ship IMO-404 does not exist.
async fn stub(delay: Duration) -> RecordingStub {
    let stub = RecordingStub::start().await.unwrap();
    stub.respond(move |r| match r.path.as_str() {
        "/v1/ships/IMO-1" => Reply::json(
            200,
            // The year as text: the declared `number` type converts it.
            json!({"name": "Star", "year": "2015", "crew": ["c1", "c3"]}),
        )
        .after(delay),
        "/v1/ships/IMO-404" => Reply::json(404, json!({"error": "no such ship"})),
        "/v1/crew" => Reply::json(
            200,
            json!([{"id": "c1", "name": "Ann", "role": "captain"},
                   {"id": "c2", "name": "Bo", "role": "mate"},
                   {"id": "c3", "name": "Cy", "role": "cook"}]),
        )
        .after(delay),
        _ => Reply::json(404, json!({"error": "unknown"})),
    });
    stub
}

fn clients(stub: &RecordingStub) -> fleet::Clients {
    let base = format!("{}/v1", stub.url());
    fleet::Clients::with_config(|_| ClientConfig::default().base_url(base.clone())).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn orchestration_runs_typed_and_concurrent() {
    let delay = Duration::from_millis(300);
    let stub = stub(delay).await;
    let clients = clients(&stub);
    let started = Instant::now();
    let ship = api::ship_with_crew(
        &clients,
        &api::ShipWithCrewArgs {
            imo: "IMO-1".into(),
        },
    )
    .await
    .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(ship.name.as_deref(), Some("Star"));
    assert_eq!(ship.specs.as_ref().and_then(|s| s.year), Some(2015.0));
    let crew: Vec<(Option<String>, Option<String>)> = ship
        .crew
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.role))
        .collect();
    assert_eq!(
        crew,
        [
            (Some("Ann".into()), Some("captain".into())),
            (Some("Cy".into()), Some("cook".into()))
        ]
    );
    // The two independent GETs ran together: one delay, not two.
    assert!(elapsed < delay * 2, "took {elapsed:?}");
    // The token came from the bind's file, read at run time.
    let requests = stub.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.header("authorization"), Some("Bearer secret-from-file"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upstream_error_in_the_steps_is_an_error() {
    let stub = stub(Duration::ZERO).await;
    let clients = clients(&stub);
    let e = api::ship_with_crew(
        &clients,
        &api::ShipWithCrewArgs {
            imo: "IMO-404".into(),
        },
    )
    .await
    .unwrap_err();
    match e {
        naftiko_runtime::Error::Upstream { status, .. } => assert_eq!(status, 404),
        other => panic!("expected the upstream's 404, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mapped_and_mock_tools_are_typed() {
    let stub = stub(Duration::ZERO).await;
    let clients = clients(&stub);
    let ship = api::get_ship(
        &clients,
        &api::GetShipArgs {
            imo: "IMO-1".into(),
        },
    )
    .await
    .unwrap();
    assert_eq!(
        (ship.name.as_deref(), ship.year),
        (Some("Star"), Some(2015.0))
    );
    let size = api::fleet_size(
        &clients,
        &api::FleetSizeArgs {
            owner: Some("Ann".into()),
        },
    )
    .await
    .unwrap();
    // A mock `number` is a JSON number, not the text "42".
    assert_eq!(size.count, Some(42.0));
    assert_eq!(size.label.as_deref(), Some("fleet of Ann"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mcp_handler_declares_and_returns_the_typed_result() {
    let stub = stub(Duration::ZERO).await;
    let handler = fleet::fleet_tools::handler(clients(&stub));
    let tool = handler
        .tools()
        .iter()
        .find(|t| t.name == "ship-with-crew")
        .unwrap();
    // Name and description inherited from the flow; hints derived from its semantics.
    assert_eq!(
        tool.description.as_deref(),
        Some("A ship and its crew, resolved by name.")
    );
    let a = tool.annotations.as_ref().unwrap();
    assert_eq!(
        (a.read_only_hint, a.destructive_hint),
        (Some(true), Some(false))
    );
    let schema = tool.output_schema.as_ref().expect("an output schema");
    assert_eq!(
        schema["properties"]["specs"]["properties"]["year"]["type"],
        json!(["number", "null"])
    );
    let args = json!({"imo": "IMO-1"}).as_object().cloned();
    let r = handler.call("ship-with-crew", args).await.unwrap();
    assert_eq!(r.is_error, Some(false));
    let value = r.structured_content.unwrap();
    assert_eq!(value["specs"]["year"], json!(2015));
    assert_eq!(value["crew"][1]["name"], json!("Cy"));
    // Arguments are checked before anything is called.
    let r = handler.call("ship-with-crew", None).await.unwrap();
    assert_eq!(r.is_error, Some(true));
}
