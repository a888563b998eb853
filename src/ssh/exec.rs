//! A command asked for over SSH (`ssh host failures --json`): the CLI's own output, from this
//! program run as a child on the session's database as the session's advisor. Only the commands
//! that read are served; the child is killed when the client goes.

use crate::cli::{Cli, Command};
use crate::team::Advisor;
use clap::Parser as _;
use russh::ChannelWriteHalf;
use russh::server::Msg;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// What a command runs on and as.
pub struct Place {
    pub db: PathBuf,
    pub config: Option<PathBuf>,
    pub advisor: Advisor,
}

/// The command line's words, if it is one a session may run; else what to say.
pub fn words(command: &[u8]) -> Result<Vec<String>, String> {
    let text = String::from_utf8_lossy(command);
    let words = shell_words::split(&text).map_err(|e| format!("cannot read the command: {e}"))?;
    // The session's database and config are the server's to choose.
    if let Some(w) = words.iter().find(|w| {
        ["--db", "--config", "--listen"]
            .iter()
            .any(|f| w.as_str() == *f || w.starts_with(&format!("{f}=")))
    }) {
        return Err(format!("{} is the server's to choose", crate::sanitize::line(w)));
    }
    const READING: &[&str] = &["conversations", "thread", "failures", "events", "outbox"];
    if !words.first().is_some_and(|w| READING.contains(&w.as_str())) {
        return Err(
            "over SSH, commands are the ones that read: conversations, thread, failures, events, outbox (connect with `ssh -t` and no command for the inbox)"
                .into(),
        );
    }
    let cli = Cli::try_parse_from(std::iter::once("switchboard".to_string()).chain(words.iter().cloned()))
        .map_err(|e| e.render().to_string())?;
    match cli.command {
        Some(
            Command::Conversations(_)
            | Command::Thread(_)
            | Command::Failures(_)
            | Command::Events(_)
            | Command::Outbox(_),
        ) => Ok(words),
        _ => Err("that command is not served over SSH".into()),
    }
}

/// Run `words` at `place`, its output into `out`, until it ends or `gone` (the client left).
/// Returns the exit status to report.
pub async fn run(
    out: &ChannelWriteHalf<Msg>,
    words: Vec<String>,
    place: &Place,
    gone: tokio::sync::oneshot::Receiver<()>,
) -> u32 {
    let mut child = match child(&words, place) {
        Ok(c) => c,
        Err(e) => {
            let line = format!("switchboard: cannot run the command: {e}\r\n");
            let _ = out.extended_data_bytes(1, line.into_bytes()).await;
            return 1;
        }
    };
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return 1;
    };
    let copied = async {
        let _ = tokio::join!(out.data(stdout), out.extended_data(1, stderr));
        child.wait().await
    };
    tokio::select! {
        status = copied => status.ok().and_then(|s| s.code()).unwrap_or(1) as u32,
        // Dropping the child kills it.
        _ = gone => 1,
    }
}

fn child(words: &[String], place: &Place) -> std::io::Result<tokio::process::Child> {
    let exe = std::env::current_exe()?;
    let mut command = tokio::process::Command::new(exe);
    command.arg("--db").arg(&place.db);
    if let Some(config) = place.config.as_deref().filter(|p| Path::exists(p)) {
        command.arg("--config").arg(config);
    }
    command.args(words);
    command.env("SWITCHBOARD_ME_NAME", &place.advisor.name);
    for (name, id) in [
        ("SWITCHBOARD_ME_MYKAARMA", &place.advisor.ids.mykaarma),
        ("SWITCHBOARD_ME_HIGHLEVEL", &place.advisor.ids.highlevel),
        ("SWITCHBOARD_ME_PARTOO", &place.advisor.ids.partoo),
    ] {
        match id {
            Some(id) => command.env(name, id),
            None => command.env_remove(name),
        };
    }
    command
        .env_remove("SWITCHBOARD_DB")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_commands_are_served_and_others_and_paths_are_not() {
        assert_eq!(
            words(b"failures --json").unwrap(),
            vec!["failures".to_string(), "--json".into()]
        );
        assert_eq!(
            words(b"thread 'mykaarma:abc def'").unwrap(),
            vec!["thread".to_string(), "mykaarma:abc def".into()]
        );
        assert!(words(b"failures --db /etc/passwd").is_err());
        assert!(words(b"conversations --config=/root/x.toml").is_err());
        assert!(
            words(b"send mykaarma:1 hello")
                .unwrap_err()
                .contains("the ones that read")
        );
        assert!(words(b"rebuild").is_err());
        assert!(words(b"").is_err());
        assert!(words(b"failures --nope").unwrap_err().contains("--nope"));
    }
}
