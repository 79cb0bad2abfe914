//! Hazards (隐患) and their closed loop:
//!
//! ```text
//! 登记 Registered → 责令整改 Ordered (deadline) → 整改完成 Rectified (reported by the enterprise)
//!   → 复查 re-inspection: passed → Reinspected → 销号 Closed
//!                          failed → Ordered again with a new deadline (or escalated)
//! ```
//!
//! A hazard is overdue (逾期) when its deadline has passed without a passed re-inspection.
//! A major hazard (重大隐患) must be listed for supervision (挂牌督办) before rectification is
//! ordered, and stays listed until it is closed.

use crate::checklist::ChecklistTemplate;
use crate::evidence::PhotoRef;
use crate::evidence::Sha256Hex;
use crate::geo::{Day, Timestamp};
use crate::ids::{HazardId, ItemCode, UserId};
use crate::inspection::{Command, RecordError};
use crate::legal::LegalBasis;
use crate::settings::UnitSettings;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardLevel {
    /// 一般隐患
    General,
    /// 重大隐患
    Major,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardStage {
    /// 登记
    Registered,
    /// 责令整改
    Ordered,
    /// 整改完成 (reported by the enterprise, awaiting 复查)
    Rectified,
    /// 复查通过
    Reinspected,
    /// 销号
    Closed,
}

impl HazardStage {
    pub fn label_zh(self) -> &'static str {
        match self {
            HazardStage::Registered => "登记",
            HazardStage::Ordered => "责令整改",
            HazardStage::Rectified => "整改完成",
            HazardStage::Reinspected => "复查通过",
            HazardStage::Closed => "销号",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HazardStage::Registered => "registered",
            HazardStage::Ordered => "ordered",
            HazardStage::Rectified => "rectified",
            HazardStage::Reinspected => "reinspected",
            HazardStage::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            HazardStage::Registered,
            HazardStage::Ordered,
            HazardStage::Rectified,
            HazardStage::Reinspected,
            HazardStage::Closed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }

    /// Whether the hazard still needs work (the deadline matters).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            HazardStage::Registered | HazardStage::Ordered | HazardStage::Rectified
        )
    }
}

/// 挂牌督办: a major hazard listed for supervision by a named level, with a named person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervision {
    /// The supervising level, e.g. 县级 / 市级.
    pub level: String,
    pub responsible: String,
    pub listed_on: Day,
}

/// One 复查 (re-inspection) of a hazard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reinspection {
    pub on: Day,
    pub by: UserId,
    pub passed: bool,
    pub note: String,
    pub photos: BTreeMap<Sha256Hex, PhotoRef>,
    /// For a failed re-inspection: the new deadline rectification is ordered to.
    pub new_deadline: Option<Day>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    pub id: HazardId,
    /// The checklist item whose failure this hazard records, if any.
    pub item: Option<ItemCode>,
    pub level: HazardLevel,
    pub description: String,
    pub place: String,
    pub basis: Vec<LegalBasis>,
    /// 处罚依据: the provisions that punish the violation, copied from the item's in the
    /// record's checklist version when the hazard is registered on an item (the rules refuse
    /// any other), so the later penalty case reads them here. Empty for hazards registered
    /// before templates carried them (and absent from their stored bytes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub penalty: Vec<LegalBasis>,
    pub photos: BTreeMap<Sha256Hex, PhotoRef>,
    /// Required rectification measures (整改措施).
    pub measures: String,
    pub deadline: Option<Day>,
    pub stage: HazardStage,
    pub supervision: Option<Supervision>,
    pub registered_on: Day,
    pub reported_on: Option<Day>,
    /// Re-inspections keyed by an id chosen by the recording device, so that re-inspections
    /// recorded on two tablets are both kept.
    pub reinspections: BTreeMap<String, Reinspection>,
    pub closed_on: Option<Day>,
}

