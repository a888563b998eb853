//! The inbox over a real OpenSSH connection: `ssh -tt localhost switchboard demo` in a
//! pseudo-terminal, then the ssh client killed as a dropped connection would. The remote demo must
//! end within two seconds with its temporary files gone. Needs OpenSSH's server and client and root
//! (to run a private sshd on a loopback port); `.ci/run` installs them. Where they are missing the
//! test says so on stderr and passes without running (the reason is printed, never silent).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use switchboard::pty::Pty;

struct Sshd {
    dir: tempfile::TempDir,
    port: u16,
    child: Child,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn missing() -> Option<String> {
    if !Path::new("/usr/sbin/sshd").exists() {
        return Some("no /usr/sbin/sshd (apt-get install openssh-server)".into());
    }
    if Command::new("ssh").arg("-V").output().is_err() {
        return Some("no ssh client (apt-get install openssh-client)".into());
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("not root: a private sshd cannot log in as this user".into());
    }
    None
}

fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen failed");
}

fn start_sshd() -> Sshd {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    keygen(&d.join("host"));
    keygen(&d.join("user"));
    std::fs::copy(d.join("user.pub"), d.join("authorized_keys")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        d.join("sshd_config"),
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {keys}\n\
             PasswordAuthentication no\nPermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\n\
             PidFile {pid}\nAcceptEnv TMPDIR\n",
            host = d.join("host").display(),
            keys = d.join("authorized_keys").display(),
            pid = d.join("sshd.pid").display(),
        ),
    )
    .unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let child = Command::new("/usr/sbin/sshd")
        .args(["-D", "-e", "-f"])
        .arg(d.join("sshd_config"))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Ready when the port answers.
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "sshd did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Sshd { dir, port, child }
}

fn demo_dirs(tmp: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(tmp)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn a_dropped_ssh_connection_ends_the_remote_demo() {
    if let Some(why) = missing() {
        // Straight to the process's stderr (the test harness captures `eprintln!`): seen in every run.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED a_dropped_ssh_connection_ends_the_remote_demo: {why}"
        );
        return;
    }
    let sshd = start_sshd();
    let tmp = sshd.dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let mut ssh = Command::new("ssh");
    ssh.args([
        "-tt",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
    ])
    .arg("-i")
    .arg(sshd.dir.path().join("user"))
    .args(["-p", &sshd.port.to_string(), "root@127.0.0.1"])
    .arg(format!(
        "TMPDIR={} XDG_STATE_HOME={} TERM=xterm-256color {} demo",
        tmp.display(),
        sshd.dir.path().display(),
        env!("CARGO_BIN_EXE_switchboard")
    ));
    let mut pty = Pty::spawn(ssh, 80, 24).unwrap();
    let started = Instant::now();
    while !String::from_utf8_lossy(&pty.output).contains('▶') {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the demo did not draw over ssh"
        );
        pty.settle(Duration::from_millis(100), Duration::from_secs(1), false);
    }
    let dirs = demo_dirs(&tmp);
    let pid: u32 = dirs
        .iter()
        .find_map(|p| p.file_name()?.to_str()?.strip_prefix("switchboard-demo-")?.parse().ok())
        .expect("the demo's directory names its process");
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    assert!(proc_dir.exists());

    // The connection drops: the client dies without a word.
    pty.child.kill().unwrap();
    let dropped = Instant::now();
    loop {
        let alive = std::fs::read_to_string(proc_dir.join("stat")).is_ok_and(|s| !s.contains(") Z "));
        if !alive {
            break;
        }
        assert!(
            dropped.elapsed() < Duration::from_secs(2),
            "the remote demo still runs 2 s after its connection dropped"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(demo_dirs(&tmp).is_empty(), "left behind: {:?}", demo_dirs(&tmp));
}
