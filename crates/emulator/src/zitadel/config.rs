//! More of a ZITADEL instance's configuration: the instance's default policies (login,
//! password complexity, lockout, privacy, label: one settings object each, the label
//! policy changed as a preview and then activated), login and message texts per
//! language, SMTP providers (the password write-only, one provider active), identity
//! providers (OIDC, Google, GitHub; the client secret write-only), each organization's
//! actions and flows, and each project's applications (OIDC, API, SAML; the instance
//! issues client ids and secrets).

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use indexmap::IndexMap;
use serde_json::{Map, Value, json};

use super::{Instance, error, invalid, listed, not_found, text};
use crate::clock::iso_now;

/// One settings object of the instance.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Settings {
    /// The values in effect.
    pub values: Value,
    /// A label policy's values waiting for activation.
    pub preview: Option<Value>,
    /// True until changed.
    pub is_default: bool,
    /// When it last changed.
    pub changed: String,
    /// Its last sequence.
    pub sequence: u64,
}

/// An SMTP provider.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Smtp {
    /// Its id.
    pub id: String,
    /// Its settings as listed (`senderAddress`, `host`, ...).
    pub settings: Value,
    /// Its password (never returned).
    pub password: String,
    /// Whether it is the active one.
    pub active: bool,
    /// When it was created.
    pub created: String,
    /// When it last changed.
    pub changed: String,
    /// Its last sequence.
    pub sequence: u64,
}

/// An organization's flow of one type: the actions of each trigger.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Flow {
    /// Trigger type -> action ids, in order.
    pub triggers: IndexMap<String, Vec<String>>,
    /// Its last sequence.
    pub sequence: u64,
    /// When it last changed.
    pub changed: String,
}

/// An action or an application: a named object with its fields.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Object {
    /// Its id.
    pub id: String,
    /// Its fields as listed (an application's type block included).
    pub fields: Value,
    /// An application's client secret (never returned after creation).
    pub secret: Option<String>,
    /// When it was created.
    pub created: String,
    /// When it last changed.
    pub changed: String,
    /// Its last sequence.
    pub sequence: u64,
}

/// Each default policy: its path under `/admin/v1/policies/` and built-in values (the
/// fields it takes, with their JSON types).
fn policy_defaults(name: &str) -> Option<Value> {
    Some(match name {
        "login" => json!({
            "allowUsernamePassword": true, "allowRegister": true, "allowExternalIdp": true,
            "forceMfa": false, "forceMfaLocalOnly": false,
            "passwordlessType": "PASSWORDLESS_TYPE_ALLOWED", "hidePasswordReset": false,
            "ignoreUnknownUsernames": false, "defaultRedirectUri": "",
            "passwordCheckLifetime": "864000s", "externalLoginCheckLifetime": "864000s",
            "mfaInitSkipLifetime": "2592000s", "secondFactorCheckLifetime": "64800s",
            "multiFactorCheckLifetime": "43200s", "allowDomainDiscovery": true,
            "disableLoginWithEmail": false, "disableLoginWithPhone": false,
        }),
        "password/complexity" => json!({
            "minLength": "8", "hasUppercase": true, "hasLowercase": true,
            "hasNumber": true, "hasSymbol": true,
        }),
        "lockout" => json!({"maxPasswordAttempts": "0", "maxOtpAttempts": "0"}),
        "privacy" => json!({
            "tosLink": "https://zitadel.com/docs/legal/terms-of-service",
            "privacyLink": "https://zitadel.com/docs/legal/policies/privacy-policy",
            "helpLink": "", "supportEmail": "", "docsLink": "https://zitadel.com/docs",
            "customLink": "", "customLinkText": "",
        }),
        "label" => json!({
            "primaryColor": "#5469d4", "backgroundColor": "#fafafa", "warnColor": "#cd3d56",
            "fontColor": "#000000", "primaryColorDark": "#2073c4",
            "backgroundColorDark": "#111827", "warnColorDark": "#ff3b5b",
            "fontColorDark": "#ffffff", "hideLoginNameSuffix": false,
            "disableWatermark": false, "themeMode": "THEME_MODE_AUTO",
        }),
        _ => return None,
    })
}

/// Fields an OIDC application takes.
const OIDC_FIELDS: &[&str] = &[
    "redirectUris",
    "responseTypes",
    "grantTypes",
    "appType",
    "authMethodType",
    "postLogoutRedirectUris",
    "devMode",
    "accessTokenType",
    "accessTokenRoleAssertion",
    "idTokenRoleAssertion",
    "idTokenUserinfoAssertion",
    "clockSkew",
    "additionalOrigins",
    "skipNativeAppSuccessPage",
    "backChannelLogoutUri",
    "loginVersion",
];

