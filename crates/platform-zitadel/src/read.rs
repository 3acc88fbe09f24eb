//! A ZITADEL snapshot or instance read whole, as records in snapshot shape by kind, and
//! two snapshots compared.

use idferry_archive::{Decryption, SnapshotReader};
use idferry_platform::error::OrPlatform;
use serde_json::Value;

use idferry_platform::error::PipelineError;

/// The records of every ZITADEL catalog kind in the snapshot at `path` (in snapshot
/// shape, see `idferry_zitadel::catalog::Scope`); a snapshot of another platform is
/// refused.
pub fn zitadel_snapshot(
    path: &std::path::Path,
    key: Option<Decryption>,
) -> Result<std::collections::HashMap<String, Vec<Value>>, PipelineError> {
    let reader = SnapshotReader::new(path, key);
    let platform = reader.checked()?.platform;
    if platform != idferry_zitadel::PLATFORM {
        return Err(PipelineError::AcrossPlatforms {
            read: path.display().to_string(),
            from: platform.clone(),
            to: idferry_zitadel::PLATFORM.into(),
            converts: idferry_platform::Platform::converts_users_of(&crate::Zitadel, &platform),
        });
    }
    let mut records = std::collections::HashMap::new();
    for kind in idferry_zitadel::catalog::CATALOG {
        let mut list = Vec::new();
        let mut line_no = 0u64;
        reader.records(kind.name, |line| {
            line_no += 1;
            // A damaged record stops the read, named: never a silent `null`.
            let mut record: Value = serde_json::from_slice(line).map_err(|e| {
                idferry_archive::ArchiveError::Corrupt {
                    path: path.to_owned(),
                    message: format!(
                        "member config/{}.ndjson, record {line_no}: not JSON ({e}); verify the snapshot (`idferry snapshots verify`) and restore from another",
                        kind.name
                    ),
                }
            })?;
            idferry_zitadel::catalog::upgrade(kind, &mut record);
            list.push(record);
            Ok(())
        })?;
        records.insert(kind.name.to_owned(), list);
    }
    Ok(records)
}

/// Compares two ZITADEL snapshots kind by kind, objects matched by their names within
/// the instance; with `ignore_ids` (two instances), what each instance sets for itself
/// is left out.
pub fn zitadel_diff(
    a: &std::path::Path,
    b: &std::path::Path,
    key: Option<Decryption>,
    ignore_ids: bool,
) -> Result<Vec<idferry_archive::diff::KindDiff>, PipelineError> {
    let (left, right) = (zitadel_snapshot(a, key.clone())?, zitadel_snapshot(b, key)?);
    let none = Vec::new();
    Ok(idferry_zitadel::catalog::CATALOG
        .iter()
        .map(|kind| {
            let side = |records: &std::collections::HashMap<String, Vec<Value>>| {
                idferry_zitadel::restore::keyed(
                    kind,
                    records.get(kind.name).unwrap_or(&none),
                    ignore_ids,
                )
                .into_iter()
                .collect::<std::collections::BTreeMap<_, _>>()
            };
            idferry_archive::diff::compare(kind.name, &side(&left), &side(&right))
        })
        .collect())
}

/// The records of every ZITADEL catalog kind of `tenant`'s instance (in snapshot
/// shape); a tenant of another platform is refused, saying what converts.
pub async fn zitadel_instance(
    tenant: &idferry_model::TenantConfig,
) -> Result<std::collections::HashMap<String, Vec<Value>>, PipelineError> {
    if tenant.platform != idferry_zitadel::PLATFORM {
        return Err(PipelineError::AcrossPlatforms {
            read: tenant.name.clone(),
            from: tenant.platform.clone(),
            to: idferry_zitadel::PLATFORM.into(),
            converts: idferry_platform::Platform::converts_users_of(
                &crate::Zitadel,
                &tenant.platform,
            ),
        });
    }
    let client = idferry_zitadel::Client::new(tenant, idferry_pacing::RetryPolicy::default())
        .or_platform()?;
    idferry_zitadel::export::read_instance(&client)
        .await
        .or_platform()
}
