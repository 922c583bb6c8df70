//! End-to-end tests: the real programs as separate processes, driven from outside the way a person
//! (or another program) would use them. One test binary whose modules are the scenarios, so the
//! helpers in `utils` are compiled once and shared.
//!
//! These tests need a display and the helper programs; see docs/desktop.md for how to run them
//! (`xvfb-run -a .ci/with-keyring cargo test -p ringside-e2e`).

// Test helpers panic on failure: that is how a test reports it; and they print where they left
// the screenshots, for the person reading the run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod agent;
mod desktop_smoke;
mod expiry_and_revocation;
mod utils;
