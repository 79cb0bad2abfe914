//! The domain model of the work-safety inspection system and its rules.
//!
//! Architecture invariant: this crate knows nothing about SQLite, Tauri, HTTP, files or the
//! clock. Values go in, values (or errors that say why) come out; "now", "today" and any
//! randomness are arguments. It compiles to `wasm32-unknown-unknown` so the tablet UI, the
//! sync server and the console all run the same rules.

pub mod access;
pub mod checklist;
pub mod checklist_sheet;
pub mod delivery;
pub mod docnumber;
pub mod document;
#[cfg(test)]
mod document_props;
pub mod draw;
pub mod enterprise;
pub mod evidence;
pub mod figures;
pub mod forms;
pub mod geo;
#[cfg(test)]
mod golden_tests;
pub mod hazard;
pub mod ids;
pub mod inspection;
pub mod judge;
#[cfg(test)]
mod judge_props;
pub mod kind;
pub mod legal;
pub mod messages;
pub mod paper;
pub mod penalty;
pub mod plan;
pub mod plausibility;
pub mod settings;
pub mod signing;
#[cfg(test)]
mod test_support;
pub mod unit;
pub mod uscc;
pub mod user;
pub mod wire;
