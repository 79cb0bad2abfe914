//! 现场检查记录: the on-site inspection record (《安全生产法》第六十八条: time, place, content,
//! problems found and how they were handled, signed by the inspectors and the inspected
//! unit's person in charge, or the refusal recorded).

use super::{bases, failed_items, hazards_sorted, inspectors_line, level, signatures};
use crate::layout::{Cell, Layout};
use crate::{FormError, FormInput, zh};
use app_core::docnumber::IssuedDocument;
use app_core::geo::PositionSource;
use app_core::inspection::{Answer, Inspection};
use app_core::kind::InspectionKind;

pub(crate) fn build(
    doc: &mut Layout<'_>,
    input: &FormInput<'_>,
    _number: &IssuedDocument,
) -> Result<(), FormError> {
    let r = input.record;
    let e = &r.enterprise;
    doc.head(input.unit_name)?;
    let field = |label: &str, value: String| {
        [
            (0.2, Cell::Label(label.to_owned())),
            (0.8, Cell::Text(value)),
        ]
    };
    doc.row(&field("被检查单位", e.name.clone()))?;
    doc.row(&field("统一社会信用代码", e.uscc.as_str().to_owned()))?;
    doc.row(&field("地址", e.address.clone()))?;
    doc.row(&[
        (0.2, Cell::Label("法定代表人（负责人）".into())),
        (0.34, Cell::Text(e.legal_representative.clone())),
        (0.14, Cell::Label("联系电话".into())),
        (0.32, Cell::Text(e.phone.clone())),
    ])?;
    let (onsite, onsite_phone) = match &r.onsite_person {
        Some(p) if p.position.trim().is_empty() => (p.name.clone(), p.phone.clone()),
        Some(p) => (format!("{}（{}）", p.name, p.position), p.phone.clone()),
        None => ("—".to_owned(), "—".to_owned()),
    };
    doc.row(&[
        (0.2, Cell::Label("现场负责人".into())),
        (0.34, Cell::Text(onsite)),
        (0.14, Cell::Label("联系电话".into())),
        (0.32, Cell::Text(onsite_phone)),
    ])?;
    doc.row(&field("检查场所", non_empty(&r.places)))?;
    doc.row(&field("检查时间", period(r)))?;
    doc.row(&field("检查类别", kind_line(r)))?;
    doc.row(&field("执法人员及执法证号", inspectors_line(r)))?;
    let recorder = r
        .inspectors
        .get(&r.created_by)
        .map(|i| i.name.clone())
        .unwrap_or_else(|| r.created_by.to_string());
    doc.row(&field("记录人", recorder))?;
    doc.row(&field("检查情况", situation(input)))?;
    doc.row(&field("发现的问题及依据", problems(input)))?;
    doc.row(&field("隐患及整改要求", hazards(r)))?;
    signatures(
        doc,
        input,
        "执法人员（签名）",
        "被检查单位现场负责人（签名）",
    )?;
    Ok(())
}

fn non_empty(s: &str) -> String {
    if s.trim().is_empty() {
        "—".to_owned()
    } else {
        s.to_owned()
    }
}

/// From the start of the on-site check to its completion; a version signed before the move to
/// completed ends at the last signature.
fn period(r: &Inspection) -> String {
    let from = r.started_at.or(r.arrival.as_ref().map(|a| a.at));
    let to = r
        .completed_at
        .or_else(|| r.signatures.values().map(|s| s.at).max());
    match (from, to) {
        (Some(f), Some(t)) => format!("{}至{}", zh::minute(f), zh::minute(t)),
        (Some(f), None) => format!("{}起", zh::minute(f)),
        (None, _) => "—".to_owned(),
    }
}

fn kind_line(r: &Inspection) -> String {
    let mut s = r.kind.label_zh().to_owned();
    if r.kind == InspectionKind::Unannounced
        && let Some(a) = &r.arrival
    {
        let source = match a.position.source {
            PositionSource::Device => "设备定位",
            PositionSource::Manual => "手工输入",
            PositionSource::Photo => "入口照片定位",
        };
        s.push_str(&format!(
            "。到达时间{}，位置北纬{:.5}°、东经{:.5}°（{source}），入口照片SHA-256：{}",
            zh::minute(a.at),
            a.position.lat,
            a.position.lon,
            a.entrance_photo
        ));
        let mut said = Vec::new();
        if r.attestations.no_notice_given {
            said.push("未提前通知");
        }
        if r.attestations.no_escort_accepted {
            said.push("未接受陪同和接待");
        }
        if !said.is_empty() {
            s.push_str(&format!("；执法人员声明：{}", said.join("、")));
        }
    }
    s
}

fn situation(input: &FormInput<'_>) -> String {
    let r = input.record;
    let count = |a: Answer| r.results.values().filter(|x| x.answer == Some(a)).count();
    let checklist = match input.template {
        Some(t) => format!("《{}》（第{}版）", t.name, t.version),
        None => format!("检查表 {}", r.template),
    };
    let mut s = format!(
        "依据{checklist}检查，符合{}项，不符合{}项，不适用{}项。",
        count(Answer::Complies),
        count(Answer::Fails),
        count(Answer::NotApplicable)
    );
    if !r.summary.trim().is_empty() {
        s.push('\n');
        s.push_str(r.summary.trim());
    }
    s
}

fn problems(input: &FormInput<'_>) -> String {
    let items = failed_items(input);
    if items.is_empty() {
        return "未发现不符合项。".to_owned();
    }
    let mut lines = Vec::new();
    for (n, f) in items.iter().enumerate() {
        let what = f
            .text
            .clone()
            .unwrap_or_else(|| format!("检查项 {}", f.code));
        let mut line = format!("{}. [{}] {}：不符合。", n + 1, f.code, what);
        if !f.note.trim().is_empty() {
            line.push_str(&format!(
                "现场情况：{}。",
                f.note.trim().trim_end_matches('。')
            ));
        }
        if !f.basis.is_empty() {
            line.push_str(&format!("依据：{}。", bases(&f.basis)));
        }
        if let Some(m) = &f.major_hazard {
            line.push_str(&format!("判定为重大事故隐患：{m}。"));
        }
        lines.push(line);
    }
    lines.join("\n")
}

fn hazards(r: &Inspection) -> String {
    let hs = hazards_sorted(r, |_| true);
    if hs.is_empty() {
        return "无。".to_owned();
    }
    let mut lines = Vec::new();
    for (n, h) in hs.iter().enumerate() {
        let mut line = format!("{}. {}（{}，{}）", n + 1, h.description, h.place, level(h));
        line.push_str(&format!("。依据：{}", bases(&h.basis)));
        if !h.measures.trim().is_empty() {
            line.push_str(&format!("。整改措施：{}", h.measures.trim()));
        }
        if let Some(d) = h.deadline {
            line.push_str(&format!("。整改期限：{}前", zh::day(d)));
        }
        line.push('。');
        lines.push(line);
    }
    lines.join("\n")
}
