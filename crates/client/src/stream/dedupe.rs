//! Each event is delivered once: the highest `seq` handled is the whole window.
//!
//! Why a high-water mark and not a set of seen numbers: the relay numbers a user's events in
//! order, replays in order, and takes acks as cumulative ("everything up to N is handled").
//! An event at or below the mark is therefore one this client has already delivered (a replay
//! of something whose ack was lost, or a live event racing the replay), and anything above it
//! is new. Gaps are normal — events that expired before a resume are not replayed — so a jump
//! is accepted, never waited on.

/// The delivery window of one stream, kept across reconnects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dedupe {
    last_handled: u64,
}

impl Dedupe {
    /// Starts after `last_handled` (0: nothing handled yet).
    pub(crate) fn new(last_handled: u64) -> Self {
        Self { last_handled }
    }

    /// The highest `seq` delivered: what `resume` and `ack` carry.
    pub(crate) fn last_handled(self) -> u64 {
        self.last_handled
    }

    /// Whether the event `seq` is new; if so it counts as handled from now on.
    pub(crate) fn admit(&mut self, seq: u64) -> bool {
        if seq > self.last_handled {
            self.last_handled = seq;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_seq_is_admitted_once_in_any_replay() {
        let mut window = Dedupe::new(0);
        let arrivals = [1, 2, 3, 2, 3, 4, 1, 5, 5, 4, 6];
        let admitted: Vec<u64> = arrivals.into_iter().filter(|s| window.admit(*s)).collect();
        assert_eq!(
            admitted,
            [1, 2, 3, 4, 5, 6],
            "duplicates dropped, order kept"
        );
        assert_eq!(window.last_handled(), 6);
    }

    #[test]
    fn gaps_are_accepted_and_what_falls_behind_them_is_dropped() {
        let mut window = Dedupe::new(0);
        assert!(window.admit(3), "a gap (1 and 2 expired) is not waited on");
        assert!(!window.admit(2), "behind the mark: already acked past it");
        assert!(window.admit(10));
        assert_eq!(window.last_handled(), 10);
    }

    #[test]
    fn a_window_resumed_from_earlier_drops_everything_up_to_it() {
        let mut window = Dedupe::new(41);
        assert!(!window.admit(0));
        assert!(!window.admit(41), "the mark itself was handled");
        assert!(window.admit(42));
        assert!(!window.admit(42), "the same seq twice");
    }
}
