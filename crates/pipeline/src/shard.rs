//! Which worker backs up which tenant: `--shard I/N` picks worker I's tenants out of N by
//! rendezvous hashing (each tenant goes to the worker with the highest hash of tenant and
//! worker), so every worker decides alone, and going from N to N+1 workers moves only the
//! tenants the new worker wins: about 1/(N+1) of them.

/// Worker `index` of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This worker, from 0.
    pub index: u32,
    /// Workers in all.
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("--shard {text}: write I/N, worker I (from 0) of N, like 0/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(format!(
                "--shard {text}: I must be below N (workers 0..N-1)"
            ));
        }
        Ok(Self { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

fn score(tenant: &str, worker: u32) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(b"idferry shard v1\0");
    h.update(tenant.as_bytes());
    h.update(&[0]);
    h.update(&worker.to_le_bytes());
    let bytes = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

/// The worker (of `count`) that owns `tenant`.
pub fn owner(tenant: &str, count: u32) -> u32 {
    (0..count.max(1))
        .max_by_key(|w| (score(tenant, *w), std::cmp::Reverse(*w)))
        .unwrap_or(0)
}

impl Shard {
    /// Whether this worker backs up `tenant`.
    pub fn owns(&self, tenant: &str) -> bool {
        owner(tenant, self.count) == self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shards_parse_and_refuse_what_is_not_a_worker() {
        assert_eq!("1/3".parse::<Shard>(), Ok(Shard { index: 1, count: 3 }));
        assert!("3/3".parse::<Shard>().unwrap_err().contains("below N"));
        assert!("x".parse::<Shard>().unwrap_err().contains("I/N"));
    }

    #[test]
    fn every_tenant_has_exactly_one_worker() {
        let tenants: Vec<String> = (0..500).map(|i| format!("tenant-{i}")).collect();
        for n in 1..6 {
            for t in &tenants {
                let owners = (0..n)
                    .filter(|i| {
                        Shard {
                            index: *i,
                            count: n,
                        }
                        .owns(t)
                    })
                    .count();
                assert_eq!(owners, 1);
            }
        }
    }

    proptest! {
        /// From N to N+1 workers, a tenant moves only to the new worker, and about
        /// 1/(N+1) of them do (within a generous band for 400 tenants).
        #[test]
        fn adding_a_worker_moves_few_tenants(n in 1u32..12, salt in "[a-z]{0,6}") {
            let tenants: Vec<String> = (0..400).map(|i| format!("{salt}t{i}")).collect();
            let mut moved = 0usize;
            for t in &tenants {
                let (before, after) = (owner(t, n), owner(t, n + 1));
                if before != after {
                    prop_assert_eq!(after, n, "a tenant moved between old workers");
                    moved += 1;
                }
            }
            let expected = tenants.len() as f64 / f64::from(n + 1);
            prop_assert!((moved as f64) <= expected * 1.5 + 12.0, "moved {} of {}, expected about {:.0}", moved, tenants.len(), expected);
        }
    }
}
