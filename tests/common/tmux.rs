//! The real binary in tmux: a session of a given size, keys typed, the screen read back. Needs tmux
//! (`apt-get install tmux`; `.ci/run` installs it).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
    pub dir: tempfile::TempDir,
}

impl Tmux {
    pub fn new(name: &str) -> Tmux {
        let found = Command::new("tmux")
            .arg("-V")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        assert!(
            found,
            "tmux is required for the terminal tests: apt-get install tmux (.ci/run installs it)"
        );
        Tmux {
            socket: format!("switchboard-{name}-{}", std::process::id()),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn db(&self) -> PathBuf {
        self.dir.path().join("sb.db")
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Start the inbox at w×h; the shell reports its exit status when it ends.
    pub fn start(&self, w: u16, h: u16, args: &str) {
        self.start_with(w, h, args, &[]);
    }

    pub fn start_with(&self, w: u16, h: u16, args: &str, env: &[(&str, &str)]) {
        self.start_on(&self.db(), w, h, args, env);
    }

    /// Start the inbox on a database of someone else's (a second advisor's inbox, say).
    pub fn start_on(&self, db: &std::path::Path, w: u16, h: u16, args: &str, env: &[(&str, &str)]) {
        let config = self.dir.path().join("config.toml");
        std::fs::write(&config, "[inbox]\nbell = false\n").unwrap();
        let cmd = format!(
            "{} --db {} --config {} {args}; echo EXIT=$?; sleep 60",
            env!("CARGO_BIN_EXE_switchboard"),
            db.display(),
            config.display()
        );
        self.session(w, h, &cmd, env);
    }

    /// `switchboard demo` (which makes its own database), its temporary files under this test's
    /// directory.
    pub fn start_demo(&self, w: u16, h: u16, args: &str, env: &[(&str, &str)]) {
        let config = self.dir.path().join("config.toml");
        std::fs::write(&config, "[inbox]\nbell = false\n").unwrap();
        let cmd = format!(
            "{} --config {} demo {args}; echo EXIT=$?; sleep 60",
            env!("CARGO_BIN_EXE_switchboard"),
            config.display()
        );
        self.session(w, h, &cmd, env);
    }

    /// Run any command line in the session (a shell command), at w×h.
    pub fn start_command(&self, w: u16, h: u16, cmd: &str) {
        self.session(w, h, cmd, &[]);
    }

    /// The directory `demo` keeps its temporary database in.
    pub fn tmp(&self) -> PathBuf {
        let tmp = self.dir.path().join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        tmp
    }

    fn session(&self, w: u16, h: u16, cmd: &str, env: &[(&str, &str)]) {
        let status = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args([
                "new-session",
                "-d",
                "-s",
                "e2e",
                "-x",
                &w.to_string(),
                "-y",
                &h.to_string(),
                cmd,
            ])
            .env("XDG_STATE_HOME", self.dir.path())
            .env("TMPDIR", self.tmp())
            .envs(env.iter().copied())
            .env_remove("NO_COLOR")
            .env_remove("SWITCHBOARD_DB")
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Resize the window, as a person dragging its corner.
    pub fn resize(&self, w: u16, h: u16) {
        self.tmux(&["resize-window", "-t", "e2e", "-x", &w.to_string(), "-y", &h.to_string()]);
    }

    /// Close the session (the terminal goes away; the program gets SIGHUP and end of input).
    pub fn kill_session(&self) {
        self.tmux(&["kill-session", "-t", "e2e"]);
    }

    /// The screen with its line breaks and runs of spaces folded, for messages that wrap.
    pub fn flat_screen(&self) -> String {
        self.screen().split_whitespace().collect::<Vec<_>>().join(" ")
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "e2e"])
    }

    /// The screen once it contains `text`; fails with the screen shown if that takes over 5 s.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_within(text, 5)
    }

    pub fn wait_for_within(&self, text: &str, secs: u64) -> String {
        let started = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "waited for {text:?}; the screen shows:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.tmux(&args);
        std::thread::sleep(Duration::from_millis(150));
    }

    pub fn alternate_screen_on(&self) -> bool {
        self.tmux(&["display", "-p", "-t", "e2e", "#{alternate_on}"]).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}
