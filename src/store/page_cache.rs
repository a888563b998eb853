//! SQLite's own page cache, without one cost it pays at every commit of a database under 1 GiB.
//!
//! When a b-tree rebalance puts its new pages in order (`balance_nonroot`), SQLite parks one page
//! for a moment under a spare number: the lock-byte page, 1 GiB into the file (page 262,145 at
//! 4 KiB). The default cache remembers that number as the highest it ever held. Each commit then
//! drops cached pages past the end of the database, and with a remembered highest page so far past
//! the end it scans every slot of its hash table to find them: 16,384 slots for the receiver's
//! 64 MiB cache, at every commit that followed a rebalance. With wrk posting signed deliveries as
//! fast as they were answered, that scan was 9 % of the receiver's writer thread.
//!
//! This wrapper keeps SQLite's cache and every method of it, and only remembers the highest page
//! number it holds for real (not the parked one). A commit's truncation past that number has
//! nothing to drop and is skipped; any other is passed through unchanged.

use rusqlite::ffi;
use std::ffi::{c_int, c_uint};
use std::sync::OnceLock;

/// SQLite's default page cache methods, as they were before ours were installed.
struct DefaultMethods(ffi::sqlite3_pcache_methods2);
// SAFETY: the methods table is written once, before SQLite starts, and only read after.
unsafe impl Sync for DefaultMethods {}
unsafe impl Send for DefaultMethods {}

static DEFAULT: OnceLock<Option<DefaultMethods>> = OnceLock::new();

/// How many truncations were skipped (tests check the wrapper is in use).
#[cfg(test)]
pub(super) static SKIPPED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// One cache: SQLite's, the highest page number it holds for real, and the number a rebalance
/// parks pages under for a moment (the lock-byte page, never used for data).
struct Cache {
    inner: *mut ffi::sqlite3_pcache,
    highest: c_uint,
    parking: c_uint,
}

/// Install the wrapper. It must come before SQLite starts (the first connection); called later it
/// changes nothing and SQLite's cache is used as it is.
pub(super) fn install() {
    DEFAULT.get_or_init(|| {
        let mut default = std::mem::MaybeUninit::<ffi::sqlite3_pcache_methods2>::zeroed();
        // SAFETY: GETPCACHE2 fills the struct; PCACHE2 copies ours. Both are refused with
        // SQLITE_MISUSE once SQLite is initialized, and nothing is changed then.
        unsafe {
            if ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETPCACHE2, default.as_mut_ptr()) != ffi::SQLITE_OK {
                return None;
            }
            let default = default.assume_init();
            let ours = ffi::sqlite3_pcache_methods2 {
                iVersion: 1,
                pArg: default.pArg,
                xInit: default.xInit,
                xShutdown: default.xShutdown,
                xCreate: Some(create),
                xCachesize: Some(cachesize),
                xPagecount: Some(pagecount),
                xFetch: Some(fetch),
                xUnpin: Some(unpin),
                xRekey: Some(rekey),
                xTruncate: Some(truncate),
                xDestroy: Some(destroy),
                xShrink: Some(shrink),
            };
            if ffi::sqlite3_config(ffi::SQLITE_CONFIG_PCACHE2, &ours as *const ffi::sqlite3_pcache_methods2)
                != ffi::SQLITE_OK
            {
                return None;
            }
            Some(DefaultMethods(default))
        }
    });
}

/// Whether the wrapper is SQLite's page cache in this process.
#[cfg(test)]
pub(super) fn installed() -> bool {
    DEFAULT.get().is_some_and(Option::is_some)
}

fn methods() -> &'static ffi::sqlite3_pcache_methods2 {
    match DEFAULT.get() {
        Some(Some(DefaultMethods(m))) => m,
        // SQLite calls these only after `install` succeeded.
        _ => unreachable!("page cache methods called before they were installed"),
    }
}

/// The lock-byte page for this page size: the page holding byte 0x40000000 (PENDING_BYTE).
fn parking_page(page_size: c_int) -> c_uint {
    (0x4000_0000 / page_size.max(512) as c_uint) + 1
}

/// Our cache behind SQLite's handle.
///
/// SAFETY (for every method below): `p` is a handle `create` returned and `destroy` has not freed
/// yet; SQLite never calls one cache's methods from two threads at once.
unsafe fn cache<'a>(p: *mut ffi::sqlite3_pcache) -> &'a mut Cache {
    unsafe { &mut *(p as *mut Cache) }
}

unsafe extern "C" fn create(page_size: c_int, extra: c_int, purgeable: c_int) -> *mut ffi::sqlite3_pcache {
    let inner = unsafe { (methods().xCreate.expect("xCreate"))(page_size, extra, purgeable) };
    if inner.is_null() {
        return std::ptr::null_mut();
    }
    let cache = Box::new(Cache {
        inner,
        highest: 0,
        parking: parking_page(page_size),
    });
    Box::into_raw(cache) as *mut ffi::sqlite3_pcache
}

unsafe extern "C" fn cachesize(p: *mut ffi::sqlite3_pcache, pages: c_int) {
    unsafe { (methods().xCachesize.expect("xCachesize"))(cache(p).inner, pages) }
}

unsafe extern "C" fn pagecount(p: *mut ffi::sqlite3_pcache) -> c_int {
    unsafe { (methods().xPagecount.expect("xPagecount"))(cache(p).inner) }
}

