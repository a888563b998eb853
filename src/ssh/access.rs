//! Who may connect: an `authorized_keys` file whose options name the advisor each key belongs to,
//! as `[me]` does in a config:
//!
//! ```text
//! advisor="Dana Reyes",mykaarma="4f8b…",partoo="62d8…" ssh-ed25519 AAAAC3Nza… dana@laptop
//! ```
//!
//! Without an `advisor` option, the key's comment is the name. Unknown keys are refused; there are
//! no passwords.

use crate::team::{Advisor, VendorIds};
use anyhow::{Context, Result, bail};
use russh::keys::PublicKey;
use std::path::Path;

pub struct Access {
    keys: Vec<(PublicKey, Advisor)>,
}

impl Access {
    pub fn read(path: &Path) -> Result<Access> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the SSH access file {} (an authorized_keys file naming each key's advisor; see the README)",
                path.display()
            )
        })?;
        Access::parse(&text).with_context(|| format!("SSH access file {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Access> {
        let mut keys = vec![];
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (options, key_text) = split_options(line);
            let key = PublicKey::from_openssh(key_text)
                .map_err(|e| anyhow::anyhow!("line {}: not an authorized_keys entry ({e})", n + 1))?;
            let mut name = None;
            let mut ids = VendorIds::default();
            for option in options {
                let (key, value) = option.split_once('=').unwrap_or((option.as_str(), ""));
                let value = value.trim_matches('"').to_string();
                match key {
                    "advisor" => name = Some(value),
                    "mykaarma" => ids.mykaarma = Some(value),
                    "highlevel" => ids.highlevel = Some(value),
                    "partoo" => ids.partoo = Some(value),
                    _ => {} // sshd's own options (restrict, from=…) mean nothing here
                }
            }
            let name = name
                .or_else(|| Some(key.comment().to_string()))
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty());
            let Some(name) = name else {
                bail!(
                    "line {}: the key names no advisor (add advisor=\"Name\" before it)",
                    n + 1
                );
            };
            keys.push((key, Advisor { name, ids }));
        }
        Ok(Access { keys })
    }

    /// The advisor a key belongs to, if it may connect.
    pub fn advisor(&self, key: &PublicKey) -> Option<&Advisor> {
        self.keys
            .iter()
            .find(|(k, _)| k.key_data() == key.key_data())
            .map(|(_, a)| a)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// An entry's options (comma-separated, values may be quoted and hold spaces and commas) and the
/// rest of the line (the key type, the key, the comment), as sshd reads them.
fn split_options(line: &str) -> (Vec<String>, &str) {
    let starts_with_key = |s: &str| s.starts_with("ssh-") || s.starts_with("ecdsa-") || s.starts_with("sk-");
    if starts_with_key(line) {
        return (vec![], line);
    }
    let (mut options, mut current, mut quoted) = (vec![], String::new(), false);
    for (i, c) in line.char_indices() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            ',' if !quoted => options.push(std::mem::take(&mut current)),
            ' ' | '\t' if !quoted => {
                options.push(std::mem::take(&mut current));
                return (options, line[i..].trim_start());
            }
            _ => current.push(c),
        }
    }
    (vec![], line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DANA: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl dana@laptop";

    #[test]
    fn each_key_names_its_advisor() {
        let access = Access::parse(&format!(
            "# the service desk\nadvisor=\"Dana Reyes\",partoo=\"62d8\",restrict,from=\"10.0.0.0/8, 127.0.0.1\" {DANA}\n"
        ))
        .unwrap();
        let key = PublicKey::from_openssh(DANA).unwrap();
        let dana = access.advisor(&key).unwrap();
        assert_eq!(dana.name, "Dana Reyes");
        assert_eq!(dana.ids.partoo.as_deref(), Some("62d8"));
        // Without the option, the comment names them.
        let by_comment = Access::parse(DANA).unwrap();
        assert_eq!(by_comment.advisor(&key).unwrap().name, "dana@laptop");
        assert!(Access::parse("not a key").err().unwrap().to_string().contains("line 1"));
    }
}
