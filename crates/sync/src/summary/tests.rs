use std::task::{Context, Poll, Waker};

use super::*;
use crate::redact::{BANK_ACCOUNT_MARKER, CARD_MARKER, SSN_MARKER};

fn call(lines: &[(Speaker, &str)]) -> SummaryInput {
    SummaryInput {
        transcript: lines
            .iter()
            .map(|(speaker, text)| Utterance {
                speaker: *speaker,
                text: Pii::new((*text).to_owned()),
                start_ms: None,
            })
            .collect(),
        agent_notes: Vec::new(),
    }
}

fn summary_of(input: &SummaryInput) -> String {
    Extractive::default().summary(input).into_exposed()
}

use Speaker::{Agent, Caller, Unknown};

fn new_car() -> SummaryInput {
    call(&[
        (
            Agent,
            "Thank you for calling Smith Insurance, this is Dana. How can I help you?",
        ),
        (
            Caller,
            "Hi Dana. I just bought a new car and I need to add it to my auto policy.",
        ),
        (
            Agent,
            "Congratulations! Can I get the year, make and model?",
        ),
        (Caller, "It's a 2024 Honda Civic."),
        (Agent, "Great. And the VIN?"),
        (Caller, "Sure, one second. Okay."),
        (
            Agent,
            "Okay, I've added the 2024 Honda Civic to your auto policy effective today.",
        ),
        (
            Agent,
            "Your premium will go up by about forty dollars a month.",
        ),
        (Caller, "That's fine. Can you email me the new ID cards?"),
        (Agent, "Yes, I'll email the ID cards today."),
        (Caller, "Thanks, bye."),
    ])
}

#[test]
fn an_empty_transcript_gives_an_empty_summary() {
    assert_eq!(summary_of(&SummaryInput::default()), "");
    let notes_only = SummaryInput {
        transcript: Vec::new(),
        agent_notes: vec![Pii::new("Client wants a renewal quote.".to_owned())],
    };
    assert_eq!(summary_of(&notes_only), "");
    assert_eq!(summary_of(&call(&[(Caller, "  \n ")])), "");
}

#[test]
fn a_transcript_of_pleasantries_gives_an_empty_summary() {
    assert_eq!(
        summary_of(&call(&[(Agent, "Hello?"), (Caller, "Hi. Sorry, bye.")])),
        ""
    );
}

#[test]
fn the_summary_starts_with_the_callers_request() {
    let summary = summary_of(&new_car());
    assert!(
        summary.starts_with(
            "Reason for call: I just bought a new car and I need to add it to my auto policy.\n"
        ),
        "{summary}"
    );
}

#[test]
fn the_summary_picks_what_was_done_and_what_was_asked() {
    assert_eq!(
        summary_of(&new_car()),
        "Reason for call: I just bought a new car and I need to add it to my auto policy.\n\
         Agent: Okay, I've added the 2024 Honda Civic to your auto policy effective today.\n\
         Caller: Can you email me the new ID cards?"
    );
}

#[test]
fn an_agents_question_is_not_the_reason_for_the_call() {
    let summary = summary_of(&call(&[
        (Agent, "Can you spell your last name for me please?"),
        (Caller, "Sure, it's Nguyen, N G U Y E N."),
        (
            Caller,
            "I'm calling to cancel my renters policy because I'm moving in with my sister.",
        ),
        (
            Agent,
            "I can cancel the renters policy effective the first.",
        ),
    ]));
    assert!(
        summary.starts_with("Reason for call: I'm calling to cancel my renters policy"),
        "{summary}"
    );
}

#[test]
fn without_speaker_labels_the_first_request_is_the_reason() {
    let summary = summary_of(&call(&[
        (Unknown, "Good morning, Smith Insurance."),
        (
            Unknown,
            "I have a question about the deductible on my homeowners policy.",
        ),
        (
            Unknown,
            "The deductible on the homeowners policy is one thousand dollars.",
        ),
    ]));
    assert!(
        summary.starts_with(
            "Reason for call: I have a question about the deductible on my homeowners policy."
        ),
        "{summary}"
    );
    assert!(!summary.contains("Caller:") && !summary.contains("Agent:"));
}

