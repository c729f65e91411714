//! What `docker inspect` says about a container.

use serde_json::Value;

use super::error::DockerError;
use super::redact::redacted_inspect;

/// What `docker inspect` says about a container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerState {
    /// The full container id.
    pub id: String,
    /// The name, without Docker's leading `/`.
    pub name: String,
    /// The main process's pid on the host, while running.
    pub pid: Option<u32>,
    /// `State.Running`.
    pub running: bool,
    /// `State.Status` (`created`, `running`, `exited`, ...).
    pub status: String,
    /// `State.ExitCode` once the container has exited.
    pub exit_code: Option<i32>,
    /// `State.StartedAt` unless the container never started.
    pub started_at: Option<String>,
    /// `State.FinishedAt` once the container has exited.
    pub finished_at: Option<String>,
    /// The IPv4 address (bridge: `NetworkSettings.IPAddress`; user
    /// networks: the first network's address).
    pub ip_address: Option<String>,
    /// The IPv6 address, if any.
    pub ip6_address: Option<String>,
    /// `HostConfig.CpuShares`.
    pub cpu_shares: Option<u64>,
    /// `HostConfig.Memory` in bytes.
    pub memory: Option<u64>,
    /// The inspect output for this container (one JSON object), as Mesos
    /// puts it in the TASK_RUNNING update's `data`, except that the values
    /// of `Config.Env` are `[redacted]` (they may be secrets; the real
    /// Docker executor sends them as they are).
    pub raw: String,
}

impl ContainerState {
    /// Whether the container has started at some point (running or exited).
    pub fn started(&self) -> bool {
        self.running || self.started_at.is_some()
    }

    pub(super) fn parse(command: &str, output: &str) -> Result<ContainerState, DockerError> {
        let parse_error = |reason: &str| DockerError::Parse {
            command: command.to_string(),
            reason: reason.to_string(),
        };
        let json: Value =
            serde_json::from_str(output).map_err(|e| parse_error(&format!("not JSON: {e}")))?;
        let object = match &json {
            Value::Array(items) => items.first().ok_or_else(|| parse_error("empty array"))?,
            other => other,
        };
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let number = |pointer: &str| object.pointer(pointer).and_then(Value::as_i64);
        let running = object
            .pointer("/State/Running")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let status = text("/State/Status").unwrap_or_default();
        let zero_time = |t: &String| t.starts_with("0001-01-01");
        let started_at = text("/State/StartedAt").filter(|t| !zero_time(t));
        let finished_at = text("/State/FinishedAt").filter(|t| !zero_time(t));
        let exited = !running && finished_at.is_some();
        let mut ip_address = text("/NetworkSettings/IPAddress");
        let mut ip6_address = text("/NetworkSettings/GlobalIPv6Address");
        if let Some(Value::Object(networks)) = object.pointer("/NetworkSettings/Networks") {
            for network in networks.values() {
                if ip_address.is_none() {
                    ip_address = network
                        .get("IPAddress")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string);
                }
                if ip6_address.is_none() {
                    ip6_address = network
                        .get("GlobalIPv6Address")
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string);
                }
            }
        }
        Ok(ContainerState {
            id: text("/Id").ok_or_else(|| parse_error("no Id"))?,
            name: text("/Name")
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            pid: number("/State/Pid")
                .filter(|pid| *pid > 0)
                .and_then(|pid| u32::try_from(pid).ok()),
            running,
            status,
            exit_code: number("/State/ExitCode")
                .filter(|_| exited)
                .and_then(|c| i32::try_from(c).ok()),
            started_at,
            finished_at,
            ip_address,
            ip6_address,
            cpu_shares: number("/HostConfig/CpuShares").and_then(|v| u64::try_from(v).ok()),
            memory: number("/HostConfig/Memory").and_then(|v| u64::try_from(v).ok()),
            raw: redacted_inspect(object).to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_output_is_parsed() {
        let json = r#"[{"Id":"abc","Name":"/mesos-x","State":{"Status":"running","Running":true,"Pid":42,"ExitCode":0,
            "StartedAt":"2024-01-01T00:00:00Z","FinishedAt":"0001-01-01T00:00:00Z"},
            "HostConfig":{"CpuShares":1024,"Memory":134217728},
            "NetworkSettings":{"IPAddress":"172.17.0.2","GlobalIPv6Address":"","Networks":{"bridge":{"IPAddress":"172.17.0.2"}}}}]"#;
        let state = ContainerState::parse("docker inspect", json).unwrap();
        assert_eq!(state.name, "mesos-x");
        assert_eq!(state.pid, Some(42));
        assert!(state.running && state.started());
        assert_eq!(state.exit_code, None);
        assert_eq!(state.finished_at, None);
        assert_eq!(state.ip_address.as_deref(), Some("172.17.0.2"));
        assert_eq!(state.ip6_address, None);
        assert_eq!(state.cpu_shares, Some(1024));
        assert_eq!(state.memory, Some(134217728));

        let exited = r#"[{"Id":"abc","Name":"/n","State":{"Status":"exited","Running":false,"Pid":0,"ExitCode":3,
            "StartedAt":"2024-01-01T00:00:00Z","FinishedAt":"2024-01-01T00:00:01Z"},
            "NetworkSettings":{"IPAddress":"","Networks":{"user1":{"IPAddress":"10.0.0.5"}}}}]"#;
        let state = ContainerState::parse("docker inspect", exited).unwrap();
        assert_eq!(state.exit_code, Some(3));
        assert_eq!(state.pid, None);
        assert_eq!(state.ip_address.as_deref(), Some("10.0.0.5"));

        assert!(ContainerState::parse("x", "not json").is_err());
        assert!(ContainerState::parse("x", "[]").is_err());
    }
}
