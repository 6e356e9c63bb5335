//! The one place source credentials (FTP, IMAP passwords) are sealed before they are stored and opened after they
//! are read. Sealed values start with a format byte: `0` is the JSON document as is. AES-256-GCM under the master
//! key (format `1`) replaces it with the auth issue, here and nowhere else.

use super::{Credentials, ImportError};

const PLAIN: u8 = 0;

/// Credentials as stored in `import_configs.credentials_encrypted`.
pub(super) fn seal(credentials: &Credentials) -> Result<Vec<u8>, ImportError> {
    let mut sealed = vec![PLAIN];
    serde_json::to_writer(&mut sealed, credentials).map_err(|e| ImportError::invalid("credentials", e.to_string()))?;
    Ok(sealed)
}

/// Credentials read back from their stored form.
pub(super) fn open(sealed: &[u8]) -> Result<Credentials, ImportError> {
    match sealed.split_first() {
        Some((&PLAIN, document)) => serde_json::from_slice(document)
            .map_err(|e| ImportError::invalid("credentials", format!("stored credentials unreadable: {e}"))),
        _ => Err(ImportError::invalid("credentials", "stored credentials in an unknown format")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_unknown_format() {
        let credentials = Credentials { username: "supplier".into(), password: "s3cret".into() };
        assert_eq!(open(&seal(&credentials).unwrap()).unwrap(), credentials);
        assert!(open(&[9, 1, 2]).is_err());
        assert!(open(&[]).is_err());
    }
}
