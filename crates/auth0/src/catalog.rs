//! The resource catalog: one row per kind of object an Auth0 tenant holds, saying how to
//! list, read, create, update and delete it, how to match it across tenants, which fields
//! the API owns or keeps secret, and what it refers to. Every other crate (client,
//! emulator, export, import) reads this table instead of growing a code path per kind, so
//! a new kind is a new row.
//!
//! Paths are written exactly as in the Management API v2 spec, without the `/api/v2`
//! prefix; a unit test checks each one against the spec's index. Placeholders (`{id}`,
//! `{client_id}`, ...) are filled in order: the ids of the parents first, then the
//! object's own id (or key).

/// An HTTP method used by the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// The method's name as HTTP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }
}

/// One operation of the Management API: a method and a path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    /// The method.
    pub method: Method,
    /// The path as the spec writes it, without `/api/v2` (e.g. `/clients/{id}`).
    pub path: &'static str,
}

impl Endpoint {
    /// Fills the path's placeholders, in order, with `ids` (parents first, then the
    /// object's own id). Values are percent-encoded as path segments.
    pub fn fill(&self, ids: &[&str]) -> String {
        let mut out = String::with_capacity(self.path.len() + 32);
        let mut ids = ids.iter();
        let mut rest = self.path;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let close = rest[open..].find('}').map_or(rest.len(), |c| open + c + 1);
            match ids.next() {
                Some(id) => push_segment(&mut out, id),
                None => out.push_str(&rest[open..close]),
            }
            rest = &rest[close..];
        }
        out.push_str(rest);
        out
    }

    /// The number of placeholders in the path.
    pub fn arity(&self) -> usize {
        self.path.matches('{').count()
    }
}

/// Appends `value` percent-encoded as one path segment.
fn push_segment(out: &mut String, value: &str) {
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

const fn ep(method: Method, path: &'static str) -> Option<Endpoint> {
    Some(Endpoint { method, path })
}

/// How a kind's list endpoint pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pagination {
    /// No list endpoint, or one that answers one object.
    None,
    /// A plain JSON array, all at once.
    Array,
    /// `{ key: [...] }`, all at once.
    Wrapped {
        /// The field holding the items.
        key: &'static str,
    },
    /// `page`/`per_page`/`include_totals`; with totals `{start, limit, total, key: [...]}`.
    Offset {
        /// The field holding the items when `include_totals=true`.
        key: &'static str,
    },
    /// Offset paging, or checkpoint paging (`from`/`take`, answered `{next, key: [...]}`),
    /// which goes past the 1000 results offset paging stops at.
    OffsetOrCheckpoint {
        /// The field holding the items.
        key: &'static str,
    },
    /// Checkpoint paging only: `from`/`take`, answered `{next, key: [...]}`.
    Checkpoint {
        /// The field holding the items.
        key: &'static str,
    },
    /// `page`/`per_page`, always answered `{total, page, per_page, key: [...]}` (actions).
    Paged {
        /// The field holding the items.
        key: &'static str,
    },
}

impl Pagination {
    /// The field of the answer that holds the items, for wrapped shapes.
    pub fn key(self) -> Option<&'static str> {
        match self {
            Self::None | Self::Array => None,
            Self::Wrapped { key }
            | Self::Offset { key }
            | Self::OffsetOrCheckpoint { key }
            | Self::Checkpoint { key }
            | Self::Paged { key } => Some(key),
        }
    }
}

/// What kind of thing a row describes, which decides how it is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Objects with their own ids: list, get, create, update, delete.
    Collection,
    /// One object per tenant (or per parent object): get and update.
    Singleton,
    /// A fixed set of named objects (email templates, prompt partials): get and write by
    /// name. A key with `/` fills several placeholders (`login/en`).
    Keyed {
        /// The names the API knows.
        keys: &'static [&'static str],
        /// Each name is read in every language the tenant enables (`login/fr`): prompt
        /// custom text.
        per_language: bool,
    },
    /// A membership list of a parent, added to and removed from with a body
    /// `{body_key: [...]}` (role permissions, organization members, user roles).
    Links {
        /// The field of the POST/DELETE body that holds the items.
        body_key: &'static str,
        /// The kind the items point at (`users`, `roles`, `resource_servers`...).
        target: &'static str,
        /// The relation stored underneath; two rows viewing it from both ends share it
        /// (`roles/{id}/users` and `users/{id}/roles`).
        relation: &'static str,
        /// True when the parent is the right-hand side of the relation.
        inverse: bool,
    },
    /// A list of a parent replaced (or patched) whole by one write (trigger bindings,
    /// a connection's enabled clients).
    Replace {
        /// The field of the write's body that holds the items, if the body is an object.
        body_key: Option<&'static str>,
    },
    /// A name -> value object of a parent (hook secrets); values are write-only.
    Map,
}

/// How the platform forms a kind's ids, so that the emulator answers in the same shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFormat {
    /// A prefix and random alphanumerics: `con_` + 16.
    Prefixed(&'static str, usize),
    /// Random alphanumerics only (client ids: 32).
    Alnum(usize),
    /// Random lowercase hex (resource servers: 24).
    Hex(usize),
    /// A random UUID (actions).
    Uuid,
    /// The id is a name the caller chooses (guardian factors, rules configs).
    Named,
}

/// How objects of a kind go live: an action is deployed, a module's draft published as
/// a version. The object holds a draft (its own fields) and, apart, the version that is
/// live; a restore makes live what was live in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoLive {
    /// The request that makes the object's draft live.
    pub endpoint: Endpoint,
    /// The read-only field saying whether all the draft's changes are live.
    pub live: &'static str,
    /// The read-only field holding the version that is live.
    pub version: &'static str,
    /// Fields of that version that are fields of the draft too. When the source had
    /// changes not yet live, a restore writes these from the live version, makes it
    /// live, then writes the draft over it: the target runs what the source ran.
    pub version_fields: &'static [&'static str],
}

/// A field of one kind that names an object of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// Dot path of the referring field; `[]` walks an array (`enabled_clients[]`).
    pub field: &'static str,
    /// The kind referred to.
    pub kind: &'static str,
    /// The field of the referred kind that the value holds (its id or natural key).
    pub by: &'static str,
}

const fn r(field: &'static str, kind: &'static str, by: &'static str) -> Reference {
    Reference { field, kind, by }
}

