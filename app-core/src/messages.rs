//! What a person reads when a rule says no: the Chinese text of every rule error, and the
//! field of the form it concerns. The English text is each error's `Display`; both come from
//! here and the error types, so the tablet, the console and the API say the same thing.
//! Also the two languages ([`Lang`]) and the labels of the domain's values (kinds, statuses,
//! hazard stages and levels, answers, documents) in both, shown by the app and the console.

use crate::docnumber::DocumentKind;
use crate::hazard::{HazardError, HazardLevel, HazardStage};
use crate::inspection::{Answer, InspectionStatus, Mover, RecordError, Unmet};
use crate::judge::RefusalCode;
use crate::kind::InspectionKind;

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
            Unmet::SignedBeforeReinspection(who) => {
                format!("{who} 的签名早于最近一次复查，请重新签名，使整改复查意见书与签名日期一致")
            }
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
            RecordError::EmptyItemComment(item) => format!("对检查项 {item} 的意见为空"),
            RecordError::UnknownSection(c) => format!("本记录的检查表中没有“{c}”一节"),
            RecordError::SectionItemsMismatch { category } => {
                format!("“{category}”一节的未答项已变化，请刷新后重试")
            }
            RecordError::NoSuchPhoto(_) => "该照片不在此处，可能已删除".into(),
            RecordError::PhotoRemovalAfterSigning => "记录已签署，照片不能再删除".into(),
            RecordError::Service(e) => e.zh(),
            RecordError::StaleReading(k) => format!(
                "签名前阅读的《{}》与记录现在的内容不一致，请重新阅读后签名",
                k.title_zh()
            ),
            RecordError::MajorHazardItem { item, basis } => format!(
                "检查项 {item} 属重大事故隐患情形（判定依据：{basis}），其隐患只能登记为重大事故隐患，不能改为一般隐患"
            ),
            RecordError::PenaltyNotTheItems(item) => {
                format!("检查项 {item} 的隐患须载明本记录所用检查表版本中该项的处罚依据")
            }
        }
    }

    /// The form field the refusal concerns, if one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            RecordError::RefusalWithoutWitness => Some("witness"),
            RecordError::Hazard(h) => h.field(),
            RecordError::MajorHazardItem { .. } => Some("level"),
            RecordError::Service(crate::delivery::ServiceError::NoRecipient) => {
                Some("service-recipient")
            }
            RecordError::Service(crate::delivery::ServiceError::NoWitness) => {
                Some("service-witness")
            }
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

impl Bilingual for Unmet {
    fn zh(&self) -> String {
        Unmet::zh(self)
    }
    /// The unmet requirement in English (its `Display`).
    fn en(&self) -> String {
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
    fn an_unmet_requirement_reads_in_both_languages() {
        let u = Unmet::NoOnsitePerson;
        assert_eq!(Lang::Zh.err(&u), u.zh());
        assert_eq!(Lang::En.err(&u), u.to_string());
    }
}

// ---------------------------------------------------------------------------------------
// The two languages, and the labels of the domain's enums

/// The language a screen or page is shown in: Simplified Chinese first, English on request.
/// The tablet app and the console both show the domain's labels through it (one table, so the
/// same status reads the same in both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// Something with a text in each language (an error the user is shown).
pub trait Bilingual {
    fn zh(&self) -> String;
    fn en(&self) -> String;
}

impl Lang {
    /// `zh`, `zh-CN`, `zh-Hans` or `en`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "zh" | "zh-CN" | "zh-Hans" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The short code (`zh`, `en`), as [`Lang::parse`] reads it back.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// The language tag of a document in this language (HTML's `lang`).
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }

    /// The text in this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// An error's text in this language.
    pub fn err(self, e: &impl Bilingual) -> String {
        match self {
            Lang::Zh => e.zh(),
            Lang::En => e.en(),
        }
    }

    /// A calendar day as a person reads it: `2026年12月21日` / `2026-12-21` (never the
    /// browser's locale format such as 12/21/2026).
    pub fn day(self, d: crate::geo::Day) -> String {
        match self {
            Lang::Zh => crate::paper::day(d),
            Lang::En => d.to_string(),
        }
    }

    pub fn kind(self, k: InspectionKind) -> &'static str {
        match self {
            Lang::Zh => k.label_zh(),
            Lang::En => match k {
                InspectionKind::Unannounced => "Unannounced (四不两直)",
                InspectionKind::RandomDraw => "Random draw (双随机)",
                InspectionKind::Routine => "Routine",
                InspectionKind::Campaign => "Campaign",
                InspectionKind::Complaint => "Complaint follow-up",
                InspectionKind::Reinspection => "Re-inspection",
            },
        }
    }

    pub fn status(self, s: InspectionStatus) -> &'static str {
        match self {
            Lang::Zh => s.label_zh(),
            Lang::En => match s {
                InspectionStatus::Draft => "Draft",
                InspectionStatus::OnSite => "On site",
                InspectionStatus::Completed => "Completed (signed)",
                InspectionStatus::Submitted => "Submitted",
                InspectionStatus::Approved => "Approved",
                InspectionStatus::Returned => "Returned",
            },
        }
    }

    pub fn stage(self, s: HazardStage) -> &'static str {
        match self {
            Lang::Zh => s.label_zh(),
            Lang::En => match s {
                HazardStage::Registered => "Registered",
                HazardStage::Ordered => "Rectification ordered",
                HazardStage::Rectified => "Rectified",
                HazardStage::Reinspected => "Re-inspected",
                HazardStage::Closed => "Closed",
            },
        }
    }

    pub fn level(self, l: HazardLevel) -> &'static str {
        match (self, l) {
            (Lang::Zh, HazardLevel::General) => "一般隐患",
            (Lang::Zh, HazardLevel::Major) => "重大隐患",
            (Lang::En, HazardLevel::General) => "General",
            (Lang::En, HazardLevel::Major) => "Major",
        }
    }

    /// A checklist answer, or that there is none yet.
    pub fn answer(self, a: Option<Answer>) -> &'static str {
        match (self, a) {
            (Lang::Zh, Some(a)) => a.label_zh(),
            (Lang::Zh, None) => "未作答",
            (Lang::En, Some(Answer::Complies)) => "Complies",
            (Lang::En, Some(Answer::Fails)) => "Fails",
            (Lang::En, Some(Answer::NotApplicable)) => "Not applicable",
            (Lang::En, None) => "Not answered",
        }
    }

    /// How a checklist item is checked (检查方法): 查资料 / 查现场 / 询问 / 测试.
    pub fn check_method(self, m: crate::checklist::CheckMethod) -> &'static str {
        use crate::checklist::CheckMethod;
        match (self, m) {
            (Lang::Zh, CheckMethod::Documents) => "查资料",
            (Lang::Zh, CheckMethod::Site) => "查现场",
            (Lang::Zh, CheckMethod::Interview) => "询问",
            (Lang::Zh, CheckMethod::Test) => "测试",
            (Lang::En, CheckMethod::Documents) => "Documents",
            (Lang::En, CheckMethod::Site) => "Site",
            (Lang::En, CheckMethod::Interview) => "Interview",
            (Lang::En, CheckMethod::Test) => "Test",
        }
    }

    /// The enforcement document a number (文号) belongs to.
    pub fn document(self, k: DocumentKind) -> &'static str {
        match self {
            Lang::Zh => k.title_zh(),
            Lang::En => match k {
                DocumentKind::InspectionRecord => "On-site inspection record",
                DocumentKind::RectificationOrder => "Rectification order",
                DocumentKind::ReinspectionOpinion => "Re-inspection opinion",
                k => k
                    .case_doc()
                    .map_or("", crate::penalty::CaseDocKind::title_en),
            },
        }
    }

    pub fn yes_no(self, b: bool) -> &'static str {
        match (self, b) {
            (Lang::Zh, true) => "是",
            (Lang::Zh, false) => "否",
            (Lang::En, true) => "yes",
            (Lang::En, false) => "no",
        }
    }
}

#[cfg(test)]
mod lang_tests {
    use super::*;

    #[test]
    fn days_read_in_chinese_and_iso() {
        let d = crate::geo::Day::ymd(2026, 12, 21);
        assert_eq!(Lang::Zh.day(d), "2026年12月21日");
        assert_eq!(Lang::En.day(d), "2026-12-21");
    }

    #[test]
    fn chinese_first_and_one_label_per_value() {
        let lang = Lang::default();
        assert_eq!(lang, Lang::Zh);
        assert_eq!(lang.other().t("首页", "Home"), "Home");
        assert_eq!(Lang::parse(Lang::En.code()), Some(Lang::En));
        assert_eq!(Lang::parse(Lang::Zh.tag()), Some(Lang::Zh));
        assert_eq!(lang.kind(InspectionKind::Unannounced), "四不两直");
        assert_eq!(lang.stage(HazardStage::Ordered), "责令整改");
        assert_eq!(
            Lang::En.status(InspectionStatus::Completed),
            "Completed (signed)"
        );
        assert_eq!(
            lang.document(DocumentKind::InspectionRecord),
            "现场检查记录"
        );
        assert_eq!(Lang::En.answer(None), "Not answered");
    }
}

// ---------------------------------------------------------------------------------------
// Evidence that does not fit (`crate::plausibility`): each badge's title and explanation

use crate::plausibility::{Badge, PlaceRef};

/// `6618` → `6,618`: figures read at a glance.
pub fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// Kilometres: one decimal below 100 km, whole kilometres with separators above.
fn km(k: f64) -> String {
    if k < 100.0 {
        format!("{k:.1}")
    } else {
        thousands(k.round() as i64)
    }
}

/// How far apart two instants are: whole days, or hours below two days.
fn apart(a: crate::geo::Timestamp, b: crate::geo::Timestamp) -> (i64, bool) {
    let ms = (a.0 - b.0).abs();
    if ms >= 2 * 86_400_000 {
        (ms / 86_400_000, true)
    } else {
        (ms / 3_600_000, false)
    }
}

impl Lang {
    /// A badge's short title (the list's column, the badge's face).
    pub fn badge_title(self, b: &Badge) -> &'static str {
        match b {
            Badge::PhotoTime { .. } => self.t("照片时间不符", "Photo time does not fit"),
            Badge::PhotoPlace { .. } => self.t("照片地点不符", "Photo place does not fit"),
            Badge::ManualPosition => self.t("手工输入位置", "Position typed by hand"),
            Badge::FarFromEnterprise { .. } => {
                self.t("到场位置远离企业", "Arrival far from the enterprise")
            }
            Badge::PhotoReused { .. } => self.t("照片重复使用", "Photo reused"),
            Badge::FastAnswers { .. } => self.t("作答过快", "Answered too fast"),
        }
    }
}

impl Bilingual for Badge {
    /// The explanation with its figures, in Chinese.
    fn zh(&self) -> String {
        match self {
            Badge::PhotoTime {
                taken,
                reference,
                photos,
            } => {
                let (n, days) = apart(*taken, *reference);
                let date = if days {
                    taken.display_shanghai()[..10].to_owned()
                } else {
                    taken.display_shanghai()
                };
                format!(
                    "照片拍摄于{date}，距到场时间{}{}（共{photos}张照片时间不符，容差{}小时）",
                    thousands(n),
                    if days { "天" } else { "小时" },
                    crate::plausibility::PHOTO_TIME_TOLERANCE_HOURS
                )
            }
            Badge::PhotoPlace {
                km: k,
                against,
                photos,
            } => format!(
                "照片拍摄地点距{}{}公里（共{photos}张，容差{}公里）",
                match against {
                    PlaceRef::Arrival => "到场位置",
                    PlaceRef::Enterprise => "企业登记位置",
                },
                km(*k),
                crate::plausibility::PHOTO_DISTANCE_KM
            ),
            Badge::ManualPosition => "到场位置为手工输入，不是设备定位，无法证明到过现场".into(),
            Badge::FarFromEnterprise { km: k } => format!(
                "到场位置距企业登记位置{}公里（容差{}公里）",
                km(*k),
                crate::plausibility::ENTERPRISE_DISTANCE_KM
            ),
            Badge::PhotoReused {
                photos,
                enterprises,
            } => format!(
                "{photos}张照片也出现在其他企业的检查记录中：{}",
                enterprises.join("、")
            ),
            Badge::FastAnswers { count, millis } => format!(
                "{count}个检查项在{}内作答，来不及阅读检查内容",
                if *millis < 100 {
                    "不到0.1秒".to_owned()
                } else {
                    format!("{:.1}秒", *millis as f64 / 1000.0)
                }
            ),
        }
    }

