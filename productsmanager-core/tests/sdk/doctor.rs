//! `Sdk::doctor` on both backends: a healthy instance is all `ok`; a job waiting on a queue no worker serves is a
//! warning naming the command that serves it.

use productsmanager_core::both_backends;
use productsmanager_core::db::Backend;
use productsmanager_core::doctor::Verdict;
use productsmanager_core::jobs::NewJob;
use productsmanager_core::testing::TestDatabases;

async fn doctor_reports_waiting_jobs_without_workers(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "doctor").await else { return };
    let sdk = env.sdk().await;
    let report = sdk.doctor().await;
    assert_eq!(report.verdict, Verdict::Ok, "{report:#?}");
    let databases = report.findings.iter().filter(|f| f.check.starts_with("database ")).count();
    assert_eq!(databases, 7);
    assert!(report.findings.iter().any(|f| f.check == "object store" && f.verdict == Verdict::Ok));

    let job = NewJob {
        queue: "media".into(),
        kind: "thumbnails".into(),
        payload: serde_json::json!({}),
        ..Default::default()
    };
    sdk.jobs().enqueue(job).await.unwrap();
    let report = sdk.doctor().await;
    assert_eq!(report.verdict, Verdict::Warn, "{report:#?}");
    let media = report.findings.iter().find(|f| f.check == "queue media").unwrap();
    assert_eq!(media.verdict, Verdict::Warn);
    assert!(media.detail.contains("1 job(s) waiting") && media.detail.contains("no worker"), "{media:?}");
    assert!(media.fix.as_deref().unwrap().contains("productsmanager worker --queue media"), "{media:?}");
    sdk.close().await;
}

both_backends!(doctor_reports_waiting_jobs_without_workers);
