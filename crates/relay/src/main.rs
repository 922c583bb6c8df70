//! The `ringside-relay` binary: all behaviour lives in the library (`ringside_relay::cli`).

fn main() -> std::process::ExitCode {
    ringside_relay::cli::main()
}
