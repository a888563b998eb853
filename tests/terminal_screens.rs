//! What a person sees in a real terminal (tmux) at the sizes people use: every message whole at
//! 80×24, the reply pane usable at 60×15, a list with no hidden rows above blank ones, status words
//! never cut side by side, quick `esc q` read as the two keys typed.

mod common;

use common::tmux::Tmux;
use std::path::Path;
use std::process::Command;

fn import_demo(db: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo");
    for f in ["mykaarma.ndjson", "highlevel.ndjson", "partoo.ndjson"] {
        let out = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .arg("--db")
            .arg(db)
            .args(["import", root.join(f).to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Open the conversation found by searching `who` (the first match).
fn open(t: &Tmux, who: &str, heading: &str) {
    t.keys(&["/", who, "Enter"]);
    t.wait_for(&format!("search: {who}"));
    t.keys(&["g", "Enter"]);
    t.wait_for(heading);
}

#[test]
fn every_message_is_whole_on_an_80_by_24_screen() {
    let t = Tmux::new("messages");
    import_demo(&t.db());
    let editor_fails = t.dir.path().join("false-editor.sh");
    std::fs::write(&editor_fails, "#!/bin/sh\nexit 3\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor_fails, std::fs::Permissions::from_mode(0o755)).unwrap();
    // No myKaarma credentials: sending is off.
    t.start_with(
        80,
        24,
        "",
        &[("EDITOR", editor_fails.to_str().unwrap()), ("VISUAL", "")],
    );
    t.wait_for("/25");

    // A HighLevel thread with no HighLevel token: the pane says exactly what to set.
    open(&t, "Jordan", "Jordan Lee");
    t.keys(&["r"]);
    t.wait_for("SWITCHBOARD_HIGHLEVEL_TOKEN");
    assert!(
        t.flat_screen().contains(
            "Replies to HighLevel conversations need a token: set SWITCHBOARD_HIGHLEVEL_TOKEN to the sub-account's Private Integration token"
        ),
        "{}",
        t.screen()
    );

    // No failed reply to send again (back in the thread, the draft kept).
    t.keys(&["Escape"]);
    t.keys(&["R"]);
    assert!(
        t.flat_screen()
            .contains("No failed or unknown reply in this thread to send again."),
        "{}",
        t.screen()
    );

    // A myKaarma thread with sending off: the refusal is whole, and the `y` that was meant to
    // confirm is not typed into the text.
    t.keys(&["Escape"]);
    t.keys(&["Escape"]);
    open(&t, "Gonz", "María González");
    t.keys(&["r"]);
    t.wait_for("REPLY │");
    t.keys(&["-l", "hello"]);
    t.keys(&["C-s"]);
    let screen = t.flat_screen();
    assert!(
        screen.contains("Not sent. Replies to myKaarma conversations need its API credentials: set SWITCHBOARD_MYKAARMA_USERNAME and SWITCHBOARD_MYKAARMA_PASSWORD (or [mykaarma] username/password in a 0600 config file)."),
        "{}",
        t.screen()
    );
    t.keys(&["y"]);
    let screen = t.screen();
    assert!(screen.contains(" hello\n"), "{screen}");
    assert!(!screen.contains("helloy"), "{screen}");

    // The editor fails: said, and the reply is unchanged.
    t.keys(&["C-e"]);
    let screen = t.wait_for("exited with");
    assert!(t.flat_screen().contains("the reply is unchanged"), "{screen}");
    assert!(screen.contains(" hello\n"), "{screen}");

    // The status bar fits: no part cut in the middle.
    let bar = screen.lines().rev().nth(1).unwrap().to_string();
    assert!(!bar.contains('…'), "{bar}");
    t.keys(&["Escape", "q"]);
    t.wait_for("EXIT=0");
}

#[test]
fn an_email_without_subject_is_refused_in_words_in_the_living_demo() {
    let t = Tmux::new("subject");
    t.start_demo(80, 24, "--no-feed", &[]);
    t.wait_for("▶");
    open(&t, "Gonz", "María González");
    t.keys(&["r"]);
    t.wait_for("REPLY │");
    t.keys(&["C-t"]); // email: the subject first
    t.keys(&["Tab"]);
    t.keys(&["-l", "Your invoice is attached."]);
    t.keys(&["C-s"]);
    assert!(
        t.flat_screen()
            .contains("Not sent. An email needs a subject (Tab moves to it)."),
        "{}",
        t.screen()
    );
    t.keys(&["Escape", "q"]);
    t.wait_for("EXIT=0");
}

#[test]
fn the_reply_pane_shows_its_text_and_question_at_60_by_15() {
    let t = Tmux::new("small");
    t.start_demo(60, 15, "--no-feed", &[]);
    t.wait_for("▶");
    open(&t, "Gonz", "María Gonz");
    t.keys(&["r"]);
    t.wait_for("REPLY │");
    t.keys(&["-l", "On my way over now"]);
    let screen = t.wait_for("On my way over now");
    assert!(screen.contains("Reply · text via myKaarma"), "{screen}");
    t.keys(&["C-s"]);
    let screen = t.wait_for("Send this text to 3105550142?");
    assert!(screen.contains("On my way over now"), "{screen}");
    // Smaller than the inbox can draw: it says so.
    t.resize(30, 6);
    t.wait_for("at least 40×8");
    t.resize(60, 15);
    t.wait_for("Send this text to 3105550142?");
    t.keys(&["n", "Escape", "q"]);
    t.wait_for("EXIT=0");
}

/// The list's rows on screen (those under its title), and whether any is blank.
fn list_rows(screen: &str, rows: usize) -> Vec<String> {
    screen.lines().skip(1).take(rows).map(str::to_string).collect()
}

#[test]
fn the_list_is_full_after_bottom_open_back_and_after_growing() {
    let t = Tmux::new("scroll");
    t.start_demo(80, 24, "--no-feed", &[]);
    t.wait_for("▶");
    t.keys(&["G", "Enter"]);
    t.wait_for("THREAD │");
    t.keys(&["Escape"]);
    let screen = t.wait_for("LIST │");
    let rows = list_rows(&screen, 21);
    assert!(rows.iter().all(|r| !r.trim().is_empty()), "blank rows:\n{screen}");
    assert!(screen.contains("▶") && screen.contains("26/26"), "{screen}");
    t.resize(120, 40);
    std::thread::sleep(std::time::Duration::from_millis(400));
    let screen = t.screen();
    // 37 rows now hold all 26 conversations: none may stay hidden above.
    let filled = list_rows(&screen, 37).iter().filter(|r| !r.trim().is_empty()).count();
    assert_eq!(filled, 26, "rows hidden above blank ones:\n{screen}");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

#[test]
fn status_words_are_whole_side_by_side() {
    for width in [100u16, 120] {
        let t = Tmux::new(&format!("wide{width}"));
        import_demo(&t.db());
        t.start(width, 30, "");
        t.wait_for("/25");
        let mut seen = String::new();
        // Walk the list: each thread shows beside it.
        for _ in 0..25 {
            seen.push_str(&t.screen());
            t.keys(&["j"]);
        }
        for line in seen.lines() {
            for (glyph, words) in [
                ("✓✓ ", &["delivered", "read"][..]),
                ("✗ ", &["failed"][..]),
                ("◷ ", &["accepted", "queued", "pending"][..]),
            ] {
                for (at, _) in line.match_indices(glyph) {
                    let after = &line[at + glyph.len()..];
                    assert!(
                        words.iter().any(|w| after.starts_with(w)),
                        "a status cut at {width} columns: {line:?}"
                    );
                }
            }
            for (at, _) in line.match_indices("✓ ") {
                if !line[..at].ends_with('✓') {
                    assert!(
                        line[at..].starts_with("✓ sent"),
                        "a status cut at {width} columns: {line:?}"
                    );
                }
            }
        }
        assert!(seen.contains("✗ failed") && seen.contains("✓✓ delivered"), "{seen}");
        t.keys(&["q"]);
        t.wait_for("EXIT=0");
    }
}

/// The reply pane open on María's thread, at 80×24.
fn replying_to_maria(name: &str) -> Tmux {
    let t = Tmux::new(name);
    import_demo(&t.db());
    t.start(80, 24, "");
    t.wait_for("/25");
    open(&t, "Gonz", "María González");
    t.keys(&["r"]);
    t.wait_for("REPLY │");
    t
}

#[test]
fn esc_then_q_typed_at_once_leaves_the_reply_and_quits() {
    let t = replying_to_maria("escq");
    // One write, as a slow link delivers two keys typed quickly: ESC then q.
    t.keys(&["-H", "1b", "71"]);
    t.wait_for("EXIT=0");
}

#[test]
fn two_escapes_typed_at_once_are_two_keys() {
    let t = replying_to_maria("escesc");
    // One write: ESC ESC. The reply pane closes, then the thread: the list is back.
    t.keys(&["-H", "1b", "1b"]);
    t.wait_for("LIST │");
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}

/// Replies in a HighLevel and a Partoo conversation of the living demo go out through the sandbox
/// (standing in for both vendors) and come back, by the vendors' signed webhooks through the real
/// receiver, as delivered.
#[test]
fn the_demo_replies_through_highlevel_and_partoo_and_sees_delivered() {
    let t = Tmux::new("vendors");
    t.start_demo(100, 30, "--no-feed", &[]);
    t.wait_for("▶");
    for (who, heading, vendor, text) in [
        (
            "Jordan",
            "Jordan Lee",
            "Facebook via HighLevel",
            "See you after 5, Jordan",
        ),
        (
            "Hans",
            "Hans Becker",
            "Google via Partoo",
            "A set is on hold for you, Hans",
        ),
    ] {
        open(&t, who, heading);
        t.keys(&["r"]);
        t.wait_for(&format!("Reply · {vendor}"));
        t.keys(&["-l", text]);
        t.wait_for(text);
        t.keys(&["C-s"]);
        t.wait_for("? y send");
        t.keys(&["y"]);
        // The pane empties and the thread shows the reply moving on to delivered.
        t.keys(&["Escape"]);
        let started = std::time::Instant::now();
        loop {
            let screen = t.screen();
            let ours = screen.lines().skip_while(|l| !l.contains(&text[..12])).take(1).count();
            let delivered = screen
                .lines()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| w[0].contains("✓✓ delivered") && w[1].contains(&text[..12]));
            if ours == 1 && delivered {
                break;
            }
            assert!(
                started.elapsed() < std::time::Duration::from_secs(15),
                "no delivered reply {text:?}:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        t.keys(&["Escape", "Escape"]);
    }
    t.keys(&["q"]);
    t.wait_for("EXIT=0");
}
