//! The chat stream's secret redactor, differentially: for any text and any
//! split of it into chunks, what the stream emits equals redacting the whole
//! text at once (its documented contract), and no chunk split lets a secret
//! through that the whole-text redactor catches.
#![no_main]
use libfuzzer_sys::fuzz_target;
use portal_ai::guard::redact::{redact, StreamRedactor};

fuzz_target!(|data: &[u8]| {
    // First byte: chunk-size seed; the rest: the text.
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let whole = redact(text).text;
    let mut stream = StreamRedactor::new();
    let mut out = String::new();
    let mut step = usize::from(seed % 17) + 1;
    let mut i = 0;
    while i < text.len() {
        let mut end = (i + step).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push_str(&stream.push(&text[i..end]));
        i = end;
        step = step * 7 % 23 + 1;
    }
    out.push_str(&stream.finish());
    assert_eq!(
        out, whole,
        "chunked redaction differs from whole-text redaction"
    );
});
