//! Redaction: payment cards, US Social Security numbers, bank account and routing numbers are
//! replaced by fixed markers before any text leaves the relay, to a summarizer or to the AMS.
//!
//! Why here, and why so strict: a caller reads their card number to the agent, the provider's
//! transcript writes it down, and without this step it would land verbatim in the AMS, the
//! agency's system of record, kept for years and seen by everyone with access to the client. An
//! AMS note is no place for a PAN or an SSN (PCI DSS, state privacy law); the summary, the agent's
//! note and the transcript all pass through [`redact`] first.
//!
//! What counts as which, in short:
//! - **card**: 13–19 digits, bare or grouped by spaces or dashes the way cards are printed
//!   (4-4-4-4, 4-6-5, …), whose digits pass the Luhn check. No cue needed: a Luhn-valid card
//!   shape is removed wherever it stands on its own. A policy number that fails Luhn stays.
//! - **SSN**: `123-45-6789` or `123 45 6789` anywhere; nine bare digits only next to a cue
//!   (`SSN`, `social`, …). Numbers the SSA never issues (area 000, 666 or 900–999, group 00,
//!   serial 0000) stay.
//! - **routing number**: nine digits passing the ABA checksum (weights 3-7-1) and a valid
//!   Federal Reserve prefix, next to a routing cue (`routing`, `ABA`, `transit`) or an account cue.
//! - **bank account**: 6–17 digits next to an account cue (`account`, `acct`, `a/c`, `checking`,
//!   `savings`).
//!
//! "Next to" means within a few words, in the same sentence: six words before the number, or
//! (when nothing before it decides) four after. Words that say the number is something else —
//! `policy`, `claim`, `phone`, `premium`, `balance`, … — stop the search, so
//! `account holder, policy number 12345678` keeps its policy number. Shapes that are usually
//! something else — a North American phone number, a ZIP+4, a date — are removed as an account
//! only when the cue stands right before them (`account number is 617-555-0199`). Digits glued to
//! letters or to other digits by `/ : . ,` (an identifier `HO-1234567`, a date `12/03/2026`, a
//! time, an amount `$1,250.00`) are never touched.
//!
//! Matching is linear in the input (the `regex` crate has no backtracking) and never panics; the
//! removed values are never copied, logged or counted beyond their kind ([`Counts`]).

use std::fmt;
use std::ops::AddAssign;
use std::sync::LazyLock;

use regex::Regex;
use ringside_core::pii::REDACTED;

/// What a payment card number is replaced with.
pub const CARD_MARKER: &str = "[card number removed]";
/// What a Social Security number is replaced with.
pub const SSN_MARKER: &str = "[SSN removed]";
/// What a bank account number is replaced with.
pub const BANK_ACCOUNT_MARKER: &str = "[bank account removed]";
/// What an ABA routing number is replaced with.
pub const ROUTING_NUMBER_MARKER: &str = "[routing number removed]";

/// How many values of each kind one redaction removed: safe to log, since it says what was
/// removed and never what it was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Payment card numbers.
    pub cards: usize,
    /// US Social Security numbers.
    pub ssns: usize,
    /// Bank account numbers.
    pub bank_accounts: usize,
    /// ABA routing numbers.
    pub routing_numbers: usize,
}

impl Counts {
    /// Everything removed, all kinds together.
    #[must_use]
    pub fn total(&self) -> usize {
        self.cards + self.ssns + self.bank_accounts + self.routing_numbers
    }

    fn add(&mut self, kind: Kind) {
        match kind {
            Kind::Card => self.cards += 1,
            Kind::Ssn => self.ssns += 1,
            Kind::BankAccount => self.bank_accounts += 1,
            Kind::RoutingNumber => self.routing_numbers += 1,
        }
    }
}

impl AddAssign for Counts {
    fn add_assign(&mut self, other: Self) {
        self.cards += other.cards;
        self.ssns += other.ssns;
        self.bank_accounts += other.bank_accounts;
        self.routing_numbers += other.routing_numbers;
    }
}

/// A text with its card, SSN, account and routing numbers replaced by markers, and how many of
/// each were replaced.
///
/// The text is still personal data (names, addresses and phone numbers stay), so `Debug` prints
/// only the counts.
#[derive(Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The text, every removed value replaced by its marker ([`CARD_MARKER`], …).
    pub text: String,
    /// What was removed.
    pub counts: Counts,
}

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redacted")
            .field("text", &format_args!("{REDACTED}"))
            .field("counts", &self.counts)
            .finish()
    }
}

