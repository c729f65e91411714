//! Interoperability with a real Apache Mesos 1.11 master.
//!
//! Run with `MESOS_INTEROP_MASTER=http://127.0.0.1:5050 cargo test -p mesos-tests --test interop`
//! after `shared/tools/real-mesos/start.sh`; skipped (and saying so) otherwise.

mod subscribe;
