//! Per-tenant leases in the store, so that two workers never back up the same tenant at
//! once. A lease is a small JSON object under `.idferry/leases/`, created with a
//! conditional put (it fails if one exists). A lease past its expiry (its worker died)
//! is taken over with a put conditional on the version read, so that of two workers
//! seeing the same stale lease exactly one wins. A local directory cannot compare
//! versions; there the stale lease is deleted and created again, which is only racy
//! between two workers that both saw it stale within the same instant. A worker finding
//! a lease under its own name takes it over at once: that is its own earlier attempt,
//! killed before it could give the lease back (worker names must be unique among the
//! workers running at the same time).

use std::time::Duration;

use jiff::Timestamp;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, PutResult, UpdateVersion};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::store::Store;

/// Where leases live in a store.
pub const FOLDER: &str = ".idferry/leases";

/// What a lease object says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct LeaseBody {
    /// The tenant.
    pub tenant: String,
    /// The worker holding it.
    pub worker: String,
    /// When it was taken (RFC 3339).
    pub acquired_at: String,
    /// When it lapses unless released first (RFC 3339).
    pub expires_at: String,
}

/// A lease this worker holds.
#[derive(Debug)]
pub struct Lease {
    store: Store,
    name: String,
    body: LeaseBody,
    /// The version we wrote, to renew it only if it is still ours.
    version: UpdateVersion,
}

/// The result of asking for a lease.
#[derive(Debug)]
pub enum LeaseOutcome {
    /// It is ours until released or expired.
    Acquired(Lease),
    /// Another worker holds it.
    Held(LeaseBody),
}

fn name(tenant: &str) -> String {
    format!("{FOLDER}/{tenant}.json")
}

impl Lease {
    /// Takes the lease of `tenant` for `worker`, for `ttl`.
    pub async fn acquire(
        store: &Store,
        tenant: &str,
        worker: &str,
        ttl: Duration,
    ) -> Result<LeaseOutcome, StoreError> {
        let now = Timestamp::now();
        let body = LeaseBody {
            tenant: tenant.to_owned(),
            worker: worker.to_owned(),
            acquired_at: now.to_string(),
            expires_at: expiry(now, ttl).to_string(),
        };
        let name = name(tenant);
        let path = store.path(&name);
        let payload = || PutPayload::from(serde_json::to_vec(&body).unwrap_or_default());
        let objects = store.objects();
        let lease = |put: PutResult| {
            LeaseOutcome::Acquired(Lease {
                store: store.clone(),
                name: name.clone(),
                body: body.clone(),
                version: UpdateVersion {
                    e_tag: put.e_tag,
                    version: put.version,
                },
            })
        };
        // Creates the lease if there is none: Some when it is ours.
        let create = || async {
            match objects
                .put_opts(&path, payload(), PutOptions::from(PutMode::Create))
                .await
            {
                Ok(put) => Ok(Some(put)),
                Err(object_store::Error::AlreadyExists { .. }) => Ok(None),
                Err(e) => Err(store.backend_error(format!("taking {name}"), e)),
            }
        };
        // Lost a race for the lease: who won it.
        let lost = || async { Ok(LeaseOutcome::Held(current(store, &name).await?)) };
        if let Some(put) = create().await? {
            return Ok(lease(put));
        }
        // One exists: held, or stale.
        let got = match objects.get(&path).await {
            Ok(got) => got,
            // Released meanwhile: try once more from the start.
            Err(object_store::Error::NotFound { .. }) => {
                return match create().await? {
                    Some(put) => Ok(lease(put)),
                    None => lost().await,
                };
            }
            Err(e) => return Err(store.backend_error(format!("reading {name}"), e)),
        };
        let version = UpdateVersion {
            e_tag: got.meta.e_tag.clone(),
            version: got.meta.version.clone(),
        };
        let bytes = got
            .bytes()
            .await
            .map_err(|e| store.backend_error(format!("reading {name}"), e))?;
        let held: LeaseBody = parse(store, &name, &bytes)?;
        let stale = held
            .expires_at
            .parse::<Timestamp>()
            .map(|t| t <= now)
            .unwrap_or(true);
        // A lease of our own name is an earlier attempt of ours that died (a worker
        // name runs one backup at a time): taken over like a stale one.
        if !stale && held.worker != worker {
            return Ok(LeaseOutcome::Held(held));
        }
        match objects
            .put_opts(&path, payload(), PutOptions::from(PutMode::Update(version)))
            .await
        {
            Ok(put) => Ok(lease(put)),
            Err(object_store::Error::Precondition { .. }) => lost().await,
            Err(object_store::Error::NotImplemented { .. }) => {
                // A local directory: delete the stale lease and create ours.
                let _ = objects.delete(&path).await;
                match create().await? {
                    Some(put) => Ok(lease(put)),
                    None => lost().await,
                }
            }
            Err(e) => Err(store.backend_error(format!("taking over {name}"), e)),
        }
    }

    /// What the lease says.
    pub fn body(&self) -> &LeaseBody {
        &self.body
    }

