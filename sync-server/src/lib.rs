//! The sync server. Today it loads the reference data (units, users, enterprises, checklist
//! templates) from a fixtures folder, validates all of it with app-core's rules, and serves it
//! read-only over HTTP. Storage, authentication, the sync protocol and the console come with
//! their own issues; nothing here pretends to do those yet.

use app_core::checklist::{ChecklistTemplate, TemplateLibrary};
use app_core::enterprise::Enterprise;
use app_core::unit::{Unit, UnitTree};
use app_core::user::User;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// Why the reference data could not be loaded. Each message names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Units, users, enterprises and templates, validated together.
#[derive(Debug)]
pub struct ReferenceData {
    pub units: UnitTree,
    pub users: Vec<User>,
    pub enterprises: Vec<Enterprise>,
    pub templates: TemplateLibrary,
}

fn read(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn invalid(path: &Path, message: impl ToString) -> LoadError {
    LoadError::Invalid {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

fn json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, LoadError> {
    serde_json::from_str(&read(path)?).map_err(|e| invalid(path, e))
}

impl ReferenceData {
    /// Loads `demo/units.json`, `demo/users.json`, `demo/enterprises.json` and every
    /// `checklists/*.toml` below `fixtures`.
    pub fn load(fixtures: &Path) -> Result<Self, LoadError> {
        let units_path = fixtures.join("demo/units.json");
        let units: Vec<Unit> = json(&units_path)?;
        let units = UnitTree::new(units).map_err(|e| invalid(&units_path, e))?;
        let users_path = fixtures.join("demo/users.json");
        let users: Vec<User> = json(&users_path)?;
        if let Some(u) = users.iter().find(|u| units.get(&u.unit).is_none()) {
            return Err(invalid(
                &users_path,
                format!("user {} belongs to unknown unit {}", u.id, u.unit),
            ));
        }
        let enterprises_path = fixtures.join("demo/enterprises.json");
        let enterprises: Vec<Enterprise> = json(&enterprises_path)?;
        for e in &enterprises {
            if units.get(&e.unit).is_none() {
                return Err(invalid(
                    &enterprises_path,
                    format!("enterprise {} lies in unknown unit {}", e.id, e.unit),
                ));
            }
            if let Some(i) = &e.responsible_inspector
                && !users.iter().any(|u| &u.id == i && u.is_inspector())
            {
                return Err(invalid(
                    &enterprises_path,
                    format!("enterprise {}: {i} is not an inspector", e.id),
                ));
            }
        }
        let dir = fixtures.join("checklists");
        let mut paths: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|source| LoadError::Read {
                path: dir.display().to_string(),
                source,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        let templates = paths
            .iter()
            .map(|p| ChecklistTemplate::parse_toml(&read(p)?).map_err(|e| invalid(p, e)))
            .collect::<Result<Vec<_>, _>>()?;
        let templates = TemplateLibrary::new(templates).map_err(|e| invalid(&dir, e))?;
        Ok(Self {
            units,
            users,
            enterprises,
            templates,
        })
    }
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    units: usize,
    users: usize,
    enterprises: usize,
    templates: usize,
}

async fn health(State(data): State<Arc<ReferenceData>>) -> Json<Health> {
    Json(Health {
        status: "ok",
        units: data.units.units().count(),
        users: data.users.len(),
        enterprises: data.enterprises.len(),
        templates: data.templates.templates().len(),
    })
}

async fn checklists(State(data): State<Arc<ReferenceData>>) -> Json<Vec<ChecklistTemplate>> {
    Json(data.templates.templates().to_vec())
}

async fn units(State(data): State<Arc<ReferenceData>>) -> Json<Vec<Unit>> {
    Json(data.units.units().cloned().collect())
}

/// The HTTP API over the reference data.
pub fn router(data: Arc<ReferenceData>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/v1/reference/checklists", get(checklists))
        .route("/api/v1/reference/units", get(units))
        .with_state(data)
}
