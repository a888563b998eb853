use clap::Parser;
use std::process::ExitCode;
use switchboard::cli::{Cli, Exit, run};

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(Exit::Ok) => ExitCode::SUCCESS,
        Ok(Exit::Found) => ExitCode::from(1),
        Err(e) => {
            // One line: what failed and why, never a backtrace.
            eprintln!("switchboard: {e:#}");
            ExitCode::from(2)
        }
    }
}
