//! Tests of the configuration: layering, validation, the variables and their documentation.

use super::sources::VarType;
use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn error_text(result: Result<Config, ConfigError>) -> String {
    match result {
        Ok(_) => panic!("configuration was accepted"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_are_embedded_sqlite() {
    let config = Config::from_sources(None, env(&[])).unwrap();
    assert_eq!(config.http.addr.to_string(), "127.0.0.1:8080");
    assert_eq!(config.data_dir, PathBuf::from("./data"));
    assert_eq!(
        config.database_location(Database::Catalog),
        DatabaseLocation::SqliteFile(PathBuf::from("./data/pm_catalog.db"))
    );
    let sizes: Vec<u32> = Database::ALL.iter().map(|db| config.database.settings(*db).pool_size).collect();
    assert_eq!(sizes, vec![5, 20, 15, 10, 10, 10, 10]);
    let core = config.database.settings(Database::Core);
    assert_eq!((core.overflow, core.acquire_timeout_secs, core.max_lifetime_secs), (10, 30, 3600));
    assert!(core.test_before_acquire);
    assert_eq!(config.storage.backend, StorageBackend::Local);
    assert!(config.cache.redis_url.is_none());
}

#[test]
fn one_postgres_url_names_seven_databases_and_overrides_move_one() {
    let config = Config::from_sources(
        None,
        env(&[
            ("PM_DATABASE_URL", "postgres://pm:secret@db1:5432/ignored?sslmode=require"),
            ("PM_DB_CATALOG_URL", "postgres://db2/catalog_here"),
        ]),
    )
    .unwrap();
    assert_eq!(
        config.database_location(Database::Core),
        DatabaseLocation::Url("postgres://pm:secret@db1:5432/pm_core?sslmode=require".to_string())
    );
    assert_eq!(
        config.database_location(Database::Code2Asin),
        DatabaseLocation::Url("postgres://pm:secret@db1:5432/pm_code2asin?sslmode=require".to_string())
    );
    assert_eq!(
        config.database_location(Database::Catalog),
        DatabaseLocation::Url("postgres://db2/catalog_here".to_string())
    );
    assert_eq!(config.database_location(Database::Core).backend(), Backend::Postgres);
}

#[test]
fn sqlite_base_url_is_a_folder() {
    let config = Config::from_sources(None, env(&[("PM_DATABASE_URL", "sqlite:///srv/pm")])).unwrap();
    assert_eq!(
        config.database_location(Database::Media),
        DatabaseLocation::SqliteFile(PathBuf::from("/srv/pm/pm_media.db"))
    );
}

#[test]
fn file_then_environment_override_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pm.toml");
    std::fs::write(
        &path,
        "data_dir = \"/var/lib/pm\"\n[http]\naddr = \"0.0.0.0:9000\"\n[database.catalog]\npool_size = 50\n",
    )
    .unwrap();
    let config =
        Config::from_sources(Some(&path), env(&[("PM_HTTP_ADDR", "127.0.0.1:7000"), ("PM_LOG_FORMAT", "json")]))
            .unwrap();
    assert_eq!(config.data_dir, PathBuf::from("/var/lib/pm"));
    assert_eq!(config.http.addr.to_string(), "127.0.0.1:7000");
    assert_eq!(config.database.catalog.pool_size, 50);
    // Other catalog settings keep their defaults when the file sets one of them.
    assert_eq!(config.database.catalog.overflow, 10);
    assert_eq!(config.log.format, LogFormat::Json);
}

#[test]
fn pm_config_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pm.toml");
    std::fs::write(&path, "[log]\nfilter = \"debug\"\n").unwrap();
    let config = Config::from_sources(None, env(&[("PM_CONFIG", path.to_str().unwrap())])).unwrap();
    assert_eq!(config.log.filter, "debug");
}

#[test]
fn unknown_key_in_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pm.toml");
    std::fs::write(&path, "[database.catalog]\npool_sise = 3\n").unwrap();
    let text = error_text(Config::from_sources(Some(&path), env(&[])));
    assert!(text.contains("database.catalog"), "{text}");
    assert!(text.contains("pool_sise"), "{text}");
}

#[test]
fn toml_syntax_error_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.toml");
    std::fs::write(&path, "[http]\naddr = \n").unwrap();
    let text = error_text(Config::from_sources(Some(&path), env(&[])));
    assert!(text.contains("broken.toml"), "{text}");
    assert!(text.contains("line 2"), "{text}");
}

#[test]
fn unknown_environment_variable_is_named() {
    let text = error_text(Config::from_sources(None, env(&[("PM_DATABSE_URL", "postgres://x/y")])));
    assert!(text.contains("PM_DATABSE_URL"), "{text}");
    // Test-suite variables are not configuration.
    Config::from_sources(None, env(&[("PM_TEST_DATABASE_URL", "postgres://x/y")])).unwrap();
}

