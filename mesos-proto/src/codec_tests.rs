//! Unit tests of the codecs: descriptors, media types, Mesos's JSON
//! conventions (field names, defaults, durations, enums).

use super::*;
use crate::v1;

#[test]
fn descriptor_set_loads_and_has_every_api_message() {
    let pool = DescriptorPool::decode(crate::FILE_DESCRIPTOR_SET).expect("valid descriptors");
    for name in [
        "mesos.v1.TaskInfo",
        "mesos.v1.scheduler.Call",
        "mesos.v1.scheduler.Event",
        "mesos.v1.executor.Call",
        "mesos.v1.executor.Event",
        "mesos.v1.master.Call",
        "mesos.v1.master.Response",
        "mesos.v1.master.Event",
        "mesos.v1.agent.Call",
        "mesos.v1.agent.Response",
        "mesos.v1.agent.ProcessIO",
        "mesos.v1.quota.QuotaConfig",
    ] {
        assert!(pool.get_message_by_name(name).is_some(), "{name} missing");
    }
}

#[test]
fn an_enum_given_as_a_number_is_refused_as_mesos_refuses_it() {
    // 7 is LIST_FILES: the proto3 mapping would take it; Mesos does not.
    let err = MediaType::Json
        .decode::<v1::master::Call>(br#"{"type": 7}"#)
        .expect_err("refused");
    assert!(
        err.to_string().contains("master.Call")
            && std::error::Error::source(&err).is_some_and(|s| s
                .to_string()
                .contains("Not expecting a JSON number for field 'type'")),
        "{err:?}"
    );
    // At depth, in a list, and as a boolean.
    let nested = br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n","capabilities":[{"type":3}]}}}"#;
    let err = MediaType::Json
        .decode::<v1::scheduler::Call>(nested)
        .expect_err("refused");
    assert!(
        format!("{err:?}").contains("JSON number for field 'type'"),
        "{err:?}"
    );
    let err = MediaType::Json
        .decode::<v1::master::Call>(br#"{"type": true}"#)
        .expect_err("refused");
    assert!(
        format!("{err:?}").contains("JSON boolean for field 'type'"),
        "{err:?}"
    );
    // Names still decode; unknown names are still ignored.
    let call = MediaType::Json
        .decode::<v1::master::Call>(br#"{"type": "GET_HEALTH"}"#)
        .expect("a name");
    assert_eq!(call.r#type(), v1::master::call::Type::GetHealth);
    let call = MediaType::Json
        .decode::<v1::master::Call>(br#"{"type": "NOT_A_CALL"}"#)
        .expect("an unknown name is ignored");
    assert_eq!(call.r#type, None);
}

#[test]
fn enum_values_the_schema_does_not_name_are_left_out_as_mesos_writes_them() {
    let info = v1::MasterInfo {
        capabilities: vec![
            v1::master_info::Capability { r#type: Some(1) },
            v1::master_info::Capability { r#type: Some(99) },
        ],
        ..Default::default()
    };
    let json = MediaType::Json.encode(&info).expect("encodes");
    let text = std::str::from_utf8(&json).expect("utf-8");
    assert!(
        text.contains(r#""capabilities":[{"type":"AGENT_UPDATE"},{}]"#),
        "{text}"
    );
    let back: v1::MasterInfo = MediaType::Json.decode(&json).expect("our JSON decodes");
    assert_eq!(back.capabilities[1].r#type, None);
}

#[test]
fn mime_types_round_trip() {
    for media in [MediaType::Protobuf, MediaType::Json] {
        assert_eq!(MediaType::from_mime(media.mime()), Some(media));
    }
    assert_eq!(
        MediaType::from_mime("Application/X-Protobuf"),
        Some(MediaType::Protobuf)
    );
    assert_eq!(MediaType::from_mime(""), None);
}

#[test]
fn json_uses_mesos_conventions() {
    let status = v1::TaskStatus {
        task_id: v1::TaskId { value: "t1".into() },
        state: v1::TaskState::TaskRunning as i32,
        uuid: Some(Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef])),
        timestamp: Some(1.5),
        ..Default::default()
    };
    let json = MediaType::Json.encode(&status).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "task_id": {"value": "t1"},
            "state": "TASK_RUNNING",
            "uuid": "3q2+7w==",
            "timestamp": 1.5
        })
    );
    let offer_id = v1::scheduler::Call {
        framework_id: Some(v1::FrameworkId { value: "f".into() }),
        r#type: Some(v1::scheduler::call::Type::Revive as i32),
        ..Default::default()
    };
    let back: v1::scheduler::Call = MediaType::Json
        .decode(&MediaType::Json.encode(&offer_id).unwrap())
        .unwrap();
    assert_eq!(back, offer_id);
}

#[test]
fn json_duration_is_a_plain_message_as_in_mesos() {
    let call = v1::master::Call {
        r#type: Some(v1::master::call::Type::DrainAgent as i32),
        drain_agent: Some(v1::master::call::DrainAgent {
            agent_id: v1::AgentId { value: "a1".into() },
            max_grace_period: Some(prost_types::Duration {
                seconds: 10,
                nanos: 5,
            }),
            mark_gone: Some(false),
        }),
        ..Default::default()
    };
    let json = MediaType::Json.encode(&call).unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        value["drain_agent"]["max_grace_period"],
        serde_json::json!({"seconds": 10, "nanos": 5})
    );
    let back: v1::master::Call = MediaType::Json.decode(&json).unwrap();
    assert_eq!(back, call);
}

#[test]
fn json_64_bit_integers_are_numbers() {
    let range = v1::value::Range {
        begin: 31000,
        end: 1 << 40,
    };
    let json = MediaType::Json.encode(&range).unwrap();
    assert_eq!(&json[..], br#"{"begin":31000,"end":1099511627776}"#);
    // Strings are accepted too, as the proto JSON mapping allows.
    let parsed: v1::value::Range = MediaType::Json
        .decode(br#"{"begin":"31000","end":31005}"#)
        .unwrap();
    assert_eq!(
        parsed,
        v1::value::Range {
            begin: 31000,
            end: 31005
        }
    );
}

#[test]
fn json_ignores_unknown_fields_and_enum_values() {
    let event: v1::scheduler::Event = MediaType::Json
        .decode(br#"{"type":"HEARTBEAT","from_the_future":{"x":1}}"#)
        .unwrap();
    assert_eq!(
        event.r#type,
        Some(v1::scheduler::event::Type::Heartbeat as i32)
    );
    let info: v1::MasterInfo = MediaType::Json
        .decode(
            br#"{"id":"m","ip":16777343,"port":5050,
                 "capabilities":[{"type":"AGENT_UPDATE"},{},{"type":"NOT_YET_INVENTED"}]}"#,
        )
        .unwrap();
    assert_eq!(info.capabilities.len(), 3);
    assert_eq!(info.capabilities[1].r#type, None);
}

#[test]
fn bad_input_is_a_typed_error() {
    let err = MediaType::Json
        .decode::<v1::scheduler::Event>(b"{\"type\":")
        .unwrap_err();
    assert!(
        matches!(err, DecodeError::Json { ref message_type, .. } if message_type == "mesos.v1.scheduler.Event")
    );
    let err = MediaType::Json
        .decode::<v1::scheduler::Event>(b"{} trailing")
        .unwrap_err();
    assert!(matches!(err, DecodeError::Json { .. }));
    let err = MediaType::Protobuf
        .decode::<v1::scheduler::Event>(&[0x0a, 0xff])
        .unwrap_err();
    assert!(matches!(err, DecodeError::Protobuf { .. }));
}
