//! The order a restore writes kinds in: every kind after its parent, after the kinds it
//! refers to and after the kind its links point at, otherwise in catalog order. Deletes
//! go the other way.

use idferry_model::{CATALOG, Kind, Shape, catalog};

/// The kinds a kind's objects need to exist first.
fn needs(kind: &Kind) -> impl Iterator<Item = &'static str> + '_ {
    let target = match kind.shape {
        Shape::Links { target, .. } => Some(target),
        _ => None,
    };
    kind.parent
        .into_iter()
        .chain(kind.references.iter().map(|r| r.kind))
        .chain(target)
        .filter(move |k| *k != kind.name)
}

/// Every catalog kind, dependencies first (a stable topological order of the catalog;
/// a cycle, which the catalog test rules out, would fall back to catalog order).
pub fn restore_order() -> Vec<&'static Kind> {
    let mut placed: Vec<&'static Kind> = Vec::with_capacity(CATALOG.len());
    let mut left: Vec<&'static Kind> = CATALOG.iter().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|k| {
            needs(k).all(|n| placed.iter().any(|p| p.name == n) || catalog::find(n).is_none())
        });
        let next = left.remove(ready.unwrap_or(0));
        placed.push(next);
    }
    placed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_comes_after_what_it_needs() {
        let order = restore_order();
        assert_eq!(order.len(), CATALOG.len());
        let at = |name: &str| order.iter().position(|k| k.name == name).unwrap();
        for kind in CATALOG {
            for need in needs(kind) {
                assert!(at(need) < at(kind.name), "{} before {need}", kind.name);
            }
        }
        assert!(at("clients") < at("client_grants"));
        assert!(at("resource_servers") < at("role_permissions"));
        assert!(at("actions") < at("trigger_bindings"));
    }
}
