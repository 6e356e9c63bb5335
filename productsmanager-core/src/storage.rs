//! [`ObjectStorage`]: the files the product keeps (supplier files taken for import, exports, images) in the
//! configured object store — a local folder by default, S3 or an S3-compatible server (MinIO, R2…) in production.
//! Keys are `/`-separated relative paths chosen by the services (`imports/<supplier>/<file id>/<name>`).

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::{Config, ConfigError, StorageBackend};

/// Why the object store refused.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No object under this key.
    #[error("no stored file {key:?}")]
    NotFound { key: String },
    /// The key is not a valid relative path.
    #[error("{key:?} is not a valid storage key: {reason}")]
    InvalidKey { key: String, reason: String },
    /// The store failed or could not be reached.
    #[error("object store ({store}): {message}")]
    Unavailable { store: String, message: String },
}

/// The chunks of a stored object, as [`ObjectStorage::stream`] reads them.
pub type ObjectStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, StorageError>> + Send>>;

/// An object as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub key: String,
    pub size: u64,
    pub last_modified: chrono::DateTime<chrono::Utc>,
}

/// A stored object readable as a local file ([`ObjectStorage::local_copy`]).
#[derive(Debug)]
pub struct LocalCopy {
    /// Open for reading, at the start.
    pub file: std::fs::File,
    _temporary: Option<tempfile::TempPath>,
}

/// The configured object store. Cheap to clone.
///
/// ```no_run
/// # async fn demo(sdk: &productsmanager_core::Sdk) -> productsmanager_core::Result<()> {
/// let storage = sdk.storage();
/// storage.put("imports/example/prices.csv", "sku;price\nA1;9,90\n".into()).await?;
/// assert_eq!(storage.get("imports/example/prices.csv").await?.len(), 20);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
    /// `local:/path` or `s3://bucket`, for messages.
    name: String,
    /// The same store, when it signs URLs (S3).
    signer: Option<Arc<object_store::aws::AmazonS3>>,
}

