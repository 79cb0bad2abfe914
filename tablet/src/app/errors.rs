//! The tablet's failures as the screens read them: each library error becomes one
//! [`ApiError`] with a stable code, Chinese and English text, and the field it belongs to.

use crate::numbers::NumbersError;
use crate::store::StoreError;
use crate::sync::SyncError;
use app_core::document::DocError;
use tablet_api::{ApiError, ErrorCode};

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        let en = e.to_string();
        match &e {
            StoreError::Doc(DocError::Record(r)) => r.clone().into(),
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
            SyncError::Server { code, .. } if code == app_core::wire::http::DEVICE_REVOKED => {
                use app_core::messages::{Bilingual, DeviceRevoked};
                ApiError::new(
                    ErrorCode::DeviceRevoked,
                    DeviceRevoked::Refused.zh(),
                    DeviceRevoked::Refused.en(),
                )
            }
            SyncError::Server { status: 401, .. } => {
                ApiError::new(ErrorCode::Unauthorized, "用户名或密码不正确", en).at("password")
            }
            SyncError::Server { message, .. } => {
                ApiError::new(ErrorCode::Server, format!("服务器拒绝：{message}"), en)
            }
            SyncError::NotSignedIn => ApiError::new(ErrorCode::NotSignedIn, "尚未登录", en),
            SyncError::Refused(r) => {
                use app_core::messages::Bilingual;
                ApiError::new(ErrorCode::Untrusted, r.zh(), r.en())
            }
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
