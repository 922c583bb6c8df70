//! Small readers shared by the provider modules: ids and epoch times that arrive as numbers or as
//! strings, form and query parameters, bounded text. Lenient where providers are inconsistent,
//! strict where it matters (no unbounded values, no panics on any input).

use std::collections::BTreeMap;
use std::fmt;

use ringside_core::Pii;
use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use time::OffsetDateTime;

use crate::{Direction, ProviderError};

/// The longest id we keep (call ids, user ids, message ids).
const MAX_ID_LEN: usize = 256;

/// A JSON id: a number or a string.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdRepr {
    Unsigned(u64),
    Signed(i64),
    Text(String),
}

/// Deserializes an optional id that may be a JSON number or a JSON string.
pub(crate) fn id_or_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    Ok(
        match Option::<IdRepr>::deserialize(d).map_err(|_| {
            <D::Error as serde::de::Error>::custom("an id must be a number or a string")
        })? {
            None => None,
            Some(IdRepr::Unsigned(n)) => Some(n.to_string()),
            Some(IdRepr::Signed(n)) => Some(n.to_string()),
            Some(IdRepr::Text(text)) => clean_id(&text),
        },
    )
}

/// A trimmed, bounded id; empty is `None`.
pub(crate) fn clean_id(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.len() <= MAX_ID_LEN && !text.chars().any(char::is_control))
        .then(|| text.to_owned())
}

/// A JSON epoch time in milliseconds: a number (integer or float) or a string of digits.
#[derive(Deserialize)]
#[serde(untagged)]
enum EpochRepr {
    Signed(i64),
    Float(f64),
    Text(String),
}

/// Deserializes optional epoch milliseconds, as a number or a string.
pub(crate) fn epoch_ms<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    let ms = match Option::<EpochRepr>::deserialize(d).map_err(|_| {
        <D::Error as serde::de::Error>::custom("a time must be a number or a string")
    })? {
        None => return Ok(None),
        Some(EpochRepr::Signed(ms)) => Some(ms),
        // Truncation to whole milliseconds is intended; out-of-range floats saturate and are then
        // refused by the range check below.
        Some(EpochRepr::Float(ms)) => ms.is_finite().then_some(ms as i64),
        Some(EpochRepr::Text(text)) => text.trim().parse::<i64>().ok(),
    };
    Ok(ms.and_then(from_epoch_ms))
}

/// Epoch milliseconds to a time; `None` when out of range.
pub(crate) fn from_epoch_ms(ms: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
}

/// Epoch seconds to a time; `None` when out of range.
pub(crate) fn from_epoch_s(s: i64) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(s).ok()
}

/// An RFC 3339 time; `None` when it is not one.
pub(crate) fn rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text.trim(), &time::format_description::well_known::Rfc3339).ok()
}

/// A direction field; `Unknown` when absent.
pub(crate) fn direction(text: Option<&str>) -> Direction {
    text.map_or(Direction::Unknown, Direction::parse)
}

/// Deserializes an optional personal string straight into its wrapper.
pub(crate) fn pii_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Pii<String>>, D::Error> {
    Ok(Option::<Pii<String>>::deserialize(d)?.filter(|text| !text.expose().trim().is_empty()))
}

