//! The stored format of one entry, and the names entries are stored under.
//!
//! Every entry (a file of a [`FileStateStore`](super::FileStateStore), a
//! znode of a `ZooKeeperStateStore`) holds one record:
//!
//! | bytes | what |
//! | --- | --- |
//! | 0..4 | magic `MRSS` |
//! | 4 | format version ([`FORMAT_VERSION`]) |
//! | 5 | kind ([`RecordKind`]) |
//! | 6..10 | payload length, big-endian `u32` |
//! | 10..14 | CRC-32 (IEEE) of bytes 4..10 and the payload, big-endian |
//! | 14.. | payload: a protobuf message |
//!
//! The payloads are Mesos's own protobuf messages (`FrameworkID`,
//! `TaskStatus`) or, for an intent, a small message wrapping the
//! `TaskInfo`: binary protobuf is compact (a ZooKeeper znode holds at most
//! 1 MB), round-trips every field exactly, and new optional fields can be
//! added without a new format version. A change that old readers cannot
//! read bumps [`FORMAT_VERSION`]; a reader refuses a newer version with
//! [`DecodeError::UnsupportedVersion`] instead of misreading it, and a
//! future reader migrates older versions when it decodes them.
//!
//! The checksum makes a damaged entry an error rather than data: a random
//! byte string may well parse as protobuf, but not with a matching CRC.

use mesos_proto::v1::{FrameworkId, TaskInfo, TaskStatus};
use prost::Message;

use super::{IntentPhase, LaunchIntent};

/// The format version written by this library (and the newest it reads).
pub const FORMAT_VERSION: u8 = 1;

/// The first bytes of every record.
pub const MAGIC: [u8; 4] = *b"MRSS";

/// The length of a record's header (magic, version, kind, length, CRC).
pub const HEADER_LEN: usize = 14;

/// The longest encoded task id accepted as a key (a file name holds at
/// most 255 bytes on common file systems).
pub const MAX_KEY_LEN: usize = 240;

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordKind {
    /// The framework's id (`FrameworkID`).
    FrameworkId,
    /// A launch intent (the `TaskInfo` and its phase).
    Intent,
    /// The last known status of a task (`TaskStatus`).
    TaskState,
}

impl RecordKind {
    fn code(self) -> u8 {
        match self {
            RecordKind::FrameworkId => 1,
            RecordKind::Intent => 2,
            RecordKind::TaskState => 3,
        }
    }

    fn name(self) -> &'static str {
        match self {
            RecordKind::FrameworkId => "framework id",
            RecordKind::Intent => "launch intent",
            RecordKind::TaskState => "task state",
        }
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why stored bytes are not a record of the expected kind.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Shorter than a header.
    #[error("{len} bytes are too short for a record ({HEADER_LEN}-byte header)")]
    Truncated {
        /// The length found.
        len: usize,
    },
    /// The magic bytes are wrong: not a record of this library.
    #[error("not a state record (wrong magic bytes)")]
    Magic,
    /// Written by a newer format than this library reads.
    #[error("record format version {version} is not supported (this library reads 1..={FORMAT_VERSION})")]
    UnsupportedVersion {
        /// The version found.
        version: u8,
    },
    /// A record of another kind.
    #[error("expected a {expected} record, found kind {found}")]
    WrongKind {
        /// The kind expected.
        expected: RecordKind,
        /// The kind code found.
        found: u8,
    },
    /// The payload length disagrees with the header (a truncated entry, or
    /// bytes appended to it).
    #[error("the header announces {declared} payload bytes but {actual} follow")]
    Length {
        /// The length in the header.
        declared: u32,
        /// The bytes actually there.
        actual: usize,
    },
    /// The checksum does not match: the entry was damaged.
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum {
        /// The CRC in the header.
        stored: u32,
        /// The CRC of the bytes.
        computed: u32,
    },
    /// The payload is not the protobuf message expected.
    #[error("the payload is not a valid {kind} message")]
    Protobuf {
        /// What was expected.
        kind: RecordKind,
        /// The protobuf error.
        #[source]
        source: prost::DecodeError,
    },
    /// An intent with a phase this library does not know.
    #[error("unknown launch intent phase {phase}")]
    Phase {
        /// The phase code found.
        phase: i32,
    },
    /// The record's task id is not the one its entry is named after.
    #[error("the entry is named after task {expected:?} but holds task {found:?}")]
    KeyMismatch {
        /// The task id the name stands for.
        expected: String,
        /// The task id in the record.
        found: String,
    },
}

