//! Resource text parsing (`--resources` syntax and its JSON form) and
//! resource arithmetic.
//!
//! Input: text, split at the first `|` into two `--resources` strings A and
//! B. Each is parsed; parsed collections are displayed and their display is
//! parsed again. Separately the whole input is decoded as a protobuf
//! `Offer`, whose resource list (raw, unnormalised, as a master could send
//! it) is split in two halves. Each pair of collections then goes through
//! `+`, `-`, `contains`, `checked_sub`, `find`, the role queries and
//! `flatten`: nothing may panic, and a collection always contains itself
//! and what `find` returns from it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use mesos_proto::resources::Resources;
use mesos_proto::v1::{Offer, Resource};
use prost::Message;

fn exercise(a: &Resources, b: &Resources) {
    assert!(a.contains(a), "{a:?} does not contain itself");
    let sum = a.clone() + b;
    let _ = sum.contains(a);
    let _ = sum.contains(b);
    let _ = a.clone() - b;
    let _ = a.contains(b);
    if let Some(left) = a.checked_sub(b) {
        let _ = left + b;
    }
    for resource in b {
        let _ = a.contains_resource(resource);
        let mut c = a.clone();
        c.subtract_resource(resource);
        c.add_resource_ref(resource);
        c.add_resource(resource.clone());
    }
    if let Some(found) = a.find(b) {
        assert!(
            a.contains(&found),
            "find returned what {a:?} lacks: {found:?}"
        );
    }
    for role in ["*", "web", "a/b"] {
        let _ = a.find_for_role(role, b);
        let _ = a.reserved(role);
        let _ = a.allocatable_to(role);
        let _ = a.flatten_to(role);
    }
    let _ = a.unreserved();
    let _ = a.all_reserved();
    let _ = a.flatten().contains(&b.flatten());
    let _ = (a.cpus(), a.mem(), a.disk(), a.gpus(), a.ports(), a.names());
    let _ = a == b;
    let _ = a.to_string();
}

fn parse(text: &str) -> Option<Resources> {
    let parsed = Resources::parse(text).ok()?;
    let shown = parsed.to_string();
    let _ = Resources::parse(&shown);
    Some(parsed)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (left, right) = text.split_once('|').unwrap_or((&text, ""));
    let a = parse(left);
    let b = parse(right);
    if let (Some(a), Some(b)) = (&a, &b) {
        exercise(a, b);
        exercise(b, a);
    }

    if let Ok(offer) = Offer::decode(data) {
        let raw: Vec<Resource> = offer.resources;
        let _ = Resources::validated(raw.clone());
        let (first, second) = raw.split_at(raw.len() / 2);
        let a = Resources::from(first.to_vec());
        let b: Resources = second.iter().cloned().collect();
        exercise(&a, &b);
        exercise(&b, &a);
        let _ = a.to_string();
    }
});
