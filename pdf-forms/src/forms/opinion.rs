//! 整改复查意见书: the re-inspection opinion. Refers to the order, lists what was re-inspected
//! and the opinion per problem (已整改 rectified / 未整改 not rectified, from the hazard's
//! re-inspections), says what happens next, and carries the signatures and the seal.

use super::{hazards_sorted, person, seal, signatures};
use crate::layout::{Align, BODY, Cell, Layout};
use crate::{FormError, FormInput, FormKind, zh};
use app_core::docnumber::IssuedDocument;

pub(crate) fn build(
    doc: &mut Layout<'_>,
    input: &FormInput<'_>,
    number: &IssuedDocument,
) -> Result<(), FormError> {
    let r = input.record;
    let hs = hazards_sorted(r, |h| !h.reinspections.is_empty());
    if hs.is_empty() {
        return Err(FormError::NothingToRender {
            kind: FormKind::ReinspectionOpinion,
            reason: "no hazard has been re-inspected".into(),
        });
    }
    // The opinion answers an order; without its number it cannot say which.
    let order = first_order(r).ok_or(FormError::MissingNumber(FormKind::RectificationOrder))?;
    let mut rows = Vec::new();
    for h in &hs {
        let mut ris: Vec<_> = h.reinspections.values().collect();
        ris.sort_by_key(|x| x.on);
        for ri in ris {
            rows.push((h, ri));
        }
    }
    let days: std::collections::BTreeSet<_> = rows.iter().map(|(_, ri)| ri.on).collect();
    let days: Vec<String> = days.into_iter().map(zh::day).collect();

    doc.head(input.unit_name)?;
    doc.paragraph(
        &format!("{}：", r.enterprise.name),
        BODY,
        false,
        Align::Left,
        0.0,
    )?;
    doc.paragraph(
        &format!(
            "本机关于{}作出{}《责令限期整改指令书》，责令你单位对所列问题限期整改。根据你单位的整改情况，本机关于{}进行了复查，复查意见如下：",
            zh::date_of(order.at),
            order.number,
            days.join("、")
        ),
        BODY,
        false,
        Align::Left,
        2.0,
    )?;
    doc.space(4.0);
    let widths = [0.075, 0.255, 0.17, 0.17, 0.11, 0.22];
    let header = [
        "序号",
        "复查的问题",
        "整改期限",
        "复查日期",
        "复查意见",
        "说明",
    ];
    doc.row(
        &widths
            .iter()
            .zip(header)
            .map(|(w, h)| (*w, Cell::Label(h.to_owned())))
            .collect::<Vec<_>>(),
    )?;
    let mut open = Vec::new();
    for (n, (h, ri)) in rows.iter().enumerate() {
        let opinion = if ri.passed { "已整改" } else { "未整改" };
        let mut note = ri.note.trim().to_owned();
        if !ri.passed {
            if let Some(d) = ri.new_deadline {
                if !note.is_empty() {
                    note.push('；');
                }
                note.push_str(&format!("责令于{}前整改完毕", zh::day(d)));
            }
            open.push(n + 1);
        }
        let deadline = h.deadline.map(zh::day).unwrap_or_else(|| "—".to_owned());
        let deadline = if ri.passed || ri.new_deadline.is_none() {
            deadline
        } else {
            // After a failed re-inspection the hazard carries the new deadline; the period
            // that was checked is the one before it.
            "新期限见说明".to_owned()
        };
        doc.row(&[
            (widths[0], Cell::Label((n + 1).to_string())),
            (
                widths[1],
                Cell::Text(format!("{}（地点：{}）", h.description, h.place)),
            ),
            (widths[2], Cell::Text(deadline)),
            (widths[3], Cell::Text(zh::day(ri.on))),
            (widths[4], Cell::Label(opinion.to_owned())),
            (widths[5], Cell::Text(note)),
        ])?;
    }
    let mut by: Vec<String> = rows.iter().map(|(_, ri)| person(r, &ri.by)).collect();
    by.dedup();
    doc.row(&[
        (0.2, Cell::Label("复查人员".into())),
        (0.8, Cell::Text(by.join("、"))),
    ])?;
    doc.space(6.0);
    let next = if open.is_empty() {
        "经复查，上述问题已整改完毕，予以销号。".to_owned()
    } else {
        let list: Vec<String> = open.iter().map(|n| format!("第{n}项")).collect();
        format!(
            "经复查，{}问题未整改完毕，责令你单位于说明所列期限前整改完毕，逾期未整改的，本机关将依法予以处理；其余问题已整改完毕。整改期间，你单位应当采取措施，确保安全生产。",
            list.join("、")
        )
    };
    doc.paragraph(&next, BODY, false, Align::Left, 2.0)?;
    doc.space(6.0);
    signatures(doc, input, "执法人员（签名）", "被检查单位负责人（签名）")?;
    seal(doc, input.unit_name, number)?;
    Ok(())
}

/// The order the re-inspection answers: the first one issued from the record.
fn first_order(r: &app_core::inspection::Inspection) -> Option<IssuedDocument> {
    r.documents
        .values()
        .filter(|d| d.kind == FormKind::RectificationOrder.document_kind())
        .min_by_key(|d| (d.at, d.year, d.seq))
        .cloned()
}
