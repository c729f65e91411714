//! The writing half of the JSON mapping: what the generated
//! `JsonMessage::write_json` impls call. Numbers and strings are formatted by
//! `serde_json`'s own formatter, so the text is the one `serde_json` would
//! write for the same values.

use std::collections::BTreeMap;

use base64::display::Base64Display;
use base64::prelude::BASE64_STANDARD;
use serde_json::ser::{CompactFormatter, Formatter};

// Writing to a `Vec<u8>` cannot fail: the `io::Result`s of the formatter are
// dropped on purpose throughout this module.

/// A JSON object being written: `{`, then `"key":value` pairs separated by
/// commas, then `}`.
pub(crate) struct Object<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Object<'a> {
    pub(crate) fn begin(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Object { out, first: true }
    }

    /// Writes `key` (the text `"name":`, already quoted) after a comma if
    /// needed; the value goes into the returned buffer.
    pub(crate) fn key(&mut self, key: &[u8]) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.out.extend_from_slice(key);
        self.out
    }

    /// Writes a whole `"name":value` pair given as text.
    pub(crate) fn raw(&mut self, pair: &[u8]) {
        self.key(pair);
    }

    pub(crate) fn end(self) {
        self.out.push(b'}');
    }
}

pub(crate) fn string(out: &mut Vec<u8>, value: &str) {
    let _ = serde::Serialize::serialize(value, &mut serde_json::Serializer::new(&mut *out));
}

/// An enum value's name (an identifier: nothing to escape).
pub(crate) fn name(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    out.extend_from_slice(value.as_bytes());
    out.push(b'"');
}

/// `bytes` as standard base64 with padding.
pub(crate) fn bytes(out: &mut Vec<u8>, value: &[u8]) {
    use std::io::Write as _;
    let _ = write!(out, "\"{}\"", Base64Display::new(value, &BASE64_STANDARD));
}

pub(crate) fn bool(out: &mut Vec<u8>, value: &bool) {
    let _ = CompactFormatter.write_bool(out, *value);
}

pub(crate) fn i32(out: &mut Vec<u8>, value: &i32) {
    let _ = CompactFormatter.write_i32(out, *value);
}

pub(crate) fn i64(out: &mut Vec<u8>, value: &i64) {
    let _ = CompactFormatter.write_i64(out, *value);
}

pub(crate) fn u32(out: &mut Vec<u8>, value: &u32) {
    let _ = CompactFormatter.write_u32(out, *value);
}

pub(crate) fn u64(out: &mut Vec<u8>, value: &u64) {
    let _ = CompactFormatter.write_u64(out, *value);
}

/// A finite double as a number; infinities and NaN as the strings
/// `"Infinity"`, `"-Infinity"` and `"NaN"`.
pub(crate) fn f64(out: &mut Vec<u8>, value: &f64) {
    if value.is_finite() {
        let _ = CompactFormatter.write_f64(out, *value);
    } else {
        let text: &[u8] = if value.is_nan() {
            b"\"NaN\""
        } else if value.is_sign_positive() {
            b"\"Infinity\""
        } else {
            b"\"-Infinity\""
        };
        out.extend_from_slice(text);
    }
}

/// `[item,item,...]`.
pub(crate) fn list<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// `{"key":value,...}`, in key order.
pub(crate) fn map<V>(
    out: &mut Vec<u8>,
    entries: &BTreeMap<String, V>,
    mut write: impl FnMut(&mut Vec<u8>, &V),
) {
    out.push(b'{');
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, key);
        out.push(b':');
        write(out, value);
    }
    out.push(b'}');
}

/// A repeated enum field: the values the schema names, as names; the field
/// is left out when none is named.
pub(crate) fn names(
    object: &mut Object<'_>,
    key: &[u8],
    values: &[i32],
    name_of: impl Fn(i32) -> Option<&'static str>,
) {
    let mut named = values.iter().filter_map(|v| name_of(*v)).peekable();
    if named.peek().is_none() {
        return;
    }
    let out = object.key(key);
    out.push(b'[');
    for (i, value) in named.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        name(out, value);
    }
    out.push(b']');
}
