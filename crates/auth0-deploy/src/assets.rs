//! A tenant's configuration ([`State`]) as auth0-deploy-cli's assets: the objects its
//! `export` writes, keyed by its asset names (`clients`, `clientGrants`), with its field
//! names, without the fields it leaves out (ids, what the tenant makes up), other
//! objects named rather than given by id, and every secret a `##KEYWORD##` (a text) or
//! `@@KEYWORD@@` (an object) marker. Code and HTML stay inline here; [`crate::layout`]
//! puts them in files.
//!
//! Each asset type is a row of [`LISTS`] or [`SINGLES`], or one of the few composed of
//! several kinds (`tenant` and `pages`, `attackProtection`, `prompts`, ...). Every kind of
//! the configuration is either carried into an asset or named in [`Assets::left_out`]
//! with why.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use idferry_auth0::catalog;
use idferry_auth0_import::State;
use idferry_auth0_import::state::Item;
use idferry_model::record::{remove_path, values_at};
use serde_json::{Map, Value, json};

/// The assets of a configuration, and what they do not carry.
#[derive(Debug, Clone, Default)]
pub struct Assets {
    /// a0deploy's assets by its names, code and HTML inline.
    pub assets: Map<String, Value>,
    /// Every secret marker written, by its keyword.
    pub keywords: BTreeMap<String, Keyword>,
    /// Objects per asset type.
    pub carried: Vec<(&'static str, usize)>,
    /// Kinds (or parts of them) not carried, each with its count and why.
    pub left_out: Vec<LeftOut>,
    /// Ids written as the names of what they point at: (asset, object, field, id).
    pub ids_named: Vec<(&'static str, String, &'static str, String)>,
    /// Secrets an unencrypted snapshot left out deep in nested lists, where no marker
    /// can be placed (which item held one is not recorded): `asset object: path`.
    pub unplaced: Vec<String>,
}

/// A secret written as a keyword marker: where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    /// The kind of the object holding it.
    pub kind: &'static str,
    /// The object's name (none for a tenant's single object).
    pub object: Option<String>,
    /// The field (dot path; a list's item by its name).
    pub field: String,
    /// Whether its value is JSON (an object: `@@KEY@@`) rather than text (`##KEY##`).
    pub json: bool,
}

/// Records of one kind that the assets do not carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    /// The kind (`users`).
    pub kind: String,
    /// How many of its records.
    pub records: usize,
    /// Why.
    pub why: &'static str,
}

/// One asset type that is a list of one kind's objects.
pub(crate) struct List {
    /// a0deploy's asset name.
    pub(crate) asset: &'static str,
    /// The kind it is made of.
    pub(crate) kind: &'static str,
    /// Fields a0deploy's export leaves out (dot paths).
    drop: &'static [&'static str],
    /// Fields holding ids of other objects that a0deploy writes as their names: (field
    /// path, kind of the object named).
    pub(crate) names: &'static [(&'static str, &'static str)],
    /// Which objects a0deploy exports.
    keep: fn(&Value) -> bool,
    /// What else a0deploy folds into each object (its sub-resources).
    fold: Option<Fold>,
}

/// Adds to an object (the map) what a0deploy folds into it from other kinds.
type Fold = fn(&Context, &Item, &mut Map<String, Value>, &mut BTreeMap<String, Keyword>);

fn all(_: &Value) -> bool {
    true
}

/// A list asset of `kind`'s objects, all of them, without the fields `drop`.
const fn list(asset: &'static str, kind: &'static str, drop: &'static [&'static str]) -> List {
    List {
        asset,
        kind,
        drop,
        names: &[],
        keep: all,
        fold: None,
    }
}

