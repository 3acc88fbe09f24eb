//! The users-imports schema: what one user of an import file may hold, checked as Auth0
//! checks it (no unknown fields, `email` required, bcrypt `password_hash`, the rules of
//! each `custom_password_hash` algorithm, reserved `app_metadata` keys, `mfa_factors`),
//! with Auth0's error codes (`FORMAT`, `INVALID_TYPE`, `PATTERN`...) and paths.

use serde_json::{Value, json};

/// One schema violation.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// Auth0's code.
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// The field, as a dot path.
    pub path: String,
}

impl Violation {
    fn new(code: &'static str, path: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            path: path.to_owned(),
        }
    }

    /// As the errors endpoint shows it.
    pub fn to_json(&self) -> Value {
        json!({ "code": self.code, "message": self.message, "path": self.path })
    }
}

const FIELDS: &[&str] = &[
    "email",
    "email_verified",
    "user_id",
    "username",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "blocked",
    "app_metadata",
    "user_metadata",
    "password_hash",
    "custom_password_hash",
    "mfa_factors",
];

const RESERVED_APP_METADATA: &[&str] = &[
    "__tenant",
    "_id",
    "blocked",
    "clientID",
    "created_at",
    "email_verified",
    "email",
    "globalClientID",
    "global_client_id",
    "identities",
    "lastIP",
    "lastLogin",
    "loginsCount",
    "metadata",
    "multifactor",
    "name",
    "nickname",
    "picture",
    "tenant",
    "updated_at",
    "user_id",
];

const ALGORITHMS: &[&str] = &[
    "argon2", "bcrypt", "hmac", "ldap", "md4", "md5", "sha1", "sha256", "sha512", "pbkdf2",
    "scrypt",
];

fn is_bcrypt(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 60
        && (s.starts_with("$2a$") || s.starts_with("$2b$") || s.starts_with("$2y$"))
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit()
        && b[6] == b'$'
        && s[7..]
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'/')
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.contains(char::is_whitespace)
        && !domain.contains('@')
}