impl ObjectStorage {
    /// The store `config.storage` describes. Creates the local folder when missing.
    pub fn from_config(config: &Config) -> Result<Self, ConfigError> {
        let storage = &config.storage;
        match storage.backend {
            StorageBackend::Local => {
                let folder = config.storage_dir();
                std::fs::create_dir_all(&folder).map_err(|e| {
                    config.setting_error("storage.local_dir", format!("cannot create {}: {e}", folder.display()))
                })?;
                Self::local(&folder).map_err(|e| config.setting_error("storage.local_dir", e.to_string()))
            }
            StorageBackend::S3 => {
                let bucket = storage.s3_bucket.clone().unwrap_or_default();
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&bucket)
                    .with_region(&storage.s3_region)
                    .with_virtual_hosted_style_request(!storage.s3_path_style);
                if let Some(endpoint) = &storage.s3_endpoint {
                    builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
                }
                if let (Some(id), Some(secret)) = (&storage.s3_access_key_id, &storage.s3_secret_access_key) {
                    builder = builder.with_access_key_id(id).with_secret_access_key(secret);
                }
                let store =
                    Arc::new(builder.build().map_err(|e| config.setting_error("storage.s3_bucket", e.to_string()))?);
                Ok(ObjectStorage { store: store.clone(), name: format!("s3://{bucket}"), signer: Some(store) })
            }
        }
    }

    /// A store in a local folder (which must exist).
    pub fn local(folder: &Path) -> Result<Self, StorageError> {
        let store = LocalFileSystem::new_with_prefix(folder).map_err(|e| StorageError::Unavailable {
            store: format!("local:{}", folder.display()),
            message: e.to_string(),
        })?;
        Ok(ObjectStorage { store: Arc::new(store), name: format!("local:{}", folder.display()), signer: None })
    }

    /// Where the files are, for messages (`local:/var/lib/pm/objects`, `s3://bucket`).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn path(key: &str) -> Result<ObjectPath, StorageError> {
        if key.is_empty() || key.starts_with('/') {
            return Err(StorageError::InvalidKey { key: key.to_string(), reason: "must be a relative path".into() });
        }
        ObjectPath::parse(key).map_err(|e| StorageError::InvalidKey { key: key.to_string(), reason: e.to_string() })
    }

    fn failed(&self, key: &str, error: object_store::Error) -> StorageError {
        match error {
            object_store::Error::NotFound { .. } => StorageError::NotFound { key: key.to_string() },
            other => StorageError::Unavailable { store: self.name.clone(), message: other.to_string() },
        }
    }

    /// Stores `bytes` under `key`, replacing what was there. The object appears whole or not at all.
    pub async fn put(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let path = Self::path(key)?;
        self.store.put(&path, PutPayload::from(bytes)).await.map(|_| ()).map_err(|e| self.failed(key, e))
    }

    /// A URL that downloads `key` without credentials until `valid_for` has passed, where the store signs URLs
    /// (S3); `None` for the local store (serve the bytes instead).
    pub async fn presigned_get(
        &self,
        key: &str,
        valid_for: std::time::Duration,
    ) -> Result<Option<url::Url>, StorageError> {
        use object_store::signer::{Method, Signer};
        let Some(signer) = &self.signer else { return Ok(None) };
        let path = Self::path(key)?;
        let url = signer.signed_url(Method::GET, &path, valid_for).await.map_err(|e| self.failed(key, e))?;
        Ok(Some(url))
    }

    /// The object under `key` as a stream of chunks, with its size: a large object is never held whole.
    pub async fn stream(&self, key: &str) -> Result<(u64, ObjectStream), StorageError> {
        let path = Self::path(key)?;
        let found = self.store.get(&path).await.map_err(|e| self.failed(key, e))?;
        let size = found.meta.size;
        let (store, key) = (self.name.clone(), key.to_string());
        let chunks = found.into_stream().map_err(move |e| match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound { key: key.clone() },
            other => StorageError::Unavailable { store: store.clone(), message: other.to_string() },
        });
        Ok((size, Box::pin(chunks)))
    }

    /// The bytes `range` of the object under `key`.
    pub async fn get_range(&self, key: &str, range: std::ops::Range<u64>) -> Result<Bytes, StorageError> {
        let path = Self::path(key)?;
        self.store.get_range(&path, range).await.map_err(|e| self.failed(key, e))
    }

    /// The bytes stored under `key`.
    pub async fn get(&self, key: &str) -> Result<Bytes, StorageError> {
        let path = Self::path(key)?;
        let found = self.store.get(&path).await.map_err(|e| self.failed(key, e))?;
        found.bytes().await.map_err(|e| self.failed(key, e))
    }

    /// Stores the file at `path` under `key`, streamed in parts (a large supplier file is never held in memory);
    /// returns its size and SHA-256 (lowercase hex). The object appears whole or not at all.
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<(u64, String), StorageError> {
        use sha2::{Digest, Sha256};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let location = Self::path(key)?;
        let local = |e: std::io::Error| StorageError::Unavailable {
            store: self.name.clone(),
            message: format!("cannot read {}: {e}", path.display()),
        };
        let mut file = tokio::fs::File::open(path).await.map_err(local)?;
        let mut writer = object_store::buffered::BufWriter::new(self.store.clone(), location);
        let (mut size, mut hasher) = (0_u64, Sha256::new());
        let mut buffer = vec![0_u8; 1 << 20];
        loop {
            let read = file.read(&mut buffer).await.map_err(local)?;
            if read == 0 {
                break;
            }
            hasher.update(&buffer[..read]);
            size += read as u64;
            if let Err(e) = writer.put(Bytes::copy_from_slice(&buffer[..read])).await {
                let _ = writer.abort().await;
                return Err(self.failed(key, e));
            }
        }
        writer
            .shutdown()
            .await
            .map_err(|e| StorageError::Unavailable { store: self.name.clone(), message: e.to_string() })?;
        Ok((size, format!("{:x}", hasher.finalize())))
    }

    /// The object under `key` as a local file to read: the file itself in a local store, a temporary copy
    /// (streamed to disk, removed when dropped) otherwise.
    pub async fn local_copy(&self, key: &str) -> Result<LocalCopy, StorageError> {
        use tokio::io::AsyncWriteExt;
        let location = Self::path(key)?;
        let found = self.store.get(&location).await.map_err(|e| self.failed(key, e))?;
        match found.payload {
            object_store::GetResultPayload::File(file, _) => Ok(LocalCopy { file, _temporary: None }),
            object_store::GetResultPayload::Stream(mut stream) => {
                let local = |e: std::io::Error| StorageError::Unavailable {
                    store: self.name.clone(),
                    message: format!("cannot write a temporary copy of {key}: {e}"),
                };
                let temporary = tempfile::NamedTempFile::new().map_err(local)?;
                let mut out = tokio::fs::File::create(temporary.path()).await.map_err(local)?;
                while let Some(chunk) = stream.try_next().await.map_err(|e| self.failed(key, e))? {
                    out.write_all(&chunk).await.map_err(local)?;
                }
                out.flush().await.map_err(local)?;
                let file = std::fs::File::open(temporary.path()).map_err(local)?;
                Ok(LocalCopy { file, _temporary: Some(temporary.into_temp_path()) })
            }
        }
    }

    /// Size in bytes of the object under `key`.
    pub async fn size(&self, key: &str) -> Result<u64, StorageError> {
        let path = Self::path(key)?;
        self.store.head(&path).await.map(|meta| meta.size).map_err(|e| self.failed(key, e))
    }

    /// Removes the object under `key` (no error when there is none).
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = Self::path(key)?;
        match self.store.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.failed(key, e)),
        }
    }

    /// Every object whose key starts with the folder `prefix` (`exports`, `imports/<supplier>`).
    pub async fn list(&self, prefix: &str) -> Result<Vec<StoredObject>, StorageError> {
        let path = Self::path(prefix)?;
        let listed: Vec<object_store::ObjectMeta> =
            self.store.list(Some(&path)).try_collect().await.map_err(|e| self.failed(prefix, e))?;
        Ok(listed
            .into_iter()
            .map(|meta| StoredObject {
                key: meta.location.to_string(),
                size: meta.size,
                last_modified: meta.last_modified,
            })
            .collect())
    }
}