/// One row of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The kind's name, used in snapshots, flags and mapping specs (`clients`).
    pub name: &'static str,
    /// For a sub-resource, the kind of its parent (`roles` for `role_permissions`).
    pub parent: Option<&'static str>,
    /// What the row describes.
    pub shape: Shape,
    /// List (or, for singletons, read) endpoint.
    pub list: Option<Endpoint>,
    /// Read one object by id.
    pub get: Option<Endpoint>,
    /// Create (or add links).
    pub create: Option<Endpoint>,
    /// Update (PATCH merges, PUT replaces).
    pub update: Option<Endpoint>,
    /// Delete (or remove links).
    pub delete: Option<Endpoint>,
    /// How the list endpoint pages.
    pub pagination: Pagination,
    /// Offset paging stops after this many results (users, organizations: 1000).
    pub offset_cap: Option<usize>,
    /// The field holding the object's id.
    pub id_field: Option<&'static str>,
    /// How the platform forms the ids.
    pub id_format: IdFormat,
    /// Fields that match an object across tenants (a client's `name`).
    pub natural_key: &'static [&'static str],
    /// Fields a create must carry; the API answers 400 without them.
    pub required: &'static [&'static str],
    /// Fields the API sets and a write must not send (dot paths reach into objects).
    pub read_only: &'static [&'static str],
    /// Fields holding secrets: left out of unencrypted snapshots, never logged.
    pub secrets: &'static [&'static str],
    /// Secret fields the API accepts but never returns: a backup cannot hold them, so a
    /// restore must be given them.
    pub write_only: &'static [&'static str],
    /// Write-only fields that only one kind of object has, by (field, its sibling, the
    /// sibling's value): a restore asks for the field only where the sibling has that
    /// value (an event stream's webhook holds a token, a password or a header value,
    /// by its `method`).
    pub write_only_when: &'static [(&'static str, &'static str, &'static str)],
    /// Secret fields the platform makes up when a create leaves them out (a client's
    /// secret): restored from a snapshot without secrets, the object gets new ones.
    pub generated: &'static [&'static str],
    /// Fields a create does not take but an update does (a client's secret): a restore
    /// creates the object without them, then writes them with an update. Checked
    /// against the spec's create and update bodies by a test.
    pub after_create: &'static [&'static str],
    /// How a written object is made live (an action's deploy, a module's published
    /// version): a restore makes live what was live in the source.
    pub go_live: Option<GoLive>,
    /// Fields of the platform's own object (see `system`) that a restore still writes:
    /// the classic login page lives on the global client.
    pub system_fields: &'static [&'static str],
    /// Fields naming objects of other kinds.
    pub references: &'static [Reference],
    /// Kinds that are configuration (false: users and their memberships, or read-only).
    pub config: bool,
    /// Whether two objects may share a natural key (client names may repeat).
    pub unique_key: bool,
    /// The status a successful create answers (the spec's, which varies by kind).
    pub create_status: u16,
    /// A boolean field marking objects the platform owns (the Management API's resource
    /// server, the global client): a restore neither writes nor deletes them.
    pub system: Option<&'static str>,
    /// A field, the value it must have before the platform lets other objects point at
    /// an object of this kind (a custom domain verified before it is the default), and
    /// what a user does to get there. The platform sets it, so an object a restore
    /// creates is not yet in that state.
    pub ready_when: Option<(&'static str, &'static str, &'static str)>,
    /// A field a record must hold to be carried by a restore; a record without it is the
    /// tenant's own (a default domain that is the tenant's canonical domain, not one of
    /// its custom domains) and is neither written nor compared.
    pub carried_if: Option<&'static str>,
    /// How one item is written when the write differs from what a read answers: pairs
    /// of (field of the write, source), the source a dot path of the record read or a
    /// JSON literal after `=`. Empty: the record itself, less its read-only fields.
    pub write_form: &'static [(&'static str, &'static str)],
    /// Each object is read again by its `get` endpoint: its list leaves out fields a
    /// backup needs (an action module's latest published version).
    pub read_each: bool,
}

impl Kind {
    const DEFAULT: Kind = Kind {
        name: "",
        parent: None,
        shape: Shape::Collection,
        list: None,
        get: None,
        create: None,
        update: None,
        delete: None,
        pagination: Pagination::None,
        offset_cap: None,
        id_field: Some("id"),
        id_format: IdFormat::Named,
        natural_key: &["name"],
        required: &[],
        read_only: &["id", "created_at", "updated_at"],
        secrets: &[],
        write_only: &[],
        write_only_when: &[],
        generated: &[],
        after_create: &[],
        go_live: None,
        system_fields: &[],
        references: &[],
        config: true,
        unique_key: true,
        create_status: 201,
        system: None,
        ready_when: None,
        carried_if: None,
        write_form: &[],
        read_each: false,
    };

    /// Every endpoint of the row, for checks against the spec.
    pub fn endpoints(&self) -> impl Iterator<Item = Endpoint> {
        [
            self.list,
            self.get,
            self.create,
            self.update,
            self.delete,
            self.go_live.map(|g| g.endpoint),
        ]
        .into_iter()
        .flatten()
    }

    /// Whether a restore carries `record` (see `carried_if`): false for an object each
    /// tenant has its own of, which is neither planned nor compared across tenants.
    pub fn carries(&self, record: &serde_json::Value) -> bool {
        self.carried_if.is_none_or(|f| record.get(f).is_some())
    }

    /// True when the platform makes up the kind's ids (random, prefixed or UUIDs), so that a
    /// string equal to one, anywhere in a record, is a reference to that object.
    pub fn ids_are_made_up(&self) -> bool {
        self.id_field.is_some() && !matches!(self.id_format, IdFormat::Named)
    }

    /// The keys of a keyed kind in a tenant enabling `languages` (none for other kinds).
    pub fn keys(&self, languages: &[String]) -> Vec<String> {
        match self.shape {
            Shape::Keyed {
                keys,
                per_language: true,
            } => keys
                .iter()
                .flat_map(|k| languages.iter().map(move |l| format!("{k}/{l}")))
                .collect(),
            Shape::Keyed { keys, .. } => keys.iter().map(|k| (*k).to_owned()).collect(),
            _ => Vec::new(),
        }
    }

    /// Whether `key` names an object of this keyed kind (any language for per-language
    /// kinds).
    pub fn knows_key(&self, key: &str) -> bool {
        match self.shape {
            Shape::Keyed {
                keys,
                per_language: true,
            } => key
                .rsplit_once('/')
                .is_some_and(|(k, l)| keys.contains(&k) && !l.is_empty()),
            Shape::Keyed { keys, .. } => keys.contains(&key),
            _ => false,
        }
    }

    /// True when the kind has no list of its own and is one object (per tenant or parent).
    pub fn is_singleton(&self) -> bool {
        matches!(self.shape, Shape::Singleton)
    }

    /// How many placeholders name one object of this kind in its get/update/delete
    /// paths: its id, its key's parts (`login/en`), or, with no id field, its natural
    /// key's fields (a screen rendering is `{prompt}/{screen}`).
    pub fn own_arity(&self) -> usize {
        match self.shape {
            Shape::Keyed { keys, per_language } => {
                keys.first().map_or(1, |k| k.split('/').count()) + usize::from(per_language)
            }
            Shape::Collection if self.id_field.is_none() => self.natural_key.len(),
            Shape::Collection => 1,
            _ => 0,
        }
    }

    /// The number of parent ids its paths take.
    pub fn depth(&self) -> usize {
        let mut depth = 0;
        let mut parent = self.parent;
        while let Some(name) = parent {
            depth += 1;
            parent = find(name).and_then(|k| k.parent);
        }
        depth
    }
}

/// Looks a kind up by name.
pub fn find(name: &str) -> Option<&'static Kind> {
    CATALOG.iter().find(|k| k.name == name)
}

/// The kinds whose parent is `name`.
pub fn children(name: &str) -> impl Iterator<Item = &'static Kind> + '_ {
    CATALOG.iter().filter(move |k| k.parent == Some(name))
}

/// The kinds a kind's objects need to exist first: its parent, the kinds it refers to
/// and the kind its links point at.
fn needs(kind: &Kind) -> impl Iterator<Item = &'static str> + '_ {
    let target = match kind.shape {
        Shape::Links { target, .. } => Some(target),
        _ => None,
    };
    kind.parent
        .into_iter()
        .chain(kind.references.iter().map(|r| r.kind))
        .chain(target)
        .filter(move |k| *k != kind.name)
}

/// Every kind, dependencies first (a stable topological order of the catalog): the
/// order a restore writes in and names are resolved in. Deletes go the other way.
pub fn dependency_order() -> Vec<&'static Kind> {
    dependency_order_with(&[])
}