/// Replaces every payment card, Social Security, bank account and routing number in `text` by
/// its marker; everything else — phone numbers, dates, times, amounts, ZIP codes, policy numbers
/// that fail Luhn — is kept byte for byte.
///
/// Total on any input: it never panics, and its time is linear in the length of `text`.
#[must_use]
pub fn redact(text: &str) -> Redacted {
    let tokens = Tokens::of(text);
    let mut hits = Vec::new();
    tokens.find_hits(&mut hits);
    hits.sort_unstable_by_key(|hit| hit.start);

    let mut counts = Counts::default();
    // The exact size up front: growing the string would leave copies of the text behind.
    let removed: usize = hits.iter().map(|hit| hit.end - hit.start).sum();
    let added: usize = hits.iter().map(|hit| hit.kind.marker().len()).sum();
    let mut out = String::with_capacity(text.len() - removed + added);
    let mut at = 0;
    for hit in &hits {
        out.push_str(&text[at..hit.start]);
        out.push_str(hit.kind.marker());
        counts.add(hit.kind);
        at = hit.end;
    }
    out.push_str(&text[at..]);
    Redacted { text: out, counts }
}

/// The kinds of value redaction removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Card,
    Ssn,
    BankAccount,
    RoutingNumber,
}

impl Kind {
    fn marker(self) -> &'static str {
        match self {
            Kind::Card => CARD_MARKER,
            Kind::Ssn => SSN_MARKER,
            Kind::BankAccount => BANK_ACCOUNT_MARKER,
            Kind::RoutingNumber => ROUTING_NUMBER_MARKER,
        }
    }
}

/// What one window of digit groups is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// A value to remove.
    Remove(Kind),
    /// Something else that must stay whole (a phone number, a date, a ZIP+4): no part of it may
    /// be taken for a value either.
    Keep,
}

/// One value to replace: the byte range it covers, separators included.
#[derive(Debug, Clone, Copy)]
struct Hit {
    start: usize,
    end: usize,
    kind: Kind,
}

// ---------------------------------------------------------------------------------------------
// Words that decide what a number is.

/// Words before (or after) a number that say it is a Social Security number.
const SSN_CUES: &[&str] = &["ssn", "ssns", "ss", "social"];
/// … an ABA routing number.
const ROUTING_CUES: &[&str] = &["routing", "aba", "transit", "rtn"];
/// … a bank account number.
const ACCOUNT_CUES: &[&str] = &[
    "account", "accounts", "acct", "a/c", "checking", "chequing", "savings",
];
/// Words that say the number is something else: the search for a cue stops at them.
const OTHER_CUES: &[&str] = &[
    "policy",
    "policies",
    "claim",
    "claims",
    "quote",
    "invoice",
    "reference",
    "ref",
    "confirmation",
    "phone",
    "telephone",
    "cell",
    "mobile",
    "call",
    "fax",
    "extension",
    "ext",
    "zip",
    "postal",
    "vin",
    "license",
    "licence",
    "plate",
    "member",
    "group",
    "order",
    "ticket",
    "case",
    "premium",
    "balance",
    "deductible",
    "amount",
    "total",
    "limit",
    "price",
    "cost",
    "paid",
    "pay",
    "owe",
    "year",
    "years",
    "born",
    "birthday",
    "dob",
    "miles",
    "mileage",
];
/// Words that may stand between a cue and its number and still leave the cue "right before" it
/// (`account number is …`).
const FILLERS: &[&str] = &[
    "number", "numbers", "no", "num", "nr", "is", "it's", "it’s", "its", "was", "my", "the", "our",
    "your", "his", "her", "their", "that's", "that’s", "are", "it", "be", "would",
];
/// Words after a number that make it an amount.
const MONEY_WORDS: &[&str] = &[
    "dollars", "dollar", "bucks", "cents", "usd", "percent", "grand",
];
/// Words a `.` may follow without ending the sentence (`acct. 12345678`).
const ABBREVIATIONS: &[&str] = &["acct", "no", "nr", "num", "a/c", "ref", "ext"];

/// How many words before a number a cue may stand.
const CUE_WORDS_BEFORE: usize = 6;
/// How many words after a number a cue may stand, when nothing before it decided.
const CUE_WORDS_AFTER: usize = 4;
/// How many filler words may separate a cue from a number that is "right after" it.
const MAX_FILLERS: usize = 3;
/// The most digit groups one value may span (a card as 4-4-4-4-3 is five; a phone as 1-3-3-4 is
/// four). Bounds the work per group, so a long run of digits stays linear.
const MAX_GROUPS: usize = 6;
/// The most digits any removed value has (a 19-digit card).
const MAX_DIGITS: usize = 19;