#[test]
fn malformed_url_is_named_with_its_variable() {
    let text = error_text(Config::from_sources(None, env(&[("PM_DB_MEDIA_URL", "postgres://:5432:x/")])));
    assert!(text.contains("database.media.url"), "{text}");
    assert!(text.contains("PM_DB_MEDIA_URL"), "{text}");
    let text = error_text(Config::from_sources(None, env(&[("PM_DATABASE_URL", "mysql://h/db")])));
    assert!(text.contains("database.url") && text.contains("mysql"), "{text}");
}

#[test]
fn pool_size_zero_is_rejected() {
    let text = error_text(Config::from_sources(None, env(&[("PM_DB_CORE_POOL_SIZE", "0")])));
    assert!(text.contains("database.core.pool_size") && text.contains("PM_DB_CORE_POOL_SIZE"), "{text}");
    let text = error_text(Config::from_sources(None, env(&[("PM_DB_CORE_POOL_SIZE", "many")])));
    assert!(text.contains("PM_DB_CORE_POOL_SIZE"), "{text}");
}

#[test]
fn bad_address_and_enum_values_are_named() {
    let text = error_text(Config::from_sources(None, env(&[("PM_HTTP_ADDR", "localhost")])));
    assert!(text.contains("http.addr") && text.contains("PM_HTTP_ADDR"), "{text}");
    let text = error_text(Config::from_sources(None, env(&[("PM_LOG_FORMAT", "xml")])));
    assert!(text.contains("log.format"), "{text}");
}

#[test]
fn redaction_hides_passwords() {
    let config = Config::from_sources(
        None,
        env(&[
            ("PM_DATABASE_URL", "postgres://pm:hunter2@db/x"),
            ("PM_DB_MEDIA_URL", "postgres://u:pw2@db3/m"),
            ("PM_REDIS_URL", "redis://:redispw@cache:6379/0"),
            ("PM_S3_SECRET_ACCESS_KEY", "s3secret"),
        ]),
    )
    .unwrap();
    let shown = config.redacted().to_toml();
    for secret in ["hunter2", "pw2", "redispw", "s3secret"] {
        assert!(!shown.contains(secret), "{secret} leaked in:\n{shown}");
    }
    assert!(shown.contains("postgres://pm:***@db/x"), "{shown}");
}

#[test]
fn every_documented_variable_is_accepted() {
    // Each variable maps onto an existing key: setting it with a valid value must not be "unknown field".
    for var in env_vars() {
        let value = match var.var_type {
            VarType::Integer if var.key.ends_with("token_ttl_secs") => "3600",
            VarType::Integer if var.key == "auth.password_min_length" => "12",
            VarType::Integer => "7",
            VarType::Boolean => "true",
            VarType::Float => "0.9",
            VarType::Paths => "/srv/drop:/srv/other",
            VarType::Text if var.key.ends_with("url") || var.key.ends_with("endpoint") => {
                if var.key.starts_with("cache") {
                    "redis://127.0.0.1:6379"
                } else if var.key.starts_with("storage") || var.key.starts_with("media") {
                    "http://127.0.0.1:9000"
                } else {
                    "postgres://h/d"
                }
            }
            VarType::Text if var.key == "http.addr" => "127.0.0.1:1",
            VarType::Text if var.key == "storage.backend" => "local",
            VarType::Text if var.key == "log.format" => "json",
            VarType::Text if var.key == "media.thumbnail_format" => "webp",
            VarType::Text if var.key == "media.qr_url_pattern" => "https://shop.example.com/p/{sku}",
            VarType::Text if var.key == "database.prefix" => "pmx_",
            VarType::Text if var.key == "auth.jwt_secret" || var.key == "auth.master_key" => {
                "0123456789abcdef0123456789abcdef"
            }
            VarType::Text if var.key == "auth.admin_email" => "root@example.com",
            VarType::Text if var.key == "auth.admin_password" => "a long enough password",
            VarType::Text if var.key == "http.cors_origins" => "https://admin.example.com, http://localhost:3000",
            VarType::Text => "x",
        };
        Config::from_sources(None, vec![(var.name.clone(), value.to_string())])
            .unwrap_or_else(|e| panic!("{} rejected: {e}", var.name));
    }
}

