//! The masters' znodes: their names, how the leader is chosen among them,
//! and how a master's `MasterInfo` is written into and read from them.
//!
//! A Mesos 1.11 master joins the group (the URL's path) with an ephemeral
//! sequential znode named `json.info_<sequence>` holding its `MasterInfo` as
//! JSON. Older masters wrote `info_<sequence>` (binary protobuf
//! `MasterInfo`) and older still `<sequence>` (the master's PID,
//! `master@ip:port`). Every child whose name ends (after the last `_`) in a
//! number is a member whatever its label; the leader is the member with the
//! lowest sequence number. Other children (say `log_replicas`) are not
//! members.

use std::net::Ipv4Addr;

use mesos_proto::v1::{Address, MasterInfo};
use mesos_proto::MediaType;

/// The label of the znodes Mesos ≥ 0.24 masters create (JSON `MasterInfo`).
pub const JSON_INFO_LABEL: &str = "json.info";

/// The label of the znodes of older masters (binary protobuf `MasterInfo`).
pub const PROTOBUF_INFO_LABEL: &str = "info";

/// The largest member payload read; a `MasterInfo` is a few hundred bytes.
pub const MAX_PAYLOAD_LEN: usize = 64 * 1024;

/// The most children of the group path looked at; a group with more is
/// reported as unreadable rather than read.
pub const MAX_MEMBERS: usize = 10_000;

/// One member znode of the group, from its name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Membership {
    /// The znode's name (not its path), e.g. `json.info_0000000003`.
    pub name: String,
    /// The label before the first `_`, if the name has one.
    pub label: Option<String>,
    /// The sequence number ZooKeeper appended.
    pub sequence: i64,
}

impl Membership {
    /// Reads a child's name as Mesos's group does: `_`-separated tokens
    /// (empty ones dropped), the label is the first token when there are
    /// several, the sequence the last; `None` when the last token is not a
    /// number (not a member).
    pub fn parse(name: &str) -> Option<Self> {
        let mut tokens = name.split('_').filter(|t| !t.is_empty());
        let first = tokens.next()?;
        let last = tokens.next_back();
        let (label, sequence) = match last {
            Some(last) => (Some(first.to_string()), last),
            None => (None, first),
        };
        if sequence.is_empty() || !sequence.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Mesos reads the sequence as an int32; ZooKeeper ≥ 3.4 can
        // overflow it into 19 digits, which an i64 still holds.
        let sequence = sequence.parse::<i64>().ok()?;
        Some(Membership {
            name: name.to_string(),
            label,
            sequence,
        })
    }
}

/// The leader among `children` (names under the group path): the member
/// with the lowest sequence number, as Mesos's leader detector elects it.
pub fn elect<'a>(children: impl IntoIterator<Item = &'a str>) -> Option<Membership> {
    children
        .into_iter()
        .filter_map(Membership::parse)
        .min_by_key(|m| m.sequence)
}

