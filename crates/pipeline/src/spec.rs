//! Pipeline specs: what a run reads (a tenant, several, or a snapshot), the mapping specs
//! it rewrites records with, and where it writes them (snapshot archives, a restore into
//! a tenant, a users import into a tenant). Paths are relative to the spec's own file.
//!
//! ```toml
//! name = "staging-refresh"
//! transforms = ["../mappings/staging.toml"]   # for restore and users sinks
//!
//! [source]
//! tenant = "acme-prod"                          # or tenants = [..], all = true, snapshot = ".."
//!
//! [[sink]]
//! type = "snapshot"
//! dir = "../../snapshots"
//! retention = { keep_last = 7 }
//!
//! [[sink]]
//! type = "restore"
//! to = "acme-staging"
//!
//! [[sink]]
//! type = "users"
//! to = "acme-staging"
//! ```

use std::path::{Path, PathBuf};

use idferry_archive::Decryption;
use idferry_archive::prune::Policy;
use serde::{Deserialize, Serialize};

use crate::error::PipelineError;

/// A pipeline spec, as written.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The pipeline's name (run directories and reports use it).
    pub name: String,
    /// What it is for.
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What it reads.
    pub source: SourceSpec,
    /// Mapping specs applied in order to what restore and users sinks write (snapshots
    /// keep the source as it is).
    #[serde(default)]
    pub transforms: Vec<PathBuf>,
    /// Where it writes, in order.
    #[serde(default, rename = "sink")]
    pub sinks: Vec<SinkSpec>,
    /// Tenants run at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

fn default_concurrency() -> usize {
    4
}

/// What a pipeline reads.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// One tenant of the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// Several tenants of the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenants: Option<Vec<String>>,
    /// Every tenant of the config.
    #[serde(default)]
    pub all: bool,
    /// A snapshot file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<PathBuf>,
    /// Another tool's configuration files (auth0-deploy-cli's `tenant.yaml`, or its
    /// directory tree), for restore sinks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<PathBuf>,
    /// The values of the files' keywords: a JSON object of them, or a0deploy's config
    /// file holding `AUTH0_KEYWORD_REPLACE_MAPPINGS` (without it, that environment
    /// variable).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keywords: Option<PathBuf>,
    /// An encrypted snapshot's age identity file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<PathBuf>,
    /// The environment variable holding an encrypted snapshot's passphrase (the
    /// passphrase itself is never written in a spec).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passphrase_env: Option<String>,
}