unsafe extern "C" fn fetch(p: *mut ffi::sqlite3_pcache, key: c_uint, create: c_int) -> *mut ffi::sqlite3_pcache_page {
    let c = unsafe { cache(p) };
    let page = unsafe { (methods().xFetch.expect("xFetch"))(c.inner, key, create) };
    if !page.is_null() && key != c.parking && key > c.highest {
        c.highest = key;
    }
    page
}

unsafe extern "C" fn unpin(p: *mut ffi::sqlite3_pcache, page: *mut ffi::sqlite3_pcache_page, discard: c_int) {
    unsafe { (methods().xUnpin.expect("xUnpin"))(cache(p).inner, page, discard) }
}

unsafe extern "C" fn rekey(p: *mut ffi::sqlite3_pcache, page: *mut ffi::sqlite3_pcache_page, old: c_uint, new: c_uint) {
    let c = unsafe { cache(p) };
    unsafe { (methods().xRekey.expect("xRekey"))(c.inner, page, old, new) };
    if new != c.parking && new > c.highest {
        c.highest = new;
    }
}

unsafe extern "C" fn truncate(p: *mut ffi::sqlite3_pcache, limit: c_uint) {
    let c = unsafe { cache(p) };
    // Nothing held at `limit` or above: a page is only ever at the parking number in the middle
    // of a rebalance, never when a transaction ends.
    if limit > c.highest {
        #[cfg(test)]
        SKIPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return;
    }
    unsafe { (methods().xTruncate.expect("xTruncate"))(c.inner, limit) };
    c.highest = limit.saturating_sub(1);
}

unsafe extern "C" fn destroy(p: *mut ffi::sqlite3_pcache) {
    let c = unsafe { Box::from_raw(p as *mut Cache) };
    unsafe { (methods().xDestroy.expect("xDestroy"))(c.inner) }
}

unsafe extern "C" fn shrink(p: *mut ffi::sqlite3_pcache) {
    unsafe { (methods().xShrink.expect("xShrink"))(cache(p).inner) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fetch (creating) and unpin a page, as the pager does with a page it is done with.
    unsafe fn touch(p: *mut ffi::sqlite3_pcache, key: c_uint) {
        unsafe {
            let page = fetch(p, key, 2);
            assert!(!page.is_null(), "page {key}");
            unpin(p, page, 0);
        }
    }

    fn held(p: *mut ffi::sqlite3_pcache, key: c_uint) -> bool {
        unsafe {
            let page = fetch(p, key, 0);
            if !page.is_null() {
                unpin(p, page, 0);
            }
            !page.is_null()
        }
    }

    #[test]
    fn truncations_past_the_highest_page_held_are_skipped_and_the_rest_still_drop_pages() {
        crate::store::Store::open(&tempfile::tempdir().unwrap().path().join("x.db")).unwrap();
        assert!(
            installed(),
            "SQLite started before the page cache wrapper was installed"
        );
        unsafe {
            let p = create(4096, 64, 1);
            cachesize(p, 1000);
            for key in 1..=100 {
                touch(p, key);
            }
            // A rebalance parks page 50 and brings it back as 50 (the swap's middle step).
            let parking = parking_page(4096);
            assert_eq!(parking, 262_145);
            let page = fetch(p, 50, 0);
            rekey(p, page, 50, parking);
            rekey(p, page, parking, 50);
            unpin(p, page, 0);
            let skipped = SKIPPED.load(std::sync::atomic::Ordering::Relaxed);
            truncate(p, 101);
            assert!(SKIPPED.load(std::sync::atomic::Ordering::Relaxed) > skipped);
            assert!(held(p, 100) && held(p, 50));
            // A truncation below what is held drops those pages, as SQLite's would.
            truncate(p, 61);
            assert!(held(p, 60) && !held(p, 61) && !held(p, 100));
            touch(p, 80);
            truncate(p, 71);
            assert!(!held(p, 80) && held(p, 60) && !held(p, parking));
            destroy(p);
        }
    }

    #[test]
    fn a_rolled_back_growth_then_new_rows_leave_a_sound_database() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = crate::store::Store::open(&dir.path().join("grow.db")).unwrap();
        store.use_large_cache().unwrap();
        let conn = &mut store.conn;
        conn.execute_batch("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT UNIQUE, body BLOB)")
            .unwrap();
        // Random keys split index pages all over, so rebalances park pages.
        fn insert(conn: &mut rusqlite::Connection, from: i64, n: i64, size: i64) -> rusqlite::Transaction<'_> {
            let tx = conn.transaction().unwrap();
            tx.execute(
                "WITH RECURSIVE n(i) AS (SELECT ?1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 + ?2 - 1)
                 INSERT INTO t (id, k, body) SELECT i, hex(randomblob(12)), randomblob(?3) FROM n",
                rusqlite::params![from, n, size],
            )
            .unwrap();
            tx
        }
        for round in 0..20 {
            insert(conn, round * 500, 500, 300).commit().unwrap();
        }
        // A transaction that grows the file by megabytes and is rolled back...
        insert(conn, 1_000_000, 5_000, 2_000).rollback().unwrap();
        // ...then other rows, in the pages it had used.
        for round in 0..10 {
            insert(conn, 2_000_000 + round * 700, 700, 900).commit().unwrap();
        }
        let (rows, ok): (i64, String) = (
            conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap(),
            conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap(),
        );
        assert_eq!((rows, ok.as_str()), (17_000, "ok"));
        let big: i64 = conn
            .query_row("SELECT count(*) FROM t WHERE id >= 1000000 AND id < 2000000", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(big, 0);
    }
}
