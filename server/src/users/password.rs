//! Password rules and argon2id hashing (run off the async threads).

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng};

/// Shortest password accepted.
pub const MIN_LEN: usize = 10;
/// Longest password accepted (bounds hashing work).
pub const MAX_LEN: usize = 256;

/// Checks the length rules; the message is shown next to the password field.
pub fn validate(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        Err(format!("Use at least {MIN_LEN} characters."))
    } else if n > MAX_LEN {
        Err(format!("Use at most {MAX_LEN} characters."))
    } else {
        Ok(())
    }
}

/// An argon2id PHC string for `password`.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

/// Whether `password` matches `phc`; a damaged hash never matches.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// Verifies against a throwaway hash so that unknown e-mails cost as much time as known ones.
pub fn verify_nobody(password: &str) {
    static DUMMY: LazyLock<String> = LazyLock::new(|| hash("voxgate-no-such-user").unwrap_or_default());
    let _ = verify(password, &DUMMY);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_differ_by_salt() {
        let a = hash("correct horse battery").unwrap();
        let b = hash("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b);
        assert!(verify("correct horse battery", &a));
        assert!(!verify("wrong horse battery", &a));
        assert!(!verify("correct horse battery", "not-a-hash"));
    }

    #[test]
    fn length_rules() {
        assert!(validate("short").is_err());
        assert!(validate(&"x".repeat(MIN_LEN)).is_ok());
        assert!(validate(&"x".repeat(MAX_LEN + 1)).is_err());
    }
}
