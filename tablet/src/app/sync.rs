//! The sync indicator, a sync started from the sync screen, and the document-number stock.
//! The sync client and the number pool report in the contract's own types, so nothing is
//! converted here.

use super::{App, now};
use crate::sync::{SyncClient, SyncError};
use app_core::ids::{EnterpriseId, InspectionId};
use app_core::messages::DeviceRevoked;
use app_core::wire::FetchQuery;
use tablet_api::{
    ApiError, ApiResult, ErrorCode, NumbersAfterSync, NumbersView, RecordView, SyncOutcome,
    SyncStatus,
};

impl App {
    pub fn sync_status(&self) -> SyncStatus {
        let status = {
            let bg = self.background.lock().unwrap_or_else(|p| p.into_inner());
            match bg.as_ref() {
                Some(b) => b.status(),
                None => SyncStatus {
                    pending: self.store().pending().unwrap_or_default(),
                    ..SyncStatus::default()
                },
            }
        };
        if status.revoked == Some(DeviceRevoked::Wiped)
            || self.store().wiped_revoked_at().ok().flatten().is_some()
        {
            // The background sync wiped the store: the session and the exports go too.
            self.end_revoked_session();
            return SyncStatus {
                revoked: Some(DeviceRevoked::Wiped),
                ..status
            };
        }
        status
    }

    /// After the wipe of a revoked tablet: no session, no background work, no exported case
    /// files left in the app's folder.
    fn end_revoked_session(&self) {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        self.keeper.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Ok(entries) = std::fs::read_dir(&self.config.exports) {
            for entry in entries.flatten() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Syncs now (photo originals, then records — the server accepts a record naming a photo
    /// only once its original is there — and the reference data), and says what happened.
    /// Records are synced even if the photo upload failed; refused ones stay pending.
    pub fn sync_now(&self) -> ApiResult<SyncOutcome> {
        let session = self.session()?;
        let client = SyncClient::new(&self.server).with_session(session.clone());
        let uploads = crate::upload::BlobClient::new(client.server(), session.token.clone())
            .upload_pending(&self.store, &self.blobs, |_| {});
        let mut report = client.sync(&self.store, now())?;
        if report.revoked.is_some() {
            // A lost tablet: what it held was pushed; wipe once nothing is left (see
            // `sync::settle_revocation`). No reference data or numbers are fetched.
            let settled = crate::sync::settle_revocation(&self.store, &self.blobs, now())?;
            report.revoked = Some(settled);
            if settled == DeviceRevoked::Wiped {
                self.background
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .take();
                self.end_revoked_session();
            }
            let stock = crate::numbers::stock_for(&self.store(), &session.user, now())?;
            let result = SyncOutcome {
                report,
                uploads: uploads.unwrap_or_default(),
                numbers: NumbersAfterSync {
                    received: 0,
                    error: None,
                    stock,
                },
                at: now(),
            };
            *self.manual.lock().unwrap_or_else(|p| p.into_inner()) = Some(result.clone());
            return Ok(result);
        }
        let uploads = uploads.map_err(|e| match e {
            crate::upload::TransferError::Refused(r) => ApiError::from(SyncError::Refused(r)),
            e => ApiError::new(
                ErrorCode::Photo,
                format!("照片上传失败：{e}"),
                format!("photo upload failed: {e}"),
            ),
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
            stock: crate::numbers::stock_for(&self.store(), &session.user, now())?,
        };
        let result = SyncOutcome {
            report,
            uploads,
            numbers,
            at: now(),
        };
        *self.manual.lock().unwrap_or_else(|p| p.into_inner()) = Some(result.clone());
        Ok(result)
    }

    /// Fetches record `id` from the server (one this tablet is not sent by default) and keeps
    /// it; from then on it syncs like the tablet's own records. Answers the record's view.
    pub fn fetch_record(&self, id: &InspectionId) -> ApiResult<RecordView> {
        self.fetch(FetchQuery::Record(id.to_string()))?;
        App::record(self, id)
    }

    /// Fetches the records of enterprise `enterprise` the user may read (the newest
    /// [`app_core::wire::FETCH_ENTERPRISE_LIMIT`]) and keeps them; answers their ids.
    pub fn fetch_enterprise_records(
        &self,
        enterprise: &EnterpriseId,
    ) -> ApiResult<Vec<InspectionId>> {
        self.fetch(FetchQuery::Enterprise(enterprise.to_string()))
    }

    fn fetch(&self, query: FetchQuery) -> ApiResult<Vec<InspectionId>> {
        let session = self.session()?;
        let client = SyncClient::new(&self.server).with_session(session);
        client
            .fetch(&self.store, query, now())
            .map_err(|e| match &e {
                SyncError::Server {
                    status: 403, code, ..
                } if code == "forbidden" => {
                    use app_core::messages::{Bilingual, FetchRefused};
                    ApiError::new(
                        ErrorCode::Refused,
                        FetchRefused::NotReadable.zh(),
                        FetchRefused::NotReadable.en(),
                    )
                }
                _ => ApiError::from(e),
            })
    }

    /// The stock of document numbers and the last top-up.
    pub fn numbers(&self) -> ApiResult<NumbersView> {
        let user = self.user()?;
        Ok(NumbersView {
            stock: crate::numbers::stock_for(&self.store(), &user, now())?,
            last_top_up: self.numbers.last(),
        })
    }
}
