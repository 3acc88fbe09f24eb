# The jq program closest to staging.toml for users, for `idferry bench transform`.
# jq has no keyed hash: @base64 stands in for it (comparable work, not the same output).
def scrub: if type == "string" then (@base64 | .[0:16]) elif type == "object" then map_values(scrub) elif type == "array" then map(scrub) else . end;
def rewrite: if type == "string" then gsub("https://(?<h>app|api|admin|login|cdn|events|siem)\\.acme-prod\\.example\\.com"; "https://\(.h).acme-staging.example.com") elif type == "object" then map_values(rewrite) elif type == "array" then map(rewrite) else . end;
rewrite
| select((.blocked == true or .app_metadata.signup_source == "test") | not)
| (if .user_metadata.plan then .app_metadata.plan = .user_metadata.plan | del(.user_metadata.plan) else . end)
| (if .user_metadata.phone then .app_metadata.contact.phone = .user_metadata.phone | del(.user_metadata.phone) else . end)
| (if .email then .email = "u-" + (.email | @base64 | .[0:20]) + "@example.invalid" else . end)
| (if .app_metadata.contact.phone then .app_metadata.contact.phone = "+1555" + (.app_metadata.contact.phone | @base64 | .[0:7]) else . end)
| reduce ("name", "given_name", "family_name", "nickname") as $f (.; if .[$f] then .[$f] = "User " + (.[$f] | @base64 | .[0:8]) else . end)
| (if .user_metadata.address then .user_metadata.address |= scrub else . end)
| (if .app_metadata.customer_id then .app_metadata.customer_id |= scrub else . end)
| (if .last_ip then .last_ip |= scrub else . end)
| .app_metadata.environment = "staging"
| .app_metadata.copied_from = "acme-prod:" + .user_id
| (if .app_metadata.plan == "enterprise" then .app_metadata.plan = "pro" else . end)
| del(.picture, .last_login, .logins_count, .app_metadata.marketing_consent_at)