    fn en(&self) -> String {
        match self {
            Badge::PhotoTime {
                taken,
                reference,
                photos,
            } => {
                let (n, days) = apart(*taken, *reference);
                let date = if days {
                    taken.display_shanghai()[..10].to_owned()
                } else {
                    taken.display_shanghai()
                };
                format!(
                    "Photo taken on {date}, {} {} from the arrival ({photos} photo(s) off; tolerance {} h)",
                    thousands(n),
                    if days { "days" } else { "hours" },
                    crate::plausibility::PHOTO_TIME_TOLERANCE_HOURS
                )
            }
            Badge::PhotoPlace {
                km: k,
                against,
                photos,
            } => format!(
                "Photo taken {} km from the {} ({photos} photo(s); tolerance {} km)",
                km(*k),
                match against {
                    PlaceRef::Arrival => "arrival position",
                    PlaceRef::Enterprise => "enterprise's registered position",
                },
                crate::plausibility::PHOTO_DISTANCE_KM
            ),
            Badge::ManualPosition => {
                "The arrival position was typed by hand, not located by the device".into()
            }
            Badge::FarFromEnterprise { km: k } => format!(
                "The arrival position is {} km from the enterprise's registered position (tolerance {} km)",
                km(*k),
                crate::plausibility::ENTERPRISE_DISTANCE_KM
            ),
            Badge::PhotoReused {
                photos,
                enterprises,
            } => format!(
                "{photos} photo(s) also appear in records of other enterprises: {}",
                enterprises.join(", ")
            ),
            Badge::FastAnswers { count, millis } => format!(
                "{count} items answered within {}, too fast to read them",
                if *millis < 100 {
                    "less than 0.1 s".to_owned()
                } else {
                    format!("{:.1} s", *millis as f64 / 1000.0)
                }
            ),
        }
    }
}

#[cfg(test)]
mod badge_text_tests {
    use super::*;

    #[test]
    fn figures_have_separators() {
        assert_eq!(thousands(6618), "6,618");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(km(8_912.4), "8,912");
        assert_eq!(km(3.24), "3.2");
    }
}

// ---------------------------------------------------------------------------------------
// The change history: what each change did, as a person says it

impl Lang {
    /// The label of a change's command ([`crate::inspection::Command::name`], or `create`),
    /// never the name itself.
    pub fn command(self, name: &str) -> &'static str {
        let (zh, en) = match name {
            "create" => ("新建记录", "Record created"),
            "add_inspector" => ("添加执法人员", "Inspector added"),
            "remove_inspector" => ("移除执法人员", "Inspector removed"),
            "set_arrival" => ("记录到达凭证", "Arrival proof recorded"),
            "set_attestations" => ("四不两直声明", "Attestations made"),
            "set_places" => ("填写检查场所", "Places inspected filled in"),
            "set_summary" => ("填写检查情况", "Findings filled in"),
            "answer" => ("检查项作答", "Item answered"),
            "set_note" => ("填写检查项说明", "Item note written"),
            "add_item_photo" => ("添加检查项照片", "Item photo added"),
            "register_hazard" => ("登记隐患", "Hazard registered"),
            "add_hazard_photo" => ("添加隐患照片", "Hazard photo added"),
            "set_hazard_text" => ("修改隐患描述", "Hazard text changed"),
            "hazard_action" => ("隐患处理", "Hazard action"),
            "set_onsite_person" => ("记录现场负责人", "Person on site recorded"),
            "sign" => ("签名", "Signed"),
            "transition" => ("状态变更", "Status changed"),
            "record_signed_version" => ("记录签署版本", "Signed version recorded"),
            "issue_document" => ("出具文书", "Document issued"),
            "review_with_items" => ("审核（含逐项意见）", "Reviewed, with item comments"),
            "mark_section_not_applicable" => ("整节标为不涉及", "Section marked not applicable"),
            "remove_item_photo" => ("删除检查项照片", "Item photo removed"),
            "remove_hazard_photo" => ("删除隐患照片", "Hazard photo removed"),
            "record_service" => ("记录送达", "Service recorded"),
            _ => ("其他修改", "Other change"),
        };
        self.t(zh, en)
    }
}

#[cfg(test)]
mod command_label_tests {
    use super::*;

    #[test]
    fn every_command_has_a_label_and_none_shows_its_name() {
        for name in [
            "create",
            "add_inspector",
            "remove_inspector",
            "set_arrival",
            "set_attestations",
            "set_places",
            "set_summary",
            "answer",
            "set_note",
            "add_item_photo",
            "register_hazard",
            "add_hazard_photo",
            "set_hazard_text",
            "hazard_action",
            "set_onsite_person",
            "sign",
            "transition",
            "record_signed_version",
            "issue_document",
            "review_with_items",
            "mark_section_not_applicable",
            "remove_item_photo",
            "remove_hazard_photo",
            "record_service",
        ] {
            assert_ne!(Lang::Zh.command(name), "其他修改", "{name}");
            assert!(!Lang::Zh.command(name).contains('_'));
        }
        assert_eq!(Lang::Zh.command("answer"), "检查项作答");
    }
}

// ---------------------------------------------------------------------------------------
// A field of the record, as a person names it (amendments after signing, conflicts)

impl Lang {
    /// The field at a record path (`/results/GM-01/answer`, `/hazards/<id>/closed_on`) in
    /// words: the item by its code, a hazard by its description, the field by its label.
    pub fn field_label(self, path: &str, record: &crate::inspection::Inspection) -> String {
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let field = |name: &str| -> &'static str {
            let (zh, en) = match name {
                "answer" => ("结果", "result"),
                "note" => ("说明", "note"),
                "photos" => ("照片", "photos"),
                "stage" => ("阶段", "stage"),
                "deadline" => ("整改期限", "deadline"),
                "closed_on" => ("销号日期", "closed on"),
                "measures" => ("整改措施", "measures"),
                "description" => ("描述", "description"),
                "place" => ("部位", "place"),
                "level" => ("级别", "level"),
                "supervision" => ("挂牌督办", "supervision"),
                "penalty" => ("处罚依据", "penalty provisions"),
                "reinspections" => ("复查", "re-inspections"),
                "status" => ("状态", "status"),
                "places" => ("检查场所", "places inspected"),
                "summary" => ("检查情况", "findings"),
                "signatures" => ("签名", "signatures"),
                "arrival" => ("到达证明", "arrival proof"),
                "inspectors" => ("执法人员", "inspectors"),
                "onsite_person" => ("现场负责人", "person on site"),
                "attestations" => ("四不两直声明", "attestations"),
                "documents" => ("文书", "documents"),
                "name" => ("姓名", "name"),
                "position" => ("职务", "position"),
                "phone" => ("电话", "phone"),
                _ => ("其他内容", "other content"),
            };
            self.t(zh, en)
        };
        match parts.as_slice() {
            ["results", code, rest @ ..] => format!(
                "{}{code}{}",
                self.t("检查项 ", "item "),
                rest.first()
                    .map(|f| format!(" · {}", field(f)))
                    .unwrap_or_default()
            ),
            ["hazards", id, rest @ ..] => {
                let name = record
                    .hazards
                    .iter()
                    .find(|(h, _)| h.as_str() == *id)
                    .map(|(_, h)| h.description.clone())
                    .unwrap_or_else(|| self.t("已删除的隐患", "a removed hazard").to_owned());
                format!(
                    "{}「{name}」{}",
                    self.t("隐患", "hazard "),
                    rest.first()
                        .map(|f| format!(" · {}", field(f)))
                        .unwrap_or_default()
                )
            }
            ["documents", number, ..] => format!("{} {number}", field("documents")),
            ["onsite_person", rest @ ..] => format!(
                "{}{}",
                field("onsite_person"),
                rest.first()
                    .map(|f| format!(" · {}", field(f)))
                    .unwrap_or_default()
            ),
            [first, ..] => field(first).to_owned(),
            [] => field("").to_owned(),
        }
    }
}

#[cfg(test)]
mod field_label_tests {
    use super::*;
    use crate::hazard::HazardLevel;
    use crate::kind::InspectionKind;

    #[test]
    fn paths_read_as_words() {
        let mut r = crate::test_support::new_record(InspectionKind::Routine);
        let h = crate::test_support::hazard("hz-1796a", "T-01", HazardLevel::General);
        r.hazards.insert(h.id.clone(), h.clone());
        let zh = Lang::Zh.field_label("/hazards/hz-1796a/closed_on", &r);
        assert_eq!(zh, format!("隐患「{}」 · 销号日期", h.description));
        assert!(!zh.contains("hz-"));
        assert_eq!(
            Lang::Zh.field_label("/results/T-01/answer", &r),
            "检查项 T-01 · 结果"
        );
        assert_eq!(Lang::Zh.field_label("/summary", &r), "检查情况");
        assert_eq!(Lang::En.field_label("/places", &r), "places inspected");
        assert_eq!(Lang::Zh.field_label("/unknown/x_y", &r), "其他内容");
    }
}

// ---------------------------------------------------------------------------------------
// The 检查情况 drafted from the answers (`forms::draft_summary`)

impl crate::forms::SummaryFacts {
    /// `检查N项：符合a项，不符合b项，不涉及c项；发现隐患d项（重大隐患e项）。不符合项：1. …。`
    pub fn zh(&self) -> String {
        let mut s = format!(
            "检查{}项：符合{}项，不符合{}项，不涉及{}项；发现隐患{}项（重大隐患{}项）。",
            self.checked,
            self.complies,
            self.fails,
            self.not_applicable,
            self.hazards,
            self.major_hazards
        );
        if self.failed.is_empty() {
            s.push_str("未发现不符合项。");
        } else {
            let list: Vec<String> = self
                .failed
                .iter()
                .enumerate()
                .map(|(n, t)| format!("{}. {}", n + 1, t.trim_end_matches(['。', '？', '?'])))
                .collect();
            s.push_str(&format!("不符合项：{}。", list.join("；")));
        }
        s
    }

    /// The same in English (the failed items' texts stay as the checklist words them).
    pub fn en(&self) -> String {
        let mut s = format!(
            "Checked {} items: {} comply, {} fail, {} not applicable; {} hazard(s) found ({} major).",
            self.checked,
            self.complies,
            self.fails,
            self.not_applicable,
            self.hazards,
            self.major_hazards
        );
        if self.failed.is_empty() {
            s.push_str(" Nothing failed.");
        } else {
            let list: Vec<String> = self
                .failed
                .iter()
                .enumerate()
                .map(|(n, t)| format!("{}. {}", n + 1, t.trim_end_matches(['。', '？', '?'])))
                .collect();
            s.push_str(&format!(" Failed: {}.", list.join("; ")));
        }
        s
    }
}

// ---------------------------------------------------------------------------------------
// A checklist item's parts and bases, as the tablet's checklist and the console name them
// (issue 17: 检查方法, 适用条件, 违法依据, 处罚依据, 判定依据)

/// An industry in English.
fn industry_en(i: crate::enterprise::Industry) -> &'static str {
    use crate::enterprise::Industry as I;
    match i {
        I::Metallurgy => "metallurgy",
        I::Nonferrous => "non-ferrous metals",
        I::BuildingMaterials => "building materials",
        I::Machinery => "machinery",
        I::LightIndustry => "light industry",
        I::Textile => "textiles",
        I::Tobacco => "tobacco",
        I::Commerce => "commerce and trade",
        I::HazardousChemicals => "hazardous chemicals",
        I::NonCoalMine => "non-coal mines",
        I::Fireworks => "fireworks",
        I::Construction => "construction",
    }
}

