//! [`PhoneNumber`]: a caller's number parsed once, at the edge, into E.164 — so that matching a
//! caller in the AMS, showing the pop and writing the note all work on one canonical form.
//!
//! Number formatting is the first complaint users have about screen-pop products (a `/` or a
//! missing `+1` and the caller is "unknown"; see `shared/reference/anchors.md` §3). So the parser
//! accepts every shape VoIP providers and AMSs hand us — E.164, `+1 415-555-0100`,
//! `(415) 555-0100`, `415/555-0100`, `415.555.0100`, bare 10 or 11 digits, NowCerts' right-padded
//! free text, `tel:`/`sip:` URIs, extensions written `x12`, `ext. 12`, `#12` — and
//! [`PhoneNumber::search_variants`] / [`PhoneNumber::matches_loosely`] cover the other direction:
//! finding the number in an AMS that stores free text, then re-checking each hit digit by digit,
//! because some AMS searches are fuzzy or match substrings (`ams-apis.md` §12).
//!
//! **Why not a phone-number library.** libphonenumber ports carry metadata for every country's
//! numbering plan, a large dependency that must be kept current. We need much less: NANP national
//! formats (every agency we serve is in the US or Canada, and numbers without a country code are
//! taken as NANP) plus numbers that already arrive international (`+44 …`), which we keep as they
//! are. For those we only find the country code's length (E.164 country codes are prefix-free; the
//! one- and two-digit codes are a short fixed list) and enforce E.164's length limit; we do not
//! validate other countries' national plans.
//!
//! **Rules.** With a `+`, the digits are country code and number. Without one, the NANP default
//! applies: 10 digits are `NPA-NXX-xxxx` (first digit of NPA and NXX 2–9) under +1; 11 digits
//! starting with 1 are the same with the country code; 11–15 digits starting with 2–9 are taken
//! as E.164 missing its `+` (Vonage sends `447700900000`). 3–6 digits are a short code; anonymous or withheld caller ids —
//! words like `anonymous`, Twilio's keypad spellings like `+266696687`, all zeros — are their own
//! error, so callers can tell "no number" from "bad number".
//!
//! **PII.** A phone number is personal data. `PhoneNumber` has no `Display`; its `Debug` prints only
//! the masked form (`PhoneNumber(***-***-0100)`); errors never contain the input (every
//! [`PhoneError`] message is fixed text). The full number leaves only through named methods
//! ([`PhoneNumber::e164`], [`PhoneNumber::formatted`], …) and serde (for the wire, like
//! [`crate::Pii`]). It implements [`Zeroize`] so it can live inside a [`crate::Pii`].

use std::fmt;
use std::str::FromStr;

use zeroize::Zeroize;

use crate::Error;

/// The most digits an E.164 number has, country code included (ITU-T E.164 §6).
pub const E164_MAX_DIGITS: usize = 15;

/// The most digits we keep in an extension; longer "extensions" are more likely a second number.
pub const MAX_EXTENSION_DIGITS: usize = 6;

/// The NANP country code: the United States, Canada and much of the Caribbean.
pub const NANP_COUNTRY_CODE: u16 = 1;

/// The fewest digits (country code included) we accept for a number outside NANP. The shortest
/// numbers in use (Niue, Saint Helena) have seven.
const INTERNATIONAL_MIN_DIGITS: usize = 7;

/// Inputs longer than this (after trimming) are refused before any work: no real phone field is.
const MAX_INPUT_BYTES: usize = 128;

/// Caller-id texts that mean "the number was withheld", compared lowercase, letters only (so
/// `Private Number`, `PRIVATE-NUMBER` and `private_number` are all `privatenumber`).
const WITHHELD_WORDS: &[&str] = &[
    "anonymous",
    "blocked",
    "nocallerid",
    "notavailable",
    "numberwithheld",
    "outofarea",
    "private",
    "privatecaller",
    "privatenumber",
    "restricted",
    "unavailable",
    "unknown",
    "unknowncaller",
    "withheld",
];

/// Twilio's placeholders for a withheld caller id: the words spelled on a phone keypad, sent with a
/// `+` as if they were E.164. Only matched with the `+`: without it `7378742833` is a real number in
/// Austin, Texas.
const KEYPAD_WITHHELD: &[&str] = &[
    "266696687",   // ANONYMOUS
    "7378742833",  // RESTRICTED
    "2562533",     // BLOCKED
    "8656696",     // UNKNOWN
    "86282452253", // UNAVAILABLE
];

/// The E.164 country codes with two digits; `1` and `7` have one, every other code has three.
const TWO_DIGIT_COUNTRY_CODES: &[&str] = &[
    "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
    "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65",
    "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
];

