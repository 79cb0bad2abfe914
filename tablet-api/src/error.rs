//! The one error the screens receive: a stable code to branch on, the field it belongs to
//! (so the screen shows it next to what caused it), and the text in Simplified Chinese and
//! English. Never a string to parse.

use serde::{Deserialize, Serialize};

/// What kind of failure an [`ApiError`] is, for the screen to branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// No session on this tablet: sign in first.
    NotSignedIn,
    /// Something the inspector has to fill in or choose is missing or wrong.
    Input,
    /// The record's rules refuse the command (nothing was written).
    Refused,
    /// The record (or the signed version) is not on this tablet.
    NotFound,
    /// The server could not be reached.
    Offline,
    /// The server refused the user name or password.
    Unauthorized,
    /// The server answered with a refusal or an error.
    Server,
    /// Document numbers (文号): none left, or the pool failed.
    Numbers,
    /// A photo was refused or could not be stored.
    Photo,
    /// A handwritten signature was refused or could not be stored.
    Signature,
    /// A case-file (电子案卷) export could not start or failed.
    Export,
    /// The tablet's own storage (database, folders) failed.
    Storage,
    /// A request or answer that does not fit the contract, or a failure inside the app.
    Internal,
    /// The tablet refused to talk to the server: a plain `http://` address off this device,
    /// or a server certificate it does not trust (nothing was sent).
    Untrusted,
    /// The administrator revoked this tablet (reported lost): only uploading what it holds
    /// is still possible.
    DeviceRevoked,
}

/// An error for the screen: Simplified Chinese first, English beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    pub code: ErrorCode,
    /// The form field it belongs to (`password`, `measures`, `numbers`, …), if any.
    pub field: Option<String>,
    pub zh: String,
    pub en: String,
}

/// The screens show an error in their language (`app_core::messages::Lang::err`).
impl app_core::messages::Bilingual for ApiError {
    fn zh(&self) -> String {
        self.zh.clone()
    }
    fn en(&self) -> String {
        self.en.clone()
    }
}

impl ApiError {
    pub fn new(code: ErrorCode, zh: impl Into<String>, en: impl Into<String>) -> Self {
        Self {
            code,
            field: None,
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The same error, shown next to `field`.
    pub fn at(mut self, field: &str) -> Self {
        self.field = Some(field.to_owned());
        self
    }

    /// A failure inside the app or its bridge, with one text for both languages.
    pub fn internal(text: &str) -> Self {
        Self::new(ErrorCode::Internal, text, text)
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en)
    }
}

impl std::error::Error for ApiError {}

impl From<app_core::inspection::RecordError> for ApiError {
    /// A rule's refusal: the rule's own Chinese text (`app_core::messages`, as the console
    /// shows it), its English `Display`, and the form field it concerns.
    fn from(e: app_core::inspection::RecordError) -> Self {
        let mut err = ApiError::new(ErrorCode::Refused, e.zh(), e.to_string());
        err.field = e.field().map(str::to_owned);
        err
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
