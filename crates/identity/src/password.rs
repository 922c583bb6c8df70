//! Passwords: the policy a new password must meet, and argon2id hashing.
//!
//! Policy (ASVS 6.2; NIST SP 800-63B): at least [`MIN_CHARS`] characters and at most
//! [`MAX_CHARS`], counted as Unicode scalar values so a passphrase in any script counts fairly;
//! no composition rules and no forced rotation (they push people to predictable patterns);
//! refuse what attackers try first — the 3,000 most common passwords (`common_passwords.txt`,
//! with its source in its header), those same words dressed up with digits, symbols or leetspeak
//! (`Password123!`, `p@ssw0rd2024`), a single repeated character or short repeated unit, runs
//! along the alphabet, the digits or a keyboard row, and passwords containing the person's own
//! email local part.
//!
//! Hashing: argon2id with OWASP's parameters — m = 19 MiB, t = 2, p = 1 — in PHC string form, so
//! the parameters travel with each hash, old hashes keep verifying after the parameters are
//! raised, and [`Hasher::needs_rehash`] tells the service to re-hash at the next sign-in.
//! Verification of an unknown account runs against `Hasher::dummy_hash` (made with the same
//! parameters at start-up), so an unknown address costs what a wrong password costs.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use ringside_core::Pii;
use ringside_store::PasswordHash;
use zeroize::Zeroizing;

use crate::AuthError;
use crate::error::Internal;

/// Shortest password accepted, in Unicode scalar values (ASVS 6.2.1 asks for 8, recommends 15;
/// 12 is where a passphrase starts and a desktop app with a keychain makes it cheap).
pub const MIN_CHARS: usize = 12;
/// Longest password accepted (ASVS 6.2.9: allow at least 64). Bounds the hashing input.
pub const MAX_CHARS: usize = 128;

/// The common-password list, embedded.
const COMMON_LIST: &str = include_str!("common_passwords.txt");

static COMMON: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    COMMON_LIST
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
});

/// Why a password was refused. The description goes to the person choosing it, so it says
/// what to change without repeating the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordProblem {
    /// Fewer than [`MIN_CHARS`] characters.
    TooShort,
    /// More than [`MAX_CHARS`] characters.
    TooLong,
    /// One of the most common passwords, possibly with digits, symbols or leetspeak added.
    Common,
    /// One character or a short group repeated.
    Repetitive,
    /// A run along the alphabet, the digits or a keyboard row.
    Sequence,
    /// Contains the account's own email name.
    ContainsEmail,
}

impl PasswordProblem {
    /// The stable machine name (for problem details).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TooShort => "too_short",
            Self::TooLong => "too_long",
            Self::Common => "common",
            Self::Repetitive => "repetitive",
            Self::Sequence => "sequence",
            Self::ContainsEmail => "contains_email",
        }
    }

    /// What to tell the person.
    pub fn describe(self) -> &'static str {
        match self {
            Self::TooShort => "use at least 12 characters (a few unrelated words work well)",
            Self::TooLong => "use at most 128 characters",
            Self::Common => "it is one of the most common passwords, or a small variation of one",
            Self::Repetitive => "it repeats the same character or group of characters",
            Self::Sequence => "it is a run of consecutive letters, digits or keys",
            Self::ContainsEmail => "it contains your email address",
        }
    }
}

/// Checks a new password against the policy. `email` is the account's normalized address.
pub fn check_password(password: &str, email: &Pii<String>) -> Result<(), PasswordProblem> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordProblem::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordProblem::TooLong);
    }
    let lower = Zeroizing::new(password.to_lowercase());
    if is_repetitive(&lower) {
        return Err(PasswordProblem::Repetitive);
    }
    if is_sequence(&lower) {
        return Err(PasswordProblem::Sequence);
    }
    if is_common(&lower) {
        return Err(PasswordProblem::Common);
    }
    let local = crate::email::local_part(email);
    let local = local.expose();
    if (local.chars().count() >= 3 && lower.contains(local.as_str()))
        || lower.contains(email.expose().as_str())
    {
        return Err(PasswordProblem::ContainsEmail);
    }
    Ok(())
}

/// Whole string is one unit of 1–4 characters repeated.
fn is_repetitive(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    (1..=4).any(|unit| {
        chars.len() >= unit * 2
            && chars.len().is_multiple_of(unit)
            && chars.chunks(unit).all(|c| c == &chars[..unit])
    })
}

/// The alphabet, digits and keyboard rows a run may follow (forwards or backwards).
const RUNS: [&str; 7] = [
    "abcdefghijklmnopqrstuvwxyz",
    "0123456789",
    "1234567890-=",
    "qwertyuiopasdfghjklzxcvbnm",
    "qwertyuiop[]asdfghjkl;'zxcvbnm,./",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
    "qwertzuiopasdfghjklyxcvbnm",
];