/// The list asset types, in a0deploy's order.
pub(crate) const LISTS: &[List] = &[
    list("rules", "rules", &["id"]),
    List {
        fold: Some(hook_secrets),
        ..list("hooks", "hooks", &["id"])
    },
    List {
        // Not the Management API's own, which every tenant has.
        keep: |r| {
            !r["identifier"]
                .as_str()
                .is_some_and(|i| i.ends_with("/api/v2/"))
        },
        ..list("resourceServers", "resource_servers", &["id"])
    },
    List {
        names: &[
            (
                "express_configuration.user_attribute_profile_id",
                "user_attribute_profiles",
            ),
            (
                "express_configuration.connection_profile_id",
                "connection_profiles",
            ),
            ("express_configuration.okta_oin_client_id", "clients"),
        ],
        // Not the tenant's global client: it holds its login page (the `pages` asset).
        keep: |r| r["global"] != json!(true),
        ..list(
            "clients",
            "clients",
            &[
                "client_id",
                "client_secret",
                "callback_url_template",
                "signing_keys",
                "global",
                "tenant",
                "custom_login_page_preview",
                "config_route",
                "owners",
            ],
        )
    },
    List {
        keep: |r| r["strategy"] == json!("auth0"),
        fold: Some(enabled_clients),
        ..list("databases", "connections", &["id", "options.configuration"])
    },
    List {
        keep: |r| r["strategy"] != json!("auth0"),
        fold: Some(connection_extras),
        ..list(
            "connections",
            "connections",
            &["id", "provisioning_ticket_url", "realms"],
        )
    },
    list("emailTemplates", "email_templates", &[]),
    List {
        names: &[("client_id", "clients")],
        ..list("clientGrants", "client_grants", &["id"])
    },
    list("guardianFactors", "guardian_factors", &["trial_expired"]),
    List {
        fold: Some(role_permissions),
        ..list("roles", "roles", &["id"])
    },
    list(
        "phoneProviders",
        "phone_providers",
        &["id", "channel", "tenant", "created_at", "updated_at"],
    ),
    list("phoneTemplates", "phone_templates", &["id"]),
    List {
        fold: Some(action_deployed),
        ..list(
            "actions",
            "actions",
            &[
                "id",
                "created_at",
                "updated_at",
                "deployed_version",
                "all_changes_deployed",
                "installed_integration_id",
                "integration",
                "current_version",
                "modules[].module_id",
                "modules[].module_version_id",
            ],
        )
    },
    list(
        "actionModules",
        "action_modules",
        &["id", "created_at", "updated_at", "latest_version"],
    ),
    List {
        fold: Some(organization_parts),
        ..list("organizations", "organizations", &["id"])
    },
    list("logStreams", "log_streams", &["id"]),
    list("customDomains", "custom_domains", &["custom_domain_id"]),
    list("themes", "branding_themes", &["themeId"]),
    List {
        names: &[("nodes[].config.flow_id", "flows")],
        ..list(
            "forms",
            "forms",
            &[
                "id",
                "created_at",
                "updated_at",
                "embedded_at",
                "submitted_at",
            ],
        )
    },
    List {
        names: &[("actions[].params.connection_id", "flows_vault_connections")],
        ..list(
            "flows",
            "flows",
            &["id", "created_at", "updated_at", "executed_at"],
        )
    },
    list(
        "flowVaultConnections",
        "flows_vault_connections",
        &[
            "id",
            "created_at",
            "updated_at",
            "refreshed_at",
            "fingerprint",
        ],
    ),
    List {
        names: &[("user_attribute_profile_id", "user_attribute_profiles")],
        fold: Some(self_service_texts),
        ..list(
            "selfServiceProfiles",
            "self_service_profiles",
            &["id", "created_at", "updated_at"],
        )
    },
    list(
        "networkACLs",
        "network_acls",
        &["id", "created_at", "updated_at"],
    ),
    list("userAttributeProfiles", "user_attribute_profiles", &["id"]),
    list("connectionProfiles", "connection_profiles", &["id"]),
    List {
        fold: Some(exchange_action),
        ..list(
            "tokenExchangeProfiles",
            "token_exchange_profiles",
            &["id", "created_at", "updated_at"],
        )
    },
    list(
        "eventStreams",
        "event_streams",
        &["id", "created_at", "updated_at"],
    ),
];

/// One asset type that is one kind's single object, maybe wrapped under a field.
pub(crate) struct Single {
    pub(crate) asset: &'static str,
    pub(crate) kind: &'static str,
    /// The field a0deploy puts the object under (`guardianPolicies: {policies: [...]}`).
    pub(crate) under: Option<&'static str>,
}

/// The single-object asset types made of one kind.
pub(crate) const SINGLES: &[Single] = &[
    Single {
        asset: "emailProvider",
        kind: "email_provider",
        under: None,
    },
    Single {
        asset: "guardianPolicies",
        kind: "guardian_policies",
        under: Some("policies"),
    },
    Single {
        asset: "guardianPhoneFactorSelectedProvider",
        kind: "guardian_phone_selected_provider",
        under: None,
    },
    Single {
        asset: "guardianPhoneFactorMessageTypes",
        kind: "guardian_phone_message_types",
        under: None,
    },
    Single {
        asset: "supplementalSignals",
        kind: "supplemental_signals",
        under: None,
    },
];

