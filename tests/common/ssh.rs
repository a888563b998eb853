//! The real OpenSSH client against `switchboard ssh` and `switchboard demo --ssh`: keys made with
//! ssh-keygen, the client's command line, and what the server's process costs.

use std::path::Path;
use std::process::Command;

/// Whether the OpenSSH client is here (`.ci/run` installs it); says so when it is not.
pub fn have_ssh(test: &str) -> bool {
    let found = Command::new("ssh").arg("-V").output().is_ok();
    if !found {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: no ssh client (apt-get install openssh-client)"
        );
    }
    found
}

pub fn keygen(path: &Path, comment: &str) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen (apt-get install openssh-client)")
        .success();
    assert!(ok);
}

/// The client's options for a throwaway server on loopback: no host key kept, no prompts.
pub const CLIENT: &str =
    "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes";

/// VmRSS of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// User plus system CPU time of a process, in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}
