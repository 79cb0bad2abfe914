//! Rare characters in names and addresses come out exactly in `pdftotext`: 㐀 (U+3400, CJK
//! Extension A), 〇 (U+3007), and characters outside the BMP: 𠀀 (U+20000) and 𪚥 (U+2A6A5,
//! a real name character), 𠀁 (U+20001), which only HanaMinB has, 𰻞 (U+30EDE, Extension G,
//! in real shop names in Xi'an), U+3134A (Extension G) and U+31350 (Extension H), which only
//! BabelStone Han has. They need the fallback fonts, which are embedded as subsets too.
//!
//! A character no font has (Extension I, U+2EBF0; U+31353 of Extension H; an emoji) never
//! stops a document: it prints as `[U+2EBF0]` and the render answers a warning.

mod common;

use app_core::evidence::Sha256Hex;
use app_core::messages::Lang;
use common::*;
use pdf_forms::{FontSource, Fonts, FormKind, FormWarning};

/// The fonts `pdffonts` lists for a PDF, each row checked to be an embedded subset with a
/// ToUnicode map; answers the base names without the subset tag.
fn embedded_fonts(path: &std::path::Path) -> Vec<String> {
    let fonts = poppler("pdffonts", &[path.to_str().unwrap()]);
    fonts
        .lines()
        .skip(2)
        .map(|row| {
            let cols: Vec<&str> = row.split_whitespace().collect();
            let n = cols.len();
            assert_eq!(&cols[n - 5..n - 2], ["yes", "yes", "yes"], "{row}");
            let (tag, name) = cols[0].split_once('+').expect("a subset tag");
            assert_eq!(tag.len(), 6, "{row}");
            name.to_owned()
        })
        .collect()
}

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
        // The body font, the sans face for Extension A (㐀 in the body's style, not the
        // serif HanaMinA it used to come from), and the serif faces for the Extension B
        // characters no sans face has, each embedded as a subset.
        let fonts = embedded_fonts(&path);
        for family in ["WenQuanYiMicroHei", "NotoSansCJK", "HanaMinA", "HanaMinB"] {
            assert!(
                fonts.iter().any(|f| f.contains(family)),
                "{kind:?}: {family} not embedded: {fonts:?}"
            );
        }
    }
}

#[test]
fn extension_g_and_h_names_render_in_embedded_subsets() {
    // 𰻞 (biáng) as Xi'an shop names write it; U+3134A (Extension G) and U+31350
    // (Extension H) have no sans face and come from BabelStone Han.
    let names = Names {
        enterprise: "西安𰻞𰻞面馆有限公司".into(),
        address: "西安市碑林区\u{3134A}巷\u{31350}号".into(),
        ..Names::default()
    };
    let mut case = on_site_case(&names, false);
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let pdf = render(FormKind::InspectionRecord, &case.input(&v1, &lookup));
    let path = write("ext-g-h.pdf", &pdf);
    let joined = text_joined(&path);
    assert!(joined.contains("西安𰻞𰻞面馆有限公司"), "{joined}");
    assert!(
        joined.contains("西安市碑林区\u{3134A}巷\u{31350}号"),
        "{joined}"
    );
    let fonts = embedded_fonts(&path);
    // 𰻞 is drawn by the sans Noto Sans CJK, beside the sans body.
    assert!(
        fonts.iter().any(|f| f.starts_with("NotoSansCJK")),
        "{fonts:?}"
    );
    assert!(
        fonts.iter().any(|f| f.contains("BabelStoneHan")),
        "{fonts:?}"
    );
    // Subsets: the 51 MB BabelStone Han and the 19 MB Noto collection add little.
    assert!(pdf.len() < 400_000, "{} bytes", pdf.len());
}

#[test]
fn fallback_faces_match_the_sans_body_wherever_a_sans_face_has_the_character() {
    // The chain (pdf-forms/src/fonts.rs): 0 Micro Hei, 1 Noto Sans CJK SC (sans);
    // 2 HanaMinA, 3 HanaMinB, 4 BabelStone Han (serif).
    let fonts = Fonts::system();
    assert_eq!(fonts.len(), 5);
    let sans = |i: usize| i <= 1;
    let font_for = |ch: char| fonts.font_for(ch).unwrap();
    for (ch, expected) in [
        ('检', 0),
        ('A', 0),
        ('\u{3400}', 1),  // 㐀, Extension A
        ('\u{4DB4}', 1),  // 䶴, near the end of Extension A
        ('\u{30EDE}', 1), // 𰻞, Extension G
        ('\u{2A6A5}', 2), // 𪚥, Extension B: no sans face has it
        ('\u{20001}', 3), // 𠀁
        ('\u{3134A}', 4), // Extension G
        ('\u{31350}', 4), // Extension H
    ] {
        assert_eq!(font_for(ch), Some(expected), "U+{:04X}", ch as u32);
    }
    // Where some sans face of the chain has a character of Extensions A–H, a sans face
    // draws it (the serif faces come only after every sans face).
    let sans_only = Fonts::from_sources(
        pdf_forms::SYSTEM_CHAIN[..2]
            .iter()
            .map(|(path, index)| FontSource::File {
                path: (*path).into(),
                index: *index,
            })
            .collect(),
    );
    let mut in_sans = 0;
    for c in (0x3400..=0x4DBF).chain(0x20000..=0x323AF) {
        let ch = char::from_u32(c).unwrap();
        if sans_only.font_for(ch).unwrap().is_some() {
            in_sans += 1;
            assert!(sans(font_for(ch).unwrap()), "U+{c:04X}");
        }
    }
    // All 6,582 of Extension A up to U+4DB5 (the ten added in Unicode 13 are only in
    // BabelStone Han) and 2,365 of Extensions B–H.
    assert!(in_sans >= 6582 + 2365, "{in_sans}");
    // Nothing covers Extension I yet.
    assert_eq!(font_for('\u{2EBF0}'), None);
}

