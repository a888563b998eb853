//! The terminal's input on its own thread, feeding the inbox's one channel: keys and the hang-up.
//! Nothing here polls on a timer: the thread sleeps in `poll(2)` on the terminal and a wake-up
//! pipe, reads what arrived itself and parses it (`keys`), so a key reaches the loop the moment its
//! bytes arrive, and end of input (0 bytes, EIO, POLLHUP) is seen and reported as
//! `Action::Hangup`. (Resizes come from the signals thread.)
//!
//! An ESC followed quickly by a key arrives in one read and reads as Alt+key. Over a slow link
//! `esc` `q` typed by a person arrives exactly like that; no default binding uses Alt, so an Alt+key
//! that the keymap does not bind is given to the inbox as the two keys it was typed as.

use super::keys::Parser;
use super::update::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// Decides whether an Alt+key means itself (bound) or ESC then the key.
pub type AltBound = Box<dyn Fn(&KeyEvent) -> bool + Send>;

#[derive(Default)]
struct Pause {
    requested: bool,
    /// The thread is parked and will not read until `requested` is cleared.
    parked: bool,
}

/// The input thread. `pause` parks it (another program, `$EDITOR`, is about to read the terminal);
/// `resume` lets it read again.
pub struct Input {
    wake: OwnedFd,
    pause: Arc<(Mutex<Pause>, Condvar)>,
}

impl Input {
    /// Start reading the terminal; every event goes to `actions`.
    pub fn start(actions: mpsc::Sender<Action>, alt_bound: AltBound) -> std::io::Result<Input> {
        let tty = Tty::open()?;
        let (wake_rx, wake_tx) = pipe()?;
        let pause = Arc::new((Mutex::new(Pause::default()), Condvar::new()));
        let shared = pause.clone();
        std::thread::Builder::new()
            .name("input".into())
            .spawn(move || read_loop(tty, wake_rx, shared, actions, alt_bound))?;
        Ok(Input { wake: wake_tx, pause })
    }

    /// Stop reading the terminal and wait until the thread is parked.
    pub fn pause(&self) {
        let (lock, cond) = &*self.pause;
        let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
        p.requested = true;
        self.poke();
        while !p.parked {
            let (next, timeout) = cond
                .wait_timeout(p, Duration::from_secs(1))
                .unwrap_or_else(|e| e.into_inner());
            p = next;
            if timeout.timed_out() {
                break; // the thread has ended (the terminal hung up): nothing reads it
            }
        }
    }

    pub fn resume(&self) {
        let (lock, cond) = &*self.pause;
        let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
        p.requested = false;
        cond.notify_all();
    }

    fn poke(&self) {
        let _ = write_fd(&self.wake, b"w");
    }
}

/// The terminal the inbox reads: standard input when it is one, else /dev/tty (as crossterm does).
struct Tty {
    fd: i32,
    _owned: Option<std::fs::File>,
}

impl Tty {
    fn open() -> std::io::Result<Tty> {
        // SAFETY: isatty only inspects the descriptor.
        if unsafe { libc::isatty(libc::STDIN_FILENO) } == 1 {
            return Ok(Tty {
                fd: libc::STDIN_FILENO,
                _owned: None,
            });
        }
        let f = std::fs::OpenOptions::new().read(true).open("/dev/tty")?;
        Ok(Tty {
            fd: f.as_raw_fd(),
            _owned: Some(f),
        })
    }
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    unsafe {
        use std::os::fd::FromRawFd;
        Ok((OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])))
    }
}

fn write_fd(fd: &OwnedFd, bytes: &[u8]) -> isize {
    // SAFETY: writing from a live buffer to a descriptor we own.
    unsafe { libc::write(fd.as_raw_fd(), bytes.as_ptr().cast(), bytes.len()) }
}

fn drain(fd: &OwnedFd) {
    let mut buf = [0u8; 64];
    // SAFETY: reading into a live buffer from a non-blocking descriptor we own.
    while unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
}

