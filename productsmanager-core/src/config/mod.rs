//! Configuration: embedded defaults, overridden by a TOML file, overridden by `PM_*` environment variables.
//!
//! The defaults run everything with no server: seven SQLite files and the object store under `./data`, an
//! in-process cache, HTTP on 127.0.0.1:8080. One `PM_DATABASE_URL=postgres://…` moves all seven databases to
//! PostgreSQL (`pm_core` … `pm_analytics`); `PM_DB_<NAME>_URL` moves one of them elsewhere.
//!
//! Layers are merged as TOML values and deserialised once, so an unknown key anywhere is an error that names it,
//! and [`Config::validate`] names the setting (and the variable that set it) for every rejected value.
//!
//! ```
//! use productsmanager_core::config::Config;
//! use productsmanager_core::db::Database;
//!
//! let config = Config::from_sources(None, [("PM_DB_CATALOG_POOL_SIZE".to_string(), "40".to_string())])?;
//! assert_eq!(config.database.settings(Database::Catalog).pool_size, 40);
//! assert_eq!(config.database.settings(Database::Core).pool_size, 5);
//! # Ok::<(), productsmanager_core::config::ConfigError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::db::{Backend, Database};

mod sources;

pub use sources::{EnvVar, env_vars};
use sources::{merge, parse_env_value, record_origins, set_path};

/// Environment variable naming the TOML configuration file.
pub const CONFIG_FILE_VAR: &str = "PM_CONFIG";

/// Variables with this prefix belong to the test suite and are not configuration.
const TEST_VAR_PREFIX: &str = "PM_TEST_";

/// The whole effective configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folder for everything kept locally: SQLite files, the local object store.
    pub data_dir: PathBuf,
    pub http: HttpConfig,
    pub database: DatabaseConfig,
    pub cache: CacheConfig,
    pub storage: StorageConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub media: MediaConfig,
    pub code2asin: Code2AsinConfig,
    #[serde(default)]
    pub imports: ImportsConfig,
    #[serde(default)]
    pub network: NetworkConfig,
    /// Where each non-default setting came from (`file.toml`, `PM_…`), for error messages.
    #[serde(skip)]
    origins: BTreeMap<String, String>,
}

/// HTTP server settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// Address the server binds; `127.0.0.1:8080` by default.
    pub addr: SocketAddr,
    /// Whether `/metrics` answers without credentials (true, for a Prometheus scraper inside the network);
    /// false requires `analytics:read`.
    pub public_metrics: bool,
    /// Largest request body in bytes (8 MiB); a larger one is refused with 413.
    pub max_body_bytes: u64,
    /// Largest uploaded file (multipart) in bytes (1 GiB).
    pub max_upload_bytes: u64,
    /// Seconds a request may take before the server answers 503 (30).
    pub request_timeout_secs: u64,
    /// Seconds an upload (multipart) may take (1 hour).
    pub upload_timeout_secs: u64,
    /// Origins allowed to call the API from a browser, comma-separated (`https://admin.example.com`), or `*`;
    /// empty (the default): no cross-origin access.
    pub cors_origins: String,
    /// Console cookies without the `Secure` flag (false): only for a console served over plain HTTP on a trusted
    /// network. Browsers keep `Secure` cookies over HTTPS and on this machine (`localhost`, `127.0.0.1`), so
    /// leave it off behind a TLS proxy and when browsing the server locally.
    #[serde(default)]
    pub insecure_cookies: bool,
    /// Requests per second one user or API key may make on average (20); 0 turns rate limiting off.
    pub rate_limit_per_second: u64,
    /// Requests one user or API key may make in a burst above that rate (100).
    pub rate_limit_burst: u64,
}

