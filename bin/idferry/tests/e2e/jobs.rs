//! Users-imports and users-exports jobs.

use std::collections::HashSet;

use bytes::Bytes;
use futures_util::TryStreamExt;
use idferry_auth0::{ExportField, ExportRequest, ImportRequest};
use idferry_emulator::{GenerateSpec, TenantOptions};
use idferry_model::Silent;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt;

use crate::common::{db_connection, start, token_client};

const HASH: &str = "$2b$10$C9a8Ljd9ApiVDZKwLCXRxuwr0iC7aFWhJPXQgpjlaTpEx0Sl2m1Zu";

fn tenant_with_db(name: &str) -> TenantOptions {
    let mut o = TenantOptions::new(name);
    o.generate = Some(GenerateSpec {
        users: 0,
        organizations: 1,
    });
    o
}

fn import(connection_id: &str, users: &Value, upsert: bool) -> ImportRequest {
    ImportRequest {
        users: Bytes::from(serde_json::to_vec(users).unwrap()),
        connection_id: connection_id.to_owned(),
        upsert,
        external_id: Some("idferry-test".into()),
        send_completion_email: false,
    }
}

#[tokio::test]
async fn an_import_reports_invalid_users_and_keeps_the_valid_ones() {
    let emu = start(vec![tenant_with_db("t")]).await;
    let t = &emu.tenants()[0];
    let client = token_client(t);
    let con = db_connection(t);
    let mut users: Vec<Value> = (0..10)
        .map(|i| json!({"email": format!("ok{i}@example.com"), "email_verified": true, "user_id": format!("u{i}"),
                        "password_hash": HASH, "user_metadata": {"i": i}}))
        .collect();
    users.push(json!({"name": "no email"}));
    users.push(json!({"email": "bad-hash@example.com", "password_hash": "plaintext"}));
    users.push(json!({"email": "extra@example.com", "logins_count": 4}));
    users.push(json!({"email": "reserved@example.com", "app_metadata": {"user_id": "x"}}));
    users.push(json!({"email": "ok3@example.com"}));
    let job = client
        .create_import(&import(&con, &json!(users), false))
        .await
        .unwrap();
    assert!(job.id().starts_with("job_") && job.id().len() == 20);
    assert_eq!(job.0["type"], "users_import");
    assert_eq!(job.0["external_id"], "idferry-test");
    let done = client.wait_job(job.id(), &Silent).await.unwrap();
    assert_eq!(
        (
            done.summary("inserted"),
            done.summary("failed"),
            done.summary("total")
        ),
        (10, 5, 15)
    );

    let errors = client.job_errors(job.id()).await.unwrap();
    let codes: Vec<&str> = errors
        .iter()
        .map(|e| e["errors"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "OBJECT_MISSING_REQUIRED_PROPERTY",
            "PATTERN",
            "OBJECT_ADDITIONAL_PROPERTIES",
            "RESERVED_KEY",
            "DUPLICATED_USER"
        ]
    );
    assert_eq!(
        errors[1]["user"]["password_hash"], "*****",
        "hashes are redacted in errors"
    );
    assert_eq!(errors[1]["errors"][0]["path"], "password_hash");

    let user = client.get("/users/auth0%7Cu3", &[]).await.unwrap();
    assert_eq!(user["email"], "ok3@example.com");
    assert_eq!(user["user_metadata"], json!({"i": 3}));
    assert!(
        user.get("password_hash").is_none(),
        "the API never returns hashes"
    );
    let kept = t.with(|s| s.credentials.get("auth0|u3").cloned()).unwrap();
    assert_eq!(kept["password_hash"], HASH);
}

#[tokio::test]
async fn upsert_replaces_metadata_and_without_it_emails_conflict() {
    let emu = start(vec![tenant_with_db("t")]).await;
    let t = &emu.tenants()[0];
    let client = token_client(t);
    let con = db_connection(t);
    let first =
        json!([{"email": "a@example.com", "user_metadata": {"x": 1, "y": 2}, "blocked": false}]);
    let job = client
        .create_import(&import(&con, &first, false))
        .await
        .unwrap();
    client.wait_job(job.id(), &Silent).await.unwrap();

    let again = json!([{"email": "a@example.com", "user_metadata": {"z": 3}, "blocked": true, "given_name": "A"}]);
    let job = client
        .create_import(&import(&con, &again, false))
        .await
        .unwrap();
    let done = client.wait_job(job.id(), &Silent).await.unwrap();
    assert_eq!(done.summary("failed"), 1);
    assert_eq!(
        client.job_errors(job.id()).await.unwrap()[0]["errors"][0]["code"],
        "CONFLICT_EMAIL"
    );

    let job = client
        .create_import(&import(&con, &again, true))
        .await
        .unwrap();
    let done = client.wait_job(job.id(), &Silent).await.unwrap();
    assert_eq!(done.summary("updated"), 1);
    let users = client
        .get("/users-by-email", &[("email", "a@example.com".into())])
        .await
        .unwrap();
    let user = &users[0];
    assert_eq!(
        user["user_metadata"],
        json!({"z": 3}),
        "an import replaces metadata whole"
    );
    assert_eq!(user["given_name"], "A");
    assert_eq!(user["blocked"], false, "an upsert never changes blocked");
}

