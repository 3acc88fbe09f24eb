//! ZITADEL's kinds, as data: what idferry reads and writes on an instance, one row per
//! kind (the Auth0 catalog's counterpart, in ZITADEL's own shape: a kind is listed by a
//! `_search` endpoint, read as one settings object, or read once per language or flow
//! type; objects are matched by a natural key; a kind lives in the instance, in each
//! organization, or in each project of each organization; and each row says how it is
//! written, which of its fields are write-only, which each instance sets for itself,
//! and how an object is deleted).

/// Where objects of a kind live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The instance (admin API). Snapshot records are the objects as listed.
    Instance,
    /// Each organization (management API, `x-zitadel-orgid`). Snapshot records are
    /// `{"parent": {"org": NAME}, "record": OBJECT}`.
    Org,
    /// Each project of each organization. Snapshot records are `{"parent": {"org":
    /// NAME, "project": NAME}, "record": OBJECT}`.
    Project,
}

/// How a kind is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    /// A `_search` endpoint (POST, `query` paging); `{project}` stands for the
    /// project's id. v2 lists (`/v2/...`) are instance-wide: an organization's are asked
    /// for with an `organizationIdQuery`.
    Search(&'static str),
    /// One settings object: `GET path` answers `{"policy": {...}}`.
    Settings(&'static str),
    /// One object per value (a language, a flow type): `GET path` with `{value}`
    /// replaced answers `{field: {...}}`; objects still as the instance ships them
    /// (`isDefault`, or nothing set) are left out.
    Each {
        /// The endpoint, with `{value}`.
        path: &'static str,
        /// The values asked for.
        values: &'static [&'static str],
        /// The answer's field holding the object.
        field: &'static str,
    },
}

/// How a kind is written on restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// By code of its own in [`crate::restore`] (write-only secrets, activation, one
    /// endpoint per type).
    Custom,
    /// Settings: `PUT put` with `fields`, then `POST then` when given (a label policy
    /// is changed as a preview, then activated).
    Settings {
        /// The update endpoint.
        put: &'static str,
        /// An endpoint posted after the update.
        then: Option<&'static str>,
        /// The fields sent.
        fields: &'static [&'static str],
    },
    /// Texts per language: `PUT` to the read path (`{value}`: the record's language)
    /// with the record less `language`, `details` and `isDefault`.
    Texts,
    /// Objects: `POST create` with `fields`, `PUT update` (`{id}`: the target's id).
    Objects {
        /// The create endpoint.
        create: &'static str,
        /// The update endpoint.
        update: &'static str,
        /// The fields sent.
        fields: &'static [&'static str],
    },
}

/// The languages ZITADEL ships texts for.
pub const LANGUAGES: &[&str] = &[
    "bg", "cs", "de", "en", "es", "fr", "hu", "id", "it", "ja", "ko", "mk", "nl", "pl", "pt", "ro",
    "ru", "sv", "tr", "uk", "zh",
];

/// A field the API takes but never returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOnly {
    /// Its dot path in a request (and in the values file, under the object's name).
    pub field: &'static str,
    /// When it is needed: only for objects where this JSON pointer holds something
    /// (not null, not empty); always when `None`.
    pub needed_when: Option<&'static str>,
    /// The environment variable the values-file line idferry suggests reads it from.
    pub env: &'static str,
}

impl WriteOnly {
    /// Whether `record` needs it.
    pub fn needed_by(&self, record: &serde_json::Value) -> bool {
        self.needed_when
            .is_none_or(|pointer| match record.pointer(pointer) {
                None | Some(serde_json::Value::Null) => false,
                Some(serde_json::Value::String(s)) => !s.is_empty(),
                Some(_) => true,
            })
    }

    /// The values-file line that supplies it for object `name` of `kind`:
    /// `[sms_providers."x"] twilio = { token = { env = "TWILIO_TOKEN" } }`.
    pub fn values_line(&self, kind: &str, name: &str) -> String {
        let mut parts = self.field.rsplit('.');
        let last = parts.next().unwrap_or(self.field);
        let mut value = format!("{last} = {{ env = \"{}\" }}", self.env);
        for part in parts {
            value = format!("{part} = {{ {value} }}");
        }
        format!("[{kind}.\"{name}\"] {value}")
    }
}

/// Compare every field (less ids, `details` and `server_set`) to decide an update.
pub const ALL_FIELDS: &[&str] = &["*"];

