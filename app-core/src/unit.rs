//! Units (执法机构 / 辖区) in their hierarchy 市 → 县(区) → 乡镇(街道、园区) → 村(社区), each with
//! its GB/T 2260 administrative division code (行政区划代码).
//!
//! Data is shared upward (a city sees its counties) and never sideways; [`UnitTree`] answers the
//! one question the access rules need: is this unit inside that one's subtree?

use crate::ids::UnitId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The level of a unit in the administrative hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// 市 (also 省 directly above it is out of scope for now).
    City,
    /// 县 / 区.
    County,
    /// 乡镇 / 街道 / 园区.
    Township,
    /// 村 / 社区.
    Village,
}

impl UnitLevel {
    /// The level directly below this one, if any.
    pub fn child(self) -> Option<UnitLevel> {
        match self {
            UnitLevel::City => Some(UnitLevel::County),
            UnitLevel::County => Some(UnitLevel::Township),
            UnitLevel::Township => Some(UnitLevel::Village),
            UnitLevel::Village => None,
        }
    }
}

/// A GB/T 2260 administrative division code: six digits for 市 and 县 (e.g. `320100` 南京市,
/// `320102` 玄武区); township and village codes extend it to 9 and 12 digits (GB/T 10114).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DivisionCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DivisionCodeError {
    #[error("division code {0:?} must be 6, 9 or 12 ASCII digits")]
    Shape(String),
    #[error("division code {0:?} has an invalid province prefix (must be 11–82)")]
    Province(String),
}

