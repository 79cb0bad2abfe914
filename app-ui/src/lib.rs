//! The inspector's tablet app (Yew, compiled to wasm32, shown in the Tauri v2 shell
//! `src-tauri/`). Every screen talks to the tablet library through one Tauri command
//! (`api`: a typed `tablet_api::Request`, answered by `tablet::app::App::handle`; see
//! [`backend::call`], behind the [`backend::Backend`] trait) and two raw-bytes commands (`photo`, `signature`). The views and the
//! error the screens read are `tablet-api`'s, the same types the library answers with.
//!
//! Simplified Chinese first, English switchable ([`Lang`]). Nothing typed is lost: each tap
//! is a store command, notes are saved while typing (debounced) and on blur, forms not yet
//! committed are saved as drafts, and the open screen is remembered across restarts.

pub mod backend;
pub mod bridge;
pub mod i18n;
pub mod screens;
pub mod types;

use wasm_bindgen::prelude::*;

/// Mounts the app (called by the generated JS module when it loads).
#[wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<screens::App>::new().render();
}