/// The protobuf payload of an intent record.
#[derive(Clone, PartialEq, prost::Message)]
struct IntentRecord {
    #[prost(message, optional, tag = "1")]
    task: Option<TaskInfo>,
    /// 1: pending, 2: launched, 3: dropped.
    #[prost(int32, tag = "2")]
    phase: i32,
}

fn phase_code(phase: IntentPhase) -> i32 {
    match phase {
        IntentPhase::Pending => 1,
        IntentPhase::Launched => 2,
        IntentPhase::Dropped => 3,
    }
}

fn phase_of(code: i32) -> Result<IntentPhase, DecodeError> {
    match code {
        1 => Ok(IntentPhase::Pending),
        2 => Ok(IntentPhase::Launched),
        3 => Ok(IntentPhase::Dropped),
        phase => Err(DecodeError::Phase { phase }),
    }
}

fn checksum(header: &[u8], payload: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(&header[4..10]);
    hasher.update(payload);
    hasher.finalize()
}

fn seal(kind: RecordKind, payload: Vec<u8>) -> Vec<u8> {
    // A payload over 4 GiB is refused by every store's size limit long
    // before; saturating keeps this total and the record undecodable.
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut record = Vec::with_capacity(HEADER_LEN + payload.len());
    record.extend_from_slice(&MAGIC);
    record.push(FORMAT_VERSION);
    record.push(kind.code());
    record.extend_from_slice(&len.to_be_bytes());
    let crc = checksum(&record, &payload);
    record.extend_from_slice(&crc.to_be_bytes());
    record.extend_from_slice(&payload);
    record
}

/// Checks the header and checksum; returns the payload.
fn open(expected: RecordKind, bytes: &[u8]) -> Result<&[u8], DecodeError> {
    if bytes.len() < HEADER_LEN {
        return Err(DecodeError::Truncated { len: bytes.len() });
    }
    if bytes[0..4] != MAGIC {
        return Err(DecodeError::Magic);
    }
    let version = bytes[4];
    if version == 0 || version > FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion { version });
    }
    let declared = u32::from_be_bytes([bytes[6], bytes[7], bytes[8], bytes[9]]);
    let payload = &bytes[HEADER_LEN..];
    if usize::try_from(declared).ok() != Some(payload.len()) {
        return Err(DecodeError::Length {
            declared,
            actual: payload.len(),
        });
    }
    let stored = u32::from_be_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]);
    let computed = checksum(bytes, payload);
    if stored != computed {
        return Err(DecodeError::Checksum { stored, computed });
    }
    if bytes[5] != expected.code() {
        return Err(DecodeError::WrongKind {
            expected,
            found: bytes[5],
        });
    }
    Ok(payload)
}

fn protobuf<M: Message + Default>(kind: RecordKind, payload: &[u8]) -> Result<M, DecodeError> {
    M::decode(payload).map_err(|source| DecodeError::Protobuf { kind, source })
}

/// Encodes a framework id record.
pub fn encode_framework_id(id: &FrameworkId) -> Vec<u8> {
    seal(RecordKind::FrameworkId, id.encode_to_vec())
}

/// Decodes a framework id record.
pub fn decode_framework_id(bytes: &[u8]) -> Result<FrameworkId, DecodeError> {
    protobuf(
        RecordKind::FrameworkId,
        open(RecordKind::FrameworkId, bytes)?,
    )
}

/// Encodes a launch intent record.
pub fn encode_intent(intent: &LaunchIntent) -> Vec<u8> {
    let record = IntentRecord {
        task: Some(intent.task.clone()),
        phase: phase_code(intent.phase),
    };
    seal(RecordKind::Intent, record.encode_to_vec())
}

