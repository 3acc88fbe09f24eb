//! ZITADEL's kinds, as data: what idferry reads and writes on an instance, one row per
//! kind (the Auth0 catalog's counterpart, in ZITADEL's own shape: lists are `_search`
//! endpoints, objects are matched by a natural key).

/// One kind of object of a ZITADEL instance.
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// The kind's name (its member in a snapshot is `config/<name>.ndjson`).
    pub name: &'static str,
    /// The `_search` endpoint that lists it (POST, v1 `query` paging).
    pub search: &'static str,
    /// The field that names an object across instances.
    pub key: &'static str,
    /// Fields the API takes but never returns (asked for on restore).
    pub write_only: &'static [&'static str],
    /// What it is.
    pub doc: &'static str,
}

/// Every kind idferry handles on ZITADEL, in dependency order.
pub const CATALOG: &[Kind] = &[
    Kind {
        name: "organizations",
        search: "/admin/v1/orgs/_search",
        key: "name",
        write_only: &[],
        doc: "organizations of the instance",
    },
    Kind {
        name: "sms_providers",
        search: "/admin/v1/sms/_search",
        key: "description",
        write_only: &["twilio.token"],
        doc: "SMS providers (Twilio or HTTP) and which one is active; Twilio's token is write-only",
    },
];
