//! Summaries: a few lines at the top of the AMS note, so whoever opens the client's record sees
//! why the client called and what was done without reading the whole transcript.
//!
//! Why a seam: an agency may point Ringside at a language model it trusts (an OpenAI-compatible
//! endpoint: [`openai::OpenAiCompatible`], chosen per org: [`choice`]), or at none.
//! [`Summarizer`] is that choice; [`Extractive`] is the default that always works:
//! local, deterministic, no network and no model. It picks the most
//! informative sentences of the transcript itself, so it can never invent a fact.
//!
//! Whatever the summarizer, its input is redacted first ([`redacted_input`]): card, Social
//! Security, account and routing numbers never reach it, and so never come back in a summary.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use ringside_core::Pii;

use crate::redact::{Counts, redact};

pub use ringside_core::transcript::{Speaker, Utterance};

pub mod choice;
pub mod openai;
pub use openai::{ApiKey, AuthStyle, OpenAiCompatible, OpenAiConfig, OpenAiConfigError};

/// Everything a summarizer may read about one call: its transcript and the agent's notes.
/// `Debug` prints no text (the texts are [`Pii`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SummaryInput {
    /// The utterances, in the order the provider gave them.
    pub transcript: Vec<Utterance>,
    /// What the agent typed during or after the call.
    pub agent_notes: Vec<Pii<String>>,
}

/// A summary in the making.
pub type SummaryFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Pii<String>, SummaryError>> + Send + 'a>>;

/// Turns one call's (redacted) transcript and notes into a short summary for its AMS note.
pub trait Summarizer: Send + Sync + fmt::Debug {
    /// The summary of `input`, which must come from [`redacted_input`]. An empty transcript gives
    /// an empty summary, not an error.
    fn summarize<'a>(&'a self, input: &'a SummaryInput) -> SummaryFuture<'a>;
}

/// Why a summarizer gave no summary. The sync worker then writes the note without one (or
/// retries); no variant carries what was asked or answered, since either could hold the call's
/// words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SummaryError {
    /// The summarizer could not be reached, or answered 5xx.
    #[error("the summarizer is unavailable")]
    Unavailable,
    /// No answer within the summarizer's budget.
    #[error("the summarizer did not answer in time")]
    Timeout,
    /// The summarizer answered something we cannot use (not the expected shape, too large).
    #[error("the summarizer answered something unreadable: {0}")]
    InvalidResponse(&'static str),
    /// The summarizer refused the request (another 4xx): our request or its configuration.
    #[error("the summarizer refused the request (HTTP {0})")]
    Rejected(u16),
}

/// `input` with [`redact`] run over every utterance and every agent note, and what it removed in
/// all. Speakers and times are kept. This is the only input a [`Summarizer`] should be given.
#[must_use]
pub fn redacted_input(input: &SummaryInput) -> (SummaryInput, Counts) {
    let mut counts = Counts::default();
    let mut clean = |text: &Pii<String>| {
        let redacted = redact(text.expose());
        counts += redacted.counts;
        Pii::new(redacted.text)
    };
    let transcript = input
        .transcript
        .iter()
        .map(|utterance| Utterance {
            speaker: utterance.speaker,
            text: clean(&utterance.text),
            start_ms: utterance.start_ms,
        })
        .collect();
    let agent_notes = input.agent_notes.iter().map(&mut clean).collect();
    (
        SummaryInput {
            transcript,
            agent_notes,
        },
        counts,
    )
}

/// The built-in summarizer: the few most informative sentences of the transcript, verbatim.
///
/// Each sentence is scored by how often the call comes back to its content words (stop words
/// left out), with a bonus for insurance business (`policy`, `claim`, `cancel`, `renew`,
/// `payment`, …), for the caller's requests (`I'd like to`, `can you`, `question about`, …) and
/// for what the agent did (`I've added`, `I'll send`). The summary opens with
/// `Reason for call:` and the caller's first request, when there is one; the best of the other
/// sentences follow in the order they were said, labelled by speaker. Pleasantries and
/// repetitions are left out. At most [`max_sentences`](Self::max_sentences) lines and
/// [`max_chars`](Self::max_chars) characters; a sentence too long for the whole cap is cut at a
/// word and ends with `…`.
///
/// The same input always gives the same summary. The agent's notes are not summarized: they go
/// into the AMS note as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extractive {
    /// The most lines a summary has, the reason for the call included (default 3).
    pub max_sentences: usize,
    /// The most characters (Unicode scalar values) a summary has, labels and line breaks
    /// included (default 600).
    pub max_chars: usize,
}

