//! Two advisors, one database: two real inboxes in tmux, each with its own `[me]`. Each reads for
//! themselves; an assignment or a done made in one shows in the other within a second.

mod common;

use common::tmux::Tmux;
use std::process::Command;
use std::time::{Duration, Instant};

/// "N unread" from the status bar.
fn unread(screen: &str) -> i64 {
    let at = screen.find(" unread ·").expect("the status bar shows the unread count");
    screen[..at]
        .rsplit(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn within_a_second(tmux: &Tmux, what: &str, check: impl Fn(&str) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let screen = tmux.screen();
        if check(&screen) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{what}: not seen within a second; the screen shows:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn two_advisors_read_assign_and_finish_each_for_themselves_and_see_each_other_live() {
    let dana = Tmux::new("dana");
    let nina = Tmux::new("nina");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut import = Command::new(env!("CARGO_BIN_EXE_switchboard"));
    import.arg("--db").arg(dana.db()).arg("import");
    for v in ["mykaarma", "highlevel", "partoo"] {
        import.arg(root.join(format!("assets/demo/{v}.ndjson")));
    }
    assert!(import.output().unwrap().status.success());

    dana.start_with(80, 24, "", &[("SWITCHBOARD_ME_NAME", "Dana Reyes")]);
    nina.start_on(&dana.db(), 80, 24, "", &[("SWITCHBOARD_ME_NAME", "Nina Patel")]);
    dana.wait_for("as Dana Reyes");
    nina.wait_for("as Nina Patel");
    let dana_screen = dana.wait_for("Conversations · all · 1/");
    let nina_screen = nina.wait_for("Conversations · all · 1/");
    let before = unread(&nina_screen);
    assert_eq!(unread(&dana_screen), before, "both start from the shared read state");

    // Dana opens the first unread conversation: read for her, still unread for Nina.
    dana.keys(&["g", "Tab"]);
    dana.wait_for("THREAD");
    within_a_second(&dana, "Dana's unread count drops", |s| unread(s) == before - 1);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        unread(&nina.screen()),
        before,
        "Nina's count is hers:\n{}",
        nina.screen()
    );
    let contact = dana
        .screen()
        .lines()
        .find(|l| l.starts_with("▶"))
        .map(|l| l[4..].split("  ").next().unwrap().trim().to_string())
        .expect("a selected row");

    // Dana takes it; Nina sees it as Dana's within a second.
    dana.keys(&["Escape", "a"]);
    let row_of = |screen: &str| -> Option<String> { screen.lines().find(|l| l.contains(&contact)).map(str::to_string) };
    let took = within_a_second(&nina, "Dana's assignment in Nina's list", |s| {
        row_of(s).is_some_and(|r| r.contains("@Dana"))
    });
    within_a_second(&dana, "Dana sees it as hers", |s| {
        row_of(s).is_some_and(|r| r.contains("@me"))
    });
    nina.keys(&["f", "f"]);
    nina.wait_for("Conversations · mine");
    assert!(row_of(&nina.screen()).is_none(), "not in Nina's mine");
    nina.keys(&["Escape"]);
    nina.wait_for("Conversations · all");

    // Dana marks it done; it leaves Nina's list within a second.
    dana.keys(&["d"]);
    dana.wait_for("Done:");
    let gone = within_a_second(&nina, "the done conversation leaves Nina's list", |s| {
        row_of(s).is_none()
    });
    eprintln!("assignment seen by the other advisor after {took:?}; done after {gone:?}");
}
