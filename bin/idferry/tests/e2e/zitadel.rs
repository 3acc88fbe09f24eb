//! The ZITADEL client against an emulated ZITADEL instance over HTTP: SMS providers with
//! a write-only Twilio token, `_search` pagination, typed errors, 429s retried, the
//! service user's JWT profile; backups, diffs and restores through the binary.

use futures_util::TryStreamExt;
use idferry_emulator::Platform;
use idferry_emulator::{Emulator, TenantOptions};
use idferry_zitadel::sms::{self, Twilio};
use idferry_zitadel::{Client, Error};
use serde_json::json;

async fn instance(rate_limit: f64) -> (Emulator, tempfile::TempDir, Client) {
    idferry_pacing::install_tls_provider();
    let mut o = TenantOptions::new("zitadel-prod");
    o.platform = Platform::Zitadel;
    o.rate_limit = rate_limit;
    o.burst = 3;
    let emu = crate::common::start(vec![o]).await;
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("idferry.toml");
    emu.write_config(&config_path).unwrap();
    let config = idferry_pipeline::platforms::load_config(&config_path).unwrap();
    let tenant = config.tenant("zitadel-prod").unwrap();
    assert_eq!(tenant.platform, idferry_zitadel::PLATFORM);
    let client = Client::new(tenant, idferry_pacing::RetryPolicy::default()).unwrap();
    (emu, dir, client)
}

fn twilio(n: u32) -> Twilio {
    Twilio {
        sid: format!("AC{n:032}"),
        sender_number: format!("+4179000{n:04}"),
        description: format!("twilio {n}"),
        verify_service_sid: None,
    }
}

#[tokio::test]
async fn sms_providers_keep_the_twilio_token_write_only() {
    let (emu, _dir, client) = instance(0.0).await;
    let t = &emu.tenants()[0];
    let id = sms::add_twilio(&client, &twilio(1), "first-token")
        .await
        .unwrap();
    let token = |id: &str| {
        t.with_zitadel(|z| match &z.sms[id].kind {
            idferry_emulator::zitadel::SmsKind::Twilio { token, .. } => token.clone(),
            idferry_emulator::zitadel::SmsKind::Http { .. } => String::new(),
        })
    };
    assert_eq!(token(&id), "first-token");

    // Settings change without touching the token; the token through its own endpoint.
    let mut changed = twilio(1);
    changed.sender_number = "+41790009999".into();
    sms::update_twilio(&client, &id, &changed).await.unwrap();
    assert_eq!(token(&id), "first-token");
    sms::set_twilio_token(&client, &id, "second-token")
        .await
        .unwrap();
    assert_eq!(token(&id), "second-token");

    let listed = sms::list(&client).await.unwrap();
    assert_eq!(listed.len(), 1);
    let text = listed[0].to_string();
    assert!(!text.contains("token"), "a token was returned: {text}");
    assert_eq!(listed[0]["twilio"]["senderNumber"], "+41790009999");
    assert_eq!(listed[0]["state"], "SMS_PROVIDER_CONFIG_INACTIVE");
    for key in ["sequence", "creationDate", "changeDate", "resourceOwner"] {
        assert!(
            listed[0]["details"][key].is_string(),
            "details.{key}: {text}"
        );
    }

    // One provider is active at a time.
    let other = sms::add_twilio(&client, &twilio(2), "t2").await.unwrap();
    sms::activate(&client, &id).await.unwrap();
    sms::activate(&client, &other).await.unwrap();
    let states: Vec<(String, String)> = sms::list(&client)
        .await
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            (id.clone(), "SMS_PROVIDER_CONFIG_INACTIVE".into()),
            (other.clone(), "SMS_PROVIDER_CONFIG_ACTIVE".into()),
        ]
    );
    sms::delete(&client, &id).await.unwrap();
    assert_eq!(sms::list(&client).await.unwrap().len(), 1);
}

#[tokio::test]
async fn searches_page_through_every_result_and_errors_are_typed() {
    let (emu, _dir, client) = instance(0.0).await;
    for n in 0..250 {
        client
            .post("/admin/v1/sms/http", &json!({"endpoint": format!("https://sms.example.com/{n}"), "description": format!("http {n}")}))
            .await
            .unwrap();
    }
    let all: Vec<serde_json::Value> =
        idferry_zitadel::list::search(&client, "/admin/v1/sms/_search", None, json!({}))
            .try_collect()
            .await
            .unwrap();
    assert_eq!(all.len(), 250);
    for (n, p) in all.iter().enumerate() {
        assert_eq!(
            p["http"]["endpoint"],
            format!("https://sms.example.com/{n}"),
            "in order"
        );
    }

    let err = sms::set_twilio_token(&client, "404404", "x")
        .await
        .unwrap_err();
    match &err {
        Error::Api { status, code, .. } => assert_eq!((*status, code.as_str()), (404, "5")),
        other => panic!("not an API error: {other}"),
    }
    let err = sms::add_twilio(&client, &twilio(3), "").await.unwrap_err();
    assert_eq!(err.status(), Some(400), "{err}");

    // A wrong token is refused once, not retried.
    let t = &emu.tenants()[0];
    let before = t.stats().requests;
    let tenant = idferry_model::TenantConfig {
        credentials: idferry_model::config::CredentialSource::Token(
            idferry_model::config::SecretSource::Env("IDFERRY_TEST_NO_SUCH_TOKEN_VAR".into()),
        ),
        ..client_config(t)
    };
    assert!(
        Client::new(&tenant, Default::default()).is_err(),
        "a missing token is a config error"
    );
    let wrong = Client::new(
        &idferry_model::TenantConfig {
            credentials: idferry_model::config::CredentialSource::Token(
                idferry_model::config::SecretSource::File(write_token("not-the-token")),
            ),
            ..client_config(t)
        },
        Default::default(),
    )
    .unwrap();
    let err = sms::list(&wrong).await.unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 401, code, .. } if code == "16"),
        "{err}"
    );
    assert_eq!(t.stats().requests - before, 1);
}

