//! Prometheus metrics: every request counted and timed by route and status; pool usage per database and the job
//! queues (read at each scrape); what the SDK records (cache requests per tier and kind, job durations, import rows,
//! Amazon calls and their 429s, dropped events).
//!
//! The SDK and this adapter record through the `metrics` facade. The Prometheus recorder is installed once per
//! process; if an embedding service installed its own recorder first, ours stays out and `/metrics` says so.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use productsmanager_core::analytics::{AnalyticsEvent, EventKind, TimingKind};
use productsmanager_core::db::Database;

use crate::AppState;

const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";
const POOL_OPEN: &str = "db_pool_connections_open";
const POOL_IDLE: &str = "db_pool_connections_idle";
const POOL_MAX: &str = "db_pool_connections_max";

/// Latency buckets in seconds, from 1 ms to 10 s.
const DURATION_BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];
/// Job durations (recorded by the SDK's workers), from 10 ms to an hour.
const JOB_DURATION: &str = "job_duration_seconds";
const JOB_BUCKETS: [f64; 10] = [0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0];

/// Every metric family this process exposes, with its help text (`# HELP`): what it counts, in which unit.
const FAMILIES: &[(Family, &str, &str)] = &[
    (Family::Counter, REQUESTS, "HTTP requests answered, by method, route template and status"),
    (Family::Histogram, DURATION, "Time to answer an HTTP request, in seconds, by method, route template and status"),
    (Family::Gauge, POOL_OPEN, "Connections open in a database's pool"),
    (Family::Gauge, POOL_IDLE, "Idle connections in a database's pool"),
    (Family::Gauge, POOL_MAX, "Most connections a database's pool may open (after the per-server ceiling)"),
    (Family::Histogram, JOB_DURATION, "Time a job took, in seconds, by queue, kind and outcome"),
    (Family::Histogram, DB_QUERY, "Time of a database query, in seconds, by database"),
    (Family::Gauge, "jobs_queued", "Jobs waiting in a queue"),
    (Family::Gauge, "jobs_running", "Jobs running in a queue"),
    (Family::Gauge, "jobs_failed", "Jobs of a queue that failed for good"),
    (Family::Gauge, "jobs_dead", "Jobs of a queue that ran out of attempts"),
    (Family::Gauge, "job_workers", "Live workers serving a queue"),
    (Family::Gauge, "jobs_oldest_queued_seconds", "How long the oldest due job of a queue has waited, in seconds"),
    (Family::Counter, "cache_requests_total", "Cache lookups by tier (l1, l2), kind and result (hit, miss, error)"),
    (Family::Counter, "cache_l2_errors_total", "Redis operations of the cache that failed, by operation"),
    (Family::Counter, "import_rows_total", "Rows read by imports, by outcome"),
    (Family::Counter, "code2asin_calls_total", "Calls to Amazon, by provider and status"),
    (
        Family::Counter,
        "analytics_events_dropped_total",
        "Analytics events dropped (analytics database down or queue full)",
    ),
    (Family::Counter, "audit_events_dropped_total", "Audit log events dropped"),
    (Family::Counter, "notifications_dropped_total", "Notifications dropped"),
    (Family::Counter, "user_activity_dropped_total", "User activity records dropped"),
    (Family::Counter, "search_index_errors_total", "Search index updates that failed"),
    (Family::Gauge, BUILD_INFO, "Always 1; the labels say which build runs (version)"),
    (Family::Gauge, DB_UP, "1 when the database answers its health check, 0 when it does not"),
];

const DB_QUERY: &str = "db_query_duration_seconds";
const BUILD_INFO: &str = "productsmanager_build_info";
const DB_UP: &str = "db_up";

#[derive(Debug, Clone, Copy)]
enum Family {
    Counter,
    Gauge,
    Histogram,
}

fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Every histogram gets buckets (without, the exporter writes a summary, which cannot be aggregated
            // across processes); HTTP and job durations have their own.
            let builder = PrometheusBuilder::new()
                .set_buckets(&DURATION_BUCKETS)
                .ok()?
                .set_buckets_for_metric(Matcher::Full(DURATION.to_string()), &DURATION_BUCKETS)
                .ok()?
                .set_buckets_for_metric(Matcher::Full(JOB_DURATION.to_string()), &JOB_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "another metrics recorder is installed; /metrics is disabled");
                    None
                }
            }
        })
        .as_ref()
}

