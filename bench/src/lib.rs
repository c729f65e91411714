//! What the `mesos-bench` binaries share: the benchmark's `mesos-local`
//! cluster, run in a process of its own by `mesos-bench-cluster`.

pub mod local_cluster;
