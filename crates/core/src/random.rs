//! Random bytes straight from the operating system's CSPRNG, for ids, tokens, codes and keys.
//! One function, so every secret in Ringside comes from the same audited place.

use rand::TryRngCore;

/// `N` bytes from the OS CSPRNG (`getrandom`).
///
/// # Panics
/// If the operating system cannot supply randomness. There is no safe way to continue issuing ids
/// or keys without it, so this is treated like an allocation failure.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    #[allow(clippy::expect_used)] // see the Panics section: no safe fallback exists
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .expect("the operating system's random number generator failed");
    bytes
}
