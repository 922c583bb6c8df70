//! `PhoneNumber`: every format VoIP providers and AMSs hand us, every refusal, and the PII rules
//! (masked `Debug`, errors that never echo the input).
//!
//! Table tests are plain arrays of cases: each failure message names its case.

use proptest::prelude::*;
use ringside_core::phone::PhoneError;
use ringside_core::{Error, PhoneNumber, Pii};

/// Parses or fails the test, naming the input.
fn parse(input: &str) -> PhoneNumber {
    match PhoneNumber::parse(input) {
        Ok(number) => number,
        Err(e) => panic!("{input:?} must parse, got: {e}"),
    }
}

/// The phone error inside a parse failure, or `None` when it parsed.
fn phone_error(input: &str) -> Option<PhoneError> {
    match PhoneNumber::parse(input) {
        Ok(_) => None,
        Err(Error::InvalidPhone(e)) => Some(e),
        Err(other) => panic!("{input:?}: a phone parse must fail with InvalidPhone, got {other:?}"),
    }
}

/// An error message leaks no digit at all: its only digits are those of the fixed word "E.164".
fn assert_message_has_no_digits(message: &str, context: &str) {
    let without_standard = message.replace("E.164", "");
    assert!(
        !without_standard.bytes().any(|b| b.is_ascii_digit()),
        "error text must never carry digits, which could be the caller's number ({context}): {message:?}"
    );
}

#[test]
fn every_accepted_format_parses_to_the_same_e164() {
    let cases: &[(&str, &str, Option<&str>)] = &[
        // (input, E.164, extension)
        ("+14155550100", "+14155550100", None),
        ("+1 415-555-0100", "+14155550100", None),
        ("+1 (415) 555-0100", "+14155550100", None),
        ("(415) 555-0100", "+14155550100", None),
        ("415/555-0100", "+14155550100", None),
        ("415.555.0100", "+14155550100", None),
        ("415-555-0100", "+14155550100", None),
        ("415 555 0100", "+14155550100", None),
        ("4155550100", "+14155550100", None),
        ("14155550100", "+14155550100", None),
        ("1-415-555-0100", "+14155550100", None),
        ("1 (415) 555-0100", "+14155550100", None),
        ("  \t+14155550100\n ", "+14155550100", None),
        ("4155550100          ", "+14155550100", None),
        ("415\u{2013}555\u{2013}0100", "+14155550100", None),
        ("415\u{a0}555\u{a0}0100", "+14155550100", None),
        ("tel:+1-415-555-0100", "+14155550100", None),
        ("TEL:+14155550100", "+14155550100", None),
        (
            "tel:+14155550100;phone-context=example.com",
            "+14155550100",
            None,
        ),
        (
            "sip:+14155550100@sip.example.com;user=phone",
            "+14155550100",
            None,
        ),
        // Extensions, kept apart, digits only.
        ("334-445-4545 Ext. 3", "+13344454545", Some("3")),
        ("415-555-0100 x12", "+14155550100", Some("12")),
        ("415-555-0100x12", "+14155550100", Some("12")),
        ("415-555-0100 X 12", "+14155550100", Some("12")),
        ("415-555-0100 ext 12", "+14155550100", Some("12")),
        ("415-555-0100 ext: 12", "+14155550100", Some("12")),
        (
            "415-555-0100 extension 123456",
            "+14155550100",
            Some("123456"),
        ),
        ("415-555-0100 #12", "+14155550100", Some("12")),
        ("4155550100,,12", "+14155550100", Some("12")),
        ("+14155550100;ext=12", "+14155550100", Some("12")),
        ("tel:+1-415-555-0100;ext=12", "+14155550100", Some("12")),
        // NowCerts samples (ams-apis.md §12).
        ("701-313-0157", "+17013130157", None),
        ("14695563040", "+14695563040", None),
        // Outside NANP: kept as international.
        ("+442071838750", "+442071838750", None),
        ("+44 20 7183 8750", "+442071838750", None),
        ("+44 (0)20 7183 8750", "+442071838750", None),
        ("+33 6 12 34 56 78", "+33612345678", None),
        ("+353 21 234 5678", "+353212345678", None),
        ("447700900000", "+447700900000", None), // Vonage sends E.164 without its +
        ("21212121212         ", "+21212121212", None), // NowCerts' right-padded sample
        // Austin, Texas: not Twilio's RESTRICTED, which has a +.
        ("7378742833", "+17378742833", None),
    ];
    for &(input, e164, extension) in cases {
        let number = parse(input);
        assert_eq!(number.e164(), e164, "{input:?} must normalize to {e164}");
        assert_eq!(
            number.extension(),
            extension,
            "{input:?} must keep extension {extension:?}"
        );
    }
}

