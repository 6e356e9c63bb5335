//! [`SecretBox`]: credentials the product keeps (Amazon, shop platforms, FTP and IMAP passwords) sealed with
//! AES-256-GCM, so a copy of the database alone reveals none of them.

use std::path::Path;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use sha2::{Digest, Sha256};

use super::AuthError;
use super::token::load_or_create;
use crate::config::Config;

/// Version byte in front of every sealed value, so the format can change without guessing.
const FORMAT: u8 = 1;

/// Seals and opens secrets under the master key. Each value is bound to its purpose (for example
/// `amazon_api_configs:<id>`): a sealed value copied into another row does not open there.
///
/// ```
/// use productsmanager_core::auth::SecretBox;
///
/// let secrets = SecretBox::from_secret("a master key of at least 32 characters!");
/// let sealed = secrets.seal("shop:42", b"shpat_0123")?;
/// assert_eq!(secrets.open("shop:42", &sealed).unwrap(), b"shpat_0123");
/// assert!(secrets.open("shop:43", &sealed).is_err());
/// # Ok::<(), productsmanager_core::auth::AuthError>(())
/// ```
pub struct SecretBox {
    key: LessSafeKey,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

fn failure(reason: &str) -> AuthError {
    AuthError::Key { path: "(secrets)".into(), reason: reason.into() }
}

impl SecretBox {
    /// The box of a master secret (any text of 32 characters or more; the key is its SHA-256).
    pub fn from_secret(secret: &str) -> Self {
        let digest = Sha256::digest(secret.as_bytes());
        // A 32-byte key always fits AES-256.
        #[allow(clippy::expect_used)]
        let unbound = UnboundKey::new(&AES_256_GCM, &digest).expect("a 32-byte AES-256 key");
        SecretBox { key: LessSafeKey::new(unbound) }
    }

    /// The configured master key (`auth.master_key`), else the one in `{data_dir}/master-key`, created on first
    /// use (readable by its owner only). Losing it loses the stored credentials: back it up with the data.
    pub fn from_config(config: &Config) -> Result<Self, AuthError> {
        if let Some(secret) = &config.auth.master_key {
            return Ok(Self::from_secret(secret));
        }
        let path = config.data_dir.join("master-key");
        Self::from_file(&path)
    }

    fn from_file(path: &Path) -> Result<Self, AuthError> {
        let secret = load_or_create(path)?;
        Ok(Self::from_secret(&String::from_utf8_lossy(&secret)))
    }

    /// `plaintext` sealed for `purpose`: format byte, random nonce, ciphertext and tag.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> Result<Vec<u8>, AuthError> {
        let mut nonce = [0_u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| failure("no randomness available"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + AES_256_GCM.tag_len());
        sealed.push(FORMAT);
        sealed.extend_from_slice(&nonce);
        let mut body = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(purpose.as_bytes()), &mut body)
            .map_err(|_| failure("cannot seal"))?;
        sealed.extend_from_slice(&body);
        Ok(sealed)
    }

    /// The plaintext of a value sealed for `purpose` under this key; an error when the key, the purpose or a
    /// single byte differs.
    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, AuthError> {
        let (format, rest) = sealed.split_first().ok_or_else(|| failure("empty sealed value"))?;
        if *format != FORMAT || rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(failure("not a sealed value"));
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| failure("bad nonce"))?;
        let mut body = body.to_vec();
        let plaintext = self
            .key
            .open_in_place(nonce, Aad::from(purpose.as_bytes()), &mut body)
            .map_err(|_| failure("cannot be opened: another master key, another purpose, or altered"))?;
        Ok(plaintext.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_purpose() {
        let secrets = SecretBox::from_secret("0123456789abcdef0123456789abcdef");
        let sealed = secrets.seal("amazon_api_configs:1", b"client-secret-value").unwrap();
        assert!(!sealed.windows(19).any(|w| w == b"client-secret-value"), "the plaintext is not in the sealed bytes");
        let again = secrets.seal("amazon_api_configs:1", b"client-secret-value").unwrap();
        assert_ne!(again, sealed, "a fresh nonce each time");
        assert_eq!(secrets.open("amazon_api_configs:1", &sealed).unwrap(), b"client-secret-value");
        assert!(secrets.open("amazon_api_configs:2", &sealed).is_err());
        let other = SecretBox::from_secret("another master key, 32 chars long");
        assert!(other.open("amazon_api_configs:1", &sealed).is_err());
        for index in 0..sealed.len() {
            let mut altered = sealed.clone();
            altered[index] ^= 1;
            assert!(secrets.open("amazon_api_configs:1", &altered).is_err(), "byte {index}");
        }
        assert!(secrets.open("x", &[]).is_err());
        assert!(secrets.open("x", &[FORMAT, 1, 2]).is_err());
        assert_eq!(format!("{secrets:?}"), "SecretBox(***)");
    }

    #[test]
    fn the_key_file_is_created_once() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("master-key");
        let sealed = SecretBox::from_file(&path).unwrap().seal("p", b"secret").unwrap();
        assert_eq!(SecretBox::from_file(&path).unwrap().open("p", &sealed).unwrap(), b"secret");
    }
}
