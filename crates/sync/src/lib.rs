//! `ringside-sync`: the sync worker's home — what happens after the call. Ringside writes
//! exactly one activity note per call to the agency's management system (AMS), the system of
//! record, and then forgets the call's personal data. This crate will hold that work: composing
//! the note (call details, summary, agent notes, transcript), redacting it, summarizing the
//! transcript, writing it once through `ringside-ams` and triggering the purge in
//! `ringside-store` (docs/architecture.md, "The walk of a sync").
//!
//! Why its own crate: the sync is a background job with its own retries, budget and dead
//! letters, and it is the one place personal data leaves the relay for good. It depends on core,
//! store and ams, and is driven by the relay; it never lives in the HTTP layer, and nothing here
//! knows about requests or routes.
//!
//! For now only the pure parts exist, with no I/O, no clock and no network:
//! - [`redact`]: card, Social Security, bank account and routing numbers replaced by markers, so
//!   they reach neither a summarizer nor the AMS;
//! - [`summary`]: the [`Summarizer`](summary::Summarizer) seam and the built-in local,
//!   deterministic [`Extractive`](summary::Extractive) summarizer, fed only redacted input.

pub mod redact;
pub mod summary;
