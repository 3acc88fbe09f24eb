//! A record as rules see it: an object's top-level fields in order, each either still
//! the JSON text it had in the input or a parsed value. A field is parsed the first time
//! a rule touches it; every other field is written back as the bytes it came in, so a
//! mapping that reads a dozen fields pays for a dozen fields, not for the whole record.
//!
//! Written back unparsed is only byte-identical to parsing and serialising when the
//! input is already in serde_json's compact form, so [`Record::scan`] takes only such a
//! line (no whitespace between tokens, no escapes in strings, numbers as serde_json
//! writes them, no key twice in an object) and answers `None` for anything else; the
//! caller then reads the line strictly ([`crate::strict`]) into [`Record::from_value`],
//! whose errors name what is wrong. Fields keep serde_json's map semantics (with
//! `preserve_order`): a new key goes last, a removed key's place is taken by the last
//! one (`swap_remove`), so both ways give the same bytes.

use std::borrow::Cow;

use serde_json::{Map, Value};

/// A value: the input's text, until a rule touches it; an object whose fields are read
/// one by one as rules reach into it; or a value.
#[derive(Debug, Clone)]
enum Slot<'a> {
    Raw(&'a str),
    Lazy(Fields<'a>),
    Parsed(Value),
}

/// One field. A borrowed key comes from a scanned line (already in compact form); an
/// owned key is escaped when written.
#[derive(Debug, Clone)]
struct Field<'a> {
    key: Cow<'a, str>,
    slot: Slot<'a>,
}

/// An object's fields in order, each as its [`Slot`] says, with serde_json's map
/// semantics (see the module's header).
#[derive(Debug, Clone, Default)]
pub struct Fields<'a> {
    list: Vec<Field<'a>>,
    /// A field whose text could not be parsed after all (the scan makes this
    /// impossible); the record is then refused, naming it, rather than written wrong.
    damage: Option<String>,
}

#[derive(Debug, Clone)]
enum Body<'a> {
    Object(Fields<'a>),
    Other(Value),
}

/// A record: the fields of an object (read as rules reach them) or any other value.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    body: Body<'a>,
    /// The whole line a scanned record came from (for a rewrite's quick look).
    source: Option<&'a str>,
}

/// Objects deeper than this, or with more keys, are left to the strict reader (which
/// names the error, or is simply not slower for them).
const MAX_DEPTH: usize = 100;
const MAX_KEYS: usize = 256;

