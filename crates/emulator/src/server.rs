//! The HTTP side: one listener per emulated tenant (so each has its own base URL, as
//! real tenants do), with the Management API under `/api/v2`, the token endpoint at
//! `/oauth/token`, and the emulator's own controls under `/__emulator` (faults, rate
//! limit, counts, export downloads, stored credentials).
//!
//! Every API request goes through, in order: injected faults, the token bucket (whose
//! state every answer reports in `X-RateLimit-*` headers), the bearer-token check, then
//! the catalog dispatcher.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Query, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::api::{self, Route};
use crate::error::ApiError;
use crate::faults::{Fault, Faults};
use crate::generate::{self, GenerateSpec};
use crate::ids;
use crate::jobs;
use crate::paginate::Query as QueryMap;
use crate::persist;
use crate::ratelimit::{Bucket, Verdict};
use crate::store::Store;
use crate::users;

/// Which platform an emulated tenant answers as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// An Auth0 tenant (Management API v2, `platform = "auth0"` in its config).
    Auth0,
    /// A ZITADEL instance (admin, management and v2 APIs, `platform = "zitadel"`).
    Zitadel,
}

/// How to set up one emulated tenant.
#[derive(Debug, Clone)]
pub struct TenantOptions {
    /// The tenant's name (`acme-prod`).
    pub name: String,
    /// Seed of everything random in it.
    pub seed: u64,
    /// What to generate in it; nothing when `None` (an empty tenant).
    pub generate: Option<GenerateSpec>,
    /// Requests per second its bucket refills (0: no limit).
    pub rate_limit: f64,
    /// The bucket's size.
    pub burst: u32,
    /// Faults to inject.
    pub faults: Faults,
    /// Users per second an import job processes (0: as fast as it can).
    pub import_rate: f64,
    /// Lifetime of tokens from `/oauth/token`, in seconds.
    pub token_ttl_secs: u64,
    /// Where to load the tenant from at start and save it to on request.
    pub data_dir: Option<PathBuf>,
    /// The port to listen on (0: any free port).
    pub port: u16,
    /// Which platform it emulates: an Auth0 tenant, or a ZITADEL instance.
    pub platform: Platform,
    /// Paths (under `/api/v2`) of features the tenant is not entitled to, or that are
    /// past their end of life: every request at or under them answers 403 as Auth0 does.
    pub unavailable: Vec<String>,
    /// Serve HTTPS with the emulator's self-signed certificate ([`Emulator::certificate_pem`])
    /// instead of plain HTTP, so unchanged clients (auth0-deploy-cli, the SDKs) connect
    /// to `https://127.0.0.1:PORT` once they trust it.
    pub tls: bool,
}

/// The 403 Auth0 answers for a feature a tenant lacks: rules and hooks past their end of
/// life (2026-11-18) say so; others are not on the tenant's plan.
/// Features by their Management API path: `rules` or `/rules`, `log-streams`; a
/// trailing slash dropped.
fn features(given: &[String]) -> Vec<String> {
    given
        .iter()
        .map(|f| format!("/{}", f.trim_matches('/')))
        .collect()
}

fn unavailable_answer(path: &str) -> ApiError {
    if path.starts_with("/rules") || path.starts_with("/hooks") {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "This is a deprecated feature: rules and hooks reached their end of life on 2026-11-18; use Actions",
        )
        .code("deprecated_feature")
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "This feature is not enabled for this tenant",
        )
        .code("feature_not_enabled")
    }
}

impl TenantOptions {
    /// An empty tenant without limits or faults, on any free port.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            seed: 1,
            generate: None,
            rate_limit: 0.0,
            burst: 50,
            faults: Faults::default(),
            import_rate: 0.0,
            token_ttl_secs: 86_400,
            data_dir: None,
            port: 0,
            platform: Platform::Auth0,
            unavailable: Vec::new(),
            tls: false,
        }
    }
}

/// Counters a test or benchmark reads back.
#[derive(Debug, Default)]
pub struct Stats {
    /// Requests to the API and the token endpoint.
    pub requests: AtomicU64,
    /// Requests refused by the token bucket (429).
    pub rate_limited: AtomicU64,
    /// Requests answered with an injected fault.
    pub faults: AtomicU64,
}

/// A snapshot of [`Stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsView {
    /// Requests to the API and the token endpoint.
    pub requests: u64,
    /// Requests refused by the token bucket.
    pub rate_limited: u64,
    /// Requests answered with an injected fault.
    pub faults: u64,
}

