//! The object store on a local folder and on S3 (the moto test server): the same operations, the same errors.

use productsmanager_core::ErrorKind;
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;

async fn object_storage(s3: bool) {
    let test = if s3 { "object_storage_s3" } else { "object_storage_local" };
    let Some(mut env) = TestDatabases::named(Backend::Sqlite, test).await else { return };
    if s3 && !env.use_s3(test).await {
        return;
    }
    let sdk = env.sdk().await;
    let storage = sdk.storage();
    assert!(storage.name().starts_with(if s3 { "s3://pm-t-" } else { "local:" }), "{}", storage.name());
    let key = "imports/acme/0193/prices.csv";
    storage.put(key, "sku;price\nA1;9,90\n".into()).await.unwrap();
    assert_eq!(storage.get(key).await.unwrap(), "sku;price\nA1;9,90\n");
    assert_eq!(storage.size(key).await.unwrap(), 18);
    storage.put(key, "replaced".into()).await.unwrap();
    assert_eq!(storage.get(key).await.unwrap(), "replaced");
    assert_eq!(storage.get_range(key, 2..6).await.unwrap(), "plac");
    let (size, chunks) = storage.stream(key).await.unwrap();
    let streamed: Vec<bytes::Bytes> = futures_util::TryStreamExt::try_collect(chunks).await.unwrap();
    assert_eq!((size, streamed.concat()), (8, b"replaced".to_vec()));
    storage.delete(key).await.unwrap();
    storage.delete(key).await.unwrap(); // already gone: fine
    let missing = productsmanager_core::Error::from(storage.get(key).await.unwrap_err());
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    assert!(missing.to_string().contains(key), "{missing}");
    let bad = productsmanager_core::Error::from(storage.put("/absolute", "x".into()).await.unwrap_err());
    assert_eq!(bad.kind(), ErrorKind::Invalid);
    if !s3 {
        assert!(env.folder().join("objects").is_dir(), "the local store lives in the data folder by default");
    }
    sdk.close().await;
}

#[tokio::test]
async fn local_folder() {
    object_storage(false).await;
}

#[tokio::test]
async fn s3() {
    object_storage(true).await;
}

/// The daily clean-up removes export files no export job refers to, once they are old enough; referenced files
/// and young ones stay. Local store on SQLite, S3 on PostgreSQL.
async fn orphaned_export_files_are_removed(backend: Backend) {
    use std::time::Duration;

    use productsmanager_core::db::Database;
    use productsmanager_core::with_pool;
    let test = "export_files_cleanup";
    let Some(mut env) = TestDatabases::named(backend, test).await else { return };
    if backend == Backend::Postgres && !env.use_s3(test).await {
        return;
    }
    let sdk = env.sdk().await;
    let storage = sdk.storage();
    for key in ["exports/kept.csv", "exports/orphan.csv", "exports/2026/orphan.xlsx", "imports/other.csv"] {
        storage.put(key, "x".into()).await.unwrap();
    }
    with_pool!(sdk.pool(Database::Exports), |p| sqlx::query(
        "insert into export_jobs (id, output_object_key) values ($1, 'exports/kept.csv')"
    )
    .bind(uuid::Uuid::now_v7())
    .execute(p)
    .await
    .map(|_| ())
    .unwrap());

    let young = sdk.exports().clean_orphaned_files(Duration::from_secs(3_600)).await.unwrap();
    assert_eq!((young.examined, young.deleted.len()), (3, 0), "files younger than the minimum age stay");
    let mut cleaned = sdk.exports().clean_orphaned_files(Duration::ZERO).await.unwrap();
    cleaned.deleted.sort();
    assert_eq!(cleaned.deleted, ["exports/2026/orphan.xlsx", "exports/orphan.csv"]);
    assert_eq!(storage.get("exports/kept.csv").await.unwrap(), "x");
    assert_eq!(storage.get("imports/other.csv").await.unwrap(), "x", "only export files are looked at");
    assert_eq!(storage.list("exports").await.unwrap().len(), 1);
    sdk.close().await;
}

productsmanager_core::both_backends!(orphaned_export_files_are_removed);
