//! Attacking our own receiver over real TCP on 127.0.0.1: a signed delivery whose sender hangs up,
//! slowloris and silent connections by the thousand, floods of unsigned 8 MiB bodies, an
//! oversized body written whole before the answer is read, and deep HTML email in flight while
//! ordinary deliveries keep flowing. Each names the figure it checks.

use hmac::Mac;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "api-user-attack-7f3e";

struct Server {
    _dir: tempfile::TempDir,
    db: std::path::PathBuf,
    addr: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(extra: &str) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!("[receiver]\n{extra}\n[receiver.mykaarma]\nsignature_secret = \"{SECRET}\"\n"),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&config, std::fs::Permissions::from_mode(0o600)).unwrap();
    let db = dir.path().join("sb.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--db")
        .arg(&db)
        .arg("--config")
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("SWITCHBOARD_LOG", "error")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("server did not start: {line:?}"))
        .to_string();
    Server {
        _dir: dir,
        db,
        addr,
        child,
    }
}

fn sign(body: &[u8]) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// A myKaarma event; `body_text` becomes the message (an email when it is HTML).
fn event(id: &str, body_text: &str, email: bool) -> Vec<u8> {
    let payload = serde_json::json!({
        "isUpdate": false,
        "messageDTO": {"uuid": id, "messageType": "I", "protocol": if email { "E" } else { "X" },
                       "fromNumber": "3105550100", "customerUuid": "cust-1", "customerName": "Test Customer",
                       "messageExtnDTO": {"messageBody": body_text, "subject": "hello"}}
    });
    serde_json::to_vec(&serde_json::json!({
        "id": format!("evt-{id}"), "timestamp": 1_767_225_600_000i64, "dealeruuid": "d", "departmentuuid": "dept",
        "type": "messages", "payload": payload.to_string()
    }))
    .unwrap()
}

