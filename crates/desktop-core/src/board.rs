//! The pops on the agent's screen, as a pure state machine over the stream's messages: what the
//! UI renders is [`Board::view`], never the messages themselves.
//!
//! The rules agents asked for (`anchors.md` §3: duplicate pops, pops stacking ten high, pops that
//! come back, the wrong contact picked silently):
//! - a pop is shown once: a message at or below the highest `seq` handled changes nothing, and a
//!   pop id seen before is never shown again — dismissed here or on another device, expired, or
//!   closed on hang-up;
//! - at most [`Board::cap`] pops are shown, newest first; older live ones collapse into a count;
//! - several AMS matches stay several until the agent picks one ([`Board::pick`]), which is
//!   then what the pop shows and what is sent as `pick`;
//! - a call that rang and was never answered joins the missed calls, its number masked once its
//!   pop is gone (the pop's 5 minutes are all the desktop keeps a full number).

use std::collections::HashSet;

use ringside_core::wire::{
    Board as BoardView, CallState, ClientMessage, MissedCall, Pop, PopCard, ServerMessage,
};
use ringside_core::{CallId, PhoneNumber, Pii, PopId};
use time::format_description::well_known::Rfc3339;

/// How many pops are shown before older ones collapse, unless the agent chose otherwise.
pub const DEFAULT_CAP: usize = 3;

/// The most missed calls kept.
const MAX_MISSED: usize = 50;

#[derive(Debug, Clone)]
struct Live {
    pop: Pop,
    state: CallState,
    answered: bool,
    picked: Option<String>,
}

#[derive(Debug, Clone)]
struct Missed {
    call: CallId,
    pop: PopId,
    /// The full number, while the pop lives.
    number: Option<PhoneNumber>,
    /// `***-***-1234`, kept after.
    masked: Option<String>,
    at: String,
    seen: bool,
}

/// What the agent wants of pops (kept in the profile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behaviour {
    /// Pops shown before older ones collapse (1–10).
    pub cap: usize,
    /// Close a pop when its call ends.
    pub close_on_hang_up: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self {
            cap: DEFAULT_CAP,
            close_on_hang_up: false,
        }
    }
}

/// The pops and missed calls of one signed-in user.
#[derive(Debug, Clone, Default)]
pub struct Board {
    live: Vec<Live>,
    gone: HashSet<PopId>,
    missed: Vec<Missed>,
    handled_seq: u64,
    behaviour: Behaviour,
}

/// What applying a message did, for the caller to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Nothing (a duplicate, an old or unrelated message).
    Nothing,
    /// The board changed: render it again.
    Redraw,
    /// A new pop appeared (notify the agent), and the board changed.
    NewPop(PopId),
}

impl Board {
    /// An empty board that has handled everything up to `handled_seq` (persisted across runs).
    #[must_use]
    pub fn new(handled_seq: u64, behaviour: Behaviour) -> Self {
        Self {
            handled_seq,
            behaviour: Behaviour {
                cap: behaviour.cap.clamp(1, 10),
                ..behaviour
            },
            ..Self::default()
        }
    }

    /// The cap on pops shown.
    #[must_use]
    pub fn cap(&self) -> usize {
        self.behaviour.cap
    }

    /// The highest `seq` handled so far (to ack, and to resume from).
    #[must_use]
    pub fn handled_seq(&self) -> u64 {
        self.handled_seq
    }

    /// Applies one stream message.
    pub fn apply(&mut self, message: &ServerMessage) -> Change {
        if let Some(seq) = message.seq() {
            if seq <= self.handled_seq {
                return Change::Nothing;
            }
            self.handled_seq = seq;
        }
        match message {
            ServerMessage::Pop(pop) => self.add(pop),
            ServerMessage::PopUpdate(update) => match self.find(update.pop_id) {
                Some(live) => {
                    live.pop.match_state = update.match_state.clone();
                    Change::Redraw
                }
                None => Change::Nothing,
            },
            ServerMessage::PopExpired(gone) | ServerMessage::PopDismissed(gone) => {
                self.remove(gone.pop_id)
            }
            ServerMessage::CallState(change) => self.moved(change.call_id, change.state),
            _ => Change::Nothing,
        }
    }