impl<'a> Record<'a> {
    /// A record holding `value`, every field parsed.
    pub fn from_value(value: Value) -> Record<'static> {
        let body = match value {
            Value::Object(map) => Body::Object(Fields {
                list: map
                    .into_iter()
                    .map(|(k, v)| Field {
                        key: Cow::Owned(k),
                        slot: Slot::Parsed(v),
                    })
                    .collect(),
                damage: None,
            }),
            other => Body::Other(other),
        };
        Record { body, source: None }
    }

    /// The record as a value (every field parsed); the error names a field whose text
    /// does not read (which a scanned line cannot hold) or damage a rule met.
    pub fn into_value(self) -> Result<Value, String> {
        match self.body {
            Body::Other(v) => Ok(v),
            Body::Object(fields) => {
                let mut damage = fields.damage().map(str::to_owned);
                let value = fields.into_value(&mut damage);
                damage.map_or(Ok(value), Err)
            }
        }
    }

    /// `text` as a record whose fields stay unparsed, when `text` is a JSON object in
    /// serde_json's compact form; `None` for anything else (see the module's header).
    pub fn scan(text: &'a str) -> Option<Self> {
        // Compact JSON has no byte below 0x20 anywhere: no whitespace between tokens,
        // and control characters in strings are escaped. One pass over the line (which
        // the compiler vectorises) answers for every string at once.
        if text.bytes().fold(false, |seen, b| seen | (b < 0x20)) {
            return None;
        }
        let fields = Fields::scan(text, true)?;
        Some(Record {
            body: Body::Object(fields),
            source: Some(text),
        })
    }

    /// What a rule found wrong while reading a field, if anything.
    pub fn damage(&self) -> Option<&str> {
        match &self.body {
            Body::Object(fields) => fields.damage(),
            Body::Other(_) => None,
        }
    }

    /// The value when the record is not an object.
    pub(crate) fn other_mut(&mut self) -> Option<&mut Value> {
        match &mut self.body {
            Body::Other(v) => Some(v),
            Body::Object(_) => None,
        }
    }

    /// The fields when the record is an object.
    pub(crate) fn fields_mut(&mut self) -> Option<&mut Fields<'a>> {
        match &mut self.body {
            Body::Object(fields) => Some(fields),
            Body::Other(_) => None,
        }
    }

    /// "an object", "a string"..., for messages.
    pub(crate) fn kind(&self) -> &'static str {
        match &self.body {
            Body::Object(_) => "an object",
            Body::Other(v) => crate::path::kind_of(v),
        }
    }

    /// The whole line, when the record was scanned from one.
    pub(crate) fn source(&self) -> Option<&'a str> {
        self.source
    }

    /// The value of top-level `key` (read now, if it was not yet).
    pub fn get(&mut self, key: &str) -> Option<&Value> {
        self.fields_mut()?.get(key)
    }

    /// Sets top-level `key`: in its place when present, else last.
    pub fn insert(&mut self, key: &str, value: Value) {
        if let Some(fields) = self.fields_mut() {
            fields.insert(key, value);
        }
    }

    /// Keeps the top-level fields whose key `keep` accepts, in order.
    pub(crate) fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        if let Some(fields) = self.fields_mut() {
            fields.list.retain(|f| keep(&f.key));
        }
    }

    /// Appends the record as compact JSON (what serde_json writes for its value).
    pub fn write(&self, out: &mut Vec<u8>) {
        match &self.body {
            // Serialising into a Vec cannot fail.
            Body::Other(v) => {
                let _ = serde_json::to_writer(&mut *out, v);
            }
            Body::Object(fields) => fields.write(out),
        }
    }
}

impl<'a> Fields<'a> {
    /// The fields of `text`, a JSON object in compact form (checked, unless `top` is
    /// false: a field of a scanned line was checked with it).
    fn scan(text: &'a str, top: bool) -> Option<Self> {
        let mut scanner = Scanner {
            bytes: text.as_bytes(),
            at: 0,
            keys: Vec::new(),
            check: top,
        };
        let list = scanner.object_fields(text, false)?;
        (scanner.at == text.len()).then_some(Fields { list, damage: None })
    }

    fn damage(&self) -> Option<&str> {
        self.damage.as_deref().or_else(|| {
            self.list.iter().find_map(|f| match &f.slot {
                Slot::Lazy(inner) => inner.damage(),
                _ => None,
            })
        })
    }

    /// The fields as an object; a text that does not read becomes null and is named in
    /// `damage` (the first one).
    fn into_value(self, damage: &mut Option<String>) -> Value {
        Value::Object(
            self.list
                .into_iter()
                .map(|f| {
                    let value = match f.slot {
                        Slot::Parsed(v) => v,
                        Slot::Lazy(inner) => inner.into_value(damage),
                        Slot::Raw(raw) => serde_json::from_str(raw).unwrap_or_else(|e| {
                            damage.get_or_insert_with(|| format!("field {:?}: {e}", f.key));
                            Value::Null
                        }),
                    };
                    (f.key.into_owned(), value)
                })
                .collect::<Map<_, _>>(),
        )
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.list.iter().position(|f| f.key == key)
    }

