//! `sync-server --fixtures DIR [--listen ADDR]`: loads and validates the reference data, then
//! serves it until Ctrl-C or SIGTERM.

use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::sync::Arc;
use sync_server::{ReferenceData, router};

#[tokio::main]
async fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let mut fixtures = PathBuf::from("fixtures");
    let mut listen = String::from("127.0.0.1:8080");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--fixtures" => fixtures = args.next().context("--fixtures needs a folder")?.into(),
            "--listen" => listen = args.next().context("--listen needs an address")?,
            other => bail!("unknown argument {other:?} (expected --fixtures DIR, --listen ADDR)"),
        }
    }
    let data = ReferenceData::load(&fixtures)
        .with_context(|| format!("loading reference data from {}", fixtures.display()))?;
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(
        address = %listener.local_addr()?,
        enterprises = data.enterprises.len(),
        templates = data.templates.templates().len(),
        "sync-server listening"
    );
    axum::serve(listener, router(Arc::new(data)))
        .with_graceful_shutdown(shutdown())
        .await?;
    tracing::info!("sync-server stopped");
    Ok(())
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
