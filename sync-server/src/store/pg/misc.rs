//! Reference data, the key history, the server's own facts and the audit log on PostgreSQL.

use super::{Pg, Query};
use crate::store::StoreResult;
use crate::store::audit::{AuditStore, COLUMNS, Entry, GENESIS, NewEntry, entry_hash};
use crate::store::reference::{
    Flagged, ReferenceStore, StoredReference, UnitTemplate, corrupt, json,
};
use crate::store::server_keys::KeyHistoryStore;
use crate::store::server_meta::MetaStore;
use app_core::enterprise::Enterprise;
use app_core::unit::Unit;
use app_core::user::User;
use casefile::keys::{KEY_HISTORY_FORMAT, KeyEntry, KeyHistory};
use postgres::GenericClient;

impl<C: GenericClient> ReferenceStore for Pg<C> {
    fn reference_version(&self) -> StoreResult<Option<i64>> {
        Ok(self
            .c()
            .query_opt("SELECT version FROM ref_version WHERE one = 1", &[])?
            .map(|r| r.get(0)))
    }

    fn bump_reference_version(&self) -> StoreResult<i64> {
        Ok(self
            .c()
            .query_one(
                "INSERT INTO ref_version AS v (one, version) VALUES (1, 1)
                 ON CONFLICT (one) DO UPDATE SET version = v.version + 1
                 RETURNING version",
                &[],
            )?
            .get(0))
    }

    fn stored_reference(&self) -> StoreResult<StoredReference> {
        let mut c = self.c();
        let mut out = StoredReference::default();
        for r in c.query("SELECT id, body, enabled FROM ref_units ORDER BY n", &[])? {
            let id: &str = r.get(0);
            let value = serde_json::from_str(r.get(1)).map_err(|e| corrupt("unit", id, e))?;
            out.units.push(Flagged {
                value,
                enabled: r.get(2),
            });
        }
        for r in c.query("SELECT id, body, enabled FROM ref_users ORDER BY n", &[])? {
            let id: &str = r.get(0);
            let value = serde_json::from_str(r.get(1)).map_err(|e| corrupt("user", id, e))?;
            out.users.push(Flagged {
                value,
                enabled: r.get(2),
            });
        }
        for r in c.query("SELECT id, body FROM ref_enterprises ORDER BY n", &[])? {
            let id: &str = r.get(0);
            let value = serde_json::from_str(r.get(1)).map_err(|e| corrupt("enterprise", id, e))?;
            out.enterprises.push(value);
        }
        for r in c.query(
            "SELECT id, version, unit, body, uploaded_by, uploaded_at FROM ref_templates
             ORDER BY n",
            &[],
        )? {
            let (id, version): (&str, i64) = (r.get(0), r.get(1));
            let template = serde_json::from_str(r.get(3))
                .map_err(|e| corrupt("template", &format!("{id} v{version}"), e))?;
            out.templates.push(UnitTemplate {
                unit: app_core::ids::UnitId::new(r.get::<_, String>(2)),
                template,
                uploaded_by: r.get(4),
                uploaded_at: r.get(5),
            });
        }
        Ok(out)
    }

    fn insert_unit(&self, unit: &Unit) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO ref_units (id, body) VALUES ($1, $2)",
            &[&unit.id.as_str(), &json(unit)?],
        )?;
        Ok(())
    }

    fn set_unit_enabled(&self, id: &str, enabled: bool) -> StoreResult<bool> {
        Ok(self.c().execute(
            "UPDATE ref_units SET enabled = $2 WHERE id = $1",
            &[&id, &enabled],
        )? == 1)
    }

    fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO ref_users (id, unit, body) VALUES ($1, $2, $3)",
            &[&user.id.as_str(), &user.unit.as_str(), &json(user)?],
        )?;
        Ok(())
    }

    fn set_user_enabled(&self, id: &str, enabled: bool) -> StoreResult<bool> {
        Ok(self.c().execute(
            "UPDATE ref_users SET enabled = $2 WHERE id = $1",
            &[&id, &enabled],
        )? == 1)
    }

    fn insert_enterprise(&self, e: &Enterprise) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO ref_enterprises (id, uscc, unit, body) VALUES ($1, $2, $3, $4)",
            &[
                &e.id.as_str(),
                &e.uscc.as_str(),
                &e.unit.as_str(),
                &json(e)?,
            ],
        )?;
        Ok(())
    }

    fn insert_template(&self, t: &UnitTemplate) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO ref_templates (id, version, unit, body, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &t.template.id,
                &i64::from(t.template.version),
                &t.unit.as_str(),
                &json(&t.template)?,
                &t.uploaded_by,
                &t.uploaded_at,
            ],
        )?;
        Ok(())
    }
}

