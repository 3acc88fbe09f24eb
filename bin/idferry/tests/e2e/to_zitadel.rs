//! Auth0 users into ZITADEL through the binary: a generated Auth0 tenant migrated into an
//! empty ZITADEL instance (hashes that verify their passwords, names, metadata, roles as
//! project roles and grants, organizations with members, what cannot be carried
//! reported per user), and the same as a pipeline killed with SIGKILL and resumed.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt;
use idferry_emulator::Platform;
use idferry_emulator::generate::GenerateSpec;
use idferry_emulator::{Emulator, Tenant, TenantOptions};
use serde_json::{Value, json};

use crate::common::{kill_and_resume, run_idferry, start};

/// An Auth0 tenant with `users` generated users and an empty ZITADEL instance paced at
/// `rate` requests/s (0: unpaced).
async fn pair(users: usize, rate: f64) -> (Emulator, tempfile::TempDir) {
    let mut prod = TenantOptions::new("acme-prod");
    prod.generate = Some(GenerateSpec {
        users,
        organizations: 4,
    });
    let mut z = TenantOptions::new("zitadel-prod");
    z.platform = Platform::Zitadel;
    z.rate_limit = rate;
    z.burst = 50;
    let emu = start(vec![prod, z]).await;
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    (emu, dir)
}

fn password_of(email: &str) -> String {
    format!("pw-{email}-Secret1!")
}

/// What the Auth0 tenant holds of each user, by email.
struct Source {
    users: BTreeMap<String, Value>,
    /// email -> role names.
    roles: BTreeMap<String, BTreeSet<String>>,
    /// organization name -> member emails.
    orgs: BTreeMap<String, BTreeSet<String>>,
    /// email -> Auth0 user id, for users with a password.
    with_password: BTreeMap<String, String>,
}

