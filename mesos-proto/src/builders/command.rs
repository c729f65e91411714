//! `CommandInfo` and its fetcher `URI`s.

use crate::v1::command_info::Uri;
use crate::v1::environment::Variable;
use crate::v1::{CommandInfo, Environment};

use super::checks::{non_empty_if_set, require};
use super::{BuildError, IntoMessage};

const MESSAGE: &str = "CommandInfo";

/// Builds a [`CommandInfo`]: what a task or executor runs.
///
/// Pick one of three ways to run something:
///
/// - [`shell(cmd)`](CommandInfoBuilder::shell): `shell = true`, `value =
///   cmd`; Mesos runs `/bin/sh -c cmd` (in a Docker container, with
///   `/bin/sh` as the entrypoint).
/// - [`argv(program, args)`](CommandInfoBuilder::argv): `shell = false`,
///   `value = program`, `arguments = [program, args...]`. Mesos executes
///   `value` with `arguments` as the *whole* argv, so argv\[0\] is included;
///   this builder prepends `program` for you. This is what the Mesos
///   containerizer expects. (The Docker containerizer instead appends
///   `value` and then every argument to `docker run image`, so there argv\[0\]
///   would appear twice: for Docker, use `entrypoint().args(...)`.)
/// - [`entrypoint()`](CommandInfoBuilder::entrypoint): `shell = false` and no
///   `value`: a Docker container runs its image's entrypoint (the Java
///   tutorial's `setShell(false)`); [`args`](CommandInfoBuilder::args) become
///   the image's command arguments.
///
/// ```
/// use mesos_proto::builders::CommandInfoBuilder;
/// let command = CommandInfoBuilder::argv("/bin/echo", ["hello"]).env("GREETING", "hi").build()?;
/// assert_eq!(command.shell, Some(false));
/// assert_eq!(command.value.as_deref(), Some("/bin/echo"));
/// assert_eq!(command.arguments, ["/bin/echo", "hello"]);
/// # Ok::<(), mesos_proto::builders::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct CommandInfoBuilder {
    shell: bool,
    value: Option<String>,
    arguments: Vec<String>,
    environment: Vec<(String, String)>,
    uris: Vec<Result<Uri, BuildError>>,
    user: Option<String>,
}

impl CommandInfoBuilder {
    fn with(shell: bool, value: Option<String>, arguments: Vec<String>) -> Self {
        CommandInfoBuilder {
            shell,
            value,
            arguments,
            environment: Vec::new(),
            uris: Vec::new(),
            user: None,
        }
    }

    /// A shell command line, run with `/bin/sh -c`.
    pub fn shell(command: impl Into<String>) -> Self {
        Self::with(true, Some(command.into()), Vec::new())
    }

    /// An executable run without a shell: `value = program` and `arguments =
    /// [program, args...]` (argv\[0\] included, as Mesos expects; see the
    /// type docs for Docker).
    pub fn argv<I, S>(program: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let program = program.into();
        let arguments = std::iter::once(program.clone())
            .chain(args.into_iter().map(Into::into))
            .collect();
        Self::with(false, Some(program), arguments)
    }

    /// No command of its own: `shell = false` with no `value`, so a Docker
    /// container runs its image's entrypoint.
    pub fn entrypoint() -> Self {
        Self::with(false, None, Vec::new())
    }

    /// Appends one raw entry to `arguments` (not valid with `shell`).
    pub fn arg(mut self, argument: impl Into<String>) -> Self {
        self.arguments.push(argument.into());
        self
    }

    /// Appends raw entries to `arguments` (not valid with `shell`).
    pub fn args<I, S>(mut self, arguments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.arguments.extend(arguments.into_iter().map(Into::into));
        self
    }

