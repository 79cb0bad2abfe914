//! Enforcement documents (执法文书) as A4 PDF, rendered from the *signed version* of an
//! inspection record:
//!
//! - [`FormKind::InspectionRecord`]: 现场检查记录 (on-site inspection record);
//! - [`FormKind::RectificationOrder`]: 责令限期整改指令书 (order to rectify within a deadline);
//! - [`FormKind::ReinspectionOpinion`]: 整改复查意见书 (re-inspection opinion);
//!
//! and the documents of an administrative penalty case (行政处罚) from the content frozen when
//! each was signed (`app_core::penalty::FrozenDocument`), with the case file's 卷内目录:
//! [`render_case_document`], [`render_case_index`], [`render_case_file`]. Their footer
//! carries the document's `content_hash` (what its signing recorded); the 卷内目录's, the
//! SHA-256 of its own text.
//!
//! The caller passes the record exactly as `app_core::signing` returns it for the signed heads
//! (`InspectionDoc::signed_record`); this crate renders what it is given and nothing else, so
//! later edits never reach a document that was signed.
//!
//! # What every page carries
//!
//! The document number (文号) comes from `record.documents`; a record without a number of the
//! kind asked for is an error ([`FormError::MissingNumber`]), never an invented number. Every
//! page has a footer with its page number and the record's **content hash**: the
//! `app_core::signing::content_hash` of the record given, i.e. the same SHA-256 that the
//! signed version (`SignedVersion::content_hash`) recorded at signing. Anyone holding the case
//! file can match the printed hash against the signed version. Dates and times are shown in
//! Asia/Shanghai (`app_core::geo`).
//!
//! Rendering is deterministic: the same input gives the same bytes (no dates or random ids
//! in the file), so a case file can be re-derived and compared.
//!
//! Choices where the record leaves room: a record with several documents of one kind (a new
//! order after a failed re-inspection) prints the latest number; the opinion refers to the
//! first order issued. The inspection time runs from `started_at` to `completed_at` (or to
//! the last signature when the version was signed before completion); the recorder (记录人)
//! is the record's creator. Signatures are those in the version given (app-core keeps one per
//! signer), so an opinion shows the signatures captured up to the version it is rendered
//! from.
//!
//! # Fonts
//!
//! Text is set in an embedded, subset CJK font with a per-character fallback chain (see
//! [`Fonts`] and the table in its module): WenQuanYi Micro Hei for most text, then the sans
//! face Noto Sans CJK (CJK Extension A, e.g. 㐀, and part of Extensions B–G, e.g. 𰻞), then the serif faces HanaMinA and HanaMinB (the rest of
//! Extensions B–F, e.g. 𠀀 or 𪚥) and BabelStone Han (Extensions G and H) for what no sans
//! face has. Nothing depends on fonts installed on the reader's machine; each glyph carries
//! its Unicode text (ToUnicode CMap) so copying and `pdftotext` give the right characters.
//!
//! A document never fails on a name: a character no font covers is printed as a visible
//! placeholder naming its code point (`[U+2EBF0]`, never a blank box), the record keeps the
//! exact text, and the render succeeds with a [`FormWarning`] in [`Rendered::warnings`] that
//! the caller logs and shows.

mod fonts;
mod forms;
mod layout;
mod paint;
mod zh;

pub use fonts::{FONTS_ENV, FontSource, Fonts, SYSTEM_CHAIN};

use app_core::checklist::ChecklistTemplate;
use app_core::docnumber::DocumentKind;
use app_core::evidence::Sha256Hex;
use app_core::inspection::Inspection;
use app_core::messages::Lang;
use app_core::paper::{Mode, Paper, PaperError};
use app_core::penalty::{CasePaperError, FrozenDocument, IndexEntry, PenaltyCase};

/// Signature image bytes (PNG or JPEG) by their SHA-256.
pub type Images<'a> = &'a dyn Fn(&Sha256Hex) -> Option<Vec<u8>>;

/// The documents this crate renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FormKind {
    /// 现场检查记录
    InspectionRecord,
    /// 责令限期整改指令书
    RectificationOrder,
    /// 整改复查意见书
    ReinspectionOpinion,
}

impl FormKind {
    pub const ALL: [FormKind; 3] = [
        FormKind::InspectionRecord,
        FormKind::RectificationOrder,
        FormKind::ReinspectionOpinion,
    ];

