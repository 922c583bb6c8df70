//! `ringside-sync`: the sync worker's home — what happens after the call. Ringside writes
//! exactly one activity note per call to the agency's management system (AMS), the system of
//! record, and then forgets the call's personal data. This crate holds that work: composing
//! the note (call details, summary, agent notes, transcript), redacting it, summarizing the
//! transcript, writing it once through `ringside-ams` and triggering the purge in
//! `ringside-store` (docs/architecture.md, "The walk of a sync").
//!
//! Why its own crate: the sync is a background job with its own retries, budget and dead
//! letters, and it is the one place personal data leaves the relay for good. It depends on core,
//! store and ams, and is driven by the relay; it never lives in the HTTP layer, and nothing here
//! knows about requests or routes.
//!
//! - [`worker`]: the [`Worker`](worker::Worker) — the outbox worked, each call's note written
//!   once, then the call purged;
//! - [`note`]: the note's layout, every text in it redacted;
//! - [`schedule`]: when a failure is retried (Svix's ceilings, full jitter) and which ones are
//!   dead letters;
//! - [`redact`]: card, Social Security, bank account and routing numbers replaced by markers, so
//!   they reach neither a summarizer nor the AMS;
//! - [`summary`]: the [`Summarizer`](summary::Summarizer) seam and the built-in local,
//!   deterministic [`Extractive`](summary::Extractive) summarizer, fed only redacted input;
//! - [`summary::openai`]: [`OpenAiCompatible`](summary::OpenAiCompatible), summaries from a model
//!   behind an OpenAI-compatible chat-completions endpoint the agency trusts (OpenAI, Azure
//!   OpenAI, Ollama, vLLM); only redacted text is sent, and the answer is redacted again.

mod error;
pub mod note;
pub mod redact;
pub mod schedule;
pub mod summary;
pub mod worker;

pub use error::Error;
pub use worker::{PausePoint, Settings, Synced, Target, Waker, Worker};