/// One kind of object of a ZITADEL instance.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The kind's name (its member in a snapshot is `config/<name>.ndjson`).
    pub name: &'static str,
    /// How it is read.
    pub read: Read,
    /// How it is written.
    pub write: Write,
    /// Where its objects live.
    pub scope: Scope,
    /// The fields (dot paths) that name an object across instances (within its parent;
    /// joined by `@`); none for settings, which are one object.
    pub key: &'static [&'static str],
    /// Fields compared to decide an update (JSON pointers into the object), or
    /// [`ALL_FIELDS`].
    pub compared: &'static [&'static str],
    /// Fields the API takes but never returns (asked for on restore, from the values
    /// file).
    pub write_only: &'static [WriteOnly],
    /// Whether one object of the kind at a time is the active one (its `state` ends in
    /// `_ACTIVE`), made so by an `_activate` call.
    pub activation: bool,
    /// Fields each instance sets for itself (dot paths; besides `id` and `details`),
    /// left out when two instances' snapshots are compared.
    pub server_set: &'static [&'static str],
    /// `DELETE` endpoint of an object (`--allow-delete`), in the organization of its
    /// parent: `{id}` is its id (`userId` for users and members), `{user}` its user's,
    /// `{project}` its project's, `{key}` and `{language}` those fields; none for
    /// settings.
    pub delete: Option<&'static str>,
    /// What it is.
    pub doc: &'static str,
}

impl Kind {
    /// The name of `record` (an object of this kind) within its parent.
    pub fn name_of(&self, record: &serde_json::Value) -> String {
        if self.key.is_empty() {
            return "(settings)".to_owned();
        }
        self.key
            .iter()
            .map(|f| {
                let pointer = format!("/{}", f.replace('.', "/"));
                match record.pointer(&pointer) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(serde_json::Value::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                }
            })
            .collect::<Vec<_>>()
            .join("@")
    }

    /// The `_search` endpoint, for listed kinds.
    pub fn search(&self) -> Option<&'static str> {
        match self.read {
            Read::Search(path) => Some(path),
            Read::Settings(_) | Read::Each { .. } => None,
        }
    }
}

const LOGIN_POLICY: &[&str] = &[
    "allowUsernamePassword",
    "allowRegister",
    "allowExternalIdp",
    "forceMfa",
    "forceMfaLocalOnly",
    "passwordlessType",
    "hidePasswordReset",
    "ignoreUnknownUsernames",
    "defaultRedirectUri",
    "passwordCheckLifetime",
    "externalLoginCheckLifetime",
    "mfaInitSkipLifetime",
    "secondFactorCheckLifetime",
    "multiFactorCheckLifetime",
    "allowDomainDiscovery",
    "disableLoginWithEmail",
    "disableLoginWithPhone",
];

const PASSWORD_COMPLEXITY_POLICY: &[&str] = &[
    "minLength",
    "hasUppercase",
    "hasLowercase",
    "hasNumber",
    "hasSymbol",
];

const LOCKOUT_POLICY: &[&str] = &["maxPasswordAttempts", "maxOtpAttempts"];

const PRIVACY_POLICY: &[&str] = &[
    "tosLink",
    "privacyLink",
    "helpLink",
    "supportEmail",
    "docsLink",
    "customLink",
    "customLinkText",
];

const LABEL_POLICY: &[&str] = &[
    "primaryColor",
    "backgroundColor",
    "warnColor",
    "fontColor",
    "primaryColorDark",
    "backgroundColorDark",
    "warnColorDark",
    "fontColorDark",
    "hideLoginNameSuffix",
    "disableWatermark",
    "themeMode",
];

const fn settings(
    name: &'static str,
    path: &'static str,
    put: &'static str,
    then: Option<&'static str>,
    fields: &'static [&'static str],
    doc: &'static str,
) -> Kind {
    Kind {
        name,
        read: Read::Settings(path),
        write: Write::Settings { put, then, fields },
        scope: Scope::Instance,
        key: &[],
        compared: ALL_FIELDS,
        write_only: &[],
        activation: false,
        // Whether the instance still has the built-in values: true on a fresh instance.
        server_set: &["isDefault"],
        delete: None,
        doc,
    }
}

