//! Python literals (`repr` of plain data) as JSON: how event-pipeline's SQLite store writes a
//! dict field (`str(value)`, so `{'a': 1, 'b': None}`), read back without running Python.
//!
//! Accepts dicts with string keys, lists, tuples (as JSON arrays), strings in single or double
//! quotes with Python's escapes, ints, floats, `True`, `False` and `None`. Anything else (a
//! `datetime.datetime(...)`, a set, bytes) is not plain data and gives `None`, so the caller
//! keeps the text as it is.

use serde_json::{Map, Number, Value};

/// Parses a whole Python literal; `None` when the text is not one (or not plain data).
pub fn parse(text: &str) -> Option<Value> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.ws();
    (p.i == p.s.len()).then_some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
}

/// Nesting beyond this is refused rather than risking the stack on hostile text.
const MAX_DEPTH: usize = 128;

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Option<Value> {
        self.ws();
        match self.peek()? {
            b'{' => self.nested(|p| p.dict()),
            b'[' => self.nested(|p| p.seq(b']').map(Value::Array)),
            b'(' => self.nested(|p| p.seq(b')').map(Value::Array)),
            b'\'' | b'"' => self.string().map(Value::String),
            b'-' | b'+' | b'0'..=b'9' | b'.' => self.number(),
            _ => self.word(),
        }
    }

    fn nested(&mut self, f: impl FnOnce(&mut Self) -> Option<Value>) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.i += 1; // the opening bracket
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn dict(&mut self) -> Option<Value> {
        let mut map = Map::new();
        if self.eat(b'}') {
            return Some(Value::Object(map));
        }
        loop {
            self.ws();
            if !matches!(self.peek(), Some(b'\'' | b'"')) {
                return None; // a key that is not a string
            }
            let key = self.string()?;
            if !self.eat(b':') {
                return None;
            }
            let v = self.value()?;
            map.insert(key, v);
            if self.eat(b',') {
                if self.eat(b'}') {
                    return Some(Value::Object(map));
                }
                continue;
            }
            return self.eat(b'}').then_some(Value::Object(map));
        }
    }

    fn seq(&mut self, close: u8) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Some(items);
        }
        loop {
            items.push(self.value()?);
            if self.eat(b',') {
                if self.eat(close) {
                    return Some(items);
                }
                continue;
            }
            return self.eat(close).then_some(items);
        }
    }

    fn word(&mut self) -> Option<Value> {
        let rest = &self.s[self.i..];
        for (word, v) in [
            (&b"True"[..], Value::Bool(true)),
            (b"False", Value::Bool(false)),
            (b"None", Value::Null),
        ] {
            if rest.starts_with(word) {
                let after = rest.get(word.len()).copied();
                if !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_') {
                    self.i += word.len();
                    return Some(v);
                }
            }
        }
        None
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        while self.i < self.s.len()
            && matches!(
                self.s[self.i],
                b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'_'
            )
        {
            self.i += 1;
        }
        let text: String = std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .chars()
            .filter(|&c| c != '_')
            .collect();
        let text = text.strip_prefix('+').unwrap_or(&text);
        if let Ok(n) = text.parse::<i64>() {
            return Some(Value::Number(n.into()));
        }
        if let Ok(n) = text.parse::<u64>() {
            return Some(Value::Number(n.into()));
        }
        if text.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return None; // an int too big for JSON: not plain data here
        }
        let f: f64 = text.parse().ok()?;
        Number::from_f64(f).map(Value::Number)
    }

    fn string(&mut self) -> Option<String> {
        let quote = self.s[self.i];
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let c = *self.s.get(self.i)?;
            self.i += 1;
            match c {
                _ if c == quote => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    let ch = match e {
                        b'\\' => '\\',
                        b'\'' => '\'',
                        b'"' => '"',
                        b'n' => '\n',
                        b't' => '\t',
                        b'r' => '\r',
                        b'0' => '\0',
                        b'a' => '\x07',
                        b'b' => '\x08',
                        b'f' => '\x0c',
                        b'v' => '\x0b',
                        b'x' => self.hex(2)?,
                        b'u' => self.hex(4)?,
                        b'U' => self.hex(8)?,
                        _ => return None,
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                }
                b'\n' => return None,
                _ => out.push(c),
            }
        }
    }

    fn hex(&mut self, digits: usize) -> Option<char> {
        let text = std::str::from_utf8(self.s.get(self.i..self.i + digits)?).ok()?;
        self.i += digits;
        char::from_u32(u32::from_str_radix(text, 16).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use serde_json::json;

    #[test]
    fn reprs_of_plain_data_become_json() {
        assert_eq!(
            parse(r#"{'n': 0, 's': "x'y", 'l': [1, 2.5, -3], 't': (True, False, None)}"#),
            Some(json!({"n": 0, "s": "x'y", "l": [1, 2.5, -3], "t": [true, false, null]}))
        );
        assert_eq!(parse("{}"), Some(json!({})));
        assert_eq!(parse("{'a': {'b': []},}"), Some(json!({"a": {"b": []}})));
        assert_eq!(
            parse(r"{'e': 'caf\xe9 \u2603 \n', 'q': '\\'}"),
            Some(json!({"e": "café ☃ \n", "q": "\\"}))
        );
        assert_eq!(
            parse("{'ü': 'ü', 'big': 1e300}"),
            Some(json!({"ü": "ü", "big": 1e300}))
        );
    }

    #[test]
    fn anything_else_is_not_a_literal() {
        for text in [
            "{'d': datetime.datetime(2024, 1, 1, 0, 0)}",
            "{1: 'int key'}",
            "{'s': {1, 2}}",
            "{'b': b'bytes'}",
            "{'n': 123456789012345678901234567890}",
            "{'a': 1",
            "{'a': 1} trailing",
            "{'x': nan}",
            "plain text",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
        let deep = "[".repeat(1000) + &"]".repeat(1000);
        assert_eq!(parse(&deep), None);
    }
}
