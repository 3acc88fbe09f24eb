//! The prompts whose text and partials a backup reads are the spec's: its enums of the
//! `prompt` path parameter, so that a prompt the API adds is not left behind unseen.

use idferry_auth0::{catalog::PARTIAL_PROMPTS, catalog::PROMPTS};
use serde_json::Value;

const SPEC: &str = include_str!("../testdata/auth0-management-api-v2.openapi.json");

/// The enum of `path`'s GET parameter `name`.
fn path_enum(spec: &Value, path: &str, name: &str) -> Vec<String> {
    let parameter = spec["paths"][path]["get"]["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{path} has no parameter {name}"));
    let mut schema = &parameter["schema"];
    while let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        schema = &spec["components"]["schemas"][name];
    }
    schema["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{path} {name} has no enum"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

#[test]
fn prompts_with_text_and_partials_are_the_specs() {
    let spec: Value = serde_json::from_str(SPEC).unwrap();
    let text = path_enum(&spec, "/prompts/{prompt}/custom-text/{language}", "prompt");
    assert_eq!(text.len(), 36);
    assert_eq!(PROMPTS, text.as_slice());
    let partials = path_enum(&spec, "/prompts/{prompt}/partials", "prompt");
    assert_eq!(PARTIAL_PROMPTS, partials.as_slice());
}
