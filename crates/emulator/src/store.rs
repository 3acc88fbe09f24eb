//! What one emulated tenant holds: objects of every catalog kind (by kind and parent
//! scope), singletons, the relations behind membership lists (user roles, organization
//! members, role permissions...), users, password hashes and jobs.
//!
//! Users are kept serialized (one JSON text each) with indexes by id and email: a
//! tenant of a million users then costs about their JSON size, and an export copies
//! text instead of re-serializing values.

use std::collections::HashMap;
use std::sync::Arc;

use indexmap::{IndexMap, IndexSet};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::jobs::Job;

/// A table of one kind's objects under one parent (scope `""` for top-level kinds).
pub type Table = IndexMap<String, Value>;

/// Pairs of ids, indexed from both ends.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Relation {
    fwd: IndexMap<String, IndexSet<String>>,
    rev: IndexMap<String, IndexSet<String>>,
}

impl Relation {
    /// Adds `left -> right`; false when it was there.
    pub fn add(&mut self, left: &str, right: &str) -> bool {
        let added = self
            .fwd
            .entry(left.to_owned())
            .or_default()
            .insert(right.to_owned());
        self.rev
            .entry(right.to_owned())
            .or_default()
            .insert(left.to_owned());
        added
    }

    /// Removes `left -> right`.
    pub fn remove(&mut self, left: &str, right: &str) {
        if let Some(set) = self.fwd.get_mut(left) {
            set.shift_remove(right);
        }
        if let Some(set) = self.rev.get_mut(right) {
            set.shift_remove(left);
        }
    }

