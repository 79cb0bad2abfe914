//! The case file's container: a ZIP archive in one canonical form, written and read by hand.
//!
//! Every entry is STORED (photos are JPEG and PDFs are compressed already, so deflate would
//! only cost time, and a stored entry cannot be a decompression bomb), with fixed
//! timestamps, no extra fields, no comments, no data descriptors and no ZIP64. Any ZIP tool
//! opens it; and because every header byte is a function of the entries' names, sizes,
//! CRC-32s and order, the reader can re-derive each header and refuse anything that is not
//! exactly what the writer would have produced. That is what makes a flipped byte in a
//! timestamp, a "version made by" field or the central directory detectable: content hashes
//! alone cover only the content.
//!
//! The reader streams: it reads each byte of the file once, hashing entry data (SHA-256 and
//! CRC-32) as it passes, and never writes anything anywhere.

use app_core::evidence::Sha256Hex;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom, Write};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
/// "Version needed" and "version made by": 2.0, MS-DOS attributes (none set).
const VERSION: u16 = 20;
/// General-purpose flags: bit 11, names are UTF-8.
const FLAGS: u16 = 0x0800;
const STORED: u16 = 0;
/// 00:00:00 in MS-DOS time, 1980-01-01 in MS-DOS date: the earliest a ZIP can say. The
/// export time is in the signed manifest, where it means something.
const DOS_TIME: u16 = 0;
const DOS_DATE: u16 = (1 << 5) | 1;
const LOCAL_LEN: usize = 30;
const END_LEN: usize = 22;

/// Most entries a case file may hold (the ZIP limit without ZIP64 is 65,535).
pub const MAX_ENTRIES: usize = 60_000;
/// Longest entry name, in bytes.
pub const MAX_NAME: usize = 255;
/// Largest archive (and entry) without ZIP64: offsets and sizes are 32-bit.
pub const MAX_ARCHIVE: u64 = u32::MAX as u64;

/// What is wrong with an archive, or with an entry name offered to the writer.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("could not read the file: {0}")]
    Io(#[from] io::Error),
    #[error("not a ZIP file: {0}")]
    NotZip(String),
    #[error("entry name {name:?} is not allowed: {why}")]
    BadName { name: String, why: &'static str },
    #[error("entry {name:?} appears twice")]
    Duplicate { name: String },
    #[error(
        "entry {name:?} is compressed (method {method}); a case file stores every entry uncompressed, so it is refused without decompressing anything"
    )]
    Compressed { name: String, method: u16 },
    #[error(
        "entry {name:?} declares {declared} bytes but only {available} bytes of the file remain (truncated file or forged size)"
    )]
    DeclaredTooLarge {
        name: String,
        declared: u64,
        available: u64,
    },
    #[error(
        "entry {name:?} declares a compressed size of {compressed} and an uncompressed size of {uncompressed}; stored entries must declare equal sizes"
    )]
    SizeMismatch {
        name: String,
        compressed: u32,
        uncompressed: u32,
    },
    #[error(
        "entry {name:?}: local header field {field} is {found:#x}, the canonical form has {expected:#x}"
    )]
    NonCanonicalField {
        name: String,
        field: &'static str,
        found: u32,
        expected: u32,
    },
    #[error("entry {name:?}: its CRC-32 is {found:08x} but the header says {declared:08x}")]
    Crc {
        name: String,
        declared: u32,
        found: u32,
    },
    #[error(
        "unexpected bytes at offset {offset}: neither a local file header nor the central directory"
    )]
    Unexpected { offset: u64 },
    #[error(
        "the central directory and end record differ from the canonical form at offset {offset} (expected {expected} bytes after the last entry, found {found})"
    )]
    Directory {
        offset: u64,
        expected: u64,
        found: u64,
    },
    #[error("the archive holds more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("the case file would exceed {MAX_ARCHIVE} bytes, the limit of a ZIP without ZIP64")]
    TooLarge,
}

/// One entry as read: where it is, how long, and its digests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    pub name: String,
    /// Offset of its local header.
    pub offset: u64,
    pub size: u64,
    pub crc32: u32,
    pub sha256: Sha256Hex,
}

/// Checks an entry name: a relative path of non-empty segments, no `.` or `..`, no
/// backslashes, drive letters or control characters. Names that pass can never point
/// outside the folder an archive is unpacked into.
pub fn check_name(name: &str) -> Result<(), ArchiveError> {
    let bad = |why| {
        Err(ArchiveError::BadName {
            name: name.to_owned(),
            why,
        })
    };
    if name.is_empty() || name.len() > MAX_NAME {
        return bad("empty or longer than 255 bytes");
    }
    if name.starts_with('/') {
        return bad("absolute path");
    }
    if name.contains('\\') || name.contains(':') {
        return bad("backslash or colon (drive letters and Windows paths are refused)");
    }
    if name.chars().any(char::is_control) {
        return bad("control character");
    }
    for segment in name.split('/') {
        match segment {
            "" => return bad("empty path segment (or a folder entry)"),
            "." | ".." => return bad("`.` or `..` segment (path traversal)"),
            _ => {}
        }
    }
    Ok(())
}

