//! JSON read strictly, so that nothing in a record is lost on the way in: an object
//! naming a key twice (a plain parse keeps the last value and drops the first without a
//! word) is an error that says which, and an integer beyond what 64 bits carry (a plain
//! parse rounds it to a float) is carried exactly: it stands in the value as a marker
//! string while rules run, and [`restore`] writes its digits back into the output.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// A record read strictly: its value, and the integers beyond 64 bits that stand in it
/// as markers (marker `i` for `big[i]`).
#[derive(Debug, PartialEq)]
pub struct Parsed {
    /// The record.
    pub value: Value,
    /// The literal digits of each integer beyond 64 bits, by marker number.
    pub big: Vec<String>,
}

/// `text` as a JSON value, refusing duplicate keys; integers beyond 64 bits become
/// markers (see [`restore`]).
pub fn parse(text: &str) -> Result<Parsed, String> {
    let spans = big_integers(text);
    if spans.is_empty() {
        let value = serde_json::from_str::<Strict>(text).map_err(|e| e.to_string())?;
        return Ok(Parsed {
            value: value.0,
            big: Vec::new(),
        });
    }
    let mut marked = String::with_capacity(text.len() + spans.len() * 32);
    let mut big = Vec::with_capacity(spans.len());
    let mut at = 0;
    for (start, end) in spans {
        marked.push_str(&text[at..start]);
        marked.push_str(&format!("\"\\u0000{MARKER}{}\\u0000\"", big.len()));
        big.push(text[start..end].to_owned());
        at = end;
    }
    marked.push_str(&text[at..]);
    let value = serde_json::from_str::<Strict>(&marked).map_err(|e| e.to_string())?;
    Ok(Parsed {
        value: value.0,
        big,
    })
}

/// What marks an integer beyond 64 bits inside its string (between NUL characters,
/// which no record holds by chance next to this text).
const MARKER: &str = "idferry-integer-beyond-64-bits-";

/// Writes the digits of `big` back in `out` (a serialized record) where their markers
/// are; a marker a rule copied is restored at each place.
pub fn restore(out: &mut Vec<u8>, big: &[String]) {
    for (i, digits) in big.iter().enumerate() {
        let marker = format!("\"\\u0000{MARKER}{i}\\u0000\"");
        let marker = marker.as_bytes();
        let mut from = 0;
        while let Some(pos) = out[from..]
            .windows(marker.len())
            .position(|w| w == marker)
            .map(|p| p + from)
        {
            out.splice(pos..pos + marker.len(), digits.bytes());
            from = pos + digits.len();
        }
    }
}

/// The byte ranges of the integer literals of `text` (outside strings) that neither an
/// i64 nor a u64 holds.
fn big_integers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < bytes.len()
                    && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
                {
                    i += 1;
                }
                let token = &text[start..i];
                let integer = token
                    .bytes()
                    .skip(usize::from(token.starts_with('-')))
                    .all(|c| c.is_ascii_digit());
                if integer
                    && token.len() >= 19
                    && token.parse::<i64>().is_err()
                    && token.parse::<u64>().is_err()
                {
                    out.push((start, i));
                }
            }
            _ => i += 1,
        }
    }
    out
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "the key {key:?} appears twice in one object: one of its values would be lost"
                )));
            }
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_and_integers_beyond_64_bits_carried_exactly() {
        let plain = parse(r#"{"a":1,"b":[1,-2,3.5,"x",null,true],"c":{"d":18446744073709551615}}"#)
            .unwrap();
        assert!(plain.big.is_empty());
        assert_eq!(
            plain.value,
            serde_json::json!({"a":1,"b":[1,-2,3.5,"x",null,true],"c":{"d":18446744073709551615u64}})
        );
        let dup = parse(r#"{"email":"a@x","email":"b@x"}"#).unwrap_err();
        assert!(dup.contains("\"email\" appears twice"), "{dup}");
        let nested = parse(r#"{"m":{"k":1,"k":2}}"#).unwrap_err();
        assert!(nested.contains("\"k\" appears twice"), "{nested}");
        // Beyond 64 bits: a marker in the value, the digits back in the output, also
        // where a rule copied it; strings that look like numbers are left alone.
        let text = r#"{"id":123456789012345678901234,"n":-99999999999999999999,"s":"123456789012345678901234","f":1.5e300}"#;
        let mut parsed = parse(text).unwrap();
        assert_eq!(
            parsed.big,
            ["123456789012345678901234", "-99999999999999999999"]
        );
        parsed.value["copy"] = parsed.value["id"].clone();
        let mut out = serde_json::to_vec(&parsed.value).unwrap();
        restore(&mut out, &parsed.big);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"id":123456789012345678901234,"n":-99999999999999999999,"s":"123456789012345678901234","f":1.5e+300,"copy":123456789012345678901234}"#
        );
        assert!(
            parse(r#"{"id":-9223372036854775808}"#)
                .unwrap()
                .big
                .is_empty()
        );
    }
}