    /// Parses field `i` whole if it is not yet, and returns it.
    fn parsed(&mut self, i: usize) -> Option<&mut Value> {
        let field = self.list.get_mut(i)?;
        let value = match &mut field.slot {
            Slot::Parsed(_) => None,
            Slot::Raw(raw) => Some(
                match scalar(raw).map_or_else(|| serde_json::from_str(raw), Ok) {
                    Ok(v) => v,
                    Err(e) => {
                        let key = &field.key;
                        self.damage
                            .get_or_insert_with(|| format!("field {key:?}: {e}"));
                        Value::Null
                    }
                },
            ),
            Slot::Lazy(inner) => {
                let mut damage = inner.damage().map(str::to_owned);
                let value = std::mem::take(inner).into_value(&mut damage);
                if let Some(d) = damage {
                    self.damage.get_or_insert(d);
                }
                Some(value)
            }
        };
        let field = &mut self.list[i];
        if let Some(value) = value {
            field.slot = Slot::Parsed(value);
        }
        match &mut field.slot {
            Slot::Parsed(v) => Some(v),
            _ => None,
        }
    }

    /// True when field `key` is an object not yet parsed whole: a path going through
    /// it reads only the fields it names ([`Fields::lazy_mut`]).
    pub(crate) fn is_unparsed_object(&self, key: &str) -> bool {
        self.list.iter().any(|f| {
            f.key == key
                && match f.slot {
                    Slot::Raw(raw) => raw.starts_with('{'),
                    Slot::Lazy(_) => true,
                    Slot::Parsed(_) => false,
                }
        })
    }

    /// The fields of object field `key`, read without parsing their values.
    pub(crate) fn lazy_mut(&mut self, key: &str) -> Option<&mut Fields<'a>> {
        let i = self.position(key)?;
        self.lazy_mut_at(i)
    }

    fn lazy_mut_at(&mut self, i: usize) -> Option<&mut Fields<'a>> {
        let field = self.list.get_mut(i)?;
        if let Slot::Raw(raw) = field.slot {
            match Fields::scan(raw, false) {
                Some(inner) => field.slot = Slot::Lazy(inner),
                None => {
                    // A text checked with its line always cuts; if it does not, the record
                    // is refused naming the field rather than read as if it were absent.
                    let key = &field.key;
                    self.damage.get_or_insert_with(|| {
                        format!("field {key:?}: its object could not be read field by field")
                    });
                    return None;
                }
            }
        }
        match &mut self.list[i].slot {
            Slot::Lazy(inner) => Some(inner),
            _ => None,
        }
    }

    /// The value of `key`.
    pub(crate) fn get(&mut self, key: &str) -> Option<&Value> {
        let i = self.position(key)?;
        self.parsed(i).map(|v| &*v)
    }

    /// The value of `key`, mutably.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        let i = self.position(key)?;
        self.parsed(i)
    }

    /// Removes `key`; the last field takes its place (as serde_json does).
    pub(crate) fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        self.parsed(i)?;
        match self.list.swap_remove(i).slot {
            Slot::Parsed(v) => Some(v),
            _ => None,
        }
    }

    /// Removes `key` without reading its value (true when it was there); the last field
    /// takes its place, as with [`Fields::remove`].
    pub(crate) fn discard(&mut self, key: &str) -> bool {
        match self.position(key) {
            Some(i) => {
                self.list.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// Calls `f` on every value below this object that holds a string (strings, and
    /// arrays, which are parsed whole), reading nested objects field by field and
    /// leaving numbers, booleans and nulls unread, and any text `untouched` says `f`
    /// would leave as it is: what a rule that rewrites only strings (scrub, rewrite)
    /// needs.
    pub(crate) fn for_each_string_holder(
        &mut self,
        untouched: &dyn Fn(&str) -> bool,
        f: &mut dyn FnMut(&mut Value),
    ) {
        for i in 0..self.list.len() {
            match &self.list[i].slot {
                Slot::Raw(raw) if untouched(raw) || !raw.starts_with(['"', '[', '{']) => {
                    continue;
                }
                Slot::Raw(raw) if raw.starts_with('{') => {}
                Slot::Lazy(_) => {}
                _ => {
                    if let Some(v) = self.parsed(i) {
                        f(v);
                    }
                    continue;
                }
            }
            if let Some(inner) = self.lazy_mut_at(i) {
                inner.for_each_string_holder(untouched, f);
            }
        }
    }

    /// Sets `key`: in its place when present, else last.
    pub(crate) fn insert(&mut self, key: &str, value: Value) {
        match self.position(key) {
            Some(i) => self.list[i].slot = Slot::Parsed(value),
            None => self.list.push(Field {
                key: Cow::Owned(key.to_owned()),
                slot: Slot::Parsed(value),
            }),
        }
    }

    /// The value of `key`, set to null (last) when absent.
    pub(crate) fn entry(&mut self, key: &str) -> Option<&mut Value> {
        if self.position(key).is_none() {
            self.insert(key, Value::Null);
        }
        self.get_mut(key)
    }

    fn write(&self, out: &mut Vec<u8>) {
        out.push(b'{');
        for (i, field) in self.list.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match &field.key {
                Cow::Borrowed(key) => {
                    out.push(b'"');
                    out.extend_from_slice(key.as_bytes());
                    out.push(b'"');
                }
                Cow::Owned(key) => write_str(out, key),
            }
            out.push(b':');
            match &field.slot {
                Slot::Raw(raw) => out.extend_from_slice(raw.as_bytes()),
                Slot::Lazy(inner) => inner.write(out),
                Slot::Parsed(v) => write_value(out, v),
            }
        }
        out.push(b'}');
    }
}

/// Appends `value` as serde_json writes it in compact form, with a shortcut for the
/// common string that needs no escape (serde_json looks up every byte in a table).
fn write_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            out.push(b'{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, key);
                out.push(b':');
                write_value(out, item);
            }
            out.push(b'}');
        }
        // Serialising into a Vec cannot fail.
        other => {
            let _ = serde_json::to_writer(&mut *out, other);
        }
    }
}