/// The seven databases: a base URL, per-database overrides and pool settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// Base URL for all seven databases. Unset: SQLite files in `data_dir`. `postgres://host/…`: seven
    /// databases `{prefix}{name}` on that server. `sqlite://folder`: seven SQLite files in that folder.
    pub url: Option<String>,
    /// Prefix of the database (or SQLite file) names.
    pub prefix: String,
    /// Apply pending migrations when the SDK starts.
    pub migrate_on_start: bool,
    /// Seconds allowed to open the first connection (start-up, migrations) and to answer a health check.
    pub connect_timeout_secs: u64,
    /// Milliseconds a SQLite writer waits for the lock before failing.
    pub sqlite_busy_timeout_ms: u64,
    /// MiB of page cache per SQLite connection (2, SQLite's own default). Measured on a 1M-row import
    /// (`benches/imports.rs`): 32 MiB gained little (1.67x the SQL-only load instead of 1.73x) for 70-90 MiB more
    /// resident memory, so the default stays; a large catalog on a roomy machine may want more.
    pub sqlite_cache_mib: u64,
    /// The most PostgreSQL connections this process opens to one server, its seven pools together (30). When
    /// their `pool_size + overflow` add up to more, each pool's maximum is scaled down in proportion (at least 1):
    /// the defaults add up to 150, more than a default PostgreSQL allows (100) for even one process. `doctor`
    /// says how many processes the server can carry. SQLite pools are not counted.
    pub max_connections: u32,
    pub core: PoolSettings,
    pub catalog: PoolSettings,
    pub imports: PoolSettings,
    pub exports: PoolSettings,
    pub media: PoolSettings,
    pub code2asin: PoolSettings,
    pub analytics: PoolSettings,
}

/// One database's URL override and connection pool.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PoolSettings {
    /// Full URL for this database alone (overrides the base URL).
    pub url: Option<String>,
    /// Connections the pool aims to keep for steady load.
    pub pool_size: u32,
    /// Extra connections allowed under bursts: at most `pool_size + overflow` are open.
    pub overflow: u32,
    /// Connections opened eagerly and kept open even when idle.
    pub min_idle: u32,
    /// Seconds to wait for a free connection before failing.
    pub acquire_timeout_secs: u64,
    /// Seconds after which a connection is closed and replaced.
    pub max_lifetime_secs: u64,
    /// Seconds an idle connection above `min_idle` is kept.
    pub idle_timeout_secs: u64,
    /// Ping a pooled connection before handing it out.
    pub test_before_acquire: bool,
}

/// Tiered cache: in-process L1 always, Redis L2 when `redis_url` is set.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheConfig {
    /// Redis URL for the shared L2 cache; unset means L1 only.
    pub redis_url: Option<String>,
    /// Maximum number of entries in the in-process cache.
    pub l1_capacity: u64,
    /// Seconds an entry lives in the in-process cache (at most 60, so instances converge quickly).
    pub l1_ttl_secs: u64,
    /// Seconds an in-process entry is trusted while Redis is configured but down (2): other instances'
    /// invalidations cannot arrive then, so their writes are seen after at most this long.
    pub degraded_l1_ttl_secs: u64,
}

/// Where files (imports, exports, images) are stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    pub backend: StorageBackend,
    /// Folder of the local store; `{data_dir}/objects` when unset.
    pub local_dir: Option<PathBuf>,
    /// S3-compatible endpoint (MinIO, R2, …); AWS when unset.
    pub s3_endpoint: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_region: String,
    pub s3_access_key_id: Option<String>,
    pub s3_secret_access_key: Option<String>,
    /// Path-style requests (`endpoint/bucket/key`), as MinIO and most S3 clones need.
    pub s3_path_style: bool,
}

/// Object store backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Local,
    S3,
}

/// Logging settings (applied by the binaries; an embedding service keeps its own subscriber).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `tracing` filter directive, e.g. `info,productsmanager_core=debug`.
    pub filter: String,
    pub format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Product images: what is accepted, how thumbnails are made, what a QR code says, how images are fetched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaConfig {
    /// Largest image accepted, in bytes (50 MiB).
    pub max_upload_bytes: u64,
    /// Largest image accepted, in pixels, width × height (50 million): a small file can unpack into a huge
    /// image, so this is checked from the header, before anything is decoded.
    pub max_pixels: u64,
    /// Memory, in MiB, that image decodes (uploads, downloads, thumbnails) may take at once across the process
    /// (1024): an image needing more is refused, and uploads finding it taken are answered 503 (see
    /// [`crate::media::DecodeBudget`]).
    #[serde(default = "default_decode_memory_mib")]
    pub decode_memory_mib: u64,
    /// Thumbnail format: `jpeg` (default) or `webp` (lossless: sharper, larger).
    pub thumbnail_format: ThumbnailFormat,
    /// JPEG thumbnail quality, 1 to 100 (85).
    pub jpeg_quality: u64,
    /// What a product's QR code encodes: a URL with `{gtin14}`, `{gtin}`, `{sku}` or `{id}` in it (the GS1
    /// Digital Link of the product's GTIN by default).
    pub qr_url_pattern: String,
    /// Seconds a presigned download URL stays valid, where the store signs URLs (S3): 3600.
    pub presigned_url_secs: u64,
    /// Seconds the download of an image from a URL may take, redirects included (30).
    pub download_timeout_secs: u64,
    /// Whether image URLs may lead to loopback, private or link-local addresses (false: a supplier file must not
    /// make the server fetch from the internal network).
    pub allow_private_downloads: bool,
    /// Where the store's objects can be read by anyone (a CDN or a public bucket): `<this>/<object key>`. When
    /// set, exports send a product's stored images (originals, in their order) rather than the catalog's image
    /// URLs, so shops and feeds get copies that last; not set (the default), the catalog's URLs.
    #[serde(default)]
    pub public_base_url: Option<String>,
}

