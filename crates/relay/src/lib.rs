//! The Ringside relay: a small, self-hostable server that receives VoIP providers' webhooks,
//! pushes screen pops to agents over WebSocket, writes call notes to the agency's management
//! system and then purges the personal data (docs/architecture.md).
//!
//! The relay is HTTP (`api`), the stream hub (`hub`), the call pipeline ([`calls`]), the
//! scheduler (`hygiene`) and the wiring (`server`, `state`, `open`, `config`); identity is
//! `ringside-identity`'s and persistence `ringside-store`'s. The operator's commands live in
//! [`commands`]. `main.rs` only calls [`cli::main`]; everything — including [`run`], which
//! tests start on `127.0.0.1:0` — lives here so it can be tested without spawning processes.

pub mod ams;
mod api;
mod caller;
pub mod calls;
pub mod cli;
pub mod commands;
pub mod config;
mod error;
mod hub;
pub mod hygiene;
pub mod integrations;
mod open;
mod privacy;
mod server;
mod state;
mod summarizer;
pub mod sync;
pub mod telemetry;
mod tls;

pub use config::Config;
pub use error::Error;
pub use server::{DESKTOP_ORIGINS, GRACE, Seams, app, run, run_with, run_with_clock};