/// The labels of a checklist item's parts, each as (Chinese, English).
pub mod item {
    pub const METHODS: (&str, &str) = ("检查方法", "How to check");
    pub const CONDITION: (&str, &str) = ("适用条件", "Applies where");
    pub const INDUSTRIES: (&str, &str) = ("适用行业", "Applies to");
    pub const BASIS: (&str, &str) = ("违法依据", "Provisions violated");
    pub const PENALTY: (&str, &str) = ("处罚依据", "Penalty provisions");
    pub const MAJOR_BASIS: (&str, &str) = ("判定依据", "Major-hazard criterion");
    pub const MAJOR_ITEM: (&str, &str) = ("重大事故隐患判定项", "major-hazard item");
    pub const NO_PENALTY: (&str, &str) = ("检查表未载明", "not given by the checklist");
    /// What the inspector sees on a failed major-hazard item, and on its hazard form.
    pub const MAJOR_WHY: (&str, &str) = (
        "不符合即判定为重大事故隐患，判定依据：{basis}。登记的隐患自动定为重大事故隐患，须挂牌督办。",
        "Failing this item is a major accident hazard under {basis}. Its hazard is registered as major and must be listed for supervision.",
    );
    pub const MAJOR_LOCKED: (&str, &str) = (
        "本项属重大事故隐患情形（判定依据：{basis}），隐患级别为重大事故隐患，不能改为一般隐患。",
        "This item is a major accident hazard situation ({basis}): the hazard is major and cannot be registered as general.",
    );
}

impl Lang {
    /// An (中文, English) pair in this language.
    pub fn pick(self, (zh, en): (&'static str, &'static str)) -> &'static str {
        self.t(zh, en)
    }

    /// The industries an item is limited to, in words (`冶金、有色`).
    pub fn industries(self, list: &[crate::enterprise::Industry]) -> String {
        list.iter()
            .map(|i| match self {
                Lang::Zh => i.label_zh().to_owned(),
                Lang::En => industry_en(*i).to_owned(),
            })
            .collect::<Vec<_>>()
            .join(self.t("、", ", "))
    }

    /// Provisions as a list (`《安全生产法》第四十一条；《…》…`), or that there are none.
    pub fn bases(self, list: &[crate::legal::LegalBasis]) -> String {
        if list.is_empty() {
            return self.pick(item::NO_PENALTY).to_owned();
        }
        list.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(self.t("；", "; "))
    }

    /// Why a failed item is a major accident hazard (`basis`: its 判定依据).
    pub fn major_why(self, basis: &crate::legal::LegalBasis) -> String {
        self.pick(item::MAJOR_WHY)
            .replace("{basis}", &basis.to_string())
    }

    /// Why the hazard form's level is fixed at 重大事故隐患.
    pub fn major_locked(self, basis: &crate::legal::LegalBasis) -> String {
        self.pick(item::MAJOR_LOCKED)
            .replace("{basis}", &basis.to_string())
    }
}

// ---------------------------------------------------------------------------------------
// The 双随机 draw's algorithm, as a person reads it (its id stays in the draw's record)

impl Lang {
    /// The draw algorithm `id` ([`crate::draw::ALGORITHM`]) in words.
    pub fn draw_algorithm(self, id: &str) -> &'static str {
        if id == crate::draw::ALGORITHM {
            self.t(
                "以公开种子经 SHA-256 计数器生成随机数，Fisher–Yates 洗牌抽取企业，执法人员按任务最少优先分配（第1版）",
                "random numbers from the published seed by a SHA-256 counter, enterprises drawn by a Fisher–Yates shuffle, inspectors assigned least-loaded first (version 1)",
            )
        } else {
            self.t(
                "其他版本的算法（见抽查记录文件）",
                "another algorithm version (see the draw's record file)",
            )
        }
    }
}

// ---------------------------------------------------------------------------------------
// A document that rendered but prints something differently from the record (pdf-forms'
// warnings): shown where the document or the case file was made, and logged in English.

impl Lang {
    /// No font has `ch`: the document titled `document` prints `[U+XXXX]` in its place.
    pub fn document_uncovered_character(self, document: &str, ch: char) -> String {
        let cp = format!("U+{:04X}", u32::from(ch));
        match self {
            Lang::Zh => format!(
                "《{document}》中的“{ch}”（{cp}）字库未收录，文书中以 [{cp}] 代替；记录保存原字。"
            ),
            Lang::En => format!(
                "{document}: no font has “{ch}” ({cp}); the document prints [{cp}] in its place and the record keeps the character."
            ),
        }
    }

    /// A fallback font could not be read: the document titled `document` was made without it.
    pub fn document_font_skipped(self, document: &str, font: &str) -> String {
        match self {
            Lang::Zh => format!(
                "《{document}》生成时备用字库 {font} 无法读取，已跳过；个别生僻字可能以 [U+…] 代替。"
            ),
            Lang::En => format!(
                "{document}: the fallback font {font} could not be read and was skipped; a rare character may print as [U+…]."
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------
// 送达

impl crate::delivery::ServiceError {
    /// The refusal in Chinese.
    pub fn zh(&self) -> String {
        use crate::delivery::ServiceError as E;
        match self {
            E::UnknownDocument(n) => format!("本记录没有文书 {n}"),
            E::WrongKind(n) => format!("文书 {n} 的种类与送达记录不符"),
            E::NotSigned(n) => format!("文书 {n} 尚未签署，不能送达"),
            E::NotOnRecord => "只有本记录的执法人员可以记录送达".into(),
            E::InTheFuture => "送达时间不能晚于现在".into(),
            E::BeforeIssue(n) => format!("送达时间早于文书 {n} 的制作时间"),
            E::NoRecipient => "请填写受送达人（签收人）".into(),
            E::NoWitness => "留置送达须记录见证人和拒收事由".into(),
        }
    }
}

impl Lang {
    /// How a document was served, as the record screen and the 送达回证 name it.
    pub fn service_method(self, m: &crate::delivery::ServiceMethod) -> &'static str {
        use crate::delivery::{LaterMeans, ServiceMethod as M};
        match (self, m) {
            (Lang::Zh, M::Direct { .. }) => "直接送达",
            (Lang::Zh, M::Left { .. }) => "留置送达",
            (
                Lang::Zh,
                M::Pending {
                    means: LaterMeans::Post,
                },
            ) => "待送达（邮寄）",
            (
                Lang::Zh,
                M::Pending {
                    means: LaterMeans::Electronic,
                },
            ) => "待送达（电子送达）",
            (Lang::En, M::Direct { .. }) => "Served in person",
            (Lang::En, M::Left { .. }) => "Left at the premises (refused)",
            (
                Lang::En,
                M::Pending {
                    means: LaterMeans::Post,
                },
            ) => "To be served by post",
            (
                Lang::En,
                M::Pending {
                    means: LaterMeans::Electronic,
                },
            ) => "To be served electronically",
        }
    }
}

// ---------------------------------------------------------------------------------------
// Connections to the server: an address or a certificate the tablet will not trust

/// Why the tablet would not send anything to the server: the address (plain `http://` off
/// this device) or the server's certificate (checked by rustls during the TLS handshake,
/// before any request is sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionRefusal {
    /// `http://` to another machine: passwords and records would cross the network in clear.
    PlainHttp { host: String },
    /// Not an `https://` (or loopback `http://`) address.
    BadAddress(String),
    /// The certificate does not chain to a trusted root (or to the bureau's CA).
    UnknownIssuer,
    /// The certificate is for another host name.
    WrongHost,
    /// The certificate has expired (or the tablet's clock is wrong).
    Expired,
    /// The certificate is not valid yet (or the tablet's clock is wrong).
    NotYetValid,
    /// No key in the server's chain matches the pin the tablet was given.
    PinMismatch,
    /// Another certificate problem, in rustls's words.
    Certificate(String),
    /// The CA certificate or pin the tablet was given cannot be read.
    BadTrustSetting(String),
}

impl Bilingual for ConnectionRefusal {
    fn zh(&self) -> String {
        use ConnectionRefusal as R;
        match self {
            R::PlainHttp { host } => format!(
                "服务器地址 {host} 使用未加密的 http://，密码和记录会以明文传输，已拒绝连接；请改用 https:// 地址"
            ),
            R::BadAddress(a) => format!("服务器地址无效：{a}（应以 https:// 开头）"),
            R::UnknownIssuer => {
                "服务器证书不是由受信任的证书机构签发的，已拒绝连接（请核对服务器地址和本机配置的证书）"
                    .into()
            }
            R::WrongHost => "服务器证书与服务器地址不符，已拒绝连接（请核对服务器地址）".into(),
            R::Expired => "服务器证书已过期，已拒绝连接（请联系管理员，或检查本机时间）".into(),
            R::NotYetValid => "服务器证书尚未生效，已拒绝连接（请检查本机时间）".into(),
            R::PinMismatch => "服务器证书的公钥与本机配置的不符，已拒绝连接".into(),
            R::Certificate(e) => format!("服务器证书无法验证，已拒绝连接：{e}"),
            R::BadTrustSetting(e) => format!("本机配置的服务器证书或公钥指纹无法读取：{e}"),
        }
    }

    fn en(&self) -> String {
        use ConnectionRefusal as R;
        match self {
            R::PlainHttp { host } => format!(
                "refused: the server address {host} uses plain http://, which would send passwords and records in clear; use an https:// address"
            ),
            R::BadAddress(a) => {
                format!("invalid server address {a} (it should start with https://)")
            }
            R::UnknownIssuer => {
                "refused: the server's certificate is not issued by a trusted authority".into()
            }
            R::WrongHost => "refused: the server's certificate is for another host name".into(),
            R::Expired => "refused: the server's certificate has expired".into(),
            R::NotYetValid => "refused: the server's certificate is not valid yet".into(),
            R::PinMismatch => {
                "refused: no key in the server's certificate chain matches the configured pin"
                    .into()
            }
            R::Certificate(e) => {
                format!("refused: the server's certificate cannot be verified: {e}")
            }
            R::BadTrustSetting(e) => {
                format!("the configured server CA certificate or key pin cannot be read: {e}")
            }
        }
    }
}

impl std::fmt::Display for ConnectionRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en())
    }
}

impl std::error::Error for ConnectionRefusal {}
// ---------------------------------------------------------------------------------------
// Evidence files the tablet refuses (photos, recordings)

/// Why a photo or a recording was not taken in (nothing was stored), as the inspector reads
/// it. The tablet's error types (`PhotoError`, `MediaError`) name their variant here; their
/// `Display` keeps the technical detail for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceRefusal {
    PhotoRead {
        input: String,
    },
    PhotoEmpty,
    PhotoTooLarge {
        max_bytes: u64,
    },
    PhotoFormat {
        format: String,
    },
    PhotoTruncated {
        format: String,
    },
    PhotoCorrupt {
        format: String,
    },
    PhotoTooManyPixels {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    PhotoBomb {
        width: u32,
        height: u32,
    },
    PhotoDerive,
    PhotoStore,
    MediaRead {
        input: String,
    },
    MediaEmpty,
    MediaNotMedia,
    MediaChanged {
        expected: u64,
        found: u64,
    },
    MediaStore,
}

/// The recording formats the tablet takes in, as both languages list them.
const MEDIA_FORMATS: &str =
    "MP4、MOV、3GP、M4A、AVI、MPEG-TS、MKV、WebM、WAV、MP3、AAC、AMR、Ogg、FLAC";