impl<C: GenericClient> KeyHistoryStore for Pg<C> {
    fn key_history(&self) -> StoreResult<KeyHistory> {
        let keys = self
            .c()
            .query(
                "SELECT public_key, valid_from, valid_until, endorsed_by_previous,
                        endorses_previous
                 FROM server_keys ORDER BY n",
                &[],
            )?
            .iter()
            .map(|r| KeyEntry {
                public_key: r.get(0),
                valid_from: r.get(1),
                valid_until: r.get(2),
                endorsed_by_previous: r.get(3),
                endorses_previous: r.get(4),
            })
            .collect();
        Ok(KeyHistory {
            format: KEY_HISTORY_FORMAT.into(),
            keys,
        })
    }

    fn start_key_history(&self, public_key: &str, valid_from: i64) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO server_keys (public_key, valid_from)
             SELECT $1::text, $2::bigint WHERE NOT EXISTS (SELECT 1 FROM server_keys)",
            &[&public_key, &valid_from],
        )?;
        Ok(())
    }

    fn add_rotation(&self, next: &KeyEntry) -> StoreResult<()> {
        self.atomic(|tx| {
            tx.execute(
                "UPDATE server_keys SET valid_until = $1 WHERE valid_until IS NULL",
                &[&next.valid_from],
            )?;
            tx.execute(
                "INSERT INTO server_keys
                    (public_key, valid_from, endorsed_by_previous, endorses_previous)
                 VALUES ($1, $2, $3, $4)",
                &[
                    &next.public_key,
                    &next.valid_from,
                    &next.endorsed_by_previous,
                    &next.endorses_previous,
                ],
            )?;
            Ok(())
        })
    }
}

impl<C: GenericClient> MetaStore for Pg<C> {
    fn meta(&self, key: &str) -> StoreResult<Option<String>> {
        Ok(self
            .c()
            .query_opt("SELECT value FROM server_meta WHERE key = $1", &[&key])?
            .map(|r| r.get(0)))
    }

    fn set_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO server_meta (key, value) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET value = $2",
            &[&key, &value],
        )?;
        Ok(())
    }
}

fn entry(r: &postgres::Row) -> Entry {
    Entry {
        seq: r.get(0),
        entry: NewEntry {
            at: r.get(1),
            actor: r.get(2),
            unit: r.get(3),
            action: r.get(4),
            target: r.get(5),
            client: r.get(6),
        },
        prev_hash: r.get(7),
        hash: r.get(8),
    }
}

impl<C: GenericClient> AuditStore for Pg<C> {
    /// Appends under the audit lock (held to the end of the transaction), so two appends
    /// never chain from the same entry, whichever node or connection makes them.
    fn append_audit(&self, e: &NewEntry) -> StoreResult<Entry> {
        self.atomic(|tx| {
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&super::AUDIT_LOCK])?;
            let last = tx.query_opt(
                "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
                &[],
            )?;
            let (seq, prev) = match last {
                Some(r) => (r.get::<_, i64>(0) + 1, r.get::<_, String>(1)),
                None => (1, GENESIS.to_owned()),
            };
            let hash = entry_hash(&prev, seq, e);
            tx.execute(
                "INSERT INTO audit_log
                    (seq, at, actor, unit, action, target, client, prev_hash, hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &seq, &e.at, &e.actor, &e.unit, &e.action, &e.target, &e.client, &prev, &hash,
                ],
            )?;
            Ok(Entry {
                seq,
                entry: e.clone(),
                prev_hash: prev,
                hash,
            })
        })
    }

    fn audit_entries(&self, units: Option<&[String]>, limit: u32) -> StoreResult<Vec<Entry>> {
        let limit = i64::from(limit);
        let rows = match units {
            None => self.c().query(
                &format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT $1"),
                &[&limit],
            )?,
            Some(units) => self.c().query(
                &format!(
                    "SELECT {COLUMNS} FROM audit_log WHERE unit = ANY($1)
                     ORDER BY seq DESC LIMIT $2"
                ),
                &[&units, &limit],
            )?,
        };
        Ok(rows.iter().map(entry).collect())
    }

    fn all_audit(&self) -> StoreResult<Vec<Entry>> {
        Ok(self
            .c()
            .query(
                &format!("SELECT {COLUMNS} FROM audit_log ORDER BY seq"),
                &[],
            )?
            .iter()
            .map(entry)
            .collect())
    }
}