fn source(t: &Tenant) -> Source {
    t.with(|s| {
        let names = |kind: &'static str, s: &mut idferry_emulator::store::Store| {
            s.table(kind, "")
                .values()
                .map(|r| {
                    (
                        r["id"].as_str().unwrap().to_owned(),
                        r["name"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<HashMap<_, _>>()
        };
        let (role_names, org_names) = (names("roles", s), names("organizations", s));
        let all: Vec<(String, String, Value)> = s
            .users
            .iter()
            .filter_map(|u| Some((u.id.to_string(), u.email.clone()?.to_string(), u.value())))
            .collect();
        let mut out = Source {
            users: BTreeMap::new(),
            roles: BTreeMap::new(),
            orgs: BTreeMap::new(),
            with_password: BTreeMap::new(),
        };
        for (id, email, value) in all {
            let roles: BTreeSet<String> = s
                .relation("user_roles")
                .of(&id, false)
                .iter()
                .filter_map(|r| role_names.get(r).cloned())
                .collect();
            if !roles.is_empty() {
                out.roles.insert(email.clone(), roles);
            }
            for org in s.relation("organization_members").of(&id, true) {
                out.orgs
                    .entry(org_names[&org].clone())
                    .or_default()
                    .insert(email.clone());
            }
            if s.credentials.contains_key(&id) {
                out.with_password.insert(email.clone(), id.clone());
            }
            out.users.insert(email, value);
        }
        out
    })
}

/// A password-hash export with real bcrypt hashes (cost 4) of [`password_of`], except
/// for `unsupported` users, whose hash is in a format ZITADEL does not verify.
fn hash_file(src: &Source, unsupported: usize) -> (String, BTreeSet<String>) {
    let users: Vec<(&String, &String)> = src.with_password.iter().collect();
    let odd: BTreeSet<String> = users
        .iter()
        .take(unsupported)
        .map(|(_, id)| (*id).clone())
        .collect();
    let lines: Vec<String> = std::thread::scope(|scope| {
        let halves: Vec<_> = users
            .chunks(users.len().div_ceil(2).max(1))
            .map(|part| {
                let odd = &odd;
                scope.spawn(move || {
                    part.iter()
                        .map(|(email, id)| {
                            let hash = if odd.contains(*id) {
                                "{SSHA}c2VjcmV0c2FsdA==".to_owned()
                            } else {
                                bcrypt::hash(password_of(email), 4).unwrap()
                            };
                            let oid = id.strip_prefix("auth0|").unwrap();
                            json!({"_id": {"$oid": oid}, "email": email, "passwordHash": hash})
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        halves.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    (lines.join("\n") + "\n", odd)
}

/// The counts of the users import stage of a run's JSON report.
fn import_counts(run: &Value) -> Value {
    run["units"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "0:users:import")
        .unwrap()["counts"]
        .clone()
}

fn metadata(user: &idferry_emulator::zitadel::users::User, key: &str) -> Value {
    let raw = BASE64.decode(&user.metadata[key]).unwrap();
    serde_json::from_slice(&raw).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth0_users_arrive_in_zitadel_with_verifying_hashes_names_metadata_roles_and_organizations()
 {
    const USERS: usize = 5_000;
    const UNSUPPORTED: usize = 25;
    let (emu, dir) = pair(USERS, 0.0).await;
    let (auth0, z) = (&emu.tenants()[0], &emu.tenants()[1]);
    let src = source(auth0);
    assert_eq!(src.users.len(), USERS);
    let (hashes, odd) = hash_file(&src, UNSUPPORTED);
    std::fs::write(dir.path().join("hashes.ndjson"), hashes).unwrap();

    let (code, out, err) = run_idferry(
        &[
            "migrate",
            "users",
            "--from",
            "acme-prod",
            "--to",
            "zitadel-prod",
            "--map",
            "auth0-to-zitadel",
            "--hashes",
            "hashes.ndjson",
            "--org",
            "acme",
            "--project",
            "acme-app",
            "--run-dir",
            "runs/m",
            "--report",
            "report.ndjson",
            "--json",
        ],
        dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let run: Value = serde_json::from_str(&out).unwrap();
    let import = import_counts(&run);
    assert_eq!(import["inserted"], USERS as u64, "{run:#}");
    assert_eq!(import["failed"], 0);

    // Every user, with its email and verified flag, names and metadata.
    let (users, org_ids, projects) = z.with_zitadel(|i| {
        let orgs: HashMap<String, String> = i
            .orgs
            .values()
            .map(|o| (o.name.clone(), o.id.clone()))
            .collect();
        let projects: Vec<(String, String, Vec<String>)> = i
            .orgs
            .values()
            .flat_map(|o| {
                o.projects.values().map(|p| {
                    (
                        o.name.clone(),
                        p.id.clone(),
                        p.roles.keys().cloned().collect(),
                    )
                })
            })
            .collect();
        (
            i.users.values().cloned().collect::<Vec<_>>(),
            orgs,
            projects,
        )
    });
    assert_eq!(users.len(), USERS);
    let by_email: HashMap<&str, &idferry_emulator::zitadel::users::User> =
        users.iter().map(|u| (u.email.as_str(), u)).collect();
    for (email, a) in &src.users {
        let u = by_email
            .get(email.as_str())
            .unwrap_or_else(|| panic!("{email} missing"));
        assert_eq!(u.username, *email);
        assert_eq!(u.org, org_ids["acme"]);
        assert_eq!(
            u.email_verified,
            a["email_verified"].as_bool().unwrap(),
            "{email}"
        );
        assert_eq!(u.profile["givenName"], a["given_name"], "{email}");
        assert_eq!(u.profile["familyName"], a["family_name"], "{email}");
        assert_eq!(u.profile["displayName"], a["name"], "{email}");
        assert_eq!(u.profile["nickName"], a["nickname"], "{email}");
        assert_eq!(metadata(u, "user_metadata"), a["user_metadata"], "{email}");
        assert_eq!(metadata(u, "app_metadata"), a["app_metadata"], "{email}");
        let picture = BASE64.decode(&u.metadata["picture"]).unwrap();
        assert_eq!(
            a["picture"].as_str().unwrap().as_bytes(),
            picture,
            "{email}"
        );
        assert_eq!(
            u.active,
            !a["blocked"].as_bool().unwrap(),
            "{email}: blocked -> inactive"
        );
        let id = &a["user_id"];
        let odd = odd.contains(id.as_str().unwrap());
        assert_eq!(
            u.hash.is_some(),
            src.with_password.contains_key(email) && !odd,
            "{email}"
        );
    }

    // Each carried hash verifies its original password at the login endpoint.
    let config =
        idferry_pipeline::platforms::load_config(&dir.path().join("idferry.toml")).unwrap();
    let client = idferry_zitadel::Client::new(
        config.tenant("zitadel-prod").unwrap(),
        idferry_pacing::RetryPolicy::default(),
    )
    .unwrap();
    let logins: Vec<&String> = users
        .iter()
        .filter(|u| u.hash.is_some() && u.active)
        .map(|u| &u.email)
        .collect();
    assert!(logins.len() > USERS * 8 / 10, "{}", logins.len());
    let checked: Vec<(String, bool)> = futures_util::stream::iter(logins.iter().enumerate())
        .map(|(n, email)| {
            let client = client.clone();
            async move {
                // Every 50th also tries a wrong password, which must fail.
                if n % 50 == 0 {
                    let wrong = json!({"checks": {"user": {"loginName": email}, "password": {"password": "wrong"}}});
                    let e = client.post("/v2/sessions", &wrong).await.unwrap_err();
                    assert_eq!(e.status(), Some(400), "{email}: {e}");
                }
                let body = json!({"checks": {"user": {"loginName": email}, "password": {"password": password_of(email)}}});
                ((*email).clone(), client.post("/v2/sessions", &body).await.is_ok())
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let failed: Vec<&String> = checked
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(e, _)| e)
        .collect();
    assert!(
        failed.is_empty(),
        "{} hashes do not verify, e.g. {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );

    // Roles: one project role per Auth0 role, one grant per user with its roles.
    let (_, project_id, role_keys) = projects.iter().find(|(org, _, _)| org == "acme").unwrap();
    let want_roles: BTreeSet<String> = src.roles.values().flatten().cloned().collect();
    assert_eq!(
        role_keys.iter().cloned().collect::<BTreeSet<_>>(),
        want_roles
    );
    let grants: BTreeMap<String, BTreeSet<String>> = z.with_zitadel(|i| {
        i.grants
            .values()
            .filter(|g| g.project == *project_id)
            .map(|g| {
                (
                    i.users[&g.user].email.clone(),
                    g.roles.iter().cloned().collect(),
                )
            })
            .collect()
    });
    assert_eq!(grants, src.roles);

    // Organizations, with their members.
    for (org, members) in &src.orgs {
        let got: BTreeSet<String> = z.with_zitadel(|i| {
            let o = &i.orgs[&org_ids[org]];
            o.members.keys().map(|u| i.users[u].email.clone()).collect()
        });
        assert_eq!(&got, members, "organization {org}");
    }

    // The report names each user whose hash was not carried, and never a hash.
    let report = std::fs::read_to_string(dir.path().join("report.ndjson")).unwrap();
    let lines: Vec<Value> = report
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reported: BTreeSet<String> = lines
        .iter()
        .filter(|l| {
            l["not_carried"].as_array().is_some_and(|n| {
                n.iter()
                    .any(|x| x.as_str().unwrap().starts_with("password hash"))
            })
        })
        .map(|l| l["source_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reported, odd);
    assert!(
        !report.contains("$2b$") && !report.contains("c2VjcmV0c2FsdA"),
        "a hash in the report"
    );
    // Social (google-oauth2) and enterprise (SAML) logins, each named by its provider.
    let social = src.users.len() - src.with_password.len();
    let logins_reported = lines
        .iter()
        .filter(|l| {
            let said = l["not_carried"].to_string();
            said.contains("login through google-oauth2") || said.contains("login through samlp")
        })
        .count();
    assert_eq!(logins_reported, social);
    assert!(report.contains("login through samlp"), "{report}");
}

fn usernames(t: &Tenant) -> Vec<String> {
    let mut names: Vec<String> =
        t.with_zitadel(|i| i.users.values().map(|u| u.username.clone()).collect());
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auth0_to_zitadel_pipeline_killed_mid_way_ends_with_every_user_exactly_once() {
    const USERS: usize = 3_000;
    // Paced so that kills land in the import.
    let (emu, dir) = pair(USERS, 1500.0).await;
    let samples = crate::common::repo().join("samples/pipelines");
    std::fs::copy(
        samples.join("auth0-to-zitadel.toml"),
        dir.path().join("auth0-to-zitadel.toml"),
    )
    .unwrap();
    let run_dir = "runs/crash";
    let first = ["run", "auth0-to-zitadel.toml", "--run-dir", run_dir];
    let (seed, kills) = kill_and_resume(dir.path(), &first, run_dir, 8, (300, 1500)).await;
    let kills = format!("seed {seed}, kills at {kills:?} ms");
    let (code, out, err) = run_idferry(&["resume", run_dir, "--json"], dir.path()).await;
    assert_eq!(code, 0, "{kills}:\n{out}\n{err}");
    let (auth0, z) = (&emu.tenants()[0], &emu.tenants()[1]);
    let want: Vec<String> = source(auth0).users.into_keys().collect();
    let got = usernames(z);
    assert_eq!(got.len(), USERS, "{kills}");
    assert_eq!(got, want, "every user exactly once ({kills})");
    // The journal's counts add up: created once, or found from an interrupted send.
    let run: Value = serde_json::from_str(&out).unwrap();
    let import = import_counts(&run);
    assert_eq!(
        import["inserted"].as_u64().unwrap() + import["already_present"].as_u64().unwrap(),
        USERS as u64,
        "{import}"
    );
    assert_eq!(import["failed"], 0, "{import}");
    eprintln!("{kills}: {import}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_migration_reports_existing_users_or_updates_them_with_upsert() {
    const USERS: usize = 200;
    let (emu, dir) = pair(USERS, 0.0).await;
    let (auth0, z) = (&emu.tenants()[0], &emu.tenants()[1]);
    let migrate = |run: &'static str, upsert: bool| {
        let dir = dir.path().to_owned();
        async move {
            let mut args = vec![
                "migrate",
                "users",
                "--from",
                "acme-prod",
                "--to",
                "zitadel-prod",
                "--hashes",
                "hashes.ndjson",
                "--run-dir",
                run,
                "--report",
                "report.ndjson",
                "--json",
            ];
            if upsert {
                args.push("--upsert");
            }
            run_idferry(&args, &dir).await
        }
    };
    let src = source(auth0);
    let (hashes, _) = hash_file(&src, 0);
    std::fs::write(dir.path().join("hashes.ndjson"), &hashes).unwrap();
    let (code, out, err) = migrate("runs/first", false).await;
    assert_eq!(code, 0, "{out}\n{err}");

    // At the source, one user changes name and metadata and is blocked; another gets a
    // new password.
    let (changed, rehashed) = {
        let mut with_password = src.with_password.iter();
        let (a, _) = with_password.next().unwrap();
        let (b, _) = with_password.next().unwrap();
        (a.clone(), b.clone())
    };
    auth0.with(|s| {
        let id = s
            .users
            .iter()
            .find(|u| u.email.as_deref() == Some(changed.as_str()))
            .unwrap()
            .id
            .to_string();
        let mut v = s.users.get(&id).unwrap().value();
        v["given_name"] = json!("Renamed");
        v["user_metadata"]["theme"] = json!("contrast");
        v["blocked"] = json!(true);
        s.users
            .put(idferry_emulator::store::UserRow::from_value(&v).unwrap());
    });
    let new_hash = bcrypt::hash("a-new-password", 4).unwrap();
    let lines: Vec<String> = hashes
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).unwrap();
            if v["email"] == rehashed {
                v["passwordHash"] = json!(new_hash);
            }
            v.to_string()
        })
        .collect();
    std::fs::write(dir.path().join("hashes.ndjson"), lines.join("\n") + "\n").unwrap();

    // Without --upsert, every user is reported as there already, nothing is changed.
    let (code, out, _) = migrate("runs/second", false).await;
    assert_eq!(code, 1, "{out}");
    let report = std::fs::read_to_string(dir.path().join("report.ndjson")).unwrap();
    assert_eq!(report.matches("ALREADY_EXISTS").count(), USERS);
    let given = |email: &str| {
        z.with_zitadel(|i| {
            let u = i.users.values().find(|u| u.email == email).unwrap();
            (u.profile["givenName"].clone(), u.active, u.hash.clone())
        })
    };
    assert_ne!(given(&changed).0, "Renamed");

    // With it, every user is updated: names, metadata, state and hash.
    let (code, out, err) = migrate("runs/third", true).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let run: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(import_counts(&run)["updated"], USERS as u64, "{run:#}");
    let (name, active, _) = given(&changed);
    assert_eq!((name, active), (json!("Renamed"), false));
    let theme = z.with_zitadel(|i| {
        let u = i.users.values().find(|u| u.email == changed).unwrap();
        metadata(u, "user_metadata")["theme"].clone()
    });
    assert_eq!(theme, "contrast");
    let (_, _, hash) = given(&rehashed);
    assert!(bcrypt::verify("a-new-password", &hash.unwrap()).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unlinked_accounts_sharing_an_email_are_reported_not_created_twice() {
    const USERS: usize = 50;
    let (emu, dir) = pair(USERS, 0.0).await;
    let (auth0, z) = (&emu.tenants()[0], &emu.tenants()[1]);
    // The same person signed up with Google too: a second Auth0 user with that email.
    let (first, email) = auth0.with(|s| {
        let u = s.users.iter().find(|u| u.id.starts_with("auth0|")).unwrap();
        (u.id.to_string(), u.email.clone().unwrap().to_string())
    });
    auth0.with(|s| {
        let mut v = s.users.get(&first).unwrap().value();
        v["user_id"] = json!("google-oauth2|1234567890");
        v["identities"] = json!([{"connection": "google-oauth2", "provider": "google-oauth2", "user_id": "1234567890", "isSocial": true}]);
        s.users.put(idferry_emulator::store::UserRow::from_value(&v).unwrap());
    });
    let (code, out, err) = run_idferry(
        &[
            "migrate",
            "users",
            "--from",
            "acme-prod",
            "--to",
            "zitadel-prod",
            "--run-dir",
            "runs/m",
            "--report",
            "report.ndjson",
        ],
        dir.path(),
    )
    .await;
    assert_eq!(code, 1, "a user not migrated fails the run:\n{out}\n{err}");
    assert!(
        err.contains("1 users were not migrated into zitadel-prod"),
        "{err}"
    );
    assert_eq!(
        usernames(z).len(),
        USERS,
        "one ZITADEL user for the two accounts"
    );
    let report = std::fs::read_to_string(dir.path().join("report.ndjson")).unwrap();
    let line = report
        .lines()
        .find(|l| l.contains("DUPLICATE"))
        .unwrap_or_default();
    assert!(
        line.contains(&email) || line.contains("google-oauth2|1234567890"),
        "{report}"
    );
}
