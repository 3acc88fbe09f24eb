//! What stops a pipeline run (or a resume) before it starts, or a tenant's part of it:
//! one variant per situation, each saying what failed, where, and what to do.

use std::path::PathBuf;

/// Why a run could not go on.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    // ---- the spec and what it names ----
    /// A spec file does not parse.
    #[error("{}:{line}:{column}: {message}", path.display())]
    SpecSyntax {
        /// The spec.
        path: PathBuf,
        /// Line of the problem (1-based).
        line: usize,
        /// Column of the problem (1-based).
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A spec parses but cannot be run as it is.
    #[error("{}: {problem}", path.display())]
    SpecShape {
        /// The spec.
        path: PathBuf,
        /// What is wrong and what to write instead.
        problem: &'static str,
    },
    /// A kind no catalog has, where kinds are chosen (`kinds`, `--kinds`).
    #[error("{what}: no kind {kind:?}{suggestion}; the kinds are: {known}")]
    UnknownKind {
        /// Where it was named.
        what: String,
        /// The kind.
        kind: String,
        /// ` (did you mean "users"?)` for a near miss.
        suggestion: String,
        /// The kinds there are.
        known: String,
    },
    /// A kind the platform does not have, asked of one of its tenants.
    #[error("no {platform} kind {kind:?}; the kinds are: {known}")]
    NoSuchKind {
        /// The platform.
        platform: &'static str,
        /// The kind asked for.
        kind: String,
        /// The kinds it has.
        known: String,
    },
    /// The values of configuration files' keywords do not read.
    #[error("keywords {from}: {problem} (e.g. {{\"SENDGRID_API_KEY\": \"...\"}})")]
    Keywords {
        /// Where they were read (a file, or the environment variable).
        from: String,
        /// What is wrong.
        problem: String,
    },
    /// Configuration files where users are asked for.
    #[error("{}: configuration files hold no users; migrate users from a snapshot or a tenant", .path.display())]
    FilesHoldNoUsers {
        /// The files.
        path: PathBuf,
    },
    /// A format of other tools the platform does not write.
    #[error("{platform} configuration is not written as {format:?}; the formats are: {known}")]
    NoSuchFormat {
        /// The platform.
        platform: &'static str,
        /// The format asked for.
        format: String,
        /// The formats it writes ("none" if it writes none).
        known: String,
    },
    /// Another tool's files of configuration given to a platform that reads none.
    #[error(
        "{platform} reads no other tool's configuration files ({}): give a snapshot or a \
         tenant of the config instead",
        path.display()
    )]
    NoFilesReader {
        /// The platform.
        platform: &'static str,
        /// The files given.
        path: PathBuf,
    },
    /// A kind asked of a restore that is not configuration (users and memberships come
    /// over with `migrate users`).
    #[error("--kinds {kind}: not a kind of configuration (see `idferry catalog`)")]
    NotConfiguration {
        /// The kind.
        kind: String,
    },
    /// A kind named in `--kinds` or `--only` that the target's platform lacks.
    #[error("{what}: not a {platform} kind (they are: {known})")]
    NotAKindOf {
        /// The option and what it said.
        what: String,
        /// The platform.
        platform: &'static str,
        /// The kinds it has (or where to see them).
        known: String,
    },
    /// An `--only` that is not `KIND:NAME`.
    #[error("--only {only}: expected KIND:NAME, e.g. {example}")]
    OnlyNotKindName {
        /// What was given.
        only: String,
        /// An example of the platform's.
        example: &'static str,
    },
    /// A sub-resource listed without its parents' ids.
    #[error("{kind} is a sub-resource of {parent}: give {depth} --parent id(s), outermost first")]
    ParentsNeeded {
        /// The kind.
        kind: &'static str,
        /// Its parent kind.
        parent: &'static str,
        /// How many parents' ids it needs.
        depth: usize,
    },
    /// Parents' ids given for a platform whose kinds are listed whole.
    #[error("{tenant}: --parent is for sub-resources of platforms that nest them: {why}")]
    NoParents {
        /// The tenant.
        tenant: String,
        /// How the platform lists its kinds instead.
        why: &'static str,
    },
    /// A mapping with rules under a kind no catalog has: they would apply to nothing.
    #[error(
        "{file}:{line}: [[{kind}]]: no kind {kind:?}{suggestion}, so these rules would apply to nothing; the kinds are: all, {known}"
    )]
    MappingKind {
        /// The mapping file.
        file: String,
        /// The line of the kind's first rule.
        line: usize,
        /// The kind.
        kind: String,
        /// ` (did you mean "users"?)` for a near miss.
        suggestion: String,
        /// The kinds there are.
        known: String,
    },
    /// A mapping rule failed on a record.
    #[error("mapping of kind {kind}: {message}")]
    MappingFailed {
        /// The kind of the record.
        kind: String,
        /// What the rule said.
        message: String,
    },
    /// A password hashes file does not load.
    #[error("hashes {}: {message}", path.display())]
    Hashes {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        message: String,
    },
    /// A snapshot named as a source is not there.
    #[error("no snapshot at {}", path.display())]
    NoSnapshot {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A snapshot location is neither a path nor a snapshot URL.
    #[error("{location}: not a snapshot URL (a path, or STORE_URL/SNAPSHOT_NAME)")]
    NotASnapshotUrl {
        /// What was given.
        location: String,
    },
    /// Work from one platform into another that has no converter for it.
    #[error("{}", across_platforms(read, from, to, *converts))]
    AcrossPlatforms {
        /// The snapshot or tenant read.
        read: String,
        /// Its platform.
        from: String,
        /// The target's platform.
        to: String,
        /// A profile converts its users into the target's platform.
        converts: bool,
    },
    /// A tenant (built in code, not read from a config) on a platform this build does
    /// not speak.
    #[error(
        "tenant {tenant} is on platform {platform:?}, which this build does not speak (it speaks: {known})"
    )]
    UnknownPlatform {
        /// The tenant.
        tenant: String,
        /// The platform it names.
        platform: String,
        /// The platforms there are.
        known: String,
    },
    /// Kind filters asked of a platform whose snapshots hold every kind.
    #[error(
        "{tenant} is a {platform} instance: its snapshots hold every kind (kind filters are for platforms read kind by kind)"
    )]
    KindsNotFiltered {
        /// The instance.
        tenant: String,
        /// Its platform.
        platform: &'static str,
    },
    /// An encrypted snapshot's passphrase variable is not set.
    #[error("passphrase_env: {var} is not set (it holds the encrypted snapshot's passphrase)")]
    PassphraseUnset {
        /// The variable.
        var: String,
    },
    /// A retention policy that keeps nothing (it would delete every snapshot).
    #[error("retention keeps nothing: set keep_last, keep_daily, keep_weekly or keep_monthly")]
    RetentionKeepsNothing,

    // ---- the run's journal ----
    /// Another process holds the run directory.
    #[error(
        "the run directory {} is in use by another idferry ({holder}): two processes must not run one run; wait for it to end, or stop it, then `idferry resume {}`",
        dir.display(), dir.display()
    )]
    RunInUse {
        /// The run directory.
        dir: PathBuf,
        /// Who holds it (process, host, since).
        holder: String,
    },
    /// A new run asked for in a directory that holds one.
    #[error("{} already holds a run; resume it with `idferry resume {}`", dir.display(), dir.display())]
    RunExists {
        /// The run directory.
        dir: PathBuf,
    },
    /// A resume asked for in a directory that holds no run.
    #[error(
        "{} holds no run journal ({}): is it a run directory? (`idferry runs` lists them)",
        dir.display(), crate::journal::FILE
    )]
    NotARun {
        /// The directory.
        dir: PathBuf,
    },
    /// The journal does not read: resuming from it could redo or skip work.
    #[error(
        "the journal {} is damaged ({detail}); not resuming from it. Start a new run with `idferry run SPEC` (objects already written are matched by name, users by email)",
        path.display()
    )]
    JournalDamaged {
        /// The journal file.
        path: PathBuf,
        /// What does not read.
        detail: String,
    },
    /// The journal could not be written.
    #[error("the journal {}: {message}", path.display())]
    JournalWrite {
        /// The journal file.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// A stage stopped in the middle while holding the journal.
    #[error(
        "the journal's lock was poisoned by a stage that stopped in the middle; the run stops here so that nothing goes unrecorded. Continue it with `idferry resume DIR`"
    )]
    JournalPoisoned,
    /// The spec of a run being resumed no longer reads.
    #[error("cannot read the run's spec {}: {message}; not resuming", path.display())]
    SpecUnreadable {
        /// The spec.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The spec of a run being resumed changed since it started.
    #[error(
        "the spec {} (or a file it names) changed since this run started; resuming would mix two different runs. Start a new run with `idferry run {}`",
        path.display(), path.display()
    )]
    SpecChanged {
        /// The spec.
        path: PathBuf,
    },

    // ---- a stage's work ----
    /// Users not carried into the target (refused by it, or not shaped by the
    /// mappings); the report names each.
    #[error("{count} users were not migrated into {target}; see {}", report.display())]
    UsersNotMigrated {
        /// How many.
        count: u64,
        /// The target.
        target: String,
        /// The report naming each, with the reason.
        report: PathBuf,
    },
    /// Roles, grants or memberships the target refused; the report names each.
    #[error("{count} memberships could not be given in {target}; see {}", report.display())]
    MembershipsRefused {
        /// How many.
        count: u64,
        /// The target.
        target: String,
        /// The report naming each.
        report: PathBuf,
    },
    /// Objects of a configuration not restored (refused, or lacking a value only the
    /// user can give).
    #[error("{} objects were not restored into {target}:{}", failures.len(), listed(failures))]
    ObjectsNotRestored {
        /// The target.
        target: String,
        /// Each object, with why.
        failures: Vec<ObjectFailure>,
    },
    /// A task of the run stopped before it ended (a panic: a bug).
    #[error("{what} stopped: {message}")]
    TaskStopped {
        /// What the task was doing.
        what: String,
        /// What stopped it.
        message: String,
    },

    /// A tenant's lease in its snapshot store could not be taken or kept.
    #[error("{tenant}: {action} its lease in the snapshot store: {source}")]
    Lease {
        /// The tenant.
        tenant: String,
        /// `taking` or `keeping`.
        action: &'static str,
        /// What the store said.
        source: idferry_store::StoreError,
    },

    // ---- the layers below ----
    /// A file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        /// The file and what was done with it.
        what: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A platform's own layers (its client, export or import) failed; the message is
    /// theirs, with what to do.
    #[error(transparent)]
    Platform(Box<dyn std::error::Error + Send + Sync>),
    /// A snapshot could not be written or read.
    #[error(transparent)]
    Archive(#[from] idferry_archive::ArchiveError),
    /// The tenant config is wrong.
    #[error(transparent)]
    Config(#[from] idferry_model::ConfigError),
    /// A snapshot store failed.
    #[error(transparent)]
    Store(#[from] idferry_store::StoreError),
    /// A mapping spec is wrong.
    #[error(transparent)]
    Mapping(#[from] idferry_transform::SpecError),
}

impl PipelineError {
    /// A failure of a platform's own layers, as they say it.
    pub fn platform(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Platform(Box::new(error))
    }
}

/// `?` for a platform's own errors where a platform implements the trait:
/// `client.call().await.or_platform()?`.
pub trait OrPlatform<T> {
    /// The error, if any, as [`PipelineError::Platform`].
    fn or_platform(self) -> Result<T, PipelineError>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> OrPlatform<T> for Result<T, E> {
    fn or_platform(self) -> Result<T, PipelineError> {
        self.map_err(PipelineError::platform)
    }
}

/// Why `source` (of platform `from`) cannot be written into a `to` target, and what can:
/// its users, when a profile (`FROM-to-TO`) converts them (`converts`).
fn across_platforms(source: &str, from: &str, to: &str, converts: bool) -> String {
    let profile = format!("{from}-to-{to}");
    if converts {
        format!(
            "{source} is of platform {from}: its configuration does not convert into a {to} \
             tenant's (its users do: `idferry migrate users --from SOURCE --to TARGET`, \
             profile {profile})"
        )
    } else {
        format!(
            "{source} is of platform {from}: nothing of it converts into {to} (no \
             {profile} profile)"
        )
    }
}

/// One object not restored, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectFailure {
    /// Its kind.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Why it was not written, with what to do when the user can help.
    pub problem: String,
}

/// Every failure, one per line (none is left out: there may be no other record).
fn listed(failures: &[ObjectFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("\n  {} {:?}: {}", f.kind, f.name, f.problem))
        .collect()
}
