//! Project automation. Two commands matter on a fresh machine:
//!
//! - `cargo xtask run`  — installs what the system needs, then starts it: today the sync
//!   server serving the demo reference data from `fixtures/` (storage, sync, the console and
//!   the tablet app join as their issues land).
//! - `cargo xtask test` — installs what the checks need, then runs every check: formatting,
//!   clippy with warnings as errors, the wasm32 build of app-core, and the whole test suite.
//!
//! Every install step checks first and does nothing when the thing is already there, so both
//! commands may be run any number of times.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Debian packages the test suite needs (installed idempotently by `cargo xtask test`):
/// PDF checks (`pdftotext`, `pdftoppm`), the CJK fonts the documents embed, and the browser
/// the console's end-to-end tests drive.
const TEST_APT: &[&str] = &[
    "poppler-utils",
    "fonts-wqy-microhei",
    "fonts-hanazono",
    "chromium",
];

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("run") => run(&args[1..]),
        Some("setup") => setup(),
        Some("bench") => bench(),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  run     start the system with demo data\n  test    run every check (fmt, clippy, wasm build, tests)\n  bench   run the benchmarks, each beside its anchor\n  setup   install what the others need (idempotent)"
            );
            std::process::exit(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

/// Runs a command, echoing it, and fails with its exit status.
fn cmd(program: &str, args: &[&str]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("could not start {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .with_context(|| format!("could not start {program}"))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Installs the toolchain pieces (idempotent: rustup skips what is installed).
fn setup() -> Result<()> {
    let installed = output("rustup", &["target", "list", "--installed"])?;
    if !installed.lines().any(|l| l.trim() == WASM_TARGET) {
        cmd("rustup", &["target", "add", WASM_TARGET])?;
    }
    let components = output("rustup", &["component", "list", "--installed"])?;
    for component in ["rustfmt", "clippy"] {
        if !components.lines().any(|l| l.starts_with(component)) {
            cmd("rustup", &["component", "add", component])?;
        }
    }
    Ok(())
}

fn test() -> Result<()> {
    setup()?;
    ensure_apt(TEST_APT)?;
    let started = Instant::now();
    let steps: [(&str, &[&str]); 4] = [
        ("formatting", &["fmt", "--all", "--check"]),
        (
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ),
        (
            "app-core for wasm32",
            &[
                "build",
                "--locked",
                "-p",
                "app-core",
                "--target",
                WASM_TARGET,
            ],
        ),
        ("tests", &["test", "--workspace", "--locked"]),
    ];
    for (name, args) in steps {
        eprintln!("\n==> {name}");
        cmd("cargo", args)?;
    }
    eprintln!("\nall checks passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Installs Debian packages that are missing (idempotent: installed ones are skipped, and
/// `apt-get update` runs only when something must be installed).
fn ensure_apt(packages: &[&str]) -> Result<()> {
    let missing: Vec<&str> = packages
        .iter()
        .copied()
        .filter(|p| {
            !output("dpkg-query", &["-W", "-f=${Status}", p])
                .unwrap_or_default()
                .contains("install ok installed")
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    cmd("apt-get", &["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    cmd("apt-get", &args)
}

/// Benchmarks, each printed beside its anchor from the same run.
fn bench() -> Result<()> {
    setup()?;
    // Anchors: vipsthumbnail (photo ingest) and openssl (SHA-256).
    ensure_apt(&["libvips-tools", "openssl"])?;
    cmd("cargo", &["bench", "--locked", "-p", "inspection-tablet"])
}

fn run(extra: &[String]) -> Result<()> {
    setup()?;
    let mut args = vec![
        "run",
        "--locked",
        "-p",
        "sync-server",
        "--",
        "--fixtures",
        "fixtures",
    ];
    args.extend(extra.iter().map(String::as_str));
    cmd("cargo", &args)
}
