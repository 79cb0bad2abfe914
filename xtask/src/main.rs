//! Project automation. Two commands matter on a fresh machine:
//!
//! - `cargo xtask run`  — installs what the system needs, then starts it: today the sync
//!   server serving the demo reference data from `fixtures/` (storage, sync, the console and
//!   the tablet app join as their issues land).
//! - `cargo xtask test` — installs what the checks need, then runs every check: formatting,
//!   clippy with warnings as errors, the wasm32 build of app-core, and the whole test suite,
//!   then the tablet app's end-to-end tests (the real app under Xvfb, driven through
//!   tauri-driver and WebKitWebDriver).
//! - `cargo xtask app` — builds the tablet app and starts it against a local sync server
//!   with the demo data (needs a display; see the README for a headless machine).
//! - `cargo xtask package` — the server's .deb and .rpm (release build); `cargo xtask
//!   app-package [--debug]` — the tablet app's .deb and .rpm from Tauri's bundler.
//!
//! Every install step checks first and does nothing when the thing is already there, so both
//! commands may be run any number of times.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// The fonts the enforcement documents embed (pdf-forms' fallback chain, in
/// `pdf-forms/src/fonts.rs`): the sans body, the sans faces for CJK Extension A and part of
/// B–G, the serif faces for the rest of Extensions B–F and for G and H. Whatever renders
/// documents installs them: the tests, the server (`run`) and the tablet app (`app`).
const PDF_FONTS_APT: &[&str] = &[
    "fonts-wqy-microhei",
    "fonts-noto-cjk",
    "fonts-hanazono",
    "fonts-babelstone-han",
];

/// Debian packages the test suite needs (installed idempotently by `cargo xtask test`, with
/// [`PDF_FONTS_APT`]): PDF checks (`pdftotext`, `pdftoppm`) and the browser the console's
/// end-to-end tests drive.
const TEST_APT: &[&str] = &[
    "poppler-utils",
    "chromium",
    // The tablet app (Tauri v2 on WebKitGTK) and its end-to-end tests.
    "libwebkit2gtk-4.1-dev",
    "build-essential",
    "libxdo-dev",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "webkit2gtk-driver",
    "xvfb",
    "xauth",
    // The server's package test reads the RPM it builds (file list, config files, scripts).
    "rpm",
    // moto's S3-compatible server for the blob-store tests, installed from PyPI into a venv.
    "python3",
    "python3-venv",
];

/// moto (PyPI), whose server mode is the S3-compatible store the blob tests start
/// (`sync-server/tests/common/s3.rs`).
const MOTO_VERSION: &str = "5.2.5";

/// What `cargo xtask app` needs to build and show the app (with [`PDF_FONTS_APT`], whose
/// Micro Hei also shows the screens' Chinese).
const APP_APT: &[&str] = &[
    "libwebkit2gtk-4.1-dev",
    "build-essential",
    "libxdo-dev",
    "libssl-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
];

/// tauri-driver (the WebDriver bridge for Tauri apps); 2.x, not the 3.0 alpha.
const TAURI_DRIVER_VERSION: &str = "2.1.0";

/// The Debian packager (`cargo deb`). Pinned: it warns that a dev-profile package (what the
/// test builds, to avoid a release build) may become an error in a later version.
const CARGO_DEB_VERSION: &str = "3.8.0";

/// The RPM packager (`cargo generate-rpm`), reading the same Cargo.toml metadata.
const CARGO_GENERATE_RPM_VERSION: &str = "0.21.1";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    std::env::set_current_dir(&root)?;
    match args.first().map(String::as_str) {
        Some("test") => test(),
        Some("run") => run(&args[1..]),
        Some("setup") => setup(),
        Some("ui") => ui(),
        Some("app") => app(&args[1..]),
        Some("bench") => bench(),
        Some("screenshots") => screenshots(),
        Some("package") => package(),
        Some("app-package") => app_package(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <command>\n\n  run     start the system with demo data\n  app     start the tablet app against a local server with demo data\n  ui      build the tablet app's Yew bundle into app-ui/dist\n  test    run every check (fmt, clippy, wasm build, tests)\n  bench   run the benchmarks, each beside its anchor\n  screenshots  refresh the README's pictures in docs/screenshots (the end-to-end tests)\n  package  the server's .deb and .rpm (release build) in target/debian and target/generate-rpm\n  app-package  the tablet app's .deb and .rpm with Tauri's bundler (--debug: dev profile)\n  setup   install what the others need (idempotent)"
            );
            std::process::exit(2)
        }
    }
}