/// Asset types gathered from several single kinds, each under its own field.
pub(crate) const GATHERED: &[(&str, &[(&str, &str)])] = &[
    (
        "attackProtection",
        &[
            ("botDetection", "bot_detection"),
            ("breachedPasswordDetection", "breached_password_detection"),
            ("bruteForceProtection", "brute_force_protection"),
            ("captcha", "captcha"),
            ("suspiciousIpThrottling", "suspicious_ip_throttling"),
        ],
    ),
    (
        "riskAssessment",
        &[
            ("settings", "risk_assessment_settings"),
            ("new_device", "risk_assessment_new_device"),
        ],
    ),
];

/// Kinds a0deploy does not carry, with why. Every other kind of the configuration is
/// carried by a row above or one of the composed assets.
const NOT_CARRIED: &[(&str, &str)] = &[
    (
        "rules_configs",
        "a0deploy exports no rules-config: their values are write-only",
    ),
    (
        "client_credentials",
        "a0deploy takes a client's credentials from its own files of keys, not from an export",
    ),
    (
        "connection_directory_provisioning",
        "a0deploy 8.44 has no field for a connection's directory provisioning",
    ),
    (
        "default_custom_domain",
        "a0deploy 8.44 has no asset for the default custom domain",
    ),
    (
        "guardian_phone_templates",
        "a0deploy 8.44 exports the SMS factor's templates only",
    ),
    (
        "guardian_phone_twilio",
        "a0deploy 8.44 exports no guardian provider",
    ),
    (
        "guardian_sms_twilio",
        "a0deploy 8.44 exports no guardian provider",
    ),
    (
        "guardian_sms_selected_provider",
        "a0deploy 8.44 has no asset for the SMS factor's provider (it has the phone factor's)",
    ),
    (
        "guardian_push_selected_provider",
        "a0deploy 8.44 exports no guardian provider",
    ),
    (
        "guardian_push_apns",
        "a0deploy 8.44 exports no guardian provider",
    ),
    (
        "guardian_push_sns",
        "a0deploy 8.44 exports no guardian provider",
    ),
    (
        "guardian_duo_settings",
        "a0deploy 8.44 has no asset for Duo's settings",
    ),
];

/// Secret fields whose value is an object in the Management API's schemas: with no
/// value at hand (a snapshot without secrets, or one the API never gives back), their
/// marker is `@@KEY@@`, whose value is JSON.
const OBJECT_SECRETS: &[&str] = &[
    "credentials",
    "options.signing_key",
    "setup",
    "destination.configuration.webhook_authorization",
];

/// Fields of objects a0deploy's export leaves out that are the tenant's own data (not
/// ids, times or what the platform makes up), each with why: (kind, field, why).
const DROPPED: &[(&str, &str, &str)] = &[
    (
        "clients",
        "client_secret",
        "a0deploy leaves clients' secrets out: a restore from the files has the target make new ones",
    ),
    (
        "connections",
        "options.configuration",
        "a0deploy leaves a database connection's configuration (its custom scripts' settings, secrets) out: set them in the target",
    ),
    (
        "connections",
        "realms",
        "a0deploy leaves a connection's realms out: the target sets them (to the connection's name)",
    ),
];

/// Kinds folded into another kind's asset (by a `fold`, or a composed asset).
const FOLDED: &[&str] = &[
    "hook_secrets",
    "connection_clients",
    "scim_configurations",
    "role_permissions",
    "organization_enabled_connections",
    "organization_client_grants",
    "organization_discovery_domains",
    "self_service_profile_custom_text",
    "tenant_settings",
    "branding",
    "universal_login_template",
    "prompts",
    "prompt_custom_text",
    "prompt_partials",
    "prompt_screen_renderings",
    "guardian_sms_templates",
    "action_triggers",
    "trigger_bindings",
];

/// What the conversion reads besides the object at hand.
struct Context<'s> {
    state: &'s State,
    /// Names by id, per kind.
    names: HashMap<&'static str, HashMap<String, String>>,
}

impl Context<'_> {
    /// The name of the object of `kind` with `id`, else the id itself (a0deploy leaves
    /// an id it cannot name as it is).
    fn name(&self, kind: &str, id: &str) -> String {
        self.names
            .get(kind)
            .and_then(|n| n.get(id))
            .cloned()
            .unwrap_or_else(|| id.to_owned())
    }

    /// The records of `kind` whose (innermost) parent is `parent`.
    fn children<'a>(&'a self, kind: &str, parent: &'a str) -> impl Iterator<Item = &'a Item> {
        self.state
            .items(kind)
            .iter()
            .filter(move |i| i.parent.last().map(String::as_str) == Some(parent))
    }
}