impl Bilingual for EvidenceRefusal {
    fn zh(&self) -> String {
        use EvidenceRefusal as R;
        match self {
            R::PhotoRead { input } => format!("无法读取照片文件（{input}），请重试"),
            R::PhotoEmpty => "照片文件是空的（0 字节）".into(),
            R::PhotoTooLarge { max_bytes } => {
                format!("照片文件超过 {} MiB 的上限", max_bytes >> 20)
            }
            R::PhotoFormat { format } => {
                format!("不支持的照片格式：{format}（可用 JPEG、PNG、WebP；请将相机设为 JPEG）")
            }
            R::PhotoTruncated { format } => format!("{format} 文件不完整：图像数据在结束前中断"),
            R::PhotoCorrupt { format } => format!("{format} 文件已损坏，无法解码"),
            R::PhotoTooManyPixels {
                width,
                height,
                max_pixels,
            } => format!(
                "照片为 {width}×{height} 像素，超过 {} 万像素的上限",
                max_pixels / 10_000
            ),
            R::PhotoBomb { width, height } => {
                format!("文件声称 {width}×{height} 像素而体积极小，疑似恶意文件，已拒收")
            }
            R::PhotoDerive => "无法生成照片的显示副本，请重试".into(),
            R::PhotoStore => "照片无法保存到本机（存储空间可能已满），请重试".into(),
            R::MediaRead { input } => format!("无法读取录音录像文件（{input}），请重试"),
            R::MediaEmpty => "录音录像文件是空的（0 字节）".into(),
            R::MediaNotMedia => format!("不是录音或录像文件（可用 {MEDIA_FORMATS}）"),
            R::MediaChanged { .. } => {
                "导入时文件大小发生变化（记录仪可能仍在写入），请待录制结束后重试".into()
            }
            R::MediaStore => "录音录像无法保存到本机（存储空间可能已满），请重试".into(),
        }
    }

    fn en(&self) -> String {
        use EvidenceRefusal as R;
        match self {
            R::PhotoRead { input } => format!("could not read the photo ({input}); try again"),
            R::PhotoEmpty => "the photo file is empty (0 bytes)".into(),
            R::PhotoTooLarge { max_bytes } => {
                format!(
                    "the photo file is larger than the limit of {} MiB",
                    max_bytes >> 20
                )
            }
            R::PhotoFormat { format } => {
                format!("unsupported photo format: {format} (accepted: JPEG, PNG, WebP)")
            }
            R::PhotoTruncated { format } => {
                format!("the {format} file is truncated: it ends before the image is complete")
            }
            R::PhotoCorrupt { format } => format!("the {format} file is corrupt"),
            R::PhotoTooManyPixels {
                width,
                height,
                max_pixels,
            } => format!(
                "the image is {width}×{height} pixels, over the limit of {max_pixels} pixels"
            ),
            R::PhotoBomb { width, height } => format!(
                "the file declares a {width}×{height} image in very few bytes: refused as a likely decompression bomb"
            ),
            R::PhotoDerive => "could not make the display copy; try again".into(),
            R::PhotoStore => {
                "the photo could not be stored on this device (storage may be full); try again"
                    .into()
            }
            R::MediaRead { input } => {
                format!("could not read the recording ({input}); try again")
            }
            R::MediaEmpty => "the recording is empty (0 bytes)".into(),
            R::MediaNotMedia => format!(
                "not an audio or video recording (accepted: {})",
                MEDIA_FORMATS.replace('、', ", ")
            ),
            R::MediaChanged { expected, found } => format!(
                "the recording changed size while it was imported ({expected} → {found} bytes; a body camera may still be writing it): try again when the recording has ended"
            ),
            R::MediaStore => {
                "the recording could not be stored on this device (storage may be full); try again"
                    .into()
            }
        }
    }
}

/// The lead-ins of a refused photo on the tablet's screens, (Chinese, English).
pub mod photo {
    /// The file cannot be used as a photo (before anything is stored).
    pub const REFUSED: (&str, &str) = ("照片无法使用：", "photo refused: ");
    /// The photo could not be stored.
    pub const NOT_STORED: (&str, &str) = ("照片保存失败：", "photo not stored: ");
    /// Kept as evidence, but no display copy could be made.
    pub const UNDISPLAYABLE: (&str, &str) = (
        "照片无法显示，原件已作为证据保存：",
        "the photo cannot be displayed; its original is kept as evidence: ",
    );
}

// A revoked tablet

/// A tablet the administrator revoked (lost or stolen: `sync-server admin devices revoke`), as
/// its screens explain it. The server still accepts what the tablet holds (records, photos);
/// once it holds everything, the tablet wipes its local copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceRevoked {
    /// Still uploading what it holds before it wipes itself.
    Uploading,
    /// Everything it held is on the server; its local copy was wiped.
    Wiped,
    /// A request other than uploading (sign-in, reference data, document numbers…) was refused.
    Refused,
}

impl Bilingual for DeviceRevoked {
    fn zh(&self) -> String {
        match self {
            DeviceRevoked::Uploading => "本平板已被管理员停用（挂失）：正在把本机尚未同步的记录和照片上传到服务器，上传完成后将清除本机数据。",
            DeviceRevoked::Wiped => "本平板已被管理员停用（挂失）。本机的记录和照片已全部上传到服务器，本机数据已清除。如平板已找回，请联系管理员。",
            DeviceRevoked::Refused => "本平板已被管理员停用（挂失），不能再登录、下载资料或领取文号；本机尚未同步的记录和照片仍会上传。请联系管理员。",
        }
        .to_owned()
    }

    fn en(&self) -> String {
        match self {
            DeviceRevoked::Uploading => "This tablet was revoked by the administrator (reported lost): it is uploading the records and photos it still holds, then it will wipe its local data.",
            DeviceRevoked::Wiped => "This tablet was revoked by the administrator (reported lost). Everything it held is on the server and its local data was wiped. If the tablet was found, contact the administrator.",
            DeviceRevoked::Refused => "This tablet was revoked by the administrator (reported lost): it can no longer sign in, download reference data or reserve document numbers; records and photos it still holds are still uploaded. Contact the administrator.",
        }
        .to_owned()
    }
}

/// An on-demand fetch of records not pulled to the tablet by default (`wire::FetchRequest`),
/// as the tablet explains its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FetchRefused {
    /// The server refused: the user may not read the record (another unit's, not involving
    /// them), or it does not exist.
    NotReadable,
}

impl Bilingual for FetchRefused {
    fn zh(&self) -> String {
        match self {
            FetchRefused::NotReadable => {
                "无权查看此记录（或记录不存在）：只能调取本单位的记录或本人参与的记录。"
            }
        }
        .to_owned()
    }

    fn en(&self) -> String {
        match self {
            FetchRefused::NotReadable => {
                "You may not read this record (or it does not exist): only records of your unit or records you take part in can be fetched."
            }
        }
        .to_owned()
    }
}

/// Why the server refused a change a tablet pushed, as the sync screen explains it: the
/// rejection's stable code (`wire::Rejection::code`) in words; the change stays on the
/// tablet, unsynced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncRefusal<'a> {
    pub code: &'a str,
    /// The server's own (English) reason.
    pub message: &'a str,
}

impl Bilingual for SyncRefusal<'_> {
    fn zh(&self) -> String {
        match self.code {
            "forbidden" | "not_yours" => "无权修改（不是本人参与的记录或案件）",
            "rule" => "不符合执法规则（服务器按同一规则复核后拒绝）",
            "reference" => {
                "引用的企业、检查表、计划或检查记录在服务器上不存在或不属于本单位（请先同步检查记录）"
            }
            "clock" => "本机时间不正确（修改时间晚于服务器当前时间或早于本机登记时间）",
            "not_reproducible" | "bad_note" | "not_author" | "not_fresh" | "signed_version" => {
                "修改内容与其记载的操作不符，已被服务器拒绝（请联系管理员）"
            }
            "photo_not_yours" => "引用了本机无权使用的照片",
            "malformed" | "bad_id" => "数据格式错误，服务器无法读取",
            _ => "服务器拒绝了这项修改",
        }
        .to_owned()
    }

    fn en(&self) -> String {
        format!("{}: {}", self.code, self.message)
    }
}

/// The console's audit log (操作日志): the page's texts and the names of the logged actions,
/// each as (Chinese, English).
pub mod audit {
    pub const TITLE: (&str, &str) = ("操作日志", "Audit log");
    pub const INTRO: (&str, &str) = (
        "控制台和服务器管理命令的操作记录：登录（含失败的登录）、审核通过与退回、双随机抽查、导出和管理命令。记录只能追加，每条记录的哈希值包含上一条的哈希值，任何一条被改动或删除都会被发现。时间为北京时间。",
        "What was done in the console and with the server's admin commands: sign-ins (failed ones too), approvals and returns, draws, exports and administrative commands. Entries are only ever appended; each entry's hash covers the previous one's, so a changed or removed entry is found. Times are Asia/Shanghai.",
    );
    pub const CHAIN_OK: (&str, &str) = (
        "哈希链完整：共 {n} 条记录",
        "The hash chain holds: {n} entries",
    );
    pub const CHAIN_BROKEN: (&str, &str) = ("哈希链已断裂：", "The hash chain is broken: ");
    pub const HEAD: (&str, &str) = ("最新哈希值", "Head hash");
    pub const WHEN: (&str, &str) = ("时间", "When");
    pub const WHO: (&str, &str) = ("操作人", "Who");
    pub const UNIT: (&str, &str) = ("单位", "Unit");
    pub const ACTION: (&str, &str) = ("操作", "Action");
    pub const TARGET: (&str, &str) = ("对象", "Concerning");
    pub const FROM: (&str, &str) = ("来源地址", "From");
    pub const HASH: (&str, &str) = ("哈希值", "Hash");
    pub const EXPORT_CSV: (&str, &str) = ("导出 CSV", "Export CSV");
    pub const EXPORT_XLSX: (&str, &str) = ("导出 Excel", "Export Excel");
    pub const EMPTY: (&str, &str) = ("暂无记录。", "No entries yet.");
    pub const SHOWN: (&str, &str) = (
        "显示本单位及下级单位的最近 {n} 条记录。",
        "The latest {n} entries of your unit and the units under it.",
    );

    /// The name of a logged action (`store::audit::NewEntry::action`).
    pub fn action(code: &str) -> (&'static str, &'static str) {
        match code {
            "signin" => ("登录", "Signed in"),
            "signin_failed" => ("登录失败", "Failed sign-in"),
            "signin_locked" => ("登录被锁定", "Sign-in refused (locked)"),
            "signout" => ("退出登录", "Signed out"),
            "approve" => ("审核通过", "Approved"),
            "return" => ("审核退回", "Returned"),
            "draw_seal" => ("双随机抽查（密封）", "Draw sealed"),
            "unlock" => ("解除登录锁定", "Sign-in lock lifted"),
            "export_casefile" => ("导出电子案卷", "Case file exported"),
            "export_table" => ("导出表格", "Table exported"),
            "export_audit" => ("导出操作日志", "Audit log exported"),
            "checklist_upload" => ("上传检查表（新版本）", "Checklist uploaded (new version)"),
            "admin_backup" => ("管理命令：备份", "Admin: backup"),
            "admin_verify_backup" => ("管理命令：校验备份", "Admin: backup verified"),
            "admin_restore" => ("管理命令：从备份恢复", "Admin: restored from a backup"),
            "admin_rotate_key" => ("管理命令：更换签名密钥", "Admin: signing key rotated"),
            "admin_unit_create" => ("管理命令：新建单位", "Admin: unit created"),
            "admin_unit_disable" => ("管理命令：停用单位", "Admin: unit disabled"),
            "admin_user_create" => ("管理命令：新建用户", "Admin: user created"),
            "admin_user_disable" => ("管理命令：停用用户", "Admin: user disabled"),
            "admin_user_enable" => ("管理命令：启用用户", "Admin: user enabled"),
            "admin_password_reset" => ("管理命令：重置密码", "Admin: password reset"),
            "admin_enterprise_import" => ("管理命令：导入企业", "Admin: enterprises imported"),
            "admin_device_revoke" => ("管理命令：停用（挂失）平板", "Admin: tablet revoked"),
            c if c.starts_with("admin_") => ("管理命令", "Administrative command"),
            _ => ("其他操作", "Other action"),
        }
    }
}