#[test]
fn every_refusal_has_its_own_reason_and_never_echoes_the_input() {
    let far_too_long = "4155550100".repeat(20);
    let cases: &[(&str, PhoneError)] = &[
        ("", PhoneError::Empty),
        ("   \t  ", PhoneError::Empty),
        ("anonymous", PhoneError::Withheld),
        ("Anonymous", PhoneError::Withheld),
        ("ANONYMOUS", PhoneError::Withheld),
        ("private", PhoneError::Withheld),
        ("Private Number", PhoneError::Withheld),
        ("restricted", PhoneError::Withheld),
        ("unavailable", PhoneError::Withheld),
        ("unknown", PhoneError::Withheld),
        ("Withheld", PhoneError::Withheld),
        ("blocked", PhoneError::Withheld),
        ("sip:anonymous@anonymous.invalid", PhoneError::Withheld),
        ("+266696687", PhoneError::Withheld),
        ("+7378742833", PhoneError::Withheld),
        ("+2562533", PhoneError::Withheld),
        ("+8656696", PhoneError::Withheld),
        ("+86282452253", PhoneError::Withheld),
        ("0000000000", PhoneError::Withheld),
        ("+10000000000", PhoneError::Withheld),
        ("0", PhoneError::Withheld),
        ("911", PhoneError::ShortCode),
        ("22395", PhoneError::ShortCode),
        ("839-863", PhoneError::ShortCode),
        ("hello", PhoneError::InvalidCharacters),
        ("call 4155550100", PhoneError::InvalidCharacters),
        ("1-800-FLOWERS", PhoneError::InvalidCharacters),
        ("415*555*0100", PhoneError::InvalidCharacters),
        ("415-555-0100 ext 12a", PhoneError::InvalidCharacters),
        ("+1415+5550100", PhoneError::InvalidCharacters),
        ("41", PhoneError::TooShort),
        ("555-0100", PhoneError::TooShort),
        ("415555010", PhoneError::TooShort),
        ("+1415555010", PhoneError::TooShort),
        ("+443456", PhoneError::TooShort),
        ("+", PhoneError::TooShort),
        ("+141555501001", PhoneError::TooLong),
        ("141555501001", PhoneError::TooLong),
        ("14155550100999", PhoneError::TooLong),
        ("+4420718387501234", PhoneError::TooLong),
        (far_too_long.as_str(), PhoneError::TooLong),
        ("+0442071838750", PhoneError::InvalidCountryCode),
        ("02071838750", PhoneError::InvalidCountryCode),
        ("1234567890", PhoneError::InvalidAreaCode),
        ("0155550100", PhoneError::InvalidAreaCode),
        ("+10155550100", PhoneError::InvalidAreaCode),
        ("4151550100", PhoneError::InvalidExchange),
        ("(415) 055-0100", PhoneError::InvalidExchange),
        ("415-555-0100 ext", PhoneError::InvalidExtension),
        ("415-555-0100 x1234567", PhoneError::InvalidExtension),
        ("tel:+14155550100;ext=", PhoneError::InvalidExtension),
    ];
    for &(input, expected) in cases {
        assert_eq!(
            phone_error(input),
            Some(expected),
            "{input:?} must be refused as {expected:?}"
        );
        let wrapped = PhoneNumber::parse(input).map(|_| ()).unwrap_err();
        for message in [
            wrapped.to_string(),
            format!("{wrapped:?}"),
            expected.to_string(),
        ] {
            assert_message_has_no_digits(&message, input);
        }
    }
}

#[test]
fn from_str_is_parse() {
    let parsed: PhoneNumber = "(415) 555-0100".parse().unwrap();
    assert_eq!(
        parsed,
        parse("+14155550100"),
        "FromStr and parse must agree"
    );
    assert!(
        "anonymous".parse::<PhoneNumber>().is_err(),
        "FromStr must refuse what parse refuses"
    );
}

#[test]
fn parts_of_a_nanp_number_are_its_country_code_and_ten_national_digits() {
    let number = parse("+1 (415) 555-0100 x7");
    assert!(number.is_nanp(), "+1 is NANP");
    assert_eq!(number.country_code(), 1, "NANP's country code is 1");
    assert_eq!(
        number.national_digits(),
        "4155550100",
        "national digits are area+exchange+line"
    );
    assert_eq!(number.extension(), Some("7"), "the extension is kept apart");
}

#[test]
fn parts_of_an_international_number_split_at_the_country_code() {
    let number = parse("+442071838750");
    assert!(!number.is_nanp(), "+44 is not NANP");
    assert_eq!(
        number.country_code(),
        44,
        "the UK's country code has two digits"
    );
    assert_eq!(
        number.national_digits(),
        "2071838750",
        "the rest are national digits"
    );
}

