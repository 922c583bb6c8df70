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
    Board as BoardView, CallState, ClientMessage, MissedCall, Pop, PopCard, PopOn, PopSettings,
    ServerMessage,
};
use ringside_core::{CallId, PhoneNumber, Pii, PopId};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// The most missed calls kept.
const MAX_MISSED: usize = 50;

/// A pop on the board, as the sealed cache keeps it across a restart ([`crate::cache`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LivePop {
    /// The pop as the relay sent it (its match updated since).
    pub pop: Pop,
    /// The call's state now.
    pub state: CallState,
    /// Whether the call was answered (a call that ends unanswered is missed).
    pub answered: bool,
    /// The match the agent picked, when there were several.
    pub picked: Option<String>,
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

/// The pops and missed calls of one signed-in user.
#[derive(Debug, Clone, Default)]
pub struct Board {
    live: Vec<LivePop>,
    gone: HashSet<PopId>,
    missed: Vec<Missed>,
    handled_seq: u64,
    settings: PopSettings,
    paused: bool,
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
    pub fn new(handled_seq: u64, settings: PopSettings) -> Self {
        let mut board = Self {
            handled_seq,
            ..Self::default()
        };
        board.set_settings(settings);
        board
    }

    /// Applies the agent's new choices to the pops on the board now.
    pub fn set_settings(&mut self, settings: PopSettings) {
        self.settings = PopSettings {
            cap: settings.cap.clamp(1, PopSettings::MAX_CAP),
            ..settings
        };
    }

    /// The cap on pops shown.
    #[must_use]
    pub fn cap(&self) -> usize {
        usize::from(self.settings.cap)
    }