impl Default for Extractive {
    fn default() -> Self {
        Self {
            max_sentences: 3,
            max_chars: 600,
        }
    }
}

impl Extractive {
    /// The summary of `input`, right away; [`Summarizer::summarize`] is this behind a ready
    /// future.
    #[must_use]
    pub fn summary(&self, input: &SummaryInput) -> Pii<String> {
        Pii::new(self.compose(input))
    }

    fn compose(&self, input: &SummaryInput) -> String {
        if self.max_sentences == 0 || self.max_chars == 0 {
            return String::new();
        }
        let sentences = sentences_of(input);
        if sentences.is_empty() {
            return String::new();
        }

        // Who states the reason for the call: the caller, or anyone unlabelled when no one is.
        let caller_labelled = sentences.iter().any(|s| s.speaker == Speaker::Caller);
        let requester = if caller_labelled {
            Speaker::Caller
        } else {
            Speaker::Unknown
        };
        let scores = score(&sentences, requester);
        let reason = sentences
            .iter()
            .position(|s| s.speaker == requester && s.request);

        let mut chosen: Vec<(usize, String)> = Vec::new();
        let mut used = 0;
        if let Some(index) = reason {
            let line = cut(
                &format!("Reason for call: {}", sentences[index].text),
                self.max_chars,
            );
            used = line.chars().count();
            chosen.push((index, line));
        }

        let mut ranked: Vec<usize> = (0..sentences.len())
            .filter(|i| Some(*i) != reason && scores[*i] > 0.0)
            .collect();
        ranked.sort_by(|a, b| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b)));

        let mut seen: HashSet<String> = HashSet::new();
        if let Some(index) = reason {
            seen.insert(sentences[index].text.to_lowercase());
        }
        for index in &ranked {
            if chosen.len() == self.max_sentences {
                break;
            }
            if !seen.insert(sentences[*index].text.to_lowercase()) {
                continue;
            }
            let line = sentences[*index].line();
            let need = line.chars().count() + usize::from(!chosen.is_empty());
            if used + need <= self.max_chars {
                used += need;
                chosen.push((*index, line));
            }
        }
        if chosen.is_empty()
            && let Some(best) = ranked.first()
        {
            chosen.push((*best, cut(&sentences[*best].line(), self.max_chars)));
        }

        // The reason first, then the rest in the order they were said.
        let skip = usize::from(reason.is_some());
        chosen[skip..].sort_by_key(|(index, _)| *index);
        let lines: Vec<String> = chosen.into_iter().map(|(_, line)| line).collect();
        lines.join("\n")
    }
}

impl Summarizer for Extractive {
    fn summarize<'a>(&'a self, input: &'a SummaryInput) -> SummaryFuture<'a> {
        Box::pin(std::future::ready(Ok(self.summary(input))))
    }
}

// ---------------------------------------------------------------------------------------------
// Sentences and their scores.

/// One sentence of the transcript, in call order.
#[derive(Debug)]
struct Sentence {
    speaker: Speaker,
    /// The sentence, whitespace collapsed to single spaces.
    text: String,
    /// Its content words, stemmed, each once, in order.
    words: Vec<String>,
    /// Whether it asks for something (`I'd like to`, `can you`, …).
    request: bool,
    /// Whether it says something was done (`I've added`, `I'll send`, …).
    action: bool,
}

impl Sentence {
    fn line(&self) -> String {
        match self.speaker.label() {
            Some(label) => format!("{label}: {}", self.text),
            None => self.text.clone(),
        }
    }
}

/// The transcript's sentences in the order they were said: by `start_ms` when every utterance
/// has one, otherwise in the order given.
fn sentences_of(input: &SummaryInput) -> Vec<Sentence> {
    let mut utterances: Vec<&Utterance> = input.transcript.iter().collect();
    if utterances.iter().all(|u| u.start_ms.is_some()) {
        utterances.sort_by_key(|u| u.start_ms);
    }
    let mut sentences = Vec::new();
    for utterance in utterances {
        for piece in split_sentences(utterance.text.expose()) {
            let text = piece.split_whitespace().collect::<Vec<_>>().join(" ");
            let all = words_of(&text);
            let phrase = format!(" {} ", all.join(" "));
            let mut words: Vec<String> = Vec::new();
            for word in &all {
                if word.chars().count() < 2 || STOP_WORDS.contains(&word.as_str()) {
                    continue;
                }
                let stemmed = stem(word);
                if !words.contains(&stemmed) {
                    words.push(stemmed);
                }
            }
            sentences.push(Sentence {
                speaker: utterance.speaker,
                text,
                words,
                request: REQUESTS.iter().any(|r| phrase.contains(r)),
                action: ACTIONS.iter().any(|a| phrase.contains(a)),
            });
        }
    }
    sentences
}