/// Decodes a launch intent record.
pub fn decode_intent(bytes: &[u8]) -> Result<LaunchIntent, DecodeError> {
    let record: IntentRecord = protobuf(RecordKind::Intent, open(RecordKind::Intent, bytes)?)?;
    Ok(LaunchIntent {
        phase: phase_of(record.phase)?,
        task: record.task.unwrap_or_default(),
    })
}

/// Encodes a task state record.
pub fn encode_task_state(status: &TaskStatus) -> Vec<u8> {
    seal(RecordKind::TaskState, status.encode_to_vec())
}

/// Decodes a task state record.
pub fn decode_task_state(bytes: &[u8]) -> Result<TaskStatus, DecodeError> {
    protobuf(RecordKind::TaskState, open(RecordKind::TaskState, bytes)?)
}

/// Checks that a record decoded from the entry named for `key` holds
/// `found`.
pub(crate) fn check_key(key: &str, found: &str) -> Result<(), DecodeError> {
    if encode_key(found).as_deref() == Ok(key) {
        Ok(())
    } else {
        Err(DecodeError::KeyMismatch {
            expected: decode_key(key).unwrap_or_else(|| key.to_string()),
            found: found.to_string(),
        })
    }
}

/// Why a task id cannot name a stored entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The task id is empty.
    #[error("the task id is empty")]
    Empty,
    /// The encoded name would be longer than [`MAX_KEY_LEN`] bytes.
    #[error("the task id is longer than {MAX_KEY_LEN} bytes once encoded as an entry name")]
    TooLong,
}

/// The entry name of a task id: ASCII letters, digits, `-` and `_` (and
/// `.` except first) as they are; every other byte as `%XX` (upper-case
/// hex). Distinct ids give distinct names, valid as file names and znode
/// names, at most [`MAX_KEY_LEN`] bytes long.
pub fn encode_key(task_id: &str) -> Result<String, KeyError> {
    if task_id.is_empty() {
        return Err(KeyError::Empty);
    }
    let mut name = String::with_capacity(task_id.len());
    for (i, byte) in task_id.bytes().enumerate() {
        let plain =
            byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_' || (byte == b'.' && i > 0);
        if plain {
            name.push(char::from(byte));
        } else {
            name.push('%');
            name.push(char::from(HEX[usize::from(byte >> 4)]));
            name.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        if name.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong);
        }
    }
    Ok(name)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The task id an entry name stands for (`None`: not a name
/// [`encode_key`] makes).
pub fn decode_key(name: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(name.len());
    let mut rest = name.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' {
            let hex = tail.get(..2)?;
            let hex = std::str::from_utf8(hex).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    let id = String::from_utf8(bytes).ok()?;
    (encode_key(&id).ok()? == name).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_safe_names() {
        assert_eq!(encode_key("web-1.a_b").unwrap(), "web-1.a_b");
        assert_eq!(encode_key(".hidden").unwrap(), "%2Ehidden");
        assert_eq!(encode_key("a/b c%").unwrap(), "a%2Fb%20c%25");
        assert_eq!(encode_key("é").unwrap(), "%C3%A9");
        assert!(encode_key("").is_err());
        assert!(encode_key(&"x".repeat(241)).is_err());
        assert!(encode_key(&"x".repeat(240)).is_ok());
        assert_eq!(decode_key("a%2Fb%20c%25").as_deref(), Some("a/b c%"));
        // Not what encode_key makes: lower-case hex, a plain '%', a '/'.
        assert_eq!(decode_key("a%2fb"), None);
        assert_eq!(decode_key("a%"), None);
        assert_eq!(decode_key("a/b"), None);
    }

    #[test]
    fn a_newer_version_is_refused_not_misread() {
        let mut record = encode_framework_id(&FrameworkId { value: "f".into() });
        record[4] = FORMAT_VERSION + 1;
        assert!(matches!(
            decode_framework_id(&record),
            Err(DecodeError::UnsupportedVersion { version }) if version == FORMAT_VERSION + 1
        ));
    }
}
