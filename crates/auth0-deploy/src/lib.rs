//! auth0-deploy-cli's formats for an Auth0 tenant's configuration: a [`State`] (read from
//! a snapshot or a tenant) written as `a0deploy export` writes it, in its YAML format
//! (`tenant.yaml` and the code files it names) or its directory format (a JSON file per
//! object), so that teams that keep their configuration in Git in a0deploy's formats can
//! take it from idferry's snapshots.
//!
//! [`assets`] holds the table of asset types (which kind each is made of, the fields
//! a0deploy leaves out, the ids it writes as names, secrets as keyword markers);
//! [`layout`] puts the assets into files; [`read`] reads such files back into a
//! configuration, as a restore's source (keywords replaced, names given ids of their
//! own). Nothing is left out silently: [`Written`] says which kinds the files do not
//! carry, and why; [`read::Read`] names the keywords without a value.

pub mod assets;
pub mod layout;
pub mod read;

use std::path::{Path, PathBuf};

use idferry_auth0_import::State;

pub use assets::{Assets, LeftOut};

/// A format of auth0-deploy-cli's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `tenant.yaml` and the files it names (`a0deploy export -f yaml`).
    Yaml,
    /// A folder per asset type, a JSON file per object (`a0deploy export -f directory`).
    Directory,
}

impl Format {
    /// The formats' names, as the command line takes them.
    pub const NAMES: &[&str] = &["a0deploy-yaml", "a0deploy-dir"];

    /// The format named `name`, if any.
    pub fn named(name: &str) -> Option<Self> {
        match name {
            "a0deploy-yaml" => Some(Self::Yaml),
            "a0deploy-dir" => Some(Self::Directory),
            _ => None,
        }
    }
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// The files, under the output folder.
    pub files: Vec<PathBuf>,
    /// The assets, with what they do not carry and the keywords of their secrets.
    pub assets: Assets,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The output folder holds files already.
    #[error("{}: the folder is not empty; give a new or empty folder (nothing was written)", .path.display())]
    NotEmpty {
        /// The folder.
        path: PathBuf,
    },
    /// A file could not be written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file a0deploy would not take: its syntax or an asset's shape.
    #[error("{}{at}: {message}", .path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// `:LINE:COLUMN`, where known.
        at: String,
        /// What is wrong (with the asset's key).
        message: String,
    },
    /// A keyword marker outside a secret that the mappings do not give.
    #[error(
        "{source_name}: {at}: the keyword {keyword} has no value: give it in the keywords file or AUTH0_KEYWORD_REPLACE_MAPPINGS"
    )]
    Keyword {
        /// The file read.
        source_name: String,
        /// Where: kind, object, field.
        at: String,
        /// The keyword.
        keyword: String,
    },
    /// The assets could not be put in YAML or JSON.
    #[error("cannot write the assets as YAML: {message}")]
    Yaml {
        /// Why.
        message: String,
    },
}

/// Writes the configuration `state` into the new or empty folder `out` in `format`.
pub fn write(state: &State, format: Format, out: &Path) -> Result<Written, DeployError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DeployError::Io { path, source }
    };
    if out.exists() && std::fs::read_dir(out).map_err(io(out))?.next().is_some() {
        return Err(DeployError::NotEmpty {
            path: out.to_owned(),
        });
    }
    let mut assets = assets::assets(state);
    if format == Format::Directory {
        layout::note_directory_ids(&mut assets);
    }
    let files = match format {
        Format::Yaml => layout::yaml(&assets.assets)?,
        Format::Directory => layout::directory(&assets)?,
    };
    let mut written = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        let full = out.join(&path);
        // A path ending in `/` is a folder written empty.
        if path.as_os_str().as_encoded_bytes().ends_with(b"/") {
            std::fs::create_dir_all(&full).map_err(io(&full))?;
            continue;
        }
        if let Some(dir) = full.parent() {
            std::fs::create_dir_all(dir).map_err(io(dir))?;
        }
        std::fs::write(&full, bytes).map_err(io(&full))?;
        written.push(path);
    }
    Ok(Written {
        files: written,
        assets,
    })
}