/// What connectors may reach: one policy for images, FTP, IMAP, platforms and Amazon ([`crate::net`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Whether hosts named by users and supplier files may be on loopback, private or link-local addresses (false:
    /// a source, platform or image URL must not make the server reach into its own network). Turn it on for
    /// suppliers or shops on the deployment's own network.
    #[serde(default)]
    pub allow_private: bool,
}

fn default_decode_memory_mib() -> u64 {
    // A 50-megapixel 16-bit RGBA image (the pixel limit) takes ~600 MB decoded with its working copy.
    1024
}

/// Supplier imports: where folder sources may look.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportsConfig {
    /// Folders under which folder import sources may watch, and move files to (absolute; symbolic links are
    /// resolved before the check). Empty, the default: folder sources are off, since a source reads and moves
    /// every file of its folder with the server's rights. Never the data folder, the object store or a SQLite
    /// database's folder, whatever is listed here.
    #[serde(default)]
    pub folder_roots: Vec<PathBuf>,
}

/// Amazon lookups: how long an answer is reused, how calls wait and retry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code2AsinConfig {
    /// Seconds an answer (found or not) is reused without a call (24 hours).
    pub cache_ttl_secs: u64,
    /// Seconds one call to Amazon may take (30).
    pub request_timeout_secs: u64,
    /// Retries of a call that was throttled or failed transiently (8); then the job is retried later from its
    /// checkpoint.
    pub max_retries: u32,
    /// First retry delay in milliseconds (1000), doubled each time up to `retry_max_ms` (30000).
    pub retry_base_ms: u64,
    pub retry_max_ms: u64,
    /// Share of the documented rate we call at (0.97): a margin so that network jitter never makes two calls
    /// arrive closer than Amazon's bucket allows.
    pub rate_margin: f64,
}

/// Encoding of thumbnails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ThumbnailFormat {
    Jpeg,
    Webp,
}

/// Sign-in, tokens and the first admin.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Key signing access tokens (HMAC-SHA256), at least 32 characters. Unset: one is generated into
    /// `{data_dir}/jwt-secret` on first start. The servers of one deployment must share it.
    pub jwt_secret: Option<String>,
    /// Seconds an access token is valid (15 minutes).
    pub access_token_ttl_secs: u64,
    /// Seconds a refresh token is valid (30 days); each use replaces it.
    pub refresh_token_ttl_secs: u64,
    /// Shortest password accepted, in characters (12).
    pub password_min_length: u64,
    /// Failed sign-ins in a row, per account and per client address, before sign-in is refused for a while (5).
    pub lockout_threshold: u64,
    /// Seconds of the first lockout; each further failure doubles it, up to an hour (60).
    pub lockout_secs: u64,
    /// E-mail of the admin created when no user exists (`admin@localhost`).
    pub admin_email: String,
    /// That admin's password; unset, `serve` generates one and prints it once.
    pub admin_password: Option<String>,
    /// Seconds an authenticated caller is remembered, sparing the database lookups of each request (5); changes
    /// made through another process (a sign-out, a revoked key or role) take up to this long to apply here. 0: no
    /// cache.
    pub caller_cache_secs: u64,
    /// Master key sealing stored credentials (AES-256-GCM), at least 32 characters. Unset: one is generated into
    /// `{data_dir}/master-key` on first start. Lose it and the stored credentials are lost.
    pub master_key: Option<String>,
}

/// Where one database lives, resolved from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    /// A SQLite file (created if missing).
    SqliteFile(PathBuf),
    /// A connection URL (`postgres://…` or `sqlite:…`).
    Url(String),
}

impl DatabaseLocation {
    /// The backend this location uses.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseLocation::SqliteFile(_) => Backend::Sqlite,
            DatabaseLocation::Url(url) if url.starts_with("sqlite:") => Backend::Sqlite,
            DatabaseLocation::Url(_) => Backend::Postgres,
        }
    }
}