impl Bilingual for crate::checklist_sheet::SheetProblem {
    fn zh(&self) -> String {
        use crate::checklist_sheet::SheetProblem as P;
        match self {
            P::MissingMeta(label) => format!("缺少“{label}”或其内容为空"),
            P::WrongTemplate { expected, found } => {
                format!("检查表编号为“{found}”，应为“{expected}”（请上传到对应的检查表）")
            }
            P::BadHeader => "表头与下载的检查表不一致，请勿修改或移动表头行".into(),
            P::MissingCell(column) => format!("“{column}”为空"),
            P::MalformedCode(code) => {
                format!("编号“{code}”格式不对（应为大写字母和数字，用“-”连接，如 GM-ZD-01）")
            }
            P::DuplicateCode { code, first_row } => {
                format!("编号“{code}”重复（第 {first_row} 行已使用）")
            }
            P::UnknownMethod(m) => {
                format!("检查方法“{m}”无法识别（应为：查资料、查现场、询问、测试）")
            }
            P::UnknownIndustry(i) => format!("行业“{i}”无法识别"),
            P::BadCitation { column, text } => format!(
                "“{column}”中的“{text}”无法识别（应写作《法规名称》第某条，多条用“；”分隔，未核实的加“（依据待核）”）"
            ),
            P::MajorWithoutBasis => "“重大事故隐患”为“是”，但缺少“判定依据”".into(),
            P::BasisWithoutMajor => "填写了“判定依据”，但“重大事故隐患”为“否”".into(),
            P::NotYesNo { column, text } => format!("“{column}”应填“是”或“否”，现为“{text}”"),
            P::Invalid(message) => format!("检查表不符合格式要求：{message}"),
            P::NoItems => "没有任何检查项".into(),
        }
    }

    fn en(&self) -> String {
        use crate::checklist_sheet::SheetProblem as P;
        match self {
            P::MissingMeta(label) => format!("“{label}” is missing or empty"),
            P::WrongTemplate { expected, found } => {
                format!("the sheet is template “{found}”, expected “{expected}”")
            }
            P::BadHeader => "the header row differs from the downloaded sheet".into(),
            P::MissingCell(column) => format!("“{column}” is empty"),
            P::MalformedCode(code) => format!("malformed code “{code}” (e.g. GM-ZD-01)"),
            P::DuplicateCode { code, first_row } => {
                format!("code “{code}” is used twice (first on row {first_row})")
            }
            P::UnknownMethod(m) => format!("unknown check method “{m}”"),
            P::UnknownIndustry(i) => format!("unknown industry “{i}”"),
            P::BadCitation { column, text } => {
                format!("“{text}” in “{column}” is not a citation like 《…》第…条")
            }
            P::MajorWithoutBasis => "major hazard “是” without its 判定依据".into(),
            P::BasisWithoutMajor => "判定依据 given but major hazard is “否”".into(),
            P::NotYesNo { column, text } => format!("“{column}” must be 是 or 否, is “{text}”"),
            P::Invalid(message) => message.clone(),
            P::NoItems => "no items".into(),
        }
    }
}

/// The console's 检查表 pages (templates, versions, download and upload as XLSX).
pub mod checklists {
    pub const TITLE: (&str, &str) = ("检查表", "Checklists");
    pub const INTRO: (&str, &str) = (
        "下载检查表（Excel），在 WPS 或 Excel 中修改后上传：全部行无误时成为本单位的新版本，本单位及下级单位的平板下次同步后用于新的检查；已有记录仍使用其原版本。",
        "Download a checklist (Excel), edit it in WPS or Excel and upload it: when every row is good it becomes a new version for your unit, used for new inspections by the tablets of your unit and the units under it after their next sync; existing records keep their version.",
    );
    pub const TEMPLATE: (&str, &str) = ("检查表", "Checklist");
    pub const VERSION: (&str, &str) = ("版本", "Version");
    pub const PUBLISHED: (&str, &str) = ("发布日期", "Published");
    pub const SCOPE: (&str, &str) = ("适用单位", "For");
    pub const GLOBAL: (&str, &str) = ("全部单位（随系统发布）", "Every unit (shipped)");
    pub const ITEMS: (&str, &str) = ("检查项", "Items");
    pub const DOWNLOAD: (&str, &str) = ("下载 Excel", "Download Excel");
    pub const UPLOAD: (&str, &str) = ("上传修改后的 Excel", "Upload the edited Excel");
    pub const UPLOAD_BUTTON: (&str, &str) = ("上传", "Upload");
    pub const ROW: (&str, &str) = ("行号", "Row");
    pub const PROBLEM: (&str, &str) = ("问题", "Problem");
    pub const REFUSED: (&str, &str) = (
        "上传的检查表有以下问题，未导入任何内容。请修改后重新上传。",
        "The uploaded checklist has these problems; nothing was imported. Correct them and upload again.",
    );
    pub const NOT_A_WORKBOOK: (&str, &str) = (
        "无法读取上传的文件：请上传从本页下载并修改后的 .xlsx 文件。",
        "The uploaded file cannot be read: upload the .xlsx file downloaded here, edited.",
    );
    pub const DONE: (&str, &str) = ("已导入为新版本：", "Imported as a new version: ");
}

// ---------------------------------------------------------------------------------------
// 行政处罚案件 (crate::penalty): the refusals of the case's rules, the discretion table's
// problems, and the labels of stages and documents

impl crate::penalty::CaseError {
    /// The refusal in Chinese.
    pub fn zh(&self) -> String {
        use crate::penalty::CaseError as E;
        match self {
            E::WrongStage { stage, .. } => {
                format!("案件处于“{}”阶段，不能这样操作", stage.label_zh())
            }
            E::NotOnCase(u) => format!("{u} 不是本案的承办执法人员"),
            E::NotSupervisor => "只有审核人（负责人）可以这样操作".into(),
            E::ApproverOnCase(u) => format!("{u} 是本案承办人，不能审批或审核本案"),
            E::FewerThanTwoInspectors(n) => {
                format!("至少需要两名持证执法人员承办（《行政处罚法》第四十二条），现有 {n} 名")
            }
            E::DuplicateInspector(u) => format!("承办人 {u} 重复"),
            E::NoFacts => "请填写案件事实".into(),
            E::NoViolatedProvision => "请填写违法依据".into(),
            E::NoPenaltyProvision => "请填写处罚依据".into(),
            E::BadNumber { number, code, year } => {
                format!("文号“{number}”不是{year}年“{code}”类文书的编号")
            }
            E::DuplicateNumber(n) => format!("文号 {n} 已在本案中使用"),
            E::DuplicateInterview(_) => "该询问笔录已记录".into(),
            E::UnknownInterview(_) => "本案没有该询问笔录".into(),
            E::InterviewersNotOnCase => "询问人和记录人须为本案两名不同的承办执法人员".into(),
            E::EmptyInterview => "询问笔录至少一页，每页须有问有答".into(),
            E::InterviewTimes => "询问时间不合理（结束早于开始，或晚于现在）".into(),
            E::NoSuchPage { page, .. } => format!("询问笔录没有第 {} 页", page + 1),
            E::NotASigner => "此人不是该询问笔录的签名人".into(),
            E::AlreadySigned => "该页已有此人签名".into(),
            E::InspectorCannotRefuse => "执法人员不能拒签".into(),
            E::RefusalWithoutWitness => "拒绝签字须记录见证人".into(),
            E::InterviewFrozen => "询问笔录已签名完毕，不能再修改".into(),
            E::DuplicateMedia(_) => "该音视频或照片已在本案证据中".into(),
            E::EmptyMedia => "文件为空，不能作为证据".into(),
            E::MimeMismatch { mime, .. } => format!("文件类型“{mime}”与证据种类不符"),
            E::MediaTimes => "证据的拍摄、导入时间不合理".into(),
            E::DuplicateMeasure(_) => "该现场处理措施已记录".into(),
            E::UnknownMeasure(_) => "本案没有该现场处理措施".into(),
            E::NoMeasureItems => "请填写措施内容或登记保存的物品".into(),
            E::NotAPreservation(_) => "该措施不是先行登记保存证据".into(),
            E::AlreadyDecided(_) => "该先行登记保存证据已作出处理决定".into(),
            E::OutcomeTimes => "处理决定日期早于登记保存或晚于今天".into(),
            E::NoDiscretionTable => "本单位尚无裁量基准，不能提出处罚建议".into(),
            E::Propose(p) => p.zh(),
            E::FineOutsideRange { fine, min, max } => {
                format!("罚款 {fine} 元不在所选情节的裁量幅度 {min}–{max} 元内")
            }
            E::OtherNotInRow => "所选情节不包括该处罚种类".into(),
            E::EmptyPenalty => "处罚内容为空".into(),
            E::NoEvidence => "本案尚无证据".into(),
            E::UnsignedInterview(_) => "有询问笔录尚未逐页签名（或记录拒签）".into(),
            E::NoProposal => "尚未提出处罚建议".into(),
            E::PreservationUndecided(_) => "先行登记保存的证据尚未作出处理决定".into(),
            E::NoticeNotServed => "行政处罚告知书尚未送达".into(),
            E::StatementPeriodOver(d) => format!("陈述申辩期限已于 {d} 届满"),
            E::EmptyStatement => "请填写陈述申辩（或听证申请）的内容和陈述人".into(),
            E::EmptyWaiver => "请选择放弃的权利".into(),
            E::NoHearingRight => "拟作出的处罚不属于听证范围".into(),
            E::HearingPeriodOver(d) => format!("听证申请期限已于 {d} 届满（或当事人已放弃）"),
            E::HearingAlreadyRequested => "当事人已申请听证".into(),
            E::NoHearingRequested => "当事人未申请听证".into(),
            E::HearingAlreadyHeld => "听证已记录".into(),
            E::HearingNotScheduled => "尚未安排听证（时间、地点、主持人）".into(),
            E::HearingNoticeTooShort { earliest } => format!(
                "应在举行听证的七日前通知当事人（《行政处罚法》第六十四条），听证最早可安排在 {earliest}"
            ),
            E::HearingNotYet => "听证时间未到".into(),
            E::HostIsInvestigator(u) => {
                format!("听证主持人 {u} 是本案调查人员（《行政处罚法》第六十四条）")
            }
            E::StatementPeriodRunning(d) => {
                format!("陈述申辩期限至 {d}，期满或当事人放弃前不能作出决定")
            }
            E::HearingPeriodRunning(d) => {
                format!("听证申请期限至 {d}，期满或当事人放弃前不能作出决定")
            }
            E::HearingNotHeld => "当事人申请的听证尚未举行".into(),
            E::MajorNeedsLegalReview => {
                "本案属重大执法决定，须先经法制审核同意（《行政处罚法》第五十八条）".into()
            }
            E::LegalReviewNotAgreed => "法制审核尚未同意".into(),
            E::AlreadyReviewed => "法制审核意见已记录".into(),
            E::HeavierThanNoticed => "决定的处罚重于告知书告知的处罚，须重新告知".into(),
            E::UnknownDocument(n) => format!("本案没有文书 {n}"),
            E::NotServable(k) => format!("《{}》不需送达当事人", k.title_zh()),
            E::AlreadyServed(n) => format!("文书 {n} 已送达"),
            E::ServiceTimes => "送达时间晚于现在或早于文书签署".into(),
            E::NoRecipient => "请填写受送达人（或邮寄单号、电子送达地址）".into(),
            E::NoWitness => "留置送达须记录见证人和拒收事由".into(),
            E::NoChannel => "请填写公示渠道".into(),
            E::DayOutOfRange => "日期早于处罚决定（或送达）或晚于今天".into(),
            E::AlreadyPublished => "处罚决定已公示".into(),
            E::BadPayment => "缴款金额须大于 0 并填写票据号".into(),
            E::Overpaid { owed } => format!("缴款超过应缴金额（尚欠 {owed} 元）"),
            E::EmptyNote => "请填写说明".into(),
            E::FineOutstanding { paid, fine } => {
                format!("罚款尚未缴清：已缴 {paid} 元，应缴 {fine} 元")
            }
            E::NotExecuted => "罚款以外的处罚尚未记录执行情况".into(),
        }
    }

    /// The form field the refusal concerns, if one.
    pub fn field(&self) -> Option<&'static str> {
        use crate::penalty::CaseError as E;
        match self {
            E::NoFacts => Some("facts"),
            E::NoViolatedProvision => Some("violated"),
            E::NoPenaltyProvision => Some("penalty-basis"),
            E::FewerThanTwoInspectors(_) | E::DuplicateInspector(_) => Some("inspectors"),
            E::RefusalWithoutWitness | E::NoWitness => Some("witness"),
            E::NoRecipient => Some("recipient"),
            E::FineOutsideRange { .. } | E::EmptyPenalty | E::OtherNotInRow => Some("penalty"),
            E::EmptyStatement => Some("statement"),
            E::NoChannel => Some("channel"),
            E::BadPayment | E::Overpaid { .. } => Some("payment"),
            E::EmptyNote => Some("note"),
            E::HostIsInvestigator(_) => Some("host"),
            _ => None,
        }
    }
}

