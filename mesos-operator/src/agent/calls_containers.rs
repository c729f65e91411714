//! Containers on the agent: standalone containers, nested containers under
//! an executor's, and attaching to a container's output.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::{self, Stream, StreamExt};
use mesos_proto::v1::agent::{call as c, call::Type, process_io, response, Call, ProcessIo};
use mesos_proto::v1::{CommandInfo, ContainerId, ContainerInfo, Resource};

use super::{call, AgentClient};
use crate::Error;

/// What a container launch runs: its command and container settings.
#[derive(Debug, Clone, Default)]
pub struct ContainerLaunch {
    /// The command (`None`: the image's entrypoint, or the parent's).
    pub command: Option<CommandInfo>,
    /// The container's type, image, volumes...
    pub container: Option<ContainerInfo>,
}

impl AgentClient {
    /// `LAUNCH_NESTED_CONTAINER` (deprecated in favour of
    /// [`launch_container`](Self::launch_container)): launches a nested
    /// container under the running container named by `container_id`'s
    /// parent.
    #[allow(deprecated)]
    pub async fn launch_nested_container(
        &self,
        container_id: ContainerId,
        launch: ContainerLaunch,
    ) -> Result<(), Error> {
        self.execute(Call {
            launch_nested_container: Some(c::LaunchNestedContainer {
                container_id,
                command: launch.command,
                container: launch.container,
            }),
            ..call(Type::LaunchNestedContainer)
        })
        .await
    }

    /// `WAIT_NESTED_CONTAINER` (deprecated: [`wait_container`](Self::wait_container)):
    /// waits until the nested container ends; its exit status.
    #[allow(deprecated)]
    pub async fn wait_nested_container(
        &self,
        container_id: ContainerId,
    ) -> Result<response::WaitNestedContainer, Error> {
        let call = Call {
            wait_nested_container: Some(c::WaitNestedContainer { container_id }),
            ..call(Type::WaitNestedContainer)
        };
        self.query(call, |r| r.wait_nested_container).await
    }

    /// `KILL_NESTED_CONTAINER` (deprecated: [`kill_container`](Self::kill_container)):
    /// sends `signal` (default `SIGKILL`) to the nested container.
    #[allow(deprecated)]
    pub async fn kill_nested_container(
        &self,
        container_id: ContainerId,
        signal: Option<i32>,
    ) -> Result<(), Error> {
        self.execute(Call {
            kill_nested_container: Some(c::KillNestedContainer {
                container_id,
                signal,
            }),
            ..call(Type::KillNestedContainer)
        })
        .await
    }

    /// `REMOVE_NESTED_CONTAINER` (deprecated: [`remove_container`](Self::remove_container)):
    /// removes an ended nested container's runtime directory.
    ///
    /// `container_id` must have a parent ([`Error::InvalidArgument`]
    /// otherwise, without sending the call), see
    /// [`remove_container`](Self::remove_container).
    #[allow(deprecated)]
    pub async fn remove_nested_container(&self, container_id: ContainerId) -> Result<(), Error> {
        require_parent(Type::RemoveNestedContainer, &container_id)?;
        self.execute(Call {
            remove_nested_container: Some(c::RemoveNestedContainer { container_id }),
            ..call(Type::RemoveNestedContainer)
        })
        .await
    }

    /// `LAUNCH_NESTED_CONTAINER_SESSION`: launches a nested container whose
    /// life is the connection's, and streams its output (stdout and stderr
    /// as `ProcessIO` data records). Dropping the stream ends the session
    /// (and kills the container).
    pub async fn launch_nested_container_session(
        &self,
        container_id: ContainerId,
        launch: ContainerLaunch,
    ) -> Result<ProcessIoStream, Error> {
        self.stream(Call {
            launch_nested_container_session: Some(c::LaunchNestedContainerSession {
                container_id,
                command: launch.command,
                container: launch.container,
            }),
            ..call(Type::LaunchNestedContainerSession)
        })
        .await
    }

