//! Restore plans: what to write into a target tenant so that its configuration matches a
//! source's (a snapshot or a live tenant), computed before anything is written.
//!
//! Kinds are taken in dependency order ([`catalog::dependency_order`]). Each source object is first
//! put in the target's terms: its parents' and its references' ids are replaced by the
//! ids of the matching target objects. It is then matched with a target object by the
//! catalog's natural key (a client's name, a grant's client and audience) under the
//! same parent, and becomes a create, an update with the fields that differ, or nothing.
//! Objects only in the target are deleted with `allow_delete` and kept otherwise.
//!
//! An object that will be created has no id yet: its dependents carry a placeholder that
//! [`crate::apply`] replaces by the id the create answers.

use std::collections::{BTreeMap, HashMap, HashSet};

use idferry_auth0::catalog::IdFormat;
use idferry_auth0::{CATALOG, Endpoint, Kind, Method, Shape, catalog};
use idferry_model::record::{remove_path, set_at, set_path, values_at};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::discovery::SourceIds;
use crate::state::{Item, State};
use idferry_model::Values;

/// What to plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Only these kinds (and their sub-resources); all configuration when empty.
    pub kinds: Vec<String>,
    /// Only these objects (kind, name) and what hangs from them; all when empty.
    pub only: Vec<(String, String)>,
    /// Delete objects that are only in the target.
    pub allow_delete: bool,
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Creates an object (or adds links).
    Create,
    /// Changes an object.
    Update,
    /// Deletes an object (or removes links).
    Delete,
    /// Cannot be done; `reason` says why and what to do.
    Blocked,
    /// Makes a written object live (deploys an action, publishes a module version).
    GoLive,
}

/// The request a step sends; ids may hold placeholders of objects created earlier.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The endpoint.
    pub endpoint: Endpoint,
    /// Ids filling the endpoint's placeholders.
    pub ids: Vec<String>,
    /// The body.
    pub body: Option<Value>,
    /// For a create: the answer's field holding the new id, and the placeholder it
    /// replaces.
    pub new_id: Option<(&'static str, String)>,
}

/// One write of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// The kind.
    pub kind: &'static str,
    /// The object, with its parents (`organizations acme > domains acme.com`).
    pub name: String,
    /// What it does.
    pub action: Action,
    /// For an update, the fields that change; for links, the items.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// Objects (or links) written.
    pub count: usize,
    /// Why a step is blocked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The request.
    #[serde(skip)]
    pub request: Option<Request>,
}

impl Step {
    /// A step sending `body` to `endpoint` (filled with `ids`) for one object; callers
    /// set the fields, the count or the new id where they differ.
    fn write(
        kind: &'static Kind,
        name: String,
        action: Action,
        endpoint: Endpoint,
        ids: Vec<String>,
        body: Option<Value>,
    ) -> Self {
        Self {
            kind: kind.name,
            name,
            action,
            fields: Vec::new(),
            count: 1,
            reason: None,
            request: Some(Request {
                method: endpoint.method,
                endpoint,
                ids,
                body,
                new_id: None,
            }),
        }
    }
}

/// Counts of one kind in a plan.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Objects to create.
    pub create: usize,
    /// Objects to update.
    pub update: usize,
    /// Objects the same on both sides.
    pub unchanged: usize,
    /// Objects to delete.
    pub delete: usize,
    /// Objects that cannot be written (see the steps' reasons).
    pub blocked: usize,
    /// Objects made live after they are written (actions deployed, modules published).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub made_live: usize,
    /// Objects only in the target, kept (without `allow_delete`).
    pub extra: usize,
}

/// A write-only value the source cannot hold and the values file did not supply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NeededValue {
    /// The kind.
    pub kind: String,
    /// The object's name (none for a singleton).
    pub name: Option<String>,
    /// The field (a dot path).
    pub field: String,
}

impl NeededValue {
    /// How to supply it in a values file.
    pub fn hint(&self) -> String {
        match &self.name {
            Some(name) => format!("[{}.{name:?}] {:?} = ...", self.kind, self.field),
            None => format!("[{}] {:?} = ...", self.kind, self.field),
        }
    }
}

/// A restore plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    /// Writes, in the order they run.
    pub steps: Vec<Step>,
    /// Counts per kind.
    pub tally: BTreeMap<String, Tally>,
    /// Values to supply before the blocked steps can run.
    pub needed_values: Vec<NeededValue>,
    /// Things the user should know (references dropped, secrets not restored).
    pub notes: Vec<String>,
    /// References the catalog does not list, found by id in the records and rewritten
    /// (or refused), per `kind field -> kind referred to`.
    pub discovered: BTreeMap<String, usize>,
}

impl Plan {
    /// True when nothing is to be written.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// True when the plan changes or deletes what the target has (it needs consent).
    pub fn overwrites(&self) -> bool {
        self.steps
            .iter()
            .any(|s| matches!(s.action, Action::Update | Action::Delete))
    }

