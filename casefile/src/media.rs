//! Audio and video evidence: what kind of recording a file is, by its first bytes.
//!
//! One table for the tablet's import (which refuses what is not a recording), the server's
//! answers (the `Content-Type` a browser needs to play it) and the case file (the entry's
//! extension under `media/`). Recordings are kept byte for byte; nothing here decodes them.

/// How many leading bytes [`MediaKind::sniff`] looks at.
pub const SNIFF_LEN: usize = 512;

/// A recording's container format, as its header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    /// ISO base media (`ftyp`): MP4, the common format of tablets and body cameras.
    Mp4,
    /// QuickTime (`ftyp qt  `).
    Mov,
    /// 3GPP (`ftyp 3gp…`/`3g2…`).
    ThreeGp,
    /// MPEG-4 audio (`ftyp M4A `).
    M4a,
    /// AVI (`RIFF…AVI `), still written by many body cameras.
    Avi,
    /// MPEG transport stream (sync byte 0x47 every 188 bytes).
    Ts,
    /// Matroska (EBML).
    Mkv,
    /// WebM (EBML with doc type `webm`).
    Webm,
    /// WAVE (`RIFF…WAVE`).
    Wav,
    /// MPEG audio layer III (`ID3` tag or a frame sync).
    Mp3,
    /// AAC in ADTS frames.
    Aac,
    /// AMR speech (`#!AMR`), the format of many voice recorders.
    Amr,
    /// Ogg (`OggS`).
    Ogg,
    /// FLAC (`fLaC`).
    Flac,
}

impl MediaKind {
    /// The kind of recording `head` (the file's first bytes; [`SNIFF_LEN`] suffice) starts,
    /// `None` if it is no audio or video format known here.
    pub fn sniff(head: &[u8]) -> Option<Self> {
        let at = |i: usize, s: &[u8]| head.get(i..i + s.len()) == Some(s);
        if at(4, b"ftyp") {
            return Some(if at(8, b"qt  ") {
                MediaKind::Mov
            } else if at(8, b"M4A ") || at(8, b"M4B ") {
                MediaKind::M4a
            } else if at(8, b"3gp") || at(8, b"3g2") {
                MediaKind::ThreeGp
            } else {
                MediaKind::Mp4
            });
        }
        if at(0, b"RIFF") && at(8, b"AVI ") {
            return Some(MediaKind::Avi);
        }
        if at(0, b"RIFF") && at(8, b"WAVE") {
            return Some(MediaKind::Wav);
        }
        if at(0, &[0x1a, 0x45, 0xdf, 0xa3]) {
            let webm = head.windows(4).any(|w| w == b"webm");
            return Some(if webm {
                MediaKind::Webm
            } else {
                MediaKind::Mkv
            });
        }
        if at(0, b"#!AMR") {
            return Some(MediaKind::Amr);
        }
        if at(0, b"OggS") {
            return Some(MediaKind::Ogg);
        }
        if at(0, b"fLaC") {
            return Some(MediaKind::Flac);
        }
        if at(0, b"ID3") {
            return Some(MediaKind::Mp3);
        }
        if is_transport_stream(head) {
            return Some(MediaKind::Ts);
        }
        if let [0xff, b1, ..] = head {
            // ADTS (AAC): 12 sync bits, layer 00.
            if b1 & 0xf6 == 0xf0 {
                return Some(MediaKind::Aac);
            }
            // MPEG audio frame: 11 sync bits, layer III (01).
            if b1 & 0xe0 == 0xe0 && b1 & 0x06 == 0x02 {
                return Some(MediaKind::Mp3);
            }
        }
        None
    }

