//! Completing and signing a record, with the document numbers (文号) its signed version
//! needs issued from this tablet's pool first.

use super::{App, now};
use crate::numbers::NumbersError;
use crate::store::StoreError;
use app_core::docnumber::{NumberError, Series, missing_series};
use app_core::ids::InspectionId;
use app_core::inspection::{Command, Context, InspectionStatus};
use app_core::unit::Unit;
use tablet_api::{ApiError, ApiResult, ErrorCode};

/// `现场检查记录（检记〔2026〕）`: a series as the inspector reads it.
fn series_zh(s: &Series) -> String {
    format!("{}（{}〔{}〕）", s.kind.title_zh(), s.kind.code(), s.year)
}

/// A signing found no number left in some series and could not reserve more: nothing was
/// issued, signed or changed; the inspector syncs and signs again.
fn no_numbers(missing: &[Series], top_up: Result<(), &NumbersError>) -> ApiError {
    let zh_list: Vec<String> = missing.iter().map(series_zh).collect();
    let en_list: Vec<String> = missing
        .iter()
        .map(|s| format!("{} ({} {})", s.kind.title_zh(), s.kind.code(), s.year))
        .collect();
    let (why_zh, why_en) = match top_up {
        Err(NumbersError::Network(_)) => (
            "本机离线，无法向服务器申请编号".to_owned(),
            "this tablet is offline".to_owned(),
        ),
        Err(e) => (crate::numbers::error_zh(e), e.to_string()),
        Ok(()) => (
            "服务器未分配该类编号".to_owned(),
            "the server reserved none of them".to_owned(),
        ),
    };
    ApiError::new(ErrorCode::Numbers,
        format!(
            "本机没有可用的文书编号（文号）：{}。{why_zh}。请连接网络后同步（“同步”页面点“立即同步”），再完成签署；已填写和签名的内容都已保存，未作任何改动。",
            zh_list.join("、")
        ),
        format!(
            "No document numbers (文号) left on this tablet for {} ({why_en}). Connect and sync to reserve numbers, then sign again; everything entered and signed is kept, nothing was changed.",
            en_list.join(", ")
        ),
    )
    .at("numbers")
}

/// Why a signing did not happen: refused, or no number left in these series.
enum SignStop {
    Refused(ApiError),
    NoNumbers(Vec<Series>),
}

impl<E: Into<ApiError>> From<E> for SignStop {
    fn from(e: E) -> Self {
        SignStop::Refused(e.into())
    }
}

impl App {
    /// Completes the visit (every requirement checked by the rules) and records the signed
    /// version: from now on, what was signed is frozen and later edits are amendments.
    ///
    /// Just before signing, the numbers (文号) of the documents this signed version yields are
    /// issued from this tablet's pool into the record (`numbers::documents_to_number`: the
    /// 现场检查记录's at the first signing, the 责令限期整改指令书's once a hazard is ordered
    /// to be rectified, the 整改复查意见书's once a hazard is re-inspected), so the signed
    /// version carries them. Nothing is spent before the rules allow the signing. Each number
    /// is one transaction with the record's change (`Store::issue_document`); if the app stops
    /// after issuing and before signing, the next signing uses the numbers already issued.
    /// With a series empty, the tablet asks the server for more once (fails fast offline);
    /// still empty, the answer is an error in Chinese and English asking to sync, and nothing
    /// has changed.
    pub fn complete(&self, id: &InspectionId) -> ApiResult<()> {
        let missing = match self.sign_with_numbers(id) {
            Ok(()) => return Ok(()),
            Err(SignStop::Refused(e)) => return Err(e),
            Err(SignStop::NoNumbers(missing)) => missing,
        };
        let session = self.session()?;
        let topped = self.top_up_numbers(&session).map(|_| ());
        match self.sign_with_numbers(id) {
            Ok(()) => Ok(()),
            Err(SignStop::Refused(e)) => Err(e),
            Err(SignStop::NoNumbers(_)) => Err(no_numbers(&missing, topped.as_ref().map(|_| ()))),
        }
    }

    /// One attempt at [`complete`](Self::complete), under one hold of the store's lock.
    fn sign_with_numbers(&self, id: &InspectionId) -> Result<(), SignStop> {
        let user = self.user()?;
        let mut store = self.store();
        let record = store.inspection(id)?;
        let template = super::records::record_template(&store, &record)?;
        let cx = Context {
            actor: &user,
            now: now(),
            template: &template,
        };
        // Whether the rules allow this signing at all, before any number is spent.
        app_core::signing::check_signing(&record, &user, &template)?;
        let kinds = crate::numbers::documents_to_number(store.document(id)?);
        if !kinds.is_empty() {
            let unit = store
                .reference::<Unit>()?
                .into_iter()
                .find(|u| u.id == user.unit)
                .ok_or_else(|| {
                    ApiError::new(
                        ErrorCode::Numbers,
                        "本机缺少本单位的信息（单位简称），无法编文号，请先同步",
                        format!("unit {} is not on this tablet; sync first", user.unit),
                    )
                    .at("numbers")
                })?;
            let year = cx.now.shanghai_date().year();
            let missing = missing_series(&store.number_pool()?, &user.unit, year, &kinds);
            if !missing.is_empty() {
                return Err(SignStop::NoNumbers(missing));
            }
            for kind in kinds {
                match store.issue_document(id, kind, &unit.id, &unit.short_name, &cx) {
                    Ok(_) => {}
                    // Emptied since the check (not possible while the lock is held, but
                    // never worth a wrong answer).
                    Err(StoreError::Number(NumberError::Exhausted { unit, kind, year })) => {
                        return Err(SignStop::NoNumbers(vec![Series { unit, kind, year }]));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if record.status == InspectionStatus::OnSite {
            store.apply(
                id,
                &Command::Transition {
                    to: InspectionStatus::Completed,
                    comment: String::new(),
                },
                &cx,
            )?;
        }
        let n = record.signed_versions.len() + 1;
        store.sign(id, &format!("v{n}"), &cx)?;
        Ok(())
    }
}
