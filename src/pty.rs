//! A pseudo-terminal with a program in it, driven as a person's terminal emulator drives one:
//! bytes written as keys, output read as it comes, the window resized, the terminal closed. The
//! real-terminal benchmark (`bench-terminal`) and the lifecycle tests run the inbox this way.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Pty {
    master: Option<File>,
    pub child: Child,
    /// Everything the program wrote, in order.
    pub output: Vec<u8>,
}

/// What one read-until-quiet saw.
pub struct Settled {
    /// When the last byte arrived (None: nothing arrived).
    pub last_byte: Option<Instant>,
    pub bytes: usize,
}

fn winsize(cols: u16, rows: u16) -> libc::winsize {
    libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    }
}

impl Pty {
    /// Start `command` as the session leader of a new terminal `cols`×`rows`.
    pub fn spawn(mut command: Command, cols: u16, rows: u16) -> std::io::Result<Pty> {
        let (mut master, mut slave) = (0, 0);
        let ws = winsize(cols, rows);
        // SAFETY: openpty writes two descriptors; the name and termios pointers may be null.
        let r = unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &ws) };
        if r != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just opened and belong to no one else.
        let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
        // SAFETY: FD_CLOEXEC on our own descriptor, so the child does not inherit the master.
        unsafe { libc::fcntl(master.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
        command
            .stdin(Stdio::from(slave.try_clone()?))
            .stdout(Stdio::from(slave.try_clone()?))
            .stderr(Stdio::from(slave));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn()?;
        Ok(Pty {
            master: Some(File::from(master)),
            child,
            output: vec![],
        })
    }

    fn master(&self) -> &File {
        self.master.as_ref().expect("the terminal is open")
    }

    /// Type `bytes` (a key is its escape sequence: "\x1b[6~" is Page Down).
    pub fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let mut m = self.master();
        m.write_all(bytes)?;
        m.flush()
    }

    /// Read until nothing has arrived for `quiet` (after at least one byte, or at once when
    /// `need_output` is false), or until `limit` has passed.
    pub fn settle(&mut self, quiet: Duration, limit: Duration, need_output: bool) -> Settled {
        let start = Instant::now();
        let mut last_byte = None;
        let mut bytes = 0;
        let mut buf = [0u8; 65536];
        loop {
            let now = Instant::now();
            if now >= start + limit {
                break;
            }
            let quiet_end = match last_byte {
                Some(t) => t + quiet,
                None if need_output => start + limit,
                None => start + quiet,
            };
            if now >= quiet_end {
                break;
            }
            let wait = quiet_end.min(start + limit) - now;
            if !self.readable(wait) {
                continue;
            }
            match self.master().read(&mut buf) {
                Ok(0) | Err(_) => break, // the program's side closed (EIO on Linux)
                Ok(n) => {
                    last_byte = Some(Instant::now());
                    bytes += n;
                    self.output.extend_from_slice(&buf[..n]);
                }
            }
        }
        Settled { last_byte, bytes }
    }

    fn readable(&self, wait: Duration) -> bool {
        let mut fds = [libc::pollfd {
            fd: self.master().as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: one live pollfd.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, ms.max(1)) };
        n > 0 && fds[0].revents & (libc::POLLIN | libc::POLLHUP) != 0
    }

    /// Change the window size, as dragging a terminal window's corner does (SIGWINCH follows).
    pub fn resize(&mut self, cols: u16, rows: u16) -> std::io::Result<()> {
        let ws = winsize(cols, rows);
        // SAFETY: TIOCSWINSZ reads a live winsize.
        if unsafe { libc::ioctl(self.master().as_raw_fd(), libc::TIOCSWINSZ, &ws) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Close the terminal, as closing its window does.
    pub fn close(&mut self) {
        self.master = None;
    }

    /// Wait up to `limit` for the program to end; its status if it did.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if start.elapsed() >= limit {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// CPU time the program's threads have used so far, in nanoseconds of scheduler accounting
    /// (/proc/PID/task/*/schedstat; the clock-tick counts in /proc/PID/stat are 10 ms coarse).
    pub fn cpu_time(&self) -> Option<Duration> {
        cpu_time(self.child.id())
    }
}

/// CPU time process `pid`'s threads have used so far (see `Pty::cpu_time`).
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns: u64 = 0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        ns += stat.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0);
    }
    Some(Duration::from_nanos(ns))
}

/// CPU time process `pid` has used, threads that have ended included (which `cpu_time` loses:
/// it reads the living threads), at the kernel's clock-tick resolution (10 ms).
pub fn cpu_time_with_ended_threads(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces, and ends at the last ')').
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf reads a constant.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_millis(ticks * 1000 / per_second))
}

/// Resident memory of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

impl Drop for Pty {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