/// The help text of every family, the process metrics' and the build's.
fn describe() {
    for (family, name, help) in FAMILIES {
        match family {
            Family::Counter => metrics::describe_counter!(*name, *help),
            Family::Gauge => metrics::describe_gauge!(*name, *help),
            Family::Histogram => metrics::describe_histogram!(*name, *help),
        }
    }
    // Counters of what goes wrong start at 0, so that `increase()` and the alert rules see the first one.
    for name in [
        "search_index_errors_total",
        "audit_events_dropped_total",
        "notifications_dropped_total",
        "user_activity_dropped_total",
    ] {
        metrics::counter!(name).absolute(0);
    }
    for kind in EventKind::LABELS {
        metrics::counter!("analytics_events_dropped_total", "kind" => kind).absolute(0);
    }
    metrics_process::Collector::default().describe();
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// Drains histogram buffers regularly, so memory stays bounded between scrapes.
pub(crate) fn spawn_upkeep(every: Duration) {
    if let Some(handle) = handle() {
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(every);
            loop {
                interval.tick().await;
                handle.run_upkeep();
            }
        });
    }
}

/// Middleware: counts and times each request under its route pattern (`/products/{id}`, not the raw path, so
/// the number of series stays bounded).
/// The latency also goes to the analytics events, for the hourly percentiles per route.
pub(crate) async fn track(
    State(events): State<productsmanager_core::analytics::AnalyticsEvents>,
    request: Request,
    next: Next,
) -> Response {
    // Make sure the recorder is installed before the first request is recorded.
    let _ = handle();
    // Labels come from closed sets only — the standard methods, the router's templates — so that no caller can
    // grow the series or the analytics names: a method no route has is answered before anything is recorded.
    if !is_standard(request.method()) {
        return crate::error::method_not_allowed("no route takes this method");
    }
    let method = request.method().to_string();
    let route = match request.extensions().get::<MatchedPath>() {
        Some(path) => path.as_str().to_string(),
        None => "unmatched".to_string(),
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    events.record(AnalyticsEvent::now(EventKind::Timing {
        kind: TimingKind::Http,
        name: format!("{method} {route}"),
        ms: elapsed.as_secs_f64() * 1000.0,
        error: response.status().is_server_error(),
    }));
    let labels = [("method", method), ("route", route), ("status", response.status().as_u16().to_string())];
    metrics::counter!(REQUESTS, &labels).increment(1);
    metrics::histogram!(DURATION, &labels).record(elapsed.as_secs_f64());
    response
}

/// Whether the method is one the server has routes for (or HEAD, OPTIONS): the only ones that reach a label.
fn is_standard(method: &axum::http::Method) -> bool {
    use axum::http::Method;
    [Method::GET, Method::HEAD, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::OPTIONS]
        .contains(method)
}

/// `GET /metrics`.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()),
    responses((status = 200, description = "Prometheus text format (public unless `http.public_metrics` is false; \
        then `analytics:read`)", body = String, content_type = "text/plain; version=0.0.4")))]
pub(crate) async fn render(State(state): State<AppState>) -> Response {
    let Some(handle) = handle() else {
        return crate::error::problem(
            productsmanager_core::ErrorKind::NotFound,
            "metrics are recorded by the embedding application's own recorder",
        );
    };
    // Each database's health check (bounded by database.connect_timeout_secs): what the "database down" alert
    // reads.
    for health in state.sdk.health().await.databases {
        let up = health.status == productsmanager_core::db::HealthStatus::Up;
        metrics::gauge!(DB_UP, "database" => health.database.name()).set(if up { 1.0 } else { 0.0 });
    }
    for db in Database::ALL {
        let stats = state.sdk.pool(db).stats();
        let labels = [("database", db.name())];
        metrics::gauge!(POOL_OPEN, &labels).set(f64::from(stats.open));
        metrics::gauge!(POOL_IDLE, &labels).set(f64::from(stats.idle));
        metrics::gauge!(POOL_MAX, &labels).set(f64::from(stats.max));
    }
    let jobs = state.sdk.jobs();
    for (queue, _) in productsmanager_core::Sdk::JOB_QUEUES {
        // A scrape must answer even with the core database down: its queues are then left out.
        let Ok(stats) = jobs.stats(queue).await else { continue };
        let labels = [("queue", queue)];
        metrics::gauge!("jobs_queued", &labels).set(stats.queued as f64);
        metrics::gauge!("jobs_running", &labels).set(stats.running as f64);
        metrics::gauge!("jobs_failed", &labels).set(stats.failed as f64);
        metrics::gauge!("jobs_dead", &labels).set(stats.dead as f64);
        metrics::gauge!("job_workers", &labels).set(stats.workers as f64);
        metrics::gauge!("jobs_oldest_queued_seconds", &labels).set(stats.oldest_queued_secs);
    }
    // The process itself: CPU seconds, resident memory, open files, start time (`process_*`).
    metrics_process::Collector::default().collect();
    handle.run_upkeep();
    let mut response = (StatusCode::OK, handle.render()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}
