//! Amazon Creators API (PA-API 5's successor): OAuth2 client-credentials tokens from a Cognito endpoint
//! (`POST /oauth2/token`, form body, scope `creatorsapi/default`, credential versions 2.x) or from Login with Amazon
//! (`POST /auth/o2/token`, JSON body, scope `creatorsapi::default`, versions 3.x), and `POST
//! /catalog/v1/searchItems` — `Authorization: Bearer <token>` (with `, Version 2.x` for Cognito tokens),
//! `x-marketplace` naming the store, lowerCamelCase JSON, `partnerTag` required, `itemCount` 1 to 10, only the
//! requested resources answered, no result as a 404 `ResourceNotFoundException`, one request per second (429
//! `ThrottleException` above).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

pub use crate::sp_api::{FakeItem, Fault};

/// Requests per second of `searchItems` (the wrapper libraries' default; Amazon publishes no figure).
pub const RATE: f64 = 1.0;

/// The credentials and store the fake accepts.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub client_id: String,
    pub client_secret: String,
    pub partner_tag: String,
}

/// A `searchItems` request as received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub body: Value,
    pub marketplace: Option<String>,
    pub authorization: Option<String>,
    pub status: u16,
}

#[derive(Debug)]
struct Inner {
    credentials: Credentials,
    catalog: Vec<FakeItem>,
    tokens: Mutex<HashSet<String>>,
    token_requests: Mutex<usize>,
    requests: Mutex<Vec<Recorded>>,
    faults: Mutex<std::collections::VecDeque<Fault>>,
    bucket: Mutex<(f64, Instant)>,
}

/// The running fake.
#[derive(Debug, Clone)]
pub struct FakeCreators {
    /// `http://127.0.0.1:<port>`: token endpoints and the catalog are under it.
    pub base_url: String,
    inner: Arc<Inner>,
}

impl FakeCreators {
    /// Starts the fake on a free port of 127.0.0.1 with this catalog.
    pub async fn start(credentials: Credentials, catalog: Vec<FakeItem>) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            credentials,
            catalog,
            tokens: Mutex::default(),
            token_requests: Mutex::default(),
            requests: Mutex::default(),
            faults: Mutex::default(),
            bucket: Mutex::new((1.0, Instant::now())),
        });
        let app = Router::new()
            .route("/oauth2/token", post(cognito_token))
            .route("/auth/o2/token", post(lwa_token))
            .route("/catalog/v1/searchItems", post(search_items))
            .with_state(inner.clone());
        let base_url = format!("http://{}", crate::serve(app).await?);
        Ok(FakeCreators { base_url, inner })
    }

    /// The next catalog requests meet these faults, one each, in order.
    pub fn inject(&self, faults: &[Fault]) {
        if let Ok(mut queue) = self.inner.faults.lock() {
            queue.extend(faults.iter().copied());
        }
    }

    /// Every `searchItems` request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// How many access tokens were asked for.
    pub fn token_requests(&self) -> usize {
        self.inner.token_requests.lock().map(|n| *n).unwrap_or(0)
    }
}

fn issue_token(
    inner: &Inner,
    client_id: Option<&str>,
    client_secret: Option<&str>,
    scope: Option<&str>,
    wanted: &str,
) -> Response {
    if let Ok(mut n) = inner.token_requests.lock() {
        *n += 1;
    }
    let expected = &inner.credentials;
    if client_id != Some(expected.client_id.as_str()) || client_secret != Some(expected.client_secret.as_str()) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_client"}))).into_response();
    }
    if scope != Some(wanted) {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_scope"}))).into_response();
    }
    let token = format!("tok-{}", uuid::Uuid::new_v4().simple());
    if let Ok(mut tokens) = inner.tokens.lock() {
        tokens.insert(token.clone());
    }
    Json(json!({"access_token": token, "expires_in": 3600, "token_type": "Bearer"})).into_response()
}

/// Credential versions 2.x: form body (axum's `Form` refuses any other content type), scope `creatorsapi/default`.
async fn cognito_token(State(inner): State<Arc<Inner>>, Form(form): Form<HashMap<String, String>>) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("grant_type") != Some("client_credentials") {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "unsupported_grant_type"}))).into_response();
    }
    issue_token(&inner, field("client_id"), field("client_secret"), field("scope"), "creatorsapi/default")
}

/// Credential versions 3.x: JSON body, scope `creatorsapi::default`.
async fn lwa_token(State(inner): State<Arc<Inner>>, Json(body): Json<Value>) -> Response {
    let field = |name: &str| body.get(name).and_then(Value::as_str);
    if field("grant_type") != Some("client_credentials") {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "unsupported_grant_type"}))).into_response();
    }
    issue_token(&inner, field("client_id"), field("client_secret"), field("scope"), "creatorsapi::default")
}

fn error(status: StatusCode, kind: &str, message: &str, extra: Value) -> Response {
    let mut body = json!({"type": kind, "message": message});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    (status, Json(body)).into_response()
}

fn within_rate(inner: &Inner) -> bool {
    let Ok(mut bucket) = inner.bucket.lock() else { return false };
    let now = Instant::now();
    let (tokens, counted) = *bucket;
    let tokens = (tokens + now.duration_since(counted).as_secs_f64() * RATE).min(1.0);
    if tokens < 1.0 {
        *bucket = (tokens, now);
        return false;
    }
    *bucket = (tokens - 1.0, now);
    true
}