#[test]
fn the_same_input_always_gives_the_same_summary() {
    let input = new_car();
    let first = summary_of(&input);
    for _ in 0..20 {
        assert_eq!(summary_of(&input), first);
        assert_eq!(summary_of(&input.clone()), first);
    }
}

fn long_call() -> SummaryInput {
    let mut lines = vec![(
        Caller,
        "I'd like to review the coverage on all three vehicles before the renewal.",
    )];
    let topics = [
        "The liability limits on the truck are one hundred thousand per person.",
        "The sedan has comprehensive coverage with a five hundred dollar deductible.",
        "The minivan was added last spring with roadside assistance coverage.",
        "Your renewal premium goes up because of the accident on the truck in March.",
        "The teen driver discount applies to the sedan once the grades come in.",
        "Collision coverage on the truck could be dropped given its age and mileage.",
        "The umbrella policy sits on top of the auto liability for all three vehicles.",
        "Paying in full at renewal saves the installment fee on the auto policy.",
    ];
    for topic in topics {
        lines.push((Agent, topic));
        lines.push((Caller, "Okay."));
    }
    call(&lines)
}

#[test]
fn the_summary_keeps_at_most_three_sentences() {
    let summary = summary_of(&long_call());
    assert_eq!(summary.lines().count(), 3, "{summary}");
    let one = Extractive {
        max_sentences: 1,
        ..Extractive::default()
    };
    let summary = one.summary(&long_call()).into_exposed();
    assert_eq!(summary.lines().count(), 1, "{summary}");
    assert!(summary.starts_with("Reason for call: "), "{summary}");
}

#[test]
fn the_summary_keeps_within_its_character_cap() {
    let summary = summary_of(&long_call());
    assert!(summary.chars().count() <= 600, "{summary}");
    let tight = Extractive {
        max_chars: 160,
        ..Extractive::default()
    };
    let summary = tight.summary(&long_call()).into_exposed();
    assert!(summary.chars().count() <= 160, "{summary}");
    assert!(summary.starts_with("Reason for call: "), "{summary}");
}

#[test]
fn a_sentence_too_long_for_the_cap_is_cut_at_a_word() {
    let rambling = "I need to change the address on my policy ".repeat(100);
    let summary = summary_of(&call(&[(Caller, rambling.as_str())]));
    assert!(summary.chars().count() <= 600, "{summary}");
    let kept = summary
        .strip_suffix('…')
        .unwrap_or_else(|| panic!("a cut line ends with …: {summary}"));
    let whole = format!("Reason for call: {}", rambling.trim_end());
    assert!(whole.starts_with(kept), "{summary}");
    assert_eq!(
        whole[kept.len()..].chars().next(),
        Some(' '),
        "cut inside a word"
    );
    let cap = Extractive {
        max_chars: 40,
        ..Extractive::default()
    };
    let summary = cap.summary(&call(&[(Agent, "é".repeat(500).as_str())]));
    assert!(summary.expose().chars().count() <= 40);
}

#[test]
fn zero_caps_give_an_empty_summary() {
    for extractive in [
        Extractive {
            max_sentences: 0,
            ..Extractive::default()
        },
        Extractive {
            max_chars: 0,
            ..Extractive::default()
        },
    ] {
        assert_eq!(extractive.summary(&new_car()).expose(), "");
    }
}