/// Why a member's payload is not a `MasterInfo`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The payload is larger than [`MAX_PAYLOAD_LEN`].
    #[error("the member's data is {len} bytes, more than {MAX_PAYLOAD_LEN}")]
    TooLarge {
        /// Its length.
        len: usize,
    },
    /// A `json.info` payload is not a JSON `MasterInfo`.
    #[error("the member's data is not a JSON MasterInfo")]
    Json(#[source] mesos_proto::DecodeError),
    /// An `info` payload is not a protobuf `MasterInfo`.
    #[error("the member's data is not a protobuf MasterInfo")]
    Protobuf(#[source] prost::DecodeError),
    /// An unlabelled (legacy) payload is not a master PID.
    #[error("the member's data is not a master PID (name@ip:port)")]
    Pid,
    /// The label is none Mesos knows.
    #[error("unknown member label {0:?}")]
    UnknownLabel(String),
}

/// The `MasterInfo` in a member's `data`, read according to its label as
/// Mesos's master detector does: JSON for `json.info`, binary protobuf for
/// `info`, a PID for no label. The JSON is read leniently: fields and enum
/// values this schema does not know (a 1.11 master writes capabilities the
/// v1 schema lacks, such as `QUOTA_V2`) are skipped, not errors.
pub fn read_master_info(member: &Membership, data: &[u8]) -> Result<MasterInfo, PayloadError> {
    if data.len() > MAX_PAYLOAD_LEN {
        return Err(PayloadError::TooLarge { len: data.len() });
    }
    match member.label.as_deref() {
        Some(JSON_INFO_LABEL) => MediaType::Json.decode(data).map_err(PayloadError::Json),
        Some(PROTOBUF_INFO_LABEL) => {
            <MasterInfo as prost::Message>::decode(data).map_err(PayloadError::Protobuf)
        }
        None => {
            let pid = std::str::from_utf8(data).map_err(|_| PayloadError::Pid)?;
            master_info_from_pid(pid.trim()).ok_or(PayloadError::Pid)
        }
        Some(other) => Err(PayloadError::UnknownLabel(other.to_string())),
    }
}

/// A `MasterInfo` for a bare PID `id@ip:port` (what pre-0.24 masters
/// wrote), as Mesos builds one: the PID, its IPv4 address and port.
pub fn master_info_from_pid(pid: &str) -> Option<MasterInfo> {
    let (_, address) = pid.split_once('@')?;
    let (ip, port) = address.rsplit_once(':')?;
    let ip: Ipv4Addr = ip.parse().ok()?;
    let port: u16 = port.parse().ok()?;
    Some(MasterInfo {
        id: pid.to_string(),
        ip: ip_to_mesos(ip),
        port: u32::from(port),
        pid: Some(pid.to_string()),
        hostname: Some(ip.to_string()),
        address: Some(Address {
            hostname: None,
            ip: Some(ip.to_string()),
            port: i32::from(port),
        }),
        ..Default::default()
    })
}

/// The `ip` field of a `MasterInfo` for `ip`: Mesos stores the address in
/// network byte order in a `uint32` (127.0.0.1 is 16777343).
pub fn ip_to_mesos(ip: Ipv4Addr) -> u32 {
    u32::from_le_bytes(ip.octets())
}

/// The address in a `MasterInfo`'s `ip` field (see [`ip_to_mesos`]).
pub fn ip_from_mesos(ip: u32) -> Ipv4Addr {
    Ipv4Addr::from(ip.to_le_bytes())
}

/// `host:port` where a master's HTTP API answers, from its `MasterInfo`, as
/// Mesos's v1 scheduler library finds it: the address of its PID, else its
/// `address` (IP, else host name), else its `ip`/`port` fields.
pub fn master_endpoint(info: &MasterInfo) -> Option<String> {
    if let Some((_, address)) = info.pid.as_deref().and_then(|p| p.split_once('@')) {
        if address
            .rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p != 0))
        {
            return Some(address.to_string());
        }
    }
    if let Some(address) = &info.address {
        let host = address.ip.as_deref().or(address.hostname.as_deref());
        if let (Some(host), Ok(port)) = (host, u16::try_from(address.port)) {
            if !host.is_empty() && port != 0 {
                return Some(format!("{host}:{port}"));
            }
        }
    }
    let port = u16::try_from(info.port).ok().filter(|p| *p != 0)?;
    (info.ip != 0).then(|| format!("{}:{port}", ip_from_mesos(info.ip)))
}