#[test]
fn folder_roots_are_a_path_list_of_absolute_folders() {
    let config =
        Config::from_sources(None, vec![("PM_IMPORTS_FOLDER_ROOTS".into(), "/srv/drop::/srv/b".into())]).unwrap();
    assert_eq!(config.imports.folder_roots, vec![PathBuf::from("/srv/drop"), PathBuf::from("/srv/b")]);
    assert!(Config::default().imports.folder_roots.is_empty(), "folder sources are off by default");
    let relative = Config::from_sources(None, vec![("PM_IMPORTS_FOLDER_ROOTS".into(), "drop".into())]).unwrap_err();
    assert!(relative.to_string().contains("imports.folder_roots"), "{relative}");
    assert!(relative.to_string().contains("PM_IMPORTS_FOLDER_ROOTS"), "{relative}");
    let own = Config::embedded("/var/lib/pm").own_folders();
    assert!(own.contains(&PathBuf::from("/var/lib/pm")) && own.contains(&PathBuf::from("/var/lib/pm/objects")));
}

#[test]
fn readme_documents_every_variable() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    for var in env_vars() {
        let generic = Database::ALL.iter().fold(var.name.clone(), |name, db| {
            name.replace(&format!("PM_DB_{}_", db.name().to_uppercase()), "PM_DB_<NAME>_")
        });
        assert!(readme.contains(&format!("`{generic}`")), "README.md does not document {generic}");
    }
    assert!(readme.contains(&format!("`{CONFIG_FILE_VAR}`")));
}

#[test]
fn http_limits_and_origins_are_checked() {
    let refused = |name: &str, value: &str| {
        Config::from_sources(None, vec![(name.to_string(), value.to_string())]).unwrap_err().to_string()
    };
    assert!(refused("PM_HTTP_MAX_BODY_BYTES", "0").contains("http.max_body_bytes"));
    assert!(refused("PM_HTTP_REQUEST_TIMEOUT_SECS", "0").contains("http.request_timeout_secs"));
    assert!(refused("PM_HTTP_CORS_ORIGINS", "https://admin.example.com/console").contains("not an origin"));
    assert!(refused("PM_HTTP_CORS_ORIGINS", "admin.example.com").contains("not an origin"));
    assert!(refused("PM_RATE_LIMIT_BURST", "0").contains("http.rate_limit_burst"));
    let off =
        vec![("PM_RATE_LIMIT_PER_SECOND".to_string(), "0".to_string()), ("PM_RATE_LIMIT_BURST".into(), "0".into())];
    assert_eq!(Config::from_sources(None, off).unwrap().http.rate_limit_per_second, 0);
    let any = Config::from_sources(None, vec![("PM_HTTP_CORS_ORIGINS".to_string(), "*".to_string())]).unwrap();
    assert_eq!(any.http.cors_origins, "*");
}

/// Issue 30: one process's seven pools on one PostgreSQL server open at most `database.max_connections` together
/// (the defaults added up to 150, more than a default PostgreSQL's 100); a database on a server of its own keeps
/// its pool; SQLite pools are not limited.
#[test]
fn pools_on_one_postgres_server_share_a_ceiling() {
    let ceilings = |config: &Config| -> Vec<u32> {
        Database::ALL.iter().map(|db| config.database.pool_ceiling(*db, |d| config.postgres_server(d))).collect()
    };
    let sqlite = Config::from_sources(None, env(&[])).unwrap();
    assert_eq!(ceilings(&sqlite).iter().sum::<u32>(), 150, "SQLite pools are as configured");

    let postgres = Config::from_sources(None, env(&[("PM_DATABASE_URL", "postgres://pm@db1:5432")])).unwrap();
    assert_eq!(postgres.database.max_connections, 30);
    let scaled = ceilings(&postgres);
    assert!(scaled.iter().sum::<u32>() <= 30, "{scaled:?}");
    assert!(scaled.iter().all(|max| *max >= 1), "{scaled:?}");
    assert!(scaled[Database::Catalog.index()] > scaled[Database::Core.index()], "in proportion: {scaled:?}");

    let split = Config::from_sources(
        None,
        env(&[
            ("PM_DATABASE_URL", "postgres://pm@db1:5432"),
            ("PM_DB_CATALOG_URL", "postgres://pm@db2:5432/pm_catalog"),
            ("PM_DATABASE_MAX_CONNECTIONS", "60"),
        ]),
    )
    .unwrap();
    let split_ceilings = ceilings(&split);
    assert_eq!(split_ceilings[Database::Catalog.index()], 30, "alone on db2, within the ceiling");
    let others: u32 =
        Database::ALL.iter().filter(|db| **db != Database::Catalog).map(|db| split_ceilings[db.index()]).sum();
    assert!((50..=60).contains(&others), "{split_ceilings:?}");

    let text = error_text(Config::from_sources(None, env(&[("PM_DATABASE_MAX_CONNECTIONS", "3")])));
    assert!(text.contains("database.max_connections") && text.contains("at least 7"), "{text}");
}
