//! What a person reads when a rule says no: the Chinese text of every rule error, and the
//! field of the form it concerns. The English text is each error's `Display`; both come from
//! here and the error types, so the tablet, the console and the API say the same thing.

use crate::hazard::HazardError;
use crate::inspection::{Mover, RecordError, Unmet};
use crate::judge::RefusalCode;

impl Unmet {
    /// The condition not yet met, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            Unmet::FewerThanTwoInspectors(n) => {
                format!("至少需要两名持证执法人员（《行政处罚法》第四十二条），现有 {n} 名")
            }
            Unmet::NoArrivalProof => "四不两直检查须先记录到达凭证：时间、位置和入口照片".into(),
            Unmet::NoNoticeNotAttested => "执法人员尚未声明“未提前通知”".into(),
            Unmet::NoEscortNotAttested => "执法人员尚未声明“未接受陪同和接待”".into(),
            Unmet::UnansweredItems(items) => {
                let shown: Vec<&str> = items.iter().take(5).map(|i| i.as_str()).collect();
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
}

/// `inspector 王强` → `执法人员 王强`; anything else is the enterprise's signature.
fn who_zh(who: &str) -> String {
    match who.strip_prefix("inspector ") {
        Some(name) => format!("执法人员 {name}"),
        None => "企业现场负责人（或记录拒签）".into(),
    }
}

impl Mover {
    pub fn label_zh(self) -> &'static str {
        match self {
            Mover::Inspector => "执法人员",
            Mover::Supervisor => "审核人",
        }
    }
}

impl RecordError {
    /// The refusal in Chinese.
    pub fn zh(&self) -> String {
        match self {
            RecordError::NoSuchMove { from, to } => {
                format!("记录不能从“{}”变为“{}”", from.label_zh(), to.label_zh())
            }
            RecordError::WrongRole { from, to, needed } => format!(
                "只有{}可以把记录从“{}”变为“{}”",
                needed.label_zh(),
                from.label_zh(),
                to.label_zh()
            ),
            RecordError::Unmet { to, unmet, .. } => format!(
                "无法进入“{}”：{}",
                to.label_zh(),
                unmet.iter().map(Unmet::zh).collect::<Vec<_>>().join("；")
            ),
            RecordError::Frozen(s) => format!("记录处于“{}”状态，内容不能修改", s.label_zh()),
            RecordError::NotAnInspector => "只有执法人员可以修改记录内容".into(),
            RecordError::UnknownItem { item, .. } => format!("检查表中没有检查项 {item}"),
            RecordError::TemplateMismatch { .. } => "检查表版本与记录不符，请同步后重试".into(),
            RecordError::UnknownHazard(_) => "记录中没有该隐患".into(),
            RecordError::DuplicateHazard(_) => "该隐患已登记".into(),
            RecordError::Hazard(h) => h.zh(),
            RecordError::SignerNotOnRecord(u) => format!("{u} 不是本记录的执法人员"),
            RecordError::InspectorCannotRefuse => "执法人员不能拒签".into(),
            RecordError::RefusalWithoutWitness => "拒绝签字须记录见证人".into(),
            RecordError::InspectorRole(u) => {
                format!("检查记录由执法人员制作；{u} 是审核人或管理员")
            }
            RecordError::DuplicateSignedVersion(v) => format!("签署版本 {v} 已记录"),
            RecordError::DuplicateDocument(n) => format!("文书编号 {n} 已在本记录中使用"),
            RecordError::NotInStatus(s) => {
                format!("记录处于“{}”状态，不能这样操作", s.label_zh())
            }
        }
    }

    /// The form field the refusal concerns, if one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            RecordError::RefusalWithoutWitness => Some("witness"),
            RecordError::Hazard(h) => h.field(),
            _ => None,
        }
    }
}

impl HazardError {
    /// The refusal in Chinese.
    pub fn zh(&self) -> String {
        match self {
            HazardError::MajorNeedsSupervision(_) => {
                "重大事故隐患须先挂牌督办，才能责令整改".into()
            }
            HazardError::DeadlineBeforeRegistration { .. } => "整改期限不能早于隐患登记日期".into(),
            HazardError::FailedWithoutNewDeadline(_) => "复查不通过须规定新的整改期限".into(),
            HazardError::NoMeasures(_) => "请填写整改措施".into(),
            HazardError::NoDescription(_) => "请填写隐患描述".into(),
            HazardError::NoBasis(_) => "隐患须至少有一条法律依据".into(),
            HazardError::DuplicateReinspection(..) => "该复查已记录".into(),
            HazardError::WrongStage { stage, .. } => {
                format!("隐患处于“{}”阶段，不能这样操作", stage.label_zh())
            }
        }
    }

    /// The form field the refusal concerns, if one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            HazardError::MajorNeedsSupervision(_) => Some("supervision"),
            HazardError::DeadlineBeforeRegistration { .. }
            | HazardError::FailedWithoutNewDeadline(_) => Some("deadline"),
            HazardError::NoMeasures(_) => Some("measures"),
            HazardError::NoDescription(_) => Some("description"),
            HazardError::NoBasis(_) => Some("basis"),
            HazardError::DuplicateReinspection(..) | HazardError::WrongStage { .. } => None,
        }
    }
}

