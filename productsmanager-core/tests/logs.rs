//! What the logs say (issue 30): repeated failures are summarised, one line per run with counts and a few
//! samples, not one line per failure (962 lines in 3 minutes for a supplier file full of dead image links). A test
//! binary of its own: it installs the process's global `tracing` subscriber.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use productsmanager_core::catalog::NewSupplier;
use productsmanager_core::db::Backend;
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{ImportOptions, NewImport};
use productsmanager_core::testing::TestDatabases;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every formatted log line, kept for the test to read.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8_lossy(&self.0.lock().unwrap()).lines().map(str::to_string).collect()
    }
}

/// An image host where every picture is gone: 404 to each request.
async fn dead_image_host() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0_u8; 4096];
                let _ = socket.read(&mut request).await;
                let answer = "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn image_fetch_failures_are_one_line_per_run() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber =
        tracing_subscriber::fmt().with_env_filter("info").with_ansi(false).with_writer(move || writer.clone()).finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let Some(env) = TestDatabases::named(Backend::Sqlite, "image_fetch_failures_are_one_line_per_run").await else {
        return;
    };
    let sdk = env.sdk().await;
    let supplier = NewSupplier { code: "GONE".into(), name: "Gone".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(supplier).await.unwrap().id;
    let host = dead_image_host().await;
    let mut csv = String::from("sku,title,price,currency,image_url\n");
    for n in 0..20 {
        csv.push_str(&format!("G{n},Gone {n},9.90,EUR,{host}/gone-{n}.jpg\n"));
    }
    let path = env.folder().join("gone.csv");
    std::fs::write(&path, csv).unwrap();
    let import = NewImport {
        supplier_id: supplier,
        name: "gone.csv".into(),
        path,
        template: None,
        preset: Some(Preset::Native),
        dry_run: false,
        force: false,
        options: ImportOptions::default(),
        requested_by: None,
    };
    sdk.imports().import_file(import, |_| {}).await.unwrap();

    let report = sdk.media().fetch_pending().await.unwrap();
    assert_eq!((report.fetched, report.failed), (0, 20));
    assert_eq!(report.samples.len(), 3, "{:?}", report.samples);
    assert!(report.samples.iter().all(|s| s.contains("/gone-") && s.contains("404")), "{:?}", report.samples);

    let lines = captured.lines();
    let per_url: Vec<&String> = lines.iter().filter(|l| l.contains("image not fetched")).collect();
    assert!(per_url.is_empty(), "one line per URL at info level: {per_url:#?}");
    let summary: Vec<&String> = lines.iter().filter(|l| l.contains("image URLs not fetched")).collect();
    assert_eq!(summary.len(), 1, "{lines:#?}");
    assert!(summary[0].contains("WARN") && summary[0].contains("failed=20") && summary[0].contains("fetched=0"));
    assert!(summary[0].contains("/gone-"), "samples named: {}", summary[0]);
    sdk.close().await;
}
