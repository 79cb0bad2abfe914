//! Rare characters in names and addresses come out exactly in `pdftotext`: 㐀 (U+3400, CJK
//! Extension A), 〇 (U+3007), and characters outside the BMP: 𠀀 (U+20000) and 𪚥 (U+2A6A5,
//! a real name character), and 𠀁 (U+20001), which only the last font of the chain has (HanaMinA
//! carries a few Extension B characters such as 𠀀 itself). They need the fallback fonts,
//! which are embedded as subsets too.

mod common;

use app_core::evidence::Sha256Hex;
use common::*;
use pdf_forms::FormKind;

#[test]
fn extension_a_ling_and_supplementary_characters_survive_text_extraction() {
    let names = Names {
        enterprise: "南京㐀〇𠀀精密机械有限公司".into(),
        address: "南京市玄武区𪚥村〇号㐀巷𠀁弄".into(),
        legal_rep: "张𪚥".into(),
        onsite: "李〇㐀".into(),
        inspector_a: "王𠀀".into(),
        inspector_b: "李娜".into(),
    };
    let mut case = on_site_case(&names, false);
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    for kind in [FormKind::InspectionRecord, FormKind::RectificationOrder] {
        let pdf = render(kind, &case.input(&v1, &lookup));
        let path = write(&format!("rare-{kind:?}.pdf"), &pdf);
        let layout = text_layout(&path);
        let joined = text_joined(&path);
        assert!(
            layout.contains("南京㐀〇𠀀精密机械有限公司"),
            "{kind:?}:\n{layout}"
        );
        for needle in ["南京市玄武区𪚥村〇号㐀巷𠀁弄", "李〇㐀", "王𠀀"] {
            assert!(
                joined.contains(needle),
                "{kind:?}: {needle} missing:\n{joined}"
            );
        }
        if kind == FormKind::InspectionRecord {
            assert!(joined.contains("张𪚥"), "legal representative");
        }
        // The exact code points, not look-alikes (e.g. 〇 must not come out as ○ or 0).
        for ch in [
            '\u{3400}',
            '\u{3007}',
            '\u{20000}',
            '\u{20001}',
            '\u{2A6A5}',
        ] {
            assert!(layout.contains(ch), "{kind:?}: U+{:04X} missing", ch as u32);
        }
        // Three fonts: the main one and both fallbacks, each embedded as a subset.
        let fonts = poppler("pdffonts", &[path.to_str().unwrap()]);
        for family in ["WenQuanYiMicroHei", "HanaMinA", "HanaMinB"] {
            let row = fonts
                .lines()
                .find(|l| l.contains(family))
                .unwrap_or_else(|| panic!("{kind:?}: {family} not embedded:\n{fonts}"));
            assert!(row.contains("yes yes yes"), "{row}");
        }
    }
}

#[test]
fn a_document_without_rare_characters_embeds_only_the_main_font() {
    let mut case = on_site_case(&Names::default(), false);
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let pdf = render(FormKind::InspectionRecord, &case.input(&v1, &lookup));
    let path = write("plain-fonts.pdf", &pdf);
    let fonts = poppler("pdffonts", &[path.to_str().unwrap()]);
    assert_eq!(fonts.lines().count(), 3, "one font:\n{fonts}");
    assert!(fonts.contains("WenQuanYiMicroHei"));
    // A subset: far smaller than the 5 MB font file.
    assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
}
