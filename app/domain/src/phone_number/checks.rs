//! What Voxgate last learnt from a number's provider (the ownership check), and the report of a
//! bulk import.

use serde::{Deserialize, Serialize};

use crate::FieldError;

choice_enum! {
    /// The outcome of asking the provider whether its account owns the number (serde: snake_case).
    pub enum VerifyStatus {
        Verified = ("verified", "Verified"),
        NotOwned = ("not_owned", "Not in this account"),
        NotVoice = ("not_voice", "No voice calls"),
        Credentials = ("credentials", "Credentials refused"),
        Unreachable = ("unreachable", "Provider unreachable"),
        RateLimited = ("rate_limited", "Rate limited"),
        Unsupported = ("unsupported", "Not checked"),
    }
}

impl VerifyStatus {
    /// Whether the outcome says something about the number (not about reaching the provider):
    /// only these change whether the number counts as verified.
    pub fn is_answer(self) -> bool {
        matches!(self, Self::Verified | Self::NotOwned | Self::NotVoice | Self::Credentials)
    }
}

/// The last ownership check of a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VerificationView {
    pub status: VerifyStatus,
    /// What happened and what to do, for the card.
    pub message: String,
    /// The field the outcome is about (`phoneNumber`, `twilioConfig.authToken`, …), if any.
    #[serde(default)]
    pub field: Option<String>,
    /// When the provider was asked.
    pub checked_at: String,
    /// Seconds the provider asked us to wait (a 429's Retry-After).
    #[serde(default)]
    pub retry_after: Option<u64>,
}

/// One row a bulk import could not take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportRowError {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    pub phone_number: Option<String>,
    pub errors: Vec<FieldError>,
}

/// What a bulk import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    /// Data rows read.
    pub rows: usize,
    /// Numbers newly imported.
    pub imported: usize,
    /// Rows naming a number this account already has with the same settings (nothing changed).
    pub unchanged: usize,
    /// Rows that changed a number this account already had.
    pub updated: usize,
    pub failed: Vec<ImportRowError>,
    /// True when only a preview was asked for: nothing was written.
    #[serde(default)]
    pub dry_run: bool,
    /// A preview's rows as read (the first thousand).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preview: Vec<PreviewRow>,
}

/// One row of a preview, as the file gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PreviewRow {
    pub line: u64,
    pub phone_number: String,
    pub display_name: String,
    pub provider: String,
    /// What the import would do: `import`, `update`, `unchanged` or `error`.
    pub action: String,
}

/// An import running in the background, as its progress bar sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ImportProgress {
    pub id: String,
    /// Data rows in the file.
    pub total: usize,
    pub done: usize,
    pub finished: bool,
    pub report: Option<ImportReport>,
    /// A whole-file problem (nothing was imported).
    pub error: Option<String>,
}

choice_enum! {
    /// How one doctor check went (serde: lowercase).
    pub enum CheckStatus {
        Pass = ("pass", "OK"),
        Warn = ("warn", "Warning"),
        Fail = ("fail", "Failed"),
        Skip = ("skip", "Not applicable"),
    }
}

/// One line of a number's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DoctorCheck {
    /// `public_url`, `credentials`, `ownership`, `stream_settings`, `agent`, `number_status`.
    pub id: String,
    pub title: String,
    pub status: CheckStatus,
    /// What was found.
    pub message: String,
    /// What to do about it (empty when nothing).
    pub fix: String,
    /// The setup guide's section that fixes it (`#exotel-credentials`, …).
    pub guide: String,
}

/// A number's checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct DoctorReport {
    pub phone_id: String,
    pub phone_number: String,
    pub provider: String,
    /// No check failed.
    pub ok: bool,
    pub checks: Vec<DoctorCheck>,
}