fn is_one_of(word: &str, list: &[&str]) -> bool {
    list.iter().any(|item| item.eq_ignore_ascii_case(word))
}

/// What one word says about a number near it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cue {
    Ssn,
    Routing,
    Account,
    Other,
}

fn cue_of(word: &str) -> Option<Cue> {
    if is_one_of(word, SSN_CUES) {
        Some(Cue::Ssn)
    } else if is_one_of(word, ROUTING_CUES) {
        Some(Cue::Routing)
    } else if is_one_of(word, ACCOUNT_CUES) {
        Some(Cue::Account)
    } else if is_one_of(word, OTHER_CUES) {
        Some(Cue::Other)
    } else {
        None
    }
}

/// The cues found near one candidate number.
#[derive(Debug, Clone, Copy, Default)]
struct Cues {
    ssn: bool,
    routing: bool,
    account: bool,
}

impl Cues {
    fn any(self) -> bool {
        self.ssn || self.routing || self.account
    }

    /// Notes `cue`; `false` when it is one that ends the search.
    fn note(&mut self, cue: Option<Cue>) -> bool {
        match cue {
            Some(Cue::Ssn) => self.ssn = true,
            Some(Cue::Routing) => self.routing = true,
            Some(Cue::Account) => self.account = true,
            Some(Cue::Other) => return false,
            None => {}
        }
        true
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens: the words, digit groups, phone numbers and sentence ends of a text.

/// A North American phone number: `(617) 555-0199`, `617-555-0199`, `617.555.0199`,
/// `+1 617 555 0199`, `6175550199` (area code and exchange never start with 0 or 1).
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:\+?1[ .\-]?)?(?:\([2-9][0-9]{2}\) ?|[2-9][0-9]{2}[ .\-]?)[2-9][0-9]{2}[ .\-]?[0-9]{4}",
    )
    .expect("the phone pattern is valid")
});

/// A run of digit groups joined by single spaces or dashes; a word (or `a/c`); a sentence end.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"[0-9]+(?:[ \-][0-9]+)*|(?i:a/c)\b|\p{Alphabetic}[\p{Alphabetic}'’]*|[.!?]+(?:\s|$)|\n",
    )
    .expect("the token pattern is valid")
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenKind {
    Word,
    /// Digits, one group of a run.
    Group,
    /// A whole phone number, taken as one.
    Phone,
    /// The end of a sentence or a line: no cue reaches across it.
    Stop,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: TokenKind,
    start: usize,
    end: usize,
}

/// Consecutive digit groups joined by single spaces or dashes: `tokens[first..end]`.
#[derive(Debug, Clone, Copy)]
struct Run {
    first: usize,
    end: usize,
    /// The first group is glued to what precedes it (`HO-123`, `12/03`, `$1`): part of
    /// something else.
    left_glued: bool,
    /// The last group is glued to what follows it (`123abc`, `1,250`, `50%`).
    right_glued: bool,
    /// It follows a `+`: an international phone number (`+44 20 7946 0958`), never redacted.
    international: bool,
}

#[derive(Debug)]
struct Tokens<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    runs: Vec<Run>,
}

impl<'t> Tokens<'t> {
    fn of(text: &'t str) -> Self {
        let mut tokens = Tokens {
            text,
            tokens: Vec::new(),
            runs: Vec::new(),
        };
        let mut at = 0;
        for (start, end) in phones(text) {
            tokens.scan(at, start);
            tokens.tokens.push(Token {
                kind: TokenKind::Phone,
                start,
                end,
            });
            at = end;
        }
        tokens.scan(at, text.len());
        tokens
    }

    /// Tokenizes `text[from..to]`, a stretch with no phone number in it.
    fn scan(&mut self, from: usize, to: usize) {
        let text = self.text;
        for found in TOKEN.find_iter(&text[from..to]) {
            let (start, end) = (from + found.start(), from + found.end());
            let matched = found.as_str();
            if matched.starts_with(|c: char| c.is_ascii_digit()) {
                self.push_run(start, end);
            } else if matched.starts_with(['.', '!', '?', '\n']) {
                let abbreviation = matched.starts_with('.')
                    && self.tokens.last().is_some_and(|last| {
                        last.kind == TokenKind::Word
                            && last.end == start
                            && is_one_of(&text[last.start..last.end], ABBREVIATIONS)
                    });
                if !abbreviation {
                    self.tokens.push(Token {
                        kind: TokenKind::Stop,
                        start,
                        end,
                    });
                }
            } else {
                self.tokens.push(Token {
                    kind: TokenKind::Word,
                    start,
                    end,
                });
            }
        }
    }

