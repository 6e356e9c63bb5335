//! The one place source credentials (FTP, IMAP passwords) are sealed before they are stored and opened after they
//! are read: AES-256-GCM under the master key ([`SecretBox`], format byte `1`), bound to the configuration's id,
//! so a copy of the database alone reveals none of them and a sealed value moved to another row does not open.
//! Format `0` (the JSON document as is) is what versions before the master key wrote: still read, never written.

use uuid::Uuid;

use super::{Credentials, ImportError};
use crate::auth::SecretBox;

const PLAIN: u8 = 0;

fn purpose(config: Uuid) -> String {
    format!("import_configs:{config}")
}

/// Credentials as stored in `import_configs.credentials_encrypted`.
pub(super) fn seal(secrets: &SecretBox, config: Uuid, credentials: &Credentials) -> Result<Vec<u8>, ImportError> {
    let document = serde_json::to_vec(credentials).map_err(|e| ImportError::invalid("credentials", e.to_string()))?;
    secrets.seal(&purpose(config), &document).map_err(|e| ImportError::invalid("credentials", e.to_string()))
}

/// Credentials read back from their stored form.
pub(super) fn open(secrets: &SecretBox, config: Uuid, sealed: &[u8]) -> Result<Credentials, ImportError> {
    let unreadable = |reason: String| ImportError::invalid("credentials", format!("stored credentials {reason}"));
    let document = match sealed.split_first() {
        Some((&PLAIN, document)) => document.to_vec(),
        Some(_) => secrets.open(&purpose(config), sealed).map_err(|e| unreadable(e.to_string()))?,
        None => return Err(unreadable("are empty".into())),
    };
    serde_json::from_slice(&document).map_err(|e| unreadable(format!("unreadable: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_under_the_master_key_for_one_configuration() {
        let secrets = SecretBox::from_secret("0123456789abcdef0123456789abcdef");
        let credentials = Credentials { username: "supplier".into(), password: "s3cret-pass".into() };
        let config = Uuid::now_v7();
        let sealed = seal(&secrets, config, &credentials).unwrap();
        assert!(!sealed.windows(11).any(|w| w == b"s3cret-pass"), "no plaintext in the stored bytes");
        assert_eq!(open(&secrets, config, &sealed).unwrap(), credentials);
        assert!(open(&secrets, Uuid::now_v7(), &sealed).is_err(), "bound to its configuration");
        let other_key = SecretBox::from_secret("another master key, 32 characters");
        assert!(open(&other_key, config, &sealed).is_err());
        // What earlier versions stored stays readable.
        let mut legacy = vec![PLAIN];
        legacy.extend(serde_json::to_vec(&credentials).unwrap());
        assert_eq!(open(&secrets, config, &legacy).unwrap(), credentials);
        assert!(open(&secrets, config, &[9, 1, 2]).is_err());
        assert!(open(&secrets, config, &[]).is_err());
    }
}