    fn add(&mut self, pop: &Pop) -> Change {
        if !self.gone.insert(pop.pop_id) {
            return Change::Nothing;
        }
        self.live.push(Live {
            pop: pop.clone(),
            state: pop.state,
            answered: pop.state == CallState::Answered,
            picked: None,
        });
        Change::NewPop(pop.pop_id)
    }

    fn find(&mut self, pop: PopId) -> Option<&mut Live> {
        self.live.iter_mut().find(|l| l.pop.pop_id == pop)
    }

    fn remove(&mut self, pop: PopId) -> Change {
        self.gone.insert(pop);
        let before = self.live.len();
        self.live.retain(|l| l.pop.pop_id != pop);
        for missed in self.missed.iter_mut().filter(|m| m.pop == pop) {
            // The pop's 5 minutes are over: only the masked number stays.
            missed.number = None;
        }
        if self.live.len() == before {
            Change::Nothing
        } else {
            Change::Redraw
        }
    }

    fn moved(&mut self, call: CallId, state: CallState) -> Change {
        let mut changed = Change::Nothing;
        let mut closing = Vec::new();
        for live in self.live.iter_mut().filter(|l| l.pop.call_id == call) {
            live.state = state;
            live.answered |= state == CallState::Answered;
            changed = Change::Redraw;
            if state.is_final() {
                if !live.answered {
                    let number = live
                        .pop
                        .number
                        .as_ref()
                        .and_then(|n| PhoneNumber::parse(n.expose()).ok());
                    self.missed.insert(
                        0,
                        Missed {
                            call,
                            pop: live.pop.pop_id,
                            masked: number.as_ref().map(PhoneNumber::mask),
                            number,
                            at: rfc3339(live.pop.created_at),
                            seen: false,
                        },
                    );
                    self.missed.truncate(MAX_MISSED);
                }
                if self.behaviour.close_on_hang_up {
                    closing.push(live.pop.pop_id);
                }
            }
        }
        for pop in closing {
            self.remove(pop);
        }
        changed
    }

    /// The agent closed a pop: it is gone here, and the message tells their other devices.
    /// `None` when it is not on the board.
    pub fn dismiss(&mut self, pop: PopId) -> Option<ClientMessage> {
        (self.remove(pop) == Change::Redraw).then_some(ClientMessage::Dismiss { pop_id: pop })
    }

    /// The agent closed every pop.
    pub fn dismiss_all(&mut self) -> Vec<ClientMessage> {
        let pops: Vec<PopId> = self.live.iter().map(|l| l.pop.pop_id).collect();
        pops.into_iter().filter_map(|p| self.dismiss(p)).collect()
    }

    /// The agent picked `contact` among the pop's matches: shown on the pop, and the message
    /// records it for the call's note. `None` when the pop is gone or the contact is not one of
    /// its matches.
    pub fn pick(&mut self, pop: PopId, contact: &str) -> Option<ClientMessage> {
        let live = self.find(pop)?;
        let ringside_core::wire::MatchState::Found { contacts } = &live.pop.match_state else {
            return None;
        };
        if !contacts.iter().any(|c| c.id == contact) {
            return None;
        }
        live.picked = Some(contact.to_owned());
        Some(ClientMessage::Pick {
            call_id: live.pop.call_id,
            contact: contact.to_owned(),
        })
    }

    /// The note the agent typed on a pop, as the message to send. `None` when the pop is gone
    /// or the text is blank.
    pub fn note(&mut self, pop: PopId, text: &str) -> Option<ClientMessage> {
        let live = self.find(pop)?;
        let text = text.trim();
        (!text.is_empty()).then(|| ClientMessage::Note {
            call_id: live.pop.call_id,
            text: Pii::new(text.to_owned()),
        })
    }

