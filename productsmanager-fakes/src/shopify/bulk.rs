//! Shopify's bulk mutation path, as documented for bulk imports: `stagedUploadsCreate` for
//! `BULK_MUTATION_VARIABLES` answers a storage URL (here `POST /staged-uploads`) and the form parameters of a signed
//! POST policy (`key`, `Content-Type`, `success_action_status`, `acl`, `policy`, `x-goog-*`); the multipart upload
//! must carry every parameter unchanged, then the file last (at most 100 MB), and is answered 201 with a
//! `PostResponse` XML. `bulkOperationRunMutation(mutation, stagedUploadPath)` checks that the mutation is one
//! supported mutation field (`productSet` here), that the file exists and is JSONL, and that no other bulk mutation
//! is running (`OPERATION_IN_PROGRESS`); the operation then runs the mutation once per line, and its result file
//! (`GET /bulk-results/{n}.jsonl`) holds one `{"data": …, "__lineNumber": n}` per line, in no particular order
//! (here: last line first). `currentBulkOperation(type:)` (QUERY when not given) and `node(id:)` show operations,
//! counts as the API types them (`UnsignedInt64`: strings).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use graphql_parser::query::{Definition, OperationDefinition, Selection};
use serde_json::{Map, Value, json};

use super::{Inner, project, user_error};

/// The largest file a staged upload takes.
pub const MAX_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// A failure a bulk operation meets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkFault {
    /// The next operation stops after this many lines: `FAILED`, `INTERNAL_SERVER_ERROR`, the results so far at
    /// `partialDataUrl`.
    FailAfter(usize),
}

