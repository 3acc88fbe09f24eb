//! The emulator answers as the Management API does: error bodies, status codes, ids,
//! tokens, rate-limit headers; and the client reads every catalog kind from it.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use idferry_auth0::{CATALOG, Shape};
use idferry_emulator::{GenerateSpec, TenantOptions};
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{cc_client, raw, start, token_client};

fn generated(name: &str, users: usize) -> TenantOptions {
    let mut o = TenantOptions::new(name);
    o.generate = Some(GenerateSpec {
        users,
        organizations: 5,
    });
    o
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401_bodies() {
    let emu = start(vec![TenantOptions::new("t")]).await;
    let t = &emu.tenants()[0];
    let (status, headers, body) = raw(t, Method::GET, "/clients", None, None).await;
    assert_eq!(status, 401);
    assert_eq!(
        body,
        json!({"statusCode": 401, "error": "Unauthorized", "message": "Missing authentication"})
    );
    assert!(headers.contains_key("x-ratelimit-limit"));
    let (status, _, body) = raw(t, Method::GET, "/clients", Some("forged"), None).await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Invalid token");
}

#[tokio::test]
async fn errors_name_what_is_wrong() {
    let emu = start(vec![TenantOptions::new("t")]).await;
    let t = &emu.tenants()[0];
    let token = Some(t.static_token.as_str());

    let (status, _, body) = raw(t, Method::GET, "/roles/rol_0000000000000000", token, None).await;
    assert_eq!(status, 404);
    assert_eq!(body["statusCode"], 404);
    assert_eq!(body["error"], "Not Found");
    assert_eq!(body["errorCode"], "inexistent_resource");

    let (status, _, body) = raw(
        t,
        Method::POST,
        "/roles",
        token,
        Some(json!({"description": "x"})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["errorCode"], "invalid_body");
    assert!(body["message"].as_str().unwrap().contains("name"), "{body}");

    let (status, _, body) = raw(
        t,
        Method::POST,
        "/clients",
        token,
        Some(json!({"name": "a", "client_id": "x"})),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("client_id"),
        "{body}"
    );

    let (status, _, body) = raw(t, Method::GET, "/organizations?per_page=500", token, None).await;
    assert_eq!(status, 400);
    assert!(
        body["message"].as_str().unwrap().contains("per_page"),
        "{body}"
    );

    let conn = json!({"name": "db", "strategy": "auth0"});
    let (status, _, created) =
        raw(t, Method::POST, "/connections", token, Some(conn.clone())).await;
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap();
    assert!(
        id.starts_with("con_")
            && id.len() == 20
            && id[4..].chars().all(|c| c.is_ascii_alphanumeric()),
        "{id}"
    );
    let (status, _, body) = raw(t, Method::POST, "/connections", token, Some(conn)).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], "Conflict");

    let (status, _, org) = raw(
        t,
        Method::POST,
        "/organizations",
        token,
        Some(json!({"name": "acme"})),
    )
    .await;
    assert_eq!(status, 201);
    assert!(org["id"].as_str().unwrap().starts_with("org_"));
}

#[tokio::test]
async fn client_errors_carry_the_api_message_and_are_not_retried() {
    let emu = start(vec![TenantOptions::new("t")]).await;
    let client = token_client(&emu.tenants()[0]);
    let err = client
        .get("/roles/rol_missing0000000", &[])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    assert_eq!(err.class(), idferry_model::RetryClass::Permanent);
    assert!(
        err.to_string().contains("The role does not exist."),
        "{err}"
    );
    assert_eq!(client.stats().requests, 1, "a 404 is not retried");
}

#[tokio::test]
async fn client_credentials_give_tokens_and_bad_secrets_are_refused() {
    let emu = start(vec![TenantOptions::new("t")]).await;
    let t = &emu.tenants()[0];
    let client = cc_client(t);
    client.get("/tenants/settings", &[]).await.unwrap();
    client.get("/tenants/settings", &[]).await.unwrap();
    assert_eq!(client.stats().tokens_fetched, 1, "the token is cached");

    let bad = idferry_auth0::Client::from_parts(
        "t",
        &t.base_url,
        idferry_model::Credentials::ClientCredentials {
            client_id: t.client_id.clone(),
            client_secret: idferry_model::Secret::new("wrong"),
            audience: None,
        },
        None,
        None,
        Default::default(),
    )
    .unwrap();
    let err = bad.get("/clients", &[]).await.unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("cannot get a Management API token") && msg.contains("Unauthorized"),
        "{msg}"
    );
    assert!(
        !msg.contains(&t.client_secret),
        "a secret must never appear in an error"
    );
}

