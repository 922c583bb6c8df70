//! The call's note, as it lands in the AMS: one activity per call (or text message), in the
//! plain-text layout call loggers use (`ams-apis.md` §11) — a first line that reads well in a
//! list view, the call's details as `- Key: value` lines, then the message, the summary, the
//! agent's notes and the transcript.
//!
//! Why it is composed here and nowhere else: this is the last text Ringside ever writes about
//! the call, so it is the one place the redaction must hold. Every free text that goes in —
//! summary, notes, transcript — passes through [`redact`] here, whatever was done before.
//!
//! The first line of the body is the call's reference (`Ringside ref: call_…`, no personal
//! data): it lets the sync find the note again after a crash mid-write
//! ([`ringside_ams::AmsConnector::find_activity`]) instead of writing a second one.

use ringside_ams::ActivityNote;
use ringside_core::transcript::Utterance;
use ringside_core::wire::{CallState, Direction, RecordKind};
use ringside_core::{CallId, PhoneNumber, Pii};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::redact::redact;

/// Where the note goes: the AMS record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The AMS's id of the record.
    pub id: String,
    /// Its kind.
    pub kind: RecordKind,
}

/// Everything a note says, opened (the sync reads it from the store).
#[derive(Debug)]
pub struct NoteInput<'a> {
    /// The call.
    pub call: CallId,
    /// Which way it went.
    pub direction: Direction,
    /// How it ended.
    pub state: CallState,
    /// Whether anyone answered.
    pub answered: bool,
    /// The client's number, when known.
    pub number: Option<&'a PhoneNumber>,
    /// When it started and ended (unix seconds).
    pub started_at: i64,
    /// When it ended.
    pub ended_at: Option<i64>,
    /// The agents who handled it, by display name.
    pub agents: &'a [Pii<String>],
    /// The summary, if one was made.
    pub summary: Option<&'a Pii<String>>,
    /// The agents' notes, oldest first.
    pub notes: &'a [Pii<String>],
    /// The transcript.
    pub transcript: &'a [Utterance],
    /// For a text message, its text: the note is then about the message (no duration, no
    /// result, the text in a `Message` section).
    pub text: Option<&'a Pii<String>>,
}

/// The call's reference as it appears in its note: its id, which names no one.
#[must_use]
pub fn reference(call: CallId) -> String {
    call.to_string()
}

/// How the call ended, for people.
#[must_use]
pub fn outcome(state: CallState, answered: bool) -> &'static str {
    match state {
        CallState::Missed => "Missed",
        CallState::Voicemail => "Voicemail",
        CallState::Transferred => "Transferred",
        _ if answered => "Answered",
        _ => "Not answered",
    }
}

/// `4 min 12 s`, `45 s`, `1 h 2 min`.
#[must_use]
pub fn duration_text(secs: u32) -> String {
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, _) => format!("{m} min {s} s"),
        _ => format!("{h} h {m} min"),
    }
}

