//! Ids in the shapes the platform uses (`con_` + 16 alphanumerics, `job_` + 16, 24-hex
//! resource server ids, UUIDs for actions), drawn from the tenant's seeded generator so
//! that a generated tenant is the same on every run.

use idferry_auth0::catalog::IdFormat;
use rand::Rng;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";

/// `len` characters drawn from `alphabet`.
pub fn random_chars(rng: &mut impl Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// `len` alphanumerics.
pub fn alnum(rng: &mut impl Rng, len: usize) -> String {
    random_chars(rng, ALNUM, len)
}

/// `len` lowercase hex digits.
pub fn hex(rng: &mut impl Rng, len: usize) -> String {
    random_chars(rng, HEX, len)
}

/// A random (version 4) UUID.
pub fn uuid(rng: &mut impl Rng) -> String {
    let h = hex(rng, 32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// A new id in `format`; `None` for kinds whose id the caller names.
pub fn new_id(rng: &mut impl Rng, format: IdFormat) -> Option<String> {
    Some(match format {
        IdFormat::Prefixed(prefix, len) => format!("{prefix}{}", alnum(rng, len)),
        IdFormat::Alnum(len) => alnum(rng, len),
        IdFormat::Hex(len) => hex(rng, len),
        IdFormat::Uuid => uuid(rng),
        IdFormat::Named => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn ids_have_the_platform_shapes() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let con = new_id(&mut rng, IdFormat::Prefixed("con_", 16)).unwrap();
        assert!(con.starts_with("con_") && con.len() == 20);
        assert!(con[4..].chars().all(|c| c.is_ascii_alphanumeric()));
        let u = uuid(&mut rng);
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert_eq!(new_id(&mut rng, IdFormat::Named), None);
    }
}
