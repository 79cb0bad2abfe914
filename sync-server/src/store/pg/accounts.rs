//! Accounts and tokens, devices, the sign-in throttle and blob rows on PostgreSQL.

use super::{Pg, Query};
use crate::store::StoreResult;
use crate::store::accounts::{AccountStore, TokenOwner};
use crate::store::blobs::{BlobStore, Upload};
use crate::store::devices::{DeviceListing, DeviceRow, DeviceStore};
use crate::store::throttle::ThrottleStore;
use postgres::GenericClient;
use std::collections::HashSet;

impl<C: GenericClient> AccountStore for Pg<C> {
    fn password_hash(&self, user: &str) -> StoreResult<Option<String>> {
        Ok(self
            .c()
            .query_opt(
                "SELECT password_hash FROM accounts WHERE user_id = $1",
                &[&user],
            )?
            .map(|r| r.get(0)))
    }

    fn create_account(&self, user: &str, password_hash: &str) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO accounts (user_id, password_hash) VALUES ($1, $2)",
            &[&user, &password_hash],
        )?;
        Ok(())
    }

    fn has_account(&self, user: &str) -> StoreResult<bool> {
        Ok(self
            .c()
            .query_opt("SELECT 1 FROM accounts WHERE user_id = $1", &[&user])?
            .is_some())
    }

    fn insert_token(&self, token_hash: &[u8], user: &str, expires_at: i64) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO tokens (token_hash, user_id, device_id, expires_at)
             VALUES ($1, $2, NULL, $3)",
            &[&token_hash, &user, &expires_at],
        )?;
        Ok(())
    }

    fn token_owner(&self, token_hash: &[u8], now: i64) -> StoreResult<Option<TokenOwner>> {
        Ok(self
            .c()
            .query_opt(
                "SELECT user_id, device_id FROM tokens
                 WHERE token_hash = $1 AND NOT revoked AND expires_at > $2",
                &[&token_hash, &now],
            )?
            .map(|r| TokenOwner {
                user: r.get(0),
                device: r.get(1),
            }))
    }

    fn bind_token(&self, token_hash: &[u8], device: &str) -> StoreResult<()> {
        self.c().execute(
            "UPDATE tokens SET device_id = $1 WHERE token_hash = $2",
            &[&device, &token_hash],
        )?;
        Ok(())
    }

    fn revoke_token(&self, token_hash: &[u8]) -> StoreResult<()> {
        self.c().execute(
            "UPDATE tokens SET revoked = true WHERE token_hash = $1",
            &[&token_hash],
        )?;
        Ok(())
    }

    fn set_password_hash(&self, user: &str, password_hash: &str) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO accounts (user_id, password_hash) VALUES ($1, $2)
             ON CONFLICT (user_id) DO UPDATE SET password_hash = $2",
            &[&user, &password_hash],
        )?;
        Ok(())
    }
}

impl<C: GenericClient> DeviceStore for Pg<C> {
    fn registered_at(&self, device: &str) -> StoreResult<Option<i64>> {
        Ok(self
            .c()
            .query_opt(
                "SELECT registered_at FROM devices WHERE id = $1",
                &[&device],
            )?
            .map(|r| r.get(0)))
    }

    fn device(&self, id: &str) -> StoreResult<Option<DeviceRow>> {
        Ok(self
            .c()
            .query_opt(
                "SELECT user_id, public_key FROM devices WHERE id = $1",
                &[&id],
            )?
            .map(|r| DeviceRow {
                id: id.to_owned(),
                user: r.get(0),
                public_key: r.get(1),
            }))
    }

    fn insert_device(&self, device: &DeviceRow, now: i64) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO devices (id, user_id, public_key, registered_at) VALUES ($1, $2, $3, $4)",
            &[&device.id, &device.user, &device.public_key, &now],
        )?;
        Ok(())
    }

    fn revoked_at(&self, device: &str) -> StoreResult<Option<i64>> {
        Ok(self
            .c()
            .query_opt("SELECT revoked_at FROM devices WHERE id = $1", &[&device])?
            .and_then(|r| r.get(0)))
    }

    fn revoke_device(&self, device: &str, now: i64) -> StoreResult<bool> {
        Ok(self.c().execute(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
            &[&device, &now],
        )? == 1)
    }

    fn touch_device(&self, device: &str, now: i64) -> StoreResult<()> {
        self.c().execute(
            "UPDATE devices SET last_seen = $2
             WHERE id = $1 AND (last_seen IS NULL OR last_seen <= $2::bigint - 60)",
            &[&device, &now],
        )?;
        Ok(())
    }

    fn list_devices(&self) -> StoreResult<Vec<DeviceListing>> {
        Ok(self
            .c()
            .query(
                "SELECT id, user_id, registered_at, last_seen, revoked_at FROM devices
                 ORDER BY user_id, registered_at, id",
                &[],
            )?
            .iter()
            .map(|r| DeviceListing {
                id: r.get(0),
                user: r.get(1),
                registered_at: r.get(2),
                last_seen: r.get(3),
                revoked_at: r.get(4),
            })
            .collect())
    }
}

