//! A nearly full disk, for real: a small ext4 filesystem (1 KiB blocks, as `mkfs.ext4` makes below
//! 512 MiB) on a loop device, filled up. Needs root, `mkfs.ext4` and loop devices; where they are
//! missing the tests say so on stderr and pass without running (never silently).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use switchboard::pty::Pty;

struct SmallDisk {
    dir: tempfile::TempDir,
    mnt: PathBuf,
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.mnt).status();
    }
}

fn skip(test: &str, why: &str) {
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

/// An 8 MiB ext4 mounted for this test, or why there cannot be one here.
fn small_disk() -> Result<SmallDisk, String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Err("not root: cannot mount a loop filesystem".into());
    }
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let image = dir.path().join("disk.img");
    std::fs::File::create(&image)
        .and_then(|f| f.set_len(8 * 1024 * 1024))
        .map_err(|e| e.to_string())?;
    let made = Command::new("mkfs.ext4").args(["-q", "-F"]).arg(&image).output();
    if !made.as_ref().is_ok_and(|o| o.status.success()) {
        return Err("mkfs.ext4 is not available (apt-get install e2fsprogs)".into());
    }
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).map_err(|e| e.to_string())?;
    let mounted = Command::new("mount")
        .args(["-o", "loop"])
        .arg(&image)
        .arg(&mnt)
        .output();
    if !mounted.as_ref().is_ok_and(|o| o.status.success()) {
        return Err(format!(
            "cannot mount a loop device here: {}",
            mounted
                .map(|o| String::from_utf8_lossy(&o.stderr).into_owned())
                .unwrap_or_default()
                .trim()
        ));
    }
    Ok(SmallDisk { dir, mnt })
}

/// Fill the filesystem until only about `keep` bytes are free (0: completely).
fn fill(mnt: &Path, name: &str, keep: u64) {
    let free = switchboard::store::space::free_bytes(mnt).unwrap();
    let mut f = std::fs::File::create(mnt.join(name)).unwrap();
    let chunk = vec![0u8; 1024];
    let mut left = free.saturating_sub(keep);
    while left > 0 || keep == 0 {
        let n = left.clamp(1, 1024) as usize;
        if f.write_all(&chunk[..n]).and_then(|_| f.flush()).is_err() {
            break;
        }
        left = left.saturating_sub(n as u64);
    }
    let _ = f.sync_all();
}

fn switchboard(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args(args)
        .output()
        .unwrap()
}

fn demo_file(name: &str) -> String {
    format!("{}/assets/demo/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn writers_refuse_a_nearly_full_disk_in_words_and_readers_still_read() {
    let disk = match small_disk() {
        Ok(d) => d,
        Err(why) => {
            return skip(
                "writers_refuse_a_nearly_full_disk_in_words_and_readers_still_read",
                &why,
            );
        }
    };
    let db = disk.mnt.join("sb.db");
    let db_s = db.to_str().unwrap();
    assert!(
        switchboard(&["--db", db_s, "import", &demo_file("mykaarma.ndjson")])
            .status
            .success()
    );
    fill(&disk.mnt, "fill", 24 * 1024);
    let config = disk.dir.path().join("config.toml");
    std::fs::write(&config, "[receiver.mykaarma]\nsignature_secret = \"x\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    for args in [
        vec!["--db", db_s, "import", &demo_file("partoo.ndjson")],
        vec![
            "--db",
            db_s,
            "--config",
            config.to_str().unwrap(),
            "serve",
            "--listen",
            "127.0.0.1:0",
        ],
    ] {
        let out = switchboard(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.starts_with("switchboard: disk full: only "), "{args:?}: {err}");
        assert!(!err.contains("disk I/O error"), "{err}");
    }
    // Reading still works (no signal, no crash).
    let out = switchboard(&["--db", db_s, "conversations", "--limit", "3"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Carlos Ruiz"));
}

#[test]
fn the_inbox_keeps_a_draft_it_cannot_save() {
    let disk = match small_disk() {
        Ok(d) => d,
        Err(why) => return skip("the_inbox_keeps_a_draft_it_cannot_save", &why),
    };
    let db = disk.mnt.join("sb.db");
    assert!(
        switchboard(&["--db", db.to_str().unwrap(), "import", &demo_file("mykaarma.ndjson")])
            .status
            .success()
    );
    fill(&disk.mnt, "fill", 1536 * 1024);
    let mut c = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    c.arg("--db")
        .arg(&db)
        .env("XDG_STATE_HOME", disk.dir.path())
        .env("TERM", "xterm-256color");
    let mut pty = Pty::spawn(c, 100, 30).unwrap();
    let wait_for = |pty: &mut Pty, text: &str| {
        let started = Instant::now();
        while !String::from_utf8_lossy(&pty.output).contains(text) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "waited for {text:?}; the terminal got: {:?}",
                String::from_utf8_lossy(&pty.output[pty.output.len().saturating_sub(3000)..])
            );
            pty.settle(Duration::from_millis(100), Duration::from_secs(1), false);
        }
    };
    wait_for(&mut pty, "▶");
    pty.write(b"\r").unwrap();
    wait_for(&mut pty, "Reply");
    std::thread::sleep(Duration::from_millis(300));
    pty.write(b"r").unwrap();
    pty.settle(Duration::from_millis(200), Duration::from_secs(2), false);
    // The disk fills up while the reply pane is open (filled before typing, so the autosave two
    // seconds after the typing stops surely meets a full disk); it fails, and says so.
    fill(&disk.mnt, "fill-more", 0);
    pty.write(b"Your loaner is ready at 5").unwrap();
    wait_for(&mut pty, "could not be saved");
    pty.write(b"\x1b").unwrap();
    pty.settle(Duration::from_millis(200), Duration::from_secs(2), false);
    pty.write(b"q").unwrap();
    let status = pty.wait_exit(Duration::from_secs(5)).expect("the inbox ended");
    pty.settle(Duration::from_millis(200), Duration::from_secs(2), false);
    let text = String::from_utf8_lossy(&pty.output).into_owned();
    let after = &text[text.rfind("\x1b[?1049l").expect("left the alternate screen")..];
    assert!(after.contains("was not saved"), "{after:?}");
    assert!(after.contains("Your loaner is ready at 5"), "{after:?}");
    assert_eq!(
        status.code(),
        Some(2),
        "quitting with an unsaved draft is not a success"
    );
}

#[test]
fn a_first_import_that_does_not_fit_says_so_and_leaves_nothing() {
    let disk = match small_disk() {
        Ok(d) => d,
        Err(why) => return skip("a_first_import_that_does_not_fit_says_so_and_leaves_nothing", &why),
    };
    // About 20 MB of events: more than the 8 MiB filesystem holds.
    let events = disk.dir.path().join("events.ndjson");
    let made = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .args([
            "gen",
            "--conversations",
            "200",
            "--messages",
            "10000",
            "--seed",
            "3",
            "--out",
        ])
        .arg(&events)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let db = disk.mnt.join("sb.db");
    let out = switchboard(&["--db", db.to_str().unwrap(), "import", events.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!(
            "switchboard: disk full: the new database {} did not fit (",
            db.display()
        )),
        "{err}"
    );
    assert!(
        err.trim_end()
            .ends_with("nothing was imported, and the partial file is removed"),
        "{err}"
    );
    let left: Vec<_> = std::fs::read_dir(&disk.mnt)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lost+found")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