/// One running emulated tenant.
pub struct Tenant {
    /// Its name.
    pub name: String,
    /// Where it answers (`http://127.0.0.1:PORT`).
    pub base_url: String,
    /// A Management API token it accepts until it stops.
    pub static_token: String,
    /// The client id of its machine-to-machine application.
    pub client_id: String,
    /// That application's secret.
    pub client_secret: String,
    /// Counters.
    pub stats: Stats,
    /// Folder for export files.
    pub workdir: PathBuf,
    store: Mutex<Store>,
    bucket: Mutex<Bucket>,
    faults: Mutex<Faults>,
    fault_rng: Mutex<StdRng>,
    tokens: Mutex<HashMap<String, Instant>>,
    import_rate: Mutex<f64>,
    token_ttl: Duration,
    data_dir: Option<PathBuf>,
    routes: Vec<Route>,
    /// Auth0 or ZITADEL.
    pub platform: Platform,
    zitadel: Mutex<crate::zitadel::Instance>,
    /// Paths of features the tenant lacks (`PUT /__emulator/unavailable` changes them).
    unavailable: Mutex<Vec<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves data that is still usable for an emulator.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Tenant {
    /// Holds the tenant's data.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Runs `f` on the tenant's data.
    pub fn with<R>(&self, f: impl FnOnce(&mut Store) -> R) -> R {
        f(&mut self.lock())
    }

    /// The client credentials of its machine-to-machine application, as a config gives them.
    pub fn client_credentials(&self) -> idferry_model::config::Credentials {
        idferry_model::config::Credentials::ClientCredentials {
            client_id: self.client_id.clone(),
            client_secret: idferry_model::Secret::new(self.client_secret.clone()),
            audience: None,
        }
    }

    /// Whether `token` is the static token or an unexpired issued one.
    pub fn token_valid(&self, token: &str) -> bool {
        token == self.static_token
            || lock(&self.tokens)
                .get(token)
                .is_some_and(|expiry| *expiry > Instant::now())
    }

    /// Access tokens issued so far (expired ones included).
    pub fn issued_tokens(&self) -> usize {
        lock(&self.tokens).len()
    }

    /// Issues an access token, valid for the tenant's token lifetime.
    pub fn issue_token(&self) -> (String, Duration) {
        let token = format!("emu.{}", ids::alnum(&mut *lock(&self.fault_rng), 48));
        lock(&self.tokens).insert(token.clone(), Instant::now() + self.token_ttl);
        (token, self.token_ttl)
    }

    /// Runs `f` on the ZITADEL instance's data (for tests: what the API never returns).
    pub fn with_zitadel<R>(&self, f: impl FnOnce(&mut crate::zitadel::Instance) -> R) -> R {
        f(&mut lock(&self.zitadel))
    }

    /// Users per second an import job processes.
    pub fn import_rate(&self) -> f64 {
        *lock(&self.import_rate)
    }

    /// Sets the import speed.
    pub fn set_import_rate(&self, rate: f64) {
        *lock(&self.import_rate) = rate;
    }

    /// Replaces the injected faults.
    pub fn set_faults(&self, faults: Faults) {
        *lock(&self.faults) = faults;
    }

    /// Replaces the rate limit with a full bucket.
    pub fn set_rate_limit(&self, rate: f64, burst: u32) {
        *lock(&self.bucket) = Bucket::new(rate, burst);
    }

    /// The counters now.
    pub fn stats(&self) -> StatsView {
        StatsView {
            requests: self.stats.requests.load(Ordering::Relaxed),
            rate_limited: self.stats.rate_limited.load(Ordering::Relaxed),
            faults: self.stats.faults.load(Ordering::Relaxed),
        }
    }

    /// Saves the tenant into its data dir, if it has one.
    pub fn save(&self) -> std::io::Result<Option<PathBuf>> {
        match &self.data_dir {
            Some(dir) => {
                let dir = dir.join(&self.name);
                match self.platform {
                    Platform::Zitadel => persist::save_zitadel(&lock(&self.zitadel), &dir)?,
                    Platform::Auth0 => persist::save(&self.lock(), &dir)?,
                }
                Ok(Some(dir))
            }
            None => Ok(None),
        }
    }
}

/// Why the emulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// A port could not be bound.
    #[error("tenant {tenant}: cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The tenant.
        tenant: String,
        /// The port asked for.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// Saved data could not be read.
    #[error("tenant {tenant}: cannot load {}: {message}", dir.display())]
    Load {
        /// The tenant.
        tenant: String,
        /// Its data folder.
        dir: PathBuf,
        /// Why.
        message: String,
    },
    /// Bad options.
    #[error("tenant {tenant}: {message}")]
    Options {
        /// The tenant.
        tenant: String,
        /// What is wrong.
        message: String,
    },
    /// The work folder could not be made.
    #[error("cannot create a work folder: {0}")]
    Workdir(std::io::Error),
    /// The config file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    WriteConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Several emulated tenants, each on its own port. They stop when this is dropped or
/// [`Emulator::shutdown`] is called.
pub struct Emulator {
    tenants: Vec<Arc<Tenant>>,
    servers: Vec<JoinHandle<()>>,
    certificate: Option<String>,
    _workdir: tempfile::TempDir,
}

/// The file [`Emulator::write_config`] writes the certificate to, beside the config.
pub const CERTIFICATE_FILE: &str = "emulator-ca.pem";

/// A certificate for 127.0.0.1 and localhost, made up at start, and the server side of
/// TLS with it.
struct Tls {
    pem: String,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl Tls {
    fn new() -> Result<Self, String> {
        let made = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .map_err(|e| format!("cannot make a certificate: {e}"))?;
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(made.signing_key.serialize_der().into());
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(vec![made.cert.der().clone()], key)
        .map_err(|e| format!("cannot use the certificate: {e}"))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            pem: made.cert.pem(),
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
        })
    }
}

