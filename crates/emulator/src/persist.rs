//! Saving a tenant to a folder and loading it back (`idferry emulate --data-dir`): the
//! configuration, relations and credentials in `state.json`, users in `users.ndjson`;
//! a ZITADEL instance whole in `zitadel.json`.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::store::{Relation, Store, UserRow};

/// The configuration file of a saved tenant.
pub const STATE_FILE: &str = "state.json";
const USERS_FILE: &str = "users.ndjson";

/// One table as saved: kind, scope, rows by id.
type SavedTable = (String, String, Vec<(String, Value)>);

#[derive(Serialize, Deserialize)]
struct Saved {
    tables: Vec<SavedTable>,
    singletons: Vec<(String, String, Value)>,
    relations: Vec<(String, Relation)>,
    credentials: Vec<(String, Value)>,
    #[serde(default)]
    resources: Vec<(String, Value)>,
}

fn kind_name(name: &str) -> std::io::Result<&'static str> {
    idferry_auth0::catalog::find(name)
        .map(|k| k.name)
        .or_else(|| {
            crate::api::EXTRA_TABLES
                .iter()
                .copied()
                .find(|t| *t == name)
        })
        .ok_or_else(|| std::io::Error::other(format!("unknown kind {name} in saved state")))
}

fn relation_name(name: &str) -> std::io::Result<&'static str> {
    idferry_auth0::CATALOG
        .iter()
        .find_map(|k| match k.shape {
            idferry_auth0::Shape::Links { relation, .. } if relation == name => Some(relation),
            _ => None,
        })
        .ok_or_else(|| std::io::Error::other(format!("unknown relation {name} in saved state")))
}

/// The file of a saved ZITADEL instance.
pub const ZITADEL_FILE: &str = "zitadel.json";

/// Writes a ZITADEL instance into `dir` (written aside, then renamed).
pub fn save_zitadel(instance: &crate::zitadel::Instance, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let partial = dir.join(format!("{ZITADEL_FILE}.partial"));
    let mut out = BufWriter::new(std::fs::File::create(&partial)?);
    serde_json::to_writer(&mut out, instance)?;
    out.flush()?;
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(partial, dir.join(ZITADEL_FILE))
}

/// Reads a ZITADEL instance saved in `dir`.
pub fn load_zitadel(dir: &Path) -> std::io::Result<crate::zitadel::Instance> {
    let file = std::io::BufReader::new(std::fs::File::open(dir.join(ZITADEL_FILE))?);
    Ok(serde_json::from_reader(file)?)
}

/// Writes `store` into `dir` (created if needed), each file written aside then renamed.
pub fn save(store: &Store, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let saved = Saved {
        tables: store
            .tables
            .iter()
            .map(|((k, s), t)| {
                (
                    k.to_string(),
                    s.clone(),
                    t.iter().map(|(i, v)| (i.clone(), v.clone())).collect(),
                )
            })
            .collect(),
        singletons: store
            .singletons
            .iter()
            .map(|((k, s), v)| (k.to_string(), s.clone(), v.clone()))
            .collect(),
        relations: store
            .relations
            .iter()
            .map(|(k, r)| (k.to_string(), r.clone()))
            .collect(),
        credentials: store
            .credentials
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        resources: store
            .resources
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    };
    let tmp = dir.join(format!("{STATE_FILE}.tmp"));
    serde_json::to_writer(BufWriter::new(std::fs::File::create(&tmp)?), &saved)?;
    std::fs::rename(&tmp, dir.join(STATE_FILE))?;
    let tmp = dir.join(format!("{USERS_FILE}.tmp"));
    let mut out = BufWriter::new(std::fs::File::create(&tmp)?);
    for user in store.users.iter() {
        out.write_all(user.json.as_bytes())?;
        out.write_all(b"\n")?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, dir.join(USERS_FILE))
}

/// Loads what [`save`] wrote into `store`.
pub fn load(store: &mut Store, dir: &Path) -> std::io::Result<()> {
    let saved: Saved = serde_json::from_reader(std::io::BufReader::new(std::fs::File::open(
        dir.join(STATE_FILE),
    )?))?;
    for (kind, scope, rows) in saved.tables {
        let table = store.table(kind_name(&kind)?, &scope);
        table.extend(rows);
    }
    for (kind, scope, value) in saved.singletons {
        store.singletons.insert((kind_name(&kind)?, scope), value);
    }
    for (name, relation) in saved.relations {
        store.relations.insert(relation_name(&name)?, relation);
    }
    store.credentials.extend(saved.credentials);
    store.resources.extend(saved.resources);
    let users = dir.join(USERS_FILE);
    if users.exists() {
        for line in std::io::BufReader::new(std::fs::File::open(users)?).lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let user: Value = serde_json::from_str(&line)?;
            let row = UserRow::from_value(&user)
                .ok_or_else(|| std::io::Error::other("a saved user has no user_id"))?;
            store.users.put(row);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::{GenerateSpec, tenant};

    #[test]
    fn a_saved_tenant_loads_back_the_same() {
        let mut store = Store::new("t", 5);
        tenant(
            &mut store,
            &GenerateSpec {
                users: 30,
                organizations: 3,
            },
        );
        let dir = tempfile::tempdir().unwrap();
        save(&store, dir.path()).unwrap();
        let mut loaded = Store::new("t", 5);
        load(&mut loaded, dir.path()).unwrap();
        assert_eq!(loaded.counts(), store.counts());
        let texts = |s: &Store| s.users.iter().map(|u| u.json.clone()).collect::<Vec<_>>();
        assert_eq!(texts(&loaded), texts(&store));
        assert_eq!(loaded.credentials, store.credentials);
        assert_eq!(
            loaded.table_ref("clients", "").map(|t| t.len()),
            store.table_ref("clients", "").map(|t| t.len())
        );
    }
}