const SMTP_FIELDS: &[&str] = &[
    "senderAddress",
    "senderName",
    "tls",
    "host",
    "user",
    "replyToAddress",
    "description",
];

/// Whether a path is served here.
pub fn serves(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["admin", "v1", "policies", ..]
            | ["admin", "v1", "smtp", ..]
            | ["admin", "v1", "email", ..]
            | ["admin", "v1", "idps", ..]
            | ["admin", "v1", "text", "login", _]
            | ["admin", "v1", "text", "message", _, _]
            | ["management", "v1", "flows", ..]
            | ["management", "v1", "actions", ..]
            | ["management", "v1", "projects", _, "apps", ..]
    )
}

fn ok(v: Value) -> Response {
    (StatusCode::OK, axum::Json(v)).into_response()
}

/// `body` checked against `allowed` fields (ZITADEL refuses unknown ones), each of the
/// type its default has when `types` is given.
fn fields(
    body: &Value,
    allowed: &[&str],
    types: Option<&Value>,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for (k, v) in body.as_object().into_iter().flatten() {
        if !allowed.contains(&k.as_str()) {
            return Err(format!("unknown field {k:?}"));
        }
        let v = match (types.and_then(|t| t.get(k)), v) {
            // Unsigned integers (uint32/uint64) travel as strings in the JSON gateway;
            // numbers are accepted, but not negative or fractional ones.
            (Some(Value::String(d)), given) if d.parse::<u64>().is_ok() => {
                let n = match given {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                        s.parse().ok()
                    }
                    _ => None,
                };
                match n {
                    Some(n) if n <= u64::from(u32::MAX) => Value::String(n.to_string()),
                    _ => return Err(format!("field {k:?}: not an unsigned integer")),
                }
            }
            // An enum given by its number stays a number (as protojson shows unknown ones).
            (Some(Value::String(_)), Value::Number(n)) => Value::Number(n.clone()),
            (Some(want), got) if std::mem::discriminant(want) != std::mem::discriminant(got) => {
                return Err(format!("field {k:?}: wrong type"));
            }
            (_, v) => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Ok(out)
}

impl Instance {
    fn details_at(&self, sequence: u64, created: &str, changed: &str, owner: &str) -> Value {
        json!({"sequence": sequence.to_string(), "creationDate": created, "changeDate": changed, "resourceOwner": owner})
    }

    fn policy(&mut self, method: &Method, name: &str, body: &Value) -> Response {
        let (name, preview) = match name.strip_suffix("/_preview") {
            Some(n) => (n, true),
            None => (name, false),
        };
        let (name, activate) = match name.strip_suffix("/_activate") {
            Some(n) => (n, true),
            None => (name, false),
        };
        // The lockout policy is read at `lockout` and written at `password/lockout`
        // (AdminService GetLockoutPolicy / UpdateLockoutPolicy); neither path serves
        // the other's method.
        let name = match (method.as_str(), name) {
            ("PUT", "lockout") | ("GET", "password/lockout") => {
                return error(StatusCode::NOT_FOUND, 5, "Not Found");
            }
            ("PUT", "password/lockout") => "lockout",
            _ => name,
        };
        let Some(defaults) = policy_defaults(name) else {
            return error(StatusCode::NOT_FOUND, 5, "Not Found");
        };
        let id = self.id.clone();
        let entry = self
            .settings
            .entry(name.to_owned())
            .or_insert_with(|| Settings {
                values: defaults.clone(),
                preview: None,
                is_default: true,
                changed: iso_now(),
                sequence: 0,
            });
        let label = name == "label";
        match (method.as_str(), preview, activate) {
            ("GET", _, false) => {
                let mut policy = match (preview, &entry.preview) {
                    (true, Some(p)) => p.clone(),
                    _ => entry.values.clone(),
                };
                policy["details"] = json!({"sequence": entry.sequence.to_string(), "changeDate": entry.changed, "resourceOwner": id});
                policy["isDefault"] = json!(entry.is_default);
                ok(json!({ "policy": policy }))
            }
            ("PUT", false, false) => {
                let allowed: Vec<&str> = defaults
                    .as_object()
                    .map(|m| m.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                let given = match fields(body, &allowed, Some(&defaults)) {
                    Ok(f) => f,
                    Err(m) => return invalid(&m),
                };
                let mut values = if label {
                    entry.preview.clone().unwrap_or(entry.values.clone())
                } else {
                    entry.values.clone()
                };
                for (k, v) in given {
                    values[k] = v;
                }
                if label {
                    entry.preview = Some(values);
                } else {
                    entry.values = values;
                    entry.is_default = false;
                }
                // The instance's next sequence (touch() would borrow it whole).
                self.sequence += 1;
                let (sequence, now) = (self.sequence, iso_now());
                entry.sequence = sequence;
                entry.changed = now.clone();
                ok(
                    json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": id}}),
                )
            }
            ("POST", false, true) if label => {
                if let Some(p) = entry.preview.take() {
                    entry.values = p;
                    entry.is_default = false;
                }
                let (sequence, now) = self.touch();
                ok(
                    json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": id}}),
                )
            }
            _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
        }
    }

    /// An SMTP provider as the deprecated SMTP calls show it (flat), or as an email
    /// provider (`email`: its settings in an `smtp` block).
    fn smtp_json(&self, p: &Smtp, email: bool) -> Value {
        let details = self.details_at(p.sequence, &p.created, &p.changed, &self.id);
        if email {
            let mut settings = p.settings.clone();
            let description = settings
                .as_object_mut()
                .and_then(|s| s.remove("description"))
                .unwrap_or(json!(""));
            let state = if p.active {
                "EMAIL_PROVIDER_ACTIVE"
            } else {
                "EMAIL_PROVIDER_INACTIVE"
            };
            return json!({"details": details, "id": p.id, "state": state,
                          "description": description, "smtp": settings});
        }
        let mut v = p.settings.clone();
        v["id"] = json!(p.id);
        v["details"] = details;
        v["state"] = json!(if p.active {
            "SMTP_CONFIG_ACTIVE"
        } else {
            "SMTP_CONFIG_INACTIVE"
        });
        v
    }

    /// The SMTP calls (`/admin/v1/smtp...`, deprecated in v4) and the email-provider
    /// calls that replace them (`email`: `/admin/v1/email...`, `rest` without `smtp`).
    fn smtp(&mut self, method: &Method, rest: &[&str], body: &Value, email: bool) -> Response {
        match (method.as_str(), rest) {
            ("POST", ["_search"]) => listed(self.smtp.values(), self.sequence, body, |p| {
                self.smtp_json(p, email)
            }),
            ("POST", []) => {
                let mut all = SMTP_FIELDS.to_vec();
                all.push("password");
                let mut given = match fields(body, &all, None) {
                    Ok(f) => f,
                    Err(m) => return invalid(&m),
                };
                for required in ["senderAddress", "senderName", "host"] {
                    if given
                        .get(required)
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                    {
                        return invalid(&format!("{required} is required (SMTP-4n8fs)"));
                    }
                }
                let password = given
                    .remove("password")
                    .and_then(|p| p.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let (sequence, now) = self.touch();
                let id = format!("{}", 340_000_000_000_000_000u64 + sequence);
                self.smtp.insert(
                    id.clone(),
                    Smtp {
                        id: id.clone(),
                        settings: Value::Object(given),
                        password,
                        active: false,
                        created: now.clone(),
                        changed: now.clone(),
                        sequence,
                    },
                );
                ok(json!({"id": id, "details": self.details_at(sequence, &now, &now, &self.id)}))
            }
            ("GET", [id]) => match self.smtp.get(*id) {
                Some(p) if email => ok(json!({"config": self.smtp_json(p, true)})),
                Some(p) => ok(json!({"smtpConfig": self.smtp_json(p, false)})),
                None => not_found("Errors.SMTPConfig.NotFound"),
            },
            ("PUT", [id]) => {
                let mut all = SMTP_FIELDS.to_vec();
                all.push("password");
                let mut given = match fields(body, &all, None) {
                    Ok(f) => f,
                    Err(m) => return invalid(&m),
                };
                let (sequence, now) = self.touch();
                let Some(p) = self.smtp.get_mut(*id) else {
                    return not_found("Errors.SMTPConfig.NotFound");
                };
                // Newer versions take an optional password here; empty keeps it.
                if let Some(pw) = given
                    .remove("password")
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .filter(|v| !v.is_empty())
                {
                    p.password = pw;
                }
                p.settings = Value::Object(given);
                p.changed = now.clone();
                p.sequence = sequence;
                let created = p.created.clone();
                ok(json!({"details": self.details_at(sequence, &created, &now, &self.id)}))
            }
            ("PUT", [id, "password"]) => {
                let password = text(body, "password");
                if password.is_empty() {
                    return invalid("password is required");
                }
                let (sequence, now) = self.touch();
                let Some(p) = self.smtp.get_mut(*id) else {
                    return not_found("Errors.SMTPConfig.NotFound");
                };
                p.password = password;
                p.changed = now.clone();
                p.sequence = sequence;
                let created = p.created.clone();
                ok(json!({"details": self.details_at(sequence, &created, &now, &self.id)}))
            }
            ("POST", [id, action @ ("_activate" | "_deactivate")]) => {
                let (sequence, now) = self.touch();
                let activate = *action == "_activate";
                if !super::set_active(&mut self.smtp, id, activate, sequence, &now) {
                    return not_found("Errors.SMTPConfig.NotFound");
                }
                ok(json!({"details": self.details_at(sequence, &now, &now, &self.id)}))
            }
            ("DELETE", [id]) => {
                let (sequence, now) = self.touch();
                match self.smtp.shift_remove(*id) {
                    Some(p) => ok(
                        json!({"details": self.details_at(sequence, &p.created, &now, &self.id)}),
                    ),
                    None => not_found("Errors.SMTPConfig.NotFound"),
                }
            }
            _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
        }
    }
}

/// Languages the instance has texts for.
const LANGUAGES: &[&str] = &[
    "bg", "cs", "de", "en", "es", "fr", "hu", "id", "it", "ja", "ko", "mk", "nl", "pl", "pt", "ro",
    "ru", "sv", "tr", "uk", "zh",
];

/// The texts the instance ships for `kind` (`login`, or `message/<type>`): a few
/// sections of the login texts, the fields of a message.
fn shipped_texts(kind: &str) -> Option<Value> {
    let message = |subject: &str, text: &str, button: &str| {
        json!({"title": subject, "preHeader": subject, "subject": subject,
               "greeting": "Hello {{.DisplayName}},", "text": text, "buttonText": button, "footerText": ""})
    };
    Some(match kind {
        "login" => json!({
            "loginText": {"title": "Welcome back!", "description": "Enter your login data.", "loginNameLabel": "Loginname", "nextButtonText": "next"},
            "passwordText": {"title": "Password", "description": "Enter your password.", "passwordLabel": "Password", "nextButtonText": "next"},
            "footerText": {"tos": "Terms of Service", "privacyPolicy": "Privacy Policy", "help": "Help"},
        }),
        "message/init" => message(
            "Initialize User",
            "This user was created. Use the code {{.Code}} to initialize it.",
            "Finish initialization",
        ),
        "message/passwordreset" => message(
            "Reset password",
            "We received a password reset request. Use the code {{.Code}}.",
            "Reset password",
        ),
        "message/verifyemail" => message(
            "Verify email",
            "A new email has been added. Use the code {{.Code}}.",
            "Verify email",
        ),
        "message/verifyphone" => message(
            "Verify phone",
            "A new phone number has been added. Use the code {{.Code}}.",
            "",
        ),
        "message/password_change" => message(
            "Password of user has changed",
            "The password of your user has changed.",
            "Login",
        ),
        _ => return None,
    })
}

/// A flow type: its id, key and name, and the trigger types it takes (id, key).
struct FlowType {
    id: &'static str,
    key: &'static str,
    name: &'static str,
    triggers: &'static [(&'static str, &'static str)],
}

/// The flow types of an organization.
const FLOWS: &[FlowType] = &[
    FlowType {
        id: "1",
        key: "FLOW_TYPE_EXTERNAL_AUTHENTICATION",
        name: "External Authentication",
        triggers: &[
            ("1", "TRIGGER_TYPE_POST_AUTHENTICATION"),
            ("2", "TRIGGER_TYPE_PRE_CREATION"),
            ("3", "TRIGGER_TYPE_POST_CREATION"),
        ],
    },
    FlowType {
        id: "2",
        key: "FLOW_TYPE_CUSTOMISE_TOKEN",
        name: "Complement Token",
        triggers: &[
            ("4", "TRIGGER_TYPE_PRE_USERINFO_CREATION"),
            ("5", "TRIGGER_TYPE_PRE_ACCESS_TOKEN_CREATION"),
        ],
    },
    FlowType {
        id: "3",
        key: "FLOW_TYPE_INTERNAL_AUTHENTICATION",
        name: "Internal Authentication",
        triggers: &[
            ("1", "TRIGGER_TYPE_POST_AUTHENTICATION"),
            ("2", "TRIGGER_TYPE_PRE_CREATION"),
            ("3", "TRIGGER_TYPE_POST_CREATION"),
        ],
    },
    FlowType {
        id: "4",
        key: "FLOW_TYPE_SAML_RESPONSE",
        name: "Complement SAMLResponse",
        triggers: &[("6", "TRIGGER_TYPE_PRE_SAML_RESPONSE_CREATION")],
    },
];

impl Instance {
    /// `/admin/v1/text/login/{language}` and `/admin/v1/text/message/{type}/{language}`:
    /// GET, PUT (login texts: sections of strings; messages: their fields), DELETE (back
    /// to the shipped texts).
    fn texts(&mut self, method: &Method, kind: &str, language: &str, body: &Value) -> Response {
        if !LANGUAGES.contains(&language) {
            return invalid(&format!("Errors.Language.NotSupported: {language}"));
        }
        let Some(shipped) = shipped_texts(kind) else {
            return error(StatusCode::NOT_FOUND, 5, "Not Found");
        };
        let key = format!("{kind}/{language}");
        let owner = self.id.clone();
        match method.as_str() {
            "GET" => {
                let mut text = match self.texts.get(&key) {
                    Some(t) => t.clone(),
                    None => {
                        let mut t = shipped;
                        t["details"] = json!({"sequence": "0", "resourceOwner": owner});
                        t
                    }
                };
                text["isDefault"] = json!(!self.texts.contains_key(&key));
                ok(json!({ "customText": text }))
            }
            "PUT" => {
                let Some(given) = body.as_object() else {
                    return invalid("a JSON object of texts is expected");
                };
                let mut text = self.texts.get(&key).cloned().unwrap_or(shipped);
                for (field, value) in given {
                    match (text.get(field.as_str()), value) {
                        // Login texts: sections of strings.
                        (Some(Value::Object(_)), Value::Object(values))
                            if values.values().all(Value::is_string) =>
                        {
                            for (k, v) in values {
                                text[field.as_str()][k.as_str()] = v.clone();
                            }
                        }
                        // Message texts: strings.
                        (Some(Value::String(_)), Value::String(_)) => {
                            text[field.as_str()] = value.clone();
                        }
                        _ => return invalid(&format!("unknown or mistyped text {field:?}")),
                    }
                }
                let (sequence, now) = self.touch();
                let details = json!({"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": owner});
                text["details"] = details.clone();
                self.texts.insert(key, text);
                ok(json!({ "details": details }))
            }
            "DELETE" => {
                self.texts.shift_remove(&key);
                let (sequence, now) = self.touch();
                ok(
                    json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": owner}}),
                )
            }
            _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
        }
    }
}

/// An organization's flows: `GET {type}`, `POST {type}/trigger/{trigger}` with
/// `actionIds` (empty: none), `POST {type}/_clear`.
fn flows(
    instance: &mut Instance,
    org: &str,
    method: &Method,
    rest: &[&str],
    body: &Value,
) -> Response {
    let (sequence, now) = stamp(instance, method, rest);
    let Some(o) = instance.orgs.get_mut(org) else {
        return not_found("organization");
    };
    let Some(&FlowType {
        id,
        key,
        name,
        triggers,
    }) = rest.first().and_then(|t| FLOWS.iter().find(|f| f.id == *t))
    else {
        return invalid("Errors.Flow.FlowTypeMissing");
    };
    let details =
        json!({"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": org});
    match (method.as_str(), &rest[1..]) {
        ("GET", []) => {
            let set = o.flows.get(id).cloned().unwrap_or_default();
            let details = json!({"sequence": set.sequence.to_string(), "changeDate": set.changed, "resourceOwner": org});
            let trigger_actions: Vec<Value> = triggers
                .iter()
                .filter_map(|(tid, tkey)| {
                    let actions: Vec<Value> = set
                        .triggers
                        .get(*tid)?
                        .iter()
                        .filter_map(|a| o.actions.get(a).map(|a| object_json(a, org)))
                        .collect();
                    Some(json!({"triggerType": {"id": tid, "name": {"key": tkey}}, "actions": actions}))
                })
                .collect();
            let state = if trigger_actions.is_empty() {
                "FLOW_STATE_INACTIVE"
            } else {
                "FLOW_STATE_ACTIVE"
            };
            ok(
                json!({"flow": {"type": {"id": id, "name": {"key": key, "localizedMessage": name}},
                               "details": details, "state": state, "triggerActions": trigger_actions}}),
            )
        }
        ("POST", ["trigger", trigger]) => {
            if !triggers.iter().any(|t| t.0 == *trigger) {
                return invalid("Errors.Flow.WrongTriggerType");
            }
            let ids: Vec<String> = body
                .get("actionIds")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            if let Some(missing) = ids.iter().find(|a| !o.actions.contains_key(*a)) {
                return not_found(&format!("Errors.Action.NotFound ({missing})"));
            }
            let flow = o.flows.entry((*id).to_owned()).or_default();
            if ids.is_empty() {
                flow.triggers.shift_remove(*trigger);
            } else {
                flow.triggers.insert((*trigger).to_owned(), ids);
            }
            flow.sequence = sequence;
            flow.changed = now;
            ok(json!({ "details": details }))
        }
        ("POST", ["_clear"]) => {
            o.flows.shift_remove(id);
            ok(json!({ "details": details }))
        }
        _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
    }
}

/// Identity provider types: the endpoint's name, the type, the config block and the
/// fields of that block.
const IDP_TYPES: &[(&str, &str, &str, &[&str])] = &[
    (
        "generic_oidc",
        "PROVIDER_TYPE_OIDC",
        "oidc",
        &[
            "issuer",
            "clientId",
            "scopes",
            "isIdTokenMapping",
            "usePkce",
        ],
    ),
    (
        "google",
        "PROVIDER_TYPE_GOOGLE",
        "google",
        &["clientId", "scopes"],
    ),
    (
        "github",
        "PROVIDER_TYPE_GITHUB",
        "github",
        &["clientId", "scopes"],
    ),
];

impl Instance {
    /// Identity providers of the instance (admin API): the client secret write-only.
    fn idps(&mut self, method: &Method, rest: &[&str], body: &Value) -> Response {
        let owner = self.id.clone();
        match (method.as_str(), rest) {
            ("POST", ["templates", "_search"]) => search(&self.idps, self.sequence, &owner, body),
            ("POST", [kind]) | ("PUT", [kind, _]) => {
                let Some((_, typ, block, block_fields)) = IDP_TYPES.iter().find(|t| t.0 == *kind)
                else {
                    return error(StatusCode::NOT_FOUND, 5, "Not Found");
                };
                let mut allowed = block_fields.to_vec();
                allowed.extend(["name", "clientSecret", "providerOptions"]);
                let mut given = match fields(body, &allowed, None) {
                    Ok(f) => f,
                    Err(m) => return invalid(&m),
                };
                let name = given
                    .remove("name")
                    .and_then(|n| n.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let secret = given
                    .remove("clientSecret")
                    .and_then(|n| n.as_str().map(str::to_owned))
                    .filter(|s| !s.is_empty());
                let options = given.remove("providerOptions").unwrap_or(json!({}));
                if name.is_empty()
                    || given
                        .get("clientId")
                        .and_then(Value::as_str)
                        .is_none_or(str::is_empty)
                {
                    return invalid("name and clientId are required (IDP-ae6f1)");
                }
                let (sequence, now) = self.touch();
                let updating = rest.get(1).map(|id| (*id).to_owned());
                if self
                    .idps
                    .values()
                    .any(|i| text(&i.fields, "name") == name && Some(&i.id) != updating.as_ref())
                {
                    return error(StatusCode::CONFLICT, 6, "Errors.IDPConfig.AlreadyExists");
                }
                let fields = json!({"state": "IDP_STATE_ACTIVE", "name": name, "owner": "IDP_OWNER_TYPE_SYSTEM", "type": typ,
                                    "config": {"options": options, *block: Value::Object(given)}});
                match updating {
                    Some(id) => {
                        let Some(idp) = self.idps.get_mut(&id) else {
                            return not_found("Errors.IDPConfig.NotExisting");
                        };
                        if text(&idp.fields, "type") != *typ {
                            return invalid("the provider is of another type");
                        }
                        idp.fields = fields;
                        // An empty secret keeps the current one.
                        if secret.is_some() {
                            idp.secret = secret;
                        }
                        idp.changed = now.clone();
                        idp.sequence = sequence;
                        ok(
                            json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": owner}}),
                        )
                    }
                    None => {
                        if secret.is_none() {
                            return invalid("clientSecret is required (IDP-Dbbf2)");
                        }
                        let id = format!("{}", 370_000_000_000_000_000u64 + sequence);
                        self.idps.insert(
                            id.clone(),
                            Object {
                                id: id.clone(),
                                fields,
                                secret,
                                created: now.clone(),
                                changed: now.clone(),
                                sequence,
                            },
                        );
                        ok(
                            json!({"id": id, "details": {"sequence": sequence.to_string(), "creationDate": now, "changeDate": now, "resourceOwner": owner}}),
                        )
                    }
                }
            }
            ("DELETE", [id]) => {
                let (sequence, now) = self.touch();
                match self.idps.shift_remove(*id) {
                    Some(_) => ok(
                        json!({"details": {"sequence": sequence.to_string(), "changeDate": now, "resourceOwner": owner}}),
                    ),
                    None => not_found("Errors.IDPConfig.NotExisting"),
                }
            }
            _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
        }
    }
}

fn object_json(o: &Object, owner: &str) -> Value {
    let mut v = o.fields.clone();
    v["id"] = json!(o.id);
    v["details"] = json!({"sequence": o.sequence.to_string(), "creationDate": o.created, "changeDate": o.changed, "resourceOwner": owner});
    v
}

fn search(
    objects: &IndexMap<String, Object>,
    sequence: u64,
    owner: &str,
    body: &Value,
) -> Response {
    listed(objects.values(), sequence, body, |o| object_json(o, owner))
}

/// Actions of the organization `org`.
/// The sequence and time of a write (reads leave the sequence as it is).
fn stamp(instance: &mut Instance, method: &Method, rest: &[&str]) -> (u64, String) {
    if rest.last() == Some(&"_search") || method == Method::GET {
        (instance.sequence, iso_now())
    } else {
        instance.touch()
    }
}

fn actions(
    instance: &mut Instance,
    org: &str,
    method: &Method,
    rest: &[&str],
    body: &Value,
) -> Response {
    let (sequence, now) = stamp(instance, method, rest);
    let Some(o) = instance.orgs.get_mut(org) else {
        return not_found("organization");
    };
    let allowed = ["name", "script", "timeout", "allowedToFail"];
    match (method.as_str(), rest) {
        ("POST", ["_search"]) => search(&o.actions, sequence, org, body),
        ("POST", []) | ("PUT", [_]) => {
            let mut given = match fields(body, &allowed, None) {
                Ok(f) => f,
                Err(m) => return invalid(&m),
            };
            let name = given
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            if name.is_empty()
                || given
                    .get("script")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            {
                return invalid("name and script are required (ACTION-dsf4w)");
            }
            given.entry("timeout").or_insert(json!("10s"));
            given.entry("allowedToFail").or_insert(json!(false));
            given.insert("state".into(), json!("ACTION_STATE_ACTIVE"));
            let id = match rest {
                [id] => (*id).to_owned(),
                _ => format!("{}", 350_000_000_000_000_000u64 + sequence),
            };
            if o.actions
                .values()
                .any(|a| a.id != id && text(&a.fields, "name") == name)
            {
                return error(
                    StatusCode::CONFLICT,
                    6,
                    "Errors.Action.AlreadyExists (COMMAND-dfs2g)",
                );
            }
            let created = match (rest, o.actions.get(&id)) {
                ([_], Some(a)) => a.created.clone(),
                ([_], None) => return not_found("Errors.Action.NotFound"),
                _ => now.clone(),
            };
            o.actions.insert(
                id.clone(),
                Object {
                    id: id.clone(),
                    fields: Value::Object(given),
                    secret: None,
                    created: created.clone(),
                    changed: now.clone(),
                    sequence,
                },
            );
            let details = json!({"sequence": sequence.to_string(), "creationDate": created, "changeDate": now, "resourceOwner": org});
            // CreateActionResponse carries the id; UpdateActionResponse only details.
            match rest {
                [] => ok(json!({"id": id, "details": details})),
                _ => ok(json!({ "details": details })),
            }
        }
        ("DELETE", [id]) => match o.actions.shift_remove(*id) {
            Some(_) => {
                // Flows stop running it.
                for flow in o.flows.values_mut() {
                    for actions in flow.triggers.values_mut() {
                        actions.retain(|a| a != id);
                    }
                    flow.triggers.retain(|_, actions| !actions.is_empty());
                }
                // DeleteActionResponse is an empty message.
                ok(json!({}))
            }
            None => not_found("Errors.Action.NotFound"),
        },
        _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
    }
}

/// Applications of project `project` of organization `org`.
fn apps(
    instance: &mut Instance,
    org: &str,
    project: &str,
    method: &Method,
    rest: &[&str],
    body: &Value,
) -> Response {
    let (sequence, now) = stamp(instance, method, rest);
    let Some(p) = instance
        .orgs
        .get_mut(org)
        .and_then(|o| o.projects.get_mut(project))
    else {
        return not_found("Errors.Project.NotFound");
    };
    let details = json!({"sequence": sequence.to_string(), "creationDate": now, "changeDate": now, "resourceOwner": org});
    match (method.as_str(), rest) {
        ("POST", ["_search"]) => search(&p.apps, sequence, org, body),
        ("POST", [kind @ ("oidc" | "api" | "saml")]) => {
            let allowed: Vec<&str> = match *kind {
                "oidc" => OIDC_FIELDS.iter().copied().chain(["name"]).collect(),
                "api" => vec!["name", "authMethodType"],
                _ => vec!["name", "metadataXml", "metadataUrl"],
            };
            let mut config = match fields(body, &allowed, None) {
                Ok(f) => f,
                Err(m) => return invalid(&m),
            };
            let name = config
                .remove("name")
                .and_then(|n| n.as_str().map(str::to_owned))
                .unwrap_or_default();
            if name.trim().is_empty() {
                return invalid("name is required (APP-0p9sq)");
            }
            if p.apps.values().any(|a| text(&a.fields, "name") == name) {
                return error(
                    StatusCode::CONFLICT,
                    6,
                    "Errors.Project.App.AlreadyExists (PROJECT-HvaF3)",
                );
            }
            let id = format!("{}", 360_000_000_000_000_000u64 + sequence);
            let client_id = format!("{id}@{}", p.name.to_lowercase().replace(' ', "-"));
            let secret = (*kind != "saml").then(|| format!("secret-{id}"));
            let (block, extra) = match *kind {
                "oidc" => (
                    "oidcConfig",
                    json!({"clientId": client_id, "noneCompliant": false, "complianceProblems": []}),
                ),
                "api" => ("apiConfig", json!({"clientId": client_id})),
                _ => ("samlConfig", json!({})),
            };
            let mut block_value = Value::Object(config);
            if let (Value::Object(b), Value::Object(e)) = (&mut block_value, extra) {
                b.extend(e);
            }
            let fields = json!({"state": "APP_STATE_ACTIVE", "name": name, block: block_value});
            p.apps.insert(
                id.clone(),
                Object {
                    id: id.clone(),
                    fields,
                    secret: secret.clone(),
                    created: now.clone(),
                    changed: now.clone(),
                    sequence,
                },
            );
            let mut answer = json!({"appId": id, "details": details});
            if *kind != "saml" {
                answer["clientId"] = json!(client_id);
                answer["clientSecret"] = json!(secret);
            }
            ok(answer)
        }
        ("PUT", [id, config @ ("oidc_config" | "api_config" | "saml_config")]) => {
            let Some(app) = p.apps.get_mut(*id) else {
                return not_found("Errors.Project.App.NotFound");
            };
            let (block, allowed): (&str, Vec<&str>) = match *config {
                "oidc_config" => ("oidcConfig", OIDC_FIELDS.to_vec()),
                "api_config" => ("apiConfig", vec!["authMethodType"]),
                _ => ("samlConfig", vec!["metadataXml", "metadataUrl"]),
            };
            if app.fields.get(block).is_none() {
                return invalid(&format!(
                    "the application is not of the type {config} configures"
                ));
            }
            let given = match fields(body, &allowed, None) {
                Ok(f) => f,
                Err(m) => return invalid(&m),
            };
            for (k, v) in given {
                app.fields[block][k] = v;
            }
            app.changed = now;
            app.sequence = sequence;
            ok(json!({"details": details}))
        }
        ("PUT", [id]) => {
            let Some(app) = p.apps.get_mut(*id) else {
                return not_found("Errors.Project.App.NotFound");
            };
            app.fields["name"] = json!(text(body, "name"));
            app.changed = now;
            app.sequence = sequence;
            ok(json!({"details": details}))
        }
        ("DELETE", [id]) => match p.apps.shift_remove(*id) {
            Some(_) => ok(json!({"details": details})),
            None => not_found("Errors.Project.App.NotFound"),
        },
        _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
    }
}

/// Answers a policies, SMTP, actions or applications request; `org` is the
/// organization of the `x-zitadel-orgid` header (management API).
pub fn route(
    instance: &mut Instance,
    org: Option<&str>,
    method: &Method,
    segments: &[&str],
    body: &Value,
) -> Response {
    match segments {
        ["admin", "v1", "policies", rest @ ..] => instance.policy(method, &rest.join("/"), body),
        ["admin", "v1", "smtp", rest @ ..] => instance.smtp(method, rest, body, false),
        ["admin", "v1", "email", rest @ ..] => {
            // The email-provider paths of the same calls: SMTP ones name their type.
            let rest: Vec<&str> = match rest {
                ["smtp", tail @ ..] if !tail.is_empty() || method == Method::POST => tail.to_vec(),
                ["smtp", ..] | ["http", ..] => {
                    return error(StatusCode::NOT_FOUND, 5, "Not Found");
                }
                _ if method == Method::PUT => return error(StatusCode::NOT_FOUND, 5, "Not Found"),
                other => other.to_vec(),
            };
            instance.smtp(method, &rest, body, true)
        }
        ["admin", "v1", "idps", rest @ ..] => instance.idps(method, rest, body),
        ["admin", "v1", "text", "login", language] => {
            instance.texts(method, "login", language, body)
        }
        ["admin", "v1", "text", "message", kind, language] => {
            instance.texts(method, &format!("message/{kind}"), language, body)
        }
        ["management", "v1", "flows", rest @ ..] => match org {
            Some(org) => flows(instance, org, method, rest, body),
            None => not_found("organization"),
        },
        ["management", "v1", "actions", rest @ ..] => match org {
            Some(org) => actions(instance, org, method, rest, body),
            None => not_found("organization"),
        },
        ["management", "v1", "projects", project, "apps", rest @ ..] => match org {
            Some(org) => apps(instance, org, project, method, rest, body),
            None => not_found("organization"),
        },
        _ => error(StatusCode::NOT_FOUND, 5, "Not Found"),
    }
}