    /// Sets the environment variable `name` (replacing an earlier value).
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.environment.retain(|(existing, _)| *existing != name);
        self.environment.push((name, value.into()));
        self
    }

    /// Adds a URI for the Mesos fetcher to download into the sandbox before
    /// the command runs: a URL string, or a [`UriBuilder`] for options.
    pub fn uri(mut self, uri: impl IntoMessage<Uri>) -> Self {
        self.uris.push(uri.into_message());
        self
    }

    /// Runs the command as `user` instead of the framework's user.
    pub fn user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// Validates and builds the `CommandInfo`.
    ///
    /// Errors: a shell command or `argv` program that is empty, arguments
    /// given with a shell command (Mesos ignores them), an empty variable
    /// name or user, an invalid URI.
    pub fn build(self) -> Result<CommandInfo, BuildError> {
        if self.shell || self.value.is_some() {
            require(MESSAGE, "value", self.value.as_deref().unwrap_or(""))?;
        }
        if self.shell && !self.arguments.is_empty() {
            return Err(BuildError::invalid(
                MESSAGE,
                "arguments",
                "Mesos ignores arguments of a shell command: put them in the command line",
            ));
        }
        if self.environment.iter().any(|(name, _)| name.is_empty()) {
            return Err(BuildError::invalid(
                MESSAGE,
                "environment",
                "a variable name is empty",
            ));
        }
        non_empty_if_set(MESSAGE, "user", self.user.as_deref())?;
        let uris = self.uris.into_iter().collect::<Result<Vec<_>, _>>()?;
        let environment = (!self.environment.is_empty()).then(|| Environment {
            variables: self
                .environment
                .into_iter()
                .map(|(name, value)| Variable {
                    name,
                    r#type: None,
                    value: Some(value),
                    secret: None,
                })
                .collect(),
        });
        Ok(CommandInfo {
            uris,
            environment,
            shell: Some(self.shell),
            value: self.value,
            arguments: self.arguments,
            user: self.user,
        })
    }
}

/// Builds a [`command_info::Uri`](Uri): a file the Mesos fetcher downloads
/// into the sandbox.
///
/// ```
/// use mesos_proto::builders::UriBuilder;
/// let uri = UriBuilder::new("https://example.com/app.tgz").cache(true).build()?;
/// assert_eq!(uri.cache, Some(true));
/// assert_eq!(uri.extract, None); // Mesos's default: archives are extracted
/// # Ok::<(), mesos_proto::builders::BuildError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a builder does nothing until `.build()` is called"]
pub struct UriBuilder {
    uri: Uri,
}

impl UriBuilder {
    /// A URI to fetch (`http(s)://`, `hdfs://`, a local path...).
    pub fn new(value: impl Into<String>) -> Self {
        UriBuilder {
            uri: Uri {
                value: value.into(),
                executable: None,
                extract: None,
                cache: None,
                output_file: None,
            },
        }
    }

    /// Marks the fetched file executable (`chmod +x`).
    pub fn executable(mut self, executable: bool) -> Self {
        self.uri.executable = Some(executable);
        self
    }

    /// Whether to extract a recognized archive (Mesos's default: yes).
    pub fn extract(mut self, extract: bool) -> Self {
        self.uri.extract = Some(extract);
        self
    }

    /// Whether the agent's fetcher cache may serve this URI.
    pub fn cache(mut self, cache: bool) -> Self {
        self.uri.cache = Some(cache);
        self
    }

    /// Saves the download under this file name in the sandbox.
    pub fn output_file(mut self, name: impl Into<String>) -> Self {
        self.uri.output_file = Some(name.into());
        self
    }

    /// Validates (non-empty URI and output file name) and builds the `URI`.
    pub fn build(self) -> Result<Uri, BuildError> {
        require("CommandInfo.URI", "value", &self.uri.value)?;
        non_empty_if_set(
            "CommandInfo.URI",
            "output_file",
            self.uri.output_file.as_deref(),
        )?;
        Ok(self.uri)
    }
}

impl IntoMessage<Uri> for UriBuilder {
    fn into_message(self) -> Result<Uri, BuildError> {
        self.build()
    }
}

impl IntoMessage<Uri> for &str {
    fn into_message(self) -> Result<Uri, BuildError> {
        UriBuilder::new(self).build()
    }
}

impl IntoMessage<Uri> for String {
    fn into_message(self) -> Result<Uri, BuildError> {
        UriBuilder::new(self).build()
    }
}

impl IntoMessage<CommandInfo> for CommandInfoBuilder {
    fn into_message(self) -> Result<CommandInfo, BuildError> {
        self.build()
    }
}