/// Serves `app` over TLS on `listener`, each connection in its own task.
async fn serve_tls(listener: TcpListener, acceptor: tokio_rustls::TlsAcceptor, app: Router) {
    loop {
        let (tcp, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: wait a little rather than spin.
                tracing::warn!("emulator: accepting a connection failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            // A client that gives up during the handshake is not the emulator's failure.
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
        });
    }
}

impl Emulator {
    /// Builds, fills and starts every tenant.
    pub async fn start(options: Vec<TenantOptions>) -> Result<Self, EmulatorError> {
        let workdir = tempfile::Builder::new()
            .prefix("idferry-emulator-")
            .tempdir()
            .map_err(EmulatorError::Workdir)?;
        let mut tenants = Vec::new();
        let mut servers = Vec::new();
        let tls = match options.iter().find(|o| o.tls) {
            Some(o) => Some(Tls::new().map_err(|message| EmulatorError::Options {
                tenant: o.name.clone(),
                message,
            })?),
            None => None,
        };
        for opts in options {
            let fail = |message: String| EmulatorError::Options {
                tenant: opts.name.clone(),
                message,
            };
            opts.faults.validate().map_err(fail)?;
            let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], opts.port)))
                .await
                .map_err(|source| EmulatorError::Bind {
                    tenant: opts.name.clone(),
                    port: opts.port,
                    source,
                })?;
            let addr = listener
                .local_addr()
                .map_err(|source| EmulatorError::Bind {
                    tenant: opts.name.clone(),
                    port: opts.port,
                    source,
                })?;
            let scheme = if opts.tls { "https" } else { "http" };
            let tenant = Arc::new(build_tenant(
                &opts,
                &format!("{scheme}://{addr}"),
                workdir.path(),
            )?);
            let app = Router::new()
                .fallback(serve)
                .layer(axum::extract::DefaultBodyLimit::max(2 * 1024 * 1024))
                .with_state(tenant.clone());
            servers.push(match (&tls, opts.tls) {
                (Some(tls), true) => tokio::spawn(serve_tls(listener, tls.acceptor.clone(), app)),
                _ => tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, app).await {
                        tracing::error!("emulator server stopped: {e}");
                    }
                }),
            });
            tenants.push(tenant);
        }
        Ok(Self {
            tenants,
            servers,
            certificate: tls.map(|t| t.pem),
            _workdir: workdir,
        })
    }

    /// The PEM of the self-signed certificate the tenants with `tls` serve, for clients
    /// to trust (`NODE_EXTRA_CA_CERTS`, `SSL_CERT_FILE`).
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate.as_deref()
    }

    /// The tenants, in the order given.
    pub fn tenants(&self) -> &[Arc<Tenant>] {
        &self.tenants
    }

    /// The tenant called `name`.
    pub fn tenant(&self, name: &str) -> Option<&Arc<Tenant>> {
        self.tenants.iter().find(|t| t.name == name)
    }

    /// Writes an `idferry.toml` naming every tenant with client credentials, the secrets
    /// in files beside it (mode 0600). The file appears whole (written aside, then
    /// renamed), so a script can wait for it.
    pub fn write_config(&self, path: &Path) -> Result<(), EmulatorError> {
        let werr = |source: std::io::Error| EmulatorError::WriteConfig {
            path: path.to_owned(),
            source,
        };
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let secrets = dir.join("secrets");
        std::fs::create_dir_all(&secrets).map_err(werr)?;
        let mut text = String::from(
            "# Written by `idferry emulate`: the emulated tenants and where their secrets are.\n",
        );
        if let Some(pem) = &self.certificate {
            // Not a secret: what a client trusts to reach the HTTPS tenants.
            std::fs::write(dir.join(CERTIFICATE_FILE), pem).map_err(werr)?;
            text.push_str(&format!(
                "# HTTPS with a self-signed certificate: SSL_CERT_FILE={CERTIFICATE_FILE} (idferry), NODE_EXTRA_CA_CERTS={CERTIFICATE_FILE} (auth0-deploy-cli, the SDKs)\n"
            ));
        }
        for t in &self.tenants {
            let secret_file = secrets.join(format!("{}.client-secret", t.name));
            write_private(&secret_file, &t.client_secret).map_err(werr)?;
            let token_file = secrets.join(format!("{}.token", t.name));
            write_private(&token_file, &t.static_token).map_err(werr)?;
            let (rate, burst) = {
                let b = lock(&t.bucket);
                (b.rate(), b.burst())
            };
            text.push_str(&match t.platform {
                // A ZITADEL instance: its service user's key (the JWT profile); the
                // personal access token is written too.
                Platform::Zitadel => {
                    let key_file = secrets.join(format!("{}.key.json", t.name));
                    write_private(&key_file, &crate::zitadel::service_key_json()).map_err(werr)?;
                    format!(
                        "\n[tenants.{}]\nplatform = \"zitadel\"\nbase_url = \"{}\"\nkey_file = \"secrets/{}.key.json\"\n# token_file = \"secrets/{}.token\"   # or its personal access token\n",
                        t.name, t.base_url, t.name, t.name
                    )
                }
                Platform::Auth0 => format!(
                    "\n[tenants.{}]\nplatform = \"auth0\"\nbase_url = \"{}\"\nclient_id = \"{}\"\nclient_secret_file = \"secrets/{}.client-secret\"\n",
                    t.name, t.base_url, t.client_id, t.name
                ),
            });
            if rate > 0.0 {
                text.push_str(&format!("rate_limit = {rate}\nburst = {burst}\n"));
            }
        }
        let tmp = path.with_extension("toml.tmp");
        std::fs::write(&tmp, text).map_err(werr)?;
        std::fs::rename(&tmp, path).map_err(werr)
    }

    /// Stops every server.
    pub async fn shutdown(mut self) {
        for server in std::mem::take(&mut self.servers) {
            server.abort();
            let _ = server.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        for server in &self.servers {
            server.abort();
        }
    }
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content.as_bytes())?;
    file.write_all(b"\n")
}