    fn push_run(&mut self, start: usize, end: usize) {
        let first = self.tokens.len();
        let mut group_start = start;
        for (offset, byte) in self.text.as_bytes()[start..end].iter().enumerate() {
            if !byte.is_ascii_digit() {
                self.tokens.push(Token {
                    kind: TokenKind::Group,
                    start: group_start,
                    end: start + offset,
                });
                group_start = start + offset + 1;
            }
        }
        self.tokens.push(Token {
            kind: TokenKind::Group,
            start: group_start,
            end,
        });
        self.runs.push(Run {
            first,
            end: self.tokens.len(),
            left_glued: glued_before(self.text, start),
            right_glued: glued_after(self.text, end),
            international: self.text[..start].ends_with('+'),
        });
    }

    fn word(&self, token: Token) -> &'t str {
        &self.text[token.start..token.end]
    }

    fn find_hits(&self, hits: &mut Vec<Hit>) {
        let mut used = Vec::new();
        for run in self.runs.iter().filter(|run| !run.international) {
            used.clear();
            used.resize(run.end - run.first, false);
            // Shapes that need no cue first, so a card is never cut up as an account number.
            self.sweep(run, &mut used, hits, Self::shape_kind);
            self.sweep(run, &mut used, hits, Self::cue_kind);
        }
        for (index, token) in self.tokens.iter().enumerate() {
            if token.kind == TokenKind::Phone && self.account_cue_right_before(index) {
                hits.push(Hit {
                    start: token.start,
                    end: token.end,
                    kind: Kind::BankAccount,
                });
            }
        }
    }

    /// Walks `run` left to right, taking at each group the longest window of groups (not yet
    /// used) that `verdict_of` recognises.
    fn sweep(
        &self,
        run: &Run,
        used: &mut [bool],
        hits: &mut Vec<Hit>,
        verdict_of: fn(&Self, &Run, usize, usize) -> Option<Verdict>,
    ) {
        let groups = run.end - run.first;
        let mut i = 0;
        while i < groups {
            if used[i] {
                i += 1;
                continue;
            }
            let longest = used[i..]
                .iter()
                .take(MAX_GROUPS)
                .take_while(|taken| !**taken)
                .count();
            let found = (1..=longest).rev().find_map(|len| {
                verdict_of(self, run, run.first + i, run.first + i + len).map(|v| (len, v))
            });
            match found {
                Some((len, verdict)) => {
                    used[i..i + len].fill(true);
                    if let Verdict::Remove(kind) = verdict {
                        hits.push(Hit {
                            start: self.tokens[run.first + i].start,
                            end: self.tokens[run.first + i + len - 1].end,
                            kind,
                        });
                    }
                    i += len;
                }
                None => i += 1,
            }
        }
    }

    /// The window `tokens[first..end]` of `run` as digits, when it can be a value at all.
    fn window(&self, run: &Run, first: usize, end: usize) -> Option<Window> {
        if (first == run.first && run.left_glued) || (end == run.end && run.right_glued) {
            return None;
        }
        let mut window = Window::default();
        for token in &self.tokens[first..end] {
            let len = token.end - token.start;
            if window.len + len > MAX_DIGITS {
                return None;
            }
            window.digits[window.len..window.len + len]
                .copy_from_slice(&self.text.as_bytes()[token.start..token.end]);
            window.len += len;
            window.groups[window.group_count] = len;
            window.group_count += 1;
        }
        for digit in &mut window.digits[..window.len] {
            *digit -= b'0';
        }
        Some(window)
    }

    /// Values recognised by their shape alone: cards (Luhn) and dashed or spaced SSNs.
    fn shape_kind(&self, run: &Run, first: usize, end: usize) -> Option<Verdict> {
        let window = self.window(run, first, end)?;
        if window.is_card_shape() && luhn(window.digits()) {
            Some(Verdict::Remove(Kind::Card))
        } else if window.groups() == [3, 2, 4] && ssn_is_valid(window.digits()) {
            Some(Verdict::Remove(Kind::Ssn))
        } else {
            None
        }
    }

    /// Values recognised by a cue near them: bare SSNs, routing and account numbers.
    fn cue_kind(&self, run: &Run, first: usize, end: usize) -> Option<Verdict> {
        let window = self.window(run, first, end)?;
        if !(6..=17).contains(&window.len)
            || window.groups().iter().filter(|g| **g >= 6).count() > 1
        {
            // Two long groups side by side are two numbers (`12345678 021000021`).
            return None;
        }
        if end == run.end && self.money_word_at(end) {
            return None;
        }
        let cues = self.cues_around(first, end);
        let looks_like_something_else = window.is_phone_shape() || window.is_zip_or_date_shape();
        if looks_like_something_else {
            return Some(if cues.account && self.account_cue_right_before(first) {
                Verdict::Remove(Kind::BankAccount)
            } else {
                Verdict::Keep
            });
        }
        if window.len == 9 {
            if cues.ssn && ssn_is_valid(window.digits()) {
                return Some(Verdict::Remove(Kind::Ssn));
            }
            if (cues.routing || cues.account) && routing_is_valid(window.digits()) {
                return Some(Verdict::Remove(Kind::RoutingNumber));
            }
        }
        cues.account.then_some(Verdict::Remove(Kind::BankAccount))
    }

    fn money_word_at(&self, index: usize) -> bool {
        self.tokens.get(index).is_some_and(|token| {
            token.kind == TokenKind::Word && is_one_of(self.word(*token), MONEY_WORDS)
        })
    }

    /// The cues within a few words of `tokens[first..end]`, in its sentence: before it first,
    /// then, if nothing before it decided, after it.
    fn cues_around(&self, first: usize, end: usize) -> Cues {
        let mut cues = Cues::default();
        for token in self.tokens[..first].iter().rev().take(CUE_WORDS_BEFORE) {
            match token.kind {
                TokenKind::Stop => break,
                TokenKind::Word => {
                    if !cues.note(cue_of(self.word(*token))) {
                        return cues;
                    }
                }
                TokenKind::Group | TokenKind::Phone => {}
            }
        }
        if cues.any() {
            return cues;
        }
        for token in self.tokens[end..].iter().take(CUE_WORDS_AFTER) {
            match token.kind {
                TokenKind::Stop => break,
                TokenKind::Word => {
                    if !cues.note(cue_of(self.word(*token))) {
                        break;
                    }
                }
                TokenKind::Group | TokenKind::Phone => {}
            }
        }
        cues
    }

    /// Whether an account cue stands right before `tokens[index]`, with at most a few filler
    /// words between (`account number is …`).
    fn account_cue_right_before(&self, index: usize) -> bool {
        for token in self.tokens[..index].iter().rev().take(MAX_FILLERS + 1) {
            if token.kind != TokenKind::Word {
                return false;
            }
            let word = self.word(*token);
            if cue_of(word) == Some(Cue::Account) {
                return true;
            }
            if !is_one_of(word, FILLERS) {
                return false;
            }
        }
        false
    }
}