/// The Twilio provider `description` of an emulated instance: its token, whether it is
/// active, and the requests that wrote the token.
fn twilio_of(t: &idferry_emulator::Tenant, description: &str) -> (String, bool, Vec<String>) {
    t.with_zitadel(|z| {
        let p = z
            .sms
            .values()
            .find(|p| p.description == description)
            .unwrap();
        match &p.kind {
            idferry_emulator::zitadel::SmsKind::Twilio { token, .. } => {
                (token.clone(), p.active, p.token_writes.clone())
            }
            idferry_emulator::zitadel::SmsKind::Http { .. } => panic!("{description}: not Twilio"),
        }
    })
}

/// Two empty instances, zitadel-prod and zitadel-staging, and a work folder with their
/// config.
async fn prod_and_staging() -> (
    idferry_emulator::Emulator,
    tempfile::TempDir,
    idferry_model::Config,
) {
    idferry_pacing::install_tls_provider();
    let instances: Vec<TenantOptions> = ["zitadel-prod", "zitadel-staging"]
        .iter()
        .map(|n| {
            let mut o = TenantOptions::new(n);
            o.platform = Platform::Zitadel;
            o
        })
        .collect();
    let emu = crate::common::start(instances).await;
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    let config =
        idferry_pipeline::platforms::load_config(&dir.path().join("idferry.toml")).unwrap();
    (emu, dir, config)
}

fn client_config(t: &idferry_emulator::Tenant) -> idferry_model::TenantConfig {
    idferry_model::TenantConfig {
        name: "zitadel-prod".into(),
        platform: idferry_zitadel::PLATFORM.into(),
        base_url: t.base_url.clone(),
        credentials: idferry_model::config::CredentialSource::Token(
            idferry_model::config::SecretSource::File(write_token(&t.static_token)),
        ),
        rate_limit: None,
        burst: None,
        request_timeout: None,
    }
}

fn write_token(token: &str) -> std::path::PathBuf {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), token).unwrap();
    file.into_temp_path().keep().unwrap()
}

#[tokio::test]
async fn rate_limited_requests_are_retried_until_they_pass() {
    let (emu, _dir, _) = instance(20.0).await;
    // A client that does not know the limit (none configured) meets 429s and retries.
    let client = Client::new(&client_config(&emu.tenants()[0]), Default::default()).unwrap();
    let calls: Vec<_> = (0..12)
        .map(|n| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .post(
                        "/admin/v1/sms/http",
                        &json!({"endpoint": format!("https://sms.example.com/{n}")}),
                    )
                    .await
            })
        })
        .collect();
    for c in calls {
        c.await.unwrap().unwrap();
    }
    assert_eq!(sms::list(&client).await.unwrap().len(), 12);
    assert!(
        emu.tenants()[0].stats().rate_limited > 0,
        "the bucket never refused: the test proves nothing"
    );
}