fn id_of<'a>(kind: &str, item: &'a Item) -> Option<&'a str> {
    catalog::find(kind)
        .and_then(|k| k.id_field)
        .and_then(|f| item.record.get(f))
        .and_then(Value::as_str)
}

/// The assets of `state`.
pub fn assets(state: &State) -> Assets {
    let mut names: HashMap<&'static str, HashMap<String, String>> = HashMap::new();
    for kind in [
        "clients",
        "connections",
        "actions",
        "user_attribute_profiles",
        "connection_profiles",
        "flows",
        "flows_vault_connections",
    ] {
        let by_id = state
            .items(kind)
            .iter()
            .filter_map(|i| {
                let name = i.record.get("name").and_then(Value::as_str)?;
                Some((id_of(kind, i)?.to_owned(), name.to_owned()))
            })
            .collect();
        names.insert(kind, by_id);
    }
    let cx = Context { state, names };
    let mut out = Assets::default();
    let mut used: BTreeSet<&str> = BTreeSet::new();

    for row in LISTS {
        used.insert(row.kind);
        let Some(kind) = catalog::find(row.kind) else {
            continue;
        };
        if !state.read_kind(row.kind) {
            continue;
        }
        let mut objects = Vec::new();
        for item in state.items(row.kind) {
            if !(row.keep)(&item.record) {
                continue;
            }
            let mut record = item.record.clone();
            secrets(
                &mut out,
                state,
                kind,
                item,
                &mut record,
                row.asset,
                row.drop,
            );
            let object = record
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_owned);
            for (field, named) in row.names {
                idferry_model::record::map_values(&mut record, field, &mut |v| {
                    if let Some(id) = v.as_str() {
                        if let Some(o) = &object {
                            out.ids_named
                                .push((row.asset, o.clone(), field, id.to_owned()));
                        }
                        *v = Value::String(cx.name(named, id));
                    }
                });
            }
            for field in row.drop {
                remove_path(&mut record, field);
            }
            let Value::Object(mut map) = record else {
                continue;
            };
            if let Some(fold) = row.fold {
                fold(&cx, item, &mut map, &mut out.keywords);
            }
            objects.push(Value::Object(map));
        }
        out.carried.push((row.asset, objects.len()));
        out.assets.insert(row.asset.into(), Value::Array(objects));
    }

    for single in SINGLES {
        used.insert(single.kind);
        if let Some(v) = single_of(&mut out, state, single.kind, single.asset) {
            let v = match single.under {
                Some(field) => json!({ field: v }),
                None => v,
            };
            out.carried.push((single.asset, 1));
            out.assets.insert(single.asset.into(), v);
        }
    }
    for (asset, parts) in GATHERED {
        let mut map = Map::new();
        for (field, kind) in *parts {
            used.insert(kind);
            if let Some(v) = single_of(&mut out, state, kind, asset) {
                map.insert((*field).into(), v);
            }
        }
        if !map.is_empty() {
            out.carried.push((asset, 1));
            out.assets.insert((*asset).into(), Value::Object(map));
        }
    }
    // a0deploy writes an empty list: rules-configs' values are write-only.
    out.assets.insert("rulesConfigs".into(), json!([]));
    tenant_and_pages(&mut out, &cx);
    branding(&mut out, &cx);
    prompts(&mut out, &cx);
    guardian_templates(&mut out, &cx);
    triggers(&mut out, &cx);

    // Fields a0deploy leaves out that say something of the tenant (not ids or times).
    for (kind, field, why) in DROPPED {
        let k = catalog::find(kind);
        let n = state
            .items(kind)
            .iter()
            .filter(|i| {
                !values_at(&i.record, field).is_empty()
                    || k.is_some_and(|k| state.redacted(k, i).iter().any(|r| r == field))
            })
            .count();
        if n > 0 {
            out.left_out.push(LeftOut {
                kind: format!("{kind} ({field})"),
                records: n,
                why,
            });
        }
    }
    // a0deploy names an organization's client grant by its client only, and an import
    // links that client's first grant: where the client has several, which one is lost.
    let mut grants_of: HashMap<&str, usize> = HashMap::new();
    for g in state.items("client_grants") {
        if let Some(c) = g.record.get("client_id").and_then(Value::as_str) {
            *grants_of.entry(c).or_default() += 1;
        }
    }
    let ambiguous = state
        .items("organization_client_grants")
        .iter()
        .filter(|g| {
            g.record["client_id"]
                .as_str()
                .is_some_and(|c| grants_of.get(c).is_some_and(|n| *n > 1))
        })
        .count();
    if ambiguous > 0 {
        out.left_out.push(LeftOut {
            kind: "organization_client_grants".into(),
            records: ambiguous,
            why: "a0deploy names an organization's client grant by its client only, and an import links the client's first grant: these clients have several grants, so which one is not carried",
        });
    }
    // Every other kind read is named, with why.
    for (kind, count) in state.counts() {
        if used.contains(kind) || FOLDED.contains(&kind) || count == 0 {
            continue;
        }
        let why = NOT_CARRIED
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or("a0deploy has no asset type for it", |(_, why)| *why);
        out.left_out.push(LeftOut {
            kind: kind.to_owned(),
            records: count,
            why,
        });
    }
    out
}