/// Whole string is a stretch of one of [`RUNS`], repeated cyclically (so `123456789012` and
/// `zyxwvutsrqpo` count).
fn is_sequence(s: &str) -> bool {
    RUNS.iter().any(|run| {
        let doubled: String = run.repeat(1 + s.len() / run.len().max(1) + 1);
        let reversed: String = doubled.chars().rev().collect();
        doubled.contains(s) || reversed.contains(s)
    })
}

/// Undo the usual leetspeak substitutions.
fn unleet(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '@' | '4' => 'a',
            '8' => 'b',
            '3' => 'e',
            '1' | '!' | '|' => 'i',
            '0' => 'o',
            '$' | '5' => 's',
            '7' | '+' => 't',
            other => other,
        })
        .collect()
}

/// In the list as is, with leading/trailing digits and symbols stripped (`!!password2024`), or
/// after undoing leetspeak (`p@ssw0rd`), or as a list word repeated (`dragondragon`).
fn is_common(lower: &str) -> bool {
    let list = &*COMMON;
    let core = lower.trim_matches(|c: char| !c.is_alphabetic());
    let candidates = [
        lower.to_owned(),
        core.to_owned(),
        unleet(lower),
        unleet(lower)
            .trim_matches(|c: char| !c.is_alphabetic())
            .to_owned(),
        // Leetspeak inside, affixes outside: `P@ssw0rd2024!` -> `p@ssw0rd` -> `password`.
        unleet(core),
    ];
    candidates.iter().any(|c| {
        let c = c.as_str();
        (c.chars().count() >= 4 && list.contains(c)) || repeated_list_word(list, c)
    })
}

fn repeated_list_word(list: &HashSet<&str>, s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    (4..=chars.len() / 2).any(|unit| {
        chars.len().is_multiple_of(unit) && chars.chunks(unit).all(|c| c == &chars[..unit]) && {
            let word: String = chars[..unit].iter().collect();
            list.contains(word.as_str())
        }
    })
}

/// argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl HashParams {
    /// OWASP Password Storage Cheat Sheet: m = 19 MiB, t = 2, p = 1.
    pub const OWASP: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        parallelism: 1,
    };

    /// Cheap parameters for tests that hash many times. Never used by a running relay:
    /// [`crate::AuthConfig::validate`] refuses anything below [`HashParams::OWASP`].
    pub const FAST_INSECURE_FOR_TESTS: Self = Self {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
}

/// Hashes and verifies passwords with fixed parameters.
pub struct Hasher {
    argon: Argon2<'static>,
    params: HashParams,
    dummy: PasswordHash,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// A hasher with `params`; computes the dummy hash (one hash, at start-up).
    pub fn new(params: HashParams) -> Result<Self, AuthError> {
        let p = Params::new(
            params.memory_kib,
            params.iterations,
            params.parallelism,
            None,
        )
        .map_err(|_| AuthError::Internal(Internal::Crypto("invalid argon2 parameters")))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        let mut hasher = Self {
            argon,
            params,
            dummy: PasswordHash::new(String::new()),
        };
        let filler = Zeroizing::new(hex::encode(ringside_core::random_bytes::<16>()));
        hasher.dummy = hasher.hash(&filler)?;
        Ok(hasher)
    }

    /// The parameters new hashes are made with.
    pub fn params(&self) -> HashParams {
        self.params
    }

    /// A PHC string for `password`, with a fresh 128-bit salt.
    pub fn hash(&self, password: &str) -> Result<PasswordHash, AuthError> {
        let salt = SaltString::encode_b64(&ringside_core::random_bytes::<16>())
            .map_err(|_| AuthError::Internal(Internal::Crypto("salt encoding")))?;
        let phc = self
            .argon
            .hash_password(password.as_bytes(), &salt)
            .map_err(|_| AuthError::Internal(Internal::Crypto("password hashing")))?;
        Ok(PasswordHash::new(phc.to_string()))
    }

