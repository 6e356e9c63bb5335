//! The OpenAPI 3.1 document, served at `/api/openapi.json`, generated from the handlers' `#[utoipa::path]`
//! declarations. It is also the access table: each operation's `security` names the one permission it needs
//! (`[{"bearer": ["catalog:read"]}]`) or says it is public (`[{}]`); [`crate::policy`] enforces what it says.

use utoipa::OpenApi;
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, Ref, RefOr};

use productsmanager_core::catalog::ProductSort;
use productsmanager_core::code2asin::{CodeOutcome, ReviewState};
use productsmanager_core::jobs::JobState;
use productsmanager_core::media::QrFormat;

use crate::error::{PROBLEM_JSON, Problem};

/// Name of the security scheme every protected operation uses.
pub(crate) const BEARER: &str = "bearer";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ProductsManager API",
        description = "Product information management: catalog, imports, jobs and sign-in. Every route except \
                       sign-in, health and (by default) metrics needs `Authorization: Bearer <token>` — an access \
                       token from `POST /api/v1/auth/login` or an API key — and one permission, named in the \
                       operation's `security`. Errors are `application/problem+json`."
    ),
    // Schemas referenced only from query parameters, which `routes!` does not collect.
    components(schemas(Problem, ProductSort, QrFormat, JobState, CodeOutcome, ReviewState)),
    tags(
        (name = "auth", description = "Sign-in, token refresh, sign-out"),
        (name = "products", description = "Products, by id, GTIN, SKU or ASIN"),
        (name = "brands"), (name = "suppliers"),
        (name = "categories", description = "Taxonomies, category trees and product links"),
        (name = "commerce", description = "Supplier offers, prices and stock"),
        (name = "relations", description = "Variants, bundles and SEO metadata"),
        (name = "imports", description = "Supplier files, mapping templates, import configurations and jobs"),
        (name = "exports", description = "Feed files (CSV, XLSX, Google Merchant) and export jobs"),
        (name = "jobs", description = "Background job queues"),
        (name = "media", description = "Product images, thumbnails and QR codes"),
        (name = "code2asin", description = "Product codes to Amazon ASINs: checks, jobs, results, review, API configurations"),
        (name = "notifications", description = "The caller's notifications, and live events over a WebSocket"),
        (name = "settings", description = "Application settings, changed by admins while the product runs"),
        (name = "users", description = "Users, roles and API keys (admins), and the caller's own identity"),
        (name = "analytics", description = "Dashboards: catalog overview and completeness, suppliers, imports, searches, performance, activity"),
        (name = "operations", description = "Health, metrics and this document"),
    )
)]
struct ApiDoc;

/// The document's skeleton (info, tags, shared schemas); the router adds the paths.
pub(crate) fn skeleton() -> Document {
    ApiDoc::openapi()
}

/// Shared error responses, by status: component name and description.
const ERRORS: &[(&str, &str, &str)] = &[
    ("401", "Unauthorized", "No credentials, or a token or API key that is malformed, forged, expired or revoked"),
    ("403", "Forbidden", "The caller lacks the permission the operation declares"),
    ("404", "NotFound", "No such entity"),
    ("413", "TooLarge", "The request body is larger than `http.max_body_bytes` (uploads: `http.max_upload_bytes`)"),
    ("422", "Invalid", "A parameter or body field is invalid; `field` names it"),
    ("429", "RateLimited", "Too many requests for this user or API key; `Retry-After` says when to try again"),
    ("500", "Internal", "A server fault; the `x-request-id` response header identifies it in the server log"),
    ("503", "Unavailable", "A database is unreachable, or the request took longer than the configured timeout"),
];

/// Completes the document once every route is in: the bearer scheme, and on each operation the error answers
/// that apply to it, so clients see every status a call can return.
pub(crate) fn complete(document: &mut Document) {
    let components = document.components.get_or_insert_with(Default::default);
    let scheme = Http::builder().scheme(HttpAuthScheme::Bearer).bearer_format("JWT access token or API key").build();
    components.add_security_scheme(BEARER, SecurityScheme::Http(scheme));
    for (_, name, description) in ERRORS {
        let mut response = ResponseBuilder::new()
            .description(*description)
            .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build());
        if *name == "RateLimited" {
            let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1));
            let header = HeaderBuilder::new().schema(Some(seconds)).description(Some("Seconds to wait")).build();
            response = response.header("Retry-After", header);
        }
        components.responses.insert(name.to_string(), RefOr::T(response.build()));
    }
    for (path, item) in document.paths.paths.iter_mut() {
        let has_path_parameters = path.contains('{');
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            qualify_id(operation);
            add_errors(operation, has_path_parameters);
        }
    }
}

/// Handler names repeat across modules (`list`, `create`); the tag (one per module) makes the operation ids
/// unique, as OpenAPI requires: `brands_create`.
fn qualify_id(operation: &mut Operation) {
    if let (Some(tag), Some(id)) = (operation.tags.as_ref().and_then(|t| t.first()), operation.operation_id.as_mut())
        && !id.starts_with(tag.as_str())
    {
        *id = format!("{tag}_{id}");
    }
}

fn add_errors(operation: &mut Operation, has_path_parameters: bool) {
    let public = operation.security.as_ref().is_some_and(|requirements| {
        serde_json::to_value(requirements).is_ok_and(|v| v.as_array().is_some_and(|a| a.iter().any(is_empty)))
    });
    let has_body = operation.request_body.is_some();
    let has_input = has_body || has_path_parameters || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    for (status, name, _) in ERRORS {
        let applies = match *status {
            "401" | "403" | "429" => !public,
            "404" => has_path_parameters,
            "413" => has_body,
            "422" => has_input,
            _ => true,
        };
        if applies {
            let responses = &mut operation.responses.responses;
            responses.entry(status.to_string()).or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
        }
    }
}

fn is_empty(requirement: &serde_json::Value) -> bool {
    requirement.as_object().is_some_and(|o| o.is_empty())
}
