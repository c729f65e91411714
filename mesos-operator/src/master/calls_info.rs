//! The master's own information: health, flags, version, metrics, logging
//! level and files (defined once for masters and agents), and
//! `GET_MASTER`.

use mesos_proto::v1::master::{call::Type, response, Call};

use super::{call, MasterClient};
use crate::shared_calls::shared_calls;
use crate::Error;

shared_calls!(MasterClient, master, "master", "e.g. `/master/log`");

impl MasterClient {
    /// `GET_MASTER`: the leading master's `MasterInfo`, start and election
    /// times.
    pub async fn get_master(&self) -> Result<response::GetMaster, Error> {
        self.query(call(Type::GetMaster), |r| {
            Some(r.get_master.unwrap_or_default())
        })
        .await
    }
}
