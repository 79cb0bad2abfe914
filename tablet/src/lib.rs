//! The tablet library: the local SQLite store and photo evidence, usable and testable
//! without a window. The Tauri v2 shell (issue: the inspector's tablet app) will be a thin
//! layer of commands over these functions.

pub mod app;
pub mod app_drafts;
pub mod blobs;
pub mod case_sync;
pub mod casefile;
pub mod media;
pub mod numbers;
pub mod photo;
pub mod store;
pub mod sync;
#[cfg(test)]
mod test_fixtures;
pub mod tls;
pub mod upload;
