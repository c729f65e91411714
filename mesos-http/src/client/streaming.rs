//! Calls whose request body is a RecordIO stream of calls (the agent's
//! `ATTACH_CONTAINER_INPUT`): `Content-Type: application/recordio`, each
//! record a call in the client's media type (`Message-Content-Type`).

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::stream::{BoxStream, StreamExt};
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Uri};
use http_body::{Body, Frame};
use http_body_util::Either;
use mesos_proto::codec::WireMessage;
use mesos_proto::recordio::encode_record;
use mesos_proto::MediaType;
use tokio::sync::watch;

use super::{finish, transport_error, CallResponse, Client};
use crate::headers::{MESSAGE_CONTENT_TYPE, RECORDIO_MIME};
use crate::{redact_url, BoxError, Error, RedactedUrl};

/// A request body that frames each call of a stream as one RecordIO record.
///
/// It tells the caller whose turn it is (`true`: it waits for the next call
/// from the caller's stream, `false`: hyper has a record to write, or the
/// stream has ended), so that the request timeout runs only while the
/// server is the one to act. A call that cannot be sent (not encodable, or
/// over the record limit) ends the body with an error and is kept in
/// `failure` for the caller.
pub(crate) struct RecordBody {
    records: BoxStream<'static, Result<Bytes, Error>>,
    waiting_for_caller: watch::Sender<bool>,
    failure: Arc<Mutex<Option<Error>>>,
    done: bool,
}

/// What hyper sees when the body ends with an error (the error itself goes
/// to the caller of [`Client::call_streaming`]).
#[derive(Debug, thiserror::Error)]
#[error("the streamed request was aborted: a call could not be sent")]
struct Aborted;

impl RecordBody {
    fn set_waiting(&self, waiting: bool) {
        self.waiting_for_caller.send_if_modified(|current| {
            let changed = *current != waiting;
            *current = waiting;
            changed
        });
    }
}

impl Body for RecordBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        if self.done {
            return Poll::Ready(None);
        }
        self.set_waiting(true);
        let polled = self.records.poll_next_unpin(cx);
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(record))) => {
                self.set_waiting(false);
                Poll::Ready(Some(Ok(Frame::data(record))))
            }
            Poll::Ready(Some(Err(error))) => {
                self.done = true;
                self.set_waiting(false);
                *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
                Poll::Ready(Some(Err(Box::new(Aborted))))
            }
            Poll::Ready(None) => {
                self.done = true;
                self.set_waiting(false);
                Poll::Ready(None)
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }
}

/// Encodes `call` as one RecordIO record, refusing one over `limit` bytes.
fn record<C: WireMessage>(
    media: MediaType,
    limit: usize,
    endpoint: &str,
    call: &C,
) -> Result<Bytes, Error> {
    let message = media.encode(call).map_err(Error::Encode)?;
    if message.len() > limit {
        return Err(Error::RequestRecordTooLarge {
            endpoint: endpoint.to_string(),
            len: message.len(),
            limit,
        });
    }
    let mut framed = BytesMut::with_capacity(message.len() + 21);
    encode_record(&message, &mut framed);
    Ok(framed.freeze())
}

impl Client {
    /// POSTs a stream of calls to `url` as one request whose body is a
    /// RecordIO stream (`Content-Type: application/recordio`), each record a
    /// call in the client's media type (`Message-Content-Type`), and waits
    /// for the answer. This is how the agent's `ATTACH_CONTAINER_INPUT`
    /// is sent; the agent answers when the stream ends, or earlier with an
    /// error status.
    ///
    /// Each record is sent as soon as `calls` yields it; the body ends when
    /// `calls` does. The answer is mapped as [`Client::call`]'s: a 2xx with
    /// its body, or the [`Error`] of its status (an early error answer ends
    /// the upload). Credentials, TLS and the response limit are those of
    /// every call.
    ///
    /// # Limits and timeouts
    /// A call whose encoding is longer than
    /// [`ClientBuilder::max_record_len`](crate::ClientBuilder::max_record_len)
    /// is not sent: the request is aborted and the call fails with
    /// [`Error::RequestRecordTooLarge`]. The request timeout runs only while
    /// the server has to act (connecting, taking a record, answering after
    /// the stream's end), never while the client waits for the next call of
    /// `calls`: an interactive input may pause for as long as it likes,
    /// while a server that stops reading or never answers fails the call
    /// with [`Error::Timeout`].
    ///
    /// ```no_run
    /// use mesos_http::{parse_url, Client};
    /// use mesos_proto::v1::agent::{call, Call};
    ///
    /// # async fn run(first: Call, rest: Vec<Call>) -> Result<(), mesos_http::Error> {
    /// let client = Client::builder().build()?;
    /// let url = parse_url("http://127.0.0.1:5051/api/v1")?;
    /// let calls = futures_util::stream::iter(std::iter::once(first).chain(rest));
    /// client.call_streaming(&url, calls).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call_streaming<C, S>(&self, url: &Uri, calls: S) -> Result<CallResponse, Error>
    where
        C: WireMessage,
        S: Stream<Item = C> + Send + 'static,
    {
        let media = self.config.media;
        let limit = self.config.max_record_len;
        let endpoint = redact_url(url);
        let records = calls
            .map(move |call| record(media, limit, &endpoint, &call))
            .boxed();
        // The server acts first: until hyper asks for a record, the clock runs.
        let (waiting_for_caller, mut turn) = watch::channel(false);
        let failure = Arc::new(Mutex::new(None));
        let body = RecordBody {
            records,
            waiting_for_caller,
            failure: failure.clone(),
            done: false,
        };
        let builder = self
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static(RECORDIO_MIME))
            .header(MESSAGE_CONTENT_TYPE, HeaderValue::from_static(media.mime()));
        let request = finish(url, builder, Either::Right(body))?;
        tracing::debug!(endpoint = %RedactedUrl(url), "streaming call");
        let timeout = self.config.request_timeout;
        let exchange = self.inner.request(request);
        tokio::pin!(exchange);
        // Once the body is gone (sent or dropped), only the answer is left.
        let mut body_gone = false;
        let outcome = loop {
            let clock = body_gone || !*turn.borrow_and_update();
            let deadline = tokio::time::sleep(timeout);
            tokio::select! {
                outcome = &mut exchange => break outcome,
                changed = turn.changed(), if !body_gone => body_gone = changed.is_err(),
                () = deadline, if clock => {
                    return Err(Error::Timeout { endpoint: redact_url(url), timeout });
                }
            }
        };
        let response = match outcome {
            Ok(response) => response,
            Err(e) => {
                let refused = failure
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                return Err(refused.unwrap_or_else(|| transport_error(url, e)));
            }
        };
        self.read_answer(url, response).await
    }
}
