//! What a scheduler's event queue holds: an event, or an UPDATE that
//! shares its status with the master's task record. Most events a busy
//! framework gets are UPDATEs; encoding one from the shared status spares a
//! copy of the status per update (and the queue holds a pointer, not a
//! whole `Event`). Either encodes to exactly the bytes of the equivalent
//! `Event`.

use std::sync::Arc;

use bytes::{Buf, BufMut};
use mesos_proto::codec::JsonMessage;
use mesos_proto::v1::scheduler::{event, Event};
use mesos_proto::v1::TaskStatus;
use prost::encoding::{self, DecodeContext, WireType};

/// The field numbers of `mesos.v1.scheduler.Event` an UPDATE uses.
const TYPE_FIELD: u32 = 1;
const UPDATE_FIELD: u32 = 5;
/// `Event.Update.status`.
const STATUS_FIELD: u32 = 1;

/// One event for a scheduler.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SchedulerEvent {
    /// Any event.
    Event(Box<Event>),
    /// `Event { type: UPDATE, update: { status } }`.
    Update(Arc<TaskStatus>),
}

impl Default for SchedulerEvent {
    fn default() -> Self {
        SchedulerEvent::Event(Box::default())
    }
}

impl From<Event> for SchedulerEvent {
    fn from(event: Event) -> Self {
        SchedulerEvent::Event(Box::new(event))
    }
}

impl SchedulerEvent {
    /// The event as a whole `Event` (copying an UPDATE's status).
    pub(crate) fn to_event(&self) -> Event {
        match self {
            SchedulerEvent::Event(event) => Event::clone(event),
            SchedulerEvent::Update(status) => Event {
                r#type: Some(event::Type::Update as i32),
                update: Some(event::Update {
                    status: TaskStatus::clone(status),
                }),
                ..Event::default()
            },
        }
    }

    /// Runs `f` on `self` as a whole `Event` (which it stays).
    fn with_event<R>(&mut self, f: impl FnOnce(&mut Event) -> R) -> R {
        let mut event = match std::mem::take(self) {
            SchedulerEvent::Event(event) => event,
            update @ SchedulerEvent::Update(_) => Box::new(update.to_event()),
        };
        let result = f(&mut event);
        *self = SchedulerEvent::Event(event);
        result
    }
}

/// The length of an UPDATE's `update` field's value, given its status's.
fn update_len(status_len: usize) -> usize {
    encoding::key_len(STATUS_FIELD) + encoding::encoded_len_varint(status_len as u64) + status_len
}

const UPDATE_TYPE: i32 = event::Type::Update as i32;

impl prost::Message for SchedulerEvent {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        match self {
            SchedulerEvent::Event(event) => event.encode_raw(buf),
            SchedulerEvent::Update(status) => {
                // As `Event::encode_raw` writes it: `type`, then `update`
                // holding `status` (whose length is computed once here).
                let status_len = status.encoded_len();
                encoding::int32::encode(TYPE_FIELD, &UPDATE_TYPE, buf);
                encoding::encode_key(UPDATE_FIELD, WireType::LengthDelimited, buf);
                encoding::encode_varint(update_len(status_len) as u64, buf);
                encoding::encode_key(STATUS_FIELD, WireType::LengthDelimited, buf);
                encoding::encode_varint(status_len as u64, buf);
                status.encode_raw(buf);
            }
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        self.with_event(|event| event.merge_field(tag, wire_type, buf, ctx))
    }

    fn encoded_len(&self) -> usize {
        match self {
            SchedulerEvent::Event(event) => event.encoded_len(),
            SchedulerEvent::Update(status) => {
                let update = update_len(status.encoded_len());
                encoding::int32::encoded_len(TYPE_FIELD, &UPDATE_TYPE)
                    + encoding::key_len(UPDATE_FIELD)
                    + encoding::encoded_len_varint(update as u64)
                    + update
            }
        }
    }

    fn clear(&mut self) {
        *self = SchedulerEvent::default();
    }
}

impl prost::Name for SchedulerEvent {
    const NAME: &'static str = <Event as prost::Name>::NAME;
    const PACKAGE: &'static str = <Event as prost::Name>::PACKAGE;