fn build_tenant(
    opts: &TenantOptions,
    base_url: &str,
    workdir: &Path,
) -> Result<Tenant, EmulatorError> {
    let mut store = Store::new(&opts.name, opts.seed);
    let loaded = match &opts.data_dir {
        Some(dir) if dir.join(&opts.name).join(persist::STATE_FILE).exists() => {
            let dir = dir.join(&opts.name);
            persist::load(&mut store, &dir).map_err(|e| EmulatorError::Load {
                tenant: opts.name.clone(),
                dir: dir.clone(),
                message: e.to_string(),
            })?;
            true
        }
        _ => false,
    };
    if !loaded {
        match &opts.generate {
            // A ZITADEL instance generates its own users (below).
            Some(spec) if opts.platform != Platform::Zitadel => generate::tenant(&mut store, spec),
            _ => generate::platform_defaults(&mut store),
        }
    }
    let zitadel = match &opts.data_dir {
        Some(dir) if dir.join(&opts.name).join(persist::ZITADEL_FILE).exists() => {
            let dir = dir.join(&opts.name);
            persist::load_zitadel(&dir).map_err(|e| EmulatorError::Load {
                tenant: opts.name.clone(),
                dir: dir.clone(),
                message: e.to_string(),
            })?
        }
        _ => {
            let mut instance = crate::zitadel::Instance {
                id: format!("{}", 270_000_000_000_000_000u64 + (opts.seed % 1_000_000)),
                ..Default::default()
            };
            if let (Some(spec), Platform::Zitadel) = (&opts.generate, opts.platform) {
                instance.generate(spec);
            }
            instance
        }
    };
    // The credentials come from their own generator so that they do not shift with the
    // amount of generated data.
    let mut rng = StdRng::seed_from_u64(opts.seed ^ 0x5eed_c0de);
    let client_id = ids::alnum(&mut rng, 32);
    let client_secret = ids::alnum(&mut rng, 64);
    let static_token = format!("emu.{}", ids::alnum(&mut rng, 48));
    Ok(Tenant {
        name: opts.name.clone(),
        base_url: base_url.to_owned(),
        static_token,
        client_id,
        client_secret,
        stats: Stats::default(),
        workdir: workdir.to_owned(),
        store: Mutex::new(store),
        bucket: Mutex::new(Bucket::new(opts.rate_limit, opts.burst)),
        faults: Mutex::new(opts.faults),
        fault_rng: Mutex::new(StdRng::seed_from_u64(opts.seed ^ 0xfa17)),
        tokens: Mutex::new(HashMap::new()),
        import_rate: Mutex::new(opts.import_rate),
        token_ttl: Duration::from_secs(opts.token_ttl_secs),
        data_dir: opts.data_dir.clone(),
        routes: api::routes(),
        platform: opts.platform,
        zitadel: Mutex::new(zitadel),
        unavailable: Mutex::new(features(&opts.unavailable)),
    })
}

