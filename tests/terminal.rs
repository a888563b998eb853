//! The real binary in a real terminal: tmux types the keys and reads the screen. Needs tmux
//! (`apt-get install tmux`; `.ci/run` installs it).

mod common;

use common::tmux::Tmux;
use std::path::Path;
use std::process::Command;

fn switchboard(db: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn import_demo(db: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    for f in ["mykaarma.ndjson", "highlevel.ndjson", "partoo.ndjson"] {
        switchboard(db, &["import", root.join(f).to_str().unwrap()]);
    }
}

#[test]
fn demo_session_move_open_filter_search_live_quit() {
    let t = Tmux::new("session");
    import_demo(&t.db());
    t.start(80, 24, "");
    // Keys typed before the list has loaded have nothing to act on: wait for the rows.
    let screen = t.wait_for("/25");
    assert!(
        screen.contains("LIST │ as ") && screen.contains("│ filter: all"),
        "{screen}"
    );
    assert!(t.alternate_screen_on());

    // Move and open a thread.
    t.keys(&["j", "j", "Enter"]);
    let screen = t.wait_for("THREAD │");
    assert!(screen.contains("Oluwaseun Adeyemi · +2348035550111"), "{screen}");
    assert!(
        screen.contains("✗ failed") && screen.contains("the carrier reported the message as undelivered"),
        "{screen}"
    );

    // Back, then the failed filter.
    t.keys(&["Escape"]);
    t.wait_for("LIST │");
    t.keys(&["f", "f", "f", "f"]);
    let screen = t.wait_for("filter: failed");
    assert!(screen.contains("Conversations · failed · 1/7"), "{screen}");

    // Esc clears the filter; then search (a search applies within the filter shown).
    t.keys(&["Escape"]);
    t.wait_for("filter: all");
    t.keys(&["/"]);
    t.wait_for("Search:");
    t.keys(&["winter tire", "Enter"]);
    let screen = t.wait_for("search: winter tire");
    assert!(
        screen.contains("Tomás Müller") && screen.contains("Hans Becker"),
        "{screen}"
    );
    t.keys(&["Escape"]);
    t.wait_for("/25");

    // Another process writes an event: it appears without a key press.
    let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string();
    let event = serde_json::json!({"type": "message_created", "payload": {
        "message": {"id": 990001, "conversation_id": 990, "date": now, "content_type": "Text", "sender_type": "Consumer",
                    "status": "Success", "content": "Is the red Civic still available?"},
        "conversation": {"id": 990, "consumer_name": "Zed Newcustomer", "messaging_partner": "Facebook"}}});
    let file = t.dir.path().join("new.json");
    std::fs::write(&file, event.to_string()).unwrap();
    switchboard(&t.db(), &["import", file.to_str().unwrap()]);
    let screen = t.wait_for("Zed Newcustomer");
    assert!(screen.contains("Is the red Civic"), "{screen}");
    assert!(screen.contains("/26"), "{screen}");

    // Quit: the shell gets its screen back.
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
    assert!(!t.alternate_screen_on(), "the alternate screen was left");
}

#[test]
fn sigterm_and_sighup_restore_the_terminal() {
    for signal in ["TERM", "HUP"] {
        let t = Tmux::new(&format!("sig{signal}"));
        import_demo(&t.db());
        t.start(60, 20, "");
        t.wait_for("/25");
        assert!(t.alternate_screen_on());
        // The inbox itself, not the shell around it.
        let pattern = format!("^{} --db {}", env!("CARGO_BIN_EXE_switchboard"), t.db().display());
        let killed = Command::new("pkill")
            .args([&format!("-{signal}"), "-f", &pattern])
            .status()
            .unwrap();
        assert!(killed.success(), "no process to signal");
        t.wait_for("EXIT=0");
        assert!(!t.alternate_screen_on(), "SIG{signal} left the alternate screen on");
    }
}

/// The inbox with its own receiver on a free loopback port (unsigned deliveries accepted), at
/// `w`×`h`; the port.
fn start_listening(t: &Tmux, w: u16, h: u16, env: &[(&str, &str)]) -> u16 {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    t.start_with(
        w,
        h,
        &format!("--listen 127.0.0.1:{port} --insecure-accept-unsigned"),
        env,
    );
    port
}

/// POST a Partoo fixture to the inbox's receiver.
fn post_partoo(port: u16) -> reqwest::Result<reqwest::blocking::Response> {
    let event =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/partoo/google_consumer_success.json"))
            .unwrap();
    reqwest::blocking::Client::new()
        .post(format!("http://127.0.0.1:{port}/webhooks/partoo"))
        .body(event)
        .send()
}

#[test]
fn the_in_process_receiver_shows_up_in_the_status_bar() {
    let t = Tmux::new("listen");
    let port = start_listening(&t, 100, 30, &[]);
    t.wait_for("No conversations yet");
    let screen = t.wait_for("receiving on");
    assert!(screen.contains(&format!("receiving on 127.0.0.1:{port}")), "{screen}");
    assert_eq!(post_partoo(port).unwrap().status().as_u16(), 200);
    t.wait_for("Hans Becker");
    t.wait_for("Winter tires in stock?");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

#[test]
fn a_thread_behind_the_screen_that_panics_leaves_the_screen_whole_and_says_so() {
    let t = Tmux::new("panic");
    // The in-process receiver's writer panics at its first delivery.
    let port = start_listening(&t, 80, 24, &[("SWITCHBOARD_FAULT_WRITER_PANICS", "1")]);
    t.wait_for("receiving on");
    if let Ok(answer) = post_partoo(port) {
        assert_eq!(answer.status().as_u16(), 503, "never acknowledged");
    }
    let screen = t.wait_for("receiver stopped");
    assert!(
        !screen.contains("panicked"),
        "the panic was printed over the screen:\n{screen}"
    );
    assert!(t.alternate_screen_on(), "the panic took the screen down");
    // The inbox goes on.
    assert!(screen.contains("No conversations yet"), "{screen}");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
    let log = std::fs::read_to_string(t.db().with_file_name("switchboard").join("switchboard.log")).unwrap();
    assert!(log.contains("the writer thread panicked"), "{log}");
}

#[test]
fn the_living_demo_delivers_a_reply_and_explains_an_opt_out() {
    let t = Tmux::new("reply");
    // Wide enough that the failure reason is not wrapped.
    t.start_demo(200, 50, "", &[]);
    t.wait_for("María González"); // the list has loaded
    // Tony Russo is there from the start: the README's opt-out example.
    assert!(t.screen().contains("Tony Russo"), "{}", t.screen());
    t.keys(&["/", "gonzalez", "Enter"]); // accents and case do not matter
    t.wait_for("search: gonzalez");
    t.keys(&["g", "Enter"]);
    t.wait_for("María González · 3105550142");
    t.keys(&["r"]);
    t.wait_for("REPLY │");
    t.keys(&["-l", "See you at 11:30!"]);
    t.keys(&["C-s"]);
    t.wait_for("Send this text to 3105550142?");
    t.keys(&["y"]);
    // Through the sandbox: accepted, then its callback and its webhooks come back via the receiver.
    let screen = t.wait_for_within("Alex Rivera  ✓✓ delivered", 15);
    assert!(screen.contains("See you at 11:30!"), "{screen}");

    // Tony Russo's number is opted out of texts.
    t.keys(&["Escape"]); // back to the list
    t.keys(&["Escape"]); // the search cleared
    t.wait_for("/26");
    t.keys(&["/", "Tony", "Enter"]);
    t.wait_for("search: Tony");
    t.keys(&["g", "Enter"]);
    t.wait_for("Tony Russo · 3105550000");
    t.keys(&["r"]);
    t.wait_for("REPLY │");
    t.keys(&["-l", "Yes, a loaner is ready for you."]);
    t.keys(&["C-s"]);
    t.wait_for("Send this text to 3105550000?");
    t.keys(&["y"]);
    let screen = t.wait_for_within(
        "The customer opted out of texts on this number; call or email instead.",
        15,
    );
    assert!(screen.contains("✗ failed"), "{screen}");

    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

#[test]
fn the_editor_takes_the_terminal_and_gives_it_back() {
    let t = Tmux::new("editor");
    import_demo(&t.db());
    // An "editor" that writes the reply and exits, as a person would after typing it.
    let editor = t.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'Written in the editor.\\nSecond line.' > \"$1\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    t.start_with(100, 30, "", &[("EDITOR", editor.to_str().unwrap()), ("VISUAL", "")]);
    t.wait_for("María Gon"); // the list has loaded
    t.keys(&["G", "Enter"]);
    t.wait_for("María González · 3105550142");
    t.keys(&["r"]);
    t.wait_for("REPLY │");
    t.keys(&["C-e"]);
    let screen = t.wait_for("Second line.");
    assert!(
        screen.contains("Written in the editor.") && screen.contains("REPLY │"),
        "{screen}"
    );
    assert!(t.alternate_screen_on(), "back on the inbox's screen");
    // Keys work again: Esc leaves the pane, q quits cleanly.
    t.keys(&["Escape"]);
    t.wait_for("THREAD │");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}
