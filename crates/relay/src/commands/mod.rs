//! The operator's commands, one file per command family. Each opens the data folder through
//! `crate::open` (one rule for the store and the master keys), does its work through the same
//! services `serve` uses, and returns what the CLI layer (`crate::cli`) prints.
//!
//! - [`ams`]: `ams connect|status|test|disconnect`; [`sandbox`]: `sandbox-ams`;
//! - [`org`]: `org create`, `invite`, `integration create|list|delete`;
//! - [`route`]: `route add|list|delete|fallback`;
//! - [`keys`]: `keys rotate`;
//! - [`audit`]: `audit verify|export`;
//! - [`sync`]: `sync list|retry`, `retention report`;
//! - [`privacy`]: `erase`, `org terminate|restore`; [`summarizer`]: `summarizer set|show|clear`;
//! - [`simulate`]: `simulate call|sms`, signed as each provider would;
//! - [`demo`]: `demo`, a relay and a stream of fictional calls on a fresh folder;
//! - [`listen`]: `listen`, a terminal client of a relay's pop stream.

pub mod ams;
pub mod audit;
pub mod demo;
pub mod keys;
pub mod listen;
pub mod org;
pub mod privacy;
pub mod route;
pub mod sandbox;
pub mod simulate;
pub mod summarizer;
pub mod sync;
