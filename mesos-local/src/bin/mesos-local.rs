//! `mesos-local`: a Mesos master and agents in one process, on loopback.
//!
//! Prints the master URL as the first line of stdout, then serves until
//! Ctrl-C or SIGTERM, which stop it cleanly (every process it started is
//! killed). Flags are named like Mesos's own:
//!
//! ```sh
//! mesos-local --ip 127.0.0.1 --port 5050 --num_agents 2 \
//!     --resources 'cpus:4;mem:4096;disk:10000;ports:[31000-32000]'
//! ```
//!
//! Highly available masters, as Mesos's: `--masters 3 --zk
//! zk://127.0.0.1:2181/mesos` runs three masters that contend through
//! ZooKeeper (`--zk_session_timeout`); one leads, the others redirect
//! scheduler calls to it. Without `--zk`, `--masters N` elects in process.
//! The master URLs are printed one a line, the first master's first.
//!
//! Authentication, as Mesos's: `--authenticate_http_frameworks
//! --credentials=/path/creds.json` (HTTP Basic for schedulers) and
//! `--authenticate_http_executors` (a bearer token per executor). A
//! non-loopback `--ip` is refused unless both are on or
//! `--allow_unauthenticated_non_loopback` is given.
//!
//! The binary allocates with mimalloc: a busy cluster allocates and frees
//! a status update's worth of small objects per update, and with glibc's
//! allocator the cluster of the end-to-end benchmark used about 40 % more
//! CPU (BENCHMARKS.md). The library leaves the allocator to the program
//! that embeds it.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mesos_local::{FetcherConfig, LocalCluster};
use mesos_zookeeper::MasterFlag;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Command-line flags (Mesos's names, with underscores).
#[derive(Debug, Parser)]
#[command(
    name = "mesos-local",
    version,
    about = "An in-process Mesos master and agents on loopback"
)]
struct Flags {
    /// IP address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    ip: IpAddr,
    /// Master port (0 picks a free port).
    #[arg(long, default_value_t = 5050)]
    port: u16,
    /// Number of masters (one leads at a time; master `i` listens on
    /// `--port` + `i`).
    #[arg(long, default_value_t = 1)]
    masters: usize,
    /// ZooKeeper URL the masters contend at (`zk://host:port/path`, or
    /// `file:///path` holding one), as a Mesos master's `--zk`.
    #[arg(long)]
    zk: Option<String>,
    /// The masters' ZooKeeper session timeout.
    #[arg(long = "zk_session_timeout", default_value = "10secs", value_parser = duration)]
    zk_session_timeout: Duration,
    /// Number of agents.
    #[arg(long = "num_agents", alias = "num_slaves", default_value_t = 1)]
    num_agents: usize,
    /// Each agent's resources, in the agent `--resources` syntax.
    #[arg(long, default_value = mesos_local::DEFAULT_AGENT_RESOURCES)]
    resources: String,
    /// Allocation interval (Mesos duration syntax: 1secs, 500ms, ...).
    #[arg(long = "allocation_interval", default_value = "1secs", value_parser = duration)]
    allocation_interval: Duration,
    /// Heartbeat interval of scheduler streams.
    #[arg(long = "heartbeat_interval", default_value = "15secs", value_parser = duration)]
    heartbeat_interval: Duration,
    /// Offer timeout (none by default).
    #[arg(long = "offer_timeout", value_parser = duration)]
    offer_timeout: Option<Duration>,
    /// Containerizers, comma separated, as the agent's flag: `mesos` (real
    /// processes), `docker` (DOCKER containers on the Docker engine;
    /// `docker,mesos` runs both kinds) or `fake` (scripted, no processes).
    #[arg(long, default_value = "mesos")]
    containerizers: String,
    /// Work directory (a temporary one, removed at exit, by default).
    #[arg(long = "work_dir")]
    work_dir: Option<PathBuf>,
    /// Events that may wait for a scheduler or executor that does not read
    /// its stream before the stream is closed (mesos-local only).
    #[arg(long = "max_queued_events", default_value_t = mesos_local::DEFAULT_MAX_QUEUED_EVENTS)]
    max_queued_events: usize,
    /// Time a client has to send a request head; also the idle keep-alive
    /// limit (mesos-local only).
    #[arg(long = "http_header_read_timeout", default_value = "30secs", value_parser = duration)]
    http_header_read_timeout: Duration,
    /// Time a client has to send a call's body (mesos-local only).
    #[arg(long = "http_body_read_timeout", default_value = "30secs", value_parser = duration)]
    http_body_read_timeout: Duration,
    /// Time output may wait on a client that does not read it (mesos-local only).
    #[arg(long = "http_write_timeout", default_value = "60secs", value_parser = duration)]
    http_write_timeout: Duration,
    /// Open HTTP connections per server at most (mesos-local only).
    #[arg(long = "http_max_connections", default_value_t = mesos_http::server::DEFAULT_MAX_CONNECTIONS)]
    http_max_connections: usize,
    /// Require HTTP Basic authentication of schedulers against
    /// `--credentials` (mesos-local has no v0 API: `--authenticate_frameworks`
    /// means the same).
    #[arg(long = "authenticate_http_frameworks", alias = "authenticate_frameworks",
          num_args = 0..=1, default_value = "false", default_missing_value = "true",
          value_parser = boolean)]
    authenticate_http_frameworks: bool,
    /// Path of the credentials file (`{"credentials":[{"principal":..,"secret":..}]}`;
    /// `file://` prefix allowed).
    #[arg(long = "credentials", alias = "http_credentials")]
    credentials: Option<PathBuf>,
    /// Give each executor a token in `MESOS_EXECUTOR_AUTHENTICATION_TOKEN`
    /// and require it (`Authorization: Bearer`) on the executor API.
    #[arg(long = "authenticate_http_executors", num_args = 0..=1, default_value = "false",
          default_missing_value = "true", value_parser = boolean)]
    authenticate_http_executors: bool,
    /// Allow a non-loopback `--ip` with framework or executor
    /// authentication off (mesos-local only).
    #[arg(long = "allow_unauthenticated_non_loopback", num_args = 0..=1, default_value = "false",
          default_missing_value = "true", value_parser = boolean)]
    allow_unauthenticated_non_loopback: bool,
    /// Size of each agent's fetcher cache (Mesos byte syntax: 2GB, 512MB,
    /// ...; 0B caches nothing).
    #[arg(long = "fetcher_cache_size", default_value = "2GB", value_parser = bytes)]
    fetcher_cache_size: u64,
    /// How long a download may make no progress before the fetch fails.
    #[arg(long = "fetcher_stall_timeout", default_value = "1mins", value_parser = duration)]
    fetcher_stall_timeout: Duration,
}