async fn serve(State(tenant): State<Arc<Tenant>>, req: Request) -> Response {
    let path = req.uri().path().to_owned();
    if path.starts_with("/__emulator/") {
        return admin(tenant, req).await;
    }
    let zitadel = tenant.platform == Platform::Zitadel;
    let known = if zitadel {
        crate::zitadel::serves(&path)
    } else {
        path.starts_with("/api/v2/") || path == "/oauth/token"
    };
    if !known {
        return ApiError::new(StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    tenant.stats.requests.fetch_add(1, Ordering::Relaxed);
    let (latency, fault) = {
        let faults = *lock(&tenant.faults);
        (
            faults.latency_ms,
            faults.draw(&mut *lock(&tenant.fault_rng)),
        )
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    if let Some(fault) = fault {
        tenant.stats.faults.fetch_add(1, Ordering::Relaxed);
        return injected(fault);
    }
    let verdict = lock(&tenant.bucket).take();
    if zitadel {
        // ZITADEL sends no rate-limit headers: a 429 is all a client learns.
        return if verdict.allowed {
            crate::zitadel::request(&tenant, req).await
        } else {
            tenant.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            (
                StatusCode::TOO_MANY_REQUESTS,
                axum::Json(
                    serde_json::json!({"code": 8, "message": "quota exceeded", "details": []}),
                ),
            )
                .into_response()
        };
    }
    let mut response = if verdict.allowed {
        if path == "/oauth/token" {
            token_endpoint(&tenant, req).await
        } else {
            api_request(&tenant, req).await
        }
    } else {
        tenant.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Global limit has been reached",
        )
        .code("too_many_requests")
        .into_response()
    };
    set_rate_headers(&mut response, &verdict);
    response
}

fn set_rate_headers(response: &mut Response, v: &Verdict) {
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ratelimit-limit", v.limit),
        ("x-ratelimit-remaining", v.remaining),
        ("x-ratelimit-reset", v.reset),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

fn injected(fault: Fault) -> Response {
    match fault {
        Fault::TooManyRequests => {
            let mut r = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Global limit has been reached",
            )
            .code("too_many_requests")
            .into_response();
            // An injected 429 is not the bucket's: its reset is now, so a retry may follow
            // after the client's own backoff.
            let reset = crate::clock::epoch_now().max(0) as u64;
            set_rate_headers(
                &mut r,
                &Verdict {
                    allowed: false,
                    limit: 50,
                    remaining: 0,
                    reset,
                },
            );
            r
        }
        Fault::ServerError(code) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            ApiError::new(
                status,
                "Injected fault: the service is temporarily unavailable",
            )
            .into_response()
        }
        Fault::Drop => {
            // A body that fails at once: hyper aborts the connection mid-answer.
            let stream = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other(
                    "connection dropped by fault injection",
                ))
            });
            (StatusCode::OK, Body::from_stream(stream)).into_response()
        }
    }
}

fn bearer(req: &Request) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

fn check_token(tenant: &Tenant, token: Option<&str>) -> Result<(), ApiError> {
    let Some(token) = token else {
        return Err(ApiError::unauthorized("Missing authentication"));
    };
    if token == tenant.static_token {
        return Ok(());
    }
    match lock(&tenant.tokens).get(token) {
        Some(expiry) if *expiry > Instant::now() => Ok(()),
        Some(_) => Err(ApiError::unauthorized(
            "Expired token received for JSON Web Token validation",
        )),
        None => Err(ApiError::unauthorized("Invalid token")),
    }
}

