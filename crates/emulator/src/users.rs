//! Users: create, read, update (metadata merged as the API does on PATCH), delete, list
//! with offset paging capped at 1000, search with a small subset of the `q` syntax
//! (`field:"value"` terms joined by AND, `*` as a trailing wildcard), and lookup by email.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use crate::api::{Answer, Op, forget_children, merge};
use crate::error::{ApiError, ApiResult};
use crate::ids;
use crate::paginate::{Query, paginate};
use crate::store::{Store, UserRow};

fn users_kind() -> &'static idferry_auth0::Kind {
    idferry_auth0::catalog::find("users").unwrap_or(&idferry_auth0::CATALOG[0])
}

fn user_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "The user does not exist.").code("inexistent_user")
}

/// Serves `/users` and `/users/{id}`.
pub fn handle(
    store: &mut Store,
    op: Op,
    id: Option<&str>,
    q: &Query,
    body: Option<Value>,
) -> ApiResult<Answer> {
    match (op, id) {
        (Op::List, _) => list(store, q),
        (Op::Get, Some(id)) => {
            let row = store.users.get(id).ok_or_else(user_not_found)?;
            Ok((StatusCode::OK, Some(row.value())))
        }
        (Op::Create, _) => {
            let Some(Value::Object(body)) = body else {
                return Err(ApiError::invalid_body("the body must be a JSON object"));
            };
            let user = create(store, body)?;
            Ok((StatusCode::CREATED, Some(user)))
        }
        (Op::Update, Some(id)) => {
            let Some(Value::Object(patch)) = body else {
                return Err(ApiError::invalid_body("the body must be a JSON object"));
            };
            let user = update(store, id, patch)?;
            Ok((StatusCode::OK, Some(user)))
        }
        (Op::Delete, Some(id)) => {
            store.users.remove(id).ok_or_else(user_not_found)?;
            store.credentials.remove(id);
            forget_children(store, users_kind(), "", id);
            Ok((StatusCode::NO_CONTENT, None))
        }
        _ => Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found")),
    }
}

fn list(store: &Store, q: &Query) -> ApiResult<Answer> {
    let kind = users_kind();
    let terms = parse_q(q.get("q").map_or("", String::as_str))?;
    let connection = q.get("connection");
    if terms.is_empty() && connection.is_none() {
        let users = &store.users;
        let body = paginate(kind, users.len(), q, |r| {
            r.filter_map(|i| users.at(i).map(UserRow::value)).collect()
        })?;
        return Ok((StatusCode::OK, Some(body)));
    }
    // A search: an email term uses the index, anything else scans.
    let candidates: Vec<Value> = match terms.iter().find(|t| t.0 == "email" && !t.1.ends_with('*'))
    {
        Some((_, email)) => store
            .users
            .by_email(email)
            .into_iter()
            .map(UserRow::value)
            .collect(),
        None => store.users.iter().map(UserRow::value).collect(),
    };
    let hits: Vec<Value> = candidates
        .into_iter()
        .filter(|u| terms.iter().all(|(f, v)| matches_term(u, f, v)))
        .filter(|u| {
            connection.is_none_or(|c| {
                u.pointer("/identities/0/connection")
                    .and_then(Value::as_str)
                    == Some(c.as_str())
            })
        })
        .collect();
    let body = paginate(kind, hits.len(), q, |r| hits[r].to_vec())?;
    Ok((StatusCode::OK, Some(body)))
}

/// `email:"a@b.c" AND user_id:"auth0|x"` -> [("email", "a@b.c"), ("user_id", "auth0|x")].
fn parse_q(q: &str) -> ApiResult<Vec<(String, String)>> {
    let mut terms = Vec::new();
    let mut rest = q.trim();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("AND ") {
            rest = r.trim_start();
            continue;
        }
        let (field, after) = rest.split_once(':').ok_or_else(|| {
            ApiError::invalid_query(format!(
                "cannot parse q near {rest:?}: expected field:value"
            ))
        })?;
        let (value, after) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| ApiError::invalid_query("unterminated quote in q"))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            after.split_once(' ').unwrap_or((after, ""))
        };
        terms.push((field.trim().to_owned(), value.to_owned()));
        rest = after.trim_start();
    }
    Ok(terms)
}

