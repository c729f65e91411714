//! The `mesos-docker-executor` command line and environment.
//!
//! Input: everything before the first empty line is argv (one argument per
//! line, or separated by NUL bytes); everything after it is the
//! environment, one `NAME=VALUE` per line. As the binary does, the flags go
//! through `Flags::parse`, the environment through
//! `ExecutorConfig::from_lookup`, and when both succeed they are combined
//! with `DockerExecutorConfig::from_flags`.

#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use mesos_docker::{DockerExecutorConfig, Flags};
use mesos_executor::ExecutorConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (argv, env) = text.split_once("\n\n").unwrap_or((text, ""));
    let args: Vec<&str> = argv.split(['\0', '\n']).collect();
    let env: HashMap<&str, &str> = env
        .lines()
        .filter_map(|line| line.split_once('='))
        .collect();

    let flags = Flags::parse(args.iter().copied());
    if let Err(error) = &flags {
        let _ = error.to_string();
    }
    let config = ExecutorConfig::from_lookup(|name| env.get(name).map(|v| (*v).to_owned()));
    if let Err(error) = &config {
        let _ = error.to_string();
    }
    if let (Ok(flags), Ok(config)) = (flags, config) {
        let sandbox = flags
            .sandbox_directory
            .clone()
            .or_else(|| config.directory().map(|d| d.display().to_string()))
            .or_else(|| config.sandbox().map(|d| d.display().to_string()))
            .unwrap_or_default();
        let docker =
            DockerExecutorConfig::from_flags(&flags, sandbox, config.shutdown_grace_period());
        let _ = format!("{docker:?}");
        let _ = format!("{config:?}");
    }
});
