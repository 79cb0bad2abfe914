//! The console's browser scripts (this folder) for the tests that run them: where they are,
//! their pinned playwright-core (package-lock.json) installed when missing, and one run of a
//! script with its JSON result. Included by
//! `sync-server/tests/console_e2e.rs` and `src-tauri/tests/e2e.rs` with `#[path]`.

use std::ffi::OsStr;
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

/// Runs `script` of this folder under node with `vars` in its environment and `E2E_OUT` set
/// to `out`; answers the JSON the script wrote there. A script that fails fails the test,
/// with its output and what it had seen so far.
pub fn run_script<I, K, V>(script: &str, out: &Path, vars: I) -> serde_json::Value
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<OsStr>,
    V: AsRef<OsStr>,
{
    let run = Command::new("node")
        .arg(e2e_dir().join(script))
        .env("E2E_OUT", out)
        .envs(vars)
        .output()
        .expect("node runs");
    let result: serde_json::Value = std::fs::read_to_string(out)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    assert!(
        run.status.success(),
        "browser script {script} failed: {}\n{}\nresult so far: {result:#}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    result
}
