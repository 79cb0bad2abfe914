//! 送达: how and when each issued document reached the enterprise. Recorded after signing,
//! one entry per document number (a later entry replaces an earlier one, e.g. a 待送达
//! followed by the post's receipt), and printed as a 送达回证 by `pdf-forms`.
//!
//! The rules ([`check`], run by `Inspection::apply` for `Command::RecordService`, so the
//! tablet and the server's judge decide alike): only a document the record numbered and a
//! signed version carries; only an inspector on the record records it; not before the
//! document was issued and not in the future; 直接送达 names who received it, 留置送达 (the
//! recipient refused) names a witness and the reason.

use crate::docnumber::DocumentKind;
use crate::geo::Timestamp;
use crate::ids::UserId;
use crate::inspection::Inspection;
use serde::{Deserialize, Serialize};

/// How a later service will be (or was) made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LaterMeans {
    /// 邮寄送达
    Post,
    /// 电子送达
    Electronic,
}

/// How a document was served.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum ServiceMethod {
    /// 直接送达: handed over on the spot; the recipient's name.
    Direct { recipient: String },
    /// 留置送达: the recipient refused to accept it; left at the premises before a witness.
    Left {
        recipient: String,
        witness: String,
        reason: String,
    },
    /// 待送达: to be served later by post or electronically.
    Pending { means: LaterMeans },
}

/// The service of one issued document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// The document's number (文号), a key of `Inspection::documents`.
    pub number: String,
    pub kind: DocumentKind,
    pub method: ServiceMethod,
    /// When it was served (for 待送达: when that was decided).
    pub at: Timestamp,
    pub by: UserId,
}

/// Why a service cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceError {
    #[error("document {0} was not issued from this record")]
    UnknownDocument(String),
    #[error("document {0} is not the kind the service names")]
    WrongKind(String),
    #[error("document {0} has not been signed yet: no signed version carries it")]
    NotSigned(String),
    #[error("only an inspector on the record records a service")]
    NotOnRecord,
    #[error("the service time is after the time it is recorded")]
    InTheFuture,
    #[error("the service time is before document {0} was issued")]
    BeforeIssue(String),
    #[error("the service must name who received the document")]
    NoRecipient,
    #[error("a refused service (留置送达) needs a witness and the reason")]
    NoWitness,
}

