//! Reading HTTP/1.1 responses one after another from a connection's bytes:
//! the answers to pipelined calls, in order.
//!
//! The parser is incremental: [`ResponseParser::next`] takes what a response
//! needs from the front of the buffer once it is all there, and otherwise
//! leaves the buffer alone (apart from chunks already decoded) until more
//! bytes arrive. Every size it keeps is bounded.

use bytes::{Buf, Bytes, BytesMut};
use http::StatusCode;

/// The largest status line plus headers of a response: 64 KiB.
pub(crate) const MAX_HEAD_LEN: usize = 64 * 1024;

/// The most headers a response may carry.
const MAX_HEADERS: usize = 64;

/// One whole response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) content_type: Option<String>,
    pub(crate) location: Option<String>,
    pub(crate) body: Bytes,
    /// The server closes the connection after this response
    /// (`Connection: close`, or HTTP/1.0 without keep-alive).
    pub(crate) closes: bool,
}

/// Why the bytes are not a response we can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ParseError {
    /// The status line or a header is not HTTP/1.x.
    #[error("malformed response head: {0}")]
    Head(String),
    /// The status line and headers outgrew [`MAX_HEAD_LEN`].
    #[error("response head larger than {MAX_HEAD_LEN} bytes")]
    HeadTooLarge,
    /// `Content-Length` is not a number, or two disagree.
    #[error("invalid Content-Length")]
    ContentLength,
    /// A chunk of a chunked body is malformed.
    #[error("malformed chunked body")]
    Chunk,
    /// The body is larger than the limit (status of the response).
    #[error("response body larger than {limit} bytes")]
    TooLarge {
        /// The status of the response that is too large.
        status: StatusCode,
        /// The limit.
        limit: usize,
    },
    /// A `101 Switching Protocols`: no call is answered that way.
    #[error("unexpected protocol switch")]
    Upgrade,
}

/// How the body of the response being read is delimited.
#[derive(Debug)]
enum Framing {
    Length(usize),
    /// Chunked: the chunks decoded so far.
    Chunked(BytesMut),
    /// Until the server closes the connection.
    UntilClose,
}

#[derive(Debug)]
struct Head {
    status: StatusCode,
    content_type: Option<String>,
    location: Option<String>,
    closes: bool,
    framing: Framing,
}

/// Reads consecutive responses; see the module docs.
#[derive(Debug)]
pub(crate) struct ResponseParser {
    max_body_len: usize,
    head: Option<Head>,
}

impl ResponseParser {
    /// A parser accepting bodies of at most `max_body_len` bytes.
    pub(crate) fn new(max_body_len: usize) -> Self {
        ResponseParser {
            max_body_len,
            head: None,
        }
    }

    /// The next whole response at the front of `buf`, taken out of it;
    /// `Ok(None)` when more bytes are needed.
    pub(crate) fn next(&mut self, buf: &mut BytesMut) -> Result<Option<RawResponse>, ParseError> {
        loop {
            if self.head.is_none() {
                match parse_head(buf, self.max_body_len)? {
                    None => return Ok(None),
                    Some(head) if head.status.is_informational() => {
                        if head.status == StatusCode::SWITCHING_PROTOCOLS {
                            return Err(ParseError::Upgrade);
                        }
                        // `100 Continue` and the like precede the answer.
                        continue;
                    }
                    Some(head) => self.head = Some(head),
                }
            }
            let Some(head) = self.head.as_mut() else {
                return Ok(None);
            };
            let body = match &mut head.framing {
                Framing::Length(len) => {
                    if buf.len() < *len {
                        return Ok(None);
                    }
                    buf.split_to(*len).freeze()
                }
                Framing::Chunked(decoded) => {
                    match decode_chunks(buf, decoded, self.max_body_len, head.status)? {
                        false => return Ok(None),
                        true => std::mem::take(decoded).freeze(),
                    }
                }
                Framing::UntilClose => {
                    if buf.len() > self.max_body_len {
                        return Err(ParseError::TooLarge {
                            status: head.status,
                            limit: self.max_body_len,
                        });
                    }
                    return Ok(None);
                }
            };
            let head = self.head.take().expect("checked above");
            return Ok(Some(RawResponse {
                status: head.status,
                content_type: head.content_type,
                location: head.location,
                body,
                closes: head.closes,
            }));
        }
    }

    /// The connection ended: a response whose body runs until the close is
    /// complete now; any other response in progress is cut short.
    pub(crate) fn finish(&mut self, buf: &mut BytesMut) -> Option<RawResponse> {
        let head = self.head.take()?;
        match head.framing {
            Framing::UntilClose => Some(RawResponse {
                status: head.status,
                content_type: head.content_type,
                location: head.location,
                body: buf.split().freeze(),
                closes: true,
            }),
            _ => None,
        }
    }
}