#[test]
fn the_chosen_sentences_keep_their_order() {
    let input = long_call();
    let summary = summary_of(&input);
    let said: Vec<&str> = input
        .transcript
        .iter()
        .map(|u| u.text.expose().as_str())
        .collect();
    let positions: Vec<usize> = summary
        .lines()
        .skip(1)
        .map(|line| {
            let text = line.split_once(": ").map_or(line, |(_, text)| text);
            said.iter()
                .position(|s| *s == text)
                .unwrap_or_else(|| panic!("{line:?} is not a sentence of the call"))
        })
        .collect();
    assert_eq!(positions.len(), 2, "{summary}");
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[test]
fn utterances_with_times_are_taken_in_the_order_they_were_said() {
    let mut input = call(&[
        (
            Agent,
            "I've updated the mailing address on the auto policy.",
        ),
        (
            Caller,
            "I need to change my mailing address on the auto policy.",
        ),
    ]);
    input.transcript[0].start_ms = Some(9_000);
    input.transcript[1].start_ms = Some(1_000);
    assert_eq!(
        summary_of(&input),
        "Reason for call: I need to change my mailing address on the auto policy.\n\
         Agent: I've updated the mailing address on the auto policy."
    );
}

#[test]
fn pleasantries_and_repetitions_are_left_out() {
    let summary = summary_of(&call(&[
        (Agent, "Thank you so much, have a great day!"),
        (Caller, "I want to file a claim for hail damage to my roof."),
        (Agent, "The claim for hail damage to the roof is filed."),
        (Agent, "The claim for hail damage to the roof is filed."),
        (Caller, "Okay, thank you, bye bye."),
    ]));
    assert_eq!(
        summary,
        "Reason for call: I want to file a claim for hail damage to my roof.\n\
         Agent: The claim for hail damage to the roof is filed."
    );
}

#[test]
fn a_transcript_without_a_request_still_gets_its_most_informative_sentences() {
    let summary = summary_of(&call(&[
        (Agent, "Hello."),
        (
            Caller,
            "The payment for the boat policy went through twice this month.",
        ),
        (
            Agent,
            "I see two payments on the boat policy and will refund one.",
        ),
    ]));
    assert!(!summary.contains("Reason for call"), "{summary}");
    assert!(summary.contains("boat policy"), "{summary}");
    assert!(!summary.contains("Hello"), "{summary}");
}

#[test]
fn markers_do_not_count_as_content() {
    assert_eq!(
        words_of("card [card number removed] ok"),
        vec!["card".to_owned(), "ok".to_owned()]
    );
}

#[test]
fn sentences_end_at_sentence_ends_only() {
    assert_eq!(
        split_sentences("Mr. Lee paid $1,250.00 today. Is that right?! Yes\nNo. J. Smith too"),
        vec![
            "Mr. Lee paid $1,250.00 today.",
            "Is that right?!",
            "Yes",
            "No. J. Smith too"
        ]
    );
}

#[test]
fn stems_join_the_forms_of_a_word() {
    for (a, b) in [
        ("add", "added"),
        ("card", "cards"),
        ("change", "changed"),
        ("policy", "policies"),
    ] {
        assert_eq!(stem(a), stem(b), "{a} / {b}");
    }
}

#[test]
fn redacted_input_redacts_every_utterance_and_note() {
    let mut input = call(&[
        (Caller, "My card is 4111 1111 1111 1111."),
        (Agent, "And your social?"),
        (Caller, "536-22-8741, and my checking account is 12345678."),
    ]);
    input.transcript[1].start_ms = Some(4_200);
    input.agent_notes = vec![
        Pii::new("Paid with 5555 5555 5555 4444".to_owned()),
        Pii::new("Nothing to remove here, call 617-555-0199.".to_owned()),
    ];
    let (clean, counts) = redacted_input(&input);
    assert_eq!(
        clean.transcript[0].text.expose(),
        &format!("My card is {CARD_MARKER}.")
    );
    assert_eq!(clean.transcript[1].text.expose(), "And your social?");
    assert_eq!(
        clean.transcript[2].text.expose(),
        &format!("{SSN_MARKER}, and my checking account is {BANK_ACCOUNT_MARKER}.")
    );
    assert_eq!(
        clean.agent_notes[0].expose(),
        &format!("Paid with {CARD_MARKER}")
    );
    assert_eq!(
        clean.agent_notes[1].expose(),
        "Nothing to remove here, call 617-555-0199."
    );
    let speakers: Vec<Speaker> = clean.transcript.iter().map(|u| u.speaker).collect();
    assert_eq!(speakers, vec![Caller, Agent, Caller]);
    assert_eq!(clean.transcript[1].start_ms, Some(4_200));
    assert_eq!(
        counts,
        Counts {
            cards: 2,
            ssns: 1,
            bank_accounts: 1,
            routing_numbers: 0,
        }
    );
}

#[test]
fn a_summary_of_redacted_input_holds_no_removed_number() {
    let input = call(&[(
        Caller,
        "I need to update the card on my auto policy to 4111 1111 1111 1111.",
    )]);
    let (clean, _) = redacted_input(&input);
    let summary = summary_of(&clean);
    assert!(summary.contains(CARD_MARKER), "{summary}");
    assert!(!summary.contains("4111"), "{summary}");
}

#[test]
fn debug_of_a_summary_input_prints_no_text() {
    let mut input = call(&[(Caller, "Zebulon Quartermaine calling about a claim.")]);
    input
        .agent_notes
        .push(Pii::new("Zebulon's note".to_owned()));
    let printed = format!("{input:?}");
    assert!(!printed.contains("Zebulon"), "{printed}");
    assert!(printed.contains("Caller"), "{printed}");
}

#[test]
fn the_extractive_summarizer_answers_through_the_seam() {
    let summarizer: Box<dyn Summarizer> = Box::new(Extractive::default());
    let input = new_car();
    let mut future = summarizer.summarize(&input);
    let mut context = Context::from_waker(Waker::noop());
    let Poll::Ready(answer) = future.as_mut().poll(&mut context) else {
        panic!("the extractive summary must be ready at once");
    };
    assert_eq!(answer.unwrap().into_exposed(), summary_of(&input));
}

#[test]
fn summary_errors_say_what_failed_and_nothing_else() {
    assert_eq!(
        SummaryError::Unavailable.to_string(),
        "the summarizer is unavailable"
    );
    assert_eq!(
        SummaryError::Timeout.to_string(),
        "the summarizer did not answer in time"
    );
    assert_eq!(
        SummaryError::InvalidResponse("not JSON").to_string(),
        "the summarizer answered something unreadable: not JSON"
    );
    assert_eq!(
        SummaryError::Rejected(422).to_string(),
        "the summarizer refused the request (HTTP 422)"
    );
}

#[test]
fn random_transcripts_never_panic_and_respect_the_caps() {
    let pieces = [
        "I need to ",
        "change ",
        "policy",
        ". ",
        "? ",
        "!",
        "\n",
        "Mr. ",
        "[SSN removed]",
        "’",
        "'",
        "é",
        "🙂",
        "can you ",
        "claim ",
        "  ",
        "$1,250.00",
        "…",
        "]",
        "[",
    ];
    let mut state = 0x1234_5678_u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for round in 0..500 {
        let lines: Vec<(Speaker, String)> = (0..next(6))
            .map(|_| {
                let speaker = [Caller, Agent, Unknown][next(3)];
                let text: String = (0..next(40)).map(|_| pieces[next(pieces.len())]).collect();
                (speaker, text)
            })
            .collect();
        let borrowed: Vec<(Speaker, &str)> = lines.iter().map(|(s, t)| (*s, t.as_str())).collect();
        let input = call(&borrowed);
        let extractive = Extractive {
            max_sentences: next(5),
            max_chars: next(300),
        };
        let summary = extractive.summary(&input).into_exposed();
        assert!(
            summary.chars().count() <= extractive.max_chars,
            "round {round}"
        );
        assert!(
            summary.lines().count() <= extractive.max_sentences,
            "round {round}"
        );
        assert_eq!(summary, extractive.summary(&input).into_exposed());
    }
}