/// The single object of `kind`, secrets as markers, if the state has it.
fn single_of(out: &mut Assets, state: &State, kind: &str, asset: &str) -> Option<Value> {
    let item = state.items(kind).first()?;
    let k = catalog::find(kind)?;
    let mut record = item.record.clone();
    secrets(out, state, k, item, &mut record, asset, &[]);
    Some(record)
}

/// Puts a keyword marker wherever `record` (an object of `kind`) holds a secret, or its
/// snapshot left one out, or the API never gives one back: a text secret becomes
/// `##KEYWORD##`, an object `@@KEYWORD@@` (a0deploy's markers for a value and for JSON).
fn secrets(
    out: &mut Assets,
    state: &State,
    kind: &idferry_auth0::Kind,
    item: &Item,
    record: &mut Value,
    asset: &str,
    dropped: &[&str],
) {
    let object = record
        .get("name")
        .or_else(|| record.get("template"))
        .or_else(|| record.get("identifier"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let redacted = state.redacted(kind, item).to_vec();
    let named = matches!(kind.shape, idferry_auth0::Shape::Collection);
    let at = |field: &str, json: bool| Keyword {
        kind: kind.name,
        object: object.clone().filter(|_| named),
        field: field.to_owned(),
        json,
    };
    // A secret object whose fields are write-only (a webhook's authorization) is marked
    // field by field, so that what is not secret in it (its method) stays.
    // An unencrypted snapshot left such an object out whole: it is one JSON marker.
    let mut paths: Vec<&str> = kind
        .secrets
        .iter()
        .copied()
        .filter(|p| {
            !kind
                .write_only
                .iter()
                .any(|w| w.starts_with(&format!("{p}.")))
                || (redacted.iter().any(|r| r == p) && values_at(record, p).is_empty())
        })
        .collect();
    for p in kind.write_only {
        if !paths
            .iter()
            .any(|s| p == s || p.starts_with(&format!("{s}.")))
        {
            paths.push(p);
        }
    }
    for path in paths.into_iter().filter(|p| !dropped.contains(p)) {
        let left_out = redacted.iter().any(|r| r == path);
        let write_only = kind.write_only.contains(&path);
        if path == "*" {
            // Every value is a secret (a hook's): markers by their names.
            if let Value::Object(map) = record {
                for (name, v) in map.iter_mut() {
                    let word = keyword(asset, object.as_deref(), name);
                    out.keywords.insert(word.clone(), at(name, false));
                    *v = Value::String(format!("##{word}##"));
                }
            }
            continue;
        }
        if path.contains("[]") {
            // In lists: a marker where a value is, or where a write-only field's object is
            // (an action's secrets, by their names).
            let (parent, leaf) = path.rsplit_once('.').unwrap_or(("", path));
            let mut placed = false;
            idferry_model::record::map_values(record, parent, &mut |item| {
                let Value::Object(m) = item else { return };
                let had = m.get(leaf).is_some_and(|v| !v.is_null());
                if !(had || write_only) {
                    return;
                }
                let label = m
                    .get("name")
                    .and_then(Value::as_str)
                    .map_or_else(|| path.replace("[]", ""), str::to_owned);
                let word = keyword(asset, object.as_deref(), &label);
                let field = match m.get("name").and_then(Value::as_str) {
                    Some(n) => format!("{}.{n}", parent.trim_end_matches("[]")),
                    None => path.to_owned(),
                };
                out.keywords.insert(word.clone(), at(&field, false));
                m.insert(leaf.to_owned(), Value::String(format!("##{word}##")));
                placed = true;
            });
            if !placed && left_out {
                out.unplaced.push(format!(
                    "{asset} {}: {path}",
                    object.as_deref().unwrap_or("?")
                ));
            }
            continue;
        }
        let had = values_at(record, path).into_iter().any(|v| !v.is_null());
        let applies = kind
            .write_only_when
            .iter()
            .filter(|(f, _, _)| *f == path)
            .all(|(f, sibling, value)| {
                let parent = f.rsplit_once('.').map_or("", |(p, _)| p);
                let at = if parent.is_empty() {
                    sibling.to_string()
                } else {
                    format!("{parent}.{sibling}")
                };
                values_at(record, &at).first() == Some(&&json!(value))
            });
        if !(had || left_out || (write_only && applies)) {
            continue;
        }
        // A secret object is one JSON marker.
        let is_object = values_at(record, path)
            .first()
            .is_some_and(|v| v.is_object())
            || (!had && OBJECT_SECRETS.contains(&path))
            || (!had
                && kind
                    .write_only
                    .iter()
                    .any(|w| w.starts_with(&format!("{path}."))));
        let word = keyword(asset, object.as_deref(), path);
        out.keywords.insert(word.clone(), at(path, is_object));
        let marker = if is_object {
            format!("@@{word}@@")
        } else {
            format!("##{word}##")
        };
        set_path(record, path, Value::String(marker));
    }
}

/// `ASSET_OBJECT_FIELD` in capitals, every other character an underscore.
fn keyword(asset: &str, object: Option<&str>, field: &str) -> String {
    let mut word = String::new();
    for part in [Some(asset), object, Some(field)].into_iter().flatten() {
        if !word.is_empty() {
            word.push('_');
        }
        word.extend(part.chars().map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        }));
    }
    word
}

