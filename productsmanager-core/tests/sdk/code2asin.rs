//! Code2ASIN jobs against the local SP-API fake, on both backends: exact batching at the rate limit with no 429,
//! restricted and invalid codes never sent, confident matches written to the catalog and the others held for
//! review, answers reused within the TTL, recovery from 429/500/timeouts without a lost or repeated code, and a
//! run killed midway resumed from its checkpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use productsmanager_core::catalog::{NewBrand, NewProduct};
use productsmanager_core::code2asin::{
    CodeOutcome, CodeSource, NewAmazonApiConfig, NewCode2AsinJob, NewSupplierSettings, ReviewState,
};
use productsmanager_core::db::Backend;
use productsmanager_core::jobs::JobState;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends};
use productsmanager_fakes::sp_api::{Credentials, FakeItem, FakeSpApi, Fault};

/// EAN-13 of 12 digits with its GS1 check digit.
fn ean13(body: &str) -> String {
    let sum: u32 =
        body.bytes().rev().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 3 } else { 1 }).sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}

/// Code `i` of the tests' supplier (the fake knows the even ones).
fn code(i: usize) -> String {
    ean13(&format!("400638{i:06}"))
}

fn asin(i: usize) -> String {
    format!("B0{i:08}")
}

fn credentials() -> Credentials {
    Credentials {
        client_id: "amzn1.application-oa2-client.t".into(),
        client_secret: "s3cret".into(),
        refresh_token: "Atzr|t".into(),
    }
}

/// A fake knowing the even codes below `n` (one ASIN each), plus `extra`.
async fn fake(n: usize, extra: Vec<FakeItem>) -> FakeSpApi {
    let mut catalog: Vec<FakeItem> = (0..n)
        .step_by(2)
        .map(|i| FakeItem {
            asin: asin(i),
            gtin14: format!("0{}", code(i)),
            brand: "Acme".into(),
            title: format!("Acme widget {i}"),
            sales_rank: Some(100 + i as u32),
        })
        .collect();
    catalog.extend(extra);
    FakeSpApi::start(credentials(), catalog).await.unwrap()
}

async fn sdk(backend: Backend, test: &str) -> Option<(TestDatabases, Sdk)> {
    let mut env = TestDatabases::named(backend, test).await?;
    let settings = &mut env.config_mut().code2asin;
    settings.retry_base_ms = 20;
    settings.retry_max_ms = 100;
    settings.request_timeout_secs = 1;
    // With a Redis, the call limiter is the shared one, as in production (the shared test below says NOT RUN
    // when there is none).
    if let Ok(url) = std::env::var(productsmanager_core::testing::REDIS_URL_VAR) {
        env.config_mut().cache.redis_url = Some(url);
    }
    let sdk = env.sdk().await;
    Some((env, sdk))
}

