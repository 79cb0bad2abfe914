//! The font fallback chain. Each character is set in the first font of the chain whose cmap
//! has it; fonts are read lazily, so a document without rare characters never reads the large
//! fallback fonts.
//!
//! Where the bytes come from at run time:
//!
//! 1. `PDF_FORMS_FONTS`, if set: font files in fallback order, separated by `:`, each
//!    optionally `path#index` for a face in a collection (`.ttc`);
//! 2. otherwise the Debian paths of the packages that `cargo xtask test` (and the README's
//!    set-up) installs, in this order: every sans-serif (黑体) face first, so a rare
//!    character is drawn in the body's style wherever some sans face has it, and the serif
//!    (明体/宋体) faces only for what no sans face covers:
//!
//! | # | font (Debian package) | style | what it is in the chain for (measured with `fc-query`) |
//! |---|---|---|---|
//! | 0 | WenQuanYi Micro Hei `wqy-microhei.ttc#0` (`fonts-wqy-microhei`) | sans | the body: Latin, punctuation, 20,932 of the URO characters (U+4E00–9FFF) |
//! | 1 | Noto Sans CJK SC `NotoSansCJK-Regular.ttc#2` (`fonts-noto-cjk`) | sans, of the body's weight | the rest of the URO (44), CJK Extension A (6,582 of its 6,592: U+3400–4DB5, e.g. 㐀), and 2,365 characters of Extensions B–G (those of GB 18030, HKSCS and the like, and 𰻞 U+30EDE) |
//! | 2 | HanaMinA `HanaMinA.ttf` (`fonts-hanazono`) | serif | 2,858 more of Extension B (e.g. 𠀀, 𪚥) and the compatibility supplement |
//! | 3 | HanaMinB `HanaMinB.ttf` (`fonts-hanazono`) | serif | the rest of Extensions B–F (42,711 of B, 4,149 of C, 222 of D, 5,762 of E, 7,473 of F; e.g. 𠀁) |
//! | 4 | BabelStone Han `BabelStoneHan.ttf` (`fonts-babelstone-han`) | serif | Extensions G and H (3,045 of 4,939 and 2,271 of 4,192, e.g. U+3134A), and the ten Extension A characters of Unicode 13 (U+4DB6–4DBF) |
//!
//! (Debian's `fonts-droid-fallback`, the design Micro Hei derives from, has the same
//! Extension A characters, but in a visibly lighter stroke than the body; Noto Sans CJK
//! Regular matches the body's weight.)
//!
//! No packaged sans face covers the rest of Extensions B–H, nor does any packaged font cover
//! Extension I (U+2EBF0–2EE5F): such a character is printed as a placeholder naming it
//! (`[U+2EBF0]`) and reported as a [`crate::FormWarning`].
//!
//! Licences (from the Debian copyright files): Micro Hei Apache-2.0 or GPL-3 with font
//! exception; Noto Sans CJK SIL OFL 1.1; Hanazono its own free licence or SIL OFL 1.1, all of
//! which allow embedding subsets; BabelStone Han the Arphic Public License, some glyphs
//! CC BY-SA 3.0 or 4.0 (neither has a font-embedding exception: to be reviewed before the
//! documents are published beyond the case file).
//!
//! The body font must be readable; a fallback font that is missing or unreadable is skipped
//! (the document still renders, reported as a warning), so a partial font install never
//! stops a document.
//!
//! A tablet build bundles the same files and passes them with [`Fonts::from_sources`].

use crate::FormError;
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The environment variable that overrides the font chain.
pub const FONTS_ENV: &str = "PDF_FORMS_FONTS";

/// The default chain: Debian's paths for the packages `cargo xtask test` installs (see the
/// table above; sans faces first).
pub const SYSTEM_CHAIN: &[(&str, u32)] = &[
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf", 0),
    ("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf", 0),
    ("/usr/share/fonts/truetype/babelstone/BabelStoneHan.ttf", 0),
];

/// Where one font of the chain comes from.
#[derive(Debug, Clone)]
pub enum FontSource {
    /// A font file and the face index in it (0 unless it is a collection).
    File { path: PathBuf, index: u32 },
    /// Font bytes already in memory (e.g. bundled in an app).
    Bytes { data: Arc<Vec<u8>>, index: u32 },
}

impl FontSource {
    /// The path (and face) or the size of in-memory bytes, for messages.
    pub fn describe(&self) -> String {
        match self {
            FontSource::File { path, index } => format!("{}#{index}", path.display()),
            FontSource::Bytes { data, index } => format!("<{} bytes>#{index}", data.len()),
        }
    }
}

#[derive(Debug)]
struct Slot {
    source: FontSource,
    loaded: OnceLock<Result<Arc<Vec<u8>>, String>>,
}

