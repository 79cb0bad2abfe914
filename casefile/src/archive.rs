//! The case file's container: a ZIP archive in one canonical form, written and read by hand.
//!
//! Every entry is STORED (photos are JPEG, video and audio are compressed by their codecs and
//! PDFs are compressed already, so deflate would only cost time, and a stored entry cannot be
//! a decompression bomb), with fixed timestamps, no comments, no data descriptors, and no
//! extra field except ZIP64's where a value needs it. Any ZIP tool opens it; and because every
//! header byte is a function of the entries' names, sizes, CRC-32s and order, the reader can
//! re-derive each header and refuse anything that is not exactly what the writer would have
//! produced. That is what makes a flipped byte in a timestamp, a "version made by" field or
//! the central directory detectable: content hashes alone cover only the content.
//!
//! **ZIP64** (APPNOTE 4.3.9, 4.4, 4.5.3), in one canonical form too: a value that does not fit
//! 32 bits (at or above [`ZIP64_AT`], 0xFFFF_FFFF, which is itself the ZIP64 marker) is
//! written as 0xFFFF_FFFF and carried in a ZIP64 extra field (id 1): in a local header both
//! sizes (an entry of 4 GiB or more); in a central directory entry, in the order the format
//! gives, the sizes if the entry is that large and the local header's offset if it starts
//! at 4 GiB or later. A header with that extra field says version 4.5 (needed and made by),
//! every other one 2.0. When the central directory's offset or size does not fit, the ZIP64
//! end of central directory record and its locator come before the end record, whose
//! overflowing fields hold 0xFFFF_FFFF. A case file under 4 GiB is therefore byte for byte what
//! it was before ZIP64 existed here. Tests can lower the threshold
//! ([`ZipWriter::with_zip64_at`], [`read_with_zip64_at`]) to exercise these paths with small files.
//!
//! The reader streams: it reads each byte of the file once, hashing entry data (SHA-256 and
//! CRC-32) as it passes, and never writes anything anywhere. The writer streams too: an entry
//! can come from a reader ([`ZipWriter::add_reader`]), copied through a fixed buffer and
//! hashed on the way, so a video of several GB never sits in memory.

use app_core::evidence::Sha256Hex;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::{self, Read, Seek, SeekFrom, Write};

const LOCAL_SIG: u32 = 0x0403_4b50;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const END_SIG: u32 = 0x0605_4b50;
const END64_SIG: u32 = 0x0606_4b50;
const LOCATOR64_SIG: u32 = 0x0706_4b50;
/// "Version needed" and "version made by": 2.0, MS-DOS attributes (none set).
const VERSION: u16 = 20;
/// The same for a header with a ZIP64 extra field, and the ZIP64 end record: 4.5.
const VERSION64: u16 = 45;
/// The ZIP64 extended information extra field's id.
const ZIP64_EXTRA: u16 = 0x0001;
/// A 32-bit field whose value is in the ZIP64 extra field or end record.
const MARK32: u32 = 0xFFFF_FFFF;
/// Length of the ZIP64 end of central directory record.
const END64_LEN: usize = 56;
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
/// Sizes and offsets from this value on are written in ZIP64 form (0xFFFF_FFFF itself is
/// the marker that says "see the ZIP64 field", so it cannot stand for itself).
pub const ZIP64_AT: u64 = MARK32 as u64;

/// Read and copy size for streamed entries.
const COPY_CHUNK: usize = 1 << 20;

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
        compressed: u64,
        uncompressed: u64,
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
    #[error(
        "entry {name:?}: its source gave {found} bytes where {declared} were announced (the file changed while it was copied)"
    )]
    SourceLength {
        name: String,
        declared: u64,
        found: u64,
    },
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

fn put64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// A 32-bit field for `v`: the value, or the ZIP64 marker when `v` is at or past `at`.
fn field32(v: u64, at: u64) -> u32 {
    if v >= at { MARK32 } else { v as u32 }
}

