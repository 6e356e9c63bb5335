//! Access tokens (HS256 JWTs) and the random secrets behind refresh tokens.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::AuthError;
use crate::config::Config;

/// Prefix of refresh tokens, so a leaked one is recognisable (secret scanners, logs).
const REFRESH_PREFIX: &str = "pmr_";

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AccessClaims {
    /// The user.
    pub sub: Uuid,
    /// The sign-in (refresh-token family) it belongs to.
    pub sid: Uuid,
    pub iat: i64,
    pub exp: i64,
}

/// The key that signs and checks access tokens.
#[derive(Clone)]
pub struct TokenKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(***)")
    }
}

impl TokenKey {
    /// A key from secret bytes.
    pub fn from_secret(secret: &[u8]) -> Self {
        TokenKey { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret) }
    }

    /// The configured key (`auth.jwt_secret`), else the one in `{data_dir}/jwt-secret`, created on first use
    /// (readable by its owner only).
    pub fn from_config(config: &Config) -> Result<Self, AuthError> {
        if let Some(secret) = &config.auth.jwt_secret {
            return Ok(Self::from_secret(secret.as_bytes()));
        }
        let path = config.data_dir.join("jwt-secret");
        std::fs::create_dir_all(&config.data_dir).map_err(|e| key_error(&config.data_dir, e))?;
        load_or_create(&path).map(|secret| Self::from_secret(&secret))
    }

    pub(crate) fn sign(&self, claims: &AccessClaims) -> Result<String, AuthError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|e| AuthError::Key { path: "(signing)".into(), reason: e.to_string() })
    }

    /// The claims of a token this key signed, if it has not expired at `now`. Only HS256 is accepted: a token
    /// saying `alg: none` or another algorithm is refused before its signature is looked at.
    pub(crate) fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked below against the service's clock (tests move it), not the system's.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "sub"]);
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)
            .map_err(|_| AuthError::InvalidToken { reason: "malformed, or not signed by this server" })?;
        if data.claims.exp <= now.timestamp() {
            return Err(AuthError::InvalidToken { reason: "expired" });
        }
        Ok(data.claims)
    }
}

fn key_error(path: &Path, reason: impl ToString) -> AuthError {
    AuthError::Key { path: path.display().to_string(), reason: reason.to_string() }
}

/// Reads the secret file, or creates it with 48 random bytes; two processes starting together agree on one.
pub(crate) fn load_or_create(path: &Path) -> Result<Vec<u8>, AuthError> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= 32 => return Ok(text.trim().as_bytes().to_vec()),
        Ok(_) => return Err(key_error(path, "holds fewer than 32 characters")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(key_error(path, e)),
    }
    let secret = random_text(48)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes()).map_err(|e| key_error(path, e))?;
            file.sync_all().map_err(|e| key_error(path, e))?;
            Ok(secret.into_bytes())
        }
        // Another process created it meanwhile: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e))?;
            Ok(text.trim().as_bytes().to_vec())
        }
        Err(e) => Err(key_error(path, e)),
    }
}

/// `bytes` random bytes from the system's generator, base64url.
pub(crate) fn random_text(bytes: usize) -> Result<String, AuthError> {
    let mut buffer = vec![0_u8; bytes];
    aws_lc_rs::rand::fill(&mut buffer)
        .map_err(|_| AuthError::Key { path: "(random)".into(), reason: "no randomness available".into() })?;
    Ok(URL_SAFE_NO_PAD.encode(buffer))
}

/// A new refresh token: what the client keeps, and the hash stored.
pub(crate) fn new_refresh_token() -> Result<(String, Vec<u8>), AuthError> {
    let token = format!("{REFRESH_PREFIX}{}", random_text(32)?);
    let hash = digest(&token);
    Ok((token, hash))
}

/// SHA-256 of a token: what is stored and looked up (the random secret is long enough that no salt is needed).
pub(crate) fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn claims(exp: DateTime<Utc>) -> AccessClaims {
        AccessClaims { sub: Uuid::now_v7(), sid: Uuid::now_v7(), iat: exp.timestamp() - 900, exp: exp.timestamp() }
    }

    #[test]
    fn signed_tokens_verify_until_they_expire() {
        let key = TokenKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let claims = claims(now + Duration::seconds(900));
        let token = key.sign(&claims).unwrap();
        assert_eq!(key.verify(&token, now).unwrap(), claims);
        let late = key.verify(&token, now + Duration::seconds(900)).unwrap_err();
        assert!(late.to_string().contains("expired"), "{late}");
    }

    #[test]
    fn forged_and_unsigned_tokens_are_refused() {
        let key = TokenKey::from_secret(b"0123456789abcdef0123456789abcdef");
        let other = TokenKey::from_secret(b"another key, also 32 bytes long!!");
        let now = Utc::now();
        let token = other.sign(&claims(now + Duration::seconds(900))).unwrap();
        assert!(key.verify(&token, now).is_err());
        // The same claims with `alg: none` and no signature.
        let payload = token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(key.verify(&format!("{header}.{payload}."), now).is_err());
        assert!(key.verify("not.a.token", now).is_err());
        assert!(key.verify("", now).is_err());
    }

    #[test]
    fn the_secret_file_is_created_once_and_private() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("jwt-secret");
        let first = load_or_create(&path).unwrap();
        assert_eq!(load_or_create(&path).unwrap(), first);
        assert!(first.len() >= 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(load_or_create(&path).unwrap_err().to_string().contains("fewer than 32"));
    }

    #[test]
    fn refresh_tokens_are_random_and_stored_hashed() {
        let (first, hash) = new_refresh_token().unwrap();
        let (second, _) = new_refresh_token().unwrap();
        assert!(first.starts_with("pmr_") && first.len() > 40);
        assert_ne!(first, second);
        assert_eq!(hash, digest(&first));
        assert_eq!(hash.len(), 32);
    }
}