    /// `ATTACH_CONTAINER_INPUT`: streams `input` to the container named by
    /// `container_id` (one launched with an I/O switchboard, e.g. by
    /// [`launch_nested_container_session`](Self::launch_nested_container_session)
    /// or with a TTY), and returns once the agent has answered.
    ///
    /// The request is one `POST` whose body is a RecordIO stream of calls:
    /// first `ATTACH_CONTAINER_INPUT` of type `CONTAINER_ID`, then one of
    /// type `PROCESS_IO` per item of `input`, sent as soon as `input`
    /// yields it. Items are `ProcessIO` `DATA` chunks of stdin
    /// ([`stdin`]) or `CONTROL` messages (heartbeats, `TTY_INFO` for a
    /// window size).
    ///
    /// **End of input:** an empty `DATA` chunk ([`stdin_eof`]) closes the
    /// container's stdin; send it before ending `input` if the process
    /// should see EOF. The agent answers `200 OK` when `input` ends, or
    /// earlier with an error status ([`Error::Status`]: `404` for an
    /// unknown container; `500` "Not supported in local mode" from a Mesos
    /// 1.11 agent for a container without an I/O switchboard).
    /// The request timeout runs only while the agent has to act, never
    /// while `input` is silent; an item longer than the client's record
    /// limit fails the call with [`Error::Transport`] (and is not sent).
    ///
    /// ```no_run
    /// use mesos_operator::agent::calls_containers::{stdin, stdin_eof};
    /// use mesos_operator::proto::ContainerId;
    ///
    /// # async fn run(agent: mesos_operator::AgentClient, id: ContainerId) -> Result<(), mesos_operator::Error> {
    /// let input = futures::stream::iter([stdin("echo hello\n"), stdin_eof()]);
    /// agent.attach_container_input(id, input).await?;
    /// # Ok(()) }
    /// ```
    pub async fn attach_container_input<S>(
        &self,
        container_id: ContainerId,
        input: S,
    ) -> Result<(), Error>
    where
        S: Stream<Item = ProcessIo> + Send + 'static,
    {
        let name = Type::AttachContainerInput.as_str_name();
        let first = input_call(Some(container_id), None);
        let calls =
            stream::once(async move { first }).chain(input.map(|io| input_call(None, Some(io))));
        // The stream can be sent once: an agent client has one endpoint and
        // agents do not redirect, so `exchange` makes one attempt.
        let mut calls = Some(calls);
        let shared = &self.shared;
        self.endpoints
            .exchange(shared, name, |url| {
                let (http, calls) = (&shared.http, calls.take());
                async move {
                    match calls {
                        Some(calls) => http.call_streaming(&url, calls).await,
                        None => Err(mesos_http::Error::Request {
                            endpoint: mesos_http::redact_url(&url),
                            source: "the input stream was already sent to another endpoint".into(),
                        }),
                    }
                }
            })
            .await?;
        Ok(())
    }

    /// `ATTACH_CONTAINER_OUTPUT`: streams the output of a running container
    /// (launched with an I/O switchboard, e.g. a `LAUNCH_NESTED_CONTAINER_SESSION`
    /// or a debug container) as `ProcessIO` records.
    pub async fn attach_container_output(
        &self,
        container_id: ContainerId,
    ) -> Result<ProcessIoStream, Error> {
        self.stream(Call {
            attach_container_output: Some(c::AttachContainerOutput { container_id }),
            ..call(Type::AttachContainerOutput)
        })
        .await
    }

    /// `LAUNCH_CONTAINER`: launches a standalone container (no parent) or a
    /// nested one (`container_id` with a parent) with `resources`.
    pub async fn launch_container(
        &self,
        container_id: ContainerId,
        resources: Vec<Resource>,
        launch: ContainerLaunch,
    ) -> Result<(), Error> {
        self.execute(Call {
            launch_container: Some(c::LaunchContainer {
                container_id,
                command: launch.command,
                resources,
                container: launch.container,
                ..Default::default()
            }),
            ..call(Type::LaunchContainer)
        })
        .await
    }

    /// `WAIT_CONTAINER`: waits until the container ends; its exit status.
    pub async fn wait_container(
        &self,
        container_id: ContainerId,
    ) -> Result<response::WaitContainer, Error> {
        let call = Call {
            wait_container: Some(c::WaitContainer { container_id }),
            ..call(Type::WaitContainer)
        };
        self.query(call, |r| r.wait_container).await
    }