/// The canonical local file header of an entry (sizes from `at` on in ZIP64 form).
fn local_header(name: &str, crc32: u32, size: u64, at: u64) -> Vec<u8> {
    let big = size >= at;
    let mut h = Vec::with_capacity(LOCAL_LEN + name.len() + 20);
    put32(&mut h, LOCAL_SIG);
    put16(&mut h, if big { VERSION64 } else { VERSION });
    put16(&mut h, FLAGS);
    put16(&mut h, STORED);
    put16(&mut h, DOS_TIME);
    put16(&mut h, DOS_DATE);
    put32(&mut h, crc32);
    put32(&mut h, field32(size, at));
    put32(&mut h, field32(size, at));
    put16(&mut h, name.len() as u16);
    put16(&mut h, if big { 20 } else { 0 });
    h.extend_from_slice(name.as_bytes());
    if big {
        put16(&mut h, ZIP64_EXTRA);
        put16(&mut h, 16);
        put64(&mut h, size);
        put64(&mut h, size);
    }
    h
}

/// One entry as the central directory lists it.
#[derive(Debug, Clone)]
struct Listed {
    name: String,
    crc32: u32,
    size: u64,
    offset: u64,
}

/// The canonical central directory and end record(s) for `entries` written from offset
/// `cd_offset` on.
fn directory(entries: &[Listed], cd_offset: u64, at: u64) -> Vec<u8> {
    let mut d = Vec::new();
    for e in entries {
        let (big_size, big_offset) = (e.size >= at, e.offset >= at);
        let mut extra = Vec::new();
        if big_size {
            put64(&mut extra, e.size);
            put64(&mut extra, e.size);
        }
        if big_offset {
            put64(&mut extra, e.offset);
        }
        let version = if extra.is_empty() { VERSION } else { VERSION64 };
        put32(&mut d, CENTRAL_SIG);
        put16(&mut d, version);
        put16(&mut d, version);
        put16(&mut d, FLAGS);
        put16(&mut d, STORED);
        put16(&mut d, DOS_TIME);
        put16(&mut d, DOS_DATE);
        put32(&mut d, e.crc32);
        put32(&mut d, field32(e.size, at));
        put32(&mut d, field32(e.size, at));
        put16(&mut d, e.name.len() as u16);
        put16(
            &mut d,
            if extra.is_empty() {
                0
            } else {
                4 + extra.len() as u16
            },
        ); // extra
        put16(&mut d, 0); // comment
        put16(&mut d, 0); // disk
        put16(&mut d, 0); // internal attributes
        put32(&mut d, 0); // external attributes
        put32(&mut d, field32(e.offset, at));
        d.extend_from_slice(e.name.as_bytes());
        if !extra.is_empty() {
            put16(&mut d, ZIP64_EXTRA);
            put16(&mut d, extra.len() as u16);
            d.extend_from_slice(&extra);
        }
    }
    let cd_len = d.len() as u64;
    let count = entries.len() as u64;
    if cd_offset >= at || cd_len >= at {
        // ZIP64 end of central directory record, then its locator.
        let end64_at = cd_offset + cd_len;
        put32(&mut d, END64_SIG);
        put64(&mut d, (END64_LEN - 12) as u64);
        put16(&mut d, VERSION64);
        put16(&mut d, VERSION64);
        put32(&mut d, 0); // this disk
        put32(&mut d, 0); // the directory's disk
        put64(&mut d, count);
        put64(&mut d, count);
        put64(&mut d, cd_len);
        put64(&mut d, cd_offset);
        put32(&mut d, LOCATOR64_SIG);
        put32(&mut d, 0); // the ZIP64 end record's disk
        put64(&mut d, end64_at);
        put32(&mut d, 1); // disks
    }
    put32(&mut d, END_SIG);
    put16(&mut d, 0);
    put16(&mut d, 0);
    put16(&mut d, count as u16);
    put16(&mut d, count as u16);
    put32(&mut d, field32(cd_len, at));
    put32(&mut d, field32(cd_offset, at));
    put16(&mut d, 0);
    d
}

/// Writes a canonical archive entry by entry. Each entry's CRC-32 goes in its header before
/// the data (there are no data descriptors): [`add`](Self::add) computes it from the bytes,
/// [`add_reader`](Self::add_reader) takes it from the caller and checks it while copying.
#[derive(Debug)]
pub struct ZipWriter<W: Write> {
    out: W,
    offset: u64,
    entries: Vec<Listed>,
    names: HashSet<String>,
    zip64_at: u64,
}

