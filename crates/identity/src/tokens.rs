//! Opaque secret tokens: access and refresh tokens, invitation codes, second-factor challenges
//! and device tokens.
//!
//! Why opaque and random rather than signed (JWT): a reference token is revoked by changing one
//! row, which is what "disabling a user ends every session at once" needs; there is no key to
//! leak that would mint tokens; and the client learns nothing from the token. Each is 128 bits
//! from the OS CSPRNG (ASVS 7.2.3, 11.5.1), written as a kind prefix and 32 hex digits
//! (`rsa_9f86d0…`) so a leaked token is recognisable by secret scanners and never mistaken for
//! another kind. Only SHA-256 of the raw bytes, domain-separated by kind, is stored: a copy of
//! the database cannot be replayed, and a 128-bit secret needs no slow hash.

use std::fmt;

use ringside_store::TokenHash;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// What a token is for. Part of its text (the prefix) and of its stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// Short-lived bearer token for API calls.
    Access,
    /// Rotating token that obtains a new access/refresh pair.
    Refresh,
    /// One-time invitation code.
    Invitation,
    /// Pending second-factor step of a sign-in.
    Challenge,
    /// Identifies a device that signed in before (back-off bucket; not a credential).
    Device,
    /// Single-use, 30-second ticket that opens the WebSocket stream.
    StreamTicket,
}

impl TokenKind {
    /// The text prefix, including the underscore.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Access => "rsa_",
            Self::Refresh => "rsr_",
            Self::Invitation => "rsi_",
            Self::Challenge => "rsc_",
            Self::Device => "rsd_",
            Self::StreamTicket => "rst_",
        }
    }
}

/// The number of random bytes in a token.
pub const TOKEN_BYTES: usize = 16;

/// A secret token in its text form, to be handed to its holder once. `Debug` redacts it; the
/// text is zeroized on drop; it serializes as its text (that is how it reaches the holder).
#[derive(Clone)]
pub struct SecretToken {
    kind: TokenKind,
    text: Zeroizing<String>,
    hash: TokenHash,
}

impl SecretToken {
    /// A fresh token of `kind`.
    pub fn generate(kind: TokenKind) -> Self {
        let raw: Zeroizing<[u8; TOKEN_BYTES]> = Zeroizing::new(ringside_core::random_bytes());
        let text = Zeroizing::new(format!("{}{}", kind.prefix(), hex::encode(&raw[..])));
        Self {
            kind,
            text,
            hash: hash_raw(kind, &raw),
        }
    }

    /// The kind.
    pub fn kind(&self) -> TokenKind {
        self.kind
    }

    /// The text to give the holder. Every call site hands a secret out: keep them few.
    pub fn expose(&self) -> &str {
        &self.text
    }

    /// The hash to store.
    pub fn hash(&self) -> TokenHash {
        self.hash
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretToken({}[redacted])", self.kind.prefix())
    }
}

impl serde::Serialize for SecretToken {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

/// The stored hash of a presented token, if the text is a well-formed token of `kind`; `None`
/// for anything else (a wrong prefix, length or alphabet is simply not a token of ours).
pub fn hash_presented(kind: TokenKind, text: &str) -> Option<TokenHash> {
    let hex_part = text.trim().strip_prefix(kind.prefix())?;
    if hex_part.len() != TOKEN_BYTES * 2 || hex_part.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let mut raw = Zeroizing::new([0u8; TOKEN_BYTES]);
    hex::decode_to_slice(hex_part, &mut raw[..]).ok()?;
    Some(hash_raw(kind, &raw))
}

fn hash_raw(kind: TokenKind, raw: &[u8; TOKEN_BYTES]) -> TokenHash {
    let mut h = Sha256::new();
    h.update(b"ringside/token/v1/");
    h.update(kind.prefix().as_bytes());
    h.update(raw);
    TokenHash(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_128_random_bits_behind_its_kind_prefix() {
        let token = SecretToken::generate(TokenKind::Access);
        let text = token.expose();
        assert!(text.starts_with("rsa_"), "{}", text.len());
        assert_eq!(text.len(), 4 + 32, "prefix + 32 hex digits");
        assert_ne!(
            token.expose(),
            SecretToken::generate(TokenKind::Access).expose(),
            "fresh randomness each time"
        );
    }

    #[test]
    fn the_presented_text_hashes_to_the_stored_hash() {
        let token = SecretToken::generate(TokenKind::Refresh);
        assert_eq!(
            hash_presented(TokenKind::Refresh, token.expose()),
            Some(token.hash()),
            "the holder's text finds the stored row"
        );
    }

    #[test]
    fn a_token_of_one_kind_is_not_accepted_as_another() {
        let refresh = SecretToken::generate(TokenKind::Refresh);
        assert_eq!(hash_presented(TokenKind::Access, refresh.expose()), None);
        let swapped = refresh.expose().replacen("rsr_", "rsa_", 1);
        assert_ne!(
            hash_presented(TokenKind::Access, &swapped),
            Some(refresh.hash()),
            "even with the prefix swapped, the hash differs by kind"
        );
    }

    #[test]
    fn malformed_tokens_are_not_tokens() {
        for bad in [
            "",
            "rsa_",
            "rsa_zz",
            "rsa_0123456789abcdef0123456789abcde",
            "rsa_0123456789abcdef0123456789abcdef0",
            "rsa_0123456789ABCDEF0123456789ABCDEF",
            "0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(hash_presented(TokenKind::Access, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let token = SecretToken::generate(TokenKind::Invitation);
        let printed = format!("{token:?}");
        assert!(
            !printed.contains(&token.expose()[4..]),
            "the secret leaked: {printed}"
        );
        assert_eq!(printed, "SecretToken(rsi_[redacted])");
    }
}