/// The workspace this run of `cargo xtask` belongs to, found at run time. Not the compile-time
/// `env!("CARGO_MANIFEST_DIR")`: two clones sharing one `CARGO_TARGET_DIR` can run the same
/// xtask binary (cargo may consider the other clone's build fresh), and it must act on the
/// clone it was started in. `cargo run` sets `CARGO_MANIFEST_DIR` for the process; without
/// it, the nearest directory above the current one whose Cargo.toml declares a workspace.
fn workspace_root() -> PathBuf {
    if let Some(xtask) = std::env::var_os("CARGO_MANIFEST_DIR")
        && let Some(root) = Path::new(&xtask).parent()
    {
        return root.to_path_buf();
    }
    let here = std::env::current_dir().expect("the current directory is readable");
    here.ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|manifest| manifest.lines().any(|l| l.trim() == "[workspace]"))
        })
        .unwrap_or(&here)
        .to_path_buf()
}

/// Runs a command, echoing it, and fails with its exit status.
fn cmd(program: &str, args: &[&str]) -> Result<()> {
    cmd_env(program, args, &[])
}

/// [`cmd`] with environment variables.
fn cmd_env(program: &str, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Result<()> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
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
    ensure_apt(&[TEST_APT, PDF_FONTS_APT].concat())?;
    ensure_tools()?;
    ensure_packaging_tools()?;
    let moto = ensure_moto()?;
    ensure_postgres()?;
    let started = Instant::now();
    // The app shell embeds the Yew bundle at compile time: build it before clippy and tests.
    eprintln!("\n==> the tablet app's Yew bundle");
    ui()?;
    let steps: [(&str, &[&str]); 8] = [
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
        (
            "clippy of the app's end-to-end tests",
            &[
                "clippy",
                "-p",
                "inspection-app",
                "--all-targets",
                "--features",
                "e2e",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ),
        ("tests", &["test", "--workspace", "--locked"]),
        (
            "the sync server binary for the app's end-to-end tests",
            &["build", "--locked", "-p", "sync-server", "--bins"],
        ),
        (
            "the server's Debian package: built from the dev binary, installed, /health, purged",
            &[
                "test",
                "--locked",
                "-p",
                "sync-server",
                "--test",
                "package",
                "--",
                "--ignored",
                "--nocapture",
            ],
        ),
        (
            "the tablet app end to end (Xvfb, tauri-driver, WebKitWebDriver)",
            &[
                "test",
                "--locked",
                "-p",
                "inspection-app",
                "--features",
                "e2e",
                "--",
                "--test-threads=1",
            ],
        ),
    ];
    for (name, args) in steps {
        eprintln!("\n==> {name}");
        if name == "tests" {
            // The S3 blob tests start this moto_server, and fail (not skip) without it; the
            // PostgreSQL tests start a cluster of Debian's PostgreSQL, and fail without it.
            cmd_env(
                "cargo",
                args,
                &[
                    ("MOTO_SERVER", moto.as_os_str()),
                    ("S3_TESTS_REQUIRED", "1".as_ref()),
                    ("PG_TESTS_REQUIRED", "1".as_ref()),
                ],
            )?;
        } else {
            cmd("cargo", args)?;
        }
    }
    eprintln!("\nall checks passed in {:.0?}", started.elapsed());
    Ok(())
}

/// Runs the tests that take pictures (the console in Chromium, the app in WebKit, the PDF
/// forms) with `SCREENSHOTS_DIR=docs/screenshots`: the README's pictures change only when asked
/// (otherwise the tests write them under target/screenshots).
fn screenshots() -> Result<()> {
    setup()?;
    ensure_apt(&[TEST_APT, PDF_FONTS_APT].concat())?;
    ensure_tools()?;
    ui()?;
    let dir = std::env::current_dir()?.join("docs/screenshots");
    let with_dir = |args: &[&str]| -> Result<()> {
        eprintln!(
            "$ SCREENSHOTS_DIR={} cargo {}",
            dir.display(),
            args.join(" ")
        );
        let status = Command::new("cargo")
            .args(args)
            .env("SCREENSHOTS_DIR", &dir)
            .status()
            .context("could not start cargo")?;
        if !status.success() {
            bail!("`cargo {}` failed with {status}", args.join(" "));
        }
        Ok(())
    };
    with_dir(&["build", "--locked", "-p", "sync-server", "--bins"])?;
    with_dir(&[
        "test",
        "--locked",
        "-p",
        "sync-server",
        "--test",
        "console_e2e",
    ])?;
    with_dir(&["test", "--locked", "-p", "pdf-forms", "--test", "forms"])?;
    with_dir(&[
        "test",
        "--locked",
        "-p",
        "inspection-app",
        "--features",
        "e2e",
        "--",
        "--test-threads=1",
    ])?;
    eprintln!("pictures refreshed in {}", dir.display());
    Ok(())
}

/// The `wasm-bindgen` version in Cargo.lock: the CLI must match it exactly.
fn locked_wasm_bindgen() -> Result<String> {
    let lock = std::fs::read_to_string("Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines
                .next()
                .and_then(|l| l.trim().strip_prefix("version = "))
        {
            return Ok(v.trim_matches('"').to_owned());
        }
    }
    bail!("wasm-bindgen is not in Cargo.lock")
}

fn installed_version(program: &str) -> Option<String> {
    let out = Command::new(program).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace().nth(1).map(str::to_owned)
}

/// Installs wasm-bindgen-cli (the Cargo.lock version; not `--locked`: its own lock file
/// names a crate version the registry lacks) and tauri-driver, when missing.
fn ensure_tools() -> Result<()> {
    let wanted = locked_wasm_bindgen()?;
    if installed_version("wasm-bindgen").as_deref() != Some(wanted.as_str()) {
        cmd(
            "cargo",
            &[
                "install",
                "wasm-bindgen-cli",
                "--version",
                &wanted,
                "--force",
            ],
        )?;
    }
    if installed_version("tauri-driver").is_none() {
        cmd(
            "cargo",
            &[
                "install",
                "tauri-driver",
                "--locked",
                "--version",
                TAURI_DRIVER_VERSION,
            ],
        )?;
    }
    Ok(())
}

/// Installs moto's server ([`MOTO_VERSION`], from PyPI) into a virtual environment in the
/// target folder, unless that version is there already; returns its `moto_server`.
fn ensure_moto() -> Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let venv = target.join("tools").join("moto");
    let server = venv.join("bin").join("moto_server");
    let marker = venv.join(format!(".installed-{MOTO_VERSION}"));
    if server.is_file() && marker.is_file() {
        return Ok(server);
    }
    let venv_arg = venv.to_string_lossy().into_owned();
    cmd("python3", &["-m", "venv", "--clear", &venv_arg])?;
    let pip = venv.join("bin").join("pip").to_string_lossy().into_owned();
    cmd(
        &pip,
        &[
            "install",
            "--quiet",
            "--disable-pip-version-check",
            &format!("moto[server]=={MOTO_VERSION}"),
        ],
    )?;
    std::fs::write(&marker, "")?;
    Ok(server)
}

