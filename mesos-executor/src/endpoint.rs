//! The agent's executor API URL, built as Mesos's own v1 executor library
//! builds it.

/// Where an agent serves the executor API, from the environment it set.
///
/// Mesos's library uses `MESOS_SLAVE_PID` (`slave(1)@127.0.0.1:5051`): the
/// URL is `<scheme>://<address>/<process id>/api/v1/executor`. The process
/// prefix matters when the agent shares its libprocess port with a master
/// (`mesos-local`): the un-prefixed `/api/v1/executor` then reaches the
/// master's operator API. `MESOS_AGENT_ENDPOINT` (`host:port`, no prefix) is
/// the fallback when no PID is given.
pub(crate) fn from_pid(pid: &str, tls: bool) -> Result<String, String> {
    let (id, address) = pid
        .rsplit_once('@')
        .ok_or_else(|| "expected <id>@<host>:<port>".to_string())?;
    if id.is_empty() || id.contains('/') {
        return Err(format!("invalid process id {id:?}"));
    }
    check_address(address)?;
    Ok(format!("{}://{address}/{id}/api/v1/executor", scheme(tls)))
}

/// The URL from `MESOS_AGENT_ENDPOINT` (`host:port`).
pub(crate) fn from_endpoint(endpoint: &str, tls: bool) -> Result<String, String> {
    check_address(endpoint)?;
    Ok(format!("{}://{endpoint}/api/v1/executor", scheme(tls)))
}

fn scheme(tls: bool) -> &'static str {
    if tls {
        "https"
    } else {
        "http"
    }
}

fn check_address(address: &str) -> Result<(), String> {
    let (host, port) = address
        .rsplit_once(':')
        .ok_or_else(|| format!("expected <host>:<port>, got {address:?}"))?;
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return Err(format!("invalid host in {address:?}"));
    }
    match port.parse::<u16>() {
        Ok(p) if p != 0 => Ok(()),
        _ => Err(format!("invalid port in {address:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_becomes_prefixed_url() {
        assert_eq!(
            from_pid("slave(1)@127.0.0.1:5050", false).unwrap(),
            "http://127.0.0.1:5050/slave(1)/api/v1/executor"
        );
        assert_eq!(
            from_pid("slave(1)@10.0.0.7:5051", true).unwrap(),
            "https://10.0.0.7:5051/slave(1)/api/v1/executor"
        );
        assert!(
            mesos_http::parse_url(&from_pid("slave(1)@127.0.0.1:5050", false).unwrap()).is_ok()
        );
    }

    #[test]
    fn endpoint_is_the_fallback() {
        assert_eq!(
            from_endpoint("127.0.0.1:5051", false).unwrap(),
            "http://127.0.0.1:5051/api/v1/executor"
        );
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "slave(1)",
            "@127.0.0.1:5050",
            "slave(1)@127.0.0.1",
            "slave(1)@:5050",
            "slave(1)@h:0",
            "slave(1)@h:x",
        ] {
            assert!(from_pid(bad, false).is_err(), "{bad}");
        }
        assert!(from_endpoint("localhost", false).is_err());
    }
}
