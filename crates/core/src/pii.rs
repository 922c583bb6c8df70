//! `Pii<T>`: personal data — phone numbers, names, transcripts, SMS bodies, notes — wrapped from
//! the moment it is parsed, so it cannot reach a log line, an error message or a `{:?}` by
//! accident.
//!
//! `Debug` and `Display` print `[redacted]`; there is no `Deref`, `AsRef` or `Into` back to the
//! value. The value leaves only through [`Pii::expose`] / [`Pii::into_exposed`], two names that are
//! easy to grep for in review. Serialization is the one deliberate exception: a `Pii<T>` inside a
//! wire type (a pop sent to the agent it belongs to) serializes its value, because that is the
//! point of sending it; logging goes through `Debug`/`Display`, never through serde. The inner
//! value is zeroized when the wrapper is dropped.

use std::fmt;

use zeroize::Zeroize;

/// The text every redacted value prints as.
pub const REDACTED: &str = "[redacted]";

/// A personal-data value that never prints itself.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Pii<T: Zeroize>(T);

impl<T: Zeroize> Pii<T> {
    /// Wraps a value that is, or contains, personal data.
    pub fn new(value: T) -> Self {
        Self(value)
    }

    /// Borrows the value. Every call site is a place personal data is used: keep them few.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Applies `f` to the value, keeping the result wrapped.
    pub fn map<U: Zeroize>(&self, f: impl FnOnce(&T) -> U) -> Pii<U> {
        Pii(f(&self.0))
    }
}

impl<T: Zeroize + Default> Pii<T> {
    /// Takes the value out of its wrapper; the caller now owns the duty not to leak it.
    pub fn into_exposed(mut self) -> T {
        std::mem::take(&mut self.0)
    }
}

impl<T: Zeroize> Drop for Pii<T> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl<T: Zeroize> fmt::Debug for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: Zeroize> fmt::Display for Pii<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T: Zeroize + serde::Serialize> serde::Serialize for Pii<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Zeroize + serde::Deserialize<'de>> serde::Deserialize<'de> for Pii<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Pii)
    }
}

impl<T: Zeroize + ts_rs::TS> ts_rs::TS for Pii<T> {
    // On the wire a `Pii<T>` is just its `T`.
    type WithoutGenerics = T::WithoutGenerics;
    type OptionInnerType = Self;

    fn name() -> String {
        T::name()
    }

    fn inline() -> String {
        T::inline()
    }

    fn inline_flattened() -> String {
        T::inline_flattened()
    }

    fn decl() -> String {
        T::decl()
    }

    fn decl_concrete() -> String {
        T::decl_concrete()
    }

    fn visit_dependencies(v: &mut impl ts_rs::TypeVisitor)
    where
        Self: 'static,
    {
        T::visit_dependencies(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKER: &str = "Zebulon Quartermaine +14155550123";

    #[test]
    fn debug_and_display_never_print_the_value() {
        let pii = Pii::new(MARKER.to_owned());
        for printed in [
            format!("{pii}"),
            format!("{pii:?}"),
            format!("{:?}", Some(&pii)),
            format!("{:#?}", vec![pii.clone()]),
        ] {
            assert!(
                !printed.contains("Zebulon"),
                "the value leaked into {printed:?}"
            );
            assert!(
                printed.contains(REDACTED),
                "redaction must be visible in {printed:?}"
            );
        }
    }

    #[test]
    fn the_value_leaves_only_through_expose() {
        let pii = Pii::new(MARKER.to_owned());
        assert_eq!(pii.expose(), MARKER);
        assert_eq!(pii.map(|s| s.len()).expose(), &MARKER.len());
        assert_eq!(pii.into_exposed(), MARKER);
    }

    #[test]
    fn serde_carries_the_value_for_the_wire() {
        let pii = Pii::new(MARKER.to_owned());
        let json = serde_json::to_string(&pii).unwrap();
        assert_eq!(
            json,
            format!("\"{MARKER}\""),
            "a pop must carry the number to its agent"
        );
        let back: Pii<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, pii);
    }
}