/// The activity note of one call on `record`.
#[must_use]
pub fn compose(input: &NoteInput<'_>, record: &Record) -> ActivityNote {
    let texted = input.text.is_some();
    let duration = input
        .ended_at
        .filter(|_| !texted)
        .map(|end| u32::try_from(end.saturating_sub(input.started_at)).unwrap_or(0));
    let direction = match input.direction {
        Direction::Inbound => "Inbound",
        Direction::Outbound => "Outbound",
        Direction::Unknown => "Phone",
    };
    let result = outcome(input.state, input.answered);
    let subject = match (texted, input.direction) {
        (true, Direction::Outbound) => "Text message sent".to_owned(),
        (true, _) => "Text message received".to_owned(),
        (false, _) => {
            let mut subject = format!("{direction} call, {}", result.to_lowercase());
            if let Some(secs) = duration.filter(|s| *s > 0) {
                subject.push_str(", ");
                subject.push_str(&duration_text(secs));
            }
            subject
        }
    };

    let reference = reference(input.call);
    let started =
        OffsetDateTime::from_unix_timestamp(input.started_at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let mut body = format!("Ringside ref: {reference}\n{subject}\n\n");
    body.push_str(&format!("- Direction: {direction}\n"));
    if let Some(number) = input.number {
        body.push_str(&format!(
            "- Contact number: {} ({})\n",
            number.formatted(),
            number.e164()
        ));
    }
    body.push_str(&format!("- Date/time: {}\n", utc(started)));
    if let Some(secs) = duration {
        body.push_str(&format!("- Duration: {}\n", duration_text(secs)));
    }
    if !texted {
        body.push_str(&format!("- Result: {result}\n"));
    }
    if !input.agents.is_empty() {
        let names: Vec<&str> = input.agents.iter().map(|a| a.expose().as_str()).collect();
        body.push_str(&format!("- Agent: {}\n", names.join(", ")));
    }
    if let Some(text) = input.text {
        section(&mut body, "Message", &redact(text.expose().trim()).text);
    }
    if let Some(summary) = input.summary.filter(|s| !s.expose().trim().is_empty()) {
        section(&mut body, "Summary", &redact(summary.expose()).text);
    }
    if !input.notes.is_empty() {
        let joined: Vec<String> = input
            .notes
            .iter()
            .map(|n| redact(n.expose().trim()).text)
            .collect();
        section(&mut body, "Agent notes", &joined.join("\n"));
    }
    if !input.transcript.is_empty() {
        let lines: Vec<String> = input
            .transcript
            .iter()
            .map(|u| {
                let text = redact(u.text.expose().trim()).text;
                match u.speaker.label() {
                    Some(label) => format!("{label}: {text}"),
                    None => text,
                }
            })
            .collect();
        section(&mut body, "Transcript", &lines.join("\n"));
    }

    ActivityNote {
        record_id: record.id.clone(),
        record_kind: record.kind,
        subject,
        body: Pii::new(body.trim_end().to_owned()),
        started_at: started,
        duration_secs: duration,
        direction: input.direction,
        reference,
    }
}

fn section(body: &mut String, title: &str, text: &str) {
    body.push('\n');
    body.push_str(title);
    body.push_str(":\n");
    body.push_str(text);
    body.push('\n');
}

fn utc(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use ringside_core::transcript::Speaker;

    use super::*;

    fn record() -> Record {
        Record {
            id: "client-1".to_owned(),
            kind: RecordKind::Client,
        }
    }

    #[test]
    fn a_note_carries_the_reference_first_the_details_and_every_text_redacted() {
        let call = CallId::random();
        let number = PhoneNumber::parse("+14155550100").unwrap();
        let agents = [Pii::new("Alice Agent".to_owned())];
        let summary = Pii::new("Reason for call: a new card 4111 1111 1111 1111".to_owned());
        let notes = [
            Pii::new("Wants a quote.".to_owned()),
            Pii::new("SSN 123-45-6789 on file".to_owned()),
        ];
        let transcript = [
            Utterance {
                speaker: Speaker::Caller,
                text: Pii::new("My card is 4111-1111-1111-1111.".to_owned()),
                start_ms: Some(0),
            },
            Utterance {
                speaker: Speaker::Agent,
                text: Pii::new("Thanks, noted.".to_owned()),
                start_ms: None,
            },
        ];
        let input = NoteInput {
            call,
            direction: Direction::Inbound,
            state: CallState::Ended,
            answered: true,
            number: Some(&number),
            started_at: 1_764_800_000,
            ended_at: Some(1_764_800_252),
            agents: &agents,
            summary: Some(&summary),
            notes: &notes,
            transcript: &transcript,
            text: None,
        };
        let note = compose(&input, &record());
        let body = note.body.expose();
        assert_eq!(
            body.lines().next().unwrap(),
            format!("Ringside ref: {call}")
        );
        assert_eq!(note.reference, call.to_string());
        assert_eq!(note.subject, "Inbound call, answered, 4 min 12 s");
        assert_eq!(note.duration_secs, Some(252));
        assert!(body.contains("- Contact number: (415) 555-0100 (+14155550100)"));
        assert!(body.contains("- Agent: Alice Agent"));
        assert!(body.contains("- Result: Answered"));
        assert!(body.contains("Agent notes:\nWants a quote.\nSSN "));
        assert!(body.contains("Caller: My card is"));
        assert!(body.contains("Agent: Thanks, noted."));
        for secret in ["4111 1111", "4111-1111", "123-45-6789"] {
            assert!(!body.contains(secret), "{secret} leaked into the note");
        }
        assert_eq!(note.record_id, "client-1");
    }

    #[test]
    fn a_missed_call_without_number_or_texts_is_a_short_note() {
        let input = NoteInput {
            call: CallId::random(),
            direction: Direction::Outbound,
            state: CallState::Missed,
            answered: false,
            number: None,
            started_at: 0,
            ended_at: Some(0),
            agents: &[],
            summary: None,
            notes: &[],
            transcript: &[],
            text: None,
        };
        let note = compose(&input, &record());
        assert_eq!(note.subject, "Outbound call, missed");
        let body = note.body.expose();
        assert!(!body.contains("Contact number") && !body.contains("Summary"));
        assert!(!body.contains("Transcript") && !body.contains("Agent"));
        assert!(body.ends_with("- Result: Missed"), "{body}");
    }

    #[test]
    fn a_text_message_note_carries_the_message_redacted_and_no_call_details() {
        let number = PhoneNumber::parse("+14155550100").unwrap();
        let text = Pii::new("Renewal question, card 4111 1111 1111 1111".to_owned());
        let call = CallId::random();
        let input = NoteInput {
            call,
            direction: Direction::Inbound,
            state: CallState::Ended,
            answered: false,
            number: Some(&number),
            started_at: 1_764_800_000,
            ended_at: Some(1_764_800_000),
            agents: &[],
            summary: None,
            notes: &[],
            transcript: &[],
            text: Some(&text),
        };
        let note = compose(&input, &record());
        assert_eq!(note.subject, "Text message received");
        assert_eq!(note.duration_secs, None);
        let body = note.body.expose();
        assert!(body.starts_with(&format!("Ringside ref: {call}\nText message received\n")));
        assert!(body.contains("Message:\nRenewal question, card "), "{body}");
        assert!(
            !body.contains("4111 1111") && !body.contains("Result"),
            "{body}"
        );
        let sent = NoteInput {
            direction: Direction::Outbound,
            ..input
        };
        assert_eq!(compose(&sent, &record()).subject, "Text message sent");
    }

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(duration_text(45), "45 s");
        assert_eq!(duration_text(252), "4 min 12 s");
        assert_eq!(duration_text(3720), "1 h 2 min");
        assert_eq!(outcome(CallState::Ended, false), "Not answered");
        assert_eq!(outcome(CallState::Voicemail, true), "Voicemail");
    }
}
