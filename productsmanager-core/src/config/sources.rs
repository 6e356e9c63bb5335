//! Where settings come from besides the defaults: the `PM_*` variables (each typed, so a bad value names its
//! variable) and the merging of TOML layers, recording which layer set each setting.

use std::collections::BTreeMap;

use super::ConfigError;
use crate::db::Database;

/// Type of an environment variable's value, so `PM_X=abc` for a number fails naming `PM_X`.
#[derive(Debug, Clone, Copy)]
pub(super) enum VarType {
    Text,
    Integer,
    Float,
    Boolean,
    /// A list of paths separated like `PATH` (`:` on Unix).
    Paths,
}

/// One `PM_*` variable and the setting it overrides.
#[derive(Debug, Clone)]
pub struct EnvVar {
    /// Variable name, e.g. `PM_DB_CATALOG_URL`.
    pub name: String,
    /// Dotted setting it overrides, e.g. `database.catalog.url`.
    pub key: String,
    pub(super) var_type: VarType,
}

/// Every `PM_*` variable that overrides a setting (`PM_CONFIG` names the file and is not listed).
pub fn env_vars() -> Vec<EnvVar> {
    use VarType::{Boolean, Float, Integer, Paths, Text};
    let fixed: [(&str, &str, VarType); 60] = [
        ("PM_DATA_DIR", "data_dir", Text),
        ("PM_HTTP_ADDR", "http.addr", Text),
        ("PM_HTTP_PUBLIC_METRICS", "http.public_metrics", Boolean),
        ("PM_HTTP_MAX_BODY_BYTES", "http.max_body_bytes", Integer),
        ("PM_HTTP_MAX_UPLOAD_BYTES", "http.max_upload_bytes", Integer),
        ("PM_HTTP_REQUEST_TIMEOUT_SECS", "http.request_timeout_secs", Integer),
        ("PM_HTTP_UPLOAD_TIMEOUT_SECS", "http.upload_timeout_secs", Integer),
        ("PM_HTTP_CORS_ORIGINS", "http.cors_origins", Text),
        ("PM_HTTP_INSECURE_COOKIES", "http.insecure_cookies", Boolean),
        ("PM_RATE_LIMIT_PER_SECOND", "http.rate_limit_per_second", Integer),
        ("PM_RATE_LIMIT_BURST", "http.rate_limit_burst", Integer),
        ("PM_DATABASE_URL", "database.url", Text),
        ("PM_DATABASE_PREFIX", "database.prefix", Text),
        ("PM_MIGRATE_ON_START", "database.migrate_on_start", Boolean),
        ("PM_DB_CONNECT_TIMEOUT_SECS", "database.connect_timeout_secs", Integer),
        ("PM_SQLITE_BUSY_TIMEOUT_MS", "database.sqlite_busy_timeout_ms", Integer),
        ("PM_SQLITE_CACHE_MIB", "database.sqlite_cache_mib", Integer),
        ("PM_DATABASE_MAX_CONNECTIONS", "database.max_connections", Integer),
        ("PM_REDIS_URL", "cache.redis_url", Text),
        ("PM_CACHE_L1_CAPACITY", "cache.l1_capacity", Integer),
        ("PM_CACHE_L1_TTL_SECS", "cache.l1_ttl_secs", Integer),
        ("PM_CACHE_DEGRADED_TTL_SECS", "cache.degraded_l1_ttl_secs", Integer),
        ("PM_STORAGE_BACKEND", "storage.backend", Text),
        ("PM_STORAGE_LOCAL_DIR", "storage.local_dir", Text),
        ("PM_S3_ENDPOINT", "storage.s3_endpoint", Text),
        ("PM_S3_BUCKET", "storage.s3_bucket", Text),
        ("PM_S3_REGION", "storage.s3_region", Text),
        ("PM_S3_ACCESS_KEY_ID", "storage.s3_access_key_id", Text),
        ("PM_S3_SECRET_ACCESS_KEY", "storage.s3_secret_access_key", Text),
        ("PM_S3_PATH_STYLE", "storage.s3_path_style", Boolean),
        ("PM_LOG", "log.filter", Text),
        ("PM_LOG_FORMAT", "log.format", Text),
        ("PM_JWT_SECRET", "auth.jwt_secret", Text),
        ("PM_ACCESS_TOKEN_TTL_SECS", "auth.access_token_ttl_secs", Integer),
        ("PM_REFRESH_TOKEN_TTL_SECS", "auth.refresh_token_ttl_secs", Integer),
        ("PM_PASSWORD_MIN_LENGTH", "auth.password_min_length", Integer),
        ("PM_LOCKOUT_THRESHOLD", "auth.lockout_threshold", Integer),
        ("PM_LOCKOUT_SECS", "auth.lockout_secs", Integer),
        ("PM_ADMIN_EMAIL", "auth.admin_email", Text),
        ("PM_ADMIN_PASSWORD", "auth.admin_password", Text),
        ("PM_MASTER_KEY", "auth.master_key", Text),
        ("PM_CALLER_CACHE_SECS", "auth.caller_cache_secs", Integer),
        ("PM_MEDIA_MAX_UPLOAD_BYTES", "media.max_upload_bytes", Integer),
        ("PM_MEDIA_MAX_PIXELS", "media.max_pixels", Integer),
        ("PM_MEDIA_DECODE_MEMORY_MIB", "media.decode_memory_mib", Integer),
        ("PM_MEDIA_THUMBNAIL_FORMAT", "media.thumbnail_format", Text),
        ("PM_MEDIA_JPEG_QUALITY", "media.jpeg_quality", Integer),
        ("PM_MEDIA_QR_URL_PATTERN", "media.qr_url_pattern", Text),
        ("PM_MEDIA_PRESIGNED_URL_SECS", "media.presigned_url_secs", Integer),
        ("PM_MEDIA_DOWNLOAD_TIMEOUT_SECS", "media.download_timeout_secs", Integer),
        ("PM_MEDIA_ALLOW_PRIVATE_DOWNLOADS", "media.allow_private_downloads", Boolean),
        ("PM_MEDIA_PUBLIC_BASE_URL", "media.public_base_url", Text),
        ("PM_CODE2ASIN_CACHE_TTL_SECS", "code2asin.cache_ttl_secs", Integer),
        ("PM_CODE2ASIN_REQUEST_TIMEOUT_SECS", "code2asin.request_timeout_secs", Integer),
        ("PM_CODE2ASIN_MAX_RETRIES", "code2asin.max_retries", Integer),
        ("PM_CODE2ASIN_RETRY_BASE_MS", "code2asin.retry_base_ms", Integer),
        ("PM_CODE2ASIN_RETRY_MAX_MS", "code2asin.retry_max_ms", Integer),
        ("PM_CODE2ASIN_RATE_MARGIN", "code2asin.rate_margin", Float),
        ("PM_IMPORTS_FOLDER_ROOTS", "imports.folder_roots", Paths),
        ("PM_ALLOW_PRIVATE_NETWORK", "network.allow_private", Boolean),
    ];
    let per_database: [(&str, &str, VarType); 8] = [
        ("URL", "url", Text),
        ("POOL_SIZE", "pool_size", Integer),
        ("OVERFLOW", "overflow", Integer),
        ("MIN_IDLE", "min_idle", Integer),
        ("ACQUIRE_TIMEOUT_SECS", "acquire_timeout_secs", Integer),
        ("MAX_LIFETIME_SECS", "max_lifetime_secs", Integer),
        ("IDLE_TIMEOUT_SECS", "idle_timeout_secs", Integer),
        ("TEST_BEFORE_ACQUIRE", "test_before_acquire", Boolean),
    ];
    let mut vars: Vec<EnvVar> = fixed
        .iter()
        .map(|(name, key, var_type)| EnvVar { name: (*name).to_string(), key: (*key).to_string(), var_type: *var_type })
        .collect();
    for db in Database::ALL {
        for (suffix, field, var_type) in per_database {
            vars.push(EnvVar {
                name: format!("PM_DB_{}_{suffix}", db.name().to_uppercase()),
                key: format!("database.{}.{field}", db.name()),
                var_type,
            });
        }
    }
    vars
}