#[tokio::test]
async fn files_over_the_limit_get_413_and_a_third_job_waits_for_a_slot() {
    let mut o = tenant_with_db("t");
    o.import_rate = 400.0;
    let emu = start(vec![o]).await;
    let t = &emu.tenants()[0];
    let client = token_client(t);
    let con = db_connection(t);

    let big: Vec<Value> = (0..8000)
        .map(|i| json!({"email": format!("big{i}@example.com"), "name": "x".repeat(60)}))
        .collect();
    let err = client
        .create_import(&import(&con, &json!(big), false))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(413));
    assert!(
        err.to_string()
            .contains("Payload content length greater than maximum allowed: 512000"),
        "{err}"
    );

    let batch = |k: usize| {
        json!(
            (0..200)
                .map(|i| json!({"email": format!("b{k}-{i}@example.com")}))
                .collect::<Vec<_>>()
        )
    };
    let a = client
        .create_import(&import(&con, &batch(0), false))
        .await
        .unwrap();
    let b = client
        .create_import(&import(&con, &batch(1), false))
        .await
        .unwrap();
    // The API refuses a third job while two run...
    let (status, _, body) = {
        let http = reqwest::Client::new();
        let form = reqwest::multipart::Form::new()
            .text("connection_id", con.clone())
            .part(
                "users",
                reqwest::multipart::Part::bytes(serde_json::to_vec(&batch(2)).unwrap())
                    .file_name("u.json"),
            );
        let r = http
            .post(format!("{}/api/v2/jobs/users-imports", t.base_url))
            .bearer_auth(&t.static_token)
            .multipart(form)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), (), r.json::<Value>().await.unwrap())
    };
    assert_eq!(status, 429);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("2 active import users jobs"),
        "{body}"
    );
    // ...and the client waits for a slot instead of failing.
    let c = client
        .create_import(&import(&con, &batch(2), false))
        .await
        .unwrap();
    for job in [a, b, c] {
        let done = client.wait_job(job.id(), &Silent).await.unwrap();
        assert_eq!(done.summary("inserted"), 200);
    }
    assert_eq!(t.with(|s| s.users.len()), 600);
}