fn request(body: &[u8], signature: Option<&str>) -> Vec<u8> {
    let mut head = format!(
        "POST /webhooks/mykaarma HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    if let Some(sig) = signature {
        head.push_str(&format!("mykaarma-signature-token: {sig}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// One request on a fresh connection; the status code (0 when the connection broke).
fn post(addr: &str, body: &[u8]) -> u16 {
    send(addr, &request(body, Some(&sign(body))))
}

/// Write `request` whole on a fresh connection, then read the answer's status code (0: none).
fn send(addr: &str, request: &[u8]) -> u16 {
    let Ok(mut s) = TcpStream::connect(addr) else { return 0 };
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let _ = s.write_all(request);
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    String::from_utf8_lossy(&buf[..n])
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn events(db: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("SELECT count(*) FROM events", [], |r| r.get(0)).unwrap()
}

fn peak_rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// `n` connections that have sent the start of a request's headers and then wait.
fn slowloris(addr: &str, n: usize) -> Vec<TcpStream> {
    (0..n)
        .filter_map(|_| {
            let mut s = TcpStream::connect(addr).ok()?;
            s.write_all(b"POST /webhooks/mykaarma HTTP/1.1\r\nHost: x\r\n").ok()?;
            Some(s)
        })
        .collect()
}

/// Let this test process hold thousands of sockets (as the receiver does for itself).
fn raise_open_files() {
    switchboard::receiver::raise_open_files_limit();
}

#[test]
fn a_signed_big_delivery_is_stored_even_when_its_sender_hangs_up() {
    let server = start("");
    // A 321 KB HTML email, as myKaarma would sign and post it; posted three times by a client that
    // closes the connection the moment it has written the body (a 5 s budget long gone).
    let html = format!(
        "<div>{}</div>",
        "<p>Service history line, parts and labour.</p>".repeat(7000)
    );
    let body = event("big-1", &html, true);
    assert!(body.len() > 320_000);
    for _ in 0..3 {
        let mut s = TcpStream::connect(&server.addr).unwrap();
        s.write_all(&request(&body, Some(&sign(&body)))).unwrap();
        drop(s);
    }
    let started = Instant::now();
    while events(&server.db) < 1 {
        assert!(started.elapsed() < Duration::from_secs(10), "the delivery was lost");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(events(&server.db), 1, "stored once, whatever the retries");
}

#[test]
fn idle_and_slowloris_connections_are_closed_and_healthz_keeps_answering() {
    raise_open_files();
    let server = start("header_timeout_secs = 2");
    // 2,000 connections that never send a byte, and 50 that send a header line every second.
    let idle: Vec<TcpStream> = (0..2000)
        .filter_map(|_| TcpStream::connect(&server.addr).ok())
        .collect();
    assert!(idle.len() >= 1500, "only {} connections opened", idle.len());
    let slow = slowloris(&server.addr, 50);
    // Meanwhile a delivery and /healthz are answered at once.
    let t = Instant::now();
    assert_eq!(post(&server.addr, &event("during", "hi", false)), 200);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    for second in 0..4 {
        for mut s in slow.iter() {
            let _ = s.write_all(format!("X-Trickle-{second}: 1\r\n").as_bytes());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    // After the header deadline (2 s) every one of them has been closed by the server: a read
    // that would block means the connection is still open.
    let still_open = idle
        .iter()
        .chain(slow.iter())
        .filter(|s| {
            let mut s = *s;
            s.set_nonblocking(true).unwrap();
            let mut buf = [0u8; 1];
            matches!(s.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
        })
        .count();
    assert_eq!(
        still_open, 0,
        "{still_open} connections still open after the header deadline"
    );
    let mut h = TcpStream::connect(&server.addr).unwrap();
    h.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let mut buf = [0u8; 64];
    let n = h.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
}

#[test]
fn floods_of_unverified_bodies_keep_memory_flat() {
    let server = start("");
    let pid = server.child.id();
    let big = vec![b'x'; 8 * 1024 * 1024 - 100];
    let flood = |signature: Option<&'static str>| {
        let threads: Vec<_> = (0..128)
            .map(|_| {
                let (addr, big) = (server.addr.clone(), big.clone());
                std::thread::spawn(move || send(&addr, &request(&big, signature)))
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect::<Vec<u16>>()
    };
    // No signature header: refused from the headers, the body never read.
    let codes = flood(None);
    assert!(codes.iter().all(|c| *c == 401 || *c == 0), "{codes:?}");
    // A signature header that will not verify: bodies are read, within the shared budget.
    let codes = flood(Some("sha256=00"));
    assert!(codes.iter().all(|c| [401, 503, 0].contains(c)), "{codes:?}");
    let peak = peak_rss_mb(pid);
    eprintln!("peak RSS under 2 x 128 concurrent unverified 8 MiB bodies: {peak:.0} MB");
    assert!(peak < 200.0, "peak RSS {peak:.0} MB");
    // And the server still takes a good delivery.
    assert_eq!(post(&server.addr, &event("after-flood", "hi", false)), 200);
}

#[test]
fn an_oversized_body_written_whole_before_reading_gets_its_413() {
    let server = start("");
    // As Python's urllib and many webhook senders do: the whole 9 MiB body, then read.
    let big = vec![b'x'; 9 * 1024 * 1024];
    let mut s = TcpStream::connect(&server.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(&request(&big, Some(&sign(&big))))
        .expect("the server read the body before answering");
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "{:?}",
        &answer[..answer.len().min(80)]
    );
}

#[test]
fn deliveries_flow_while_slowloris_and_deep_html_email_are_in_flight() {
    raise_open_files();
    let server = start("header_timeout_secs = 10");
    let slow = slowloris(&server.addr, 600);
    assert!(slow.len() >= 500);
    // Two signed 240 KB emails nested as deep as they can be.
    let deep: Vec<_> = (0..2)
        .map(|i| {
            let n = 240_000 / 9;
            let html = format!("{}hi{}", "<ul><li>".repeat(n / 2), "</li></ul>".repeat(n / 2));
            let body = event(&format!("deep-{i}"), &html, true);
            let addr = server.addr.clone();
            std::thread::spawn(move || post(&addr, &body))
        })
        .collect();
    let mut times = vec![];
    for i in 0..100 {
        let t = Instant::now();
        assert_eq!(post(&server.addr, &event(&format!("normal-{i}"), "hi", false)), 200);
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for d in deep {
        assert_eq!(d.join().unwrap(), 200);
    }
    times.sort_by(f64::total_cmp);
    let p99 = times[98];
    eprintln!(
        "normal signed post with 600 slowloris and 2 deep emails in flight: median {:.1} ms, p99 {p99:.1} ms",
        times[50]
    );
    // The figure against its goal (p99 < 50 ms) is in the closing note; a generous bound here.
    assert!(p99 < 500.0, "p99 {p99:.1} ms");
    drop(slow);
}
