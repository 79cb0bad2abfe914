//! Identifiers as newtypes, so that a unit id can never be passed where a user id is meant.
//!
//! Ids are opaque strings chosen by whoever creates the entity (UUIDs on tablets and on the
//! server; readable codes in fixtures). app-core never generates ids itself: that would need
//! randomness, which the core takes only as an argument.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Lets maps keyed by an id be looked up with a plain `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

string_id!(
    /// An enforcement unit (执法机构 / 辖区).
    UnitId
);
string_id!(
    /// A person who signs in: inspector, supervisor or admin.
    UserId
);
string_id!(
    /// An inspected enterprise (生产经营单位).
    EnterpriseId
);
string_id!(
    /// One inspection record (one case).
    InspectionId
);
string_id!(
    /// A hazard (隐患) found during an inspection.
    HazardId
);
string_id!(
    /// An inspection plan, e.g. a sealed 四不两直 assignment or a 双随机 draw result.
    PlanId
);
string_id!(
    /// A tablet, identified by the device key it registered with the server.
    DeviceId
);
string_id!(
    /// A checklist item's code within its template, e.g. `GM-ZD-01`.
    ItemCode
);