/// A step in the hazard's life.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum HazardAction {
    /// 责令限期整改: order rectification by a deadline with measures.
    Order { deadline: Day, measures: String },
    /// 挂牌督办 (or escalation to a higher level).
    ListForSupervision(Supervision),
    /// 整改完成: the enterprise reports completion.
    ReportRectified { on: Day },
    /// 复查.
    Reinspect {
        id: String,
        reinspection: Reinspection,
    },
    /// 销号.
    Close { on: Day },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HazardError {
    #[error("hazard {id}: cannot {action} at stage {stage:?}; allowed from {allowed}")]
    WrongStage {
        id: HazardId,
        action: &'static str,
        stage: HazardStage,
        allowed: &'static str,
    },
    #[error(
        "hazard {0}: a major hazard (重大隐患) must be listed for supervision (挂牌督办) before rectification is ordered"
    )]
    MajorNeedsSupervision(HazardId),
    #[error("hazard {id}: deadline {deadline} is before the hazard was registered on {registered}")]
    DeadlineBeforeRegistration {
        id: HazardId,
        deadline: Day,
        registered: Day,
    },
    #[error("hazard {0}: a failed re-inspection must set a new deadline")]
    FailedWithoutNewDeadline(HazardId),
    #[error("hazard {0}: re-inspection {1} is already recorded")]
    DuplicateReinspection(HazardId, String),
    #[error("hazard {0}: measures must not be empty")]
    NoMeasures(HazardId),
    #[error("hazard {0}: description must not be empty")]
    NoDescription(HazardId),
    #[error("hazard {0}: at least one legal basis is required")]
    NoBasis(HazardId),
}

impl Hazard {
    /// Checks a newly registered hazard.
    pub fn validate_new(&self) -> Result<(), HazardError> {
        if self.description.trim().is_empty() {
            return Err(HazardError::NoDescription(self.id.clone()));
        }
        if self.basis.is_empty() {
            return Err(HazardError::NoBasis(self.id.clone()));
        }
        if self.stage != HazardStage::Registered {
            return Err(self.wrong_stage("register", "a new hazard"));
        }
        Ok(())
    }

    fn wrong_stage(&self, action: &'static str, allowed: &'static str) -> HazardError {
        HazardError::WrongStage {
            id: self.id.clone(),
            action,
            stage: self.stage,
            allowed,
        }
    }

    /// Applies one step of the lifecycle, or says why it is not allowed now.
    pub fn apply(&mut self, action: &HazardAction) -> Result<(), HazardError> {
        match action {
            HazardAction::Order { deadline, measures } => {
                if self.stage != HazardStage::Registered {
                    return Err(self.wrong_stage("order rectification", "registered"));
                }
                if self.level == HazardLevel::Major && self.supervision.is_none() {
                    return Err(HazardError::MajorNeedsSupervision(self.id.clone()));
                }
                if measures.trim().is_empty() {
                    return Err(HazardError::NoMeasures(self.id.clone()));
                }
                if *deadline < self.registered_on {
                    return Err(HazardError::DeadlineBeforeRegistration {
                        id: self.id.clone(),
                        deadline: *deadline,
                        registered: self.registered_on,
                    });
                }
                self.deadline = Some(*deadline);
                self.measures = measures.clone();
                self.stage = HazardStage::Ordered;
            }
            HazardAction::ListForSupervision(s) => {
                if !self.stage.is_open() {
                    return Err(self.wrong_stage("list for supervision", "an open stage"));
                }
                self.supervision = Some(s.clone());
            }
            HazardAction::ReportRectified { on } => {
                if self.stage != HazardStage::Ordered {
                    return Err(self.wrong_stage("report rectification", "ordered"));
                }
                self.reported_on = Some(*on);
                self.stage = HazardStage::Rectified;
            }
            HazardAction::Reinspect { id, reinspection } => {
                if self.stage != HazardStage::Rectified {
                    return Err(self.wrong_stage("re-inspect", "rectified"));
                }
                if self.reinspections.contains_key(id) {
                    return Err(HazardError::DuplicateReinspection(
                        self.id.clone(),
                        id.clone(),
                    ));
                }
                if reinspection.passed {
                    self.stage = HazardStage::Reinspected;
                } else {
                    let deadline = reinspection
                        .new_deadline
                        .ok_or_else(|| HazardError::FailedWithoutNewDeadline(self.id.clone()))?;
                    self.deadline = Some(deadline);
                    self.stage = HazardStage::Ordered;
                }
                self.reinspections.insert(id.clone(), reinspection.clone());
            }
            HazardAction::Close { on } => {
                if self.stage != HazardStage::Reinspected {
                    return Err(self.wrong_stage("close (销号)", "a passed re-inspection"));
                }
                self.closed_on = Some(*on);
                self.stage = HazardStage::Closed;
            }
        }
        Ok(())
    }

