//! Shopify's bulk operation path for large pushes: one JSONL file of `productSet` inputs staged with
//! `stagedUploadsCreate` and a multipart POST to the URL it gives, `bulkOperationRunMutation` on it, the operation
//! polled until it ends, and its result JSONL read back line by line (`__lineNumber` names the input line; lines
//! may come in any order). Costs a few points in all instead of 10 per product; Shopify runs one bulk mutation per
//! shop at a time (before API 2026-01), so one already running (another app's, or a killed run's) is waited for.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::shopify::{PLATFORM, Shopify, bulk_product_set_document, outcome_of, product_input};
use super::{PlatformError, PlatformProduct, PushOutcome, refusal, secure_endpoint, send};

/// How long a bulk operation may take before we give up on it (Shopify stops its own after 24 hours).
const BULK_DEADLINE: Duration = Duration::from_secs(24 * 60 * 60);
/// The first wait between two polls; then each wait is half as long again, at most [`POLL_MAX`].
const POLL_FIRST: Duration = Duration::from_millis(200);
const POLL_MAX: Duration = Duration::from_secs(10);

pub(crate) const STAGED_UPLOADS_DOCUMENT: &str = "mutation stage($input: [StagedUploadInput!]!) { \
     stagedUploadsCreate(input: $input) { stagedTargets { url resourceUrl parameters { name value } } \
     userErrors { field message } } }";
pub(crate) const RUN_DOCUMENT: &str = "mutation run($mutation: String!, $path: String!) { \
     bulkOperationRunMutation(mutation: $mutation, stagedUploadPath: $path) { bulkOperation { id status } \
     userErrors { field message code } } }";
pub(crate) const OPERATION_DOCUMENT: &str = "query operation($id: ID!) { node(id: $id) { ... on BulkOperation { \
     id status errorCode objectCount url partialDataUrl } } }";
pub(crate) const CURRENT_DOCUMENT: &str = "query current { currentBulkOperation(type: MUTATION) { id status } }";

/// A bulk operation as polled.
#[derive(Debug)]
struct Operation {
    status: String,
    error_code: Option<String>,
    /// The result file (`url`, or `partialDataUrl` after a failure).
    results: Option<String>,
}

fn refused(reason: impl Into<String>) -> PlatformError {
    PlatformError::Refused { platform: PLATFORM, reason: reason.into() }
}

fn running(status: &str) -> bool {
    matches!(status, "CREATED" | "RUNNING" | "CANCELING")
}

impl Shopify {
    /// `products` (remote ids already looked up) as one bulk operation; one outcome each, in order.
    pub(super) async fn push_bulk(
        &self,
        products: &[PlatformProduct],
        location: &str,
    ) -> Result<Vec<PushOutcome>, PlatformError> {
        let mut outcomes: Vec<Option<PushOutcome>> = vec![None; products.len()];
        // Line n of the file is products[lines[n]].
        let mut lines: Vec<usize> = Vec::new();
        let mut file = Vec::new();
        for (index, product) in products.iter().enumerate() {
            match product_input(product, location) {
                Ok(input) => {
                    serde_json::to_writer(&mut file, &json!({"input": input}))
                        .map_err(|e| refused(format!("JSONL: {e}")))?;
                    file.push(b'\n');
                    lines.push(index);
                }
                Err(reason) => outcomes[index] = Some(PushOutcome::failed(product.remote_id.clone(), reason)),
            }
        }
        if !lines.is_empty() {
            let path = self.stage(file).await?;
            let id = self.run_bulk(&path).await?;
            let operation = self.wait_for_operation(&id).await?;
            if operation.status != "COMPLETED" {
                tracing::warn!(status = %operation.status, code = ?operation.error_code, "Shopify bulk operation ended early");
            }
            if let Some(url) = &operation.results {
                for line in self.results(url).await?.lines().filter(|l| !l.trim().is_empty()) {
                    let answer: Value = serde_json::from_str(line)
                        .map_err(|e| refused(format!("bulk operation result line {line:?}: {e}")))?;
                    let Some(index) = answer["__lineNumber"].as_u64().and_then(|n| lines.get(n as usize)).copied()
                    else {
                        continue;
                    };
                    let product = &products[index];
                    outcomes[index] = Some(match answer["errors"].as_array() {
                        Some(errors) if !errors.is_empty() => {
                            let messages: Vec<&str> =
                                errors.iter().map(|e| e["message"].as_str().unwrap_or("error")).collect();
                            PushOutcome::failed(product.remote_id.clone(), messages.join("; "))
                        }
                        _ => outcome_of(product, &answer["data"]["productSet"]),
                    });
                }
            }
            // Lines without a result: the operation stopped before them (sent again on the next run, found by
            // handle if they went through after all).
            let why = format!(
                "the bulk operation ended {}{} before this product",
                operation.status,
                operation.error_code.map(|c| format!(" ({c})")).unwrap_or_default()
            );
            for index in lines {
                if outcomes[index].is_none() {
                    outcomes[index] = Some(PushOutcome::failed(products[index].remote_id.clone(), why.clone()));
                }
            }
        }
        Ok(outcomes.into_iter().map(|o| o.unwrap_or_else(|| PushOutcome::failed(None, "not sent"))).collect())
    }

