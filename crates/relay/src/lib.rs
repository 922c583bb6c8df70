//! The Ringside relay: a small, self-hostable server that receives VoIP providers' webhooks,
//! pushes screen pops to agents over WebSocket, writes call notes to the agency's management
//! system and then purges the personal data (see `DESIGN.md`).
//!
//! `main.rs` only calls [`cli::main`]; everything — including [`run`], which tests start on
//! `127.0.0.1:0` — lives here so it can be tested without spawning processes.

mod api;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
mod error;
mod hub;
pub mod hygiene;
mod ingest;
pub mod keys;
pub mod listen;
pub mod lookup;
mod pipeline;
pub mod routing;
mod server;
pub mod simulate;
mod state;
pub mod telemetry;
mod tls;

pub use config::Config;
pub use error::Error;
pub use server::{DESKTOP_ORIGINS, GRACE, Seams, run, run_with, run_with_clock};
