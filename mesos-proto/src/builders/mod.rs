//! Readable, validating builders for the Mesos messages a framework writes:
//! [`TaskInfo`](crate::v1::TaskInfo), [`CommandInfo`], [`ContainerInfo`] and
//! its [`DockerInfo`], [`ExecutorInfo`],
//! [`FrameworkInfo`](crate::v1::FrameworkInfo) and
//! [`Filters`](crate::v1::Filters).
//!
//! Setters take `self` and return the builder; `build()` checks what the
//! Mesos master would reject and returns a [`BuildError`] naming the message
//! and field (`TaskInfo.agent_id is required`), never panicking. A builder
//! sets only the fields you ask for (plus those Mesos requires), so the
//! result is the message you would have written by hand.
//!
//! Wherever a builder takes a nested message it takes anything that is
//! [`IntoMessage`]: the nested builder, the plain prost message, or a
//! `Result` of an earlier `build()`. Errors of nested builders surface from
//! the outer `build()`.
//!
//! The Docker task of the Java Mesos tutorial, for an offer:
//!
//! ```
//! use mesos_proto::builders::{CommandInfoBuilder, DockerInfoBuilder, DockerNetwork};
//! use mesos_proto::v1::{AgentId, TaskInfo};
//!
//! # let offer_agent_id = AgentId { value: "a1".into() };
//! let task = TaskInfo::builder("task 1", "1")
//!     .agent_id(&offer_agent_id)
//!     .cpus(1.0)
//!     .mem(128.0)
//!     .container(DockerInfoBuilder::new("busybox").network(DockerNetwork::Bridge))
//!     .command(CommandInfoBuilder::entrypoint()) // shell = false: run the image's entrypoint
//!     .build()?;
//!
//! assert_eq!(task.agent_id.value, "a1");
//! assert_eq!(task.command.and_then(|c| c.shell), Some(false));
//!
//! // Forgetting the agent is caught before the master sees it.
//! let error = TaskInfo::builder("task 2", "2")
//!     .cpus(1.0)
//!     .command(CommandInfoBuilder::shell("sleep 10"))
//!     .build()
//!     .unwrap_err();
//! assert_eq!(error.to_string(), "TaskInfo.agent_id is required");
//! # Ok::<(), mesos_proto::builders::BuildError>(())
//! ```

// First: its macros are in scope only in the modules declared after it.
#[macro_use]
mod setters;

mod checks;
mod command;
mod container;
mod docker;
mod error;
mod executor;
mod filters;
mod framework;
mod ids;
mod labels;
mod task;

pub use command::{CommandInfoBuilder, UriBuilder};
pub use container::ContainerInfoBuilder;
pub use docker::DockerInfoBuilder;
pub use error::BuildError;
pub use executor::ExecutorInfoBuilder;
pub use filters::filters;
pub use framework::FrameworkInfoBuilder;
pub use labels::labels;
pub use task::TaskInfoBuilder;

/// The Docker network modes (`ContainerInfo.DockerInfo.Network`).
pub use crate::v1::container_info::docker_info::Network as DockerNetwork;
/// Volume access modes (`Volume.Mode`: `Rw`, `Ro`).
pub use crate::v1::volume::Mode as VolumeMode;

use crate::v1::command_info::Uri;
use crate::v1::container_info::DockerInfo;
use crate::v1::{CommandInfo, ContainerInfo, ExecutorInfo};

/// Something a builder accepts as a nested message `T`: `T`'s builder, `T`
/// itself (used as is, unvalidated), or `Result<T, BuildError>`.
pub trait IntoMessage<T> {
    /// Builds (and validates) the message, or passes it through.
    fn into_message(self) -> Result<T, BuildError>;
}

macro_rules! plain_messages {
    ($($message:ty),*) => {$(
        impl IntoMessage<$message> for $message {
            fn into_message(self) -> Result<$message, BuildError> {
                Ok(self)
            }
        }

        impl IntoMessage<$message> for Result<$message, BuildError> {
            fn into_message(self) -> Result<$message, BuildError> {
                self
            }
        }
    )*};
}

plain_messages!(CommandInfo, ContainerInfo, DockerInfo, ExecutorInfo, Uri);