/// A configuration that cannot be used. Every variant names the setting, file or variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    ReadFile { path: PathBuf, source: std::io::Error },
    #[error("configuration file {path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("environment variable {var}: {reason}")]
    Env { var: String, reason: String },
    #[error("setting `{key}`{origin}: {reason}")]
    Setting { key: String, origin: OriginNote, reason: String },
}

/// " (from PM_X)" after a setting's name when it did not come from the defaults.
#[derive(Debug, Clone, Default)]
pub struct OriginNote(Option<String>);

impl fmt::Display for OriginNote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(origin) => write!(f, " (from {origin})"),
            None => Ok(()),
        }
    }
}

impl Database {
    /// Connections kept for this database by default (the seed's pool sizes).
    pub fn default_pool_size(self) -> u32 {
        match self {
            Database::Core => 5,
            Database::Catalog => 20,
            Database::Imports => 15,
            Database::Exports | Database::Media | Database::Code2Asin | Database::Analytics => 10,
        }
    }
}

impl PoolSettings {
    fn seed_default(db: Database) -> Self {
        PoolSettings {
            url: None,
            pool_size: db.default_pool_size(),
            overflow: 10,
            min_idle: 0,
            acquire_timeout_secs: 30,
            max_lifetime_secs: 3600,
            idle_timeout_secs: 600,
            test_before_acquire: true,
        }
    }

    /// Largest number of open connections: `pool_size + overflow`.
    pub fn max_connections(&self) -> u32 {
        self.pool_size.saturating_add(self.overflow)
    }
}

impl DatabaseConfig {
    /// Settings of one database.
    pub fn settings(&self, db: Database) -> &PoolSettings {
        match db {
            Database::Core => &self.core,
            Database::Catalog => &self.catalog,
            Database::Imports => &self.imports,
            Database::Exports => &self.exports,
            Database::Media => &self.media,
            Database::Code2Asin => &self.code2asin,
            Database::Analytics => &self.analytics,
        }
    }

    /// The most connections `db`'s pool opens: its `pool_size + overflow`, scaled down in proportion when the
    /// pools of this process on the same PostgreSQL server would together open more than `max_connections`
    /// (`server_of`: the PostgreSQL server of a database, `None` for SQLite).
    pub fn pool_ceiling(&self, db: Database, server_of: impl Fn(Database) -> Option<String>) -> u32 {
        let own = self.settings(db).max_connections();
        let Some(server) = server_of(db) else { return own };
        let total: u64 = Database::ALL
            .iter()
            .filter(|other| server_of(**other).as_deref() == Some(server.as_str()))
            .map(|other| u64::from(self.settings(*other).max_connections()))
            .sum();
        let ceiling = u64::from(self.max_connections);
        if total <= ceiling {
            return own;
        }
        u32::try_from(u64::from(own) * ceiling / total).unwrap_or(own).max(1)
    }

