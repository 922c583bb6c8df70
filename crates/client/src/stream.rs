//! The WebSocket stream (`GET /v1/stream`, DESIGN §4) will live here: a stream ticket from
//! `POST /v1/stream/ticket` through [`crate::Session`], reconnection with exponential back-off
//! and jitter, `resume {after_seq}`, and deduplication by `seq` so each pop is shown exactly once.
//!
//! It is empty because the relay has no stream yet (issue 4, item 6); the module exists so the
//! place is decided and documented before the code arrives.