#[test]
fn a_character_no_font_covers_prints_a_placeholder_and_the_render_warns() {
    let names = Names {
        enterprise: "西安\u{2EBF0}记餐饮有限公司".into(),
        ..Names::default()
    };
    let mut case = on_site_case(&names, false);
    case.apply(
        "wang",
        app_core::inspection::Command::SetSummary {
            text: format!("{SUMMARY}现场照片见附件🚀，招牌写作“\u{31353}”。"),
        },
    );
    let v1 = case.sign("v1");
    // The record keeps the exact text.
    assert_eq!(v1.enterprise.name, "西安\u{2EBF0}记餐饮有限公司");
    assert!(v1.summary.contains('🚀'));
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    for kind in [FormKind::InspectionRecord, FormKind::RectificationOrder] {
        let rendered = render_warned(kind, &case.input(&v1, &lookup));
        let path = write(&format!("placeholder-{kind:?}.pdf"), &rendered.pdf);
        let joined = text_joined(&path);
        assert!(joined.contains("西安[U+2EBF0]记餐饮有限公司"), "{joined}");
        let uncovered: Vec<char> = rendered
            .warnings
            .iter()
            .map(|w| match w {
                FormWarning::UncoveredCharacter { ch, .. } => *ch,
                other => panic!("{other}"),
            })
            .collect();
        if kind == FormKind::InspectionRecord {
            assert!(joined.contains("现场照片见附件[U+1F680]"), "{joined}");
            assert!(joined.contains("“[U+31353]”"), "{joined}");
            assert_eq!(uncovered, ['\u{2EBF0}', '\u{1F680}', '\u{31353}']);
        } else {
            assert_eq!(uncovered, ['\u{2EBF0}']);
        }
        let w = &rendered.warnings[0];
        assert_eq!(w.placeholder().as_deref(), Some("[U+2EBF0]"));
        let en = w.to_string();
        assert!(en.contains("U+2EBF0") && en.contains("西安"), "{en}");
        assert_eq!(
            w.text(Lang::Zh, kind.title_zh()),
            format!(
                "《{}》中的“\u{2EBF0}”（U+2EBF0）字库未收录，文书中以 [U+2EBF0] 代替；记录保存原字。",
                kind.title_zh()
            )
        );
        assert!(
            w.text(Lang::En, kind.title_zh())
                .contains("prints [U+2EBF0]")
        );
    }
}

#[test]
fn invisible_characters_print_nothing_and_do_not_warn() {
    // An ideographic variation sequence (葛 + U+E0100) and a zero-width space.
    let names = Names {
        enterprise: "葛\u{E0100}氏\u{200B}五金有限公司".into(),
        ..Names::default()
    };
    let mut case = on_site_case(&names, false);
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let pdf = render(FormKind::InspectionRecord, &case.input(&v1, &lookup));
    let joined = text_joined(&write("invisible.pdf", &pdf));
    assert!(joined.contains("葛氏五金有限公司"), "{joined}");
}

#[test]
fn a_missing_fallback_font_is_skipped_with_a_warning() {
    let mut case = on_site_case(
        &Names {
            enterprise: "南京㐀精密机械有限公司".into(),
            ..Names::default()
        },
        false,
    );
    let v1 = case.sign("v1");
    let images = case.images.clone();
    let lookup = move |d: &Sha256Hex| images.get(d).cloned();
    let fonts = Fonts::from_sources(vec![
        FontSource::File {
            path: "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc".into(),
            index: 0,
        },
        FontSource::File {
            path: "/nonexistent/fallback.ttf".into(),
            index: 0,
        },
    ]);
    let rendered = pdf_forms::render_with(
        FormKind::InspectionRecord,
        &case.input(&v1, &lookup),
        &fonts,
    )
    .unwrap();
    assert!(
        matches!(&rendered.warnings[0], FormWarning::FontSkipped { font, .. } if font.contains("/nonexistent/fallback.ttf")),
        "{:?}",
        rendered.warnings
    );
    assert!(matches!(
        rendered.warnings[1],
        FormWarning::UncoveredCharacter { ch: '\u{3400}', .. }
    ));
    let joined = text_joined(&write("skipped-font.pdf", &rendered.pdf));
    assert!(joined.contains("南京[U+3400]精密机械有限公司"), "{joined}");
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
