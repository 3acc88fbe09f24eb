//! A realistic tenant from a seed: connections, applications, APIs and grants, roles with
//! permissions, organizations with members and enabled connections, actions and
//! bindings, branding, email and phone providers, prompts, attack protection, every
//! other catalog kind, and users (about 1 KB each) with metadata, identities, bcrypt
//! hashes, roles and organization memberships.
//!
//! Configuration is created through the same handlers that serve the API, so that what
//! the generator makes is exactly what a client could have written.

use axum::http::Method as HttpMethod;
use idferry_auth0::{CATALOG, Shape};
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use crate::api::{self, Route};
use crate::clock;
use crate::ids;
use crate::paginate::Query;
use crate::store::{Store, UserRow};

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateSpec {
    /// Users.
    pub users: usize,
    /// Organizations (besides the configuration's own few).
    pub organizations: usize,
}

impl Default for GenerateSpec {
    fn default() -> Self {
        Self {
            users: 1000,
            organizations: 20,
        }
    }
}

/// The MFA factors every tenant has.
const FACTORS: &[&str] = &[
    "sms",
    "push-notification",
    "otp",
    "email",
    "duo",
    "webauthn-roaming",
    "webauthn-platform",
    "recovery-code",
];

/// What every tenant holds from birth: the MFA factors (disabled) and default settings.
pub fn platform_defaults(store: &mut Store) {
    let table = store.table("guardian_factors", "");
    for f in FACTORS {
        table.insert(
            (*f).to_owned(),
            json!({"name": f, "enabled": false, "trial_expired": false}),
        );
    }
    let tenant = store.tenant.clone();
    store.singletons.insert(
        ("tenant_settings", String::new()),
        json!({"friendly_name": tenant, "picture_url": "", "support_email": "", "session_lifetime": 168,
               "idle_session_lifetime": 72, "enabled_locales": ["en"], "flags": {"enable_client_connections": false}}),
    );
    store.singletons.insert(
        ("prompts", String::new()),
        json!({"universal_login_experience": "new", "identifier_first": false, "webauthn_platform_first_factor": false}),
    );
}

struct Maker<'s> {
    store: &'s mut Store,
    routes: Vec<Route>,
}

