//! Bad input gives a clear `FormError`, never a panic or an invented value.

mod common;

use app_core::docnumber::DocumentKind;
use app_core::evidence::Sha256Hex;
use app_core::inspection::{Command, Inspection};
use common::*;
use pdf_forms::{FontSource, Fonts, FormError, FormInput, FormKind};
use std::collections::HashMap;

fn case_and_signed() -> (Case, Inspection) {
    let mut case = on_site_case(&Names::default(), false);
    let v1 = case.sign("v1");
    (case, v1)
}

#[test]
fn a_missing_signature_image_is_an_error_that_names_the_signer() {
    let (case, v1) = case_and_signed();
    let none = |_: &Sha256Hex| None;
    let err = pdf_forms::render(FormKind::InspectionRecord, &case.input(&v1, &none)).unwrap_err();
    let FormError::MissingSignatureImage { signer, digest } = &err else {
        panic!("{err}");
    };
    assert!(case.images.contains_key(digest));
    assert!(signer.contains("inspector:"), "{err}");
    assert!(err.to_string().contains("was not supplied"), "{err}");
}

#[test]
fn signature_bytes_that_do_not_match_their_digest_or_are_not_an_image_are_refused() {
    let (case, v1) = case_and_signed();
    let wrong = |_: &Sha256Hex| Some(signature_png(99));
    let err = pdf_forms::render(FormKind::InspectionRecord, &case.input(&v1, &wrong)).unwrap_err();
    assert!(
        matches!(err, FormError::SignatureImageMismatch { .. }),
        "{err}"
    );

    // Bytes that hash right but are no PNG/JPEG (the record names their digest).
    let mut case = on_site_case(&Names::default(), false);
    let junk = b"GIF89a not a signature".to_vec();
    let digest = Sha256Hex::of(&junk);
    case.images.insert(digest.clone(), junk);
    let at = case.now();
    let li = case.li.clone();
    case.apply(
        "li",
        Command::Sign(app_core::inspection::Signature {
            signer: app_core::inspection::Signer::Inspector(li.id.clone()),
            name: li.name.clone(),
            outcome: app_core::inspection::SignOutcome::Signed { image: digest },
            at,
            read: Vec::new(),
        }),
    );
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let err = pdf_forms::render(FormKind::InspectionRecord, &case.input(&v1, &lookup)).unwrap_err();
    assert!(matches!(err, FormError::BadSignatureImage { .. }), "{err}");
}

#[test]
fn a_record_without_a_number_of_the_kind_is_an_error_not_an_invented_number() {
    let (case, mut v1) = case_and_signed();
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    // The opinion has no number yet (nothing re-inspected, nothing issued).
    let err =
        pdf_forms::render(FormKind::ReinspectionOpinion, &case.input(&v1, &lookup)).unwrap_err();
    assert!(
        matches!(err, FormError::MissingNumber(FormKind::ReinspectionOpinion)),
        "{err}"
    );
    assert!(err.to_string().contains("整改复查意见书"), "{err}");
    v1.documents.clear();
    for kind in FormKind::ALL {
        let err = pdf_forms::render(kind, &case.input(&v1, &lookup)).unwrap_err();
        assert!(
            matches!(err, FormError::MissingNumber(k) if k == kind),
            "{err}"
        );
    }
}

#[test]
fn an_order_without_deadlines_or_an_opinion_without_re_inspections_says_so() {
    let (mut case, mut v1) = case_and_signed();
    case.issue(DocumentKind::ReinspectionOpinion, 9);
    let with_opinion_number = case.doc.record().documents.clone();
    v1.documents = with_opinion_number;
    let images: HashMap<_, _> = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let err =
        pdf_forms::render(FormKind::ReinspectionOpinion, &case.input(&v1, &lookup)).unwrap_err();
    assert!(matches!(err, FormError::NothingToRender { .. }), "{err}");
    for h in v1.hazards.values_mut() {
        h.deadline = None;
    }
    let err =
        pdf_forms::render(FormKind::RectificationOrder, &case.input(&v1, &lookup)).unwrap_err();
    assert!(
        err.to_string()
            .contains("no hazard has a rectification deadline"),
        "{err}"
    );
}

#[test]
fn a_missing_font_file_or_a_foreign_template_is_a_clear_error() {
    let (case, v1) = case_and_signed();
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let fonts = Fonts::from_sources(vec![FontSource::File {
        path: "/nonexistent/font.ttf".into(),
        index: 0,
    }]);
    let err = pdf_forms::render_with(
        FormKind::InspectionRecord,
        &case.input(&v1, &lookup),
        &fonts,
    )
    .unwrap_err();
    assert!(matches!(err, FormError::Font { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/font.ttf"), "{err}");

    let other = app_core::checklist::ChecklistTemplate::parse_toml(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../fixtures/checklists/weihuapin.toml"
        ))
        .unwrap(),
    )
    .unwrap();
    let input = FormInput {
        template: Some(&other),
        ..case.input(&v1, &lookup)
    };
    let err = pdf_forms::render(FormKind::InspectionRecord, &input).unwrap_err();
    assert!(matches!(err, FormError::TemplateMismatch { .. }), "{err}");
}

#[test]
fn without_a_template_failed_items_are_listed_by_code_with_the_note() {
    let (case, v1) = case_and_signed();
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let input = FormInput {
        template: None,
        ..case.input(&v1, &lookup)
    };
    let path = write(
        "no-template.pdf",
        &pdf_forms::render(FormKind::InspectionRecord, &input)
            .unwrap()
            .pdf,
    );
    let joined = text_joined(&path);
    for code in FAILED {
        assert!(
            joined.contains(&format!("[{code}]检查项{code}")),
            "{code}:\n{joined}"
        );
    }
    assert!(joined.contains("抛光工位两名员工未佩戴防尘口罩"));
}