async fn api_request(tenant: &Arc<Tenant>, req: Request) -> Response {
    if let Err(e) = check_token(tenant, bearer(&req)) {
        return e.into_response();
    }
    let method = req.method().clone();
    let path = req.uri().path().trim_start_matches("/api/v2").to_owned();
    let query: QueryMap = Query::<QueryMap>::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();

    // The tenant's event stream, as server-sent events: the emulator has none to tell,
    // so the stream opens and ends.
    if method == Method::GET && path == "/events" {
        return (
            [(header::CONTENT_TYPE, "text/event-stream")],
            ": no events\n\n",
        )
            .into_response();
    }
    if method == Method::POST && path == "/jobs/users-imports" {
        return match read_import(req).await {
            Ok(import) => answer(jobs::create_import(tenant, import)),
            Err(e) => e.into_response(),
        };
    }
    if lock(&tenant.unavailable)
        .iter()
        .any(|u| path == *u || path.starts_with(&format!("{u}/")))
    {
        return unavailable_answer(&path).into_response();
    }
    let form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = match read_body(req, form).await {
        Ok(body) => body,
        Err(e) => return e.into_response(),
    };
    // The spec's operation for the request, found once: it judges the body, routes what
    // the catalog lacks and says what the answer may be.
    let judge: &'static crate::judge::Judge = &crate::judge::AUTH0;
    let operation = {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        judge.operation(&method, &segments)
    };
    // A form-encoded body (the spec takes one wherever it takes JSON) read as the JSON
    // it stands for, each value converted to the type its field has.
    let body = match body {
        Sent::Json(body) => body,
        Sent::Form(fields) => Some(crate::from_spec::form_body(
            judge.spec(),
            operation,
            &method,
            fields,
        )),
    };
    // The spec judges every body before a handler sees it, as Auth0's validation does.
    if let (Some(b), Some(template)) = (&body, operation)
        && let Some(r) = judge.refusal_at(&method, template, b)
    {
        let on = if r.at.is_empty() {
            String::new()
        } else {
            format!(
                " on property {}",
                r.at.trim_start_matches('/').replace('/', ".")
            )
        };
        return ApiError::invalid_body(format!("'{}'{on}.", r.message)).into_response();
    }
    // What a write sent, for its answer (`as_declared`).
    let written = body.clone();
    // Views over kinds held elsewhere: an organization's connections are its enabled
    // connections; the tenant's directory provisionings are its connections' own.
    // `/organizations/{id}/connections` is the newer view of the same links, every
    // method (auth0-deploy-cli adds through it, the SDK reads through it); its page
    // names them `connections`.
    let all_connections = path
        .strip_prefix("/organizations/")
        .and_then(|p| p.split_once('/'))
        .filter(|(_, rest)| *rest == "connections" || rest.starts_with("connections/"))
        .map(|(org, rest)| format!("/organizations/{org}/enabled_{rest}"));
    let listed_as_all = all_connections.is_some() && path.ends_with("/connections");
    let path = all_connections.unwrap_or(path);
    let result = match (&method, path.as_str()) {
        (&Method::GET, "/connections-directory-provisionings") => {
            Ok(api::directory_provisionings(&tenant.lock()))
        }
        (&Method::GET, p) if p.starts_with("/actions/modules/") && p.ends_with("/versions") => {
            let id = &p["/actions/modules/".len()..p.len() - "/versions".len()];
            api::module_versions(&tenant.lock(), id, &query)
        }
        (&Method::POST, p) if p.starts_with("/custom-domains/") && p.ends_with("/verify") => {
            let id = &p["/custom-domains/".len()..p.len() - "/verify".len()];
            api::verify_custom_domain(&mut tenant.lock(), id)
        }
        (&Method::GET, "/users-by-email") => users::by_email(&tenant.lock(), &query),
        (&Method::DELETE, p) if p.starts_with("/users/") && p.contains("/identities/") => {
            let parts: Vec<String> = p["/users/".len()..].split('/').map(api::decode).collect();
            match parts.as_slice() {
                [id, identities, provider, user_id] if identities == "identities" => {
                    users::unlink(&mut tenant.lock(), id, provider, user_id)
                }
                _ => Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found")),
            }
        }
        (&Method::POST, "/jobs/users-exports") => jobs::create_export(tenant, body),
        (&Method::GET, p) if p.starts_with("/jobs/") => {
            let rest = &p["/jobs/".len()..];
            match rest.split_once('/') {
                None => jobs::get(&tenant.lock(), &tenant.base_url, rest),
                Some((id, "errors")) => jobs::errors(&tenant.lock(), id),
                Some(_) => Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found")),
            }
        }
        _ => match api::resolve(&tenant.routes, &method, &path) {
            // A catalog route, unless the spec has an operation more literal than it
            // (`/connection-profiles/templates` over `/connection-profiles/{id}`).
            Some((route, params)) if !spec_is_more_literal(route, operation, &path) => {
                api::handle(&mut tenant.lock(), route, &params, &query, body)
            }
            _ => match operation {
                Some(template) => from_spec(tenant, template, &method, &path, &query, body),
                None => Err(ApiError::new(StatusCode::NOT_FOUND, "Not Found")),
            },
        },
    };
    let result = match result {
        Ok((status, Some(Value::Object(mut page)))) if listed_as_all => {
            if let Some(links) = page.remove("enabled_connections") {
                page.insert("connections".into(), links);
            }
            Ok((status, Some(Value::Object(page))))
        }
        other => other,
    };
    answer(match operation {
        Some(template) => as_declared(&method, template, written.as_ref(), result),
        None => result,
    })
}

/// Whether the spec's `operation` has more literal segments on `path` than `route`'s
/// template.
fn spec_is_more_literal(route: &api::Route, operation: Option<&str>, path: &str) -> bool {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let literals = |template: &str| api::match_template(template, &segments).map(|(_, l)| l);
    operation.is_some_and(|op| literals(op) > literals(route.endpoint.path))
}

