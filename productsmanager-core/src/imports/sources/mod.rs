//! Where supplier files come from, each source turning a new file into an import job once: a watched folder
//! ([`FolderSource`]), FTP servers ([`FtpSource`]), IMAP mailboxes ([`EmailSource`]) and URLs ([`HttpSource`]).

mod email;
mod folder;
mod ftp;
mod http;

pub use email::{EmailSettings, EmailSource};
pub use folder::{ConfinedFolders, FolderPolicy, FolderSettings, FolderSource};
pub use ftp::{FtpSettings, FtpSource};
pub use http::{HttpSettings, HttpSource};

use std::future::Future;

use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::{ImportConfig, ImportError, ImportService, SourceKind, TakenFile};

/// A source polled over the network one configuration at a time (FTP, e-mail).
pub(crate) trait RemoteSource: Sync {
    /// The configurations it polls.
    const KINDS: &'static [SourceKind];
    /// For the error naming what failed.
    const NAME: &'static str;

    fn imports(&self) -> &ImportService;

    /// One poll of one configuration.
    fn poll_one(&self, config: &ImportConfig) -> impl Future<Output = crate::Result<Vec<TakenFile>>> + Send;
}

/// One poll of every active configuration of a remote source. Files taken from the servers that answered are kept
/// even when another one failed; the error then names the configurations that failed (a job retries them later).
pub(crate) async fn poll_all<S: RemoteSource>(source: &S) -> crate::Result<Vec<TakenFile>> {
    let mut configs = Vec::new();
    for kind in S::KINDS {
        configs.extend(source.imports().active_configs(*kind).await?);
    }
    let mut taken = Vec::new();
    let mut failed = Vec::new();
    // A few servers at once, so one slow or silent server does not hold the others (each poll has its deadline);
    // the configurations of one server one after the other, as servers limit sessions per client.
    let mut by_host: std::collections::BTreeMap<String, Vec<&ImportConfig>> = std::collections::BTreeMap::new();
    for config in &configs {
        let host = config.source_settings.get("host").and_then(|h| h.as_str()).unwrap_or_default();
        by_host.entry(host.to_ascii_lowercase()).or_default().push(config);
    }
    // Made before streaming them: a closure inside the stream's type would not be `Send` for every lifetime.
    let mut pending = Vec::with_capacity(by_host.len());
    for group in by_host.into_values() {
        pending.push(async move {
            let mut polled = Vec::with_capacity(group.len());
            for config in group {
                polled.push((config, source.poll_one(config).await));
            }
            polled
        });
    }
    let mut polls = futures_util::stream::iter(pending).buffer_unordered(REMOTE_HOSTS_AT_ONCE);
    while let Some(group) = polls.next().await {
        for (config, polled) in group {
            match polled {
                Ok(mut files) => taken.append(&mut files),
                Err(e) => {
                    tracing::warn!(config = %config.name, error = %e, "{} source not polled", S::NAME);
                    failed.push(e.to_string());
                }
            }
        }
    }
    if failed.is_empty() {
        Ok(taken)
    } else {
        Err(ImportError::Source { config: S::NAME.into(), reason: failed.join("; ") }.into())
    }
}

/// Servers of one remote source polled at the same time.
const REMOTE_HOSTS_AT_ONCE: usize = 4;

/// `command` within `limit`: a server that accepts and then says nothing fails here instead of holding the poll.
pub(crate) async fn within<T, E: std::fmt::Display>(
    limit: std::time::Duration,
    command: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    match tokio::time::timeout(limit, command).await {
        Ok(answer) => answer.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {} s (source_settings.timeout_secs)", limit.as_secs())),
    }
}

/// Default of a remote source's `deadline_secs`: a whole poll, downloads included.
pub(crate) fn default_deadline_secs() -> u64 {
    600
}

/// `poll` of the configuration `config` (at `host`:`port`) within `deadline_secs`, or an error saying so.
pub(crate) async fn within_deadline<T>(
    config: &ImportConfig,
    host: &str,
    port: u16,
    deadline_secs: u64,
    poll: impl Future<Output = crate::Result<T>>,
) -> crate::Result<T> {
    let deadline = std::time::Duration::from_secs(deadline_secs.max(1));
    tokio::time::timeout(deadline, poll).await.unwrap_or_else(|_| {
        Err(ImportError::Source {
            config: config.name.clone(),
            reason: format!(
                "no complete poll within {} s ({host}:{port}; source_settings.deadline_secs)",
                deadline.as_secs()
            ),
        }
        .into())
    })
}

/// Polls the sources of `kinds` (all when empty) once, now, rather than at their next tick; returns the files
/// taken. A folder file counts as complete when two looks agree, so folders are looked at twice, `settle` apart.
pub async fn poll_now(
    imports: &ImportService,
    kinds: &[SourceKind],
    settle: std::time::Duration,
) -> crate::Result<Vec<TakenFile>> {
    let wanted = |kind: SourceKind| kinds.is_empty() || kinds.contains(&kind);
    let mut taken = Vec::new();
    if wanted(SourceKind::Folder) {
        let mut folders = FolderSource::new(imports.clone());
        folders.poll().await?;
        tokio::time::sleep(settle).await;
        taken.extend(folders.poll().await?);
    }
    if wanted(SourceKind::Ftp) || wanted(SourceKind::Ftps) {
        taken.extend(FtpSource::new(imports.clone()).poll().await?);
    }
    if wanted(SourceKind::Email) {
        taken.extend(EmailSource::new(imports.clone()).poll().await?);
    }
    if wanted(SourceKind::Http) {
        taken.extend(HttpSource::new(imports.clone()).poll().await?);
    }
    Ok(taken)
}

/// File name extensions taken by default: the catalog formats and ZIP.
pub(crate) fn default_extensions() -> Vec<String> {
    ["csv", "tsv", "txt", "xlsx", "xls", "ods", "zip"].map(String::from).to_vec()
}

/// Whether a source takes the file `name`: not hidden, and one of `extensions` (case-insensitively).
pub(crate) fn wanted_file(extensions: &[String], name: &str) -> bool {
    let extension = std::path::Path::new(name).extension().and_then(|e| e.to_str()).unwrap_or_default();
    !name.starts_with('.') && extensions.iter().any(|wanted| wanted.eq_ignore_ascii_case(extension))
}

/// Source settings read from their JSON document, naming the setting at fault (`source_settings.port`).
pub(crate) fn settings_from_value<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ImportError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "source_settings".to_string() } else { format!("source_settings.{path}") };
        ImportError::invalid(&field, e.into_inner().to_string())
    })
}

/// Checks `settings` fit the source `kind` (so a configuration with a typo is refused when created, not at its
/// first poll), and that a folder source's folders are where `folders` allows.
pub(crate) fn check_settings(
    kind: SourceKind,
    settings: &serde_json::Value,
    folders: &FolderPolicy,
) -> Result<(), ImportError> {
    match kind {
        SourceKind::Folder => folders.confine_settings(&FolderSettings::from_value(settings)?).map(|_| ()),
        SourceKind::Upload => Ok(()),
        SourceKind::Ftp | SourceKind::Ftps => FtpSettings::from_value(settings).map(|_| ()),
        SourceKind::Email => EmailSettings::from_value(settings).map(|_| ()),
        SourceKind::Http => HttpSettings::from_value(settings).map(|_| ()),
    }
}
