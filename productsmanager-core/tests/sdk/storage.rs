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
