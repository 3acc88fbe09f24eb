//! JSON read strictly, so that nothing in a record is lost on the way in: an object
//! naming a key twice (a plain parse keeps the last value and drops the first without a
//! word) and a number beyond what 64 bits carry exactly (a plain parse rounds it) are
//! errors that say which.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// `text` as a JSON value, refusing duplicate keys and numbers that would be rounded.
pub fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str::<Strict>(text)
        .map(|s| s.0)
        .map_err(|e| e.to_string())
}

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

/// Above this, an integral number may be an integer serde_json could not hold (it reads
/// one beyond 64 bits as a float, rounded).
const BEYOND_64_BITS: f64 = 9_223_372_036_854_775_808.0;

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
        if v.fract() == 0.0 && v.abs() >= BEYOND_64_BITS {
            return Err(E::custom(format!(
                "the number {v:e} is beyond 64 bits: it would not be carried exactly (write it as a string)"
            )));
        }
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
    fn duplicate_keys_and_numbers_beyond_64_bits_are_refused() {
        assert_eq!(
            parse(r#"{"a":1,"b":[1,-2,3.5,"x",null,true],"c":{"d":18446744073709551615}}"#)
                .unwrap(),
            serde_json::json!({"a":1,"b":[1,-2,3.5,"x",null,true],"c":{"d":18446744073709551615u64}})
        );
        let dup = parse(r#"{"email":"a@x","email":"b@x"}"#).unwrap_err();
        assert!(dup.contains("\"email\" appears twice"), "{dup}");
        let nested = parse(r#"{"m":{"k":1,"k":2}}"#).unwrap_err();
        assert!(nested.contains("\"k\" appears twice"), "{nested}");
        let big = parse(r#"{"id":123456789012345678901234}"#).unwrap_err();
        assert!(big.contains("beyond 64 bits"), "{big}");
        assert!(parse(r#"{"id":-9223372036854775808}"#).is_ok());
        assert!(parse(r#"{"f":1.5e3}"#).is_ok());
    }
}
