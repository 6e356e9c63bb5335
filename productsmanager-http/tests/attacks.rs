//! The attack suite: each hole an outside probe of the release server found (issue 27) is a case here, over a real
//! server on SQLite and PostgreSQL, so that a regression fails CI. Cases are named after the finding they close.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use productsmanager_core::Sdk;
use productsmanager_core::auth::{NewApiKey, NewUser};
use productsmanager_core::both_backends;
use productsmanager_core::catalog::NewSupplier;
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use serde_json::json;

mod common;
use common::{Endpoint, TestServer, get, request};

/// An API key of a new user holding the built-in `role`, with every permission of the role.
async fn key_of_role(sdk: &Sdk, role: &str) -> String {
    let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
    let input =
        NewUser { email, display_name: None, password: "attack suite password".into(), roles: vec![role.into()] };
    let user = sdk.auth().create_user(input).await.unwrap();
    let scopes = sdk.auth().permissions_of(user.id).await.unwrap().into_iter().collect();
    let key = NewApiKey { user_id: user.id, name: format!("{role} key"), scopes, expires_at: None };
    sdk.auth().create_api_key(key, None).await.unwrap().secret
}

/// Finding 1 (critical): a folder import source could read and move any file the server can write. Now adding a
/// source takes `imports:sources` (admins), folder sources are off until `imports.folder_roots` names where they
/// may look, the product's own folders are never allowed, links are resolved first, and nothing a source took is
/// quoted back.
async fn folder_sources_are_confined(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "folder_sources_are_confined").await else { return };
    let drops = tempfile::tempdir().unwrap();
    env.config_mut().imports.folder_roots = vec![drops.path().to_path_buf()];
    let sdk = env.sdk().await;
    let supplier = sdk
        .suppliers()
        .create(NewSupplier { code: "ACME".into(), name: "Acme".into(), ..Default::default() })
        .await
        .unwrap();
    let server = TestServer::start(sdk.clone()).await;
    let admin = server.addr;
    let importer = admin.with(&key_of_role(&sdk, "importer").await);
    let manager = admin.with(&key_of_role(&sdk, "catalog_manager").await);
    let folder = |path: &std::path::Path| {
        json!({ "name": format!("drop {}", path.display()), "supplier_id": supplier.id, "source_kind": "folder",
                "source_settings": { "path": path } })
        .to_string()
    };
    let create = |who: Endpoint, body: String| async move {
        request(who, "POST", "/api/v1/import-configs", "", Some(&body)).await
    };

    // The probe's own moves: the data folder, the system's configuration folder, as an importer and as an admin.
    let data = env.folder().to_path_buf();
    for who in [importer, manager] {
        for path in [data.as_path(), std::path::Path::new("/etc"), drops.path()] {
            let reply = create(who, folder(path)).await;
            assert_eq!(reply.status, 403, "{}", reply.body);
            assert!(reply.body.contains("imports:sources"), "{}", reply.body);
        }
    }
    for path in [data.as_path(), &data.join("objects"), std::path::Path::new("/etc")] {
        let reply = create(admin, folder(path)).await;
        assert_eq!(
            (reply.status, reply.json()["field"].as_str()),
            (422, Some("source_settings.path")),
            "{}",
            reply.body
        );
    }
    // A link to the data folder placed inside an allowed root is followed, then refused.
    let link = drops.path().join("innocent");
    std::os::unix::fs::symlink(&data, &link).unwrap();
    let reply = create(admin, folder(&link)).await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    let listed = get(admin, "/api/v1/import-configs", "").await;
    assert_eq!(listed.json()["items"].as_array().map(Vec::len), Some(0), "{}", listed.body);
    for file in std::fs::read_dir(&data).unwrap() {
        let name = file.unwrap().file_name().to_string_lossy().into_owned();
        assert!(name != "processed" && name != "failed", "nothing was moved in the data folder");
    }

    // Inside the root, as an admin: taken, and its text never comes back in the job's error.
    let drop = drops.path().join("acme");
    std::fs::create_dir_all(&drop).unwrap();
    let reply = create(admin, folder(&drop)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    std::fs::write(drop.join("shadow.csv"), "root:$6$saltsalt$hash:19000:0:99999:7:::\nx\n").unwrap();
    let taken =
        productsmanager_core::imports::sources::poll_now(&sdk.imports(), &[], std::time::Duration::from_millis(50))
            .await
            .unwrap();
    assert_eq!(taken.len(), 1);
    let workers = sdk.job_runner("attacks", &["imports".to_string()]).unwrap().start();
    let job = format!("/api/v1/imports/{}", taken[0].job.id);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let failed = loop {
        let reply = get(admin, &job, "").await;
        if reply.json()["last_error"].is_string() {
            break reply;
        }
        assert!(std::time::Instant::now() < deadline, "the import never failed: {}", reply.body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    workers.shutdown(std::time::Duration::from_secs(10)).await;
    assert!(failed.body.contains("unexpected column"), "{}", failed.body);
    let jobs = get(admin, "/api/v1/imports", "").await;
    for body in [&failed.body, &jobs.body] {
        assert!(!body.contains("root:") && !body.contains("saltsalt"), "{body}");
    }

    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(folder_sources_are_confined);