fn put16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// The canonical local file header of an entry.
fn local_header(name: &str, crc32: u32, size: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(LOCAL_LEN + name.len());
    put32(&mut h, LOCAL_SIG);
    put16(&mut h, VERSION);
    put16(&mut h, FLAGS);
    put16(&mut h, STORED);
    put16(&mut h, DOS_TIME);
    put16(&mut h, DOS_DATE);
    put32(&mut h, crc32);
    put32(&mut h, size);
    put32(&mut h, size);
    put16(&mut h, name.len() as u16);
    put16(&mut h, 0);
    h.extend_from_slice(name.as_bytes());
    h
}

/// The canonical central directory and end record for `entries` written from offset
/// `cd_offset` on.
fn directory(entries: &[(String, u32, u32, u32)], cd_offset: u32) -> Vec<u8> {
    let mut d = Vec::new();
    for (name, crc32, size, offset) in entries {
        put32(&mut d, CENTRAL_SIG);
        put16(&mut d, VERSION);
        put16(&mut d, VERSION);
        put16(&mut d, FLAGS);
        put16(&mut d, STORED);
        put16(&mut d, DOS_TIME);
        put16(&mut d, DOS_DATE);
        put32(&mut d, *crc32);
        put32(&mut d, *size);
        put32(&mut d, *size);
        put16(&mut d, name.len() as u16);
        put16(&mut d, 0); // extra
        put16(&mut d, 0); // comment
        put16(&mut d, 0); // disk
        put16(&mut d, 0); // internal attributes
        put32(&mut d, 0); // external attributes
        put32(&mut d, *offset);
        d.extend_from_slice(name.as_bytes());
    }
    let cd_len = d.len() as u32;
    put32(&mut d, END_SIG);
    put16(&mut d, 0);
    put16(&mut d, 0);
    put16(&mut d, entries.len() as u16);
    put16(&mut d, entries.len() as u16);
    put32(&mut d, cd_len);
    put32(&mut d, cd_offset);
    put16(&mut d, 0);
    d
}

/// Writes a canonical archive entry by entry. Each entry's bytes are given whole (the CRC-32
/// goes in the header before the data, and there are no data descriptors).
#[derive(Debug)]
pub struct ZipWriter<W: Write> {
    out: W,
    offset: u64,
    entries: Vec<(String, u32, u32, u32)>,
    names: HashSet<String>,
}

impl<W: Write> ZipWriter<W> {
    pub fn new(out: W) -> Self {
        Self {
            out,
            offset: 0,
            entries: Vec::new(),
            names: HashSet::new(),
        }
    }

    /// Bytes written so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Adds one entry; `chunk_written` is called after each piece of data written (for
    /// progress reports). Returns the entry's CRC-32.
    pub fn add(
        &mut self,
        name: &str,
        data: &[u8],
        crc32: Option<u32>,
        chunk_written: &mut dyn FnMut(u64),
    ) -> Result<u32, ArchiveError> {
        check_name(name)?;
        if !self.names.insert(name.to_owned()) {
            return Err(ArchiveError::Duplicate {
                name: name.to_owned(),
            });
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries);
        }
        let end = self.offset + (LOCAL_LEN + name.len()) as u64 + data.len() as u64;
        if end > MAX_ARCHIVE {
            return Err(ArchiveError::TooLarge);
        }
        let crc = crc32.unwrap_or_else(|| crc32fast::hash(data));
        let size = data.len() as u32;
        let header = local_header(name, crc, size);
        self.out.write_all(&header)?;
        for chunk in data.chunks(1 << 20) {
            self.out.write_all(chunk)?;
            chunk_written(chunk.len() as u64);
        }
        self.entries
            .push((name.to_owned(), crc, size, self.offset as u32));
        self.offset = end;
        Ok(crc)
    }

    /// Writes the central directory and end record; returns the output and the total size.
    pub fn finish(mut self) -> Result<(W, u64), ArchiveError> {
        let dir = directory(&self.entries, self.offset as u32);
        if self.offset + dir.len() as u64 > MAX_ARCHIVE {
            return Err(ArchiveError::TooLarge);
        }
        self.out.write_all(&dir)?;
        self.out.flush()?;
        Ok((self.out, self.offset + dir.len() as u64))
    }
}