#[test]
fn the_mask_shows_only_the_last_four_digits() {
    assert_eq!(
        parse("+14155550100").mask(),
        "***-***-0100",
        "NANP mask keeps the line number"
    );
    assert_eq!(
        parse("+442071838750").mask(),
        "***-***-8750",
        "the mask has one shape for every country, so it does not reveal the caller's country"
    );
    assert_eq!(
        parse("415-555-0100 x12").mask(),
        "***-***-0100",
        "the mask drops the extension"
    );
}

#[test]
fn debug_prints_only_the_mask() {
    let number = parse("415-555-0100 x12");
    for printed in [
        format!("{number:?}"),
        format!("{number:#?}"),
        format!("{:?}", Some(&number)),
        format!("{:?}", vec![number.clone()]),
    ] {
        assert!(
            printed.contains("PhoneNumber(***-***-0100)"),
            "Debug shows the mask: {printed}"
        );
        assert!(
            !printed.contains("415") && !printed.contains("555") && !printed.contains("12"),
            "Debug must not print the number or its extension: {printed}"
        );
    }
}

#[test]
fn a_phone_number_inside_pii_prints_redacted_but_serializes_for_the_wire() {
    let pii = Pii::new(parse("+14155550100"));
    assert_eq!(format!("{pii:?}"), "[redacted]", "Pii hides even the mask");
    assert_eq!(
        serde_json::to_string(&pii).unwrap(),
        "\"+14155550100\"",
        "the wire carries E.164"
    );
    assert_eq!(
        pii.expose().e164(),
        "+14155550100",
        "expose gives the number back"
    );
}

#[test]
fn zeroize_wipes_the_number() {
    use zeroize::Zeroize;
    let mut number = parse("+14155550100 x12");
    number.zeroize();
    assert_eq!(number.e164(), "", "zeroize must clear the E.164 text");
    assert_eq!(number.extension(), None, "zeroize must clear the extension");
}

#[test]
fn formatted_is_the_national_form_for_nanp_and_grouped_international_otherwise() {
    let cases = [
        ("+14155550100", "(415) 555-0100"),
        ("415-555-0100 ext. 3", "(415) 555-0100 ext. 3"),
        ("+442071838750", "+44 20 7183 8750"),
        ("+33612345678", "+33 6 1234 5678"),
        ("+8613812345678", "+86 138 1234 5678"),
    ];
    for (input, formatted) in cases {
        assert_eq!(
            parse(input).formatted(),
            formatted,
            "formatted form of {input:?}"
        );
    }
}

#[test]
fn search_variants_cover_the_forms_amss_store() {
    assert_eq!(
        parse("+14155550100").search_variants(),
        [
            "4155550100",
            "415-555-0100",
            "(415) 555-0100",
            "415.555.0100",
            "14155550100",
            "+14155550100",
            "415/555-0100"
        ],
        "NANP variants are the RingCentral list plus the slash form, canonical first"
    );
    assert_eq!(
        parse("+442071838750").search_variants(),
        ["+442071838750", "442071838750"],
        "outside NANP we search E.164 and its bare digits only"
    );
    assert_eq!(
        parse("415-555-0100 x12").search_variants(),
        parse("4155550100").search_variants(),
        "extensions are not part of a search"
    );
}

#[test]
fn loose_matching_accepts_the_same_number_in_any_stored_form() {
    let nanp = parse("+14155550100");
    for stored in [
        "4155550100",
        "415-555-0100",
        "(415) 555-0100",
        "415.555.0100",
        "415/555-0100",
        "14155550100",
        "1-415-555-0100",
        "+1 415 555 0100",
        "+14155550100",
        "tel:+14155550100",
        "415-555-0100 Ext. 3",
        "415-555-0100x12",
        "415-555-0100 #12",
        "415-555-0100;ext=1",
        "4155550100          ",
        "Cell: 415-555-0100",
        "  (415)555-0100  ",
    ] {
        assert!(
            nanp.matches_loosely(stored),
            "{stored:?} is the same NANP number"
        );
    }
    let uk = parse("+442071838750");
    for stored in [
        "+442071838750",
        "+44 20 7183 8750",
        "442071838750",
        "011 44 20 7183 8750",
        "0044 20 7183 8750",
        "+44 20 7183 8750 ext 4",
    ] {
        assert!(
            uk.matches_loosely(stored),
            "{stored:?} is the same UK number"
        );
    }
}