    /// The file name in a case file, e.g. `现场检查记录.pdf`.
    pub fn file_name(self) -> &'static str {
        match self {
            FormKind::InspectionRecord => "现场检查记录.pdf",
            FormKind::RectificationOrder => "责令限期整改指令书.pdf",
            FormKind::ReinspectionOpinion => "整改复查意见书.pdf",
        }
    }

    /// The title printed on the form.
    pub fn title_zh(self) -> &'static str {
        self.document_kind().title_zh()
    }

    /// The kind of document number (文号) the form carries.
    pub fn document_kind(self) -> DocumentKind {
        match self {
            FormKind::InspectionRecord => DocumentKind::InspectionRecord,
            FormKind::RectificationOrder => DocumentKind::RectificationOrder,
            FormKind::ReinspectionOpinion => DocumentKind::ReinspectionOpinion,
        }
    }
}

/// Which forms a record has material for: the inspection record always; the order when some
/// hazard has a rectification deadline; the opinion when some hazard has been re-inspected.
/// (The rule is app-core's, `signing::documents_for`, which also decides which numbers a
/// signing issues.)
pub fn forms_for(record: &Inspection) -> Vec<FormKind> {
    app_core::signing::documents_for(record)
        .into_iter()
        .filter_map(|kind| {
            FormKind::ALL
                .into_iter()
                .find(|f| f.document_kind() == kind)
        })
        .collect()
}

/// What a form is rendered from.
pub struct FormInput<'a> {
    /// The signed version of the record (as `InspectionDoc::signed_record` returns it).
    pub record: &'a Inspection,
    /// The checklist template the record was made with, for item titles and legal bases.
    /// Without it, failed items are listed by code with the inspector's note.
    pub template: Option<&'a ChecklistTemplate>,
    /// The issuing unit's full name, printed above the title and on the seal line.
    pub unit_name: &'a str,
    /// Signature image bytes (PNG or JPEG) by their SHA-256; the bytes are checked against it.
    pub images: &'a dyn Fn(&Sha256Hex) -> Option<Vec<u8>>,
}

impl std::fmt::Debug for FormInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormInput")
            .field("record", &self.record.id)
            .field("template", &self.template.map(|t| t.reference()))
            .field("unit_name", &self.unit_name)
            .finish_non_exhaustive()
    }
}

/// Why a form could not be rendered. Messages are English and name the offending field.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error(
        "the record has no {} number (文号) of kind {}; issue one before rendering the document",
        .0.title_zh(),
        .0.document_kind().code()
    )]
    MissingNumber(FormKind),
    #[error("the record has nothing for {}: {reason}", .kind.title_zh())]
    NothingToRender { kind: FormKind, reason: String },
    #[error("the signature image of {signer} ({digest}) was not supplied")]
    MissingSignatureImage { signer: String, digest: Sha256Hex },
    #[error("the bytes supplied for the signature image of {signer} hash to {found}, not {digest}")]
    SignatureImageMismatch {
        signer: String,
        digest: Sha256Hex,
        found: Sha256Hex,
    },
    #[error("the signature image of {signer} ({digest}) is not a readable PNG or JPEG: {reason}")]
    BadSignatureImage {
        signer: String,
        digest: Sha256Hex,
        reason: String,
    },
    #[error("the template given is {given}, but the record was made with {record}")]
    TemplateMismatch { given: String, record: String },
    #[error("font {path}: {reason}")]
    Font { path: String, reason: String },
    /// Only when even the placeholder (`[U+…]`, ASCII) cannot be drawn: the body font has
    /// no Latin letters. A CJK character no font has is a [`FormWarning`], not an error.
    #[error(
        "no font in the chain covers {ch:?} (U+{:04X}) in {field}; add a font that does (see {FONTS_ENV})",
        *.ch as u32
    )]
    UncoveredCharacter { ch: char, field: String },
    #[error("writing the PDF failed: {0}")]
    Pdf(String),
    #[error(transparent)]
    CasePaper(#[from] CasePaperError),
    /// The stored content of a signed case document no longer hashes to what its signing
    /// recorded: it is not printed.
    #[error(
        "the content of the signed case document {number} does not hash to {recorded}, which its signing recorded"
    )]
    CaseDocumentAltered { number: String, recorded: Sha256Hex },
}

