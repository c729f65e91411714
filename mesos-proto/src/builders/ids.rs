//! Conversions from strings to the ID messages, so builders take `"1"`,
//! a `String` or an existing ID (e.g. `&offer.agent_id`) alike.

use crate::v1::{AgentId, ExecutorId, FrameworkId, OfferId, TaskId};

macro_rules! id_conversions {
    ($($id:ident),*) => {$(
        impl From<&str> for $id {
            fn from(value: &str) -> Self {
                $id { value: value.to_owned() }
            }
        }

        impl From<String> for $id {
            fn from(value: String) -> Self {
                $id { value }
            }
        }

        impl From<&String> for $id {
            fn from(value: &String) -> Self {
                $id { value: value.clone() }
            }
        }

        impl From<&$id> for $id {
            fn from(value: &$id) -> Self {
                value.clone()
            }
        }
    )*};
}

id_conversions!(AgentId, ExecutorId, FrameworkId, OfferId, TaskId);