/// Why a phone number was refused. Every message is fixed text: none ever contains the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// Nothing but whitespace.
    #[error("the number is empty")]
    Empty,
    /// An anonymous, private, restricted or unavailable caller id: there is no number to match.
    #[error("the caller id is withheld (anonymous, private, restricted or unavailable)")]
    Withheld,
    /// Three to six digits: an SMS short code or service number, not a subscriber's number.
    #[error("the number is a short code, not a full phone number")]
    ShortCode,
    /// Letters or symbols that are neither part of a number nor an extension marker.
    #[error("the number contains characters that are not part of a phone number")]
    InvalidCharacters,
    /// Too few digits for a full number (e.g. a 7-digit local number without its area code).
    #[error(
        "the number has too few digits: a full number with area code or country code is needed"
    )]
    TooShort,
    /// More digits than E.164 allows, or more than a NANP number has.
    #[error("the number has more digits than a full phone number can have")]
    TooLong,
    /// A country code starting with zero (or a national trunk prefix where a country code belongs).
    #[error("the country code is missing or invalid: a country code never starts with zero")]
    InvalidCountryCode,
    /// A NANP area code must start with a digit from two to nine.
    #[error("the area code is invalid: a NANP area code starts with a digit from two to nine")]
    InvalidAreaCode,
    /// A NANP exchange (central office) code must start with a digit from two to nine.
    #[error("the exchange code is invalid: a NANP exchange starts with a digit from two to nine")]
    InvalidExchange,
    /// An extension marker without digits, or an extension longer than six digits.
    #[error("the extension is invalid: it must be one to six digits")]
    InvalidExtension,
}

/// A valid phone number in E.164 form, with an optional extension. See the module docs for what is
/// accepted; build one with [`PhoneNumber::parse`] or `str::parse`.
///
/// Deliberately not `Display`: print it with [`PhoneNumber::mask`] in logs, and with
/// [`PhoneNumber::formatted`] or [`PhoneNumber::e164`] where the full number is meant to be seen.
/// Serializes as its E.164 string (with `;ext=N`, RFC 3966's extension syntax, when it has an
/// extension) and deserializes by parsing, so invalid numbers are refused at the boundary.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumber {
    /// `+` followed by 7–15 digits.
    e164: String,
    /// The leading digits of `e164` that are the country code.
    country_code: u16,
    /// One to six ASCII digits.
    extension: Option<String>,
}

impl PhoneNumber {
    /// Parses any of the accepted formats (see the module docs) into E.164.
    ///
    /// # Errors
    /// [`Error::InvalidPhone`] with the [`PhoneError`] saying why; it never contains the input.
    pub fn parse(input: &str) -> Result<Self, Error> {
        parse_number(input).map_err(Error::InvalidPhone)
    }

    /// The number in E.164 form, e.g. `+14155550100` (without any extension).
    pub fn e164(&self) -> &str {
        &self.e164
    }

    /// The extension's digits, if the input had one (`x12`, `ext. 12`, `#12`, `;ext=12`).
    pub fn extension(&self) -> Option<&str> {
        self.extension.as_deref()
    }

    /// The country calling code, e.g. `1` for NANP or `44` for the United Kingdom.
    pub fn country_code(&self) -> u16 {
        self.country_code
    }

    /// The digits after the country code: for NANP the 10-digit national number `4155550100`.
    pub fn national_digits(&self) -> &str {
        self.e164
            .get(1 + self.country_code_len()..)
            .unwrap_or_default()
    }

    /// Whether the number is in the North American Numbering Plan (+1).
    pub fn is_nanp(&self) -> bool {
        self.country_code == NANP_COUNTRY_CODE
    }

    /// The form for logs and support: only the last four digits, e.g. `***-***-0100`. The same shape
    /// for every country, so a masked number does not even reveal where the caller is.
    pub fn mask(&self) -> String {
        format!("***-***-{}", self.last_four())
    }

    /// The form for people: `(415) 555-0100` for NANP, `+44 20 7183 8750` elsewhere (digits grouped
    /// in fours from the right, since we keep no per-country layouts), and ` ext. 12` after either
    /// when there is an extension.
    pub fn formatted(&self) -> String {
        let national = self.national_digits();
        let mut out = if self.is_nanp() {
            let (area, rest) = national.split_at(3);
            let (exchange, line) = rest.split_at(3);
            format!("({area}) {exchange}-{line}")
        } else {
            format!("+{} {}", self.country_code, group_in_fours(national))
        };
        if let Some(ext) = &self.extension {
            out.push_str(" ext. ");
            out.push_str(ext);
        }
        out
    }