/// The values of configuration files' keywords: from `file` (a JSON object of them, or
/// auth0-deploy-cli's config file holding `AUTH0_KEYWORD_REPLACE_MAPPINGS`), else that
/// environment variable (JSON), else none.
pub fn load_keywords(
    file: Option<&Path>,
) -> Result<serde_json::Map<String, serde_json::Value>, PipelineError> {
    const VAR: &str = "AUTH0_KEYWORD_REPLACE_MAPPINGS";
    let (text, from) = match file {
        Some(f) => (
            std::fs::read_to_string(f).map_err(|source| PipelineError::Io {
                what: format!("reading the keywords {}", f.display()),
                source,
            })?,
            f.display().to_string(),
        ),
        None => match std::env::var(VAR) {
            Ok(v) => (v, VAR.to_owned()),
            Err(_) => return Ok(serde_json::Map::new()),
        },
    };
    let bad = |problem: String| PipelineError::Keywords {
        from: from.clone(),
        problem,
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Some(mut map) = value.as_object().cloned() else {
        return Err(bad("not a JSON object of keywords and their values".into()));
    };
    if let Some(inner) = map.remove(VAR) {
        let Some(inner) = inner.as_object().cloned() else {
            return Err(bad(format!(
                "{VAR} is not an object of keywords and their values"
            )));
        };
        map = inner;
    }
    Ok(map)
}

impl SourceSpec {
    /// How to open the source snapshot when it is encrypted.
    pub fn decryption(&self) -> Result<Option<Decryption>, PipelineError> {
        Ok(match (&self.identity, &self.passphrase_env) {
            (Some(file), _) => Some(Decryption::IdentityFile(file.clone())),
            (None, Some(var)) => Some(Decryption::passphrase(
                std::env::var(var)
                    .map_err(|_| PipelineError::PassphraseUnset { var: var.clone() })?,
            )),
            (None, None) => None,
        })
    }
}

/// Where a pipeline writes. `to` may name the source tenant as `{tenant}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum SinkSpec {
    /// A snapshot archive per source tenant.
    Snapshot {
        /// The snapshot directory.
        dir: PathBuf,
        /// Only these kinds.
        #[serde(default)]
        kinds: Vec<String>,
        /// Not these kinds.
        #[serde(default)]
        exclude_kinds: Vec<String>,
        /// Snapshots kept afterwards (per tenant); none pruned when absent.
        #[serde(skip_serializing_if = "Option::is_none")]
        retention: Option<Policy>,
    },
    /// The configuration restored into a tenant.
    Restore {
        /// The target tenant.
        to: String,
        /// Only these kinds.
        #[serde(default)]
        kinds: Vec<String>,
        /// Values for write-only secrets.
        #[serde(skip_serializing_if = "Option::is_none")]
        values: Option<PathBuf>,
        /// Delete what only the target has.
        #[serde(default)]
        allow_delete: bool,
    },
    /// The users imported into a tenant, then their roles and organizations.
    Users {
        /// The target tenant.
        to: String,
        /// The target's database connection.
        #[serde(default = "default_connection")]
        connection: String,
        /// Password hashes (an Auth0 password-hash export).
        #[serde(skip_serializing_if = "Option::is_none")]
        hashes: Option<PathBuf>,
        /// Update users that exist.
        #[serde(default)]
        upsert: bool,
        /// Give them their roles and organization memberships.
        #[serde(default = "yes")]
        memberships: bool,
        /// ZITADEL targets: the organization users are created in (created when
        /// missing); the source tenant's name when absent.
        #[serde(skip_serializing_if = "Option::is_none")]
        org: Option<String>,
        /// ZITADEL targets: the project whose roles stand for the source's roles (in
        /// `org`); the source tenant's name when absent.
        #[serde(skip_serializing_if = "Option::is_none")]
        project: Option<String>,
        /// ZITADEL targets: the member role given to organization members.
        #[serde(default = "default_member_role")]
        member_role: String,
        /// Import jobs in flight, for platforms that import users as jobs (Auth0 runs
        /// at most 2 per tenant).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        slots: Option<usize>,
        /// Carry users who log in with a social or enterprise connection into the
        /// database connection (named in the report); by default they are left out of a
        /// database import, each named in the report with the connection they use.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        carry_social_users: bool,
    },
}

fn default_connection() -> String {
    "Username-Password-Authentication".into()
}

fn default_member_role() -> String {
    "ORG_USER_SELF_MANAGER".into()
}

fn yes() -> bool {
    true
}

impl SinkSpec {
    /// The report of the users sink at `index` for source `unit` of the run in
    /// `run_dir`: every user refused or not carried whole, with the reason.
    pub fn users_report(run_dir: &Path, unit: &str, index: usize) -> PathBuf {
        run_dir
            .join(unit)
            .join(format!("users-{index}-report.ndjson"))
    }

    /// The journal's name of step `step` (extract, import, memberships) of the users
    /// sink at `index`.
    pub fn users_stage(index: usize, step: &str) -> String {
        format!("{index}:users:{step}")
    }

    /// The stage name of this sink in a run's journal.
    pub fn stage(&self, index: usize) -> String {
        match self {
            Self::Snapshot { .. } => format!("{index}:snapshot"),
            Self::Restore { .. } => format!("{index}:restore"),
            Self::Users { .. } => format!("{index}:users"),
        }
    }
}

/// A spec read from a file, with its paths made absolute and a hash of everything it
/// depends on.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    /// The spec.
    pub spec: Spec,
    /// Its file.
    pub path: PathBuf,
    /// blake3 of the spec and of every file it names (mappings, values, hashes): a run
    /// resumes only with the same.
    pub hash: String,
}