/// A kind of custom texts, one object per language changed from what ZITADEL ships.
const fn texts(
    name: &'static str,
    path: &'static str,
    delete: &'static str,
    doc: &'static str,
) -> Kind {
    Kind {
        name,
        read: Read::Each {
            path,
            values: LANGUAGES,
            field: "customText",
        },
        write: Write::Texts,
        scope: Scope::Instance,
        key: &["language"],
        compared: ALL_FIELDS,
        write_only: &[],
        activation: false,
        server_set: &["isDefault"],
        delete: Some(delete),
        doc,
    }
}

/// The instance's organizations, listed by the v2 organization service (the admin
/// API's `/admin/v1/orgs/_search` is deprecated in v4).
pub const ORG_SEARCH: &str = "/v2/organizations/_search";

/// Creates an organization (`{name}`, answers `organizationId`).
pub const ORG_ADD: &str = "/v2/organizations";

/// Every kind idferry handles on ZITADEL, in dependency order.
pub const CATALOG: &[Kind] = &[
    settings(
        "login_policy",
        "/admin/v1/policies/login",
        "/admin/v1/policies/login",
        None,
        LOGIN_POLICY,
        "the instance's default login policy (how users may log in, MFA, lifetimes)",
    ),
    settings(
        "password_complexity_policy",
        "/admin/v1/policies/password/complexity",
        "/admin/v1/policies/password/complexity",
        None,
        PASSWORD_COMPLEXITY_POLICY,
        "the instance's default password complexity",
    ),
    settings(
        "lockout_policy",
        "/admin/v1/policies/lockout",
        // Read and written at different paths (GetLockoutPolicy, UpdateLockoutPolicy).
        "/admin/v1/policies/password/lockout",
        None,
        LOCKOUT_POLICY,
        "the instance's default lockout after failed attempts",
    ),
    settings(
        "privacy_policy",
        "/admin/v1/policies/privacy",
        "/admin/v1/policies/privacy",
        None,
        PRIVACY_POLICY,
        "the instance's default legal and support links",
    ),
    settings(
        "label_policy",
        "/admin/v1/policies/label",
        "/admin/v1/policies/label",
        Some("/admin/v1/policies/label/_activate"),
        LABEL_POLICY,
        "the instance's default branding (colours, theme); written as a preview, then activated",
    ),
    texts(
        "login_texts",
        "/admin/v1/text/login/{value}",
        "/admin/v1/text/login/{language}",
        "the instance's custom login texts, per language (languages left as shipped are not kept)",
    ),
    texts(
        "init_message_texts",
        "/admin/v1/text/message/init/{value}",
        "/admin/v1/text/message/init/{language}",
        "the email a new user gets to initialize the account, per language",
    ),
    texts(
        "password_reset_message_texts",
        "/admin/v1/text/message/passwordreset/{value}",
        "/admin/v1/text/message/passwordreset/{language}",
        "the password reset email, per language",
    ),
    texts(
        "verify_email_message_texts",
        "/admin/v1/text/message/verifyemail/{value}",
        "/admin/v1/text/message/verifyemail/{language}",
        "the email verification email, per language",
    ),
    texts(
        "verify_phone_message_texts",
        "/admin/v1/text/message/verifyphone/{value}",
        "/admin/v1/text/message/verifyphone/{language}",
        "the phone verification SMS, per language",
    ),
    texts(
        "password_change_message_texts",
        "/admin/v1/text/message/password_change/{value}",
        "/admin/v1/text/message/password_change/{language}",
        "the password-changed notification, per language",
    ),
    Kind {
        name: "organizations",
        read: Read::Search(ORG_SEARCH),
        write: Write::Custom,
        scope: Scope::Instance,
        key: &["name"],
        compared: &[],
        write_only: &[],
        activation: false,
        // Derived from the name and the instance's own domain.
        server_set: &["primaryDomain", "state"],
        delete: Some("/management/v1/orgs/me"),
        doc: "organizations of the instance",
    },
    Kind {
        name: "identity_providers",
        read: Read::Search("/admin/v1/idps/templates/_search"),
        write: Write::Custom,
        scope: Scope::Instance,
        key: &["name"],
        compared: ALL_FIELDS,
        write_only: &[WriteOnly {
            field: "clientSecret",
            needed_when: None,
            env: "IDP_CLIENT_SECRET",
        }],
        activation: false,
        server_set: &["state", "owner"],
        delete: Some("/admin/v1/idps/{id}"),
        doc: "the instance's identity providers (OIDC, Google, GitHub); the client secret is write-only",
    },
    Kind {
        name: "smtp_providers",
        read: Read::Search("/admin/v1/email/_search"),
        write: Write::Custom,
        scope: Scope::Instance,
        key: &["description"],
        compared: &[
            "/smtp/senderAddress",
            "/smtp/senderName",
            "/smtp/replyToAddress",
            "/smtp/tls",
            "/smtp/host",
            "/smtp/user",
        ],
        // An SMTP server without a user takes no password.
        write_only: &[WriteOnly {
            field: "password",
            needed_when: Some("/smtp/user"),
            env: "SMTP_PASSWORD",
        }],
        activation: true,
        server_set: &[],
        delete: Some("/admin/v1/email/{id}"),
        doc: "SMTP email providers and which one is active; the password is write-only",
    },
    Kind {
        name: "sms_providers",
        read: Read::Search("/admin/v1/sms/_search"),
        write: Write::Custom,
        scope: Scope::Instance,
        key: &["description"],
        compared: &[
            "/twilio/sid",
            "/twilio/senderNumber",
            "/twilio/verifyServiceSid",
            "/http/endpoint",
        ],
        write_only: &[WriteOnly {
            field: "twilio.token",
            needed_when: Some("/twilio"),
            env: "TWILIO_TOKEN",
        }],
        activation: true,
        server_set: &[],
        delete: Some("/admin/v1/sms/{id}"),
        doc: "SMS providers (Twilio or HTTP) and which one is active; Twilio's token is write-only",
    },
    Kind {
        name: "users",
        read: Read::Search("/v2/users"),
        write: Write::Custom,
        scope: Scope::Org,
        key: &["username"],
        compared: ALL_FIELDS,
        write_only: &[],
        activation: false,
        // Login names carry the organization's domain, which is each instance's own.
        server_set: &["loginNames", "preferredLoginName", "human.passwordChanged"],
        delete: Some("/v2/users/{id}"),
        doc: "users (human and machine) of each organization with their metadata; ZITADEL never \
              exports password hashes, so restored human users set a new password",
    },
    Kind {
        name: "actions",
        read: Read::Search("/management/v1/actions/_search"),
        write: Write::Objects {
            create: "/management/v1/actions",
            update: "/management/v1/actions/{id}",
            fields: &["name", "script", "timeout", "allowedToFail"],
        },
        scope: Scope::Org,
        key: &["name"],
        compared: ALL_FIELDS,
        write_only: &[],
        activation: false,
        server_set: &["state"],
        delete: Some("/management/v1/actions/{id}"),
        doc: "actions (JavaScript run on login and other flows) of each organization",
    },
    Kind {
        name: "action_flows",
        read: Read::Each {
            path: "/management/v1/flows/{value}",
            values: &["1", "2", "3", "4"],
            field: "flow",
        },
        write: Write::Custom,
        scope: Scope::Org,
        key: &["type.name.key"],
        compared: ALL_FIELDS,
        write_only: &[],
        activation: false,
        // Actions are named by name across instances; their ids are each instance's.
        server_set: &[
            "state",
            "triggerActions[].actions[].id",
            "triggerActions[].actions[].details",
        ],
        delete: None,
        doc: "which actions each organization runs at which trigger of its flows (external and internal authentication, token, SAML response)",
    },
    Kind {
        name: "projects",
        read: Read::Search("/management/v1/projects/_search"),
        write: Write::Custom,
        scope: Scope::Org,
        key: &["name"],
        compared: &[],
        write_only: &[],
        activation: false,
        server_set: &[],
        delete: Some("/management/v1/projects/{id}"),
        doc: "projects of each organization",
    },
    Kind {
        name: "project_roles",
        read: Read::Search("/management/v1/projects/{project}/roles/_search"),
        write: Write::Custom,
        scope: Scope::Project,
        key: &["key"],
        compared: &["/displayName", "/group"],
        write_only: &[],
        activation: false,
        server_set: &[],
        delete: Some("/management/v1/projects/{project}/roles/{key}"),
        doc: "roles of each project",
    },
    Kind {
        name: "user_grants",
        read: Read::Search("/management/v1/users/grants/_search"),
        write: Write::Custom,
        scope: Scope::Org,
        key: &["userName", "projectName"],
        compared: ALL_FIELDS,
        write_only: &[],
        activation: false,
        server_set: &["userId", "projectId", "orgId", "state", "email"],
        delete: Some("/management/v1/users/{user}/grants/{id}"),
        doc: "roles of projects given to users, in each organization",
    },
    Kind {
        name: "org_members",
        read: Read::Search("/management/v1/orgs/me/members/_search"),
        write: Write::Custom,
        scope: Scope::Org,
        key: &["preferredLoginName"],
        compared: ALL_FIELDS,
        write_only: &[],
        activation: false,
        server_set: &["userId", "email", "userType"],
        delete: Some("/management/v1/orgs/me/members/{id}"),
        doc: "members of each organization with their member roles",
    },
    Kind {
        name: "applications",
        read: Read::Search("/management/v1/projects/{project}/apps/_search"),
        write: Write::Custom,
        scope: Scope::Project,
        key: &["name"],
        compared: ALL_FIELDS,
        write_only: &[],
        activation: false,
        // Each instance issues its own client ids (and secrets, never listed).
        server_set: &[
            "state",
            "oidcConfig.clientId",
            "oidcConfig.noneCompliant",
            "oidcConfig.complianceProblems",
            "apiConfig.clientId",
        ],
        delete: Some("/management/v1/projects/{project}/apps/{id}"),
        doc: "applications (OIDC, API, SAML) of each project; client ids and secrets are the target's own",
    },
];

