//! The real programs the send tests talk to: a long-running subcommand started and waited for,
//! and the sandbox's log of the requests it received.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

pub struct Proc {
    pub url: String,
    pub child: Child,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The exit status of `child`, which must exit within `secs` (`what` says why it should).
pub fn exited_within(child: &mut Child, secs: u64, what: &str) -> std::process::ExitStatus {
    let since = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(since.elapsed() < std::time::Duration::from_secs(secs), "{what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Start a long-running subcommand and wait for its "… listening on URL" line.
pub fn start(args: &[&str], log: &std::path::Path, env: &[(&str, &str)]) -> Proc {
    let mut child = Command::new(BIN)
        .args(args)
        .envs(env.iter().copied())
        .env("SWITCHBOARD_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .rsplit("listening on ")
        .next()
        .filter(|u| u.starts_with("http") || u.starts_with("ssh://"))
        .unwrap_or_else(|| {
            panic!(
                "{args:?} did not start: {line:?} {}",
                std::fs::read_to_string(log).unwrap()
            )
        })
        .to_string();
    Proc { url, child }
}

pub fn requests(base: &str) -> Vec<Value> {
    let body = reqwest::blocking::get(format!("{base}/sandbox/requests"))
        .unwrap()
        .text()
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// A receiver's config in `dir` that checks myKaarma signatures with `secret` (0600, as the config
/// must be), and `n` signed myKaarma deliveries of about `size` bytes from `switchboard gen`:
/// (signature header, body) each.
pub fn signed_mykaarma(
    dir: &std::path::Path,
    secret: &str,
    n: usize,
    size: usize,
) -> (std::path::PathBuf, Vec<(String, String)>) {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("[receiver.mykaarma]\nsignature_secret = \"{secret}\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let deliveries = dir.join("deliveries.tsv");
    let made = Command::new(BIN)
        .args(["gen", "--messages", &n.to_string(), "--body-size", &size.to_string()])
        .args(["--signed-mykaarma", secret, "--out"])
        .arg(&deliveries)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    let lines = BufReader::new(std::fs::File::open(&deliveries).unwrap())
        .lines()
        .map(|l| {
            let l = l.unwrap();
            let (sig, body) = l.split_once('\t').unwrap();
            (sig.to_string(), body.to_string())
        })
        .collect::<Vec<_>>();
    assert_eq!(lines.len(), n);
    (config, lines)
}

/// `switchboard serve` on `db` with `config`, on a free loopback port, logging beside `db`.
pub fn serve(db: &std::path::Path, config: &std::path::Path, env: &[(&str, &str)]) -> Proc {
    serve_with(db, config, &[], env)
}

/// `serve`, with these options of its own too.
pub fn serve_with(db: &std::path::Path, config: &std::path::Path, options: &[&str], env: &[(&str, &str)]) -> Proc {
    let mut args = vec![
        "--db",
        db.to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
        "serve",
        "--listen",
        "127.0.0.1:0",
    ];
    args.extend_from_slice(options);
    start(&args, &db.with_file_name("serve.log"), env)
}