    /// The spellings to try when searching an AMS that stores phone numbers as free text, most
    /// canonical first. For NANP: `4155550100`, `415-555-0100`, `(415) 555-0100`, `415.555.0100`,
    /// `14155550100`, `+14155550100`, `415/555-0100` (the variants RingCentral's CRM integrations
    /// try, plus the slash form). For other numbers: E.164 and its digits without `+`. Extensions
    /// are not included: they narrow a search the AMS may store differently; re-check hits with
    /// [`PhoneNumber::matches_loosely`].
    pub fn search_variants(&self) -> Vec<String> {
        if !self.is_nanp() {
            return vec![self.e164.clone(), self.e164_digits().to_owned()];
        }
        let d = self.national_digits();
        let (area, rest) = d.split_at(3);
        let (exchange, line) = rest.split_at(3);
        vec![
            d.to_owned(),
            format!("{area}-{exchange}-{line}"),
            format!("({area}) {exchange}-{line}"),
            format!("{area}.{exchange}.{line}"),
            format!("1{d}"),
            self.e164.clone(),
            format!("{area}/{exchange}-{line}"),
        ]
    }

    /// Whether a number as an AMS stored it (free text) is this number, compared digit by digit:
    /// the stored text is cut at its extension (`x`, `ext`, `#`, `,`, `;`), reduced to digits, and a
    /// leading `1` is dropped for NANP; the rest must equal this number exactly — a substring or
    /// fuzzy hit (`14155550100999`) does not match. Extensions are ignored on both sides (the
    /// office line `415-555-0100 ext. 3` is the caller's company). A stored value without `+` is
    /// read the way [`PhoneNumber::parse`] reads it: 10 digits are a NANP number, so they never
    /// match a number outside NANP; `011` or `00` before a country code is accepted.
    pub fn matches_loosely(&self, stored: &str) -> bool {
        let Some((plus, digits)) = loose_digits(stored) else {
            return false;
        };
        if self.is_nanp() {
            let national = self.national_digits();
            match digits.strip_prefix('1') {
                Some(rest) if digits.len() == 11 => rest == national,
                _ => !plus && digits == national,
            }
        } else {
            let own = self.e164_digits();
            if plus {
                return digits == own;
            }
            if digits.len() == 10 {
                return false;
            }
            digits == own
                || digits.strip_prefix("011") == Some(own)
                || digits.strip_prefix("00") == Some(own)
        }
    }

    fn e164_digits(&self) -> &str {
        self.e164.get(1..).unwrap_or_default()
    }

    fn country_code_len(&self) -> usize {
        match self.country_code {
            0..=9 => 1,
            10..=99 => 2,
            _ => 3,
        }
    }

    fn last_four(&self) -> &str {
        let national = self.national_digits();
        national
            .get(national.len().saturating_sub(4)..)
            .unwrap_or_default()
    }

    /// E.164, then `;ext=N` when there is an extension: the serialized form.
    fn wire_form(&self) -> String {
        match &self.extension {
            Some(ext) => format!("{};ext={ext}", self.e164),
            None => self.e164.clone(),
        }
    }
}

impl FromStr for PhoneNumber {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::parse(s)
    }
}

impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber({})", self.mask())
    }
}

impl Zeroize for PhoneNumber {
    fn zeroize(&mut self) {
        self.e164.zeroize();
        self.extension.zeroize();
        self.country_code.zeroize();
    }
}

impl serde::Serialize for PhoneNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut wire = self.wire_form();
        let result = s.serialize_str(&wire);
        wire.zeroize();
        result
    }
}

impl<'de> serde::Deserialize<'de> for PhoneNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        // The error's text is fixed (no digits), so it is safe to pass on.
        s.parse().map_err(serde::de::Error::custom)
    }
}

// A phone number crosses the wire as its E.164 text.
crate::ts_string!(PhoneNumber);

fn parse_number(input: &str) -> Result<PhoneNumber, PhoneError> {
    let text = input.trim();
    if text.is_empty() {
        return Err(PhoneError::Empty);
    }
    if text.len() > MAX_INPUT_BYTES {
        return Err(PhoneError::TooLong);
    }
    let (number, uri_extension) = strip_uri(text);
    if is_withheld_word(number) {
        return Err(PhoneError::Withheld);
    }
    let (main, extension) = split_extension(number)?;
    let extension = match (extension, uri_extension) {
        (Some(_), Some(_)) => return Err(PhoneError::InvalidExtension),
        (Some(ext), None) => Some(ext),
        (None, Some(param)) => Some(extension_digits(param)?),
        (None, None) => None,
    };
    let (plus, digits) = main_digits(main)?;
    let mut number = classify(plus, &digits)?;
    number.extension = extension.map(str::to_owned);
    Ok(number)
}

