//! The second factor: TOTP (RFC 6238) and single-use recovery codes.
//!
//! Why these parameters: SHA-1, 6 digits, 30-second steps is what every authenticator app
//! implements (ASVS 6.5.5 asks for a 30 s lifetime); HMAC-SHA-1 is not weakened by SHA-1
//! collisions (RFC 4226 appendix B.2). Codes from one step either side are accepted to absorb
//! clock drift and typing time (±30 s). A code works once: the service records the step of the
//! last accepted code and refuses any step not after it (ASVS 6.5.1), so a code seen over
//! someone's shoulder is useless after its owner typed it. Secrets are 160 bits (RFC 4226's
//! recommendation) from the OS CSPRNG, sealed at rest.
//!
//! Recovery codes: ten, each 80 bits from the CSPRNG (ASVS 6.5.2 asks ≥ 20 bits for lookup
//! secrets; 80 makes offline guessing of the stored hashes pointless, so SHA-256 suffices),
//! written in Crockford base32 in four groups (`7k2m-9xq4-…`) so they survive being read aloud
//! and retyped, shown once, each usable once.

use ringside_core::Pii;
use ringside_store::TokenHash;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

use crate::AuthError;
use crate::error::Internal;

/// The issuer shown in authenticator apps.
pub const ISSUER: &str = "Ringside";
/// Digits per code.
pub const DIGITS: usize = 6;
/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Steps accepted either side of the current one.
pub const SKEW_STEPS: i64 = 1;
/// Secret length in bytes (160 bits).
pub const SECRET_BYTES: usize = 20;
/// Recovery codes issued per enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Random bytes per recovery code (80 bits).
pub const RECOVERY_CODE_BYTES: usize = 10;

/// A fresh TOTP secret.
pub fn new_secret() -> Zeroizing<Vec<u8>> {
    Zeroizing::new(ringside_core::random_bytes::<SECRET_BYTES>().to_vec())
}

fn totp(secret: &[u8], account: String) -> Result<TOTP, AuthError> {
    // Our secrets are 160 bits and the account name has its colons replaced, so `new` cannot
    // refuse them; map anyway rather than panic.
    TOTP::new(
        Algorithm::SHA1,
        DIGITS,
        1,
        STEP_SECONDS,
        secret.to_vec(),
        Some(ISSUER.to_owned()),
        account,
    )
    .map_err(|_| AuthError::Internal(Internal::Crypto("TOTP parameters")))
}

/// What an authenticator app needs: the secret in base32 (for typing) and the `otpauth://` URI
/// (for the QR code the desktop app draws). Both are secrets: shown once, to their owner.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Provisioning {
    /// The secret, base32 without padding.
    pub secret_base32: Pii<String>,
    /// `otpauth://totp/Ringside:<account>?secret=…&issuer=Ringside`.
    pub otpauth_uri: Pii<String>,
}

/// Provisioning data for `secret`, labelled with the user's address (what apps display).
pub fn provisioning(secret: &[u8], account: &Pii<String>) -> Result<Provisioning, AuthError> {
    let t = totp(secret, account.expose().replace(':', "_"))?;
    Ok(Provisioning {
        secret_base32: Pii::new(t.get_secret_base32()),
        otpauth_uri: Pii::new(t.get_url()),
    })
}

/// The TOTP step number of a unix time.
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECONDS.cast_signed())
}

/// The code for `secret` at `step` (for tests and the confirm flow).
pub fn code_at_step(secret: &[u8], step: i64) -> Result<String, AuthError> {
    let t = totp(secret, String::new())?;
    let time = u64::try_from(step)
        .map_err(|_| AuthError::Internal(Internal::Crypto("TOTP time before 1970")))?
        * STEP_SECONDS;
    Ok(t.generate(time))
}

/// The latest step within ±[`SKEW_STEPS`] of `now_unix` whose code equals `code` (compared in
/// constant time), or `None`. The caller still has to refuse a step that is not after the last
/// one accepted.
pub fn matching_step(secret: &[u8], code: &str, now_unix: i64) -> Result<Option<i64>, AuthError> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let now = step_of(now_unix);
    let mut found = None;
    for step in (now - SKEW_STEPS)..=(now + SKEW_STEPS) {
        let expected = code_at_step(secret, step)?;
        if bool::from(expected.as_bytes().ct_eq(code.as_bytes())) {
            found = Some(step);
        }
    }
    Ok(found)
}

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Ten fresh recovery codes (to show once) and their hashes (to store).
pub fn new_recovery_codes() -> (Vec<Pii<String>>, Vec<TokenHash>) {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw = Zeroizing::new(ringside_core::random_bytes::<RECOVERY_CODE_BYTES>());
            let symbols = Zeroizing::new(base32(&raw[..]));
            let text: String = symbols
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join("-");
            let hash = hash_symbols(&symbols);
            (Pii::new(text), hash)
        })
        .unzip()
}

