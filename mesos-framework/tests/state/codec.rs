//! Property tests of the record encoding: every record round-trips, and
//! damaged bytes (truncated, extended, any byte changed, random) are typed
//! errors, never data and never a panic.

use mesos_framework::state::codec::{
    decode_framework_id, decode_intent, decode_key, decode_task_state, encode_framework_id,
    encode_intent, encode_key, encode_task_state, HEADER_LEN, MAX_KEY_LEN,
};
use mesos_framework::state::{DecodeError, IntentPhase, LaunchIntent};
use mesos_proto::v1::{AgentId, FrameworkId, TaskId, TaskInfo, TaskStatus};
use proptest::prelude::*;

fn task_status() -> impl Strategy<Value = TaskStatus> {
    (
        "\\PC{1,40}",
        0i32..20,
        proptest::option::of("\\PC{0,60}"),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
        proptest::option::of("[a-z0-9-]{1,30}"),
        proptest::option::of(-1.0e12f64..1.0e12),
        proptest::option::of(0i32..40),
    )
        .prop_map(
            |(id, state, message, data, agent, timestamp, reason)| TaskStatus {
                task_id: TaskId { value: id },
                state,
                message,
                data: data.map(Into::into),
                agent_id: agent.map(|value| AgentId { value }),
                timestamp,
                reason,
                ..Default::default()
            },
        )
}

fn launch_intent() -> impl Strategy<Value = LaunchIntent> {
    (
        "\\PC{1,40}",
        "\\PC{0,40}",
        "[a-z0-9-]{1,30}",
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..300)),
        prop_oneof![
            Just(IntentPhase::Pending),
            Just(IntentPhase::Launched),
            Just(IntentPhase::Dropped)
        ],
    )
        .prop_map(|(id, name, agent, data, phase)| LaunchIntent {
            task: TaskInfo {
                name,
                task_id: TaskId { value: id },
                agent_id: AgentId { value: agent },
                data: data.map(Into::into),
                ..Default::default()
            },
            phase,
        })
}

/// Decodes bytes as one kind of record, keeping only the outcome.
type Decoder = fn(&[u8]) -> Result<(), DecodeError>;

/// Every encoded record of some kind, with a decoder that says whether
/// bytes decode.
fn any_record() -> impl Strategy<Value = (Vec<u8>, Decoder)> {
    prop_oneof![
        task_status().prop_map(|s| (
            encode_task_state(&s),
            (|b: &[u8]| decode_task_state(b).map(drop)) as Decoder
        )),
        launch_intent().prop_map(|i| (
            encode_intent(&i),
            (|b: &[u8]| decode_intent(b).map(drop)) as Decoder
        )),
        "\\PC{1,60}".prop_map(|value| (
            encode_framework_id(&FrameworkId { value }),
            (|b: &[u8]| decode_framework_id(b).map(drop)) as Decoder
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn records_round_trip(status in task_status(), intent in launch_intent(), id in "\\PC{0,60}") {
        prop_assert_eq!(decode_task_state(&encode_task_state(&status)).unwrap(), status);
        prop_assert_eq!(decode_intent(&encode_intent(&intent)).unwrap(), intent);
        let id = FrameworkId { value: id };
        prop_assert_eq!(decode_framework_id(&encode_framework_id(&id)).unwrap(), id);
    }

    #[test]
    fn truncated_or_extended_records_are_errors((record, decode) in any_record(), cut in any::<prop::sample::Index>(), extra in proptest::collection::vec(any::<u8>(), 1..16)) {
        prop_assert!(decode(&record).is_ok());
        let cut = cut.index(record.len());
        let err = decode(&record[..cut]).unwrap_err();
        let expected = matches!(err, DecodeError::Truncated { .. } | DecodeError::Length { .. });
        prop_assert!(expected, "{:?}", err);
        let mut longer = record.clone();
        longer.extend_from_slice(&extra);
        let err = decode(&longer).unwrap_err();
        prop_assert!(matches!(err, DecodeError::Length { .. }), "{:?}", err);
    }

    #[test]
    fn any_changed_byte_is_an_error((record, decode) in any_record(), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut damaged = record.clone();
        let at = at.index(damaged.len());
        damaged[at] ^= flip;
        prop_assert!(decode(&damaged).is_err(), "byte {} of {} changed and still decoded", at, record.len());
    }

    #[test]
    fn random_bytes_are_errors_not_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200), keep_magic in any::<bool>()) {
        let mut bytes = bytes;
        if keep_magic && bytes.len() >= HEADER_LEN {
            bytes[..5].copy_from_slice(b"MRSS\x01");
        }
        prop_assert!(decode_task_state(&bytes).is_err());
        prop_assert!(decode_intent(&bytes).is_err());
        prop_assert!(decode_framework_id(&bytes).is_err());
    }

    #[test]
    fn a_record_of_another_kind_is_refused(status in task_status()) {
        let err = decode_intent(&encode_task_state(&status)).unwrap_err();
        prop_assert!(matches!(err, DecodeError::WrongKind { .. }), "{:?}", err);
    }

    #[test]
    fn entry_names_are_safe_and_distinct(a in "\\PC{1,90}", b in "\\PC{1,90}") {
        if let (Ok(name_a), Ok(name_b)) = (encode_key(&a), encode_key(&b)) {
            prop_assert!(name_a.len() <= MAX_KEY_LEN);
            prop_assert!(!name_a.starts_with('.'));
            prop_assert!(name_a.bytes().all(|c| c.is_ascii_alphanumeric() || b"-_.%".contains(&c)), "{}", name_a);
            prop_assert_eq!(decode_key(&name_a), Some(a.clone()));
            prop_assert_eq!(name_a == name_b, a == b);
        }
    }
}