    /// Uploads the JSONL file where `stagedUploadsCreate` says; its `stagedUploadPath`.
    async fn stage(&self, file: Vec<u8>) -> Result<String, PlatformError> {
        let input = json!({"input": [{
            "resource": "BULK_MUTATION_VARIABLES",
            "filename": "products.jsonl",
            "mimeType": "text/jsonl",
            "httpMethod": "POST",
        }]});
        let data = self.call(STAGED_UPLOADS_DOCUMENT, &input, super::shopify::MUTATION_COST).await?;
        let payload = &data["stagedUploadsCreate"];
        if let Some(errors) = payload["userErrors"].as_array().filter(|e| !e.is_empty()) {
            let messages: Vec<&str> = errors.iter().map(|e| e["message"].as_str().unwrap_or("error")).collect();
            return Err(refused(format!("stagedUploadsCreate: {}", messages.join("; "))));
        }
        let target = &payload["stagedTargets"][0];
        let url = target["url"].as_str().ok_or_else(|| refused("stagedUploadsCreate gave no upload URL"))?;
        // The upload goes to a storage service, not to the shop: over HTTPS, and without our token.
        let url = secure_endpoint(url, "Shopify's staged upload URL is not HTTPS", &self.policy)
            .map_err(|e| refused(e.to_string()))?;
        let parameters: Vec<(String, String)> = target["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| Some((p["name"].as_str()?.to_string(), p["value"].as_str()?.to_string())))
            .collect();
        let path = parameters
            .iter()
            .find(|(name, _)| name == "key")
            .map(|(_, value)| value.clone())
            .ok_or_else(|| refused("stagedUploadsCreate gave no `key` parameter"))?;
        // Every parameter as a form field, in the order given, then the file (a storage POST policy wants it last).
        let mut form = reqwest::multipart::Form::new();
        for (name, value) in parameters {
            form = form.text(name, value);
        }
        let part = reqwest::multipart::Part::bytes(file)
            .file_name("products.jsonl")
            .mime_str("text/jsonl")
            .map_err(|e| refused(e.to_string()))?;
        form = form.part("file", part);
        let (status, body) = send(PLATFORM, self.http.post(url.clone()).multipart(form), url.path()).await?;
        if !status.is_success() {
            let reason = format!("staged upload: HTTP {status}: {}", String::from_utf8_lossy(&body));
            return Err(refusal(PLATFORM, status, reason));
        }
        Ok(path)
    }

    /// Starts the bulk operation on the staged file; its id. Waits first for a bulk mutation already running.
    async fn run_bulk(&self, path: &str) -> Result<String, PlatformError> {
        let variables = json!({"mutation": bulk_product_set_document(), "path": path});
        let started = Instant::now();
        loop {
            let data = self.call(RUN_DOCUMENT, &variables, super::shopify::MUTATION_COST).await?;
            let payload = &data["bulkOperationRunMutation"];
            let errors = payload["userErrors"].as_array().cloned().unwrap_or_default();
            if errors.iter().any(|e| e["code"] == "OPERATION_IN_PROGRESS") && started.elapsed() < BULK_DEADLINE {
                tracing::info!("Shopify is running another bulk mutation: waiting for it to end");
                self.wait_for_current().await?;
                continue;
            }
            if !errors.is_empty() {
                let messages: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{} ({})", e["message"].as_str().unwrap_or("error"), e["code"]))
                    .collect();
                return Err(refused(format!("bulkOperationRunMutation: {}", messages.join("; "))));
            }
            return payload["bulkOperation"]["id"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| refused("bulkOperationRunMutation gave no operation"));
        }
    }

    /// Polls the shop's current bulk mutation until none is running.
    async fn wait_for_current(&self) -> Result<(), PlatformError> {
        self.poll(CURRENT_DOCUMENT, &json!({}), "currentBulkOperation", "another bulk mutation").await.map(|_| ())
    }

    /// Polls operation `id` until it ends.
    async fn wait_for_operation(&self, id: &str) -> Result<Operation, PlatformError> {
        let node = self.poll(OPERATION_DOCUMENT, &json!({"id": id}), "node", &format!("bulk operation {id}")).await?;
        let status = node["status"].as_str().ok_or_else(|| refused(format!("no bulk operation {id}")))?;
        Ok(Operation {
            status: status.to_string(),
            error_code: node["errorCode"].as_str().map(str::to_string),
            results: node["url"].as_str().or_else(|| node["partialDataUrl"].as_str()).map(str::to_string),
        })
    }

    /// Sends `document` (a point or two) until the operation under `field` is no longer running, waiting longer
    /// each time; the operation as last answered (null when there is none).
    async fn poll(&self, document: &str, variables: &Value, field: &str, what: &str) -> Result<Value, PlatformError> {
        let mut pause = POLL_FIRST;
        let started = Instant::now();
        loop {
            let data = self.call(document, variables, 1.0).await?;
            let operation = data[field].clone();
            if !operation["status"].as_str().is_some_and(running) {
                return Ok(operation);
            }
            if started.elapsed() > BULK_DEADLINE {
                return Err(PlatformError::Unavailable {
                    platform: PLATFORM,
                    reason: format!("{what} still {} after 24 hours", operation["status"]),
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 3 / 2).min(POLL_MAX);
        }
    }

    /// The result file of an operation (a signed storage URL: no token sent).
    async fn results(&self, url: &str) -> Result<String, PlatformError> {
        let url = secure_endpoint(url, "Shopify's bulk result URL is not HTTPS", &self.policy)
            .map_err(|e| refused(e.to_string()))?;
        let (status, body) = send(PLATFORM, self.http.get(url.clone()), url.path()).await?;
        if !status.is_success() {
            return Err(refusal(PLATFORM, status, format!("bulk operation result: HTTP {status}")));
        }
        String::from_utf8(body.to_vec()).map_err(|e| refused(format!("bulk operation result: {e}")))
    }
}