/// Writes `entries` as one canonical archive (tests and tools build archives with this).
pub fn write_all<W: Write>(out: W, entries: &[(String, Vec<u8>)]) -> Result<W, ArchiveError> {
    let mut zip = ZipWriter::new(out);
    for (name, data) in entries {
        zip.add(name, data, None, &mut |_| {})?;
    }
    Ok(zip.finish()?.0)
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// What [`read`] found: every entry in archive order, and the whole bytes of the entries
/// the caller asked to keep.
#[derive(Debug, Default)]
pub struct Contents {
    pub entries: Vec<EntryInfo>,
    pub kept: BTreeMap<String, Vec<u8>>,
}

/// Reads the chunk size used for streaming.
const CHUNK: usize = 1 << 20;

/// Reads a canonical archive strictly, in one pass. `keep(name, size)` says which entries to
/// hold in memory whole (the caller caps their size); the others are only hashed.
/// Anything that is not exactly the canonical form is an error naming the first difference.
pub fn read<R: Read + Seek>(
    mut input: R,
    keep: &dyn Fn(&str, u64) -> bool,
) -> Result<Contents, ArchiveError> {
    let len = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(0))?;
    if len < END_LEN as u64 {
        return Err(ArchiveError::NotZip(format!(
            "{len} bytes is shorter than the smallest ZIP"
        )));
    }
    // Buffers no larger than the file: a small case file is checked without touching
    // megabytes of memory.
    let chunk = (len as usize).min(CHUNK);
    let mut input = io::BufReader::with_capacity(chunk, input);
    let mut contents = Contents::default();
    let mut names = HashSet::new();
    let mut offset: u64 = 0;
    let mut buf = vec![0u8; chunk];
    loop {
        let mut sig = [0u8; 4];
        if len - offset < 4 {
            return Err(ArchiveError::Unexpected { offset });
        }
        input.read_exact(&mut sig)?;
        let sig = u32::from_le_bytes(sig);
        if sig == CENTRAL_SIG && !contents.entries.is_empty() {
            break;
        }
        if sig != LOCAL_SIG {
            if offset == 0 {
                return Err(ArchiveError::NotZip(
                    "it does not start with a ZIP local file header".into(),
                ));
            }
            return Err(ArchiveError::Unexpected { offset });
        }
        if contents.entries.len() >= MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries);
        }
        if len - offset < LOCAL_LEN as u64 {
            return Err(ArchiveError::DeclaredTooLarge {
                name: String::new(),
                declared: LOCAL_LEN as u64,
                available: len - offset,
            });
        }
        let mut h = [0u8; LOCAL_LEN];
        h[..4].copy_from_slice(&LOCAL_SIG.to_le_bytes());
        input.read_exact(&mut h[4..])?;
        let name_len = usize::from(le16(&h, 26));
        let extra_len = usize::from(le16(&h, 28));
        let available = len - offset - LOCAL_LEN as u64;
        if (name_len + extra_len) as u64 > available {
            return Err(ArchiveError::DeclaredTooLarge {
                name: String::new(),
                declared: (name_len + extra_len) as u64,
                available,
            });
        }
        let mut raw_name = vec![0u8; name_len];
        input.read_exact(&mut raw_name)?;
        let name = String::from_utf8(raw_name).map_err(|e| ArchiveError::BadName {
            name: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            why: "not UTF-8",
        })?;
        check_name(&name)?;
        let method = le16(&h, 8);
        if method != STORED {
            return Err(ArchiveError::Compressed { name, method });
        }
        let (compressed, uncompressed) = (le32(&h, 18), le32(&h, 22));
        if compressed != uncompressed {
            return Err(ArchiveError::SizeMismatch {
                name,
                compressed,
                uncompressed,
            });
        }
        let size = u64::from(compressed);
        let available = available - name_len as u64;
        if size + extra_len as u64 > available {
            return Err(ArchiveError::DeclaredTooLarge {
                name,
                declared: size,
                available,
            });
        }
        let declared_crc = le32(&h, 14);
        // Every header byte is re-derived from (name, CRC, size) and compared.
        let canonical = local_header(&name, declared_crc, compressed);
        for (field, at, width) in [
            ("version needed", 4, 2),
            ("flags", 6, 2),
            ("modification time", 10, 2),
            ("modification date", 12, 2),
            ("extra field length", 28, 2),
        ] {
            let (found, expected) = if width == 2 {
                (u32::from(le16(&h, at)), u32::from(le16(&canonical, at)))
            } else {
                (le32(&h, at), le32(&canonical, at))
            };
            if found != expected {
                return Err(ArchiveError::NonCanonicalField {
                    name,
                    field,
                    found,
                    expected,
                });
            }
        }
        debug_assert_eq!(&canonical[..LOCAL_LEN], &h[..]);
        if !names.insert(name.clone()) {
            return Err(ArchiveError::Duplicate { name });
        }
        let keep_whole = keep(&name, size);
        let mut whole = Vec::new();
        let mut sha = Sha256::new();
        let mut crc = crc32fast::Hasher::new();
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk as u64) as usize;
            input.read_exact(&mut buf[..n])?;
            sha.update(&buf[..n]);
            crc.update(&buf[..n]);
            if keep_whole {
                whole.extend_from_slice(&buf[..n]);
            }
            left -= n as u64;
        }
        let found = crc.finalize();
        if found != declared_crc {
            return Err(ArchiveError::Crc {
                name,
                declared: declared_crc,
                found,
            });
        }
        if keep_whole {
            contents.kept.insert(name.clone(), whole);
        }
        contents.entries.push(EntryInfo {
            name,
            offset,
            size,
            crc32: found,
            sha256: Sha256Hex::from_digest(&sha.finalize()),
        });
        offset += LOCAL_LEN as u64 + name_len as u64 + size;
    }
    // The rest of the file must be exactly the directory the writer would have written.
    let listed: Vec<(String, u32, u32, u32)> = contents
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.crc32, e.size as u32, e.offset as u32))
        .collect();
    let expected = directory(&listed, offset as u32);
    let found_len = len - offset;
    let mut rest = CENTRAL_SIG.to_le_bytes().to_vec();
    // Never read more than the canonical directory's length (plus one byte to notice a
    // longer tail): a forged length cannot make the reader allocate much.
    let want = (expected.len() as u64 + 1).min(found_len) as usize;
    rest.resize(want, 0);
    input.read_exact(&mut rest[4..])?;
    if let Some(at) = (0..expected.len()).find(|&i| rest.get(i) != expected.get(i)) {
        return Err(ArchiveError::Directory {
            offset: offset + at as u64,
            expected: expected.len() as u64,
            found: found_len,
        });
    }
    if found_len != expected.len() as u64 {
        return Err(ArchiveError::Directory {
            offset: offset + expected.len() as u64,
            expected: expected.len() as u64,
            found: found_len,
        });
    }
    Ok(contents)
}