/// The phone numbers of `text` that stand on their own (not part of a longer run of digits or
/// of a word), as byte ranges.
fn phones(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(phone) = PHONE.find_at(text, at) {
        if stands_alone(text, phone.start(), phone.end()) {
            found.push((phone.start(), phone.end()));
            at = phone.end();
        } else {
            // Inside a longer number: skip that number's digits (the match starts with an ASCII
            // `+`, `(` or digit, so `start + 1` is a char boundary).
            at = phone.start() + 1;
            at += text.as_bytes()[at..]
                .iter()
                .take_while(|byte| byte.is_ascii_digit())
                .count();
        }
    }
    found
}

fn stands_alone(text: &str, start: usize, end: usize) -> bool {
    let mut before = text[..start].chars().rev();
    let clear_before = match before.next() {
        None => true,
        Some(c) if c.is_alphanumeric() || c == '+' => false,
        Some(' ' | '-' | '.') => !before.next().is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    };
    let mut after = text[end..].chars();
    let clear_after = match after.next() {
        None => true,
        Some(c) if c.is_alphanumeric() => false,
        Some(' ' | '-' | '.') => !after.next().is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    };
    clear_before && clear_after
}

/// Whether the digits starting at `start` continue something before them.
fn glued_before(text: &str, start: usize) -> bool {
    let mut before = text[..start].chars().rev();
    match before.next() {
        None => false,
        Some(c) if c.is_alphanumeric() => true,
        Some('_' | '$' | '€' | '£' | '¥' | '+' | '@') => true,
        Some('.' | ',' | ':' | '/') => before.next().is_some_and(|c| c.is_ascii_digit()),
        Some('-') => before.next().is_some_and(char::is_alphanumeric),
        Some(_) => false,
    }
}

