//! The typed contract between the tablet app's screens (`app-ui`, wasm32), the tablet
//! library (`tablet::app::App`) and the Tauri shell (`src-tauri`) that carries it.
//!
//! - [`Request`]: one variant per operation, with typed arguments; each argument struct
//!   implements [`Call`], which names the type of its answer, so the screens match a
//!   request to its answer at compile time.
//! - [`Answer`]: what the shell returns; [`Serve`]: what the tablet implements, one method
//!   per operation returning that operation's answer type.
//! - What an edit changed ([`RecordChange`]), which the screens apply to the
//!   [`RecordView`] they hold.
//! - The views the screens read ([`Home`], [`RecordView`], [`CaseView`], [`ExportStatus`],
//!   [`SyncStatus`], …) and one error, [`ApiError`], with a stable [`ErrorCode`].
//!
//! No JSON values and no method names cross the boundary: both sides compile against these
//! types. The crate depends only on app-core and serde, so it builds for
//! `wasm32-unknown-unknown` with the screens.

mod case;
mod change;
mod error;
mod photo;
mod request;
mod sync;
mod views;

pub use case::{CaseRow, CaseText, CaseView, RecordingFile, unnumbered};
pub use change::{FieldChange, RecordChange, Revision, THUMB_SCHEME, diff, patch, thumb_url};
pub use error::{ApiError, ApiResult, ErrorCode};
pub use photo::{DocumentNotice, ExportState, ExportStatus, PhotoAnswer, PhotoArgs, PhotoLink};
pub use request::*;
pub use sync::{
    NumbersAfterSync, Pending, Rejected, SyncOutcome, SyncReport, SyncState, SyncStatus,
    UploadFailure, UploadProgress, UploadReport,
};
pub use views::{
    AppStatus, CopyFile, DocumentPreview, EnterpriseCopy, HazardDue, HazardRow, Home,
    InspectionRow, NumbersView, PlanInspection, PlanView, RecordView, ReturnedView, SignedView,
    Stock, TopUpOutcome,
};