#[derive(Debug, Default)]
struct Staged {
    parameters: Vec<(String, String)>,
    file: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
struct Operation {
    number: u64,
    kind: &'static str,
    status: &'static str,
    error_code: Option<&'static str>,
    query: String,
    object_count: u64,
    root_object_count: u64,
    file_size: Option<u64>,
    created_at: String,
    completed_at: Option<String>,
    /// Set when it ended with results.
    results: bool,
}

/// The bulk side of the shop.
#[derive(Debug, Default)]
pub(super) struct Bulk {
    next_number: Mutex<u64>,
    staged: Mutex<HashMap<String, Staged>>,
    operations: Mutex<Vec<Operation>>,
    results: Mutex<HashMap<u64, Vec<u8>>>,
    faults: Mutex<VecDeque<BulkFault>>,
    /// Bytes of each file uploaded, in order.
    uploads: Mutex<Vec<usize>>,
}

impl Operation {
    /// A bulk mutation just started.
    fn mutation(number: u64, status: &'static str, query: String) -> Self {
        Operation {
            number,
            kind: "MUTATION",
            status,
            error_code: None,
            query,
            object_count: 0,
            root_object_count: 0,
            file_size: None,
            created_at: now(),
            completed_at: None,
            results: false,
        }
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Bulk {
    pub(super) fn inject(&self, fault: BulkFault) {
        if let Ok(mut faults) = self.faults.lock() {
            faults.push_back(fault);
        }
    }

    pub(super) fn uploads(&self) -> Vec<usize> {
        self.uploads.lock().map(|u| u.clone()).unwrap_or_default()
    }

    fn next_number(&self) -> u64 {
        let Ok(mut next) = self.next_number.lock() else { return 0 };
        *next += 1;
        *next
    }

    fn update(&self, number: u64, change: impl FnOnce(&mut Operation)) {
        if let Ok(mut operations) = self.operations.lock()
            && let Some(operation) = operations.iter_mut().find(|o| o.number == number)
        {
            change(operation);
        }
    }

    fn shown(&self, operation: &Operation, base: &str) -> Value {
        let results = operation.results.then(|| format!("{base}/bulk-results/{}.jsonl", operation.number));
        let failed = operation.status == "FAILED";
        json!({
            "id": format!("gid://shopify/BulkOperation/{}", operation.number),
            "status": operation.status,
            "type": operation.kind,
            "errorCode": operation.error_code,
            "query": operation.query,
            "objectCount": operation.object_count.to_string(),
            "rootObjectCount": operation.root_object_count.to_string(),
            "fileSize": operation.file_size.map(|n| n.to_string()),
            "createdAt": operation.created_at,
            "completedAt": operation.completed_at,
            "url": if failed { None } else { results.clone() },
            "partialDataUrl": if failed { results } else { None },
        })
    }

    /// A bulk mutation of this app (an earlier run's) running for `duration`.
    pub(super) fn occupy(self: &Arc<Self>, duration: Duration) {
        let number = self.next_number();
        if let Ok(mut operations) = self.operations.lock() {
            operations.push(Operation::mutation(number, "RUNNING", "mutation earlier { productSet }".into()));
        }
        let bulk = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            bulk.update(number, |o| {
                o.status = "COMPLETED";
                o.completed_at = Some(now());
            });
        });
    }
}

/// `stagedUploadsCreate(input: [StagedUploadInput!]!)`.
pub(super) fn staged_uploads_create(inner: &Inner, arguments: &Map<String, Value>) -> Value {
    let inputs = arguments.get("input").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut targets = Vec::new();
    let mut errors = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        let at = index.to_string();
        if input["resource"] != "BULK_MUTATION_VARIABLES" {
            errors.push(json!({"field": ["input", at, "resource"], "message": "Only BULK_MUTATION_VARIABLES uploads are served by this fake"}));
            continue;
        }
        if input["mimeType"] != "text/jsonl" {
            errors.push(
                json!({"field": ["input", at, "mimeType"], "message": "Bulk mutation variables must be text/jsonl"}),
            );
            continue;
        }
        if !input["httpMethod"].is_null() && input["httpMethod"] != "POST" {
            errors.push(json!({"field": ["input", at, "httpMethod"], "message": "Bulk mutation variables are uploaded with POST"}));
            continue;
        }
        if input["filename"].as_str().is_none_or(str::is_empty) {
            errors.push(json!({"field": ["input", at, "filename"], "message": "Filename can't be blank"}));
            continue;
        }
        let number = inner.bulk.next_number();
        let key = format!("tmp/{}/bulk/{number:08x}-fake/bulk_op_vars", super::SHOP_NUMBER);
        let date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let parameters = vec![
            ("key".to_string(), key.clone()),
            ("Content-Type".to_string(), "text/jsonl".to_string()),
            ("success_action_status".to_string(), "201".to_string()),
            ("acl".to_string(), "private".to_string()),
            ("policy".to_string(), format!("eyJjb25kaXRpb25zIjpbXX0{number}")),
            ("x-goog-credential".to_string(), format!("fake-staged-uploads/{}/auto/storage/goog4_request", &date[..8])),
            ("x-goog-algorithm".to_string(), "GOOG4-RSA-SHA256".to_string()),
            ("x-goog-date".to_string(), date),
            ("x-goog-signature".to_string(), format!("{:064x}", number.wrapping_mul(0x9E37_79B9_7F4A_7C15))),
        ];
        targets.push(json!({
            "url": format!("{}/staged-uploads", inner.base()),
            "resourceUrl": null,
            "parameters": parameters.iter().map(|(name, value)| json!({"name": name, "value": value})).collect::<Vec<_>>(),
        }));
        if let Ok(mut staged) = inner.bulk.staged.lock() {
            staged.insert(key, Staged { parameters, file: None });
        }
    }
    json!({"stagedTargets": targets, "userErrors": errors})
}

