//! Every kind name a mapping or a `--kind` may use, across the platforms' catalogs, and
//! the check that refuses any other: a rule under a misspelt kind (`[[user]]`) would
//! apply to nothing, and real data would pass through a "scrubbing" mapping untouched.

use idferry_transform::Mapping;

use crate::error::PipelineError;

/// The kinds of every platform's catalog, and `all` (rules for every kind).
pub fn known() -> Vec<&'static str> {
    let mut kinds: Vec<&'static str> = crate::platforms::all()
        .iter()
        .flat_map(|p| p.kinds())
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    kinds
}

/// `kind` when it is one, else an error listing the kinds.
pub fn check_kind(kind: &str, what: &str) -> Result<(), PipelineError> {
    if kind == "all" || known().contains(&kind) {
        return Ok(());
    }
    Err(PipelineError::UnknownKind {
        what: what.to_owned(),
        kind: kind.to_owned(),
        suggestion: suggestion(kind),
        known: known().join(", "),
    })
}

/// Refuses a mapping (read from `file`) with rules under a kind no catalog has.
pub fn check_mapping(mapping: &Mapping, file: &str) -> Result<(), PipelineError> {
    let known = known();
    for kind in mapping.kinds.keys() {
        if !known.contains(&kind.as_str()) {
            let line = mapping.lines.get(kind).copied().unwrap_or(0);
            return Err(PipelineError::MappingKind {
                file: file.to_owned(),
                line,
                kind: kind.clone(),
                suggestion: suggestion(kind),
                known: known.join(", "),
            });
        }
    }
    Ok(())
}

/// The mapping spec `file` (scrubbing keys read through `env`), refused when a rule is
/// under a kind no catalog has: how every command and pipeline loads one.
pub fn load_mapping(
    file: &std::path::Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Mapping, PipelineError> {
    let mapping = Mapping::load(file, env)?;
    check_mapping(&mapping, &file.display().to_string())?;
    Ok(mapping)
}

/// ` (did you mean "users"?)` for a near miss.
fn suggestion(kind: &str) -> String {
    let near = known().into_iter().find(|k| {
        let (a, b) = (k.trim_end_matches('s'), kind.trim_end_matches('s'));
        a == b
            || (a.len() == b.len() && a.chars().zip(b.chars()).filter(|(x, y)| x != y).count() == 1)
    });
    near.map(|k| format!(" (did you mean {k:?}?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_misspelt_kind_is_refused_with_its_line_and_a_suggestion() {
        let m = Mapping::parse(
            "[[users]]\nop = \"drop\"\nfields = [\"a\"]\n\n[[user]]\nop = \"drop\"\nfields = [\"b\"]\n",
            "m.toml",
            &|_| None,
        )
        .unwrap();
        let e = check_mapping(&m, "m.toml").unwrap_err().to_string();
        assert!(
            e.contains("m.toml:5") && e.contains("did you mean \"users\""),
            "{e}"
        );
        assert!(check_kind("userz", "--kind").is_err());
        assert!(check_kind("users", "--kind").is_ok());
        assert!(
            check_kind("login_policy", "--kind").is_ok(),
            "every platform's kinds"
        );
    }
}