impl RefusalCode {
    /// Why the server refused a pushed record, in Chinese (the tablet shows it beside the
    /// record; the English message names the change).
    pub fn zh(self) -> &'static str {
        match self {
            RefusalCode::Malformed => "数据格式不正确，无法读取",
            RefusalCode::BadId => "记录编号不合规",
            RefusalCode::Forbidden => "无权修改此记录（或记录不存在）",
            RefusalCode::NotAuthor => "包含其他设备所做的修改",
            RefusalCode::BadNote => "修改的署名信息与登录的用户或设备不符",
            RefusalCode::Clock => "修改时间不可信（晚于服务器时间，或早于设备登记）",
            RefusalCode::Rule => "修改违反执法规则",
            RefusalCode::NotReproducible => "修改内容与其声明的操作不一致",
            RefusalCode::NotFresh => "新记录的初始内容不合规",
            RefusalCode::Reference => "企业、检查表或检查计划不可用",
            RefusalCode::SignedVersion => "签署版本与记录内容不符",
            RefusalCode::Photo => "引用了本设备未上传、也无权查看的照片",
        }
    }
}

// The names of the domain's states and kinds, in Chinese (beside each type, `label_zh`) and
// English (here): the app and the console show these, not their own copies.

impl crate::kind::InspectionKind {
    pub fn label_en(self) -> &'static str {
        use crate::kind::InspectionKind::*;
        match self {
            Unannounced => "Unannounced (四不两直)",
            RandomDraw => "Random draw (双随机)",
            Routine => "Routine",
            Campaign => "Campaign",
            Complaint => "Complaint follow-up",
            Reinspection => "Re-inspection",
        }
    }
}

impl crate::inspection::InspectionStatus {
    pub fn label_en(self) -> &'static str {
        use crate::inspection::InspectionStatus::*;
        match self {
            Draft => "Draft",
            OnSite => "On site",
            Completed => "Completed (signed)",
            Submitted => "Submitted",
            Approved => "Approved",
            Returned => "Returned",
        }
    }
}

impl crate::inspection::Answer {
    pub fn label_en(self) -> &'static str {
        use crate::inspection::Answer::*;
        match self {
            Complies => "Complies",
            Fails => "Fails",
            NotApplicable => "N/A",
        }
    }
}

impl crate::hazard::HazardLevel {
    pub fn label_zh(self) -> &'static str {
        match self {
            crate::hazard::HazardLevel::General => "一般隐患",
            crate::hazard::HazardLevel::Major => "重大事故隐患",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            crate::hazard::HazardLevel::General => "General hazard",
            crate::hazard::HazardLevel::Major => "Major hazard",
        }
    }
}

impl crate::hazard::HazardStage {
    pub fn label_en(self) -> &'static str {
        use crate::hazard::HazardStage::*;
        match self {
            Registered => "Registered",
            Ordered => "Rectification ordered",
            Rectified => "Rectified",
            Reinspected => "Re-inspected",
            Closed => "Closed",
        }
    }
}

impl crate::docnumber::DocumentKind {
    pub fn title_en(self) -> &'static str {
        use crate::docnumber::DocumentKind::*;
        match self {
            InspectionRecord => "On-site inspection record",
            RectificationOrder => "Rectification order",
            ReinspectionOpinion => "Re-inspection opinion",
            OnSiteMeasures => "On-site measures decision",
        }
    }
}

impl Unmet {
    /// The unmet requirement in English (its `Display`), beside [`Unmet::zh`].
    pub fn en(&self) -> String {
        self.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hazard::HazardStage;
    use crate::ids::HazardId;
    use crate::inspection::InspectionStatus;

    #[test]
    fn every_rule_error_reads_in_chinese() {
        let errors = [
            RecordError::Frozen(InspectionStatus::Submitted),
            RecordError::WrongRole {
                from: InspectionStatus::Submitted,
                to: InspectionStatus::Approved,
                needed: Mover::Supervisor,
            },
            RecordError::Hazard(HazardError::WrongStage {
                id: HazardId::from("h1"),
                action: "close",
                stage: HazardStage::Registered,
                allowed: "ordered",
            }),
        ];
        for e in errors {
            let zh = e.zh();
            assert!(
                zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{e}: {zh}"
            );
            assert!(!zh.contains("Submitted"), "{zh}");
        }
        assert_eq!(
            RecordError::Frozen(InspectionStatus::Submitted).zh(),
            "记录处于“已提交”状态，内容不能修改"
        );
        assert_eq!(RefusalCode::Rule.zh(), "修改违反执法规则");
    }

    #[test]
    fn every_label_reads_in_both_languages() {
        use crate::docnumber::DocumentKind;
        use crate::hazard::HazardLevel;
        use crate::inspection::Answer;
        assert_eq!(InspectionStatus::Completed.label_en(), "Completed (signed)");
        assert_eq!(HazardLevel::Major.label_zh(), "重大事故隐患");
        assert_eq!(HazardStage::Ordered.label_en(), "Rectification ordered");
        assert_eq!(Answer::NotApplicable.label_en(), "N/A");
        assert_eq!(
            DocumentKind::RectificationOrder.title_en(),
            "Rectification order"
        );
        assert_eq!(
            Unmet::NoOnsitePerson.en(),
            Unmet::NoOnsitePerson.to_string()
        );
    }
}