    fn full_name() -> String {
        <Event as prost::Name>::full_name()
    }

    fn type_url() -> String {
        <Event as prost::Name>::type_url()
    }
}

impl JsonMessage for SchedulerEvent {
    fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            SchedulerEvent::Event(event) => event.write_json(out),
            // JSON streams are the slow path already: no writer of its own.
            SchedulerEvent::Update(_) => self.to_event().write_json(out),
        }
    }

    fn read_json<'de, A: serde::de::MapAccess<'de>>(&mut self, map: A) -> Result<(), A::Error> {
        self.with_event(|event| event.read_json(map))
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use mesos_proto::v1::{
        network_info, task_status, AgentId, ContainerId, ContainerStatus, ExecutorId, Labels,
        NetworkInfo, TaskId, TaskState,
    };
    use mesos_proto::MediaType;
    use prost::Message as _;

    use super::*;

    fn status(data: usize) -> TaskStatus {
        TaskStatus {
            task_id: TaskId {
                value: "task-1".into(),
            },
            state: TaskState::TaskRunning as i32,
            message: Some("Command started (pid 42)".into()),
            source: Some(task_status::Source::Executor as i32),
            reason: Some(task_status::Reason::CommandExecutorFailed as i32),
            data: Some(Bytes::from(vec![7u8; data])),
            agent_id: Some(AgentId {
                value: "a-S0".into(),
            }),
            executor_id: Some(ExecutorId {
                value: "task-1".into(),
            }),
            timestamp: Some(1_700_000_000.25),
            uuid: Some(Bytes::from(vec![9u8; 16])),
            healthy: Some(true),
            labels: Some(Labels::default()),
            container_status: Some(ContainerStatus {
                container_id: Some(ContainerId {
                    value: "c".into(),
                    parent: None,
                }),
                network_infos: vec![NetworkInfo {
                    ip_addresses: vec![network_info::IpAddress {
                        protocol: Some(network_info::Protocol::IPv4 as i32),
                        ip_address: Some("127.0.0.1".into()),
                    }],
                    ..Default::default()
                }],
                executor_pid: Some(42),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn a_shared_update_is_encoded_as_the_whole_event() {
        // Small and large statuses (the lengths' varints take 1, 2 and 3 bytes).
        for data in [0, 100, 300, 20_000] {
            let status = Arc::new(status(data));
            let shared = SchedulerEvent::Update(Arc::clone(&status));
            let whole = shared.to_event();
            assert_eq!(whole.update.as_ref().map(|u| &u.status), Some(&*status));
            assert_eq!(shared.encoded_len(), whole.encoded_len(), "data {data}");
            assert_eq!(shared.encode_to_vec(), whole.encode_to_vec(), "data {data}");
            for media in [MediaType::Protobuf, MediaType::Json] {
                let (shared, whole) = (media.encode(&shared), media.encode(&whole));
                assert_eq!(shared.ok(), whole.ok(), "{media:?}, data {data}");
            }
        }
    }

    #[test]
    fn other_events_and_decoding_are_the_events() {
        let heartbeat = Event {
            r#type: Some(event::Type::Heartbeat as i32),
            ..Event::default()
        };
        let wrapped = SchedulerEvent::from(heartbeat.clone());
        assert_eq!(wrapped.encode_to_vec(), heartbeat.encode_to_vec());
        let bytes = SchedulerEvent::Update(Arc::new(status(3))).encode_to_vec();
        let decoded = SchedulerEvent::decode(bytes.as_slice()).map(|e| e.to_event());
        assert_eq!(
            decoded.ok(),
            Some(SchedulerEvent::Update(Arc::new(status(3))).to_event())
        );
        let json = MediaType::Json
            .encode(&SchedulerEvent::Update(Arc::new(status(0))))
            .unwrap_or_default();
        let decoded: Option<SchedulerEvent> = MediaType::Json.decode(&json).ok();
        assert_eq!(
            decoded.map(|e| e.to_event()),
            Some(SchedulerEvent::Update(Arc::new(status(0))).to_event())
        );
    }
}