/// `result` in a status the spec's operation declares, a list page with the paging
/// fields its schema lists (`from_spec::fit_page`), a write's answer with the fields its
/// schema lists (`from_spec::fit_write`): a success it does not declare
/// becomes the one it does (`DELETE /roles/{id}` answers 200, `PUT
/// /branding/templates/universal-login` 201 or 204, a 204 without a body), and a
/// `DELETE` of what is not there, where the operation declares no 404, is done.
fn as_declared(
    method: &Method,
    template: &str,
    written: Option<&Value>,
    result: Result<api::Answer, ApiError>,
) -> Result<api::Answer, ApiError> {
    let judge = &crate::judge::AUTH0;
    let declared = crate::from_spec::declared(judge.spec(), template, method);
    let Some(success) = declared.iter().copied().find(StatusCode::is_success) else {
        return result;
    };
    let fitted = |body: Option<Value>| {
        if success == StatusCode::NO_CONTENT {
            (success, None)
        } else {
            let least = || crate::from_spec::least_answer(judge.spec(), template, method, success);
            (success, body.or_else(least))
        }
    };
    let page = |status, body: Option<Value>| {
        body.map(|b| {
            let spec = judge.spec();
            if *method == Method::GET || *method == Method::DELETE {
                crate::from_spec::fit_page(spec, template, method, status, b)
            } else {
                crate::from_spec::fit_write(spec, template, method, status, b, written)
            }
        })
    };
    match result {
        Ok((status, body)) if !declared.contains(&status) => Ok(fitted(body)),
        Ok((status, body)) => Ok((status, page(status, body))),
        Err(e)
            if *method == Method::DELETE
                && e.status == StatusCode::NOT_FOUND
                && !declared.contains(&StatusCode::NOT_FOUND) =>
        {
            Ok(fitted(None))
        }
        other => other,
    }
}

/// An operation of the spec that no catalog kind serves, answered from the spec
/// (`from_spec`), once the objects its path names exist.
fn from_spec(
    tenant: &Tenant,
    template: &str,
    method: &Method,
    path: &str,
    query: &QueryMap,
    body: Option<Value>,
) -> Result<api::Answer, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let judge = &crate::judge::AUTH0;
    let mut store = tenant.lock();
    // The nearest parent a catalog kind holds must exist (a user's authentication
    // methods need the user): its own read answers 404 when it does not.
    for parent in crate::from_spec::parents(template, &segments) {
        if let Some((route, params)) = api::resolve(&tenant.routes, &Method::GET, &parent) {
            if route.op == api::Op::Get {
                api::handle(&mut store, route, &params, &QueryMap::new(), None)?;
            }
            break;
        }
    }
    let call = crate::from_spec::Call {
        spec: judge.spec(),
        template,
        method,
        segments: segments.iter().map(|s| api::decode(s)).collect(),
    };
    crate::from_spec::serve(&mut store, &call, query, body)
}

fn answer(result: Result<api::Answer, ApiError>) -> Response {
    match result {
        Ok((status, Some(body))) => (status, axum::Json(body)).into_response(),
        Ok((status, None)) => status.into_response(),
        Err(e) => e.into_response(),
    }
}

/// A request's body: JSON (or none), or the fields of a form.
enum Sent {
    Json(Option<Value>),
    Form(Vec<(String, String)>),
}

async fn read_body(req: Request, form: bool) -> Result<Sent, ApiError> {
    let bytes = axum::body::to_bytes(req.into_body(), 1024 * 1024)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request body larger than 1MB",
            )
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Sent::Json(None));
    }
    if form {
        let fields = form_urlencoded::parse(&bytes).into_owned().collect();
        return Ok(Sent::Form(fields));
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map(Sent::Json)
        .map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "Invalid request payload JSON format",
            )
        })
}