#[tokio::test]
async fn a_drained_bucket_answers_429_with_its_headers() {
    let mut o = TenantOptions::new("t");
    o.rate_limit = 0.5;
    o.burst = 2;
    let emu = start(vec![o]).await;
    let t = &emu.tenants()[0];
    let token = Some(t.static_token.as_str());
    let mut last = None;
    for _ in 0..3 {
        last = Some(raw(t, Method::GET, "/roles", token, None).await);
    }
    let (status, headers, body) = last.unwrap();
    assert_eq!(status, 429);
    assert_eq!(body["statusCode"], 429);
    assert_eq!(body["error"], "Too Many Requests");
    let header = |n: &str| headers[n].to_str().unwrap().parse::<u64>().unwrap();
    assert_eq!(header("x-ratelimit-limit"), 2);
    assert_eq!(header("x-ratelimit-remaining"), 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(header("x-ratelimit-reset") >= now && header("x-ratelimit-reset") <= now + 3);
}

#[tokio::test]
async fn user_patch_merges_metadata_over_http() {
    let emu = start(vec![generated("t", 3)]).await;
    let t = &emu.tenants()[0];
    let client = token_client(t);
    let user = client
        .post("/users", json!({"connection": "Username-Password-Authentication", "email": "m@example.com", "password": "Passw0rd!x", "user_metadata": {"a": 1, "b": 2}}))
        .await
        .unwrap()
        .body
        .unwrap();
    let id = user["user_id"].as_str().unwrap();
    assert!(id.starts_with("auth0|"));
    let path = format!("/users/{}", id.replace('|', "%7C"));
    let patched = client
        .patch(&path, json!({"user_metadata": {"b": null, "c": 3}}))
        .await
        .unwrap()
        .body
        .unwrap();
    assert_eq!(patched["user_metadata"], json!({"a": 1, "c": 3}));
    let found = client
        .get("/users-by-email", &[("email", "m@example.com".into())])
        .await
        .unwrap();
    assert_eq!(found.as_array().unwrap().len(), 1);
    let searched = client
        .get(
            "/users",
            &[
                ("q", "email:\"m@example.com\"".into()),
                ("search_engine", "v3".into()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(searched.as_array().unwrap().len(), 1);
}

/// Every kind of a generated tenant reads back through the client as the emulator
/// holds it.
#[tokio::test]
async fn the_client_reads_every_catalog_kind() {
    let emu = start(vec![generated("t", 40)]).await;
    let t = &emu.tenants()[0];
    let client = cc_client(t);
    let held = t.with(|s| s.counts());
    let mut read: HashMap<&str, usize> = HashMap::new();
    for kind in CATALOG
        .iter()
        .filter(|k| k.parent.is_none() && k.name != "users")
    {
        let records: Vec<Value> = client.list(kind, &[]).try_collect().await.unwrap();
        let n = if kind.is_singleton() {
            usize::from(records.iter().any(|r| r != &json!({}) && r != &json!([])))
        } else {
            records.len()
        };
        read.insert(kind.name, n);
        let id_field = kind.id_field.unwrap_or("id");
        for child in idferry_auth0::catalog::children(kind.name) {
            if matches!(child.shape, Shape::Links { inverse: true, .. })
                || child.name == "organization_member_roles"
            {
                continue;
            }
            let mut n = 0;
            for parent in &records {
                let id = parent[id_field].as_str().unwrap();
                match client.list_all(child, &[id]).await {
                    Ok(items) if child.shape == Shape::Map => {
                        n += items[0].as_object().unwrap().len()
                    }
                    Ok(items) => n += items.len(),
                    Err(e) if e.status() == Some(404) => {}
                    Err(e) => panic!("{}: {e}", child.name),
                }
            }
            read.insert(child.name, n);
        }
    }
    for (kind, n) in &read {
        if *kind == "action_triggers" {
            continue;
        }
        assert_eq!(
            Some(n),
            held.get(*kind),
            "{kind}: read {n}, the tenant holds {:?}",
            held.get(*kind)
        );
    }
    assert!(read.len() > 55, "read {} kinds", read.len());
}
