//! Writing a case file to disk, the one way the tablet and the server do it: under
//! `<path>.partial` first, hashed while written, synced, renamed to `path`, the folder synced;
//! on any failure (or a panic) the partial file is removed, so `path` never holds a partial
//! case file and a failed export leaves nothing behind.

use crate::case::{CaseExportInput, export_case};
use crate::export::{ExportError, ExportInput, ExportSummary, Progress, export};
use app_core::evidence::Sha256Hex;
use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A case file written by [`export_file`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenFile {
    pub summary: ExportSummary,
    /// SHA-256 of the whole file, computed while it was written (to compare a copy with).
    pub sha256: Sha256Hex,
}

/// Why [`export_file`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Export(#[from] Box<ExportError>),
    #[error("could not write the case file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The temporary name a case file is written under before it is complete.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut temp = path.as_os_str().to_owned();
    temp.push(".partial");
    PathBuf::from(temp)
}

/// Removes the temporary file unless the export got as far as renaming it: also when the
/// export panics.
struct TempFile<'a>(&'a Path, bool);

impl Drop for TempFile<'_> {
    fn drop(&mut self) {
        if !self.1 {
            let _ = fs::remove_file(self.0);
        }
    }
}

/// Passes the bytes on and hashes them on the way.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// [`export`]s `input` to a file at `path` (see the module's documentation).
pub fn export_file(
    input: &ExportInput<'_>,
    path: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<WrittenFile, FileError> {
    write_file(path, |out| export(input, out, progress))
}

/// [`export_case`]s a penalty case's file to a file at `path`, the same way as
/// [`export_file`].
pub fn export_case_file(
    input: &CaseExportInput<'_>,
    path: &Path,
    progress: &mut dyn FnMut(Progress),
) -> Result<WrittenFile, FileError> {
    write_file(path, |out| export_case(input, out, progress))
}

/// Writes what `write` writes to `path` through its temporary name (see the module's
/// documentation).
fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<ExportSummary, ExportError>,
) -> Result<WrittenFile, FileError> {
    let io = |source| FileError::Io {
        path: path.to_owned(),
        source,
    };
    let temp = partial_path(path);
    let file = File::create(&temp).map_err(io)?;
    let mut guard = TempFile(&temp, false);
    let mut out = HashingWriter {
        inner: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha256::new(),
    };
    let summary = write(&mut out).map_err(Box::new)?;
    let sha256 = Sha256Hex::from_digest(&out.hasher.finalize());
    let file = out.inner.into_inner().map_err(|e| io(e.into_error()))?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&temp, path).map_err(io)?;
    guard.1 = true;
    // The new name is durable once the folder is synced. Best effort: the file is complete
    // under its name either way, so this is not reported as a failed export.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(WrittenFile { summary, sha256 })
}
