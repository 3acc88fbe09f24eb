//! ZITADEL's kinds, as data: what idferry reads and writes on an instance, one row per
//! kind (the Auth0 catalog's counterpart, in ZITADEL's own shape: lists are `_search`
//! endpoints, objects are matched by a natural key, and a kind lives in the instance, in
//! each organization, or in each project of each organization).

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

/// One kind of object of a ZITADEL instance.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The kind's name (its member in a snapshot is `config/<name>.ndjson`).
    pub name: &'static str,
    /// The `_search` endpoint that lists it (POST, v1 `query` paging); `{project}`
    /// stands for the project's id.
    pub search: &'static str,
    /// Where its objects live.
    pub scope: Scope,
    /// The field that names an object across instances (within its parent).
    pub key: &'static str,
    /// Fields compared to decide an update (JSON pointers into the object).
    pub compared: &'static [&'static str],
    /// Fields the API takes but never returns (asked for on restore).
    pub write_only: &'static [&'static str],
    /// Fields each instance sets for itself (dot paths; besides `id` and `details`),
    /// left out when two instances' snapshots are compared.
    pub server_set: &'static [&'static str],
    /// What it is.
    pub doc: &'static str,
}

/// Every kind idferry handles on ZITADEL, in dependency order.
pub const CATALOG: &[Kind] = &[
    Kind {
        name: "organizations",
        search: "/admin/v1/orgs/_search",
        scope: Scope::Instance,
        key: "name",
        compared: &[],
        write_only: &[],
        // Derived from the name and the instance's own domain.
        server_set: &["primaryDomain"],
        doc: "organizations of the instance",
    },
    Kind {
        name: "sms_providers",
        search: "/admin/v1/sms/_search",
        scope: Scope::Instance,
        key: "description",
        compared: &[
            "/twilio/sid",
            "/twilio/senderNumber",
            "/twilio/verifyServiceSid",
            "/http/endpoint",
        ],
        write_only: &["twilio.token"],
        server_set: &[],
        doc: "SMS providers (Twilio or HTTP) and which one is active; Twilio's token is write-only",
    },
    Kind {
        name: "projects",
        search: "/management/v1/projects/_search",
        scope: Scope::Org,
        key: "name",
        compared: &[],
        write_only: &[],
        server_set: &[],
        doc: "projects of each organization",
    },
    Kind {
        name: "project_roles",
        search: "/management/v1/projects/{project}/roles/_search",
        scope: Scope::Project,
        key: "key",
        compared: &["/displayName", "/group"],
        write_only: &[],
        server_set: &[],
        doc: "roles of each project",
    },
];

/// Fields every object has that its instance sets: its id and its `details` block.
pub const ALWAYS_SERVER_SET: &[&str] = &["id", "userId", "details"];

/// The kind called `name`.
pub fn find(name: &str) -> Option<&'static Kind> {
    CATALOG.iter().find(|k| k.name == name)
}