#[tokio::test]
async fn a_zitadel_instance_is_backed_up_without_its_secrets() {
    let (emu, dir, client) = instance(0.0).await;
    for name in ["acme", "acme-eu"] {
        client
            .post("/management/v1/orgs", &json!({ "name": name }))
            .await
            .unwrap();
    }
    let id = sms::add_twilio(&client, &twilio(7), "secret-twilio-token")
        .await
        .unwrap();
    sms::activate(&client, &id).await.unwrap();
    let _ = emu;

    let (code, out, err) = crate::common::run_idferry(
        &["backup", "zitadel-prod", "--out", "snapshots", "--json"],
        dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    let file = rows[0]["file"].as_str().unwrap().to_owned();

    let (code, out, _) =
        crate::common::run_idferry(&["snapshots", "inspect", &file, "--json"], dir.path()).await;
    assert_eq!(code, 0);
    let manifest: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(manifest["platform"], "zitadel");
    let counts: Vec<(String, u64)> = manifest["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_owned(),
                m["records"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [
            ("login_policy", 1),
            ("password_complexity_policy", 1),
            ("lockout_policy", 1),
            ("privacy_policy", 1),
            ("label_policy", 1),
            ("login_texts", 0),
            ("init_message_texts", 0),
            ("password_reset_message_texts", 0),
            ("verify_email_message_texts", 0),
            ("verify_phone_message_texts", 0),
            ("password_change_message_texts", 0),
            ("organizations", 2),
            ("identity_providers", 0),
            ("smtp_providers", 0),
            ("sms_providers", 1),
            ("users", 0),
            ("actions", 0),
            ("action_flows", 0),
            ("projects", 0),
            ("project_roles", 0),
            ("user_grants", 0),
            ("org_members", 0),
            ("applications", 0),
        ]
        .map(|(k, n)| (k.to_owned(), n))
    );
    let (code, out, _) =
        crate::common::run_idferry(&["snapshots", "cat", &file, "sms_providers"], dir.path()).await;
    assert_eq!(code, 0);
    assert!(out.contains("SMS_PROVIDER_CONFIG_ACTIVE"), "{out}");
    assert!(
        !out.contains("secret-twilio-token") && !out.contains("token"),
        "{out}"
    );
    let (code, _, err) =
        crate::common::run_idferry(&["snapshots", "verify", &file], dir.path()).await;
    assert_eq!(code, 0, "{err}");

    // `list` reads one kind of an instance.
    let (code, out, err) =
        crate::common::run_idferry(&["list", "zitadel-prod", "organizations"], dir.path()).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    let (code, _, err) =
        crate::common::run_idferry(&["list", "zitadel-prod", "clients"], dir.path()).await;
    assert_eq!(code, 1);
    assert!(err.contains("no ZITADEL kind \"clients\""), "{err}");

    // A snapshot compared with itself differs in nothing.
    let (code, out, err) =
        crate::common::run_idferry(&["snapshots", "diff", &file, &file], dir.path()).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "no differences");
    // Restored onto the instance it came from, the snapshot plans nothing.
    let (code, out, err) = crate::common::run_idferry(
        &["restore", &file, "--to", "zitadel-prod", "--plan"],
        dir.path(),
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("Nothing to do"), "{out}");
}

/// Fills `prod` with every kind idferry backs up: two organizations, a project with
/// roles and applications of each type, human (one deactivated, one with a phone,
/// metadata and a hash) and machine users, a grant and a member, an action run by two
/// flow triggers, texts in two languages, every policy changed, two identity providers,
/// an active SMTP provider and Twilio and HTTP SMS providers (each write-only secret
/// set).
pub async fn fill(prod: &Client) {
    let mut orgs = Vec::new();
    for name in ["acme", "acme-eu"] {
        let made = prod
            .post("/management/v1/orgs", &json!({ "name": name }))
            .await
            .unwrap();
        orgs.push(made["id"].as_str().unwrap().to_owned());
    }
    // A project with two roles in the second organization (the header picks it).
    let project = prod
        .send(
            reqwest::Method::POST,
            "/management/v1/projects",
            Some(&orgs[1]),
            Some(&json!({"name": "portal"})),
        )
        .await
        .unwrap();
    let project = project["id"].as_str().unwrap().to_owned();
    for (key, name) in [("admin", "Administrator"), ("viewer", "Viewer")] {
        prod.send(
            reqwest::Method::POST,
            &format!("/management/v1/projects/{project}/roles"),
            Some(&orgs[1]),
            Some(&json!({"roleKey": key, "displayName": name, "group": "portal"})),
        )
        .await
        .unwrap();
    }
    // Users of acme-eu: a human with metadata and a phone, given the admin role and
    // made a member of acme; a deactivated human; a machine user.
    let ada = prod
        .post(
            "/v2/users/new",
            &json!({"organizationId": orgs[1], "username": "ada@acme.example.com", "human": {
                "profile": {"givenName": "Ada", "familyName": "Lovelace", "displayName": "Ada L."},
                "email": {"email": "ada@acme.example.com", "isVerified": true},
                "phone": {"phone": "+41790000001", "isVerified": false},
                "metadata": [{"key": "plan", "value": "cHJv"}],
                "hashedPassword": {"hash": "$2b$04$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234"}}}),
        )
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let gone = prod
        .post(
            "/v2/users/new",
            &json!({"organizationId": orgs[1], "username": "gone@acme.example.com", "human": {
                "profile": {"givenName": "Gone", "familyName": "Away"},
                "email": {"email": "gone@acme.example.com", "isVerified": false}}}),
        )
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    prod.post(&format!("/v2/users/{gone}/deactivate"), &json!({}))
        .await
        .unwrap();
    prod.post(
        "/v2/users/new",
        &json!({"organizationId": orgs[1], "username": "ci-bot", "machine": {"name": "CI", "description": "deploys"}}),
    )
    .await
    .unwrap();

    // Applications of each type in the project; an action in the organization.
    let apps = format!("/management/v1/projects/{project}/apps");
    for (kind, body) in [
        (
            "oidc",
            json!({"name": "portal-web", "redirectUris": ["https://portal.example.com/cb"], "responseTypes": ["OIDC_RESPONSE_TYPE_CODE"], "grantTypes": ["OIDC_GRANT_TYPE_AUTHORIZATION_CODE"], "appType": "OIDC_APP_TYPE_WEB", "authMethodType": "OIDC_AUTH_METHOD_TYPE_BASIC", "devMode": false}),
        ),
        (
            "api",
            json!({"name": "portal-api", "authMethodType": "API_AUTH_METHOD_TYPE_PRIVATE_KEY_JWT"}),
        ),
        (
            "saml",
            json!({"name": "portal-saml", "metadataUrl": "https://portal.example.com/saml/metadata"}),
        ),
    ] {
        prod.send(
            reqwest::Method::POST,
            &format!("{apps}/{kind}"),
            Some(&orgs[1]),
            Some(&body),
        )
        .await
        .unwrap();
    }
    let action = prod.send(
        reqwest::Method::POST,
        "/management/v1/actions",
        Some(&orgs[0]),
        Some(&json!({"name": "add-claims", "script": "function addClaims(ctx, api) {}", "timeout": "5s", "allowedToFail": true})),
    )
    .await
    .unwrap();
    // It runs after external authentication and before access tokens are made.
    for (flow, trigger) in [("1", "1"), ("2", "5")] {
        prod.send(
            reqwest::Method::POST,
            &format!("/management/v1/flows/{flow}/trigger/{trigger}"),
            Some(&orgs[0]),
            Some(&json!({"actionIds": [action["id"]]})),
        )
        .await
        .unwrap();
    }
    // Login texts customized in two languages, the password reset email in one.
    for (language, title) in [("de", "Willkommen bei Acme"), ("en", "Welcome to Acme")] {
        prod.put(
            &format!("/admin/v1/text/login/{language}"),
            &json!({"loginText": {"title": title}}),
        )
        .await
        .unwrap();
    }
    prod.put(
        "/admin/v1/text/message/passwordreset/en",
        &json!({"subject": "Reset your Acme password", "buttonText": "Choose a new one"}),
    )
    .await
    .unwrap();
    // The instance's policies, changed from their defaults; the label policy as a
    // preview, then activated.
    for (path, body) in [
        (
            "login",
            json!({"forceMfa": true, "allowRegister": false, "passwordCheckLifetime": "432000s"}),
        ),
        (
            "password/complexity",
            json!({"minLength": 12, "hasSymbol": false}),
        ),
        // Written where ZITADEL binds UpdateLockoutPolicy (read at /policies/lockout).
        ("password/lockout", json!({"maxPasswordAttempts": 5})),
        (
            "privacy",
            json!({"supportEmail": "support@acme.example.com", "helpLink": "https://help.acme.example.com"}),
        ),
        (
            "label",
            json!({"primaryColor": "#112233", "themeMode": "THEME_MODE_DARK"}),
        ),
    ] {
        prod.put(&format!("/admin/v1/policies/{path}"), &body)
            .await
            .unwrap();
    }
    prod.post("/admin/v1/policies/label/_activate", &json!({}))
        .await
        .unwrap();
    prod.post(
        "/admin/v1/idps/generic_oidc",
        &json!({"name": "corp-sso", "issuer": "https://sso.acme.example.com", "clientId": "idferry",
                "clientSecret": "prod-idp-secret", "scopes": ["openid", "email"], "isIdTokenMapping": true,
                "providerOptions": {"isLinkingAllowed": true, "isCreationAllowed": true, "isAutoCreation": false, "isAutoUpdate": true}}),
    )
    .await
    .unwrap();
    prod.post(
        "/admin/v1/idps/google",
        &json!({"name": "google", "clientId": "g-123", "clientSecret": "prod-google-secret", "scopes": ["openid"]}),
    )
    .await
    .unwrap();
    let smtp = prod
        .post(
            "/admin/v1/smtp",
            &json!({"senderAddress": "noreply@acme.example.com", "senderName": "Acme", "tls": true,
                    "host": "smtp.example.com:587", "user": "acme", "password": "prod-smtp-password",
                    "description": "acme mail"}),
        )
        .await
        .unwrap();
    prod.post(
        &format!("/admin/v1/smtp/{}/_activate", smtp["id"].as_str().unwrap()),
        &json!({}),
    )
    .await
    .unwrap();
    prod.send(
        reqwest::Method::POST,
        &format!("/management/v1/users/{ada}/grants"),
        Some(&orgs[1]),
        Some(&json!({"projectId": project, "roleKeys": ["admin"]})),
    )
    .await
    .unwrap();
    prod.send(
        reqwest::Method::POST,
        "/management/v1/orgs/me/members",
        Some(&orgs[0]),
        Some(&json!({"userId": ada, "roles": ["ORG_OWNER"]})),
    )
    .await
    .unwrap();
    let twilio_id = sms::add_twilio(prod, &twilio(7), "prod-token")
        .await
        .unwrap();
    sms::activate(prod, &twilio_id).await.unwrap();
    prod.post(
        "/admin/v1/sms/http",
        &json!({"endpoint": "https://hooks.example.com/sms", "description": "webhook"}),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn a_zitadel_backup_restored_into_an_empty_instance_diffs_empty_with_secrets_set_not_written()
{
    idferry_pacing::install_tls_provider();
    let mut instances: Vec<TenantOptions> = ["zitadel-prod", "zitadel-staging"]
        .iter()
        .map(|n| {
            let mut o = TenantOptions::new(n);
            o.platform = Platform::Zitadel;
            o
        })
        .collect();
    instances.push(TenantOptions::new("auth0-prod"));
    let emu = crate::common::start(instances).await;
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    let config =
        idferry_pipeline::platforms::load_config(&dir.path().join("idferry.toml")).unwrap();
    let prod = Client::new(config.tenant("zitadel-prod").unwrap(), Default::default()).unwrap();
    fill(&prod).await;
    // The path idferry once wrote the lockout policy to is no route of ZITADEL's, and
    // the client says so.
    let refused = prod
        .put(
            "/admin/v1/policies/lockout",
            &json!({"maxPasswordAttempts": 5}),
        )
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("does not serve this call"),
        "{refused}"
    );
    let run = |args: Vec<&str>, env: Vec<(&str, &str)>| {
        let dir = dir.path().to_owned();
        let args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        let env: Vec<(String, String)> = env
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            crate::common::run_idferry_env(&args, &dir, &env).await
        }
    };
    let (code, out, err) = run(
        vec!["backup", "zitadel-prod", "--out", "snapshots", "--json"],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let file = serde_json::from_str::<serde_json::Value>(&out).unwrap()[0]["file"]
        .as_str()
        .unwrap()
        .to_owned();
    let staging = &emu.tenants()[1];
    let providers = |t: &idferry_emulator::Tenant| t.with_zitadel(|z| z.sms.len());

    // Without the token: the Twilio provider is named with the line to add; nothing of it
    // is written.
    let (code, out, _) = run(
        vec!["restore", &file, "--to", "zitadel-staging", "--plan"],
        vec![],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(r#"NOT WRITTEN: sms_providers "twilio 7" lacks its write-only twilio.token"#)
            && out.contains(
                r#"[sms_providers."twilio 7"] twilio = { token = { env = "TWILIO_TOKEN" } }"#
            ),
        "{out}"
    );
    assert_eq!(providers(staging), 0, "a plan writes nothing");

    // With it, from the environment through the values file.
    assert!(
        out.contains(r#"NOT WRITTEN: smtp_providers "acme mail" lacks its write-only password"#)
            && out.contains(r#"[smtp_providers."acme mail"] password = { env = "SMTP_PASSWORD" }"#),
        "{out}"
    );
    std::fs::write(
        dir.path().join("values.toml"),
        "[sms_providers.\"twilio 7\"]\ntwilio = { token = { env = \"TWILIO_TOKEN\" } }\n\
         [smtp_providers.\"acme mail\"]\npassword = { env = \"SMTP_PASSWORD\" }\n\
         [identity_providers.corp-sso]\nclientSecret = { env = \"SSO_SECRET\" }\n\
         [identity_providers.google]\nclientSecret = { env = \"GOOGLE_SECRET\" }\n",
    )
    .unwrap();
    let restore = vec![
        "restore",
        &file,
        "--to",
        "zitadel-staging",
        "--values",
        "values.toml",
    ];
    let (code, out_restore, err_restore) = run(
        [restore.clone(), vec!["-vv"]].concat(),
        vec![
            ("TWILIO_TOKEN", "staging-token"),
            ("SMTP_PASSWORD", "staging-smtp-password"),
            ("SSO_SECRET", "staging-idp-secret"),
            ("GOOGLE_SECRET", "staging-google-secret"),
        ],
    )
    .await;
    assert_eq!(code, 0, "{out_restore}\n{err_restore}");
    assert_eq!(staging.with_zitadel(|z| z.orgs.len()), 2);
    let (token, active, _) = twilio_of(staging, "twilio 7");
    assert_eq!(
        (token.as_str(), active),
        ("staging-token", true),
        "the token set, the provider active"
    );
    assert_eq!(providers(staging), 2);
    let (password, active) = staging.with_zitadel(|z| {
        let p = z.smtp.values().next().unwrap();
        (p.password.clone(), p.active)
    });
    assert_eq!((password.as_str(), active), ("staging-smtp-password", true));
    let users = staging.with_zitadel(|z| {
        let mut u: Vec<(String, bool, bool, usize)> = z
            .users
            .values()
            .map(|u| {
                (
                    u.username.clone(),
                    u.active,
                    u.hash.is_some(),
                    z.grants.values().filter(|g| g.user == u.id).count(),
                )
            })
            .collect();
        u.sort();
        u
    });
    assert_eq!(
        users,
        [
            ("ada@acme.example.com".to_owned(), true, false, 1),
            ("ci-bot".to_owned(), true, false, 0),
            ("gone@acme.example.com".to_owned(), false, false, 0),
        ],
        "users, their state and grants; no password (none is exported)"
    );
    assert!(out_restore.contains("without a password"), "{out_restore}");
    let idp_secrets = staging.with_zitadel(|z| {
        let mut s: Vec<(String, Option<String>)> = z
            .idps
            .values()
            .map(|i| {
                (
                    i.fields["name"].as_str().unwrap().to_owned(),
                    i.secret.clone(),
                )
            })
            .collect();
        s.sort();
        s
    });
    assert_eq!(
        idp_secrets,
        [
            ("corp-sso".to_owned(), Some("staging-idp-secret".to_owned())),
            (
                "google".to_owned(),
                Some("staging-google-secret".to_owned())
            ),
        ]
    );
    let (texts, flows) = staging.with_zitadel(|z| {
        let texts: Vec<String> = z.texts.keys().cloned().collect();
        let acme = z.orgs.values().find(|o| o.name == "acme").unwrap();
        let flows: Vec<(String, Vec<String>)> = acme
            .flows
            .iter()
            .flat_map(|(f, flow)| {
                flow.triggers.iter().map(move |(t, ids)| {
                    let names = ids
                        .iter()
                        .map(|a| acme.actions[a].fields["name"].as_str().unwrap().to_owned())
                        .collect();
                    (format!("{f}/{t}"), names)
                })
            })
            .collect();
        (texts, flows)
    });
    assert_eq!(texts, ["login/de", "login/en", "message/passwordreset/en"]);
    let reset = staging.with_zitadel(|z| z.texts["message/passwordreset/en"]["subject"].clone());
    assert_eq!(reset, "Reset your Acme password");
    assert_eq!(
        flows,
        [
            ("1/1".to_owned(), vec!["add-claims".to_owned()]),
            ("2/5".to_owned(), vec!["add-claims".to_owned()])
        ],
        "the flows run the restored action (by its new id)"
    );
    let label = staging.with_zitadel(|z| z.settings["label"].values["primaryColor"].clone());
    assert_eq!(
        label, "#112233",
        "the label policy was activated, not left as a preview"
    );

    // Backed up again, staging is what prod was: no difference but ids and what each
    // instance sets for itself. The token is in no snapshot and no output.
    let (code, out, err) = run(
        vec![
            "backup",
            "zitadel-staging",
            "--out",
            "snapshots",
            "--json",
            "-vv",
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let mut outputs = out.clone() + &err + &out_restore + &err_restore;
    let staged = serde_json::from_str::<serde_json::Value>(&out).unwrap()[0]["file"]
        .as_str()
        .unwrap()
        .to_owned();
    let (code, out, err) = run(
        vec!["snapshots", "diff", &file, &staged, "--ignore-ids"],
        vec![],
    )
    .await;
    assert_eq!((code, out.trim()), (0, "no differences"), "{err}");
    outputs += &err;
    let (_, out, _) = run(vec!["snapshots", "diff", &file, &staged], vec![]).await;
    assert!(
        out.contains("organizations: 0 added, 0 removed, 2 changed"),
        "ids differ: {out}"
    );
    for snapshot in [&file, &staged] {
        let raw = std::fs::read(dir.path().join(snapshot)).unwrap();
        let plain = zstd::decode_all(raw.as_slice()).unwrap();
        let plain = String::from_utf8_lossy(&plain);
        assert!(
            plain.contains("twilio 7"),
            "the snapshot holds the provider"
        );
        for token in ["prod-token", "staging-token"] {
            assert!(!plain.contains(token), "{token} in {snapshot}");
        }
    }
    for token in ["prod-token", "staging-token"] {
        assert!(!outputs.contains(token), "{token} in an output");
    }

    let roles = |t: &idferry_emulator::Tenant| {
        t.with_zitadel(|z| {
            let mut out: Vec<String> = z
                .orgs
                .values()
                .flat_map(|o| {
                    o.projects.values().flat_map(move |p| {
                        p.roles.values().map(move |r| {
                            format!("{}/{}/{}={}", o.name, p.name, r.key, r.display_name)
                        })
                    })
                })
                .collect();
            out.sort();
            out
        })
    };
    assert_eq!(
        roles(staging),
        [
            "acme-eu/portal/admin=Administrator",
            "acme-eu/portal/viewer=Viewer"
        ],
        "projects and roles land in the organization of the same name"
    );

    // Again without values: nothing to do. With them, the token is set again, which
    // changes an existing object: consent is asked for.
    let (code, out, _) = run(
        vec!["restore", &file, "--to", "zitadel-staging", "--plan"],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Nothing to do"), "{out}");
    let rotated = vec![
        ("TWILIO_TOKEN", "rotated"),
        ("SMTP_PASSWORD", "rotated"),
        ("SSO_SECRET", "rotated"),
        ("GOOGLE_SECRET", "rotated"),
    ];
    let (code, _, err) = run(restore.clone(), rotated.clone()).await;
    assert_eq!(code, 1);
    assert!(err.contains("not applied"), "{err}");
    // With consent, each secret goes through its own endpoint: the Twilio token through
    // PUT /admin/v1/sms/twilio/{id}/token (creating the provider took it in the create
    // call, which the API requires).
    let (code, out, err) = run([restore, vec!["--yes"]].concat(), rotated).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let (token, _, writes) = twilio_of(staging, "twilio 7");
    assert_eq!(token, "rotated");
    assert_eq!(
        writes,
        [
            "POST /admin/v1/sms/twilio",
            "PUT /admin/v1/sms/twilio/{id}/token"
        ]
    );
    let (smtp, idps) = staging.with_zitadel(|z| {
        (
            z.smtp.values().next().unwrap().password.clone(),
            z.idps
                .values()
                .filter_map(|i| i.secret.clone())
                .collect::<Vec<_>>(),
        )
    });
    assert_eq!(
        (smtp.as_str(), idps),
        ("rotated", vec!["rotated".to_owned(); 2])
    );

    // A role renamed in staging is planned as an update and put back with --yes.
    staging.with_zitadel(|z| {
        for o in z.orgs.values_mut() {
            for p in o.projects.values_mut() {
                if let Some(r) = p.roles.get_mut("viewer") {
                    r.display_name = "Renamed".into();
                }
            }
        }
    });
    let (code, out, _) = run(
        vec!["restore", &file, "--to", "zitadel-staging", "--plan"],
        vec![],
    )
    .await;
    assert_eq!(code, 0);
    assert!(
        out.contains("acme-eu/portal/viewer") && out.contains("update displayName"),
        "{out}"
    );
    let (code, out, err) = run(
        vec!["restore", &file, "--to", "zitadel-staging", "--yes"],
        vec![],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(roles(staging)[1], "acme-eu/portal/viewer=Viewer");

    // Across platforms, what does not convert says so (and what does).
    let (code, _, err) = run(
        vec!["restore", &file, "--to", "auth0-prod", "--plan"],
        vec![],
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("nothing of it converts into auth0"), "{err}");
    let (code, _, err) = run(
        vec!["restore", "auth0-prod", "--to", "zitadel-staging", "--plan"],
        vec![],
    )
    .await;
    assert_eq!(code, 1);
    assert!(
        err.contains("its configuration does not convert") && err.contains("idferry migrate users"),
        "{err}"
    );
    // auth0-deploy-cli's files are Auth0's: ZITADEL says it reads no such files.
    let tenant_file =
        crate::common::repo().join("bin/idferry/tests/e2e/a0deploy-tenant/tenant.yaml");
    let (code, _, err) = run(
        vec![
            "restore",
            tenant_file.to_str().unwrap(),
            "--to",
            "zitadel-staging",
            "--plan",
        ],
        vec![],
    )
    .await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("zitadel reads no other tool's configuration files")
            && err.contains("tenant.yaml"),
        "{err}"
    );
}

#[tokio::test]
async fn a_service_user_key_logs_in_and_renews_its_access_token() {
    idferry_pacing::install_tls_provider();
    let mut o = TenantOptions::new("zitadel-prod");
    o.platform = Platform::Zitadel;
    // Tokens live 61 s and are renewed a minute early: every second, here.
    o.token_ttl_secs = 61;
    let emu = crate::common::start(vec![o]).await;
    let t = &emu.tenants()[0];
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    let text = std::fs::read_to_string(dir.path().join("idferry.toml")).unwrap();
    assert!(
        text.contains("key_file = \"secrets/zitadel-prod.key.json\""),
        "{text}"
    );
    let config =
        idferry_pipeline::platforms::load_config(&dir.path().join("idferry.toml")).unwrap();
    let client = Client::new(config.tenant("zitadel-prod").unwrap(), Default::default()).unwrap();
    assert!(
        !format!("{client:?}").contains("PRIVATE KEY"),
        "the key is never printed"
    );

    sms::list(&client).await.unwrap();
    sms::list(&client).await.unwrap();
    assert_eq!(
        t.issued_tokens(),
        1,
        "one exchange serves while the token is fresh"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    sms::list(&client).await.unwrap();
    assert_eq!(t.issued_tokens(), 2, "renewed before it expires");

    // A key the instance does not know is refused with what to check, once.
    let key_file = dir.path().join("secrets/zitadel-prod.key.json");
    let mut key: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    key["keyId"] = json!("999");
    std::fs::write(&key_file, key.to_string()).unwrap();
    let stranger = Client::new(config.tenant("zitadel-prod").unwrap(), Default::default()).unwrap();
    let err = sms::list(&stranger).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the service user's key was refused")
            && err.to_string().contains("AuthNKey.NotFound"),
        "{err}"
    );
    // Not a key at all: said at once, without echoing the file.
    std::fs::write(
        &key_file,
        "{\"keyId\": \"1\", \"key\": \"not a key\", \"userId\": \"2\"}",
    )
    .unwrap();
    let broken = Client::new(config.tenant("zitadel-prod").unwrap(), Default::default()).unwrap();
    let err = sms::list(&broken).await.unwrap_err();
    assert!(err.to_string().contains("not an RSA private key"), "{err}");
    std::fs::write(&key_file, "garbage").unwrap();
    let err = Client::new(config.tenant("zitadel-prod").unwrap(), Default::default()).unwrap_err();
    assert!(
        err.to_string().contains("not a ZITADEL key file") && !err.to_string().contains("garbage"),
        "{err}"
    );
}

#[tokio::test]
async fn zitadel_restores_take_kinds_objects_mappings_and_deletions() {
    let (emu, dir, config) = prod_and_staging().await;
    let client =
        |name: &str| Client::new(config.tenant(name).unwrap(), Default::default()).unwrap();
    let (prod, staging) = (client("zitadel-prod"), client("zitadel-staging"));
    // prod: acme with project portal (roles admin, viewer; an OIDC app) and project ops.
    let mut projects = Vec::new();
    for z in [&prod, &staging] {
        let org = z
            .post("/management/v1/orgs", &json!({"name": "acme"}))
            .await
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let made = z
            .send(
                reqwest::Method::POST,
                "/management/v1/projects",
                Some(&org),
                Some(&json!({"name": "portal"})),
            )
            .await
            .unwrap();
        projects.push((org, made["id"].as_str().unwrap().to_owned()));
    }
    let (org, portal) = projects[0].clone();
    prod.send(
        reqwest::Method::POST,
        "/management/v1/projects",
        Some(&org),
        Some(&json!({"name": "ops"})),
    )
    .await
    .unwrap();
    for key in ["admin", "viewer"] {
        prod.send(
            reqwest::Method::POST,
            &format!("/management/v1/projects/{portal}/roles"),
            Some(&org),
            Some(&json!({"roleKey": key, "displayName": key})),
        )
        .await
        .unwrap();
    }
    prod.send(
        reqwest::Method::POST,
        &format!("/management/v1/projects/{portal}/apps/oidc"),
        Some(&org),
        Some(&json!({"name": "web", "redirectUris": ["https://portal.acme-prod.example.com/cb"], "appType": "OIDC_APP_TYPE_WEB"})),
    )
    .await
    .unwrap();
    // staging has a role prod does not.
    let (sorg, sportal) = projects[1].clone();
    staging
        .send(
            reqwest::Method::POST,
            &format!("/management/v1/projects/{sportal}/roles"),
            Some(&sorg),
            Some(&json!({"roleKey": "legacy", "displayName": "legacy"})),
        )
        .await
        .unwrap();
    let staging_state = || {
        emu.tenants()[1].with_zitadel(|z| {
            let mut out: Vec<String> = Vec::new();
            for o in z.orgs.values() {
                for p in o.projects.values() {
                    out.push(format!("project {}", p.name));
                    out.extend(p.roles.keys().map(|k| format!("role {}/{k}", p.name)));
                    out.extend(
                        p.apps
                            .values()
                            .map(|a| format!("app {}/{}", p.name, a.fields)),
                    );
                }
            }
            out.sort();
            out
        })
    };
    let run = |args: &[&str]| {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let dir = dir.path().to_owned();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::common::run_idferry(&args, &dir).await
        }
    };

    // Only the portal project and what hangs from it, through a mapping.
    std::fs::write(
        dir.path().join("staging.toml"),
        "[[applications]]\nop = \"rewrite\"\nfields = [\"record.oidcConfig.redirectUris\"]\npattern = \"acme-prod\"\nreplace = \"acme-staging\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&[
        "restore",
        "zitadel-prod",
        "--to",
        "zitadel-staging",
        "--only",
        "projects:acme/portal",
        "--map",
        "staging.toml",
        "--yes",
    ])
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let state = staging_state();
    assert!(
        !state.iter().any(|s| s == "project ops"),
        "--only left ops out: {state:?}"
    );
    assert!(
        state.iter().any(|s| s == "role portal/admin")
            && state.iter().any(|s| s == "role portal/viewer"),
        "{state:?}"
    );
    assert!(
        state.iter().any(|s| s.starts_with("app portal/")
            && s.contains("https://portal.acme-staging.example.com/cb")),
        "the mapping rewrote the redirect: {state:?}"
    );
    assert!(
        state.iter().any(|s| s == "role portal/legacy"),
        "nothing deleted without --allow-delete"
    );

    // Deletions: planned, then done with consent, children before parents.
    let (code, out, _) = run(&[
        "restore",
        "zitadel-prod",
        "--to",
        "zitadel-staging",
        "--kinds",
        "project_roles",
        "--allow-delete",
        "--plan",
    ])
    .await;
    assert_eq!(code, 0);
    assert!(
        out.contains("acme/portal/legacy") && out.contains("DELETE"),
        "{out}"
    );
    assert!(
        !out.contains("ops"),
        "--kinds project_roles plans no project: {out}"
    );
    let (code, _, err) = run(&[
        "restore",
        "zitadel-prod",
        "--to",
        "zitadel-staging",
        "--kinds",
        "project_roles",
        "--allow-delete",
    ])
    .await;
    assert_eq!(code, 1, "a deletion needs consent");
    assert!(err.contains("not applied"), "{err}");
    let (code, out, err) = run(&[
        "restore",
        "zitadel-prod",
        "--to",
        "zitadel-staging",
        "--kinds",
        "project_roles",
        "--allow-delete",
        "--yes",
    ])
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(!staging_state().iter().any(|s| s == "role portal/legacy"));
    let (code, _, err) = run(&[
        "restore",
        "zitadel-prod",
        "--to",
        "zitadel-staging",
        "--kinds",
        "clients",
        "--plan",
    ])
    .await;
    assert_eq!(code, 1);
    assert!(
        err.contains("not a ZITADEL kind (they are: login_policy"),
        "{err}"
    );
}

#[tokio::test]
async fn an_emulated_instance_saved_to_its_data_dir_starts_again_as_it_was() {
    idferry_pacing::install_tls_provider();
    let data = tempfile::tempdir().unwrap();
    let options = || {
        let mut o = TenantOptions::new("zitadel-prod");
        o.platform = Platform::Zitadel;
        o.data_dir = Some(data.path().to_owned());
        o
    };
    let emu = crate::common::start(vec![options()]).await;
    let dir = tempfile::tempdir().unwrap();
    emu.write_config(&dir.path().join("idferry.toml")).unwrap();
    let config =
        idferry_pipeline::platforms::load_config(&dir.path().join("idferry.toml")).unwrap();
    let client = Client::new(config.tenant("zitadel-prod").unwrap(), Default::default()).unwrap();
    let org = client
        .post("/management/v1/orgs", &json!({"name": "acme"}))
        .await
        .unwrap();
    client
        .post(
            "/v2/users/new",
            &json!({"organizationId": org["id"], "username": "ada", "human": {
                "profile": {"givenName": "Ada", "familyName": "L"}, "email": {"email": "ada@example.com"}}}),
        )
        .await
        .unwrap();
    sms::add_twilio(&client, &twilio(1), "kept-token")
        .await
        .unwrap();
    emu.tenants()[0].save().unwrap();
    drop(emu);

    let again = crate::common::start(vec![options()]).await;
    again.tenants()[0].with_zitadel(|z| {
        assert_eq!(
            z.orgs.values().map(|o| o.name.as_str()).collect::<Vec<_>>(),
            ["acme"]
        );
        assert_eq!(
            z.users
                .values()
                .map(|u| u.username.as_str())
                .collect::<Vec<_>>(),
            ["ada"]
        );
        let token = z.sms.values().find_map(|p| match &p.kind {
            idferry_emulator::zitadel::SmsKind::Twilio { token, .. } => Some(token.clone()),
            idferry_emulator::zitadel::SmsKind::Http { .. } => None,
        });
        assert_eq!(token.as_deref(), Some("kept-token"));
    });
}

#[tokio::test]
async fn a_pipeline_backs_up_a_zitadel_instance_and_restores_it_into_another() {
    let (emu, dir, config) = prod_and_staging().await;
    let prod = Client::new(config.tenant("zitadel-prod").unwrap(), Default::default()).unwrap();
    prod.post("/management/v1/orgs", &json!({"name": "acme"}))
        .await
        .unwrap();
    let id = sms::add_twilio(&prod, &twilio(3), "prod-token")
        .await
        .unwrap();
    sms::activate(&prod, &id).await.unwrap();
    std::fs::write(
        dir.path().join("refresh.toml"),
        r#"name = "zitadel-refresh"
[source]
tenant = "zitadel-prod"
[[sink]]
type = "snapshot"
dir = "snapshots"
[[sink]]
type = "restore"
to = "zitadel-staging"
values = "values.toml"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("values.toml"),
        "[sms_providers.\"twilio 3\"]\ntwilio = { token = { env = \"TWILIO_TOKEN\" } }\n",
    )
    .unwrap();
    let (code, out, err) = crate::common::run_idferry_env(
        &["run", "refresh.toml", "--run-dir", "runs/z"],
        dir.path(),
        &[("TWILIO_TOKEN", "staging-token")],
    )
    .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let snapshots = idferry_archive::prune::snapshot_files(&dir.path().join("snapshots")).unwrap();
    assert_eq!(snapshots.len(), 1);
    let staging = &emu.tenants()[1];
    assert_eq!(staging.with_zitadel(|z| z.orgs.len()), 1);
    let (token, active, _) = twilio_of(staging, "twilio 3");
    assert_eq!((token.as_str(), active), ("staging-token", true));
    // A values file naming a variable that is not set fails the stage, saying which.
    let (code, _, err) = crate::common::run_idferry(
        &["run", "refresh.toml", "--run-dir", "runs/again"],
        dir.path(),
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains("TWILIO_TOKEN"), "{err}");
}
