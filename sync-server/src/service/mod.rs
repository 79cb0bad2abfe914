//! The server's use cases as plain functions over the storage traits (`crate::store`):
//! handlers extract a request, call one of these and map the result to an answer. They know
//! nothing about HTTP; their errors say what happened in the domain's terms.
//!
//! - [`access`]: a stored record's access scope (who may read, write or review it).
//! - [`case_pages`]: the console's case list and case page, and a supervisor's action on a
//!   case (applied and stored as a pushed change is).
//! - [`case_rules`]: each unit's penalty settings, calendar and discretion table (inherited
//!   down the unit tree), and editing them.
//! - [`cases`]: the steps of a penalty-case sync (check by replay, grouped write, pull).
//! - [`casefiles`]: starting case-file exports, the server's signing key, finding a job.
//! - [`checklists`]: checklist templates as XLSX files (download and upload).
//! - [`documents`]: a record's documents as PDF, rendered as the case-file export does.
//! - [`draws`]: 双随机 draws: checking an input, sealing, reading a recorded draw.
//! - [`devices`]: registering a tablet's key under the signed-in user.
//! - [`figures`]: a unit's figures for a period (the index's facts, counted by app-core).
//! - [`index`]: indexing, once, records stored before the console's index existed.
//! - [`ledger`]: the hazard ledger (隐患台账): its rows for a viewer's filters, and its table.
//! - [`lockouts`]: the console's list of locked sign-ins and lifting a lock.
//! - [`numbers`]: reserving document-number blocks for a device.
//! - [`photos`]: the right to a photo (who may name, see and download it).
//! - [`plausibility`]: the evidence-plausibility badges of a record (EXIF, positions, reused
//!   photos, answer pace), with what is expensive kept.
//! - [`reads`]: single records, plans and enterprises for the API, only if readable.
//! - [`record_page`]: what the console shows of one record.
//! - [`reports`]: the list of random-draw visits to publish.
//! - [`review`]: a supervisor approves or returns a record.
//! - [`sessions`]: signing in (before and after the password check), who is behind a token
//!   (the API's and the console's sessions), signing out.
//! - [`sync`]: the steps of a sync (read, check, grouped write, pull).
//! - [`tables`]: tables as CSV and XLSX files.

pub mod access;
pub mod case_pages;
pub mod case_rules;
pub mod casefiles;
pub mod cases;
pub mod checklists;
pub mod devices;
pub mod documents;
pub mod draws;
pub mod figures;
pub mod index;
pub mod ledger;
pub mod lockouts;
pub mod numbers;
pub mod photos;
pub mod plausibility;
pub mod reads;
pub mod record_page;
pub mod reports;
pub mod review;
pub mod sessions;
pub mod sync;
pub mod tables;