impl Bilingual for crate::penalty::CaseError {
    fn zh(&self) -> String {
        crate::penalty::CaseError::zh(self)
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

impl crate::penalty::ProposeError {
    pub fn zh(&self) -> String {
        use crate::penalty::ProposeError as E;
        match self {
            E::NoBasis => "本案未载明处罚依据".into(),
            E::NotInTable(b) => format!("裁量基准中没有{b}的裁量情节"),
            E::NoSuchRow { row } => format!("裁量基准中没有适用于本案处罚依据的情节“{row}”"),
        }
    }
}

impl Bilingual for crate::penalty::PlacedProblem {
    fn zh(&self) -> String {
        use crate::penalty::{TablePlace, TableProblem as P};
        let at = match self.place {
            TablePlace::Table => "裁量基准".to_owned(),
            TablePlace::Provision(n) => format!("第 {n} 个法定幅度（[[provision]]）"),
            TablePlace::Row(n) => format!("第 {n} 行裁量情节（[[row]]）"),
        };
        let what = match &self.problem {
            P::NoId => "编号为空".to_owned(),
            P::NoVersion => "版本须为 1 或以上".to_owned(),
            P::NoRows => "没有任何裁量情节".to_owned(),
            P::BadCitation(t) => {
                format!("“{t}”无法识别（应写作《法规名称》第某条，未核实的加“（依据待核）”）")
            }
            P::DuplicateProvision(t) => format!("{t}重复"),
            P::NoCode => "情节编号为空".to_owned(),
            P::DuplicateCode { code, first_row } => {
                format!("情节编号“{code}”重复（第 {first_row} 行已使用）")
            }
            P::NoCircumstance => "违法情节为空".to_owned(),
            P::InvertedRange { min, max } => format!("罚款下限 {min} 元高于上限 {max} 元"),
            P::UnknownProvision(t) => format!("{t}没有对应的法定幅度（[[provision]]）"),
            P::OutsideStatutory {
                min,
                max,
                statutory_min,
                statutory_max,
            } => format!("幅度 {min}–{max} 元超出法定幅度 {statutory_min}–{statutory_max} 元"),
            P::GradesOutOfOrder { grade, other_row } => format!(
                "“{}”情节的幅度与第 {other_row} 行的轻重顺序不符",
                grade.label_zh()
            ),
            P::Toml(e) => format!("无法读取：{e}"),
        };
        format!("{at}：{what}")
    }

    fn en(&self) -> String {
        use crate::penalty::TablePlace;
        let at = match self.place {
            TablePlace::Table => "table".to_owned(),
            TablePlace::Provision(n) => format!("provision {n}"),
            TablePlace::Row(n) => format!("row {n}"),
        };
        format!("{at}: {}", self.problem)
    }
}

impl Bilingual for crate::penalty::CalendarError {
    fn zh(&self) -> String {
        use crate::penalty::CalendarError as E;
        match self {
            E::BothHolidayAndWorkday(d) => format!("{d} 同时被设为节假日和调休上班日"),
            E::WorkdayNotWeekend(d) => format!("{d} 不是周六或周日，不能设为调休上班日"),
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

/// What a merged case breaks ([`crate::penalty::PenaltyCase::violations`]): shown beside the
/// case's conflicts so that an impossible merged state is seen and put right.
impl Bilingual for crate::penalty::CaseViolation {
    fn zh(&self) -> String {
        use crate::penalty::CaseViolation as V;
        match self {
            V::FilingStage(s) => {
                format!("案件处于“{}”阶段，与立案审批情况不符", s.label_zh())
            }
            V::NoticeSuperseded(n) => {
                format!("告知书 {n} 之后又制作了告知书，但其间没有退回补充调查的法制审核意见")
            }
            V::NoNotice(s) => format!("案件处于“{}”阶段，与现行告知书不符", s.label_zh()),
            V::DecisionStage(s) => {
                format!("案件处于“{}”阶段，与是否已作出处罚决定不符", s.label_zh())
            }
            V::ServiceStage(s) => {
                format!("案件处于“{}”阶段，与处罚决定书是否已送达不符", s.label_zh())
            }
            V::ClosingStage(s) => {
                format!("案件处于“{}”阶段，与结案审批情况不符", s.label_zh())
            }
            V::InterviewNotFrozen(i) => {
                format!("询问笔录 {i} 各页均已签名，但未固定为文书")
            }
            V::UnsignedAfterNotice(i) => {
                format!("案件已过调查取证阶段，但询问笔录 {i} 尚未逐页签名")
            }
            V::UndecidedAfterNotice(m) => {
                format!("案件已过调查取证阶段，但先行登记保存的证据 {m} 尚未作出处理决定")
            }
            V::NumberTwice(n) => format!("文号 {n} 被两份文书使用"),
            V::ServedTwice(n) => format!("文书 {n} 被重复送达"),
            V::Overpaid { paid, fine } => {
                format!("已缴罚款 {paid} 元，超过应缴的 {fine} 元")
            }
        }
    }
    fn en(&self) -> String {
        self.to_string()
    }
}

impl Lang {
    /// The stage of a penalty case.
    pub fn case_stage(self, s: crate::penalty::CaseStage) -> &'static str {
        match self {
            Lang::Zh => s.label_zh(),
            Lang::En => s.label_en(),
        }
    }

    /// The title of a penalty case document.
    pub fn case_document(self, k: crate::penalty::CaseDocKind) -> &'static str {
        match self {
            Lang::Zh => k.title_zh(),
            Lang::En => k.title_en(),
        }
    }

    /// The state of a case deadline, as the console's warnings show it.
    pub fn deadline_state(self, s: crate::penalty::DeadlineState) -> &'static str {
        use crate::penalty::DeadlineState as D;
        match (self, s) {
            (Lang::Zh, D::Open) => "未到期",
            (Lang::Zh, D::DueSoon) => "即将到期",
            (Lang::Zh, D::Overdue) => "已逾期",
            (Lang::Zh, D::Met) => "按期完成",
            (Lang::Zh, D::MetLate) => "逾期完成",
            (Lang::Zh, D::Ended) => "期限已过",
            (Lang::En, D::Open) => "Open",
            (Lang::En, D::DueSoon) => "Due soon",
            (Lang::En, D::Overdue) => "Overdue",
            (Lang::En, D::Met) => "Met",
            (Lang::En, D::MetLate) => "Met late",
            (Lang::En, D::Ended) => "Period over",
        }
    }

    /// Which case deadline.
    pub fn deadline_kind(self, k: &crate::penalty::DeadlineKind) -> &'static str {
        use crate::penalty::DeadlineKind as K;
        match (self, k) {
            (Lang::Zh, K::Decision) => "作出处罚决定",
            (Lang::Zh, K::Statement) => "陈述申辩期限",
            (Lang::Zh, K::HearingRequest) => "听证申请期限",
            (Lang::Zh, K::Preservation(_)) => "先行登记保存证据处理",
            (Lang::Zh, K::Publication) => "处罚决定公示",
            (Lang::Zh, K::Payment) => "缴纳罚款",
            (Lang::En, K::Decision) => "Decision",
            (Lang::En, K::Statement) => "Statement period",
            (Lang::En, K::HearingRequest) => "Hearing request period",
            (Lang::En, K::Preservation(_)) => "Preserved evidence decided",
            (Lang::En, K::Publication) => "Publication",
            (Lang::En, K::Payment) => "Payment",
        }
    }
}

/// The console's penalty-case figures (labels).
pub mod penalty_figures {
    pub const OPENED: (&str, &str) = ("立案", "Cases opened");
    pub const CLOSED: (&str, &str) = ("结案", "Cases closed");
    pub const OVERDUE: (&str, &str) = ("逾期", "Overdue");
    pub const DUE_SOON: (&str, &str) = ("即将到期", "Due soon");
    pub const PUBLISHED_LATE: (&str, &str) = ("逾期公示", "Published late");
}

// ---------------------------------------------------------------------------------------
// The penalty case's documents on paper (crate::penalty::paper): every fixed text the
// case documents and the 卷内目录 print, each as (Chinese, English). `{name}` marks what the
// document fills in. Periods and remedies are those domain.md states; no article is cited.

impl crate::penalty::CasePaperError {
    /// Why the document cannot be printed, in Chinese.
    pub fn zh(&self) -> String {
        match self {
            crate::penalty::CasePaperError::Missing { kind, number, .. } => format!(
                "已签署的《{}》{number}没有可打印的内容，无法生成文书",
                kind.title_zh()
            ),
        }
    }
}

/// The labels and sentences of the penalty case's documents, (Chinese, English).
pub mod case_paper {
    // The party and the people
    pub const PARTY: (&str, &str) = ("当事人", "Party");
    pub const USCC: (&str, &str) = ("统一社会信用代码", "Unified social credit code");
    pub const ADDRESS: (&str, &str) = ("地址", "Address");
    pub const LEGAL_REP: (&str, &str) = ("法定代表人（负责人）", "Legal representative");
    pub const PHONE: (&str, &str) = ("联系电话", "Phone");
    /// One officer with the certificate held.
    pub const OFFICER: (&str, &str) = (
        "{name}（执法证号：{certificate}）",
        "{name} (certificate {certificate})",
    );
    pub const OFFICERS: (&str, &str) = ("执法人员及执法证号", "Officers and certificates");
    pub const LIST_SEP: (&str, &str) = ("、", ", ");
    pub const NONE: (&str, &str) = ("—", "—");
    /// The salutation to the party at the head of a document served on it.
    pub const TO_PARTY: (&str, &str) = ("{party}：", "To {party}:");
    /// A numbered item of a list.
    pub const ITEM: (&str, &str) = ("{n}. {text}", "{n}. {text}");

    // 立案审批表
    pub const SOURCE: (&str, &str) = ("案件来源", "Source of the case");
    pub const FACTS: (&str, &str) = ("违法事实", "Facts");
    pub const VIOLATED: (&str, &str) = ("违法依据", "Provisions violated");
    pub const PENALTY_BASIS: (&str, &str) = ("处罚依据", "Penalty provisions");
    pub const HANDLERS: (&str, &str) = ("承办人员", "Officers in charge");
    pub const OPENED_ON: (&str, &str) = ("立案日期", "Opened on");
    pub const APPROVAL_OPINION: (&str, &str) = ("审批意见", "Approval opinion");
    pub const APPROVER: (&str, &str) = ("审批人", "Approved by");
    pub const APPROVED_ON: (&str, &str) = ("审批日期", "Approved on");

    // 询问笔录
    pub const INTERVIEW_TIME: (&str, &str) = ("询问时间", "Time");
    pub const INTERVIEW_PLACE: (&str, &str) = ("询问地点", "Place");
    pub const ASKED_BY: (&str, &str) = ("询问人", "Asked by");
    pub const RECORDED_BY: (&str, &str) = ("记录人", "Recorded by");
    pub const INTERVIEWEE: (&str, &str) = ("被询问人", "Interviewee");
    pub const POSITION: (&str, &str) = ("职务", "Position");
    pub const WORKPLACE: (&str, &str) = ("工作单位", "Employer");
    pub const FROM_TO: (&str, &str) = ("{from}至{to}", "{from} to {to}");
    pub const PAGE_OF: (&str, &str) = ("第{n}页（共{of}页）", "Page {n} of {of}");
    pub const QUESTION: (&str, &str) = ("问：{text}", "Q: {text}");
    pub const ANSWER: (&str, &str) = ("答：{text}", "A: {text}");
    pub const PAGE_SIGNATURES: (&str, &str) = ("本页签名", "Signatures of this page");
    /// Below a page signature (the page signed).
    pub const PAGE_SIGNED: (&str, &str) = ("（第{n}页签名）", "(signed page {n})");
    pub const PAGE_UNSIGNED: (&str, &str) =
        ("本页无签名记录", "no signature recorded on this page");

