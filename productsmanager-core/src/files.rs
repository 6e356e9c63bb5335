//! What the product keeps on the local disk is its owner's only: the data folder (and every folder it makes for
//! local data) `0700`, the SQLite databases `0600` (SQLite gives their `-wal` and `-shm` files the same mode), the
//! secrets `0600` ([`crate::auth`]). Other users of the machine read none of it.

use std::path::Path;

/// Mode of the folders the product makes for its data.
#[cfg(unix)]
const PRIVATE_FOLDER: u32 = 0o700;
/// Mode of the databases.
#[cfg(unix)]
const PRIVATE_FILE: u32 = 0o600;

/// Creates `folder` (and its missing parents) readable by its owner only; an existing folder is left as it is
/// unless `tighten`, when other users' access is taken away (the product's own data folder).
pub(crate) fn private_folder(folder: &Path, tighten: bool) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_FOLDER);
    builder.create(folder)?;
    // A folder the process does not own (a mounted volume) cannot be tightened: said, not fatal.
    if tighten && let Err(e) = restrict(folder, PRIVATE_FOLDER) {
        tracing::warn!(folder = %folder.display(), error = %e, "cannot make the data folder its owner's only");
    }
    Ok(())
}

/// Makes the database file `path` its owner's only: created empty with that mode when missing (an empty file is an
/// empty SQLite database), its mode tightened when others could read it. Nothing is done when its folder does not
/// exist (opening the database then fails, naming the folder).
pub(crate) fn private_database_file(path: &Path) -> std::io::Result<()> {
    if path.as_os_str().is_empty() || path == Path::new(":memory:") {
        return Ok(());
    }
    if !path.parent().is_none_or(|p| p.as_os_str().is_empty() || p.is_dir()) {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, PRIVATE_FILE);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            restrict(path, PRIVATE_FILE)?;
            // Journal files left by an earlier version keep their own mode: tightened too.
            for suffix in ["-wal", "-shm"] {
                let mut journal = path.as_os_str().to_owned();
                journal.push(suffix);
                let journal = Path::new(&journal);
                if journal.exists() {
                    restrict(journal, PRIVATE_FILE)?;
                }
            }
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Takes group and other users' access away from `path` when it has any.
#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let current = std::fs::metadata(path)?.permissions().mode() & 0o777;
    if current & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(current & mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0)
    }

    #[test]
    fn databases_and_their_journals_become_their_owners_only() {
        let folder = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let new = folder.path().join("pm_new.db");
        private_database_file(&new).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mode(&new), 0o600);
        // Left readable by every user by an earlier version.
        let old = folder.path().join("pm_old.db");
        for name in ["pm_old.db", "pm_old.db-wal", "pm_old.db-shm"] {
            let path = folder.path().join(name);
            std::fs::write(&path, b"").unwrap_or_else(|e| panic!("{e}"));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap_or_else(|e| panic!("{e}"));
        }
        private_database_file(&old).unwrap_or_else(|e| panic!("{e}"));
        for name in ["pm_old.db", "pm_old.db-wal", "pm_old.db-shm"] {
            assert_eq!(mode(&folder.path().join(name)), 0o600, "{name}");
        }
        let data = folder.path().join("data");
        private_folder(&data, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mode(&data), 0o700);
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap_or_else(|e| panic!("{e}"));
        private_folder(&data, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(mode(&data), 0o700, "tightened");
    }
}
