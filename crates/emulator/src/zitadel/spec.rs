//! ZITADEL's API definitions (the HTTP bindings of its protos, with idferry's additions:
//! `crates/zitadel/testdata`) as the judge of what the emulated instance accepts: a
//! request body that does not validate against its operation's request schema (unknown
//! fields, wrong types, values outside an enum, negative or fractional integers) is
//! refused with 400 and gRPC code 3, naming the field, as ZITADEL's gateway refuses it.
//! Calls the definitions do not hold (newer ones, the session and token endpoints) are
//! left to their handlers.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use axum::http::Method;
use serde_json::{Value, json};

/// The definitions, as the client's tests check them.
const SPEC_TEXT: &str = include_str!("../../../zitadel/testdata/zitadel-api-subset.openapi.json");

static SPEC: LazyLock<Value> =
    LazyLock::new(|| serde_json::from_str(SPEC_TEXT).unwrap_or(Value::Null));

/// Compiled request schemas by (method, spec path); `None`: the operation takes no body
/// or its schema does not compile.
type Validators = HashMap<(String, String), Option<Arc<jsonschema::Validator>>>;

static VALIDATORS: LazyLock<Mutex<Validators>> = LazyLock::new(|| Mutex::new(HashMap::new()));

/// The spec path binding `segments` for `method`: the one with the most literal
/// segments when several match (`/admin/v1/idps/google` over `/admin/v1/idps/{idp_id}`).
pub fn operation(method: &Method, segments: &[&str]) -> Option<&'static str> {
    let method = method.as_str().to_lowercase();
    let paths = SPEC.get("paths")?.as_object()?;
    paths
        .iter()
        .filter(|(_, ops)| ops.get(&method).is_some())
        .filter_map(|(path, _)| {
            let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
            if parts.len() != segments.len() {
                return None;
            }
            let mut literal = 0;
            for (p, s) in parts.iter().zip(segments) {
                if p.starts_with('{') {
                    if s.is_empty() {
                        return None;
                    }
                } else if p == s {
                    literal += 1;
                } else {
                    return None;
                }
            }
            Some((literal, path.as_str()))
        })
        .max_by_key(|(literal, _)| *literal)
        .map(|(_, path)| path)
}

fn validator(method: &Method, path: &str) -> Option<Arc<jsonschema::Validator>> {
    let key = (method.as_str().to_lowercase(), path.to_owned());
    let mut cache = VALIDATORS.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(key.clone())
        .or_insert_with(|| {
            let schema = SPEC
                .pointer(&format!(
                    "/paths/{}/{}/requestBody/content/application~1json/schema",
                    key.1.replace('~', "~0").replace('/', "~1"),
                    key.0
                ))?
                .clone();
            // The operation's schema, its references resolved in the definitions.
            let root = json!({"components": SPEC.get("components").cloned().unwrap_or_default(), "allOf": [schema]});
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .build(&root)
                .map_err(|e| tracing::error!("{} {path}: its schema does not compile: {e}", key.0))
                .ok()
                .map(Arc::new)
        })
        .clone()
}

/// Why ZITADEL would refuse `body` for `method` on `segments`, if it would.
pub fn refusal(method: &Method, segments: &[&str], body: &Value) -> Option<String> {
    let path = operation(method, segments)?;
    let validator = validator(method, path)?;
    let error = validator.iter_errors(body).next()?;
    let at = error.instance_path().to_string();
    Some(if at.is_empty() {
        format!("invalid request: {error}")
    } else {
        format!("invalid request: {at}: {error}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_judged_by_their_operation_schema() {
        let put = Method::PUT;
        let lockout = ["admin", "v1", "policies", "password", "lockout"];
        assert_eq!(
            operation(&put, &lockout),
            Some("/admin/v1/policies/password/lockout")
        );
        assert!(refusal(&put, &lockout, &json!({"maxPasswordAttempts": 5})).is_none());
        let negative = refusal(&put, &lockout, &json!({"maxPasswordAttempts": -1})).unwrap();
        assert!(negative.contains("/maxPasswordAttempts"), "{negative}");
        let unknown = refusal(&put, &lockout, &json!({"maxAttempts": 5})).unwrap();
        assert!(unknown.contains("maxAttempts"), "{unknown}");
        // The most literal route wins; unbound calls are not judged here.
        let google = ["admin", "v1", "idps", "google", "123"];
        assert_eq!(operation(&put, &google), Some("/admin/v1/idps/google/{id}"));
        assert_eq!(
            operation(&put, &["admin", "v1", "policies", "lockout"]),
            None
        );
        assert!(refusal(&Method::POST, &["v2", "users", "new"], &json!({"x": 1})).is_none());
    }
}
