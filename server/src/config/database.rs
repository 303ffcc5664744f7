//! How Voxgate signs in to a SurrealDB server (VOXGATE_DATABASE_AUTH).

use std::fmt;

/// The level VOXGATE_DATABASE_USER is defined on: SurrealDB signs each one in differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DatabaseAuth {
    /// A root user (`DEFINE USER … ON ROOT`): the default.
    #[default]
    Root,
    /// A user of the namespace (`DEFINE USER … ON NAMESPACE`).
    Namespace,
    /// A user of the database only (`DEFINE USER … ON DATABASE`): the least privilege Voxgate
    /// needs (role EDITOR: it defines its own tables, fields and indexes).
    Database,
}

impl DatabaseAuth {
    /// Parses `root`, `namespace` or `database`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "root" => Ok(Self::Root),
            "namespace" | "ns" => Ok(Self::Namespace),
            "database" | "db" => Ok(Self::Database),
            _ => Err(format!("{raw:?} is not a SurrealDB user level; use root, namespace or database")),
        }
    }

    /// The setting's value for this level.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Root => "root",
            Self::Namespace => "namespace",
            Self::Database => "database",
        }
    }
}

impl fmt::Display for DatabaseAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::DatabaseAuth;

    #[test]
    fn levels_parse_and_print_back() {
        for level in [DatabaseAuth::Root, DatabaseAuth::Namespace, DatabaseAuth::Database] {
            assert_eq!(DatabaseAuth::parse(level.as_str()), Ok(level));
        }
        assert_eq!(DatabaseAuth::parse(" Database "), Ok(DatabaseAuth::Database));
        assert!(DatabaseAuth::parse("scope").unwrap_err().contains("root, namespace or database"));
    }
}