impl<W: Write> ZipWriter<W> {
    pub fn new(out: W) -> Self {
        Self::with_zip64_at(out, ZIP64_AT)
    }

    /// A writer that uses the ZIP64 form from `at` on instead of [`ZIP64_AT`]: for tests of
    /// the ZIP64 paths with small files. The archive is canonical only for a reader given the
    /// same threshold ([`read_with_zip64_at`]); the verifier uses [`ZIP64_AT`].
    pub fn with_zip64_at(out: W, at: u64) -> Self {
        Self {
            out,
            offset: 0,
            entries: Vec::new(),
            names: HashSet::new(),
            zip64_at: at.clamp(1, ZIP64_AT),
        }
    }

    /// Bytes written so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Checks a new entry's name and writes its header.
    fn begin(&mut self, name: &str, crc: u32, size: u64) -> Result<(), ArchiveError> {
        check_name(name)?;
        if self.names.contains(name) {
            return Err(ArchiveError::Duplicate {
                name: name.to_owned(),
            });
        }
        if self.entries.len() >= MAX_ENTRIES {
            return Err(ArchiveError::TooManyEntries);
        }
        self.names.insert(name.to_owned());
        let header = local_header(name, crc, size, self.zip64_at);
        self.out.write_all(&header)?;
        self.entries.push(Listed {
            name: name.to_owned(),
            crc32: crc,
            size,
            offset: self.offset,
        });
        self.offset += header.len() as u64;
        Ok(())
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
        let crc = crc32.unwrap_or_else(|| crc32fast::hash(data));
        self.begin(name, crc, data.len() as u64)?;
        for chunk in data.chunks(COPY_CHUNK) {
            self.out.write_all(chunk)?;
            chunk_written(chunk.len() as u64);
        }
        self.offset += data.len() as u64;
        Ok(crc)
    }

