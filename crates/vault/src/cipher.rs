//! The only place AES-256-GCM is called. Sealing and key wrapping both go through these two
//! functions, so "a fresh random 96-bit nonce per encryption" and "plaintext only in zeroizing
//! buffers" are true by construction rather than by each caller's care.

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce, Tag};
use zeroize::Zeroizing;

/// AES-256 key length.
pub(crate) const KEY_LEN: usize = 32;
/// GCM nonce length: 96 bits, the only length NIST SP 800-38D recommends for random nonces.
pub(crate) const NONCE_LEN: usize = 12;
/// GCM tag length: the full 128 bits.
pub(crate) const TAG_LEN: usize = 16;

/// Raw key bytes, wiped when dropped.
pub(crate) type KeyBytes = Zeroizing<[u8; KEY_LEN]>;

/// Appends `nonce || ciphertext || tag` for `plaintext` to `out`, with a fresh random nonce.
pub(crate) fn encrypt_into(
    key: &KeyBytes,
    aad: &[u8],
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), aes_gcm::Error> {
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.as_slice()));
    let nonce: [u8; NONCE_LEN] = ringside_core::random_bytes();
    // Reserve first so the plaintext copy is never left behind in a reallocated buffer.
    out.reserve(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    let start = out.len();
    out.extend_from_slice(plaintext);
    let tail = out.get_mut(start..).ok_or(aes_gcm::Error)?;
    match cipher.encrypt_in_place_detached(Nonce::from_slice(&nonce), aad, tail) {
        Ok(tag) => {
            out.extend_from_slice(&tag);
            Ok(())
        }
        Err(e) => {
            // Do not hand back a buffer holding the plaintext copy.
            zeroize::Zeroize::zeroize(out);
            Err(e)
        }
    }
}

/// Opens `nonce || ciphertext || tag`. `None` for any failure: too short, or not authentic.
pub(crate) fn decrypt(key: &KeyBytes, aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let (nonce, rest) = sealed.split_at_checked(NONCE_LEN)?;
    let (ciphertext, tag) = rest.split_at_checked(rest.len().checked_sub(TAG_LEN)?)?;
    let cipher = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.as_slice()));
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    // aes-gcm checks the tag before decrypting, so a failed open leaves no plaintext behind.
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(nonce),
            aad,
            buffer.as_mut_slice(),
            Tag::from_slice(tag),
        )
        .ok()?;
    Some(buffer)
}

/// Builds associated data in one canonical encoding: a domain tag, then each field as a
/// big-endian u64 length followed by its bytes. Length prefixes make the encoding injective —
/// `("ab", "c")` and `("a", "bc")` can never produce the same bytes — and the domain tag keeps
/// the associated data of one purpose (sealing) from ever equalling another's (key wrapping).
pub(crate) struct Aad(Vec<u8>);

impl Aad {
    pub(crate) fn new(domain: &str) -> Self {
        let mut aad = Self(Vec::with_capacity(128));
        aad.field(domain.as_bytes());
        aad
    }

    pub(crate) fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0
            .extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        self.0.extend_from_slice(bytes);
        self
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> KeyBytes {
        Zeroizing::new(ringside_core::random_bytes())
    }

    #[test]
    fn encryption_round_trips_and_binds_the_associated_data() {
        let key = key();
        let mut sealed = Vec::new();
        encrypt_into(&key, b"aad", b"hello", &mut sealed).unwrap();
        assert_eq!(
            sealed.len(),
            NONCE_LEN + 5 + TAG_LEN,
            "nonce + ciphertext + tag"
        );
        let opened = decrypt(&key, b"aad", &sealed).expect("same key and aad must open");
        assert_eq!(
            opened.as_slice(),
            b"hello",
            "round trip must give the plaintext back"
        );
        assert!(
            decrypt(&key, b"aaD", &sealed).is_none(),
            "other aad must not open"
        );
    }

    #[test]
    fn inputs_shorter_than_nonce_and_tag_are_refused_without_panicking() {
        let key = key();
        for len in 0..NONCE_LEN + TAG_LEN {
            assert!(
                decrypt(&key, b"", &vec![0; len]).is_none(),
                "length {len} must not open"
            );
        }
    }

    #[test]
    fn length_prefixes_make_field_boundaries_unambiguous() {
        let mut a = Aad::new("d");
        a.field(b"ab").field(b"c");
        let mut b = Aad::new("d");
        b.field(b"a").field(b"bc");
        assert_ne!(
            a.bytes(),
            b.bytes(),
            "moving a byte across a field boundary must change aad"
        );
        let mut c = Aad::new("e");
        c.field(b"ab").field(b"c");
        assert_ne!(
            a.bytes(),
            c.bytes(),
            "the domain tag must be part of the aad"
        );
    }
}
