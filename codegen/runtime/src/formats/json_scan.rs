//! Whether bytes are one JSON text (RFC 8259), checked by a scan that builds nothing.
//!
//! A body passed through untouched still has to be JSON before it is served as
//! `application/json`. serde_json's `IgnoredAny` answers that too, but walks every token
//! through its visitor machinery and does not check the UTF-8 of strings. This scan is
//! faster (`cargo run --release -p naftiko-runtime --example json_check_cost`) and refuses
//! what RFC 8259 refuses, bad UTF-8 included.

/// Containers nested deeper than this are refused, as serde_json refuses those deeper
/// than 128 (a client parsing recursively would overflow its stack on them).
pub const MAX_DEPTH: usize = 512;

/// Whether `body` is exactly one JSON value, with optional whitespace around it.
pub fn is_json(body: &[u8]) -> bool {
    std::str::from_utf8(body).is_ok() && Scan { b: body, i: 0 }.text()
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

/// What comes after a value inside a container, and what a container is.
#[derive(Clone, Copy, PartialEq)]
enum Open {
    Array,
    Object,
}

impl Scan<'_> {
    fn text(mut self) -> bool {
        // Open containers, innermost last; one bit each (set: object) so deep nesting costs
        // no allocation.
        let mut stack = [0u64; MAX_DEPTH / 64];
        let mut depth = 0usize;
        self.ws();
        'value: loop {
            // A value is expected here.
            match self.peek() {
                Some(b'{') => {
                    self.i += 1;
                    if depth == MAX_DEPTH {
                        return false;
                    }
                    stack[depth / 64] |= 1 << (depth % 64);
                    depth += 1;
                    self.ws();
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        depth -= 1;
                    } else {
                        if !self.key() {
                            return false;
                        }
                        continue 'value;
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    if depth == MAX_DEPTH {
                        return false;
                    }
                    stack[depth / 64] &= !(1 << (depth % 64));
                    depth += 1;
                    self.ws();
                    if self.peek() == Some(b']') {
                        self.i += 1;
                        depth -= 1;
                    } else {
                        continue 'value;
                    }
                }
                Some(b'"') => {
                    self.i += 1;
                    if !self.string() {
                        return false;
                    }
                }
                Some(b'-' | b'0'..=b'9') => {
                    if !self.number() {
                        return false;
                    }
                }
                Some(b't') => {
                    if !self.word(b"true") {
                        return false;
                    }
                }
                Some(b'f') => {
                    if !self.word(b"false") {
                        return false;
                    }
                }
                Some(b'n') => {
                    if !self.word(b"null") {
                        return false;
                    }
                }
                _ => return false,
            }
            // A value ended: close containers until one takes another value.
            loop {
                self.ws();
                if depth == 0 {
                    return self.i == self.b.len();
                }
                let open = if stack[(depth - 1) / 64] & (1 << ((depth - 1) % 64)) != 0 {
                    Open::Object
                } else {
                    Open::Array
                };
                match (self.peek(), open) {
                    (Some(b','), _) => {
                        self.i += 1;
                        self.ws();
                        if open == Open::Object && !self.key() {
                            return false;
                        }
                        continue 'value;
                    }
                    (Some(b']'), Open::Array) | (Some(b'}'), Open::Object) => {
                        self.i += 1;
                        depth -= 1;
                    }
                    _ => return false,
                }
            }
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    /// `"key"` then `:`, leaving the scan at the member's value.
    #[inline(always)]
    fn key(&mut self) -> bool {
        if self.peek() != Some(b'"') {
            return false;
        }
        self.i += 1;
        if !self.string() {
            return false;
        }
        self.ws();
        if self.peek() != Some(b':') {
            return false;
        }
        self.i += 1;
        self.ws();
        true
    }

    /// The rest of a string after its opening quote. The UTF-8 was checked up front, so
    /// only quotes, escapes and control characters need a look.
    #[inline(always)]
    fn string(&mut self) -> bool {
        loop {
            self.skip_plain();
            match self.peek() {
                Some(b'"') => {
                    self.i += 1;
                    return true;
                }
                Some(b'\\') => {
                    self.i += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 1,
                        Some(b'u') => {
                            let hex = self.b.get(self.i + 1..self.i + 5);
                            if !hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                                return false;
                            }
                            self.i += 5;
                        }
                        _ => return false,
                    }
                }
                // A control character, or the end without a closing quote.
                _ => return false,
            }
        }
    }

    /// Moves past bytes that need no look: all but `"`, `\` and controls, eight at a time.
    #[inline(always)]
    fn skip_plain(&mut self) {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        while let Some(chunk) = self.b.get(self.i..self.i + 8) {
            let w = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
            // A byte is flagged when it equals `"` or `\`, or is below 0x20 (the classic
            // has-zero-byte tests; bytes of 0x80 and up are never flagged).
            let quote = w ^ (ONES * u64::from(b'"'));
            let slash = w ^ (ONES * u64::from(b'\\'));
            let flagged = (quote.wrapping_sub(ONES) & !quote)
                | (slash.wrapping_sub(ONES) & !slash)
                | (w.wrapping_sub(ONES * 0x20) & !w);
            let flagged = flagged & HIGH;
            if flagged != 0 {
                self.i += (flagged.trailing_zeros() / 8) as usize;
                return;
            }
            self.i += 8;
        }
        while let Some(c) = self.peek() {
            if c == b'"' || c == b'\\' || c < 0x20 {
                return;
            }
            self.i += 1;
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> bool {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => self.digits(),
            _ => return false,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.some_digits() {
                return false;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !self.some_digits() {
                return false;
            }
        }
        true
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
    }

    fn some_digits(&mut self) -> bool {
        let start = self.i;
        self.digits();
        self.i > start
    }

    fn word(&mut self, w: &[u8]) -> bool {
        if self.b[self.i..].starts_with(w) {
            self.i += w.len();
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// serde_json's verdict, for texts within its depth limit and valid UTF-8 (it does not
    /// check the UTF-8 of ignored strings, where this scan does).
    fn serde_says(b: &[u8]) -> bool {
        serde_json::from_slice::<serde::de::IgnoredAny>(b).is_ok()
    }

    #[test]
    fn accepts_json_texts() {
        for t in [
            "0",
            "-0",
            "1.5e+10",
            "-12.0E-3",
            "true",
            "false",
            "null",
            "\"\"",
            " [] ",
            "{}",
            "[1,[2,[3]],{\"a\":{\"b\":[]}}]",
            "{\"a\" : 1 , \"b\":\"x\\n\\u00e9\\\"\"}",
            "\"é 😀\"",
            "\t\r\n{\"k\":[true,false,null]}\n",
        ] {
            assert!(is_json(t.as_bytes()), "{t}");
            assert!(serde_says(t.as_bytes()), "{t}");
        }
    }

    #[test]
    fn rejects_what_is_not() {
        for t in [
            "",
            " ",
            "01",
            "1.",
            ".5",
            "1e",
            "-",
            "+1",
            "tru",
            "nul",
            "[1,]",
            "{\"a\":1,}",
            "[1 2]",
            "{\"a\" 1}",
            "{1:2}",
            "\"abc",
            "\"a\u{1}b\"",
            "\"\\x\"",
            "\"\\u12g4\"",
            "[}",
            "{]",
            "1 2",
            "[",
            "]",
            "{\"a\":}",
            "NaN",
            "[1]x",
        ] {
            assert!(!is_json(t.as_bytes()), "{t:?}");
            assert!(!serde_says(t.as_bytes()), "{t:?}");
        }
    }

    #[test]
    fn rejects_bad_utf8_in_strings() {
        assert!(!is_json(b"\"\xff\""));
        assert!(!is_json(b"[\"\xed\xa0\x80\"]"));
    }

    #[test]
    fn depth_is_bounded_without_recursion() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(is_json(ok.as_bytes()));
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(!is_json(deep.as_bytes()));
        assert!(!is_json("[".repeat(100_000).as_bytes()));
    }

    #[test]
    fn the_string_scan_finds_every_stop_in_any_position() {
        for at in 0..20 {
            for stop in ["\"", "\\n", "\u{1f}"] {
                let mut s = "x".repeat(at);
                s.push_str(stop);
                s.push_str("yy");
                let t = format!("\"{s}\"");
                assert_eq!(is_json(t.as_bytes()), serde_says(t.as_bytes()), "{t:?}");
            }
        }
    }

    /// Pieces that JSON is made of, and some that break it, so random texts hit both.
    fn piece() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\"k\"",
            "\"é\\u00e9\\n\"",
            "0",
            "-1",
            "12.5",
            "3e-2",
            "1.",
            "true",
            "false",
            "null",
            " ",
            "\n",
            "\\",
            "\u{7}",
            "x",
            "-",
            "e",
            "01",
            "\"a\":",
            "[1,2]",
            "{\"a\":[]}",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn agrees_with_serde_json(pieces in prop::collection::vec(piece(), 1..24)) {
            let text = pieces.concat();
            prop_assert_eq!(is_json(text.as_bytes()), serde_says(text.as_bytes()), "{:?}", text);
        }

        #[test]
        fn agrees_on_valid_documents(v in any_json()) {
            let text = serde_json::to_string_pretty(&v).unwrap_or_default();
            prop_assert!(is_json(text.as_bytes()), "{}", text);
            let mut broken = text.clone().into_bytes();
            broken.truncate(broken.len() / 2);
            prop_assert_eq!(is_json(&broken), serde_says(&broken));
        }
    }

    fn any_json() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".*".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(6, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(".*", inner, 0..8)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