/// Strips a `tel:` or `sip:`/`sips:` scheme: returns the number part and a `tel` URI's `ext=`
/// parameter (other parameters, like `phone-context`, are dropped). Anything else is returned as is.
fn strip_uri(text: &str) -> (&str, Option<&str>) {
    let rest = if let Some(rest) = strip_prefix_ignore_case(text, "tel:") {
        rest
    } else if let Some(rest) =
        strip_prefix_ignore_case(text, "sip:").or_else(|| strip_prefix_ignore_case(text, "sips:"))
    {
        // The user part, before `@host`, is the number (or `anonymous`).
        rest.split_once('@').map_or(rest, |(user, _host)| user)
    } else {
        return (text, None);
    };
    let mut parts = rest.split(';');
    let number = parts.next().unwrap_or_default().trim();
    let extension = parts.find_map(|param| strip_prefix_ignore_case(param.trim(), "ext="));
    (number, extension.map(|ext| ext.trim()))
}

fn is_withheld_word(text: &str) -> bool {
    if text.bytes().any(|b| b.is_ascii_digit()) {
        return false;
    }
    let letters: String = text
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    WITHHELD_WORDS.contains(&letters.as_str())
}

/// Splits `415-555-0100 ext. 12` into the number and the extension's digits. The extension starts
/// at the first letter, `#`, `,` (a dial-string pause) or `;`.
fn split_extension(text: &str) -> Result<(&str, Option<&str>), PhoneError> {
    match text.find(|c: char| c.is_ascii_alphabetic() || matches!(c, '#' | ',' | ';')) {
        None => Ok((text, None)),
        Some(at) => {
            let (main, rest) = text.split_at(at);
            Ok((main, Some(parse_extension(rest)?)))
        }
    }
}

/// Parses `x12`, `ext. 12`, `Ext: 12`, `extension 12`, `#12`, `;ext=12`, `,,12` or `ext=12` into
/// `12`.
fn parse_extension(text: &str) -> Result<&str, PhoneError> {
    let after_pause = text.trim_start_matches([',', ';']);
    let paused = after_pause.len() != text.len();
    let after_marker = ["extension", "ext", "x", "#"]
        .into_iter()
        .find_map(|marker| strip_prefix_ignore_case(after_pause, marker));
    let body = match after_marker {
        Some(body) => body,
        None if paused => after_pause,
        None => return Err(PhoneError::InvalidCharacters),
    };
    extension_digits(
        body.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '.' | ':' | '=' | '-')),
    )
}

/// Checks an extension's digits (after its marker): one to six ASCII digits, trailing `#` allowed.
fn extension_digits(text: &str) -> Result<&str, PhoneError> {
    let digits = text
        .trim()
        .trim_end_matches(|c: char| c.is_whitespace() || c == '#');
    if digits.is_empty() {
        return Err(PhoneError::InvalidExtension);
    }
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneError::InvalidCharacters);
    }
    if digits.len() > MAX_EXTENSION_DIGITS {
        return Err(PhoneError::InvalidExtension);
    }
    Ok(digits)
}

/// Characters that may separate digit groups in a written number.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '-' | '.' | '/' | '(' | ')' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{00AD}'
        )
}

/// The digits of the number part, and whether it began with `+`. Drops the `(0)` trunk prefix that
/// international numbers are often written with (`+44 (0)20 7183 8750`).
fn main_digits(main: &str) -> Result<(bool, String), PhoneError> {
    let mut plus = false;
    let mut digits = String::with_capacity(E164_MAX_DIGITS + 1);
    let mut skip = 0;
    for (at, c) in main.char_indices() {
        if skip > 0 {
            skip -= 1;
            continue;
        }
        match c {
            '0'..='9' => digits.push(c),
            '+' if !plus && digits.is_empty() => plus = true,
            '(' if plus && !digits.is_empty() && main[at..].starts_with("(0)") => skip = 2,
            c if is_separator(c) => {}
            _ => {
                digits.zeroize();
                return Err(PhoneError::InvalidCharacters);
            }
        }
    }
    Ok((plus, digits))
}

