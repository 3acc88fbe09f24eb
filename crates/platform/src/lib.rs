//! The shape every platform takes: the [`Platform`] trait that the pipeline and the
//! commands speak (what a platform can list, export, diff, plan and restore, and how it
//! imports users, in three journaled stages), and what crosses it: typed results
//! ([`results`]), the error ([`error`]), the run's journal ([`journal`]), the users spool
//! ([`spool`]) and source ([`UsersSource`]), and the loop every users sink extracts with
//! ([`sinks`]). Each platform implements it in its own crate (`idferry-platform-auth0`,
//! `idferry-platform-zitadel`); the pipeline's registry maps a tenant's `platform` to one.
//! This crate depends on no platform's crates: a platform's own errors cross as
//! [`PipelineError::Platform`] (`result.or_platform()?`, [`error::OrPlatform`]), and a
//! users sink reads another platform's users through that platform's [`UsersSource`],
//! converted by its own profile.
//!
//! A third platform is one more crate implementing [`Platform`] over its client,
//! catalog, export and import, its entry in the registry (`idferry_pipeline::platforms`:
//! the list and `of`) and a `platform = "..."` value in `idferry_model::Platform` that
//! names it in configs.

pub mod error;
pub mod journal;
pub mod results;
pub mod sinks;
pub mod spool;

pub use error::{ObjectFailure, PipelineError};
pub use journal::Journal;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

// Futures of one run's units are polled together by one task, never sent to another:
// the sinks they write through need not be `Send`.
use futures_util::future::LocalBoxFuture as BoxFuture;
use idferry_archive::diff::KindDiff;
use idferry_archive::{Decryption, SnapshotWriter};
use idferry_model::{ExportOptions, ExportSummary, Progress, TenantConfig};
use idferry_transform::Mapping;

use crate::results::{Extracted, MembershipsGiven, Restored, UsersImported};

/// What the pipeline and the commands ask of a platform.
pub trait Platform: Send + Sync {
    /// How configs and snapshot manifests name it.
    fn name(&self) -> &'static str;

    /// How messages name it.
    fn title(&self) -> &'static str;

    /// How messages call its tenants ("Auth0 tenants").
    fn tenants(&self) -> &'static str;

    /// How its tenants log in (what their config may set).
    fn logins(&self) -> &'static [idferry_model::Login];

    /// What its tenants may say in the config file.
    fn config_rules(&self) -> idferry_model::PlatformRules {
        idferry_model::PlatformRules {
            name: self.name(),
            tenants: self.tenants(),
            logins: self.logins(),
        }
    }

    /// The names of its kinds.
    fn kinds(&self) -> Vec<&'static str>;

    /// The users of `from` (a snapshot or a tenant of this platform), for a users sink
    /// of any platform; None when this platform offers none.
    fn users_source(&self, _from: From<'_>) -> Option<Result<Box<dyn UsersSource>, PipelineError>> {
        None
    }

    /// What a reader of the snapshot `name` of this platform (described by `manifest`)
    /// should know before trusting it, such as users exported without their metadata.
    fn snapshot_warnings(&self, _name: &str, _manifest: &idferry_archive::Manifest) -> Vec<String> {
        Vec::new()
    }

    /// The built-in profile (one of [`Platform::profiles`]) a users sink into it puts
    /// each source user through, after the run's mappings.
    fn users_profile(&self) -> &'static str;

    /// Its built-in profiles (name, mapping spec text): the converters of users into its
    /// shape, `FROM-to-NAME` for another platform's users.
    fn profiles(&self) -> &'static [(&'static str, &'static str)];

    /// A profile of its own (`FROM-to-NAME`) converts the users of platform `from` into
    /// its shape.
    fn converts_users_of(&self, from: &str) -> bool {
        let converter = format!("{from}-to-{}", self.name());
        self.profiles().iter().any(|(name, _)| *name == converter)
    }

    /// Its kinds, one row each (what `idferry catalog` prints).
    fn catalog(&self) -> Catalog;

    /// Every object of `kind` in `tenant` (of this platform), as records in snapshot
    /// shape; `parents` are the ids of a sub-resource's parents, outermost first.
    fn list<'a>(
        &'a self,
        tenant: &'a TenantConfig,
        kind: &'a str,
        parents: &'a [String],
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Listing, PipelineError>>;

