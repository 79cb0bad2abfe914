//! The font fallback chain. Each character is set in the first font of the chain whose cmap
//! has it; fonts are read lazily, so a document without rare characters never reads the large
//! Extension B font.
//!
//! Where the bytes come from at run time:
//!
//! 1. `PDF_FORMS_FONTS`, if set: font files in fallback order, separated by `:`, each
//!    optionally `path#index` for a face in a collection (`.ttc`);
//! 2. otherwise the Debian paths that `cargo xtask test` installs:
//!    `fonts-wqy-microhei` (`wqy-microhei.ttc`, face 0; Apache-2.0 or GPL-3 with font
//!    exception) and `fonts-hanazono` (`HanaMinA.ttf` for Extension A, `HanaMinB.ttf` for
//!    Extension B–F; Hanazono Font License or SIL OFL 1.1, both allow embedding subsets).
//!
//! A tablet build bundles the same files and passes them with [`Fonts::from_sources`].

use crate::FormError;
use skrifa::instance::{LocationRef, Size};
use skrifa::{FontRef, MetadataProvider};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// The environment variable that overrides the font chain.
pub const FONTS_ENV: &str = "PDF_FORMS_FONTS";

/// The default chain: Debian's paths for the packages `cargo xtask test` installs.
const SYSTEM_CHAIN: &[(&str, u32)] = &[
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf", 0),
    ("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf", 0),
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
    fn describe(&self) -> String {
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
    /// A font that cannot be read is an error only when the chain reaches it.
    pub(crate) fn glyph(&self, ch: char) -> Result<Option<GlyphInfo>, FormError> {
        for i in 0..self.slots.len() {
            let (data, index) = self.data(i)?;
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
}
