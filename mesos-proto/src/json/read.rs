//! The reading half of the JSON mapping: the `serde` seeds the generated
//! `JsonMessage::read_json` impls use, one per kind of value. Each reads
//! `null` as "not given" (`None`), as the proto JSON mapping does for a
//! field; inside a list or a map a `null` is an error.
//!
//! What each accepts is what the proto JSON mapping accepts: integers also as
//! decimal strings or integral floats, floats also as strings (`"NaN"`,
//! `"Infinity"`), bytes as standard or URL-safe base64 with or without
//! padding. Enums are the exception: Mesos's reader takes only names, and so
//! does [`Enum`].

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Unexpected, Visitor};

use super::JsonMessage;

/// The start of the error Mesos gives for an enum that is not a name.
pub(crate) const NOT_A_NAME: &str = "Not expecting a JSON ";

/// A key of a JSON object, borrowed from the input when it has no escapes.
pub(crate) enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(key) => key,
            Key::Owned(key) => key,
        }
    }
}

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A seed that reads one value of a field: `None` for `null`.
pub(crate) trait Nullable<'de>:
    DeserializeSeed<'de, Value = Option<Self::Out>> + Copy
{
    /// What a non-null value reads as.
    type Out;
}

/// Implements a scalar seed: a unit struct whose visitor reads `null` as
/// `None` and each listed `visit_*` with the given body.
macro_rules! scalar_seed {
    ($(#[$doc:meta])* $seed:ident -> $out:ty, $expecting:literal, { $($visit:tt)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub(crate) struct $seed;

        impl<'de> DeserializeSeed<'de> for $seed {
            type Value = Option<$out>;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
        }

        impl Nullable<'_> for $seed {
            type Out = $out;
        }

        impl<'de> Visitor<'de> for $seed {
            type Value = Option<$out>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($expecting)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            $($visit)*
        }
    };
}

/// Implements a signed or unsigned integer seed.
macro_rules! integer_seed {
    ($(#[$doc:meta])* $seed:ident -> $out:ty, $expecting:literal) => {
        scalar_seed!($(#[$doc])* $seed -> $out, $expecting, {
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                <$out>::try_from(v).map(Some).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                <$out>::try_from(v).map(Some).map_err(E::custom)
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if v.fract() != 0.0 {
                    return Err(E::custom("expected integer value"));
                }
                if v < (<$out>::MIN as f64) || v > (<$out>::MAX as f64) {
                    return Err(E::custom("float value out of range"));
                }
                Ok(Some(v as $out))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                v.parse().map(Some).map_err(E::custom)
            }
        });
    };
}

integer_seed!(
    /// An `int32` (`sint32`, `sfixed32`).
    I32 -> i32, "a 32-bit signed integer"
);
integer_seed!(
    /// An `int64` (`sint64`, `sfixed64`).
    I64 -> i64, "a 64-bit signed integer or decimal string"
);
integer_seed!(
    /// A `uint32` (`fixed32`).
    U32 -> u32, "a 32-bit unsigned integer or decimal string"
);
integer_seed!(
    /// A `uint64` (`fixed64`).
    U64 -> u64, "a 64-bit unsigned integer or decimal string"
);

scalar_seed!(
    /// A `double`.
    F64 -> f64, "a 64-bit floating point value", {
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    #[allow(clippy::cast_precision_loss)]
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    #[allow(clippy::cast_precision_loss)]
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v as f64))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        match v {
            "Infinity" => Ok(Some(f64::INFINITY)),
            "-Infinity" => Ok(Some(f64::NEG_INFINITY)),
            "NaN" => Ok(Some(f64::NAN)),
            _ => v.parse().map(Some).map_err(E::custom),
        }
    }
});

scalar_seed!(
    /// A `bool`: `true` or `false` only.
    Bool -> bool, "a boolean", {
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
});

scalar_seed!(
    /// A `string`.
    Str -> String, "a string", {
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
});

scalar_seed!(
    /// A `bytes` field: base64, standard or URL-safe, padded or not.
    Base64 -> bytes::Bytes, "a base64-encoded string", {
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        decode_base64(v).map(|b| Some(b.into())).map_err(E::custom)
    }
});

fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    use base64::{alphabet, DecodeError, Engine as _};

    const CONFIG: GeneralPurposeConfig = GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent);
    const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, CONFIG);
    const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, CONFIG);

    match STANDARD.decode(text) {
        Ok(bytes) => Ok(bytes),
        Err(DecodeError::InvalidByte(_, b'-' | b'_')) => URL_SAFE
            .decode(text)
            .map_err(|e| format!("invalid base64: {e}")),
        Err(e) => Err(format!("invalid base64: {e}")),
    }
}

/// A message of type `T`.
pub(crate) struct Msg<T>(PhantomData<fn() -> T>);

impl<T> Msg<T> {
    pub(crate) const NEW: Self = Msg(PhantomData);
}

impl<T> Clone for Msg<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Msg<T> {}

impl<'de, T: JsonMessage> DeserializeSeed<'de> for Msg<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<T: JsonMessage> Nullable<'_> for Msg<T> {
    type Out = T;
}

impl<'de, T: JsonMessage> Visitor<'de> for Msg<T> {
    type Value = Option<T>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut message = T::default();
        message.read_json(map)?;
        Ok(Some(message))
    }
}

/// An enum field named `field`: a name the schema knows reads as
/// `Some(number)`, one it does not as `None` (ignored, as Mesos ignores it);
/// anything but a string is refused with Mesos's words ("Not expecting a
/// JSON number for field 'type'").
#[derive(Clone, Copy)]
pub(crate) struct Enum {
    pub(crate) field: &'static str,
    pub(crate) from_name: fn(&str) -> Option<i32>,
}

impl Enum {
    fn refuse<E: de::Error>(self, kind: &str) -> E {
        E::custom(format_args!(
            "{NOT_A_NAME}{kind} for field '{}'",
            self.field
        ))
    }
}

impl<'de> DeserializeSeed<'de> for Enum {
    type Value = Option<Option<i32>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl Nullable<'_> for Enum {
    type Out = Option<i32>;
}

impl<'de> Visitor<'de> for Enum {
    type Value = Option<Option<i32>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an enum value name")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some((self.from_name)(v)))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Err(self.refuse("boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Err(self.refuse("number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Err(self.refuse("number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(self.refuse("number"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.refuse("object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.refuse("array"))
    }
}

/// One element of a list or value of a map: `null` is an error there.
#[derive(Clone, Copy)]
struct Element<S>(S);

impl<'de, S: Nullable<'de>> DeserializeSeed<'de> for Element<S> {
    type Value = S::Out;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        self.0
            .deserialize(d)?
            .ok_or_else(|| de::Error::invalid_type(Unexpected::Unit, &"a value"))
    }
}

/// A repeated field: a JSON array of what `S` reads.
#[derive(Clone, Copy)]
pub(crate) struct List<S>(pub(crate) S);

impl<'de, S: Nullable<'de>> DeserializeSeed<'de> for List<S> {
    type Value = Option<Vec<S::Out>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: Nullable<'de>> Visitor<'de> for List<S> {
    type Value = Option<Vec<S::Out>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // The hint is the number of elements already parsed, not a claim of
        // the input: bounded by the input's size.
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(Element(self.0))? {
            items.push(item);
        }
        Ok(Some(items))
    }
}

/// A map field (string keys): a JSON object of what `S` reads.
#[derive(Clone, Copy)]
pub(crate) struct Map<S>(pub(crate) S);

impl<'de, S: Nullable<'de>> DeserializeSeed<'de> for Map<S> {
    type Value = Option<BTreeMap<String, S::Out>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S: Nullable<'de>> Visitor<'de> for Map<S> {
    type Value = Option<BTreeMap<String, S::Out>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Element(self.0))?;
            entries.insert(key, value);
        }
        Ok(Some(entries))
    }
}

/// A second member of a oneof.
pub(crate) fn oneof_conflict<E: de::Error>(oneof: &str) -> E {
    E::custom(format_args!("multiple fields provided for oneof '{oneof}'"))
}