/// Parses the status line and headers at the front of `buf` (taking them
/// out) once they are all there.
fn parse_head(buf: &mut BytesMut, max_body_len: usize) -> Result<Option<Head>, ParseError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let head_len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => {
            if buf.len() > MAX_HEAD_LEN {
                return Err(ParseError::HeadTooLarge);
            }
            return Ok(None);
        }
        Err(e) => return Err(ParseError::Head(e.to_string())),
    };
    if head_len > MAX_HEAD_LEN {
        return Err(ParseError::HeadTooLarge);
    }
    let code = response
        .code
        .ok_or_else(|| ParseError::Head("no status code".into()))?;
    let status = StatusCode::from_u16(code).map_err(|e| ParseError::Head(e.to_string()))?;
    let http10 = response.version == Some(0);
    let mut content_length: Option<usize> = None;
    let mut chunked = false;
    let mut closes = http10;
    let mut content_type = None;
    let mut location = None;
    for header in response.headers.iter() {
        let value = std::str::from_utf8(header.value).ok().map(str::trim);
        let name = header.name;
        if name.eq_ignore_ascii_case("content-length") {
            let len = value
                .and_then(|v| v.parse::<usize>().ok())
                .ok_or(ParseError::ContentLength)?;
            if content_length.is_some_and(|seen| seen != len) {
                return Err(ParseError::ContentLength);
            }
            content_length = Some(len);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.is_some_and(|v| {
                v.rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
            });
        } else if name.eq_ignore_ascii_case("connection") {
            for token in value.unwrap_or_default().split(',').map(str::trim) {
                if token.eq_ignore_ascii_case("close") {
                    closes = true;
                } else if token.eq_ignore_ascii_case("keep-alive") && http10 {
                    closes = false;
                }
            }
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = value.map(str::to_string);
        } else if name.eq_ignore_ascii_case("location") {
            location = value.map(str::to_string);
        }
    }
    buf.advance(head_len);
    let bodiless = status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    let framing = if bodiless {
        Framing::Length(0)
    } else if chunked {
        Framing::Chunked(BytesMut::new())
    } else if let Some(len) = content_length {
        if len > max_body_len {
            return Err(ParseError::TooLarge {
                status,
                limit: max_body_len,
            });
        }
        Framing::Length(len)
    } else {
        closes = true;
        Framing::UntilClose
    };
    Ok(Some(Head {
        status,
        content_type,
        location,
        closes,
        framing,
    }))
}