/// Something a rendered document shows differently from the record, though it rendered:
/// the caller logs it (its `Display` is English) and shows it ([`FormWarning::text`], from
/// `app_core::messages`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormWarning {
    /// No font of the chain has `ch`: the document prints [`FormWarning::placeholder`] in its
    /// place; the record keeps the character.
    #[error(
        "no font in the chain covers {ch:?} (U+{:04X}) in {field}: the document prints [U+{:04X}] in its place, the record keeps the character (add a font that has it, see {FONTS_ENV})",
        *.ch as u32, *.ch as u32
    )]
    UncoveredCharacter { ch: char, field: String },
    /// A fallback font of the chain could not be read and was skipped (characters it would
    /// have drawn come from a later font, or as placeholders).
    #[error("fallback font {font} was skipped: {reason}")]
    FontSkipped { font: String, reason: String },
}

impl FormWarning {
    /// What the document prints for an uncovered character (`[U+2EBF0]`); `None` for other
    /// warnings.
    pub fn placeholder(&self) -> Option<String> {
        match self {
            FormWarning::UncoveredCharacter { ch, .. } => Some(layout::placeholder(*ch)),
            FormWarning::FontSkipped { .. } => None,
        }
    }

    /// The warning as a person reads it, about the document titled `document`
    /// (`app_core::messages`, Chinese or English).
    pub fn text(&self, lang: Lang, document: &str) -> String {
        match self {
            FormWarning::UncoveredCharacter { ch, .. } => {
                lang.document_uncovered_character(document, *ch)
            }
            FormWarning::FontSkipped { font, .. } => lang.document_font_skipped(document, font),
        }
    }
}

/// A rendered document: the PDF and what it shows differently from the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub pdf: Vec<u8>,
    /// How many pages the PDF has (the 卷内目录 lists it).
    pub pages: usize,
    /// Empty for a document that prints the record exactly.
    pub warnings: Vec<FormWarning>,
}

/// The content of one form, as app-core makes it from the signed version (the model the
/// tablet's preview shows; this crate prints it).
pub fn paper(kind: FormKind, input: &FormInput<'_>) -> Result<Paper, FormError> {
    app_core::paper::paper(
        kind.document_kind(),
        input.record,
        input.template,
        input.unit_name,
        Mode::Issued,
    )
    .map_err(|e| match e {
        PaperError::MissingNumber(k) => FormError::MissingNumber(
            FormKind::ALL
                .into_iter()
                .find(|f| f.document_kind() == k)
                .unwrap_or(kind),
        ),
        PaperError::NothingToRender { reason, .. } => FormError::NothingToRender { kind, reason },
    })
}

/// Renders one form as an A4 PDF with the process-wide font chain ([`Fonts::system`]).
pub fn render(kind: FormKind, input: &FormInput<'_>) -> Result<Rendered, FormError> {
    render_with(kind, input, Fonts::system())
}

/// Renders one form with the given font chain (a tablet build passes its bundled fonts).
pub fn render_with(
    kind: FormKind,
    input: &FormInput<'_>,
    fonts: &Fonts,
) -> Result<Rendered, FormError> {
    if let Some(t) = input.template
        && t.reference() != input.record.template
    {
        return Err(FormError::TemplateMismatch {
            given: t.reference().to_string(),
            record: input.record.template.to_string(),
        });
    }
    let paper = paper(kind, input)?;
    let hash = app_core::signing::content_hash(input.record);
    print_paper(&paper, input.images, &hash, fonts)
}

/// Prints `paper` on A4 with `fonts`, every page's footer carrying `hash`: the one way each
/// document of this crate becomes a PDF.
fn print_paper(
    paper: &Paper,
    images: Images<'_>,
    hash: &Sha256Hex,
    fonts: &Fonts,
) -> Result<Rendered, FormError> {
    let mut doc = layout::Layout::new(fonts, &paper.title, paper.number.clone());
    forms::print(&mut doc, paper, images)?;
    let laid = doc.finish(hash)?;
    let pdf = paint::to_pdf(&laid, fonts, &paper.title)?;
    Ok(Rendered {
        pdf,
        pages: laid.pages.len(),
        warnings: laid.warnings,
    })
}

