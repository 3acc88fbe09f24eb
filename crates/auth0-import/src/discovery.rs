//! References found by id: every string anywhere in a source record that equals the id of
//! another object of the same source is a reference to that object, whether the catalog
//! lists the field or not (a client's `express_configuration.connection_profile_id`, a
//! flow action's `params.connection_id`, a form node's `config.flow_id`). A restore
//! rewrites each to the matching target object's id, or refuses the object and names the
//! field, so that no id of the source tenant is ever written into the target.
//!
//! Only ids the platform makes up (prefixed, random or UUID formats, eight characters or
//! more) are looked for: a name the caller chose (`login`, a guardian factor) could equal
//! any text.

use std::collections::{HashMap, HashSet};

use idferry_auth0::{CATALOG, Kind};
use idferry_model::record::{MIN_MADE_UP_ID, for_each_string, generic_path};
use serde_json::Value;

use crate::state::State;

/// One reference found in a record.
#[derive(Debug, Clone)]
pub struct Found {
    /// Where in the record, with array positions (`actions[0].params.connection_id`).
    pub path: String,
    /// The id of the source object it names.
    pub id: String,
    /// That object's kind.
    pub kind: &'static Kind,
}

impl Found {
    /// The path with array positions left out (`actions[].params.connection_id`), as the
    /// catalog writes fields.
    pub fn field(&self) -> String {
        generic_path(&self.path)
    }
}

/// The ids of a source's objects, for looking references up.
#[derive(Debug, Default)]
pub struct SourceIds {
    by_id: HashMap<String, &'static Kind>,
}

impl SourceIds {
    /// The made-up ids of every configuration object of `source`.
    pub fn of(source: &State) -> Self {
        let mut by_id = HashMap::new();
        for kind in CATALOG.iter().filter(|k| k.config) {
            let Some(field) = kind.id_field.filter(|_| kind.ids_are_made_up()) else {
                continue;
            };
            for item in source.items(kind.name) {
                if let Some(Value::String(id)) = item.record.get(field)
                    && id.len() >= MIN_MADE_UP_ID
                {
                    by_id.insert(id.clone(), kind);
                }
            }
        }
        Self { by_id }
    }

    /// The references in `record` (an object of `kind`) that the catalog does not list:
    /// strings equal to another object's id, outside `kind`'s own id field, its listed
    /// reference fields and the fields the API sets (never written: an action's
    /// `deployed_version.action_id` is its own id).
    pub fn found_in(&self, kind: &Kind, record: &Value) -> Vec<Found> {
        let mut found = Vec::new();
        if self.by_id.is_empty() {
            return found;
        }
        let listed: HashSet<String> = kind
            .references
            .iter()
            .map(|r| generic_path(r.field))
            .collect();
        let own = kind
            .id_field
            .and_then(|f| record.get(f))
            .and_then(Value::as_str);
        for_each_string(record, &mut |path, s| {
            let Some(target) = self.by_id.get(s) else {
                return;
            };
            let field = generic_path(path);
            let set_by_api = kind.read_only.iter().any(|r| {
                field == *r
                    || field
                        .strip_prefix(r)
                        .is_some_and(|rest| rest.starts_with(['.', '[']))
            });
            if Some(s) == own || set_by_api || listed.contains(&field) {
                return;
            }
            found.push(Found {
                path: path.to_owned(),
                id: s.to_owned(),
                kind: target,
            });
        });
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Item;
    use idferry_auth0::catalog;
    use serde_json::json;

    fn state(records: &[(&str, Value)]) -> State {
        let mut s = State::default();
        for (kind, record) in records {
            s.push(
                catalog::find(kind).unwrap(),
                Item {
                    parent: Vec::new(),
                    key: None,
                    record: record.clone(),
                },
            );
        }
        s
    }

    #[test]
    fn ids_are_found_at_any_depth_but_not_listed_api_set_or_own_ones() {
        let source = state(&[
            (
                "flows_vault_connections",
                json!({"id": "ac_0123456789abcdef", "name": "Slack"}),
            ),
            (
                "flows",
                json!({"id": "af_0123456789abcdef", "name": "Welcome"}),
            ),
            (
                "connection_profiles",
                json!({"id": "cop_0123456789abcdef", "name": "OIDC"}),
            ),
            (
                "actions",
                json!({"id": "7c1e3f52-5f4d-4e55-a0a5-3f1f3f9e8d11", "name": "a"}),
            ),
        ]);
        let ids = SourceIds::of(&source);
        let flows = catalog::find("flows").unwrap();
        // Its own id (in a list) and fields the API sets are not references to follow.
        let flow = json!({"id": "af_0123456789abcdef", "actions": [
            {"params": {"text": "hi"}},
            {"params": {"connection_id": "ac_0123456789abcdef", "list": ["af_0123456789abcdef"],
                        "profile": "cop_0123456789abcdef"}}
        ], "created_at": "cop_0123456789abcdef"});
        let found = ids.found_in(flows, &flow);
        let got: Vec<(String, &str)> = found
            .iter()
            .map(|f| (f.path.clone(), f.kind.name))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "actions[1].params.connection_id".to_owned(),
                    "flows_vault_connections"
                ),
                (
                    "actions[1].params.profile".to_owned(),
                    "connection_profiles"
                )
            ]
        );
        assert_eq!(found[0].field(), "actions[].params.connection_id");
        // A listed reference field (token exchange profiles' action_id) is the catalog's.
        let tep = catalog::find("token_exchange_profiles").unwrap();
        let record = json!({"action_id": "7c1e3f52-5f4d-4e55-a0a5-3f1f3f9e8d11",
            "x": {"profile": "cop_0123456789abcdef"}});
        let found = ids.found_in(tep, &record);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].path, "x.profile");
    }
}