    /// Extends the lease to `ttl` from now, for work that outlasts it. Fails if another
    /// worker has taken it over meanwhile (it had expired): the caller should stop.
    pub async fn renew(&mut self, ttl: Duration) -> Result<(), StoreError> {
        let mut body = self.body.clone();
        body.expires_at = expiry(Timestamp::now(), ttl).to_string();
        let path = self.store.path(&self.name);
        let payload = PutPayload::from(serde_json::to_vec(&body).unwrap_or_default());
        let objects = self.store.objects();
        let mode = PutMode::Update(self.version.clone());
        let put = match objects
            .put_opts(&path, payload.clone(), PutOptions::from(mode))
            .await
        {
            Ok(put) => put,
            Err(object_store::Error::NotImplemented { .. }) => {
                // A local directory: overwrite it if it still says ours.
                match self.store.get_small(&self.name).await? {
                    Some(bytes) if parse(&self.store, &self.name, &bytes)? == self.body => objects
                        .put_opts(&path, payload, PutOptions::from(PutMode::Overwrite))
                        .await
                        .map_err(|e| {
                            self.store
                                .backend_error(format!("renewing {}", self.name), e)
                        })?,
                    _ => return Err(self.taken()),
                }
            }
            Err(object_store::Error::Precondition { .. }) => return Err(self.taken()),
            Err(e) => {
                return Err(self
                    .store
                    .backend_error(format!("renewing {}", self.name), e));
            }
        };
        self.body = body;
        self.version = UpdateVersion {
            e_tag: put.e_tag,
            version: put.version,
        };
        Ok(())
    }

    fn taken(&self) -> StoreError {
        StoreError::Corrupt {
            store: self.store.url().to_owned(),
            name: self.name.clone(),
            message: "the lease expired and another worker took it over".into(),
        }
    }

    /// Gives the lease back, unless another worker took it over meanwhile (ours had
    /// expired).
    pub async fn release(self) -> Result<(), StoreError> {
        match self.store.get_small(&self.name).await? {
            Some(bytes) if parse(&self.store, &self.name, &bytes)? == self.body => {
                self.store.delete(&self.name).await
            }
            _ => Ok(()),
        }
    }
}

/// `ttl` after `now` (two hours if `ttl` is out of range).
fn expiry(now: Timestamp, ttl: Duration) -> Timestamp {
    let ttl = jiff::SignedDuration::try_from(ttl).unwrap_or(jiff::SignedDuration::from_hours(2));
    now.checked_add(ttl).unwrap_or(now)
}

fn parse(store: &Store, name: &str, bytes: &[u8]) -> Result<LeaseBody, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        store: store.url().to_owned(),
        name: name.to_owned(),
        message: format!("not a lease: {e}; delete it if no worker is running"),
    })
}

async fn current(store: &Store, name: &str) -> Result<LeaseBody, StoreError> {
    match store.get_small(name).await? {
        Some(bytes) => parse(store, name, &bytes),
        None => Err(StoreError::Corrupt {
            store: store.url().to_owned(),
            name: name.to_owned(),
            message: "it changed while being taken; try again".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_lease_is_exclusive_until_released_or_expired() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).unwrap();
        let hour = Duration::from_secs(3600);
        // w0 takes it and dies without giving it back.
        let LeaseOutcome::Acquired(_died) = Lease::acquire(&store, "t", "w0", hour).await.unwrap()
        else {
            panic!("free lease not taken");
        };
        match Lease::acquire(&store, "t", "w1", hour).await.unwrap() {
            LeaseOutcome::Held(body) => assert_eq!(body.worker, "w0"),
            LeaseOutcome::Acquired(_) => panic!("a held lease was taken"),
        }
        // w0 starts again: its own lease is taken over.
        let LeaseOutcome::Acquired(a) = Lease::acquire(&store, "t", "w0", hour).await.unwrap()
        else {
            panic!("a worker's own lease not taken over");
        };
        a.release().await.unwrap();
        let LeaseOutcome::Acquired(b) = Lease::acquire(&store, "t", "w1", Duration::ZERO)
            .await
            .unwrap()
        else {
            panic!("a released lease not taken");
        };
        // b expired at once: w2 takes it over, and b's release leaves w2's lease alone.
        let LeaseOutcome::Acquired(c) = Lease::acquire(&store, "t", "w2", hour).await.unwrap()
        else {
            panic!("an expired lease not taken over");
        };
        b.release().await.unwrap();
        match Lease::acquire(&store, "t", "w3", hour).await.unwrap() {
            LeaseOutcome::Held(body) => assert_eq!(body.worker, "w2"),
            LeaseOutcome::Acquired(_) => panic!("w2's lease was lost"),
        }
        c.release().await.unwrap();
    }

    #[tokio::test]
    async fn a_renewed_lease_holds_and_a_taken_one_cannot_be_renewed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().to_str().unwrap()).unwrap();
        let hour = Duration::from_secs(3600);
        let LeaseOutcome::Acquired(mut a) = Lease::acquire(&store, "t", "w0", Duration::ZERO)
            .await
            .unwrap()
        else {
            panic!("free lease not taken");
        };
        a.renew(hour).await.unwrap();
        assert!(matches!(
            Lease::acquire(&store, "t", "w1", hour).await.unwrap(),
            LeaseOutcome::Held(_)
        ));
        a.renew(Duration::ZERO).await.unwrap();
        let LeaseOutcome::Acquired(_b) = Lease::acquire(&store, "t", "w1", hour).await.unwrap()
        else {
            panic!("an expired lease not taken over");
        };
        let err = a.renew(hour).await.unwrap_err().to_string();
        assert!(err.contains("another worker took it over"), "{err}");
    }
}
