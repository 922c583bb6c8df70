use super::*;

fn redacted(text: &str) -> String {
    redact(text).text
}

fn kept(text: &str) {
    let out = redact(text);
    assert_eq!(out.text, text, "expected {text:?} to be kept");
    assert_eq!(out.counts, Counts::default());
}

#[test]
fn a_luhn_valid_card_with_spaces_is_removed() {
    let out = redact("my card is 4111 1111 1111 1111, expiry next May");
    assert_eq!(
        out.text,
        "my card is [card number removed], expiry next May"
    );
    assert_eq!(out.counts.cards, 1);
}

#[test]
fn a_luhn_valid_card_with_dashes_is_removed() {
    assert_eq!(
        redacted("it's 5555-5555-5555-4444."),
        "it's [card number removed]."
    );
}

#[test]
fn a_luhn_valid_card_without_separators_is_removed() {
    assert_eq!(
        redacted("4111111111111111 is the card"),
        "[card number removed] is the card"
    );
}

#[test]
fn amex_and_thirteen_and_nineteen_digit_cards_are_removed() {
    for card in [
        "3782 822463 10005",
        "378282246310005",
        "4222222222222",
        "4111 1111 1111 1111 003",
        "6011000990139424",
    ] {
        assert!(luhn_of_str(card), "test card {card} must pass Luhn");
        let text = format!("card {card} thanks");
        assert_eq!(
            redacted(&text),
            "card [card number removed] thanks",
            "{card}"
        );
    }
}

fn luhn_of_str(text: &str) -> bool {
    let digits: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    luhn(&digits)
}

#[test]
fn a_card_number_that_fails_luhn_is_kept() {
    assert!(!luhn_of_str("4111111111111112"));
    kept("policy number 4111111111111112 renews in March");
    kept("my number there is 4111 1111 1111 1112");
}

#[test]
fn digits_glued_to_letters_are_an_identifier_and_kept() {
    kept("policy HO-4111111111111111 and PA4111111111111111");
}

#[test]
fn a_card_after_a_date_in_the_same_run_of_digits_is_still_removed() {
    assert_eq!(
        redacted("on 12/03/2026 4111 1111 1111 1111"),
        "on 12/03/2026 [card number removed]"
    );
}

#[test]
fn a_card_followed_by_more_digits_is_removed_and_the_rest_kept() {
    assert_eq!(
        redacted("4111 1111 1111 1111 2026"),
        "[card number removed] 2026"
    );
}

#[test]
fn a_dashed_ssn_is_removed_without_a_cue() {
    let out = redact("it's 536-22-8741 I think");
    assert_eq!(out.text, "it's [SSN removed] I think");
    assert_eq!(out.counts.ssns, 1);
}

#[test]
fn a_spaced_ssn_is_removed_without_a_cue() {
    assert_eq!(redacted("536 22 8741"), "[SSN removed]");
}

#[test]
fn nine_bare_digits_after_a_social_security_cue_are_removed() {
    for text in [
        "my social security number is 536228741",
        "SSN: 536228741",
        "my social is 536228741",
        "ss# 536228741",
    ] {
        let out = redact(text);
        assert!(out.text.ends_with(SSN_MARKER), "{text:?} → {:?}", out.text);
        assert_eq!(out.counts.ssns, 1, "{text:?}");
    }
}

#[test]
fn nine_bare_digits_just_before_a_social_security_cue_are_removed() {
    assert_eq!(
        redacted("536228741 is my social"),
        "[SSN removed] is my social"
    );
}

#[test]
fn nine_bare_digits_without_a_cue_are_kept() {
    kept("the reference is 536228741 on the letter");
    kept("536228741");
}

#[test]
fn ssns_the_ssa_never_issues_are_kept() {
    for ssn in [
        "000-22-8741",
        "666-22-8741",
        "900-22-8741",
        "999-22-8741",
        "536-00-8741",
        "536-22-0000",
    ] {
        kept(&format!("number {ssn} here"));
        let bare: String = ssn.chars().filter(char::is_ascii_digit).collect();
        kept(&format!("my SSN is {bare}"));
    }
}

#[test]
fn a_cue_does_not_reach_across_a_sentence_end() {
    kept("That's my social. The letter said 536228741 on top.");
}

#[test]
fn a_cue_too_many_words_away_does_not_count() {
    kept("my account is the one we talked about last week with 12345678 on it");
}

#[test]
fn a_routing_number_after_a_routing_cue_is_removed() {
    for text in [
        "routing number 021000021",
        "the ABA is 011000015",
        "transit 021000021",
    ] {
        let out = redact(text);
        assert!(
            out.text.ends_with(ROUTING_NUMBER_MARKER),
            "{text:?} → {:?}",
            out.text
        );
        assert_eq!(out.counts.routing_numbers, 1);
    }
}