    /// The ids paired with `id` on the other side (`inverse`: `id` is a right id).
    pub fn of(&self, id: &str, inverse: bool) -> Vec<String> {
        let side = if inverse { &self.rev } else { &self.fwd };
        side.get(id)
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The ids paired with `id`, without copying them.
    pub fn set(&self, id: &str, inverse: bool) -> Option<&IndexSet<String>> {
        let side = if inverse { &self.rev } else { &self.fwd };
        side.get(id)
    }

    /// Whether `left -> right` is there.
    pub fn contains(&self, left: &str, right: &str) -> bool {
        self.fwd.get(left).is_some_and(|s| s.contains(right))
    }

    /// Removes every pair in which `id` stands on the given side.
    pub fn forget(&mut self, id: &str, inverse: bool) {
        for other in self.of(id, inverse) {
            if inverse {
                self.remove(&other, id);
            } else {
                self.remove(id, &other);
            }
        }
    }

    /// The number of pairs.
    pub fn len(&self) -> usize {
        self.fwd.values().map(IndexSet::len).sum()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One stored user: its id, indexed fields and its JSON text.
#[derive(Debug, Clone)]
pub struct UserRow {
    /// `user_id`.
    pub id: String,
    /// Lowercased email, if any.
    pub email: Option<String>,
    /// The connection of its first identity.
    pub connection: String,
    /// `username`, if any.
    pub username: Option<String>,
    /// The user as the API returns it.
    pub json: Arc<str>,
}

impl UserRow {
    /// Builds a row from a user object.
    pub fn from_value(user: &Value) -> Option<Self> {
        let id = user.get("user_id")?.as_str()?.to_owned();
        let email = user
            .get("email")
            .and_then(Value::as_str)
            .map(str::to_lowercase);
        let connection = user
            .pointer("/identities/0/connection")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let username = user
            .get("username")
            .and_then(Value::as_str)
            .map(str::to_owned);
        Some(Self {
            id,
            email,
            connection,
            username,
            json: Arc::from(user.to_string()),
        })
    }

    /// The user as a JSON value.
    pub fn value(&self) -> Value {
        serde_json::from_str(&self.json).unwrap_or(Value::Null)
    }
}

/// The users of a tenant, in creation order, indexed by id and by email.
#[derive(Debug, Default, Clone)]
pub struct Users {
    rows: IndexMap<String, UserRow>,
    by_email: HashMap<String, Vec<String>>,
    by_username: HashMap<(String, String), String>,
}

impl Users {
    /// How many users there are.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// A user by id.
    pub fn get(&self, id: &str) -> Option<&UserRow> {
        self.rows.get(id)
    }

    /// The user at position `i` in creation order.
    pub fn at(&self, i: usize) -> Option<&UserRow> {
        self.rows.get_index(i).map(|(_, row)| row)
    }

    /// Users with this email (any connection).
    pub fn by_email(&self, email: &str) -> Vec<&UserRow> {
        self.by_email
            .get(&email.to_lowercase())
            .map(|ids| ids.iter().filter_map(|id| self.rows.get(id)).collect())
            .unwrap_or_default()
    }

    /// The user of `connection` with this email.
    pub fn by_email_in(&self, email: &str, connection: &str) -> Option<&UserRow> {
        self.by_email(email)
            .into_iter()
            .find(|row| row.connection == connection)
    }

    /// Whether `username` is taken in `connection`.
    pub fn username_taken(&self, connection: &str, username: &str) -> bool {
        self.by_username
            .contains_key(&(connection.to_owned(), username.to_owned()))
    }

    /// Inserts or replaces a user.
    pub fn put(&mut self, row: UserRow) {
        if let Some(old) = self.rows.get(&row.id).cloned() {
            self.unindex(&old);
        }
        if let Some(name) = &row.username {
            self.by_username
                .insert((row.connection.clone(), name.clone()), row.id.clone());
        }
        if let Some(email) = &row.email {
            self.by_email
                .entry(email.clone())
                .or_default()
                .push(row.id.clone());
        }
        self.rows.insert(row.id.clone(), row);
    }

    /// Removes a user.
    pub fn remove(&mut self, id: &str) -> Option<UserRow> {
        let row = self.rows.shift_remove(id)?;
        self.unindex(&row);
        Some(row)
    }

    fn unindex(&mut self, row: &UserRow) {
        if let Some(name) = &row.username {
            self.by_username
                .remove(&(row.connection.clone(), name.clone()));
        }
        if let Some(email) = &row.email
            && let Some(ids) = self.by_email.get_mut(email)
        {
            ids.retain(|id| id != &row.id);
        }
    }

    /// Every user's JSON text, in order: cheap to take (shared text), for exports.
    pub fn texts(&self) -> Vec<Arc<str>> {
        self.rows.values().map(|r| r.json.clone()).collect()
    }

    /// Iterates over users in order.
    pub fn iter(&self) -> impl Iterator<Item = &UserRow> {
        self.rows.values()
    }
}

/// Everything one tenant holds.
pub struct Store {
    /// The tenant's name.
    pub tenant: String,
    /// Draws ids and generated data; seeded, so runs repeat.
    pub rng: StdRng,
    /// Objects by (kind, parent scope).
    pub tables: HashMap<(&'static str, String), Table>,
    /// Singletons by (kind, parent scope).
    pub singletons: HashMap<(&'static str, String), Value>,
    /// Relations by name.
    pub relations: HashMap<&'static str, Relation>,
    /// Users.
    pub users: Users,
    /// Password hashes given at import or creation, by user id (never returned by the API).
    pub credentials: HashMap<String, Value>,
    /// Jobs by id.
    pub jobs: IndexMap<String, Job>,
    /// Objects of operations the catalog holds no kind for, by their path
    /// (`/groups/grp_1`), served from the spec (`from_spec`).
    pub resources: IndexMap<String, Value>,
}

/// FNV-1a of a tenant's name.
fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

impl Store {
    /// An empty tenant.
    pub fn new(tenant: &str, seed: u64) -> Self {
        let mut store = Self {
            tenant: tenant.to_owned(),
            // The name is mixed in: two tenants never draw the same ids (as on the
            // platform, where ids are unique across tenants).
            rng: StdRng::seed_from_u64(seed ^ name_hash(tenant)),
            tables: HashMap::new(),
            singletons: HashMap::new(),
            relations: HashMap::new(),
            users: Users::default(),
            credentials: HashMap::new(),
            jobs: IndexMap::new(),
            resources: IndexMap::new(),
        };
        store.add_global_client();
        store
    }

    /// Every tenant has its global client, "All Applications" (`global: true`): the
    /// platform's own, which a restore neither writes nor deletes. Its id comes from the
    /// tenant's name (not the random stream, so that generated tenants keep their ids).
    fn add_global_client(&mut self) {
        let seed = name_hash(&self.tenant);
        let id = crate::ids::alnum(&mut StdRng::seed_from_u64(seed), 32);
        let tenant = self.tenant.clone();
        self.table("clients", "").insert(
            id.clone(),
            serde_json::json!({
                "client_id": id, "name": "All Applications", "global": true,
                "tenant": tenant, "callbacks": [], "is_first_party": true,
            }),
        );
    }

    /// The table of `kind` under `scope`, created empty if needed.
    pub fn table(&mut self, kind: &'static str, scope: &str) -> &mut Table {
        self.tables.entry((kind, scope.to_owned())).or_default()
    }

    /// The table of `kind` under `scope`, if it has one.
    pub fn table_ref(&self, kind: &'static str, scope: &str) -> Option<&Table> {
        self.tables.get(&(kind, scope.to_owned()))
    }

    /// The relation called `name`.
    pub fn relation(&mut self, name: &'static str) -> &mut Relation {
        self.relations.entry(name).or_default()
    }

    /// Every object of `kind` across all scopes, with its scope.
    pub fn all_of(&self, kind: &str) -> Vec<(String, Value)> {
        let mut out: Vec<(String, Value)> = self
            .tables
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .flat_map(|((_, scope), table)| table.values().map(move |v| (scope.clone(), v.clone())))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// A short-lived view of how much the tenant holds, kind by kind.
    pub fn counts(&self) -> IndexMap<String, usize> {
        let mut counts: IndexMap<String, usize> = IndexMap::new();
        for kind in idferry_auth0::CATALOG {
            let n = match kind.shape {
                // Answered from the custom domains (or the canonical domain): always one.
                _ if kind.name == "default_custom_domain" => 1,
                idferry_auth0::Shape::Singleton => self
                    .singletons
                    .keys()
                    .filter(|(k, _)| *k == kind.name)
                    .count(),
                idferry_auth0::Shape::Links {
                    relation, inverse, ..
                } => {
                    if inverse {
                        continue; // the same pairs as the row that owns the relation
                    }
                    self.relations.get(relation).map_or(0, Relation::len)
                }
                _ if kind.name == "users" => self.users.len(),
                _ => self
                    .tables
                    .iter()
                    .filter(|((k, _), _)| *k == kind.name)
                    .map(|(_, t)| t.len())
                    .sum(),
            };
            counts.insert(kind.name.to_owned(), n);
        }
        counts
    }
}