    /// The password hashes of one of this platform's password-hash exports (a file its
    /// support delivers), as the rule that merges each into the user it belongs to;
    /// None when the platform has no such export.
    fn password_hashes(
        &self,
        _file: &std::path::Path,
    ) -> Option<Result<std::sync::Arc<dyn idferry_transform::rules::Merge>, PipelineError>> {
        None
    }

    /// Refuses `options` an export of this platform cannot follow (a kind it does not
    /// have), before any tenant is read.
    fn check_export(&self, _options: &ExportOptions) -> Result<(), PipelineError> {
        Ok(())
    }

    /// Reads `tenant` (of this platform) into `writer`: every kind, or those `options`
    /// choose where the platform can choose.
    fn export<'a>(
        &'a self,
        tenant: &'a TenantConfig,
        writer: &'a mut SnapshotWriter,
        options: &'a ExportOptions,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<Exported, PipelineError>>;

    /// Formats of other tools this platform's configuration is written in
    /// (`snapshots export --format`).
    fn config_formats(&self) -> &'static [&'static str] {
        &[]
    }

    /// Writes the configuration of the snapshot at `snapshot` into the new or empty
    /// folder `out` in `format` (one of [`Platform::config_formats`]).
    fn write_config(
        &self,
        snapshot: &Path,
        key: Option<Decryption>,
        format: &str,
        out: &Path,
    ) -> Result<results::ConfigWritten, PipelineError> {
        let _ = (snapshot, key, out);
        Err(PipelineError::NoSuchFormat {
            platform: self.name(),
            format: format.to_owned(),
            known: "none".into(),
        })
    }

    /// Another tool's configuration files at `path` (with the values of their
    /// keywords) written as a snapshot in `dir`, to be compared like one; its path.
    fn files_as_snapshot(
        &self,
        path: &Path,
        keywords: &serde_json::Map<String, serde_json::Value>,
        dir: &Path,
    ) -> Result<PathBuf, PipelineError> {
        let _ = (keywords, dir);
        Err(PipelineError::NoFilesReader {
            platform: self.name(),
            path: path.to_owned(),
        })
    }

    /// Whether `kind` is configuration (not users, nor their memberships), or holds
    /// some (a kind whose sub-resources are): what configuration files hold, and what a
    /// comparison with files or a tenant read now compares.
    fn is_configuration(&self, kind: &str) -> bool {
        let _ = kind;
        true
    }

    /// What differs between two snapshots of this platform, kind by kind.
    fn diff(
        &self,
        a: &Path,
        b: &Path,
        key: Option<Decryption>,
        ignore_ids: bool,
    ) -> Result<Vec<KindDiff>, PipelineError>;

    /// A restore for a person (`idferry restore`): the source's configuration (through
    /// the mapping) planned against the target, to be shown, consented to and applied.
    fn plan_restore<'a>(
        &'a self,
        request: PlanRequest<'a>,
    ) -> BoxFuture<'a, Result<Box<dyn RestorePlan + 'a>, PipelineError>>;

    /// A restore sink: the source's configuration (through the mappings) planned
    /// against the target (a tenant of this platform) and applied unattended.
    fn restore<'a>(&'a self, job: RestoreJob<'a>)
    -> BoxFuture<'a, Result<Restored, PipelineError>>;

    /// A users sink's first stage: the source's users shaped for this platform into the
    /// spool (what cannot be shaped is named in the report).
    fn extract_users<'a>(
        &'a self,
        job: &'a UsersJob<'a>,
    ) -> BoxFuture<'a, Result<Extracted, PipelineError>>;

    /// A users sink's second stage: the spool sent to the target, batch by batch,
    /// journaled so that a resumed run sends no user twice.
    fn import_users<'a>(
        &'a self,
        job: &'a UsersJob<'a>,
        stage: &'a str,
    ) -> BoxFuture<'a, Result<UsersImported, PipelineError>>;

    /// A users sink's third stage: the imported users given their roles and
    /// organization memberships.
    fn give_memberships<'a>(
        &'a self,
        job: &'a UsersJob<'a>,
    ) -> BoxFuture<'a, Result<MembershipsGiven, PipelineError>>;
}