fn storage_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        format!("<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>");
    (status, [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")], body).into_response()
}

/// `POST /staged-uploads`: the signed form upload.
pub(super) async fn upload(State(inner): State<Arc<Inner>>, mut form: Multipart) -> Response {
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut file: Option<Vec<u8>> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return storage_error(StatusCode::BAD_REQUEST, "InvalidArgument", &e.to_string()),
        };
        let name = field.name().unwrap_or_default().to_string();
        if file.is_some() {
            // The storage service ignores anything after the file; a form putting fields there is broken.
            return storage_error(StatusCode::BAD_REQUEST, "InvalidArgument", "The file must be the last field");
        }
        if name == "file" {
            match field.bytes().await {
                Ok(bytes) if bytes.len() > MAX_UPLOAD_BYTES => {
                    return storage_error(
                        StatusCode::BAD_REQUEST,
                        "EntityTooLarge",
                        "Your proposed upload is larger than the maximum object size specified in your Policy Document.",
                    );
                }
                Ok(bytes) => file = Some(bytes.to_vec()),
                Err(e) => return storage_error(StatusCode::BAD_REQUEST, "InvalidArgument", &e.to_string()),
            }
        } else {
            match field.text().await {
                Ok(value) => fields.push((name, value)),
                Err(e) => return storage_error(StatusCode::BAD_REQUEST, "InvalidArgument", &e.to_string()),
            }
        }
    }
    let Some(file) = file else {
        return storage_error(StatusCode::BAD_REQUEST, "InvalidArgument", "Missing the file field");
    };
    let key = fields.iter().find(|(n, _)| n == "key").map(|(_, v)| v.clone()).unwrap_or_default();
    let Ok(mut staged) = inner.bulk.staged.lock() else { return StatusCode::INTERNAL_SERVER_ERROR.into_response() };
    let Some(target) = staged.get_mut(&key) else {
        return storage_error(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "Invalid argument: no upload was staged under this key.",
        );
    };
    for (name, value) in &target.parameters {
        if !fields.iter().any(|(n, v)| n == name && v == value) {
            let message = format!("The form field {name} is missing or differs from the one signed.");
            let code = if name.starts_with("x-goog") || name == "policy" {
                "SignatureDoesNotMatch"
            } else {
                "InvalidPolicyDocument"
            };
            return storage_error(StatusCode::FORBIDDEN, code, &message);
        }
    }
    let size = file.len();
    target.file = Some(file);
    drop(staged);
    if let Ok(mut uploads) = inner.bulk.uploads.lock() {
        uploads.push(size);
    }
    let body = format!(
        "<?xml version='1.0' encoding='UTF-8'?><PostResponse><Location>{}/staged-uploads/{key}</Location>\
         <Bucket>shopify-staged-uploads</Bucket><Key>{key}</Key><ETag>\"{size:x}\"</ETag></PostResponse>",
        inner.base()
    );
    (StatusCode::CREATED, [(header::CONTENT_TYPE, "application/xml; charset=UTF-8")], body).into_response()
}

/// `GET /bulk-results/{n}.jsonl` (a signed storage URL in Shopify: no token).
pub(super) async fn result_file(State(inner): State<Arc<Inner>>, Path(name): Path<String>) -> Response {
    let number = name.strip_suffix(".jsonl").and_then(|n| n.parse::<u64>().ok());
    let file = number.and_then(|n| inner.bulk.results.lock().ok()?.get(&n).cloned());
    match file {
        Some(body) => ([(header::CONTENT_TYPE, "application/jsonl")], body).into_response(),
        None => storage_error(StatusCode::NOT_FOUND, "NoSuchKey", "The specified key does not exist."),
    }
}

fn run_error(field: &str, message: &str, code: &str) -> Value {
    json!({"bulkOperation": null, "userErrors": [user_error(&[field], message, code)]})
}

/// `bulkOperationRunMutation(mutation, stagedUploadPath)`.
pub(super) fn run_mutation(inner: &Arc<Inner>, arguments: &Map<String, Value>) -> Value {
    let mutation = arguments.get("mutation").and_then(Value::as_str).unwrap_or_default().to_string();
    let path = arguments.get("stagedUploadPath").and_then(Value::as_str).unwrap_or_default().to_string();
    match graphql_parser::parse_query::<String>(&mutation) {
        Ok(document) => {
            let fields: Vec<String> = document
                .definitions
                .iter()
                .filter_map(|d| match d {
                    Definition::Operation(OperationDefinition::Mutation(m)) => Some(&m.selection_set),
                    _ => None,
                })
                .flat_map(|set| set.items.iter())
                .filter_map(|s| match s {
                    Selection::Field(f) => Some(f.name.clone()),
                    _ => None,
                })
                .collect();
            if fields.len() != 1 {
                return run_error("mutation", "The mutation must hold exactly one mutation field", "INVALID_MUTATION");
            }
            if fields[0] != "productSet" {
                let message = format!("Bulk mutations of {} are not supported", fields[0]);
                return run_error("mutation", &message, "INVALID_MUTATION");
            }
        }
        Err(e) => return run_error("mutation", &format!("Invalid mutation: {e}"), "INVALID_MUTATION"),
    }
    let file = inner.bulk.staged.lock().ok().and_then(|s| s.get(&path).and_then(|t| t.file.clone()));
    let Some(file) = file else {
        return run_error(
            "stagedUploadPath",
            "The JSONL file could not be found. Try uploading the file again, and check that you've entered the URL correctly for the stagedUploadPath mutation argument.",
            "NO_SUCH_FILE",
        );
    };
    let mut lines = Vec::new();
    for line in file.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)) {
        match serde_json::from_slice::<Value>(line) {
            Ok(value @ Value::Object(_)) => lines.push(value),
            _ => {
                return run_error(
                    "stagedUploadPath",
                    "Unexpected file structure - expected JSONL",
                    "INVALID_STAGED_UPLOAD_FILE",
                );
            }
        }
    }
    let Ok(mut operations) = inner.bulk.operations.lock() else {
        return run_error("mutation", "internal", "INVALID_MUTATION");
    };
    if let Some(running) = operations.iter().find(|o| o.kind == "MUTATION" && matches!(o.status, "CREATED" | "RUNNING"))
    {
        let message = format!(
            "A bulk mutation operation for this app and shop is already in progress: gid://shopify/BulkOperation/{}.",
            running.number
        );
        return run_error("", &message, "OPERATION_IN_PROGRESS");
    }
    let number = inner.bulk.next_number();
    let operation = Operation::mutation(number, "CREATED", mutation.clone());
    let shown = inner.bulk.shown(&operation, &inner.base());
    operations.push(operation);
    drop(operations);
    let fault = inner.bulk.faults.lock().ok().and_then(|mut f| f.pop_front());
    tokio::spawn(work(inner.clone(), number, mutation, lines, fault));
    json!({"bulkOperation": shown, "userErrors": []})
}