/// Form or query parameters: every value of every name, in the order received.
#[derive(Default)]
pub(crate) struct Params(BTreeMap<String, Vec<String>>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes (a body or a query string).
    pub(crate) fn parse_into(&mut self, encoded: &[u8]) {
        for (name, value) in form_urlencoded::parse(encoded) {
            self.0
                .entry(name.into_owned())
                .or_default()
                .push(value.into_owned());
        }
    }

    pub(crate) fn parse(encoded: &[u8]) -> Self {
        let mut params = Self::default();
        params.parse_into(encoded);
        params
    }

    /// Reads a JSON object's top-level scalars as parameters (strings as they are, numbers and
    /// booleans as their JSON text). Anything else is not a parameter object.
    pub(crate) fn from_json(body: &[u8]) -> Result<Self, ProviderError> {
        let object: BTreeMap<String, serde_json::Value> =
            serde_json::from_slice(body).map_err(|_| ProviderError::Unprocessable {
                what: "the body is not a JSON object",
            })?;
        let mut params = Self::default();
        for (name, value) in object {
            let text = match value {
                serde_json::Value::String(text) => text,
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::Bool(b) => b.to_string(),
                _ => continue,
            };
            params.0.entry(name).or_default().push(text);
        }
        Ok(params)
    }

    /// The names in sorted (byte) order with their values.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&String, &Vec<String>)> {
        self.0.iter()
    }

    /// The first value of a name.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .and_then(|values| values.first())
            .map(String::as_str)
    }

    /// The first value of a name, as a bounded id.
    pub(crate) fn id(&self, name: &str) -> Option<String> {
        self.get(name).and_then(clean_id)
    }

    /// The first value of a name, wrapped as personal data.
    pub(crate) fn pii(&self, name: &str) -> Option<Pii<String>> {
        self.get(name)
            .filter(|text| !text.trim().is_empty())
            .map(|text| Pii::new(text.to_owned()))
    }

    /// Whether the name is present.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// Removes a name, returning its values.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Vec<String>> {
        self.0.remove(name)
    }

    /// Adds the values of `other` under the names this does not have yet.
    pub(crate) fn fill_from(&mut self, mut other: Self) {
        for (name, values) in std::mem::take(&mut other.0) {
            self.0.entry(name).or_insert(values);
        }
    }
}

impl Drop for Params {
    fn drop(&mut self) {
        // Values are numbers and message text: wipe them.
        for values in self.0.values_mut() {
            for value in values.iter_mut() {
                zeroize::Zeroize::zeroize(value);
            }
        }
    }
}

/// Decodes standard or URL-safe base64, with or without padding.
pub(crate) fn base64_any(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let text = text.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// Deserializes an optional epoch time in seconds or milliseconds (number or string): values
/// below 10^11 are seconds (10^11 s is the year 5138; 10^11 ms is 1973).
pub(crate) fn epoch_auto<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<OffsetDateTime>, D::Error> {
    let Some(as_ms) = epoch_ms(d)? else {
        return Ok(None);
    };
    let ms = as_ms.unix_timestamp_nanos() / 1_000_000;
    if ms.abs() < 100_000_000_000 {
        Ok(i64::try_from(ms).ok().and_then(from_epoch_s))
    } else {
        Ok(Some(as_ms))
    }
}

/// One personal string or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(Pii<String>),
    Many(Vec<Pii<String>>),
}

/// Deserializes a field that is a string or a list of strings (numbers), wrapped.
pub(crate) fn pii_list<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<Pii<String>>, D::Error> {
    Ok(
        match Option::<OneOrMany>::deserialize(d).map_err(|_| {
            <D::Error as serde::de::Error>::custom("expected a string or a list of strings")
        })? {
            None => Vec::new(),
            Some(OneOrMany::One(one)) => vec![one],
            Some(OneOrMany::Many(many)) => many,
        },
    )
}

/// A JSON value read without failing on its type: the scalars we use, everything else consumed
/// and reported as [`Scalar::Other`]. For fields whose wrong type must be reported precisely
/// rather than fail the whole payload with one generic message. Text is wrapped as it is read.
pub(crate) enum Scalar {
    /// `null`.
    Null,
    /// A string.
    Text(Pii<String>),
    /// A non-negative integer that fits in a `u64`.
    Unsigned(u64),
    /// Anything else: a negative or fractional number, a boolean, a list, an object.
    Other,
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_none<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }

    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(Pii::new(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(Pii::new(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Unsigned(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(u64::try_from(v).map_or(Scalar::Other, Scalar::Unsigned))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Scalar, A::Error> {
        drain_seq(seq)?;
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Scalar, A::Error> {
        drain_map(map)?;
        Ok(Scalar::Other)
    }
}

/// Reads the rest of a list without keeping any of it.
pub(crate) fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Reads the rest of an object without keeping any of it.
pub(crate) fn drain_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
    Ok(())
}

/// The text of one utterance: trimmed, wrapped; `None` when nothing is left.
pub(crate) fn utterance_text(text: &str) -> Option<Pii<String>> {
    let text = text.trim();
    (!text.is_empty()).then(|| Pii::new(text.to_owned()))
}