    /// Pauses pops (none shown or announced) or resumes them.
    pub fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
    }

    /// Whether pops are paused.
    #[must_use]
    pub fn paused(&self) -> bool {
        self.paused
    }

    /// Whether `live` is on screen (paused aside): always, unless pops wait for the answer.
    fn shown(&self, live: &LivePop) -> bool {
        self.settings.pop_on == PopOn::Ring || live.answered
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
        let live = LivePop {
            pop: pop.clone(),
            state: pop.state,
            answered: pop.state == CallState::Answered,
            picked: None,
        };
        let shown = self.shown(&live) && !self.paused;
        self.live.push(live);
        if shown {
            Change::NewPop(pop.pop_id)
        } else {
            // Kept (and cached) until it is answered, or missed.
            Change::Redraw
        }
    }

    fn find(&mut self, pop: PopId) -> Option<&mut LivePop> {
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
        let pop_on_answer = self.settings.pop_on == PopOn::Answer;
        for live in self.live.iter_mut().filter(|l| l.pop.call_id == call) {
            let appears =
                pop_on_answer && !self.paused && !live.answered && state == CallState::Answered;
            live.state = state;
            live.answered |= state == CallState::Answered;
            changed = if appears {
                Change::NewPop(live.pop.pop_id)
            } else {
                Change::Redraw
            };
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
                if self.settings.close_on_hang_up {
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
        // Only what is on screen: a pop waiting for its answer, or for the agent to resume, is
        // not theirs to close yet.
        let pops: Vec<PopId> = self
            .live
            .iter()
            .filter(|l| !self.paused && self.shown(l))
            .map(|l| l.pop.pop_id)
            .collect();
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

    /// Removes the pops whose time is up (`expires_at`), even if the relay's `pop_expired` has
    /// not arrived (offline): a pop never outlives its 5 minutes on screen.
    pub fn expire(&mut self, now: OffsetDateTime) -> Change {
        let due: Vec<PopId> = self
            .live
            .iter()
            .filter(|l| l.pop.expires_at <= now)
            .map(|l| l.pop.pop_id)
            .collect();
        due.into_iter().fold(Change::Nothing, |change, pop| {
            if self.remove(pop) == Change::Redraw {
                Change::Redraw
            } else {
                change
            }
        })
    }

    /// The pops on the board, oldest first, for the cache.
    #[must_use]
    pub fn live(&self) -> &[LivePop] {
        &self.live
    }

    /// Puts back the pops the cache kept across a restart (oldest first). A pop already seen
    /// (or gone) is not shown twice.
    pub fn restore(&mut self, pops: Vec<LivePop>) {
        for live in pops {
            if self.gone.insert(live.pop.pop_id) {
                self.live.push(live);
            }
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
        let shown: Vec<&LivePop> = self.live.iter().filter(|l| self.shown(l)).collect();
        // Paused: no card; the count says how many wait.
        let cap = if self.paused { 0 } else { self.cap() };
        let cards = shown
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
            collapsed: u32::try_from(shown.len().saturating_sub(cap)).unwrap_or(u32::MAX),
            paused: self.paused,
            missed,
        }
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use ringside_core::wire::{
        CallStateChange, Contact, Direction, MatchState, PopGone, PopUpdate, RecordKind,
    };
    use time::Duration;

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
            expires_at: OffsetDateTime::UNIX_EPOCH + Duration::minutes(5),
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
        let mut board = Board::new(0, PopSettings::default());
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
            PopSettings {
                cap: 2,
                ..PopSettings::default()
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
        let mut board = Board::new(0, PopSettings::default());
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
            PopSettings {
                close_on_hang_up: true,
                ..PopSettings::default()
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

    #[test]
    fn a_pop_leaves_at_its_expiry_even_without_the_relay_saying_so_and_never_returns() {
        let mut board = Board::new(0, PopSettings::default());
        let first = pop(1, CallId::random(), MatchState::Pending);
        board.apply(&ServerMessage::Pop(first.clone()));
        let start = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(board.expire(start + Duration::minutes(4)), Change::Nothing);
        assert_eq!(board.view().cards.len(), 1, "not yet");
        assert_eq!(board.expire(start + Duration::minutes(5)), Change::Redraw);
        assert!(board.view().cards.is_empty(), "gone at its expiry");
        assert_eq!(
            board.apply(&ServerMessage::Pop(Pop { seq: 2, ..first })),
            Change::Nothing,
            "an expired pop never comes back"
        );
    }

    #[test]
    fn restored_pops_show_again_once_with_their_pick_and_state() {
        let mut board = Board::new(0, PopSettings::default());
        let call = CallId::random();
        let several = MatchState::Found {
            contacts: vec![contact("a"), contact("b")],
        };
        let first = pop(1, call, several);
        board.apply(&ServerMessage::Pop(first.clone()));
        board.pick(first.pop_id, "b").unwrap();
        let kept = board.live().to_vec();

        let mut after_restart = Board::new(board.handled_seq(), PopSettings::default());
        after_restart.restore(kept.clone());
        after_restart.restore(kept);
        let view = after_restart.view();
        assert_eq!(view.cards.len(), 1, "restored once");
        assert_eq!(view.cards[0].picked.as_deref(), Some("b"));
        assert_eq!(
            after_restart.apply(&ServerMessage::Pop(Pop { seq: 9, ..first })),
            Change::Nothing,
            "a restored pop is not popped again"
        );
    }

    #[test]
    fn popping_on_answer_keeps_a_ringing_call_off_screen_until_it_is_answered() {
        let mut board = Board::new(
            0,
            PopSettings {
                pop_on: PopOn::Answer,
                ..PopSettings::default()
            },
        );
        let (taken, missed) = (CallId::random(), CallId::random());
        let first = pop(1, taken, MatchState::Pending);
        assert_eq!(
            board.apply(&ServerMessage::Pop(first.clone())),
            Change::Redraw
        );
        board.apply(&ServerMessage::Pop(pop(2, missed, MatchState::Pending)));
        assert!(board.view().cards.is_empty(), "ringing: not yet");
        assert!(board.dismiss_all().is_empty(), "nothing on screen to close");
        assert_eq!(
            board.apply(&ServerMessage::CallState(CallStateChange {
                seq: 3,
                call_id: taken,
                state: CallState::Answered,
            })),
            Change::NewPop(first.pop_id),
            "answered: it appears, and the agent is told"
        );
        board.apply(&ServerMessage::CallState(CallStateChange {
            seq: 4,
            call_id: missed,
            state: CallState::Missed,
        }));
        let view = board.view();
        assert_eq!(view.cards.len(), 1);
        assert_eq!(view.cards[0].pop_id, first.pop_id);
        assert_eq!(view.missed.len(), 1, "the unanswered one is a missed call");

        board.set_settings(PopSettings::default());
        assert_eq!(
            board.view().cards.len(),
            2,
            "popping on ring shows every live pop"
        );
    }

    #[test]
    fn paused_pops_wait_unannounced_and_show_again_on_resume() {
        let mut board = Board::new(0, PopSettings::default());
        board.set_paused(true);
        let first = pop(1, CallId::random(), MatchState::Pending);
        assert_eq!(
            board.apply(&ServerMessage::Pop(first.clone())),
            Change::Redraw,
            "kept, not announced"
        );
        let view = board.view();
        assert!(view.paused && view.cards.is_empty());
        assert_eq!(view.collapsed, 1, "one waits");
        assert!(board.dismiss_all().is_empty(), "nothing on screen to close");
        board.set_paused(false);
        let view = board.view();
        assert_eq!(view.cards.len(), 1, "back on resume");
        assert_eq!(view.cards[0].pop_id, first.pop_id);
        assert!(!view.paused);
    }
}