    // 现场处理措施决定书 / 先行登记保存证据通知书
    pub const MEASURES_INTRO: (&str, &str) = (
        "本机关执法人员于{on}对你单位依法检查时，作出如下现场处理措施：",
        "During the inspection of {on}, the officers of this authority took these on-site measures:",
    );
    pub const PRESERVATION_INTRO: (&str, &str) = (
        "因下列证据可能灭失或者以后难以取得，本机关于{on}决定对其先行登记保存：",
        "As the following evidence may be lost or hard to obtain later, this authority on {on} registered it for preservation:",
    );
    pub const PRESERVATION_DUTY: (&str, &str) = (
        "登记保存期间，你单位或者有关人员不得损毁、销毁或者转移上述证据。本机关将依法在规定期限内作出处理决定。",
        "While it is preserved, neither you nor anyone else may damage, destroy or move the evidence. This authority will decide on it within the period the law sets.",
    );
    pub const MEASURE_BASIS: (&str, &str) = ("依据：{bases}。", "Basis: {bases}.");
    pub const MEASURE_RIGHTS: (&str, &str) = (
        "如果不服本决定，可以依法在60日内申请行政复议，或者在6个月内依法向人民法院提起行政诉讼，但本决定不停止执行，法律另有规定的除外。",
        "If you disagree with this decision you may apply for administrative reconsideration within 60 days or sue in a people's court within 6 months; the decision is carried out meanwhile unless a law provides otherwise.",
    );

    // 行政处罚告知书 / 行政处罚决定书
    pub const FOUND: (&str, &str) = (
        "经查，你单位（地址：{address}；统一社会信用代码：{uscc}）存在以下违法事实：{facts}",
        "Investigation found that you (address {address}; code {uscc}) committed these violations: {facts}",
    );
    pub const EVIDENCE_INTRO: (&str, &str) = (
        "以上事实有下列证据证明：",
        "The facts are proved by this evidence:",
    );
    pub const CIRCUMSTANCE: (&str, &str) = (
        "属于“{circumstance}”的情形，",
        "which is the circumstance \"{circumstance}\"; ",
    );
    pub const NOTICE_INTENT: (&str, &str) = (
        "你单位的上述行为违反了{violated}的规定。依据{basis}的规定，{circumstance}本机关拟对你单位作出如下行政处罚：{penalty}。",
        "Your conduct violates {violated}. Under {basis}, {circumstance}this authority intends to impose: {penalty}.",
    );
    pub const NOTICE_STATEMENT: (&str, &str) = (
        "你单位可以在收到本告知书之日起{days}日内向本机关提出陈述、申辩。",
        "You may state your case and defend yourself to this authority within {days} days of receiving this notice.",
    );
    pub const NOTICE_HEARING: (&str, &str) = (
        "你单位有要求听证的权利，可以在收到本告知书之日起{days}日内向本机关提出听证申请。",
        "You have the right to a hearing: ask this authority for it within {days} days of receiving this notice.",
    );
    pub const DECISION_INTENT: (&str, &str) = (
        "你单位的上述行为违反了{violated}的规定。依据{basis}的规定，{circumstance}本机关决定对你单位作出如下行政处罚：{penalty}。",
        "Your conduct violates {violated}. Under {basis}, {circumstance}this authority imposes: {penalty}.",
    );
    pub const PAYMENT: (&str, &str) = (
        "罚款自收到本决定书之日起{days}日内缴纳。到期不缴纳罚款的，每日按罚款数额的百分之三加处罚款。",
        "Pay the fine within {days} days of receiving this decision. Late payment adds 3 % of the fine a day.",
    );
    /// The remedies as the decision's content words them, closed with a full stop.
    pub const REMEDIES: (&str, &str) = ("{remedies}。", "{remedies}.");

    // 陈述申辩笔录 / 听证笔录 / 法制审核意见书
    pub const NOTICE_NUMBER: (&str, &str) = ("行政处罚告知书文号", "Notice number");
    pub const SPEAKER: (&str, &str) = ("陈述申辩人", "Speaker");
    pub const STATEMENT_TIME: (&str, &str) = ("时间", "Time");
    pub const STATEMENT_TEXT: (&str, &str) = ("陈述申辩内容", "Statement and defence");
    pub const STATEMENT_REVIEW: (&str, &str) = ("复核意见", "Review of the statement");
    pub const HEARING_REQUESTED_BY: (&str, &str) = ("听证申请人", "Hearing requested by");
    pub const HEARING_HOST: (&str, &str) = ("听证主持人", "Hearing host");
    pub const HEARING_PLACE: (&str, &str) = ("听证地点", "Place");
    pub const HEARING_TIME: (&str, &str) = ("听证时间", "Time");
    pub const INVESTIGATORS: (&str, &str) = ("案件调查人员", "Investigators");
    pub const HEARING_SUMMARY: (&str, &str) = ("听证情况", "What was heard");
    pub const PROPOSED_PENALTY: (&str, &str) = ("拟作出的行政处罚", "Intended penalty");
    pub const REVIEW_OPINION: (&str, &str) = ("审核意见", "Opinion");
    pub const REVIEW_TEXT: (&str, &str) = ("审核说明", "Reasons");
    pub const REVIEWER: (&str, &str) = ("审核人", "Reviewed by");
    pub const REVIEWED_ON: (&str, &str) = ("审核日期", "Reviewed on");

    // 送达回证
    pub const SERVED_PARTY: (&str, &str) = ("受送达人", "Served on");
    pub const SERVED_DOCUMENT: (&str, &str) = ("送达文书名称及文号", "Document served");
    pub const DOCUMENT_REF: (&str, &str) = ("《{title}》{number}", "{title} {number}");
    pub const SERVICE_METHOD: (&str, &str) = ("送达方式", "Method");
    pub const SERVICE_TIME: (&str, &str) = ("送达时间", "Served at");
    pub const RECEIPT: (&str, &str) = ("受送达人签收或见证情况", "Receipt or witness");
    pub const RECEIVED: (&str, &str) = ("{recipient}（签收）", "{recipient} (signed for it)");
    pub const LEFT: (&str, &str) = (
        "{recipient}拒绝签收（{reason}），见证人：{witness}，文书留置于送达地点",
        "{recipient} refused to sign for it ({reason}); witness {witness}; the document was left at the place of service",
    );
    pub const POSTED: (&str, &str) = ("邮件号：{tracking}", "Tracking number {tracking}");
    pub const ELECTRONIC: (&str, &str) = ("送达地址：{address}", "Sent to {address}");
    pub const SERVED_BY: (&str, &str) = ("送达人", "Served by");

    // 结案审批表
    pub const DECISION_NUMBER: (&str, &str) = ("行政处罚决定书文号", "Decision number");
    pub const PENALTY: (&str, &str) = ("行政处罚内容", "Penalty");
    pub const EXECUTION: (&str, &str) = ("执行情况", "Execution");
    pub const PAID: (&str, &str) = ("已缴纳罚款{paid}元", "Fine paid: {paid} yuan");
    pub const PUBLISHED: (&str, &str) = ("公示情况", "Publication");
    pub const PUBLISHED_ON: (&str, &str) = ("已于{on}公示", "Published on {on}");
    pub const NOT_PUBLISHED: (&str, &str) = ("未公示", "Not published");

    // 卷内目录
    pub const INDEX_TITLE: (&str, &str) = ("卷内目录", "Case-file index");
    pub const INDEX_NO: (&str, &str) = ("序号", "No.");
    pub const INDEX_DOCUMENT: (&str, &str) = ("文书名称", "Document");
    pub const INDEX_NUMBER: (&str, &str) = ("文号", "Number");
    pub const INDEX_DATE: (&str, &str) = ("日期", "Date");
    pub const INDEX_PAGES: (&str, &str) = ("页数", "Pages");
    pub const INDEX_NOTE: (&str, &str) = ("备注", "Note");
    /// The note of a 送达回证: which document it served.
    pub const INDEX_SERVES: (&str, &str) = ("送达{document}", "serves {document}");
}

/// Why the tablet could not serve a penalty-case request, beside the case rules' own refusals
/// ([`crate::penalty::CaseError`]): the tablet's side of opening a case and numbering its
/// documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseRequestRefusal {
    /// The item (its code) is not a failed item of the record: no case is opened from it.
    NotAFinding(String),
    /// The series has no number left on this tablet: sync to reserve more.
    NumbersExhausted(crate::penalty::CaseDocKind),
    /// The user's unit (its short name, printed in numbers) is not on this tablet.
    UnitMissing(String),
    /// The case (its id) is not on this tablet.
    NotOnTablet(String),
}

impl Bilingual for CaseRequestRefusal {
    fn zh(&self) -> String {
        match self {
            CaseRequestRefusal::NotAFinding(item) => {
                format!("检查项 {item} 不是本记录的不合格项，不能据此立案")
            }
            CaseRequestRefusal::NumbersExhausted(kind) => format!(
                "本机没有可用的“{}”文号。请连接网络后同步，再重新操作；案件未作任何改动",
                kind.title_zh()
            ),
            CaseRequestRefusal::UnitMissing(unit) => {
                format!("本机缺少本单位（{unit}）的信息（单位简称），无法编文号，请先同步")
            }
            CaseRequestRefusal::NotOnTablet(_) => "本机没有这个案件，请先同步".into(),
        }
    }
    fn en(&self) -> String {
        match self {
            CaseRequestRefusal::NotAFinding(item) => {
                format!(
                    "item {item} is not a failed item of this record: no case is opened from it"
                )
            }
            CaseRequestRefusal::NumbersExhausted(kind) => format!(
                "no {} number left on this tablet; sync to reserve more and try again (the case was not changed)",
                kind.title_en()
            ),
            CaseRequestRefusal::UnitMissing(unit) => {
                format!(
                    "unit {unit} is not on this tablet (its short name numbers documents); sync first"
                )
            }
            CaseRequestRefusal::NotOnTablet(case) => {
                format!("case {case} is not on this tablet; sync first")
            }
        }
    }
}

