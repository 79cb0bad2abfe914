//! The tablet: the local SQLite store, photo ingest, the sync client and the Tauri v2 shell.
//! It is filled by the tablet-storage issue; until then it holds nothing.