/// Installs cargo-deb and cargo-generate-rpm (pinned versions, `--locked`) when missing.
fn ensure_packaging_tools() -> Result<()> {
    for (tool, version) in [
        ("cargo-deb", CARGO_DEB_VERSION),
        ("cargo-generate-rpm", CARGO_GENERATE_RPM_VERSION),
    ] {
        if installed_version(tool).as_deref() != Some(version) {
            cmd(
                "cargo",
                &["install", tool, "--locked", "--version", version, "--force"],
            )?;
        }
    }
    Ok(())
}

/// The server's packages from a release build: `target/debian/inspection-sync-server_*.deb`
/// (cargo-deb builds and strips) and `target/generate-rpm/inspection-sync-server-*.rpm`
/// (cargo-generate-rpm packages the binary as it is, so it is stripped first).
fn package() -> Result<()> {
    setup()?;
    ensure_packaging_tools()?;
    cmd("cargo", &["deb", "--locked", "-p", "sync-server"])?;
    let target_dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let binary = Path::new(&target_dir).join("release/sync-server");
    cmd(
        "strip",
        &["-s", binary.to_str().context("target path is not UTF-8")?],
    )?;
    cmd("cargo", &["generate-rpm", "-p", "sync-server"])?;
    eprintln!(
        "packages: {target_dir}/debian/inspection-sync-server_*.deb, {target_dir}/generate-rpm/inspection-sync-server-*.rpm"
    );
    Ok(())
}

