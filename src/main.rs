use clap::Parser;
use clap::error::ErrorKind;
use std::process::ExitCode;
use switchboard::cli::{Cli, Exit, run};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    match run(cli) {
        Ok(Exit::Ok) => ExitCode::SUCCESS,
        Ok(Exit::Found) => ExitCode::from(1),
        Ok(Exit::Unknown) => ExitCode::from(3),
        // The reader went away (`| head`): nothing left to say to anyone.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: what failed and why, never a backtrace.
            // Errors can quote what a vendor or a file said: printable text only.
            eprintln!("switchboard: {}", switchboard::sanitize::line(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Help and version as clap prints them; a usage mistake as one line, like every other error.
fn usage_error(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(2)
        }
        _ => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid usage");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            use clap::CommandFactory;
            let cli = Cli::command();
            let names: Vec<&str> = cli
                .get_subcommands()
                .filter(|c| !c.is_hide_set())
                .map(|c| c.get_name())
                .collect();
            let command = std::env::args().skip(1).find(|a| names.contains(&a.as_str()));
            let help = match command {
                Some(c) => format!("switchboard {c} --help"),
                None => "switchboard --help".into(),
            };
            eprintln!("switchboard: {} (see `{help}`)", switchboard::sanitize::line(first));
            ExitCode::from(2)
        }
    }
}