/// What `poll(2)` says of the terminal.
enum Ready {
    Input,
    HungUp,
    Woken,
}

fn wait(tty: &Tty, wake: &OwnedFd) -> std::io::Result<Ready> {
    let mut fds = [
        libc::pollfd {
            fd: tty.fd,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: wake.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    loop {
        // SAFETY: fds is a live array of two pollfd.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if fds[0].revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
            return Ok(Ready::HungUp);
        }
        if fds[1].revents != 0 {
            drain(wake);
            return Ok(Ready::Woken);
        }
        if fds[0].revents & libc::POLLIN != 0 {
            return Ok(Ready::Input);
        }
    }
}

fn read_loop(
    tty: Tty,
    wake: OwnedFd,
    pause: Arc<(Mutex<Pause>, Condvar)>,
    actions: mpsc::Sender<Action>,
    alt_bound: AltBound,
) {
    let mut parser = Parser::default();
    let mut buf = [0u8; 4096];
    loop {
        {
            let (lock, cond) = &*pause;
            let mut p = lock.lock().unwrap_or_else(|e| e.into_inner());
            if p.requested {
                p.parked = true;
                cond.notify_all();
                while p.requested {
                    p = cond.wait(p).unwrap_or_else(|e| e.into_inner());
                }
                p.parked = false;
            }
        }
        let ready = match wait(&tty, &wake) {
            Ok(r) => r,
            Err(e) => {
                let _ = actions.send(Action::Hangup(format!("the terminal cannot be read: {e}")));
                return;
            }
        };
        match ready {
            Ready::Woken => continue,
            Ready::HungUp => {
                let _ = actions.send(Action::Hangup("the terminal hung up".into()));
                return;
            }
            Ready::Input => {}
        }
        // Take what the terminal has now; the loop draws once for the whole burst.
        // SAFETY: reading into a live buffer from the terminal's descriptor.
        let n = unsafe { libc::read(tty.fd, buf.as_mut_ptr().cast(), buf.len()) };
        if n == 0 {
            let _ = actions.send(Action::Hangup("the terminal reached end of input".into()));
            return;
        }
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if matches!(
                e.kind(),
                std::io::ErrorKind::Interrupted | std::io::ErrorKind::WouldBlock
            ) {
                continue;
            }
            let _ = actions.send(Action::Hangup(format!("the terminal cannot be read: {e}")));
            return;
        }
        let more = readable_now(&tty);
        for key in parser.feed(&buf[..n as usize], more) {
            for action in translate(key, &alt_bound) {
                if actions.send(action).is_err() {
                    return; // the inbox has gone
                }
            }
        }
    }
}

/// Whether more bytes are already waiting (a sequence may be split across reads).
fn readable_now(tty: &Tty) -> bool {
    let mut fds = [libc::pollfd {
        fd: tty.fd,
        events: libc::POLLIN,
        revents: 0,
    }];
    // SAFETY: one live pollfd, no wait.
    unsafe { libc::poll(fds.as_mut_ptr(), 1, 0) > 0 && fds[0].revents & libc::POLLIN != 0 }
}

/// A key as the actions the inbox acts on: an Alt+key no binding uses is the ESC and the key it
/// was typed as.
pub fn translate(k: KeyEvent, alt_bound: &AltBound) -> Vec<Action> {
    if k.modifiers.contains(KeyModifiers::ALT) && !alt_bound(&k) {
        let mut plain = k;
        plain.modifiers.remove(KeyModifiers::ALT);
        return vec![
            Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
            Action::Key(plain),
        ];
    }
    vec![Action::Key(k)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unbound_alt_key_is_the_escape_and_the_key_it_was_typed_as() {
        let none: AltBound = Box::new(|_| false);
        let alt_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::ALT);
        assert_eq!(
            translate(alt_q, &none),
            vec![
                Action::Key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE)),
                Action::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE)),
            ]
        );
        let all: AltBound = Box::new(|_| true);
        assert_eq!(translate(alt_q, &all).len(), 1);
    }
}