/// The tablet app's .deb and .rpm from Tauri's own bundler (tauri-cli, as npm ships it
/// prebuilt, pinned in `src-tauri/bundler/package-lock.json`), into
/// `<target>/{release,debug}/bundle/{deb,rpm}/`. A release build of the app takes many
/// minutes on two cores; `--debug` packages the dev-profile build instead.
fn app_package(extra: &[String]) -> Result<()> {
    setup()?;
    ensure_apt(&[APP_APT, PDF_FONTS_APT].concat())?;
    ui()?;
    if !Path::new("src-tauri/bundler/node_modules/.bin/tauri").exists() {
        cmd(
            "npm",
            &[
                "ci",
                "--prefix",
                "src-tauri/bundler",
                "--no-audit",
                "--no-fund",
            ],
        )?;
    }
    // `bundle.active` stays false in tauri.conf.json: with it true, a plain `cargo build` of
    // the app (the end-to-end tests' binary) shows an empty window. The bundler turns it on here.
    let mut args = vec!["build", "--ci", "--config", r#"{"bundle":{"active":true}}"#];
    args.extend(extra.iter().map(String::as_str));
    eprintln!(
        "$ (cd src-tauri && bundler/node_modules/.bin/tauri {})",
        args.join(" ")
    );
    let status = Command::new("bundler/node_modules/.bin/tauri")
        .args(&args)
        .current_dir("src-tauri")
        .status()
        .context("could not start tauri (src-tauri/bundler)")?;
    if !status.success() {
        bail!("`tauri {}` failed with {status}", args.join(" "));
    }
    Ok(())
}

/// Builds the Yew front end for wasm32 (release, `opt-level = "s"`) and writes the bundle
/// the app shell embeds: `app-ui/dist/{index.html, style.css, app_ui.js, app_ui_bg.wasm}`.
fn ui() -> Result<()> {
    setup()?;
    ensure_tools()?;
    cmd(
        "cargo",
        &[
            "build",
            "--locked",
            "-p",
            "app-ui",
            "--lib",
            "--release",
            "--target",
            WASM_TARGET,
        ],
    )?;
    let target_dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let wasm = Path::new(&target_dir)
        .join(WASM_TARGET)
        .join("release/app_ui.wasm");
    let dist = Path::new("app-ui/dist");
    std::fs::create_dir_all(dist)?;
    cmd(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-dir",
            "app-ui/dist",
            wasm.to_str().context("target path is not UTF-8")?,
        ],
    )?;
    for file in ["index.html", "style.css"] {
        let from = Path::new("app-ui/static").join(file);
        let to = dist.join(file);
        // Rewrite only when changed, so the shell is not rebuilt for nothing.
        let new = std::fs::read(&from)?;
        if std::fs::read(&to).ok().as_deref() != Some(&new[..]) {
            std::fs::write(&to, new)?;
        }
    }
    Ok(())
}

