//! `sync-server [serve] [--data DIR] [--fixtures DIR] [--listen ADDR] [--demo-password PW]
//! [--port-file F]`: opens (or creates) the database in the data folder, loads and validates
//! the reference data, creates demo accounts, then serves until Ctrl-C or SIGTERM.
//! `sync-server admin …`: see `sync_server::admin`.

use anyhow::{Context, Result};
use std::path::PathBuf;
use std::sync::Arc;
use sync_server::cli::{Cli, Command, ServeArgs};
use sync_server::db::Db;
use sync_server::state::system_clock;
use sync_server::{AppState, ReferenceData, router};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The password of every demo account created from `fixtures/demo/users.json`.
const DEMO_PASSWORD: &str = "demo-2026";

/// `RUST_LOG`, or `info`. Automerge's own spans stay off unless `RUST_LOG` names automerge:
/// at `info` every document load opens spans whose fields (the change graph, formatted with
/// `Debug`) cost about a tenth of the server's CPU during a sync.
fn log_filter() -> tracing_subscriber::EnvFilter {
    let spec = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into());
    let spec = if spec.contains("automerge") {
        spec
    } else {
        format!("{spec},automerge=warn")
    };
    tracing_subscriber::EnvFilter::try_new(&spec).unwrap_or_else(|e| {
        eprintln!("RUST_LOG={spec:?} is not a valid filter ({e}); logging at info");
        tracing_subscriber::EnvFilter::new("info,automerge=warn")
    })
}

fn main() -> Result<()> {
    let cli = Cli::from_env();
    match cli.command {
        Some(Command::Admin(args)) => sync_server::admin::run(args),
        Some(Command::Serve(args)) => serve(args),
        None => serve(cli.serve),
    }
}

#[tokio::main]
async fn serve(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .init();
    let fixtures = args.fixtures.unwrap_or_else(|| PathBuf::from("fixtures"));
    let data = args.data.unwrap_or_else(|| PathBuf::from("data"));
    let listen = args
        .listen
        .unwrap_or_else(|| String::from("127.0.0.1:8080"));
    let password = args
        .demo_password
        .unwrap_or_else(|| DEMO_PASSWORD.to_owned());
    let port_file = args.port_file;
    let reference = ReferenceData::load(&fixtures)
        .with_context(|| format!("loading reference data from {}", fixtures.display()))?;
    std::fs::create_dir_all(data.join("blobs"))
        .with_context(|| format!("creating {}", data.display()))?;
    // Held (shared) until the process ends: `admin restore` refuses while a server runs here.
    let _lock = sync_server::admin::backup::hold_shared(&data)?;
    let db = Db::open(&data.join("server.db"))?;
    let users = reference.users.clone();
    let created = db
        .call(move |conn| sync_server::auth::seed_accounts(conn, &users, &password))
        .await?;
    let listener = sync_server::net::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(
        address = %listener.local_addr()?,
        data = %data.display(),
        accounts_created = created,
        enterprises = reference.enterprises.len(),
        "sync-server listening"
    );
    if let Some(path) = &port_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, listener.local_addr()?.to_string())?;
        std::fs::rename(&tmp, path)?;
    }
    let state = AppState {
        db,
        reference: Arc::new(reference),
        blobs: data.join("blobs"),
        token_ttl_secs: 30 * 24 * 3600,
        clock: system_clock(),
        known_uploads: Default::default(),
        plausibility: Default::default(),
    };
    sync_server::serve(listener, router(state), shutdown()).await?;
    tracing::info!("sync-server stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}