async fn configure(sdk: &Sdk, fake: &FakeSpApi) -> uuid::Uuid {
    let c = credentials();
    let config = sdk
        .code2asin()
        .add_config(NewAmazonApiConfig {
            name: "FR seller".into(),
            marketplace: "fr".into(),
            endpoint: Some(format!("{}/", fake.base_url)),
            token_endpoint: Some(format!("{}/auth/o2/token", fake.base_url)),
            client_id: c.client_id,
            client_secret: c.client_secret,
            refresh_token: Some(c.refresh_token),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!((config.marketplace.as_str(), config.marketplace_id.as_str()), ("FR", "A13V1IB3VIYZZH"));
    config.id
}

fn job_of(codes: Vec<String>) -> NewCode2AsinJob {
    NewCode2AsinJob {
        source: CodeSource::Codes { codes },
        marketplace: "FR".into(),
        amazon_config_id: None,
        confidence_threshold: None,
        requested_by: None,
    }
}

/// Every identifier of the fake's successful requests, with how many times each was sent.
fn sent(fake: &FakeSpApi) -> BTreeMap<String, usize> {
    let mut sent = BTreeMap::new();
    for request in fake.requests().iter().filter(|r| r.status == 200) {
        for identifier in &request.identifiers {
            *sent.entry(identifier.clone()).or_default() += 1;
        }
    }
    sent
}

async fn a_worker_looks_up_codes_in_batches_and_writes_matches_back(backend: Backend) {
    let Some((_env, sdk)) = sdk(backend, "code2asin_batches").await else { return };
    let fake = fake(60, vec![]).await;
    configure(&sdk, &fake).await;
    // Catalog products for codes 0 and 1 (0 is found on Amazon, 1 is not).
    let acme = sdk.brands().create(NewBrand { name: "Acme".into(), ..Default::default() }).await.unwrap();
    let mut products = Vec::new();
    for i in [0, 1] {
        let input = NewProduct {
            gtin: Some(code(i).parse().unwrap()),
            title: format!("Acme widget {i}"),
            brand_id: Some(acme.id),
            ..Default::default()
        };
        products.push(sdk.products().create(input).await.unwrap().id);
    }
    let restricted = ean13("200123456789");
    let mut codes: Vec<String> = (0..50).map(code).collect();
    codes.insert(3, restricted.clone());
    codes.insert(7, "4006381333932".into()); // wrong check digit
    codes.push(code(4)); // a repeat
    let job = sdk.code2asin().create_job(job_of(codes.clone())).await.unwrap();
    assert_eq!(job.state, JobState::Queued);

    let running = sdk.job_runner("c2a-test", &["code2asin".to_string()]).unwrap().start();
    super::jobs::eventually("the code2asin job to succeed", async || {
        sdk.code2asin().job(job.id).await.unwrap().state == JobState::Succeeded
    })
    .await;
    running.shutdown(Duration::from_secs(5)).await;

    // 50 distinct valid codes: three calls (20, 20, 10), each code sent once, as 13-digit EANs, one marketplace.
    let requests = fake.requests();
    assert_eq!(requests.iter().map(|r| r.identifiers.len()).collect::<Vec<_>>(), [20, 20, 10]);
    assert!(requests.iter().all(|r| r.status == 200), "no 429 in normal running");
    assert!(requests.iter().all(|r| r.identifiers_type == "EAN" && r.marketplace_ids == ["A13V1IB3VIYZZH"]));
    let sent = sent(&fake);
    assert_eq!(sent.len(), 50);
    assert!(sent.values().all(|n| *n == 1));
    assert!(!sent.contains_key(&restricted), "restricted codes are never sent");

    let done = sdk.code2asin().job(job.id).await.unwrap();
    let c = done.counts;
    assert_eq!((c.total, c.processed), (Some(53), 53));
    assert_eq!((c.matched, c.review, c.not_found, c.restricted, c.invalid), (26, 0, 25, 1, 1));
    assert_eq!((c.api_calls, c.rate_limited, c.cached), (3, 0, 0));

    let items = sdk.code2asin().items(job.id, None, None, 100).await.unwrap();
    assert_eq!(items.iter().map(|i| i.position).collect::<Vec<_>>(), (0..53).collect::<Vec<_>>());
    assert_eq!(items[3].outcome, CodeOutcome::Restricted);
    assert!(items[3].reason.as_deref().unwrap().contains("in-store"), "{:?}", items[3].reason);
    assert_eq!(items[7].outcome, CodeOutcome::Invalid);
    assert!(items[7].reason.as_deref().unwrap().contains("check digit"), "{:?}", items[7].reason);
    assert_eq!((items[0].outcome, items[0].asin.clone()), (CodeOutcome::Matched, Some(asin(0))));
    assert_eq!(items[52].asin, Some(asin(4)), "a repeated code gets the same answer");

    // Code 0's product got its ASIN; code 1's product has none (not found).
    let first = sdk.products().get(products[0]).await.unwrap();
    assert_eq!(first.asin.map(|a| a.to_string()), Some(asin(0)));
    assert!(sdk.products().get(products[1]).await.unwrap().asin.is_none());
    let stats = sdk.code2asin().job_statistics(job.id).await.unwrap();
    assert_eq!((stats.api_calls, stats.codes_looked_up, stats.hits, stats.misses), (3, 50, 26, 25));

    // The same codes again within the TTL: no call, every answer from the results.
    let again = sdk.code2asin().create_job(job_of(codes)).await.unwrap();
    assert_ne!(again.id, job.id, "a finished job frees its codes");
    let again = sdk.code2asin().run_now(again.id, |_| {}).await.unwrap();
    assert_eq!(fake.requests().len(), 3);
    assert_eq!((again.counts.cached, again.counts.matched, again.counts.api_calls), (51, 26, 0));
    sdk.close().await;
}

async fn faults_are_retried_without_losing_or_repeating_a_code(backend: Backend) {
    let Some((_env, sdk)) = sdk(backend, "code2asin_faults").await else { return };
    let fake = fake(100, vec![]).await;
    configure(&sdk, &fake).await;
    // A 429, a 500 and a call that outlives the 1 s client timeout, among five calls.
    fake.inject(&[Fault::Throttled, Fault::ServerError, Fault::Stall(Duration::from_millis(1500))]);
    let codes: Vec<String> = (0..100).map(code).collect();
    let job = sdk.code2asin().create_job(job_of(codes)).await.unwrap();
    let done = sdk.code2asin().run_now(job.id, |_| {}).await.unwrap();
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!((done.counts.matched, done.counts.not_found), (50, 50));
    // The fake may still answer the stalled call after the client gave up, spending a token of its bucket: on a
    // busy machine the next call can then be throttled once more. Each 429 costs one call more, nothing else.
    let throttled = done.counts.rate_limited;
    assert!(throttled >= 1, "the injected 429 is counted");
    assert_eq!(done.counts.api_calls, 7 + throttled);
    let sent = sent(&fake);
    assert_eq!(sent.len(), 100, "no code lost");
    // The stalled call may have been answered by the fake after the client gave up; every code has exactly one
    // stored answer either way.
    let items = sdk.code2asin().items(done.id, None, None, 1000).await.unwrap();
    assert_eq!(items.len(), 100);
    assert_eq!(items.iter().map(|i| i.position).collect::<BTreeSet<_>>().len(), 100, "no code repeated");
    let stats = sdk.code2asin().job_statistics(job.id).await.unwrap();
    assert_eq!(stats.errors, 2 + throttled);
    assert_eq!(stats.errors_by_kind.get("throttled"), Some(&throttled));
    assert_eq!(stats.errors_by_kind.get("unavailable"), Some(&2));
    sdk.close().await;
}

async fn several_asins_are_judged_and_reviewed(backend: Backend) {
    let Some((_env, sdk)) = sdk(backend, "code2asin_review").await else { return };
    let (pens, pots) = (code(1001), code(1003));
    let item = |asin: &str, gtin: &str, brand: &str, title: &str, rank| FakeItem {
        asin: asin.into(),
        gtin14: format!("0{gtin}"),
        brand: brand.into(),
        title: title.into(),
        sales_rank: rank,
    };
    let fake = fake(
        0,
        vec![
            item("B0PEN00001", &pens, "Generic", "Pack of 10 markers", Some(5)),
            item("B0PEN00002", &pens, "Stabilo", "STABILO BOSS ORIGINAL yellow", Some(900)),
            item("B0POT00001", &pots, "Acme", "Clay pot", None),
            item("B0POT00002", &pots, "Acme", "Clay pot, 2 pack", Some(30)),
        ],
    )
    .await;
    configure(&sdk, &fake).await;
    let stabilo = sdk.brands().create(NewBrand { name: "Stabilo".into(), ..Default::default() }).await.unwrap();
    let pen = NewProduct {
        gtin: Some(pens.parse().unwrap()),
        title: "Boss Original yellow".into(),
        brand_id: Some(stabilo.id),
        ..Default::default()
    };
    let pen = sdk.products().create(pen).await.unwrap().id;
    let pot = NewProduct { gtin: Some(pots.parse().unwrap()), title: "Pot".into(), ..Default::default() };
    let pot = sdk.products().create(pot).await.unwrap().id;

    let job = sdk.code2asin().create_job(job_of(vec![pens.clone(), pots.clone()])).await.unwrap();
    let done = sdk.code2asin().run_now(job.id, |_| {}).await.unwrap();
    assert_eq!((done.counts.matched, done.counts.review), (1, 1));
    // The pen: the ASIN whose brand and title agree with the catalog wins and is written back.
    let pen_results = sdk.code2asin().results_of(&pens, "FR").await.unwrap();
    assert_eq!(pen_results.len(), 2, "every ASIN of the code is stored");
    assert_eq!((pen_results[0].asin.as_deref(), pen_results[0].is_best), (Some("B0PEN00002"), true));
    assert_eq!(pen_results[0].review_state, Some(ReviewState::AutoAccepted));
    assert_eq!(sdk.products().get(pen).await.unwrap().asin.map(|a| a.to_string()).as_deref(), Some("B0PEN00002"));
    // The pot: two ASINs, nothing in the catalog to tell them apart: the ranked one is best, held for review.
    let pending = sdk.code2asin().results(Some(ReviewState::Pending), Some("FR"), 10, None).await.unwrap();
    assert_eq!(pending.items.len(), 1);
    let held = &pending.items[0];
    // Both at 0.9 from the code, both from Acme; "Clay pot" is the closer title.
    assert_eq!((held.asin.as_deref(), held.gtin14.as_str()), (Some("B0POT00001"), format!("0{pots}").as_str()));
    assert!(held.confidence.unwrap() < 0.85);
    assert!(sdk.products().get(pot).await.unwrap().asin.is_none());
    let items = sdk.code2asin().items(job.id, Some(CodeOutcome::Review), None, 10).await.unwrap();
    assert!(items[0].reason.as_deref().unwrap().contains("several ASINs"), "{:?}", items[0].reason);

    // Accepted: written to the product. Then rejected: taken off it again.
    let accepted = sdk.code2asin().accept(held.id, None).await.unwrap();
    assert_eq!(accepted.review_state, Some(ReviewState::Accepted));
    assert_eq!(sdk.products().get(pot).await.unwrap().asin.map(|a| a.to_string()).as_deref(), Some("B0POT00001"));
    sdk.code2asin().reject(held.id, None).await.unwrap();
    assert!(sdk.products().get(pot).await.unwrap().asin.is_none());
    assert!(sdk.code2asin().results(Some(ReviewState::Pending), None, 10, None).await.unwrap().items.is_empty());
    sdk.close().await;
}

async fn a_killed_run_resumes_from_its_checkpoint(backend: Backend) {
    let Some((_env, sdk)) = sdk(backend, "code2asin_resume").await else { return };
    let fake = fake(300, vec![]).await;
    configure(&sdk, &fake).await;
    let codes: Vec<String> = (0..300).map(code).collect();
    let job = sdk.code2asin().create_job(job_of(codes.clone())).await.unwrap();
    let run = {
        let code2asin = sdk.code2asin();
        tokio::spawn(async move { code2asin.run_now(job.id, |_| {}).await })
    };
    super::jobs::eventually("a first window to commit", async || {
        sdk.code2asin().job(job.id).await.unwrap().counts.processed >= 100
    })
    .await;
    run.abort(); // the process dies: its lease stays until it expires
    let _ = run.await;
    let stopped = sdk.code2asin().job(job.id).await.unwrap();
    assert_eq!(stopped.state, JobState::Running);
    assert!(stopped.counts.processed < 300);
    let err = sdk.code2asin().run_now(job.id, |_| {}).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Conflict, "{err}");

    // Running the same codes again finds the unfinished job; once its lease expired, it continues.
    let again = sdk.code2asin().create_job(job_of(codes)).await.unwrap();
    assert_eq!(again.id, job.id);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let done = loop {
        match sdk.code2asin().run_now(job.id, |_| {}).await {
            Ok(done) => break done,
            Err(e) if e.kind() == ErrorKind::Conflict && std::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("resume failed: {e}"),
        }
    };
    assert_eq!((done.state, done.counts.processed, done.counts.matched), (JobState::Succeeded, 300, 150));
    let items = sdk.code2asin().items(job.id, None, None, 1000).await.unwrap();
    assert_eq!(items.iter().map(|i| i.position).collect::<Vec<_>>(), (0..300).collect::<Vec<_>>());
    let sent = sent(&fake);
    assert_eq!(sent.len(), 300, "no code lost");
    // Only a call in flight when the run died can have been answered without being stored.
    assert!(sent.values().filter(|n| **n > 1).count() <= 20, "{sent:?}");
    let logs = sdk.code2asin().logs(job.id, 100).await.unwrap();
    assert!(logs.iter().any(|l| l.message.starts_with("resumed after code")), "{logs:?}");
    sdk.close().await;
}

async fn jobs_pause_resume_cancel_and_refuse_bad_input(backend: Backend) {
    let Some((_env, sdk)) = sdk(backend, "code2asin_states").await else { return };
    let c2a = sdk.code2asin();
    let job = c2a.create_job(job_of(vec![code(1)])).await.unwrap();
    assert_eq!(c2a.pause(job.id).await.unwrap().state, JobState::Paused);
    assert_eq!(c2a.pause(job.id).await.unwrap_err().kind(), ErrorKind::Conflict);
    assert_eq!(c2a.resume(job.id).await.unwrap().state, JobState::Queued);
    assert_eq!(c2a.cancel(job.id).await.unwrap().state, JobState::Cancelled);

    let mut bad = job_of(vec![code(1)]);
    bad.marketplace = "XX".into();
    let err = c2a.create_job(bad).await.unwrap_err();
    assert_eq!((err.kind(), err.field()), (ErrorKind::Invalid, Some("marketplace")));
    let err = c2a.create_job(job_of(vec![" ".into()])).await.unwrap_err();
    assert_eq!(err.field(), Some("codes"));
    let file = NewCode2AsinJob {
        source: CodeSource::File { name: "codes.csv".into(), content: "sku;name\n".into() },
        ..job_of(vec![])
    };
    let err = c2a.create_job(file).await.unwrap_err();
    assert!(err.to_string().contains("codes.csv"), "{err}");
    // A file: the `ean` column, whatever its place.
    let file = NewCode2AsinJob {
        source: CodeSource::File {
            name: "codes.csv".into(),
            content: format!("\u{feff}sku;EAN\nA;{}\nB;{}\n", code(1), code(2)),
        },
        ..job_of(vec![])
    };
    let job = c2a.create_job(file).await.unwrap();
    // No configuration for the marketplace: the run fails for good, saying what to do.
    let err = c2a.run_now(job.id, |_| {}).await.unwrap_err();
    assert!(err.to_string().contains("no active Amazon API configuration for marketplace FR"), "{err}");
    assert_eq!(c2a.job(job.id).await.unwrap().state, JobState::Failed);

    // Credentials are sealed: the stored bytes do not hold the secret.
    let fake = fake(0, vec![]).await;
    let id = configure(&sdk, &fake).await;
    let configs = c2a.configs().await.unwrap();
    assert_eq!(configs.iter().map(|c| c.id).collect::<Vec<_>>(), [id]);
    let json = serde_json::to_string(&configs).unwrap();
    assert!(!json.contains("s3cret") && !json.contains("Atzr"), "{json}");
    sdk.close().await;
}

async fn the_creators_api_is_a_second_provider(backend: Backend) {
    use productsmanager_core::code2asin::ProviderKind;
    use productsmanager_fakes::creators::{Credentials as CreatorsCredentials, FakeCreators};
    let Some((_env, sdk)) = sdk(backend, "code2asin_creators").await else { return };
    let (lamp, decoy, absent) = (code(2001), code(2003), code(2005));
    let item = |asin: &str, gtin: &str, title: String| FakeItem {
        asin: asin.into(),
        gtin14: format!("0{gtin}"),
        brand: "Lumo".into(),
        title,
        sales_rank: Some(12),
    };
    // A keyword search finds the decoy's code in another item's title: its EAN differs, so it is no match.
    let catalog = vec![
        item("B0LAMP0001", &lamp, "Desk lamp".into()),
        item("B0SHADE001", &code(2007), format!("Shade for {decoy}")),
    ];
    let credentials =
        CreatorsCredentials { client_id: "cid".into(), client_secret: "csecret".into(), partner_tag: "shop-21".into() };
    let fake = FakeCreators::start(credentials, catalog).await.unwrap();
    let config = sdk
        .code2asin()
        .add_config(NewAmazonApiConfig {
            name: "FR affiliate".into(),
            provider: Some(ProviderKind::Creators),
            marketplace: "FR".into(),
            endpoint: Some(format!("{}/", fake.base_url)),
            token_endpoint: Some(format!("{}/oauth2/token", fake.base_url)),
            client_id: "cid".into(),
            client_secret: "csecret".into(),
            partner_tag: Some("shop-21".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut input = job_of(vec![lamp.clone(), decoy.clone(), absent.clone()]);
    input.amazon_config_id = Some(config.id);
    let job = sdk.code2asin().create_job(input).await.unwrap();
    let done = sdk.code2asin().run_now(job.id, |_| {}).await.unwrap();
    assert_eq!((done.counts.matched, done.counts.not_found, done.counts.api_calls), (1, 2, 3));
    let requests = fake.requests();
    assert_eq!(requests.iter().map(|r| r.status).collect::<Vec<_>>(), [200, 200, 404], "one code per call, no 429");
    for request in &requests {
        assert_eq!(request.marketplace.as_deref(), Some("www.amazon.fr"));
        assert!(request.authorization.as_deref().unwrap().ends_with(", Version 2.2"), "Cognito credentials of the EU");
        assert_eq!(request.body["partnerTag"], "shop-21");
        assert!(request.body["resources"].as_array().unwrap().iter().any(|r| r == "itemInfo.externalIds"));
    }
    assert_eq!(fake.token_requests(), 1, "the token is reused");
    let found = sdk.code2asin().results_of(&lamp, "FR").await.unwrap();
    assert_eq!((found[0].asin.as_deref(), found[0].provider), (Some("B0LAMP0001"), ProviderKind::Creators));
    assert_eq!(found[0].image_url.as_deref(), Some("https://m.media-amazon.com/images/I/B0LAMP0001._SL500_.jpg"));
    sdk.close().await;
}

async fn a_supplier_or_the_catalog_gives_the_codes(backend: Backend) {
    use productsmanager_core::catalog::{NewOffer, NewSupplier};
    let Some((_env, sdk)) = sdk(backend, "code2asin_sources").await else { return };
    let fake = fake(3010, vec![]).await; // knows the even codes: 3000, 3002, …
    configure(&sdk, &fake).await;
    let supplier = NewSupplier { code: "ACME".into(), name: "Acme".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(supplier).await.unwrap();
    let product = async |i: usize, asin: Option<&str>| {
        let input = NewProduct {
            gtin: Some(code(i).parse().unwrap()),
            asin: asin.map(|a| a.parse().unwrap()),
            title: format!("Acme widget {i}"),
            ..Default::default()
        };
        sdk.products().create(input).await.unwrap().id
    };
    let offered = product(3000, None).await;
    let has_asin = product(3002, Some("B0KNOWN001")).await;
    let elsewhere = product(3004, None).await;
    for (id, sku) in [(offered, "A-1"), (has_asin, "A-2")] {
        let offer = NewOffer {
            product_id: id,
            supplier_id: supplier.id,
            supplier_sku: sku.into(),
            cost: None,
            stock: None,
            lead_time_days: None,
            is_available: None,
            last_seen_at: None,
        };
        sdk.offers().record(offer).await.unwrap();
    }
    let from = |source: CodeSource| NewCode2AsinJob { source, ..job_of(vec![]) };
    // The supplier's own settings in FR: a lower threshold for its jobs.
    let settings = NewSupplierSettings { confidence_threshold: Some(0.5), ..Default::default() };
    sdk.code2asin().set_supplier_settings(supplier.id, "FR", settings).await.unwrap();
    assert_eq!(sdk.code2asin().supplier_settings(supplier.id).await.unwrap()[0].confidence_threshold, Some(0.5));

    // The supplier's products with a GTIN and no ASIN: only the first.
    let job = sdk.code2asin().create_job(from(CodeSource::Supplier { supplier_id: supplier.id })).await.unwrap();
    assert_eq!(job.counts.total, None, "read when the job starts");
    assert_eq!(job.confidence_threshold, 0.5);
    let done = sdk.code2asin().run_now(job.id, |_| {}).await.unwrap();
    assert_eq!((done.counts.total, done.counts.matched), (Some(1), 1));
    assert_eq!(sdk.products().get(offered).await.unwrap().asin.map(|a| a.to_string()), Some(asin(3000)));

    // Every product without an ASIN: now only the one no supplier offers.
    let job = sdk.code2asin().create_job(from(CodeSource::CatalogMissingAsin)).await.unwrap();
    let done = sdk.code2asin().run_now(job.id, |_| {}).await.unwrap();
    assert_eq!((done.counts.total, done.counts.matched), (Some(1), 1));
    assert_eq!(sdk.products().get(elsewhere).await.unwrap().asin.map(|a| a.to_string()), Some(asin(3004)));
    assert_eq!(sdk.products().get(has_asin).await.unwrap().asin.map(|a| a.to_string()).as_deref(), Some("B0KNOWN001"));

    // Switched off for the supplier: its jobs are refused.
    let off = NewSupplierSettings { is_active: Some(false), ..Default::default() };
    sdk.code2asin().set_supplier_settings(supplier.id, "FR", off).await.unwrap();
    let err = sdk.code2asin().create_job(from(CodeSource::Supplier { supplier_id: supplier.id })).await.unwrap_err();
    assert!(err.to_string().contains("switched off"), "{err}");
    sdk.close().await;
}

async fn single_lookups_are_cached_and_raw_responses_kept(backend: Backend) {
    let Some((_env, sdk)) = sdk(backend, "code2asin_lookup").await else { return };
    let fake = fake(10, vec![]).await;
    configure(&sdk, &fake).await;
    let c2a = sdk.code2asin();
    let found = c2a.lookup(&code(2), "FR").await.unwrap();
    assert_eq!((found[0].asin.clone(), found[0].is_best), (Some(asin(2)), true));
    assert_eq!(fake.requests().len(), 1);
    assert_eq!(c2a.lookup(&code(2), "fr").await.unwrap(), found);
    assert_eq!(fake.requests().len(), 1, "the second lookup comes from the cache");
    // Amazon's answer, as received, is kept beside the result.
    assert!(found[0].raw_response_key.as_deref().unwrap().starts_with("code2asin-cache/"));
    let raw: serde_json::Value = serde_json::from_slice(&c2a.raw_response(found[0].id).await.unwrap()).unwrap();
    assert_eq!(raw["items"][0]["asin"], asin(2));
    let none = c2a.lookup(&code(3), "FR").await.unwrap();
    assert!(none.len() == 1 && none[0].asin.is_none(), "{none:?}");
    let err = c2a.lookup(&ean13("200123456789"), "FR").await.unwrap_err();
    assert_eq!((err.kind(), err.field()), (ErrorKind::Invalid, Some("code")));
    assert_eq!(fake.requests().len(), 2, "a restricted code costs no call");
    // A code a job looked up answers from its stored result.
    let job = c2a.create_job(job_of(vec![code(4)])).await.unwrap();
    let done = c2a.run_now(job.id, |_| {}).await.unwrap();
    assert_eq!(done.counts.matched, 1);
    let calls = fake.requests().len();
    assert_eq!(c2a.lookup(&code(4), "FR").await.unwrap()[0].asin, Some(asin(4)));
    assert_eq!(fake.requests().len(), calls);
    let job_result = &c2a.results_of(&code(4), "FR").await.unwrap()[0];
    assert!(job_result.raw_response_key.as_deref().unwrap().contains(&job.id.to_string()));
    sdk.close().await;
}

/// Two processes' limiters on one Redis share the bucket: together they keep to the one rate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_rate_is_shared_by_processes_through_redis() {
    use productsmanager_core::code2asin::SharedLimiter;
    let Some(url) = productsmanager_core::testing::redis_url("code2asin_shared_limit") else { return };
    let namespace = format!("pmtest{}:", uuid::Uuid::new_v4().simple());
    let (credential, fr) = (uuid::Uuid::now_v7(), "FR");
    let one = SharedLimiter::new(2.0, 2, Some(&url), &namespace).unwrap();
    let two = SharedLimiter::new(2.0, 2, Some(&url), &namespace).unwrap();
    assert!(one.is_shared() && two.is_shared());
    let calls = |limiter: SharedLimiter| async move {
        for _ in 0..4 {
            limiter.acquire(credential, fr).await;
        }
    };
    let started = std::time::Instant::now();
    tokio::join!(calls(one), calls(two));
    // Eight calls at 2/s with a burst of 2: three seconds at least (each process alone would take one).
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(2900) && took < Duration::from_secs(6), "{took:?}");
}

both_backends!(
    a_worker_looks_up_codes_in_batches_and_writes_matches_back,
    faults_are_retried_without_losing_or_repeating_a_code,
    several_asins_are_judged_and_reviewed,
    a_killed_run_resumes_from_its_checkpoint,
    jobs_pause_resume_cancel_and_refuse_bad_input,
    the_creators_api_is_a_second_provider,
    a_supplier_or_the_catalog_gives_the_codes,
    single_lookups_are_cached_and_raw_responses_kept
);