/// The inspector's penalty-case screens on the tablet (app-ui `screens/case.rs`).
pub mod case_screen {
    pub const CASES: (&str, &str) = ("行政处罚案件", "Penalty cases");
    pub const NONE: (&str, &str) = ("暂无", "None");
    pub const LOADING: (&str, &str) = ("正在加载…", "Loading…");
    pub const OPEN: (&str, &str) = ("打开", "Open");
    pub const OPEN_CASE: (&str, &str) = ("立案", "Open a case");
    pub const OPEN_CASE_FOR: (&str, &str) =
        ("就此不合格项立案", "Open a penalty case for this item");
    pub const FACTS: (&str, &str) = ("违法事实", "Facts of the violation");
    pub const FACTS_HINT: (&str, &str) = (
        "不填则取检查项内容和备注；违法依据、处罚依据取自检查项",
        "Left empty: the item and its note; the provisions come from the item",
    );
    pub const SAVE_FACTS: (&str, &str) = ("保存违法事实", "Save the facts");
    pub const CANCEL: (&str, &str) = ("取消", "Cancel");
    pub const STAGE: (&str, &str) = ("阶段", "Stage");
    pub const OPENED_ON: (&str, &str) = ("立案日期", "Filed on");
    pub const AWAITING_APPROVAL: (&str, &str) = ("待审批立案", "awaiting the filing approval");
    pub const UNSYNCED: (&str, &str) = ("未同步", "Not synced");
    pub const DEADLINES: (&str, &str) = ("期限", "Deadlines");
    pub const DUE: (&str, &str) = ("截止", "due");
    pub const MET_ON: (&str, &str) = ("完成于", "met on");
    pub const INSPECTORS: (&str, &str) = ("执法人员", "Inspectors");
    pub const CERTIFICATE: (&str, &str) = ("执法证号", "certificate");
    pub const VIOLATED: (&str, &str) = ("违法依据", "Provisions violated");
    pub const PENALTY_BASIS: (&str, &str) = ("处罚依据", "Penalty provisions");
    pub const DOCUMENTS: (&str, &str) = ("文书", "Documents");
    pub const NUMBER_AT_ISSUE: (&str, &str) = (
        "文号在制作文书时自动从本机编号中取得",
        "Numbers (文号) are issued from this tablet's pool when a document is made",
    );
    pub const CONFLICTS: (&str, &str) = ("同步合并的冲突", "Conflicts from merged edits");
    pub const BROKEN: (&str, &str) = ("合并后需处理", "To resolve after the merge");
    pub const ACTIONS: (&str, &str) = ("本阶段可办理", "What can be done at this stage");
    pub const NOTHING_HERE: (&str, &str) = (
        "本阶段由审核人办理（审批、法制审核、决定、结案），请同步后查看",
        "This stage is the supervisor's (approvals, legal review, decision, closing); sync to see it",
    );
    pub const INTERVIEWS: (&str, &str) = ("询问笔录", "Interview records");
    pub const ADD_INTERVIEW: (&str, &str) = ("制作询问笔录", "Record an interview");
    pub const INTERVIEWEE: (&str, &str) = ("被询问人", "Interviewee");
    pub const POSITION: (&str, &str) = ("工作单位及职务", "Employer and position");
    pub const PLACE: (&str, &str) = ("询问地点", "Place");
    pub const QUESTION: (&str, &str) = ("问", "Q");
    pub const ANSWER: (&str, &str) = ("答", "A");
    pub const ADD_LINE: (&str, &str) = ("再加一问", "Add a question");
    pub const NEW_PAGE: (&str, &str) = ("另起一页", "New page");
    pub const PAGE: (&str, &str) = ("第{n}页", "Page {n}");
    pub const SAVE_INTERVIEW: (&str, &str) =
        ("保存询问笔录（编号）", "Save the interview (numbered)");
    pub const ASKED_BY: (&str, &str) = ("询问人", "Asked by");
    pub const RECORDED_BY: (&str, &str) = ("记录人", "Recorded by");
    pub const SIGN_PAGE: (&str, &str) = ("签名", "Signature");
    pub const REFUSED: (&str, &str) = ("拒绝签字", "Refused to sign");
    pub const WITNESS: (&str, &str) = ("见证人", "Witness");
    pub const NOTE: (&str, &str) = ("说明", "Note");
    pub const RECORD_REFUSAL: (&str, &str) = ("记录拒签", "Record the refusal");
    pub const SIGNED: (&str, &str) = ("已签名", "Signed");
    pub const NOTIFY: (&str, &str) = ("制作行政处罚告知书", "Issue the notice of intended penalty");
    pub const PROPOSAL: (&str, &str) = ("拟处罚", "Proposed penalty");
    pub const NO_PROPOSAL: (&str, &str) = (
        "尚未拟定处罚（需单位的裁量基准）",
        "No penalty proposed yet (needs the unit's discretion table)",
    );
    pub const PROPOSE: (&str, &str) = ("拟定处罚（裁量）", "Propose the penalty");
    pub const CIRCUMSTANCE: (&str, &str) = (
        "违法情节（本单位裁量基准）",
        "Circumstance (the unit's discretion table)",
    );
    pub const CHOOSE_CIRCUMSTANCE: (&str, &str) = ("请选择违法情节", "choose the circumstance");
    pub const NO_CIRCUMSTANCES: (&str, &str) = (
        "本单位裁量基准中没有本案处罚依据的情节，无法拟定处罚",
        "The unit's discretion table has no circumstance for this case's penalty provisions",
    );
    pub const FINE: (&str, &str) = ("罚款（元）", "Fine (yuan)");
    pub const FINE_HINT: (&str, &str) = ("不填则取建议金额", "Left empty: the suggested fine");
    pub const BAD_FINE: (&str, &str) = ("请填写罚款金额（整数元）", "enter the fine in whole yuan");
    pub const RANGE: (&str, &str) = ("裁量幅度", "Range");
    pub const SUGGESTED: (&str, &str) = ("建议", "suggested");
    pub const YUAN: (&str, &str) = ("元", "yuan");
    pub const REASONS: (&str, &str) = ("裁量理由", "Reasons");
    pub const SAVE_PROPOSAL: (&str, &str) = ("保存拟处罚意见", "Save the proposal");
    pub const MEASURES: (&str, &str) = (
        "现场处理措施与先行登记保存",
        "On-site measures and evidence preservation",
    );
    pub const MEASURE_KIND: (&str, &str) = ("文书", "Document");
    pub const ON_SITE_MEASURES: (&str, &str) = ("现场处理措施决定书", "On-site measures decision");
    pub const EVIDENCE_PRESERVATION: (&str, &str) =
        ("先行登记保存证据通知书", "Evidence preservation notice");
    pub const MEASURE_ITEMS: (&str, &str) = (
        "采取的措施，或登记保存的物品（名称、数量、地点；每行一项）",
        "The measures taken, or the items preserved (name, quantity, place; one a line)",
    );
    pub const MEASURE_BASIS: (&str, &str) = (
        "依据（每行一条，如《安全生产法》第六十五条）",
        "Provisions (one a line, e.g. 《安全生产法》第六十五条)",
    );
    pub const BAD_BASIS: (&str, &str) = (
        "依据请写成《法规名称》第某条（可加款、项），每行一条",
        "write each provision as 《name》第…条, one a line",
    );
    pub const ADD_MEASURE: (&str, &str) = ("制作文书（编号）", "Issue the document (numbered)");
    pub const OUTCOME: (&str, &str) = ("处理决定", "Decision");
    pub const UNDECIDED: (&str, &str) = ("待作出处理决定", "awaiting a decision");
    pub const RESOLVE: (&str, &str) = (
        "先行登记保存物品的处理决定",
        "Decision on the preserved evidence",
    );
    pub const OUTCOME_ON: (&str, &str) = ("决定日期", "Decided on");
    pub const OUTCOME_HINT: (&str, &str) = (
        "如：解除先行登记保存、依法没收、移送",
        "e.g. released, confiscated, referred",
    );
    pub const RECORD_OUTCOME: (&str, &str) = ("记录处理决定", "Record the decision");
    pub const SPEAKER: (&str, &str) = ("陈述申辩人", "Speaker");
    pub const STATEMENT: (&str, &str) = ("陈述申辩内容", "Statement and defence");
    pub const REVIEW: (&str, &str) = ("复核意见", "Review of it");
    pub const RECORD_STATEMENT: (&str, &str) =
        ("记录陈述申辩（编号）", "Record the statement (numbered)");
    pub const WAIVE: (&str, &str) = ("当事人放弃权利", "The party waives");
    pub const WAIVE_STATEMENT: (&str, &str) = ("放弃陈述申辩", "waives statement and defence");
    pub const WAIVE_HEARING: (&str, &str) = ("放弃听证", "waives a hearing");
    pub const RECORD_WAIVER: (&str, &str) = ("记录放弃", "Record the waiver");
    pub const REQUESTED_BY: (&str, &str) = ("申请人", "Requested by");
    pub const REQUEST_HEARING: (&str, &str) = ("记录听证申请", "Record the hearing request");
    pub const SERVICE: (&str, &str) = ("送达", "Delivery");
    pub const SERVED_DOCUMENT: (&str, &str) = ("送达文书", "Document delivered");
    pub const METHOD: (&str, &str) = ("送达方式", "Method");
    pub const RECIPIENT: (&str, &str) = ("受送达人", "Recipient");
    pub const TRACKING: (&str, &str) = ("邮件单号", "Tracking number");
    pub const ADDRESS: (&str, &str) = ("电子送达地址", "Electronic address");
    pub const REASON: (&str, &str) = ("留置理由", "Why left");
    pub const RECORD_SERVICE: (&str, &str) = (
        "记录送达（送达回证编号）",
        "Record the delivery (receipt numbered)",
    );
    pub const NOTHING_TO_SERVE: (&str, &str) = ("没有待送达的文书", "No document to deliver");
    pub const PAYMENT: (&str, &str) = ("缴纳罚款", "Payment");
    pub const PAID_ON: (&str, &str) = ("缴款日期", "Paid on");
    pub const AMOUNT: (&str, &str) = ("金额（元）", "Amount (yuan)");
    pub const RECEIPT: (&str, &str) = ("缴款凭证号", "Receipt number");
    pub const RECORD_PAYMENT: (&str, &str) = ("记录缴款", "Record the payment");
    pub const EXECUTION: (&str, &str) = (
        "其他处罚的执行（警告、责令停产停业等）",
        "Carrying out the other penalties (warning, suspension …)",
    );
    pub const EXECUTED_ON: (&str, &str) = ("执行日期", "Carried out on");
    pub const EXECUTION_NOTE: (&str, &str) = ("执行情况", "How it was carried out");
    pub const RECORD_EXECUTION: (&str, &str) = ("记录执行情况", "Record the execution");
    pub const PAID: (&str, &str) = ("已缴", "Paid");
    pub const BACK_TO_RECORD: (&str, &str) = ("返回检查记录", "Back to the record");
    pub const BAD_AMOUNT: (&str, &str) =
        ("请填写缴款金额（整数元）", "enter the amount in whole yuan");
    pub const BAD_DAY: (&str, &str) = (
        "请按 2026-12-07 的格式填写日期",
        "enter the day as 2026-12-07",
    );
    pub const MEDIA: (&str, &str) = ("视听资料（录音录像）", "Audio and video");
    pub const AUDIO: (&str, &str) = ("录音", "Audio");
    pub const VIDEO: (&str, &str) = ("录像", "Video");
    pub const FROM_CAMERA: (&str, &str) = ("执法记录仪", "Body camera");
    pub const FROM_TABLET: (&str, &str) = ("本机录制", "Recorded on this tablet");
    pub const FIND_RECORDINGS: (&str, &str) = ("查找录音录像", "Find recordings");
    pub const NO_RECORDINGS: (&str, &str) = (
        "未找到录音录像：请连接执法记录仪后再查找",
        "No recordings found: connect the body camera and look again",
    );
    pub const CAMERA: (&str, &str) = (
        "执法记录仪编号（从记录仪导入时填写）",
        "Body camera serial (when imported from one)",
    );
    pub const IMPORT: (&str, &str) = ("导入本案", "Add to the case");
    pub const IMPORTING: (&str, &str) = (
        "正在导入（逐字节复制并计算校验值）…",
        "Importing (copied byte for byte and hashed)…",
    );
}

#[cfg(test)]
mod case_screen_tests {
    use super::case_screen::*;

    #[test]
    fn every_case_screen_text_has_both_languages() {
        for (zh, en) in [
            CASES,
            OPEN_CASE,
            FACTS,
            DEADLINES,
            NOTIFY,
            RECORD_SERVICE,
            PAGE,
        ] {
            assert!(!zh.is_empty() && !en.is_empty());
            assert!(!zh.is_ascii(), "{zh}");
        }
    }
}

/// Why the console did not apply a supervisor's action on a penalty case, beside the case
/// rules' own refusals ([`crate::penalty::CaseError`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsoleCaseRefusal {
    /// The supervisor may not approve for the case's unit.
    MayNotApprove,
    /// A document number's sequence must be 1 or more.
    NumberZero,
    /// The number (its text) is held by a block already: a tablet's, or one issued before.
    NumberTaken(String),
}

impl Bilingual for ConsoleCaseRefusal {
    fn zh(&self) -> String {
        match self {
            ConsoleCaseRefusal::MayNotApprove => "无权审批此案件".into(),
            ConsoleCaseRefusal::NumberZero => "文号序号须为 1 或以上".into(),
            ConsoleCaseRefusal::NumberTaken(text) => {
                format!("文号 {text} 已分配（平板的文号段或已签发），请使用页面给出的下一个文号")
            }
        }
    }
    fn en(&self) -> String {
        match self {
            ConsoleCaseRefusal::MayNotApprove => "you may not approve for this case".into(),
            ConsoleCaseRefusal::NumberZero => "the number's sequence must be 1 or more".into(),
            ConsoleCaseRefusal::NumberTaken(text) => format!(
                "number {text} is taken (a tablet's block, or issued before): use the next number the page shows"
            ),
        }
    }
}