    /// 逾期: the deadline has passed (strictly before `today`) without a passed re-inspection.
    pub fn is_overdue(&self, today: Day) -> bool {
        overdue(self.stage, self.deadline, today)
    }

    /// When the re-inspection is due, once the enterprise has reported completion.
    pub fn reinspection_due(&self, settings: &UnitSettings) -> Option<Day> {
        match (self.stage, self.reported_on) {
            (HazardStage::Rectified, Some(reported)) => Some(settings.reinspection_due(reported)),
            _ => None,
        }
    }

    pub fn reinspection_overdue(&self, today: Day, settings: &UnitSettings) -> bool {
        self.reinspection_due(settings).is_some_and(|d| d < today)
    }

    /// 挂牌督办 is required for every major hazard that is not closed.
    pub fn missing_required_supervision(&self) -> bool {
        self.level == HazardLevel::Major
            && self.stage != HazardStage::Registered
            && self.supervision.is_none()
    }

    /// Invariants that must hold whatever path led here (used after a merge of concurrent
    /// edits, where each replica's steps were valid but their combination may not be).
    pub fn violations(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.missing_required_supervision() {
            out.push(format!(
                "hazard {}: major hazard at stage {:?} is not listed for supervision (挂牌督办)",
                self.id, self.stage
            ));
        }
        let passed = self.reinspections.values().any(|r| r.passed);
        if matches!(self.stage, HazardStage::Reinspected | HazardStage::Closed) && !passed {
            out.push(format!(
                "hazard {}: stage {:?} without a passed re-inspection",
                self.id, self.stage
            ));
        }
        if self.stage != HazardStage::Registered && self.deadline.is_none() {
            out.push(format!(
                "hazard {}: stage {:?} without a deadline",
                self.id, self.stage
            ));
        }
        if self.stage == HazardStage::Closed && self.closed_on.is_none() {
            out.push(format!("hazard {}: closed without a date", self.id));
        }
        out
    }
}

/// A hazard as the inspector registers it on a failed checklist item (责令限期整改): what
/// the form holds. The id and the day come from the device ([`NewHazard::commands`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewHazard {
    pub item: ItemCode,
    pub level: HazardLevel,
    pub description: String,
    pub place: String,
    /// 整改措施.
    pub measures: String,
    pub deadline: Day,
    /// For a major hazard, 挂牌督办: the supervising level (e.g. 县级) and the person
    /// responsible (ignored for a general hazard).
    pub supervision_level: String,
    pub supervision_responsible: String,
}

impl NewHazard {
    /// The record commands that register the hazard as `id` on `today` with its item's legal
    /// basis and 处罚依据 from `template`, list a major one for supervision, and order its
    /// rectification, in that order. An item whose failure is a major accident hazard
    /// (it has a 判定依据) makes the hazard major whatever the form says: the rules refuse
    /// it as a general one.
    pub fn commands(
        &self,
        id: HazardId,
        template: &ChecklistTemplate,
        today: Day,
    ) -> Result<Vec<Command>, RecordError> {
        let item = template
            .item(&self.item)
            .ok_or_else(|| RecordError::UnknownItem {
                item: self.item.clone(),
                template: template.id.clone(),
                version: template.version,
            })?;
        let level = if item.is_major_hazard() {
            HazardLevel::Major
        } else {
            self.level
        };
        let hazard = Hazard {
            id: id.clone(),
            item: Some(self.item.clone()),
            level,
            description: self.description.clone(),
            place: self.place.clone(),
            basis: item.basis.clone(),
            penalty: item.penalty.clone(),
            photos: BTreeMap::new(),
            measures: String::new(),
            deadline: None,
            stage: HazardStage::Registered,
            supervision: None,
            registered_on: today,
            reported_on: None,
            reinspections: BTreeMap::new(),
            closed_on: None,
        };
        let mut commands = vec![Command::RegisterHazard(hazard)];
        if level == HazardLevel::Major {
            commands.push(Command::Hazard {
                hazard: id.clone(),
                action: HazardAction::ListForSupervision(Supervision {
                    level: self.supervision_level.clone(),
                    responsible: self.supervision_responsible.clone(),
                    listed_on: today,
                }),
            });
        }
        commands.push(Command::Hazard {
            hazard: id,
            action: HazardAction::Order {
                deadline: self.deadline,
                measures: self.measures.clone(),
            },
        });
        Ok(commands)
    }
}

