//! Another process wrote the database: the kernel says so (inotify on the database's directory,
//! for the file and its `-wal`), so the effects thread sleeps until then instead of asking SQLite
//! four times a second. Where inotify is not available (some network filesystems) `start`
//! returns `None` and the effects thread polls as before.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

/// Wake-ups come at most this often while writes keep coming (a busy receiver writes thousands
/// of times a second; one look per burst is enough).
const COALESCE: Duration = Duration::from_millis(40);

/// Watch `db`'s directory; call `poke` after each burst of writes to `db` or its WAL. The thread
/// ends when `poke` returns false.
pub fn start(db: &Path, mut poke: impl FnMut() -> bool + Send + 'static) -> Option<()> {
    let dir = db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = db.file_name()?.to_string_lossy().into_owned();
    let wal = format!("{name}-wal");
    // SAFETY: inotify_init1 takes flags only.
    let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
    if fd < 0 {
        return None;
    }
    // SAFETY: a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let c_dir = CString::new(dir.as_os_str().as_encoded_bytes()).ok()?;
    let mask = libc::IN_MODIFY | libc::IN_CLOSE_WRITE | libc::IN_CREATE | libc::IN_MOVED_TO;
    // SAFETY: a live descriptor and a NUL-terminated path.
    if unsafe { libc::inotify_add_watch(fd.as_raw_fd(), c_dir.as_ptr(), mask) } < 0 {
        return None;
    }
    std::thread::Builder::new()
        .name("db-watch".into())
        .spawn(move || {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                // SAFETY: reading into a live buffer from our descriptor (blocking).
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n <= 0 {
                    if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                        continue;
                    }
                    return;
                }
                if !names(&buf[..n as usize]).any(|f| f == name || f == wal) {
                    continue;
                }
                if !poke() {
                    return;
                }
                std::thread::sleep(COALESCE);
            }
        })
        .ok()?;
    Some(())
}

/// The file names in a buffer of inotify events.
fn names(mut buf: &[u8]) -> impl Iterator<Item = String> + '_ {
    let header = std::mem::size_of::<libc::inotify_event>();
    std::iter::from_fn(move || {
        if buf.len() < header {
            return None;
        }
        // `len` is the last field of the header: the length of the NUL-padded name after it.
        let len = u32::from_ne_bytes(buf[header - 4..header].try_into().ok()?) as usize;
        let end = (header + len).min(buf.len());
        let raw = &buf[header..end];
        let name = String::from_utf8_lossy(raw.split(|b| *b == 0).next().unwrap_or(&[])).into_owned();
        buf = &buf[end..];
        Some(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[test]
    fn a_write_to_the_database_or_its_wal_wakes_the_watcher_and_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("sb.db");
        let (tx, rx) = mpsc::channel();
        start(&db, move || tx.send(()).is_ok()).expect("inotify");
        std::fs::write(dir.path().join("other.txt"), "x").unwrap();
        assert!(
            rx.recv_timeout(Duration::from_millis(200)).is_err(),
            "woken by another file"
        );
        std::fs::write(dir.path().join("sb.db-wal"), "x").unwrap();
        assert!(rx.recv_timeout(Duration::from_secs(2)).is_ok(), "not woken by the WAL");
    }
}
