//! What the screens read: the tablet library's views and error, all from `tablet-api` (the
//! one contract the screens, the library and the shell compile against), and the few
//! helpers that turn them into text.

pub use tablet_api::*;

/// A mistake in what the inspector entered, found on the tablet before anything is sent,
/// shown next to `field`.
pub fn input_error(zh: &str, en: &str, field: &str) -> ApiError {
    ApiError::new(ErrorCode::Input, zh, en).at(field)
}

/// A size for people: `812 KB`, `3.4 MB` (1 KB = 1024 bytes).
pub fn human_size(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else if bytes >= KB {
        format!("{} KB", bytes.div_ceil(KB))
    } else {
        format!("{bytes} B")
    }
}

/// What the sync indicator says, in both languages, and its style.
pub fn sync_summary(s: &SyncStatus) -> (String, String, &'static str) {
    let pending = s.pending.records;
    let photos = s.photos_pending;
    // A tablet the administrator revoked (reported lost) says why, whatever the sync did.
    if let Some(r) = s.revoked {
        use app_core::messages::Bilingual;
        return (r.zh(), r.en(), "revoked");
    }
    match &s.state {
        SyncState::Syncing => ("正在同步…".into(), "Syncing…".into(), "busy"),
        SyncState::Waiting { .. } => (
            format!("离线 · 待同步 {pending} 条记录、{photos} 张照片"),
            format!("Offline · {pending} records, {photos} photos waiting"),
            "wait",
        ),
        SyncState::Done(_) if pending == 0 && photos == 0 => {
            ("已同步".into(), "Synced".into(), "ok")
        }
        _ => (
            format!("待同步 {pending} 条记录、{photos} 张照片"),
            format!("{pending} records, {photos} photos waiting"),
            "wait",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: SyncState, records: u32, photos: u32) -> SyncStatus {
        SyncStatus {
            state,
            pending: Pending { records, bytes: 0 },
            photos_pending: photos,
            ..SyncStatus::default()
        }
    }

    #[test]
    fn the_sync_indicator_tells_offline_waiting_from_synced() {
        let waiting = status(
            SyncState::Waiting {
                error: "network".into(),
                retry_in_secs: 4,
            },
            2,
            3,
        );
        let (zh, en, class) = sync_summary(&waiting);
        assert_eq!(zh, "离线 · 待同步 2 条记录、3 张照片");
        assert_eq!(en, "Offline · 2 records, 3 photos waiting");
        assert_eq!(class, "wait");
        let report = SyncReport {
            pushed: 1,
            ..SyncReport::default()
        };
        let done = status(SyncState::Done(report.clone()), 0, 0);
        assert_eq!(sync_summary(&done).0, "已同步");
        // Done but something new was recorded since: not "synced".
        let done_dirty = status(SyncState::Done(report), 1, 0);
        assert_eq!(sync_summary(&done_dirty).0, "待同步 1 条记录、0 张照片");
        assert_eq!(sync_summary(&status(SyncState::Syncing, 0, 0)).2, "busy");
        let revoked = SyncStatus {
            revoked: Some(app_core::messages::DeviceRevoked::Wiped),
            ..done
        };
        let (zh, _, class) = sync_summary(&revoked);
        assert!(zh.starts_with("本平板已被管理员停用（挂失）"), "{zh}");
        assert_eq!(class, "revoked");
    }

    #[test]
    fn sizes_read_in_kilobytes_and_megabytes() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(600_000), "586 KB");
        assert_eq!(human_size(3_565_158), "3.4 MB");
    }
}
