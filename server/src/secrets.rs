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
    fn debug_hides_the_key() {
        let key = SecretKey::from_hex(&"ab".repeat(32)).unwrap();
        assert!(!format!("{key:?}").contains("ab"));
    }
}