/// Whether `service` may be recorded on `record` by `actor` at `now`.
pub fn check(
    record: &Inspection,
    service: &Service,
    actor: &UserId,
    now: Timestamp,
) -> Result<(), ServiceError> {
    let doc = record
        .documents
        .get(&service.number)
        .ok_or_else(|| ServiceError::UnknownDocument(service.number.clone()))?;
    if doc.kind != service.kind {
        return Err(ServiceError::WrongKind(service.number.clone()));
    }
    if !record.signed_versions.values().any(|v| v.at >= doc.at) {
        return Err(ServiceError::NotSigned(service.number.clone()));
    }
    if &service.by != actor || !record.inspectors.contains_key(actor) {
        return Err(ServiceError::NotOnRecord);
    }
    if service.at > now {
        return Err(ServiceError::InTheFuture);
    }
    if service.at < doc.at {
        return Err(ServiceError::BeforeIssue(service.number.clone()));
    }
    match &service.method {
        ServiceMethod::Direct { recipient } if recipient.trim().is_empty() => {
            Err(ServiceError::NoRecipient)
        }
        ServiceMethod::Left {
            recipient,
            witness,
            reason,
        } => {
            if recipient.trim().is_empty() {
                Err(ServiceError::NoRecipient)
            } else if witness.trim().is_empty() || reason.trim().is_empty() {
                Err(ServiceError::NoWitness)
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    }
}

/// The service state of each document the record issued, latest number of each kind first
/// in issue order: `None` when nothing was recorded yet.
pub fn states(record: &Inspection) -> Vec<(&crate::docnumber::IssuedDocument, Option<&Service>)> {
    let mut docs: Vec<_> = record.documents.values().collect();
    docs.sort_by_key(|d| (d.at, d.kind, d.year, d.seq));
    docs.into_iter()
        .map(|d| (d, record.services.get(&d.number)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::docnumber::IssuedDocument;
    use crate::inspection::{Command, InspectionStatus, RecordError};
    use crate::kind::InspectionKind;
    use crate::signing::SignedVersion;
    use crate::test_support::*;

    /// Signed (v1 at minute 40) with a 现场检查记录 numbered at minute 35.
    fn signed() -> Inspection {
        let t = template();
        let mut r = new_record(InspectionKind::Unannounced);
        for (i, (u, c)) in on_site_script().iter().enumerate() {
            r.apply(c, &cx(u, &t, i as i64)).unwrap();
        }
        let d = IssuedDocument {
            kind: DocumentKind::InspectionRecord,
            number: "（玄武）应急检记〔2026〕1号".into(),
            seq: 1,
            year: 2026,
            at: Timestamp(T0.0 + 35 * 60_000),
            by: wang().id,
            device: "tab-a".into(),
        };
        r.apply(&Command::IssueDocument(d), &cx(&wang(), &t, 35))
            .unwrap();
        r
    }

    fn service(at_minutes: i64, method: ServiceMethod) -> Service {
        Service {
            number: "（玄武）应急检记〔2026〕1号".into(),
            kind: DocumentKind::InspectionRecord,
            method,
            at: Timestamp(T0.0 + at_minutes * 60_000),
            by: wang().id,
        }
    }

    fn direct() -> ServiceMethod {
        ServiceMethod::Direct {
            recipient: "陈经理".into(),
        }
    }

    #[test]
    fn only_a_signed_numbered_document_is_served_by_an_inspector_on_the_record() {
        let t = template();
        let mut r = signed();
        let record = |r: &mut Inspection, s: Service, by: &crate::user::User, now: i64| {
            r.apply(&Command::RecordService(s), &cx(by, &t, now))
        };
        // Numbered but not yet signed.
        assert_eq!(
            record(&mut r.clone(), service(41, direct()), &wang(), 41),
            Err(RecordError::Service(ServiceError::NotSigned(
                "（玄武）应急检记〔2026〕1号".into()
            )))
        );
        r.signed_versions.insert(
            "v1".into(),
            SignedVersion {
                heads: Vec::new(),
                content_hash: digest("x"),
                at: Timestamp(T0.0 + 40 * 60_000),
                by: wang().id,
            },
        );
        r.status = InspectionStatus::Completed;
        let mut unknown = service(41, direct());
        unknown.number = "（玄武）应急检记〔2026〕9号".into();
        let left_without_witness = ServiceMethod::Left {
            recipient: "陈经理".into(),
            witness: " ".into(),
            reason: "拒收".into(),
        };
        for (s, by, now, why) in [
            (
                unknown,
                wang(),
                41,
                ServiceError::UnknownDocument("（玄武）应急检记〔2026〕9号".into()),
            ),
            (service(50, direct()), wang(), 41, ServiceError::InTheFuture),
            (
                service(30, direct()),
                wang(),
                41,
                ServiceError::BeforeIssue("（玄武）应急检记〔2026〕1号".into()),
            ),
            (
                service(
                    41,
                    ServiceMethod::Direct {
                        recipient: "".into(),
                    },
                ),
                wang(),
                41,
                ServiceError::NoRecipient,
            ),
            (
                service(41, left_without_witness),
                wang(),
                41,
                ServiceError::NoWitness,
            ),
            (service(41, direct()), li(), 41, ServiceError::NotOnRecord),
        ] {
            assert_eq!(
                record(&mut r.clone(), s, &by, now),
                Err(RecordError::Service(why))
            );
        }
        // A supervisor records nothing.
        assert_eq!(
            record(&mut r.clone(), service(41, direct()), &supervisor(), 41),
            Err(RecordError::NotAnInspector)
        );
        // 待送达, then served by hand: the later entry replaces the earlier one.
        record(
            &mut r,
            service(
                41,
                ServiceMethod::Pending {
                    means: LaterMeans::Post,
                },
            ),
            &wang(),
            41,
        )
        .unwrap();
        record(&mut r, service(42, direct()), &wang(), 43).unwrap();
        let states = states(&r);
        assert_eq!(states.len(), 1);
        assert_eq!(states[0].1.unwrap().method, direct());
    }
}