    /// `KILL_CONTAINER`: sends `signal` (default `SIGKILL`) to the container.
    pub async fn kill_container(
        &self,
        container_id: ContainerId,
        signal: Option<i32>,
    ) -> Result<(), Error> {
        self.execute(Call {
            kill_container: Some(c::KillContainer {
                container_id,
                signal,
            }),
            ..call(Type::KillContainer)
        })
        .await
    }

    /// `REMOVE_CONTAINER`: removes an ended nested container's runtime
    /// directory.
    ///
    /// `container_id` must have a parent: a Mesos 1.11 agent asked to
    /// remove a top-level container aborts (a `CHECK` in its
    /// containerizer), so the client refuses with
    /// [`Error::InvalidArgument`] without sending the call.
    pub async fn remove_container(&self, container_id: ContainerId) -> Result<(), Error> {
        require_parent(Type::RemoveContainer, &container_id)?;
        self.execute(Call {
            remove_container: Some(c::RemoveContainer { container_id }),
            ..call(Type::RemoveContainer)
        })
        .await
    }

    async fn stream(&self, call: Call) -> Result<ProcessIoStream, Error> {
        let name = call.r#type().as_str_name();
        let shared = &self.shared;
        let (_, subscription) = self
            .endpoints
            .exchange(shared, name, |url| {
                let (http, call) = (&shared.http, &call);
                async move { http.subscribe::<Call, ProcessIo>(&url, call).await }
            })
            .await?;
        Ok(ProcessIoStream {
            inner: subscription.events,
            call: name,
        })
    }
}

/// An `ATTACH_CONTAINER_INPUT` call: the opening one (`CONTAINER_ID`) or
/// one carrying `process_io` (`PROCESS_IO`).
fn input_call(container_id: Option<ContainerId>, process_io: Option<ProcessIo>) -> Call {
    let kind = if container_id.is_some() {
        c::attach_container_input::Type::ContainerId
    } else {
        c::attach_container_input::Type::ProcessIo
    };
    Call {
        attach_container_input: Some(c::AttachContainerInput {
            r#type: Some(kind as i32),
            container_id,
            process_io,
        }),
        ..call(Type::AttachContainerInput)
    }
}

/// A chunk of a container's stdin, for
/// [`AgentClient::attach_container_input`]. An empty chunk means EOF (see
/// [`stdin_eof`]).
pub fn stdin(data: impl Into<Bytes>) -> ProcessIo {
    ProcessIo {
        r#type: Some(process_io::Type::Data as i32),
        data: Some(process_io::Data {
            r#type: Some(process_io::data::Type::Stdin as i32),
            data: Some(data.into()),
        }),
        control: None,
    }
}

/// The end of a container's stdin (an empty stdin chunk), for
/// [`AgentClient::attach_container_input`].
pub fn stdin_eof() -> ProcessIo {
    stdin(Bytes::new())
}

/// Refuses a `REMOVE_*CONTAINER` of a top-level container (see
/// [`AgentClient::remove_container`]).
fn require_parent(kind: Type, container_id: &ContainerId) -> Result<(), Error> {
    if container_id.parent.is_some() {
        return Ok(());
    }
    Err(Error::InvalidArgument {
        call: kind.as_str_name(),
        reason: "only nested containers (with a parent) can be removed; \
                 a Mesos 1.11 agent aborts on a top-level one",
    })
}

/// The output of a container, as the agent streams it
/// (`ATTACH_CONTAINER_OUTPUT`, `LAUNCH_NESTED_CONTAINER_SESSION`): `ProcessIO`
/// records (stdout/stderr data, control messages). Ends when the container's
/// output does; dropping it closes the connection.
#[derive(Debug)]
pub struct ProcessIoStream {
    inner: mesos_http::EventStream<ProcessIo>,
    call: &'static str,
}

impl Stream for ProcessIoStream {
    type Item = Result<ProcessIo, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let call = self.call;
        Pin::new(&mut self.inner)
            .poll_next(cx)
            .map(|item| item.map(|r| r.map_err(|e| Error::from_http(call, e))))
    }
}
