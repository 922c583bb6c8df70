//! `ringside-bench`: the relay's figures, each printed beside a bare baseline measured in the
//! same run (docs/benchmarks.md). The relay under test is the real `ringside-relay serve` binary,
//! started as a child process on a fresh data folder the bench prepares.

mod baseline;
mod client;
mod options;
mod relay;
mod report;
mod scenarios;
mod stats;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let options = options::Options::parse();
    match scenarios::main(options) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("ringside-bench: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
