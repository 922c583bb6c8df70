//! A call's transcript: who said what, in order.
//!
//! Why in core: the provider modules parse it from webhooks, the store seals it until the sync,
//! and the sync summarizes it and writes it into the AMS note — three crates, one type. The
//! text is [`Pii`] from the moment it is parsed.

use serde::{Deserialize, Serialize};

use crate::Pii;

/// Who said an utterance, as far as the transcript tells.
///
/// A role, never a name: names are personal data, and the summary only needs to know whose
/// request it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    /// The client on the line.
    Caller,
    /// The agency's agent.
    Agent,
    /// The transcript does not say.
    #[default]
    Unknown,
}

impl Speaker {
    /// How a line of this speaker is labelled in a summary or a transcript (`Caller: …`); none
    /// when the speaker is unknown.
    #[must_use]
    pub fn label(self) -> Option<&'static str> {
        match self {
            Speaker::Caller => Some("Caller"),
            Speaker::Agent => Some("Agent"),
            Speaker::Unknown => None,
        }
    }
}

/// One turn of the call's transcript.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Utterance {
    /// Who spoke.
    #[serde(default)]
    pub speaker: Speaker,
    /// What they said.
    pub text: Pii<String>,
    /// When, in milliseconds from the start of the call, if the provider says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utterances_round_trip_through_json_with_lowercase_speakers() {
        let line = Utterance {
            speaker: Speaker::Caller,
            text: Pii::new("Hello".to_owned()),
            start_ms: Some(1200),
        };
        let json = serde_json::to_string(&line).unwrap();
        assert_eq!(
            json,
            r#"{"speaker":"caller","text":"Hello","start_ms":1200}"#
        );
        let back: Utterance = serde_json::from_str(&json).unwrap();
        assert_eq!(back, line);
        let bare: Utterance = serde_json::from_str(r#"{"text":"Hi"}"#).unwrap();
        assert_eq!((bare.speaker, bare.start_ms), (Speaker::Unknown, None));
        assert!(
            !format!("{line:?}").contains("Hello"),
            "Debug hides the text"
        );
    }
}
