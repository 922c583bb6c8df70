//! `ringside-relay sandbox-ams`: the sandbox AMS (`ringside_ams::sandbox`) on its own, to connect
//! a relay's org to by hand (`ams connect --kind sandbox`) and watch the activities it receives
//! (`GET /sandbox/activities`). Fictional clients only; in memory; until Ctrl-C.

use std::net::SocketAddr;
use std::time::Duration;

use ringside_ams::sandbox::{Sandbox, SandboxOptions};

use crate::Error;

/// `sandbox-ams` arguments.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Where to listen (loopback: it accepts any request that has its fictional credentials).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4010")]
    pub listen: SocketAddr,
    /// Milliseconds added before each answer, as a real AMS takes.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub latency_ms: u64,
}

/// Runs the sandbox until SIGINT or SIGTERM.
///
/// # Errors
/// Binding or serving failed.
#[allow(clippy::print_stdout)] // the CLI's job is to print
pub fn run(args: &SandboxArgs) -> Result<(), Error> {
    let sandbox = Sandbox::new(SandboxOptions {
        latency: Duration::from_millis(args.latency_ms),
        ..SandboxOptions::default()
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(Error::io("starting the async runtime"))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(Error::io(format!("binding {}", args.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(Error::io("reading the listening address"))?;
        println!("sandbox AMS (Applied Epic subset) on http://{addr}");
        println!("connect an org with: ringside-relay ams connect --org ORG --kind sandbox \\");
        println!("    --base-url http://{addr} --credentials-file FILE");
        println!(
            "where FILE (chmod 600) holds: {}",
            sandbox.credentials_json()
        );
        println!("activities received: http://{addr}/sandbox/activities");
        sandbox
            .serve(listener, crate::cli::shutdown_signal("sandbox AMS"))
            .await
            .map_err(Error::io("serving"))
    })
}