/// Starts the sync server with the demo data and the tablet app against it.
fn app(extra: &[String]) -> Result<()> {
    setup()?;
    ensure_apt(&[APP_APT, PDF_FONTS_APT].concat())?;
    ui()?;
    cmd(
        "cargo",
        &[
            "build",
            "--locked",
            "-p",
            "sync-server",
            "-p",
            "inspection-app",
        ],
    )?;
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        bail!(
            "no display: the app needs one. On a headless machine run `xvfb-run -s '-screen 0 1280x800x24' cargo xtask app` \
             (nothing is visible, but the app runs), or `cargo xtask test`, whose end-to-end tests drive the app \
             under Xvfb and save screenshots in target/screenshots/app-*.png"
        );
    }
    let target_dir = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    let bin = |name: &str| Path::new(&target_dir).join("debug").join(name);
    std::fs::create_dir_all("data")?;
    let mut server = Command::new(bin("sync-server"))
        .args([
            "--data",
            "data",
            "--fixtures",
            "fixtures",
            "--listen",
            "127.0.0.1:8080",
            // The demo units, users and accounts (password demo-2026); off unless asked for.
            "--demo",
        ])
        .spawn()
        .context("could not start the sync server")?;
    eprintln!("sync server on http://127.0.0.1:8080 (sign in as u-wang / demo-2026)");
    let mut app = Command::new(bin("inspection-app"));
    app.env("INSPECTION_SERVER", "http://127.0.0.1:8080")
        .env("INSPECTION_DATA", "data/tablet");
    for a in extra {
        app.arg(a);
    }
    let status = app.status().context("could not start the app");
    let _ = server.kill();
    let _ = server.wait();
    let status = status?;
    if !status.success() {
        bail!("the app exited with {status}");
    }
    Ok(())
}

/// Installs Debian's PostgreSQL server unless one is there (any `/usr/lib/postgresql/*/bin/initdb`):
/// the storage tests start a throwaway cluster of it (`sync-server/tests/common/pg.rs`). The
/// package's own cluster and service are not used.
fn ensure_postgres() -> Result<()> {
    let installed = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| e.path().join("bin").join("initdb").is_file());
    if installed {
        return Ok(());
    }
    cmd("apt-get", &["update", "-q"])?;
    cmd(
        "apt-get",
        &[
            "install",
            "-y",
            "-q",
            "--no-install-recommends",
            "postgresql",
        ],
    )
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
    // Anchors: vipsthumbnail (photo ingest), openssl (SHA-256, the case-file floor) and the
    // JavaScript automerge-repo sync server (npm; run by the sync bench itself).
    ensure_apt(&["libvips-tools", "openssl"])?;
    // PostgreSQL (Debian's): the city bench runs the console's queries on it too.
    ensure_postgres()?;
    cmd("cargo", &["bench", "--locked", "-p", "inspection-tablet"])?;
    cmd(
        "cargo",
        &["bench", "--locked", "-p", "casefile", "--bench", "export"],
    )?;
    let sync = ["bench", "--locked", "-p", "sync-server", "--bench", "sync"];
    cmd("cargo", &sync)?;
    // Issue 18, past one machine: the upload run on SQLite, PostgreSQL with one node and with
    // two (CPU per document beside SQLite's, 10 and 100 tablets × 10,000 documents); then sync
    // as deployed beside upload-only, and a new tablet's first sign-in in a unit of 50,000
    // records. Each is its own run of the sync bench (see its doc comment).
    let no_ref: (&str, &std::ffi::OsStr) = ("SYNC_BENCH_NO_REF", "1".as_ref());
    cmd_env(
        "cargo",
        &sync,
        &[no_ref, ("SYNC_BENCH_BACKENDS", "sqlite,pg,pg2".as_ref())],
    )?;
    cmd_env("cargo", &sync, &[no_ref, ("SYNC_BENCH_PULL", "1".as_ref())])?;
    // The console at city scale (issue 18): 1M inspections on SQLite and PostgreSQL.
    cmd(
        "cargo",
        &["bench", "--locked", "-p", "sync-server", "--bench", "city"],
    )
}

fn run(extra: &[String]) -> Result<()> {
    // Where a display exists, the system includes the tablet app (server and console too).
    if std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some() {
        return app(extra);
    }
    setup()?;
    ensure_apt(PDF_FONTS_APT)?;
    let mut args = vec![
        "run",
        "--locked",
        "-p",
        "sync-server",
        "--",
        "--fixtures",
        "fixtures",
        // The demo units, users and accounts (password demo-2026); off unless asked for.
        "--demo",
    ];
    args.extend(extra.iter().map(String::as_str));
    // The allocator as the installed service sets it (packaging/debian/inspection-sync.service),
    // unless the environment says otherwise.
    let eager = std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT")
        .unwrap_or_else(|| std::ffi::OsString::from("0"));
    cmd_env("cargo", &args, &[("MIMALLOC_ARENA_EAGER_COMMIT", &eager)])
}
