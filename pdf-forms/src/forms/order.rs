//! 责令限期整改指令书: the order to rectify within a deadline. Lists every hazard that has a
//! deadline, with its legal basis, the measures and the deadline; the duty to keep safe during
//! rectification; the rights to reconsideration (60 days) and litigation (6 months); the
//! signatures and the unit's seal.

use super::{bases, hazards_sorted, level, seal, signatures};
use crate::layout::{Align, BODY, Cell, Layout};
use crate::{FormError, FormInput, FormKind, zh};
use app_core::docnumber::IssuedDocument;
use app_core::legal::LegalBasis;

pub(crate) fn build(
    doc: &mut Layout<'_>,
    input: &FormInput<'_>,
    number: &IssuedDocument,
) -> Result<(), FormError> {
    let r = input.record;
    let hs = hazards_sorted(r, |h| h.deadline.is_some());
    if hs.is_empty() {
        return Err(FormError::NothingToRender {
            kind: FormKind::RectificationOrder,
            reason: "no hazard has a rectification deadline".into(),
        });
    }
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
            "经查，你单位（地址：{}；统一社会信用代码：{}）存在下列问题：",
            r.enterprise.address,
            r.enterprise.uscc.as_str()
        ),
        BODY,
        false,
        Align::Left,
        2.0,
    )?;
    doc.space(4.0);
    let widths = [0.075, 0.295, 0.24, 0.22, 0.17];
    let header = ["序号", "存在的问题", "依据", "整改措施", "整改期限"];
    doc.row(
        &widths
            .iter()
            .zip(header)
            .map(|(w, h)| (*w, Cell::Label(h.to_owned())))
            .collect::<Vec<_>>(),
    )?;
    for (n, h) in hs.iter().enumerate() {
        let mut basis: Vec<LegalBasis> = h.basis.clone();
        // The clause that makes a failed item a major accident hazard, from the template.
        if let Some(m) = h
            .item
            .as_ref()
            .and_then(|code| input.template.and_then(|t| t.item(code)))
            .and_then(|i| i.major_hazard.clone())
            && !basis.contains(&m)
        {
            basis.push(m);
        }
        let problem = format!("{}（地点：{}；{}）", h.description, h.place, level(h));
        let deadline = h
            .deadline
            .map(|d| format!("{}前", zh::day(d)))
            .unwrap_or_default();
        doc.row(&[
            (widths[0], Cell::Label((n + 1).to_string())),
            (widths[1], Cell::Text(problem)),
            (widths[2], Cell::Text(bases(&basis))),
            (widths[3], Cell::Text(h.measures.clone())),
            (widths[4], Cell::Text(deadline)),
        ])?;
    }
    doc.space(6.0);
    for text in [
        "现责令你单位对上述问题于所列整改期限前整改完毕，达到有关法律法规规章和标准规定的要求，并将整改情况书面报告本机关。由此造成事故的，依法追究有关人员的责任。",
        "整改期间，你单位应当采取措施，确保安全生产。对安全不能保障的，应当从危险区域内撤出作业人员，并设置警戒标志，暂时停产停业或者停止使用相关设施、设备。",
        "如果不服本指令，可以依法在60日内申请行政复议，或者在6个月内依法向人民法院提起行政诉讼，但本指令不停止执行，法律另有规定的除外。",
    ] {
        doc.paragraph(text, BODY, false, Align::Left, 2.0)?;
    }
    doc.space(6.0);
    signatures(doc, input, "执法人员（签名）", "被检查单位负责人（签名）")?;
    seal(doc, input.unit_name, number)?;
    Ok(())
}
