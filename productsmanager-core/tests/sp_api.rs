//! The SP-API Catalog Items client against the local fake: tokens, batching limits, identifiers padded per type,
//! throttling, server errors, stalls and refused credentials.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use productsmanager_core::code2asin::LookupError;
use productsmanager_core::code2asin::sp_api::{IdentifierType, LwaCredentials, SpApiClient, SpApiEndpoints};
use productsmanager_core::net::OutboundPolicy;
use productsmanager_fakes::sp_api::{Credentials, FakeItem, FakeSpApi, Fault};

const FR: &str = "A13V1IB3VIYZZH";

async fn fake() -> FakeSpApi {
    let credentials = Credentials {
        client_id: "amzn1.application-oa2-client.x".into(),
        client_secret: "s3cret".into(),
        refresh_token: "Atzr|r".into(),
    };
    let catalog = vec![
        FakeItem {
            asin: "B0POT00001".into(),
            gtin14: "04006381333931".into(),
            brand: "Acme".into(),
            title: "Clay pot".into(),
            sales_rank: Some(1200),
        },
        FakeItem {
            asin: "B0POT00002".into(),
            gtin14: "04006381333931".into(),
            brand: "Acme".into(),
            title: "Clay pot (2 pack)".into(),
            sales_rank: None,
        },
        FakeItem {
            asin: "B0LID00001".into(),
            gtin14: "00036000291452".into(),
            brand: "Other".into(),
            title: "Lid".into(),
            sales_rank: Some(40),
        },
    ];
    FakeSpApi::start(credentials, catalog).await.unwrap()
}

fn client(fake: &FakeSpApi, secret: &str, timeout: Duration) -> SpApiClient {
    let endpoints = SpApiEndpoints {
        api: format!("{}/", fake.base_url).parse().unwrap(),
        token: format!("{}/auth/o2/token", fake.base_url).parse().unwrap(),
    };
    let credentials = LwaCredentials {
        client_id: "amzn1.application-oa2-client.x".into(),
        client_secret: secret.into(),
        refresh_token: "Atzr|r".into(),
    };
    SpApiClient::new(endpoints, credentials, timeout, &OutboundPolicy::allowing_private()).unwrap()
}

#[tokio::test]
async fn identifiers_are_found_in_every_padded_form() {
    let fake = fake().await;
    let client = client(&fake, "s3cret", Duration::from_secs(5));
    let codes = vec!["4006381333931".to_string(), "0036000291452".to_string(), "4006381333948".to_string()];
    let mut items = client.search(FR, IdentifierType::Ean, &codes).await.unwrap().items;
    items.sort_by(|a, b| a.asin.cmp(&b.asin));
    let found: Vec<(&str, &[String], Option<u32>)> =
        items.iter().map(|i| (i.asin.as_str(), i.gtin14s.as_slice(), i.sales_rank)).collect();
    assert_eq!(
        found,
        [
            ("B0LID00001", &["00036000291452".to_string()][..], Some(40)),
            ("B0POT00001", &["04006381333931".to_string()][..], Some(1200)),
            ("B0POT00002", &["04006381333931".to_string()][..], None),
        ],
        "one code, two ASINs; EAN, GTIN and UPC forms compared as GTIN-14"
    );
    assert_eq!(items[1].brand.as_deref(), Some("Acme"));
    let recorded = fake.requests();
    assert_eq!((recorded.len(), recorded[0].identifiers.len(), recorded[0].identifiers_type.as_str()), (1, 3, "EAN"));
    assert_eq!(recorded[0].marketplace_ids, [FR]);

    // The token is asked for once and reused (the fake's 2 requests/s are respected by waiting here).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    client.search(FR, IdentifierType::Ean, &codes[..1]).await.unwrap();
    assert_eq!(fake.token_requests(), 1);

    let too_many: Vec<String> = (0..21).map(|n| format!("40063813339{n:02}")).collect();
    let refused = client.search(FR, IdentifierType::Ean, &too_many).await.unwrap_err();
    assert!(matches!(refused, LookupError::Invalid { .. }), "{refused}");
    assert_eq!(fake.requests().len(), 2, "21 identifiers are refused before any call");
}

