//! `zk://` masters end to end: the scheduler driver finds the leading master
//! through ZooKeeper (`MESOS_RS_ZOOKEEPER`, see `scripts/zookeeper.sh`) and
//! follows it, against `mesos-local` masters and against a real Mesos 1.11
//! master (`MESOS_INTEROP_MASTER`), each registered in ZooKeeper as a Mesos
//! master registers itself; and the `test_framework` example through two
//! leader failovers of `mesos-local`'s ZooKeeper-elected masters.

mod failover;
mod local;
mod real_mesos;

use mesos_zookeeper::member::{ip_to_mesos, JSON_INFO_LABEL};
use mesos_zookeeper::{DetectorOptions, MasterContender, ZkUrl};
use serde_json::{json, Value};
use std::time::Duration;

/// A group path no other test uses, or `None` (skipped) without ZooKeeper.
pub fn group(test: &str) -> Option<ZkUrl> {
    let url = mesos_test_support::environment::zookeeper_group(test)?;
    Some(ZkUrl::parse(&url).expect("a valid test URL"))
}

/// Short sessions and retries, for tests.
pub fn options() -> DetectorOptions {
    DetectorOptions::default()
        .session_timeout(Duration::from_secs(4))
        .retry(Duration::from_millis(50), Duration::from_millis(500))
}

/// What a Mesos 1.11 master writes into its `json.info_` znode, built from
/// its `/master/state`: `id`, `ip` (the uint32 Mesos uses), `port`, `pid`,
/// `hostname`, `version`, `address` and `capabilities` (by name, including
/// those the v1 schema lacks such as `QUOTA_V2`).
pub fn master_info_json(state: &Value) -> Value {
    let pid = state["pid"].as_str().expect("/master/state has a pid");
    let (_, address) = pid.split_once('@').expect("pid is name@ip:port");
    let (ip, port) = address.rsplit_once(':').expect("pid has a port");
    let port: u16 = port.parse().expect("a port");
    let hostname = state["hostname"].as_str().unwrap_or(ip);
    let capabilities: Vec<Value> = state["capabilities"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|name| json!({ "type": name }))
        .collect();
    json!({
        "id": state["id"],
        "ip": ip_to_mesos(ip.parse().expect("an IPv4 pid")),
        "port": port,
        "pid": pid,
        "hostname": hostname,
        "version": state["version"],
        "address": { "hostname": hostname, "ip": ip, "port": port },
        "capabilities": capabilities,
    })
}

/// Registers the master whose `/master/state` is `state` in `url`'s group,
/// as that master would.
pub async fn register(url: &ZkUrl, state: &Value) -> MasterContender {
    let payload = serde_json::to_vec(&master_info_json(state)).expect("JSON");
    MasterContender::join(url, Some(JSON_INFO_LABEL), &payload, &options())
        .await
        .expect("register the master in ZooKeeper")
}
