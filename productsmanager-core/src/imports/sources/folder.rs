//! The folder source: files dropped into a watched directory become import jobs once they are complete.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
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
    /// Reads and checks the settings of a folder configuration, naming the setting at fault. Where the folders
    /// may be is checked by [`FolderPolicy::confine`].
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ImportError> {
        let settings: FolderSettings = super::settings_from_value(value)?;
        for (field, path) in [
            ("path", Some(&settings.path)),
            ("processed_dir", settings.processed_dir.as_ref()),
            ("failed_dir", settings.failed_dir.as_ref()),
        ] {
            if path.is_some_and(|path| !path.is_absolute()) {
                return Err(ImportError::invalid(&format!("source_settings.{field}"), "must be an absolute path"));
            }
        }
        Ok(settings)
    }

    fn wants(&self, name: &str) -> bool {
        super::wanted_file(&self.extensions, name)
    }
}

/// The three folders of a folder source, resolved and checked against the [`FolderPolicy`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfinedFolders {
    /// The watched folder.
    pub watched: PathBuf,
    /// Where taken files go.
    pub processed: PathBuf,
    /// Where refused files go.
    pub failed: PathBuf,
}

/// Where folder sources may look and move files: under the configured roots (`imports.folder_roots`), never in
/// the product's own folders (data folder, object store, SQLite databases). A source reads and moves every file of
/// its folder with the server's rights, so with no roots (the default) folder sources are off.
///
/// ```
/// use productsmanager_core::imports::sources::FolderPolicy;
///
/// let off = FolderPolicy::new(vec![], vec![]);
/// assert!(off.confine("source_settings.path", std::path::Path::new("/tmp")).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct FolderPolicy {
    roots: Vec<PathBuf>,
    own: Vec<PathBuf>,
}

impl FolderPolicy {
    /// Folder sources allowed under `roots`, and never in `own` (nor below them).
    pub fn new(roots: Vec<PathBuf>, own: Vec<PathBuf>) -> Self {
        FolderPolicy { roots: roots.iter().map(|p| resolve(p).unwrap_or_else(|_| p.clone())).collect(), own }
    }

    /// The policy of a configuration: its `imports.folder_roots`, its own folders kept out.
    pub fn from_config(config: &crate::config::Config) -> Self {
        FolderPolicy::new(config.imports.folder_roots.clone(), config.own_folders())
    }

    /// `path` with symbolic links resolved, when it is under an allowed root and outside the product's own
    /// folders; otherwise the reason, naming `field`. A path that does not exist yet is resolved through its
    /// nearest existing parent; `..` is refused.
    pub fn confine(&self, field: &str, path: &Path) -> Result<PathBuf, ImportError> {
        if self.roots.is_empty() {
            return Err(ImportError::invalid(
                field,
                "folder sources are off: an administrator lists the folders they may watch in imports.folder_roots \
                 (PM_IMPORTS_FOLDER_ROOTS)",
            ));
        }
        let resolved = resolve(path).map_err(|reason| ImportError::invalid(field, reason))?;
        if !self.roots.iter().any(|root| resolved.starts_with(root)) {
            let roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
            return Err(ImportError::invalid(
                field,
                format!(
                    "{} is not under a folder allowed for folder sources (imports.folder_roots: {})",
                    resolved.display(),
                    roots.join(", ")
                ),
            ));
        }
        // Re-resolved at each check: a folder may have become a link since the policy was made.
        let own = self.own.iter().map(|p| resolve(p).unwrap_or_else(|_| p.clone()));
        if let Some(own) = own.into_iter().find(|own| resolved.starts_with(own)) {
            return Err(ImportError::invalid(
                field,
                format!("{} is inside the product's own folder {}", resolved.display(), own.display()),
            ));
        }
        Ok(resolved)
    }

    /// The folders of `settings`, each confined.
    pub fn confine_settings(&self, settings: &FolderSettings) -> Result<ConfinedFolders, ImportError> {
        let watched = self.confine("source_settings.path", &settings.path)?;
        let processed = match &settings.processed_dir {
            Some(dir) => self.confine("source_settings.processed_dir", dir)?,
            None => watched.join("processed"),
        };
        let failed = match &settings.failed_dir {
            Some(dir) => self.confine("source_settings.failed_dir", dir)?,
            None => watched.join("failed"),
        };
        Ok(ConfinedFolders { watched, processed, failed })
    }
}

/// `path` made absolute with its symbolic links resolved; the part that does not exist yet is appended to its
/// nearest existing parent, resolved. `..` is refused rather than interpreted.
fn resolve(path: &Path) -> Result<PathBuf, String> {
    if !path.is_absolute() {
        return Err(format!("{} must be an absolute path", path.display()));
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err(format!("{} must not hold `..`", path.display()));
    }
    let mut existing = path;
    let mut missing = Vec::new();
    loop {
        match existing.canonicalize() {
            Ok(resolved) => {
                return Ok(missing.iter().rev().fold(resolved, |resolved, part| resolved.join(part)));
            }
            Err(_) => {
                let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
                    return Err(format!("{} cannot be resolved", path.display()));
                };
                missing.push(name.to_os_string());
                existing = parent;
            }
        }
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
        // Checked at every look, not only when created: the roots may have changed, a folder become a link.
        let folders = self
            .imports
            .folder_policy()
            .confine_settings(&settings)
            .map_err(|e| ImportError::Source { config: config.name.clone(), reason: e.to_string() })?;
        let unreadable = |e: std::io::Error| ImportError::Source {
            config: config.name.clone(),
            reason: format!("cannot read {}: {e}", folders.watched.display()),
        };
        let mut entries = tokio::fs::read_dir(&folders.watched).await.map_err(unreadable)?;
        let mut present = Vec::new();
        let mut taken = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(unreadable)? {
            let name = entry.file_name().to_string_lossy().into_owned();
            // Not followed: a link dropped into the folder is not a file of it.
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
            if let Some(file) = self.take(config, &settings, &folders, &path, &name, now).await? {
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
        folders: &ConfinedFolders,
        path: &Path,
        name: &str,
        (size, modified): (u64, SystemTime),
    ) -> Result<Option<TakenFile>> {
        if size > settings.max_bytes {
            let reason = format!("{size} bytes is more than the {} bytes allowed (max_bytes)", settings.max_bytes);
            refuse(folders, path, name, &reason).await;
            return Ok(None);
        }
        let bytes = match read_not_following(path.to_path_buf()).await {
            Ok(bytes) => Bytes::from(bytes),
            // Another process took it.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                refuse(folders, path, name, &format!("cannot read it: {e}")).await;
                return Ok(None);
            }
        };
        let nanos = modified.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let fingerprint = format!("{name}|{size}|{nanos}");
        let taken = self.imports.take_file(config, name, bytes, &fingerprint).await?;
        move_into(path, &folders.processed, name).await;
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

/// The bytes of the file at `path`, refusing a symbolic link (one may replace the file between the look and the
/// read).
async fn read_not_following(path: PathBuf) -> std::io::Result<Vec<u8>> {
    tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits());
        }
        let mut file = options.open(&path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Moves a refused file to the failed folder with the reason beside it.
async fn refuse(folders: &ConfinedFolders, path: &Path, name: &str, reason: &str) {
    tracing::warn!(file = %path.display(), reason, "file refused by the folder source");
    if let Some(moved) = move_into(path, &folders.failed, name).await {
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
