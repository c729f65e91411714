//! The event stream of a subscription: HTTP body → RecordIO → messages.

use std::fmt;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use http_body_util::BodyDataStream;
use hyper::body::Incoming;
use mesos_proto::codec::WireMessage;
use mesos_proto::recordio::{RecordIoError, RecordStream};
use mesos_proto::MediaType;

use crate::Error;

/// The events of one subscription, decoded from the RecordIO body of the
/// SUBSCRIBE response.
///
/// Items:
/// - `Ok(event)` for each record;
/// - `Err(Error::Decode)` for a record that is not a valid message: the
///   stream stays in sync and goes on;
/// - `Err(Error::Framing)` when the framing breaks (bad length prefix, a
///   record over the size limit, the connection cut mid-record), after which
///   the stream ends (`None`): reconnect and subscribe again.
///
/// The stream ends (`None`) without an error when the server closes it
/// cleanly between records. Dropping it closes the connection.
pub struct EventStream<E> {
    records: RecordStream<BodyDataStream<Incoming>>,
    media: MediaType,
    endpoint: String,
    _event: PhantomData<fn() -> E>,
}

impl<E> EventStream<E> {
    pub(crate) fn new(
        records: RecordStream<BodyDataStream<Incoming>>,
        media: MediaType,
        endpoint: String,
    ) -> Self {
        EventStream {
            records,
            media,
            endpoint,
            _event: PhantomData,
        }
    }

    /// The media type the events are decoded from.
    pub fn media_type(&self) -> MediaType {
        self.media
    }
}

impl<E> fmt::Debug for EventStream<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("endpoint", &self.endpoint)
            .field("media", &self.media)
            .finish_non_exhaustive()
    }
}

impl<E: WireMessage> Stream for EventStream<E> {
    type Item = Result<E, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let record: Bytes = match Pin::new(&mut this.records).poll_next(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Ok(record))) => record,
            Poll::Ready(Some(Err(e))) => {
                let endpoint = this.endpoint.clone();
                let error = match e {
                    // The body itself failed (connection reset or cut): the
                    // subscription is lost, as with a framing error.
                    RecordIoError::Source(source) => Error::Request { endpoint, source },
                    other => Error::Framing {
                        endpoint,
                        source: other,
                    },
                };
                return Poll::Ready(Some(Err(error)));
            }
        };
        Poll::Ready(Some(this.media.decode(&record).map_err(|source| {
            Error::Decode {
                endpoint: this.endpoint.clone(),
                source,
            }
        })))
    }
}
