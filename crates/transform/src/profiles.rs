//! Built-in mapping profiles: specs that ship with idferry, used by name. Each platform
//! holds its own (the converters into its users' shape); this reads one from a table.

use crate::spec::{Mapping, SpecError};

/// The profile called `name` in `table` (name, spec text).
pub fn find(table: &[(&str, &str)], name: &str) -> Result<Mapping, SpecError> {
    let (_, text) = table
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| SpecError {
            file: format!("profile {name}"),
            line: 0,
            column: 0,
            message: format!(
                "no such profile; the profiles are: {}",
                table.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            ),
        })?;
    Mapping::parse(text, &format!("profile {name}"), &|_| None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_found_by_name_and_a_wrong_name_lists_the_others() {
        let table = [
            ("one", "[[users]]\nop = \"drop\"\nfields = [\"a\"]\n"),
            ("two", "[[users]]\nop = \"drop\"\nfields = [\"b\"]\n"),
        ];
        assert!(find(&table, "two").is_ok());
        let e = find(&table, "three").unwrap_err().to_string();
        assert!(e.contains("profile three") && e.contains("one, two"), "{e}");
    }
}
