//! The cluster under test, in a process of its own: both clients (ours and
//! pymesos) talk to the same kind of child process over loopback, so each
//! side's CPU time and memory can be measured apart.

use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};

use mesos_bench::local_cluster::Containerizer;

/// A `mesos-bench-cluster` child process running a `mesos-local` cluster;
/// stopped when dropped.
pub struct ClusterProcess {
    child: Child,
    url: String,
}

impl ClusterProcess {
    /// Starts the cluster (`agents` agents, `containerizer` fake or process)
    /// and waits for its master URL.
    pub fn start(agents: usize, containerizer: Containerizer) -> Result<ClusterProcess, String> {
        let program = cluster_program()?;
        let mut child = Command::new(&program)
            .args([
                "--agents",
                &agents.to_string(),
                "--containerizer",
                containerizer.as_str(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", program.display()))?;
        let mut url = String::new();
        if let Some(out) = child.stdout.take() {
            std::io::BufReader::new(out)
                .read_line(&mut url)
                .map_err(|e| e.to_string())?;
        }
        let url = url.trim().to_string();
        let mut cluster = ClusterProcess { child, url };
        if !cluster.url.starts_with("http") {
            let status = cluster.child.wait().map_err(|e| e.to_string())?;
            return Err(format!("the cluster process did not start ({status})"));
        }
        Ok(cluster)
    }

    /// The master's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The cluster process's pid.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// CPU time (user + system) the cluster process has used so far.
    pub fn cpu_seconds(&self) -> Option<f64> {
        cpu_seconds(self.child.id())
    }

    /// Peak resident memory of the cluster process so far, in MiB.
    pub fn peak_rss_mib(&self) -> Option<f64> {
        peak_rss_mib(self.child.id())
    }
}

impl Drop for ClusterProcess {
    /// `SIGTERM` first, so that the cluster shuts down cleanly (its agents'
    /// containers and its work directory go with it); `SIGKILL` if it is
    /// still there after ten seconds.
    fn drop(&mut self) {
        let pid = i32::try_from(self.child.id())
            .ok()
            .and_then(rustix::process::Pid::from_raw);
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while std::time::Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_)) | Err(_)) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `mesos-bench-cluster`, next to this executable (cargo builds both).
fn cluster_program() -> Result<std::path::PathBuf, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let program = me.with_file_name("mesos-bench-cluster");
    if program.is_file() {
        Ok(program)
    } else {
        Err(format!(
            "{} not found: build it with `cargo build --release -p mesos-bench --bins`",
            program.display()
        ))
    }
}

/// CPU time (user + system, all threads) of a process, from
/// `/proc/<pid>/stat` (fields 14 and 15, in the kernel's `USER_HZ`, 100 per
/// second on Linux).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    const USER_HZ: f64 = 100.0;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is parenthesised and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / USER_HZ)
}

/// Peak resident memory (`VmHWM`) of a process, in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmHWM")
}

/// A memory figure (`VmHWM`, `RssAnon`, ...) of `/proc/<pid>/status`, in MiB.
pub fn status_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}