/// The users of a source (a snapshot or a tenant of one platform), as that platform
/// exports them, for a users sink of any platform: the sink's profile converts them.
pub trait UsersSource {
    /// The users, as export records, one by one.
    fn users<'a>(
        &'a self,
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<UsersStream, PipelineError>>;

    /// Who holds which role and belongs to which organization, by the source's user ids,
    /// `mappings` applied to the source's records first.
    fn memberships<'a>(
        &'a self,
        mappings: &'a [Mapping],
        progress: &'a dyn Progress,
    ) -> BoxFuture<'a, Result<idferry_model::Memberships, PipelineError>>;
}

/// Users as a source gives them.
pub type UsersStream =
    futures_util::stream::BoxStream<'static, Result<serde_json::Value, PipelineError>>;

/// A platform's kinds, as a table and as one JSON object a kind.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Column titles.
    pub columns: Vec<&'static str>,
    /// One row a kind.
    pub rows: Vec<CatalogRow>,
}

/// One kind of a [`Catalog`].
#[derive(Debug, Clone)]
pub struct CatalogRow {
    /// The cells under [`Catalog::columns`].
    pub cells: Vec<String>,
    /// Everything the catalog says of the kind (`idferry catalog --json`).
    pub detail: serde_json::Map<String, serde_json::Value>,
}

/// The objects of one kind, as they are read.
pub struct Listing {
    /// The kind's name.
    pub kind: &'static str,
    /// The records, in snapshot shape.
    pub records: futures_util::stream::BoxStream<'static, Result<serde_json::Value, PipelineError>>,
    /// Paths (`a.b.c`, `*` for any key) of the secret fields in a record, to redact.
    pub secrets: &'static [&'static str],
    /// What the client has sent so far (read it after the records).
    pub stats: Box<dyn Fn() -> idferry_pacing::RequestStats + Send + Sync>,
}

/// What an export read.
#[derive(Debug)]
pub struct Exported {
    /// Records per kind (and the users' fields).
    pub summary: ExportSummary,
    /// HTTP requests sent.
    pub requests: u64,
    /// Of which answered 429.
    pub rate_limited: u64,
}

/// Where a sink reads from: a snapshot, or the source tenant itself.
#[derive(Debug, Clone)]
pub enum From<'a> {
    /// A snapshot file (downloaded when it was in a store), and how to open it when it
    /// is encrypted.
    Snapshot(&'a Path, Option<Decryption>),
    /// The source tenant.
    Tenant(&'a TenantConfig),
    /// Another tool's configuration files (auth0-deploy-cli's `tenant.yaml`), and the
    /// values of the keywords they use (`{KEYWORD: value}`).
    Files(&'a Path, &'a serde_json::Map<String, serde_json::Value>),
}

/// What `idferry restore` asks a platform to plan.
pub struct PlanRequest<'a> {
    /// What it restores.
    pub from: From<'a>,
    /// A mapping applied to the source first.
    pub mapping: Option<&'a Mapping>,
    /// The target.
    pub target: &'a TenantConfig,
    /// Only these kinds (all when empty).
    pub kinds: &'a [String],
    /// Only these objects and what hangs from them, as `KIND:NAME`.
    pub only: &'a [String],
    /// Values for write-only secrets.
    pub values: Option<&'a Path>,
    /// Delete what only the target has.
    pub allow_delete: bool,
    /// Where progress goes.
    pub progress: &'a dyn Progress,
}

/// A restore planned, to be shown, consented to, and applied.
pub trait RestorePlan {
    /// How the source is named in the plan.
    fn source_name(&self) -> String;
    /// The plan as a person reads it, line by line.
    fn lines(&self) -> Vec<String>;
    /// The plan as `--json` gives it.
    fn to_json(&self) -> serde_json::Value;
    /// Nothing to write, and nothing left unwritten.
    fn is_empty(&self) -> bool;
    /// Nothing to write now (objects may still be left unwritten for want of a value).
    fn nothing_to_apply(&self) -> bool;
    /// Objects are left unwritten for want of a value only the user can give: the
    /// command ends non-zero even when the rest is applied.
    fn incomplete(&self) -> bool;
    /// It changes or deletes what the target has: it asks for consent.
    fn overwrites(&self) -> bool;
    /// The consent question.
    fn question(&self) -> String;
    /// Applies it.
    fn apply<'b>(
        &'b self,
        progress: &'b dyn Progress,
    ) -> BoxFuture<'b, Result<Box<dyn RestoreApplied>, PipelineError>>;
}

