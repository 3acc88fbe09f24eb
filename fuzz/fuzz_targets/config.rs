//! A tenant config (idferry.toml) of any text: tenants, or an error naming file:line.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

/// What the platforms of this build let a tenant say (as `idferry` loads configs).
static RULES: LazyLock<Vec<idferry_model::PlatformRules>> =
    LazyLock::new(idferry_pipeline::platforms::config_rules);

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = idferry_model::Config::parse(text, std::path::Path::new("idferry.toml"), &RULES);
});