/// Each sentence's score (0: never worth a line).
fn score(sentences: &[Sentence], requester: Speaker) -> Vec<f64> {
    let mut frequency: HashMap<&str, u32> = HashMap::new();
    for sentence in sentences {
        for word in &sentence.words {
            *frequency.entry(word.as_str()).or_default() += 1;
        }
    }
    sentences
        .iter()
        .map(|sentence| {
            let request = sentence.request && sentence.speaker == requester;
            if sentence.words.len() < MIN_CONTENT_WORDS && !request {
                return 0.0;
            }
            let weight: u32 = sentence
                .words
                .iter()
                .map(|w| frequency.get(w.as_str()).copied().unwrap_or(1))
                .sum();
            let length = (sentence.words.len().max(1) as f64).sqrt();
            let business = sentence
                .words
                .iter()
                .filter(|w| BUSINESS.iter().any(|b| w.starts_with(b)))
                .count()
                .min(3);
            f64::from(weight) / length
                + BUSINESS_BONUS * business as f64
                + if request { REQUEST_BONUS } else { 0.0 }
                + if sentence.action { ACTION_BONUS } else { 0.0 }
        })
        .collect()
}

const MIN_CONTENT_WORDS: usize = 2;
const BUSINESS_BONUS: f64 = 1.5;
const REQUEST_BONUS: f64 = 3.0;
const ACTION_BONUS: f64 = 1.0;

/// Phrases that carry the caller's request, padded with spaces to match whole words.
const REQUESTS: &[&str] = &[
    " i'd like ",
    " i would like ",
    " i want to ",
    " i wanted to ",
    " i need to ",
    " i needed to ",
    " we need to ",
    " we'd like ",
    " we want to ",
    " need to ",
    " need help ",
    " can you ",
    " could you ",
    " would you ",
    " can i ",
    " could i ",
    " how do i ",
    " question about ",
    " questions about ",
    " a question ",
    " calling about ",
    " calling to ",
    " calling because ",
    " calling for ",
    " looking to ",
    " looking for ",
    " wondering if ",
    " wondering about ",
    " help me ",
    " trying to ",
    " want to know ",
];

/// Phrases that say something was done.
const ACTIONS: &[&str] = &[
    " i've ",
    " i have ",
    " i'll ",
    " i will ",
    " we've ",
    " we'll ",
    " we will ",
    " i went ahead ",
    " all set ",
    " effective ",
];

/// Stems of the words of insurance business.
const BUSINESS: &[&str] = &[
    "add",
    "cancel",
    "renew",
    "claim",
    "chang",
    "pay",
    "bill",
    "polic",
    "coverag",
    "quot",
    "premium",
    "deductibl",
    "refund",
    "updat",
    "remov",
    "endors",
    "certificat",
    "accident",
    "driver",
    "vehicl",
    "car",
];

/// Words that say little on their own: function words and conversation fillers.
const STOP_WORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
    "at", "be", "because", "been", "before", "being", "both", "but", "by", "bye", "can", "can't",
    "cannot", "could", "couldn't", "did", "didn't", "do", "does", "doesn't", "doing", "don't",
    "down", "each", "either", "else", "even", "ever", "every", "few", "for", "from", "get", "gets",
    "getting", "give", "go", "goes", "going", "gonna", "good", "got", "great", "had", "has",
    "hasn't", "have", "haven't", "having", "he", "he's", "hello", "her", "here", "hers", "hey",
    "hi", "him", "his", "how", "i", "i'd", "i'll", "i'm", "i've", "if", "in", "into", "is",
    "isn't", "it", "it's", "its", "just", "know", "let", "let's", "like", "look", "make", "may",
    "maybe", "me", "might", "mine", "more", "most", "much", "must", "my", "no", "nor", "not",
    "now", "of", "off", "oh", "ok", "okay", "on", "once", "one", "only", "or", "other", "our",
    "ours", "out", "over", "own", "perfect", "please", "pretty", "really", "right", "said", "same",
    "say", "see", "she", "she's", "should", "so", "some", "sorry", "still", "such", "sure", "take",
    "tell", "than", "thank", "thanks", "that", "that's", "the", "their", "theirs", "them", "then",
    "there", "there's", "these", "they", "they're", "thing", "things", "think", "this", "those",
    "through", "to", "too", "uh", "um", "under", "until", "up", "us", "very", "wanna", "want",
    "was", "wasn't", "way", "we", "we'd", "we'll", "we're", "we've", "well", "were", "what",
    "what's", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "won't",
    "would", "wouldn't", "yeah", "yep", "yes", "yet", "you", "you'd", "you'll", "you're", "you've",
    "your", "yours",
];