const STORES: [&str; 20] = [
    "www.amazon.com",
    "www.amazon.ca",
    "www.amazon.com.mx",
    "www.amazon.com.br",
    "www.amazon.co.uk",
    "www.amazon.de",
    "www.amazon.fr",
    "www.amazon.it",
    "www.amazon.es",
    "www.amazon.nl",
    "www.amazon.com.be",
    "www.amazon.pl",
    "www.amazon.se",
    "www.amazon.com.tr",
    "www.amazon.ae",
    "www.amazon.sa",
    "www.amazon.in",
    "www.amazon.co.jp",
    "www.amazon.com.au",
    "www.amazon.sg",
];

async fn search_items(State(inner): State<Arc<Inner>>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut recorded = Recorded {
        body: parsed.clone(),
        marketplace: header("x-marketplace"),
        authorization: header("authorization"),
        status: 200,
    };
    let answer = answer(&inner, &recorded, &parsed).await;
    recorded.status = answer.status().as_u16();
    if let Ok(mut requests) = inner.requests.lock() {
        requests.push(recorded);
    }
    answer
}

async fn answer(inner: &Inner, recorded: &Recorded, body: &Value) -> Response {
    // `Bearer <token>`, or `Bearer <token>, Version 2.x` for Cognito credentials.
    let token = recorded
        .authorization
        .as_deref()
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(|a| a.split(',').next().unwrap_or_default().trim().to_string())
        .unwrap_or_default();
    if !inner.tokens.lock().map(|t| t.contains(&token)).unwrap_or(false) {
        return error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedException",
            "Authentication token is invalid.",
            json!({"reason": "InvalidToken"}),
        );
    }
    if !within_rate(inner) {
        return error(
            StatusCode::TOO_MANY_REQUESTS,
            "ThrottleException",
            "The request was denied due to request throttling. Please verify the number of requests made per second.",
            json!({}),
        );
    }
    match inner.faults.lock().ok().and_then(|mut f| f.pop_front()) {
        Some(Fault::ServerError) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerException",
                "An unexpected error occurred while processing your request.",
                json!({}),
            );
        }
        Some(Fault::Throttled) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "ThrottleException",
                "The request was denied due to request throttling.",
                json!({}),
            );
        }
        Some(Fault::Stall(duration)) => tokio::time::sleep(duration).await,
        None => {}
    }
    let store = recorded.marketplace.as_deref().unwrap_or_default();
    if !STORES.contains(&store) {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "x-marketplace is missing or not a store.",
            json!({"reason": "FieldValidationFailed", "fieldList": ["x-marketplace"]}),
        );
    }
    if body.get("partnerTag").and_then(Value::as_str) != Some(inner.credentials.partner_tag.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "Partner tag in the request is invalid or is not mapped to the store associated with your credential.",
            json!({"reason": "InvalidPartnerTag"}),
        );
    }
    let count = body.get("itemCount").and_then(Value::as_u64).unwrap_or(10);
    if !(1..=10).contains(&count) {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "itemCount must be between 1 and 10.",
            json!({"reason": "FieldValidationFailed", "fieldList": ["itemCount"]}),
        );
    }
    let Some(keywords) = body.get("keywords").and_then(Value::as_str).filter(|k| !k.trim().is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "A search criterion is required.",
            json!({"reason": "FieldValidationFailed", "fieldList": ["keywords"]}),
        );
    };
    let resources: HashSet<&str> = body
        .get("resources")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_else(|| HashSet::from(["itemInfo.title"]));
    let wanted = keywords.trim();
    let padded = if wanted.chars().all(|c| c.is_ascii_digit()) && wanted.len() <= 14 {
        format!("{wanted:0>14}")
    } else {
        String::new()
    };
    let items: Vec<Value> = inner
        .catalog
        .iter()
        .filter(|item| item.gtin14 == padded || item.title.contains(wanted))
        .take(count as usize)
        .map(|item| item_json(item, store, &resources))
        .collect();
    if items.is_empty() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({
                "__type": "com.amazon.creators#ResourceNotFoundException",
                "message": "No results found for your search request",
                "resourceType": "SearchResult",
                "resourceId": wanted,
            })),
        )
            .into_response();
    }
    Json(json!({"searchResult": {"totalResultCount": items.len(), "items": items}})).into_response()
}

fn item_json(item: &FakeItem, store: &str, resources: &HashSet<&str>) -> Value {
    let locale = "fr_FR";
    let mut info = json!({});
    if resources.contains("itemInfo.title") {
        info["title"] = json!({"displayValue": item.title, "label": "Title", "locale": locale});
    }
    if resources.contains("itemInfo.byLineInfo") {
        info["byLineInfo"] = json!({"brand": {"displayValue": item.brand, "label": "Brand", "locale": locale}});
    }
    if resources.contains("itemInfo.externalIds") {
        let mut ids = json!({"eans": {"displayValues": [&item.gtin14[1..]], "label": "EAN", "locale": locale}});
        if item.gtin14.starts_with("00") {
            ids["upcs"] = json!({"displayValues": [&item.gtin14[2..]], "label": "UPC", "locale": locale});
        }
        info["externalIds"] = ids;
    }
    let mut value = json!({
        "asin": item.asin,
        "detailPageURL": format!("https://{store}/dp/{}?tag=partner", item.asin),
        "itemInfo": info,
        // Resources not asked for may come back as null.
        "browseNodeInfo": null,
    });
    if resources.contains("images.primary.large") {
        value["images"] = json!({"primary": {"large": {"url": format!("https://m.media-amazon.com/images/I/{}._SL500_.jpg", item.asin), "height": 500, "width": 500}}});
    }
    if let (true, Some(rank)) = (resources.contains("browseNodeInfo.websiteSalesRank"), item.sales_rank) {
        value["browseNodeInfo"] =
            json!({"websiteSalesRank": {"displayName": "Home", "contextFreeName": "Home", "salesRank": rank}});
    }
    value
}