/// Reads every entry of a canonical archive whole, in order (for tools and tests; the
/// verifier streams instead).
pub fn read_all<R: Read + Seek>(input: R) -> Result<Vec<(String, Vec<u8>)>, ArchiveError> {
    let mut contents = read(input, &|_, _| true)?;
    Ok(contents
        .entries
        .iter()
        .map(|e| {
            let data = contents.kept.remove(&e.name).unwrap_or_default();
            (e.name.clone(), data)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn sample() -> Vec<u8> {
        write_all(
            Vec::new(),
            &[
                ("a.txt".to_owned(), b"hello".to_vec()),
                ("dir/b.bin".to_owned(), vec![7u8; 3000]),
                ("empty".to_owned(), Vec::new()),
            ],
        )
        .unwrap()
    }

    #[test]
    fn round_trip_keeps_names_order_and_bytes() {
        let back = read_all(Cursor::new(sample())).unwrap();
        let names: Vec<&str> = back.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a.txt", "dir/b.bin", "empty"]);
        assert_eq!(back[0].1, b"hello");
        assert_eq!(back[1].1, vec![7u8; 3000]);
        assert!(back[2].1.is_empty());
    }

    #[test]
    fn unzip_reads_the_canonical_form() {
        // The system's Info-ZIP, if present, must accept the archive and its CRCs.
        let Ok(out) = std::process::Command::new("unzip").arg("-v").output() else {
            return;
        };
        if !out.status.success() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.zip");
        std::fs::write(&path, sample()).unwrap();
        let test = std::process::Command::new("unzip")
            .arg("-t")
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&test.stdout);
        assert!(test.status.success(), "{text}");
        assert!(text.contains("No errors detected"), "{text}");
    }

    #[test]
    fn every_single_byte_flip_is_refused_or_changes_a_digest() {
        let good = sample();
        let reference = read(Cursor::new(&good), &|_, _| false).unwrap().entries;
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            match read(Cursor::new(&bad), &|_, _| false) {
                Err(_) => {}
                Ok(c) => assert_ne!(c.entries, reference, "flip at {i} went unnoticed"),
            }
        }
    }

    #[test]
    fn names_that_could_escape_are_refused() {
        for name in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "C:\\x",
            "a\\..\\x",
            "a//b",
            "dir/",
            ".",
            "",
        ] {
            assert!(check_name(name).is_err(), "{name:?} accepted");
        }
        assert!(check_name("photos/ab.jpg").is_ok());
        assert!(check_name("documents/现场检查记录.pdf").is_ok());
    }
}
