//! With a fifth of all requests failing (429s, 503s, dropped connections), the client
//! still lists 10k users and runs an import, with no error surfacing and no user twice.
//! A feature a tenant lacks is switched on and off while it runs.

use std::collections::HashSet;

use bytes::Bytes;
use idferry_auth0::catalog::find;
use idferry_auth0::{ExportRequest, ImportRequest};
use idferry_emulator::{Faults, GenerateSpec, TenantOptions};
use idferry_model::Silent;
use serde_json::{Value, json};

use reqwest::Method;

use crate::common::{cc_client, db_connection, raw, start};

#[tokio::test]
async fn twenty_percent_faults_surface_no_error_and_duplicate_no_user() {
    let mut o = TenantOptions::new("t");
    o.generate = Some(GenerateSpec {
        users: 10_000,
        organizations: 1,
    });
    let emu = start(vec![o]).await;
    let t = &emu.tenants()[0];
    let role = t.with(|s| {
        let role = s.table("roles", "").keys().next().unwrap().clone();
        let ids: Vec<String> = s.users.iter().map(|u| u.id.clone()).collect();
        for id in ids {
            s.relation("user_roles").add(&id, &role);
        }
        role
    });
    t.set_faults(Faults {
        rate_429: 0.07,
        rate_503: 0.07,
        rate_drop: 0.06,
        ..Faults::default()
    });
    let client = cc_client(t);

    // 10k users of a role, page by page.
    let members = client
        .list_all(find("role_users").unwrap(), &[&role])
        .await
        .unwrap();
    let ids: HashSet<&str> = members
        .iter()
        .map(|u| u["user_id"].as_str().unwrap())
        .collect();
    assert_eq!((members.len(), ids.len()), (10_000, 10_000));

    // All 10k through an export job.
    let exported = crate::common::export_all(&client, &ExportRequest::every_user_field()).await;
    assert_eq!(exported.len(), 10_000);

    // An import of 1000 new users.
    let con = db_connection(t);
    let users: Vec<Value> = (0..1000)
        .map(|i| json!({"email": format!("new{i}@example.org"), "user_metadata": {"n": i}}))
        .collect();
    let request = ImportRequest {
        users: Bytes::from(serde_json::to_vec(&users).unwrap()),
        connection_id: con,
        upsert: false,
        external_id: Some("faults".into()),
        send_completion_email: false,
    };
    let job = client.create_import(&request).await.unwrap();
    let done = client.wait_job(job.id(), &Silent).await.unwrap();
    assert_eq!(
        done.summary("failed"),
        0,
        "{:?}",
        client.job_errors(job.id()).await
    );
    let emails: Vec<String> = t.with(|s| s.users.iter().filter_map(|u| u.email.clone()).collect());
    let unique: HashSet<&String> = emails.iter().collect();
    assert_eq!(emails.len(), 11_000, "every user once");
    assert_eq!(unique.len(), 11_000);

    let stats = client.stats();
    let server = t.stats();
    assert!(server.faults > 10, "faults were injected: {server:?}");
    assert!(
        stats.transient_retries + stats.rate_limited >= server.faults,
        "{stats:?} vs {server:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feature_is_switched_off_and_on_per_tenant_while_running() {
    // Rules and hooks past their end of life (or a feature off the plan) answer 403 as
    // Auth0 does, on the tenant that lacks them only, from the moment it is said.
    let emu = start(vec![
        TenantOptions::new("acme-prod"),
        TenantOptions::new("acme-staging"),
    ])
    .await;
    let (prod, staging) = (
        emu.tenant("acme-prod").unwrap(),
        emu.tenant("acme-staging").unwrap(),
    );
    let token = Some(prod.static_token.as_str());
    let control = |t: &idferry_emulator::Tenant| format!("{}/__emulator/unavailable", t.base_url);
    idferry_pacing::install_tls_provider();
    let http = reqwest::Client::new();
    let (status, _, _) = raw(prod, Method::GET, "/rules", token, None).await;
    assert_eq!(status, 200);
    let set = http
        .put(control(prod))
        .json(&json!(["rules", "/hooks/"]))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 200);
    assert_eq!(
        set.json::<Value>().await.unwrap(),
        json!(["/rules", "/hooks"])
    );
    for path in ["/rules", "/hooks", "/hooks/abc/secrets"] {
        let (status, _, body) = raw(prod, Method::GET, path, token, None).await;
        assert_eq!(status, 403, "{path}: {body}");
        assert!(body["errorCode"].is_string(), "{path}: {body}");
    }
    let staging_token = Some(staging.static_token.as_str());
    let (status, _, _) = raw(staging, Method::GET, "/rules", staging_token, None).await;
    assert_eq!(status, 200, "another tenant keeps the feature");
    let read: Value = http
        .get(control(prod))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read, json!(["/rules", "/hooks"]));
    http.put(control(prod))
        .json(&json!([]))
        .send()
        .await
        .unwrap();
    let (status, _, _) = raw(prod, Method::GET, "/rules", token, None).await;
    assert_eq!(status, 200, "switched on again");
}
