//! A platform's OpenAPI definitions as the judge of what its emulation accepts: a request
//! body that does not validate against its operation's request schema (unknown fields,
//! wrong types, values outside an enum, missing required ones) is refused, naming the
//! field, before any handler sees it. One judge per platform spec (ZITADEL's API
//! definitions, Auth0's Management API v2); operations a spec does not hold are left to
//! their handlers.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use axum::http::Method;
use serde_json::{Value, json};

/// Compiled request schemas by (method, spec path); `None`: the operation takes no JSON
/// body or its schema does not compile.
type Validators = HashMap<(String, String), Option<Arc<jsonschema::Validator>>>;

/// One spec and the request schemas compiled from it so far.
pub struct Judge {
    spec: LazyLock<Value, Box<dyn FnOnce() -> Value + Send>>,
    validators: Mutex<Validators>,
}

/// Fields a platform takes that its spec's request schema leaves out: (schema, fields,
/// the fields' schema), each with why it is added. A debt of the spec, named here.
type Additions = &'static [(&'static str, &'static [&'static str], &'static str)];

/// Session lifetimes a tenant's settings take in minutes, though the spec lists only
/// the hours: auth0-deploy-cli writes them so (it turns every `*session_lifetime` in
/// hours into these), and tenants take them and keep them in hours
/// (`api::in_hours`).
pub const SESSION_MINUTES: &[&str] = &[
    "session_lifetime_in_minutes",
    "idle_session_lifetime_in_minutes",
    "ephemeral_session_lifetime_in_minutes",
    "idle_ephemeral_session_lifetime_in_minutes",
];

/// Auth0 takes these though the spec does not list them.
const AUTH0_ADDITIONS: Additions = &[
    // auth0-deploy-cli sends a rule's stage (`login_success`, the only one) and tenants
    // take it; the spec's create body lacks it.
    (
        "CreateRuleRequestContent",
        &["stage"],
        r#"{"type": "string"}"#,
    ),
    (
        "UpdateTenantSettingsRequestContent",
        SESSION_MINUTES,
        r#"{"type": "integer", "minimum": 1}"#,
    ),
];

impl Judge {
    /// A judge of requests by the spec in `text` (read on first use), with `additions`.
    ///
    /// The spec's `oneOf` is read as `anyOf`: its alternatives overlap where the spec
    /// means "any of these" (an IPv4 address is also a CIDR string when formats are not
    /// checked; `$ending` is both a node identifier and the ending), so an exact-one
    /// reading would refuse what the platform takes.
    pub fn new(text: &'static str, additions: Additions) -> Self {
        Self {
            spec: LazyLock::new(Box::new(move || {
                let mut spec: Value = serde_json::from_str(text).unwrap_or(Value::Null);
                any_of(&mut spec);
                for (schema, fields, def) in additions {
                    if let (Some(Value::Object(props)), Ok(def)) = (
                        spec.pointer_mut(&format!("/components/schemas/{schema}/properties")),
                        serde_json::from_str::<Value>(def),
                    ) {
                        for field in *fields {
                            props.insert((*field).to_owned(), def.clone());
                        }
                    }
                }
                spec
            })),
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The spec itself (with its additions).
    pub fn spec(&self) -> &Value {
        &self.spec
    }

    /// The spec path binding `segments` for `method`: the one with the most literal
    /// segments when several match (`/admin/v1/idps/google` over `/admin/v1/idps/{id}`).
    pub fn operation(&self, method: &Method, segments: &[&str]) -> Option<&str> {
        let method = method.as_str().to_lowercase();
        let paths = self.spec.get("paths")?.as_object()?;
        paths
            .iter()
            .filter(|(_, ops)| ops.get(&method).is_some())
            .filter_map(|(path, _)| {
                let (_, literals) = crate::api::match_template(path, segments)?;
                Some((literals, path.as_str()))
            })
            .max_by_key(|(literals, _)| *literals)
            .map(|(_, path)| path)
    }

    fn validator(&self, method: &Method, path: &str) -> Option<Arc<jsonschema::Validator>> {
        let key = (method.as_str().to_lowercase(), path.to_owned());
        let mut cache = self.validators.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(key.clone())
            .or_insert_with(|| {
                let schema = self
                    .spec
                    .pointer(&format!(
                        "/paths/{}/{}/requestBody/content/application~1json/schema",
                        key.1.replace('~', "~0").replace('/', "~1"),
                        key.0
                    ))?
                    .clone();
                // The operation's schema, its references resolved in the definitions.
                let root = json!({"components": self.spec.get("components").cloned().unwrap_or_default(), "allOf": [schema]});
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .build(&root)
                    .map_err(|e| {
                        tracing::error!("{} {path}: its schema does not compile: {e}", key.0)
                    })
                    .ok()
                    .map(Arc::new)
            })
            .clone()
    }

    /// Why the platform would refuse `body` for `method` on `segments`, if it would: the
    /// first error and the path of the field it is about.
    pub fn refusal(&self, method: &Method, segments: &[&str], body: &Value) -> Option<Refusal> {
        self.refusal_at(method, self.operation(method, segments)?, body)
    }

    /// As [`Judge::refusal`], for the spec path `template` found already.
    pub fn refusal_at(&self, method: &Method, template: &str, body: &Value) -> Option<Refusal> {
        let validator = self.validator(method, template)?;
        let error = validator.iter_errors(body).next()?;
        Some(Refusal {
            at: error.instance_path().to_string(),
            message: error.to_string(),
        })
    }
}

/// Renames every `oneOf` of `value` to `anyOf` (see [`Judge::new`]).
fn any_of(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(alternatives) = map.remove("oneOf") {
                map.insert("anyOf".into(), alternatives);
            }
            map.values_mut().for_each(any_of);
        }
        Value::Array(items) => items.iter_mut().for_each(any_of),
        _ => {}
    }
}

