//! Password hashing: argon2id with OWASP's parameters (the `argon2` crate's defaults: m = 19 MiB, t = 2, p = 1).

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use super::AuthError;

/// The PHC string of `password` under a fresh random salt. CPU- and memory-heavy by design: call off the async
/// threads.
pub(crate) fn hash(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::invalid("password", format!("cannot be hashed: {e}")))
}

/// Whether `password` matches the PHC string (the comparison is constant-time). A malformed hash matches nothing.
pub(crate) fn verify(password: &str, phc: &str) -> bool {
    Argon2::default().verify_password(password.as_bytes(), phc).is_ok()
}

/// Spends the time of one verification for an e-mail that has no user, so the answer's delay does not tell.
pub(crate) fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("no user has this password").unwrap_or_default());
    let _ = verify(password, dummy);
}

/// Checks a new password against the configured minimum length (in characters) and the hard maximum.
pub(crate) fn check_strength(password: &str, min_length: u64) -> Result<(), AuthError> {
    let length = password.chars().count() as u64;
    if length < min_length {
        return Err(AuthError::invalid("password", format!("must be at least {min_length} characters")));
    }
    // argon2 takes any length, but a megabyte "password" is a denial of service, not a secret.
    if length > 1024 {
        return Err(AuthError::invalid("password", "must be at most 1024 characters"));
    }
    if password.trim().is_empty() {
        return Err(AuthError::invalid("password", "must not be only spaces"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let first = hash("correct horse battery").unwrap();
        let second = hash("correct horse battery").unwrap();
        assert!(first.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{first}");
        assert_ne!(first, second);
        assert!(verify("correct horse battery", &first));
        assert!(!verify("correct horse batterY", &first));
        assert!(!verify("correct horse battery", "not a phc string"));
    }

    #[test]
    fn strength_names_the_rule() {
        assert!(check_strength("short", 12).unwrap_err().to_string().contains("at least 12"));
        assert!(check_strength("            ", 12).unwrap_err().to_string().contains("spaces"));
        assert!(check_strength(&"x".repeat(2000), 12).is_err());
        assert!(check_strength("long enough password", 12).is_ok());
    }
}