/// The JSON a Mesos master writes into its `json.info_` znode for `info`.
pub fn master_info_json(info: &MasterInfo) -> Vec<u8> {
    // Encoding a schema type cannot fail (the descriptors are built in); an
    // empty object would be read back as an unusable MasterInfo.
    MediaType::Json
        .encode(info)
        .map(|b| b.to_vec())
        .unwrap_or_else(|_| b"{}".to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_as_mesos_reads_them() {
        let m = Membership::parse("json.info_0000000012").unwrap();
        assert_eq!((m.label.as_deref(), m.sequence), (Some("json.info"), 12));
        let m = Membership::parse("info_0000000003").unwrap();
        assert_eq!((m.label.as_deref(), m.sequence), (Some("info"), 3));
        let m = Membership::parse("0000000007").unwrap();
        assert_eq!((m.label, m.sequence), (None, 7));
        assert_eq!(Membership::parse("log_replicas"), None);
        assert_eq!(Membership::parse("json.info_"), None);
        assert_eq!(Membership::parse(""), None);
        assert_eq!(Membership::parse("x_-1"), None);
    }

    #[test]
    fn the_lowest_sequence_wins_whatever_its_label() {
        let children = [
            "json.info_0000000005",
            "log_replicas",
            "info_0000000004",
            "json.info_0000000002",
            "0000000009",
        ];
        assert_eq!(elect(children).unwrap().name, "json.info_0000000002");
        assert_eq!(elect(["log_replicas"]), None);
        assert_eq!(elect([]), None);
    }

    #[test]
    fn payloads_by_label() {
        let info = MasterInfo {
            id: "m1".into(),
            ip: ip_to_mesos(Ipv4Addr::new(10, 0, 0, 7)),
            port: 5050,
            pid: Some("master@10.0.0.7:5050".into()),
            ..Default::default()
        };
        let json = Membership::parse("json.info_0000000001").unwrap();
        assert_eq!(
            read_master_info(&json, &master_info_json(&info)).unwrap(),
            info
        );
        let proto = Membership::parse("info_0000000001").unwrap();
        let bytes = prost::Message::encode_to_vec(&info);
        assert_eq!(read_master_info(&proto, &bytes).unwrap(), info);
        let legacy = Membership::parse("0000000001").unwrap();
        let read = read_master_info(&legacy, b"master@10.0.0.7:5050").unwrap();
        assert_eq!(read.pid.as_deref(), Some("master@10.0.0.7:5050"));
        assert_eq!((read.ip, read.port), (info.ip, 5050));
        assert!(matches!(
            read_master_info(&legacy, b"garbage"),
            Err(PayloadError::Pid)
        ));
        let odd = Membership::parse("odd_0000000001").unwrap();
        assert!(matches!(
            read_master_info(&odd, b"{}"),
            Err(PayloadError::UnknownLabel(_))
        ));
        assert!(matches!(
            read_master_info(&json, &vec![b' '; MAX_PAYLOAD_LEN + 1]),
            Err(PayloadError::TooLarge { .. })
        ));
        assert!(matches!(
            read_master_info(&json, b"{not json"),
            Err(PayloadError::Json(_))
        ));
    }

    #[test]
    fn mesos_ip_is_network_order() {
        assert_eq!(ip_to_mesos(Ipv4Addr::LOCALHOST), 16_777_343);
        assert_eq!(ip_from_mesos(16_777_343), Ipv4Addr::LOCALHOST);
    }

    #[test]
    fn endpoint_prefers_the_pid() {
        let mut info = MasterInfo {
            pid: Some("master@10.0.0.7:5051".into()),
            ip: ip_to_mesos(Ipv4Addr::new(10, 0, 0, 8)),
            port: 5052,
            address: Some(Address {
                hostname: Some("m".into()),
                ip: Some("10.0.0.9".into()),
                port: 5053,
            }),
            ..Default::default()
        };
        assert_eq!(master_endpoint(&info).as_deref(), Some("10.0.0.7:5051"));
        info.pid = Some("garbage".into());
        assert_eq!(master_endpoint(&info).as_deref(), Some("10.0.0.9:5053"));
        info.address = None;
        assert_eq!(master_endpoint(&info).as_deref(), Some("10.0.0.8:5052"));
        info.ip = 0;
        assert_eq!(master_endpoint(&info), None);
    }
}