/// Fields every object has that its instance sets: its id and its `details` block.
pub const ALWAYS_SERVER_SET: &[&str] = &["id", "userId", "details"];

/// The settings of an SMTP email provider (its `smtp` block; the password aside).
pub const SMTP_SETTINGS: &[&str] = &[
    "senderAddress",
    "senderName",
    "tls",
    "host",
    "user",
    "replyToAddress",
];

/// A record of `kind` as an older idferry wrote it into a snapshot, in today's shape:
/// SMTP providers were read from the deprecated `/admin/v1/smtp/_search` (settings at
/// the top, `SMTP_CONFIG_*` states) and are now email providers (settings in `smtp`).
pub fn upgrade(kind: &Kind, record: &mut serde_json::Value) {
    if kind.name != "smtp_providers" || record.get("smtp").is_some() {
        return;
    }
    let Some(map) = record.as_object_mut() else {
        return;
    };
    let mut smtp = serde_json::Map::new();
    for field in SMTP_SETTINGS {
        if let Some(v) = map.remove(*field) {
            smtp.insert((*field).into(), v);
        }
    }
    if let Some(state) = map.get_mut("state")
        && let Some(s) = state.as_str()
    {
        *state = serde_json::Value::String(s.replace("SMTP_CONFIG_", "EMAIL_PROVIDER_"));
    }
    map.insert("smtp".into(), serde_json::Value::Object(smtp));
}