    /// Requests the plan sends.
    pub fn requests(&self) -> usize {
        self.steps.iter().filter(|s| s.request.is_some()).count()
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Marks a placeholder id; never part of a real id.
const NEW: &str = "\u{1}new#";

/// Whether `s` is a placeholder of an object not created yet.
pub fn is_placeholder(s: &str) -> bool {
    s.starts_with(NEW)
}

/// Links written per request.
const LINK_BATCH: usize = 100;

/// The name of an object as plans and values files show it: its natural key, its key
/// for keyed kinds, `(settings)` for singletons.
pub fn display_name(kind: &str, item: &Item) -> String {
    let Some(k) = catalog::find(kind) else {
        return String::new();
    };
    if let Some(key) = &item.key {
        return key.clone();
    }
    if matches!(k.shape, Shape::Singleton | Shape::Map) {
        return "(settings)".into();
    }
    natural_key(k, &item.record, "/").unwrap_or_else(|| own_id(k, &item.record).unwrap_or_default())
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn natural_key(kind: &Kind, record: &Value, sep: &str) -> Option<String> {
    let parts: Vec<String> = kind
        .natural_key
        .iter()
        .filter_map(|f| record.get(*f).map(text))
        .collect();
    (!parts.is_empty()).then(|| parts.join(sep))
}

fn own_id(kind: &Kind, record: &Value) -> Option<String> {
    record.get(kind.id_field?).map(text)
}

/// Ids filling an object's own placeholders: its id, or its natural key's fields.
fn own_ids(kind: &Kind, item: &Item) -> Vec<String> {
    if let Some(key) = &item.key {
        return key.split('/').map(str::to_owned).collect();
    }
    match kind.id_field {
        Some(f) => item.record.get(f).map(text).into_iter().collect(),
        None => kind
            .natural_key
            .iter()
            .filter_map(|f| item.record.get(*f).map(text))
            .collect(),
    }
}

/// Fields of `kind` that other kinds refer to (its id, a resource server's identifier):
/// the values mapped from source to target.
fn mapped_fields(kind: &Kind) -> Vec<&'static str> {
    let mut fields: Vec<&'static str> = kind.id_field.into_iter().collect();
    for other in CATALOG {
        for r in other.references {
            if r.kind == kind.name && !fields.contains(&r.by) {
                fields.push(r.by);
            }
        }
    }
    fields
}

fn is_system(kind: &Kind, record: &Value) -> bool {
    kind.system
        .is_some_and(|f| record.get(f).and_then(Value::as_bool) == Some(true))
}

/// The record as compared and written: without ids, API-set fields and write-only values.
fn comparable(kind: &Kind, record: &Value) -> Value {
    let mut v = record.clone();
    if let Value::Object(map) = &mut v {
        if let Some(id) = kind.id_field {
            map.remove(id);
        }
        if let Some(f) = kind.system {
            map.remove(f);
        }
    }
    for f in kind.read_only {
        remove_path(&mut v, f);
    }
    for p in kind.write_only {
        if *p != "*" {
            remove_path(&mut v, p);
        }
    }
    v
}

/// A record in the form a write takes, per the catalog's `write_form`.
fn write_form(kind: &Kind, record: &Value) -> Value {
    if kind.write_form.is_empty() {
        return comparable(kind, record);
    }
    let mut out = Value::Object(Map::new());
    for (to, from) in kind.write_form {
        let v = match from.strip_prefix('=') {
            Some(literal) => serde_json::from_str(literal).unwrap_or(Value::Null),
            None => values_at(record, from)
                .first()
                .map_or(Value::Null, |v| (*v).clone()),
        };
        set_path(&mut out, to, v);
    }
    out
}

/// Source -> target values per (kind, field), and names of source objects.
#[derive(Debug, Default)]
struct Ids {
    map: HashMap<(&'static str, &'static str), HashMap<String, String>>,
    /// (kind, source id) -> the object's path of (kind, name), outermost first.
    ancestry: HashMap<(&'static str, String), Vec<(String, String)>>,
}

impl Ids {
    fn insert(&mut self, kind: &'static str, field: &'static str, from: String, to: String) {
        self.map.entry((kind, field)).or_default().insert(from, to);
    }

    /// The target's value for the source's `value` of `kind.field`.
    fn resolve(&self, kind: &str, field: &str, value: &str) -> Option<String> {
        let k = catalog::find(kind)?;
        if !k.config {
            // Users keep their ids through a migration; triggers are the platform's.
            return Some(value.to_owned());
        }
        self.map
            .get(&(k.name, k_field(k, field)?))
            .and_then(|m| m.get(value))
            .cloned()
    }
}

/// The catalog's `&'static str` for a field name of `kind` (its id or a referenced field).
fn k_field(kind: &Kind, field: &str) -> Option<&'static str> {
    mapped_fields(kind).into_iter().find(|f| *f == field)
}

/// A source object put in the target's terms.
struct Placed {
    item: Item,
    /// Target ids of the parents (may be placeholders).
    parents: Result<Vec<String>, String>,
    /// References that point at nothing in the target.
    unresolved: Vec<String>,
    /// References to target objects not yet in the state the platform needs (catalog
    /// `ready_when`).
    not_ready: Vec<String>,
    ancestry: Vec<(String, String)>,
    /// Top-level fields that name the object's own children (a client's
    /// `client_authentication_methods` names its credentials), with the children's
    /// kind: left out of its write, and written once the children exist
    /// ([`Waiting`]).
    naming_children: Vec<(String, &'static str)>,
}

/// A field that names an object's own children, written once they exist: a client
/// points at its credentials, which are created under it.
struct Waiting {
    kind: &'static Kind,
    /// The children's kind.
    children: &'static str,
    name: String,
    /// Target ids of the object's parents and of the object (maybe a placeholder).
    ids: Vec<String>,
    field: String,
    /// The source's value, in the source's ids.
    value: Value,
    /// The target's value, when the object was there.
    target: Option<Value>,
}

/// Builds a plan; nothing is sent.
pub fn plan(source: &State, target: &State, values: &Values, options: &PlanOptions) -> Plan {
    let selected: HashSet<&str> = CATALOG
        .iter()
        .filter(|k| k.config)
        .filter(|k| {
            options.kinds.is_empty() || {
                let mut at = Some(*k);
                let mut hit = false;
                while let Some(kind) = at {
                    hit |= options.kinds.iter().any(|n| n == kind.name);
                    at = kind.parent.and_then(catalog::find);
                }
                hit
            }
        })
        .map(|k| k.name)
        .collect();
    let source_ids = SourceIds::of(source);
    let mut needs: HashSet<(&'static str, &'static str)> = HashSet::new();
    for kind in CATALOG.iter().filter(|k| k.config) {
        for item in source.items(kind.name) {
            for found in source_ids.found_in(kind, &item.record) {
                if found.kind.parent != Some(kind.name) {
                    needs.insert((kind.name, found.kind.name));
                }
            }
        }
    }
    let needs: Vec<(&str, &str)> = needs.into_iter().collect();
    let mut planner = Planner {
        source,
        target,
        source_ids,
        generated: BTreeMap::new(),
        going_live: Vec::new(),
        values,
        options,
        selected,
        ids: Ids::default(),
        plan: Plan::default(),
        deletes: Vec::new(),
        deleted: HashSet::new(),
        next_placeholder: 0,
        blocked_ids: HashSet::new(),
        waiting: Vec::new(),
    };
    for kind in catalog::dependency_order_with(&needs) {
        if !kind.config {
            continue;
        }
        if source.is_unavailable(kind) {
            // The source tenant did not have the feature: what the target has of it is
            // neither compared nor deleted.
            planner.kind(kind, source.items(kind.name), &[]);
        } else {
            planner.kind(kind, source.items(kind.name), target.items(kind.name));
        }
        planner.children_written(kind);
    }
    // Children this restore never writes (their kind left out): the field naming them
    // is left out too, said so.
    for w in std::mem::take(&mut planner.waiting) {
        planner.plan.notes.push(format!(
            "{}: its {} names its {}, which this restore does not write: left out (restore them too, or set it in the target)",
            w.name, w.field, w.children
        ));
    }
    for u in &source.unavailable {
        planner.plan.notes.push(format!(
            "{}: not in the source, whose tenant did not offer it when backed up (it answered {}: {}); the target's are left as they are",
            u.kind, u.status, u.message
        ));
    }
    for ((kind, field), n) in &planner.generated {
        planner.plan.notes.push(format!(
            "{kind}: {n} created without the source's {field} (a snapshot without secrets holds none): the target makes up new ones; to keep the source's, add [{kind}.\"NAME\"] {field:?} = ... to --values"
        ));
    }
    let mut plan = planner.plan;
    for (_, step) in planner.deletes.into_iter().rev() {
        plan.steps.push(step);
    }
    plan.tally.retain(|_, t| *t != Tally::default());
    plan
}

struct Planner<'a> {
    /// The source, for the secrets its snapshot left out.
    source: &'a State,
    /// The target, for the state of what the source's objects point at.
    target: &'a State,
    /// The source's ids, to find references the catalog does not list.
    source_ids: SourceIds,
    /// Secrets the target makes up for created objects, per (kind, field): how many.
    generated: BTreeMap<(&'static str, String), usize>,
    /// Go-live steps of the kind being planned, sent after its writes.
    going_live: Vec<Step>,
    values: &'a Values,
    options: &'a PlanOptions,
    selected: HashSet<&'static str>,
    ids: Ids,
    plan: Plan,
    /// Deletes, with their kind's position, run last in reverse order.
    deletes: Vec<(usize, Step)>,
    /// Target objects being deleted, (kind, target id): their children go with them.
    deleted: HashSet<(&'static str, String)>,
    next_placeholder: usize,
    /// Source objects that cannot be written, (kind, source id): named in their
    /// dependents' reasons.
    blocked_ids: HashSet<(&'static str, String)>,
    /// Fields waiting for the children they name.
    waiting: Vec<Waiting>,
}

impl Planner<'_> {
    fn placeholder(&mut self) -> String {
        self.next_placeholder += 1;
        format!("{NEW}{}", self.next_placeholder)
    }

    fn tally(&mut self, kind: &str) -> &mut Tally {
        self.plan.tally.entry(kind.to_owned()).or_default()
    }

    /// Whether a step on an object with this ancestry is wanted.
    fn wanted(&self, kind: &Kind, ancestry: &[(String, String)]) -> bool {
        self.selected.contains(kind.name)
            && (self.options.only.is_empty()
                || self
                    .options
                    .only
                    .iter()
                    .any(|(k, n)| ancestry.iter().any(|(ak, an)| ak == k && an == n)))
    }

    fn push(&mut self, kind: &'static Kind, step: Step) {
        let t = self.tally(kind.name);
        match step.action {
            Action::Create => t.create += step.count,
            Action::Update => t.update += step.count,
            Action::Delete => t.delete += step.count,
            Action::Blocked => t.blocked += step.count.max(1),
            Action::GoLive => t.made_live += step.count,
        }
        if step.action == Action::Delete {
            let at = CATALOG
                .iter()
                .position(|k| k.name == kind.name)
                .unwrap_or(0);
            self.deletes.push((at, step));
        } else {
            self.plan.steps.push(step);
        }
    }

    fn blocked(&mut self, kind: &'static Kind, name: String, reason: String) {
        self.push(
            kind,
            Step {
                kind: kind.name,
                name,
                action: Action::Blocked,
                fields: Vec::new(),
                count: 1,
                reason: Some(reason),
                request: None,
            },
        );
    }

    /// Puts a source item in the target's terms.
    fn place(&mut self, kind: &'static Kind, item: &Item) -> Placed {
        let mut chain = Vec::new();
        let mut at = kind.parent;
        while let Some(p) = at.and_then(catalog::find) {
            chain.push(p);
            at = p.parent;
        }
        chain.reverse();
        let mut parents = Ok(Vec::new());
        let mut ancestry = Vec::new();
        for (parent_kind, id) in chain.iter().zip(&item.parent) {
            let field = parent_kind.id_field.unwrap_or("id");
            if let Some(a) = self.ids.ancestry.get(&(parent_kind.name, id.clone())) {
                ancestry = a.clone();
            }
            match (&mut parents, self.ids.resolve(parent_kind.name, field, id)) {
                (Ok(list), Some(t)) => list.push(t),
                (Ok(_), None) => {
                    parents = Err(format!(
                        "its parent ({} {id}) is not in the target and is not restored",
                        parent_kind.name
                    ))
                }
                (Err(_), _) => {}
            }
        }
        let mut record = item.record.clone();
        let mut unresolved = Vec::new();
        let mut not_ready = Vec::new();
        for r in kind.references {
            let (path, array) = match r.field.strip_suffix("[]") {
                Some(p) => (p, true),
                None => (r.field, false),
            };
            if array {
                let Some(Value::Array(list)) = values_at(&record, path).first().cloned().cloned()
                else {
                    continue;
                };
                let mut kept = Vec::new();
                for v in list {
                    match v.as_str().map(|s| self.ids.resolve(r.kind, r.by, s)) {
                        Some(Some(t)) => kept.push(Value::String(t)),
                        _ => self.plan.notes.push(format!(
                            "{} {}: {} {} left out of {path}: not in the target and not restored",
                            kind.name,
                            display_name(kind.name, item),
                            r.kind,
                            text(&v)
                        )),
                    }
                }
                set_path(&mut record, path, Value::Array(kept));
            } else {
                idferry_model::record::map_values(&mut record, r.field, &mut |v| {
                    if let Some(s) = v.as_str() {
                        match self.ids.resolve(r.kind, r.by, s) {
                            Some(t) => {
                                if let Some(why) = self.not_ready(r.kind, &t) {
                                    not_ready.push(format!(
                                        "{}, {why}",
                                        self.describe(r.kind, s, r.field)
                                    ));
                                }
                                *v = Value::String(t);
                            }
                            None => unresolved.push(self.describe(r.kind, s, r.field)),
                        }
                    }
                });
            }
        }
        let mut discovered = Vec::new();
        let mut naming_children: Vec<(String, &'static str)> = Vec::new();
        for found in self.source_ids.found_in(kind, &item.record) {
            let Some(id_field) = found.kind.id_field else {
                continue;
            };
            discovered.push(format!(
                "{} {} -> {}",
                kind.name,
                found.field(),
                found.kind.name
            ));
            if found.kind.parent == Some(kind.name) {
                let top = found
                    .path
                    .split(['.', '['])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                if !naming_children.iter().any(|(f, _)| *f == top) {
                    naming_children.push((top, found.kind.name));
                }
                continue;
            }
            match self.ids.resolve(found.kind.name, id_field, &found.id) {
                Some(t) => set_at(&mut record, &found.path, Value::String(t)),
                None => unresolved.push(self.describe(found.kind.name, &found.id, &found.path)),
            }
        }
        let name = self.label(kind, item);
        ancestry.push((kind.name.to_owned(), name));
        if self.wanted(kind, &ancestry) {
            for d in discovered {
                *self.plan.discovered.entry(d).or_default() += 1;
            }
        }
        Placed {
            item: Item {
                parent: item.parent.clone(),
                key: item.key.clone(),
                record,
            },
            parents,
            unresolved,
            not_ready,
            ancestry,
            naming_children,
        }
    }

    /// Why the target's object `id` of `kind` cannot be pointed at yet (catalog
    /// `ready_when`), or None when it can.
    fn not_ready(&self, kind: &str, id: &str) -> Option<String> {
        let k = catalog::find(kind)?;
        let (field, want, how) = k.ready_when?;
        if is_placeholder(id) {
            return Some(format!(
                "which is created by this restore, and {field} {want} only once you {how}"
            ));
        }
        let id_field = k.id_field?;
        let have = self
            .target
            .items(k.name)
            .iter()
            .find(|t| t.record.get(id_field).and_then(Value::as_str) == Some(id))
            .map(|t| t.record.get(field).map(text).unwrap_or_default())?;
        (have != want).then(|| format!("which has {field} {have} in the target, not {want}: {how}"))
    }

    /// An object's name for people: its display name, with ids of what it refers to
    /// (a grant's client) replaced by their names.
    fn label(&self, kind: &'static Kind, item: &Item) -> String {
        if item.key.is_some() || kind.natural_key.is_empty() {
            return display_name(kind.name, item);
        }
        let parts: Vec<String> = kind
            .natural_key
            .iter()
            .filter_map(|f| {
                let v = item.record.get(*f).map(text)?;
                let named = kind
                    .references
                    .iter()
                    .find(|r| r.field == *f)
                    .and_then(|r| {
                        self.ids
                            .ancestry
                            .get(&(catalog::find(r.kind)?.name, v.clone()))
                    })
                    .and_then(|a| a.last())
                    .map(|(_, n)| n.clone());
                Some(named.unwrap_or(v))
            })
            .collect();
        if parts.is_empty() {
            display_name(kind.name, item)
        } else {
            parts.join("/")
        }
    }

    /// A reference that points at nothing in the target, for a blocked step's reason.
    fn describe(&self, kind: &str, id: &str, field: &str) -> String {
        let name = catalog::find(kind)
            .and_then(|k| self.ids.ancestry.get(&(k.name, id.to_owned())))
            .and_then(|a| a.last())
            .map_or(id.to_owned(), |(_, n)| n.clone());
        let blocked = catalog::find(kind)
            .is_some_and(|k| self.blocked_ids.contains(&(k.name, id.to_owned())));
        if blocked {
            format!("{kind} {name} ({field}; itself blocked)")
        } else {
            format!("{kind} {name} ({field})")
        }
    }

    /// The target ids of `p`'s parents; when its parents are not in the target, the
    /// step is blocked (if wanted) and None comes back.
    fn parents_or_block(&mut self, kind: &'static Kind, p: &Placed) -> Option<Vec<String>> {
        match &p.parents {
            Ok(parents) => Some(parents.clone()),
            Err(reason) => {
                if self.wanted(kind, &p.ancestry) {
                    self.blocked(kind, Self::full_name(&p.ancestry), reason.clone());
                }
                None
            }
        }
    }

    /// Source items grouped by their parents in the target (those whose parents are not
    /// there are blocked).
    fn group_by_parent(
        &mut self,
        kind: &'static Kind,
        placed: Vec<Placed>,
    ) -> BTreeMap<String, (Vec<String>, Vec<Placed>)> {
        let mut groups: BTreeMap<String, (Vec<String>, Vec<Placed>)> = BTreeMap::new();
        for p in placed {
            if let Some(parents) = self.parents_or_block(kind, &p) {
                groups
                    .entry(parents.join("\u{1f}"))
                    .or_insert_with(|| (parents, Vec::new()))
                    .1
                    .push(p);
            }
        }
        groups
    }

    fn full_name(ancestry: &[(String, String)]) -> String {
        ancestry
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect::<Vec<_>>()
            .join(" > ")
    }

    /// The source items of `kind`, those that others of the same kind refer to first (a
    /// client's `express_configuration.okta_oin_client_id` names another client), so that
    /// each is placed after what it refers to. Otherwise in source order.
    fn referred_first<'s>(&self, kind: &'static Kind, source: &'s [Item]) -> Vec<&'s Item> {
        let Some(id_field) = kind.id_field else {
            return source.iter().collect();
        };
        let position: HashMap<&str, usize> = source
            .iter()
            .enumerate()
            .filter_map(|(i, item)| Some((item.record.get(id_field)?.as_str()?, i)))
            .collect();
        let needs: Vec<Vec<usize>> = source
            .iter()
            .enumerate()
            .map(|(i, item)| {
                self.source_ids
                    .found_in(kind, &item.record)
                    .iter()
                    .filter(|f| f.kind.name == kind.name)
                    .filter_map(|f| position.get(f.id.as_str()).copied())
                    .filter(|j| *j != i)
                    .collect()
            })
            .collect();
        if needs.iter().all(Vec::is_empty) {
            return source.iter().collect();
        }
        fn visit(i: usize, needs: &[Vec<usize>], seen: &mut [bool], out: &mut Vec<usize>) {
            if std::mem::replace(&mut seen[i], true) {
                return;
            }
            for j in &needs[i] {
                visit(*j, needs, seen, out);
            }
            out.push(i);
        }
        let mut seen = vec![false; source.len()];
        let mut order = Vec::with_capacity(source.len());
        for i in 0..source.len() {
            visit(i, &needs, &mut seen, &mut order);
        }
        order.into_iter().map(|i| &source[i]).collect()
    }

    fn kind(&mut self, kind: &'static Kind, source: &[Item], target: &[Item]) {
        let carried = |i: &&Item| kind.carries(&i.record);
        let kept: Vec<Item>;
        let source = if kind.carried_if.is_some() {
            kept = source.iter().filter(carried).cloned().collect();
            if kept.len() < source.len() {
                for t in target.iter().filter(carried) {
                    self.plan.notes.push(format!(
                        "{} {}: the source's is the tenant's own (without {}), which a restore does not carry; the target's is left as it is",
                        kind.name,
                        display_name(kind.name, t),
                        kind.carried_if.unwrap_or_default()
                    ));
                }
            }
            self.referred_first(kind, &kept)
        } else {
            self.referred_first(kind, source)
        };
        let mut target_groups: BTreeMap<String, Vec<&Item>> = BTreeMap::new();
        for t in target.iter().filter(carried) {
            target_groups
                .entry(t.parent.join("\u{1f}"))
                .or_default()
                .push(t);
        }
        if let Shape::Collection | Shape::Singleton | Shape::Keyed { .. } = kind.shape {
            // Placed one by one, each after what it refers to is planned.
            return self.objects(kind, &source, target_groups);
        }
        let placed: Vec<Placed> = source.iter().map(|i| self.place(kind, i)).collect();
        match kind.shape {
            Shape::Links { body_key, .. } => self.links(kind, body_key, placed, &target_groups),
            Shape::Replace { body_key } => self.replace(kind, body_key, placed, &target_groups),
            _ => self.map(kind, placed, &target_groups),
        }
    }

    /// Match key of an object within its parent.
    fn match_key(kind: &Kind, item: &Item, seen: &mut HashMap<String, usize>) -> String {
        let base = match (&item.key, kind.shape) {
            (Some(k), _) => k.clone(),
            (None, Shape::Singleton | Shape::Map) => String::new(),
            _ if is_system(kind, &item.record) => format!(
                "\u{1}system:{}",
                item.record.get("name").map(text).unwrap_or_default()
            ),
            _ => natural_key(kind, &item.record, "\u{1f}")
                .or_else(|| own_id(kind, &item.record))
                .unwrap_or_default(),
        };
        if kind.unique_key {
            return base;
        }
        let n = seen.entry(base.clone()).or_default();
        *n += 1;
        format!("{base}#{n}")
    }

    fn objects(
        &mut self,
        kind: &'static Kind,
        source: &[&Item],
        target_groups: BTreeMap<String, Vec<&Item>>,
    ) {
        let mut matched: HashSet<(String, usize)> = HashSet::new();
        let mut index: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for (group, items) in &target_groups {
            let mut seen = HashMap::new();
            let m = index.entry(group.clone()).or_default();
            for (i, t) in items.iter().enumerate() {
                m.insert(Self::match_key(kind, t, &mut seen), i);
            }
        }
        let mut seen_per_group: HashMap<String, HashMap<String, usize>> = HashMap::new();
        for item in source {
            let mut p = self.place(kind, item);
            let waiting: Vec<(String, &'static str, Value)> =
                std::mem::take(&mut p.naming_children)
                    .into_iter()
                    .filter_map(|(field, children)| {
                        let value = p.item.record.as_object_mut()?.remove(&field)?;
                        Some((field, children, value))
                    })
                    .collect();
            let source_ids: Vec<(&'static str, String)> = mapped_fields(kind)
                .into_iter()
                .filter_map(|f| p.item.record.get(f).map(|v| (f, text(v))))
                .collect();
            if let Some((_, id)) = source_ids.first() {
                self.ids
                    .ancestry
                    .insert((kind.name, id.clone()), p.ancestry.clone());
            }
            let name = Self::full_name(&p.ancestry);
            let Some(parents) = self.parents_or_block(kind, &p) else {
                continue;
            };
            let group = parents.join("\u{1f}");
            let key = Self::match_key(
                kind,
                &p.item,
                seen_per_group.entry(group.clone()).or_default(),
            );
            let hit = index
                .get(&group)
                .and_then(|m| m.get(&key))
                .map(|i| (target_groups[&group][*i], *i));
            if is_system(kind, &p.item.record) {
                // The platform's own objects: matched for references, never created or
                // deleted; only their `system_fields` are written.
                if let Some((t, i)) = hit {
                    matched.insert((group, i));
                    for (f, v) in &source_ids {
                        if let Some(tv) = t.record.get(*f) {
                            self.ids.insert(kind.name, f, v.clone(), text(tv));
                        }
                    }
                    if !kind.system_fields.is_empty() && self.wanted(kind, &p.ancestry) {
                        let only = |record: &Value| -> Value {
                            let mut kept: Map<String, Value> = kind
                                .system_fields
                                .iter()
                                .chain(kind.id_field.iter())
                                .filter_map(|f| Some(((*f).to_owned(), record.get(*f)?.clone())))
                                .collect();
                            if let Some(s) = kind.system {
                                kept.insert(s.to_owned(), Value::Bool(true));
                            }
                            Value::Object(kept)
                        };
                        let source = Placed {
                            item: Item {
                                record: only(&p.item.record),
                                ..p.item.clone()
                            },
                            parents: p.parents.clone(),
                            unresolved: Vec::new(),
                            not_ready: Vec::new(),
                            ancestry: p.ancestry.clone(),
                            naming_children: Vec::new(),
                        };
                        let target = Item {
                            record: only(&t.record),
                            ..t.clone()
                        };
                        self.update(kind, &source, &target, &parents, name);
                    }
                }
                continue;
            }
            let wanted = self.wanted(kind, &p.ancestry);
            let written_before = self.plan.steps.len();
            let shown = name.clone();
            let mut target_of_waiting = None;
            match hit {
                Some((t, i)) => {
                    matched.insert((group, i));
                    for (f, v) in &source_ids {
                        if let Some(tv) = t.record.get(*f) {
                            self.ids.insert(kind.name, f, v.clone(), text(tv));
                        }
                    }
                    if wanted && !p.unresolved.is_empty() {
                        // Writing it would put the source's ids into the target.
                        self.blocked(
                            kind,
                            name,
                            format!(
                                "it refers to {} which the target lacks and this restore does not create; the target's object is left as it is",
                                p.unresolved.join(", ")
                            ),
                        );
                    } else if wanted && !p.not_ready.is_empty() {
                        self.block_not_ready(kind, name, &p);
                    } else if wanted {
                        let mut t = t.clone();
                        if let Value::Object(map) = &mut t.record {
                            for (field, ..) in &waiting {
                                if let Some(v) = map.remove(field) {
                                    target_of_waiting
                                        .get_or_insert_with(Map::new)
                                        .insert(field.clone(), v);
                                }
                            }
                        }
                        target_of_waiting.get_or_insert_with(Map::new);
                        self.update(kind, &p, &t, &parents, name);
                    }
                }
                None => {
                    if !wanted {
                        continue;
                    }
                    if !p.unresolved.is_empty() {
                        // Name the values it will need too, so one values file does.
                        let values_name = Self::values_name(kind, &p);
                        let mut scratch = p.item.record.clone();
                        self.write_only_values(
                            kind,
                            &p.item.record,
                            &mut scratch,
                            values_name.as_deref(),
                        );
                        if let Some((_, id)) = source_ids.first() {
                            self.blocked_ids.insert((kind.name, id.clone()));
                        }
                        self.blocked(
                            kind,
                            name,
                            format!(
                                "it refers to {} which the target lacks and this restore does not create",
                                p.unresolved.join(", ")
                            ),
                        );
                        continue;
                    }
                    if !p.not_ready.is_empty() {
                        self.block_not_ready(kind, name, &p);
                        continue;
                    }
                    self.create(kind, &p, &parents, name, &source_ids);
                }
            }
            // What waits for the children: once written (created or updated), with its
            // own target id.
            let own = source_ids
                .first()
                .and_then(|(f, v)| self.ids.resolve(kind.name, f, v));
            let written = target_of_waiting.is_some()
                || (self.plan.steps.len() > written_before
                    && self.plan.steps[written_before..]
                        .iter()
                        .all(|s| s.action != Action::Blocked));
            if let (true, true, Some(own)) = (wanted, written, own) {
                for (field, children, value) in waiting {
                    let mut ids = parents.clone();
                    ids.push(own.clone());
                    self.waiting.push(Waiting {
                        kind,
                        children,
                        name: shown.clone(),
                        ids,
                        target: target_of_waiting
                            .as_ref()
                            .and_then(|m| m.get(&field).cloned()),
                        field,
                        value,
                    });
                }
            }
            if wanted {
                let target = hit.map(|(t, _)| t);
                self.go_live_after(kind, &p, &source_ids, written_before, target, shown);
            }
        }
        for step in std::mem::take(&mut self.going_live) {
            self.push(kind, step);
        }
        // Objects only in the target.
        for (group, items) in &target_groups {
            for (i, t) in items.iter().enumerate() {
                if matched.contains(&(group.clone(), i)) || is_system(kind, &t.record) {
                    continue;
                }
                let own = own_ids(kind, t);
                let parent_gone = kind.parent.is_some_and(|pk| {
                    t.parent
                        .last()
                        .is_some_and(|pid| self.deleted.iter().any(|(k, id)| *k == pk && id == pid))
                });
                let name = format!("{} {}", kind.name, display_name(kind.name, t));
                if parent_gone {
                    continue;
                }
                let ancestry = vec![(kind.name.to_owned(), display_name(kind.name, t))];
                let deletable = self.options.allow_delete
                    && kind.delete.is_some()
                    && !matches!(kind.shape, Shape::Singleton | Shape::Keyed { .. });
                if !self.wanted(kind, &ancestry) {
                    continue;
                }
                if !deletable {
                    if !matches!(kind.shape, Shape::Singleton) {
                        self.tally(kind.name).extra += 1;
                    }
                    continue;
                }
                let Some(endpoint) = kind.delete else {
                    continue;
                };
                if let Some(id) = own.first() {
                    self.deleted.insert((kind.name, id.clone()));
                }
                let mut ids = t.parent.clone();
                ids.extend(own);
                self.push(
                    kind,
                    Step::write(kind, name, Action::Delete, endpoint, ids, None),
                );
            }
        }
    }

    /// Writes the fields waiting for the children of `children` (now planned): each
    /// an update of its object, with the children's ids in the target's terms, unless
    /// the target has it so already.
    fn children_written(&mut self, children: &'static Kind) {
        let (ready, rest): (Vec<Waiting>, Vec<Waiting>) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition(|w| w.children == children.name);
        self.waiting = rest;
        for w in ready {
            let Some(update) = w.kind.update else {
                self.plan.notes.push(format!(
                    "{}: its {} names its {} and the platform takes it only on an update, which it has none of: left out",
                    w.name, w.field, w.children
                ));
                continue;
            };
            let mut body = Value::Object(Map::from_iter([(w.field.clone(), w.value.clone())]));
            let mut unresolved = Vec::new();
            for found in self.source_ids.found_in(w.kind, &body.clone()) {
                let Some(id_field) = found.kind.id_field else {
                    continue;
                };
                match self.ids.resolve(found.kind.name, id_field, &found.id) {
                    Some(t) => set_at(&mut body, &found.path, Value::String(t)),
                    None => unresolved.push(self.describe(found.kind.name, &found.id, &found.path)),
                }
            }
            let name = format!("{} ({} once its {} exist)", w.name, w.field, w.children);
            if !unresolved.is_empty() {
                self.blocked(
                    w.kind,
                    name,
                    format!(
                        "it refers to {} which the target lacks and this restore does not create",
                        unresolved.join(", ")
                    ),
                );
                continue;
            }
            if w.target.as_ref() == body.get(&w.field) {
                continue;
            }
            let step = Step {
                fields: vec![w.field.clone()],
                ..Step::write(w.kind, name, Action::Update, update, w.ids, Some(body))
            };
            self.push(w.kind, step);
        }
    }

    /// The values of write-only fields of `record` for a create: set from the values
    /// file into `body`, or listed as needed. True when all were found.
    fn write_only_values(
        &mut self,
        kind: &'static Kind,
        record: &Value,
        body: &mut Value,
        name: Option<&str>,
    ) -> Vec<String> {
        let mut missing = Vec::new();
        for path in kind.write_only {
            let slots: Vec<(String, Option<String>)> = match path.split_once("[].") {
                Some((array, _)) => values_at(record, array)
                    .first()
                    .and_then(|v| v.as_array())
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|i| i.get("name").and_then(Value::as_str))
                            .map(|n| (format!("{array}.{n}"), Some(n.to_owned())))
                            .collect()
                    })
                    .unwrap_or_default(),
                None if *path == "*" => continue,
                // One kind of object has it: asked for where its sibling says so.
                None if !kind.write_only_when.iter().all(|(f, sibling, want)| {
                    f != path || {
                        let at = path.rsplit_once('.').map_or("", |(parent, _)| parent);
                        let sibling = if at.is_empty() {
                            (*sibling).to_owned()
                        } else {
                            format!("{at}.{sibling}")
                        };
                        values_at(record, &sibling).first().and_then(|v| v.as_str()) == Some(*want)
                    }
                }) =>
                {
                    continue;
                }
                None => vec![((*path).to_owned(), None)],
            };
            for (field, item_name) in slots {
                match self.values.get(kind.name, name, &field) {
                    Some(v) => match (path.split_once("[]."), item_name) {
                        (Some((array, leaf)), Some(item)) => {
                            if let Some(Value::Array(items)) = body.get_mut(array) {
                                for i in items {
                                    if i.get("name").and_then(Value::as_str) == Some(&item) {
                                        set_path(i, leaf, v.clone());
                                    }
                                }
                            }
                        }
                        _ => set_path(body, &field, v.clone()),
                    },
                    None => {
                        missing.push(field.clone());
                        self.plan.needed_values.push(NeededValue {
                            kind: kind.name.to_owned(),
                            name: name.map(str::to_owned),
                            field,
                        });
                    }
                }
            }
        }
        missing
    }

    /// Secret fields the source had set (its snapshot names them as left out) that `body`
    /// still lacks after the values file and, for an update, the target's own: listed as
    /// needed and returned. Those the platform makes up on a create are left to it and
    /// counted for a note.
    fn unset_secrets(
        &mut self,
        kind: &'static Kind,
        p: &Placed,
        body: &Value,
        name: Option<&str>,
        creating: bool,
    ) -> Vec<String> {
        let mut missing = Vec::new();
        for field in self.source.redacted(kind, &p.item) {
            if kind.write_only.contains(&field.as_str()) || field == "*" {
                continue; // asked for with the write-only values
            }
            if field.contains('[') {
                // In a list (a flow action's password): no values-file line names one
                // item, so the object waits for an encrypted snapshot.
                missing.push(format!("{field} (in a list: only an encrypted snapshot, backup --encrypt-to or --passphrase-env, carries it)"));
                continue;
            }
            if values_at(body, field).into_iter().any(|v| !v.is_null()) {
                continue;
            }
            if creating && kind.generated.contains(&field.as_str()) {
                *self
                    .generated
                    .entry((kind.name, field.clone()))
                    .or_default() += 1;
                continue;
            }
            missing.push(field.clone());
            self.plan.needed_values.push(NeededValue {
                kind: kind.name.to_owned(),
                name: name.map(str::to_owned),
                field: field.clone(),
            });
        }
        missing
    }

    /// Whether `record` of `kind` is live (all its changes deployed or published).
    fn is_live(kind: &Kind, record: &Value) -> bool {
        kind.go_live
            .is_some_and(|g| record.get(g.live) == Some(&Value::Bool(true)))
    }

    /// After an object is planned: when it was live in the source, a step making it live
    /// in the target too, if this plan writes it or the target's is not live. When the
    /// source had changes not yet live, the version that was live goes first: written,
    /// made live, then the draft written over it (unless the target already runs it).
    /// Sent after the kind's writes (and so before what binds it, a trigger's bindings).
    fn go_live_after(
        &mut self,
        kind: &'static Kind,
        p: &Placed,
        source_ids: &[(&'static str, String)],
        written_before: usize,
        target: Option<&Item>,
        name: String,
    ) {
        let Some(g) = kind.go_live else {
            return;
        };
        let planned = &self.plan.steps[written_before..];
        if planned.iter().any(|s| s.action == Action::Blocked) {
            return;
        }
        let wrote = planned
            .iter()
            .any(|s| matches!(s.action, Action::Create | Action::Update));
        let live = Self::is_live(kind, &p.item.record);
        // The fields of the version live in the source, when it has changes not live.
        let version: Option<Map<String, Value>> = if live {
            None
        } else {
            let Some(v) = p.item.record.get(g.version).and_then(Value::as_object) else {
                // Never made live in the source: nothing to make live.
                return;
            };
            let fields: Map<String, Value> = g
                .version_fields
                .iter()
                .filter_map(|f| Some(((*f).to_owned(), v.get(*f)?.clone())))
                .collect();
            let runs = target
                .and_then(|t| t.record.get(g.version))
                .and_then(Value::as_object)
                .is_some_and(|tv| fields.iter().all(|(f, v)| tv.get(f) == Some(v)));
            if runs {
                // The target already runs what the source ran.
                return;
            }
            Some(fields)
        };
        if live && !wrote && target.is_some_and(|t| Self::is_live(kind, &t.record)) {
            return;
        }
        let Some(id) = source_ids
            .first()
            .and_then(|(field, id)| self.ids.resolve(kind.name, field, id))
        else {
            return;
        };
        let Some(fields) = version else {
            self.going_live.push(Step::write(
                kind,
                name,
                Action::GoLive,
                g.endpoint,
                vec![id],
                None,
            ));
            return;
        };
        let Some(update) = kind.update else {
            return;
        };
        let draft: Map<String, Value> = g
            .version_fields
            .iter()
            .filter_map(|f| Some(((*f).to_owned(), p.item.record.get(*f)?.clone())))
            .collect();
        let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<Vec<_>>();
        let first = Step {
            fields: keys(&fields),
            ..Step::write(
                kind,
                format!("{name} (the version live in the source)"),
                Action::Update,
                update,
                vec![id.clone()],
                Some(Value::Object(fields)),
            )
        };
        let then = Step {
            fields: keys(&draft),
            ..Step::write(
                kind,
                format!("{name} (its changes not live in the source)"),
                Action::Update,
                update,
                vec![id.clone()],
                Some(Value::Object(draft)),
            )
        };
        let go = Step::write(kind, name, Action::GoLive, g.endpoint, vec![id], None);
        self.going_live.extend([first, go, then]);
    }

    /// Blocks an object that points at one the platform will not accept yet.
    fn block_not_ready(&mut self, kind: &'static Kind, name: String, p: &Placed) {
        self.blocked(
            kind,
            name,
            format!(
                "it refers to {}; the platform refuses it until then: restore again after, or leave it out with --exclude-kinds {}",
                p.not_ready.join(", "),
                kind.name
            ),
        );
    }

    /// Blocks an object whose write-only values are missing, saying how to supply them.
    fn block_for_values(
        &mut self,
        kind: &'static Kind,
        name: String,
        values_name: Option<String>,
        missing: &[String],
    ) {
        let hint = missing
            .iter()
            .find(|f| !f.contains(" (in a list"))
            .map(|f| {
                NeededValue {
                    kind: kind.name.to_owned(),
                    name: values_name,
                    field: f.clone(),
                }
                .hint()
            });
        let mut reason = format!(
            "secret values are not in the source: {}",
            missing.join(", ")
        );
        if let Some(hint) = hint {
            reason.push_str(&format!("; supply them in --values (e.g. {hint})"));
        }
        self.blocked(kind, name, reason);
    }

    /// Secret (readable) fields the values file supplies, set into `body`.
    fn supplied_secrets(&self, kind: &Kind, name: Option<&str>, body: &mut Value) -> Vec<String> {
        let mut set = Vec::new();
        for path in kind.secrets {
            if kind.write_only.contains(path) || path.contains('[') || *path == "*" {
                continue;
            }
            if let Some(v) = self.values.get(kind.name, name, path) {
                set_path(body, path, v.clone());
                set.push((*path).to_owned());
            }
        }
        set
    }

    fn values_name(kind: &Kind, p: &Placed) -> Option<String> {
        match kind.shape {
            Shape::Singleton if kind.parent.is_none() => None,
            // A parent's singleton or map (hook secrets): by the parent's name.
            Shape::Singleton | Shape::Map => p.ancestry.iter().rev().nth(1).map(|(_, n)| n.clone()),
            _ => p.ancestry.last().map(|(_, n)| n.clone()),
        }
    }

    fn create(
        &mut self,
        kind: &'static Kind,
        p: &Placed,
        parents: &[String],
        name: String,
        source_ids: &[(&'static str, String)],
    ) {
        let values_name = Self::values_name(kind, p);
        let mut body = write_form(kind, &p.item.record);
        if kind.write_form.is_empty() {
            // Fields the API sets later but a create must name (a connection's strategy).
            for f in kind.required {
                if let Some(v) = p.item.record.get(*f)
                    && let Value::Object(map) = &mut body
                {
                    map.entry((*f).to_owned()).or_insert_with(|| v.clone());
                }
            }
        }
        if body.as_object().is_some_and(Map::is_empty) && kind.is_singleton() {
            self.tally(kind.name).unchanged += 1;
            return;
        }
        let mut missing =
            self.write_only_values(kind, &p.item.record, &mut body, values_name.as_deref());
        self.supplied_secrets(kind, values_name.as_deref(), &mut body);
        missing.extend(self.unset_secrets(kind, p, &body, values_name.as_deref(), true));
        if !missing.is_empty() {
            if let Some((_, id)) = source_ids.first() {
                self.blocked_ids.insert((kind.name, id.clone()));
            }
            self.block_for_values(kind, name, values_name, &missing);
            return;
        }
        // Kinds without a create (prompt texts, rules configs) are written with their
        // update, which creates what is absent.
        let (endpoint, ids) = if let Some(e) = kind.create {
            (e, parents.to_vec())
        } else if let Some(e) = kind.update {
            let mut ids = parents.to_vec();
            ids.extend(own_ids(kind, &p.item));
            (e, ids)
        } else {
            return;
        };
        let new_id = match (kind.create.is_some(), kind.id_format, kind.id_field) {
            (true, IdFormat::Named, _) | (_, _, None) | (false, _, _) => None,
            (true, _, Some(field)) => Some((field, self.placeholder())),
        };
        if let Some((_, placeholder)) = &new_id {
            for (f, v) in source_ids {
                if Some(*f) == kind.id_field {
                    self.ids
                        .insert(kind.name, f, v.clone(), placeholder.clone());
                } else {
                    self.ids.insert(kind.name, f, v.clone(), v.clone());
                }
            }
        } else {
            for (f, v) in source_ids {
                let tv = body.get(*f).map(text).unwrap_or_else(|| v.clone());
                self.ids.insert(kind.name, f, v.clone(), tv);
            }
        }
        // What a create does not take goes in an update right after it.
        let mut later = Map::new();
        if let (Value::Object(map), Some(_), Some(_)) = (&mut body, &new_id, kind.update) {
            for f in kind.after_create {
                if let Some(v) = map.remove(*f) {
                    later.insert((*f).to_owned(), v);
                }
            }
            // A field the source has unset (null) is unset by an update: creates take
            // no null (a client's `token_endpoint_auth_method`, null when it signs
            // with keys, would be refused), and leaving it out takes the default.
            let unset: Vec<String> = map
                .iter()
                .filter(|(_, v)| v.is_null())
                .map(|(f, _)| f.clone())
                .collect();
            for f in unset {
                later.insert(f.clone(), map.remove(&f).unwrap_or(Value::Null));
            }
        }
        let then = match (&new_id, kind.update, later.is_empty()) {
            (Some((_, placeholder)), Some(update), false) => {
                let mut ids = parents.to_vec();
                ids.push(placeholder.clone());
                Some(Step {
                    fields: later.keys().cloned().collect(),
                    ..Step::write(
                        kind,
                        format!(
                            "{name} ({} set after the create)",
                            later.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                        Action::Update,
                        update,
                        ids,
                        Some(Value::Object(later)),
                    )
                })
            }
            _ => None,
        };
        let mut step = Step::write(kind, name, Action::Create, endpoint, ids, Some(body));
        if let Some(request) = &mut step.request {
            request.new_id = new_id;
        }
        self.push(kind, step);
        if let Some(then) = then {
            self.push(kind, then);
        }
    }

    fn update(
        &mut self,
        kind: &'static Kind,
        p: &Placed,
        t: &Item,
        parents: &[String],
        name: String,
    ) {
        let Some(endpoint) = kind.update else {
            self.tally(kind.name).unchanged += 1;
            return;
        };
        let mut source = p.item.record.clone();
        // Secrets the source lacks (an unencrypted snapshot) stay as the target has them.
        for path in kind.secrets {
            if path.contains('[') || *path == "*" || kind.write_only.contains(path) {
                continue;
            }
            if values_at(&source, path).is_empty()
                && let Some(v) = values_at(&t.record, path).first()
            {
                set_path(&mut source, path, (*v).clone());
            }
        }
        let values_name = Self::values_name(kind, p);
        // Readable secrets compare by value: one the values file gives and the target
        // already holds is no change.
        self.supplied_secrets(kind, values_name.as_deref(), &mut source);
        let missing = self.unset_secrets(kind, p, &source, values_name.as_deref(), false);
        if !missing.is_empty() {
            // Written without them, the target would hold the setting and not its secret
            // (a captcha provider without its key).
            self.block_for_values(kind, name, values_name, &missing);
            return;
        }
        let want = comparable(kind, &source);
        let have = comparable(kind, &t.record);
        let fields: Vec<String> = match (&want, &have) {
            (Value::Object(w), Value::Object(h)) => w
                .iter()
                .filter(|(k, v)| h.get(*k) != Some(v))
                .map(|(k, _)| k.clone())
                .collect(),
            _ if want != have => vec!["(value)".into()],
            _ => Vec::new(),
        };
        if fields.is_empty() {
            self.tally(kind.name).unchanged += 1;
            return;
        }
        let body = if !kind.write_form.is_empty() {
            // A kind written in another form than it reads (`{template}` for `{body}`).
            write_form(kind, &source)
        } else if endpoint.method == Method::Put || !want.is_object() {
            want
        } else {
            let mut body = Map::new();
            for f in &fields {
                if let Some(v) = want.get(f) {
                    body.insert(f.clone(), v.clone());
                }
            }
            Value::Object(body)
        };
        let mut ids = parents.to_vec();
        ids.extend(own_ids(kind, t));
        ids.truncate(endpoint.arity());
        self.push(
            kind,
            Step {
                fields,
                ..Step::write(kind, name, Action::Update, endpoint, ids, Some(body))
            },
        );
    }

    /// Membership lists (a role's permissions): the links missing are added, in batches.
    fn links(
        &mut self,
        kind: &'static Kind,
        body_key: &str,
        placed: Vec<Placed>,
        target_groups: &BTreeMap<String, Vec<&Item>>,
    ) {
        let item_of = |record: &Value| match kind.id_field {
            Some(f) => record.get(f).cloned().unwrap_or(Value::Null),
            None => write_form(kind, record),
        };
        let key_of = |record: &Value| {
            natural_key(kind, record, "\u{1f}").unwrap_or_else(|| item_of(record).to_string())
        };
        let groups = self.group_by_parent(kind, placed);
        for (group, (parents, items)) in groups {
            let have: HashSet<String> = target_groups
                .get(&group)
                .into_iter()
                .flatten()
                .map(|t| key_of(&t.record))
                .collect();
            let mut add = Vec::new();
            let mut names = Vec::new();
            let mut parent_ancestry = Vec::new();
            for p in &items {
                if !self.wanted(kind, &p.ancestry) {
                    continue;
                }
                parent_ancestry = p.ancestry[..p.ancestry.len().saturating_sub(1)].to_vec();
                if !p.unresolved.is_empty() {
                    self.blocked(
                        kind,
                        Self::full_name(&p.ancestry),
                        format!(
                            "it refers to {}, not in the target",
                            p.unresolved.join(", ")
                        ),
                    );
                    continue;
                }
                if have.contains(&key_of(&p.item.record)) {
                    self.tally(kind.name).unchanged += 1;
                } else {
                    add.push(item_of(&p.item.record));
                    names.push(
                        p.ancestry
                            .last()
                            .map(|(_, n)| n.clone())
                            .unwrap_or_default(),
                    );
                }
            }
            let want: HashSet<String> = items.iter().map(|p| key_of(&p.item.record)).collect();
            let extra: Vec<Value> = target_groups
                .get(&group)
                .into_iter()
                .flatten()
                .filter(|t| !want.contains(&key_of(&t.record)))
                .map(|t| item_of(&t.record))
                .collect();
            let parent_name = Self::full_name(&parent_ancestry);
            for (batch, names) in add.chunks(LINK_BATCH).zip(names.chunks(LINK_BATCH)) {
                let Some(endpoint) = kind.create else { break };
                let body = serde_json::json!({ body_key: batch });
                self.push(
                    kind,
                    Step {
                        fields: names.to_vec(),
                        count: batch.len(),
                        ..Step::write(
                            kind,
                            parent_name.clone(),
                            Action::Create,
                            endpoint,
                            parents.clone(),
                            Some(body),
                        )
                    },
                );
            }
            if extra.is_empty() {
                continue;
            }
            match kind.delete.filter(|_| self.options.allow_delete) {
                Some(endpoint) => {
                    for batch in extra.chunks(LINK_BATCH) {
                        let body = serde_json::json!({ body_key: batch });
                        self.push(
                            kind,
                            Step {
                                fields: batch.iter().map(text).collect(),
                                count: batch.len(),
                                ..Step::write(
                                    kind,
                                    parent_name.clone(),
                                    Action::Delete,
                                    endpoint,
                                    parents.clone(),
                                    Some(body),
                                )
                            },
                        );
                    }
                }
                None => self.tally(kind.name).extra += extra.len(),
            }
        }
    }

    /// Lists a parent holds whole (trigger bindings, a connection's clients): written
    /// whole when they differ.
    fn replace(
        &mut self,
        kind: &'static Kind,
        body_key: Option<&'static str>,
        placed: Vec<Placed>,
        target_groups: &BTreeMap<String, Vec<&Item>>,
    ) {
        let groups = self.group_by_parent(kind, placed);
        let Some(endpoint) = kind.update else { return };
        for (group, (parents, items)) in groups {
            let Some(first) = items.first() else { continue };
            if !self.wanted(kind, &first.ancestry) {
                continue;
            }
            let parent_name =
                Self::full_name(&first.ancestry[..first.ancestry.len().saturating_sub(1)]);
            let unresolved: Vec<String> = items.iter().flat_map(|p| p.unresolved.clone()).collect();
            if !unresolved.is_empty() {
                self.blocked(
                    kind,
                    parent_name,
                    format!("it refers to {}, not in the target", unresolved.join(", ")),
                );
                continue;
            }
            let want: Vec<Value> = items
                .iter()
                .map(|p| write_form(kind, &p.item.record))
                .collect();
            let have: Vec<Value> = target_groups
                .get(&group)
                .into_iter()
                .flatten()
                .map(|t| write_form(kind, &t.record))
                .collect();
            let same = match body_key {
                Some(_) => want == have,
                None => {
                    let w: HashSet<String> = want.iter().map(Value::to_string).collect();
                    let h: HashSet<String> = have.iter().map(Value::to_string).collect();
                    w == h
                }
            };
            if same {
                self.tally(kind.name).unchanged += items.len();
                continue;
            }
            let body = match body_key {
                Some(key) => serde_json::json!({ key: want }),
                None => {
                    // Changes: the wanted ones on, the others off.
                    let mut changes = want.clone();
                    let on: HashSet<String> = want.iter().map(Value::to_string).collect();
                    for h in have.iter().filter(|h| !on.contains(&h.to_string())) {
                        let mut off = h.clone();
                        set_path(&mut off, "status", Value::Bool(false));
                        changes.push(off);
                    }
                    Value::Array(changes)
                }
            };
            self.push(
                kind,
                Step {
                    fields: items
                        .iter()
                        .filter_map(|p| p.ancestry.last().map(|(_, n)| n.clone()))
                        .collect(),
                    ..Step::write(
                        kind,
                        parent_name,
                        Action::Update,
                        endpoint,
                        parents,
                        Some(body),
                    )
                },
            );
        }
    }

    /// Name -> secret maps (hook secrets): names the target lacks are added with values
    /// from the values file.
    fn map(
        &mut self,
        kind: &'static Kind,
        placed: Vec<Placed>,
        target_groups: &BTreeMap<String, Vec<&Item>>,
    ) {
        for p in placed {
            let name = Self::full_name(&p.ancestry);
            let Some(parents) = self.parents_or_block(kind, &p) else {
                continue;
            };
            if !self.wanted(kind, &p.ancestry) {
                continue;
            }
            let have: HashSet<String> = target_groups
                .get(&parents.join("\u{1f}"))
                .into_iter()
                .flatten()
                .filter_map(|t| t.record.as_object())
                .flat_map(|m| m.keys().cloned())
                .collect();
            let values_name = Self::values_name(kind, &p);
            let mut body = Map::new();
            let mut missing = Vec::new();
            let names: Vec<String> = p
                .item
                .record
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            let mut unchanged = 0;
            for secret in names {
                if have.contains(&secret) {
                    unchanged += 1;
                    continue;
                }
                match self.values.get(kind.name, values_name.as_deref(), &secret) {
                    Some(v) => {
                        body.insert(secret, v.clone());
                    }
                    None => {
                        self.plan.needed_values.push(NeededValue {
                            kind: kind.name.to_owned(),
                            name: values_name.clone(),
                            field: secret.clone(),
                        });
                        missing.push(secret);
                    }
                }
            }
            self.tally(kind.name).unchanged += unchanged;
            if !missing.is_empty() {
                self.block_for_values(kind, name.clone(), values_name.clone(), &missing);
            }
            if body.is_empty() {
                continue;
            }
            let Some(endpoint) = kind.create else {
                continue;
            };
            let fields: Vec<String> = body.keys().cloned().collect();
            self.push(
                kind,
                Step {
                    count: fields.len(),
                    fields,
                    ..Step::write(
                        kind,
                        name,
                        Action::Create,
                        endpoint,
                        parents,
                        Some(Value::Object(body)),
                    )
                },
            );
        }
    }
}

/// Notes about secrets a snapshot without secrets could not restore, for snapshots that
/// do not name the secrets they left out (written before they did; newer ones are asked
/// for one by one in the plan).
pub fn secret_notes(plan: &Plan, source: &State) -> Vec<String> {
    if source.secrets_included || source.redactions_known {
        return Vec::new();
    }
    let mut notes = Vec::new();
    for (kind, tally) in &plan.tally {
        let Some(k) = catalog::find(kind) else {
            continue;
        };
        let readable: Vec<&str> = k
            .secrets
            .iter()
            .copied()
            .filter(|s| !k.write_only.contains(s))
            .collect();
        if tally.create > 0 && !readable.is_empty() {
            notes.push(format!(
                "{kind}: the snapshot holds no secrets; created objects get no {} unless the values file supplies them (the API may generate new ones)",
                readable.join(", ")
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(record: Value) -> Item {
        Item {
            parent: Vec::new(),
            key: None,
            record,
        }
    }

    fn child(parent: &str, record: Value) -> Item {
        Item {
            parent: vec![parent.to_owned()],
            key: None,
            record,
        }
    }

    fn kind(name: &str) -> &'static Kind {
        catalog::find(name).unwrap()
    }

    #[test]
    fn references_follow_the_target_ids_and_new_objects_get_placeholders() {
        let mut source = State::default();
        source.push(
            kind("clients"),
            item(json!({"client_id": "A1", "name": "web", "callbacks": ["https://a"]})),
        );
        source.push(
            kind("clients"),
            item(json!({"client_id": "A2", "name": "new app"})),
        );
        source.push(
            kind("resource_servers"),
            item(json!({"id": "r1", "identifier": "https://api", "name": "API"})),
        );
        source.push(kind("client_grants"), item(json!({"id": "g1", "client_id": "A1", "audience": "https://api", "scope": ["read"]})));
        source.push(
            kind("client_grants"),
            item(json!({"id": "g2", "client_id": "A2", "audience": "https://api", "scope": []})),
        );
        let mut target = State::default();
        target.push(
            kind("clients"),
            item(json!({"client_id": "B1", "name": "web", "callbacks": ["https://b"]})),
        );
        target.push(
            kind("resource_servers"),
            item(json!({"id": "r9", "identifier": "https://api", "name": "API"})),
        );
        target.push(kind("client_grants"), item(json!({"id": "h1", "client_id": "B1", "audience": "https://api", "scope": ["read"]})));
        let plan = plan(&source, &target, &Values::none(), &PlanOptions::default());
        let summary: Vec<(&str, Action, Vec<String>)> = plan
            .steps
            .iter()
            .map(|s| (s.kind, s.action, s.fields.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("clients", Action::Update, vec!["callbacks".to_owned()]),
                ("clients", Action::Create, vec![]),
                ("client_grants", Action::Create, vec![]),
            ]
        );
        let update = plan.steps[0].request.as_ref().unwrap();
        assert_eq!(update.ids, vec!["B1"]);
        assert_eq!(update.body, Some(json!({"callbacks": ["https://a"]})));
        let create = plan.steps[1].request.as_ref().unwrap();
        let (field, placeholder) = create.new_id.clone().unwrap();
        assert_eq!(field, "client_id");
        let grant = plan.steps[2].request.as_ref().unwrap();
        assert_eq!(
            grant.body.as_ref().unwrap()["client_id"],
            json!(placeholder)
        );
        assert_eq!(plan.tally["client_grants"].unchanged, 1);
        assert_eq!(plan.tally["resource_servers"].unchanged, 1);
    }

    /// A source with references the catalog does not list: a client's express
    /// configuration naming a connection profile and another client, a flow naming a
    /// vault connection, a form naming the flow.
    fn unlisted_references() -> State {
        let mut source = State::default();
        source.push(
            kind("clients"),
            item(
                json!({"client_id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", "name": "okta app",
                "express_configuration": {"connection_profile_id": "cop_0000000000000000000001",
                    "okta_oin_client_id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2"}}),
            ),
        );
        source.push(
            kind("clients"),
            item(json!({"client_id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2", "name": "oin"})),
        );
        source.push(
            kind("connection_profiles"),
            item(json!({"id": "cop_0000000000000000000001", "name": "OIDC defaults"})),
        );
        source.push(
            kind("flows_vault_connections"),
            item(json!({"id": "ac_00000000000000000001", "name": "Slack", "app_id": "SLACK"})),
        );
        source.push(
            kind("flows"),
            item(json!({"id": "af_00000000000000000001", "name": "Welcome", "actions": [
                {"id": "notify", "type": "SLACK", "params": {"connection_id": "ac_00000000000000000001"}}]})),
        );
        source.push(
            kind("forms"),
            item(
                json!({"id": "ap_00000000000000000001", "name": "Profile", "nodes": [
                {"id": "n1", "type": "FLOW", "config": {"flow_id": "af_00000000000000000001"}}]}),
            ),
        );
        source
    }

    #[test]
    fn references_found_by_id_follow_the_target_and_point_at_what_is_created_first() {
        let source = unlisted_references();
        let mut target = State::default();
        target.push(
            kind("connection_profiles"),
            item(json!({"id": "cop_9999999999999999999999", "name": "OIDC defaults"})),
        );
        let values = Values::parse(
            "[flows_vault_connections.Slack]\nsetup = { type = \"WEBHOOK\", url = \"https://hooks\" }\n",
            "v.toml",
            &|_| None,
        )
        .unwrap();
        let plan = plan(&source, &target, &values, &PlanOptions::default());
        let order: Vec<(&str, &str)> = plan
            .steps
            .iter()
            .map(|s| (s.kind, s.name.as_str()))
            .collect();
        let at = |k: &str, n: &str| order.iter().position(|o| *o == (k, n)).unwrap();
        // The client named by another is created first; what a kind refers to, before it.
        assert!(
            at("clients", "clients oin") < at("clients", "clients okta app"),
            "{order:?}"
        );
        assert!(
            at("flows", "flows Welcome") < at("forms", "forms Profile"),
            "{order:?}"
        );
        let body = |k: &str, n: &str| {
            plan.steps[at(k, n)]
                .request
                .as_ref()
                .unwrap()
                .body
                .clone()
                .unwrap()
        };
        let placeholder = |k: &str, n: &str| {
            plan.steps[at(k, n)]
                .request
                .as_ref()
                .unwrap()
                .new_id
                .clone()
                .unwrap()
                .1
        };
        let client = body("clients", "clients okta app");
        assert_eq!(
            client["express_configuration"]["connection_profile_id"],
            "cop_9999999999999999999999"
        );
        assert_eq!(
            client["express_configuration"]["okta_oin_client_id"],
            json!(placeholder("clients", "clients oin"))
        );
        let flow = body("flows", "flows Welcome");
        assert_eq!(
            flow["actions"][0]["params"]["connection_id"],
            json!(placeholder(
                "flows_vault_connections",
                "flows_vault_connections Slack"
            ))
        );
        let form = body("forms", "forms Profile");
        assert_eq!(
            form["nodes"][0]["config"]["flow_id"],
            json!(placeholder("flows", "flows Welcome"))
        );
        let counted: Vec<&str> = plan.discovered.keys().map(String::as_str).collect();
        assert_eq!(
            counted,
            [
                "clients express_configuration.connection_profile_id -> connection_profiles",
                "clients express_configuration.okta_oin_client_id -> clients",
                "flows actions[].params.connection_id -> flows_vault_connections",
                "forms nodes[].config.flow_id -> flows",
            ]
        );
        // No source id anywhere in what is sent.
        let sent = serde_json::to_string(
            &plan
                .steps
                .iter()
                .map(|s| s.request.as_ref().map(|r| r.body.clone()))
                .collect::<Vec<_>>(),
        )
        .unwrap();
        for id in [
            "cop_0000000000000000000001",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA2",
            "ac_00000000000000000001",
            "af_00000000000000000001",
        ] {
            assert!(!sent.contains(id), "{id} sent: {sent}");
        }
    }

    #[test]
    fn a_reference_to_what_is_not_restored_blocks_the_object_naming_the_field() {
        let source = unlisted_references();
        let mut target = State::default();
        // The form exists in the target: it is matched, and still not overwritten.
        target.push(
            kind("forms"),
            item(json!({"id": "ap_99999999999999999999", "name": "Profile", "nodes": []})),
        );
        let options = PlanOptions {
            kinds: vec!["forms".into(), "clients".into()],
            ..PlanOptions::default()
        };
        let plan = plan(&source, &target, &Values::none(), &options);
        let blocked: Vec<(&str, &str)> = plan
            .steps
            .iter()
            .filter(|s| s.action == Action::Blocked)
            .map(|s| (s.name.as_str(), s.reason.as_deref().unwrap()))
            .collect();
        assert_eq!(blocked.len(), 2, "{blocked:?}");
        assert_eq!(blocked[0].0, "clients okta app");
        assert!(
            blocked[0].1.contains(
                "connection_profiles OIDC defaults (express_configuration.connection_profile_id)"
            ),
            "{}",
            blocked[0].1
        );
        assert_eq!(blocked[1].0, "forms Profile");
        assert!(
            blocked[1]
                .1
                .contains("flows Welcome (nodes[0].config.flow_id)"),
            "{}",
            blocked[1].1
        );
        assert!(
            plan.steps.iter().all(|s| s.action != Action::Update),
            "{:?}",
            plan.steps
        );
    }

    #[test]
    fn secrets_a_snapshot_left_out_are_asked_for_and_made_up_ones_are_noted() {
        use idferry_auth0::record::Redacted;
        let mut source = State::default();
        let mut captcha = json!({"active_provider_id": "recaptcha_v2",
            "recaptcha_v2": {"site_key": "site", "secret": "s3cret"}});
        let r = Redacted::strip(kind("captcha"), &mut captcha, &[], None).unwrap();
        assert_eq!(r.fields, ["recaptcha_v2.secret"]);
        assert_eq!(captcha["recaptcha_v2"], json!({"site_key": "site"}));
        source.push_redacted(r);
        source.push(kind("captcha"), item(captcha));
        let mut client = json!({"client_id": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA1", "name": "web", "client_secret": "x"});
        source.push_redacted(Redacted::strip(kind("clients"), &mut client, &[], None).unwrap());
        source.push(kind("clients"), item(client));
        let mut twilio = json!({"sid": "AC1", "auth_token": ""});
        // An empty secret was not set: nothing to ask for.
        assert!(Redacted::strip(kind("guardian_sms_twilio"), &mut twilio, &[], None).is_none());
        let mut target = State::default();
        target.push(kind("captcha"), item(json!({"active_provider_id": "none"})));

        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        let needed: Vec<String> = p.needed_values.iter().map(NeededValue::hint).collect();
        assert_eq!(needed, ["[captcha] \"recaptcha_v2.secret\" = ..."]);
        let captcha_step = p.steps.iter().find(|s| s.kind == "captcha").unwrap();
        assert_eq!(captcha_step.action, Action::Blocked);
        assert!(
            captcha_step
                .reason
                .as_deref()
                .unwrap()
                .contains("recaptcha_v2.secret")
        );
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("clients: 1 created without the source's client_secret")),
            "{:?}",
            p.notes
        );

        // A secret in a list (a flow action's password) blocks its object, saying why.
        let mut flow = json!({"id": "af_00000000000000000001", "name": "Call CRM",
            "actions": [{"params": {"basic": {"username": "u", "password": "p"}}}]});
        let mut with_flow = source.clone();
        with_flow.push_redacted(Redacted::strip(kind("flows"), &mut flow, &[], None).unwrap());
        with_flow.push(kind("flows"), item(flow));
        let p = plan(
            &with_flow,
            &target,
            &Values::none(),
            &PlanOptions::default(),
        );
        let step = p.steps.iter().find(|s| s.kind == "flows").unwrap();
        assert_eq!(step.action, Action::Blocked);
        assert!(
            step.reason
                .as_deref()
                .unwrap()
                .contains("actions[].params.basic.password (in a list: only an encrypted snapshot"),
            "{:?}",
            step.reason
        );
        let values = Values::parse(
            "[captcha]\n\"recaptcha_v2.secret\" = \"given\"\n",
            "v.toml",
            &|_| None,
        )
        .unwrap();
        let p = plan(&source, &target, &values, &PlanOptions::default());
        assert!(p.needed_values.is_empty());
        let body = p
            .steps
            .iter()
            .find(|s| s.kind == "captcha")
            .unwrap()
            .request
            .as_ref()
            .unwrap()
            .body
            .clone()
            .unwrap();
        assert_eq!(body["recaptcha_v2"]["secret"], "given");
    }

    #[test]
    fn what_was_live_in_the_source_is_made_live_after_it_is_written() {
        let action = |id: &str, code: &str, live: bool| {
            item(
                json!({"id": id, "name": "a", "code": code, "supported_triggers": [],
                "all_changes_deployed": live}),
            )
        };
        let mut source = State::default();
        source.push(
            kind("actions"),
            action("7c1e3f52-0000-4e55-a0a5-3f1f3f9e8d11", "x", true),
        );
        // Created: deployed after the create, by the create's placeholder.
        let p = plan(
            &source,
            &State::default(),
            &Values::none(),
            &PlanOptions::default(),
        );
        let steps: Vec<(Action, Vec<String>)> = p
            .steps
            .iter()
            .map(|s| (s.action, s.request.as_ref().unwrap().ids.clone()))
            .collect();
        let placeholder = p.steps[0]
            .request
            .as_ref()
            .unwrap()
            .new_id
            .clone()
            .unwrap()
            .1;
        assert_eq!(
            steps,
            [
                (Action::Create, vec![]),
                (Action::GoLive, vec![placeholder])
            ]
        );
        assert_eq!(
            p.steps[1].request.as_ref().unwrap().endpoint.path,
            "/actions/actions/{id}/deploy"
        );
        assert_eq!(p.tally["actions"].made_live, 1);
        // The same and live in the target: nothing; the same and not live: deployed.
        let mut target = State::default();
        target.push(
            kind("actions"),
            action("9c1e3f52-0000-4e55-a0a5-3f1f3f9e8d11", "x", true),
        );
        assert!(plan(&source, &target, &Values::none(), &PlanOptions::default()).is_empty());
        let mut target = State::default();
        target.push(
            kind("actions"),
            action("9c1e3f52-0000-4e55-a0a5-3f1f3f9e8d11", "x", false),
        );
        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        let steps: Vec<(Action, Vec<String>)> = p
            .steps
            .iter()
            .map(|s| (s.action, s.request.as_ref().unwrap().ids.clone()))
            .collect();
        assert_eq!(
            steps,
            [(
                Action::GoLive,
                vec!["9c1e3f52-0000-4e55-a0a5-3f1f3f9e8d11".to_owned()]
            )]
        );
        // Never deployed in the source: written, not deployed.
        let mut source = State::default();
        source.push(
            kind("actions"),
            action("7c1e3f52-0000-4e55-a0a5-3f1f3f9e8d11", "y", false),
        );
        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        assert!(
            p.steps.iter().all(|s| s.action != Action::GoLive),
            "{:?}",
            p.steps
        );
        // Deployed in the source, then changed: the deployed code goes live first, then
        // the draft is written over it.
        let mut edited = action("7c1e3f52-0000-4e55-a0a5-3f1f3f9e8d11", "y", false);
        edited.record["deployed_version"] = json!({"id": "v1", "code": "x", "number": 1});
        let mut source = State::default();
        source.push(kind("actions"), edited);
        let p = plan(
            &source,
            &State::default(),
            &Values::none(),
            &PlanOptions::default(),
        );
        let steps: Vec<(Action, Option<Value>)> = p
            .steps
            .iter()
            .map(|s| (s.action, s.request.as_ref().unwrap().body.clone()))
            .collect();
        assert_eq!(steps.len(), 4, "{steps:?}");
        assert_eq!(steps[0].0, Action::Create);
        assert_eq!(steps[0].1.as_ref().unwrap()["code"], "y");
        assert_eq!(steps[1], (Action::Update, Some(json!({"code": "x"}))));
        assert_eq!(steps[2], (Action::GoLive, None));
        assert_eq!(steps[3], (Action::Update, Some(json!({"code": "y"}))));
        // A target that runs it and holds the draft: nothing.
        let mut there = action("9c1e3f52-0000-4e55-a0a5-3f1f3f9e8d11", "y", false);
        there.record["deployed_version"] = json!({"id": "v9", "code": "x", "number": 3});
        let mut target = State::default();
        target.push(kind("actions"), there);
        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        assert!(p.is_empty(), "{:?}", p.steps);
    }

    #[test]
    fn the_platforms_own_client_is_written_only_its_classic_login_page() {
        let global = |id: &str, page: Option<&str>| {
            let mut r = json!({"client_id": id, "name": "All Applications", "global": true,
                "callbacks": [format!("https://{id}")]});
            if let Some(page) = page {
                r["custom_login_page_on"] = json!(true);
                r["custom_login_page"] = json!(page);
            }
            item(r)
        };
        let mut source = State::default();
        source.push(
            kind("clients"),
            global("GLOBALSOURCE0000000000000000000A", Some("<html/>")),
        );
        let mut target = State::default();
        target.push(
            kind("clients"),
            global("GLOBALTARGET0000000000000000000B", None),
        );
        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        assert_eq!(p.steps.len(), 1, "{:?}", p.steps);
        let r = p.steps[0].request.as_ref().unwrap();
        assert_eq!(
            (p.steps[0].action, r.ids.clone()),
            (
                Action::Update,
                vec!["GLOBALTARGET0000000000000000000B".to_owned()]
            )
        );
        assert_eq!(
            r.body,
            Some(json!({"custom_login_page_on": true, "custom_login_page": "<html/>"}))
        );
        // Already the same: nothing; other fields of the platform's client are its own.
        target = State::default();
        target.push(
            kind("clients"),
            global("GLOBALTARGET0000000000000000000B", Some("<html/>")),
        );
        assert!(plan(&source, &target, &Values::none(), &PlanOptions::default()).is_empty());
    }

    #[test]
    fn deletes_need_consent_and_children_of_deleted_parents_go_with_them() {
        let source = State::default();
        let mut target = State::default();
        target.push(kind("roles"), item(json!({"id": "rol_1", "name": "admin"})));
        target.push(
            kind("role_permissions"),
            child(
                "rol_1",
                json!({"resource_server_identifier": "https://api", "permission_name": "read"}),
            ),
        );
        let kept = plan(&source, &target, &Values::none(), &PlanOptions::default());
        assert!(kept.steps.is_empty());
        assert_eq!(kept.tally["roles"].extra, 1);
        let gone = plan(
            &source,
            &target,
            &Values::none(),
            &PlanOptions {
                allow_delete: true,
                ..PlanOptions::default()
            },
        );
        assert_eq!(gone.steps.len(), 1, "{:?}", gone.steps);
        assert_eq!(gone.steps[0].action, Action::Delete);
        assert_eq!(gone.steps[0].request.as_ref().unwrap().ids, vec!["rol_1"]);
    }

    #[test]
    fn write_only_values_are_asked_for_by_name_and_taken_from_values() {
        let mut source = State::default();
        source.push(
            kind("email_provider"),
            item(json!({"name": "sendgrid", "enabled": true})),
        );
        source.push(kind("hooks"), item(json!({"id": "h1", "name": "hook", "script": "x", "triggerId": "post-user-registration"})));
        source.push(kind("hook_secrets"), child("h1", json!({"API_KEY": null})));
        let target = State::default();
        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        let needed: Vec<String> = p.needed_values.iter().map(NeededValue::hint).collect();
        assert_eq!(
            needed,
            vec![
                "[email_provider] \"credentials\" = ...".to_owned(),
                "[hook_secrets.\"hook\"] \"API_KEY\" = ...".to_owned()
            ]
        );
        assert_eq!(p.tally["email_provider"].blocked, 1);
        let values = Values::parse(
            "[email_provider]\ncredentials = { api_key = \"k\" }\n[hook_secrets.hook]\nAPI_KEY = \"v\"\n",
            "v.toml",
            &|_| None,
        )
        .unwrap();
        let p = plan(&source, &target, &values, &PlanOptions::default());
        assert!(p.needed_values.is_empty());
        let bodies: Vec<Value> = p
            .steps
            .iter()
            .filter_map(|s| s.request.as_ref()?.body.clone())
            .collect();
        assert!(bodies.contains(
            &json!({"name": "sendgrid", "enabled": true, "credentials": {"api_key": "k"}})
        ));
        assert!(bodies.contains(&json!({"API_KEY": "v"})));
    }

    #[test]
    fn links_add_only_what_is_missing_and_only_selects_by_name() {
        let mut source = State::default();
        source.push(kind("roles"), item(json!({"id": "r1", "name": "admin"})));
        source.push(kind("roles"), item(json!({"id": "r2", "name": "viewer"})));
        for p in ["read", "write"] {
            source.push(
                kind("role_permissions"),
                child("r1", json!({"resource_server_identifier": "https://api", "permission_name": p, "resource_server_name": "API"})),
            );
        }
        source.push(
            kind("resource_servers"),
            item(json!({"id": "r1", "identifier": "https://api"})),
        );
        let mut target = State::default();
        target.push(
            kind("resource_servers"),
            item(json!({"id": "r2", "identifier": "https://api"})),
        );
        target.push(kind("roles"), item(json!({"id": "t1", "name": "admin"})));
        target.push(
            kind("role_permissions"),
            child(
                "t1",
                json!({"resource_server_identifier": "https://api", "permission_name": "read"}),
            ),
        );
        let options = PlanOptions {
            only: vec![("roles".into(), "admin".into())],
            ..PlanOptions::default()
        };
        let p = plan(&source, &target, &Values::none(), &options);
        assert_eq!(p.steps.len(), 1, "{:?}", p.steps);
        let r = p.steps[0].request.as_ref().unwrap();
        assert_eq!(r.ids, vec!["t1"]);
        assert_eq!(
            r.body,
            Some(
                json!({"permissions": [{"resource_server_identifier": "https://api", "permission_name": "write"}]})
            )
        );
    }

    #[test]
    fn the_default_domain_needs_a_verified_domain_and_a_canonical_one_stays_each_tenants() {
        let domain = |id: &str, status: &str| {
            item(
                json!({"custom_domain_id": id, "domain": "login.acme.example", "type": "auth0_managed_certs", "status": status}),
            )
        };
        let default = |id: &str| {
            item(json!({"custom_domain_id": id, "domain": "login.acme.example", "status": "ready"}))
        };
        let mut source = State::default();
        source.push(
            kind("custom_domains"),
            domain("cd_source000000001", "ready"),
        );
        source.push(kind("default_custom_domain"), default("cd_source000000001"));
        let blocked = |p: &Plan| -> Vec<String> {
            p.steps
                .iter()
                .filter(|s| s.action == Action::Blocked)
                .map(|s| s.reason.clone().unwrap_or_default())
                .collect()
        };
        // Created by this restore: not verified yet, so not made the default.
        let p = plan(
            &source,
            &State::default(),
            &Values::none(),
            &PlanOptions::default(),
        );
        assert_eq!(p.steps[0].action, Action::Create, "{:?}", p.steps);
        let reasons = blocked(&p);
        assert_eq!(reasons.len(), 1, "{:?}", p.steps);
        assert!(
            reasons[0]
                .contains("is created by this restore, and status ready only once you verify it"),
            "{reasons:?}"
        );
        // In the target, pending: blocked, saying its status; verified: set by name only.
        let mut target = State::default();
        target.push(
            kind("custom_domains"),
            domain("cd_target000000001", "pending_verification"),
        );
        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        assert!(
            blocked(&p)[0].contains("has status pending_verification in the target, not ready"),
            "{:?}",
            p.steps
        );
        let mut target = State::default();
        target.push(
            kind("custom_domains"),
            domain("cd_target000000001", "ready"),
        );
        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        let step = &p.steps[0];
        assert_eq!(
            (step.kind, step.action),
            ("default_custom_domain", Action::Create),
            "{:?}",
            p.steps
        );
        assert_eq!(
            step.request.as_ref().unwrap().body,
            Some(json!({"domain": "login.acme.example"}))
        );
        // A source whose default is its canonical domain: nothing written, and a target
        // whose default is a custom domain keeps it, with a note.
        let mut source = State::default();
        source.push(
            kind("default_custom_domain"),
            item(json!({"domain": "acme-prod.eu.auth0.com"})),
        );
        target.push(kind("default_custom_domain"), default("cd_target000000001"));
        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        assert!(p.steps.is_empty(), "{:?}", p.steps);
        assert!(
            p.notes
                .iter()
                .any(|n| n.contains("the source's is the tenant's own (without custom_domain_id)")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn a_secret_a_create_does_not_take_is_written_right_after_it() {
        let mut source = State::default();
        source.push(
            kind("clients"),
            item(
                json!({"client_id": "AbCdEfGhIjKlMnOpQrStUvWxYz012345", "name": "web",
                        "client_secret": "kept-from-the-snapshot"}),
            ),
        );
        let p = plan(
            &source,
            &State::default(),
            &Values::none(),
            &PlanOptions::default(),
        );
        let create = p.steps[0].request.as_ref().unwrap();
        assert_eq!(p.steps[0].action, Action::Create);
        assert!(
            create.body.as_ref().unwrap().get("client_secret").is_none(),
            "{:?}",
            create.body
        );
        let placeholder = create.new_id.clone().unwrap().1;
        let then = p.steps[1].request.as_ref().unwrap();
        assert_eq!(p.steps[1].action, Action::Update);
        assert_eq!(then.ids, [placeholder]);
        assert_eq!(
            then.body,
            Some(json!({"client_secret": "kept-from-the-snapshot"}))
        );
    }

    #[test]
    fn an_unchanged_target_plans_nothing() {
        let mut source = State::default();
        source.push(kind("connections"), item(json!({"id": "con_a", "name": "db", "strategy": "auth0", "options": {"x": 1}, "enabled_clients": ["A1"]})));
        source.push(
            kind("clients"),
            item(json!({"client_id": "A1", "name": "web"})),
        );
        source.push(
            kind("tenant_settings"),
            item(json!({"friendly_name": "Acme"})),
        );
        let mut target = State::default();
        target.push(kind("connections"), item(json!({"id": "con_b", "name": "db", "strategy": "auth0", "options": {"x": 1, "client_secret": "kept"}, "enabled_clients": ["B1"]})));
        target.push(
            kind("clients"),
            item(json!({"client_id": "B1", "name": "web", "client_secret": "s"})),
        );
        target.push(
            kind("tenant_settings"),
            item(json!({"friendly_name": "Acme"})),
        );
        let p = plan(&source, &target, &Values::none(), &PlanOptions::default());
        assert!(p.steps.is_empty(), "{:?}", p.steps);
    }

    #[test]
    fn a_field_naming_the_objects_own_children_is_written_once_they_exist() {
        // A client signing with private_key_jwt names its credentials, which are
        // created under it: the client first without the field, then its credential,
        // then the field with the credential's new id.
        let client = "AbCdEfGhIjKlMnOpQrStUvWxYz012345";
        let credential = "cred_0123456789abcdefghijkl";
        let mut source = State::default();
        source.push(
            kind("clients"),
            item(json!({"client_id": client, "name": "worker", "token_endpoint_auth_method": null,
                "client_authentication_methods": {"private_key_jwt": {"credentials": [{"id": credential}]}}})),
        );
        source.push(
            kind("client_credentials"),
            child(
                client,
                json!({"id": credential, "name": "key", "credential_type": "public_key", "pem": "PEM"}),
            ),
        );
        let p = plan(
            &source,
            &State::default(),
            &Values::none(),
            &PlanOptions::default(),
        );
        let shown: Vec<String> = p
            .steps
            .iter()
            .map(|s| format!("{:?} {} {}", s.action, s.kind, s.name))
            .collect();
        assert_eq!(p.steps.len(), 4, "{shown:#?}");
        let create = p.steps[0].request.as_ref().unwrap();
        assert_eq!(
            (p.steps[0].action, p.steps[0].kind),
            (Action::Create, "clients")
        );
        let body = create.body.as_ref().unwrap();
        assert!(
            body.get("client_authentication_methods").is_none(),
            "{body}"
        );
        // A create takes no null: the unset method is unset by an update after it.
        assert!(body.get("token_endpoint_auth_method").is_none(), "{body}");
        let client_id = create.new_id.clone().unwrap().1;
        let unset = p.steps[1].request.as_ref().unwrap();
        assert_eq!(unset.ids.as_slice(), std::slice::from_ref(&client_id));
        assert_eq!(
            unset.body,
            Some(json!({"token_endpoint_auth_method": null}))
        );
        let key = p.steps[2].request.as_ref().unwrap();
        assert_eq!(p.steps[2].kind, "client_credentials");
        let key_id = key.new_id.clone().unwrap().1;
        let then = p.steps[3].request.as_ref().unwrap();
        assert_eq!(
            (p.steps[3].action, p.steps[3].kind),
            (Action::Update, "clients")
        );
        assert_eq!(then.ids, [client_id]);
        assert_eq!(
            then.body,
            Some(
                json!({"client_authentication_methods": {"private_key_jwt": {"credentials": [{"id": key_id}]}}})
            )
        );
    }

    #[test]
    fn a_write_only_field_one_kind_of_object_has_is_asked_for_there_only() {
        // A webhook holds a token, a password or a header value, by its method: a
        // bearer stream needs its token, not the other two.
        let mut source = State::default();
        source.push(
            kind("event_streams"),
            item(
                json!({"id": "est_0123456789abcdefghijkl", "name": "user-events",
                "destination": {"type": "webhook", "configuration": {
                    "webhook_endpoint": "https://events.example.com/",
                    "webhook_authorization": {"method": "bearer"}}}}),
            ),
        );
        let p = plan(
            &source,
            &State::default(),
            &Values::none(),
            &PlanOptions::default(),
        );
        let needed: Vec<String> = p.needed_values.iter().map(|n| n.field.clone()).collect();
        assert_eq!(
            needed,
            ["destination.configuration.webhook_authorization.token"]
        );
    }
}