impl Maker<'_> {
    /// Sends `method path` with `body` through the API handlers; panics never: a
    /// failure is logged and yields Null, so a generator bug shows as a missing object.
    fn call(&mut self, method: HttpMethod, path: &str, body: Value) -> Value {
        let Some((route, params)) = api::resolve(&self.routes, &method, path) else {
            tracing::error!("generator: no route for {method} {path}");
            return Value::Null;
        };
        match api::handle(self.store, route, &params, &Query::new(), Some(body)) {
            Ok((_, body)) => body.unwrap_or(Value::Null),
            Err(e) => {
                tracing::error!("generator: {method} {path}: {}", e.message);
                Value::Null
            }
        }
    }

    fn post(&mut self, path: &str, body: Value) -> Value {
        self.call(HttpMethod::POST, path, body)
    }

    fn id(&mut self, path: &str, body: Value, field: &str) -> String {
        self.post(path, body)
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Ken",
    "Margaret",
    "Linus",
    "Radia",
    "Tim",
    "Frances",
    "John",
    "Katherine",
    "Dennis",
    "Hedy",
    "Guido",
    "Sophie",
    "Yukihiro",
    "Anita",
    "Leslie",
    "Niklaus",
    "Shafi",
    "Whitfield",
    "Camille",
    "Mateo",
    "Aisha",
    "Lukas",
    "Ingrid",
    "Kenji",
    "Priya",
    "Olumide",
    "Chen",
    "Fatima",
    "Diego",
    "Elena",
];
const LAST: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Thompson",
    "Hamilton",
    "Torvalds",
    "Perlman",
    "Berners-Lee",
    "Allen",
    "McCarthy",
    "Johnson",
    "Ritchie",
    "Lamarr",
    "Rossum",
    "Wilson",
    "Matsumoto",
    "Borg",
    "Lamport",
    "Wirth",
    "Goldwasser",
    "Diffie",
    "Martin",
    "Garcia",
    "Okafor",
    "Schmidt",
    "Nilsson",
    "Tanaka",
    "Sharma",
    "Adeyemi",
    "Wang",
    "Haddad",
    "Fernandez",
    "Popescu",
];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "mail.example.net",
    "corp.example.com",
    "example.io",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("Lyon", "69001", "FR"),
    ("Berlin", "10115", "DE"),
    ("Lisbon", "1100-148", "PT"),
    ("Austin", "73301", "US"),
    ("Osaka", "530-0001", "JP"),
    ("Toronto", "M5H 2N2", "CA"),
    ("Nairobi", "00100", "KE"),
    ("Pune", "411001", "IN"),
];
const STREETS: &[&str] = &[
    "Main St",
    "Rue de la Paix",
    "Hauptstrasse",
    "Avenida da Liberdade",
    "Market Rd",
];
const LANGS: &[&str] = &["en", "fr", "de", "pt", "ja", "es"];
const PLANS: &[&str] = &["free", "starter", "pro", "enterprise"];
const BCRYPT: &[u8] = b"./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Fills `store` with configuration of every catalog kind and `spec.users` users.
pub fn tenant(store: &mut Store, spec: &GenerateSpec) {
    platform_defaults(store);
    let tenant = store.tenant.clone();
    let mut m = Maker {
        store,
        routes: api::routes(),
    };
    let domain = format!("{tenant}.example.com");

    // Connections.
    let db = m.id(
        "/connections",
        json!({"name": "Username-Password-Authentication", "strategy": "auth0",
               "options": {"passwordPolicy": "good", "brute_force_protection": true, "requires_username": false,
                           "password_complexity_options": {"min_length": 10}, "import_mode": false}}),
        "id",
    );
    let google = m.id(
        "/connections",
        json!({"name": "google-oauth2", "strategy": "google-oauth2",
               "options": {"client_id": "123456789-abc.apps.googleusercontent.com", "client_secret": "GOCSPX-google-secret-1", "scope": ["email", "profile"]}}),
        "id",
    );
    let saml = m.id(
        "/connections",
        json!({"name": "acme-okta", "strategy": "samlp",
               "options": {"signInEndpoint": "https://acme.okta.example/app/sso/saml", "signingCert": "MIIDpDCCAoygAwIBAgIGAX...",
                           "signing_key": {"key": "-----BEGIN PRIVATE KEY-----\nMIIEvQ-saml-secret\n-----END PRIVATE KEY-----"}}}),
        "id",
    );
    let email = m.id(
        "/connections",
        json!({"name": "email", "strategy": "email", "options": {"email": {"from": format!("login@{domain}"), "syntax": "liquid"}}}),
        "id",
    );

    // APIs.
    let apis = [
        (
            "Orders API",
            format!("https://api.{domain}/orders"),
            &["read:orders", "write:orders", "delete:orders"][..],
        ),
        (
            "Billing API",
            format!("https://api.{domain}/billing"),
            &["read:invoices", "write:invoices"][..],
        ),
        (
            "Admin API",
            format!("https://admin.{domain}/"),
            &["read:tenants", "manage:tenants", "read:audit"][..],
        ),
    ];
    for (name, identifier, scopes) in &apis {
        let scopes: Vec<Value> = scopes
            .iter()
            .map(|s| json!({"value": s, "description": format!("{} {}", s.split(':').next().unwrap_or(s), name)}))
            .collect();
        m.post(
            "/resource-servers",
            json!({"name": name, "identifier": identifier, "scopes": scopes, "signing_alg": "RS256",
                   "token_lifetime": 86400, "allow_offline_access": true, "skip_consent_for_verifiable_first_party_clients": true}),
        );
    }

    // Applications.
    let app_url = format!("https://app.{domain}");
    let clients = [
        ("Acme Web", "regular_web"),
        ("Acme SPA", "spa"),
        ("Acme iOS", "native"),
        ("Acme Android", "native"),
        ("Billing Worker", "non_interactive"),
        ("Orders Sync", "non_interactive"),
        ("Support Console", "regular_web"),
        ("Partner Portal", "regular_web"),
    ];
    let mut client_ids = Vec::new();
    for (name, app_type) in clients {
        let slug = name.to_lowercase().replace(' ', "-");
        let id = m.id(
            "/clients",
            json!({"name": name, "app_type": app_type, "description": format!("{name} application"),
                   "callbacks": [format!("{app_url}/{slug}/callback"), format!("http://localhost:3000/{slug}/callback")],
                   "allowed_logout_urls": [format!("{app_url}/{slug}")],
                   "web_origins": [app_url.clone()], "allowed_origins": [app_url.clone()],
                   "grant_types": if app_type == "non_interactive" { json!(["client_credentials"]) } else { json!(["authorization_code", "refresh_token"]) },
                   "jwt_configuration": {"alg": "RS256", "lifetime_in_seconds": 36000},
                   "token_endpoint_auth_method": if app_type == "spa" || app_type == "native" { "none" } else { "client_secret_post" },
                   "organization_usage": "allow", "is_first_party": true, "oidc_conformant": true}),
            "client_id",
        );
        client_ids.push((name, app_type, id));
    }
    // The classic login page, customised: it lives on the tenant's global client.
    let global = m
        .store
        .table("clients", "")
        .values()
        .find(|c| c["global"] == true)
        .and_then(|c| c["client_id"].as_str().map(str::to_owned));
    if let Some(global) = global {
        m.call(
            HttpMethod::PATCH,
            &format!("/clients/{global}"),
            json!({"custom_login_page_on": true,
                   "custom_login_page": "<!DOCTYPE html><html><head><title>Acme sign in</title></head><body><div id=\"lock\"></div></body></html>"}),
        );
    }
    m.post(
        &format!("/clients/{}/credentials", client_ids[4].2),
        json!({"credential_type": "public_key", "name": "worker-signing-key",
               "pem": "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA1b2c3d4\n-----END PUBLIC KEY-----\n",
               "alg": "RS256"}),
    );
    let mut grant_ids = Vec::new();
    for (i, (_, app_type, id)) in client_ids.iter().enumerate() {
        if *app_type != "non_interactive" {
            continue;
        }
        for (_, identifier, scopes) in apis.iter().take(2 + i % 2) {
            let g = m.id(
                "/client-grants",
                json!({"client_id": id, "audience": identifier, "scope": scopes, "organization_usage": "allow", "allow_any_organization": false}),
                "id",
            );
            grant_ids.push(g);
        }
    }
    for con in [&db, &google, &email] {
        let changes: Vec<Value> = client_ids
            .iter()
            .filter(|(_, t, _)| *t != "non_interactive")
            .map(|(_, _, id)| json!({"client_id": id, "status": true}))
            .collect();
        m.call(
            HttpMethod::PATCH,
            &format!("/connections/{con}/clients"),
            Value::Array(changes),
        );
    }
    m.post(
        &format!("/connections/{saml}/scim-configuration"),
        json!({"user_id_attribute": "externalId", "mapping": [{"auth0": "email", "scim": "emails[primary eq true].value"}]}),
    );
    m.post(
        &format!("/connections/{saml}/directory-provisioning"),
        json!({"mapping": [{"auth0": "email", "idp": "mail"}, {"auth0": "name", "idp": "displayName"}], "synchronize_automatically": true}),
    );

    // Roles.
    let role_defs: [(&str, &[(usize, &str)]); 6] = [
        (
            "admin",
            &[
                (0, "read:orders"),
                (0, "write:orders"),
                (0, "delete:orders"),
                (2, "manage:tenants"),
            ],
        ),
        ("support", &[(0, "read:orders"), (1, "read:invoices")]),
        (
            "billing-manager",
            &[(1, "read:invoices"), (1, "write:invoices")],
        ),
        ("viewer", &[(0, "read:orders")]),
        ("editor", &[(0, "read:orders"), (0, "write:orders")]),
        ("auditor", &[(2, "read:audit"), (2, "read:tenants")]),
    ];
    let mut role_ids = Vec::new();
    for (name, perms) in role_defs {
        let id = m.id(
            "/roles",
            json!({"name": name, "description": format!("The {name} role")}),
            "id",
        );
        let permissions: Vec<Value> = perms
            .iter()
            .map(|(api, p)| json!({"resource_server_identifier": apis[*api].1, "permission_name": p}))
            .collect();
        m.post(
            &format!("/roles/{id}/permissions"),
            json!({ "permissions": permissions }),
        );
        role_ids.push(id);
    }

    // Extensibility.
    let module = m.id(
        "/actions/modules",
        json!({"name": "acme-helpers", "code": "module.exports = { tag: (u) => u.email.split('@')[1] };",
               "dependencies": [{"name": "lodash", "version": "4.17.21"}], "secrets": [{"name": "HELPER_KEY", "value": "helper-secret-1"}]}),
        "id",
    );
    // Version 1, published: what the actions below pin.
    m.post(&format!("/actions/modules/{module}/versions"), json!({}));
    let mut action_ids = Vec::new();
    for (name, trigger) in [
        ("add-roles-to-token", "post-login"),
        ("block-disposable-emails", "pre-user-registration"),
        ("notify-crm", "post-user-registration"),
        ("enrich-profile", "post-login"),
        ("exchange-legacy-token", "custom-token-exchange"),
    ] {
        let id = m.id(
            "/actions/actions",
            json!({"name": name, "supported_triggers": [{"id": trigger, "version": "v3"}], "runtime": "node22",
                   "code": format!("exports.onExecute = async (event, api) => {{ /* {name} */ }};"),
                   "dependencies": [{"name": "axios", "version": "1.7.2"}],
                   "secrets": [{"name": "API_KEY", "value": format!("{name}-secret")}],
                   "modules": [{"module_id": module, "module_version_number": 1}]}),
            "id",
        );
        // Deployed, as every bound action is.
        m.post(&format!("/actions/actions/{id}/deploy"), json!({}));
        action_ids.push(id);
    }
    // Someone is editing one: its draft differs from the version deployed.
    m.call(
        HttpMethod::PATCH,
        &format!("/actions/actions/{}", action_ids[4]),
        json!({"code": "exports.onExecute = async (event, api) => { /* exchange-legacy-token, v2 draft */ };"}),
    );
    m.call(
        HttpMethod::PATCH,
        "/actions/triggers/post-login/bindings",
        json!({"bindings": [{"ref": {"type": "action_id", "value": action_ids[0]}, "display_name": "add-roles-to-token"},
                            {"ref": {"type": "action_name", "value": "enrich-profile"}, "display_name": "enrich-profile"}]}),
    );
    m.call(
        HttpMethod::PATCH,
        "/actions/triggers/pre-user-registration/bindings",
        json!({"bindings": [{"ref": {"type": "action_id", "value": action_ids[1]}, "display_name": "block-disposable-emails"}]}),
    );
    let hook = m.id(
        "/hooks",
        json!({"name": "legacy-registration-hook", "script": "module.exports = function (user, context, cb) { cb(null, { user }); };",
               "triggerId": "pre-user-registration", "enabled": false, "dependencies": {}}),
        "id",
    );
    m.post(
        &format!("/hooks/{hook}/secrets"),
        json!({"SLACK_WEBHOOK": "https://hooks.slack.example/T000/B000/hook-secret"}),
    );
    for (i, name) in ["add-country", "deny-legacy-clients"].iter().enumerate() {
        m.post("/rules", json!({"name": name, "script": format!("function {}(user, context, cb) {{ cb(null, user, context); }}", name.replace('-', "_")), "order": i + 1, "enabled": i == 0}));
    }
    m.call(
        HttpMethod::PUT,
        "/rules-configs/CRM_API_KEY",
        json!({"value": "crm-rules-secret"}),
    );
    m.call(
        HttpMethod::PUT,
        "/rules-configs/GEO_ENDPOINT",
        json!({"value": "https://geo.example.com"}),
    );
    m.post(
        "/log-streams",
        json!({"name": "SIEM webhook", "type": "http", "sink": {"httpEndpoint": format!("https://siem.{domain}/ingest"), "httpContentType": "application/json", "httpContentFormat": "JSONLINES", "httpAuthorization": "Bearer siem-secret-token"}}),
    );
    m.post(
        "/log-streams",
        json!({"name": "Datadog", "type": "datadog", "sink": {"datadogRegion": "eu", "datadogApiKey": "dd-secret-api-key"}}),
    );
    m.post(
        "/event-streams",
        json!({"name": "user-events", "subscriptions": [{"event_type": "user.created"}, {"event_type": "user.deleted"}],
               "destination": {"type": "webhook", "configuration": {"webhook_endpoint": format!("https://events.{domain}/auth0"),
                               "webhook_authorization": {"method": "bearer", "token": "event-stream-secret"}}}, "status": "enabled"}),
    );
    // A flow naming its vault connection and a form naming the flow: references by id in
    // fields no catalog lists (a restore finds them by the ids themselves).
    let vault = m.id("/flows/vault/connections", json!({"name": "Slack alerts", "app_id": "SLACK", "setup": {"type": "WEBHOOK", "url": "https://hooks.slack.example/T000/B001/vault-secret"}}), "id");
    let flow = m.id("/flows", json!({"name": "Welcome flow", "actions": [{"id": "notify", "type": "SLACK", "action": "POST_MESSAGE", "params": {"connection_id": vault, "text": "A new user"}}]}), "id");
    m.post("/forms", json!({"name": "Progressive profile", "languages": {"primary": "en"}, "nodes": [
        {"id": "step1", "type": "STEP", "config": {"components": [{"id": "company", "type": "TEXT", "category": "FIELD"}]}, "coordinates": {"x": 0, "y": 0}},
        {"id": "flow1", "type": "FLOW", "config": {"flow_id": flow, "next_node": "$ending"}, "coordinates": {"x": 300, "y": 0}}]}));
    m.post("/network-acls", json!({"description": "Block scanners", "active": true, "priority": 1, "rule": {"action": {"block": true}, "match": {"ipv4_cidrs": ["198.51.100.0/24"]}, "scope": "authentication"}}));
    let uap = m.id(
        "/user-attribute-profiles",
        json!({"name": "Workforce attributes", "user_attributes": {"email": {"description": "Email", "label": "Email", "profile_required": true, "auth0_mapping": "email"}}}),
        "id",
    );
    let ssp = m.id("/self-service-profiles", json!({"name": "Enterprise SSO setup", "description": "For customer IT admins", "allowed_strategies": ["oidc", "samlp", "okta"], "user_attribute_profile_id": uap}), "id");
    m.call(
        HttpMethod::PUT,
        &format!("/self-service-profiles/{ssp}/custom-text/en/get-started"),
        json!({"introduction": "Connect your company's identity provider to Acme in a few steps."}),
    );
    m.post("/token-exchange-profiles", json!({"name": "Legacy token exchange", "subject_token_type": "urn:acme:legacy-token", "action_id": action_ids[4], "type": "custom_authentication"}));
    let cop = m.id("/connection-profiles", json!({"name": "Enterprise OIDC defaults", "enabled_features": ["scim"], "connection_config": {}}), "id");
    // An Okta integration network application's express configuration names the profiles
    // and the OIN client by id.
    if let [.., (_, _, oin), (_, _, portal)] = client_ids.as_slice() {
        m.call(
            HttpMethod::PATCH,
            &format!("/clients/{portal}"),
            json!({"express_configuration": {"initiate_login_uri_template": format!("{app_url}/partner-portal/login?org={{organization_name}}"),
                   "user_attribute_profile_id": uap, "connection_profile_id": cop, "enable_client": true, "enable_organization": false,
                   "okta_oin_client_id": oin, "admin_login_domain": format!("admin.{domain}")}}),
        );
    }
    m.post("/custom-domains", json!({"domain": format!("login.{domain}"), "type": "auth0_managed_certs", "tls_policy": "recommended"}));

    // Email, phone, branding, prompts.
    m.post(
        "/emails/provider",
        json!({"name": "sendgrid", "enabled": true, "default_from_address": format!("no-reply@{domain}"), "credentials": {"api_key": "SG.sendgrid-secret-key"}}),
    );
    for template in ["verify_email", "reset_email", "welcome_email"] {
        m.post(
            "/email-templates",
            json!({"template": template, "enabled": true, "syntax": "liquid", "from": format!("Acme <no-reply@{domain}>"),
                   "subject": format!("Acme: {}", template.replace('_', " ")), "body": format!("<html><body>{{{{ user.email }}}} {template} <a href=\"{app_url}/help\">help</a></body></html>"),
                   "resultUrl": format!("{app_url}/after-{template}"), "urlLifetimeInSeconds": 432000}),
        );
    }
    m.call(
        HttpMethod::PATCH,
        "/branding",
        json!({"colors": {"primary": "#0059d6", "page_background": "#f5f7fa"}, "logo_url": format!("{app_url}/logo.png"), "favicon_url": format!("{app_url}/favicon.ico")}),
    );
    m.post(
        "/branding/themes",
        json!({"displayName": "Acme theme", "borders": {"button_border_radius": 4, "button_border_weight": 1, "buttons_style": "rounded", "input_border_radius": 3, "input_border_weight": 1, "inputs_style": "rounded", "show_widget_shadow": true, "widget_border_weight": 0, "widget_corner_radius": 5},
               // Every field the API requires of a theme.
               "colors": {"primary_button": "#0059d6", "primary_button_label": "#ffffff", "body_text": "#1e212a", "widget_background": "#ffffff",
                          "error": "#d03c38", "header": "#1e212a", "icons": "#65676e", "input_background": "#ffffff", "input_border": "#c9cace",
                          "input_filled_text": "#000000", "input_labels_placeholders": "#65676e", "links_focused_components": "#0059d6",
                          "secondary_button_border": "#c9cace", "secondary_button_label": "#1e212a", "success": "#13a688", "widget_border": "#c9cace"},
               "fonts": {"font_url": "", "links_style": "normal", "reference_text_size": 16,
                         "body_text": {"bold": false, "size": 87.5}, "buttons_text": {"bold": false, "size": 100}, "input_labels": {"bold": false, "size": 100},
                         "links": {"bold": true, "size": 87.5}, "subtitle": {"bold": false, "size": 87.5}, "title": {"bold": false, "size": 150}},
               "page_background": {"background_color": "#f5f7fa", "background_image_url": "", "page_layout": "center"},
               "widget": {"header_text_alignment": "center", "logo_height": 52, "logo_position": "center", "logo_url": format!("{app_url}/logo.png"), "social_buttons_layout": "bottom"}}),
    );
    m.call(
        HttpMethod::PUT,
        "/branding/templates/universal-login",
        json!({"template": "<!DOCTYPE html><html><head>{%- auth0:head -%}</head><body>{%- auth0:widget -%}</body></html>"}),
    );
    m.post(
        "/branding/phone/providers",
        json!({"name": "twilio", "disabled": false, "configuration": {"sid": "AC0000000000000000000000000000000", "default_from": "+15555550100", "delivery_methods": ["text"]},
               "credentials": {"auth_token": "twilio-phone-secret"}}),
    );
    for kind in ["otp_verify", "otp_enroll"] {
        m.post(
            "/branding/phone/templates",
            json!({"type": kind, "disabled": false, "content": {"from": "+15555550100", "body": {"text": format!("Your Acme code is {{{{code}}}} ({kind})"), "voice": format!("Your Acme code is {{{{code}}}}")}}}),
        );
    }
    m.call(
        HttpMethod::PATCH,
        "/prompts",
        json!({"universal_login_experience": "new", "identifier_first": true}),
    );
    m.call(
        HttpMethod::PUT,
        "/prompts/login/custom-text/en",
        json!({"login": {"title": "Welcome to Acme", "description": "Log in to continue"}}),
    );
    m.call(
        HttpMethod::PUT,
        "/prompts/signup/custom-text/en",
        json!({"signup": {"title": "Join Acme"}}),
    );
    // The tenant enables French and German too: text in them, and for a prompt (MFA by
    // email) past the handful most tools carry.
    m.call(
        HttpMethod::PUT,
        "/prompts/login/custom-text/fr",
        json!({"login": {"title": "Bienvenue chez Acme", "description": "Connectez-vous pour continuer"}}),
    );
    m.call(
        HttpMethod::PUT,
        "/prompts/mfa-email/custom-text/de",
        json!({"mfa-email-challenge": {"title": "Bestätigen Sie Ihre Identität"}}),
    );
    m.call(
        HttpMethod::PUT,
        "/prompts/passkeys/partials",
        json!({"passkeys": {"form-content-start": "<p>Passkeys keep your Acme account safe</p>"}}),
    );
    m.call(HttpMethod::PUT, "/prompts/login/partials", json!({"login": {"form-content-start": "<div class=\"acme-notice\">Scheduled maintenance on Sunday</div>"}}));
    m.call(HttpMethod::PATCH, "/prompts/login-id/screen/login-id/rendering", json!({"rendering_mode": "advanced", "context_configuration": ["branding.settings"], "head_tags": [{"tag": "script", "attributes": {"src": format!("{app_url}/acul.js"), "defer": true}}]}));

    // Tenant-wide settings.
    m.call(
        HttpMethod::PATCH,
        "/tenants/settings",
        json!({"friendly_name": "Acme", "picture_url": format!("{app_url}/logo.png"), "support_email": format!("support@{domain}"), "support_url": format!("{app_url}/support"),
               "default_redirection_uri": format!("{app_url}/"), "allowed_logout_urls": [format!("{app_url}/")], "enabled_locales": ["en", "fr", "de"]}),
    );
    m.call(HttpMethod::PATCH, "/attack-protection/bot-detection", json!({"bot_detection_level": "medium", "challenge_password_policy": "when_risky", "allowlist": ["203.0.113.7"]}));
    m.call(HttpMethod::PATCH, "/attack-protection/breached-password-detection", json!({"enabled": true, "shields": ["block", "admin_notification"], "admin_notification_frequency": ["daily"], "method": "standard"}));
    m.call(HttpMethod::PATCH, "/attack-protection/brute-force-protection", json!({"enabled": true, "shields": ["block", "user_notification"], "mode": "count_per_identifier_and_ip", "max_attempts": 10}));
    m.call(HttpMethod::PATCH, "/attack-protection/captcha", json!({"active_provider_id": "recaptcha_v2", "recaptcha_v2": {"site_key": "6Lc-site-key", "secret": "recaptcha-secret"}}));
    m.call(HttpMethod::PATCH, "/attack-protection/suspicious-ip-throttling", json!({"enabled": true, "shields": ["block"], "stage": {"pre-login": {"max_attempts": 100, "rate": 864000}}}));
    m.call(
        HttpMethod::PATCH,
        "/risk-assessments/settings",
        json!({"enabled": true}),
    );
    m.call(
        HttpMethod::PATCH,
        "/risk-assessments/settings/new-device",
        json!({"remember_for": 30}),
    );
    m.call(
        HttpMethod::PATCH,
        "/supplemental-signals",
        json!({"akamai_enabled": false}),
    );
    for factor in ["otp", "email", "sms"] {
        m.call(
            HttpMethod::PUT,
            &format!("/guardian/factors/{factor}"),
            json!({"enabled": true}),
        );
    }
    m.call(
        HttpMethod::PUT,
        "/guardian/policies",
        json!(["confidence-score"]),
    );
    m.call(
        HttpMethod::PUT,
        "/guardian/factors/phone/message-types",
        json!({"message_types": ["sms"]}),
    );
    m.call(
        HttpMethod::PUT,
        "/guardian/factors/phone/selected-provider",
        json!({"provider": "twilio"}),
    );
    m.call(HttpMethod::PUT, "/guardian/factors/phone/templates", json!({"enrollment_message": "{{code}} is your Acme enrollment code", "verification_message": "{{code}} is your Acme code"}));
    m.call(HttpMethod::PUT, "/guardian/factors/phone/providers/twilio", json!({"from": "+15555550100", "messaging_service_sid": "MG000", "auth_token": "guardian-twilio-secret", "sid": "AC000"}));
    m.call(
        HttpMethod::PUT,
        "/guardian/factors/sms/selected-provider",
        json!({"provider": "twilio"}),
    );
    m.call(HttpMethod::PUT, "/guardian/factors/sms/templates", json!({"enrollment_message": "{{code}} enrollment", "verification_message": "{{code}} verification"}));
    m.call(HttpMethod::PUT, "/guardian/factors/sms/providers/twilio", json!({"from": "+15555550100", "messaging_service_sid": "MG001", "auth_token": "guardian-sms-secret", "sid": "AC001"}));
    m.call(
        HttpMethod::PUT,
        "/guardian/factors/push-notification/selected-provider",
        json!({"provider": "sns"}),
    );
    m.call(
        HttpMethod::PATCH,
        "/guardian/factors/push-notification/providers/apns",
        json!({"sandbox": false, "bundle_id": "com.acme.app", "p12": "apns-p12-secret"}),
    );
    m.call(HttpMethod::PATCH, "/guardian/factors/push-notification/providers/sns", json!({"aws_access_key_id": "AKIAEXAMPLE", "aws_secret_access_key": "sns-secret-key", "aws_region": "eu-west-1", "sns_apns_platform_application_arn": "arn:aws:sns:eu-west-1:1:app/APNS/acme", "sns_gcm_platform_application_arn": "arn:aws:sns:eu-west-1:1:app/GCM/acme"}));
    m.call(HttpMethod::PATCH, "/guardian/factors/duo/settings", json!({"ikey": "DIEXAMPLE", "skey": "duo-secret-key", "host": "api-example.duosecurity.com"}));

    // Organizations.
    let org_count = spec.organizations.max(1);
    let mut org_ids = Vec::with_capacity(org_count);
    for i in 0..org_count {
        let id = m.id(
            "/organizations",
            json!({"name": format!("customer-{i:04}"), "display_name": format!("Customer {i:04}"),
                   "branding": {"logo_url": format!("https://cdn.{domain}/orgs/{i}.png"), "colors": {"primary": "#0059d6", "page_background": "#ffffff"}},
                   "metadata": {"tier": PLANS[i % PLANS.len()], "region": CITIES[i % CITIES.len()].2}}),
            "id",
        );
        m.post(&format!("/organizations/{id}/enabled_connections"), json!({"connection_id": db, "assign_membership_on_login": false, "show_as_button": true}));
        if i % 3 == 0 {
            m.post(
                &format!("/organizations/{id}/enabled_connections"),
                json!({"connection_id": saml, "assign_membership_on_login": true}),
            );
        }
        if i < 5 {
            m.post(
                &format!("/organizations/{id}/discovery-domains"),
                json!({"domain": format!("customer-{i}.example.com"), "status": "pending"}),
            );
        }
        if let Some(grant) = grant_ids.first()
            && i < 3
        {
            m.post(
                &format!("/organizations/{id}/client-grants"),
                json!({"grant_id": grant}),
            );
        }
        org_ids.push(id);
    }

    let store = m.store;
    users(store, spec.users, &role_ids, &org_ids);
}

