//! The call state machine: how a call's legs and the call itself move as provider events arrive.
//!
//! Why pure and here: providers retry, duplicate and reorder events, and a call can have several
//! legs (a transfer, a ring group). Whatever the order, the call must end in the same state, so
//! the rules are functions of states alone — no storage, no clock — that any store backend
//! applies the same way and that are tested exhaustively below. A leg only moves to a later state
//! ([`advances`]); a call is over only when every leg it has is, and a final state is never left
//! ([`call_state`]).

use crate::wire::CallState;

/// Whether a leg (or call) in `current` may move to `next`: only to a later state, never out of a
/// final one. `answered → transferred` is the one move within a rank.
pub fn advances(current: CallState, next: CallState) -> bool {
    !current.is_final()
        && (next.rank() > current.rank()
            || (current == CallState::Answered && next == CallState::Transferred))
}

/// The call's state after one of its legs moved to `event`, given every leg's state afterwards.
///
/// The call is over when no leg is live: each has ended, or was transferred away (for Dialpad
/// and RingCentral "transferred" is a leg's last word), and at least one really ended. How it
/// ended depends on the set of legs, never on which event came last, so reordering cannot change
/// it: answered (or any leg ended after talking) is `ended`; otherwise `voicemail` if a leg went
/// there; otherwise `missed`.
pub fn call_state(
    current: CallState,
    legs: &[CallState],
    event: CallState,
    answered: bool,
) -> CallState {
    if current.is_final() {
        return current;
    }
    let done = |s: &CallState| s.is_final() || *s == CallState::Transferred;
    if legs.iter().all(done) && legs.iter().any(|s| s.is_final()) {
        return if answered || legs.contains(&CallState::Ended) {
            CallState::Ended
        } else if legs.contains(&CallState::Voicemail) {
            CallState::Voicemail
        } else {
            CallState::Missed
        };
    }
    if !event.is_final() && advances(current, event) {
        event
    } else {
        current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CallState::*;

    #[test]
    fn legs_only_move_forward_and_never_leave_a_final_state() {
        assert!(advances(Ringing, Answered));
        assert!(advances(Answered, Transferred));
        assert!(advances(Transferred, Ended));
        assert!(!advances(Answered, Ringing), "backwards");
        assert!(!advances(Transferred, Answered), "backwards within a rank");
        assert!(!advances(Ringing, Ringing), "a repeat is not a move");
        for fin in [Ended, Missed, Voicemail] {
            for next in [Ringing, Answered, Transferred, Ended, Missed, Voicemail] {
                assert!(!advances(fin, next), "{fin:?} -> {next:?}");
            }
        }
    }

    #[test]
    fn a_call_ends_with_its_last_live_leg() {
        // Leg A answered then transferred; leg B rings: the call goes on.
        assert_eq!(
            call_state(Answered, &[Transferred, Ringing], Transferred, true),
            Transferred
        );
        // Leg A ends while B still rings: still live.
        assert_eq!(
            call_state(Transferred, &[Ended, Ringing], Ended, true),
            Transferred
        );
        // B is not picked up: the answered call ended, it was not missed.
        assert_eq!(
            call_state(Transferred, &[Ended, Missed], Missed, true),
            Ended
        );
        // Leg A's last word is "transferred"; B answers and ends: the call ended.
        assert_eq!(
            call_state(Transferred, &[Transferred, Ended], Ended, true),
            Ended
        );
        // A transfer with nothing ended yet is not the end.
        assert_eq!(
            call_state(Answered, &[Transferred], Transferred, true),
            Transferred
        );
        // A ring group: one leg to voicemail, one missed — in either order, voicemail.
        assert_eq!(
            call_state(Ringing, &[Voicemail, Missed], Missed, false),
            Voicemail
        );
        assert_eq!(
            call_state(Ringing, &[Missed, Voicemail], Voicemail, false),
            Voicemail
        );
        // Never answered: missed.
        assert_eq!(call_state(Ringing, &[Missed], Missed, false), Missed);
        assert_eq!(
            call_state(Ringing, &[Voicemail], Voicemail, false),
            Voicemail
        );
        // Final stays final.
        assert_eq!(
            call_state(Missed, &[Missed, Answered], Answered, true),
            Missed
        );
        // A ringing leg does not pull an answered call back.
        assert_eq!(
            call_state(Answered, &[Answered, Ringing], Ringing, true),
            Answered
        );
    }
}
