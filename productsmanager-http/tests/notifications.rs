//! Notifications over HTTP and a real WebSocket client, on SQLite and PostgreSQL: listing with a cursor, marking
//! read, a job's end reaching the user who asked for it live, and notifications stored by another process caught
//! up from the database.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures_util::StreamExt;
use productsmanager_core::Sdk;
use productsmanager_core::auth::{NewApiKey, NewUser};
use productsmanager_core::both_backends;
use productsmanager_core::db::Backend;
use productsmanager_core::notifications::NewNotification;
use productsmanager_core::testing::TestDatabases;
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use uuid::Uuid;

mod common;
use common::{Endpoint, TestServer, get, request};

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A user with `roles` and an API key with `scopes`: (user id, key).
async fn user_with_key(sdk: &Sdk, email: &str, roles: &[&str], scopes: &[&str]) -> (Uuid, String) {
    let roles = roles.iter().map(|r| r.to_string()).collect();
    let user = NewUser { email: email.into(), display_name: None, password: "correct horse battery".into(), roles };
    let user = sdk.auth().create_user(user).await.unwrap();
    let scopes = scopes.iter().map(|s| s.to_string()).collect();
    let key = NewApiKey { user_id: user.id, name: "notifications test".into(), scopes, expires_at: None };
    (user.id, sdk.auth().create_api_key(key, None).await.unwrap().secret)
}

/// Opens `/api/v1/ws` with `header: value` on the upgrade request.
async fn connect(addr: Endpoint, header: (&'static str, &str)) -> Result<Socket, tungstenite::Error> {
    let mut upgrade = format!("ws://{}/api/v1/ws", addr.socket).into_client_request().unwrap();
    upgrade.headers_mut().insert(header.0, header.1.parse().unwrap());
    tokio_tungstenite::connect_async(upgrade).await.map(|(socket, _)| socket)
}

/// The next event on `socket` that `wanted` accepts, within `seconds`.
async fn next_event(socket: &mut Socket, seconds: u64, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next()).await.expect("no such event in time");
        match message.expect("socket closed").unwrap() {
            Message::Text(text) => {
                let event: Value = serde_json::from_str(&text).unwrap();
                if wanted(&event) {
                    return event;
                }
            }
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected message {other:?}"),
        }
    }
}

async fn notifications_are_listed_by_page_and_marked_read(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "notifications_are_listed").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let (ana, ana_key) = user_with_key(&sdk, "ana@example.com", &["viewer"], &["catalog:read"]).await;
    let (bob, _) = user_with_key(&sdk, "bob@example.com", &["viewer"], &["catalog:read"]).await;
    let notifications = sdk.notifications();
    for title in ["first", "second", "third"] {
        notifications.notify(NewNotification::new(ana, "import_summary", title)).await.unwrap();
    }
    let bobs = notifications.notify(NewNotification::new(bob, "job_failed", "not for Ana")).await.unwrap();
    let addr = server.addr.with(&ana_key);

    let first = get(addr, "/api/v1/notifications?limit=2", "").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    let titles =
        |page: &Value| page["items"].as_array().unwrap().iter().map(|n| n["title"].clone()).collect::<Vec<_>>();
    assert_eq!(titles(&first), ["third", "second"], "newest first, only Ana's");
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = get(addr, &format!("/api/v1/notifications?limit=2&cursor={cursor}"), "").await.json();
    assert_eq!((titles(&rest), rest["next_cursor"].is_null()), (vec![Value::from("first")], true));
    let bad_cursor = get(addr, "/api/v1/notifications?cursor=nonsense", "").await;
    assert_eq!((bad_cursor.status, bad_cursor.json()["field"].as_str()), (422, Some("cursor")));

    let newest = first["items"][0]["id"].as_str().unwrap();
    let read = request(addr, "POST", &format!("/api/v1/notifications/{newest}/read"), "", None).await;
    assert_eq!(read.status, 200, "{}", read.body);
    assert!(read.json()["read_at"].is_string());
    let unread = get(addr, "/api/v1/notifications?unread=true", "").await.json();
    assert_eq!(titles(&unread), ["second", "first"]);
    // Another user's notification does not exist for Ana.
    let foreign = request(addr, "POST", &format!("/api/v1/notifications/{}/read", bobs.id), "", None).await;
    assert_eq!(foreign.status, 404, "{}", foreign.body);
    let all = request(addr, "POST", "/api/v1/notifications/read-all", "", None).await;
    assert_eq!(all.json()["marked"], 2);
    assert_eq!(notifications.unread_count(ana).await.unwrap(), 0);
    assert_eq!(notifications.unread_count(bob).await.unwrap(), 1, "Bob's untouched");
    server.stop().await.unwrap();
    sdk.close().await;
}

