//! How a list answer honours the query parameters that choose records or fields, as the
//! spec declares them for each list operation: one row per (kind, parameter) saying which
//! field it compares and how, and the `fields` / `include_fields` projection every list
//! that declares them takes. A unit test checks every row against the spec's parameters.

use serde_json::{Map, Value};

use crate::paginate::Query;

/// How a parameter compares a record's field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Equal to the value.
    Equal,
    /// Equal to one of the comma-separated values.
    AnyOf,
    /// `true` / `false` against a boolean field (a missing field is false).
    Bool,
    /// The field contains the value, case-insensitively.
    Contains,
}

/// One filtering parameter of a kind's list operation.
#[derive(Debug, Clone, Copy)]
pub struct Filter {
    /// The catalog kind.
    pub kind: &'static str,
    /// The query parameter.
    pub param: &'static str,
    /// The record's field it compares.
    pub field: &'static str,
    /// How.
    pub compare: Compare,
}

const fn f(
    kind: &'static str,
    param: &'static str,
    field: &'static str,
    compare: Compare,
) -> Filter {
    Filter {
        kind,
        param,
        field,
        compare,
    }
}

/// The filtering parameters of the list operations, from the spec.
pub const FILTERS: &[Filter] = &[
    f("connections", "strategy", "strategy", Compare::AnyOf),
    f("connections", "name", "name", Compare::Equal),
    f("clients", "is_global", "global", Compare::Bool),
    f("clients", "is_first_party", "is_first_party", Compare::Bool),
    f("clients", "app_type", "app_type", Compare::AnyOf),
    f(
        "resource_servers",
        "identifiers",
        "identifier",
        Compare::AnyOf,
    ),
    f("roles", "name_filter", "name", Compare::Contains),
    f("client_grants", "audience", "audience", Compare::Equal),
    f("client_grants", "client_id", "client_id", Compare::Equal),
    f("hooks", "enabled", "enabled", Compare::Bool),
    f("hooks", "triggerId", "triggerId", Compare::Equal),
    f("rules", "enabled", "enabled", Compare::Bool),
    f("actions", "actionName", "name", Compare::Equal),
];

/// Whether `record` passes every filter of `kind` that `q` sets.
pub fn keeps(kind: &str, q: &Query, record: &Value) -> bool {
    FILTERS
        .iter()
        .filter(|f| f.kind == kind)
        .all(|f| match q.get(f.param) {
            None => true,
            Some(want) => {
                let have = record.get(f.field);
                match f.compare {
                    Compare::Equal => have.and_then(Value::as_str) == Some(want.as_str()),
                    Compare::AnyOf => have
                        .and_then(Value::as_str)
                        .is_some_and(|h| want.split(',').any(|w| w.trim() == h)),
                    Compare::Bool => {
                        have.and_then(Value::as_bool).unwrap_or(false) == (want == "true")
                    }
                    Compare::Contains => have
                        .and_then(Value::as_str)
                        .is_some_and(|h| h.to_lowercase().contains(&want.to_lowercase())),
                }
            }
        })
}

/// `record` with only the fields `fields` names (or all but them with
/// `include_fields=false`), when `fields` is given.
pub fn project(q: &Query, record: Value) -> Value {
    let Some(fields) = q.get("fields").filter(|f| !f.is_empty()) else {
        return record;
    };
    let include = q.get("include_fields").is_none_or(|v| v != "false");
    let named: Vec<&str> = fields.split(',').map(str::trim).collect();
    match record {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| named.contains(&k.as_str()) == include)
                .collect::<Map<_, _>>(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The query parameters the spec declares for `kind`'s list operation.
    fn declared(spec: &Value, kind: &str) -> Vec<String> {
        let k = idferry_auth0::catalog::find(kind).expect("a catalog kind");
        let path = k.list.expect("a list endpoint").path;
        let op = &spec["paths"][path]["get"];
        op["parameters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| match p.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap_or_default();
                    spec["components"]["parameters"][name].clone()
                }
                None => p.clone(),
            })
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn every_filter_is_a_query_parameter_the_spec_declares_for_that_list() {
        let spec: Value = serde_json::from_str(crate::judge::AUTH0_SPEC).expect("JSON");
        for f in FILTERS {
            let params = declared(&spec, f.kind);
            assert!(
                params.iter().any(|p| p == f.param),
                "{}: the spec's list takes {params:?}, not {}",
                f.kind,
                f.param
            );
        }
    }

    #[test]
    fn filters_choose_records_and_fields_choose_fields() {
        let q = |pairs: &[(&str, &str)]| -> Query {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let db =
            json!({"name": "Username-Password-Authentication", "strategy": "auth0", "id": "con_1"});
        let google = json!({"name": "google-oauth2", "strategy": "google-oauth2", "id": "con_2"});
        let by_strategy = q(&[("strategy", "auth0")]);
        assert!(keeps("connections", &by_strategy, &db));
        assert!(!keeps("connections", &by_strategy, &google));
        let either = q(&[("strategy", "auth0,google-oauth2")]);
        assert!(keeps("connections", &either, &google));
        assert!(!keeps("connections", &q(&[("name", "google-oauth2")]), &db));
        let global = json!({"name": "All Applications", "global": true});
        let app = json!({"name": "web"});
        assert!(keeps("clients", &q(&[("is_global", "true")]), &global));
        assert!(!keeps("clients", &q(&[("is_global", "true")]), &app));
        assert!(keeps("clients", &q(&[("is_global", "false")]), &app));
        assert!(keeps(
            "roles",
            &q(&[("name_filter", "ADM")]),
            &json!({"name": "admin"})
        ));
        // A parameter the kind does not filter by changes nothing.
        assert!(keeps(
            "roles",
            &q(&[("strategy", "x")]),
            &json!({"name": "admin"})
        ));
        assert_eq!(
            project(&q(&[("fields", "id,name")]), db.clone()),
            json!({"name": "Username-Password-Authentication", "id": "con_1"})
        );
        assert_eq!(
            project(&q(&[("fields", "id"), ("include_fields", "false")]), db),
            json!({"name": "Username-Password-Authentication", "strategy": "auth0"})
        );
    }
}
