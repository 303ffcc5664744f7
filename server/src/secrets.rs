//! The key that seals stored credentials: from VOXGATE_SECRET_KEY, or generated once into the data dir.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A 256-bit key; `Debug` never shows it.
#[derive(Clone, PartialEq)]
pub struct SecretKey([u8; 32]);

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

impl SecretKey {
    /// Parses 64 hex characters; the error never repeats the input.
    pub fn from_hex(text: &str) -> Result<Self, String> {
        let bytes = hex::decode(text.trim()).map_err(|_| "must be 64 hexadecimal characters (32 bytes)".to_string())?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| "must be 64 hexadecimal characters (32 bytes)".to_string())?;
        Ok(Self(arr))
    }

    /// A fresh random key.
    pub fn generate() -> Self {
        Self(rand::random())
    }

    /// The raw key bytes.
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// A sealed value could not be opened (wrong key, tampered, or damaged).
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("sealed value cannot be opened")]
pub struct OpenError;

const SEAL_VERSION: &str = "v1.";

impl SecretKey {
    /// Encrypts `plaintext` with XChaCha20-Poly1305; `context` (e.g. the field name) is bound
    /// as associated data so a sealed value cannot be moved to another field.
    pub fn seal(&self, context: &str, plaintext: &str) -> String {
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&self.0).into());
        let nonce = chacha20poly1305::XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption with a valid key and in-memory buffers cannot fail.
        let ct = cipher.encrypt(&nonce, Payload { msg: plaintext.as_bytes(), aad: context.as_bytes() }).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{SEAL_VERSION}{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(out))
    }

    /// Decrypts what [`SecretKey::seal`] produced for the same `context`.
    pub fn open(&self, context: &str, sealed: &str) -> Result<String, OpenError> {
        use base64::Engine;
        use chacha20poly1305::aead::{Aead, KeyInit, Payload};
        let body = sealed.strip_prefix(SEAL_VERSION).ok_or(OpenError)?;
        let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(body).map_err(|_| OpenError)?;
        if bytes.len() < 24 + 16 {
            return Err(OpenError);
        }
        let (nonce, ct) = bytes.split_at(24);
        let cipher = chacha20poly1305::XChaCha20Poly1305::new((&self.0).into());
        let plain = cipher.decrypt(nonce.into(), Payload { msg: ct, aad: context.as_bytes() }).map_err(|_| OpenError)?;
        String::from_utf8(plain).map_err(|_| OpenError)
    }
}

/// Letters and digits, for tokens and URL secrets.
pub const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random characters drawn from `alphabet` with the thread's CSPRNG.
pub fn random_string(alphabet: &[u8], len: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..len).map(|_| alphabet[rng.random_range(0..alphabet.len())] as char).collect()
}

/// Shows only the last four characters of a secret, e.g. `••••a1b2`.
pub fn mask_last4(last4: &str) -> String {
    format!("••••{last4}")
}

/// The last four characters of a secret (what masked reads show).
pub fn last4(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// Errors reading or creating the key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("cannot create {0}: {1}")]
    Write(PathBuf, std::io::Error),
    #[error("{0} is damaged: {1}")]
    Invalid(PathBuf, String),
}

/// Loads `dir/secret.key`, creating it (mode 0600) with a new key on first run.
pub fn load_or_create(dir: &Path) -> Result<(SecretKey, bool), KeyFileError> {
    let path = dir.join("secret.key");
    match std::fs::read_to_string(&path) {
        Ok(text) => SecretKey::from_hex(&text).map(|k| (k, false)).map_err(|r| KeyFileError::Invalid(path, r)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| KeyFileError::Write(path.clone(), e))?;
            let key = SecretKey::generate();
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&path).map_err(|e| KeyFileError::Write(path.clone(), e))?;
            file.write_all(hex::encode(key.0).as_bytes()).map_err(|e| KeyFileError::Write(path.clone(), e))?;
            Ok((key, true))
        }
        Err(e) => Err(KeyFileError::Read(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = std::env::temp_dir().join(format!("vg-key-{}", rand::random::<u64>()));
        let (first, created) = load_or_create(&dir).unwrap();
        assert!(created);
        let (again, created_again) = load_or_create(&dir).unwrap();
        assert!(!created_again);
        assert_eq!(first, again);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("secret.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.join("secret.key"), "nothex").unwrap();
        assert!(matches!(load_or_create(&dir), Err(KeyFileError::Invalid(..))));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn sealed_values_open_only_with_the_same_key_and_context() {
        let key = SecretKey::generate();
        let sealed = key.seal("exotel.api_token", "tok_secret_1234");
        assert!(!sealed.contains("tok_secret"));
        assert_ne!(sealed, key.seal("exotel.api_token", "tok_secret_1234"), "fresh nonce each time");
        assert_eq!(key.open("exotel.api_token", &sealed).unwrap(), "tok_secret_1234");
        assert_eq!(key.open("exotel.api_key", &sealed), Err(OpenError), "bound to its field");
        assert_eq!(SecretKey::generate().open("exotel.api_token", &sealed), Err(OpenError));
        let mut tampered = sealed.clone();
        tampered.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert_eq!(key.open("exotel.api_token", &tampered), Err(OpenError));
        assert_eq!(last4("tok_secret_1234"), "1234");
        assert_eq!(mask_last4(&last4("ab")), "••••ab");
    }

    #[test]
    fn debug_hides_the_key() {
        let key = SecretKey::from_hex(&"ab".repeat(32)).unwrap();
        assert!(!format!("{key:?}").contains("ab"));
    }
}
