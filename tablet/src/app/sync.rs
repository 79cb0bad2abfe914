//! The sync indicator, a sync started from the sync screen, and the document-number stock;
//! with the conversions from the sync client's and the number pool's own types to the
//! screens' views (kept apart so that the client's HTTP side can change without the
//! screens).

use super::{App, now};
use crate::sync::SyncClient;
use tablet_api::{
    ApiError, ApiResult, ErrorCode, NumbersAfterSync, NumbersView, Rejected, Stock, SyncOutcome,
    SyncReport, SyncState, SyncStatus, TopUpOutcome,
};

impl App {
    pub fn sync_status(&self) -> SyncStatus {
        let bg = self.background.lock().unwrap_or_else(|p| p.into_inner());
        match bg.as_ref() {
            Some(b) => status_view(b.status()),
            None => SyncStatus {
                pending: self.store().pending().unwrap_or_default(),
                ..SyncStatus::default()
            },
        }
    }

    /// Syncs now (photo originals, then records — the server accepts a record naming a photo
    /// only once its original is there — and the reference data), and says what happened.
    /// Records are synced even if the photo upload failed; refused ones stay pending.
    pub fn sync_now(&self) -> ApiResult<SyncOutcome> {
        let session = self.session()?;
        let client = SyncClient::new(self.config.server.clone()).with_session(session.clone());
        let uploads = crate::upload::BlobClient::new(client.base(), session.token.clone())
            .upload_pending(&self.store, &self.blobs, |_| {});
        let report = client.sync(&self.store, now())?;
        let uploads = uploads.map_err(|e| {
            ApiError::new(
                ErrorCode::Photo,
                format!("照片上传失败：{e}"),
                format!("photo upload failed: {e}"),
            )
        })?;
        client.fetch_reference(&self.store)?;
        // Document numbers for the series that run low. The sync itself stands either way; the
        // screen shows the stock and any refusal.
        let topped = self.top_up_numbers(&session);
        let numbers = NumbersAfterSync {
            received: topped
                .as_ref()
                .map(|t| t.received.len())
                .unwrap_or_default(),
            error: topped.err().map(ApiError::from),
            stock: stock_view(crate::numbers::stock(
                &self.store(),
                &session.user.unit,
                now(),
            )?),
        };
        let result = SyncOutcome {
            report: report_view(report),
            uploads,
            numbers,
            at: now(),
        };
        *self.manual.lock().unwrap_or_else(|p| p.into_inner()) = Some(result.clone());
        Ok(result)
    }

    /// The stock of document numbers and the last top-up.
    pub fn numbers(&self) -> ApiResult<NumbersView> {
        let user = self.user()?;
        Ok(NumbersView {
            stock: stock_view(crate::numbers::stock(&self.store(), &user.unit, now())?),
            last_top_up: self.numbers.last().map(top_up_view),
        })
    }
}

pub(super) fn stock_view(stock: Vec<crate::numbers::Stock>) -> Vec<Stock> {
    stock
        .into_iter()
        .map(|s| Stock {
            unit: s.unit,
            kind: s.kind,
            year: s.year,
            remaining: s.remaining,
        })
        .collect()
}

fn top_up_view(t: crate::numbers::TopUpOutcome) -> TopUpOutcome {
    TopUpOutcome {
        at: t.at,
        received: t.received,
        error_zh: t.error_zh,
        error_en: t.error_en,
    }
}

fn status_view(s: crate::sync::SyncStatus) -> SyncStatus {
    SyncStatus {
        state: match s.state {
            crate::sync::SyncState::Idle => SyncState::Idle,
            crate::sync::SyncState::Syncing => SyncState::Syncing,
            crate::sync::SyncState::Waiting {
                error,
                retry_in_secs,
            } => SyncState::Waiting {
                error,
                retry_in_secs,
            },
            crate::sync::SyncState::Done(r) => SyncState::Done(report_view(r)),
        },
        pending: s.pending,
        photos_pending: s.photos_pending,
        upload: s.upload,
        last_upload: s.last_upload,
    }
}

fn report_view(r: crate::sync::SyncReport) -> SyncReport {
    SyncReport {
        pushed: r.pushed,
        accepted: r.accepted,
        rejected: r
            .rejected
            .into_iter()
            .map(|j| Rejected {
                id: j.id,
                code: j.code,
                message: j.message,
            })
            .collect(),
        pulled: r.pulled,
        bytes_sent: r.bytes_sent,
        bytes_received: r.bytes_received,
        round_trips: r.round_trips,
    }
}