pub(super) fn parse_env_value(var: &EnvVar, raw: &str) -> Result<toml::Value, ConfigError> {
    let fail = |reason: &str| ConfigError::Env {
        var: var.name.clone(),
        reason: format!("{reason}, got `{raw}` (sets `{}`)", var.key),
    };
    match var.var_type {
        VarType::Text => Ok(toml::Value::String(raw.to_string())),
        VarType::Integer => raw
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(toml::Value::Integer)
            .ok_or_else(|| fail("expected a whole number >= 0")),
        VarType::Float => raw
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(toml::Value::Float)
            .ok_or_else(|| fail("expected a number")),
        VarType::Paths => Ok(toml::Value::Array(
            std::env::split_paths(raw)
                .filter(|path| !path.as_os_str().is_empty())
                .map(|path| toml::Value::String(path.to_string_lossy().into_owned()))
                .collect(),
        )),
        VarType::Boolean => match raw.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(toml::Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(toml::Value::Boolean(false)),
            _ => Err(fail("expected true or false")),
        },
    }
}

/// Deep merge: tables merge key by key, anything else is replaced.
pub(super) fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(base), toml::Value::Table(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(existing) => merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

pub(super) fn set_path(root: &mut toml::Value, dotted: &str, value: toml::Value) {
    let mut node = root;
    let mut parts = dotted.split('.').peekable();
    while let Some(part) = parts.next() {
        let toml::Value::Table(table) = node else { return };
        if parts.peek().is_none() {
            table.insert(part.to_string(), value);
            return;
        }
        node = table.entry(part.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
}

pub(super) fn record_origins(value: &toml::Value, prefix: &str, label: &str, origins: &mut BTreeMap<String, String>) {
    if let toml::Value::Table(table) = value {
        for (key, child) in table {
            let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
            record_origins(child, &path, label, origins);
        }
    } else {
        origins.insert(prefix.to_string(), label.to_string());
    }
}