    /// Whether `password` matches `hash` (using the parameters recorded in the hash; the
    /// comparison inside argon2 is constant-time). A malformed hash never matches.
    pub fn verify(&self, hash: &PasswordHash, password: &str) -> bool {
        argon2::PasswordHash::new(hash.as_str()).is_ok_and(|parsed| {
            self.argon
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    }

    /// Verifies against the dummy hash and returns `false`: the cost of a real verification for
    /// an account that does not exist (or must not be told apart).
    pub fn verify_dummy(&self, password: &str) -> bool {
        let _ = self.verify(&self.dummy, password);
        false
    }

    /// Whether `hash` was made with other parameters (or another algorithm) than this hasher's:
    /// re-hash it after the next successful verification.
    pub fn needs_rehash(&self, hash: &PasswordHash) -> bool {
        let Ok(parsed) = argon2::PasswordHash::new(hash.as_str()) else {
            return true;
        };
        if parsed.algorithm != Algorithm::Argon2id.ident() {
            return true;
        }
        match Params::try_from(&parsed) {
            Ok(p) => {
                p.m_cost() != self.params.memory_kib
                    || p.t_cost() != self.params.iterations
                    || p.p_cost() != self.params.parallelism
            }
            Err(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> Pii<String> {
        Pii::new("marjorie.quill@agency.example".to_owned())
    }

    #[test]
    fn the_common_list_holds_three_thousand_entries() {
        assert_eq!(COMMON.len(), 3000, "the embedded list is complete");
        assert!(COMMON.contains("password") && COMMON.contains("qwerty123"));
    }

    #[test]
    fn length_is_counted_in_characters_not_bytes() {
        assert_eq!(
            check_password("ünïcödé-äöü", &email()),
            Err(PasswordProblem::TooShort),
            "11 characters, though more than 12 bytes"
        );
        assert_eq!(check_password("ünïcödé-äöüß", &email()), Ok(()));
        let long: String = (0..129)
            .map(|i| char::from(b'a' + u8::try_from(i * 7 % 26).unwrap()))
            .collect();
        assert_eq!(
            check_password(&long, &email()),
            Err(PasswordProblem::TooLong)
        );
    }

    #[test]
    fn common_passwords_and_their_dressed_up_variants_are_refused() {
        for common in [
            "password1234",
            "Password123!",
            "P@ssw0rd2024!",
            "qwertyuiop12",
            "1q2w3e4r5t6y",
            "!!baseball!!2024",
            "dragondragon",
            "iloveyou2024",
            "Sunshine1234",
            "trustno1trustno1",
        ] {
            assert_eq!(
                check_password(common, &email()),
                Err(PasswordProblem::Common),
                "{common} must be refused as common"
            );
        }
    }

    #[test]
    fn repeats_and_runs_are_refused() {
        for (pw, problem) in [
            ("aaaaaaaaaaaa", PasswordProblem::Repetitive),
            ("abcabcabcabc", PasswordProblem::Repetitive),
            ("121212121212", PasswordProblem::Repetitive),
            ("123456789012", PasswordProblem::Sequence),
            ("abcdefghijklm", PasswordProblem::Sequence),
            ("zyxwvutsrqpo", PasswordProblem::Sequence),
            ("qwertyuiopas", PasswordProblem::Sequence),
            ("0987654321098", PasswordProblem::Sequence),
        ] {
            assert_eq!(check_password(pw, &email()), Err(problem), "{pw}");
        }
    }

    #[test]
    fn a_password_containing_the_email_name_is_refused() {
        assert_eq!(
            check_password("Marjorie.Quill-rocks", &email()),
            Err(PasswordProblem::ContainsEmail)
        );
    }

    #[test]
    fn ordinary_passphrases_pass() {
        for good in [
            "correct horse battery staple",
            "mauve kettle orbit 41",
            "Tr0ub4dor&3-spoon",
            "zq8#Lm2!vR0p",
        ] {
            assert_eq!(check_password(good, &email()), Ok(()), "{good} is fine");
        }
    }

    #[test]
    fn hashes_are_argon2id_phc_strings_with_the_owasp_parameters() {
        let hasher = Hasher::new(HashParams::OWASP).unwrap();
        let hash = hasher.hash("mauve kettle orbit 41").unwrap();
        assert!(
            hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "PHC string with the parameters: {}",
            hash.as_str()
        );
        assert!(hasher.verify(&hash, "mauve kettle orbit 41"));
        assert!(!hasher.verify(&hash, "mauve kettle orbit 42"));
        assert!(
            !hasher.needs_rehash(&hash),
            "current parameters need no re-hash"
        );
    }

    #[test]
    fn a_hash_with_older_parameters_verifies_and_asks_for_a_rehash() {
        let old = Hasher::new(HashParams::FAST_INSECURE_FOR_TESTS).unwrap();
        let hash = old.hash("mauve kettle orbit 41").unwrap();
        let current = Hasher::new(HashParams::OWASP).unwrap();
        assert!(
            current.verify(&hash, "mauve kettle orbit 41"),
            "the parameters travel with the hash"
        );
        assert!(current.needs_rehash(&hash));
        assert!(!current.verify(&PasswordHash::new("garbage".to_owned()), "x"));
        assert!(current.needs_rehash(&PasswordHash::new("garbage".to_owned())));
    }

    #[test]
    fn the_dummy_verification_never_succeeds() {
        let hasher = Hasher::new(HashParams::FAST_INSECURE_FOR_TESTS).unwrap();
        assert!(!hasher.verify_dummy(""));
        assert!(!hasher.verify_dummy("anything at all"));
    }
}