/// A re-inspection (复查) as the inspector records it: the outcome, the note, the photos
/// taken, and for a failed one the new deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReinspection {
    pub passed: bool,
    pub note: String,
    pub photos: Vec<Sha256Hex>,
    pub new_deadline: Option<Day>,
}

impl NewReinspection {
    /// The record commands that record it as re-inspection `id` of `hazard`, by `by` at `now`
    /// (its day in Asia/Shanghai), and close (销号) the hazard when it passed.
    pub fn commands(
        &self,
        hazard: &HazardId,
        id: String,
        by: &UserId,
        now: Timestamp,
    ) -> Vec<Command> {
        let today = now.shanghai_date();
        let photos = self
            .photos
            .iter()
            .map(|s| {
                (
                    s.clone(),
                    PhotoRef {
                        sha256: s.clone(),
                        added_at: now,
                        added_by: by.clone(),
                    },
                )
            })
            .collect();
        let mut commands = vec![Command::Hazard {
            hazard: hazard.clone(),
            action: HazardAction::Reinspect {
                id,
                reinspection: Reinspection {
                    on: today,
                    by: by.clone(),
                    passed: self.passed,
                    note: self.note.clone(),
                    photos,
                    new_deadline: if self.passed { None } else { self.new_deadline },
                },
            },
        }];
        if self.passed {
            commands.push(Command::Hazard {
                hazard: hazard.clone(),
                action: HazardAction::Close { on: today },
            });
        }
        commands
    }
}

