//! User migrations through the binary: users with hashes, metadata, roles and
//! organization memberships from one emulated tenant into another.

use std::collections::{BTreeSet, HashMap};

use idferry_emulator::Tenant;
use serde_json::{Value, json};

use crate::restore::Pair;

/// What a tenant holds of one user, by email: metadata, hash, role names, organization
/// names with member role names.
#[derive(Debug, PartialEq)]
struct Held {
    user_metadata: Value,
    app_metadata: Value,
    hash: Option<Value>,
    roles: BTreeSet<String>,
    organizations: BTreeSet<(String, BTreeSet<String>)>,
}

fn holdings(t: &Tenant) -> HashMap<String, Held> {
    t.with(|s| {
        let names = |kind: &'static str,
                     s: &mut idferry_emulator::store::Store|
         -> HashMap<String, String> {
            s.table(kind, "")
                .values()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap().to_owned(),
                        r["name"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        };
        let roles = names("roles", s);
        let orgs = names("organizations", s);
        let users: Vec<(String, String, Value)> = s
            .users
            .iter()
            .filter_map(|u| Some((u.id.to_string(), u.email.clone()?.to_string(), u.value())))
            .collect();
        let mut out = HashMap::new();
        for (id, email, value) in users {
            let user_roles = s
                .relation("user_roles")
                .of(&id, false)
                .iter()
                .filter_map(|r| roles.get(r).cloned())
                .collect();
            let memberships = s.relation("organization_members").of(&id, true);
            let organizations = memberships
                .iter()
                .map(|org| {
                    let member_roles = s
                        .relation("organization_member_roles")
                        .of(&format!("{org}/{id}"), false)
                        .iter()
                        .filter_map(|r| roles.get(r).cloned())
                        .collect();
                    (orgs.get(org).cloned().unwrap_or_default(), member_roles)
                })
                .collect();
            let hash = s
                .credentials
                .get(&id)
                .and_then(|c| c.get("password_hash").cloned());
            out.insert(
                email.to_lowercase(),
                Held {
                    user_metadata: value["user_metadata"].clone(),
                    app_metadata: value["app_metadata"].clone(),
                    hash,
                    roles: user_roles,
                    organizations,
                },
            );
        }
        out
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_arrive_with_hashes_metadata_roles_and_organizations_and_invalid_ones_are_reported() {
    const USERS: usize = 50_000;
    const INVALID: usize = 100;
    let p = Pair::new(USERS).await;
    let a = &p.emu.tenants()[0];
    let b = &p.emu.tenants()[1];
    // 100 users the import must refuse: their email is not an email.
    let invalid: Vec<String> = a.with(|s| {
        let ids: Vec<String> = s
            .users
            .iter()
            .filter(|u| u.id.starts_with("auth0|"))
            .take(INVALID)
            .map(|u| u.id.to_string())
            .collect();
        for (n, id) in ids.iter().enumerate() {
            let mut v = s.users.get(id).unwrap().value();
            v["email"] = json!(format!("not-an-email-{n}"));
            s.users
                .put(idferry_emulator::store::UserRow::from_value(&v).unwrap());
        }
        ids
    });
    // The password-hash export, as Auth0 support delivers it.
    let hashes = crate::common::password_hash_export(a);
    std::fs::write(p.path().join("hashes.ndjson"), hashes).unwrap();
    p.restore_config(&[]).await;
    // Users who log in with google-oauth2 (social) or acme-okta (SAML, enterprise): a
    // database import cannot take them.
    let (social, social_emails): (BTreeSet<String>, BTreeSet<String>) = a.with(|s| {
        s.users
            .iter()
            .filter(|u| !u.id.starts_with("auth0|"))
            .map(|u| {
                let v = u.value();
                (
                    u.id.to_string(),
                    v["email"].as_str().unwrap_or_default().to_lowercase(),
                )
            })
            .unzip()
    });
    assert!(social.len() > USERS / 10, "{}", social.len());

    let (code, out, err) = p
        .idferry(&[
            "migrate",
            "users",
            "--from",
            "acme-prod",
            "--to",
            "acme-staging",
            "--hashes",
            "hashes.ndjson",
            "--report",
            "errors.ndjson",
            "--json",
        ])
        .await;
    assert_eq!(
        code, 1,
        "some users fail, so the exit code says so:\n{out}\n{err}"
    );
    let summary: Value = serde_json::from_str(&out).unwrap();
    let database = USERS - social.len();
    assert_eq!(summary["left_out"], social.len(), "{summary:#}");
    assert_eq!(summary["users"]["total"], database, "{summary:#}");
    assert_eq!(summary["users"]["failed"], INVALID, "{summary:#}");
    // From a live tenant, direct permissions are not read (one request per user), and
    // the summary says so.
    assert!(
        summary["memberships"]["permissions_unread"]
            .as_str()
            .is_some_and(|w| w.contains("one request per user")),
        "{summary:#}"
    );
    assert_eq!(
        summary["users"]["inserted"],
        database - INVALID,
        "{summary:#}"
    );
    assert_eq!(summary["memberships"]["failed"], 0, "{summary:#}");
    assert_eq!(summary["rate_limited"], 0, "{summary:#}");

    // The report: the 100 users as sent, hashes masked, with the API's errors.
    let report = std::fs::read_to_string(p.path().join("errors.ndjson")).unwrap();
    let (left_out, lines): (Vec<Value>, Vec<Value>) = report
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .partition(|l| l.get("left_out").is_some());
    assert_eq!(lines.len(), INVALID, "{report}");
    // Each social user on a line of its own, with the connection it logs in with.
    let mut connections = BTreeSet::new();
    let named: BTreeSet<String> = left_out
        .iter()
        .map(|l| {
            let id = l["user_id"].as_str().unwrap().to_owned();
            let connection = l["left_out"]["connection"].as_str().unwrap().to_owned();
            let provider = if connection == "acme-okta" {
                "samlp"
            } else {
                "google-oauth2"
            };
            assert!(id.starts_with(&format!("{provider}|")), "{l}");
            connections.insert(connection);
            id
        })
        .collect();
    assert_eq!(
        connections,
        BTreeSet::from(["acme-okta".to_owned(), "google-oauth2".to_owned()])
    );
    assert_eq!(left_out.len(), named.len());
    assert_eq!(named, social);
    let reported: BTreeSet<String> = lines
        .iter()
        .map(|l| {
            assert_eq!(l["errors"][0]["code"], "FORMAT", "{l}");
            assert!(
                l["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("email"),
                "{l}"
            );
            assert_ne!(
                l["user"]["password_hash"]
                    .as_str()
                    .map(|h| h.starts_with("$2")),
                Some(true),
                "{l}"
            );
            format!("auth0|{}", l["user"]["user_id"].as_str().unwrap())
        })
        .collect();
    assert_eq!(reported, invalid.into_iter().collect::<BTreeSet<_>>());
    // Every user of A is in B with the same id, or in the report with a reason.
    let missing: Vec<String> = a
        .with(|s| s.users.iter().map(|u| u.id.to_string()).collect::<Vec<_>>())
        .into_iter()
        .filter(|id| b.with(|s| s.users.get(id).is_none()))
        .filter(|id| !reported.contains(id) && !named.contains(id))
        .collect();
    assert!(
        missing.is_empty(),
        "neither carried nor reported: {missing:?}"
    );

    // Every other user is in B as in A.
    let (held_a, held_b) = (holdings(a), holdings(b));
    assert_eq!(held_b.len(), database - INVALID);
    let mut with_roles = 0;
    let mut with_member_roles = 0;
    for (email, want) in &held_a {
        if email.starts_with("not-an-email-") || social_emails.contains(email) {
            continue;
        }
        let got = held_b
            .get(email)
            .unwrap_or_else(|| panic!("{email} is not in B"));
        assert_eq!(got, want, "{email}");
        with_roles += usize::from(!want.roles.is_empty());
        with_member_roles += usize::from(want.organizations.iter().any(|(_, r)| !r.is_empty()));
    }
    assert!(
        with_roles > USERS / 2 && with_member_roles > USERS / 20,
        "{with_roles} {with_member_roles}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_come_from_an_encrypted_snapshot_whose_passphrase_the_spec_only_names() {
    let p = Pair::new(120).await;
    p.restore_config(&[]).await;
    let env = crate::restore::PASSPHRASE;
    let snapshot = p.sealed(&[]).await;
    let snapshot = snapshot.as_str();
    let migrate = [
        "migrate",
        "users",
        "--from",
        snapshot,
        "--to",
        "acme-staging",
        "--passphrase-env",
        "IDF_PASSPHRASE",
        "--run-dir",
        "runs/sealed",
        "--json",
    ];
    // Without the passphrase in its variable: refused, naming the variable.
    let (code, _, err) = crate::common::run_idferry_env(&migrate, p.path(), &[]).await;
    assert_ne!(code, 0);
    assert!(err.contains("IDF_PASSPHRASE is not set"), "{err}");
    let migrate = [&migrate[..8], &["--run-dir", "runs/sealed-2", "--json"]].concat();
    let (code, out, err) = crate::common::run_idferry_env(&migrate, p.path(), &env).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let summary: Value = serde_json::from_str(&out).unwrap();
    // Social logins are left out and counted; the database users all arrive.
    let database = p.emu.tenants()[0].with(|s| {
        s.users
            .iter()
            .filter(|u| u.id.starts_with("auth0|"))
            .count()
    });
    assert_eq!(summary["left_out"], 120 - database, "{summary:#}");
    assert_eq!(summary["users"]["inserted"], database, "{summary:#}");
    assert_eq!(p.emu.tenants()[1].with(|s| s.users.len()), database);
    // Users' direct permissions came with the snapshot, and are given again.
    let direct = |t: usize| {
        p.emu.tenants()[t].with(|s| {
            let users: Vec<String> = s.users.iter().map(|u| u.id.to_string()).collect();
            users
                .iter()
                .map(|u| s.relation("user_permissions").of(u, false).len())
                .sum::<usize>()
        })
    };
    let (had, has) = (direct(0), direct(1));
    assert!(had > 0, "the generated tenant gives direct permissions");
    assert_eq!(
        summary["memberships"]["user_permissions"], has,
        "{summary:#}"
    );
    assert!(has > 0 && has <= had, "{has} of {had}");
    assert!(
        summary["memberships"]["permissions_unread"].is_null(),
        "{summary:#}"
    );
    // The spec in the run directory names the variable, never the passphrase.
    let spec = std::fs::read_to_string(p.path().join("runs/sealed-2/migrate-users.toml")).unwrap();
    assert!(
        spec.contains("passphrase_env = \"IDF_PASSPHRASE\""),
        "{spec}"
    );
    assert!(!spec.contains("battery"), "{spec}");
}