fn matches_term(user: &Value, field: &str, want: &str) -> bool {
    let pointer = format!("/{}", field.replace('.', "/"));
    let Some(have) = user.pointer(&pointer) else {
        return false;
    };
    let have = match have {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match want.strip_suffix('*') {
        Some(prefix) => have.to_lowercase().starts_with(&prefix.to_lowercase()),
        None => have.eq_ignore_ascii_case(want),
    }
}

/// `GET /users-by-email?email=`.
pub fn by_email(store: &Store, q: &Query) -> ApiResult<Answer> {
    let email = q
        .get("email")
        .ok_or_else(|| ApiError::invalid_query("Missing required property: email"))?;
    let users: Vec<Value> = store
        .users
        .by_email(email)
        .into_iter()
        .map(UserRow::value)
        .collect();
    Ok((StatusCode::OK, Some(Value::Array(users))))
}

/// The connection called `name`, or 400 as the API answers.
pub fn connection_by_name(store: &Store, name: &str) -> ApiResult<Value> {
    store
        .table_ref("connections", "")
        .and_then(|t| {
            t.values()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(name))
        })
        .cloned()
        .ok_or_else(|| {
            ApiError::new(StatusCode::BAD_REQUEST, "The connection does not exist.")
                .code("inexistent_connection")
        })
}

/// The identity provider prefix of a connection's user ids (`auth0` for databases).
pub fn provider_of(connection: &Value) -> String {
    match connection.get("strategy").and_then(Value::as_str) {
        Some("auth0") | None => "auth0".to_owned(),
        Some(other) => other.to_owned(),
    }
}

const CREATE_FIELDS: &[&str] = &[
    "connection",
    "email",
    "phone_number",
    "user_metadata",
    "blocked",
    "email_verified",
    "phone_verified",
    "app_metadata",
    "given_name",
    "family_name",
    "name",
    "nickname",
    "picture",
    "user_id",
    "password",
    "verify_email",
    "username",
];

fn create(store: &mut Store, body: Map<String, Value>) -> ApiResult<Value> {
    for k in body.keys() {
        if !CREATE_FIELDS.contains(&k.as_str()) {
            return Err(ApiError::invalid_body(format!(
                "Additional properties not allowed: {k}"
            )));
        }
    }
    let conn_name = body
        .get("connection")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_body("Missing required property: connection"))?;
    let connection = connection_by_name(store, conn_name)?;
    let email = body.get("email").and_then(Value::as_str);
    if let Some(email) = email
        && store.users.by_email_in(email, conn_name).is_some()
    {
        return Err(ApiError::conflict("The user already exists.").code("user_exists"));
    }
    let mut fields = body;
    let password = fields.remove("password");
    fields.remove("verify_email");
    fields.remove("connection");
    let user = insert(store, &connection, fields)?;
    if let (Some(Value::String(p)), Some(id)) =
        (password, user.get("user_id").and_then(Value::as_str))
    {
        store
            .credentials
            .insert(id.to_owned(), json!({ "password": p }));
    }
    Ok(user)
}

/// Stores a new user of `connection` from its fields, filling what the API fills.
pub fn insert(
    store: &mut Store,
    connection: &Value,
    mut fields: Map<String, Value>,
) -> ApiResult<Value> {
    let provider = provider_of(connection);
    let local_id = match fields.remove("user_id") {
        Some(Value::String(id)) => id
            .strip_prefix(&format!("{provider}|"))
            .map(str::to_owned)
            .unwrap_or(id),
        _ => ids::hex(&mut store.rng, 24),
    };
    let user_id = format!("{provider}|{local_id}");
    if store.users.get(&user_id).is_some() {
        return Err(ApiError::conflict("The user already exists.").code("user_exists"));
    }
    let now = crate::clock::iso_now();
    let email = fields
        .get("email")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut user = Map::new();
    user.insert("user_id".into(), json!(user_id));
    user.insert("created_at".into(), json!(now));
    user.insert("updated_at".into(), json!(now));
    if let Some(email) = &email {
        user.insert("email_verified".into(), json!(false));
        user.insert("name".into(), json!(email));
        user.insert(
            "nickname".into(),
            json!(email.split('@').next().unwrap_or(email)),
        );
        user.insert(
            "picture".into(),
            json!(format!(
                "https://s.gravatar.com/avatar/{}?s=480&r=pg",
                ids::hex(&mut store.rng, 32)
            )),
        );
    }
    for (k, v) in fields {
        user.insert(k, v);
    }
    user.insert(
        "identities".into(),
        json!([{
            "connection": connection.get("name"),
            "provider": provider,
            "user_id": local_id,
            "isSocial": provider != "auth0" && provider != "sms" && provider != "email",
        }]),
    );
    let user = Value::Object(user);
    let row = UserRow::from_value(&user).ok_or_else(|| ApiError::invalid_body("user_id"))?;
    store.users.put(row);
    Ok(user)
}