fn bcrypt_like(rng: &mut impl Rng) -> String {
    format!("$2b$10${}", ids::random_chars(rng, BCRYPT, 53))
}

/// Adds `count` users with roles and memberships.
fn users(store: &mut Store, count: usize, roles: &[String], orgs: &[String]) {
    let base = 1_600_000_000i64;
    for n in 0..count {
        let rng = &mut store.rng;
        let first = *FIRST.choose(rng).unwrap_or(&"Ada");
        let last = *LAST.choose(rng).unwrap_or(&"Lovelace");
        let social = rng.random_ratio(1, 10);
        // One in 25 logs in through the company's SAML connection (an enterprise user,
        // not social); chosen by position so that the draws stay those of before.
        let enterprise = !social && n % 25 == 12;
        let (conn, provider, local) = if social {
            (
                "google-oauth2",
                "google-oauth2",
                ids::random_chars(rng, b"0123456789", 21),
            )
        } else if enterprise {
            (
                "acme-okta",
                "samlp",
                format!("acme-okta|{}", ids::hex(rng, 24)),
            )
        } else {
            (
                "Username-Password-Authentication",
                "auth0",
                ids::hex(rng, 24),
            )
        };
        let user_id = format!("{provider}|{local}");
        let email = format!(
            "{}.{}.{n}@{}",
            first.to_lowercase(),
            last.to_lowercase(),
            DOMAINS.choose(rng).unwrap_or(&"example.com")
        );
        let created = base + rng.random_range(0..100_000_000);
        let updated = created + rng.random_range(0..10_000_000);
        let (city, postal, country) = *CITIES.choose(rng).unwrap_or(&CITIES[0]);
        let user = json!({
            "user_id": user_id,
            "email": email,
            "email_verified": rng.random_ratio(9, 10),
            "name": format!("{first} {last}"),
            "given_name": first,
            "family_name": last,
            "nickname": format!("{}.{}", first.to_lowercase(), last.to_lowercase()),
            "picture": format!("https://s.gravatar.com/avatar/{}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F{}{}.png",
                               ids::hex(rng, 32), &first[..1].to_lowercase(), &last[..1].to_lowercase()),
            "created_at": clock::iso_at(created),
            "updated_at": clock::iso_at(updated),
            "last_login": clock::iso_at(updated + rng.random_range(0..1_000_000)),
            "last_ip": format!("203.0.{}.{}", rng.random_range(0..255), rng.random_range(1..255)),
            "logins_count": rng.random_range(1..400),
            "blocked": rng.random_ratio(1, 200),
            "identities": [{"connection": conn, "provider": provider, "user_id": local, "isSocial": social}],
            "user_metadata": {
                "preferred_language": LANGS.choose(rng).unwrap_or(&"en"),
                "theme": if rng.random_bool(0.5) { "dark" } else { "light" },
                "newsletter": rng.random_bool(0.3),
                "phone": format!("+{} {} {}", rng.random_range(1..99), rng.random_range(100..999), rng.random_range(100_000..999_999)),
                "address": {"street": format!("{} {}", rng.random_range(1..300), STREETS.choose(rng).unwrap_or(&"Main St")),
                            "city": city, "postal_code": postal, "country": country},
            },
            "app_metadata": {
                "plan": PLANS.choose(rng).unwrap_or(&"free"),
                "customer_id": format!("cus_{}", ids::alnum(rng, 14)),
                "account_id": ids::uuid(rng),
                "feature_flags": {"beta": rng.random_bool(0.2), "new_checkout": rng.random_bool(0.5)},
                "signup_source": if social { "google" } else if enterprise { "saml" } else { "web" },
                "marketing_consent_at": clock::iso_at(created + rng.random_range(0..1_000)),
            },
        });
        if let Some(row) = UserRow::from_value(&user) {
            store.users.put(row);
        }
        if !social {
            // Drawn for enterprise users too (the draws stay those of before); only
            // database users have a password.
            let hash = bcrypt_like(&mut store.rng);
            if !enterprise {
                store
                    .credentials
                    .insert(user_id.clone(), json!({ "password_hash": hash }));
            }
        }
        let rng = &mut store.rng;
        let role_count = rng.random_range(0..3usize);
        let picked: Vec<String> = roles.choose_multiple(rng, role_count).cloned().collect();
        let org = if !orgs.is_empty() && rng.random_ratio(3, 5) {
            orgs.choose(rng).cloned()
        } else {
            None
        };
        let member_role = roles.choose(rng).cloned().filter(|_| n % 5 == 0);
        for role in picked {
            store.relation("user_roles").add(&user_id, &role);
        }
        if let Some(org) = org {
            store.relation("organization_members").add(&org, &user_id);
            if let Some(role) = member_role {
                store
                    .relation("organization_member_roles")
                    .add(&format!("{org}/{user_id}"), &role);
            }
        }
    }
    // Direct permissions (besides those of their roles) for one user in 25: a support
    // agent reading orders, every other one writing them too.
    let direct: Vec<String> = store
        .users
        .iter()
        .step_by(25)
        .map(|u| u.id.to_string())
        .collect();
    for (i, user) in direct.iter().enumerate() {
        let api = format!("https://api.{}.example.com/orders", store.tenant);
        for scope in ["read:orders", "write:orders"].iter().take(1 + i % 2) {
            store
                .relation("user_permissions")
                .add(user, &format!("{api}\u{1f}{scope}"));
        }
    }
}

