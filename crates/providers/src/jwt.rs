//! A minimal JWS compact verifier for HS256 — the only algorithm Dialpad and Vonage use.
//!
//! Why not a JWT library: we need exactly one algorithm, pinned, and the classic JWT attacks are
//! all about letting the token choose (`alg: none`, RS256 with the HMAC secret as "public key").
//! Here the token chooses nothing: the header must say `HS256`, a `crit` header is refused
//! (RFC 7515 §4.1.11: we understand no extensions), and the signature is checked in constant time
//! with `hmac`'s `verify_slice` before the payload is even decoded. Time claims are the caller's
//! business (the providers differ).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ProviderError;

/// The header fields we look at.
#[derive(serde::Deserialize)]
struct Header {
    alg: Option<String>,
    crit: Option<serde_json::Value>,
}

/// Verifies a compact JWS signed with HS256 under `key`, and returns its decoded payload bytes.
///
/// # Errors
/// [`ProviderError::Malformed`] when the token is not three base64url parts with a JSON header;
/// [`ProviderError::UnsupportedAlgorithm`] for any `alg` but `HS256` or a `crit` header;
/// [`ProviderError::BadSignature`] when the HMAC does not match.
pub fn verify_hs256(token: &[u8], key: &[u8]) -> Result<Vec<u8>, ProviderError> {
    let malformed = |what| ProviderError::Malformed { what };
    let token = std::str::from_utf8(token)
        .map_err(|_| malformed("the token is not text"))?
        .trim();
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("the token is not a compact JWT (three parts)"));
    };
    let header_json = URL_SAFE_NO_PAD
        .decode(header_b64)
        .map_err(|_| malformed("the token header is not base64url"))?;
    let header: Header = serde_json::from_slice(&header_json)
        .map_err(|_| malformed("the token header is not a JSON object"))?;
    match header.alg.as_deref() {
        Some("HS256") => {}
        Some(alg) if alg.eq_ignore_ascii_case("none") => {
            return Err(ProviderError::UnsupportedAlgorithm {
                what: "unsigned JWT (alg none)",
            });
        }
        Some(_) => {
            return Err(ProviderError::UnsupportedAlgorithm {
                what: "JWT algorithm other than HS256",
            });
        }
        None => return Err(malformed("the token header has no alg")),
    }
    if header.crit.is_some() {
        return Err(ProviderError::UnsupportedAlgorithm {
            what: "JWT with critical header extensions",
        });
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature_b64)
        .map_err(|_| malformed("the token signature is not base64url"))?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).map_err(|_| ProviderError::InvalidSecret {
            what: "unusable HMAC key",
        })?;
    // The signing input is the first two parts exactly as sent.
    mac.update(header_b64.as_bytes());
    mac.update(b".");
    mac.update(payload_b64.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| ProviderError::BadSignature)?;
    URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| malformed("the token payload is not base64url"))
}

/// Signs `payload` as a compact HS256 JWT (`{"alg":"HS256","typ":"JWT"}`): for the relay's call
/// simulator and for tests, so they sign exactly as the providers do.
pub fn sign_hs256(payload: &[u8], key: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = hmac_sha256(key, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// HMAC-SHA256 of `data` under `key` (any key length is valid for HMAC).
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(data);
    let mut out = [0u8; 32];
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7515 Appendix A.1: the HS256 example, key and signature verbatim.
    const RFC7515_KEY: &str =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
    const RFC7515_SIGNING_INPUT: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    const RFC7515_SIGNATURE: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    fn rfc_token() -> String {
        format!("{RFC7515_SIGNING_INPUT}.{RFC7515_SIGNATURE}")
    }

    fn rfc_key() -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(RFC7515_KEY).unwrap()
    }

    #[test]
    fn the_rfc_7515_hs256_example_verifies() {
        let payload = verify_hs256(rfc_token().as_bytes(), &rfc_key())
            .expect("the RFC 7515 A.1 token must verify");
        let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            claims["iss"], "joe",
            "the payload decodes to the RFC's claims"
        );
    }

    #[test]
    fn every_tampered_byte_of_the_rfc_example_is_rejected() {
        let token = rfc_token();
        let key = rfc_key();
        for at in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[at] ^= 0x01;
            let result = verify_hs256(&bytes, &key);
            assert!(
                result.is_err(),
                "flipping byte {at} of the token must be rejected"
            );
        }
    }

    #[test]
    fn a_wrong_key_is_a_bad_signature() {
        assert_eq!(
            verify_hs256(rfc_token().as_bytes(), b"not the key"),
            Err(ProviderError::BadSignature),
            "a wrong key must fail as a bad signature"
        );
    }

    #[test]
    fn alg_none_and_asymmetric_algorithms_are_refused_before_any_signature_check() {
        for header in [
            r#"{"alg":"none","typ":"JWT"}"#,
            r#"{"alg":"None"}"#,
            r#"{"alg":"RS256","typ":"JWT"}"#,
            r#"{"alg":"HS512"}"#,
            r#"{"alg":"ES256"}"#,
            r#"{"alg":"HS256","crit":["exp"]}"#,
        ] {
            let token = format!(
                "{}.{}.",
                URL_SAFE_NO_PAD.encode(header),
                URL_SAFE_NO_PAD.encode(br#"{"a":1}"#)
            );
            let result = verify_hs256(token.as_bytes(), b"secret");
            assert!(
                matches!(result, Err(ProviderError::UnsupportedAlgorithm { .. })),
                "header {header} must be refused as unsupported, got {result:?}"
            );
        }
    }

    #[test]
    fn tokens_we_sign_verify_and_round_trip_the_payload() {
        let token = sign_hs256(br#"{"x":1}"#, b"k");
        assert_eq!(
            verify_hs256(token.as_bytes(), b"k").unwrap(),
            br#"{"x":1}"#.to_vec(),
            "sign then verify returns the payload"
        );
    }

    #[test]
    fn malformed_tokens_are_malformed_not_panics() {
        for token in ["", "a", "a.b", "a.b.c.d", "!!.!!.!!", "e30.e30"] {
            let result = verify_hs256(token.as_bytes(), b"k");
            assert!(
                matches!(result, Err(ProviderError::Malformed { .. })),
                "{token:?} must be malformed, got {result:?}"
            );
        }
    }
}
