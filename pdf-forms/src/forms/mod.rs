//! The three forms, built from a record onto a [`Layout`], and what they share: the number,
//! the people, the failed checklist items with their legal bases, the signatures.

pub(crate) mod opinion;
pub(crate) mod order;
pub(crate) mod record;

use crate::layout::{Align, BODY, Cell, Layout};
use crate::{FormError, FormInput, FormKind, zh};
use app_core::docnumber::IssuedDocument;
use app_core::hazard::{Hazard, HazardLevel};
use app_core::inspection::{Answer, Inspection, SignOutcome, Signer};
use app_core::legal::LegalBasis;

/// The number of the document of `kind` issued from the record: the latest one if the record
/// has several (e.g. a second order after a failed re-inspection).
pub(crate) fn number_of(record: &Inspection, kind: FormKind) -> Result<IssuedDocument, FormError> {
    record
        .documents
        .values()
        .filter(|d| d.kind == kind.document_kind())
        .max_by_key(|d| (d.at, d.year, d.seq))
        .cloned()
        .ok_or(FormError::MissingNumber(kind))
}

/// `王强（执法证号：32010220180004）、李娜（执法证号：…）`
pub(crate) fn inspectors_line(record: &Inspection) -> String {
    record
        .inspectors
        .values()
        .map(|i| format!("{}（执法证号：{}）", i.name, i.certificate.as_str()))
        .collect::<Vec<_>>()
        .join("、")
}

/// A user's name as the record knows it (inspectors on the record), else their id.
pub(crate) fn person(record: &Inspection, user: &app_core::ids::UserId) -> String {
    record
        .inspectors
        .get(user)
        .map(|i| format!("{}（执法证号：{}）", i.name, i.certificate.as_str()))
        .unwrap_or_else(|| user.to_string())
}

pub(crate) fn bases(bases: &[LegalBasis]) -> String {
    bases
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("；")
}

/// A failed checklist item as printed: what was required, its legal basis, the note.
pub(crate) struct FailedItem {
    pub code: String,
    pub text: Option<String>,
    pub basis: Vec<LegalBasis>,
    pub major_hazard: Option<LegalBasis>,
    pub note: String,
}

/// The items answered 不符合, in template order (by code when no template is given).
pub(crate) fn failed_items(input: &FormInput<'_>) -> Vec<FailedItem> {
    let record = input.record;
    let failed = record
        .results
        .iter()
        .filter(|(_, r)| r.answer == Some(Answer::Fails));
    let mut out: Vec<(usize, FailedItem)> = failed
        .map(|(code, r)| {
            let item = input.template.and_then(|t| t.item(code));
            let order = input
                .template
                .and_then(|t| t.items().position(|i| &i.code == code))
                .unwrap_or(usize::MAX);
            (
                order,
                FailedItem {
                    code: code.to_string(),
                    text: item.map(|i| i.text.clone()),
                    basis: item.map(|i| i.basis.clone()).unwrap_or_default(),
                    major_hazard: item.and_then(|i| i.major_hazard.clone()),
                    note: r.note.clone(),
                },
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.code.cmp(&b.1.code)));
    out.into_iter().map(|(_, f)| f).collect()
}

/// The hazard's level as printed, with its 挂牌督办 listing for a major hazard.
pub(crate) fn level(h: &Hazard) -> String {
    match (h.level, &h.supervision) {
        (HazardLevel::General, _) => "一般隐患".to_owned(),
        (HazardLevel::Major, Some(s)) => format!(
            "重大事故隐患（{}挂牌督办，责任人：{}）",
            s.level, s.responsible
        ),
        (HazardLevel::Major, None) => "重大事故隐患".to_owned(),
    }
}

/// Hazards in a stable order: by registration day, then id.
pub(crate) fn hazards_sorted(record: &Inspection, keep: impl Fn(&Hazard) -> bool) -> Vec<&Hazard> {
    let mut hs: Vec<&Hazard> = record.hazards.values().filter(|h| keep(h)).collect();
    hs.sort_by(|a, b| (a.registered_on, &a.id).cmp(&(b.registered_on, &b.id)));
    hs
}

/// The signature rows: every inspector on the record, then the enterprise's person in charge
/// (or the recorded refusal with its witness). A captured signature must come with its image.
pub(crate) fn signatures(
    doc: &mut Layout<'_>,
    input: &FormInput<'_>,
    inspectors_label: &str,
    enterprise_label: &str,
) -> Result<(), FormError> {
    let record = input.record;
    let mut cells = Vec::new();
    for i in record.inspectors.values() {
        let key = Signer::Inspector(i.user.clone()).key();
        cells.push(sign_cell(doc, input, &key, &i.name)?);
    }
    for chunk in cells.chunks(3) {
        let mut row = vec![(0.2, Cell::Label(inspectors_label.to_owned()))];
        let share = 0.8 / chunk.len().max(2) as f32;
        row.extend(chunk.iter().map(|c| (share, c.clone())));
        if chunk.len() == 1 {
            row.push((share, Cell::Text(String::new())));
        }
        doc.row(&row)?;
    }
    let name = record
        .onsite_person
        .as_ref()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let cell = sign_cell(doc, input, &Signer::Enterprise.key(), &name)?;
    doc.row(&[(0.2, Cell::Label(enterprise_label.to_owned())), (0.8, cell)])?;
    Ok(())
}

fn sign_cell(
    doc: &mut Layout<'_>,
    input: &FormInput<'_>,
    key: &str,
    fallback_name: &str,
) -> Result<Cell, FormError> {
    let Some(s) = input.record.signatures.get(key) else {
        return Ok(Cell::Sign {
            caption: fallback_name.to_owned(),
            image: None,
            below: "（未签名）".to_owned(),
        });
    };
    match &s.outcome {
        SignOutcome::Signed { image } => {
            let bytes = (input.images)(image).ok_or_else(|| FormError::MissingSignatureImage {
                signer: format!("{} ({key})", s.name),
                digest: image.clone(),
            })?;
            let index = doc.add_picture(&format!("{} ({key})", s.name), image, bytes)?;
            Ok(Cell::Sign {
                caption: s.name.clone(),
                image: Some(index),
                below: zh::date_of(s.at),
            })
        }
        SignOutcome::Refused { witness, note } => {
            let mut below = format!("拒绝签字。见证人：{witness}");
            if !note.trim().is_empty() && note.trim() != "拒绝签字" {
                below.push_str(&format!("；说明：{}", note.trim()));
            }
            below.push_str(&format!("（{}）", zh::date_of(s.at)));
            Ok(Cell::Sign {
                caption: s.name.clone(),
                image: None,
                below,
            })
        }
    }
}

/// The issuing unit and the date, right-aligned, where the seal goes.
pub(crate) fn seal(
    doc: &mut Layout<'_>,
    unit_name: &str,
    issued: &IssuedDocument,
) -> Result<(), FormError> {
    doc.space(14.0);
    doc.ensure(BODY * 1.5 * 3.0)?;
    doc.paragraph(
        &format!("{unit_name}（印章）"),
        BODY,
        false,
        Align::Right,
        0.0,
    )?;
    doc.paragraph(&zh::date_of(issued.at), BODY, false, Align::Right, 0.0)?;
    Ok(())
}