/// [`dependency_order`] with more needs, `(kind, needed kind)`: references a restore
/// found in the records themselves rather than in the catalog.
pub fn dependency_order_with(extra: &[(&str, &str)]) -> Vec<&'static Kind> {
    let mut placed: Vec<&'static Kind> = Vec::with_capacity(CATALOG.len());
    let mut left: Vec<&'static Kind> = CATALOG.iter().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|k| {
            needs(k)
                .map(|n| -> &str { n })
                .chain(
                    extra
                        .iter()
                        .filter(|(of, n)| *of == k.name && *n != k.name)
                        .map(|(_, n)| *n),
                )
                .all(|n| placed.iter().any(|p| p.name == n) || find(n).is_none())
        });
        // A cycle (the catalog test rules it out) would fall back to catalog order.
        let next = left.remove(ready.unwrap_or(0));
        placed.push(next);
    }
    placed
}

use IdFormat::{Alnum, Hex, Prefixed, Uuid};
use Method::{Delete, Get, Patch, Post, Put};
use Pagination::{Array, Checkpoint, Offset, OffsetOrCheckpoint, Paged, Wrapped};

/// A singleton read with GET and written with `write` at the same path.
const fn singleton(name: &'static str, path: &'static str, write: Method) -> Kind {
    Kind {
        name,
        shape: Shape::Singleton,
        list: ep(Get, path),
        update: ep(write, path),
        id_field: None,
        natural_key: &[],
        read_only: &[],
        ..Kind::DEFAULT
    }
}

const fn with_secrets(kind: Kind, secrets: &'static [&'static str]) -> Kind {
    Kind { secrets, ..kind }
}

const fn with_read_only(kind: Kind, read_only: &'static [&'static str]) -> Kind {
    Kind { read_only, ..kind }
}

/// Email templates the API knows by name.
pub const EMAIL_TEMPLATES: &[&str] = &[
    "verify_email",
    "verify_email_by_code",
    "reset_email",
    "reset_email_by_code",
    "welcome_email",
    "blocked_account",
    "stolen_credentials",
    "enrollment_email",
    "mfa_oob_code",
    "user_invitation",
    "async_approval",
];

/// Prompts whose partials can be customised.
pub const PARTIAL_PROMPTS: &[&str] = &[
    "login",
    "login-id",
    "login-password",
    "login-passwordless",
    "signup",
    "signup-id",
    "signup-password",
    "customized-consent",
    "passkeys",
];

/// Prompts whose text can be customised (the spec's enum of
/// `/prompts/{prompt}/custom-text/{language}`), each read in every enabled language.
pub const PROMPTS: &[&str] = &[
    "login",
    "login-id",
    "login-password",
    "login-passwordless",
    "login-email-verification",
    "signup",
    "signup-id",
    "signup-password",
    "phone-identifier-enrollment",
    "phone-identifier-challenge",
    "email-identifier-challenge",
    "reset-password",
    "custom-form",
    "consent",
    "customized-consent",
    "logout",
    "mfa-push",
    "mfa-otp",
    "mfa-voice",
    "mfa-phone",
    "mfa-webauthn",
    "mfa-sms",
    "mfa-email",
    "mfa-recovery-code",
    "mfa",
    "status",
    "device-flow",
    "email-verification",
    "email-otp-challenge",
    "organizations",
    "invitation",
    "common",
    "passkeys",
    "captcha",
    "brute-force-protection",
    "async-approval-flow",
];

/// Language/page pairs of a self-service profile's custom text (the API's only page).
pub const SELF_SERVICE_TEXT_KEYS: &[&str] = &["en/get-started"];