/// Words a `.` may follow without ending the sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "no", "acct", "vs", "inc", "co", "ave", "approx",
];

/// Splits `text` into sentences: after `.`, `!` or `?` followed by a space (not after `Mr.`, an
/// initial or inside `1,250.00`), and at line breaks. Pieces without a letter or digit are
/// dropped.
fn split_sentences(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let cut = match c {
            '\n' => Some((at, at + 1)),
            '.' | '!' | '?' => {
                let mut end = at + c.len_utf8();
                while let Some(&(next_at, next)) = chars.peek() {
                    if matches!(next, '.' | '!' | '?' | '"' | ')' | '”' | '’') {
                        chars.next();
                        end = next_at + next.len_utf8();
                    } else {
                        break;
                    }
                }
                let at_space = chars.peek().is_none_or(|(_, next)| next.is_whitespace());
                let abbreviation = c == '.' && ends_with_abbreviation(&text[start..at]);
                (at_space && !abbreviation).then_some((end, end))
            }
            _ => None,
        };
        if let Some((end, resume)) = cut {
            pieces.push(&text[start..end]);
            start = resume;
        }
    }
    pieces.push(&text[start..]);
    pieces
        .into_iter()
        .map(str::trim)
        .filter(|piece| piece.chars().any(char::is_alphanumeric))
        .collect()
}

fn ends_with_abbreviation(before: &str) -> bool {
    let letters = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphabetic())
        .map(char::len_utf8)
        .sum::<usize>();
    let word = &before[before.len() - letters..];
    let initial = word.chars().count() == 1 && word.chars().all(char::is_uppercase);
    initial || ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

/// The words of `text`, lower case, with `’` as `'`; markers in brackets (`[SSN removed]`) and
/// numbers left out.
fn words_of(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && (c.is_alphabetic() || ((c == '\'' || c == '’') && !word.is_empty())) {
            if c == '’' {
                word.push('\'');
            } else {
                word.extend(c.to_lowercase());
            }
        } else if !word.is_empty() {
            words.push(std::mem::take(&mut word).trim_end_matches('\'').to_owned());
        }
    }
    if !word.is_empty() {
        words.push(word.trim_end_matches('\'').to_owned());
    }
    words
}

/// A light stem, so `add`, `added` and `adding`, or `card` and `cards`, count as one word.
fn stem(word: &str) -> String {
    let word = word.strip_suffix("'s").unwrap_or(word);
    let chars = word.chars().count();
    let base = if chars > 5 && word.ends_with("ies") {
        format!("{}y", &word[..word.len() - 3])
    } else if chars > 5 && word.ends_with("ing") {
        word[..word.len() - 3].to_owned()
    } else if chars > 4 && word.ends_with("ed") {
        word[..word.len() - 2].to_owned()
    } else if chars > 3 && word.ends_with('s') && !word.ends_with("ss") {
        word[..word.len() - 1].to_owned()
    } else {
        word.to_owned()
    };
    match base.strip_suffix('e') {
        Some(stripped) if base.chars().count() > 4 => stripped.to_owned(),
        _ => base,
    }
}

/// `text` cut to at most `max` characters: at a word where it can, ending with `…`.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let keep: String = text.chars().take(max - 1).collect();
    let at_word = match keep.rfind(char::is_whitespace) {
        Some(space) if space >= keep.len() / 2 => keep[..space].trim_end(),
        _ => keep.as_str(),
    };
    format!("{at_word}…")
}

#[cfg(test)]
mod tests;