    /// The file extension (the case file's `media/<sha256>.<ext>`).
    pub fn extension(self) -> &'static str {
        match self {
            MediaKind::Mp4 => "mp4",
            MediaKind::Mov => "mov",
            MediaKind::ThreeGp => "3gp",
            MediaKind::M4a => "m4a",
            MediaKind::Avi => "avi",
            MediaKind::Ts => "ts",
            MediaKind::Mkv => "mkv",
            MediaKind::Webm => "webm",
            MediaKind::Wav => "wav",
            MediaKind::Mp3 => "mp3",
            MediaKind::Aac => "aac",
            MediaKind::Amr => "amr",
            MediaKind::Ogg => "ogg",
            MediaKind::Flac => "flac",
        }
    }

    /// The MIME type a browser plays it by.
    pub fn mime_type(self) -> &'static str {
        match self {
            MediaKind::Mp4 => "video/mp4",
            MediaKind::Mov => "video/quicktime",
            MediaKind::ThreeGp => "video/3gpp",
            MediaKind::M4a => "audio/mp4",
            MediaKind::Avi => "video/x-msvideo",
            MediaKind::Ts => "video/mp2t",
            MediaKind::Mkv => "video/x-matroska",
            MediaKind::Webm => "video/webm",
            MediaKind::Wav => "audio/wav",
            MediaKind::Mp3 => "audio/mpeg",
            MediaKind::Aac => "audio/aac",
            MediaKind::Amr => "audio/amr",
            MediaKind::Ogg => "audio/ogg",
            MediaKind::Flac => "audio/flac",
        }
    }

    /// Whether it is a sound recording only (as opposed to video).
    pub fn is_audio(self) -> bool {
        matches!(
            self,
            MediaKind::M4a
                | MediaKind::Wav
                | MediaKind::Mp3
                | MediaKind::Aac
                | MediaKind::Amr
                | MediaKind::Ogg
                | MediaKind::Flac
        )
    }
}

/// Whether the first bytes `head` are a transport stream's: the sync byte at every 188-byte
/// packet start that `head` covers (at least two).
pub fn is_transport_stream(head: &[u8]) -> bool {
    head.len() >= 189 && head.iter().step_by(188).all(|&b| b == 0x47)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recordings_are_told_apart_by_their_first_bytes() {
        let mut mp4 = vec![0, 0, 0, 0x20];
        mp4.extend_from_slice(b"ftypisom\0\0\x02\0");
        assert_eq!(MediaKind::sniff(&mp4), Some(MediaKind::Mp4));
        assert_eq!(
            MediaKind::sniff(b"\0\0\0\x14ftypqt  \0\0\0\0"),
            Some(MediaKind::Mov)
        );
        assert_eq!(
            MediaKind::sniff(b"\0\0\0\x18ftyp3gp4\0\0\0\0"),
            Some(MediaKind::ThreeGp)
        );
        assert_eq!(
            MediaKind::sniff(b"\0\0\0\x18ftypM4A \0\0\0\0"),
            Some(MediaKind::M4a)
        );
        assert_eq!(
            MediaKind::sniff(b"RIFF\x10\0\0\0AVI LIST"),
            Some(MediaKind::Avi)
        );
        assert_eq!(
            MediaKind::sniff(b"RIFF\x10\0\0\0WAVEfmt "),
            Some(MediaKind::Wav)
        );
        assert_eq!(
            MediaKind::sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x84webm"),
            Some(MediaKind::Webm)
        );
        assert_eq!(
            MediaKind::sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska"),
            Some(MediaKind::Mkv)
        );
        assert_eq!(MediaKind::sniff(b"#!AMR\n"), Some(MediaKind::Amr));
        assert_eq!(MediaKind::sniff(b"ID3\x04\0"), Some(MediaKind::Mp3));
        assert_eq!(MediaKind::sniff(&[0xff, 0xfb, 0x90]), Some(MediaKind::Mp3));
        assert_eq!(MediaKind::sniff(&[0xff, 0xf1, 0x50]), Some(MediaKind::Aac));
        assert_eq!(MediaKind::sniff(b"OggS\0"), Some(MediaKind::Ogg));
        // Photos, documents and nothing are not recordings.
        for other in [
            &b"\xff\xd8\xff\xe0"[..],
            b"\x89PNG\r\n\x1a\n",
            b"%PDF-1.7",
            b"",
            b"hello",
        ] {
            assert_eq!(MediaKind::sniff(other), None, "{other:?}");
        }
        let mut ts = vec![0u8; 400];
        ts[0] = 0x47;
        ts[188] = 0x47;
        ts[376] = 0x47;
        assert!(is_transport_stream(&ts));
        assert_eq!(MediaKind::sniff(&ts), Some(MediaKind::Ts));
        ts[188] = 0;
        assert!(!is_transport_stream(&ts));
    }
}
