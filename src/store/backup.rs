//! `switchboard backup PATH`: a copy of the database as it stood at one moment, taken while the
//! receiver and the inbox keep writing. SQLite's online backup copies every page in one step, under
//! one read transaction: in WAL mode a reader sees one snapshot and never holds up the writer (a
//! backup in several steps would start over each time another connection wrote).

use super::Store;
use anyhow::{Context, Result, bail};
use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Serialize)]
pub struct BackupReport {
    pub path: String,
    /// Events in the copy (every one stored before the backup began is there).
    pub events: i64,
    pub bytes: u64,
    pub seconds: f64,
    /// `PRAGMA quick_check` of the copy: "ok" (a copy that fails it is not kept).
    pub check: String,
}

impl Store {
    /// Copy the database to `path`, which must not exist. The copy is written beside it, checked,
    /// synced and then renamed into place, so `path` is only ever a whole backup; it is made 0600
    /// (it holds customer messages).
    pub fn backup_to(&self, path: &Path) -> Result<BackupReport> {
        let started = Instant::now();
        if path.exists() {
            bail!(
                "{} exists: a backup never overwrites; choose a new name",
                path.display()
            );
        }
        let name = path
            .file_name()
            .context("the backup needs a file name")?
            .to_string_lossy()
            .into_owned();
        let partial = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
        let _ = std::fs::remove_file(&partial);
        super::create_private(&partial)?;
        let copied = (|| -> Result<(i64, String)> {
            let mut copy =
                Connection::open(&partial).with_context(|| format!("cannot write the backup {}", partial.display()))?;
            {
                let backup = Backup::new(&self.conn, &mut copy)?;
                // All pages in one step: one snapshot of the source (see the module comment).
                loop {
                    match backup.step(-1)? {
                        StepResult::Done => break,
                        StepResult::More => {}
                        // A writer checkpointing at that instant; the next step takes a new snapshot.
                        StepResult::Busy | StepResult::Locked => {
                            std::thread::sleep(std::time::Duration::from_millis(5))
                        }
                        _ => {}
                    }
                }
            }
            let check: String = copy.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
            let events: i64 = copy.query_row("SELECT count(*) FROM events", [], |r| r.get(0))?;
            // Out of WAL mode, so the backup is one self-contained file.
            copy.pragma_update(None, "journal_mode", "delete")?;
            copy.close().map_err(|(_, e)| e)?;
            Ok((events, check))
        })();
        let (events, check) = match copied {
            Ok((_, check)) if check != "ok" => {
                let _ = std::fs::remove_file(&partial);
                bail!(
                    "the copy fails SQLite's quick_check ({}): the database itself may be damaged; nothing was written to {}",
                    crate::sanitize::line(&check),
                    path.display()
                );
            }
            Ok(c) => c,
            Err(e) => {
                let _ = std::fs::remove_file(&partial);
                return Err(e);
            }
        };
        std::fs::File::open(&partial)?.sync_all()?;
        std::fs::rename(&partial, path).with_context(|| format!("cannot move the backup into {}", path.display()))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(BackupReport {
            path: path.display().to_string(),
            events,
            bytes: std::fs::metadata(path)?.len(),
            seconds: started.elapsed().as_secs_f64(),
            check,
        })
    }
}