/// Decodes the whole chunks at the front of `buf` into `decoded`; true once
/// the last chunk (and any trailers) has been read.
fn decode_chunks(
    buf: &mut BytesMut,
    decoded: &mut BytesMut,
    max_body_len: usize,
    status: StatusCode,
) -> Result<bool, ParseError> {
    loop {
        let (size_len, size) = match httparse::parse_chunk_size(buf) {
            Ok(httparse::Status::Complete(found)) => found,
            Ok(httparse::Status::Partial) => {
                if buf.len() > MAX_HEAD_LEN {
                    return Err(ParseError::Chunk);
                }
                return Ok(false);
            }
            Err(_) => return Err(ParseError::Chunk),
        };
        let size = usize::try_from(size).map_err(|_| ParseError::Chunk)?;
        if size == 0 {
            // Trailers (ignored) end with an empty line.
            let rest = &buf[size_len..];
            let end = if rest.starts_with(b"\r\n") {
                Some(2)
            } else {
                rest.windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map(|at| at + 4)
            };
            return match end {
                Some(end) => {
                    buf.advance(size_len + end);
                    Ok(true)
                }
                None if rest.len() > MAX_HEAD_LEN => Err(ParseError::Chunk),
                None => Ok(false),
            };
        }
        if decoded.len().saturating_add(size) > max_body_len {
            return Err(ParseError::TooLarge {
                status,
                limit: max_body_len,
            });
        }
        let whole = size_len + size + 2;
        if buf.len() < whole {
            return Ok(false);
        }
        if &buf[size_len + size..whole] != b"\r\n" {
            return Err(ParseError::Chunk);
        }
        decoded.extend_from_slice(&buf[size_len..size_len + size]);
        buf.advance(whole);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(bytes: &[u8], step: usize) -> Result<Vec<RawResponse>, ParseError> {
        let mut parser = ResponseParser::new(1024);
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in bytes.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            while let Some(response) = parser.next(&mut buf)? {
                out.push(response);
            }
        }
        out.extend(parser.finish(&mut buf));
        Ok(out)
    }

    const THREE: &[u8] = b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n\
HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nNot a\r\n6;ext=1\r\n valid\r\n0\r\nX-Trailer: t\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 307 Temporary Redirect\r\nLocation: //other:5050/api/v1/scheduler\r\nContent-Length: 3\r\n\r\nabc";

    #[test]
    fn consecutive_responses_in_any_split() {
        for step in [1, 2, 3, 7, 64, THREE.len()] {
            let responses = parse_all(THREE, step).unwrap();
            let statuses: Vec<u16> = responses.iter().map(|r| r.status.as_u16()).collect();
            assert_eq!(statuses, [202, 400, 307], "step {step}");
            assert_eq!(responses[1].body, Bytes::from_static(b"Not a valid"));
            assert_eq!(
                responses[1].content_type.as_deref(),
                Some("text/plain; charset=utf-8")
            );
            assert_eq!(
                responses[2].location.as_deref(),
                Some("//other:5050/api/v1/scheduler")
            );
            assert_eq!(responses[2].body, Bytes::from_static(b"abc"));
            assert!(responses.iter().all(|r| !r.closes));
        }
    }

    #[test]
    fn a_body_until_close_ends_with_the_connection() {
        let responses = parse_all(b"HTTP/1.0 200 OK\r\n\r\nhello", 2).unwrap();
        assert_eq!(responses.len(), 1);
        assert_eq!(responses[0].body, Bytes::from_static(b"hello"));
        assert!(responses[0].closes);
        let closing = parse_all(
            b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            5,
        )
        .unwrap();
        assert!(closing[0].closes);
    }

    #[test]
    fn bounded_and_typed() {
        let too_long = b"HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n\r\n";
        assert!(matches!(
            parse_all(too_long, 8),
            Err(ParseError::TooLarge { limit: 1024, .. })
        ));
        let many_chunks = [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            &b"200\r\n"[..],
            &[b'x'; 0x200][..],
            b"\r\n200\r\n",
            &[b'x'; 0x200][..],
            b"\r\n1\r\n",
        ]
        .concat();
        assert!(matches!(
            parse_all(&many_chunks, 100),
            Err(ParseError::TooLarge { .. })
        ));
        let refused: [(&[u8], ParseError); 6] = [
            (b"HTTX/1.1 200 OK\r\n\r\n", ParseError::Head(String::new())),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                ParseError::ContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                ParseError::ContentLength,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                ParseError::Chunk,
            ),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
                ParseError::Chunk,
            ),
            (
                b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
                ParseError::Upgrade,
            ),
        ];
        for (input, expected) in refused {
            let error = parse_all(input, 4).unwrap_err();
            assert_eq!(
                std::mem::discriminant(&error),
                std::mem::discriminant(&expected),
                "{error:?} for {:?}",
                String::from_utf8_lossy(input)
            );
        }
        let endless_head = [&b"HTTP/1.1 200 OK\r\nX: "[..], &[b'a'; MAX_HEAD_LEN]].concat();
        let mut parser = ResponseParser::new(1024);
        let mut buf = BytesMut::from(&endless_head[..]);
        assert_eq!(parser.next(&mut buf), Err(ParseError::HeadTooLarge));
    }

    /// One generated response: its bytes on the wire and what must be read.
    fn encoded(status: u16, framing: u8, body: &[u8]) -> (Vec<u8>, RawResponse) {
        let status = StatusCode::from_u16(status).unwrap();
        // These two never have a body, whatever the headers say.
        let (body, framing) = if matches!(status.as_u16(), 204 | 304) {
            (&[][..], 0)
        } else {
            (body, framing)
        };
        let mut wire = format!(
            "HTTP/1.1 {} x\r\nContent-Type: text/plain\r\n",
            status.as_u16()
        )
        .into_bytes();
        match framing % 3 {
            0 => {
                wire.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                wire.extend_from_slice(body);
            }
            1 => {
                wire.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for chunk in body.chunks(7) {
                    wire.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    wire.extend_from_slice(chunk);
                    wire.extend_from_slice(b"\r\n");
                }
                wire.extend_from_slice(b"0\r\n\r\n");
            }
            _ => {
                wire.splice(0..0, b"HTTP/1.1 100 Continue\r\n\r\n".iter().copied());
                wire.extend_from_slice(
                    format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes(),
                );
                wire.extend_from_slice(body);
            }
        }
        let expected = RawResponse {
            status,
            content_type: Some("text/plain".into()),
            location: None,
            body: Bytes::copy_from_slice(body),
            closes: false,
        };
        (wire, expected)
    }

    proptest::proptest! {
        #[test]
        fn generated_responses_read_back_in_any_split(
            responses in proptest::collection::vec(
                (200u16..600, 0u8..3, proptest::collection::vec(proptest::num::u8::ANY, 0..100)),
                1..8,
            ),
            step in 1usize..50,
        ) {
            let (wire, expected): (Vec<Vec<u8>>, Vec<RawResponse>) = responses
                .iter()
                .map(|(status, framing, body)| encoded(*status, *framing, body))
                .unzip();
            proptest::prop_assert_eq!(parse_all(&wire.concat(), step).unwrap(), expected);
        }

        #[test]
        fn any_bytes_are_read_or_refused_without_panic(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600),
            prefix in 0u8..3,
            step in 1usize..64,
        ) {
            // Half-valid inputs reach further into the parser.
            let prefix: &[u8] = match prefix {
                0 => b"",
                1 => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                _ => b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
            };
            let input = [prefix, &bytes[..]].concat();
            if let Ok(read) = parse_all(&input, step) {
                proptest::prop_assert!(read.iter().all(|r| r.body.len() <= 1024));
            }
        }
    }

    #[test]
    fn a_cut_response_is_not_whole() {
        let mut parser = ResponseParser::new(1024);
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"[..]);
        assert_eq!(parser.next(&mut buf), Ok(None));
        assert_eq!(parser.finish(&mut buf), None);
    }
}