fn expect_type(out: &mut Vec<Violation>, v: &Value, path: &str, ty: &str) -> bool {
    let ok = match ty {
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        _ => true,
    };
    if !ok {
        out.push(Violation::new(
            "INVALID_TYPE",
            path,
            format!("Expected type {ty} but found type {}", type_name(v)),
        ));
    }
    ok
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks one user of an import file.
pub fn validate(user: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    let Some(map) = user.as_object() else {
        out.push(Violation::new(
            "INVALID_TYPE",
            "",
            format!("Expected type object but found type {}", type_name(user)),
        ));
        return out;
    };
    for key in map.keys() {
        if !FIELDS.contains(&key.as_str()) {
            out.push(Violation::new(
                "OBJECT_ADDITIONAL_PROPERTIES",
                "",
                format!("Additional properties not allowed: {key}"),
            ));
        }
    }
    match map.get("email") {
        None => out.push(Violation::new(
            "OBJECT_MISSING_REQUIRED_PROPERTY",
            "",
            "Missing required property: email",
        )),
        Some(v) => {
            if expect_type(&mut out, v, "email", "string") && !v.as_str().is_some_and(is_email) {
                out.push(Violation::new(
                    "FORMAT",
                    "email",
                    format!(
                        "Object didn't pass validation for format email: {}",
                        v.as_str().unwrap_or("")
                    ),
                ));
            }
        }
    }
    for field in ["email_verified", "blocked"] {
        if let Some(v) = map.get(field) {
            expect_type(&mut out, v, field, "boolean");
        }
    }
    for field in [
        "user_id",
        "username",
        "given_name",
        "family_name",
        "name",
        "nickname",
        "picture",
    ] {
        if let Some(v) = map.get(field) {
            expect_type(&mut out, v, field, "string");
        }
    }
    if let Some(Value::String(name)) = map.get("username")
        && (name.is_empty() || name.len() > 128)
    {
        out.push(Violation::new(
            "PATTERN",
            "username",
            "username must be 1 to 128 characters",
        ));
    }
    if let Some(v) = map.get("user_metadata") {
        expect_type(&mut out, v, "user_metadata", "object");
    }
    if let Some(v) = map.get("app_metadata")
        && expect_type(&mut out, v, "app_metadata", "object")
        && let Some(meta) = v.as_object()
    {
        for key in meta.keys() {
            if RESERVED_APP_METADATA.contains(&key.as_str()) {
                out.push(Violation::new(
                    "RESERVED_KEY",
                    &format!("app_metadata.{key}"),
                    format!("{key} is a reserved key of app_metadata"),
                ));
            }
        }
    }
    match (map.get("password_hash"), map.get("custom_password_hash")) {
        (Some(_), Some(_)) => out.push(Violation::new(
            "CONFLICTING_PROPERTIES",
            "",
            "password_hash and custom_password_hash cannot both be set",
        )),
        (Some(v), None) => {
            if expect_type(&mut out, v, "password_hash", "string")
                && !v.as_str().is_some_and(is_bcrypt)
            {
                out.push(Violation::new(
                    "PATTERN",
                    "password_hash",
                    "String does not match pattern: ^\\$2[ab]\\$10\\$[./A-Za-z0-9]{53}$",
                ));
            }
        }
        (None, Some(v)) => check_custom_hash(&mut out, v),
        (None, None) => {}
    }
    if let Some(v) = map.get("mfa_factors") {
        check_mfa(&mut out, v);
    }
    out
}

fn check_custom_hash(out: &mut Vec<Violation>, v: &Value) {
    if !expect_type(out, v, "custom_password_hash", "object") {
        return;
    }
    let algorithm = v.get("algorithm").and_then(Value::as_str);
    let Some(algorithm) = algorithm.filter(|a| ALGORITHMS.contains(a)) else {
        out.push(Violation::new(
            "ENUM_MISMATCH",
            "custom_password_hash.algorithm",
            format!(
                "No enum match for: {}",
                v.get("algorithm").unwrap_or(&Value::Null)
            ),
        ));
        return;
    };
    let Some(value) = v.pointer("/hash/value").and_then(Value::as_str) else {
        out.push(Violation::new(
            "OBJECT_MISSING_REQUIRED_PROPERTY",
            "custom_password_hash.hash",
            "Missing required property: value",
        ));
        return;
    };
    let bad = |out: &mut Vec<Violation>, message: &str| {
        out.push(Violation::new(
            "PATTERN",
            "custom_password_hash.hash.value",
            message,
        ));
    };
    match algorithm {
        "bcrypt" if !is_bcrypt(value) => bad(out, "not a bcrypt hash ($2a$, $2b$ or $2y$)"),
        "argon2" if !value.starts_with("$argon2") => {
            bad(out, "argon2 hashes are PHC strings ($argon2id$...)")
        }
        "pbkdf2" if !value.starts_with("$pbkdf2-") => bad(
            out,
            "pbkdf2 hashes are PHC strings ($pbkdf2-<digest>$i=..,l=..$salt$hash)",
        ),
        "ldap" if value.to_ascii_lowercase().starts_with("{crypt}") => {
            bad(out, "the ldap {crypt} scheme is not supported")
        }
        "hmac" if v.pointer("/hash/digest").is_none() || v.pointer("/hash/key/value").is_none() => {
            out.push(Violation::new(
                "OBJECT_MISSING_REQUIRED_PROPERTY",
                "custom_password_hash.hash",
                "hmac needs hash.digest and hash.key.value",
            ));
        }
        "scrypt" if v.pointer("/hash/keylen").is_none() && v.get("keylen").is_none() => {
            out.push(Violation::new(
                "OBJECT_MISSING_REQUIRED_PROPERTY",
                "custom_password_hash.hash",
                "scrypt needs keylen",
            ));
        }
        _ => {}
    }
}

fn check_mfa(out: &mut Vec<Violation>, v: &Value) {
    let Some(factors) = v.as_array() else {
        expect_type(out, v, "mfa_factors", "array");
        return;
    };
    if factors.is_empty() || factors.len() > 10 {
        out.push(Violation::new(
            "MFA_FACTORS_FAILED",
            "mfa_factors",
            "between 1 and 10 factors are allowed",
        ));
    }
    for (i, f) in factors.iter().enumerate() {
        let ok = f.as_object().is_some_and(|f| {
            f.len() == 1
                && (f
                    .get("totp")
                    .is_some_and(|t| t.get("secret").is_some_and(Value::is_string))
                    || f.get("phone")
                        .is_some_and(|p| p.get("value").is_some_and(Value::is_string))
                    || f.get("email")
                        .is_some_and(|e| e.get("value").is_some_and(Value::is_string)))
        });
        if !ok {
            out.push(Violation::new(
                "MFA_FACTORS_FAILED",
                &format!("mfa_factors.{i}"),
                "a factor is one of totp {secret}, phone {value} or email {value}",
            ));
        }
    }
}

/// The user as the errors endpoint shows it: hash values replaced by `*****`.
pub fn redact(user: &Value) -> Value {
    let mut user = user.clone();
    if user.get("password_hash").is_some() {
        user["password_hash"] = json!("*****");
    }
    if let Some(v) = user.pointer_mut("/custom_password_hash/hash/value") {
        *v = json!("*****");
    }
    user
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$2b$10$C9a8Ljd9ApiVDZKwLCXRxuwr0iC7aFWhJPXQgpjlaTpEx0Sl2m1Zu";

    fn codes(user: Value) -> Vec<&'static str> {
        validate(&user).into_iter().map(|v| v.code).collect()
    }

    #[test]
    fn a_complete_user_passes() {
        let user = json!({
            "email": "a@example.com", "email_verified": true, "user_id": "abc",
            "given_name": "A", "family_name": "B", "name": "A B", "nickname": "a",
            "picture": "https://x/y.png", "blocked": false,
            "app_metadata": {"plan": "pro"}, "user_metadata": {"lang": "fr"},
            "password_hash": HASH,
            "mfa_factors": [{"totp": {"secret": "JBSWY3DPEHPK3PXP"}}]
        });
        assert_eq!(validate(&user), vec![]);
    }

    #[test]
    fn violations_carry_auth0_codes() {
        assert_eq!(
            codes(json!({"name": "x"})),
            vec!["OBJECT_MISSING_REQUIRED_PROPERTY"]
        );
        assert_eq!(codes(json!({"email": "nope"})), vec!["FORMAT"]);
        assert_eq!(
            codes(json!({"email": "a@b.co", "blocked": "no"})),
            vec!["INVALID_TYPE"]
        );
        assert_eq!(
            codes(json!({"email": "a@b.co", "password_hash": "plain"})),
            vec!["PATTERN"]
        );
        assert_eq!(
            codes(json!({"email": "a@b.co", "logins_count": 3})),
            vec!["OBJECT_ADDITIONAL_PROPERTIES"]
        );
        assert_eq!(
            codes(json!({"email": "a@b.co", "app_metadata": {"user_id": 1}})),
            vec!["RESERVED_KEY"]
        );
        assert_eq!(
            codes(
                json!({"email": "a@b.co", "custom_password_hash": {"algorithm": "rot13", "hash": {"value": "x"}}})
            ),
            vec!["ENUM_MISMATCH"]
        );
        assert_eq!(
            codes(json!({"email": "a@b.co", "mfa_factors": []})),
            vec!["MFA_FACTORS_FAILED"]
        );
    }

    #[test]
    fn redaction_hides_hash_values() {
        let user = json!({"email": "a@b.co", "custom_password_hash": {"algorithm": "md5", "hash": {"value": "abc", "encoding": "hex"}}});
        assert_eq!(
            redact(&user)["custom_password_hash"]["hash"]["value"],
            "*****"
        );
    }
}