    /// Mutable settings of one database (for programmatic configuration by an embedding service).
    pub fn settings_mut(&mut self, db: Database) -> &mut PoolSettings {
        match db {
            Database::Core => &mut self.core,
            Database::Catalog => &mut self.catalog,
            Database::Imports => &mut self.imports,
            Database::Exports => &mut self.exports,
            Database::Media => &mut self.media,
            Database::Code2Asin => &mut self.code2asin,
            Database::Analytics => &mut self.analytics,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            http: HttpConfig {
                addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
                public_metrics: true,
                max_body_bytes: 8 << 20,
                max_upload_bytes: 1 << 30,
                request_timeout_secs: 30,
                upload_timeout_secs: 3600,
                cors_origins: String::new(),
                insecure_cookies: false,
                rate_limit_per_second: 20,
                rate_limit_burst: 100,
            },
            database: DatabaseConfig {
                url: None,
                prefix: "pm_".to_string(),
                migrate_on_start: true,
                connect_timeout_secs: 5,
                sqlite_busy_timeout_ms: 5_000,
                sqlite_cache_mib: 2,
                max_connections: 30,
                core: PoolSettings::seed_default(Database::Core),
                catalog: PoolSettings::seed_default(Database::Catalog),
                imports: PoolSettings::seed_default(Database::Imports),
                exports: PoolSettings::seed_default(Database::Exports),
                media: PoolSettings::seed_default(Database::Media),
                code2asin: PoolSettings::seed_default(Database::Code2Asin),
                analytics: PoolSettings::seed_default(Database::Analytics),
            },
            cache: CacheConfig { redis_url: None, l1_capacity: 100_000, l1_ttl_secs: 60, degraded_l1_ttl_secs: 2 },
            storage: StorageConfig {
                backend: StorageBackend::Local,
                local_dir: None,
                s3_endpoint: None,
                s3_bucket: None,
                s3_region: "us-east-1".to_string(),
                s3_access_key_id: None,
                s3_secret_access_key: None,
                s3_path_style: true,
            },
            log: LogConfig { filter: "info".to_string(), format: LogFormat::Text },
            auth: AuthConfig {
                jwt_secret: None,
                access_token_ttl_secs: 900,
                refresh_token_ttl_secs: 30 * 24 * 3600,
                password_min_length: 12,
                lockout_threshold: 5,
                lockout_secs: 60,
                admin_email: "admin@localhost".to_string(),
                admin_password: None,
                caller_cache_secs: 5,
                master_key: None,
            },
            media: MediaConfig {
                max_upload_bytes: 50 << 20,
                max_pixels: 50_000_000,
                decode_memory_mib: default_decode_memory_mib(),
                thumbnail_format: ThumbnailFormat::Jpeg,
                jpeg_quality: 85,
                qr_url_pattern: "https://id.gs1.org/01/{gtin14}".to_string(),
                presigned_url_secs: 3600,
                download_timeout_secs: 30,
                allow_private_downloads: false,
                public_base_url: None,
            },
            code2asin: Code2AsinConfig {
                cache_ttl_secs: 86_400,
                request_timeout_secs: 30,
                max_retries: 8,
                retry_base_ms: 1000,
                retry_max_ms: 30_000,
                rate_margin: 0.97,
            },
            imports: ImportsConfig::default(),
            network: NetworkConfig::default(),
            origins: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Defaults with another data folder: what an embedding service or a test usually wants.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Self {
        Config { data_dir: data_dir.into(), ..Config::default() }
    }

    /// Loads the configuration of a process: defaults, then the TOML file (`file`, else `PM_CONFIG`), then the
    /// process's `PM_*` variables; validated.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .filter(|(k, _)| k.starts_with("PM_"))
            .collect();
        Self::from_sources(file, env)
    }

    /// Like [`Config::load`] with explicit variables instead of the process environment.
    pub fn from_sources(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let env: BTreeMap<String, String> = env.into_iter().collect();
        let mut merged = toml::Value::try_from(Config::default()).map_err(|e| ConfigError::Setting {
            key: "(defaults)".to_string(),
            origin: OriginNote::default(),
            reason: e.to_string(),
        })?;
        let mut origins = BTreeMap::new();

        let file = file.map(Path::to_path_buf).or_else(|| env.get(CONFIG_FILE_VAR).map(PathBuf::from));
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path)
                .map_err(|source| ConfigError::ReadFile { path: path.clone(), source })?;
            let table: toml::Table = toml::from_str(&text)
                .map_err(|e| ConfigError::Syntax { path: path.clone(), message: e.to_string() })?;
            let label = path.display().to_string();
            record_origins(&toml::Value::Table(table.clone()), "", &label, &mut origins);
            merge(&mut merged, toml::Value::Table(table));
        }

        let known = env_vars();
        for (name, raw) in &env {
            if name == CONFIG_FILE_VAR || name.starts_with(TEST_VAR_PREFIX) || !name.starts_with("PM_") {
                continue;
            }
            let Some(var) = known.iter().find(|v| &v.name == name) else {
                return Err(ConfigError::Env {
                    var: name.clone(),
                    reason: "unknown variable (see the configuration table in README.md)".to_string(),
                });
            };
            let value = parse_env_value(var, raw)?;
            set_path(&mut merged, &var.key, value);
            origins.insert(var.key.clone(), var.name.clone());
        }

