//! The tablet's failures as the screens read them: each library error becomes one
//! [`ApiError`] with a stable code, Chinese and English text, and the field it belongs to.

use crate::numbers::NumbersError;
use crate::store::StoreError;
use crate::sync::SyncError;
use app_core::document::DocError;
use app_core::hazard::HazardError;
use app_core::ids::ItemCode;
use app_core::inspection::{InspectionStatus, RecordError, Unmet};
use tablet_api::{ApiError, ErrorCode};

fn unmet_zh(u: &Unmet) -> String {
    match u {
        Unmet::FewerThanTwoInspectors(n) => {
            format!("至少需要两名持证执法人员（《行政处罚法》第四十二条），现有 {n} 名")
        }
        Unmet::NoArrivalProof => "四不两直检查须先记录到达凭证：时间、位置和入口照片".into(),
        Unmet::NoNoticeNotAttested => "执法人员尚未声明“未提前通知”".into(),
        Unmet::NoEscortNotAttested => "执法人员尚未声明“未接受陪同和接待”".into(),
        Unmet::UnansweredItems(items) => {
            let shown: Vec<&str> = items.iter().take(5).map(ItemCode::as_str).collect();
            format!(
                "还有 {} 个检查项未作答：{}{}",
                items.len(),
                shown.join("、"),
                if items.len() > 5 { "…" } else { "" }
            )
        }
        Unmet::NoOnsitePerson => "尚未记录企业现场负责人".into(),
        Unmet::MissingSignature(who) => format!("缺少签名：{}", who_zh(who)),
        Unmet::RefusalWithoutWitness => "拒绝签字须记录见证人".into(),
        Unmet::NoSignedVersion => "须先签署记录".into(),
        Unmet::NoReturnComment => "退回须填写意见".into(),
        Unmet::ActorNotOnRecord(u) => format!("{u} 不是本记录的执法人员"),
    }
}

fn who_zh(who: &str) -> String {
    if let Some(name) = who.strip_prefix("inspector ") {
        format!("执法人员 {name}")
    } else {
        "企业现场负责人（或记录拒签）".into()
    }
}

fn status_zh(s: InspectionStatus) -> &'static str {
    s.label_zh()
}

fn record_zh(e: &RecordError) -> (String, Option<&'static str>) {
    match e {
        RecordError::Unmet { to, unmet, .. } => (
            format!(
                "无法进入“{}”：{}",
                status_zh(*to),
                unmet.iter().map(unmet_zh).collect::<Vec<_>>().join("；")
            ),
            None,
        ),
        RecordError::Frozen(s) => (
            format!("记录处于“{}”状态，内容不能修改", status_zh(*s)),
            None,
        ),
        RecordError::NotAnInspector => ("只有执法人员可以修改记录内容".into(), None),
        RecordError::RefusalWithoutWitness => ("拒绝签字须记录见证人".into(), Some("witness")),
        RecordError::InspectorCannotRefuse => ("执法人员不能拒签".into(), None),
        RecordError::SignerNotOnRecord(u) => (format!("{u} 不是本记录的执法人员"), None),
        RecordError::NotInStatus(s) => (
            format!("记录处于“{}”状态，不能这样操作", status_zh(*s)),
            None,
        ),
        RecordError::Hazard(h) => hazard_zh(h),
        RecordError::DuplicateHazard(_) => ("该隐患已登记".into(), None),
        RecordError::UnknownHazard(_) => ("记录中没有该隐患".into(), None),
        RecordError::UnknownItem { item, .. } => (format!("检查表中没有检查项 {item}"), None),
        other => (format!("操作不被允许：{other}"), None),
    }
}

fn hazard_zh(e: &HazardError) -> (String, Option<&'static str>) {
    match e {
        HazardError::MajorNeedsSupervision(_) => (
            "重大事故隐患须先挂牌督办，才能责令整改".into(),
            Some("supervision"),
        ),
        HazardError::DeadlineBeforeRegistration { .. } => {
            ("整改期限不能早于隐患登记日期".into(), Some("deadline"))
        }
        HazardError::FailedWithoutNewDeadline(_) => {
            ("复查不通过须规定新的整改期限".into(), Some("deadline"))
        }
        HazardError::NoMeasures(_) => ("请填写整改措施".into(), Some("measures")),
        HazardError::NoDescription(_) => ("请填写隐患描述".into(), Some("description")),
        HazardError::NoBasis(_) => ("隐患须至少有一条法律依据".into(), Some("basis")),
        HazardError::DuplicateReinspection(..) => ("该复查已记录".into(), None),
        HazardError::WrongStage { stage, .. } => (
            format!("隐患处于“{}”阶段，不能这样操作", stage.label_zh()),
            None,
        ),
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let en = e.to_string();
        match &e {
            StoreError::Doc(DocError::Record(r)) => {
                let (zh, field) = record_zh(r);
                let mut err = ApiError::new(ErrorCode::Refused, zh, en);
                err.field = field.map(str::to_owned);
                err
            }
            StoreError::NotFound(_) => ApiError::new(ErrorCode::NotFound, "本机没有这条记录", en),
            StoreError::Number(_) => ApiError::new(
                ErrorCode::Numbers,
                format!("本机文书编号（文号）出错：{en}"),
                en,
            )
            .at("numbers"),
            _ => ApiError::new(ErrorCode::Storage, format!("本机存储出错：{en}"), en),
        }
    }
}

impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> Self {
        let en = e.to_string();
        match &e {
            SyncError::Network(_) => {
                ApiError::new(ErrorCode::Offline, "无法连接服务器，请检查网络", en)
            }
            SyncError::Server { status: 401, .. } => {
                ApiError::new(ErrorCode::Unauthorized, "用户名或密码不正确", en).at("password")
            }
            SyncError::Server { message, .. } => {
                ApiError::new(ErrorCode::Server, format!("服务器拒绝：{message}"), en)
            }
            SyncError::NotSignedIn => ApiError::new(ErrorCode::NotSignedIn, "尚未登录", en),
            _ => ApiError::new(ErrorCode::Server, format!("同步出错：{en}"), en),
        }
    }
}

impl From<NumbersError> for ApiError {
    fn from(e: NumbersError) -> Self {
        ApiError::new(
            ErrorCode::Numbers,
            crate::numbers::error_zh(&e),
            e.to_string(),
        )
        .at("numbers")
    }
}

/// A request the screens sent that the tablet cannot read.
pub(super) fn bad_args(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        ErrorCode::Internal,
        format!("请求参数有误：{e}"),
        format!("bad arguments: {e}"),
    )
}