#[test]
fn a_routing_number_that_fails_the_checksum_is_kept() {
    kept("routing number 021000022");
    // The checksum is right, but 13 is no Federal Reserve prefix.
    kept("routing number 136000000");
    assert!(routing_is_valid(&[0, 2, 1, 0, 0, 0, 0, 2, 1]));
    assert!(!routing_is_valid(&[1, 3, 6, 0, 0, 0, 0, 0, 0]));
}

#[test]
fn a_routing_and_account_pair_is_removed() {
    let out = redact("routing 021000021 and account 12345678");
    assert_eq!(
        out.text,
        "routing [routing number removed] and account [bank account removed]"
    );
    assert_eq!(
        out.counts,
        Counts {
            routing_numbers: 1,
            bank_accounts: 1,
            ..Counts::default()
        }
    );
}

#[test]
fn a_routing_and_account_pair_in_one_breath_is_told_apart() {
    let out = redact("my checking account and routing numbers are 12345678 021000021");
    assert_eq!(
        out.text,
        "my checking account and routing numbers are [bank account removed] \
         [routing number removed]"
    );
    assert_eq!(out.counts.bank_accounts, 1);
    assert_eq!(out.counts.routing_numbers, 1);
}

#[test]
fn nine_digits_passing_the_aba_checksum_next_to_an_account_cue_are_a_routing_number() {
    let out = redact("account 4455667788, and 021000021 for the bank");
    assert_eq!(
        out.text,
        "account [bank account removed], and [routing number removed] for the bank"
    );
}

#[test]
fn an_account_number_after_a_cue_is_removed() {
    for text in [
        "account number 12345678",
        "acct. 1234567890",
        "acct #987654",
        "a/c 11223344556677",
        "A/C: 11223344",
        "my checking is 4455667788",
        "savings account 12-3456-789",
        "account number is 1234 5678 9012",
    ] {
        let out = redact(text);
        assert!(
            out.text.ends_with(BANK_ACCOUNT_MARKER),
            "{text:?} → {:?}",
            out.text
        );
        assert_eq!(out.counts.bank_accounts, 1, "{text:?}");
    }
}

#[test]
fn an_account_number_just_before_its_cue_is_removed() {
    assert_eq!(
        redacted("12345678 is my checking"),
        "[bank account removed] is my checking"
    );
}

#[test]
fn too_few_or_too_many_digits_are_no_account_number() {
    kept("account ending 4321");
    kept("account 12345");
    kept("account 123456789012345678");
}

#[test]
fn a_policy_number_near_an_account_cue_is_kept() {
    kept("on the account, policy number 12345678");
    kept("account holder, claim 87654321");
}

#[test]
fn phone_numbers_are_kept_even_near_an_account_cue() {
    for phone in [
        "(617) 555-0199",
        "617-555-0199",
        "+1 617 555 0199",
        "617.555.0199",
        "6175550199",
        "1-800-555-0199",
    ] {
        kept(&format!("call me back at {phone} about the account"));
        kept(&format!("my account is with you, call me at {phone}"));
        kept(&format!("savings? yes, reach me on {phone}"));
    }
}

#[test]
fn phone_digits_run_together_with_more_digits_near_an_account_cue_are_removed() {
    // Not a phone number any more, and a cue is near: when in doubt, remove.
    assert_eq!(
        redacted("savings account on file: 617 555 0199 12"),
        "savings account on file: [bank account removed]"
    );
}

#[test]
fn international_numbers_are_kept_near_an_account_cue() {
    kept("account manager is on +44 20 7946 0958");
}

#[test]
fn a_phone_shaped_number_right_after_an_account_cue_is_removed() {
    for text in [
        "account number is 617-555-0199",
        "account (617) 555-0199",
        "acct 6175550199",
    ] {
        let out = redact(text);
        assert!(
            out.text.ends_with(BANK_ACCOUNT_MARKER),
            "{text:?} → {:?}",
            out.text
        );
        assert_eq!(out.counts.bank_accounts, 1);
    }
}

#[test]
fn dates_times_amounts_and_zip_codes_are_kept() {
    kept(
        "My checking account was charged $1,250.00 on 12/03/2026 at 10:30, \
         and 1250 dollars on 2026-03-12; the bank is in Boston MA 02139-4307, zip 02139.",
    );
    kept("savings account opened 03-12-2026");
    kept("the account balance is 125000");
    kept("checking account: 50% of 250000.00");
}

#[test]
fn text_without_those_numbers_is_returned_unchanged() {
    kept("");
    kept("Hello, I'd like to add my son to the policy. Ça va? 日本語 ok.");
    kept("Policy HO-2024-00123 renews 04/01; premium is $1,830 a year.");
}