impl LoadedSpec {
    /// Writes `spec` (built as a value by a command, its paths absolute) to `path` as
    /// the TOML a user would write, then reads it back as any spec file: a run started
    /// from it resumes with `idferry resume` like any other.
    pub fn write(spec: &Spec, path: &Path, written_by: &str) -> Result<Self, PipelineError> {
        let text = toml::to_string(spec).map_err(|e| PipelineError::Io {
            what: format!("writing the spec {}", path.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
        let text = format!("# Written by `{written_by}`; `idferry resume` reads it.\n{text}");
        std::fs::write(path, text).map_err(|source| PipelineError::Io {
            what: format!("writing the spec {}", path.display()),
            source,
        })?;
        Self::load(path)
    }

    /// Reads and checks a spec file.
    pub fn load(path: &Path) -> Result<Self, PipelineError> {
        let text = std::fs::read_to_string(path).map_err(|source| PipelineError::Io {
            what: format!("reading the spec {}", path.display()),
            source,
        })?;
        let mut spec: Spec = toml::from_str(&text).map_err(|e| {
            let (line, col) =
                idferry_model::config::line_col(&text, e.span().map_or(0, |s| s.start));
            PipelineError::SpecSyntax {
                path: path.to_owned(),
                line,
                column: col,
                message: e.message().to_owned(),
            }
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let abs = |p: &mut PathBuf| {
            if p.is_relative() && !p.to_string_lossy().contains("://") {
                *p = tidy(&base.join(&*p));
            }
        };
        spec.transforms.iter_mut().for_each(abs);
        if let Some(s) = &mut spec.source.snapshot {
            abs(s);
        }
        if let Some(s) = &mut spec.source.identity {
            abs(s);
        }
        for s in [&mut spec.source.files, &mut spec.source.keywords]
            .into_iter()
            .flatten()
        {
            abs(s);
        }
        for sink in &mut spec.sinks {
            match sink {
                SinkSpec::Snapshot { dir, .. } => abs(dir),
                SinkSpec::Restore { values, .. } => values.iter_mut().for_each(abs),
                SinkSpec::Users { hashes, .. } => hashes.iter_mut().for_each(abs),
            }
        }
        let sources = [
            spec.source.tenant.is_some(),
            spec.source.tenants.is_some(),
            spec.source.all,
            spec.source.snapshot.is_some(),
            spec.source.files.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() != 1 {
            return Err(PipelineError::SpecShape {
                path: path.to_owned(),
                problem: "[source] needs exactly one of tenant, tenants, all, snapshot, files",
            });
        }
        if spec.source.files.is_some()
            && spec
                .sinks
                .iter()
                .any(|s| !matches!(s, SinkSpec::Restore { .. }))
        {
            return Err(PipelineError::SpecShape {
                path: path.to_owned(),
                problem: "[source] files = ... holds configuration only: its sinks are restores (a snapshot or users come from a tenant or a snapshot)",
            });
        }
        if spec.source.keywords.is_some() && spec.source.files.is_none() {
            return Err(PipelineError::SpecShape {
                path: path.to_owned(),
                problem: "[source] keywords give the values of configuration files' keywords: they go with files = ...",
            });
        }
        let keyed = spec.source.identity.is_some() || spec.source.passphrase_env.is_some();
        if keyed && spec.source.snapshot.is_none() {
            return Err(PipelineError::SpecShape {
                path: path.to_owned(),
                problem: "[source] identity and passphrase_env open an encrypted snapshot: they go with snapshot = ...",
            });
        }
        if spec.sinks.is_empty() {
            return Err(PipelineError::SpecShape {
                path: path.to_owned(),
                problem: "no [[sink]]: a pipeline writes somewhere (snapshot, restore or users)",
            });
        }
        let mut hasher = blake3::Hasher::new();
        hasher.update(text.as_bytes());
        for file in spec.files() {
            let bytes = std::fs::read(&file).map_err(|source| PipelineError::Io {
                what: format!("reading {} (named by {})", file.display(), path.display()),
                source,
            })?;
            hasher.update(file.to_string_lossy().as_bytes());
            hasher.update(&bytes);
        }
        Ok(Self {
            spec,
            path: path.to_owned(),
            hash: hasher.finalize().to_hex().to_string(),
        })
    }
}

/// `a/b/../c` as `a/c` (lexically: the spec's paths are shown to people).
fn tidy(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

impl Spec {
    /// Every file the spec names, whose content changes what a run does.
    pub fn files(&self) -> Vec<PathBuf> {
        let mut files = self.transforms.clone();
        // A tenant file (a directory tree's files are not followed) and its keywords.
        files.extend(self.source.files.iter().filter(|f| f.is_file()).cloned());
        files.extend(self.source.keywords.iter().cloned());
        for sink in &self.sinks {
            match sink {
                SinkSpec::Restore {
                    values: Some(v), ..
                } => files.push(v.clone()),
                SinkSpec::Users {
                    hashes: Some(h), ..
                } => files.push(h.clone()),
                _ => {}
            }
        }
        files
    }

    /// The source tenants, given the config's tenants and the command line's choice.
    pub fn tenants(&self, config: &[String], chosen: Option<&[String]>) -> Vec<String> {
        if let Some(chosen) = chosen {
            return chosen.to_vec();
        }
        match (&self.source.tenant, &self.source.tenants, self.source.all) {
            (Some(t), _, _) => vec![t.clone()],
            (_, Some(ts), _) => ts.clone(),
            (_, _, true) => config.to_vec(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_spec_built_as_a_value_is_written_as_toml_and_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let map = write(
            dir.path(),
            "m.toml",
            "[[users]]\nop = \"drop\"\nfields = [\"x\"]\n",
        );
        let spec = Spec {
            name: "migrate \"quoted\" name".into(),
            description: None,
            source: SourceSpec {
                tenant: Some("acme-prod".into()),
                ..SourceSpec::default()
            },
            transforms: vec![map],
            sinks: vec![
                SinkSpec::Snapshot {
                    dir: dir.path().join("snaps"),
                    kinds: vec![],
                    exclude_kinds: vec!["users".into()],
                    retention: Some(Policy {
                        last: 3,
                        ..Policy::default()
                    }),
                },
                SinkSpec::Users {
                    to: "zitadel-prod".into(),
                    connection: default_connection(),
                    hashes: None,
                    upsert: true,
                    memberships: false,
                    org: Some("acme".into()),
                    project: None,
                    member_role: default_member_role(),
                    slots: None,
                    carry_social_users: true,
                },
            ],
            concurrency: 1,
        };
        let path = dir.path().join("written.toml");
        let loaded = LoadedSpec::write(&spec, &path, "a test").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# Written by `a test`"), "{text}");
        // What reads back is what was built (paths were absolute already).
        assert_eq!(
            toml::to_string(&loaded.spec).unwrap(),
            toml::to_string(&spec).unwrap()
        );
        assert_eq!(loaded.spec.name, "migrate \"quoted\" name");
    }

    #[test]
    fn specs_resolve_paths_and_hash_what_they_name() {
        let dir = tempfile::tempdir().unwrap();
        let map = write(
            dir.path(),
            "m.toml",
            "[[users]]\nop = \"drop\"\nfields = [\"x\"]\n",
        );
        let spec = write(
            dir.path(),
            "p.toml",
            "name = \"p\"\ntransforms = [\"m.toml\"]\n[source]\ntenant = \"a\"\n[[sink]]\ntype = \"users\"\nto = \"b\"\n",
        );
        let loaded = LoadedSpec::load(&spec).unwrap();
        assert_eq!(loaded.spec.transforms, vec![map.clone()]);
        assert_eq!(tidy(Path::new("a/b/../../c/./d")), PathBuf::from("c/d"));
        assert_eq!(tidy(Path::new("../x")), PathBuf::from("../x"));
        let before = loaded.hash.clone();
        std::fs::write(&map, "[[users]]\nop = \"drop\"\nfields = [\"y\"]\n").unwrap();
        assert_ne!(
            LoadedSpec::load(&spec).unwrap().hash,
            before,
            "a changed mapping changes the hash"
        );
    }

    #[test]
    fn bad_specs_say_where_and_what() {
        let dir = tempfile::tempdir().unwrap();
        let spec = write(
            dir.path(),
            "p.toml",
            "name = \"p\"\n[source]\ntenant = \"a\"\n[[sink]]\ntype = \"tape\"\n",
        );
        let e = LoadedSpec::load(&spec).unwrap_err().to_string();
        assert!(e.contains("p.toml:5:") && e.contains("tape"), "{e}");
        let spec = write(
            dir.path(),
            "q.toml",
            "name = \"q\"\n[source]\ntenant = \"a\"\nall = true\n[[sink]]\ntype = \"restore\"\nto = \"b\"\n",
        );
        let e = LoadedSpec::load(&spec).unwrap_err().to_string();
        assert!(e.contains("exactly one of"), "{e}");
    }
}
