//! Running user callbacks for the drivers: interruptible, and with panics
//! caught and turned into a message instead of unwinding into the runtime.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

/// How a callback run by [`run_callback`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackEnd {
    /// It returned.
    Returned,
    /// The interruption fired first; the callback was dropped at its
    /// `.await` point.
    Interrupted,
    /// It panicked, with this message.
    Panicked(String),
}

/// Runs `callback` until it returns, panics, or `interrupt` completes
/// (whichever comes first; an interruption already due wins). Both drivers
/// run every `Scheduler`/`Executor` callback through this, so that a panic
/// ends the driver with a typed failure instead of killing its task, and
/// `stop` can end a callback that waits forever.
///
/// ```
/// use mesos_http::{run_callback, CallbackEnd};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let never = std::future::pending::<()>();
/// assert_eq!(run_callback(async {}, never).await, CallbackEnd::Returned);
/// let end = run_callback(async { panic!("boom") }, std::future::pending::<()>()).await;
/// assert_eq!(end, CallbackEnd::Panicked("boom".into()));
/// let end = run_callback(std::future::pending::<()>(), async {}).await;
/// assert_eq!(end, CallbackEnd::Interrupted);
/// # }
/// ```
pub async fn run_callback(
    callback: impl Future<Output = ()>,
    interrupt: impl Future<Output = ()>,
) -> CallbackEnd {
    let callback = AssertUnwindSafe(callback).catch_unwind();
    tokio::select! {
        biased;
        _ = interrupt => CallbackEnd::Interrupted,
        outcome = callback => match outcome {
            Ok(()) => CallbackEnd::Returned,
            Err(panic) => CallbackEnd::Panicked(panic_message(panic.as_ref())),
        },
    }
}

/// Spawns a driver's `event_loop` on `runtime` with a supervisor: whatever
/// ends the loop, `on_end` runs with its output, or with `Err(message)`
/// when the loop panicked (the panic's message) or was cancelled (the
/// runtime shutting down). Both drivers start so, so that a failure inside
/// the driver itself still ends it rather than leaving it running.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let (tx, rx) = tokio::sync::oneshot::channel();
/// let runtime = tokio::runtime::Handle::current();
/// mesos_http::spawn_supervised(&runtime, async { panic!("bug") }, move |ended: Result<(), String>| {
///     let _ = tx.send(ended);
/// });
/// assert_eq!(rx.await.unwrap(), Err("bug".to_string()));
/// # }
/// ```
pub fn spawn_supervised<T, F, E>(runtime: &tokio::runtime::Handle, event_loop: F, on_end: E)
where
    T: Send + 'static,
    F: Future<Output = T> + Send + 'static,
    E: FnOnce(Result<T, String>) + Send + 'static,
{
    let event_loop = runtime.spawn(event_loop);
    runtime.spawn(async move {
        let ended = event_loop.await.map_err(|e| {
            if e.is_panic() {
                panic_message(e.into_panic().as_ref())
            } else {
                "the event loop was cancelled (runtime shutting down)".to_string()
            }
        });
        on_end(ended);
    });
}

/// The message of a caught panic (`panic!("...")` payloads are `&str` or
/// `String`), for the drivers that turn a panicking callback or task into a
/// typed failure.
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 42)).unwrap_err();
/// assert_eq!(mesos_http::panic_message(payload.as_ref()), "boom 42");
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}
