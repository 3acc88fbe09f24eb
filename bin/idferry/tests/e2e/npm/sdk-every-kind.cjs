// The official Node SDK (npm `auth0`, pinned by the lockfile beside this file) works
// one object of every kind through an emulated tenant, as a user's script would: it
// creates it, reads it, finds it by listing through the SDK's own paging (two per
// page), updates it and reads the update back, then deletes it and finds it gone
// (settings, which always exist, are read, written and read back). Then it runs a
// users import job and a users export job to their end. Kinds are those of idferry's
// catalog, by name, so that the test can hold the list against the catalog.
//
// Prints one JSON object: {"kinds": {KIND: {OP: "ok" | "error text"}}, "jobs": {...}}.
// AUTH0_DOMAIN (host:port) and AUTH0_TOKEN name the tenant; NODE_EXTRA_CA_CERTS its
// certificate; NODE_PATH the node_modules holding the SDK.

const { ManagementClient } = require("auth0");
const crypto = require("crypto");

const client = new ManagementClient({
  domain: process.env.AUTH0_DOMAIN,
  token: process.env.AUTH0_TOKEN,
});

const tag = crypto.randomBytes(3).toString("hex");
const { publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = publicKey.export({ type: "spki", format: "pem" });

/** Every item of a list answer, following its pages. */
async function all(answer) {
  if (answer && typeof answer[Symbol.asyncIterator] === "function") {
    const out = [];
    for await (const item of answer) out.push(item);
    return out;
  }
  if (Array.isArray(answer)) return answer;
  const lists = Object.values(answer ?? {}).filter(Array.isArray);
  return lists.length === 1 ? lists[0] : [];
}

// Fresh each call: the SDK moves a request's page along as it pages.
const OFFSET = () => ({ per_page: 2, include_totals: true });
const CHECKPOINT = () => ({ take: 2 });

/**
 * One entry per catalog kind: `create(ids)` answers the new object, `id(o)` its id;
 * `get`, `list`, `update` and `remove` take the id and what was created before (`ids`,
 * by kind). `changed(o)` tells whether a read shows the update. Settings give `get`
 * and `set` only.
 */
const KINDS = [
  // Settings: read, write, read back.
  ...[
    ["tenant_settings", () => client.tenants.settings.get(), (v) => client.tenants.settings.update({ friendly_name: v }), (o) => o.friendly_name],
    ["bot_detection", () => client.attackProtection.botDetection.get(), (v) => client.attackProtection.botDetection.update({ allowlist: [v.length > 0 ? "10.0.0.1" : "10.0.0.2"] }), (o) => (o.allowlist ?? []).length > 0 && "set"],
    ["breached_password_detection", () => client.attackProtection.breachedPasswordDetection.get(), () => client.attackProtection.breachedPasswordDetection.update({ enabled: true }), (o) => o.enabled && "set"],
    ["brute_force_protection", () => client.attackProtection.bruteForceProtection.get(), () => client.attackProtection.bruteForceProtection.update({ max_attempts: 7 }), (o) => o.max_attempts === 7 && "set"],
    ["captcha", () => client.attackProtection.captcha.get(), () => client.attackProtection.captcha.update({ active_provider_id: "simple_captcha" }), (o) => o.active_provider_id === "simple_captcha" && "set"],
    ["suspicious_ip_throttling", () => client.attackProtection.suspiciousIpThrottling.get(), () => client.attackProtection.suspiciousIpThrottling.update({ enabled: true }), (o) => o.enabled && "set"],
    ["risk_assessment_settings", () => client.riskAssessments.settings.get(), () => client.riskAssessments.settings.update({ enabled: true }), (o) => o.enabled && "set"],
    ["risk_assessment_new_device", () => client.riskAssessments.settings.newDevice.get(), () => client.riskAssessments.settings.newDevice.update({ remember_for: 17 }), (o) => o.remember_for === 17 && "set"],
    ["supplemental_signals", () => client.supplementalSignals.get(), () => client.supplementalSignals.patch({ akamai_enabled: true }), (o) => o.akamai_enabled && "set"],
    ["branding", () => client.branding.get(), (v) => client.branding.update({ logo_url: `https://cdn.example.com/${v}.png` }), (o) => o.logo_url && o.logo_url.split("/").pop().replace(".png", "")],
    ["universal_login_template", () => client.branding.templates.getUniversalLogin(), () => client.branding.templates.updateUniversalLogin({ template: "<html>{%- auth0:head -%}{%- auth0:widget -%}</html>" }), (o) => (o.body ?? "").includes("auth0:widget") && "set"],
    ["prompts", () => client.prompts.getSettings(), () => client.prompts.updateSettings({ identifier_first: true }), (o) => o.identifier_first && "set"],
    ["guardian_policies", () => client.guardian.policies.list(), () => client.guardian.policies.set(["all-applications"]), (o) => JSON.stringify(o).includes("all-applications") && "set"],
    ["guardian_phone_message_types", () => client.guardian.factors.phone.getMessageTypes(), () => client.guardian.factors.phone.setMessageTypes({ message_types: ["sms", "voice"] }), (o) => (o.message_types ?? []).length === 2 && "set"],
    ["guardian_phone_selected_provider", () => client.guardian.factors.phone.getSelectedProvider(), () => client.guardian.factors.phone.setProvider({ provider: "twilio" }), (o) => o.provider === "twilio" && "set"],
    ["guardian_phone_templates", () => client.guardian.factors.phone.getTemplates(), () => client.guardian.factors.phone.setTemplates({ enrollment_message: "e {{code}}", verification_message: "v {{code}}" }), (o) => o.enrollment_message === "e {{code}}" && "set"],
    ["guardian_phone_twilio", () => client.guardian.factors.phone.getTwilioProvider(), () => client.guardian.factors.phone.setTwilioProvider({ from: "+15555550199", sid: "AC" + "2".repeat(32), auth_token: "token" }), (o) => o.from === "+15555550199" && "set"],
    ["guardian_sms_selected_provider", () => client.guardian.factors.sms.getSelectedProvider(), () => client.guardian.factors.sms.setProvider({ provider: "twilio" }), (o) => o.provider === "twilio" && "set"],
    ["guardian_sms_templates", () => client.guardian.factors.sms.getTemplates(), () => client.guardian.factors.sms.setTemplates({ enrollment_message: "e {{code}}", verification_message: "v {{code}}" }), (o) => o.enrollment_message === "e {{code}}" && "set"],
    ["guardian_sms_twilio", () => client.guardian.factors.sms.getTwilioProvider(), () => client.guardian.factors.sms.setTwilioProvider({ from: "+15555550199", sid: "AC" + "3".repeat(32), auth_token: "token" }), (o) => o.from === "+15555550199" && "set"],
    ["guardian_push_selected_provider", () => client.guardian.factors.pushNotification.getSelectedProvider(), () => client.guardian.factors.pushNotification.setProvider({ provider: "sns" }), (o) => o.provider === "sns" && "set"],
    ["guardian_push_apns", () => client.guardian.factors.pushNotification.getApnsProvider(), () => client.guardian.factors.pushNotification.updateApnsProvider({ bundle_id: "com.example.sdk", sandbox: true }), (o) => o.bundle_id === "com.example.sdk" && "set"],
    ["guardian_push_sns", () => client.guardian.factors.pushNotification.getSnsProvider(), () => client.guardian.factors.pushNotification.updateSnsProvider({ aws_region: "eu-west-1" }), (o) => o.aws_region === "eu-west-1" && "set"],
    // The SDK has no call for Duo's settings.
    ["guardian_duo_settings", null, null, null],
    ["guardian_factors", () => client.guardian.factors.list(), () => client.guardian.factors.set("otp", { enabled: true }), async (o) => (await all(o)).some((f) => f.name === "otp" && f.enabled) && "set"],
  ].map(([kind, get, set, seen]) => ({ kind, settings: true, get, set, seen })),

  // Objects: create, read, list, update, delete.
  { kind: "resource_servers", create: () => client.resourceServers.create({ name: `sdk api ${tag}`, identifier: `https://sdk-${tag}.example.com/`, scopes: [{ value: "read:sdk", description: "Read" }] }), id: (o) => o.id, get: (id) => client.resourceServers.get(id), list: () => client.resourceServers.list(OFFSET()), update: (id) => client.resourceServers.update(id, { name: `sdk api ${tag} 2` }), changed: (o) => o.name.endsWith(" 2"), remove: (id) => client.resourceServers.delete(id) },
  { kind: "clients", create: () => client.clients.create({ name: `sdk client ${tag}`, app_type: "non_interactive" }), id: (o) => o.client_id, get: (id) => client.clients.get(id), list: () => client.clients.list(OFFSET()), update: (id) => client.clients.update(id, { description: "updated" }), changed: (o) => o.description === "updated", remove: (id) => client.clients.delete(id) },
  { kind: "client_credentials", needs: ["clients"], create: (ids) => client.clients.credentials.create(ids.clients, { credential_type: "public_key", name: "sdk key", pem }), id: (o) => o.id, get: (id, ids) => client.clients.credentials.get(ids.clients, id), list: (ids) => client.clients.credentials.list(ids.clients), update: (id, ids) => client.clients.credentials.update(ids.clients, id, { expires_at: "2030-01-01T00:00:00.000Z" }), changed: (o) => String(o.expires_at ?? "").startsWith("2030"), remove: (id, ids) => client.clients.credentials.delete(ids.clients, id) },
  { kind: "client_grants", needs: ["clients", "resource_servers"], create: (ids, made) => client.clientGrants.create({ client_id: ids.clients, audience: made.resource_servers.identifier, scope: [], organization_usage: "allow" }), id: (o) => o.id, get: (id) => client.clientGrants.get(id), list: () => client.clientGrants.list(CHECKPOINT()), update: (id) => client.clientGrants.update(id, { scope: ["read:sdk"] }), changed: (o) => (o.scope ?? []).includes("read:sdk"), remove: (id) => client.clientGrants.delete(id) },
  { kind: "connections", create: () => client.connections.create({ name: `sdk-db-${tag}`, strategy: "auth0" }), id: (o) => o.id, get: (id) => client.connections.get(id), list: () => client.connections.list(CHECKPOINT()), update: (id) => client.connections.update(id, { display_name: "SDK" }), changed: (o) => o.display_name === "SDK", remove: (id) => client.connections.delete(id) },
  { kind: "connection_clients", needs: ["connections", "clients"], settings: true, get: (ids) => client.connections.clients.get(ids.connections), set: (v, ids) => client.connections.clients.update(ids.connections, [{ client_id: ids.clients, status: true }]), seen: async (answer, ids) => (await all(answer)).some((c) => c.client_id === ids.clients) && "set" },
  { kind: "connection_profiles", create: () => client.connectionProfiles.create({ name: `sdk-profile-${tag}` }), id: (o) => o.id, get: (id) => client.connectionProfiles.get(id), list: () => client.connectionProfiles.list(CHECKPOINT()), update: (id) => client.connectionProfiles.update(id, { name: `sdk-profile-${tag}-2` }), changed: (o) => o.name.endsWith("-2"), remove: (id) => client.connectionProfiles.delete(id) },
  { kind: "custom_domains", create: () => client.customDomains.create({ domain: `login-${tag}.example.com`, type: "auth0_managed_certs" }), id: (o) => o.custom_domain_id, get: (id) => client.customDomains.get(id), list: () => client.customDomains.list(), update: (id) => client.customDomains.update(id, { tls_policy: "recommended", custom_client_ip_header: "cf-connecting-ip" }), changed: (o) => o.custom_client_ip_header === "cf-connecting-ip", remove: (id) => client.customDomains.delete(id) },
  { kind: "branding_themes", create: () => client.branding.themes.create(THEME), id: (o) => o.themeId, get: (id) => client.branding.themes.get(id), update: (id) => client.branding.themes.update(id, { ...THEME, displayName: "SDK 2" }), changed: (o) => o.displayName === "SDK 2", remove: (id) => client.branding.themes.delete(id) },
  { kind: "phone_providers", create: () => client.branding.phone.providers.create({ name: "twilio", credentials: { auth_token: "t" }, configuration: { sid: "AC" + "4".repeat(32), default_from: "+15555550100", delivery_methods: ["text"] } }), id: (o) => o.id, get: (id) => client.branding.phone.providers.get(id), list: () => client.branding.phone.providers.list(), update: (id) => client.branding.phone.providers.update(id, { disabled: true }), changed: (o) => o.disabled === true, remove: (id) => client.branding.phone.providers.delete(id) },
  { kind: "phone_templates", create: () => client.branding.phone.templates.create({ type: "otp_verify", content: { body: { text: "code {{code}}" } } }), id: (o) => o.id, get: (id) => client.branding.phone.templates.get(id), list: () => client.branding.phone.templates.list(), update: (id) => client.branding.phone.templates.update(id, { disabled: true }), changed: (o) => o.disabled === true, remove: (id) => client.branding.phone.templates.delete(id) },
  { kind: "action_modules", create: () => client.actions.modules.create({ name: `sdk-module-${tag}`, code: "module.exports = {};" }), id: (o) => o.id, get: (id) => client.actions.modules.get(id), list: () => client.actions.modules.list(OFFSET()), update: (id) => client.actions.modules.update(id, { code: "module.exports = { v: 2 };" }), changed: (o) => (o.code ?? "").includes("v: 2"), remove: (id) => client.actions.modules.delete(id) },
  { kind: "actions", create: () => client.actions.create({ name: `sdk-action-${tag}`, code: "exports.onExecutePostLogin = async () => {};", supported_triggers: [{ id: "post-login", version: "v3" }] }), id: (o) => o.id, get: (id) => client.actions.get(id), list: () => client.actions.list(OFFSET()), update: (id) => client.actions.update(id, { code: "exports.onExecutePostLogin = async () => { /* 2 */ };" }), changed: (o) => o.code.includes("/* 2 */"), remove: (id) => client.actions.delete(id) },
  { kind: "hooks", create: () => client.hooks.create({ name: `sdk-hook-${tag}`, script: "module.exports = function (u, c, cb) { cb(); };", triggerId: "credentials-exchange" }), id: (o) => o.id, get: (id) => client.hooks.get(id), list: () => client.hooks.list(OFFSET()), update: (id) => client.hooks.update(id, { enabled: false }), changed: (o) => o.enabled === false, remove: (id) => client.hooks.delete(id) },
  { kind: "rules", create: () => client.rules.create({ name: `sdk-rule-${tag}`, script: "function (u, c, cb) { cb(null, u, c); }" }), id: (o) => o.id, get: (id) => client.rules.get(id), list: () => client.rules.list(OFFSET()), update: (id) => client.rules.update(id, { enabled: false }), changed: (o) => o.enabled === false, remove: (id) => client.rules.delete(id) },
  { kind: "log_streams", create: () => client.logStreams.create({ name: `sdk-stream-${tag}`, type: "http", sink: { httpEndpoint: "https://logs.example.com/", httpContentType: "application/json", httpContentFormat: "JSONLINES", httpAuthorization: "secret" } }), id: (o) => o.id, get: (id) => client.logStreams.get(id), list: () => client.logStreams.list(), update: (id) => client.logStreams.update(id, { status: "paused" }), changed: (o) => o.status === "paused", remove: (id) => client.logStreams.delete(id) },
  { kind: "event_streams", create: () => client.eventStreams.create({ name: `sdk-events-${tag}`, subscriptions: [{ event_type: "user.created" }], destination: { type: "webhook", configuration: { webhook_endpoint: "https://events.example.com/", webhook_authorization: { method: "bearer", token: "secret" } } } }), id: (o) => o.id, get: (id) => client.eventStreams.get(id), list: () => client.eventStreams.list(CHECKPOINT()), update: (id) => client.eventStreams.update(id, { status: "disabled" }), changed: (o) => o.status === "disabled", remove: (id) => client.eventStreams.delete(id) },
  { kind: "flows_vault_connections", create: () => client.flows.vault.connections.create({ name: `sdk-vault-${tag}`, app_id: "HTTP", setup: { type: "BEARER", token: "secret" } }), id: (o) => o.id, get: (id) => client.flows.vault.connections.get(id), list: () => client.flows.vault.connections.list(OFFSET()), update: (id) => client.flows.vault.connections.update(id, { name: `sdk-vault-${tag}-2` }), changed: (o) => o.name.endsWith("-2"), remove: (id) => client.flows.vault.connections.delete(id) },
  { kind: "forms", create: () => client.forms.create({ name: `sdk-form-${tag}` }), id: (o) => o.id, get: (id) => client.forms.get(id), list: () => client.forms.list(OFFSET()), update: (id) => client.forms.update(id, { name: `sdk-form-${tag}-2` }), changed: (o) => o.name.endsWith("-2"), remove: (id) => client.forms.delete(id) },
  { kind: "flows", create: () => client.flows.create({ name: `sdk-flow-${tag}` }), id: (o) => o.id, get: (id) => client.flows.get(id), list: () => client.flows.list(OFFSET()), update: (id) => client.flows.update(id, { name: `sdk-flow-${tag}-2` }), changed: (o) => o.name.endsWith("-2"), remove: (id) => client.flows.delete(id) },
  { kind: "network_acls", create: async () => { await client.networkAcls.create({ description: `sdk acl ${tag}`, active: true, priority: 7, rule: { action: { block: true }, scope: "tenant", match: { ipv4_cidrs: ["198.51.100.0/24"] } } }); return (await all(await client.networkAcls.list(OFFSET()))).find((a) => a.description === `sdk acl ${tag}`); }, id: (o) => o.id, get: (id) => client.networkAcls.get(id), list: () => client.networkAcls.list(OFFSET()), update: (id) => client.networkAcls.update(id, { active: false }), changed: (o) => o.active === false, remove: (id) => client.networkAcls.delete(id) },
  { kind: "self_service_profiles", create: () => client.selfServiceProfiles.create({ name: `sdk-ssp-${tag}` }), id: (o) => o.id, get: (id) => client.selfServiceProfiles.get(id), list: () => client.selfServiceProfiles.list(OFFSET()), update: (id) => client.selfServiceProfiles.update(id, { description: "updated" }), changed: (o) => o.description === "updated", remove: (id) => client.selfServiceProfiles.delete(id) },
  { kind: "self_service_profile_custom_text", needs: ["self_service_profiles"], settings: true, get: (ids) => client.selfServiceProfiles.customText.list(ids.self_service_profiles, "en", "get-started"), set: (v, ids) => client.selfServiceProfiles.customText.set(ids.self_service_profiles, "en", "get-started", { introduction: v }), seen: (o) => o.introduction },
  { kind: "token_exchange_profiles", needs: ["actions"], create: (ids) => client.tokenExchangeProfiles.create({ name: `sdk-tep-${tag}`, subject_token_type: `urn:sdk:${tag}`, action_id: ids.actions, type: "custom_authentication" }), id: (o) => o.id, get: (id) => client.tokenExchangeProfiles.get(id), list: () => client.tokenExchangeProfiles.list(CHECKPOINT()), update: (id) => client.tokenExchangeProfiles.update(id, { name: `sdk-tep-${tag}-2` }), changed: (o) => o.name.endsWith("-2"), remove: (id) => client.tokenExchangeProfiles.delete(id) },
  { kind: "user_attribute_profiles", create: () => client.userAttributeProfiles.create({ name: `sdk-uap-${tag}`, user_attributes: { email: { description: "Email", label: "Email", profile_required: true, auth0_mapping: "email" } } }), id: (o) => o.id, get: (id) => client.userAttributeProfiles.get(id), list: () => client.userAttributeProfiles.list(CHECKPOINT()), update: (id) => client.userAttributeProfiles.update(id, { name: `sdk-uap-${tag}-2` }), changed: (o) => o.name.endsWith("-2"), remove: (id) => client.userAttributeProfiles.delete(id) },
  { kind: "roles", create: () => client.roles.create({ name: `sdk-role-${tag}` }), id: (o) => o.id, get: (id) => client.roles.get(id), list: () => client.roles.list(OFFSET()), update: (id) => client.roles.update(id, { description: "updated" }), changed: (o) => o.description === "updated", remove: (id) => client.roles.delete(id) },
  { kind: "organizations", create: () => client.organizations.create({ name: `sdk-org-${tag}` }), id: (o) => o.id, get: (id) => client.organizations.get(id), list: () => client.organizations.list(CHECKPOINT()), update: (id) => client.organizations.update(id, { display_name: "SDK" }), changed: (o) => o.display_name === "SDK", remove: (id) => client.organizations.delete(id) },
  { kind: "organization_discovery_domains", needs: ["organizations"], create: (ids) => client.organizations.discoveryDomains.create(ids.organizations, { domain: `sdk-${tag}.example.com` }), id: (o) => o.id, get: (id, ids) => client.organizations.discoveryDomains.get(ids.organizations, id), list: (ids) => client.organizations.discoveryDomains.list(ids.organizations, CHECKPOINT()), update: (id, ids) => client.organizations.discoveryDomains.update(ids.organizations, id, { status: "verified" }), changed: (o) => o.status === "verified", remove: (id, ids) => client.organizations.discoveryDomains.delete(ids.organizations, id) },
  { kind: "organization_enabled_connections", needs: ["organizations", "connections"], create: (ids) => client.organizations.enabledConnections.add(ids.organizations, { connection_id: ids.connections, assign_membership_on_login: false }), id: (o) => o.connection_id, get: (id, ids) => client.organizations.enabledConnections.get(ids.organizations, id), list: (ids) => client.organizations.enabledConnections.list(ids.organizations, OFFSET()), update: (id, ids) => client.organizations.enabledConnections.update(ids.organizations, id, { assign_membership_on_login: true }), changed: (o) => o.assign_membership_on_login === true, remove: (id, ids) => client.organizations.enabledConnections.delete(ids.organizations, id) },
  { kind: "users", needs: ["connections"], create: (ids, made) => client.users.create({ connection: made.connections.name, email: `sdk-${tag}@example.com`, password: "Sdk-passw0rd-long!" }), id: (o) => o.user_id, get: (id) => client.users.get(id), list: () => client.users.list({ ...OFFSET(), q: `email:"sdk-${tag}@example.com"` }), update: (id) => client.users.update(id, { user_metadata: { sdk: true } }), changed: (o) => o.user_metadata?.sdk === true, remove: (id) => client.users.delete(id) },

  // Objects kept under a name, and settings that need an object first.
  { kind: "email_provider", create: () => client.emails.provider.create({ name: "sendgrid", credentials: { api_key: "secret" }, enabled: true, default_from_address: "sdk@example.com" }), id: (o) => o.name, get: () => client.emails.provider.get(), update: () => client.emails.provider.update({ default_from_address: "sdk2@example.com" }), changed: (o) => o.default_from_address === "sdk2@example.com", remove: () => client.emails.provider.delete() },
  { kind: "email_templates", create: () => client.emailTemplates.create({ template: "welcome_email", body: "<html>hi</html>", from: "sdk@example.com", subject: "Hi", syntax: "liquid", enabled: true }), id: (o) => o.template, get: (id) => client.emailTemplates.get(id), update: (id) => client.emailTemplates.update(id, { subject: "Hello" }), changed: (o) => o.subject === "Hello" },
  { kind: "scim_configurations", needs: ["connections"], create: (ids) => client.connections.scimConfiguration.create(ids.connections, {}), id: (o) => o.connection_id, get: (id) => client.connections.scimConfiguration.get(id), update: (id) => client.connections.scimConfiguration.update(id, { user_id_attribute: "userName", mapping: [{ auth0: "email", scim: "userName" }] }), changed: (o) => o.user_id_attribute === "userName", remove: (id) => client.connections.scimConfiguration.delete(id) },
  { kind: "connection_directory_provisioning", needs: ["connections"], create: (ids) => client.connections.directoryProvisioning.create(ids.connections, {}), id: (o) => o.connection_id, get: (id) => client.connections.directoryProvisioning.get(id), list: () => client.connections.directoryProvisioning.list(CHECKPOINT()), update: (id) => client.connections.directoryProvisioning.update(id, { synchronize_automatically: true }), changed: (o) => o.synchronize_automatically === true, remove: (id) => client.connections.directoryProvisioning.delete(id) },
  { kind: "default_custom_domain", needs: ["custom_domains"], settings: true, get: () => client.customDomains.getDefault(), set: async (v, ids) => { await client.customDomains.verify(ids.custom_domains); return client.customDomains.setDefault({ domain: `login-${tag}.example.com` }); }, seen: (o) => o.domain === `login-${tag}.example.com` && "set" },
  { kind: "prompt_custom_text", settings: true, get: () => client.prompts.customText.get("login", "fr"), set: (v) => client.prompts.customText.set("login", "fr", { login: { title: v } }), seen: (o) => o.login?.title },
  { kind: "prompt_partials", settings: true, get: () => client.prompts.partials.get("login"), set: (v) => client.prompts.partials.set("login", { login: { "form-content-start": `<p>${v}</p>` } }), seen: (o) => o.login?.["form-content-start"]?.slice(3, -4) },
  { kind: "prompt_screen_renderings", settings: true, get: () => client.prompts.rendering.get("login-id", "login-id"), set: () => client.prompts.rendering.update("login-id", "login-id", { rendering_mode: "advanced", head_tags: [{ tag: "script", attributes: { src: "https://cdn.example.com/sdk.js", defer: true } }] }), seen: (o) => o.rendering_mode === "advanced" && "set" },
  { kind: "action_triggers", link: true, list: () => client.actions.triggers.list(), has: (t) => t.id === "post-login" },
  { kind: "trigger_bindings", needs: ["actions"], link: true, add: async (ids) => { await client.actions.deploy(ids.actions); return client.actions.triggers.bindings.updateMany("post-login", { bindings: [{ ref: { type: "action_id", value: ids.actions }, display_name: `sdk-${tag}` }] }); }, list: () => client.actions.triggers.bindings.list("post-login"), has: (b, ids) => b.action?.id === ids.actions, remove: () => client.actions.triggers.bindings.updateMany("post-login", { bindings: [] }) },
  { kind: "hook_secrets", needs: ["hooks"], link: true, add: (ids) => client.hooks.secrets.create(ids.hooks, { SDK_KEY: "secret" }), list: async (ids) => Object.keys(await client.hooks.secrets.get(ids.hooks)), has: (k) => k === "SDK_KEY", remove: (ids) => client.hooks.secrets.delete(ids.hooks, ["SDK_KEY"]) },
  { kind: "rules_configs", link: true, add: () => client.rulesConfigs.set("SDK_KEY", { value: "secret" }), list: () => client.rulesConfigs.list(), has: (c) => c.key === "SDK_KEY", remove: () => client.rulesConfigs.delete("SDK_KEY") },
  { kind: "role_permissions", needs: ["roles", "resource_servers"], link: true, add: (ids, made) => client.roles.permissions.add(ids.roles, { permissions: [{ resource_server_identifier: made.resource_servers.identifier, permission_name: "read:sdk" }] }), list: (ids) => client.roles.permissions.list(ids.roles, OFFSET()), has: (p) => p.permission_name === "read:sdk", remove: (ids, made) => client.roles.permissions.delete(ids.roles, { permissions: [{ resource_server_identifier: made.resource_servers.identifier, permission_name: "read:sdk" }] }) },
  { kind: "organization_client_grants", needs: ["organizations", "client_grants"], link: true, add: (ids) => client.organizations.clientGrants.create(ids.organizations, { grant_id: ids.client_grants }), list: (ids) => client.organizations.clientGrants.list(ids.organizations, OFFSET()), has: (g, ids) => g.id === ids.client_grants, remove: (ids) => client.organizations.clientGrants.delete(ids.organizations, ids.client_grants) },
  { kind: "organization_members", needs: ["organizations", "users"], link: true, keep: true, add: (ids) => client.organizations.members.create(ids.organizations, { members: [ids.users] }), list: (ids) => client.organizations.members.list(ids.organizations, CHECKPOINT()), has: (m, ids) => m.user_id === ids.users, remove: (ids) => client.organizations.members.delete(ids.organizations, { members: [ids.users] }) },
  { kind: "organization_member_roles", needs: ["organizations", "users", "roles"], link: true, add: (ids) => client.organizations.members.roles.assign(ids.organizations, ids.users, { roles: [ids.roles] }), list: (ids) => client.organizations.members.roles.list(ids.organizations, ids.users, OFFSET()), has: (r, ids) => r.id === ids.roles, remove: (ids) => client.organizations.members.roles.delete(ids.organizations, ids.users, { roles: [ids.roles] }) },
  { kind: "user_organizations", needs: ["organizations", "users"], link: true, list: (ids) => client.users.organizations.list(ids.users, OFFSET()), has: (o, ids) => o.id === ids.organizations },
  { kind: "user_roles", needs: ["users", "roles"], link: true, add: (ids) => client.users.roles.assign(ids.users, { roles: [ids.roles] }), list: (ids) => client.users.roles.list(ids.users, OFFSET()), has: (r, ids) => r.id === ids.roles, remove: (ids) => client.users.roles.delete(ids.users, { roles: [ids.roles] }) },
  // A role's users are removed through the user's roles (the API has no other way).
  { kind: "role_users", needs: ["users", "roles"], link: true, add: (ids) => client.roles.users.assign(ids.roles, { users: [ids.users] }), list: (ids) => client.roles.users.list(ids.roles, CHECKPOINT()), has: (u, ids) => u.user_id === ids.users, remove: (ids) => client.users.roles.delete(ids.users, { roles: [ids.roles] }) },
  { kind: "user_permissions", needs: ["users", "resource_servers"], link: true, add: (ids, made) => client.users.permissions.create(ids.users, { permissions: [{ resource_server_identifier: made.resource_servers.identifier, permission_name: "read:sdk" }] }), list: (ids) => client.users.permissions.list(ids.users, OFFSET()), has: (p) => p.permission_name === "read:sdk", remove: (ids, made) => client.users.permissions.delete(ids.users, { permissions: [{ resource_server_identifier: made.resource_servers.identifier, permission_name: "read:sdk" }] }) },
];

const THEME = {
  displayName: "SDK",
  borders: { button_border_radius: 3, button_border_weight: 1, buttons_style: "rounded", input_border_radius: 3, input_border_weight: 1, inputs_style: "rounded", show_widget_shadow: true, widget_border_weight: 0, widget_corner_radius: 5 },
  colors: { body_text: "#1e212a", error: "#d03c38", header: "#1e212a", icons: "#65676e", input_background: "#ffffff", input_border: "#c9cace", input_filled_text: "#000000", input_labels_placeholders: "#65676e", links_focused_components: "#635dff", primary_button: "#635dff", primary_button_label: "#ffffff", secondary_button_border: "#c9cace", secondary_button_label: "#1e212a", success: "#13a688", widget_background: "#ffffff", widget_border: "#c9cace" },
  fonts: { body_text: { bold: false, size: 87.5 }, buttons_text: { bold: false, size: 100 }, font_url: "", input_labels: { bold: false, size: 100 }, links: { bold: true, size: 87.5 }, links_style: "normal", reference_text_size: 16, subtitle: { bold: false, size: 87.5 }, title: { bold: false, size: 150 } },
  page_background: { background_color: "#000000", background_image_url: "", page_layout: "center" },
  widget: { header_text_alignment: "center", logo_height: 52, logo_position: "center", logo_url: "", social_buttons_layout: "bottom" },
};

/** Runs `f`, recording "ok" or the error under `report[op]`; answers f's value or undefined. */
async function step(report, op, f) {
  try {
    const value = await f();
    report[op] = "ok";
    return value;
  } catch (e) {
    const status = e.statusCode ? `${e.statusCode} ` : "";
    report[op] = `${status}${String(e.message ?? e).replace(/\s+/g, " ").slice(0, 300)}`;
    return undefined;
  }
}

async function main() {
  const kinds = {};
  const ids = {};
  const made = {};
  const created = [];
  for (const k of KINDS) {
    const report = (kinds[k.kind] = {});
    if ((k.needs ?? []).some((n) => !ids[n])) {
      report.create = `not tried: it needs ${k.needs.filter((n) => !ids[n]).join(", ")}`;
      continue;
    }
    if (k.link) {
      // Links: added, listed through paging, removed and found gone.
      const listed = async () => (await all(await k.list(ids, made))).some((i) => k.has(i, ids));
      if (k.add) await step(report, "add", () => k.add(ids, made));
      await step(report, "list", async () => {
        if (!(await listed())) throw new Error("the list lacks it");
      });
      if (k.remove && !k.keep) {
        await step(report, "remove", () => k.remove(ids, made));
        await step(report, "gone", async () => {
          if (await listed()) throw new Error("still listed after its removal");
        });
      }
      continue;
    }
    if (k.settings) {
      if (!k.get) {
        report.get = "the SDK has no call for it";
        continue;
      }
      const value = `sdk-${tag}`;
      // Settings never written may answer 404 until they are (a login template).
      await step(report, "get", async () => {
        try {
          await k.get(ids);
        } catch (e) {
          if (e.statusCode !== 404) throw e;
        }
      });
      await step(report, "set", () => k.set(value, ids));
      await step(report, "read back", async () => {
        const seen = await k.seen(await k.get(ids), ids);
        if (!seen) throw new Error("the read does not show the write");
      });
      continue;
    }
    const object = await step(report, "create", () => k.create(ids, made));
    const id = object && k.id(object);
    if (!id) {
      if (report.create === "ok") report.create = `answered no id: ${String(JSON.stringify(object)).slice(0, 200)}`;
      continue;
    }
    ids[k.kind] = id;
    made[k.kind] = object;
    created.push(k);
    await step(report, "get", async () => {
      const read = await k.get(id, ids);
      if (k.id(read) !== id) throw new Error(`read ${JSON.stringify(read).slice(0, 200)}`);
    });
    if (k.list) {
      await step(report, "list", async () => {
        const items = await all(await k.list(ids));
        if (!items.some((i) => k.id(i) === id)) throw new Error(`the ${items.length} listed lack ${id}`);
      });
    }
    await step(report, "update", () => k.update(id, ids));
    await step(report, "read update", async () => {
      if (!k.changed(await k.get(id, ids))) throw new Error("the read does not show the update");
    });
  }
  // Links kept for the links that need them, removed now.
  for (const k of KINDS.filter((k) => k.keep && kinds[k.kind].add === "ok")) {
    const report = kinds[k.kind];
    await step(report, "remove", () => k.remove(ids, made));
    await step(report, "gone", async () => {
      if ((await all(await k.list(ids, made))).some((i) => k.has(i, ids))) throw new Error("still listed after its removal");
    });
  }
  // Deletes, children before parents.
  for (const k of created.reverse()) {
    const report = kinds[k.kind];
    const id = ids[k.kind];
    if (!k.remove) continue;
    await step(report, "delete", () => k.remove(id, ids));
    await step(report, "gone", async () => {
      try {
        await k.get(id, ids);
      } catch (e) {
        if (e.statusCode === 404) return;
        throw e;
      }
      throw new Error("still there after its delete");
    });
  }
  process.stdout.write(JSON.stringify({ kinds, jobs: await jobs() }) + "\n");
}

/** A users import job and a users export job, each followed to its end. */
async function jobs() {
  const report = {};
  const connection = await client.connections.create({ name: `sdk-jobs-${tag}`, strategy: "auth0" });
  const users = [1, 2, 3].map((n) => ({ email: `imported-${tag}-${n}@example.com`, email_verified: true }));
  const done = async (job) => {
    for (let i = 0; i < 200; i += 1) {
      const state = await client.jobs.get(job.id);
      if (state.status === "completed") return state;
      if (state.status === "failed") throw new Error(`job failed: ${JSON.stringify(state)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error("the job did not end in 20 s");
  };
  await step(report, "import", async () => {
    const file = new Blob([JSON.stringify(users)], { type: "application/json" });
    const job = await client.jobs.usersImports.create({ users: file, connection_id: connection.id });
    const state = await done(job);
    if (state.summary && state.summary.inserted !== 3) throw new Error(`summary ${JSON.stringify(state.summary)}`);
  });
  await step(report, "export", async () => {
    const job = await client.jobs.usersExports.create({ connection_id: connection.id, format: "json", fields: [{ name: "email" }] });
    const state = await done(job);
    const bytes = Buffer.from(await (await fetch(state.location)).arrayBuffer());
    const text = (bytes[0] === 0x1f && bytes[1] === 0x8b ? require("zlib").gunzipSync(bytes) : bytes).toString();
    const lines = text.split("\n").filter(Boolean);
    if (!lines.length) throw new Error("an empty export");
  });
  return report;
}

main().catch((e) => {
  process.stderr.write(String(e.stack ?? e) + "\n");
  process.exit(1);
});
