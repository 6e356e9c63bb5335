//! The folder source: files dropped into a watched directory become import jobs once they are complete.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::default_extensions;
use crate::Result;
use crate::imports::{ImportConfig, ImportError, ImportService, SourceKind, TakenFile};
use crate::jobs::{Repeating, Round};

/// `source_settings` of a folder configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FolderSettings {
    /// The watched directory (absolute). Sub-directories are not entered.
    pub path: PathBuf,
    /// File name extensions taken, case-insensitively; others are left alone.
    #[serde(default = "default_extensions")]
    pub extensions: Vec<String>,
    /// Where taken files go; `<path>/processed` by default.
    #[serde(default)]
    pub processed_dir: Option<PathBuf>,
    /// Where refused files go, with a `<name>.error.txt` beside them; `<path>/failed` by default.
    #[serde(default)]
    pub failed_dir: Option<PathBuf>,
    /// Larger files are refused (moved to the failed folder); 2 GiB by default.
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
}

fn default_max_bytes() -> u64 {
    2 << 30
}

impl FolderSettings {
    /// Reads and checks the settings of a folder configuration, naming the setting at fault.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ImportError> {
        let settings: FolderSettings = super::settings_from_value(value)?;
        if !settings.path.is_absolute() {
            return Err(ImportError::invalid("source_settings.path", "must be an absolute path"));
        }
        Ok(settings)
    }

    fn processed_dir(&self) -> PathBuf {
        self.processed_dir.clone().unwrap_or_else(|| self.path.join("processed"))
    }

    fn failed_dir(&self) -> PathBuf {
        self.failed_dir.clone().unwrap_or_else(|| self.path.join("failed"))
    }

    fn wants(&self, name: &str) -> bool {
        super::wanted_file(&self.extensions, name)
    }
}

/// Watches the folders of every active folder configuration. A file is complete when two looks in a row find it
/// with the same size and modification time; then it is stored, its import job queued, and it is moved to the
/// processed folder. Several processes may watch the same folder: the fingerprint (name, size, modification time)
/// lets one of them take the file.
#[derive(Debug)]
pub struct FolderSource {
    imports: ImportService,
    /// Size and modification time at the previous look, per configuration and file.
    seen: HashMap<(Uuid, PathBuf), (u64, SystemTime)>,
}

impl FolderSource {
    /// A source with nothing seen yet.
    pub fn new(imports: ImportService) -> Self {
        FolderSource { imports, seen: HashMap::new() }
    }

    /// One look at every active folder configuration; returns the files taken.
    pub async fn poll(&mut self) -> Result<Vec<TakenFile>> {
        let mut taken = Vec::new();
        for config in self.imports.active_configs(SourceKind::Folder).await? {
            match self.poll_config(&config).await {
                Ok(mut files) => taken.append(&mut files),
                Err(e) => tracing::warn!(config = %config.name, error = %e, "folder source not read"),
            }
        }
        Ok(taken)
    }

    async fn poll_config(&mut self, config: &ImportConfig) -> Result<Vec<TakenFile>> {
        let settings = FolderSettings::from_value(&config.source_settings)?;
        let unreadable = |e: std::io::Error| ImportError::Source {
            config: config.name.clone(),
            reason: format!("cannot read {}: {e}", settings.path.display()),
        };
        let mut entries = tokio::fs::read_dir(&settings.path).await.map_err(unreadable)?;
        let mut present = Vec::new();
        let mut taken = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(unreadable)? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata().await else { continue };
            if !meta.is_file() || !settings.wants(&name) {
                continue;
            }
            let path = entry.path();
            let now = (meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH));
            present.push(path.clone());
            let before = self.seen.insert((config.id, path.clone()), now);
            if before != Some(now) {
                continue; // new or still growing
            }
            if let Some(file) = self.take(config, &settings, &path, &name, now).await? {
                taken.push(file);
            }
            self.seen.remove(&(config.id, path));
        }
        self.seen.retain(|(id, path), _| *id != config.id || present.contains(path));
        self.imports.mark_polled(config.id).await?;
        Ok(taken)
    }

    async fn take(
        &self,
        config: &ImportConfig,
        settings: &FolderSettings,
        path: &Path,
        name: &str,
        (size, modified): (u64, SystemTime),
    ) -> Result<Option<TakenFile>> {
        if size > settings.max_bytes {
            let reason = format!("{size} bytes is more than the {} bytes allowed (max_bytes)", settings.max_bytes);
            refuse(settings, path, name, &reason).await;
            return Ok(None);
        }
        let bytes = match tokio::fs::read(path).await {
            Ok(bytes) => Bytes::from(bytes),
            // Another process took it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                refuse(settings, path, name, &format!("cannot read it: {e}")).await;
                return Ok(None);
            }
        };
        let nanos = modified.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let fingerprint = format!("{name}|{size}|{nanos}");
        let taken = self.imports.take_file(config, name, bytes, &fingerprint).await?;
        move_into(path, &settings.processed_dir(), name).await;
        Ok(taken)
    }

    /// Looks every `every` until shut down.
    pub fn start(self, every: Duration) -> Repeating {
        Repeating::start(self, every)
    }
}

impl Round for FolderSource {
    const WHAT: &'static str = "look at the watched folders";

    async fn round(&mut self) -> Result<()> {
        self.poll().await.map(|_| ())
    }
}

/// Moves a refused file to the failed folder with the reason beside it.
async fn refuse(settings: &FolderSettings, path: &Path, name: &str, reason: &str) {
    tracing::warn!(file = %path.display(), reason, "file refused by the folder source");
    let failed = settings.failed_dir();
    if let Some(moved) = move_into(path, &failed, name).await {
        let note = moved.with_file_name(format!(
            "{}.error.txt",
            moved.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
        ));
        if let Err(e) = tokio::fs::write(&note, format!("{reason}\n")).await {
            tracing::warn!(file = %note.display(), error = %e, "reason not written");
        }
    }
}

/// Moves `path` into `folder` (created if needed) under its name, or a dated one when the name is taken; where it
/// went, or `None` when it could not be moved (another process moved it first, or the folder is unwritable).
async fn move_into(path: &Path, folder: &Path, name: &str) -> Option<PathBuf> {
    if let Err(e) = tokio::fs::create_dir_all(folder).await {
        tracing::warn!(folder = %folder.display(), error = %e, "cannot create folder");
        return None;
    }
    let mut target = folder.join(name);
    if tokio::fs::try_exists(&target).await.unwrap_or(false) {
        target = folder.join(format!("{}-{name}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3f")));
    }
    match tokio::fs::rename(path, &target).await {
        Ok(()) => Some(target),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            tracing::warn!(file = %path.display(), error = %e, "cannot move file");
            None
        }
    }
}