/// A font fallback chain. Cheap to share; fonts are read on first use and kept.
#[derive(Debug)]
pub struct Fonts {
    slots: Vec<Slot>,
}

/// One character's glyph: which font of the chain, its glyph id, and its advance in em.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GlyphInfo {
    pub font: usize,
    pub glyph: u32,
    pub advance: f32,
}

impl Fonts {
    /// A chain from explicit sources, in fallback order.
    pub fn from_sources(sources: Vec<FontSource>) -> Self {
        Self {
            slots: sources
                .into_iter()
                .map(|source| Slot {
                    source,
                    loaded: OnceLock::new(),
                })
                .collect(),
        }
    }

    /// The chain named by `PDF_FORMS_FONTS`, or the Debian system paths.
    pub fn from_env_or_system() -> Self {
        let sources = match std::env::var(FONTS_ENV) {
            Ok(list) if !list.trim().is_empty() => list
                .split(':')
                .filter(|s| !s.trim().is_empty())
                .map(|entry| {
                    let (path, index) = match entry.rsplit_once('#') {
                        Some((p, i)) if i.parse::<u32>().is_ok() => (p, i.parse().unwrap_or(0)),
                        _ => (entry, 0),
                    };
                    FontSource::File {
                        path: PathBuf::from(path.trim()),
                        index,
                    }
                })
                .collect(),
            _ => SYSTEM_CHAIN
                .iter()
                .map(|(p, i)| FontSource::File {
                    path: PathBuf::from(p),
                    index: *i,
                })
                .collect(),
        };
        Self::from_sources(sources)
    }

    /// The process-wide chain ([`Fonts::from_env_or_system`], read once).
    pub fn system() -> &'static Fonts {
        static SYSTEM: OnceLock<Fonts> = OnceLock::new();
        SYSTEM.get_or_init(Fonts::from_env_or_system)
    }

    /// The bytes of font `i`, reading the file on first use.
    pub(crate) fn data(&self, i: usize) -> Result<(Arc<Vec<u8>>, u32), FormError> {
        let slot = &self.slots[i];
        let loaded = slot.loaded.get_or_init(|| {
            let data = match &slot.source {
                FontSource::File { path, .. } => {
                    std::fs::read(path).map(Arc::new).map_err(|e| {
                        format!(
                            "cannot read: {e} (install the Debian font packages or set {FONTS_ENV})"
                        )
                    })?
                }
                FontSource::Bytes { data, .. } => data.clone(),
            };
            let index = self.index(i);
            FontRef::from_index(&data, index)
                .map_err(|e| format!("not a readable OpenType font (face {index}): {e}"))?;
            Ok(data)
        });
        match loaded {
            Ok(d) => Ok((d.clone(), self.index(i))),
            Err(reason) => Err(FormError::Font {
                path: slot.source.describe(),
                reason: reason.clone(),
            }),
        }
    }

    fn index(&self, i: usize) -> u32 {
        match &self.slots[i].source {
            FontSource::File { index, .. } | FontSource::Bytes { index, .. } => *index,
        }
    }

    /// The glyph for `ch` from the first font of the chain that has it; `None` if none does.
    /// The body font (the first) must be readable; a fallback font that cannot be read is
    /// skipped, and its source and the reason are added to `skipped` (once per font).
    pub(crate) fn glyph(
        &self,
        ch: char,
        skipped: &mut Vec<(String, String)>,
    ) -> Result<Option<GlyphInfo>, FormError> {
        for i in 0..self.slots.len() {
            let (data, index) = match self.data(i) {
                Ok(d) => d,
                Err(e) if i == 0 => return Err(e),
                Err(FormError::Font { path, reason }) => {
                    if !skipped.iter().any(|(p, _)| *p == path) {
                        skipped.push((path, reason));
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            let font = FontRef::from_index(&data, index).map_err(|e| FormError::Font {
                path: self.slots[i].source.describe(),
                reason: e.to_string(),
            })?;
            if let Some(gid) = font.charmap().map(ch) {
                let upem = f32::from(
                    font.metrics(Size::unscaled(), LocationRef::default())
                        .units_per_em,
                );
                let advance = font
                    .glyph_metrics(Size::unscaled(), LocationRef::default())
                    .advance_width(gid)
                    .unwrap_or(upem);
                return Ok(Some(GlyphInfo {
                    font: i,
                    glyph: gid.to_u32(),
                    advance: advance / upem,
                }));
            }
        }
        Ok(None)
    }

    /// How many fonts the chain has.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether the chain is empty.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Which font of the chain (its index) draws `ch`, reading fonts as needed; `None` when
    /// no readable font has it. For tests and diagnostics (e.g. "which face prints 𰻞?").
    pub fn font_for(&self, ch: char) -> Result<Option<usize>, FormError> {
        Ok(self.glyph(ch, &mut Vec::new())?.map(|g| g.font))
    }
}