/// The stored hash of a typed recovery code, or `None` if it cannot be one. Forgiving in the
/// Crockford way: case, dashes and spaces are ignored, `i`/`l` read as `1` and `o` as `0`.
pub fn hash_recovery_code(typed: &str) -> Option<TokenHash> {
    let symbols: Zeroizing<String> = Zeroizing::new(
        typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_lowercase() {
                'i' | 'l' => '1',
                'o' => '0',
                other => other,
            })
            .collect(),
    );
    (symbols.len() == RECOVERY_CODE_BYTES * 8 / 5
        && symbols.bytes().all(|b| CROCKFORD.contains(&b)))
    .then(|| hash_symbols(&symbols))
}

fn hash_symbols(symbols: &str) -> TokenHash {
    let mut h = Sha256::new();
    h.update(b"ringside/recovery-code/v1\0");
    h.update(symbols.as_bytes());
    TokenHash(h.finalize().into())
}

/// Crockford base32 of `bytes` (length a multiple of 5).
fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        for i in (0..8).rev() {
            let idx = usize::try_from((n >> (i * 5)) & 31).unwrap_or(0);
            out.push(char::from(CROCKFORD[idx]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the SHA-1 seed is "12345678901234567890".
    const RFC_SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // The RFC lists 8-digit codes; a 6-digit code is their last six digits.
        for (time, eight) in [
            (59_i64, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(
                code_at_step(RFC_SEED, step_of(time)).unwrap(),
                eight[2..],
                "T = {time}"
            );
        }
    }

    #[test]
    fn one_step_either_side_is_accepted_and_no_more() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let step = step_of(now);
        for (offset, accepted) in [(-2, false), (-1, true), (0, true), (1, true), (2, false)] {
            let code = code_at_step(&secret, step + offset).unwrap();
            let got = matching_step(&secret, &code, now).unwrap();
            if accepted {
                assert_eq!(
                    got,
                    Some(step + offset),
                    "offset {offset} is inside the window"
                );
            } else {
                assert!(
                    got.is_none_or(|s| s != step + offset),
                    "offset {offset} is outside the window"
                );
            }
        }
        assert_eq!(matching_step(&secret, "12345", now).unwrap(), None);
        assert_eq!(matching_step(&secret, "abcdef", now).unwrap(), None);
    }

    #[test]
    fn the_provisioning_uri_names_the_issuer_and_carries_the_secret() {
        let secret = new_secret();
        let p = provisioning(&secret, &Pii::new("jane@agency.example".to_owned())).unwrap();
        let uri = p.otpauth_uri.expose();
        assert!(uri.starts_with("otpauth://totp/Ringside:"), "{uri}");
        assert!(uri.contains("issuer=Ringside"), "{uri}");
        assert!(
            uri.contains(&format!("secret={}", p.secret_base32.expose())),
            "{uri}"
        );
        assert_eq!(
            p.secret_base32.expose().len(),
            32,
            "160 bits are 32 base32 symbols"
        );
        assert!(
            !format!("{p:?}").contains(p.secret_base32.expose()),
            "Debug redacts the secret"
        );
    }

    #[test]
    fn recovery_codes_are_ten_distinct_80_bit_codes_that_hash_forgivingly() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut unique: Vec<&String> = codes.iter().map(Pii::expose).collect();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 10, "codes are distinct");
        let first = codes[0].expose();
        assert_eq!(first.len(), 19, "four groups of four, dashed: {first}");
        assert_eq!(hash_recovery_code(first), Some(hashes[0]));
        let retyped = first.to_uppercase().replace('-', " ");
        assert_eq!(
            hash_recovery_code(&retyped),
            Some(hashes[0]),
            "case and spacing do not matter"
        );
        assert_eq!(hash_recovery_code("not-a-code"), None);
    }

    #[test]
    fn base32_encodes_in_crockford_alphabet() {
        assert_eq!(base32(&[0; 5]), "00000000");
        assert_eq!(base32(&[0xff; 5]), "zzzzzzzz");
        assert_eq!(base32(b"hello"), "d1jprv3f");
    }
}
