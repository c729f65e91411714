//! Mesos duration strings: `parse_duration` on arbitrary text, and where it
//! succeeds, `format_duration` must give text that parses back to (nearly)
//! the same duration.

#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use mesos_proto::duration::{format_duration, parse_duration};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(duration) = parse_duration(text) else {
        return;
    };
    let formatted = format_duration(duration);
    let back = parse_duration(&formatted)
        .unwrap_or_else(|e| panic!("{text:?} -> {duration:?} -> {formatted:?}: {e}"));
    // format_duration keeps six decimals of the largest unit that is at
    // least 1, so the round trip may lose up to half a millionth of a unit
    // (plus float rounding): allow one part in 10^6 of the value, or 1ns.
    let tolerance = (duration / 1_000_000).max(Duration::from_nanos(1));
    assert!(
        back.abs_diff(duration) <= tolerance,
        "{text:?} -> {duration:?} -> {formatted:?} -> {back:?}"
    );
});