        let mut config: Config = serde_path_to_error::deserialize(merged).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Setting {
                origin: OriginNote(origins.get(&key).cloned()),
                key,
                reason: e.into_inner().to_string(),
            }
        })?;
        config.origins = origins;
        config.validate()?;
        Ok(config)
    }

    fn invalid(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Setting {
            key: key.to_string(),
            origin: OriginNote(self.origins.get(key).cloned()),
            reason: reason.into(),
        }
    }

    /// Checks every value that deserialisation alone cannot: URLs, sizes, names. File-system checks (is the data
    /// folder writable?) happen when the SDK starts, since they depend on the moment.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let prefix = &self.database.prefix;
        let prefix_ok = prefix.len() <= 40
            && prefix.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && prefix.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !prefix_ok {
            return Err(self.invalid(
                "database.prefix",
                format!("`{prefix}` must start with a lowercase letter and hold only a-z, 0-9 and _ (at most 40)"),
            ));
        }
        if self.database.connect_timeout_secs == 0 {
            return Err(self.invalid("database.connect_timeout_secs", "must be at least 1"));
        }
        let pools = u32::try_from(Database::ALL.len()).unwrap_or(7);
        if self.database.max_connections < pools {
            return Err(
                self.invalid("database.max_connections", format!("must be at least {pools} (one per database)"))
            );
        }
        if let Some(url) = &self.database.url {
            check_database_url(url).map_err(|reason| self.invalid("database.url", reason))?;
        }
        for db in Database::ALL {
            let settings = self.database.settings(db);
            let key = |field: &str| format!("database.{}.{field}", db.name());
            if settings.pool_size == 0 {
                return Err(self.invalid(&key("pool_size"), "must be at least 1"));
            }
            if settings.min_idle > settings.max_connections() {
                return Err(self.invalid(&key("min_idle"), "must not exceed pool_size + overflow"));
            }
            if settings.acquire_timeout_secs == 0 {
                return Err(self.invalid(&key("acquire_timeout_secs"), "must be at least 1"));
            }
            if settings.max_lifetime_secs == 0 {
                return Err(self.invalid(&key("max_lifetime_secs"), "must be at least 1"));
            }
            if let Some(url) = &settings.url {
                check_database_url(url).map_err(|reason| self.invalid(&key("url"), reason))?;
            }
        }
        if let Some(url) = &self.cache.redis_url {
            let parsed =
                url::Url::parse(url).map_err(|e| self.invalid("cache.redis_url", format!("malformed URL: {e}")))?;
            if !matches!(parsed.scheme(), "redis" | "rediss" | "unix" | "redis+unix") {
                return Err(self.invalid("cache.redis_url", "scheme must be redis://, rediss:// or unix://"));
            }
        }
        if self.cache.l1_capacity == 0 {
            return Err(self.invalid("cache.l1_capacity", "must be at least 1"));
        }
        if !(1..=60).contains(&self.cache.l1_ttl_secs) {
            return Err(self.invalid("cache.l1_ttl_secs", "must be between 1 and 60"));
        }
        if !(1..=self.cache.l1_ttl_secs).contains(&self.cache.degraded_l1_ttl_secs) {
            return Err(self.invalid("cache.degraded_l1_ttl_secs", "must be between 1 and cache.l1_ttl_secs"));
        }
        if self.storage.backend == StorageBackend::S3 && self.storage.s3_bucket.as_deref().unwrap_or("").is_empty() {
            return Err(self.invalid("storage.s3_bucket", "required when storage.backend is \"s3\""));
        }
        if let Some(endpoint) = &self.storage.s3_endpoint {
            url::Url::parse(endpoint)
                .map_err(|e| self.invalid("storage.s3_endpoint", format!("malformed URL: {e}")))?;
        }
        if self.log.filter.trim().is_empty() {
            return Err(self.invalid("log.filter", "must not be empty"));
        }
        self.validate_http()?;
        self.validate_auth()?;
        if let Some(relative) = self.imports.folder_roots.iter().find(|root| !root.is_absolute()) {
            return Err(
                self.invalid("imports.folder_roots", format!("`{}` must be an absolute path", relative.display()))
            );
        }
        self.validate_media()?;
        self.validate_code2asin()
    }

    fn validate_code2asin(&self) -> Result<(), ConfigError> {
        let c = &self.code2asin;
        for (key, value) in [
            ("code2asin.request_timeout_secs", c.request_timeout_secs),
            ("code2asin.retry_base_ms", c.retry_base_ms),
            ("code2asin.retry_max_ms", c.retry_max_ms),
        ] {
            if value == 0 {
                return Err(self.invalid(key, "must be at least 1"));
            }
        }
        if !(c.rate_margin > 0.0 && c.rate_margin <= 1.0) {
            return Err(self.invalid("code2asin.rate_margin", "must be above 0 and at most 1"));
        }
        Ok(())
    }

    fn validate_media(&self) -> Result<(), ConfigError> {
        let media = &self.media;
        for (key, value) in [
            ("media.max_upload_bytes", media.max_upload_bytes),
            ("media.max_pixels", media.max_pixels),
            ("media.decode_memory_mib", media.decode_memory_mib),
            ("media.presigned_url_secs", media.presigned_url_secs),
            ("media.download_timeout_secs", media.download_timeout_secs),
        ] {
            if value == 0 {
                return Err(self.invalid(key, "must be at least 1"));
            }
        }
        if !(1..=100).contains(&media.jpeg_quality) {
            return Err(self.invalid("media.jpeg_quality", "must be between 1 and 100"));
        }
        if let Some(base) = &media.public_base_url
            && !url::Url::parse(base).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        {
            return Err(self.invalid("media.public_base_url", "must be an http(s) URL, e.g. https://cdn.example.com/"));
        }
        if !["{gtin14}", "{gtin}", "{sku}", "{id}"].iter().any(|p| media.qr_url_pattern.contains(p)) {
            return Err(self.invalid(
                "media.qr_url_pattern",
                "must hold {gtin14}, {gtin}, {sku} or {id}, else every product's code would say the same",
            ));
        }
        Ok(())
    }

    fn validate_http(&self) -> Result<(), ConfigError> {
        let http = &self.http;
        for (key, value) in [
            ("http.max_body_bytes", http.max_body_bytes),
            ("http.max_upload_bytes", http.max_upload_bytes),
            ("http.request_timeout_secs", http.request_timeout_secs),
            ("http.upload_timeout_secs", http.upload_timeout_secs),
        ] {
            if value == 0 {
                return Err(self.invalid(key, "must be at least 1"));
            }
        }
        if http.rate_limit_per_second > 0 && http.rate_limit_burst == 0 {
            return Err(self.invalid("http.rate_limit_burst", "must be at least 1 when rate limiting is on"));
        }
        for origin in http.cors_origins.split(',').map(str::trim).filter(|o| !o.is_empty() && *o != "*") {
            let well_formed = (origin.starts_with("https://") || origin.starts_with("http://"))
                && !origin.trim_end_matches('/').contains(|c: char| c.is_whitespace())
                && origin.matches('/').count() == 2;
            if !well_formed {
                return Err(self.invalid(
                    "http.cors_origins",
                    format!("`{origin}` is not an origin (scheme://host[:port], no path), nor `*`"),
                ));
            }
        }
        Ok(())
    }

    fn validate_auth(&self) -> Result<(), ConfigError> {
        let auth = &self.auth;
        if auth.jwt_secret.as_ref().is_some_and(|secret| secret.chars().count() < 32) {
            return Err(self.invalid("auth.jwt_secret", "must be at least 32 characters"));
        }
        if auth.master_key.as_ref().is_some_and(|secret| secret.chars().count() < 32) {
            return Err(self.invalid("auth.master_key", "must be at least 32 characters"));
        }
        if !(60..=86_400).contains(&auth.access_token_ttl_secs) {
            return Err(self.invalid("auth.access_token_ttl_secs", "must be between 60 and 86400"));
        }
        if auth.refresh_token_ttl_secs < auth.access_token_ttl_secs {
            return Err(self.invalid("auth.refresh_token_ttl_secs", "must be at least auth.access_token_ttl_secs"));
        }
        if !(8..=128).contains(&auth.password_min_length) {
            return Err(self.invalid("auth.password_min_length", "must be between 8 and 128"));
        }
        if auth.caller_cache_secs > 300 {
            return Err(self.invalid("auth.caller_cache_secs", "must be at most 300"));
        }
        if auth.lockout_threshold == 0 {
            return Err(self.invalid("auth.lockout_threshold", "must be at least 1"));
        }
        if !(1..=3600).contains(&auth.lockout_secs) {
            return Err(self.invalid("auth.lockout_secs", "must be between 1 and 3600"));
        }
        if !auth.admin_email.contains('@') {
            return Err(self.invalid("auth.admin_email", "must be an e-mail address"));
        }
        if let Some(password) = &auth.admin_password
            && (password.chars().count() as u64) < auth.password_min_length
        {
            return Err(self.invalid(
                "auth.admin_password",
                format!("must be at least auth.password_min_length ({}) characters", auth.password_min_length),
            ));
        }
        Ok(())
    }

    /// The dotted name of a setting together with where its value came from, e.g.
    /// `database.catalog.url (from PM_DB_CATALOG_URL)`; used by errors raised after loading.
    pub fn describe_setting(&self, key: &str) -> String {
        format!("{key}{}", OriginNote(self.origins.get(key).cloned()))
    }

    /// Error naming a setting, for checks done at start-up (e.g. an unwritable data folder).
    pub fn setting_error(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        self.invalid(key, reason)
    }

    /// The PostgreSQL server (`host:port`) of a database; `None` for SQLite.
    pub fn postgres_server(&self, db: Database) -> Option<String> {
        let DatabaseLocation::Url(url) = self.database_location(db) else { return None };
        let parsed = url::Url::parse(&url).ok().filter(|u| u.scheme().starts_with("postgres"))?;
        Some(format!("{}:{}", parsed.host_str().unwrap_or("localhost"), parsed.port().unwrap_or(5432)))
    }

    /// Where a database lives: per-database URL, else the base URL, else a SQLite file in `data_dir`.
    pub fn database_location(&self, db: Database) -> DatabaseLocation {
        let file_name = format!("{}{}.db", self.database.prefix, db.name());
        if let Some(url) = &self.database.settings(db).url {
            return DatabaseLocation::Url(url.clone());
        }
        match &self.database.url {
            None => DatabaseLocation::SqliteFile(self.data_dir.join(file_name)),
            Some(base) => match sqlite_folder(base) {
                Some(folder) => DatabaseLocation::SqliteFile(folder.join(file_name)),
                None => {
                    DatabaseLocation::Url(postgres_url_for(base, &format!("{}{}", self.database.prefix, db.name())))
                }
            },
        }
    }

    /// Folder of the local object store.
    pub fn storage_dir(&self) -> PathBuf {
        self.storage.local_dir.clone().unwrap_or_else(|| self.data_dir.join("objects"))
    }

    /// The folders the product keeps its own files in: the data folder, the local object store and the folder of
    /// every SQLite database. A folder import source may never look into, or move files to, any of them.
    pub fn own_folders(&self) -> Vec<PathBuf> {
        let mut folders = vec![self.data_dir.clone(), self.storage_dir()];
        for db in Database::ALL {
            if let DatabaseLocation::SqliteFile(file) = self.database_location(db)
                && let Some(folder) = file.parent()
            {
                folders.push(folder.to_path_buf());
            }
        }
        folders.sort();
        folders.dedup();
        folders
    }

    /// A copy safe to print: passwords in URLs and secret keys replaced by `***`.
    pub fn redacted(&self) -> Config {
        let mut copy = self.clone();
        copy.database.url = copy.database.url.as_deref().map(redact_url);
        for db in Database::ALL {
            let settings = copy.database.settings_mut(db);
            settings.url = settings.url.as_deref().map(redact_url);
        }
        copy.cache.redis_url = copy.cache.redis_url.as_deref().map(redact_url);
        for secret in [
            &mut copy.storage.s3_secret_access_key,
            &mut copy.auth.jwt_secret,
            &mut copy.auth.admin_password,
            &mut copy.auth.master_key,
        ] {
            if secret.is_some() {
                *secret = Some("***".to_string());
            }
        }
        copy
    }

    /// The configuration as TOML text (redact first when printing).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render configuration: {e}\n"))
    }
}

