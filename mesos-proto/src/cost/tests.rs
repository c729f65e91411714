//! Decode cost: counted before decoding, near the real size, bounded.

use super::*;
use crate::v1::offer::Operation;
use crate::v1::scheduler::{call, Call};
use crate::v1::{FrameworkId, OfferId};
use prost::Message as _;

fn accept_with_empty_operations(n: usize) -> Call {
    Call {
        framework_id: Some(FrameworkId { value: "f".into() }),
        r#type: Some(call::Type::Accept as i32),
        accept: Some(call::Accept {
            offer_ids: vec![OfferId { value: "o".into() }],
            operations: vec![Operation::default(); n],
            filters: None,
        }),
        ..Call::default()
    }
}

#[test]
fn small_calls_pass_with_their_cost() {
    let call = accept_with_empty_operations(3);
    let limits = DecodeLimits::default();
    let pb = MediaType::Protobuf
        .decode_cost::<Call>(&call.encode_to_vec(), &limits)
        .expect("within limits");
    // Call, FrameworkID, Accept, OfferID, 3 operations.
    assert_eq!(pb.messages, 7);
    let json = MediaType::Json.encode(&call).expect("encodes");
    let js = MediaType::Json
        .decode_cost::<Call>(&json, &limits)
        .expect("within limits");
    assert_eq!(js.messages, pb.messages);
    let back: Call = MediaType::Json
        .decode_bounded(&json, &limits)
        .expect("decodes");
    assert_eq!(back, call);
}

#[test]
fn empty_repeated_messages_are_counted_before_decoding() {
    let call = accept_with_empty_operations(200_000);
    let limits = DecodeLimits::default()
        .max_messages(100_000)
        .max_bytes(usize::MAX);
    let pb = call.encode_to_vec();
    assert!(matches!(
        MediaType::Protobuf.decode_cost::<Call>(&pb, &limits),
        Err(CostError::TooManyMessages { limit: 100_000, .. })
    ));
    let json = MediaType::Json.encode(&call).expect("encodes");
    assert!(matches!(
        MediaType::Json.decode_cost::<Call>(&json, &limits),
        Err(CostError::TooManyMessages { .. })
    ));
    let by_size = DecodeLimits::default().max_bytes(16 << 20);
    assert!(matches!(
        MediaType::Protobuf.decode_bounded::<Call>(&pb, &by_size),
        Err(BoundedDecodeError::Cost(CostError::TooLarge { .. }))
    ));
}

#[test]
fn the_estimate_is_near_the_real_size() {
    let n = 10_000;
    let pb = accept_with_empty_operations(n).encode_to_vec();
    let cost = MediaType::Protobuf
        .decode_cost::<Call>(&pb, &DecodeLimits::default())
        .expect("within limits");
    let real = n * std::mem::size_of::<Operation>();
    assert!(
        cost.bytes > real / 2 && cost.bytes < real * 2,
        "estimate {} vs {real}",
        cost.bytes
    );
}

#[test]
fn nesting_is_bounded() {
    // ContainerId.parent nests a ContainerId: 100 deep.
    let mut id = crate::v1::ContainerId {
        value: "c".into(),
        parent: None,
    };
    for _ in 0..99 {
        id = crate::v1::ContainerId {
            value: "c".into(),
            parent: Some(Box::new(id)),
        };
    }
    let bytes = id.encode_to_vec();
    let limits = DecodeLimits::default().max_depth(50);
    assert!(matches!(
        MediaType::Protobuf.decode_cost::<crate::v1::ContainerId>(&bytes, &limits),
        Err(CostError::TooDeep { limit: 50, .. })
    ));
}

#[test]
fn malformed_input_is_left_to_the_decoder() {
    let limits = DecodeLimits::default();
    let truncated = [0x42, 0x10, 0x12];
    assert!(matches!(
        MediaType::Protobuf.decode_cost::<Call>(&truncated, &limits),
        Err(CostError::Malformed { .. })
    ));
    assert!(matches!(
        MediaType::Protobuf.decode_bounded::<Call>(&truncated, &limits),
        Err(BoundedDecodeError::Decode(_))
    ));
    assert!(matches!(
        MediaType::Json.decode_bounded::<Call>(b"{\"type\":", &limits),
        Err(BoundedDecodeError::Decode(_))
    ));
}

#[test]
fn unknown_fields_and_groups_are_skipped() {
    // field 1000 varint, field 1001 group containing a string, then type.
    let mut bytes = vec![0xc0, 0x3e, 0x01];
    bytes.extend_from_slice(&[0xcb, 0x3e, 0x0a, 0x01, b'x', 0xcc, 0x3e]);
    bytes.extend_from_slice(&[0x10, 0x01]);
    let cost = MediaType::Protobuf
        .decode_cost::<Call>(&bytes, &DecodeLimits::default())
        .expect("valid");
    assert_eq!(cost.messages, 1);
}
