//! Integration tests of the relay: real SQLite files in temporary folders, real HTTP(S) servers
//! on 127.0.0.1:0, the real binary for signal and exit-code behaviour.
//!
//! One binary (style.md item 11); each module says what belongs in it.

// Test helpers panic on failure: that is how a test reports it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

/// The AMS live: matches in `pop_update`, failures, notices, connecting over the API and CLI.
mod ams;
/// The HTTP API's common behaviour: headers, problem+json, rate limits, OpenAPI.
mod api;
/// `audit verify` and `audit export` through the real binary, against a tampered file too.
mod audit;
/// The real `ringside-relay` binary: a clean command, `serve` on port 0, a stop by signal.
mod bin;
/// Process-level behaviour of the `ringside-relay` binary: exit codes, messages, signals.
mod cli;
/// `ringside-client` driven against a real relay: sign-in, second factor, refresh, sign-out.
mod client_crate;
/// `ringside-client`'s stream and `ringside-relay listen` against a real relay.
mod client_stream;
/// `ringside-relay demo` through the real binary: a fresh folder, invitations, calls that pop.
mod demo;
/// The desktop app's logic (no webview) against a real relay and keychain.
mod desktop_app;
/// `POST /v1/hooks/{integration_id}`: signed webhooks into the sealed inbox.
mod hooks;
/// `integration create|list` through the real binary.
mod integrations;
/// `keys rotate` against a real store and key file.
mod keys;
/// `GET /v1/leaderboard`: the team's tallies, role-checked and audited.
mod leaderboard;
/// Erasing a number, terminating, restoring and shredding an org.
mod lifecycle;
/// The debug-level log of the process's relays, in memory, for marker scans.
mod logs;
/// Notes and picks: kept for the routed agent, refused for anyone else, stream and HTTP.
mod notes;
/// The one fixture: an org on a running relay, its members, and calls rung as a provider would.
mod office;
/// `org create` and `invite` through the real binary, the invitation accepted.
mod org_cli;
/// `route add|list|delete|fallback` through the real binary.
mod routing_cli;
/// `serve` over plain HTTP: health and readiness.
mod serve;
/// `simulate call` through the real binary, and `simulate::place_call` in process.
mod simulate;
/// The pipeline over real sockets: webhooks in, routed pops out on the stream, exactly once.
mod stream;
/// After the call: one note in the sandbox AMS, the purge, dead letters, the 30-day cap.
mod sync;
/// `serve` over TLS 1.3 (rustls).
mod tls;
/// Transcripts fetched from a provider's API (Dialpad's) with the integration's key.
mod transcript_api;
/// Shared helpers: a relay on port 0, temporary data folders.
mod utils;