/// Applies the length, country-code and NANP rules to the bare digits.
fn classify(plus: bool, digits: &str) -> Result<PhoneNumber, PhoneError> {
    if digits.is_empty() {
        return Err(PhoneError::TooShort);
    }
    if digits.bytes().all(|b| b == b'0') || (plus && KEYPAD_WITHHELD.contains(&digits)) {
        return Err(PhoneError::Withheld);
    }
    if digits.len() > E164_MAX_DIGITS {
        return Err(PhoneError::TooLong);
    }
    if let Some(national) = digits.strip_prefix('1')
        && (plus || digits.len() >= 11)
    {
        return nanp(national);
    }
    if plus {
        if digits.starts_with('0') {
            return Err(PhoneError::InvalidCountryCode);
        }
        if digits.len() < INTERNATIONAL_MIN_DIGITS {
            return Err(PhoneError::TooShort);
        }
        return Ok(international(digits));
    }
    match digits.len() {
        0..=2 | 7..=9 => Err(PhoneError::TooShort),
        3..=6 => Err(PhoneError::ShortCode),
        10 => nanp(digits),
        _ if digits.starts_with('0') => Err(PhoneError::InvalidCountryCode),
        _ => Ok(international(digits)),
    }
}

/// A NANP number from its 10 national digits, `NPA-NXX-xxxx`.
fn nanp(national: &str) -> Result<PhoneNumber, PhoneError> {
    match national.len() {
        0..=9 => return Err(PhoneError::TooShort),
        10 => {}
        _ => return Err(PhoneError::TooLong),
    }
    // `+1 000-000-0000` is how some systems write "no caller id".
    if national.bytes().all(|b| b == b'0') {
        return Err(PhoneError::Withheld);
    }
    let bytes = national.as_bytes();
    if !(b'2'..=b'9').contains(&bytes[0]) {
        return Err(PhoneError::InvalidAreaCode);
    }
    if !(b'2'..=b'9').contains(&bytes[3]) {
        return Err(PhoneError::InvalidExchange);
    }
    Ok(PhoneNumber {
        e164: format!("+1{national}"),
        country_code: NANP_COUNTRY_CODE,
        extension: None,
    })
}

/// A number outside NANP from its E.164 digits (7–15, not starting with 0 or 1).
fn international(digits: &str) -> PhoneNumber {
    let code_len = if digits.starts_with('7') {
        1
    } else if digits
        .get(..2)
        .is_some_and(|two| TWO_DIGIT_COUNTRY_CODES.contains(&two))
    {
        2
    } else {
        3
    };
    let country_code = digits
        .get(..code_len)
        .and_then(|code| code.parse().ok())
        .unwrap_or_default();
    PhoneNumber {
        e164: format!("+{digits}"),
        country_code,
        extension: None,
    }
}

/// The digits of a stored free-text number, cut at its extension, and whether it began with `+`.
/// Leading labels (`Cell: 415…`) are skipped. `None` when there are no digits.
fn loose_digits(stored: &str) -> Option<(bool, String)> {
    let text = stored.trim();
    let text = strip_prefix_ignore_case(text, "tel:").unwrap_or(text);
    let start = text.find(|c: char| c.is_ascii_digit() || c == '+')?;
    let text = &text[start..];
    let plus = text.starts_with('+');
    let end = text
        .find(|c: char| c.is_ascii_alphabetic() || matches!(c, '#' | ',' | ';'))
        .unwrap_or(text.len());
    let digits: String = text[..end].chars().filter(char::is_ascii_digit).collect();
    (!digits.is_empty()).then_some((plus, digits))
}

/// Groups digits in fours from the right: `2071838750` → `20 7183 8750`.
fn group_in_fours(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 4);
    let first = match digits.len() % 4 {
        0 => 4.min(digits.len()),
        r => r,
    };
    let (head, mut rest) = digits.split_at(first);
    out.push_str(head);
    while rest.len() >= 4 {
        let (group, tail) = rest.split_at(4);
        out.push(' ');
        out.push_str(group);
        rest = tail;
    }
    out
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_grouped_in_fours_from_the_right() {
        for (digits, grouped) in [
            ("2071838750", "20 7183 8750"),
            ("13812345678", "138 1234 5678"),
            ("12345678", "1234 5678"),
            ("1234", "1234"),
            ("12345", "1 2345"),
        ] {
            assert_eq!(group_in_fours(digits), grouped, "grouping of {digits}");
        }
    }

    #[test]
    fn country_codes_are_split_at_their_real_length() {
        for (e164, code) in [
            ("+442071838750", 44),
            ("+74951234567", 7),
            ("+353212345678", 353),
            ("+8613812345678", 86),
            ("+85223456789", 852),
            ("+21212345678", 212),
        ] {
            let number = PhoneNumber::parse(e164).unwrap();
            assert_eq!(number.country_code(), code, "country code of {e164}");
            assert_eq!(
                format!("+{code}{}", number.national_digits()),
                e164,
                "country code and national digits make up the whole number"
            );
        }
    }
}
