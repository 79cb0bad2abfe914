//! `sync-server [serve] [--config FILE] [--data DIR] [--fixtures DIR] [--listen ADDR] [--demo]
//! [--demo-password PW] [--port-file F]`: reads the settings (`config.rs`), opens (or creates)
//! the database in the data folder, loads and validates the reference data, creates the demo
//! accounts when demo is on, then serves until Ctrl-C or SIGTERM.
//! `sync-server admin …`: see `sync_server::admin`.

use anyhow::{Context, Result};
use sync_server::cli::{Cli, Command, ServeArgs};
use sync_server::config::Config;
use sync_server::db::Db;
use sync_server::state::system_clock;
use sync_server::{AppState, ReferenceData, router_with};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

fn main() -> std::process::ExitCode {
    let cli = Cli::from_env();
    let result = match cli.command {
        Some(Command::Admin(args)) => sync_server::admin::run(args),
        Some(Command::Serve(args)) => serve(args),
        None => serve(cli.serve),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One line an operator can act on (journald keeps it), causes joined by ": ".
            eprintln!("sync-server: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn serve(args: ServeArgs) -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(log_filter())
        .init();
    // Flags over the environment over the configuration file over the defaults; every value
    // checked before anything starts, errors naming the setting.
    let env = sync_server::config::ProcessEnv;
    let config = Config::load(&args, &env)?;
    for name in Config::unknown_env(&env) {
        tracing::warn!(variable = %name, "an environment variable names no setting; ignored");
    }
    config.validate()?;
    let data = config.data.clone();
    let reference = if config.demo.enabled {
        ReferenceData::load(&config.fixtures)
    } else {
        ReferenceData::load_checklists(&config.fixtures)
    }
    .map_err(|e| config.error("fixtures", format!("loading reference data: {e}")))?;
    std::fs::create_dir_all(&data)
        .map_err(|e| config.error("data", format!("creating {}: {e}", data.display())))?;
    // The photo blobs: a folder, or S3-compatible storage checked now (reachable, the bucket
    // there, the key allowed to write), so a wrong setting stops the start with its reason.
    let location = config.blob_location()?;
    let blobs = sync_server::blobstore::Blobs::open(&location)
        .await
        .map_err(|e| config.error("blobs.store", e))?;
    tracing::info!(store = %blobs.describe(), "photo blob store ready");
    sync_server::signin::configure(config.signin_settings());
    // Held (shared) until the process ends: `admin restore` refuses while a server runs here.
    let _lock = sync_server::admin::backup::hold_shared(&data)?;
    let db = match config
        .database_location()
        .map_err(|e| config.error("database", e))?
    {
        sync_server::config::DatabaseLocation::Sqlite(_) => Db::open(&data.join("server.db"))?,
        sync_server::config::DatabaseLocation::Postgres(url) => {
            let opened = tokio::task::spawn_blocking(move || Db::open_postgres(&url))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            opened.map_err(|e| config.error("database", e))?
        }
    };
    tracing::info!(
        database = %config.database_location().map(|l| l.describe()).unwrap_or_default(),
        "database ready"
    );
    // Units, users and enterprises: seeded from the fixtures into a fresh database, then
    // read from it (`sync-server admin` changes them there).
    let (reference, version) = db
        .call(move |conn| {
            sync_server::reference::open_from_database(conn, reference)
                .map_err(sync_server::error::Internal::new)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
        .context("reference data in the database")?;
    // The server's key exists from the first start, so that every backup holds the key that
    // seals the server's changes (review decisions) and signs case files made after it. Made
    // under the database's write lock: two nodes starting together on one database would
    // otherwise both start the key history, and the second insert would stop its node.
    db.call(|conn| {
        use sync_server::store::Transactions;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let tx = conn.begin_immediate()?;
        sync_server::service::casefiles::server_key(&tx, now)
            .map_err(|e| sync_server::error::Internal::new(e.to_string()))?;
        tx.commit()?;
        Ok::<_, sync_server::error::Internal>(())
    })
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
    .context("the server key")?;
    let created = if config.demo.enabled {
        let users = reference.users.clone();
        let password = config.demo.password.clone();
        let (fixtures, units) = (config.fixtures.clone(), reference.units.clone());
        tracing::warn!(
            "demo.enabled: every demo user of {} signs in with the demo password; never in service",
            config.fixtures.join("demo/users.json").display()
        );
        // In one transaction that holds the database's write lock (`BEGIN IMMEDIATE`, on
        // PostgreSQL its advisory lock): nodes starting together on one database each see
        // the accounts the other made, instead of both inserting them and one failing.
        db.call(move |conn| -> sync_server::error::InternalResult<usize> {
            use sync_server::store::Transactions;
            let tx = conn.begin_immediate()?;
            let created = sync_server::auth::seed_accounts(&tx, &users, &password)?;
            // The demo units' discretion tables (issue 19), unless a supervisor uploaded one.
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            sync_server::service::case_rules::seed_demo_tables(&tx, &fixtures, &units, now_ms)
                .map_err(sync_server::error::Internal::new)?;
            tx.commit()?;
            Ok(created)
        })
        .await?
    } else {
        0
    };
    let mut serving = config.serve_config();
    if let (Some(cert), Some(key)) = (&config.tls.cert, &config.tls.key) {
        serving.tls = Some(
            sync_server::net::tls_config(cert, key).map_err(|e| config.error(e.setting(), e))?,
        );
    }
    let listener = sync_server::net::bind(&config.listen)
        .await
        .map_err(|e| config.error("listen", format!("binding {}: {e}", config.listen)))?;
    tracing::info!(
        address = %listener.local_addr()?,
        data = %data.display(),
        demo = config.demo.enabled,
        accounts_created = created,
        enterprises = reference.enterprises.len(),
        https = serving.tls.is_some(),
        "sync-server listening"
    );
    if let Some(path) = &args.port_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, listener.local_addr()?.to_string())?;
        std::fs::rename(&tmp, path)?;
    }
    let live = sync_server::reference::LiveReference::new(reference, Some(version));
    sync_server::reference::watch(db.clone(), live.clone(), std::time::Duration::from_secs(1));
    sync_server::blobstore::sweep_periodically(
        blobs.clone(),
        sync_server::blobstore::ABANDONED_AFTER,
        std::time::Duration::from_secs(6 * 3600),
    );
    let state = AppState {
        db,
        reference: live,
        data: data.clone(),
        blobs,
        token_ttl_secs: config.token_ttl_secs(),
        clock: system_clock(),
        known_uploads: Default::default(),
        plausibility: Default::default(),
    };
    sync_server::net::serve_with(
        listener,
        router_with(state, config.limits.max_body_bytes),
        shutdown(),
        serving,
    )
    .await?;
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
