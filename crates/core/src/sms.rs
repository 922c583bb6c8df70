//! Text messages: the opt-out keywords carriers and the CTIA handbook define.
//!
//! Why here: the relay records a `STOP` as that number's opt-out (sms_opt_outs), and agents see
//! it on the number's next pop, so both sides must agree on what counts as one. A keyword is the
//! whole message, trimmed and case-folded ("Stop", " STOP. "); a sentence that contains the word
//! ("please don't stop calling") is not one.

/// What an opt keyword asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptKeyword {
    /// `STOP`, `STOPALL`, `UNSUBSCRIBE`, `CANCEL`, `END`, `QUIT`, `REVOKE`, `OPTOUT`: no more texts.
    Out,
    /// `START`, `UNSTOP`, `SUBSCRIBE`: texts again.
    In,
}

const OUT: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const IN: [&str; 3] = ["START", "UNSTOP", "SUBSCRIBE"];

impl OptKeyword {
    /// The keyword a whole message is, if it is one: letters only, trimmed, any case, with
    /// trailing punctuation and inner spaces ignored (`"Opt out!"` is `OPTOUT`).
    #[must_use]
    pub fn of(text: &str) -> Option<Self> {
        let word: String = text
            .trim()
            .trim_end_matches(['.', '!'])
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect::<String>()
            .to_uppercase();
        if word.len() > 16 || !word.chars().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        if OUT.contains(&word.as_str()) {
            Some(Self::Out)
        } else if IN.contains(&word.as_str()) {
            Some(Self::In)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::OptKeyword;

    #[test]
    fn a_whole_message_keyword_in_any_case_is_one() {
        for text in [
            "STOP",
            "stop",
            " Stop. ",
            "Unsubscribe",
            "opt out!",
            "Opt-Out",
            "quit",
        ] {
            assert_eq!(OptKeyword::of(text), Some(OptKeyword::Out), "{text:?}");
        }
        for text in ["START", "start", "Unstop", "subscribe!"] {
            assert_eq!(OptKeyword::of(text), Some(OptKeyword::In), "{text:?}");
        }
    }

    #[test]
    fn a_sentence_with_the_word_is_not_a_keyword() {
        for text in [
            "please don't stop calling",
            "STOP IT",
            "stop?",
            "",
            "stops",
            "start the policy",
            "S T O P 1",
        ] {
            assert_eq!(OptKeyword::of(text), None, "{text:?}");
        }
    }
}
