//! The test harness: the real application (same factory as `serve`) on a fresh database per
//! test, SQLite by default, PostgreSQL when GUICHET_TEST_POSTGRES_URL is set.

use actix_service::{Service, ServiceExt, boxed::BoxService};
use actix_web::body::{BoxBody, to_bytes};
use actix_web::dev::ServiceResponse;
use actix_web::http::{Method, StatusCode};
use actix_web::test;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use serde_json::{Value, json};

use guichet::api::{self, HttpOptions};
use guichet::db::PoolOptions;
use guichet::domain::taxonomy::Role;
use guichet::service::users::UserNew;
use guichet::service::{Guichet, Limits};
use guichet::startup;

/// A valid submission (a PSMA radioligand trial) for the tests that need one, routed to Curie.
pub fn psma_inquiry() -> Value {
    json!({
        "submitter": {"organization": "Helios Therapeutics", "organization_type": "biotech", "name": "Dr Anna Keller", "email": "anna@helios.example", "country": "DE"},
        "inquiry_type": "clinical_trial",
        "title": "PSMA radioligand trial",
        "summary": "First-in-human trial of a PSMA radioligand.",
        "therapeutic_areas": ["prostate"],
        "modalities": ["radiopharmaceutical"],
        "stage": "phase_1",
        "preferred_institutions": ["curie"],
        "non_confidential": true
    })
}

pub const PASSWORD: &str = "correct horse battery staple";
pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub fn new() -> Self {
        let id = uuid::Uuid::now_v7().simple().to_string();
        match std::env::var("GUICHET_TEST_POSTGRES_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("guichet_test_{id}");
                let mut conn = diesel::PgConnection::establish(&admin_url)
                    .unwrap_or_else(|e| panic!("GUICHET_TEST_POSTGRES_URL unreachable: {e}"));
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .unwrap_or_else(|e| panic!("cannot create the test database: {e}"));
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b.to_owned())
                    .unwrap_or(admin_url.clone());
                TestDb {
                    url: format!("{base}/{name}"),
                    cleanup: Cleanup::Postgres { admin_url, name },
                }
            }
            _ => {
                let path = std::env::temp_dir().join(format!("guichet-test-{id}.db"));
                TestDb {
                    url: format!("sqlite://{}", path.display()),
                    cleanup: Cleanup::Sqlite(path),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(mut conn) = diesel::PgConnection::establish(admin_url) {
                    let _ =
                        conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            }
        }
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Value,
    pub raw: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The pointers and codes of a 422, sorted.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["pointer"].as_str().unwrap_or("?").to_owned(),
                            e["code"].as_str().unwrap_or("?").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "body: {}",
            self.body
        );
        assert_eq!(self.body["code"], code, "body: {}", self.body);
        assert_eq!(self.body["status"], status);
        let request_id = self.body["request_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(!request_id.is_empty());
        assert_eq!(self.header("x-request-id"), Some(request_id));
    }
}

pub struct TestApp {
    pub g: Guichet,
    service: BoxService<actix_http::Request, ServiceResponse<BoxBody>, actix_web::Error>,
    /// Dropped with the app: the database goes away after the test.
    pub db: TestDb,
}

/// One HTTP request to the application.
pub struct Req<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    token: Option<String>,
    body: Option<Vec<u8>>,
    content_type: Option<String>,
    headers: Vec<(String, String)>,
    peer: Option<std::net::SocketAddr>,
}

