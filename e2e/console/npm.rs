//! The console's browser scripts (this folder) for the tests that run them: where they are,
//! and their pinned playwright-core (package-lock.json) installed when missing. Included by
//! `sync-server/tests/console_e2e.rs` and `src-tauri/tests/e2e.rs` with `#[path]`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// This folder (both including crates sit one level below the workspace's root).
pub fn e2e_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../e2e/console")
}

/// Installs the pinned playwright-core when it is missing.
pub fn ensure_node_modules() {
    let dir = e2e_dir();
    if dir.join("node_modules/playwright-core").exists() {
        return;
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm runs (Debian package nodejs/npm)");
    assert!(status.success(), "npm ci in e2e/console failed");
}