/// The kind called `name`.
pub fn find(name: &str) -> Option<&'static Kind> {
    CATALOG.iter().find(|k| k.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    /// ZITADEL's API definitions (the protos' HTTP bindings), see `testdata/README.md`.
    fn spec() -> Value {
        serde_json::from_str(include_str!("../testdata/zitadel-api-subset.openapi.json"))
            .expect("the subset spec is JSON")
    }

    /// `/a/{id}/b` and `/a/{project_id}/b` are the same route.
    fn route(path: &str) -> String {
        let mut out = String::new();
        let mut in_param = false;
        for c in path.chars() {
            match c {
                '{' => {
                    in_param = true;
                    out.push_str("{}");
                }
                '}' => in_param = false,
                c if !in_param => out.push(c),
                _ => {}
            }
        }
        out
    }

    /// Whether the spec binds `method` on `path`.
    fn bound(spec: &Value, method: &str, path: &str) -> bool {
        let want = route(path);
        spec["paths"].as_object().is_some_and(|paths| {
            paths
                .iter()
                .any(|(p, ops)| route(p) == want && ops.get(method).is_some())
        })
    }

    /// Every call a catalog row makes: (method, path).
    fn calls(kind: &Kind) -> Vec<(&'static str, &'static str)> {
        let mut out = Vec::new();
        match kind.read {
            Read::Search(p) => out.push(("post", p)),
            Read::Settings(p) => out.push(("get", p)),
            Read::Each { path, .. } => out.push(("get", path)),
        }
        match kind.write {
            Write::Settings { put, then, .. } => {
                out.push(("put", put));
                if let Some(then) = then {
                    out.push(("post", then));
                }
            }
            Write::Texts => {
                if let Read::Each { path, .. } = kind.read {
                    out.push(("put", path));
                }
            }
            Write::Objects { create, update, .. } => {
                out.push(("post", create));
                out.push(("put", update));
            }
            Write::Custom => {}
        }
        if let Some(delete) = kind.delete {
            out.push(("delete", delete));
        }
        out
    }

    #[test]
    fn every_catalog_call_is_bound_by_zitadel() {
        let spec = spec();
        let unbound: Vec<String> = CATALOG
            .iter()
            .flat_map(|k| calls(k).into_iter().map(move |c| (k.name, c)))
            .filter(|(_, (method, path))| !bound(&spec, method, path))
            .map(|(kind, (method, path))| format!("{kind}: {} {path}", method.to_uppercase()))
            .collect();
        assert!(unbound.is_empty(), "not in ZITADEL's API: {unbound:#?}");
        // The check can fail: the path idferry once wrote the lockout policy to.
        assert!(!bound(&spec, "put", "/admin/v1/policies/lockout"));
        assert!(bound(&spec, "put", "/admin/v1/policies/password/lockout"));
    }

    /// Every API path written in this crate's code (string literals, `{..}` for what is
    /// filled in) is one the spec binds, with some method.
    #[test]
    fn every_path_in_the_client_is_bound_by_zitadel() {
        let sources = [
            include_str!("apply.rs"),
            include_str!("export.rs"),
            include_str!("list.rs"),
            include_str!("restore.rs"),
            include_str!("sms.rs"),
            include_str!("users.rs"),
            include_str!("catalog.rs"),
        ];
        let spec = spec();
        let routes: std::collections::HashSet<String> = spec["paths"]
            .as_object()
            .map(|p| p.keys().map(|k| route(k)).collect())
            .unwrap_or_default();
        let mut seen = 0;
        let mut unbound = Vec::new();
        for source in sources {
            let code = source.split("#[cfg(test)]").next().unwrap_or_default();
            for literal in code.split('"').skip(1).step_by(2) {
                let is_api = ["/admin/v1/", "/management/v1/", "/v2/"]
                    .iter()
                    .any(|p| literal.starts_with(p) && literal.len() > p.len());
                if !is_api {
                    continue;
                }
                seen += 1;
                // A path built in pieces: its known prefix must be a route's.
                let partial = literal.ends_with("/apps") || literal.ends_with("/{verb}");
                let r = route(literal);
                let ok = routes.contains(&r)
                    || (partial
                        && routes
                            .iter()
                            .any(|k| k.starts_with(&format!("{}/", r.trim_end_matches("/{}")))));
                if !ok {
                    unbound.push(literal.to_owned());
                }
            }
        }
        assert!(seen > 30, "only {seen} paths found: is the scan broken?");
        assert!(unbound.is_empty(), "not in ZITADEL's API: {unbound:#?}");
    }

    #[test]
    fn smtp_records_of_older_snapshots_take_the_email_provider_shape() {
        let kind = find("smtp_providers").unwrap();
        let mut old = json!({"id": "1", "description": "acme mail", "state": "SMTP_CONFIG_ACTIVE",
                             "senderAddress": "a@acme.test", "host": "smtp.acme.test:587", "user": "acme", "tls": true});
        upgrade(kind, &mut old);
        assert_eq!(
            old,
            json!({"id": "1", "description": "acme mail", "state": "EMAIL_PROVIDER_ACTIVE",
                   "smtp": {"senderAddress": "a@acme.test", "tls": true, "host": "smtp.acme.test:587", "user": "acme"}})
        );
        let again = old.clone();
        upgrade(kind, &mut old);
        assert_eq!(old, again, "today's shape is left alone");
    }

    #[test]
    fn write_only_fields_say_when_they_are_needed_and_how_to_give_them() {
        let twilio = find("sms_providers").unwrap().write_only[0];
        assert!(twilio.needed_by(&json!({"twilio": {"sid": "AC1"}})));
        assert!(!twilio.needed_by(&json!({"http": {"endpoint": "https://x"}})));
        assert_eq!(
            twilio.values_line("sms_providers", "twilio 7"),
            r#"[sms_providers."twilio 7"] twilio = { token = { env = "TWILIO_TOKEN" } }"#
        );
        let smtp = find("smtp_providers").unwrap().write_only[0];
        assert!(!smtp.needed_by(&json!({"smtp": {"user": ""}})));
        assert!(smtp.needed_by(&json!({"smtp": {"user": "acme"}})));
        assert!(find("identity_providers").unwrap().write_only[0].needed_by(&json!({})));
    }
}