/// What applying a [`RestorePlan`] did.
pub trait RestoreApplied {
    /// As a person reads it, line by line.
    fn lines(&self) -> Vec<String>;
    /// As `--json` gives it: `result`, and what else the platform counts.
    fn to_json(&self) -> serde_json::Map<String, serde_json::Value>;
    /// Something failed.
    fn failed(&self) -> bool;
}

/// A restore sink's work.
pub struct RestoreJob<'a> {
    /// What it restores.
    pub from: From<'a>,
    /// Mappings applied to the source first.
    pub mappings: &'a [Mapping],
    /// The target.
    pub target: &'a TenantConfig,
    /// Only these kinds (all when empty).
    pub kinds: &'a [String],
    /// Values for write-only secrets.
    pub values: Option<&'a Path>,
    /// Delete what only the target has.
    pub allow_delete: bool,
    /// The run's journal (ids of what was created).
    pub journal: &'a Mutex<Journal>,
    /// The source tenant (or `snapshot`).
    pub unit: &'a str,
    /// Where progress goes.
    pub progress: &'a dyn Progress,
}

/// A users sink's work, shared by its three stages.
pub struct UsersJob<'a> {
    /// Opens the source's users (a snapshot or the source tenant).
    pub source: &'a (dyn Fn() -> Result<Box<dyn UsersSource>, PipelineError> + Sync),
    /// The name the source goes by (a ZITADEL target's default organization and project).
    pub source_name: String,
    /// Mappings applied to each user first.
    pub mappings: &'a [Mapping],
    /// The target.
    pub target: &'a TenantConfig,
    /// The target's database connection (platforms that have them).
    pub connection: &'a str,
    /// Password hashes (an Auth0 password-hash export), merged when users are sent.
    pub hashes: Option<&'a Path>,
    /// Update users that exist.
    pub upsert: bool,
    /// The organization users are created in (platforms that need one).
    pub org: Option<&'a str>,
    /// The project whose roles stand for the source's roles (platforms that need one).
    pub project: Option<&'a str>,
    /// The member role given to organization members (platforms that need one).
    pub member_role: &'a str,
    /// Import jobs in flight (platforms that import users as jobs).
    pub slots: Option<usize>,
    /// Carry social and enterprise users into the database connection rather than leave
    /// them out (platforms whose imports take database users only).
    pub carry_social_users: bool,
    /// Names this run's import jobs, stable across resumes.
    pub run_id: String,
    /// The spool the extract writes and the import reads.
    pub spool: PathBuf,
    /// The report of users refused or not carried whole.
    pub report: PathBuf,
    /// The run's journal.
    pub journal: Arc<Mutex<Journal>>,
    /// The source tenant (or `snapshot`).
    pub unit: &'a str,
    /// Where progress goes.
    pub progress: &'a dyn Progress,
}

/// `KIND:NAME` pairs of `--only` for `platform`, each kind checked with `known`.
pub fn parse_only(
    only: &[String],
    platform: &dyn Platform,
    example: &'static str,
    known: impl Fn(&str) -> bool,
    kinds: &dyn Fn() -> String,
) -> Result<Vec<(String, String)>, PipelineError> {
    only.iter()
        .map(|o| {
            let Some((kind, name)) = o.split_once(':') else {
                return Err(PipelineError::OnlyNotKindName {
                    only: o.clone(),
                    example,
                });
            };
            if !known(kind) {
                return Err(PipelineError::NotAKindOf {
                    what: format!("--only {o}"),
                    platform: platform.title(),
                    known: kinds(),
                });
            }
            Ok((kind.to_owned(), name.to_owned()))
        })
        .collect()
}