/// The catalog: every kind of an Auth0 tenant idferry reads and writes.
pub static CATALOG: &[Kind] = &[
    // --- tenant-wide settings ---------------------------------------------------------
    // The sandbox versions a tenant offers are the platform's to say.
    with_read_only(
        singleton("tenant_settings", "/tenants/settings", Patch),
        &["sandbox_versions_available"],
    ),
    singleton("bot_detection", "/attack-protection/bot-detection", Patch),
    singleton(
        "breached_password_detection",
        "/attack-protection/breached-password-detection",
        Patch,
    ),
    singleton(
        "brute_force_protection",
        "/attack-protection/brute-force-protection",
        Patch,
    ),
    with_secrets(
        singleton("captcha", "/attack-protection/captcha", Patch),
        &[
            "recaptcha_v2.secret",
            "recaptcha_enterprise.api_key",
            "hcaptcha.secret",
            "friendly_captcha.secret",
            "arkose.secret",
        ],
    ),
    singleton(
        "suspicious_ip_throttling",
        "/attack-protection/suspicious-ip-throttling",
        Patch,
    ),
    singleton(
        "risk_assessment_settings",
        "/risk-assessments/settings",
        Patch,
    ),
    singleton(
        "risk_assessment_new_device",
        "/risk-assessments/settings/new-device",
        Patch,
    ),
    singleton("supplemental_signals", "/supplemental-signals", Patch),
    singleton("branding", "/branding", Patch),
    Kind {
        delete: ep(Delete, "/branding/templates/universal-login"),
        // Read as `{body}` (GetUniversalLoginTemplate), written as `{template}`.
        write_form: &[("template", "body")],
        ..singleton(
            "universal_login_template",
            "/branding/templates/universal-login",
            Put,
        )
    },
    singleton("prompts", "/prompts", Patch),
    Kind {
        create: ep(Post, "/emails/provider"),
        delete: ep(Delete, "/emails/provider"),
        secrets: &["credentials"],
        write_only: &["credentials"],
        ..singleton("email_provider", "/emails/provider", Patch)
    },
    // --- guardian (MFA) ----------------------------------------------------------------
    Kind {
        name: "guardian_factors",
        list: ep(Get, "/guardian/factors"),
        update: ep(Put, "/guardian/factors/{name}"),
        pagination: Array,
        id_field: Some("name"),
        read_only: &["name", "trial_expired"],
        ..Kind::DEFAULT
    },
    singleton("guardian_policies", "/guardian/policies", Put),
    singleton(
        "guardian_phone_message_types",
        "/guardian/factors/phone/message-types",
        Put,
    ),
    singleton(
        "guardian_phone_selected_provider",
        "/guardian/factors/phone/selected-provider",
        Put,
    ),
    singleton(
        "guardian_phone_templates",
        "/guardian/factors/phone/templates",
        Put,
    ),
    with_secrets(
        singleton(
            "guardian_phone_twilio",
            "/guardian/factors/phone/providers/twilio",
            Put,
        ),
        &["auth_token"],
    ),
    singleton(
        "guardian_sms_selected_provider",
        "/guardian/factors/sms/selected-provider",
        Put,
    ),
    singleton(
        "guardian_sms_templates",
        "/guardian/factors/sms/templates",
        Put,
    ),
    with_secrets(
        singleton(
            "guardian_sms_twilio",
            "/guardian/factors/sms/providers/twilio",
            Put,
        ),
        &["auth_token"],
    ),
    singleton(
        "guardian_push_selected_provider",
        "/guardian/factors/push-notification/selected-provider",
        Put,
    ),
    // Whether APNs is on is read here and set through the push factor; its
    // certificate is never read back.
    Kind {
        write_only: &["p12"],
        ..with_secrets(
            with_read_only(
                singleton(
                    "guardian_push_apns",
                    "/guardian/factors/push-notification/providers/apns",
                    Patch,
                ),
                &["enabled"],
            ),
            &["p12"],
        )
    },
    with_secrets(
        singleton(
            "guardian_push_sns",
            "/guardian/factors/push-notification/providers/sns",
            Patch,
        ),
        &["aws_secret_access_key"],
    ),
    with_secrets(
        singleton(
            "guardian_duo_settings",
            "/guardian/factors/duo/settings",
            Patch,
        ),
        &["skey"],
    ),
    // --- APIs and applications ------------------------------------------------------
    Kind {
        name: "resource_servers",
        list: ep(Get, "/resource-servers"),
        get: ep(Get, "/resource-servers/{id}"),
        create: ep(Post, "/resource-servers"),
        update: ep(Patch, "/resource-servers/{id}"),
        delete: ep(Delete, "/resource-servers/{id}"),
        pagination: Offset {
            key: "resource_servers",
        },
        id_format: Hex(24),
        natural_key: &["identifier"],
        required: &["identifier"],
        read_only: &[
            "id",
            "is_system",
            "identifier_update",
            "client_id",
            "token_lifetime_for_web",
        ],
        secrets: &["signing_secret"],
        generated: &["signing_secret"],
        system: Some("is_system"),
        ..Kind::DEFAULT
    },
    Kind {
        name: "clients",
        list: ep(Get, "/clients"),
        get: ep(Get, "/clients/{id}"),
        create: ep(Post, "/clients"),
        update: ep(Patch, "/clients/{id}"),
        delete: ep(Delete, "/clients/{id}"),
        pagination: OffsetOrCheckpoint { key: "clients" },
        id_field: Some("client_id"),
        id_format: Alnum(32),
        required: &["name"],
        read_only: &[
            "client_id",
            "tenant",
            "global",
            "signing_keys",
            "callback_url_template",
            "owners",
            // Clients registered from a metadata document (CIMD): their registration's.
            "external_client_id",
            "external_metadata_type",
            "external_metadata_created_by",
            "jwks_uri",
        ],
        secrets: &[
            "client_secret",
            "addons.azure_blob.storageAccessKey",
            "addons.azure_sb.sasKey",
            "addons.firebase.secret",
            "addons.firebase.private_key",
            "addons.layer.privateKey",
            "addons.sap_api.servicePassword",
        ],
        generated: &["client_secret"],
        // The spec's create body has no client_secret; its update body does.
        after_create: &["client_secret"],
        unique_key: false,
        system: Some("global"),
        system_fields: &[
            "custom_login_page_on",
            "custom_login_page",
            "custom_login_page_preview",
        ],
        ..Kind::DEFAULT
    },
    Kind {
        name: "client_credentials",
        parent: Some("clients"),
        list: ep(Get, "/clients/{client_id}/credentials"),
        get: ep(Get, "/clients/{client_id}/credentials/{credential_id}"),
        create: ep(Post, "/clients/{client_id}/credentials"),
        update: ep(Patch, "/clients/{client_id}/credentials/{credential_id}"),
        delete: ep(Delete, "/clients/{client_id}/credentials/{credential_id}"),
        pagination: Array,
        id_format: Prefixed("cred_", 22),
        required: &["credential_type"],
        read_only: &["id", "kid", "thumbprint_sha256", "created_at", "updated_at"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "client_grants",
        list: ep(Get, "/client-grants"),
        get: ep(Get, "/client-grants/{id}"),
        create: ep(Post, "/client-grants"),
        update: ep(Patch, "/client-grants/{id}"),
        delete: ep(Delete, "/client-grants/{id}"),
        pagination: OffsetOrCheckpoint {
            key: "client_grants",
        },
        id_format: Prefixed("cgr_", 16),
        natural_key: &["client_id", "audience"],
        required: &["client_id", "audience"],
        read_only: &["id", "is_system"],
        references: &[
            r("client_id", "clients", "client_id"),
            r("audience", "resource_servers", "identifier"),
        ],
        system: Some("is_system"),
        ..Kind::DEFAULT
    },
    // --- connections ------------------------------------------------------------------
    Kind {
        name: "connections",
        list: ep(Get, "/connections"),
        get: ep(Get, "/connections/{id}"),
        create: ep(Post, "/connections"),
        update: ep(Patch, "/connections/{id}"),
        delete: ep(Delete, "/connections/{id}"),
        pagination: OffsetOrCheckpoint { key: "connections" },
        id_format: Prefixed("con_", 16),
        required: &["name", "strategy"],
        read_only: &["id", "strategy", "name", "provisioning_ticket_url"],
        secrets: &[
            "options.client_secret",
            "options.app_secret",
            "options.configuration",
            "options.signing_key",
            "options.twilio_token",
            "options.gateway_authentication.secret",
            "options.admin_access_token",
            "options.admin_refresh_token",
            "options.ext_access_token",
            "options.ext_refresh_token",
        ],
        references: &[r("enabled_clients[]", "clients", "client_id")],
        ..Kind::DEFAULT
    },
    Kind {
        name: "connection_clients",
        parent: Some("connections"),
        shape: Shape::Replace { body_key: None },
        list: ep(Get, "/connections/{id}/clients"),
        update: ep(Patch, "/connections/{id}/clients"),
        pagination: Checkpoint { key: "clients" },
        id_field: Some("client_id"),
        natural_key: &["client_id"],
        read_only: &[],
        references: &[r("client_id", "clients", "client_id")],
        write_form: &[("client_id", "client_id"), ("status", "=true")],
        ..Kind::DEFAULT
    },
    Kind {
        name: "scim_configurations",
        parent: Some("connections"),
        shape: Shape::Singleton,
        list: ep(Get, "/connections/{id}/scim-configuration"),
        create: ep(Post, "/connections/{id}/scim-configuration"),
        update: ep(Patch, "/connections/{id}/scim-configuration"),
        delete: ep(Delete, "/connections/{id}/scim-configuration"),
        id_field: None,
        natural_key: &[],
        read_only: &[
            "connection_id",
            "connection_name",
            "strategy",
            "tenant_name",
            "created_at",
            "updated_on",
        ],
        ..Kind::DEFAULT
    },
    Kind {
        // Users and groups synchronized from a directory (Google Workspace, Entra ID)
        // into an enterprise connection.
        name: "connection_directory_provisioning",
        parent: Some("connections"),
        shape: Shape::Singleton,
        list: ep(Get, "/connections/{id}/directory-provisioning"),
        create: ep(Post, "/connections/{id}/directory-provisioning"),
        update: ep(Patch, "/connections/{id}/directory-provisioning"),
        delete: ep(Delete, "/connections/{id}/directory-provisioning"),
        id_field: None,
        natural_key: &[],
        read_only: &[
            "connection_id",
            "connection_name",
            "strategy",
            "created_at",
            "updated_at",
            "last_synchronization_at",
            "last_synchronization_status",
            "last_synchronization_error",
        ],
        ..Kind::DEFAULT
    },
    Kind {
        name: "connection_profiles",
        list: ep(Get, "/connection-profiles"),
        get: ep(Get, "/connection-profiles/{id}"),
        create: ep(Post, "/connection-profiles"),
        update: ep(Patch, "/connection-profiles/{id}"),
        delete: ep(Delete, "/connection-profiles/{id}"),
        pagination: Checkpoint {
            key: "connection_profiles",
        },
        id_format: Prefixed("cop_", 22),
        required: &["name"],
        // The spec gives these no timestamps.
        read_only: &["id"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "custom_domains",
        list: ep(Get, "/custom-domains"),
        get: ep(Get, "/custom-domains/{id}"),
        create: ep(Post, "/custom-domains"),
        update: ep(Patch, "/custom-domains/{id}"),
        delete: ep(Delete, "/custom-domains/{id}"),
        pagination: Array,
        id_field: Some("custom_domain_id"),
        id_format: Prefixed("cd_", 16),
        natural_key: &["domain"],
        required: &["domain", "type"],
        read_only: &[
            "custom_domain_id",
            "domain",
            "type",
            "primary",
            "is_default",
            "status",
            "verification",
            "origin_domain_name",
            "certificate",
        ],
        ready_when: Some((
            "status",
            "ready",
            "verify it in the target (POST /custom-domains/{id}/verify) once its DNS records are set",
        )),
        ..Kind::DEFAULT
    },
    Kind {
        name: "default_custom_domain",
        shape: Shape::Singleton,
        list: ep(Get, "/custom-domains/default"),
        update: ep(Patch, "/custom-domains/default"),
        id_field: None,
        natural_key: &[],
        // What a restore writes is the domain's name; it must be a verified custom
        // domain of the target (the platform refuses others).
        read_only: &[
            "custom_domain_id",
            "primary",
            "is_default",
            "status",
            "type",
            "origin_domain_name",
            "verification",
            "custom_client_ip_header",
            "tls_policy",
            "domain_metadata",
            "certificate",
            "relying_party_identifier",
        ],
        references: &[r("custom_domain_id", "custom_domains", "custom_domain_id")],
        // The canonical domain (no `custom_domain_id`) is each tenant's own.
        carried_if: Some("custom_domain_id"),
        ..Kind::DEFAULT
    },
    // --- email, phone and branding --------------------------------------------------
    Kind {
        name: "email_templates",
        shape: Shape::Keyed {
            keys: EMAIL_TEMPLATES,
            per_language: false,
        },
        get: ep(Get, "/email-templates/{templateName}"),
        create: ep(Post, "/email-templates"),
        update: ep(Patch, "/email-templates/{templateName}"),
        id_field: Some("template"),
        natural_key: &["template"],
        required: &["template"],
        read_only: &[],
        create_status: 200,
        ..Kind::DEFAULT
    },
    Kind {
        name: "branding_themes",
        list: ep(Get, "/branding/themes/default"),
        get: ep(Get, "/branding/themes/{themeId}"),
        create: ep(Post, "/branding/themes"),
        update: ep(Patch, "/branding/themes/{themeId}"),
        delete: ep(Delete, "/branding/themes/{themeId}"),
        id_field: Some("themeId"),
        id_format: Alnum(32),
        natural_key: &["displayName"],
        required: &["borders", "colors", "fonts", "page_background", "widget"],
        read_only: &["themeId"],
        create_status: 200,
        ..Kind::DEFAULT
    },
    Kind {
        name: "phone_providers",
        list: ep(Get, "/branding/phone/providers"),
        get: ep(Get, "/branding/phone/providers/{id}"),
        create: ep(Post, "/branding/phone/providers"),
        update: ep(Patch, "/branding/phone/providers/{id}"),
        delete: ep(Delete, "/branding/phone/providers/{id}"),
        pagination: Wrapped { key: "providers" },
        id_format: Prefixed("pro_", 22),
        required: &["name", "credentials"],
        read_only: &["id", "tenant", "channel", "created_at", "updated_at"],
        secrets: &["credentials"],
        write_only: &["credentials"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "phone_templates",
        list: ep(Get, "/branding/phone/templates"),
        get: ep(Get, "/branding/phone/templates/{id}"),
        create: ep(Post, "/branding/phone/templates"),
        update: ep(Patch, "/branding/phone/templates/{id}"),
        delete: ep(Delete, "/branding/phone/templates/{id}"),
        pagination: Wrapped { key: "templates" },
        id_format: Prefixed("tem_", 22),
        natural_key: &["type"],
        required: &["type"],
        read_only: &["id", "channel", "customizable", "tenant", "type"],
        ..Kind::DEFAULT
    },
    // --- universal login prompts ----------------------------------------------------
    Kind {
        name: "prompt_custom_text",
        shape: Shape::Keyed {
            keys: PROMPTS,
            per_language: true,
        },
        get: ep(Get, "/prompts/{prompt}/custom-text/{language}"),
        update: ep(Put, "/prompts/{prompt}/custom-text/{language}"),
        id_field: None,
        natural_key: &[],
        read_only: &[],
        ..Kind::DEFAULT
    },
    Kind {
        name: "prompt_partials",
        shape: Shape::Keyed {
            keys: PARTIAL_PROMPTS,
            per_language: false,
        },
        get: ep(Get, "/prompts/{prompt}/partials"),
        update: ep(Put, "/prompts/{prompt}/partials"),
        id_field: None,
        natural_key: &[],
        read_only: &[],
        ..Kind::DEFAULT
    },
    Kind {
        name: "prompt_screen_renderings",
        list: ep(Get, "/prompts/rendering"),
        get: ep(Get, "/prompts/{prompt}/screen/{screen}/rendering"),
        update: ep(Patch, "/prompts/{prompt}/screen/{screen}/rendering"),
        pagination: Offset { key: "configs" },
        id_field: None,
        natural_key: &["prompt", "screen"],
        read_only: &["tenant", "prompt", "screen"],
        ..Kind::DEFAULT
    },
    // --- extensibility --------------------------------------------------------------
    Kind {
        name: "action_modules",
        list: ep(Get, "/actions/modules"),
        get: ep(Get, "/actions/modules/{id}"),
        create: ep(Post, "/actions/modules"),
        update: ep(Patch, "/actions/modules/{id}"),
        delete: ep(Delete, "/actions/modules/{id}"),
        pagination: Paged { key: "modules" },
        id_format: Uuid,
        required: &["name", "code"],
        read_only: &[
            "id",
            "created_at",
            "updated_at",
            "all_changes_published",
            "latest_version_number",
            "latest_version",
            "actions_using_module_total",
        ],
        secrets: &["secrets[].value"],
        write_only: &["secrets[].value"],
        go_live: Some(GoLive {
            endpoint: Endpoint {
                method: Post,
                path: "/actions/modules/{id}/versions",
            },
            live: "all_changes_published",
            version: "latest_version",
            version_fields: &["code", "dependencies"],
        }),
        // The list's items have no latest_version (the spec's ActionModuleListItem).
        read_each: true,
        ..Kind::DEFAULT
    },
    Kind {
        name: "actions",
        list: ep(Get, "/actions/actions"),
        get: ep(Get, "/actions/actions/{id}"),
        create: ep(Post, "/actions/actions"),
        update: ep(Patch, "/actions/actions/{id}"),
        delete: ep(Delete, "/actions/actions/{id}"),
        pagination: Paged { key: "actions" },
        id_format: Uuid,
        required: &["name", "supported_triggers"],
        read_only: &[
            "id",
            "created_at",
            "updated_at",
            "all_changes_deployed",
            "built_at",
            "status",
            "deployed_version",
            "installed_integration_id",
            "integration",
            "deploy",
            // The module's name and version id follow from its id and version number.
            "modules[].module_name",
            "modules[].module_version_id",
        ],
        secrets: &["secrets[].value"],
        references: &[r("modules[].module_id", "action_modules", "id")],
        write_only: &["secrets[].value"],
        go_live: Some(GoLive {
            endpoint: Endpoint {
                method: Post,
                path: "/actions/actions/{id}/deploy",
            },
            live: "all_changes_deployed",
            version: "deployed_version",
            version_fields: &["code", "dependencies", "runtime"],
        }),
        ..Kind::DEFAULT
    },
    Kind {
        name: "action_triggers",
        list: ep(Get, "/actions/triggers"),
        pagination: Wrapped { key: "triggers" },
        natural_key: &["id"],
        read_only: &[],
        config: false,
        ..Kind::DEFAULT
    },
    Kind {
        name: "trigger_bindings",
        parent: Some("action_triggers"),
        shape: Shape::Replace {
            body_key: Some("bindings"),
        },
        list: ep(Get, "/actions/triggers/{triggerId}/bindings"),
        update: ep(Patch, "/actions/triggers/{triggerId}/bindings"),
        pagination: Paged { key: "bindings" },
        natural_key: &["display_name"],
        // The bound action is shown whole; only its id is the binding's (its changes
        // belong to the action).
        read_only: &[
            "id",
            "trigger_id",
            "created_at",
            "updated_at",
            "action.created_at",
            "action.updated_at",
            "action.modules",
            "action.deployed_version",
            "action.all_changes_deployed",
            "action.built_at",
            "action.status",
        ],
        references: &[r("action.id", "actions", "id")],
        write_form: &[
            ("ref.type", "=\"action_id\""),
            ("ref.value", "action.id"),
            ("display_name", "display_name"),
        ],
        ..Kind::DEFAULT
    },
    Kind {
        name: "hooks",
        list: ep(Get, "/hooks"),
        get: ep(Get, "/hooks/{id}"),
        create: ep(Post, "/hooks"),
        update: ep(Patch, "/hooks/{id}"),
        delete: ep(Delete, "/hooks/{id}"),
        pagination: Offset { key: "hooks" },
        id_format: Hex(24),
        required: &["name", "script", "triggerId"],
        read_only: &["id", "triggerId"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "hook_secrets",
        parent: Some("hooks"),
        shape: Shape::Map,
        list: ep(Get, "/hooks/{id}/secrets"),
        create: ep(Post, "/hooks/{id}/secrets"),
        update: ep(Patch, "/hooks/{id}/secrets"),
        delete: ep(Delete, "/hooks/{id}/secrets"),
        id_field: None,
        natural_key: &[],
        read_only: &[],
        secrets: &["*"],
        write_only: &["*"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "rules",
        list: ep(Get, "/rules"),
        get: ep(Get, "/rules/{id}"),
        create: ep(Post, "/rules"),
        update: ep(Patch, "/rules/{id}"),
        delete: ep(Delete, "/rules/{id}"),
        pagination: Offset { key: "rules" },
        id_format: Prefixed("rul_", 16),
        required: &["name", "script"],
        read_only: &["id", "stage"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "rules_configs",
        list: ep(Get, "/rules-configs"),
        update: ep(Put, "/rules-configs/{key}"),
        delete: ep(Delete, "/rules-configs/{key}"),
        pagination: Array,
        id_field: Some("key"),
        natural_key: &["key"],
        read_only: &["key"],
        secrets: &["value"],
        write_only: &["value"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "log_streams",
        list: ep(Get, "/log-streams"),
        get: ep(Get, "/log-streams/{id}"),
        create: ep(Post, "/log-streams"),
        update: ep(Patch, "/log-streams/{id}"),
        delete: ep(Delete, "/log-streams/{id}"),
        pagination: Array,
        id_format: Prefixed("lst_", 16),
        required: &["type", "sink"],
        read_only: &["id", "type"],
        secrets: &[
            "sink.httpAuthorization",
            "sink.datadogApiKey",
            "sink.splunkToken",
            "sink.segmentWriteKey",
            "sink.mixpanelServiceAccountPassword",
        ],
        create_status: 200,
        ..Kind::DEFAULT
    },
    Kind {
        name: "event_streams",
        list: ep(Get, "/event-streams"),
        get: ep(Get, "/event-streams/{id}"),
        create: ep(Post, "/event-streams"),
        update: ep(Patch, "/event-streams/{id}"),
        delete: ep(Delete, "/event-streams/{id}"),
        pagination: Checkpoint {
            key: "eventStreams",
        },
        id_format: Prefixed("est_", 22),
        required: &["destination"],
        secrets: &["destination.configuration.webhook_authorization"],
        // A webhook's credential, one of three by its method, is never read back.
        write_only: &[
            "destination.configuration.webhook_authorization.token",
            "destination.configuration.webhook_authorization.password",
            "destination.configuration.webhook_authorization.header_value",
        ],
        write_only_when: &[
            (
                "destination.configuration.webhook_authorization.token",
                "method",
                "bearer",
            ),
            (
                "destination.configuration.webhook_authorization.password",
                "method",
                "basic",
            ),
            (
                "destination.configuration.webhook_authorization.header_value",
                "method",
                "custom_header",
            ),
        ],
        ..Kind::DEFAULT
    },
    Kind {
        name: "flows_vault_connections",
        list: ep(Get, "/flows/vault/connections"),
        get: ep(Get, "/flows/vault/connections/{id}"),
        create: ep(Post, "/flows/vault/connections"),
        update: ep(Patch, "/flows/vault/connections/{id}"),
        delete: ep(Delete, "/flows/vault/connections/{id}"),
        pagination: Offset { key: "connections" },
        id_format: Prefixed("ac_", 22),
        required: &["name", "app_id"],
        read_only: &[
            "id",
            "ready",
            "account_name",
            "environment",
            "fingerprint",
            "created_at",
            "updated_at",
            "refreshed_at",
        ],
        secrets: &["setup"],
        write_only: &["setup"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "forms",
        list: ep(Get, "/forms"),
        get: ep(Get, "/forms/{id}"),
        create: ep(Post, "/forms"),
        update: ep(Patch, "/forms/{id}"),
        delete: ep(Delete, "/forms/{id}"),
        pagination: Offset { key: "forms" },
        id_format: Prefixed("ap_", 22),
        required: &["name"],
        read_only: &[
            "id",
            "created_at",
            "updated_at",
            "embedded_at",
            "submitted_at",
        ],
        // Widgets holding a key or token (a payment form's keys, an address widget's API key).
        secrets: &[
            "nodes[].config.components[].config.api_key",
            "nodes[].config.components[].config.secret_key",
            "nodes[].config.components[].config.access_token",
            "nodes[].config.components[].config.credentials",
        ],
        // The list's items have no nodes, start, ending, style or translations.
        read_each: true,
        ..Kind::DEFAULT
    },
    Kind {
        name: "flows",
        list: ep(Get, "/flows"),
        get: ep(Get, "/flows/{id}"),
        create: ep(Post, "/flows"),
        update: ep(Patch, "/flows/{id}"),
        delete: ep(Delete, "/flows/{id}"),
        pagination: Offset { key: "flows" },
        id_format: Prefixed("af_", 22),
        required: &["name"],
        read_only: &["id", "created_at", "updated_at", "executed_at"],
        // An HTTP request action's basic-auth password.
        secrets: &["actions[].params.basic.password"],
        // The list's items have no actions.
        read_each: true,
        ..Kind::DEFAULT
    },
    // --- security and profiles ------------------------------------------------------
    Kind {
        name: "network_acls",
        list: ep(Get, "/network-acls"),
        get: ep(Get, "/network-acls/{id}"),
        create: ep(Post, "/network-acls"),
        update: ep(Patch, "/network-acls/{id}"),
        delete: ep(Delete, "/network-acls/{id}"),
        pagination: Offset {
            key: "network_acls",
        },
        id_format: Uuid,
        natural_key: &["description"],
        required: &["description", "active", "priority", "rule"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "self_service_profiles",
        list: ep(Get, "/self-service-profiles"),
        get: ep(Get, "/self-service-profiles/{id}"),
        create: ep(Post, "/self-service-profiles"),
        update: ep(Patch, "/self-service-profiles/{id}"),
        delete: ep(Delete, "/self-service-profiles/{id}"),
        pagination: Offset {
            key: "self_service_profiles",
        },
        id_format: Prefixed("ssp_", 22),
        required: &["name"],
        references: &[r(
            "user_attribute_profile_id",
            "user_attribute_profiles",
            "id",
        )],
        ..Kind::DEFAULT
    },
    Kind {
        // The text of a self-service profile's pages, per language and page.
        name: "self_service_profile_custom_text",
        parent: Some("self_service_profiles"),
        shape: Shape::Keyed {
            keys: SELF_SERVICE_TEXT_KEYS,
            per_language: false,
        },
        get: ep(
            Get,
            "/self-service-profiles/{id}/custom-text/{language}/{page}",
        ),
        update: ep(
            Put,
            "/self-service-profiles/{id}/custom-text/{language}/{page}",
        ),
        id_field: None,
        natural_key: &[],
        read_only: &[],
        ..Kind::DEFAULT
    },
    Kind {
        name: "token_exchange_profiles",
        list: ep(Get, "/token-exchange-profiles"),
        get: ep(Get, "/token-exchange-profiles/{id}"),
        create: ep(Post, "/token-exchange-profiles"),
        update: ep(Patch, "/token-exchange-profiles/{id}"),
        delete: ep(Delete, "/token-exchange-profiles/{id}"),
        pagination: Checkpoint {
            key: "token_exchange_profiles",
        },
        id_format: Prefixed("tep_", 22),
        required: &["name", "subject_token_type", "action_id", "type"],
        references: &[r("action_id", "actions", "id")],
        ..Kind::DEFAULT
    },
    Kind {
        name: "user_attribute_profiles",
        list: ep(Get, "/user-attribute-profiles"),
        get: ep(Get, "/user-attribute-profiles/{id}"),
        create: ep(Post, "/user-attribute-profiles"),
        update: ep(Patch, "/user-attribute-profiles/{id}"),
        delete: ep(Delete, "/user-attribute-profiles/{id}"),
        pagination: Checkpoint {
            key: "user_attribute_profiles",
        },
        id_format: Prefixed("uap_", 22),
        required: &["name", "user_attributes"],
        // The spec gives these no timestamps.
        read_only: &["id"],
        ..Kind::DEFAULT
    },
    // --- roles and organizations ----------------------------------------------------
    Kind {
        name: "roles",
        list: ep(Get, "/roles"),
        get: ep(Get, "/roles/{id}"),
        create: ep(Post, "/roles"),
        update: ep(Patch, "/roles/{id}"),
        delete: ep(Delete, "/roles/{id}"),
        pagination: Offset { key: "roles" },
        id_format: Prefixed("rol_", 16),
        required: &["name"],
        read_only: &["id"],
        create_status: 200,
        ..Kind::DEFAULT
    },
    Kind {
        name: "role_permissions",
        parent: Some("roles"),
        shape: Shape::Links {
            body_key: "permissions",
            target: "resource_servers",
            relation: "role_permissions",
            inverse: false,
        },
        list: ep(Get, "/roles/{id}/permissions"),
        create: ep(Post, "/roles/{id}/permissions"),
        delete: ep(Delete, "/roles/{id}/permissions"),
        pagination: Offset { key: "permissions" },
        id_field: None,
        natural_key: &["resource_server_identifier", "permission_name"],
        read_only: &["resource_server_name", "description"],
        references: &[r(
            "resource_server_identifier",
            "resource_servers",
            "identifier",
        )],
        ..Kind::DEFAULT
    },
    Kind {
        name: "organizations",
        list: ep(Get, "/organizations"),
        get: ep(Get, "/organizations/{id}"),
        create: ep(Post, "/organizations"),
        update: ep(Patch, "/organizations/{id}"),
        delete: ep(Delete, "/organizations/{id}"),
        pagination: OffsetOrCheckpoint {
            key: "organizations",
        },
        offset_cap: Some(1000),
        id_format: Prefixed("org_", 16),
        required: &["name"],
        read_only: &["id"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "organization_enabled_connections",
        parent: Some("organizations"),
        list: ep(Get, "/organizations/{id}/enabled_connections"),
        get: ep(
            Get,
            "/organizations/{id}/enabled_connections/{connectionId}",
        ),
        create: ep(Post, "/organizations/{id}/enabled_connections"),
        update: ep(
            Patch,
            "/organizations/{id}/enabled_connections/{connectionId}",
        ),
        delete: ep(
            Delete,
            "/organizations/{id}/enabled_connections/{connectionId}",
        ),
        pagination: Offset {
            key: "enabled_connections",
        },
        id_field: Some("connection_id"),
        natural_key: &["connection_id"],
        required: &["connection_id"],
        read_only: &["connection"],
        references: &[r("connection_id", "connections", "id")],
        ..Kind::DEFAULT
    },
    Kind {
        name: "organization_client_grants",
        parent: Some("organizations"),
        list: ep(Get, "/organizations/{id}/client-grants"),
        create: ep(Post, "/organizations/{id}/client-grants"),
        delete: ep(Delete, "/organizations/{id}/client-grants/{grant_id}"),
        pagination: Offset {
            key: "client_grants",
        },
        natural_key: &["client_id", "audience"],
        required: &["grant_id"],
        read_only: &[
            "client_id",
            "audience",
            "scope",
            "organization_usage",
            "allow_any_organization",
        ],
        references: &[
            r("id", "client_grants", "id"),
            r("client_id", "clients", "client_id"),
        ],
        write_form: &[("grant_id", "id")],
        ..Kind::DEFAULT
    },
    Kind {
        name: "organization_discovery_domains",
        parent: Some("organizations"),
        list: ep(Get, "/organizations/{id}/discovery-domains"),
        get: ep(
            Get,
            "/organizations/{id}/discovery-domains/{discovery_domain_id}",
        ),
        create: ep(Post, "/organizations/{id}/discovery-domains"),
        update: ep(
            Patch,
            "/organizations/{id}/discovery-domains/{discovery_domain_id}",
        ),
        delete: ep(
            Delete,
            "/organizations/{id}/discovery-domains/{discovery_domain_id}",
        ),
        pagination: Checkpoint { key: "domains" },
        id_format: Prefixed("dd_", 22),
        natural_key: &["domain"],
        required: &["domain"],
        read_only: &["id", "verification_txt", "verification_host"],
        ..Kind::DEFAULT
    },
    Kind {
        name: "organization_members",
        parent: Some("organizations"),
        shape: Shape::Links {
            body_key: "members",
            target: "users",
            relation: "organization_members",
            inverse: false,
        },
        list: ep(Get, "/organizations/{id}/members"),
        create: ep(Post, "/organizations/{id}/members"),
        delete: ep(Delete, "/organizations/{id}/members"),
        pagination: OffsetOrCheckpoint { key: "members" },
        offset_cap: Some(1000),
        id_field: Some("user_id"),
        natural_key: &["email"],
        read_only: &["picture", "name", "email", "roles"],
        references: &[r("user_id", "users", "user_id")],
        config: false,
        create_status: 204,
        ..Kind::DEFAULT
    },
    Kind {
        name: "organization_member_roles",
        parent: Some("organization_members"),
        shape: Shape::Links {
            body_key: "roles",
            target: "roles",
            relation: "organization_member_roles",
            inverse: false,
        },
        list: ep(Get, "/organizations/{id}/members/{user_id}/roles"),
        create: ep(Post, "/organizations/{id}/members/{user_id}/roles"),
        delete: ep(Delete, "/organizations/{id}/members/{user_id}/roles"),
        pagination: Offset { key: "roles" },
        read_only: &["name", "description"],
        references: &[r("id", "roles", "id")],
        config: false,
        create_status: 204,
        ..Kind::DEFAULT
    },
    // --- users ----------------------------------------------------------------------
    Kind {
        name: "users",
        list: ep(Get, "/users"),
        get: ep(Get, "/users/{id}"),
        create: ep(Post, "/users"),
        update: ep(Patch, "/users/{id}"),
        delete: ep(Delete, "/users/{id}"),
        pagination: Offset { key: "users" },
        offset_cap: Some(1000),
        id_field: Some("user_id"),
        natural_key: &["email"],
        required: &["connection"],
        read_only: &[
            "user_id",
            "created_at",
            "updated_at",
            "identities",
            "last_ip",
            "last_login",
            "logins_count",
            "multifactor",
            "last_password_reset",
        ],
        secrets: &["password"],
        config: false,
        ..Kind::DEFAULT
    },
    Kind {
        name: "user_roles",
        parent: Some("users"),
        shape: Shape::Links {
            body_key: "roles",
            target: "roles",
            relation: "user_roles",
            inverse: false,
        },
        list: ep(Get, "/users/{id}/roles"),
        create: ep(Post, "/users/{id}/roles"),
        delete: ep(Delete, "/users/{id}/roles"),
        pagination: Offset { key: "roles" },
        read_only: &["name", "description"],
        references: &[r("id", "roles", "id")],
        config: false,
        create_status: 204,
        ..Kind::DEFAULT
    },
    Kind {
        name: "role_users",
        parent: Some("roles"),
        shape: Shape::Links {
            body_key: "users",
            target: "users",
            relation: "user_roles",
            inverse: true,
        },
        list: ep(Get, "/roles/{id}/users"),
        create: ep(Post, "/roles/{id}/users"),
        pagination: OffsetOrCheckpoint { key: "users" },
        offset_cap: Some(1000),
        id_field: Some("user_id"),
        natural_key: &["email"],
        read_only: &["picture", "name", "email"],
        references: &[r("user_id", "users", "user_id")],
        config: false,
        create_status: 200,
        ..Kind::DEFAULT
    },
    Kind {
        name: "user_permissions",
        parent: Some("users"),
        shape: Shape::Links {
            body_key: "permissions",
            target: "resource_servers",
            relation: "user_permissions",
            inverse: false,
        },
        list: ep(Get, "/users/{id}/permissions"),
        create: ep(Post, "/users/{id}/permissions"),
        delete: ep(Delete, "/users/{id}/permissions"),
        pagination: Offset { key: "permissions" },
        id_field: None,
        natural_key: &["resource_server_identifier", "permission_name"],
        read_only: &["resource_server_name", "description"],
        references: &[r(
            "resource_server_identifier",
            "resource_servers",
            "identifier",
        )],
        config: false,
        ..Kind::DEFAULT
    },
    Kind {
        name: "user_organizations",
        parent: Some("users"),
        shape: Shape::Links {
            body_key: "members",
            target: "organizations",
            relation: "organization_members",
            inverse: true,
        },
        list: ep(Get, "/users/{id}/organizations"),
        pagination: Offset {
            key: "organizations",
        },
        read_only: &["name", "display_name", "branding", "metadata"],
        references: &[r("id", "organizations", "id")],
        config: false,
        ..Kind::DEFAULT
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The spec's index of operations, copied from shared/seeds (a list of paths).
    const SPEC_INDEX: &str = include_str!("../testdata/auth0-management-api-v2.paths.tsv");

    fn spec_operations() -> HashSet<(String, String)> {
        SPEC_INDEX
            .lines()
            .skip(1)
            .filter_map(|line| {
                let first = line.split('\t').next()?;
                let mut parts = first.split_whitespace();
                Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
            })
            .collect()
    }

    #[test]
    fn every_catalog_endpoint_is_in_the_spec() {
        let ops = spec_operations();
        assert!(
            ops.len() > 400,
            "spec index parsed: {} operations",
            ops.len()
        );
        let mut missing = Vec::new();
        for kind in CATALOG {
            for e in kind.endpoints() {
                let key = (e.method.as_str().to_owned(), format!("/api/v2{}", e.path));
                if !ops.contains(&key) {
                    missing.push(format!("{}: {} {}", kind.name, key.0, key.1));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "not in the spec:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn names_are_unique_and_parents_exist() {
        let mut seen = HashSet::new();
        for kind in CATALOG {
            assert!(seen.insert(kind.name), "duplicate kind {}", kind.name);
            if let Some(parent) = kind.parent {
                assert!(find(parent).is_some(), "{}: no parent {parent}", kind.name);
            }
            for reference in kind.references {
                assert!(
                    find(reference.kind).is_some(),
                    "{}: reference to unknown kind {}",
                    kind.name,
                    reference.kind
                );
            }
            if let Shape::Links { target, .. } = kind.shape {
                assert!(find(target).is_some(), "{}: no target {target}", kind.name);
            }
        }
    }

    #[test]
    fn paths_take_as_many_ids_as_the_kind_has_ancestors() {
        for kind in CATALOG {
            let depth = kind.depth();
            if let Some(list) = kind.list {
                assert_eq!(list.arity(), depth, "{} list", kind.name);
            }
            for e in [kind.get, kind.update, kind.delete].into_iter().flatten() {
                let expected = depth + kind.own_arity();
                assert_eq!(e.arity(), expected, "{} {}", kind.name, e.path);
            }
        }
    }

    #[test]
    fn the_design_list_of_kinds_is_covered() {
        for name in [
            "actions",
            "action_modules",
            "trigger_bindings",
            "bot_detection",
            "breached_password_detection",
            "brute_force_protection",
            "suspicious_ip_throttling",
            "captcha",
            "branding",
            "branding_themes",
            "universal_login_template",
            "client_credentials",
            "client_grants",
            "clients",
            "connection_profiles",
            "connections",
            "connection_clients",
            "custom_domains",
            "email_provider",
            "email_templates",
            "event_streams",
            "flows",
            "flows_vault_connections",
            "forms",
            "guardian_factors",
            "guardian_policies",
            "guardian_phone_message_types",
            "guardian_phone_selected_provider",
            "hooks",
            "hook_secrets",
            "log_streams",
            "network_acls",
            "organizations",
            "organization_enabled_connections",
            "organization_members",
            "organization_member_roles",
            "organization_client_grants",
            "organization_discovery_domains",
            "phone_providers",
            "phone_templates",
            "prompts",
            "prompt_custom_text",
            "prompt_partials",
            "prompt_screen_renderings",
            "resource_servers",
            "risk_assessment_settings",
            "roles",
            "role_permissions",
            "rules",
            "rules_configs",
            "scim_configurations",
            "self_service_profiles",
            "supplemental_signals",
            "tenant_settings",
            "token_exchange_profiles",
            "user_attribute_profiles",
            "users",
            "user_roles",
            "user_organizations",
        ] {
            assert!(find(name).is_some(), "catalog lacks {name}");
        }
    }

    #[test]
    fn every_kind_comes_after_what_it_needs() {
        let order = dependency_order();
        assert_eq!(order.len(), CATALOG.len());
        let at = |name: &str| order.iter().position(|k| k.name == name).unwrap();
        for kind in CATALOG {
            for need in needs(kind) {
                assert!(at(need) < at(kind.name), "{} before {need}", kind.name);
            }
        }
        assert!(at("clients") < at("client_grants"));
        assert!(at("user_attribute_profiles") < at("self_service_profiles"));
        assert!(at("actions") < at("trigger_bindings"));
    }

    #[test]
    fn fill_encodes_ids_and_keeps_order() {
        let e = Endpoint {
            method: Get,
            path: "/organizations/{id}/members/{user_id}/roles",
        };
        assert_eq!(
            e.fill(&["org_1", "auth0|abc"]),
            "/organizations/org_1/members/auth0%7Cabc/roles"
        );
    }
}
