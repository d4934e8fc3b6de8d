//! Server-sent events framing, fed with body chunks exactly as the network splits them.
//!
//! Chunks may end anywhere: inside a line, between `\r` and `\n`, or inside a multi-byte
//! UTF-8 character. Bytes are buffered until a whole line is present, and only whole lines
//! are decoded, so no split can corrupt text.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SseEvent {
    /// The `event:` field; empty for the default (`message`) type.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
}

/// Why the byte stream is not valid SSE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SseError {
    /// A line is not UTF-8.
    #[error("event stream line is not UTF-8")]
    NotUtf8,
    /// A line (or event) grew past the limit: a broken or hostile server.
    #[error("event stream line longer than {0} bytes")]
    TooLong(usize),
}

/// Largest line or event we buffer; a model's tool arguments fit comfortably.
const MAX_BYTES: usize = 16 * 1024 * 1024;

/// Incremental SSE parser (the WHATWG event stream grammar, minus `id`/`retry`).
#[derive(Debug, Default)]
pub(crate) struct SseParser {
    buf: Vec<u8>,
    event: String,
    data: String,
    has_data: bool,
    started: bool,
}

impl SseParser {
    /// Feeds one chunk, appending completed events to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        self.buf.extend_from_slice(chunk);
        self.drain_lines(false, out)?;
        if self.buf.len() > MAX_BYTES || self.data.len() > MAX_BYTES {
            return Err(SseError::TooLong(MAX_BYTES));
        }
        Ok(())
    }

    /// The body ended: processes a last unterminated line and dispatches a pending event.
    ///
    /// The standard drops an unterminated event at end of stream; servers that close right
    /// after their last `data:` line are common enough that we keep it.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        self.drain_lines(true, out)?;
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            self.line(&line, out)?;
        }
        self.dispatch(out);
        Ok(())
    }

    fn drain_lines(&mut self, eof: bool, out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut start = 0;
        let buf = std::mem::take(&mut self.buf);
        let mut i = 0;
        while i < buf.len() {
            match buf[i] {
                b'\n' => {
                    self.line(&buf[start..i], out)?;
                    i += 1;
                    start = i;
                }
                b'\r' => {
                    // `\r\n` may be split across chunks: wait for the next byte.
                    if i + 1 == buf.len() && !eof {
                        break;
                    }
                    self.line(&buf[start..i], out)?;
                    i += if buf.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                    start = i;
                }
                _ => i += 1,
            }
        }
        self.buf = buf;
        self.buf.drain(..start);
        Ok(())
    }

    fn line(&mut self, raw: &[u8], out: &mut Vec<SseEvent>) -> Result<(), SseError> {
        let mut line = std::str::from_utf8(raw).map_err(|_| SseError::NotUtf8)?;
        if !self.started {
            self.started = true;
            line = line.strip_prefix('\u{feff}').unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        if line.starts_with(':') {
            return Ok(());
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
            });
        } else {
            self.event.clear();
        }
        self.has_data = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out).unwrap();
        }
        p.finish(&mut out).unwrap();
        out
    }

    fn ev(event: &str, data: &str) -> SseEvent {
        SseEvent {
            event: event.into(),
            data: data.into(),
        }
    }

    const BODY: &str = "event: message_start\r\ndata: {\"t\":\"h\u{e9}llo \u{1f600}\"}\r\n\r\n\
                        : keep-alive comment\n\n\
                        data: line one\ndata: line two\n\n\
                        data:no-space\r\r\
                        event: ignored-without-data\n\n\
                        data: [DONE]\n\n";

    fn expected() -> Vec<SseEvent> {
        vec![
            ev("message_start", "{\"t\":\"h\u{e9}llo \u{1f600}\"}"),
            ev("", "line one\nline two"),
            ev("", "no-space"),
            ev("", "[DONE]"),
        ]
    }

    #[test]
    fn parses_whole_body() {
        assert_eq!(parse_all(&[BODY.as_bytes()]), expected());
    }

    #[test]
    fn every_two_way_split_gives_the_same_events() {
        let bytes = BODY.as_bytes();
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(parse_all(&[a, b]), expected(), "split at byte {cut}");
        }
    }

    #[test]
    fn byte_by_byte_splits_mid_utf8_char() {
        let chunks: Vec<&[u8]> = BODY.as_bytes().chunks(1).collect();
        assert_eq!(parse_all(&chunks), expected());
    }

    #[test]
    fn unterminated_last_event_is_kept_and_bom_stripped() {
        assert_eq!(
            parse_all(&["\u{feff}data: a\n\ndata: tail".as_bytes()]),
            vec![ev("", "a"), ev("", "tail")]
        );
    }

    #[test]
    fn invalid_utf8_line_is_an_error() {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        assert_eq!(
            p.push(b"data: \xff\xfe\n", &mut out),
            Err(SseError::NotUtf8)
        );
    }
}