#[tokio::test]
async fn an_export_of_100k_users_streams() {
    let mut o = TenantOptions::new("t");
    o.generate = Some(GenerateSpec {
        users: 100_000,
        organizations: 1,
    });
    let emu = start(vec![o]).await;
    let client = token_client(&emu.tenants()[0]);
    let job = client
        .create_export(&ExportRequest::every_user_field())
        .await
        .unwrap();
    assert_eq!(job.0["type"], "users_export");
    let done = client.wait_job(job.id(), &Silent).await.unwrap();
    assert!(done.location().unwrap().contains("/__emulator/downloads/"));
    let mut ids = HashSet::with_capacity(100_000);
    let mut records = client.export_records(job.id()).await.unwrap();
    while let Some(user) = records.try_next().await.unwrap() {
        assert!(user["identities"][0]["connection"].is_string());
        ids.insert(user["user_id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 100_000);
}

#[tokio::test]
async fn csv_exports_take_chosen_fields_under_their_names() {
    let mut o = TenantOptions::new("t");
    o.generate = Some(GenerateSpec {
        users: 30,
        organizations: 1,
    });
    let emu = start(vec![o]).await;
    let client = token_client(&emu.tenants()[0]);
    let request = ExportRequest {
        csv: true,
        limit: Some(20),
        fields: vec![
            ExportField {
                name: "email".into(),
                export_as: None,
            },
            ExportField {
                name: "identities[0].connection".into(),
                export_as: Some("provider".into()),
            },
            ExportField {
                name: "user_metadata.address.city".into(),
                export_as: Some("city".into()),
            },
        ],
        ..ExportRequest::default()
    };
    let job = client.create_export(&request).await.unwrap();
    client.wait_job(job.id(), &Silent).await.unwrap();
    let mut lines = client.open_export(job.id()).await.unwrap().lines();
    assert_eq!(
        lines.next_line().await.unwrap().unwrap(),
        "email,provider,city"
    );
    let mut rows = 0;
    while let Some(line) = lines.next_line().await.unwrap() {
        assert_eq!(line.split(',').count(), 3, "{line}");
        rows += 1;
    }
    assert_eq!(rows, 20);
    let err = client
        .create_export(&ExportRequest {
            csv: true,
            fields: vec![ExportField {
                name: "user_metadata".into(),
                export_as: None,
            }],
            ..ExportRequest::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}

/// A journal that remembers file 0 in a given state, as an earlier attempt left it.
struct Remembered(idferry_auth0_import::users::ChunkState);

impl idferry_auth0_import::users::ChunkJournal for Remembered {
    fn state(
        &mut self,
        chunk: u64,
    ) -> Result<idferry_auth0_import::users::ChunkState, idferry_auth0_import::ImportError> {
        Ok(match chunk {
            0 => self.0.clone(),
            _ => idferry_auth0_import::users::ChunkState::New,
        })
    }
    fn sending(&mut self, _: u64, _: &str) -> Result<(), idferry_auth0_import::ImportError> {
        Ok(())
    }
    fn submitted(&mut self, _: u64, _: &str) -> Result<(), idferry_auth0_import::ImportError> {
        Ok(())
    }
    fn done(
        &mut self,
        _: u64,
        _: idferry_auth0_import::users::ChunkCounts,
    ) -> Result<(), idferry_auth0_import::ImportError> {
        Ok(())
    }
}

/// `n` users in users-imports shape.
fn source_users(
    n: usize,
) -> Vec<Result<idferry_auth0_import::users::SourceUser, idferry_auth0_import::ImportError>> {
    (0..n)
        .map(|i| {
            Ok(idferry_auth0_import::users::SourceUser {
                source_id: Some(format!("auth0|u{i}")),
                user: serde_json::json!({"email": format!("u{i}@example.com"), "user_id": format!("u{i}"), "email_verified": true}),
            })
        })
        .collect()
}

/// An emulated tenant with its database connection and no users.
async fn empty_tenant() -> idferry_emulator::Emulator {
    let mut o = idferry_emulator::TenantOptions::new("dst");
    o.generate = Some(idferry_emulator::GenerateSpec {
        users: 0,
        organizations: 1,
    });
    crate::common::start(vec![o]).await
}

/// Imports 300 users as file 0, which `journal` remembers.
async fn import_300(
    client: &idferry_auth0::Client,
    journal: &mut Remembered,
) -> idferry_auth0_import::users::UsersSummary {
    use futures_util::StreamExt;
    use idferry_auth0_import::users::{Report, UsersOptions, import_users};
    let mut report = Report::new(Vec::new());
    let (summary, _) = import_users(
        client,
        futures_util::stream::iter(source_users(300)).boxed(),
        &UsersOptions::default(),
        &mut report,
        journal,
        &idferry_model::Silent,
    )
    .await
    .unwrap();
    summary
}

#[tokio::test]
async fn a_journaled_job_the_tenant_forgot_is_sent_again() {
    let emu = empty_tenant().await;
    let t = &emu.tenants()[0];
    let mut journal = Remembered(idferry_auth0_import::users::ChunkState::Submitted {
        job: "job_forgottenlongago".into(),
        in_doubt: false,
    });
    let summary = import_300(&crate::common::token_client(t), &mut journal).await;
    assert_eq!(summary.inserted, 300, "{summary:?}");
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert_eq!(t.with(|s| s.users.len()), 300);
}

/// An attempt stopped while sending file 0 after its first send had imported half of
/// it; the next attempt sent it again and stopped too. The attempt after that waits for
/// the second job and counts its conflicts as users already there, not as failures.
#[tokio::test]
async fn a_resent_file_stays_in_doubt_across_stops() {
    let emu = empty_tenant().await;
    let t = &emu.tenants()[0];
    let client = crate::common::token_client(t);
    let connection =
        idferry_auth0_import::users::connection_id(&client, "Username-Password-Authentication")
            .await
            .unwrap();
    let users = |range: std::ops::Range<usize>| {
        let list: Vec<serde_json::Value> = source_users(300)[range]
            .iter()
            .map(|u| u.as_ref().unwrap().user.clone())
            .collect();
        bytes::Bytes::from(serde_json::to_vec(&list).unwrap())
    };
    let first = idferry_auth0::jobs::ImportRequest {
        users: users(0..150),
        connection_id: connection.clone(),
        upsert: false,
        external_id: Some("run-00000".into()),
        send_completion_email: false,
    };
    let first = client.create_import(&first).await.unwrap();
    client
        .wait_job(first.id(), &idferry_model::Silent)
        .await
        .unwrap();
    let second = idferry_auth0::jobs::ImportRequest {
        users: users(0..300),
        connection_id: connection,
        upsert: false,
        external_id: Some("run-00000".into()),
        send_completion_email: false,
    };
    let second = client.create_import(&second).await.unwrap();

    let mut journal = Remembered(idferry_auth0_import::users::ChunkState::Submitted {
        job: second.id().to_owned(),
        in_doubt: true,
    });
    let summary = import_300(&client, &mut journal).await;
    assert_eq!(summary.inserted, 150, "{summary:?}");
    assert_eq!(summary.already_present, 150, "{summary:?}");
    assert_eq!(summary.failed, 0, "{summary:?}");
    assert_eq!(t.with(|s| s.users.len()), 300);
}
