//! The relay of one event stream: RecordIO records from upstream, decoded
//! just enough to apply the armed faults, framed again for the client.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use mesos_proto::recordio::{encode_record, RecordIoCodec};
use mesos_proto::MediaType;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::fault::EventAction;
use super::records::{SubscribeOutcome, UpdateSeen};
use super::wire::{EventInfo, EventKind};
use super::{BoxError, Shared};

/// A held (reordered) event is relayed after this long even if no other
/// event came to swap it with.
const SWAP_PATIENCE: Duration = Duration::from_secs(2);

/// What the client's body receives: bytes, or an error that makes hyper
/// close the connection without ending the chunked body.
pub(crate) type Chunk = Result<Bytes, BoxError>;

/// Relays `upstream` (the body of SUBSCRIBE attempt number `attempt`) in
/// `media` to `tx` until either side ends or the proxy shuts down.
pub(crate) async fn relay(
    shared: Arc<Shared>,
    attempt: usize,
    media: MediaType,
    upstream: Incoming,
    tx: mpsc::Sender<Chunk>,
) {
    let mut relay = Relay {
        shared: shared.clone(),
        attempt,
        media,
        tx,
        swapped: None,
    };
    relay.run(upstream).await;
    let at = shared.since();
    if let Some(seen) = shared.records().subscribes.get_mut(attempt) {
        seen.ended = Some(at);
    }
}

struct Relay {
    shared: Arc<Shared>,
    attempt: usize,
    media: MediaType,
    tx: mpsc::Sender<Chunk>,
    /// A held event waiting to be swapped with the next one, and until when.
    swapped: Option<(Bytes, Instant)>,
}

/// Whether the relay goes on.
type Go = Result<(), ()>;

impl Relay {
    async fn run(&mut self, mut upstream: Incoming) {
        let mut codec = RecordIoCodec::new();
        let mut buf = BytesMut::new();
        let mut queue: VecDeque<Bytes> = VecDeque::new();
        let mut upstream_done = false;
        loop {
            let now = Instant::now();
            let held = self.shared.armed().held_until(now);
            if held.is_none() {
                while let Some(record) = queue.pop_front() {
                    if self.process(record).await.is_err() {
                        return;
                    }
                }
                if let Some((record, until)) = self.swapped.take() {
                    if until <= now || upstream_done {
                        if self.send(&record).await.is_err() {
                            return;
                        }
                    } else {
                        self.swapped = Some((record, until));
                    }
                }
                if upstream_done {
                    return;
                }
            }
            let wake = held.or(self.swapped.as_ref().map(|(_, until)| *until));
            tokio::select! {
                _ = self.shared.shutdown.cancelled() => return,
                _ = self.tx.closed() => return,
                _ = sleep_until(wake) => {}
                frame = upstream.frame(), if !upstream_done => match frame {
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            buf.extend_from_slice(&data);
                            loop {
                                match codec.decode(&mut buf) {
                                    Ok(Some(record)) => queue.push_back(record),
                                    Ok(None) => break,
                                    Err(e) => {
                                        tracing::warn!(error = %e, "upstream stream malformed");
                                        upstream_done = true;
                                        break;
                                    }
                                }
                            }
                        }
                    }
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "upstream stream failed");
                        upstream_done = true;
                    }
                    None => upstream_done = true,
                },
            }
        }
    }

    /// Applies the faults to one record and relays what remains of it.
    async fn process(&mut self, record: Bytes) -> Go {
        let info = self.shared.api.event(self.media, &record);
        let action = self.shared.armed().on_event(info.kind, Instant::now());
        if action != EventAction::Relay {
            self.shared.note_fault(format!(
                "{action:?} {} (stream {})",
                info.name, self.attempt
            ));
        }
        self.note(&info, action);
        match action {
            EventAction::Relay => {
                self.send(&record).await?;
                self.release_swapped(&info).await
            }
            EventAction::Drop => Ok(()),
            EventAction::Duplicate => {
                self.send(&record).await?;
                self.send(&record).await?;
                self.release_swapped(&info).await
            }
            EventAction::Swap => {
                if let Some((earlier, _)) = self.swapped.take() {
                    self.send(&earlier).await?;
                }
                self.swapped = Some((record, Instant::now() + SWAP_PATIENCE));
                Ok(())
            }
            EventAction::Cut => {
                let mut framed = BytesMut::new();
                encode_record(&record, &mut framed);
                let half = framed.len() / 2;
                let partial = framed.freeze().slice(..half.max(1));
                self.tx.send(Ok(partial)).await.map_err(|_| ())?;
                let _ = self.tx.send(Err(BoxError::new("injected cut"))).await;
                Err(())
            }
        }
    }

    /// After an event went out, the one held for a swap follows it.
    async fn release_swapped(&mut self, info: &EventInfo) -> Go {
        if info.kind == EventKind::Subscribed {
            return Ok(());
        }
        match self.swapped.take() {
            Some((held, _)) => self.send(&held).await,
            None => Ok(()),
        }
    }

    /// Records what the event means for the invariants.
    fn note(&self, info: &EventInfo, action: EventAction) {
        let at = self.shared.since();
        let mut records = self.shared.records();
        if let (EventKind::Subscribed, Some(id)) = (info.kind, &info.framework_id) {
            if let Some(seen) = records.subscribes.get_mut(self.attempt) {
                seen.outcome = SubscribeOutcome::Subscribed(id.clone());
            }
        }
        if let Some(status) = &info.update {
            let copies = match action {
                EventAction::Drop | EventAction::Cut => 0,
                EventAction::Duplicate => 2,
                EventAction::Relay | EventAction::Swap => 1,
            };
            records.updates.push(UpdateSeen {
                at,
                status: status.clone(),
                copies,
            });
        }
    }

    async fn send(&self, record: &[u8]) -> Go {
        let mut framed = BytesMut::with_capacity(record.len() + 12);
        encode_record(record, &mut framed);
        self.tx.send(Ok(framed.freeze())).await.map_err(|_| ())
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
