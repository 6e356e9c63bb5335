//! Amazon SP-API: the Login with Amazon token endpoint (`POST /auth/o2/token`, refresh-token grant) and Catalog
//! Items 2022-04-01 `searchCatalogItems` (`GET /catalog/2022-04-01/items`) — token required in
//! `x-amz-access-token`, 1 to 20 identifiers, exactly one marketplace, 2 requests/s with a burst of 2 (429
//! `QuotaExceeded` above), `x-amzn-RateLimit-Limit` and `x-amzn-RequestId` on answers, identifiers answered in every
//! form Amazon pads them to (EAN 13 digits, GTIN 14, UPC 12).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

/// One product of the fake catalog.
#[derive(Debug, Clone)]
pub struct FakeItem {
    pub asin: String,
    /// 14 digits.
    pub gtin14: String,
    pub brand: String,
    pub title: String,
    pub sales_rank: Option<u32>,
}

/// A failure the next catalog request(s) will meet instead of an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 500 `InternalFailure`.
    ServerError,
    /// 429 `QuotaExceeded`, whatever the rate.
    Throttled,
    /// No answer for this long (a client timeout).
    Stall(Duration),
}

/// A catalog request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Every query parameter as sent.
    pub query: Vec<(String, String)>,
    pub identifiers: Vec<String>,
    pub identifiers_type: String,
    pub marketplace_ids: Vec<String>,
    pub status: u16,
}

/// The credentials the fake accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
}

#[derive(Debug)]
struct Inner {
    credentials: Credentials,
    catalog: Vec<FakeItem>,
    tokens: Mutex<HashSet<String>>,
    token_requests: Mutex<usize>,
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<VecDeque<Fault>>,
    /// The token bucket of `searchCatalogItems`: tokens left and when they were counted.
    bucket: Mutex<(f64, Instant)>,
}

/// The running fake.
#[derive(Debug, Clone)]
pub struct FakeSpApi {
    /// `http://127.0.0.1:<port>`: both the token endpoint and the catalog are under it.
    pub base_url: String,
    inner: Arc<Inner>,
}

/// Requests per second and burst of `searchCatalogItems`.
pub const RATE: f64 = 2.0;
const BURST: f64 = 2.0;

impl FakeSpApi {
    /// Starts the fake on a free port of 127.0.0.1 with this catalog.
    pub async fn start(credentials: Credentials, catalog: Vec<FakeItem>) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            credentials,
            catalog,
            tokens: Mutex::default(),
            token_requests: Mutex::default(),
            requests: Mutex::default(),
            faults: Mutex::default(),
            bucket: Mutex::new((BURST, Instant::now())),
        });
        let app = Router::new()
            .route("/auth/o2/token", post(token))
            .route("/catalog/2022-04-01/items", get(search))
            .with_state(inner.clone());
        let base_url = format!("http://{}", crate::serve(app).await?);
        Ok(FakeSpApi { base_url, inner })
    }

    /// The next catalog requests meet these faults, one each, in order.
    pub fn inject(&self, faults: &[Fault]) {
        if let Ok(mut queue) = self.inner.faults.lock() {
            queue.extend(faults.iter().copied());
        }
    }

    /// Every catalog request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// How many access tokens were asked for.
    pub fn token_requests(&self) -> usize {
        self.inner.token_requests.lock().map(|n| *n).unwrap_or(0)
    }
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    grant_type: String,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

async fn token(State(inner): State<Arc<Inner>>, Form(form): Form<TokenForm>) -> Response {
    if let Ok(mut n) = inner.token_requests.lock() {
        *n += 1;
    }
    let expected = &inner.credentials;
    if form.grant_type != "refresh_token" {
        return lwa_error("unsupported_grant_type", "The authorization grant type is not supported");
    }
    let client_ok = form.client_id.as_deref() == Some(&expected.client_id)
        && form.client_secret.as_deref() == Some(&expected.client_secret);
    if !client_ok {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client", "error_description": "Client authentication failed"})),
        )
            .into_response();
    }
    if form.refresh_token.as_deref() != Some(&expected.refresh_token) {
        return lwa_error("invalid_grant", "The request has an invalid grant parameter : refresh_token");
    }
    let access = format!("Atza|{}", uuid::Uuid::new_v4().simple());
    if let Ok(mut tokens) = inner.tokens.lock() {
        tokens.insert(access.clone());
    }
    Json(json!({"access_token": access, "refresh_token": expected.refresh_token, "token_type": "bearer", "expires_in": 3600}))
        .into_response()
}

fn lwa_error(error: &str, description: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"error": error, "error_description": description}))).into_response()
}

fn sp_error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut response =
        (status, Json(json!({"errors": [{"code": code, "message": message, "details": ""}]}))).into_response();
    headers(response.headers_mut());
    response
}

fn headers(map: &mut HeaderMap) {
    map.insert("x-amzn-RateLimit-Limit", axum::http::HeaderValue::from_static("2.0"));
    if let Ok(id) = axum::http::HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        map.insert("x-amzn-RequestId", id);
    }
}