/// [`Hazard::is_overdue`] from the two facts it depends on (a server's index keeps them as
/// columns, so that counting overdue hazards does not read every hazard whole).
pub fn overdue(stage: HazardStage, deadline: Option<Day>, today: Day) -> bool {
    stage.is_open() && deadline.is_some_and(|d| d < today)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn hazard(id: &str, level: HazardLevel) -> Hazard {
        Hazard {
            id: HazardId::from(id),
            item: Some(ItemCode::from("GM-ZD-01")),
            level,
            description: "粉尘爆炸危险场所未按规定设置泄爆装置".into(),
            place: "抛光车间".into(),
            basis: vec![LegalBasis::new(
                "工贸企业重大事故隐患判定标准",
                "第十二条第（二）项",
            )],
            penalty: Vec::new(),
            photos: BTreeMap::new(),
            measures: String::new(),
            deadline: None,
            stage: HazardStage::Registered,
            supervision: None,
            registered_on: Day::ymd(2026, 11, 23),
            reported_on: None,
            reinspections: BTreeMap::new(),
            closed_on: None,
        }
    }

    fn reinspection(passed: bool, new_deadline: Option<Day>) -> Reinspection {
        Reinspection {
            on: Day::ymd(2026, 12, 10),
            by: UserId::from("u1"),
            passed,
            note: String::new(),
            photos: BTreeMap::new(),
            new_deadline,
        }
    }

    fn order(d: Day) -> HazardAction {
        HazardAction::Order {
            deadline: d,
            measures: "加装泄爆片".into(),
        }
    }

    #[test]
    fn general_hazard_walks_the_whole_loop() {
        let mut h = hazard("h1", HazardLevel::General);
        h.validate_new().unwrap();
        h.apply(&order(Day::ymd(2026, 12, 5))).unwrap();
        assert_eq!(h.stage, HazardStage::Ordered);
        h.apply(&HazardAction::ReportRectified {
            on: Day::ymd(2026, 12, 1),
        })
        .unwrap();
        h.apply(&HazardAction::Reinspect {
            id: "r1".into(),
            reinspection: reinspection(true, None),
        })
        .unwrap();
        assert_eq!(h.stage, HazardStage::Reinspected);
        h.apply(&HazardAction::Close {
            on: Day::ymd(2026, 12, 10),
        })
        .unwrap();
        assert_eq!(h.stage, HazardStage::Closed);
        assert!(h.violations().is_empty(), "{:?}", h.violations());
        assert!(
            !h.is_overdue(Day::ymd(2027, 1, 1)),
            "closed is never overdue"
        );
    }

    #[test]
    fn failed_reinspection_orders_again_with_a_new_deadline() {
        let mut h = hazard("h1", HazardLevel::General);
        h.apply(&order(Day::ymd(2026, 12, 5))).unwrap();
        h.apply(&HazardAction::ReportRectified {
            on: Day::ymd(2026, 12, 1),
        })
        .unwrap();
        let err = h
            .apply(&HazardAction::Reinspect {
                id: "r1".into(),
                reinspection: reinspection(false, None),
            })
            .unwrap_err();
        assert_eq!(err, HazardError::FailedWithoutNewDeadline(h.id.clone()));
        assert_eq!(
            h.stage,
            HazardStage::Rectified,
            "a refused step changes nothing"
        );
        h.apply(&HazardAction::Reinspect {
            id: "r1".into(),
            reinspection: reinspection(false, Some(Day::ymd(2026, 12, 20))),
        })
        .unwrap();
        assert_eq!(h.stage, HazardStage::Ordered);
        assert_eq!(h.deadline, Some(Day::ymd(2026, 12, 20)));
        assert!(!h.is_overdue(Day::ymd(2026, 12, 20)));
        assert!(h.is_overdue(Day::ymd(2026, 12, 21)));
    }

    #[test]
    fn wrong_stage_steps_are_refused_with_the_reason() {
        let mut h = hazard("h1", HazardLevel::General);
        let err = h
            .apply(&HazardAction::Close {
                on: Day::ymd(2026, 12, 1),
            })
            .unwrap_err();
        assert!(err.to_string().contains("passed re-inspection"), "{err}");
        assert!(matches!(
            h.apply(&HazardAction::ReportRectified {
                on: Day::ymd(2026, 12, 1)
            }),
            Err(HazardError::WrongStage { .. })
        ));
        assert!(matches!(
            h.apply(&order(Day::ymd(2026, 11, 1))),
            Err(HazardError::DeadlineBeforeRegistration { .. })
        ));
    }

    #[test]
    fn major_hazard_requires_supervision_before_ordering() {
        let mut h = hazard("h1", HazardLevel::Major);
        assert_eq!(
            h.apply(&order(Day::ymd(2027, 2, 1))).unwrap_err(),
            HazardError::MajorNeedsSupervision(h.id.clone())
        );
        h.apply(&HazardAction::ListForSupervision(Supervision {
            level: "县级".into(),
            responsible: "张局长".into(),
            listed_on: Day::ymd(2026, 11, 23),
        }))
        .unwrap();
        h.apply(&order(Day::ymd(2027, 2, 1))).unwrap();
        assert!(h.violations().is_empty());
        // A merged state that lost the listing is reported, not silently accepted.
        h.supervision = None;
        assert_eq!(h.violations().len(), 1);
    }

    #[test]
    fn overdue_is_computed_from_the_given_date() {
        let mut h = hazard("h1", HazardLevel::General);
        assert!(!h.is_overdue(Day::ymd(2030, 1, 1)), "no deadline yet");
        h.apply(&order(Day::ymd(2026, 12, 5))).unwrap();
        assert!(
            !h.is_overdue(Day::ymd(2026, 12, 5)),
            "due today is not overdue"
        );
        assert!(h.is_overdue(Day::ymd(2026, 12, 6)));
        h.apply(&HazardAction::ReportRectified {
            on: Day::ymd(2026, 12, 4),
        })
        .unwrap();
        assert!(
            h.is_overdue(Day::ymd(2026, 12, 6)),
            "reported but not re-inspected is still open"
        );
        let mut settings = UnitSettings::default();
        settings.reinspection_days = 2;
        settings.reinspection_count = crate::settings::DayCount::Calendar;
        assert_eq!(h.reinspection_due(&settings), Some(Day::ymd(2026, 12, 6)));
        assert!(!h.reinspection_overdue(Day::ymd(2026, 12, 6), &settings));
        assert!(h.reinspection_overdue(Day::ymd(2026, 12, 7), &settings));
    }
    #[test]
    fn a_new_hazard_is_registered_listed_when_major_and_ordered() {
        use crate::test_support::template;
        let t = template();
        let today = Day::ymd(2026, 11, 23);
        let form = NewHazard {
            item: ItemCode::from("T-03"),
            level: HazardLevel::Major,
            description: "抛光车间未设置泄爆装置".into(),
            place: "抛光车间".into(),
            measures: "加装泄爆装置".into(),
            deadline: Day::ymd(2027, 2, 21),
            supervision_level: "县级".into(),
            supervision_responsible: "张伟".into(),
        };
        let id = HazardId::from("hz-1");
        let commands = form.commands(id.clone(), &t, today).unwrap();
        assert_eq!(commands.len(), 3);
        let Command::RegisterHazard(h) = &commands[0] else {
            panic!("registered first: {commands:?}")
        };
        assert_eq!((&h.id, h.registered_on), (&id, today));
        assert_eq!(
            h.basis,
            t.item(&form.item).unwrap().basis,
            "the item's basis"
        );
        assert!(matches!(
            &commands[1],
            Command::Hazard { action: HazardAction::ListForSupervision(s), .. } if s.level == "县级"
        ));
        // T-03 is a major-hazard item (it has a 判定依据): its hazard is major whatever the
        // form says.
        let general = NewHazard {
            level: HazardLevel::General,
            ..form.clone()
        };
        let commands = general.commands(id.clone(), &t, today).unwrap();
        assert!(matches!(
            &commands[..],
            [Command::RegisterHazard(h), Command::Hazard { action: HazardAction::ListForSupervision(_), .. }, _]
                if h.level == HazardLevel::Major
        ));
        // An ordinary item's hazard keeps the form's level.
        let ordinary = NewHazard {
            item: ItemCode::from("T-01"),
            level: HazardLevel::General,
            ..form.clone()
        };
        let commands = ordinary.commands(id.clone(), &t, today).unwrap();
        assert_eq!(commands.len(), 2);
        assert!(
            matches!(&commands[0], Command::RegisterHazard(h) if h.level == HazardLevel::General)
        );
        let unknown = NewHazard {
            item: ItemCode::from("X-99"),
            ..form
        };
        assert!(matches!(
            unknown.commands(id, &t, today),
            Err(RecordError::UnknownItem { .. })
        ));
    }

    #[test]
    fn a_passed_reinspection_closes_the_hazard_the_same_day() {
        let by = UserId::from("u-wang");
        let at = Timestamp(1_795_420_800_000);
        let passed = NewReinspection {
            passed: true,
            note: "已整改".into(),
            photos: vec![Sha256Hex::of(b"p")],
            new_deadline: Some(Day::ymd(2026, 12, 1)),
        };
        let c = passed.commands(&HazardId::from("hz-1"), "ri-1".into(), &by, at);
        assert!(matches!(
            &c[..],
            [
                Command::Hazard { action: HazardAction::Reinspect { reinspection: r, .. }, .. },
                Command::Hazard { action: HazardAction::Close { on }, .. },
            ] if r.new_deadline.is_none() && r.photos.len() == 1 && *on == at.shanghai_date()
        ));
        let failed = NewReinspection {
            passed: false,
            ..passed
        };
        let c = failed.commands(&HazardId::from("hz-1"), "ri-2".into(), &by, at);
        assert!(matches!(
            &c[..],
            [Command::Hazard { action: HazardAction::Reinspect { reinspection: r, .. }, .. }]
                if r.new_deadline == Some(Day::ymd(2026, 12, 1))
        ));
    }
}