/// Why a request body is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The JSON pointer of the field (empty: the body itself).
    pub at: String,
    /// What is wrong with it.
    pub message: String,
}

/// ZITADEL's API definitions (the HTTP bindings of its protos, with idferry's additions),
/// as the client's tests check them.
pub static ZITADEL: LazyLock<Judge> = LazyLock::new(|| {
    Judge::new(
        include_str!("../../zitadel/testdata/zitadel-api-subset.openapi.json"),
        &[],
    )
});

/// Auth0's Management API v2, as rebuilt into the repository (`crates/auth0/testdata`).
pub const AUTH0_SPEC: &str =
    include_str!("../../auth0/testdata/auth0-management-api-v2.openapi.json");

/// The judge of Auth0 requests: [`AUTH0_SPEC`] with [`AUTH0_ADDITIONS`].
pub static AUTH0: LazyLock<Judge> = LazyLock::new(|| Judge::new(AUTH0_SPEC, AUTH0_ADDITIONS));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zitadel_requests_are_judged_by_their_operation_schema() {
        let put = Method::PUT;
        let lockout = ["admin", "v1", "policies", "password", "lockout"];
        assert_eq!(
            ZITADEL.operation(&put, &lockout),
            Some("/admin/v1/policies/password/lockout")
        );
        assert!(
            ZITADEL
                .refusal(&put, &lockout, &json!({"maxPasswordAttempts": 5}))
                .is_none()
        );
        let negative = ZITADEL
            .refusal(&put, &lockout, &json!({"maxPasswordAttempts": -1}))
            .unwrap();
        assert_eq!(negative.at, "/maxPasswordAttempts", "{negative:?}");
        let unknown = ZITADEL
            .refusal(&put, &lockout, &json!({"maxAttempts": 5}))
            .unwrap();
        assert!(unknown.message.contains("maxAttempts"), "{unknown:?}");
        // The most literal route wins; unbound calls are not judged here.
        let google = ["admin", "v1", "idps", "google", "123"];
        assert_eq!(
            ZITADEL.operation(&put, &google),
            Some("/admin/v1/idps/google/{id}")
        );
        assert_eq!(
            ZITADEL.operation(&put, &["admin", "v1", "policies", "lockout"]),
            None
        );
        assert!(
            ZITADEL
                .refusal(&Method::POST, &["v2", "users", "new"], &json!({"x": 1}))
                .is_none()
        );
    }

    #[test]
    fn auth0_requests_are_judged_by_the_management_api_spec() {
        let post = Method::POST;
        let roles = ["roles"];
        assert!(
            AUTH0
                .refusal(&post, &roles, &json!({"name": "admin", "description": "x"}))
                .is_none()
        );
        let unknown = AUTH0
            .refusal(&post, &roles, &json!({"name": "admin", "colour": "red"}))
            .unwrap();
        assert!(unknown.message.contains("colour"), "{unknown:?}");
        let missing = AUTH0.refusal(&post, &roles, &json!({})).unwrap();
        assert!(missing.message.contains("name"), "{missing:?}");
        let typed = AUTH0
            .refusal(&Method::PATCH, &["roles", "rol_1"], &json!({"name": 5}))
            .unwrap();
        assert_eq!(typed.at, "/name", "{typed:?}");
    }
}
