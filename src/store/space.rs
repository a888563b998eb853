//! A nearly full disk, said plainly and met before it hurts. SQLite maps its `-shm` file and grows
//! it sparsely, writing one byte per memory page; on a filesystem with 1 KiB blocks the rest of each
//! page has no block behind it, and the first store into it kills the process with SIGBUS. So the
//! writers check the free space when they open the database, the shared-memory file is given real
//! blocks (`fallocate`) up front, and "disk I/O error (code 4874)" is told as "disk full".

use anyhow::{Result, bail};
use std::os::fd::AsRawFd;
use std::path::Path;

/// Below this much free space a writer refuses to start: a WAL and its index need room to grow.
pub const MIN_FREE_BYTES: u64 = 1024 * 1024;
/// The shared-memory file is given this many bytes of real blocks (eight 32 KiB regions: a WAL of
/// ~32,000 pages before SQLite grows it further).
const SHM_BYTES: i64 = 8 * 32 * 1024;

/// Bytes free for this user on the filesystem holding `path` (or its directory).
pub fn free_bytes(path: &Path) -> Option<u64> {
    let dir = if path.is_dir() {
        path
    } else {
        path.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs fills a zeroed struct from a NUL-terminated path.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statvfs(c.as_ptr(), &mut st) } != 0 {
        return None;
    }
    Some(st.f_bavail as u64 * st.f_frsize as u64)
}

/// Refuse to write where the disk is (nearly) full, in words.
pub fn ensure_room(path: &Path) -> Result<()> {
    if let Some(free) = free_bytes(path)
        && free < MIN_FREE_BYTES
    {
        bail!(
            "disk full: only {} KiB free where {} lives; free some space (at least {} KiB) and try again",
            free / 1024,
            path.display(),
            MIN_FREE_BYTES / 1024
        );
    }
    Ok(())
}

/// Give the database's `-shm` file real blocks, so SQLite's memory map of it never meets a hole.
///
/// The descriptor is kept open for the life of the process: closing any descriptor of a file
/// drops every POSIX lock this process holds on it, SQLite's included (other processes would then
/// take the shared memory for abandoned and reset it under us).
pub fn allocate_shared_memory(db: &Path) -> Result<()> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static KEPT: OnceLock<Mutex<HashMap<std::path::PathBuf, std::fs::File>>> = OnceLock::new();
    let mut name = db.as_os_str().to_owned();
    name.push("-shm");
    let name = std::path::PathBuf::from(name);
    let mut kept = KEPT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if !kept.contains_key(&name) {
        let Ok(file) = std::fs::OpenOptions::new().read(true).write(true).open(&name) else {
            return Ok(()); // not in WAL mode yet, or not ours to touch
        };
        kept.insert(name.clone(), file);
    }
    let file = &kept[&name];
    // SAFETY: fallocate on our own descriptor; mode 0 allocates and extends.
    let r = unsafe { libc::fallocate(file.as_raw_fd(), 0, 0, SHM_BYTES) };
    if r != 0 {
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ENOSPC) => bail!("disk full: no room for the database's shared memory ({})", db.display()),
            // Filesystems without fallocate (some network ones) keep SQLite's own behaviour.
            _ => return Ok(()),
        }
    }
    Ok(())
}

/// An error in words a person understands, when it is the disk that is full: SQLite's "database
/// or disk is full", ENOSPC, or an I/O error while the disk holding `db` has no room left.
pub fn explain(e: &anyhow::Error, db: Option<&Path>) -> Option<String> {
    let code =
        |c: &(dyn std::error::Error + 'static)| c.downcast_ref::<rusqlite::Error>().and_then(|r| r.sqlite_error_code());
    let surely = e.chain().any(|c| {
        code(c) == Some(rusqlite::ErrorCode::DiskFull)
            || c.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.raw_os_error() == Some(libc::ENOSPC))
    });
    let io = e.chain().any(|c| code(c) == Some(rusqlite::ErrorCode::SystemIoFailure));
    let free = db.and_then(free_bytes);
    let low = free.is_some_and(|f| f < MIN_FREE_BYTES);
    if !(surely || (io && low)) || e.to_string().starts_with("disk full") {
        return None;
    }
    Some(match (free, db) {
        (Some(f), Some(d)) => format!("disk full: only {} KiB free where {} lives", f / 1024, d.display()),
        _ => "disk full".to_string(),
    })
}