/// A Mesos boolean flag value.
fn boolean(text: &str) -> Result<bool, String> {
    match text {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        other => Err(format!(
            "expecting a boolean (true or false), got {other:?}"
        )),
    }
}

/// A Mesos byte size: a whole number with a unit (`B`, `KB`, `MB`, `GB`,
/// `TB`, powers of 1024), or a plain number of bytes.
fn bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let digits = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let shift = match unit {
        "" | "B" => 0,
        "KB" => 10,
        "MB" => 20,
        "GB" => 30,
        "TB" => 40,
        _ => {
            return Err(format!(
                "expecting a size such as 512MB or 2GB, got {text:?}"
            ))
        }
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("expecting a size such as 512MB or 2GB, got {text:?}"))
}

fn duration(text: &str) -> Result<Duration, String> {
    mesos_executor::parse_duration(text).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let flags = Flags::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("mesos-local: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(flags)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("mesos-local: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(flags: Flags) -> Result<(), String> {
    let mut builder = LocalCluster::builder()
        .ip(flags.ip)
        .port(flags.port)
        .masters(flags.masters)
        .agents(flags.num_agents)
        .resources_text(flags.resources)
        .allocation_interval(flags.allocation_interval)
        .heartbeat_interval(flags.heartbeat_interval)
        .max_queued_events(flags.max_queued_events)
        .fetcher(
            FetcherConfig::default()
                .cache_size(flags.fetcher_cache_size)
                .stall_timeout(flags.fetcher_stall_timeout),
        )
        .server_limits(
            mesos_local::ServerLimits::default()
                .header_read_timeout(flags.http_header_read_timeout)
                .body_read_timeout(flags.http_body_read_timeout)
                .write_timeout(flags.http_write_timeout)
                .max_connections(flags.http_max_connections),
        );
    match (flags.authenticate_http_frameworks, &flags.credentials) {
        (true, Some(path)) => {
            let credentials = mesos_local::Credentials::from_file(path)
                .map_err(|e| mesos_http::error_chain(&e))?;
            builder = builder.authenticate_http_frameworks(credentials);
        }
        (true, None) => {
            return Err(
                "--authenticate_http_frameworks needs --credentials: no credentials \
                 provided for the 'basic' HTTP authenticator"
                    .to_string(),
            )
        }
        (false, _) => {}
    }
    if let Some(zk) = &flags.zk {
        match MasterFlag::resolve(zk)
            .map_err(|e| format!("--zk: {}", mesos_http::error_chain(&e)))?
        {
            MasterFlag::ZooKeeper(url) => {
                builder = builder.zookeeper(url).zookeeper_options(
                    mesos_local::DetectorOptions::default()
                        .session_timeout(flags.zk_session_timeout),
                );
            }
            MasterFlag::Direct(other) => {
                return Err(format!("--zk: expecting a zk:// URL, got {other:?}"))
            }
        }
    }
    builder = builder
        .authenticate_http_executors(flags.authenticate_http_executors)
        .allow_unauthenticated_non_loopback(flags.allow_unauthenticated_non_loopback);
    if let Some(timeout) = flags.offer_timeout {
        builder = builder.offer_timeout(timeout);
    }
    if let Some(dir) = flags.work_dir {
        builder = builder.work_dir(dir);
    }
    #[cfg(feature = "docker")]
    let mut docker = false;
    for kind in flags.containerizers.split(',').map(str::trim) {
        match kind {
            "mesos" | "" => {}
            #[cfg(feature = "docker")]
            "docker" => docker = true,
            "fake" => builder = builder.containerizer(mesos_local::containerizer::fake()),
            other => {
                return Err(format!(
                    "unknown containerizer {other:?} (mesos, docker, fake)"
                ))
            }
        }
    }
    #[cfg(feature = "docker")]
    {
        builder = builder.docker(docker);
    }
    // Handlers before the URL is printed: whoever reads it may stop us at
    // once, and SIGTERM must then mean a clean stop, not death by signal.
    let stop = stop_signal()?;
    let cluster = builder
        .start()
        .await
        .map_err(|e| mesos_http::error_chain(&e))?;
    for url in cluster.master_urls() {
        println!("{url}");
    }
    let _ = std::io::stdout().flush();
    stop.await;
    tracing::info!("stopping");
    cluster.shutdown();
    Ok(())
}

/// Installs the SIGTERM and SIGINT handlers now; the future completes at
/// the first of them.
fn stop_signal() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{signal, SignalKind};
    let handler = |kind: SignalKind, name: &str| {
        signal(kind).map_err(|e| format!("cannot handle {name}: {e}"))
    };
    let mut term = handler(SignalKind::terminate(), "SIGTERM")?;
    let mut interrupt = handler(SignalKind::interrupt(), "SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    })
}