/// Sets the dot path `path` of `value` (objects made on the way).
pub(crate) fn set_path(value: &mut Value, path: &str, to: Value) {
    let mut at = value;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let Value::Object(map) = at else { return };
        if parts.peek().is_none() {
            map.insert(part.to_owned(), to);
            return;
        }
        at = map
            .entry(part.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

fn hook_secrets(
    cx: &Context,
    item: &Item,
    map: &mut Map<String, Value>,
    keywords: &mut BTreeMap<String, Keyword>,
) {
    let Some(id) = id_of("hooks", item) else {
        return;
    };
    let name = item.record["name"].as_str().unwrap_or(id);
    let mut secrets = Map::new();
    for child in cx.children("hook_secrets", id) {
        if let Some(values) = child.record.as_object() {
            for key in values.keys() {
                let word = keyword("hooks", Some(name), key);
                keywords.insert(
                    word.clone(),
                    Keyword {
                        kind: "hook_secrets",
                        object: Some(name.to_owned()),
                        field: key.clone(),
                        json: false,
                    },
                );
                secrets.insert(key.clone(), Value::String(format!("##{word}##")));
            }
        }
    }
    if !secrets.is_empty() {
        map.insert("secrets".into(), Value::Object(secrets));
    }
}

fn client_names(cx: &Context, connection: &str) -> Vec<Value> {
    let mut names: Vec<Value> = cx
        .children("connection_clients", connection)
        .filter_map(|c| c.record["client_id"].as_str())
        .map(|id| Value::String(cx.name("clients", id)))
        .collect();
    names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    names
}

fn enabled_clients(
    cx: &Context,
    item: &Item,
    map: &mut Map<String, Value>,
    _: &mut BTreeMap<String, Keyword>,
) {
    let Some(id) = id_of("connections", item) else {
        return;
    };
    let names = client_names(cx, id);
    if !names.is_empty() {
        map.insert("enabled_clients".into(), Value::Array(names));
    }
}

fn connection_extras(
    cx: &Context,
    item: &Item,
    map: &mut Map<String, Value>,
    _: &mut BTreeMap<String, Keyword>,
) {
    enabled_clients(cx, item, map, &mut BTreeMap::new());
    let Some(id) = id_of("connections", item) else {
        return;
    };
    if let Some(scim) = cx.children("scim_configurations", id).next() {
        let mut scim_config = Map::new();
        for field in ["user_id_attribute", "mapping"] {
            if let Some(v) = scim.record.get(field) {
                scim_config.insert(field.into(), v.clone());
            }
        }
        map.insert("scim_configuration".into(), Value::Object(scim_config));
    }
}

fn role_permissions(
    cx: &Context,
    item: &Item,
    map: &mut Map<String, Value>,
    _: &mut BTreeMap<String, Keyword>,
) {
    let Some(id) = id_of("roles", item) else {
        return;
    };
    let permissions: Vec<Value> = cx
        .children("role_permissions", id)
        .map(|p| {
            json!({
                "resource_server_identifier": p.record["resource_server_identifier"],
                "permission_name": p.record["permission_name"],
            })
        })
        .collect();
    map.insert("permissions".into(), Value::Array(permissions));
}

fn action_deployed(
    _: &Context,
    item: &Item,
    map: &mut Map<String, Value>,
    _: &mut BTreeMap<String, Keyword>,
) {
    let deployed = item.record["all_changes_deployed"] == json!(true);
    map.insert("deployed".into(), Value::Bool(deployed));
    map.entry("dependencies")
        .or_insert_with(|| Value::Array(Vec::new()));
}

fn organization_parts(
    cx: &Context,
    item: &Item,
    map: &mut Map<String, Value>,
    _: &mut BTreeMap<String, Keyword>,
) {
    let Some(id) = id_of("organizations", item) else {
        return;
    };
    let connections: Vec<Value> = cx
        .children("organization_enabled_connections", id)
        .map(|c| {
            let mut m = c.record.as_object().cloned().unwrap_or_default();
            let name = m
                .remove("connection_id")
                .and_then(|v| v.as_str().map(|id| cx.name("connections", id)));
            m.remove("connection");
            let mut out = Map::new();
            out.insert("name".into(), json!(name));
            out.extend(m);
            Value::Object(out)
        })
        .collect();
    let grants: Vec<Value> = cx
        .children("organization_client_grants", id)
        .filter_map(|g| g.record["client_id"].as_str())
        .map(|client| json!({ "client_id": cx.name("clients", client) }))
        .collect();
    let domains: Vec<Value> = cx
        .children("organization_discovery_domains", id)
        .map(|d| {
            let mut r = d.record.clone();
            remove_path(&mut r, "id");
            r
        })
        .collect();
    map.insert("connections".into(), Value::Array(connections));
    map.insert("client_grants".into(), Value::Array(grants));
    map.insert("discovery_domains".into(), Value::Array(domains));
}

fn self_service_texts(
    cx: &Context,
    item: &Item,
    map: &mut Map<String, Value>,
    _: &mut BTreeMap<String, Keyword>,
) {
    let Some(id) = id_of("self_service_profiles", item) else {
        return;
    };
    let mut texts = Map::new();
    for text in cx.children("self_service_profile_custom_text", id) {
        let Some((language, page)) = text.key.as_deref().and_then(|k| k.split_once('/')) else {
            continue;
        };
        let by_page = texts
            .entry(language.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(pages) = by_page {
            pages.insert(page.to_owned(), text.record.clone());
        }
    }
    if !texts.is_empty() {
        map.insert("customText".into(), Value::Object(texts));
    }
}

fn exchange_action(
    cx: &Context,
    _: &Item,
    map: &mut Map<String, Value>,
    _: &mut BTreeMap<String, Keyword>,
) {
    if let Some(id) = map.remove("action_id") {
        let name = id.as_str().map(|id| cx.name("actions", id));
        map.insert("action".into(), json!(name));
    }
}

/// Tenant settings whose page a0deploy writes as a `pages` object: (field, page name).
pub(crate) const SETTINGS_PAGES: &[(&str, &str)] = &[
    ("error_page", "error_page"),
    ("change_password", "password_reset"),
    ("guardian_mfa_page", "guardian_multifactor"),
];

/// `tenant` (the settings, without their pages) and `pages` (the login page of the
/// global client, and the settings' pages).
fn tenant_and_pages(out: &mut Assets, cx: &Context) {
    let mut pages = Vec::new();
    if let Some(global) = cx
        .state
        .items("clients")
        .iter()
        .find(|c| c.record["global"] == json!(true))
        && let Some(html) = global.record.get("custom_login_page")
    {
        pages.push(json!({
            "name": "login",
            "enabled": global.record.get("custom_login_page_on").cloned().unwrap_or(json!(false)),
            "html": html,
        }));
    }
    if let Some(settings) = cx.state.items("tenant_settings").first() {
        let mut tenant = settings.record.clone();
        for (field, page) in SETTINGS_PAGES {
            // A page is written when it has HTML (a0deploy's rule).
            if let Some(Value::Object(mut p)) =
                tenant.as_object_mut().and_then(|t| t.remove(*field))
                && p.get("html")
                    .and_then(Value::as_str)
                    .is_some_and(|h| !h.is_empty())
            {
                let mut page_map = Map::new();
                page_map.insert("name".into(), json!(page));
                page_map.append(&mut p);
                pages.push(Value::Object(page_map));
            }
        }
        for field in [
            "sandbox_versions_available",
            "flags.allow_changing_enable_sso",
            "flags.enable_sso",
            "flags.disable_impersonation",
            "flags.remove_stale_idp_attributes",
        ] {
            remove_path(&mut tenant, field);
        }
        out.carried.push(("tenant", 1));
        out.assets.insert("tenant".into(), tenant);
    }
    if cx.state.read_kind("clients") || cx.state.read_kind("tenant_settings") {
        out.carried.push(("pages", pages.len()));
        out.assets.insert("pages".into(), Value::Array(pages));
    }
}

fn branding(out: &mut Assets, cx: &Context) {
    let Some(b) = cx.state.items("branding").first() else {
        return;
    };
    let mut branding = b.record.clone();
    if let Some(t) = cx.state.items("universal_login_template").first()
        && let Some(body) = t.record.get("body")
        && let Value::Object(map) = &mut branding
    {
        map.insert(
            "templates".into(),
            json!([{ "template": "universal_login", "body": body }]),
        );
    }
    out.carried.push(("branding", 1));
    out.assets.insert("branding".into(), branding);
}

fn prompts(out: &mut Assets, cx: &Context) {
    let Some(p) = cx.state.items("prompts").first() else {
        return;
    };
    let mut prompts = p.record.as_object().cloned().unwrap_or_default();
    let mut texts = Map::new();
    for text in cx.state.items("prompt_custom_text") {
        let Some((prompt, language)) = text.key.as_deref().and_then(|k| k.split_once('/')) else {
            continue;
        };
        let by_prompt = texts
            .entry(language.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = by_prompt {
            m.insert(prompt.to_owned(), text.record.clone());
        }
    }
    let mut partials = Map::new();
    for partial in cx.state.items("prompt_partials") {
        if let Some(prompt) = &partial.key {
            partials.insert(prompt.clone(), partial.record.clone());
        }
    }
    let renderers: Vec<Value> = cx
        .state
        .items("prompt_screen_renderings")
        .iter()
        .map(|r| {
            let mut r = r.record.clone();
            remove_path(&mut r, "tenant");
            r
        })
        .collect();
    prompts.insert("customText".into(), Value::Object(texts));
    prompts.insert("partials".into(), Value::Object(partials));
    prompts.insert("screenRenderers".into(), Value::Array(renderers));
    out.carried.push(("prompts", 1));
    out.assets.insert("prompts".into(), Value::Object(prompts));
}

fn guardian_templates(out: &mut Assets, cx: &Context) {
    let Some(t) = cx.state.items("guardian_sms_templates").first() else {
        return;
    };
    let mut template = Map::new();
    template.insert("name".into(), json!("sms"));
    template.extend(t.record.as_object().cloned().unwrap_or_default());
    out.carried.push(("guardianFactorTemplates", 1));
    out.assets.insert(
        "guardianFactorTemplates".into(),
        json!([Value::Object(template)]),
    );
    out.assets
        .insert("guardianFactorProviders".into(), json!([]));
}

fn triggers(out: &mut Assets, cx: &Context) {
    if !cx.state.read_kind("trigger_bindings") {
        return;
    }
    let mut triggers = Map::new();
    let mut bound = 0;
    for binding in cx.state.items("trigger_bindings") {
        let Some(trigger) = binding.parent.last() else {
            continue;
        };
        let action = binding.record["action"]["name"].clone();
        let entry = triggers
            .entry(trigger.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(list) = entry {
            list.push(json!({
                "action_name": action,
                "display_name": binding.record["display_name"],
            }));
            bound += 1;
        }
    }
    out.carried.push(("triggers", bound));
    out.assets
        .insert("triggers".into(), Value::Object(triggers));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_the_format_leaves_out_is_named_not_dropped() {
        let mut state = State::default();
        let kind = catalog::find("connections").unwrap();
        let record = json!({"id": "con_1", "name": "Legacy DB", "strategy": "auth0",
            "options": {"configuration": {"DB_PASSWORD": "hunter2"}}});
        state.push(
            kind,
            Item {
                parent: Vec::new(),
                key: None,
                record,
            },
        );
        let out = assets(&state);
        let db = &out.assets["databases"][0];
        assert!(db["options"].get("configuration").is_none(), "{db}");
        assert!(
            !serde_json::to_string(&out.assets)
                .unwrap()
                .contains("hunter2")
        );
        let named: Vec<&str> = out.left_out.iter().map(|l| l.kind.as_str()).collect();
        assert!(
            named.contains(&"connections (options.configuration)"),
            "{named:?}"
        );
    }
}