/// Whether the digits ending at `end` go on into something after them.
fn glued_after(text: &str, end: usize) -> bool {
    let mut after = text[end..].chars();
    match after.next() {
        None => false,
        Some(c) if c.is_alphanumeric() => true,
        Some('_' | '%' | '@') => true,
        Some('.' | ',' | ':' | '/') => after.next().is_some_and(|c| c.is_ascii_digit()),
        Some('-') => after.next().is_some_and(char::is_alphanumeric),
        Some(_) => false,
    }
}

/// Some consecutive digit groups of a run: their digits (values 0–9) and the group lengths.
#[derive(Debug, Default)]
struct Window {
    digits: [u8; MAX_DIGITS],
    len: usize,
    groups: [usize; MAX_GROUPS],
    group_count: usize,
}

impl Window {
    fn digits(&self) -> &[u8] {
        &self.digits[..self.len]
    }

    fn groups(&self) -> &[usize] {
        &self.groups[..self.group_count]
    }

    /// 13–19 digits, bare or grouped the way cards are printed: fours (the last group may be
    /// shorter), or 4-6-5 / 4-6-4 (American Express, Diners Club).
    fn is_card_shape(&self) -> bool {
        if !(13..=19).contains(&self.len) {
            return false;
        }
        match self.groups() {
            [_] | [4, 6, 4] | [4, 6, 5] => true,
            [fours @ .., last] if fours.len() >= 3 => {
                fours.iter().all(|g| *g == 4) && (1..=4).contains(last)
            }
            _ => false,
        }
    }

    /// A North American number: 3-3-4, 1-3-3-4, or 10 or 11 (leading 1) bare digits, with an
    /// area code and exchange that do not start with 0 or 1.
    fn is_phone_shape(&self) -> bool {
        let national = match (self.groups(), self.digits()) {
            ([3, 3, 4] | [10], digits) => digits,
            ([1, 3, 3, 4] | [11], [1, rest @ ..]) => rest,
            _ => return false,
        };
        national[0] >= 2 && national[3] >= 2
    }

    /// A ZIP+4 (5-4) or a date written with dashes or spaces (`2026-03-12`, `12-03-2026`).
    fn is_zip_or_date_shape(&self) -> bool {
        let value = |digits: &[u8]| digits.iter().fold(0u32, |acc, d| acc * 10 + u32::from(*d));
        let d = self.digits();
        match self.groups() {
            [5, 4] => true,
            [4, 2, 2] => (1..=12).contains(&value(&d[4..6])) && (1..=31).contains(&value(&d[6..8])),
            [a @ 1..=2, b @ 1..=2, 4] => {
                let first = value(&d[..*a]);
                let second = value(&d[*a..*a + *b]);
                (1..=31).contains(&first)
                    && (1..=31).contains(&second)
                    && (first <= 12 || second <= 12)
            }
            _ => false,
        }
    }
}

/// The Luhn (mod 10) check every payment card number passes.
fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(*d);
            if !i.is_multiple_of(2) {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether nine digits are an SSN the SSA could have issued: not area 000, 666 or 900–999, not
/// group 00, not serial 0000.
fn ssn_is_valid(digits: &[u8]) -> bool {
    let [a, b, c, d, e, f, g, h, i] = digits else {
        return false;
    };
    let area = u32::from(*a) * 100 + u32::from(*b) * 10 + u32::from(*c);
    area != 0 && area != 666 && area < 900 && (*d, *e) != (0, 0) && (*f, *g, *h, *i) != (0, 0, 0, 0)
}

/// Whether nine digits are an ABA routing number: a Federal Reserve prefix (00–12, 21–32, 61–72,
/// 80) and the 3-7-1 checksum.
fn routing_is_valid(digits: &[u8]) -> bool {
    let [a, b, c, d, e, f, g, h, i] = digits else {
        return false;
    };
    let prefix = a * 10 + b;
    let prefix_ok = matches!(prefix, 0..=12 | 21..=32 | 61..=72 | 80);
    let sum = 3 * (u32::from(*a) + u32::from(*d) + u32::from(*g))
        + 7 * (u32::from(*b) + u32::from(*e) + u32::from(*h))
        + (u32::from(*c) + u32::from(*f) + u32::from(*i));
    prefix_ok && sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests;
