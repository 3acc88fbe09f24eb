//! Built-in mapping profiles: specs that ship with idferry, used by name.

use crate::spec::{Mapping, SpecError};

/// Profiles by name, with their spec text.
pub const PROFILES: &[(&str, &str)] = &[
    (
        "auth0-export-to-import",
        include_str!("profiles/auth0-export-to-import.toml"),
    ),
    (
        "auth0-to-zitadel",
        include_str!("profiles/auth0-to-zitadel.toml"),
    ),
];

/// The profile called `name`.
pub fn profile(name: &str) -> Result<Mapping, SpecError> {
    let (_, text) = PROFILES
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| SpecError {
            file: format!("profile {name}"),
            line: 0,
            column: 0,
            message: format!(
                "no such profile; the profiles are: {}",
                PROFILES
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?;
    Mapping::parse(text, &format!("profile {name}"), &|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::apply_all;
    use serde_json::json;

    #[test]
    fn an_export_line_becomes_an_import_user() {
        let mapping = profile("auth0-export-to-import").unwrap();
        let mut user = json!({
            "user_id": "auth0|5dea9f9c82dd7c0e76e4ec93", "email": "a@example.com", "email_verified": true,
            "name": "A", "picture": "https://x/p.png", "blocked": false, "created_at": "2020-01-01T00:00:00.000Z",
            "logins_count": 4, "last_login": "x", "identities": [{"connection": "db"}],
            "user_metadata": {"lang": "fr"}, "app_metadata": {"plan": "pro", "_id": "x"}
        });
        assert!(apply_all(mapping.rules_for("users"), &mut user).unwrap());
        assert_eq!(
            user,
            json!({
                "user_id": "5dea9f9c82dd7c0e76e4ec93", "email": "a@example.com", "email_verified": true,
                "name": "A", "picture": "https://x/p.png", "blocked": false,
                "user_metadata": {"lang": "fr"}, "app_metadata": {"plan": "pro"}
            })
        );
        let zitadel = profile("auth0-to-zitadel").unwrap();
        let mut user = json!({"user_id": "auth0|x", "email": "a@example.com", "email_verified": true,
                              "given_name": "A", "name": "A B", "logins_count": 4, "user_metadata": {"lang": "fr"}});
        assert!(apply_all(zitadel.rules_for("users"), &mut user).unwrap());
        assert_eq!(
            user,
            json!({"user_id": "auth0|x", "human": {"email": {"email": "a@example.com", "isVerified": true},
                   "profile": {"givenName": "A", "displayName": "A B"}},
                   "metadata": {"user_metadata": {"lang": "fr"}}})
        );
        assert!(
            profile("nope")
                .unwrap_err()
                .to_string()
                .contains("auth0-export-to-import")
        );
    }
}
