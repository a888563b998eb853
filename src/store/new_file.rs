//! A database made whole before anyone sees it. An import into a database that does not exist yet
//! builds the file beside its place (`DB.importing`), with no journal and no syncs, then syncs it and
//! links it into place in one step. A WAL would write every page twice (once to the log, once at its
//! checkpoint) to protect a file that holds nothing yet: a first import of 200,000 events took 7.1 s
//! that way and 5.2 s this way. A crash or an error leaves no database at all, never half of one;
//! the events are still in the files being imported.

use super::{Journal, Store};
use anyhow::{Context, Result, bail};
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

pub struct NewFile {
    /// Taken (closed) before the lock is let go: closing a descriptor of the file would drop the
    /// POSIX locks SQLite holds on it.
    store: Option<Store>,
    /// An exclusive `flock` on the file being built: a second import of the same new database waits
    /// its turn instead of building over it.
    lock: File,
    building: PathBuf,
    db: PathBuf,
    published: bool,
}

impl NewFile {
    /// Start building `db`, which does not exist yet.
    pub fn start(db: &Path) -> Result<NewFile> {
        let building = building_path(db);
        super::create_private(&building)?;
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&building)
            .with_context(|| format!("cannot create {}", building.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => bail!(
                "another `switchboard import` is making {} ({} is being written); let it finish, then import again",
                db.display(),
                building.display()
            ),
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", building.display()));
            }
        }
        // Whatever an import that crashed left here is not a database anyone relies on.
        lock.set_len(0)
            .with_context(|| format!("cannot empty {}", building.display()))?;
        let mut made = NewFile {
            store: None,
            lock,
            building,
            db: db.to_path_buf(),
            published: false,
        };
        made.store = Some(Store::open_as(&made.building, Journal::Unshared)?);
        Ok(made)
    }

    pub fn store(&mut self) -> &mut Store {
        self.store.as_mut().expect("a NewFile holds its store until published")
    }

    /// Sync the file and put it in place, unless a database appeared there meanwhile. Returns the
    /// database opened as usual (WAL from here on).
    pub fn publish(mut self) -> Result<Store> {
        drop(self.store.take());
        self.lock
            .sync_all()
            .with_context(|| format!("cannot write {}", self.building.display()))?;
        // A link, not a rename: it never replaces a database another process made meanwhile.
        match std::fs::hard_link(&self.building, &self.db) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
                "{} was created by another process during the import, so nothing was imported into it; import again",
                self.db.display()
            ),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot put the new database at {}", self.db.display()));
            }
        }
        self.published = true;
        let _ = std::fs::remove_file(&self.building);
        sync_directory(&self.db)?;
        Store::open(&self.db)
    }

    /// Say what a failed build means for the user: on a full disk, how far it got. The partial
    /// file goes when `self` is dropped.
    pub fn failed(&self, e: anyhow::Error) -> anyhow::Error {
        if super::space::explain(&e, Some(&self.db)).is_none() {
            return e;
        }
        let written = std::fs::metadata(&self.building).map_or(0, |m| m.len());
        anyhow::anyhow!(
            "disk full: the new database {} did not fit ({} MiB written when the disk filled); nothing was imported, and the partial file is removed",
            self.db.display(),
            written >> 20
        )
    }

    /// Remove what an import that crashed left beside `db`, unless an import is writing it now
    /// (`Store::open` does this for every database it opens).
    pub fn remove_stale(db: &Path) {
        let building = building_path(db);
        if let Ok(file) = File::open(&building)
            && file.try_lock().is_ok()
        {
            let _ = std::fs::remove_file(&building);
        }
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        drop(self.store.take());
        if !self.published {
            let _ = std::fs::remove_file(&self.building);
        }
    }
}

fn building_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(".importing");
    PathBuf::from(name)
}

/// Make the new directory entry durable: a crash right after publishing must not lose the file.
fn sync_directory(db: &Path) -> Result<()> {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync the directory {}", dir.display()))
}
