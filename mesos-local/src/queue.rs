//! The bounded event queue behind every event stream (scheduler and
//! executor subscriptions).
//!
//! A subscriber that stops reading must not make the server buffer
//! forever: once `capacity` events wait, the queue is dropped at once (its
//! memory with it) and the stream ends, and whoever sends learns it (to
//! log why and to treat the subscriber as disconnected). A stream the
//! server closes on purpose ([`EventSender::close`]) delivers what is
//! queued first.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::Stream;
use tokio::sync::Notify;

/// Default bound of a subscriber's queue (events waiting to be written):
/// 10,000 (a few MiB).
pub const DEFAULT_MAX_QUEUED_EVENTS: usize = 10_000;

/// How a queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ended {
    /// Closed by the server: queued events are still delivered.
    Closed,
    /// The subscriber did not keep up: queued events were dropped.
    Overflow,
    /// The subscriber went away (the receiver was dropped).
    Gone,
}

#[derive(Debug)]
struct State<E> {
    events: VecDeque<E>,
    ended: Option<Ended>,
}

#[derive(Debug)]
struct Shared<E> {
    state: Mutex<State<E>>,
    /// Wakes the receiver (an event or the end).
    readable: Notify,
    /// Wakes whoever waits in [`EventSender::ended`].
    ending: Notify,
    capacity: usize,
    /// Live senders: when the last one goes, the queue is closed.
    senders: AtomicUsize,
}

impl<E> Shared<E> {
    fn lock(&self) -> MutexGuard<'_, State<E>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn end(&self, how: Ended) {
        let mut state = self.lock();
        if state.ended.is_some() {
            return;
        }
        state.ended = Some(how);
        if how != Ended::Closed {
            state.events = VecDeque::new();
        }
        drop(state);
        self.readable.notify_one();
        self.ending.notify_waiters();
    }
}

/// A queue of at most `capacity` events (at least 1).
pub(crate) fn channel<E>(capacity: usize) -> (EventSender<E>, EventReceiver<E>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            events: VecDeque::new(),
            ended: None,
        }),
        readable: Notify::new(),
        ending: Notify::new(),
        capacity: capacity.max(1),
        senders: AtomicUsize::new(1),
    });
    (
        EventSender {
            shared: Arc::clone(&shared),
        },
        EventReceiver { shared },
    )
}

/// The sending half; clones share the queue.
#[derive(Debug)]
pub(crate) struct EventSender<E> {
    shared: Arc<Shared<E>>,
}

impl<E> Clone for EventSender<E> {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        EventSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<E> Drop for EventSender<E> {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.end(Ended::Closed);
        }
    }
}

/// Why an event was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SendError {
    /// This event filled the queue past its bound: the queue was dropped
    /// and the stream ends now.
    Overflow {
        /// The bound.
        capacity: usize,
    },
    /// The queue had already ended.
    Ended(Ended),
}

impl<E> EventSender<E> {
    /// Queues an event.
    pub(crate) fn send(&self, event: E) -> Result<(), SendError> {
        let mut state = self.shared.lock();
        if let Some(ended) = state.ended {
            return Err(SendError::Ended(ended));
        }
        if state.events.len() >= self.shared.capacity {
            drop(state);
            self.shared.end(Ended::Overflow);
            return Err(SendError::Overflow {
                capacity: self.shared.capacity,
            });
        }
        state.events.push_back(event);
        drop(state);
        self.shared.readable.notify_one();
        Ok(())
    }

    /// Ends the stream once the queued events are delivered.
    pub(crate) fn close(&self) {
        self.shared.end(Ended::Closed);
    }

    /// How the queue ended, if it has.
    pub(crate) fn ended_how(&self) -> Option<Ended> {
        self.shared.lock().ended
    }

    /// Resolves when the queue ends, however.
    pub(crate) async fn ended(&self) -> Ended {
        loop {
            let notified = self.shared.ending.notified();
            if let Some(how) = self.ended_how() {
                return how;
            }
            notified.await;
        }
    }

    /// Events waiting.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.shared.lock().events.len()
    }
}

/// The receiving half: a stream of the queued events, ending when the
/// queue does. Dropping it ends the queue ([`Ended::Gone`]).
#[derive(Debug)]
pub(crate) struct EventReceiver<E> {
    shared: Arc<Shared<E>>,
}

impl<E> EventReceiver<E> {
    /// The next event, or `None` once the queue has ended (after the
    /// queued events when the server closed it).
    pub(crate) async fn recv(&mut self) -> Option<E> {
        loop {
            let notified = self.shared.readable.notified();
            {
                let mut state = self.shared.lock();
                if let Some(event) = state.events.pop_front() {
                    return Some(event);
                }
                if state.ended.is_some() {
                    return None;
                }
            }
            notified.await;
        }
    }

    /// Turns it into a `Stream` (for a response body).
    pub(crate) fn into_stream(self) -> impl Stream<Item = E> + Send + 'static
    where
        E: Send + 'static,
    {
        futures::stream::unfold(self, |mut rx| async move {
            let event = rx.recv().await?;
            Some((event, rx))
        })
    }
}

impl<E> Drop for EventReceiver<E> {
    fn drop(&mut self) {
        self.shared.end(Ended::Gone);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    #[tokio::test]
    async fn close_delivers_what_is_queued() {
        let (tx, rx) = channel(4);
        tx.send(1).unwrap();
        tx.send(2).unwrap();
        tx.close();
        assert_eq!(tx.send(3), Err(SendError::Ended(Ended::Closed)));
        assert_eq!(rx.into_stream().collect::<Vec<_>>().await, vec![1, 2]);
    }

    #[tokio::test]
    async fn overflow_drops_the_queue_and_ends_the_stream() {
        let (tx, mut rx) = channel(3);
        for i in 0..3 {
            tx.send(i).unwrap();
        }
        assert_eq!(tx.send(3), Err(SendError::Overflow { capacity: 3 }));
        assert_eq!(tx.len(), 0);
        assert_eq!(tx.ended().await, Ended::Overflow);
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn dropping_the_last_sender_closes() {
        let (tx, mut rx) = channel(3);
        let other = tx.clone();
        tx.send(1).unwrap();
        drop(tx);
        other.send(2).unwrap();
        drop(other);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_dropped_receiver_ends_the_queue() {
        let (tx, rx) = channel::<u8>(3);
        let waiter = tokio::spawn({
            let tx = tx.clone();
            async move { tx.ended().await }
        });
        drop(rx);
        assert_eq!(waiter.await.unwrap(), Ended::Gone);
        assert_eq!(tx.send(1), Err(SendError::Ended(Ended::Gone)));
    }
}
