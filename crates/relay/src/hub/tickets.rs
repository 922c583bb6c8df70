//! Stream tickets: how a WebSocket, which cannot carry an `Authorization` header from a browser,
//! is tied to a signed-in session.
//!
//! Why tickets rather than the access token in the URL: URLs end up in proxy logs and browser
//! history. A ticket is obtained over the authenticated API, works once, and only for 30
//! seconds — a logged one is already spent. Only its hash is kept, in memory: a relay restart
//! simply makes clients ask for a new one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use ringside_core::{Clock, OrgId, SessionId, UserId};
use ringside_store::TokenHash;
use time::OffsetDateTime;

use ringside_identity::{SecretToken, TokenKind, tokens::hash_presented};

/// How long a ticket works.
pub(crate) const TICKET_TTL_SECS: u32 = 30;

/// More outstanding tickets than this and the oldest are dropped (a client asking in a loop
/// cannot grow the map without bound).
const MAX_OUTSTANDING: usize = 100_000;

/// Expired tickets are swept out once the map holds this many.
const SWEEP_ABOVE: usize = 4_096;

/// What a ticket stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    pub(crate) org: OrgId,
    pub(crate) user: UserId,
    pub(crate) session: SessionId,
    expires_at: OffsetDateTime,
}

/// The outstanding tickets.
#[derive(Debug)]
pub(crate) struct Tickets {
    issued: Mutex<HashMap<TokenHash, Ticket>>,
    clock: Arc<dyn Clock>,
}

impl Tickets {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            issued: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// A new ticket for `session`: its text, to hand to the client once.
    pub(crate) fn issue(&self, org: OrgId, user: UserId, session: SessionId) -> SecretToken {
        let token = SecretToken::generate(TokenKind::StreamTicket);
        let now = self.clock.now();
        let ticket = Ticket {
            org,
            user,
            session,
            expires_at: now + time::Duration::seconds(i64::from(TICKET_TTL_SECS)),
        };
        let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
        // Spent and expired tickets are swept only when the map is large, so a reconnect storm
        // costs a constant per ticket, not a walk of every outstanding one.
        if issued.len() >= SWEEP_ABOVE {
            issued.retain(|_, t| t.expires_at > now);
        }
        if issued.len() >= MAX_OUTSTANDING {
            // More than this many live tickets within 30 s is abuse: refuse to grow further by
            // dropping the one that expires first.
            if let Some(oldest) = issued
                .iter()
                .min_by_key(|(_, t)| t.expires_at)
                .map(|(h, _)| *h)
            {
                issued.remove(&oldest);
            }
        }
        issued.insert(token.hash(), ticket);
        token
    }

    /// Uses up a ticket: what it stands for, if it is one of ours and still fresh. A second use,
    /// an expired or a made-up ticket all answer `None`.
    pub(crate) fn redeem(&self, text: &str) -> Option<Ticket> {
        let hash = hash_presented(TokenKind::StreamTicket, text)?;
        let ticket = self
            .issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&hash)?;
        (ticket.expires_at > self.clock.now()).then_some(ticket)
    }
}

#[cfg(test)]
mod tests {
    use ringside_core::FakeClock;

    use super::*;

    #[test]
    fn a_ticket_works_once_and_only_for_thirty_seconds() {
        let clock = Arc::new(FakeClock::new(
            time::macros::datetime!(2026-11-23 09:00 UTC),
        ));
        let tickets = Tickets::new(Arc::<FakeClock>::clone(&clock));
        let (org, user, session) = (OrgId::random(), UserId::random(), SessionId::random());
        let first = tickets.issue(org, user, session);
        assert!(first.expose().starts_with("rst_"));
        let redeemed = tickets
            .redeem(first.expose())
            .expect("a fresh ticket works");
        assert_eq!(
            (redeemed.org, redeemed.user, redeemed.session),
            (org, user, session)
        );
        assert!(tickets.redeem(first.expose()).is_none(), "only once");

        let late = tickets.issue(org, user, session);
        clock.advance(std::time::Duration::from_secs(31));
        assert!(tickets.redeem(late.expose()).is_none(), "expired");
        assert!(tickets.redeem("rst_0123").is_none(), "malformed");
        let other_kind = SecretToken::generate(TokenKind::Access);
        assert!(
            tickets.redeem(other_kind.expose()).is_none(),
            "an access token is no ticket"
        );
    }
}
