//! age encryption of snapshots: to X25519 recipients (`age1...`) or a passphrase.
//! Files open with the `age` command-line tool as well.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::SecretString;

use crate::error::ArchiveError;

/// How to encrypt a snapshot.
#[derive(Clone)]
pub enum Encryption {
    /// To these X25519 recipients (`age1...`).
    Recipients(Vec<String>),
    /// With a passphrase (scrypt).
    Passphrase(SecretString),
}

impl std::fmt::Debug for Encryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Recipients(r) => f.debug_tuple("Recipients").field(r).finish(),
            Self::Passphrase(_) => f.write_str("Passphrase(***)"),
        }
    }
}

/// How to decrypt one.
#[derive(Clone)]
pub enum Decryption {
    /// Identities from an age identity file (`AGE-SECRET-KEY-1...` lines).
    IdentityFile(PathBuf),
    /// A passphrase.
    Passphrase(SecretString),
}

impl std::fmt::Debug for Decryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::IdentityFile(p) => f.debug_tuple("IdentityFile").field(p).finish(),
            Self::Passphrase(_) => f.write_str("Passphrase(***)"),
        }
    }
}

impl Encryption {
    /// Encryption with a passphrase.
    pub fn passphrase(passphrase: String) -> Self {
        Self::Passphrase(SecretString::from(passphrase))
    }

    /// Checks the recipients before any work is done.
    pub fn validate(&self) -> Result<(), ArchiveError> {
        if let Self::Passphrase(p) = self
            && age::secrecy::ExposeSecret::expose_secret(p).is_empty()
        {
            return Err(ArchiveError::Usage(
                "the passphrase is empty: an empty passphrase protects nothing".into(),
            ));
        }
        if let Self::Recipients(list) = self {
            if list.is_empty() {
                return Err(ArchiveError::Usage("no age recipient given".into()));
            }
            for r in list {
                age::x25519::Recipient::from_str(r).map_err(|e| {
                    ArchiveError::Usage(format!("{r:?} is not an age recipient (age1...): {e}"))
                })?;
            }
        }
        Ok(())
    }

    /// Wraps `out` so that what is written to it is encrypted; `finish` must be called.
    pub fn wrap<W: Write>(&self, out: W) -> Result<age::stream::StreamWriter<W>, ArchiveError> {
        let encryptor = match self {
            Self::Passphrase(p) => age::Encryptor::with_user_passphrase(p.clone()),
            Self::Recipients(list) => {
                let recipients = list
                    .iter()
                    .map(|r| age::x25519::Recipient::from_str(r))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ArchiveError::Usage(format!("bad age recipient: {e}")))?;
                age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                    .map_err(|e| ArchiveError::Usage(format!("cannot encrypt: {e}")))?
            }
        };
        encryptor
            .wrap_output(out)
            .map_err(|e| ArchiveError::Usage(format!("cannot start encryption: {e}")))
    }
}

/// The first bytes of an age file.
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/v1";

impl Decryption {
    /// Decryption with a passphrase.
    pub fn passphrase(passphrase: String) -> Self {
        Self::Passphrase(SecretString::from(passphrase))
    }

    /// Opens the encrypted `input` of `path`.
    pub fn open<R: BufRead + 'static>(
        &self,
        input: R,
        path: &Path,
    ) -> Result<Box<dyn Read>, ArchiveError> {
        let fail = |message: String| ArchiveError::Encrypted {
            path: path.to_owned(),
            message,
        };
        let decryptor = age::Decryptor::new_buffered(input)
            .map_err(|e| fail(format!("not a readable age file: {e}")))?;
        let reader = match self {
            Self::Passphrase(p) => {
                let identity = age::scrypt::Identity::new(p.clone());
                decryptor.decrypt(std::iter::once(&identity as &dyn age::Identity))
            }
            Self::IdentityFile(file) => {
                let identities = age::IdentityFile::from_file(file.display().to_string())
                    .map_err(|e| {
                        fail(format!("cannot read identity file {}: {e}", file.display()))
                    })?
                    .into_identities()
                    .map_err(|e| fail(format!("bad identity file {}: {e}", file.display())))?;
                decryptor.decrypt(identities.iter().map(|i| i.as_ref() as &dyn age::Identity))
            }
        }
        .map_err(|e| {
            fail(format!(
                "cannot decrypt (wrong identity or passphrase?): {e}"
            ))
        })?;
        Ok(Box::new(reader))
    }
}