/// Runs the mutation once per line.
async fn work(inner: Arc<Inner>, number: u64, mutation: String, lines: Vec<Value>, fault: Option<BulkFault>) {
    inner.bulk.update(number, |o| o.status = "RUNNING");
    let Ok(document) = graphql_parser::parse_query::<String>(&mutation) else { return };
    let Some(field) = document.definitions.iter().find_map(|d| match d {
        Definition::Operation(OperationDefinition::Mutation(m)) => m.selection_set.items.iter().find_map(|s| match s {
            Selection::Field(f) => Some(f),
            _ => None,
        }),
        _ => None,
    }) else {
        return;
    };
    let key = field.alias.clone().unwrap_or_else(|| field.name.clone());
    let stop_after = fault.map(|BulkFault::FailAfter(n)| n);
    let mut results: Vec<String> = Vec::new();
    for (line_number, variables) in lines.iter().enumerate() {
        if stop_after == Some(line_number) {
            break;
        }
        let arguments: Map<String, Value> =
            field.arguments.iter().map(|(name, value)| (name.clone(), super::resolve(value, variables))).collect();
        let answer = match inner.store.lock() {
            Ok(mut store) => store.product_set(&arguments),
            Err(_) => return,
        };
        let mut data = Map::new();
        data.insert(key.clone(), project(&answer, &field.selection_set));
        results.push(json!({"data": data, "__lineNumber": line_number}).to_string());
        inner.bulk.update(number, |o| {
            o.object_count += 1;
            o.root_object_count += 1;
        });
        if line_number % 100 == 99 {
            tokio::task::yield_now().await;
        }
    }
    // Lines come back in no particular order: here, last first.
    results.reverse();
    let mut file = results.join("\n").into_bytes();
    if !file.is_empty() {
        file.push(b'\n');
    }
    let size = file.len() as u64;
    if let Ok(mut stored) = inner.bulk.results.lock() {
        stored.insert(number, file);
    }
    let failed = stop_after.is_some_and(|n| n < lines.len());
    inner.bulk.update(number, |o| {
        o.status = if failed { "FAILED" } else { "COMPLETED" };
        o.error_code = failed.then_some("INTERNAL_SERVER_ERROR");
        o.file_size = Some(size);
        o.completed_at = Some(now());
        o.results = true;
    });
}

/// `currentBulkOperation(type:)`: the app's latest operation of that type.
pub(super) fn current(inner: &Inner, arguments: &Map<String, Value>) -> Value {
    let kind = arguments.get("type").and_then(Value::as_str).unwrap_or("QUERY");
    let operations = inner.bulk.operations.lock().map(|o| o.clone()).unwrap_or_default();
    operations.iter().rev().find(|o| o.kind == kind).map(|o| inner.bulk.shown(o, &inner.base())).unwrap_or(Value::Null)
}

/// `node(id:)` for bulk operations (other ids: null).
pub(super) fn node(inner: &Inner, arguments: &Map<String, Value>) -> Value {
    let id = arguments.get("id").and_then(Value::as_str).unwrap_or_default();
    let number = id.strip_prefix("gid://shopify/BulkOperation/").and_then(|n| n.parse::<u64>().ok());
    let operations = inner.bulk.operations.lock().map(|o| o.clone()).unwrap_or_default();
    operations
        .iter()
        .find(|o| Some(o.number) == number)
        .map(|o| {
            let mut shown = inner.bulk.shown(o, &inner.base());
            shown["__typename"] = json!("BulkOperation");
            shown
        })
        .unwrap_or(Value::Null)
}