/// The kinds a generated tenant leaves empty (should be none): a check for tests.
pub fn empty_kinds(store: &Store) -> Vec<&'static str> {
    let counts = store.counts();
    CATALOG
        .iter()
        .filter(|k| !matches!(k.shape, Shape::Links { inverse: true, .. }))
        .filter(|k| k.name != "action_triggers")
        .filter(|k| counts.get(k.name).copied().unwrap_or(0) == 0)
        .map(|k| k.name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_tenant_has_every_kind() {
        let mut store = Store::new("acme-prod", 42);
        tenant(
            &mut store,
            &GenerateSpec {
                users: 50,
                organizations: 4,
            },
        );
        assert_eq!(empty_kinds(&store), Vec::<&str>::new());
        assert_eq!(store.users.len(), 50);
    }

    #[test]
    fn generation_is_deterministic_and_users_are_about_a_kilobyte() {
        let make = || {
            let mut store = Store::new("t", 9);
            tenant(
                &mut store,
                &GenerateSpec {
                    users: 200,
                    organizations: 2,
                },
            );
            store
        };
        let (a, b) = (make(), make());
        let texts_a: Vec<_> = a.users.iter().map(|u| u.json.clone()).collect();
        let texts_b: Vec<_> = b.users.iter().map(|u| u.json.clone()).collect();
        assert_eq!(texts_a, texts_b);
        let mean = texts_a.iter().map(|t| t.len()).sum::<usize>() / texts_a.len();
        assert!((800..1300).contains(&mean), "mean user size {mean}");
    }
}