#[tokio::test]
async fn throttling_faults_and_bad_credentials_are_told_apart() {
    let fake = fake().await;
    let client = client(&fake, "s3cret", Duration::from_millis(800));
    let code = vec!["4006381333931".to_string()];
    // A burst of 2, then 429 QuotaExceeded with the documented limit header.
    client.search(FR, IdentifierType::Ean, &code).await.unwrap();
    client.search(FR, IdentifierType::Ean, &code).await.unwrap();
    let throttled = client.search(FR, IdentifierType::Ean, &code).await.unwrap_err();
    assert_eq!(throttled, LookupError::Throttled { limit: Some(2.0) });

    tokio::time::sleep(Duration::from_millis(1100)).await;
    fake.inject(&[Fault::ServerError]);
    let failed = client.search(FR, IdentifierType::Ean, &code).await.unwrap_err();
    assert!(matches!(&failed, LookupError::Unavailable { message } if message.contains("InternalFailure")), "{failed}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fake.inject(&[Fault::Stall(Duration::from_secs(3))]);
    let stalled = client.search(FR, IdentifierType::Ean, &code).await.unwrap_err();
    assert!(matches!(stalled, LookupError::Unavailable { .. }), "{stalled}");

    let wrong = client_with_secret(&fake).await;
    let refused = wrong.search(FR, IdentifierType::Ean, &code).await.unwrap_err();
    assert!(
        matches!(&refused, LookupError::Unauthorized { message } if message.contains("invalid_client")),
        "{refused}"
    );
}

async fn client_with_secret(fake: &FakeSpApi) -> SpApiClient {
    client(fake, "wrong", Duration::from_secs(5))
}

/// The published Catalog Items contract (Swagger 2.0), when `../shared` is here; says so plainly when it is not.
fn contract() -> Option<serde_json::Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/research/api-specs/amazon-sp-api/catalogItems_2022-04-01.json");
    match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).unwrap()),
        Err(e) => {
            eprintln!(
                "NOT RUN: the SP-API contract check needs {} ({e}); the fake and the client were not checked against it",
                path.display()
            );
            None
        }
    }
}

/// An instance checked against `#/definitions/<name>` of the contract.
fn conforms(contract: &serde_json::Value, name: &str, instance: &serde_json::Value) -> Vec<String> {
    let schema = serde_json::json!({"$ref": format!("#/definitions/{name}"), "definitions": contract["definitions"]});
    let validator = jsonschema::draft4::new(&schema).unwrap();
    validator.iter_errors(instance).map(|e| format!("{}: {e}", e.instance_path())).collect()
}

/// What the client sends and what the fake answers, held against the published contract: every query parameter
/// declared, within its limits and enums; the 200 body an `ItemSearchResults`, the error bodies an `ErrorList`.
#[tokio::test]
async fn the_client_and_the_fake_follow_the_published_contract() {
    let Some(contract) = contract() else { return };
    let operation = &contract["paths"]["/catalog/2022-04-01/items"]["get"];
    let parameters = operation["parameters"].as_array().unwrap();
    let declared = |name: &str| parameters.iter().find(|p| p["name"] == name && p["in"] == "query");

    let fake = fake().await;
    let client = client(&fake, "s3cret", Duration::from_secs(5));
    let codes: Vec<String> = vec!["4006381333931".into(), "0036000291452".into()];
    client.search(FR, IdentifierType::Ean, &codes).await.unwrap();
    let sent = &fake.requests()[0];
    for (name, value) in &sent.query {
        let parameter =
            declared(name).unwrap_or_else(|| panic!("the client sends {name}, which the contract does not declare"));
        let values: Vec<&str> =
            if parameter["type"] == "array" { value.split(',').collect() } else { vec![value.as_str()] };
        if let Some(most) = parameter["maxItems"].as_u64() {
            assert!(values.len() as u64 <= most, "{name}: {} values, at most {most}", values.len());
        }
        let allowed = parameter["enum"].as_array().or(parameter["items"]["enum"].as_array());
        if let Some(allowed) = allowed {
            for v in &values {
                assert!(allowed.iter().any(|a| a == v), "{name}={v} is not among {allowed:?}");
            }
        }
    }
    for required in parameters.iter().filter(|p| p["required"] == true && p["in"] == "query") {
        let name = required["name"].as_str().unwrap();
        assert!(sent.query.iter().any(|(k, _)| k == name), "the client leaves out the required {name}");
    }

    // The fake's raw answers, read without our client.
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{}/auth/o2/token", fake.base_url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=refresh_token&refresh_token=Atzr%7Cr&client_id=amzn1.application-oa2-client.x&client_secret=s3cret")
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .map(|b| serde_json::from_slice(&b).unwrap())
        .unwrap();
    let items = format!(
        "{}/catalog/2022-04-01/items?identifiers=4006381333931,0036000291452&identifiersType=EAN&marketplaceIds={FR}&includedData=identifiers,summaries,salesRanks,images",
        fake.base_url
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let ok =
        http.get(&items).header("x-amz-access-token", token["access_token"].as_str().unwrap()).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    let body: serde_json::Value = serde_json::from_slice(&ok.bytes().await.unwrap()).unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
    let problems = conforms(&contract, "ItemSearchResults", &body);
    assert!(problems.is_empty(), "the fake's answer breaks the contract: {problems:?}");
    // The check bites: an item without its ASIN, a count that is not a number.
    let broken = serde_json::json!({"numberOfResults": "3", "items": [{"summaries": []}]});
    assert_eq!(conforms(&contract, "ItemSearchResults", &broken).len(), 2);
    let denied = http.get(&items).header("x-amz-access-token", "Atza|forged").send().await.unwrap();
    assert_eq!(denied.status(), 403);
    assert!(operation["responses"]["403"].is_object(), "403 is a documented answer");
    let body: serde_json::Value = serde_json::from_slice(&denied.bytes().await.unwrap()).unwrap();
    let problems = conforms(&contract, "ErrorList", &body);
    assert!(problems.is_empty(), "the fake's error breaks the contract: {problems:?}");
}