impl<'a> Req<'a> {
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self.content_type = Some("application/json".into());
        self
    }
    pub fn raw(mut self, body: impl Into<Vec<u8>>, content_type: Option<&str>) -> Self {
        self.body = Some(body.into());
        self.content_type = content_type.map(str::to_owned);
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
    pub fn peer(mut self, addr: &str) -> Self {
        self.peer = addr.parse().ok();
        self
    }
    pub async fn send(self) -> Response {
        let mut req = test::TestRequest::default()
            .method(self.method)
            .uri(&self.path)
            .peer_addr(
                self.peer
                    .unwrap_or_else(|| "192.0.2.1:4000".parse().unwrap_or_else(|_| unreachable!())),
            );
        if let Some(t) = self.token {
            req = req.insert_header(("Authorization", format!("Bearer {t}")));
        }
        if let Some(ct) = self.content_type {
            req = req.insert_header(("Content-Type", ct));
        }
        for (n, v) in self.headers {
            req = req.insert_header((n, v));
        }
        if let Some(b) = self.body {
            req = req.set_payload(b);
        }
        let res = self.app.service.call(req.to_request()).await;
        let res = match res {
            Ok(res) => res.into_parts().1,
            Err(e) => e.error_response(),
        };
        let status = res.status();
        let headers = res.headers().clone();
        let raw = to_bytes(res.into_body())
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Response {
            status,
            headers,
            body,
            raw,
        }
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with_limits(Limits::default()).await
    }

    pub async fn with_limits(limits: Limits) -> Self {
        Self::with_options(limits, PoolOptions::with_size(4)).await
    }

    pub async fn with_options(limits: Limits, pool: PoolOptions) -> Self {
        Self::build(limits, pool, HttpOptions::default()).await
    }

    pub async fn with_http(http: HttpOptions) -> Self {
        Self::build(Limits::default(), PoolOptions::with_size(4), http).await
    }

    /// An app whose webhooks follow the production address policy (https, public addresses
    /// only); every other test app may call receivers on loopback over plain http.
    pub async fn with_strict_webhooks() -> Self {
        Self::build_with(
            Limits::default(),
            PoolOptions::with_size(4),
            HttpOptions::default(),
            guichet::service::webhooks::WebhookSettings::default(),
        )
        .await
    }

    async fn build(limits: Limits, pool: PoolOptions, http: HttpOptions) -> Self {
        let mut webhooks = guichet::service::webhooks::WebhookSettings::default();
        webhooks.policy.allow_loopback_http = true;
        webhooks.timeout = std::time::Duration::from_secs(2);
        Self::build_with(limits, pool, http, webhooks).await
    }

    async fn build_with(
        limits: Limits,
        pool: PoolOptions,
        http: HttpOptions,
        webhooks: guichet::service::webhooks::WebhookSettings,
    ) -> Self {
        let db = TestDb::new();
        let database = startup::open_database_with(&db.url, pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut g = startup::build_guichet(database, Some(JWT_SECRET), 900, limits)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        g.webhooks = webhooks;
        // Messages no test reads go to a folder of its own under the system's temporary
        // directory, never into the working tree.
        g.mail.transport = guichet::mail::Transport::Folder(
            std::env::temp_dir()
                .join("guichet-test-mail")
                .join(guichet::domain::new_id()),
        );
        let service = test::init_service(api::app(g.clone(), http)).await;
        let service = actix_service::boxed::service(service.map(|r| r.map_into_boxed_body()));
        TestApp { g, service, db }
    }

    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            method,
            path: path.to_owned(),
            token: None,
            body: None,
            content_type: None,
            headers: Vec::new(),
            peer: None,
        }
    }
    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }
    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req(Method::PATCH, path)
    }
    pub fn put(&self, path: &str) -> Req<'_> {
        self.req(Method::PUT, path)
    }
    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(Method::DELETE, path)
    }

    /// The background worker frame on this app's database, driven by `clock` (tests call
    /// `run_due`/`drain` themselves: nothing sleeps).
    pub fn worker(
        &self,
        clock: std::sync::Arc<guichet::worker::ManualClock>,
    ) -> guichet::worker::Worker {
        guichet::worker::Worker::new(
            self.g.clone(),
            clock,
            guichet::worker::WorkerOptions::default(),
        )
    }

    /// Creates an account directly (as `guichet users create` does).
    pub async fn user(&self, email: &str, role: Role, institution: Option<&str>) -> String {
        guichet::service::users::user_create_unchecked(
            &self.g,
            UserNew {
                email: email.to_owned(),
                password: PASSWORD.to_owned(),
                role,
                institution_id: institution.map(str::to_owned),
                locale: None,
                contact_id: None,
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .id
    }

    /// One login attempt, whatever its outcome.
    pub async fn try_login(&self, email: &str, password: &str) -> Response {
        self.post("/v1/auth/token")
            .json(json!({"email": email, "password": password}))
            .send()
            .await
    }

    /// Logs in and returns (access token, refresh token).
    pub async fn login(&self, email: &str) -> (String, String) {
        let res = self
            .post("/v1/auth/token")
            .json(json!({"email": email, "password": PASSWORD}))
            .send()
            .await;
        assert_eq!(res.status, 200, "{}", res.body);
        (
            res.body["access_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            res.body["refresh_token"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )
    }

    /// An account of `role` and its access token.
    pub async fn staff(&self, email: &str, role: Role, institution: Option<&str>) -> String {
        self.user(email, role, institution).await;
        self.login(email).await.0
    }

    /// Submits [`psma_inquiry`] and returns the id of its referral at Curie.
    pub async fn curie_referral(&self) -> String {
        let res = self.post("/v1/inquiries").json(psma_inquiry()).send().await;
        assert_eq!(res.status, 201, "{}", res.body);
        res.body["referrals"][0]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn operator(&self) -> String {
        self.staff("ops@guichet.example", Role::Operator, None)
            .await
    }
}

/// A real HTTP receiver on loopback: it records every request (method, path, headers, body)
/// and answers each with the next scripted response (then 200 for ever).
pub struct Receiver {
    pub addr: std::net::SocketAddr,
    pub received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    pub connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>>,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

impl Receiver {
    pub async fn start() -> Self {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received: std::sync::Arc<std::sync::Mutex<Vec<Received>>> = Default::default();
        let connections: std::sync::Arc<std::sync::atomic::AtomicUsize> = Default::default();
        let script: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<String>>> =
            Default::default();
        let (r, c, sc) = (received.clone(), connections.clone(), script.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                c.fetch_add(1, Ordering::SeqCst);
                let (r, sc) = (r.clone(), sc.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 8192];
                    let (head_end, length) = loop {
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..i]).to_string();
                            let length = head
                                .lines()
                                .find_map(|l| {
                                    let (n, v) = l.split_once(':')?;
                                    n.eq_ignore_ascii_case("content-length")
                                        .then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            break (i + 4, length);
                        }
                    };
                    while buf.len() < head_end + length {
                        let Ok(n) = sock.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            break;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                    }
                    let head = String::from_utf8_lossy(&buf[..head_end - 4]).to_string();
                    let mut lines = head.lines();
                    let path = lines
                        .next()
                        .and_then(|l| l.split(' ').nth(1))
                        .unwrap_or("")
                        .to_owned();
                    let headers = lines
                        .filter_map(|l| l.split_once(':'))
                        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
                        .collect();
                    let body = buf[head_end..(head_end + length).min(buf.len())].to_vec();
                    r.lock().unwrap().push(Received {
                        path,
                        headers,
                        body,
                    });
                    let answer = sc.lock().unwrap().pop_front().unwrap_or_else(|| {
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".into()
                    });
                    let _ = sock.write_all(answer.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Receiver {
            addr,
            received,
            connections,
            script,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks", self.addr)
    }

    /// The next answers, as status line plus extra headers, e.g. `("503 Service Unavailable", "")`.
    pub fn answer(&self, status: &str, headers: &str) {
        let body = "no";
        self.script.lock().unwrap().push_back(format!(
            "HTTP/1.1 {status}\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ));
    }

    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    pub fn connection_count(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Every e-mail written so far, oldest first.
pub async fn mails(app: &TestApp) -> Vec<guichet::db::mail::MailRow> {
    app.g
        .db
        .run(|conn| guichet::db::mail::list_for(conn, None, None))
        .await
        .unwrap()
}

/// The token of the last reset e-mail written to `address` (read from the outbox, as the
/// e-mail would carry it).
pub async fn reset_token(app: &TestApp, address: &str) -> String {
    let mail = mails(app)
        .await
        .into_iter()
        .rev()
        .find(|m| m.kind == "password_reset" && m.recipient == address)
        .unwrap_or_else(|| panic!("no reset e-mail to {address}"));
    let context: Value = serde_json::from_str(&mail.context).unwrap();
    let path = context["link_path"].as_str().unwrap();
    path.split("token=").nth(1).unwrap().to_owned()
}

/// A real SMTP server (aiosmtpd, `tests/support/smtp_sink.py`) on loopback, for one test.
pub struct SmtpSink {
    pub port: u16,
    pub dir: std::path::PathBuf,
    child: std::process::Child,
}

/// One message the sink accepted, decoded by Python's `email` package.
#[derive(Debug, Clone)]
pub struct Sunk {
    pub rcpt: Vec<String>,
    pub headers: Value,
    pub text: String,
    pub html: String,
}

impl Sunk {
    pub fn header(&self, name: &str) -> &str {
        self.headers[name].as_str().unwrap_or_default()
    }
    pub fn subject(&self) -> &str {
        self.header("Subject")
    }
    /// Headers, text and HTML together, to look for something anywhere in the message.
    pub fn everything(&self) -> String {
        format!("{}\n{}\n{}", self.headers, self.text, self.html)
    }
}

impl SmtpSink {
    /// Starts the server; it refuses the first `refuse_first` messages with `code`.
    pub fn start(refuse_first: u32, code: u16) -> SmtpSink {
        use std::io::BufRead;
        let python = std::env::var("GUICHET_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let dir = std::env::temp_dir().join(format!("guichet-sink-{}", uuid::Uuid::now_v7()));
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut child = std::process::Command::new(&python)
            .arg(script)
            .arg("--dir")
            .arg(&dir)
            .arg("--refuse-first")
            .arg(refuse_first.to_string())
            .arg("--code")
            .arg(code.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {python} (set GUICHET_TEST_PYTHON): {e}"));
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| {
                panic!("the SMTP sink did not start (needs `pip install aiosmtpd`): {line:?}")
            })
            .parse()
            .unwrap();
        SmtpSink { port, dir, child }
    }

    /// The SMTP settings that reach this server (plain text on loopback).
    pub fn transport(&self) -> guichet::mail::Transport {
        self.transport_with_timeout(std::time::Duration::from_secs(10))
    }

    pub fn transport_with_timeout(&self, timeout: std::time::Duration) -> guichet::mail::Transport {
        let mut settings =
            guichet::mail::SmtpSettings::parse(&format!("smtp://127.0.0.1:{}?tls=none", self.port))
                .unwrap();
        settings.timeout = timeout;
        guichet::mail::Transport::smtp(&settings).unwrap()
    }

    /// Makes the server stall every message after its data arrived (until `release`).
    pub fn hold(&self) {
        std::fs::write(self.dir.join("hold"), b"").unwrap();
    }

    pub fn release(&self) {
        let _ = std::fs::remove_file(self.dir.join("hold"));
    }

    /// Every message accepted so far, in the order the server accepted them (messages sent
    /// in parallel may arrive in any order).
    pub fn messages(&self) -> Vec<Sunk> {
        let mut files: Vec<_> = std::fs::read_dir(&self.dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let v: Value = serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
                Sunk {
                    rcpt: serde_json::from_value(v["rcpt"].clone()).unwrap(),
                    headers: v["headers"].clone(),
                    text: v["text"].as_str().unwrap_or_default().to_owned(),
                    html: v["html"].as_str().unwrap_or_default().to_owned(),
                }
            })
            .collect()
    }

    /// The messages to `address`.
    pub fn to(&self, address: &str) -> Vec<Sunk> {
        self.messages()
            .into_iter()
            .filter(|m| m.rcpt.iter().any(|r| r == address))
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl TestApp {
    /// Sends this app's e-mail to `sink` (the worker frame built by `worker` does the sending).
    pub fn mail_to(&mut self, sink: &SmtpSink) {
        self.g.mail.transport = sink.transport();
        self.g.mail.public_url = "https://guichet.example".into();
        self.g.mail.from = "Guichet <guichet@guichet.example>".parse().unwrap();
    }
}