async fn read_import(req: Request) -> Result<jobs::ImportRequest, ApiError> {
    let bad = |m: String| ApiError::new(StatusCode::BAD_REQUEST, m);
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| bad(format!("Expected a multipart/form-data body: {e}")))?;
    let mut import = jobs::ImportRequest {
        send_completion_email: true,
        ..Default::default()
    };
    while let Some(field) = form.next_field().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "Payload content length greater than maximum allowed: {}",
                    jobs::IMPORT_LIMIT
                ),
            )
        } else {
            bad(format!("Bad multipart body: {e}"))
        }
    })? {
        let name = field.name().unwrap_or_default().to_owned();
        let data = field
            .bytes()
            .await
            .map_err(|e| bad(format!("Bad multipart field {name}: {e}")))?;
        let text = || String::from_utf8_lossy(&data).trim().to_owned();
        match name.as_str() {
            "users" => import.users = Some(data.to_vec()),
            "connection_id" => import.connection_id = Some(text()),
            "upsert" => import.upsert = text() == "true",
            "external_id" => import.external_id = Some(text()),
            "send_completion_email" => import.send_completion_email = text() != "false",
            other => {
                return Err(ApiError::invalid_body(format!(
                    "Additional properties not allowed: {other}"
                )));
            }
        }
    }
    Ok(import)
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    audience: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn token_endpoint(tenant: &Arc<Tenant>, req: Request) -> Response {
    if req.method() != Method::POST {
        return ApiError::new(StatusCode::NOT_FOUND, "Not Found").into_response();
    }
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let body: Result<TokenRequest, String> = if is_json {
        axum::Json::<TokenRequest>::from_request(req, &())
            .await
            .map(|j| j.0)
            .map_err(|e| e.body_text())
    } else {
        axum::Form::<TokenRequest>::from_request(req, &())
            .await
            .map(|f| f.0)
            .map_err(|e| e.body_text())
    };
    let body = match body {
        Ok(b) => b,
        Err(e) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &e),
    };
    if body.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "unsupported_grant_type",
            "Grant type is not supported by this emulator; use client_credentials",
        );
    }
    if body.client_id.as_deref() != Some(&tenant.client_id)
        || body.client_secret.as_deref() != Some(&tenant.client_secret)
    {
        return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    let audience = format!("{}/api/v2/", tenant.base_url);
    if let Some(asked) = &body.audience
        && asked != &audience
    {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "access_denied",
            &format!("Service not enabled within domain: {asked}"),
        );
    }
    let (token, _) = tenant.issue_token();
    axum::Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": tenant.token_ttl.as_secs(),
        "scope": "read:users update:users delete:users create:users read:clients create:clients",
    }))
    .into_response()
}

#[derive(Deserialize)]
struct RateLimit {
    rate: f64,
    burst: u32,
}

#[derive(Deserialize)]
struct Download {
    expires: i64,
    token: String,
}

async fn admin(tenant: Arc<Tenant>, req: Request) -> Response {
    let method = req.method().clone();
    let path = req.uri().path()["/__emulator".len()..].to_owned();
    let bad = |m: String| (StatusCode::BAD_REQUEST, m).into_response();
    match (method, path.as_str()) {
        (Method::GET, "/faults") => axum::Json(*lock(&tenant.faults)).into_response(),
        (Method::PUT, "/faults") => match axum::Json::<Faults>::from_request(req, &()).await {
            Ok(axum::Json(f)) => match f.validate() {
                Ok(()) => {
                    tenant.set_faults(f);
                    axum::Json(f).into_response()
                }
                Err(e) => bad(e),
            },
            Err(e) => bad(e.body_text()),
        },
        (Method::PUT, "/rate-limit") => match axum::Json::<RateLimit>::from_request(req, &()).await
        {
            Ok(axum::Json(r)) => {
                tenant.set_rate_limit(r.rate, r.burst);
                StatusCode::NO_CONTENT.into_response()
            }
            Err(e) => bad(e.body_text()),
        },
        (Method::GET, "/unavailable") => {
            axum::Json(lock(&tenant.unavailable).clone()).into_response()
        }
        (Method::PUT, "/unavailable") => {
            match axum::Json::<Vec<String>>::from_request(req, &()).await {
                Ok(axum::Json(paths)) => {
                    let paths = features(&paths);
                    *lock(&tenant.unavailable) = paths.clone();
                    axum::Json(paths).into_response()
                }
                Err(e) => bad(e.body_text()),
            }
        }
        (Method::GET, "/stats") => axum::Json(tenant.stats()).into_response(),
        (Method::GET, "/counts") => axum::Json(tenant.lock().counts()).into_response(),
        (Method::POST, "/save") => match tenant.save() {
            Ok(Some(dir)) => axum::Json(json!({"saved_to": dir})).into_response(),
            Ok(None) => bad("this emulator was started without --data-dir".into()),
            Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
        },
        (Method::GET, p) if p.starts_with("/users/") && p.ends_with("/credentials") => {
            let id = api::decode(&p["/users/".len()..p.len() - "/credentials".len()]);
            match tenant.lock().credentials.get(&id) {
                Some(c) => axum::Json(c.clone()).into_response(),
                None => StatusCode::NOT_FOUND.into_response(),
            }
        }
        (Method::GET, p) if p.starts_with("/downloads/") => {
            let id = p["/downloads/".len()..].to_owned();
            let Ok(Query(link)) = Query::<Download>::try_from_uri(req.uri()) else {
                return (StatusCode::FORBIDDEN, "AccessDenied: missing signature").into_response();
            };
            let file = jobs::download_path(&tenant.lock(), &id, &link.token, link.expires);
            match file {
                Ok(path) => match tokio::fs::File::open(&path).await {
                    Ok(file) => (
                        [(header::CONTENT_TYPE, "application/gzip")],
                        Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
                            file,
                            1 << 16,
                        )),
                    )
                        .into_response(),
                    Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
                },
                Err(why) => (StatusCode::FORBIDDEN, format!("AccessDenied: {why}")).into_response(),
            }
        }
        _ => (StatusCode::NOT_FOUND, "no such emulator control").into_response(),
    }
}
