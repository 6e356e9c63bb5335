//! Code2ASIN over HTTP against the local SP-API fake: a configuration whose secrets never come back, a code check,
//! a job queued, run, and read back (items, statistics), a match held for review and accepted; on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use productsmanager_core::both_backends;
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use productsmanager_fakes::sp_api::{Credentials, FakeItem, FakeSpApi};
use serde_json::json;

mod common;
use common::{TestServer, get, request};

const SHOE: &str = "4006381333931";
const LID: &str = "0036000291452";

async fn code2asin_over_http(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "code2asin_over_http").await else { return };
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let credentials = Credentials {
        client_id: "amzn1.application-oa2-client.h".into(),
        client_secret: "very-secret".into(),
        refresh_token: "Atzr|h".into(),
    };
    let item = |asin: &str, gtin: &str, title: &str, rank| FakeItem {
        asin: asin.into(),
        gtin14: format!("{gtin:0>14}"),
        brand: "Acme".into(),
        title: title.into(),
        sales_rank: rank,
    };
    let catalog = vec![
        item("B0SHOE0001", SHOE, "Trail shoe", Some(10)),
        item("B0LID00001", LID, "Lid", None),
        item("B0LID00002", LID, "Lid, 2 pack", None),
    ];
    let fake = FakeSpApi::start(credentials.clone(), catalog).await.unwrap();

    let config = json!({
        "name": "FR", "marketplace": "FR", "client_id": credentials.client_id,
        "client_secret": credentials.client_secret, "refresh_token": credentials.refresh_token,
        "endpoint": format!("{}/", fake.base_url), "token_endpoint": format!("{}/auth/o2/token", fake.base_url),
    });
    let added = request(addr, "POST", "/api/v1/code2asin/configs", "", Some(&config.to_string())).await;
    assert_eq!(added.status, 201, "{}", added.body);
    assert!(!added.body.contains("very-secret") && !added.body.contains("Atzr"), "{}", added.body);
    let listed = get(addr, "/api/v1/code2asin/configs", "").await;
    assert_eq!(listed.json()[0]["marketplace_id"], "A13V1IB3VIYZZH");
    assert!(!listed.body.contains("very-secret"));

    let checked = get(addr, "/api/v1/code2asin/check/978-0-306-40615-7", "").await.json();
    assert_eq!((checked["valid"].as_bool(), checked["kind"].as_str()), (Some(true), Some("ISBN-13")));

    let product = json!({"sku": "LID-1", "gtin": LID, "title": "Lid"}).to_string();
    assert_eq!(request(addr, "POST", "/api/v1/products", "", Some(&product)).await.status, 201);
    let job = json!({"source": "codes", "codes": [SHOE, LID, "123"], "marketplace": "FR"}).to_string();
    let queued = request(addr, "POST", "/api/v1/code2asin/jobs", "", Some(&job)).await;
    assert_eq!(queued.status, 202, "{}", queued.body);
    let id = queued.json()["id"].as_str().unwrap().to_string();
    // The same codes while the job is unfinished: that job again.
    let again = request(addr, "POST", "/api/v1/code2asin/jobs", "", Some(&job)).await;
    assert_eq!((again.status, again.json()["id"].as_str()), (200, Some(id.as_str())));

    // No worker in this server: run it here, then read it over HTTP.
    sdk.code2asin().run_now(id.parse().unwrap(), |_| {}).await.unwrap();
    let done = get(addr, &format!("/api/v1/code2asin/jobs/{id}"), "").await.json();
    assert_eq!(done["state"], "succeeded");
    assert_eq!(done["counts"]["matched"], 1);
    assert_eq!(done["counts"]["review"], 1);
    assert_eq!(done["counts"]["invalid"], 1);
    let items = get(addr, &format!("/api/v1/code2asin/jobs/{id}/items?outcome=review"), "").await.json();
    assert_eq!(items.as_array().unwrap().len(), 1);
    assert_eq!(items[0]["code"], LID);
    let stats = get(addr, &format!("/api/v1/code2asin/jobs/{id}/statistics"), "").await.json();
    assert_eq!((stats["api_calls"].as_i64(), stats["codes_looked_up"].as_i64()), (Some(1), Some(2)));

    let pending = get(addr, "/api/v1/code2asin/results?review=pending", "").await.json();
    let result = pending["items"][0]["id"].as_str().unwrap().to_string();
    let asin = pending["items"][0]["asin"].as_str().unwrap().to_string();
    let accepted = request(addr, "POST", &format!("/api/v1/code2asin/results/{result}/accept"), "", None).await;
    assert_eq!((accepted.status, accepted.json()["review_state"].as_str()), (200, Some("accepted")));
    let lid = get(addr, &format!("/api/v1/products/{LID}"), "").await.json();
    assert_eq!(lid["asin"].as_str(), Some(asin.as_str()));
    let of_code = get(addr, &format!("/api/v1/code2asin/codes/{LID}/results?marketplace=fr"), "").await.json();
    assert_eq!(of_code.as_array().unwrap().len(), 2);

    // A single lookup of a code the job answered: from the stored result, with Amazon's response kept.
    let looked = get(addr, &format!("/api/v1/code2asin/lookup/{SHOE}?marketplace=FR"), "").await;
    assert_eq!(looked.status, 200, "{}", looked.body);
    let shoe = &looked.json()[0];
    assert_eq!(shoe["asin"], "B0SHOE0001");
    let raw = get(addr, &format!("/api/v1/code2asin/results/{}/raw", shoe["id"].as_str().unwrap()), "").await;
    assert_eq!(raw.status, 200);
    assert!(raw.json()["items"].as_array().unwrap().iter().any(|i| i["asin"] == "B0SHOE0001"), "{}", raw.body);

    // A supplier's settings for a marketplace.
    let supplier = json!({"code": "ACME", "name": "Acme"}).to_string();
    assert_eq!(request(addr, "POST", "/api/v1/suppliers", "", Some(&supplier)).await.status, 201);
    let settings = json!({"confidence_threshold": 0.7}).to_string();
    let set = request(addr, "PUT", "/api/v1/code2asin/suppliers/ACME/fr", "", Some(&settings)).await;
    assert_eq!((set.status, set.json()["marketplace"].as_str()), (200, Some("FR")), "{}", set.body);
    let listed = get(addr, "/api/v1/code2asin/suppliers/ACME", "").await.json();
    assert_eq!(listed[0]["confidence_threshold"], 0.7);

    let bad = json!({"source": "codes", "codes": [SHOE], "marketplace": "Mars"}).to_string();
    let refused = request(addr, "POST", "/api/v1/code2asin/jobs", "", Some(&bad)).await;
    assert_eq!((refused.status, refused.json()["field"].as_str()), (422, Some("marketplace")));
    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(code2asin_over_http);