/// `DELETE /users/{id}/identities/{provider}/{user_id}`: unlinks a secondary identity
/// and answers the identities the user keeps, as the spec declares; the user's own
/// (first) identity cannot be unlinked.
pub fn unlink(store: &mut Store, id: &str, provider: &str, user_id: &str) -> ApiResult<Answer> {
    let mut user = store.users.get(id).ok_or_else(user_not_found)?.value();
    let identities = user
        .get_mut("identities")
        .and_then(Value::as_array_mut)
        .ok_or_else(user_not_found)?;
    let named = |i: &Value| {
        i.get("provider").and_then(Value::as_str) == Some(provider)
            && i.get("user_id").map(|u| match u {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }) == Some(user_id.to_owned())
    };
    match identities.iter().position(named) {
        Some(0) => {
            return Err(ApiError::invalid_body(
                "The main identity cannot be unlinked; delete the user instead",
            ));
        }
        Some(at) => {
            identities.remove(at);
        }
        None => {}
    }
    let kept = Value::Array(identities.clone());
    let row = UserRow::from_value(&user).ok_or_else(user_not_found)?;
    store.users.put(row);
    Ok((StatusCode::OK, Some(kept)))
}

fn update(store: &mut Store, id: &str, patch: Map<String, Value>) -> ApiResult<Value> {
    let mut user = store.users.get(id).ok_or_else(user_not_found)?.value();
    for (k, v) in patch {
        if users_kind().read_only.contains(&k.as_str()) {
            return Err(ApiError::invalid_body(format!(
                "Additional properties not allowed: {k}"
            )));
        }
        match k.as_str() {
            // Metadata is merged, and a null removes a key (the spec's PATCH semantics).
            "user_metadata" | "app_metadata" => {
                let slot = user
                    .as_object_mut()
                    .map(|u| u.entry(k).or_insert_with(|| json!({})));
                if let Some(slot) = slot {
                    if v.is_null() {
                        *slot = json!({});
                    } else {
                        merge(slot, v);
                    }
                }
            }
            "password" => {
                store
                    .credentials
                    .insert(id.to_owned(), json!({ "password": v }));
            }
            "connection" => {}
            _ => {
                user[k] = v;
            }
        }
    }
    user["updated_at"] = json!(crate::clock::iso_now());
    let row = UserRow::from_value(&user).ok_or_else(user_not_found)?;
    store.users.put(row);
    Ok(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Store {
        let mut store = Store::new("t", 3);
        store.table("connections", "").insert(
            "con_1".into(),
            json!({"id": "con_1", "name": "Username-Password-Authentication", "strategy": "auth0"}),
        );
        store
    }

    #[test]
    fn patch_merges_metadata_and_null_removes_a_key() {
        let mut store = tenant();
        let user = create(
            &mut store,
            json!({"connection": "Username-Password-Authentication", "email": "a@x.io",
                   "user_metadata": {"a": 1, "b": {"c": 2}}})
            .as_object()
            .unwrap()
            .clone(),
        )
        .unwrap();
        let id = user["user_id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("auth0|"));
        let patched = update(
            &mut store,
            &id,
            json!({"user_metadata": {"a": null, "b": {"d": 3}}})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
        assert_eq!(patched["user_metadata"], json!({"b": {"c": 2, "d": 3}}));
        let err = create(
            &mut store,
            json!({"connection": "Username-Password-Authentication", "email": "A@x.io"})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap_err();
        assert_eq!(err.status.as_u16(), 409);
    }

    #[test]
    fn q_terms_parse() {
        assert_eq!(
            parse_q(r#"email:"a@b.c" AND name:jo*"#).unwrap(),
            vec![
                ("email".to_owned(), "a@b.c".to_owned()),
                ("name".to_owned(), "jo*".to_owned())
            ]
        );
        assert!(parse_q("garbage").is_err());
    }
}
