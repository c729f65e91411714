//! [`RecordStream`]: records out of a stream of byte chunks.

use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::stream::{FusedStream, Stream};

use super::{RecordIoCodec, RecordIoError};

/// A [`Stream`] of RecordIO records decoded from a stream of byte chunks,
/// such as the data frames of a Mesos event stream's HTTP response body.
///
/// The chunks may split records anywhere. Each item is one record, or an
/// error:
///
/// - an error of the inner stream becomes [`RecordIoError::Source`];
/// - a malformed stream gives the decoder's framing error;
/// - an inner stream that ends in the middle of a record gives one
///   [`RecordIoError::Truncated`].
///
/// After an error, or once the inner stream has ended and every record has
/// been yielded, the stream is finished and only yields `None`
/// ([`FusedStream`]).
///
/// The inner stream must be [`Unpin`]; wrap it with `Box::pin` if it is not.
/// Memory use is bounded by the codec's
/// [`max_record_len`](RecordIoCodec::max_record_len) plus one chunk: a new
/// chunk is only polled for when the buffered bytes do not complete a record.
///
/// ```
/// use bytes::Bytes;
/// use futures::{executor::block_on, stream, StreamExt};
/// use mesos_proto::recordio::RecordStream;
///
/// let chunks = [&b"5\nhel"[..], b"lo2\n", b"{}"];
/// let body = stream::iter(chunks.map(|c| Ok::<_, std::io::Error>(Bytes::from_static(c))));
/// let records: Vec<_> = block_on(RecordStream::new(body).collect());
/// let records: Vec<Bytes> = records.into_iter().collect::<Result<_, _>>()?;
/// assert_eq!(records, [&b"hello"[..], b"{}"]);
/// # Ok::<(), mesos_proto::recordio::RecordIoError>(())
/// ```
#[derive(Debug)]
#[must_use = "streams do nothing unless polled"]
pub struct RecordStream<S> {
    inner: S,
    codec: RecordIoCodec,
    buf: BytesMut,
    phase: Phase,
}

/// How far the [`RecordStream`] has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The inner stream may deliver more chunks.
    Reading,
    /// The inner stream has ended; buffered records are being drained.
    Draining,
    /// Everything has been yielded, or an error has: only `None` from now on.
    Done,
}

impl<S> RecordStream<S> {
    /// Decodes the chunks of `inner` with a default [`RecordIoCodec`]
    /// (records up to [`DEFAULT_MAX_RECORD_LEN`](super::DEFAULT_MAX_RECORD_LEN)).
    pub fn new(inner: S) -> Self {
        Self::with_codec(inner, RecordIoCodec::new())
    }

    /// Decodes the chunks of `inner` with `codec`, e.g. one built with
    /// [`RecordIoCodec::with_max_record_len`].
    pub fn with_codec(inner: S, codec: RecordIoCodec) -> Self {
        Self {
            inner,
            codec,
            buf: BytesMut::new(),
            phase: Phase::Reading,
        }
    }

    /// The codec, e.g. to read its limit.
    pub fn codec(&self) -> &RecordIoCodec {
        &self.codec
    }

    /// The inner stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner stream, mutably. Taking chunks from it directly would corrupt
    /// the framing.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Gives back the inner stream, dropping any buffered bytes.
    pub fn into_inner(self) -> S {
        self.inner
    }

    /// Ends the stream with `result` if it is an error, passing records on.
    fn finish_on_error(
        &mut self,
        result: Result<Option<Bytes>, RecordIoError>,
    ) -> Result<Option<Bytes>, RecordIoError> {
        if result.is_err() {
            self.phase = Phase::Done;
            self.buf = BytesMut::new();
        }
        result
    }
}

impl<S, E> Stream for RecordStream<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    type Item = Result<Bytes, RecordIoError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            match this.phase {
                Phase::Done => return Poll::Ready(None),
                Phase::Draining => {
                    let result = this.codec.decode_eof(&mut this.buf);
                    let result = this.finish_on_error(result);
                    if matches!(result, Ok(None)) {
                        this.phase = Phase::Done;
                    }
                    return Poll::Ready(result.transpose());
                }
                Phase::Reading => {
                    let result = this.codec.decode(&mut this.buf);
                    if let Some(item) = this.finish_on_error(result).transpose() {
                        return Poll::Ready(Some(item));
                    }
                    match ready!(Pin::new(&mut this.inner).poll_next(cx)) {
                        Some(Ok(chunk)) => this.buf.extend_from_slice(&chunk),
                        Some(Err(error)) => {
                            this.phase = Phase::Done;
                            this.buf = BytesMut::new();
                            return Poll::Ready(Some(Err(RecordIoError::Source(error.into()))));
                        }
                        None => this.phase = Phase::Draining,
                    }
                }
            }
        }
    }
}

impl<S, E> FusedStream for RecordStream<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: Into<Box<dyn StdError + Send + Sync>>,
{
    fn is_terminated(&self) -> bool {
        self.phase == Phase::Done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use futures::executor::block_on;
    use futures::{stream, StreamExt};

    type Chunk = Result<Bytes, std::io::Error>;

    fn chunks(parts: &[&'static [u8]]) -> stream::Iter<std::vec::IntoIter<Chunk>> {
        let parts: Vec<Chunk> = parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        stream::iter(parts)
    }

    #[test]
    fn empty_input_is_an_empty_stream() {
        let mut records = RecordStream::new(chunks(&[]));
        assert!(!records.is_terminated());
        assert!(block_on(records.next()).is_none());
        assert!(records.is_terminated());
        assert!(block_on(records.next()).is_none());
    }

    #[test]
    fn empty_chunks_are_skipped() {
        let records = RecordStream::new(chunks(&[b"", b"1", b"", b"\nz", b""]));
        let records: Vec<_> = block_on(records.collect());
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].as_deref().unwrap(), b"z");
    }

    #[test]
    fn buffered_records_are_yielded_before_polling_for_more() {
        // The second chunk would fail: it must not be polled before both
        // records of the first chunk have been yielded.
        let parts: Vec<Chunk> = vec![
            Ok(Bytes::from_static(b"1\na1\nb")),
            Err(std::io::Error::other("reset")),
        ];
        let mut records = RecordStream::new(stream::iter(parts));
        assert_eq!(block_on(records.next()).unwrap().unwrap(), &b"a"[..]);
        assert_eq!(block_on(records.next()).unwrap().unwrap(), &b"b"[..]);
        assert!(matches!(
            block_on(records.next()),
            Some(Err(RecordIoError::Source(_)))
        ));
        assert!(records.is_terminated());
        assert!(block_on(records.next()).is_none());
    }

    #[test]
    fn framing_error_ends_the_stream() {
        let mut records = RecordStream::new(chunks(&[b"1\na", b"x\n", b"1\nb"]));
        assert_eq!(block_on(records.next()).unwrap().unwrap(), &b"a"[..]);
        assert!(matches!(
            block_on(records.next()),
            Some(Err(RecordIoError::InvalidLengthByte {
                byte: b'x',
                position: 0
            }))
        ));
        assert!(records.is_terminated());
        assert!(block_on(records.next()).is_none());
    }

    #[test]
    fn pending_inner_stream_is_pending() {
        let inner = chunks(&[b"3\nab"]).chain(stream::pending());
        let mut records = RecordStream::new(inner);
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut records).poll_next(&mut cx).is_pending());
        assert!(!records.is_terminated());
    }
}
