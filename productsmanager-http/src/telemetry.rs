//! Logging for the binaries: `log.filter` (`PM_LOG`) and `log.format` (`PM_LOG_FORMAT`, text or json).
//! An embedding service sets up its own subscriber and does not call this.

use productsmanager_core::Config;
use productsmanager_core::config::{ConfigError, LogConfig, LogFormat};
use tracing_subscriber::EnvFilter;

/// Installs the global `tracing` subscriber (logs go to stderr; stdout stays for command output).
pub fn init(config: &Config) -> Result<(), ConfigError> {
    let LogConfig { filter, format } = &config.log;
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| config.setting_error("log.filter", format!("invalid filter `{filter}`: {e}")))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second initialisation (tests, an embedding binary) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(())
}