#[test]
fn counts_say_how_many_of_each_were_removed() {
    let out = redact(
        "Card 4111 1111 1111 1111 and 5555555555554444. SSN 536-22-8741. \
         Routing 021000021, account 12345678, savings 99887766.",
    );
    assert_eq!(
        out.counts,
        Counts {
            cards: 2,
            ssns: 1,
            bank_accounts: 2,
            routing_numbers: 1,
        }
    );
    assert_eq!(out.counts.total(), 6);
    for value in ["4111", "5555", "8741", "021000021", "12345678", "99887766"] {
        assert!(
            !out.text.contains(value),
            "{value} survived: {:?}",
            out.text
        );
    }
}

#[test]
fn counts_add_up() {
    let mut sum = Counts {
        cards: 1,
        ..Counts::default()
    };
    sum += Counts {
        cards: 2,
        ssns: 3,
        bank_accounts: 4,
        routing_numbers: 5,
    };
    assert_eq!(
        sum,
        Counts {
            cards: 3,
            ssns: 3,
            bank_accounts: 4,
            routing_numbers: 5,
        }
    );
}

#[test]
fn debug_of_a_redacted_text_prints_only_the_counts() {
    let out = redact("Zebulon Quartermaine, card 4111111111111111");
    let printed = format!("{out:?}");
    assert!(!printed.contains("Zebulon"), "{printed}");
    assert!(printed.contains(REDACTED), "{printed}");
    assert!(printed.contains("cards: 1"), "{printed}");
}

/// A small deterministic generator (SplitMix64), so the fuzz loops need no dependency and a
/// failure replays exactly.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PIECES: &[&str] = &[
    "0",
    "1",
    "2",
    "4",
    "5",
    "9",
    "4111",
    "021000021",
    "536",
    "22",
    "8741",
    " ",
    " ",
    "-",
    "--",
    ".",
    ",",
    ":",
    "/",
    "(",
    ")",
    "+",
    "$",
    "%",
    "#",
    "\n",
    "account",
    "acct",
    "a/c",
    "A/C",
    "social",
    "SSN",
    "routing",
    "ABA",
    "savings",
    "policy",
    "phone",
    "number",
    "is",
    "my",
    "dollars",
    "the",
    "é",
    "日本",
    "’",
    "'",
    "🙂",
    "\u{200b}",
    "\t",
    "[",
    "]",
];

fn random_text(dice: &mut Dice, pieces: usize) -> String {
    (0..pieces)
        .map(|_| PIECES[dice.below(PIECES.len())])
        .collect()
}

#[test]
fn random_inputs_never_panic_and_every_removal_is_counted() {
    let mut dice = Dice(0x5EED);
    for round in 0..3_000 {
        let text = random_text(&mut dice, 1 + round % 120);
        let out = redact(&text);
        let markers = [
            CARD_MARKER,
            SSN_MARKER,
            BANK_ACCOUNT_MARKER,
            ROUTING_NUMBER_MARKER,
        ]
        .iter()
        .map(|marker| out.text.matches(marker).count())
        .sum::<usize>();
        assert_eq!(markers, out.counts.total(), "round {round}: {text:?}");
        if out.counts.total() == 0 {
            assert_eq!(out.text, text, "round {round}");
        }
        // What survives one pass holds no card for a second pass to find.
        assert_eq!(redact(&out.text).counts.cards, 0, "round {round}: {text:?}");
    }
}

#[test]
fn random_bytes_as_text_never_panic() {
    let mut dice = Dice(42);
    for _ in 0..2_000 {
        let len = dice.below(200);
        let bytes: Vec<u8> = (0..len).map(|_| (dice.next() & 0xFF) as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        let out = redact(&text);
        if out.counts.total() == 0 {
            assert_eq!(out.text, text);
        }
    }
}

#[test]
fn a_megabyte_of_random_input_does_not_panic_and_finishes_fast() {
    let mut dice = Dice(7);
    let mut text = String::with_capacity(1 << 20);
    while text.len() < 1 << 20 {
        text.push_str(PIECES[dice.below(PIECES.len())]);
    }
    let started = std::time::Instant::now();
    let out = redact(&text);
    let took = started.elapsed();
    assert!(!out.text.is_empty());
    assert!(took.as_secs() < 5, "1 MiB took {took:?}");
}

#[test]
fn a_megabyte_of_digits_does_not_panic_and_finishes_fast() {
    for unit in ["2", "2 ", "22-", "617-555-0199 ", "account 2"] {
        let text = unit.repeat((1 << 20) / unit.len());
        let started = std::time::Instant::now();
        let _ = redact(&text);
        let took = started.elapsed();
        assert!(took.as_secs() < 5, "1 MiB of {unit:?} took {took:?}");
    }
}