/// `sqlite://folder` or `sqlite:folder` as a base URL means "seven files in this folder".
fn sqlite_folder(base: &str) -> Option<PathBuf> {
    let rest = base.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    Some(PathBuf::from(rest))
}

/// The base URL with its path replaced by the database name; query parameters (sslmode…) are kept.
fn postgres_url_for(base: &str, database: &str) -> String {
    match url::Url::parse(base) {
        Ok(mut url) => {
            url.set_path(&format!("/{database}"));
            url.to_string()
        }
        // Validation has rejected malformed URLs already; keep the input so the connect error names it.
        Err(_) => base.to_string(),
    }
}

fn check_database_url(url: &str) -> Result<(), String> {
    if url.starts_with("sqlite:") {
        return Ok(());
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("malformed URL `{}`: {e}", redact_url(url)))?;
    match parsed.scheme() {
        "postgres" | "postgresql" => {
            if parsed.host_str().unwrap_or("").is_empty() {
                return Err(format!("URL `{}` has no host", redact_url(url)));
            }
            Ok(())
        }
        other => Err(format!("unsupported scheme `{other}` (use postgres:// or sqlite:)")),
    }
}

/// Replaces the password of a URL by `***`; strings that are not URLs are returned as they are.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // set_password only fails for URLs that cannot have one, which we excluded above.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests;