/// Appends `text` as a JSON string, escaped as serde_json escapes it.
fn write_str(out: &mut Vec<u8>, text: &str) {
    let plain = !text.bytes().fold(false, |seen, b| {
        seen | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if plain {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // Serialising into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, text);
    }
}

/// Marks `key` in `seen`, a 64-bit filter of an object's keys so far; true when a key
/// like it may have been seen (then the caller compares for real), false when surely not.
fn seen_before(seen: &mut u64, key: &[u8]) -> bool {
    let first = key.first().copied().unwrap_or(0);
    let last = key.last().copied().unwrap_or(0);
    let bit = 1u64 << ((key.len() * 7 + usize::from(first) * 3 + usize::from(last)) % 64);
    let maybe = *seen & bit != 0;
    *seen |= bit;
    maybe
}

/// A checked string (no escapes in it) or literal without serde_json's machinery; None
/// for numbers and containers.
fn scalar(raw: &str) -> Option<Value> {
    match raw {
        "null" => Some(Value::Null),
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        _ => raw
            .strip_prefix('"')?
            .strip_suffix('"')
            .map(|s| Value::String(s.to_owned())),
    }
}

/// Walks a line, checking that it is JSON in compact form, and cuts the top-level
/// object into fields. Every method answers `None` for anything it does not take.
struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The keys of the objects being read (for duplicates), innermost last.
    keys: Vec<&'a [u8]>,
    /// Check values (false: only cut an already checked object into fields).
    check: bool,
}

impl<'a> Scanner<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// The fields of the object at the cursor. Checking, a top-level object's objects
    /// are cut into fields too (`nested` for them), so that a rule reaching into one does
    /// not read it again; not checking, values are stepped over.
    fn object_fields(&mut self, text: &'a str, nested: bool) -> Option<Vec<Field<'a>>> {
        self.eat(b'{')?;
        let top = self.check && !nested;
        let mut fields: Vec<Field<'a>> = Vec::with_capacity(if top { 24 } else { 8 });
        let mut seen = 0u64;
        if self.eat(b'}').is_none() {
            loop {
                let (start, end) = self.string()?;
                let key = text.get(start..end)?;
                if self.check
                    && (fields.len() >= MAX_KEYS
                        || (seen_before(&mut seen, key.as_bytes())
                            && fields.iter().any(|f| f.key == key)))
                {
                    return None;
                }
                self.eat(b':')?;
                let from = self.at;
                let slot = if !self.check {
                    self.skip_value()?;
                    Slot::Raw(text.get(from..self.at)?)
                } else if top && self.peek()? == b'{' {
                    Slot::Lazy(Fields {
                        list: self.object_fields(text, true)?,
                        damage: None,
                    })
                } else {
                    self.value(if nested { 2 } else { 1 })?;
                    Slot::Raw(text.get(from..self.at)?)
                };
                fields.push(Field {
                    key: Cow::Borrowed(key),
                    slot,
                });
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        Some(fields)
    }

    /// Steps over a value already checked: strings (which may hold brackets) and
    /// nesting are all that matter.
    fn skip_value(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                }
                b',' if depth == 0 => return Some(()),
                _ => self.at += 1,
            }
            if depth == 0 && matches!(self.peek(), Some(b',' | b'}') | None) {
                return Some(());
            }
        }
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.at + word.len();
        (self.bytes.get(self.at..end)? == word).then(|| self.at = end)
    }

    /// A string without escapes (control characters were refused for the whole line);
    /// the range of its content.
    fn string(&mut self) -> Option<(usize, usize)> {
        self.eat(b'"')?;
        let start = self.at;
        let end = start + memchr::memchr2(b'"', b'\\', self.bytes.get(start..)?)?;
        if self.bytes[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        Some((start, end))
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        let base = self.keys.len();
        let mut seen = 0u64;
        if self.eat(b'}').is_none() {
            loop {
                let (start, end) = self.string()?;
                let key = &self.bytes[start..end];
                if self.keys.len() - base >= MAX_KEYS
                    || (seen_before(&mut seen, key) && self.keys[base..].contains(&key))
                {
                    return None;
                }
                self.keys.push(key);
                self.eat(b':')?;
                self.value(depth)?;
                match self.peek()? {
                    b',' => self.at += 1,
                    b'}' => {
                        self.at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.keys.truncate(base);
        Some(())
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.value(depth)?;
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// A number as serde_json writes it: an integer that 64 bits hold, without a sign
    /// on zero, or a float that reads back to the same text.
    fn number(&mut self) -> Option<()> {
        let start = self.at;
        let negative = self.eat(b'-').is_some();
        let digits = self.at;
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => self.skip_digits(),
            _ => return None,
        }
        let integer_end = self.at;
        let mut float = false;
        if self.eat(b'.').is_some() {
            float = true;
            let from = self.at;
            self.skip_digits();
            if self.at == from {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            float = true;
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            let from = self.at;
            self.skip_digits();
            if self.at == from {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'0'..=b'9')) {
            return None; // a leading zero
        }
        if float {
            let token = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
            let value: Value = serde_json::from_str(token).ok()?;
            // What serde_json writes for it (a Value compared with a str would compare
            // strings, not the number's text).
            let written = serde_json::to_string(&value).ok()?;
            return (written == token).then_some(());
        }
        if negative && self.bytes[digits..integer_end] == *b"0" {
            return None;
        }
        // Only a long integer is read as text (its digits are ASCII, checked above).
        if integer_end - digits >= 19 {
            let token = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
            if token.parse::<i64>().is_err() && token.parse::<u64>().is_err() {
                return None; // beyond 64 bits: the strict reader carries it
            }
        }
        Some(())
    }

    fn skip_digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// What the strict reader and serde_json give for `text`, when it reads.
    fn reference(text: &str) -> Option<String> {
        let parsed = crate::strict::parse(text).ok()?;
        if !parsed.big.is_empty() {
            return None;
        }
        Some(serde_json::to_string(&parsed.value).unwrap())
    }

    #[test]
    fn only_compact_json_is_scanned_and_it_is_written_back_as_it_came() {
        for text in [
            r#"{}"#,
            r#"{"a":1,"b":[1,-2,3.5,"x",null,true,false],"c":{"d":18446744073709551615,"e":{}},"f":[]}"#,
            r#"{"n":-9223372036854775808,"z":0,"f":1.5e+300,"g":0.1,"u":"é ü 漢字"}"#,
        ] {
            let record = Record::scan(text).unwrap_or_else(|| panic!("{text} not scanned"));
            let mut out = Vec::new();
            record.write(&mut out);
            assert_eq!(String::from_utf8(out).unwrap(), text);
            assert_eq!(reference(text).as_deref(), Some(text));
        }
        for text in [
            r#" {"a":1}"#,
            r#"{"a": 1}"#,
            r#"{"a":"x\/y"}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":1e5}"#,
            r#"{"a":1.50}"#,
            r#"{"a":-0}"#,
            r#"{"a":01}"#,
            r#"{"a":123456789012345678901234}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"m":{"k":1,"k":2}}"#,
            r#"{"a":1}x"#,
            r#"{"a":tru}"#,
            r#"{"a":[1,]}"#,
            "[1,2]",
            "\"text\"",
            "{\"a\":\"tab\tinside\"}",
        ] {
            assert!(Record::scan(text).is_none(), "{text} should not be scanned");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(150), "]".repeat(150));
        assert!(Record::scan(&deep).is_none());
    }

    #[test]
    fn fields_keep_serde_json_map_order_when_removed_inserted_or_kept() {
        let text = r#"{"a":1,"b":{"x":2},"c":"s","d":[3]}"#;
        let mut scanned = Record::scan(text).unwrap();
        let mut value = serde_json::from_str::<Value>(text).unwrap();
        let fields = scanned.fields_mut().unwrap();
        // Remove b: the last field takes its place, as serde_json's remove does.
        assert_eq!(fields.remove("b"), Some(json!({"x": 2})));
        value.as_object_mut().unwrap().remove("b");
        fields.insert("e", json!("new"));
        value["e"] = json!("new");
        fields.insert("a", json!(7));
        value["a"] = json!(7);
        let mut out = Vec::new();
        scanned.write(&mut out);
        assert_eq!(out, serde_json::to_vec(&value).unwrap());
        assert_eq!(scanned.clone().into_value(), Ok(value));
        scanned.retain(|k| k != "d");
        let mut out = Vec::new();
        scanned.write(&mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"a":7,"c":"s","e":"new"}"#
        );
    }

    mod lazy_equals_whole {
        //! Rules on a record read lazily give the same bytes, filters and errors as on
        //! the same record parsed whole, for any record and any rules.
        use crate::rules::apply_to;
        use crate::spec::Mapping;
        use proptest::prelude::*;
        use serde_json::{Value, json};

        use super::Record;

        const KEYS: [&str; 4] = ["a", "b", "c", "url"];
        const PATHS: [&str; 10] = [
            "a", "b", "url", "a.b", "a.url", "b.c", "a.b.c", "c[0]", "c[0].a", "b.a.url",
        ];

        fn scalar() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(|n| json!(n)),
                any::<u64>().prop_map(|n| json!(n)),
                (-1000i32..1000).prop_map(|n| json!(f64::from(n) / 8.0)),
                "[a-z]{0,6}".prop_map(Value::String),
                "(https://app|http://api)\\.acme-prod\\.example\\.com/[a-z]{0,4}"
                    .prop_map(Value::String),
                Just(json!("pro")),
                Just(json!("enterprise")),
            ]
        }

        fn value() -> impl Strategy<Value = Value> {
            scalar().prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                    prop::collection::vec((prop::sample::select(&KEYS[..]), inner), 0..5).prop_map(
                        |kv| Value::Object(
                            kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                        )
                    ),
                ]
            })
        }

        fn record() -> impl Strategy<Value = Value> {
            prop::collection::vec((prop::sample::select(&KEYS[..]), value()), 0..6).prop_map(|kv| {
                Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            })
        }

        fn rule() -> impl Strategy<Value = String> {
            let path = || prop::sample::select(&PATHS[..]);
            prop_oneof![
                (path(), path()).prop_map(|(f, t)| format!("op = \"move\"\nfrom = \"{f}\"\nto = \"{t}\"")),
                (path(), path()).prop_map(|(f, t)| format!("op = \"copy\"\nfrom = \"{f}\"\nto = \"{t}\"")),
                (path(), path()).prop_map(|(a, b)| format!("op = \"drop\"\nfields = [\"{a}\", \"{b}\"]")),
                Just("op = \"keep\"\nfields = [\"a\", \"url\"]".to_owned()),
                path().prop_map(|f| format!("op = \"set\"\nfield = \"{f}\"\nvalue = \"x\"")),
                (path(), path()).prop_map(|(f, g)| format!("op = \"set\"\nfield = \"{f}\"\ntemplate = \"t-{{{{{g}}}}}\"")),
                path().prop_map(|f| format!("op = \"map\"\nfield = \"{f}\"\ntable = {{ enterprise = \"pro\" }}")),
                Just("op = \"rewrite\"\npattern = \"https://(app|api)\\\\.acme-prod\"\nreplace = \"https://$1.acme-staging\"".to_owned()),
                Just("op = \"rewrite\"\npattern = \"^http://\"\nreplace = \"https://\"".to_owned()),
                path().prop_map(|f| format!("op = \"rewrite\"\nfields = [\"{f}\"]\npattern = \"e\"\nreplace = \"E\"")),
                path().prop_map(|f| format!("op = \"filter\"\ndrop = {{ field = \"{f}\", equals = true }}")),
                path().prop_map(|f| format!("op = \"filter\"\nkeep = {{ any = [ {{ field = \"{f}\", exists = true }}, {{ field = \"a\", matches = \"^[a-m]\" }} ] }}")),
                (path(), prop::sample::select(&["email", "name", "text", "drop"][..]))
                    .prop_map(|(f, how)| format!("op = \"scrub\"\nfields = [\"{f}\"]\nas = \"{how}\"")),
            ]
        }

        fn env(_: &str) -> Option<String> {
            Some("test-key".into())
        }

        fn outcome(mapping: &Mapping, mut record: Record<'_>) -> Result<Option<String>, String> {
            let keep =
                apply_to(mapping.rules_for("users"), &mut record).map_err(|e| e.to_string())?;
            if let Some(d) = record.damage() {
                return Err(d.to_owned());
            }
            let mut out = Vec::new();
            record.write(&mut out);
            Ok(keep.then(|| String::from_utf8(out).unwrap()))
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]
            #[test]
            fn the_same_bytes_either_way(record in record(), rules in prop::collection::vec(rule(), 1..6)) {
                let spec: String = rules.iter().map(|r| format!("[[users]]\n{r}\n")).collect();
                let mapping = Mapping::parse(&spec, "t.toml", &env).unwrap();
                let text = serde_json::to_string(&record).unwrap();
                let lazy = Record::scan(&text).expect("serde_json's own output scans");
                let whole = Record::from_value(record.clone());
                prop_assert_eq!(outcome(&mapping, lazy), outcome(&mapping, whole), "spec:\n{}\nrecord: {}", spec, text);
            }
        }
    }
}