    /// Marks every missed call seen.
    pub fn mark_missed_seen(&mut self) {
        for missed in &mut self.missed {
            missed.seen = true;
        }
    }

    /// Forgets everything (sign-out).
    pub fn clear(&mut self) {
        self.live.clear();
        self.missed.clear();
    }

    /// What the UI shows.
    #[must_use]
    pub fn view(&self) -> BoardView {
        let cap = self.behaviour.cap;
        let cards = self
            .live
            .iter()
            .rev()
            .take(cap)
            .map(|live| PopCard {
                pop_id: live.pop.pop_id,
                call_id: live.pop.call_id,
                direction: live.pop.direction,
                number: live.pop.number.as_ref().map(|n| {
                    Pii::new(
                        PhoneNumber::parse(n.expose())
                            .map_or_else(|_| n.expose().clone(), |p| p.formatted()),
                    )
                }),
                caller_name: live.pop.caller_name.clone(),
                state: live.state,
                match_state: live.pop.match_state.clone(),
                picked: live.picked.clone(),
                sms_opted_out: live.pop.sms_opted_out,
                created_at: rfc3339(live.pop.created_at),
            })
            .collect();
        let missed = self
            .missed
            .iter()
            .map(|m| MissedCall {
                call_id: m.call,
                number: m
                    .number
                    .as_ref()
                    .map(PhoneNumber::formatted)
                    .or_else(|| m.masked.clone()),
                at: m.at.clone(),
                seen: m.seen,
            })
            .collect();
        BoardView {
            cards,
            collapsed: u32::try_from(self.live.len().saturating_sub(cap)).unwrap_or(u32::MAX),
            missed,
        }
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use ringside_core::wire::{
        CallStateChange, Contact, Direction, MatchState, PopGone, PopUpdate, RecordKind,
    };
    use time::OffsetDateTime;

    use super::*;

    fn pop(seq: u64, call: CallId, matches: MatchState) -> Pop {
        Pop {
            seq,
            pop_id: PopId::random(),
            call_id: call,
            direction: Direction::Inbound,
            number: Some(Pii::new("+16175550199".to_owned())),
            caller_name: Some(Pii::new("Dana W".to_owned())),
            state: CallState::Ringing,
            match_state: matches,
            sms_opted_out: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
            expires_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    fn contact(id: &str) -> Contact {
        Contact {
            id: id.to_owned(),
            kind: RecordKind::Client,
            name: Pii::new(format!("Client {id}")),
            detail: None,
            open_url: None,
        }
    }

    #[test]
    fn a_pop_shows_once_whatever_is_replayed_and_a_dismissed_one_never_comes_back() {
        let mut board = Board::new(0, Behaviour::default());
        let first = pop(1, CallId::random(), MatchState::Pending);
        assert_eq!(
            board.apply(&ServerMessage::Pop(first.clone())),
            Change::NewPop(first.pop_id)
        );
        assert_eq!(
            board.apply(&ServerMessage::Pop(first.clone())),
            Change::Nothing,
            "a replay at the same seq"
        );
        let again = Pop {
            seq: 9,
            ..first.clone()
        };
        assert_eq!(
            board.apply(&ServerMessage::Pop(again)),
            Change::Nothing,
            "the same pop id under a later seq"
        );
        let sent = board.dismiss(first.pop_id).unwrap();
        assert_eq!(
            sent,
            ClientMessage::Dismiss {
                pop_id: first.pop_id
            }
        );
        assert!(board.view().cards.is_empty());
        let later = Pop {
            seq: 10,
            ..first.clone()
        };
        assert_eq!(board.apply(&ServerMessage::Pop(later)), Change::Nothing);
        assert!(board.view().cards.is_empty(), "dismissed stays dismissed");
        assert_eq!(board.handled_seq(), 10);
    }

    #[test]
    fn older_pops_collapse_behind_the_cap_newest_first() {
        let mut board = Board::new(
            0,
            Behaviour {
                cap: 2,
                close_on_hang_up: false,
            },
        );
        let pops: Vec<Pop> = (1..=5)
            .map(|s| pop(s, CallId::random(), MatchState::Pending))
            .collect();
        for p in &pops {
            board.apply(&ServerMessage::Pop(p.clone()));
        }
        let view = board.view();
        assert_eq!(view.cards.len(), 2);
        assert_eq!(view.cards[0].pop_id, pops[4].pop_id, "newest first");
        assert_eq!(view.cards[1].pop_id, pops[3].pop_id);
        assert_eq!(view.collapsed, 3, "the +3 line");
        assert_eq!(
            view.cards[0].number.as_ref().map(|n| n.expose().as_str()),
            Some("(617) 555-0199")
        );
        assert_eq!(board.dismiss_all().len(), 5);
        assert_eq!(board.view().collapsed, 0);
    }

    #[test]
    fn several_matches_wait_for_the_agents_pick_which_must_be_one_of_them() {
        let mut board = Board::new(0, Behaviour::default());
        let first = pop(1, CallId::random(), MatchState::Pending);
        board.apply(&ServerMessage::Pop(first.clone()));
        let found = MatchState::Found {
            contacts: vec![contact("a"), contact("b")],
        };
        board.apply(&ServerMessage::PopUpdate(PopUpdate {
            seq: 2,
            pop_id: first.pop_id,
            match_state: found.clone(),
        }));
        let card = &board.view().cards[0];
        assert_eq!(card.match_state, found);
        assert_eq!(card.picked, None, "never one picked silently");
        assert_eq!(
            board.pick(first.pop_id, "z"),
            None,
            "not one of its matches"
        );
        assert_eq!(
            board.pick(first.pop_id, "b"),
            Some(ClientMessage::Pick {
                call_id: first.call_id,
                contact: "b".to_owned()
            })
        );
        assert_eq!(board.view().cards[0].picked.as_deref(), Some("b"));
        assert_eq!(
            board.note(first.pop_id, "   "),
            None,
            "a blank note is not sent"
        );
        assert!(matches!(
            board.note(first.pop_id, " Wants a quote "),
            Some(ClientMessage::Note { text, .. }) if text.expose() == "Wants a quote"
        ));
    }

    #[test]
    fn an_unanswered_call_is_missed_and_keeps_only_the_masked_number_after_its_pop() {
        let mut board = Board::new(
            0,
            Behaviour {
                cap: 3,
                close_on_hang_up: true,
            },
        );
        let call = CallId::random();
        let rang = pop(1, call, MatchState::NoMatch);
        board.apply(&ServerMessage::Pop(rang.clone()));
        board.apply(&ServerMessage::CallState(CallStateChange {
            seq: 2,
            call_id: call,
            state: CallState::Missed,
        }));
        let view = board.view();
        assert!(view.cards.is_empty(), "closed on hang-up");
        assert_eq!(view.missed.len(), 1);
        assert_eq!(
            view.missed[0].number.as_deref(),
            Some("***-***-0199"),
            "the pop is gone"
        );
        board.mark_missed_seen();
        assert!(board.view().missed[0].seen);

        let answered_call = CallId::random();
        let answered = pop(3, answered_call, MatchState::NoMatch);
        board.apply(&ServerMessage::Pop(answered.clone()));
        for (seq, state) in [(4, CallState::Answered), (5, CallState::Ended)] {
            board.apply(&ServerMessage::CallState(CallStateChange {
                seq,
                call_id: answered_call,
                state,
            }));
        }
        assert_eq!(
            board.view().missed.len(),
            1,
            "an answered call is not missed"
        );
        board.apply(&ServerMessage::PopExpired(PopGone {
            seq: 6,
            pop_id: answered.pop_id,
        }));
        assert_eq!(
            board.apply(&ServerMessage::PopExpired(PopGone {
                seq: 6,
                pop_id: answered.pop_id
            })),
            Change::Nothing
        );
    }
}