/// The file name of the 送达回证 in a case file or an export.
pub const RECEIPT_FILE_NAME: &str = "送达回证.pdf";

/// The 送达回证 of the record given (every issued document with how, when and to whom it
/// was served), or `None` when no service is recorded. Its footer carries the record's
/// content hash like the other forms.
pub fn render_receipt(input: &FormInput<'_>) -> Result<Option<Rendered>, FormError> {
    let Some(paper) = app_core::paper::service_receipt(input.record, input.unit_name) else {
        return Ok(None);
    };
    let hash = app_core::signing::content_hash(input.record);
    print_paper(&paper, input.images, &hash, Fonts::system()).map(Some)
}

// ---------------------------------------------------------------------------------------
// The documents of a penalty case

/// What the documents of a penalty case are rendered with.
pub struct CaseInput<'a> {
    /// The issuing unit's full name, printed above the title and on the seal line.
    pub unit_name: &'a str,
    /// Signature image bytes (PNG or JPEG) by their SHA-256 (the 询问笔录's page
    /// signatures); the bytes are checked against it.
    pub images: Images<'a>,
}

impl std::fmt::Debug for CaseInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaseInput")
            .field("unit_name", &self.unit_name)
            .finish_non_exhaustive()
    }
}

/// Renders a signed case document (`app_core::penalty::case_paper` of its frozen content)
/// as an A4 PDF with the process-wide font chain. Its footer carries the content hash its
/// signing recorded; content that no longer hashes to it is refused
/// ([`FormError::CaseDocumentAltered`]).
pub fn render_case_document(
    doc: &FrozenDocument,
    input: &CaseInput<'_>,
) -> Result<Rendered, FormError> {
    render_case_document_with(doc, input, Fonts::system())
}

/// [`render_case_document`] with the given font chain.
pub fn render_case_document_with(
    doc: &FrozenDocument,
    input: &CaseInput<'_>,
    fonts: &Fonts,
) -> Result<Rendered, FormError> {
    if !doc.verify() {
        return Err(FormError::CaseDocumentAltered {
            number: doc.number.clone(),
            recorded: doc.content_hash.clone(),
        });
    }
    let paper = app_core::penalty::case_paper(doc, input.unit_name)?;
    print_paper(&paper, input.images, &doc.content_hash, fonts)
}

/// Renders the 卷内目录 of the case of `party` (`app_core::penalty::case_index` of
/// `entries`, in their order). Its footer carries the SHA-256 of its text
/// (`Paper::plain_text`).
pub fn render_case_index(
    party: &str,
    entries: &[IndexEntry],
    input: &CaseInput<'_>,
) -> Result<Rendered, FormError> {
    let paper = app_core::penalty::case_index(input.unit_name, party, entries);
    let hash = Sha256Hex::of(paper.plain_text().as_bytes());
    print_paper(&paper, input.images, &hash, Fonts::system())
}

/// One PDF of a case file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFilePart {
    /// 文书名称 (`卷内目录` for the index).
    pub title: String,
    /// 文号 (empty for the index).
    pub number: String,
    pub rendered: Rendered,
}

/// The case file of `case`: the 卷内目录 first, listing every signed document with its page
/// count, then each document in the file's order (`PenaltyCase::documents_in_file_order`).
pub fn render_case_file(
    case: &PenaltyCase,
    input: &CaseInput<'_>,
) -> Result<Vec<CaseFilePart>, FormError> {
    let docs = case.documents_in_file_order();
    let mut parts = Vec::with_capacity(docs.len() + 1);
    for d in &docs {
        parts.push(CaseFilePart {
            title: d.kind.title_zh().to_owned(),
            number: d.number.clone(),
            rendered: render_case_document(d, input)?,
        });
    }
    let mut entries = app_core::penalty::index_entries(case);
    for (e, part) in entries.iter_mut().zip(&parts) {
        e.pages = Some(u32::try_from(part.rendered.pages).unwrap_or(u32::MAX));
    }
    let index = render_case_index(&case.enterprise.name, &entries, input)?;
    let title = app_core::messages::Lang::Zh
        .pick(app_core::messages::case_paper::INDEX_TITLE)
        .to_owned();
    parts.insert(
        0,
        CaseFilePart {
            title,
            number: String::new(),
            rendered: index,
        },
    );
    Ok(parts)
}