#[test]
fn loose_matching_refuses_near_misses_and_substring_hits() {
    let nanp = parse("+14155550100");
    for stored in [
        "4155550101",
        "415-555-0101",
        "14155550100999",
        "4155550100999",
        "24155550100",
        "+4155550100",
        "+44 415 555 0100",
        "555-0100",
        "415-555-0100 / 415-555-0199",
        "",
        "anonymous",
        "1415555010",
        "+1 415 555 01000",
    ] {
        assert!(
            !nanp.matches_loosely(stored),
            "{stored:?} must not match (415) 555-0100"
        );
    }
    let uk = parse("+442071838750");
    for stored in [
        "2071838750",
        "02071838750",
        "+442071838751",
        "4420718387500",
        "+1442071838750",
    ] {
        assert!(
            !uk.matches_loosely(stored),
            "{stored:?} must not match +44 20 7183 8750"
        );
    }
    let short = parse("+8613812345");
    assert!(
        !short.matches_loosely("861-381-2345"),
        "10 bare digits are a NANP number by default, not the Chinese +86 number with the same digits"
    );
    assert!(
        short.matches_loosely("+86 1381 2345"),
        "with its + the Chinese number matches itself"
    );
}

#[test]
fn serde_writes_e164_and_reads_by_parsing() {
    let number = parse("(415) 555-0100");
    assert_eq!(
        serde_json::to_string(&number).unwrap(),
        "\"+14155550100\"",
        "serialized as E.164"
    );
    let back: PhoneNumber = serde_json::from_str("\"415.555.0100\"").unwrap();
    assert_eq!(back, number, "deserializing parses any accepted format");
    let with_ext = parse("415-555-0100 x12");
    let json = serde_json::to_string(&with_ext).unwrap();
    assert_eq!(
        json, "\"+14155550100;ext=12\"",
        "an extension travels in RFC 3966 form"
    );
    assert_eq!(
        serde_json::from_str::<PhoneNumber>(&json).unwrap(),
        with_ext,
        "the extension survives a round trip"
    );
    let refused = serde_json::from_str::<PhoneNumber>("\"(415) 055-0199\"").unwrap_err();
    for part in ["415", "055", "0199"] {
        assert!(
            !refused.to_string().contains(part),
            "a refused number is not echoed: {refused}"
        );
    }
}

#[test]
fn the_typescript_type_is_a_plain_string() {
    use ts_rs::TS;
    assert_eq!(
        PhoneNumber::inline(),
        "string",
        "a phone number is a string in TypeScript"
    );
    assert_eq!(
        <Pii<PhoneNumber>>::inline(),
        "string",
        "and so is a wrapped one"
    );
}

/// A valid NANP number's 10 digits: NXX-NXX-XXXX with N in 2–9.
fn nanp_digits() -> impl Strategy<Value = String> {
    "[2-9][0-9]{2}[2-9][0-9]{6}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn parse_never_panics_on_arbitrary_text(input in any::<String>()) {
        let _ = PhoneNumber::parse(&input);
    }

    #[test]
    fn parse_never_panics_and_its_errors_carry_no_digits_on_phone_shaped_text(
        input in "[ +0-9()./#;,:=xXetnsio\u{2013}-]{0,40}"
    ) {
        if let Err(e) = PhoneNumber::parse(&input) {
            assert_message_has_no_digits(&e.to_string(), &input);
        }
    }

    #[test]
    fn every_search_variant_of_a_nanp_number_parses_back_to_it(digits in nanp_digits()) {
        let number = parse(&digits);
        prop_assert_eq!(number.e164(), format!("+1{digits}"));
        for variant in number.search_variants() {
            let back = PhoneNumber::parse(&variant);
            prop_assert!(back.is_ok(), "variant {:?} must parse", variant);
            let back = back.unwrap();
            prop_assert_eq!(back.e164(), number.e164(), "variant {:?}", variant);
            prop_assert!(number.matches_loosely(&variant), "variant {:?} must match loosely", variant);
        }
    }

    #[test]
    fn a_different_nanp_number_never_matches_loosely(a in nanp_digits(), b in nanp_digits()) {
        prop_assume!(a != b);
        let number = parse(&a);
        for variant in parse(&b).search_variants() {
            prop_assert!(!number.matches_loosely(&variant), "{:?} is another number", variant);
        }
    }

    #[test]
    fn parsed_numbers_round_trip_through_e164_and_serde(
        digits in nanp_digits(), ext in proptest::option::of("[0-9]{1,6}")
    ) {
        let input = match &ext { Some(ext) => format!("{digits} x{ext}"), None => digits.clone() };
        let number = parse(&input);
        let reparsed = parse(number.e164());
        prop_assert_eq!(reparsed.e164(), number.e164());
        let json = serde_json::to_string(&number).unwrap();
        prop_assert_eq!(serde_json::from_str::<PhoneNumber>(&json).unwrap(), number);
    }
}