    /// Adds one entry of `size` bytes copied from `source` through a fixed buffer (the entry
    /// is never held in memory), hashing it on the way. `crc32` is the CRC-32 the caller
    /// computed beforehand (it goes in the header before the data); if the bytes copied do
    /// not have it, or `source` gives more or fewer than `size` bytes, the error says so and
    /// the archive written so far must be discarded. Returns the SHA-256 of the bytes copied.
    pub fn add_reader(
        &mut self,
        name: &str,
        size: u64,
        crc32: u32,
        source: &mut dyn Read,
        chunk_written: &mut dyn FnMut(u64),
    ) -> Result<Sha256Hex, ArchiveError> {
        self.begin(name, crc32, size)?;
        let mut buf = vec![0u8; COPY_CHUNK];
        let mut sha = Sha256::new();
        let mut crc = crc32fast::Hasher::new();
        let mut left = size;
        let short = |found| ArchiveError::SourceLength {
            name: name.to_owned(),
            declared: size,
            found,
        };
        while left > 0 {
            let want = left.min(COPY_CHUNK as u64) as usize;
            let n = match source.read(&mut buf[..want]) {
                Ok(0) => return Err(short(size - left)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            };
            sha.update(&buf[..n]);
            crc.update(&buf[..n]);
            self.out.write_all(&buf[..n])?;
            self.offset += n as u64;
            left -= n as u64;
            chunk_written(n as u64);
        }
        // One byte more would mean the source grew since its size was taken.
        let mut probe = [0u8; 1];
        loop {
            match source.read(&mut probe) {
                Ok(0) => break,
                Ok(_) => return Err(short(size + 1)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        let found = crc.finalize();
        if found != crc32 {
            return Err(ArchiveError::Crc {
                name: name.to_owned(),
                declared: crc32,
                found,
            });
        }
        Ok(Sha256Hex::from_digest(&sha.finalize()))
    }

    /// Writes the central directory and end record; returns the output and the total size.
    pub fn finish(mut self) -> Result<(W, u64), ArchiveError> {
        let dir = directory(&self.entries, self.offset, self.zip64_at);
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

fn le64(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(v)
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
    input: R,
    keep: &dyn Fn(&str, u64) -> bool,
) -> Result<Contents, ArchiveError> {
    read_with_zip64_at(input, keep, ZIP64_AT)
}

/// [`read`] for an archive written with another ZIP64 threshold
/// ([`ZipWriter::with_zip64_at`]; tests only).
pub fn read_with_zip64_at<R: Read + Seek>(
    mut input: R,
    keep: &dyn Fn(&str, u64) -> bool,
    at: u64,
) -> Result<Contents, ArchiveError> {
    let at = at.clamp(1, ZIP64_AT);
    let len = input.seek(SeekFrom::End(0))?;
    input.seek(SeekFrom::Start(0))?;
    if len < END_LEN as u64 {
        return Err(ArchiveError::NotZip(format!(
            "{len} bytes is shorter than the smallest ZIP"
        )));
    }
    // Buffers no larger than the file: a small case file is checked without touching
    // megabytes of memory.
    let chunk = (len.min(CHUNK as u64)) as usize;
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
        // At most 64 KiB, bounded by the 16-bit length; the canonical form has 0 or 20.
        let mut extra = vec![0u8; extra_len];
        input.read_exact(&mut extra)?;
        let (c32, u32_) = (le32(&h, 18), le32(&h, 22));
        let (compressed, uncompressed) = if c32 == MARK32
            && u32_ == MARK32
            && extra_len == 20
            && le16(&extra, 0) == ZIP64_EXTRA
            && le16(&extra, 2) == 16
        {
            (le64(&extra, 12), le64(&extra, 4))
        } else {
            (u64::from(c32), u64::from(u32_))
        };
        if compressed != uncompressed {
            return Err(ArchiveError::SizeMismatch {
                name,
                compressed,
                uncompressed,
            });
        }
        let size = compressed;
        let available = available - name_len as u64 - extra_len as u64;
        if size > available {
            return Err(ArchiveError::DeclaredTooLarge {
                name,
                declared: size,
                available,
            });
        }
        let declared_crc = le32(&h, 14);
        // Every header byte is re-derived from (name, CRC, size) and compared.
        let canonical = local_header(&name, declared_crc, size, at);
        for (field, pos, width) in [
            ("version needed", 4, 2),
            ("flags", 6, 2),
            ("modification time", 10, 2),
            ("modification date", 12, 2),
            ("compressed size", 18, 4),
            ("uncompressed size", 22, 4),
            ("extra field length", 28, 2),
        ] {
            let (found, expected) = if width == 2 {
                (u32::from(le16(&h, pos)), u32::from(le16(&canonical, pos)))
            } else {
                (le32(&h, pos), le32(&canonical, pos))
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
        if extra[..] != canonical[LOCAL_LEN + name_len..] {
            return Err(ArchiveError::NonCanonicalField {
                name,
                field: "ZIP64 extra field",
                found: extra_len as u32,
                expected: (canonical.len() - LOCAL_LEN - name_len) as u32,
            });
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
        offset += canonical.len() as u64 + size;
    }
    // The rest of the file must be exactly the directory the writer would have written.
    let listed: Vec<Listed> = contents
        .entries
        .iter()
        .map(|e| Listed {
            name: e.name.clone(),
            crc32: e.crc32,
            size: e.size,
            offset: e.offset,
        })
        .collect();
    let expected = directory(&listed, offset, at);
    let found_len = len - offset;
    let mut rest = CENTRAL_SIG.to_le_bytes().to_vec();
    // Never read more than the canonical directory's length (plus one byte to notice a
    // longer tail): a forged length cannot make the reader allocate much.
    let want = (expected.len() as u64 + 1).min(found_len) as usize;
    rest.resize(want, 0);
    input.read_exact(&mut rest[4..])?;
    if let Some(pos) = (0..expected.len()).find(|&i| rest.get(i) != expected.get(i)) {
        return Err(ArchiveError::Directory {
            offset: offset + pos as u64,
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

    /// `unzip -t` of `archive` by the system's Info-ZIP: its report, after checking that it
    /// accepts the archive and its CRCs; `None` when no `unzip` is installed.
    fn unzip_test(archive: &[u8]) -> Option<String> {
        let out = std::process::Command::new("unzip")
            .arg("-v")
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.zip");
        std::fs::write(&path, archive).unwrap();
        let test = std::process::Command::new("unzip")
            .arg("-t")
            .arg(&path)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&test.stdout).into_owned();
        assert!(test.status.success(), "{text}");
        assert!(text.contains("No errors detected"), "{text}");
        Some(text)
    }

    #[test]
    fn unzip_reads_the_canonical_form() {
        unzip_test(&sample());
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

    /// The sample with the ZIP64 threshold lowered to 100 bytes: the 3000-byte entry gets
    /// ZIP64 sizes, every entry from offset 100 on a ZIP64 offset, and the directory (which
    /// starts past 100) the ZIP64 end record and locator.
    fn sample64() -> Vec<u8> {
        let mut zip = ZipWriter::with_zip64_at(Vec::new(), 100);
        zip.add("a.txt", b"hello", None, &mut |_| {}).unwrap();
        let big = vec![7u8; 3000];
        let crc = crc32fast::hash(&big);
        let sha = zip
            .add_reader("dir/b.bin", 3000, crc, &mut &big[..], &mut |_| {})
            .unwrap();
        assert_eq!(sha, Sha256Hex::of(&big));
        zip.add("empty", b"", None, &mut |_| {}).unwrap();
        zip.add("tail.txt", b"after the big one", None, &mut |_| {})
            .unwrap();
        zip.finish().unwrap().0
    }

    #[test]
    fn zip64_form_round_trips_with_a_lowered_threshold() {
        let bytes = sample64();
        // The ZIP64 end record and its locator are there, before the end record.
        let end64 = END64_SIG.to_le_bytes();
        assert!(bytes.windows(4).any(|w| w == end64));
        let contents = read_with_zip64_at(Cursor::new(&bytes), &|_, _| true, 100).unwrap();
        let names: Vec<&str> = contents.entries.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["a.txt", "dir/b.bin", "empty", "tail.txt"]);
        assert_eq!(contents.kept["dir/b.bin"], vec![7u8; 3000]);
        assert_eq!(contents.entries[1].size, 3000);
        assert_eq!(contents.kept["tail.txt"], b"after the big one");
        // Under the real threshold the same bytes are not canonical.
        assert!(read(Cursor::new(&bytes), &|_, _| false).is_err());
        // And with the real threshold nothing of ZIP64 is written for small files.
        assert!(!sample().windows(4).any(|w| w == end64));
    }

    #[test]
    fn every_single_byte_flip_in_the_zip64_form_is_refused_or_changes_a_digest() {
        let good = sample64();
        let reference = read_with_zip64_at(Cursor::new(&good), &|_, _| false, 100)
            .unwrap()
            .entries;
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x01;
            match read_with_zip64_at(Cursor::new(&bad), &|_, _| false, 100) {
                Err(_) => {}
                Ok(c) => assert_ne!(c.entries, reference, "flip at {i} went unnoticed"),
            }
        }
    }

    #[test]
    fn unzip_reads_the_zip64_form() {
        if let Some(text) = unzip_test(&sample64()) {
            assert!(text.contains("dir/b.bin"), "{text}");
        }
    }

    #[test]
    fn a_streamed_entry_must_match_its_crc_and_length() {
        let data = vec![3u8; 5000];
        let crc = crc32fast::hash(&data);
        let mut zip = ZipWriter::new(Vec::new());
        let err = zip
            .add_reader("x", 5000, crc ^ 1, &mut &data[..], &mut |_| {})
            .unwrap_err();
        assert!(matches!(err, ArchiveError::Crc { .. }), "{err}");
        let mut zip = ZipWriter::new(Vec::new());
        let err = zip
            .add_reader("x", 6000, crc, &mut &data[..], &mut |_| {})
            .unwrap_err();
        assert!(
            matches!(err, ArchiveError::SourceLength { found: 5000, .. }),
            "{err}"
        );
        let mut zip = ZipWriter::new(Vec::new());
        let err = zip
            .add_reader("x", 4000, crc, &mut &data[..], &mut |_| {})
            .unwrap_err();
        assert!(
            matches!(err, ArchiveError::SourceLength { found: 4001, .. }),
            "{err}"
        );
        // A streamed entry is byte for byte what `add` writes.
        let mut a = ZipWriter::new(Vec::new());
        a.add("x", &data, None, &mut |_| {}).unwrap();
        let mut b = ZipWriter::new(Vec::new());
        b.add_reader("x", 5000, crc, &mut &data[..], &mut |_| {})
            .unwrap();
        assert_eq!(a.finish().unwrap().0, b.finish().unwrap().0);
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
