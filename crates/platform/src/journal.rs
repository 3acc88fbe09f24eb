//! A run's journal: one SQLite file in the run directory that says what the run is (the
//! spec and the hash of everything it depends on, the config, the tenants), which stages
//! are done with what counts, which users-imports files were sent as which jobs, and the
//! ids objects and users got in the target. Every record is committed (WAL, synchronous
//! FULL) before the side effect it announces and after the one it confirms, so that a
//! run killed at any instant, power loss included, resumes from what is written here.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use idferry_model::{ChunkCounts, ChunkState};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::error::PipelineError;

/// The journal's file name in a run directory.
pub const FILE: &str = "journal.sqlite";

/// The schema this build writes and reads.
const SCHEMA_VERSION: i64 = 2;

const SCHEMA: &str = "
CREATE TABLE run (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    spec_path TEXT NOT NULL,
    spec_hash TEXT NOT NULL,
    config_path TEXT NOT NULL,
    tenants TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL
);
CREATE TABLE stages (
    unit TEXT NOT NULL,
    stage TEXT NOT NULL,
    status TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    counts TEXT,
    error TEXT,
    PRIMARY KEY (unit, stage)
);
CREATE TABLE chunks (
    unit TEXT NOT NULL,
    stage TEXT NOT NULL,
    chunk INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    -- How many times the file was sent: after the first, its job's conflicts are
    -- users an earlier send imported.
    sends INTEGER NOT NULL DEFAULT 1,
    job_id TEXT,
    status TEXT NOT NULL,
    counts TEXT,
    PRIMARY KEY (unit, stage, chunk)
);
CREATE TABLE ids (
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    PRIMARY KEY (unit, kind, source)
);
";

/// Where a run, or one stage of it, stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Started and not ended (or stopped without a word: killed).
    Running,
    /// Ended with everything done.
    Done,
    /// Ended with something not done (the error says what).
    Failed,
}