impl DivisionCode {
    pub fn parse(code: &str) -> Result<Self, DivisionCodeError> {
        let ok_len = matches!(code.len(), 6 | 9 | 12);
        if !ok_len || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DivisionCodeError::Shape(code.to_owned()));
        }
        let province: u32 = code[..2].parse().expect("two ASCII digits");
        if !(11..=82).contains(&province) {
            return Err(DivisionCodeError::Province(code.to_owned()));
        }
        Ok(Self(code.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The level this code's shape implies: `xx0000`-style city codes, other 6-digit codes
    /// are counties, 9 digits townships, 12 digits villages.
    pub fn implied_level(&self) -> UnitLevel {
        match self.0.len() {
            6 if self.0.ends_with("00") => UnitLevel::City,
            6 => UnitLevel::County,
            9 => UnitLevel::Township,
            _ => UnitLevel::Village,
        }
    }

    /// Whether `self` lies inside the division `outer` by the code prefix rule of GB/T 2260.
    pub fn is_within(&self, outer: &DivisionCode) -> bool {
        let prefix = match outer.implied_level() {
            UnitLevel::City => &outer.0[..4],
            _ => outer.0.as_str(),
        };
        self.0.starts_with(prefix)
    }
}

impl TryFrom<String> for DivisionCode {
    type Error = DivisionCodeError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<DivisionCode> for String {
    fn from(c: DivisionCode) -> String {
        c.0
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An enforcement unit and its territory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    pub id: UnitId,
    /// Full name, e.g. 南京市玄武区应急管理局.
    pub name: String,
    /// Short name used in document numbers (文号): `（玄武）应急检记〔2026〕12号` has short name 玄武.
    pub short_name: String,
    pub level: UnitLevel,
    pub code: DivisionCode,
    pub parent: Option<UnitId>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitTreeError {
    #[error("unit {0} appears twice")]
    Duplicate(UnitId),
    #[error("unit {child} names parent {parent}, which does not exist")]
    MissingParent { child: UnitId, parent: UnitId },
    #[error("unit {child} ({child_level:?}) cannot sit under {parent} ({parent_level:?})")]
    LevelOrder {
        child: UnitId,
        child_level: UnitLevel,
        parent: UnitId,
        parent_level: UnitLevel,
    },
    #[error("unit {child}'s division code {code} is not inside its parent's {parent_code}")]
    CodeOutsideParent {
        child: UnitId,
        code: DivisionCode,
        parent_code: DivisionCode,
    },
    #[error("unit {0} has no parent but is not a city")]
    OrphanBelowCity(UnitId),
}

/// All units known to a replica, validated as one hierarchy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitTree {
    units: BTreeMap<UnitId, Unit>,
}

impl UnitTree {
    /// Builds the tree, checking that every parent exists, levels descend one step at a time
    /// and each child's division code lies inside its parent's. A parent chain cannot loop
    /// because levels strictly descend.
    pub fn new(units: impl IntoIterator<Item = Unit>) -> Result<Self, UnitTreeError> {
        let mut map = BTreeMap::new();
        for unit in units {
            if let Some(dup) = map.insert(unit.id.clone(), unit) {
                return Err(UnitTreeError::Duplicate(dup.id));
            }
        }
        for unit in map.values() {
            let Some(parent_id) = &unit.parent else {
                if unit.level != UnitLevel::City {
                    return Err(UnitTreeError::OrphanBelowCity(unit.id.clone()));
                }
                continue;
            };
            let parent = map
                .get(parent_id)
                .ok_or_else(|| UnitTreeError::MissingParent {
                    child: unit.id.clone(),
                    parent: parent_id.clone(),
                })?;
            if parent.level.child() != Some(unit.level) {
                return Err(UnitTreeError::LevelOrder {
                    child: unit.id.clone(),
                    child_level: unit.level,
                    parent: parent.id.clone(),
                    parent_level: parent.level,
                });
            }
            if !unit.code.is_within(&parent.code) {
                return Err(UnitTreeError::CodeOutsideParent {
                    child: unit.id.clone(),
                    code: unit.code.clone(),
                    parent_code: parent.code.clone(),
                });
            }
        }
        Ok(Self { units: map })
    }

    pub fn get(&self, id: &UnitId) -> Option<&Unit> {
        self.units.get(id)
    }

    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    /// The unit itself, then its parent, up to the root.
    pub fn ancestors_or_self<'a>(&'a self, id: &UnitId) -> impl Iterator<Item = &'a Unit> + 'a {
        let mut next = self.units.get(id);
        std::iter::from_fn(move || {
            let current = next?;
            next = current.parent.as_ref().and_then(|p| self.units.get(p));
            Some(current)
        })
    }

    /// Whether `unit` is `root` or lies below it. Unknown units are inside nothing.
    pub fn is_in_subtree(&self, unit: &UnitId, root: &UnitId) -> bool {
        self.ancestors_or_self(unit).any(|u| &u.id == root)
    }

    /// Every unit in `root`'s subtree, `root` included.
    pub fn subtree<'a>(&'a self, root: &'a UnitId) -> impl Iterator<Item = &'a Unit> + 'a {
        self.units
            .values()
            .filter(move |u| self.is_in_subtree(&u.id, root))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn unit(id: &str, level: UnitLevel, code: &str, parent: Option<&str>) -> Unit {
        Unit {
            id: UnitId::from(id),
            name: id.to_owned(),
            short_name: id.to_owned(),
            level,
            code: DivisionCode::parse(code).unwrap(),
            parent: parent.map(UnitId::from),
        }
    }

    /// 南京市 with two counties (玄武区, 秦淮区) and a street under 玄武区.
    pub(crate) fn nanjing() -> UnitTree {
        UnitTree::new([
            unit("nj", UnitLevel::City, "320100", None),
            unit("xw", UnitLevel::County, "320102", Some("nj")),
            unit("qh", UnitLevel::County, "320104", Some("nj")),
            unit("xw-xjq", UnitLevel::Township, "320102002", Some("xw")),
        ])
        .unwrap()
    }

    #[test]
    fn subtree_contains_descendants_but_not_siblings_or_ancestors() {
        let tree = nanjing();
        let (nj, xw, qh, street) = (
            UnitId::from("nj"),
            UnitId::from("xw"),
            UnitId::from("qh"),
            UnitId::from("xw-xjq"),
        );
        assert!(tree.is_in_subtree(&street, &nj));
        assert!(tree.is_in_subtree(&street, &xw));
        assert!(tree.is_in_subtree(&xw, &xw));
        assert!(!tree.is_in_subtree(&street, &qh), "sideways");
        assert!(!tree.is_in_subtree(&qh, &xw), "sideways");
        assert!(!tree.is_in_subtree(&nj, &xw), "upwards");
        assert_eq!(tree.subtree(&xw).count(), 2);
        assert_eq!(tree.subtree(&nj).count(), 4);
    }

    #[test]
    fn division_codes_are_checked() {
        assert!(DivisionCode::parse("320102").is_ok());
        assert!(DivisionCode::parse("320102002").is_ok());
        assert!(matches!(
            DivisionCode::parse("32010"),
            Err(DivisionCodeError::Shape(_))
        ));
        assert!(matches!(
            DivisionCode::parse("3201O2"),
            Err(DivisionCodeError::Shape(_))
        ));
        assert!(matches!(
            DivisionCode::parse("990102"),
            Err(DivisionCodeError::Province(_))
        ));
        let city = DivisionCode::parse("320100").unwrap();
        assert_eq!(city.implied_level(), UnitLevel::City);
        assert!(DivisionCode::parse("320102").unwrap().is_within(&city));
        assert!(!DivisionCode::parse("320202").unwrap().is_within(&city));
    }

    #[test]
    fn malformed_hierarchies_are_rejected() {
        let missing = UnitTree::new([unit("xw", UnitLevel::County, "320102", Some("nj"))]);
        assert!(matches!(missing, Err(UnitTreeError::MissingParent { .. })));
        let skip = UnitTree::new([
            unit("nj", UnitLevel::City, "320100", None),
            unit("s", UnitLevel::Township, "320102002", Some("nj")),
        ]);
        assert!(matches!(skip, Err(UnitTreeError::LevelOrder { .. })));
        let outside = UnitTree::new([
            unit("nj", UnitLevel::City, "320100", None),
            unit("sz", UnitLevel::County, "320502", Some("nj")),
        ]);
        assert!(matches!(
            outside,
            Err(UnitTreeError::CodeOutsideParent { .. })
        ));
        let orphan = UnitTree::new([unit("xw", UnitLevel::County, "320102", None)]);
        assert!(matches!(orphan, Err(UnitTreeError::OrphanBelowCity(_))));
    }
}
