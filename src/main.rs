use clap::Parser;
use std::process::ExitCode;
use switchboard::cli::{Cli, Exit, run};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(Exit::Ok) => ExitCode::SUCCESS,
        Ok(Exit::Found) => ExitCode::from(1),
        Ok(Exit::Unknown) => ExitCode::from(3),
        // The reader went away (`| head`): nothing left to say to anyone.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: what failed and why, never a backtrace.
            eprintln!("switchboard: {e:#}");
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