async fn search(
    State(inner): State<Arc<Inner>>,
    Query(query): Query<HashMap<String, String>>,
    request_headers: HeaderMap,
) -> Response {
    let split = |key: &str| -> Vec<String> {
        query.get(key).map(|v| v.split(',').map(str::to_string).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
    };
    let mut recorded = Recorded {
        query: query.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        identifiers: split("identifiers"),
        identifiers_type: query.get("identifiersType").cloned().unwrap_or_default(),
        marketplace_ids: split("marketplaceIds"),
        status: 200,
    };
    let answer = answer(&inner, &query, &request_headers, &recorded).await;
    recorded.status = answer.status().as_u16();
    if let Ok(mut requests) = inner.requests.lock() {
        requests.push(recorded);
    }
    answer
}

async fn answer(
    inner: &Inner,
    query: &HashMap<String, String>,
    request_headers: &HeaderMap,
    recorded: &Recorded,
) -> Response {
    let token = request_headers.get("x-amz-access-token").and_then(|t| t.to_str().ok()).unwrap_or("");
    if !inner.tokens.lock().map(|t| t.contains(token)).unwrap_or(false) {
        return sp_error(StatusCode::FORBIDDEN, "Unauthorized", "Access to requested resource is denied.");
    }
    // A request takes its token when it arrives, whatever happens to it next (Amazon's bucket counts arrivals).
    if !within_rate(inner) {
        return sp_error(
            StatusCode::TOO_MANY_REQUESTS,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
        );
    }
    let fault = inner.faults.lock().ok().and_then(|mut f| f.pop_front());
    match fault {
        Some(Fault::ServerError) => {
            return sp_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalFailure",
                "We encountered an internal error. Please try again.",
            );
        }
        Some(Fault::Throttled) => {
            return sp_error(
                StatusCode::TOO_MANY_REQUESTS,
                "QuotaExceeded",
                "You exceeded your quota for the requested resource.",
            );
        }
        Some(Fault::Stall(duration)) => tokio::time::sleep(duration).await,
        None => {}
    }
    if recorded.marketplace_ids.len() != 1 {
        return sp_error(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "marketplaceIds: exactly one marketplace is supported",
        );
    }
    if recorded.identifiers.is_empty() || recorded.identifiers.len() > 20 {
        return sp_error(StatusCode::BAD_REQUEST, "InvalidInput", "identifiers: between 1 and 20 identifiers");
    }
    if query.contains_key("keywords") {
        return sp_error(StatusCode::BAD_REQUEST, "InvalidInput", "identifiers cannot be combined with keywords");
    }
    let kind = recorded.identifiers_type.as_str();
    if !matches!(kind, "EAN" | "GTIN" | "UPC" | "ISBN" | "JAN") {
        return sp_error(StatusCode::BAD_REQUEST, "InvalidInput", "identifiersType: not supported by this fake");
    }
    let marketplace = &recorded.marketplace_ids[0];
    // Only the data sets asked for are answered (`summaries` when none is named).
    let included: HashSet<String> = match query.get("includedData") {
        Some(list) => list.split(',').map(str::to_string).collect(),
        None => HashSet::from(["summaries".to_string()]),
    };
    let wanted: HashSet<String> = recorded
        .identifiers
        .iter()
        .filter(|i| i.chars().all(|c| c.is_ascii_digit()) && i.len() <= 14)
        .map(|i| format!("{i:0>14}"))
        .collect();
    let items: Vec<Value> = inner
        .catalog
        .iter()
        .filter(|item| wanted.contains(&item.gtin14))
        .map(|item| item_json(item, marketplace, &included))
        .collect();
    let mut response = Json(json!({"numberOfResults": items.len(), "items": items})).into_response();
    headers(response.headers_mut());
    response
}

/// A token bucket of 2 per second with a burst of 2, as the documented limit of `searchCatalogItems`: it holds at
/// most 2 tokens, refills continuously at 2 per second, and each accepted request takes one.
fn within_rate(inner: &Inner) -> bool {
    let Ok(mut bucket) = inner.bucket.lock() else { return false };
    let now = Instant::now();
    let (tokens, counted) = *bucket;
    let tokens = (tokens + now.duration_since(counted).as_secs_f64() * RATE).min(BURST);
    if tokens < 1.0 {
        *bucket = (tokens, now);
        return false;
    }
    *bucket = (tokens - 1.0, now);
    true
}

fn item_json(item: &FakeItem, marketplace: &str, included: &HashSet<String>) -> Value {
    let mut value = json!({"asin": item.asin});
    if included.contains("identifiers") {
        // Amazon answers the identifier in each form it is padded to.
        let mut identifiers = vec![
            json!({"identifierType": "EAN", "identifier": &item.gtin14[1..]}),
            json!({"identifierType": "GTIN", "identifier": item.gtin14}),
        ];
        if item.gtin14.starts_with("00") {
            identifiers.push(json!({"identifierType": "UPC", "identifier": &item.gtin14[2..]}));
        }
        value["identifiers"] = json!([{"marketplaceId": marketplace, "identifiers": identifiers}]);
    }
    if included.contains("summaries") {
        value["summaries"] = json!([{"marketplaceId": marketplace, "brand": item.brand, "itemName": item.title, "itemClassification": "BASE_PRODUCT"}]);
    }
    if included.contains("images") {
        value["images"] = json!([{"marketplaceId": marketplace, "images": [
            {"variant": "MAIN", "link": format!("https://m.media-amazon.com/images/I/{}.jpg", item.asin), "height": 500, "width": 500}
        ]}]);
    }
    if let (true, Some(rank)) = (included.contains("salesRanks"), item.sales_rank) {
        value["salesRanks"] = json!([{"marketplaceId": marketplace, "displayGroupRanks": [{"websiteDisplayGroup": "home_display_on_website", "title": "Home", "rank": rank}]}]);
    }
    value
}
