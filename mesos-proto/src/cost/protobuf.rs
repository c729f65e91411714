//! The protobuf wire format walked tag by tag against the descriptors.

use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};

use super::{Counter, Over, Stop};

/// Heap bytes of one element of a repeated scalar field.
pub(super) const SCALAR_ELEMENT: usize = 8;

pub(crate) fn varint(buf: &[u8], pos: &mut usize) -> Result<u64, Stop> {
    let mut value = 0u64;
    for shift in (0..70).step_by(7) {
        let Some(&byte) = buf.get(*pos) else {
            return Err("truncated varint".into());
        };
        *pos += 1;
        if shift == 63 && byte > 1 {
            return Err("varint overflow".into());
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err("varint too long".into())
}

pub(crate) fn skip(buf: &[u8], pos: &mut usize, n: u64) -> Result<usize, Stop> {
    let n = usize::try_from(n).map_err(|_| Stop::from("length overflow"))?;
    let end = pos
        .checked_add(n)
        .filter(|end| *end <= buf.len())
        .ok_or_else(|| Stop::from("truncated field"))?;
    let start = *pos;
    *pos = end;
    Ok(start)
}

/// Elements a packed field of `len` bytes may hold, and what they take.
fn packed_bytes(kind: &Kind, len: usize) -> usize {
    match kind {
        Kind::Fixed32 | Kind::Sfixed32 | Kind::Float => len / 4 * SCALAR_ELEMENT,
        Kind::Fixed64 | Kind::Sfixed64 | Kind::Double => len / 8 * SCALAR_ELEMENT,
        // Varints: at least one byte each.
        _ => len.saturating_mul(SCALAR_ELEMENT),
    }
}

pub(super) fn walk_protobuf(
    buf: &[u8],
    desc: &MessageDescriptor,
    depth: u32,
    counter: &Counter,
) -> Result<(), Stop> {
    counter.message(desc, depth)?;
    let mut pos = 0;
    while pos < buf.len() {
        let key = varint(buf, &mut pos)?;
        let number = u32::try_from(key >> 3)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| Stop::from("invalid field number"))?;
        let field = desc.get_field(number);
        let list = field.as_ref().is_some_and(FieldDescriptor::is_list);
        match key & 7 {
            0 => {
                varint(buf, &mut pos)?;
            }
            1 => {
                skip(buf, &mut pos, 8)?;
            }
            5 => {
                skip(buf, &mut pos, 4)?;
            }
            2 => {
                let len = varint(buf, &mut pos)?;
                let start = skip(buf, &mut pos, len)?;
                let value = &buf[start..pos];
                match field.as_ref().map(FieldDescriptor::kind) {
                    Some(Kind::Message(nested)) => {
                        walk_protobuf(value, &nested, depth + 1, counter)?;
                    }
                    Some(Kind::String | Kind::Bytes) => counter.bytes(value.len())?,
                    Some(kind) if list => counter.bytes(packed_bytes(&kind, value.len()))?,
                    _ => {}
                }
                continue;
            }
            3 => {
                skip_group(buf, &mut pos, number, depth + 1, counter)?;
                continue;
            }
            _ => return Err("invalid wire type".into()),
        }
        if list {
            counter.bytes(SCALAR_ELEMENT)?;
        }
    }
    Ok(())
}

/// Skips an (unknown) group up to its end tag, as prost does.
fn skip_group(
    buf: &[u8],
    pos: &mut usize,
    number: u32,
    depth: u32,
    counter: &Counter,
) -> Result<(), Stop> {
    if depth > counter.limits.max_depth {
        return Err(counter.stop(Over::Depth));
    }
    loop {
        let key = varint(buf, pos)?;
        let inner = u32::try_from(key >> 3).map_err(|_| Stop::from("invalid field number"))?;
        match key & 7 {
            0 => {
                varint(buf, pos)?;
            }
            1 => {
                skip(buf, pos, 8)?;
            }
            5 => {
                skip(buf, pos, 4)?;
            }
            2 => {
                let len = varint(buf, pos)?;
                skip(buf, pos, len)?;
            }
            3 => skip_group(buf, pos, inner, depth + 1, counter)?,
            4 if inner == number => return Ok(()),
            _ => return Err("invalid group".into()),
        }
    }
}