impl Status {
    /// As the journal stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Done => "done",
            Status::Failed => "failed",
        }
    }

    fn column(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Self> {
        let text: String = r.get(i)?;
        match text.as_str() {
            "running" => Ok(Status::Running),
            "done" => Ok(Status::Done),
            "failed" => Ok(Status::Failed),
            other => Err(rusqlite::Error::FromSqlConversionFailure(
                i,
                rusqlite::types::Type::Text,
                format!("no status {other:?} (running, done, failed)").into(),
            )),
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a journal says about its run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RunInfo {
    /// The run directory.
    pub dir: PathBuf,
    /// The pipeline's name.
    pub name: String,
    /// The spec file.
    pub spec_path: PathBuf,
    /// The hash of the spec and its files when the run started.
    pub spec_hash: String,
    /// The tenant config file.
    pub config_path: PathBuf,
    /// The source tenants (units).
    pub tenants: Vec<String>,
    /// Start time (UTC, RFC 3339).
    pub started_at: String,
    /// End time, once ended.
    pub finished_at: Option<String>,
    /// Where it stands.
    pub status: Status,
}

/// One stage of one unit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageRow {
    /// The unit (source tenant).
    pub unit: String,
    /// The stage.
    pub stage: String,
    /// Where it stands.
    pub status: Status,
    /// What it did (the stage's typed result, as stored).
    pub counts: Option<Value>,
    /// Why it failed.
    pub error: Option<String>,
}

/// An open journal. It holds its run directory's lock: one process at a time runs it.
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    path: PathBuf,
    /// The run directory's lock; none for a journal opened only to be read.
    _lock: Option<std::fs::File>,
}

/// The lock file of a run directory (an OS lock on it, released when its holder exits,
/// however it exits; its text says who holds it).
const LOCK: &str = "run.lock";

/// Takes `dir`'s lock, or says who holds it.
fn lock(dir: &Path) -> Result<std::fs::File, PipelineError> {
    let path = dir.join(LOCK);
    let io = |source| PipelineError::Io {
        what: format!("locking the run directory {}", dir.display()),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            return Err(PipelineError::RunInUse {
                dir: dir.to_owned(),
                holder: holder.trim().to_owned(),
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    use std::io::Write;
    file.set_len(0).map_err(io)?;
    write!(
        file,
        "process {} since {}",
        std::process::id(),
        jiff::Timestamp::now()
    )
    .map_err(io)?;
    Ok(file)
}

/// A stage's stored counts, read (column `i`): text that does not read is damage, not
/// an empty record.
fn stage_counts(text: &str, i: usize) -> rusqlite::Result<Value> {
    serde_json::from_str(text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("a stage's counts do not read: {e}").into(),
        )
    })
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

impl Journal {
    /// The journal shared by a run's stages, to record in; a lock poisoned by a stage
    /// that panicked stops the run rather than leaving results unrecorded.
    pub fn lock(journal: &Mutex<Journal>) -> Result<MutexGuard<'_, Journal>, PipelineError> {
        journal.lock().map_err(|_| PipelineError::JournalPoisoned)
    }

    fn damaged(path: &Path, detail: impl std::fmt::Display) -> PipelineError {
        PipelineError::JournalDamaged {
            path: path.to_owned(),
            detail: detail.to_string(),
        }
    }

    fn db(path: &Path, e: rusqlite::Error) -> PipelineError {
        PipelineError::JournalWrite {
            path: path.to_owned(),
            message: e.to_string(),
        }
    }

    fn pragmas(conn: &Connection) -> rusqlite::Result<()> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        Ok(())
    }

    /// Creates the journal of a new run in `dir`.
    pub fn create(
        dir: &Path,
        name: &str,
        spec_path: &Path,
        spec_hash: &str,
        config_path: &Path,
        tenants: &[String],
    ) -> Result<Self, PipelineError> {
        std::fs::create_dir_all(dir).map_err(|source| PipelineError::Io {
            what: format!("creating the run directory {}", dir.display()),
            source,
        })?;
        let path = dir.join(FILE);
        let lock = lock(dir)?;
        if path.exists() {
            return Err(PipelineError::RunExists {
                dir: dir.to_owned(),
            });
        }
        let conn = Connection::open(&path).map_err(|e| Self::db(&path, e))?;
        let setup = || -> rusqlite::Result<()> {
            Self::pragmas(&conn)?;
            conn.execute_batch(SCHEMA)?;
            conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
            conn.execute(
                "INSERT INTO run (id, name, spec_path, spec_hash, config_path, tenants, started_at, status)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, 'running')",
                params![
                    name,
                    spec_path.to_string_lossy(),
                    spec_hash,
                    config_path.to_string_lossy(),
                    serde_json::to_string(tenants).unwrap_or_default(),
                    now()
                ],
            )?;
            Ok(())
        };
        setup().map_err(|e| Self::db(&path, e))?;
        Ok(Self {
            conn,
            path,
            _lock: Some(lock),
        })
    }

    /// Opens the journal of an existing run to continue it (taking its lock), refusing
    /// one that is damaged.
    pub fn open(dir: &Path) -> Result<Self, PipelineError> {
        Self::open_as(dir, true)
    }

    /// Opens the journal of a run to read it (`idferry runs`), without its lock: a run
    /// in progress can be looked at.
    pub fn read(dir: &Path) -> Result<Self, PipelineError> {
        Self::open_as(dir, false)
    }

    fn open_as(dir: &Path, locked: bool) -> Result<Self, PipelineError> {
        let path = dir.join(FILE);
        if !path.is_file() {
            return Err(PipelineError::NotARun {
                dir: dir.to_owned(),
            });
        }
        let lock = if locked { Some(lock(dir)?) } else { None };
        let conn = Connection::open(&path).map_err(|e| Self::damaged(&path, e))?;
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| Self::damaged(&path, e))?;
        if check != "ok" {
            return Err(Self::damaged(&path, check));
        }
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| Self::damaged(&path, e))?;
        if version != SCHEMA_VERSION {
            return Err(Self::damaged(
                &path,
                format!("schema version {version}, this idferry reads {SCHEMA_VERSION}"),
            ));
        }
        Self::pragmas(&conn).map_err(|e| Self::damaged(&path, e))?;
        let journal = Self {
            conn,
            path,
            _lock: lock,
        };
        journal
            .info()
            .map_err(|e| Self::damaged(&journal.path, e))?;
        Ok(journal)
    }

    /// What the run is.
    pub fn info(&self) -> Result<RunInfo, PipelineError> {
        let dir = self.path.parent().unwrap_or(Path::new(".")).to_owned();
        self.conn
            .query_row(
                "SELECT name, spec_path, spec_hash, config_path, tenants, started_at, finished_at, status FROM run WHERE id = 1",
                [],
                |r| {
                    let tenants: String = r.get(4)?;
                    // A list that does not read would resume over no tenant at all.
                    let tenants = serde_json::from_str(&tenants).map_err(|e| {
                        rusqlite::Error::FromSqlConversionFailure(
                            4,
                            rusqlite::types::Type::Text,
                            format!("the run's tenant list does not read: {e}").into(),
                        )
                    })?;
                    Ok(RunInfo {
                        dir: dir.clone(),
                        name: r.get(0)?,
                        spec_path: PathBuf::from(r.get::<_, String>(1)?),
                        spec_hash: r.get(2)?,
                        config_path: PathBuf::from(r.get::<_, String>(3)?),
                        tenants,
                        started_at: r.get(5)?,
                        finished_at: r.get(6)?,
                        status: Status::column(r, 7)?,
                    })
                },
            )
            .map_err(|e| Self::damaged(&self.path, e))
    }

    fn exec(&self, sql: &str, p: impl rusqlite::Params) -> Result<(), PipelineError> {
        self.conn
            .execute(sql, p)
            .map(|_| ())
            .map_err(|e| Self::db(&self.path, e))
    }

    /// Marks the run running (again), or ended with `status`.
    pub fn set_status(&self, status: Status) -> Result<(), PipelineError> {
        let finished = (status != Status::Running).then(now);
        let status = status.as_str();
        self.exec(
            "UPDATE run SET status = ?1, finished_at = ?2 WHERE id = 1",
            params![status, finished],
        )
    }

    /// A stage of a unit, if it was started.
    pub fn stage(&self, unit: &str, stage: &str) -> Result<Option<StageRow>, PipelineError> {
        self.conn
            .query_row(
                "SELECT status, counts, error FROM stages WHERE unit = ?1 AND stage = ?2",
                params![unit, stage],
                |r| {
                    let counts: Option<String> = r.get(1)?;
                    Ok(StageRow {
                        unit: unit.to_owned(),
                        stage: stage.to_owned(),
                        status: Status::column(r, 0)?,
                        counts: counts.map(|c| stage_counts(&c, 1)).transpose()?,
                        error: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| Self::damaged(&self.path, e))
    }

    /// What a done stage did, as the type it was stored from; None when the stage is
    /// not done. A done stage whose record does not read as `T` is damage.
    pub fn stage_result<T: serde::de::DeserializeOwned>(
        &self,
        unit: &str,
        stage: &str,
    ) -> Result<Option<T>, PipelineError> {
        let Some(row) = self.stage(unit, stage)? else {
            return Ok(None);
        };
        if row.status != Status::Done {
            return Ok(None);
        }
        let counts = row.counts.unwrap_or(Value::Null);
        serde_json::from_value(counts).map(Some).map_err(|e| {
            Self::damaged(
                &self.path,
                format!("stage {stage} of {unit} is done, but what it did does not read: {e}"),
            )
        })
    }

    /// Every stage, in the order they started.
    pub fn stages(&self) -> Result<Vec<StageRow>, PipelineError> {
        let mut stmt = self
            .conn
            .prepare("SELECT unit, stage, status, counts, error FROM stages ORDER BY rowid")
            .map_err(|e| Self::db(&self.path, e))?;
        let rows = stmt
            .query_map([], |r| {
                let counts: Option<String> = r.get(3)?;
                Ok(StageRow {
                    unit: r.get(0)?,
                    stage: r.get(1)?,
                    status: Status::column(r, 2)?,
                    counts: counts.map(|c| stage_counts(&c, 3)).transpose()?,
                    error: r.get(4)?,
                })
            })
            .map_err(|e| Self::db(&self.path, e))?;
        rows.collect::<Result<_, _>>()
            .map_err(|e| Self::damaged(&self.path, e))
    }

    /// A stage starts (or starts again).
    pub fn stage_started(&self, unit: &str, stage: &str) -> Result<(), PipelineError> {
        self.exec(
            "INSERT INTO stages (unit, stage, status, started_at) VALUES (?1, ?2, 'running', ?3)
             ON CONFLICT (unit, stage) DO UPDATE SET status = 'running', error = NULL",
            params![unit, stage, now()],
        )
    }

    /// A stage is done, with what it did.
    pub fn stage_done(
        &self,
        unit: &str,
        stage: &str,
        counts: &impl serde::Serialize,
    ) -> Result<(), PipelineError> {
        let counts = serde_json::to_string(counts).map_err(|e| PipelineError::JournalWrite {
            path: self.path.clone(),
            message: format!("what stage {stage} of {unit} did cannot be recorded: {e}"),
        })?;
        self.exec(
            "UPDATE stages SET status = 'done', finished_at = ?3, counts = ?4 WHERE unit = ?1 AND stage = ?2",
            params![unit, stage, now(), counts],
        )
    }

    /// A stage failed.
    pub fn stage_failed(&self, unit: &str, stage: &str, error: &str) -> Result<(), PipelineError> {
        self.exec(
            "UPDATE stages SET status = 'failed', finished_at = ?3, error = ?4 WHERE unit = ?1 AND stage = ?2",
            params![unit, stage, now(), error],
        )
    }

    /// Records source -> target ids of `kind`, in one transaction.
    pub fn put_ids(
        &mut self,
        unit: &str,
        kind: &str,
        pairs: impl IntoIterator<Item = (String, String)>,
    ) -> Result<(), PipelineError> {
        let path = self.path.clone();
        let tx = self.conn.transaction().map_err(|e| Self::db(&path, e))?;
        {
            let mut stmt = tx
                .prepare("INSERT OR REPLACE INTO ids (unit, kind, source, target) VALUES (?1, ?2, ?3, ?4)")
                .map_err(|e| Self::db(&path, e))?;
            for (s, t) in pairs {
                stmt.execute(params![unit, kind, s, t])
                    .map_err(|e| Self::db(&path, e))?;
            }
        }
        tx.commit().map_err(|e| Self::db(&path, e))
    }

    /// Ids recorded for `kind`.
    pub fn ids(&self, unit: &str, kind: &str) -> Result<usize, PipelineError> {
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM ids WHERE unit = ?1 AND kind = ?2",
                params![unit, kind],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(|e| Self::db(&self.path, e))
    }

    fn chunk_state(
        &self,
        unit: &str,
        stage: &str,
        chunk: u64,
    ) -> Result<ChunkState, PipelineError> {
        let row: Option<(String, Option<String>, Option<String>, i64)> = self
            .conn
            .query_row(
                "SELECT status, job_id, counts, sends FROM chunks WHERE unit = ?1 AND stage = ?2 AND chunk = ?3",
                params![unit, stage, chunk as i64],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()
            .map_err(|e| Self::db(&self.path, e))?;
        Ok(match row {
            None => ChunkState::New,
            Some((status, job, counts, sends)) => match (status.as_str(), job) {
                // Counts that do not read would make the report undercount, silently.
                ("done", _) => ChunkState::Done(match counts {
                    Some(c) => serde_json::from_str(&c).map_err(|e| {
                        Self::damaged(&self.path, format!("chunk {chunk} of {unit} {stage}: {e}"))
                    })?,
                    None => Default::default(),
                }),
                ("submitted", Some(job)) => ChunkState::Submitted {
                    job,
                    in_doubt: sends > 1,
                },
                _ => ChunkState::Sending,
            },
        })
    }
}

/// The users-imports files of one stage of one unit, journaled.
pub struct UnitChunks {
    /// The journal (shared by the units of a run).
    pub journal: std::sync::Arc<std::sync::Mutex<Journal>>,
    /// The unit.
    pub unit: String,
    /// The stage.
    pub stage: String,
}

/// What an importer records of each batch, before and after every side effect; each
/// platform's importer is given these through its own journal trait.
impl UnitChunks {
    fn with<T>(
        &self,
        f: impl FnOnce(&Journal) -> Result<T, PipelineError>,
    ) -> Result<T, PipelineError> {
        f(&*Journal::lock(&self.journal)?)
    }

    /// What is known of batch `chunk`.
    pub fn state(&mut self, chunk: u64) -> Result<ChunkState, PipelineError> {
        self.with(|j| j.chunk_state(&self.unit, &self.stage, chunk))
    }

    /// Batch `chunk` is about to be sent, as `external_id`.
    pub fn sending(&mut self, chunk: u64, external_id: &str) -> Result<(), PipelineError> {
        self.with(|j| {
            j.exec(
                "INSERT INTO chunks (unit, stage, chunk, external_id, status) VALUES (?1, ?2, ?3, ?4, 'sending')
                 ON CONFLICT (unit, stage, chunk) DO UPDATE SET status = 'sending', job_id = NULL, sends = sends + 1",
                params![self.unit, self.stage, chunk as i64, external_id],
            )
        })
    }

    /// Batch `chunk` was accepted as job `job_id`.
    pub fn submitted(&mut self, chunk: u64, job_id: &str) -> Result<(), PipelineError> {
        self.with(|j| {
            j.exec(
                "UPDATE chunks SET status = 'submitted', job_id = ?4 WHERE unit = ?1 AND stage = ?2 AND chunk = ?3",
                params![self.unit, self.stage, chunk as i64, job_id],
            )
        })
    }

    /// Batch `chunk` is imported, with `counts`.
    pub fn done(&mut self, chunk: u64, counts: ChunkCounts) -> Result<(), PipelineError> {
        self.with(|j| {
            j.exec(
                "UPDATE chunks SET status = 'done', counts = ?4 WHERE unit = ?1 AND stage = ?2 AND chunk = ?3",
                params![
                    self.unit,
                    self.stage,
                    chunk as i64,
                    serde_json::to_string(&counts).unwrap_or_default()
                ],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal(dir: &Path) -> Journal {
        Journal::create(
            dir,
            "p",
            Path::new("p.toml"),
            "h1",
            Path::new("idferry.toml"),
            &["a".into()],
        )
        .unwrap()
    }

    #[test]
    fn chunks_go_from_new_to_done_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let j = std::sync::Arc::new(std::sync::Mutex::new(journal(dir.path())));
        let mut c = UnitChunks {
            journal: j.clone(),
            unit: "a".into(),
            stage: "0:users".into(),
        };
        assert_eq!(c.state(0).unwrap(), ChunkState::New);
        c.sending(0, "run-00000").unwrap();
        assert_eq!(c.state(0).unwrap(), ChunkState::Sending);
        c.submitted(0, "job_1").unwrap();
        assert_eq!(
            c.state(0).unwrap(),
            ChunkState::Submitted {
                job: "job_1".into(),
                in_doubt: false
            }
        );
        // Stopped before the job ended, and its status lost: sent again, it stays in
        // doubt through later stops.
        c.sending(0, "run-00000").unwrap();
        c.submitted(0, "job_2").unwrap();
        assert_eq!(
            c.state(0).unwrap(),
            ChunkState::Submitted {
                job: "job_2".into(),
                in_doubt: true
            }
        );
        let counts = ChunkCounts {
            inserted: 3,
            ..ChunkCounts::default()
        };
        c.done(0, counts).unwrap();
        drop(c);
        drop(j);
        let reopened = Journal::open(dir.path()).unwrap();
        assert_eq!(
            reopened.chunk_state("a", "0:users", 0).unwrap(),
            ChunkState::Done(counts)
        );
        assert_eq!(reopened.info().unwrap().spec_hash, "h1");
    }

    #[test]
    fn a_damaged_journal_is_refused_with_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        drop(journal(dir.path()));
        let path = dir.path().join(FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        for b in bytes.iter_mut().take(100) {
            *b = 0x5a;
        }
        std::fs::write(&path, bytes).unwrap();
        let _ = std::fs::remove_file(dir.path().join(format!("{FILE}-wal")));
        let e = Journal::open(dir.path()).unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("idferry run"), "{e}");
        let e = Journal::open(&dir.path().join("nope"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no run journal"), "{e}");
    }

    #[test]
    fn a_run_whose_tenants_or_counts_do_not_read_is_refused_not_resumed_over_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let j = std::sync::Arc::new(std::sync::Mutex::new(journal(dir.path())));
        let mut c = UnitChunks {
            journal: j.clone(),
            unit: "a".into(),
            stage: "0:users".into(),
        };
        c.sending(0, "run-00000").unwrap();
        c.done(0, ChunkCounts::default()).unwrap();
        let damage = |sql: &str| j.lock().unwrap().conn.execute(sql, []).unwrap();
        damage("UPDATE chunks SET counts = '{not json'");
        let e = c.state(0).unwrap_err().to_string();
        assert!(
            e.contains("damaged") && e.contains("chunk 0 of a 0:users"),
            "{e}"
        );
        damage("UPDATE run SET tenants = 'a,b'");
        let e = j.lock().unwrap().info().unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("tenant list"), "{e}");
    }

    #[test]
    fn a_stage_result_comes_back_as_its_type_and_one_that_does_not_read_is_damage() {
        use crate::results::Restored;
        let dir = tempfile::tempdir().unwrap();
        let j = journal(dir.path());
        let restored = Restored {
            to: "b".into(),
            created: 3,
            updated: 1,
            unchanged: 7,
            deleted: 0,
            failed: 0,
        };
        j.stage_started("a", "0:restore").unwrap();
        assert_eq!(j.stage_result::<Restored>("a", "0:restore").unwrap(), None);
        j.stage_done("a", "0:restore", &restored).unwrap();
        assert_eq!(
            j.stage_result::<Restored>("a", "0:restore").unwrap(),
            Some(restored.clone())
        );
        assert_eq!(j.stages().unwrap()[0].status, Status::Done);
        // A record of another shape (a changed stage, or damage) is not read as zeros.
        let e = j
            .stage_result::<crate::results::Snapshotted>("a", "0:restore")
            .unwrap_err()
            .to_string();
        assert!(e.contains("damaged") && e.contains("0:restore of a"), "{e}");
        j.conn
            .execute("UPDATE stages SET counts = '{not json'", [])
            .unwrap();
        let e = j.stages().unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("counts"), "{e}");
        j.conn
            .execute("UPDATE stages SET status = 'dnoe'", [])
            .unwrap();
        let e = j.stage("a", "0:restore").unwrap_err().to_string();
        assert!(e.contains("damaged") && e.contains("dnoe"), "{e}");
    }
}