impl<C: GenericClient> ThrottleStore for Pg<C> {
    fn locked_until(&self, key: &str, now: i64) -> StoreResult<Option<i64>> {
        Ok(self
            .c()
            .query_opt(
                "SELECT locked_until FROM signin_throttle WHERE key = $1 AND locked_until > $2",
                &[&key, &now],
            )?
            .map(|r| r.get(0)))
    }

    fn count_failure(
        &self,
        key: &str,
        now: i64,
        window_secs: i64,
        lock_secs: i64,
        limit: i64,
    ) -> StoreResult<bool> {
        self.atomic(|tx| {
            tx.execute(
                "INSERT INTO signin_throttle AS t (key, failures, window_start, locked_until)
                 VALUES ($1, 1, $2, 0)
                 ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN t.window_start <= $2::bigint - $3::bigint THEN 1
                                    ELSE t.failures + 1 END,
                    window_start = CASE WHEN t.window_start <= $2::bigint - $3::bigint THEN $2
                                        ELSE t.window_start END",
                &[&key, &now, &window_secs],
            )?;
            let locked = tx.execute(
                "UPDATE signin_throttle SET locked_until = $2::bigint + $3::bigint, failures = 0,
                    window_start = $2
                 WHERE key = $1 AND failures >= $4",
                &[&key, &now, &lock_secs, &limit],
            )?;
            Ok(locked > 0)
        })
    }

    fn forget_expired(&self, window_before: i64, now: i64) -> StoreResult<()> {
        self.c().execute(
            "DELETE FROM signin_throttle WHERE window_start <= $1 AND locked_until <= $2",
            &[&window_before, &now],
        )?;
        Ok(())
    }

    fn clear(&self, key: &str) -> StoreResult<bool> {
        Ok(self
            .c()
            .execute("DELETE FROM signin_throttle WHERE key = $1", &[&key])?
            > 0)
    }

    fn counter(&self, key: &str, now: i64, window_secs: i64) -> StoreResult<Option<(i64, i64)>> {
        Ok(self
            .c()
            .query_opt(
                "SELECT failures, locked_until FROM signin_throttle
                 WHERE key = $1
                   AND (locked_until > $2 OR (failures > 0 AND window_start > $2::bigint - $3::bigint))",
                &[&key, &now, &window_secs],
            )?
            .map(|r| (r.get(0), r.get(1))))
    }

    fn record_unlock(&self, user: &str, by: &str, now: i64) -> StoreResult<()> {
        self.c().execute(
            "INSERT INTO signin_unlocks (user_id, lifted_by, lifted_at) VALUES ($1, $2, $3)",
            &[&user, &by, &now],
        )?;
        Ok(())
    }
}

impl<C: GenericClient> BlobStore for Pg<C> {
    fn held_size(&self, sha: &str) -> StoreResult<Option<u64>> {
        Ok(self
            .c()
            .query_opt("SELECT size FROM blobs WHERE sha256 = $1", &[&sha])?
            .map(|r| r.get::<_, i64>(0) as u64))
    }

    fn is_uploader(&self, sha: &str, device: &str) -> StoreResult<bool> {
        Ok(self
            .c()
            .query_opt(
                "SELECT 1 FROM blob_uploaders WHERE sha256 = $1 AND device_id = $2",
                &[&sha, &device],
            )?
            .is_some())
    }

    fn uploaded_by(&self, device: &str, digests: &[&str]) -> StoreResult<HashSet<String>> {
        Ok(self
            .c()
            .query(
                "SELECT sha256 FROM blob_uploaders WHERE device_id = $1 AND sha256 = ANY($2)",
                &[&device, &digests],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn record_upload(&self, upload: &Upload<'_>) -> StoreResult<()> {
        let Upload {
            sha,
            size,
            user,
            device,
            at,
        } = *upload;
        self.atomic(|tx| {
            tx.execute(
                "INSERT INTO blobs (sha256, size, uploaded_by) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&sha, &(size as i64), &user],
            )?;
            tx.execute(
                "INSERT INTO blob_uploaders (sha256, device_id, user_id, uploaded_at)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&sha, &device, &user, &at],
            )?;
            Ok(())
        })
    }
}
