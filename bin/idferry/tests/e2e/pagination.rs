//! Paging past the 1000 results where offset paging stops, with as few requests as the
//! page size allows.

use std::collections::HashSet;

use idferry_auth0::catalog::find;
use idferry_emulator::TenantOptions;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{raw, start, token_client};

#[tokio::test]
async fn organizations_past_1000_come_through_checkpoint_paging() {
    let emu = start(vec![TenantOptions::new("t")]).await;
    let t = &emu.tenants()[0];
    t.with(|s| {
        let table = s.table("organizations", "");
        for i in 0..1503 {
            let id = format!("org_{i:016}");
            table.insert(id.clone(), json!({"id": id, "name": format!("org-{i}")}));
        }
    });
    // Offset paging refuses to go past 1000, as the API does.
    let (status, _, body) = raw(
        t,
        Method::GET,
        "/organizations?page=10&per_page=100",
        Some(&t.static_token),
        None,
    )
    .await;
    assert_eq!(status, 400, "{body}");

    let client = token_client(t);
    let orgs = client
        .list_all(find("organizations").unwrap(), &[])
        .await
        .unwrap();
    let ids: HashSet<&str> = orgs.iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(orgs.len(), 1503);
    assert_eq!(ids.len(), 1503, "no organization twice");
    assert_eq!(client.stats().requests, 16, "ceil(1503 / 100) pages");
}

#[tokio::test]
async fn role_users_past_1000_and_offset_pages_with_totals() {
    let emu = start(vec![TenantOptions::new("t")]).await;
    let t = &emu.tenants()[0];
    let client = token_client(t);
    t.with(|s| {
        let roles = s.table("roles", "");
        for i in 0..250 {
            let id = format!("rol_{i:016}");
            roles.insert(id.clone(), json!({"id": id, "name": format!("role-{i}")}));
        }
        for i in 0..1200 {
            let user = json!({"user_id": format!("auth0|{i:024}"), "email": format!("u{i}@example.com"), "identities": [{"connection": "db"}]});
            s.users.put(idferry_emulator::store::UserRow::from_value(&user).unwrap());
            s.relation("user_roles").add(&format!("auth0|{i:024}"), "rol_0000000000000007");
        }
    });
    let roles = client.list_all(find("roles").unwrap(), &[]).await.unwrap();
    assert_eq!(roles.len(), 250);
    assert_eq!(
        client.stats().requests,
        3,
        "include_totals tells when the last page is reached"
    );

    let users = client
        .list_all(find("role_users").unwrap(), &["rol_0000000000000007"])
        .await
        .unwrap();
    let ids: HashSet<&str> = users.iter().filter_map(|u| u["user_id"].as_str()).collect();
    assert_eq!(ids.len(), 1200);
    assert!(users.iter().all(|u| {
        u["email"]
            .as_str()
            .is_some_and(|e| e.ends_with("@example.com"))
    }));
}

#[tokio::test]
async fn listing_more_than_1000_users_says_to_use_an_export() {
    let emu = start(vec![TenantOptions::new("t")]).await;
    let t = &emu.tenants()[0];
    t.with(|s| {
        for i in 0..1100 {
            let user =
                json!({"user_id": format!("auth0|{i:024}"), "email": format!("u{i}@example.com")});
            s.users
                .put(idferry_emulator::store::UserRow::from_value(&user).unwrap());
        }
    });
    let client = token_client(t);
    let err = client
        .list_all(find("users").unwrap(), &[])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("export job"), "{err}");
    let first: Value = client
        .get(
            "/users",
            &[("per_page", "100".into()), ("page", "9".into())],
        )
        .await
        .unwrap();
    assert_eq!(first.as_array().unwrap().len(), 100);
}