async fn a_finished_job_reaches_its_requester_over_a_websocket(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "job_reaches_requester").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let (ana, key) = user_with_key(&sdk, "ana@example.com", &["admin"], &["jobs:read", "jobs:manage"]).await;
    let addr = server.addr.with(&key);

    // No credentials: the upgrade is refused with 401 before any WebSocket exists.
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/api/v1/ws", addr.socket)).await;
    match refused {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected a 401, got {other:?}"),
    }
    let mut socket = connect(addr, ("authorization", &format!("Bearer {key}"))).await.unwrap();
    // The browser form: the credential as the subprotocols `bearer, <token>`.
    let mut browser = connect(addr, ("sec-websocket-protocol", &format!("bearer, {key}"))).await.unwrap();

    let workers = sdk.job_runner("ws-test", &["catalog".to_string()]).unwrap().start();
    let queued = request(addr, "POST", "/api/v1/jobs", "", Some(r#"{"queue": "catalog", "kind": "reindex"}"#)).await;
    assert_eq!(queued.status, 201, "{}", queued.body);
    let job_id = queued.json()["id"].as_str().unwrap().to_string();

    let is_this_job = |state: &'static str| {
        let job_id = job_id.clone();
        move |event: &Value| event["type"] == "job" && event["job"]["id"] == job_id && event["job"]["state"] == state
    };
    let running = next_event(&mut socket, 20, is_this_job("running")).await;
    assert_eq!(running["job"]["requested_by"], ana.to_string());
    next_event(&mut socket, 20, is_this_job("succeeded")).await;
    let told = next_event(&mut socket, 20, |e| e["type"] == "notification").await;
    let notification = &told["notification"];
    assert_eq!(
        (notification["kind"].as_str(), notification["title"].as_str()),
        (Some("job_finished"), Some("Reindex finished"))
    );
    assert_eq!(
        (notification["entity_type"].as_str(), notification["entity_id"].as_str()),
        (Some("job"), Some(job_id.as_str()))
    );
    let browser_told = next_event(&mut browser, 20, |e| e["type"] == "notification").await;
    assert_eq!(browser_told["notification"]["id"], notification["id"]);
    // Stored too: listed, unread.
    let listed = get(addr, "/api/v1/notifications?unread=true", "").await.json();
    assert_eq!(listed["items"][0]["id"], notification["id"]);

    // Stored by another process (a worker elsewhere): this server's hub never hears of it, the session finds it
    // in the database.
    let elsewhere = env.sdk().await;
    let remote = elsewhere.notifications().notify(NewNotification::new(ana, "export_summary", "From a worker")).await;
    let remote = remote.unwrap();
    let caught = next_event(&mut socket, 20, |e| e["type"] == "notification").await;
    assert_eq!(caught["notification"]["id"], remote.id.to_string());
    elsewhere.close().await;

    socket.close(None).await.unwrap();
    workers.shutdown(Duration::from_secs(5)).await;
    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(notifications_are_listed_by_page_and_marked_read, a_finished_job_reaches_its_requester_over_a_websocket);
