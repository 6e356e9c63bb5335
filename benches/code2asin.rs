//! Code2ASIN throughput against the local SP-API fake (2 requests/s, burst 2, 20 codes per request: at most 40
//! codes/s): 10,000 codes of which half are known to Amazon, on the embedded SQLite backend, through
//! `Code2AsinService::run_now` (validation, batching, limiter, calls, results, matching, write-back, checkpoints);
//! then 10,000 codes of which 5,000 were answered by the first run (cached within the TTL). The baseline is the
//! documented limit itself: calls/s against 2, codes/s against 40; and the fake's 429 count.
//!
//! ```text
//! cargo bench -p productsmanager-benches --bench code2asin          # PM_BENCH_CODES=2000 for a shorter run
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use productsmanager_core::code2asin::{CodeSource, NewAmazonApiConfig, NewCode2AsinJob};
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use productsmanager_fakes::sp_api::{Credentials, FakeItem, FakeSpApi};

fn ean13(body: &str) -> String {
    let sum: u32 =
        body.bytes().rev().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

fn code(i: usize) -> String {
    ean13(&format!("40{i:010}"))
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("PM_BENCH_CODES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let credentials = Credentials {
        client_id: "amzn1.application-oa2-client.b".into(),
        client_secret: "b".into(),
        refresh_token: "Atzr|b".into(),
    };
    // Amazon knows every even code.
    let catalog = (0..n + n / 2)
        .step_by(2)
        .map(|i| FakeItem {
            asin: format!("B{i:09}"),
            gtin14: format!("0{}", code(i)),
            brand: "Acme".into(),
            title: format!("Widget {i}"),
            sales_rank: Some(i as u32 + 1),
        })
        .collect();
    let fake = FakeSpApi::start(credentials.clone(), catalog).await.unwrap();
    let env = TestDatabases::named(Backend::Sqlite, "code2asin bench").await.unwrap();
    let sdk = env.sdk().await;
    let c2a = sdk.code2asin();
    c2a.add_config(NewAmazonApiConfig {
        name: "bench".into(),
        marketplace: "FR".into(),
        endpoint: Some(format!("{}/", fake.base_url)),
        token_endpoint: Some(format!("{}/auth/o2/token", fake.base_url)),
        client_id: credentials.client_id,
        client_secret: credentials.client_secret,
        refresh_token: Some(credentials.refresh_token),
        ..Default::default()
    })
    .await
    .unwrap();

    let mut rows = Vec::new();
    let runs = [("fresh codes", (0..n).collect::<Vec<_>>()), ("50% cached", (n / 2..n + n / 2).collect())];
    for (name, indices) in runs {
        let before = fake.requests().len();
        let job = c2a
            .create_job(NewCode2AsinJob {
                source: CodeSource::Codes { codes: indices.iter().map(|i| code(*i)).collect() },
                marketplace: "FR".into(),
                amazon_config_id: None,
                confidence_threshold: None,
                requested_by: None,
            })
            .await
            .unwrap();
        let started = Instant::now();
        let done = c2a.run_now(job.id, |_| {}).await.unwrap();
        let seconds = started.elapsed().as_secs_f64();
        let requests = &fake.requests()[before..];
        let throttled = requests.iter().filter(|r| r.status == 429).count();
        let c = done.counts;
        let looked_up = (c.processed - c.cached) as f64;
        rows.push(format!(
            "| {name} | {} | {} | {} | {:.1} | {} | {:.2} | {:.2} | {:.3} | {:.1} | {throttled} |",
            c.processed,
            c.cached,
            c.api_calls,
            seconds,
            c.matched,
            c.api_calls as f64 / seconds,
            looked_up / seconds,
            looked_up / seconds / 40.0,
            c.processed as f64 / seconds,
        ));
    }
    println!(
        "| run | codes | cached | calls | seconds | matched | calls/s (limit 2) | looked-up codes/s (limit 40) | fraction of 40 | all codes/s | 429s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
    sdk.close().await;
}
