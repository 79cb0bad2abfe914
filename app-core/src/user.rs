//! People who sign in: inspectors (执法人员) with their enforcement certificate (执法证),
//! supervisors (审核人) and admins, each belonging to one unit.

use crate::ids::{UnitId, UserId};
use serde::{Deserialize, Serialize};

/// An enforcement certificate number (执法证号). Formats differ by province; we require a
/// non-empty run of ASCII letters, digits and dashes, 6–32 long, which every format we know fits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertificateNo(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("certificate number {0:?} must be 6–32 ASCII letters, digits or dashes")]
pub struct CertificateNoError(pub String);

impl CertificateNo {
    pub fn parse(s: &str) -> Result<Self, CertificateNoError> {
        let s = s.trim();
        let ok = (6..=32).contains(&s.len())
            && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(CertificateNoError(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CertificateNo {
    type Error = CertificateNoError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<CertificateNo> for String {
    fn from(c: CertificateNo) -> String {
        c.0
    }
}

/// What a user is allowed to do is decided by role and unit (see [`crate::access`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Role {
    /// 执法人员: visits sites and records inspections.
    Inspector { certificate: CertificateNo },
    /// 审核人: reviews records of the unit's subtree, runs draws, follows hazards.
    Supervisor,
    /// Maintains reference data (units, users, enterprises, templates) for a subtree.
    Admin,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub name: String,
    pub unit: UnitId,
    #[serde(flatten)]
    pub role: Role,
}

impl User {
    pub fn certificate(&self) -> Option<&CertificateNo> {
        match &self.role {
            Role::Inspector { certificate } => Some(certificate),
            _ => None,
        }
    }

    pub fn is_inspector(&self) -> bool {
        matches!(self.role, Role::Inspector { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_numbers_are_validated() {
        assert!(CertificateNo::parse("32010220180012").is_ok());
        assert!(CertificateNo::parse(" JS-0102-0003 ").is_ok());
        assert!(CertificateNo::parse("").is_err());
        assert!(CertificateNo::parse("12345").is_err());
        assert!(CertificateNo::parse("证号123456").is_err());
    }

    #[test]
    fn role_serialises_flat_with_its_certificate() {
        let user = User {
            id: "u1".into(),
            name: "王强".into(),
            unit: "xw".into(),
            role: Role::Inspector {
                certificate: CertificateNo::parse("32010220180012").unwrap(),
            },
        };
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(json["role"], "inspector");
        assert_eq!(json["certificate"], "32010220180012");
        let back: User = serde_json::from_value(json).unwrap();
        assert_eq!(back, user);
        let bad = serde_json::json!({"id":"u","name":"n","unit":"x","role":"inspector","certificate":"x"});
        assert!(serde_json::from_value::<User>(bad).is_err());
    }
}
