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
