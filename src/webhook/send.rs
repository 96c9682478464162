//! One delivery attempt: an HTTP POST to a checked address, judged by its status line.
//!
//! Decisions (the delivery rules svix-webhooks made public, adapted):
//! - The address is checked again at send time ([`resolve_checked`]), and the connection goes to
//!   that address only: reqwest's `resolve` override pins the host name to it, so a DNS answer
//!   that changes between the check and the connection (rebinding) is never used. IP literals
//!   need no pinning. Proxies are off (`no_proxy`): an `HTTPS_PROXY` in the environment would
//!   otherwise make the proxy, not us, choose the address.
//! - Redirects are not followed: a redirect is a way around the address check, and a receiver
//!   that moved must update its endpoint. A 3xx is a failure like any other non-2xx.
//! - One client per attempt: the pin is per host and per attempt, and nothing is pooled between
//!   attempts (a later attempt checks the address afresh).
//! - One deadline, `SendOptions::timeout`, covers resolution, connection, request and reading the
//!   answer; reqwest's own timeouts are set to the same value as a second guard.
//! - The outcome follows the status line only: 2xx delivered, 410 gone (the receiver asks us to
//!   stop), anything else a failure, with the `Retry-After` of a 429 or 503 (seconds or an
//!   HTTP-date) passed on so the scheduler can honour it. A 2xx whose body then fails to arrive is
//!   still delivered; the problem is noted in `error`.
//! - At most `read_cap_bytes` of the answer are read and only `excerpt_bytes` kept, as text with
//!   control characters removed (tabs and line breaks become spaces): a receiver cannot make us
//!   store megabytes, nor write escape sequences into a log. No decompression is offered
//!   (reqwest is built without gzip), so a small body cannot expand.
//! - Errors name the target as scheme://host:port/path: the query string may hold a customer's
//!   token, and reqwest's own messages (which carry the full URL) are stripped of it.
//! - TLS is rustls with the webpki root list compiled into the binary: no system OpenSSL and no
//!   certificate store read at run time, so the same build verifies the same way everywhere.

use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Response, StatusCode};
use tokio::time::timeout_at;
use url::{Host, Url};

use super::address::{UrlPolicy, resolve_checked};

pub const USER_AGENT: &str = "Guichet-Webhooks/1";

/// Headers that the sender or the HTTP layer sets; a caller may not override them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "te",
    "upgrade",
    "user-agent",
];

/// One request to send: the endpoint, the caller's headers (the Standard Webhooks ones, see
/// [`super::sign::standard_headers`]) and the JSON body.
#[derive(Clone, Debug)]
pub struct Outgoing {
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Clone, Copy, Debug)]
pub struct SendOptions {
    /// The whole attempt: resolution, connection, request and answer.
    pub timeout: Duration,
    pub policy: UrlPolicy,
    /// How much of the answer is kept, as text.
    pub excerpt_bytes: usize,
    /// How much of the answer is read at most.
    pub read_cap_bytes: usize,
}

impl Default for SendOptions {
    fn default() -> Self {
        SendOptions {
            timeout: Duration::from_secs(15),
            policy: UrlPolicy::default(),
            excerpt_bytes: 1024,
            read_cap_bytes: 64 * 1024,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer.
    Delivered,
    /// A 410 answer: the receiver wants no more deliveries.
    Gone,
    /// Anything else: another status (3xx included), a refused address, a timeout, a connection
    /// error. `retry_after` is the receiver's `Retry-After` on a 429 or 503.
    Failed { retry_after: Option<Duration> },
}

/// What one attempt did, ready to be recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    pub outcome: Outcome,
    pub status: Option<u16>,
    pub duration_ms: u64,
    pub response_excerpt: String,
    /// What went wrong, without the URL's query string; `None` when an answer arrived whole.
    pub error: Option<String>,
}

/// Sends `out` once. Never panics and never returns early without an [`Attempt`].
pub async fn attempt(out: &Outgoing, opts: &SendOptions) -> Attempt {
    let started = Instant::now();
    let mut attempt = exchange(out, opts).await;
    attempt.duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    attempt
}

fn failed(error: String) -> Attempt {
    Attempt {
        outcome: Outcome::Failed { retry_after: None },
        status: None,
        duration_ms: 0,
        response_excerpt: String::new(),
        error: Some(error),
    }
}

async fn exchange(out: &Outgoing, opts: &SendOptions) -> Attempt {
    let deadline = tokio::time::Instant::now() + opts.timeout;
    let target = redacted(&out.url);
    let timed_out = || {
        format!(
            "timed out after {} ms waiting for {target}",
            opts.timeout.as_millis()
        )
    };

    let address = match timeout_at(deadline, resolve_checked(&out.url, opts.policy)).await {
        Ok(Ok(address)) => address,
        Ok(Err(refusal)) => return failed(format!("{target} refused: {refusal}")),
        Err(_) => return failed(timed_out()),
    };
    let headers = match header_map(&out.headers) {
        Ok(headers) => headers,
        Err(error) => return failed(error),
    };
    let client = match pinned_client(&out.url, address, opts) {
        Ok(client) => client,
        Err(error) => {
            return failed(format!(
                "the HTTP client could not be built: {}",
                describe(error, &out.url)
            ));
        }
    };
    let request = client
        .post(out.url.clone())
        .headers(headers)
        .body(out.body.clone())
        .send();
    let mut response = match timeout_at(deadline, request).await {
        Ok(Ok(response)) => response,
        Ok(Err(error)) => return failed(format!("{target}: {}", describe(error, &out.url))),
        Err(_) => return failed(timed_out()),
    };

    let status = response.status();
    let outcome = classify(status, response.headers(), SystemTime::now());
    let mut body = Vec::new();
    let body_error = match timeout_at(
        deadline,
        read_capped(&mut response, opts.read_cap_bytes, &mut body),
    )
    .await
    {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(format!(
            "reading the answer of {target}: {}",
            describe(error, &out.url)
        )),
        Err(_) => Some(format!("{} (reading the answer)", timed_out())),
    };
    let error = body_error.or_else(|| {
        status
            .is_redirection()
            .then(|| format!("{target} answered {status}: redirects are not followed"))
    });
    Attempt {
        outcome,
        status: Some(status.as_u16()),
        duration_ms: 0,
        response_excerpt: excerpt(&body, opts.excerpt_bytes),
        error,
    }
}

/// A client that can only reach `address`: the URL's host name is pinned to it, redirects and
/// proxies are off.
fn pinned_client(
    url: &Url,
    address: SocketAddr,
    opts: &SendOptions,
) -> Result<reqwest::Client, reqwest::Error> {
    let mut builder = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .connect_timeout(opts.timeout)
        .timeout(opts.timeout)
        .user_agent(USER_AGENT)
        .referer(false)
        .pool_max_idle_per_host(0)
        .https_only(!opts.policy.allow_loopback_http);
    if let Some(Host::Domain(domain)) = url.host() {
        builder = builder.resolve(domain, address);
    }
    builder.build()
}

/// The endpoint as errors may show it: scheme://host:port/path, without query or credentials.
fn redacted(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port_or_known_default() {
        Some(port) => format!("{}://{host}:{port}{}", url.scheme(), url.path()),
        None => format!("{}://{host}{}", url.scheme(), url.path()),
    }
}

fn header_map(headers: &[(String, String)]) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    for (name, value) in headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("{name:?} is not a valid header name"))?;
        if RESERVED_HEADERS.contains(&header.as_str()) {
            return Err(format!("the header {header} is set by the sender"));
        }
        // The value is not repeated: it may be a signature.
        let value = HeaderValue::from_str(value)
            .map_err(|_| format!("the value of the header {header} is not valid"))?;
        map.append(header, value);
    }
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Ok(map)
}

/// A reqwest error as text: its chain of causes, without the URL it carries, and with the query
/// string blanked should a cause repeat it.
fn describe(error: reqwest::Error, url: &Url) -> String {
    let error = error.without_url();
    let mut parts: Vec<String> = Vec::new();
    if error.is_timeout() {
        parts.push("timed out".to_owned());
    }
    let mut cause: Option<&dyn std::error::Error> = Some(&error);
    while let Some(current) = cause {
        let text = current.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        cause = current.source();
    }
    let mut text = parts.join(": ");
    if let Some(query) = url.query().filter(|query| !query.is_empty()) {
        text = text.replace(query, "…");
    }
    text
}

fn classify(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Outcome {
    if status.is_success() {
        return Outcome::Delivered;
    }
    if status == StatusCode::GONE {
        return Outcome::Gone;
    }
    let retry_after =
        if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE {
            headers
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, now))
        } else {
            None
        };
    Outcome::Failed { retry_after }
}

/// `Retry-After` is either a number of seconds or an HTTP-date (RFC 9110 §10.2.3); a date in the
/// past means "now".
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok().map(Duration::from_secs);
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Appends the body to `into` until `cap` bytes are held or the body ends; whatever arrived is
/// kept in `into` even when the read fails or is abandoned at the deadline.
async fn read_capped(
    response: &mut Response,
    cap: usize,
    into: &mut Vec<u8>,
) -> Result<(), reqwest::Error> {
    while into.len() < cap {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let room = cap - into.len();
        into.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(())
}

/// The first `max` bytes as text: invalid UTF-8 replaced, a character cut by the limit dropped,
/// tabs and line breaks turned into spaces, other control characters removed.
fn excerpt(body: &[u8], max: usize) -> String {
    let cut = &body[..body.len().min(max)];
    let truncated = body.len() > cut.len();
    let mut text = String::with_capacity(cut.len());
    let mut chunks = cut.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        text.push_str(chunk.valid());
        // Bytes left invalid at the very end of a cut body are a character the cut split.
        let split_by_the_cut = truncated && chunks.peek().is_none();
        if !chunk.invalid().is_empty() && !split_by_the_cut {
            text.push(char::REPLACEMENT_CHARACTER);
        }
    }
    text.chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::super::address::{check_url, resolve_checked};
    use super::*;

    /// How the test receiver answers.
    #[derive(Clone)]
    enum Answer {
        /// These bytes, then close.
        Canned(Vec<u8>),
        /// A 200 head, then body bytes until the client goes away.
        Endless,
        /// Read the request, then hold the connection without a word.
        Silent,
        /// These bytes at once, without reading anything, then close.
        Blurt(Vec<u8>),
    }

    /// A receiver on 127.0.0.1 that counts connections and keeps the requests it read.
    struct Receiver {
        address: SocketAddr,
        connections: Arc<AtomicUsize>,
        requests: Arc<Mutex<Vec<Vec<u8>>>>,
    }

    impl Receiver {
        async fn start(answer: Answer) -> Receiver {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = listener.local_addr().unwrap();
            let connections = Arc::new(AtomicUsize::new(0));
            let requests = Arc::new(Mutex::new(Vec::new()));
            let (count, log) = (connections.clone(), requests.clone());
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    count.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(answer_one(stream, answer.clone(), log.clone()));
                }
            });
            Receiver {
                address,
                connections,
                requests,
            }
        }

        fn url(&self, path: &str) -> Url {
            Url::parse(&format!("http://{}{path}", self.address)).unwrap()
        }

        fn connections(&self) -> usize {
            self.connections.load(Ordering::SeqCst)
        }
    }

    async fn answer_one(mut stream: TcpStream, answer: Answer, log: Arc<Mutex<Vec<Vec<u8>>>>) {
        if let Answer::Blurt(bytes) = &answer {
            let _ = stream.write_all(bytes).await;
            let _ = stream.shutdown().await;
            return;
        }
        let request = read_request(&mut stream).await;
        log.lock().unwrap().push(request);
        match answer {
            Answer::Canned(bytes) => {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
            }
            Answer::Endless => {
                let head = b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n";
                if stream.write_all(head).await.is_err() {
                    return;
                }
                let block = vec![b'x'; 16 * 1024];
                while stream.write_all(&block).await.is_ok() {}
            }
            Answer::Silent => {
                std::future::pending::<()>().await;
                drop(stream);
            }
            Answer::Blurt(_) => {}
        }
    }

    /// Reads one request: the head, then `content-length` bytes of body.
    async fn read_request(stream: &mut TcpStream) -> Vec<u8> {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
                let length: usize = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .map(|value| value.trim().parse().unwrap())
                    .unwrap_or(0);
                if data.len() >= end + 4 + length {
                    return data;
                }
            }
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return data,
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
        }
    }

    fn response(status_line: &str, extra_headers: &str, body: &str) -> Answer {
        Answer::Canned(
            format!(
                "HTTP/1.1 {status_line}\r\ncontent-length: {}\r\nconnection: close\r\n{extra_headers}\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }

    fn dev_options() -> SendOptions {
        SendOptions {
            timeout: Duration::from_secs(10),
            policy: UrlPolicy {
                allow_loopback_http: true,
            },
            ..SendOptions::default()
        }
    }

    fn outgoing(url: Url) -> Outgoing {
        Outgoing {
            url,
            headers: vec![("webhook-id".to_owned(), "msg_1".to_owned())],
            body: br#"{"type":"referral.created"}"#.to_vec(),
        }
    }

    #[tokio::test]
    async fn a_2xx_answer_is_delivered_with_its_excerpt() {
        let receiver = Receiver::start(response("200 OK", "", "thanks\r\n\x1b[31mred")).await;
        let result = attempt(&outgoing(receiver.url("/hook")), &dev_options()).await;
        assert_eq!(result.outcome, Outcome::Delivered);
        assert_eq!(result.status, Some(200));
        assert_eq!(result.response_excerpt, "thanks  [31mred");
        assert_eq!(result.error, None);
        assert_eq!(receiver.connections(), 1);
    }

    #[tokio::test]
    async fn the_request_is_a_json_post_with_the_callers_headers() {
        let receiver = Receiver::start(response("204 No Content", "", "")).await;
        let result = attempt(&outgoing(receiver.url("/in?x=1")), &dev_options()).await;
        assert_eq!(result.outcome, Outcome::Delivered);
        let requests = receiver.requests.lock().unwrap();
        let request = String::from_utf8_lossy(&requests[0]).to_string();
        let lower = request.to_ascii_lowercase();
        assert!(
            request.starts_with("POST /in?x=1 HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            lower.contains("\r\ncontent-type: application/json\r\n"),
            "{request}"
        );
        assert!(
            lower.contains("\r\nuser-agent: guichet-webhooks/1\r\n"),
            "{request}"
        );
        assert!(lower.contains("\r\nwebhook-id: msg_1\r\n"), "{request}");
        assert!(
            request.ends_with(r#"{"type":"referral.created"}"#),
            "{request}"
        );
    }

    #[tokio::test]
    async fn a_redirect_is_a_failure_and_is_not_followed() {
        let elsewhere = Receiver::start(response("200 OK", "", "")).await;
        let location = format!("location: http://{}/\r\n", elsewhere.address);
        let receiver = Receiver::start(response("302 Found", &location, "")).await;
        let result = attempt(&outgoing(receiver.url("/")), &dev_options()).await;
        assert_eq!(result.outcome, Outcome::Failed { retry_after: None });
        assert_eq!(result.status, Some(302));
        assert!(result.error.unwrap().contains("redirects are not followed"));
        assert_eq!(receiver.connections(), 1);
        assert_eq!(elsewhere.connections(), 0);
    }

    #[tokio::test]
    async fn a_410_answer_means_gone() {
        let receiver = Receiver::start(response("410 Gone", "", "")).await;
        let result = attempt(&outgoing(receiver.url("/")), &dev_options()).await;
        assert_eq!(result.outcome, Outcome::Gone);
        assert_eq!(result.status, Some(410));
    }

    #[tokio::test]
    async fn a_429_passes_on_its_retry_after() {
        let receiver =
            Receiver::start(response("429 Too Many Requests", "retry-after: 7\r\n", "")).await;
        let result = attempt(&outgoing(receiver.url("/")), &dev_options()).await;
        assert_eq!(
            result.outcome,
            Outcome::Failed {
                retry_after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(result.status, Some(429));
    }

    #[tokio::test]
    async fn a_500_is_a_failure_without_retry_after() {
        let receiver = Receiver::start(response(
            "500 Internal Server Error",
            "retry-after: 7\r\n",
            "oops",
        ))
        .await;
        let result = attempt(&outgoing(receiver.url("/")), &dev_options()).await;
        assert_eq!(result.outcome, Outcome::Failed { retry_after: None });
        assert_eq!(result.status, Some(500));
        assert_eq!(result.response_excerpt, "oops");
        assert_eq!(result.error, None);
    }

    #[tokio::test]
    async fn a_huge_answer_is_cut_at_the_cap() {
        let body = "y".repeat(1024 * 1024);
        let receiver = Receiver::start(response("200 OK", "", &body)).await;
        let opts = SendOptions {
            excerpt_bytes: 100,
            ..dev_options()
        };
        let result = attempt(&outgoing(receiver.url("/")), &opts).await;
        assert_eq!(result.outcome, Outcome::Delivered);
        assert_eq!(result.response_excerpt, "y".repeat(100));
    }

    #[tokio::test]
    async fn an_endless_answer_is_read_up_to_the_cap_only() {
        let receiver = Receiver::start(Answer::Endless).await;
        // Reading past the cap would run into the deadline and be reported as an error.
        let result = attempt(&outgoing(receiver.url("/")), &dev_options()).await;
        assert_eq!(result.outcome, Outcome::Delivered);
        assert_eq!(result.error, None);
        assert_eq!(result.response_excerpt, "x".repeat(1024));

        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let mut response = client.get(receiver.url("/")).send().await.unwrap();
        let mut body = Vec::new();
        read_capped(&mut response, 64 * 1024, &mut body)
            .await
            .unwrap();
        assert_eq!(body.len(), 64 * 1024);
    }

    #[tokio::test]
    async fn a_receiver_that_never_answers_fails_at_the_deadline() {
        let receiver = Receiver::start(Answer::Silent).await;
        let opts = SendOptions {
            timeout: Duration::from_millis(300),
            ..dev_options()
        };
        let result = attempt(&outgoing(receiver.url("/hook?token=s3cr3t")), &opts).await;
        assert_eq!(result.outcome, Outcome::Failed { retry_after: None });
        assert_eq!(result.status, None);
        let error = result.error.unwrap();
        assert!(error.contains("timed out"), "{error}");
        assert!(
            error.contains(&format!("http://{}/hook", receiver.address)),
            "{error}"
        );
        assert!(!error.contains("s3cr3t"), "{error}");
        assert!(result.duration_ms >= 300, "{}", result.duration_ms);
        assert!(result.duration_ms < 5_000, "{}", result.duration_ms);
        assert_eq!(receiver.connections(), 1);
    }

    #[tokio::test]
    async fn connection_errors_do_not_repeat_the_query_string() {
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = closed.local_addr().unwrap();
        drop(closed);
        let url = Url::parse(&format!("http://{address}/hook?token=s3cr3t")).unwrap();
        let result = attempt(&outgoing(url), &dev_options()).await;
        assert_eq!(result.outcome, Outcome::Failed { retry_after: None });
        let error = result.error.unwrap();
        assert!(error.contains(&format!("http://{address}/hook")), "{error}");
        assert!(!error.contains("s3cr3t"), "{error}");
        assert!(!error.contains("token"), "{error}");
    }

    #[tokio::test]
    async fn reserved_or_invalid_headers_are_refused_before_connecting() {
        let receiver = Receiver::start(response("200 OK", "", "")).await;
        for (name, value) in [
            ("Host", "internal"),
            ("content-length", "0"),
            ("bad name", "x"),
            ("x-ok", "line\nbreak"),
        ] {
            let out = Outgoing {
                headers: vec![(name.to_owned(), value.to_owned())],
                ..outgoing(receiver.url("/"))
            };
            let result = attempt(&out, &dev_options()).await;
            assert_eq!(
                result.outcome,
                Outcome::Failed { retry_after: None },
                "{name}"
            );
            assert!(result.error.is_some());
        }
        assert_eq!(receiver.connections(), 0);
    }

    #[tokio::test]
    async fn non_public_addresses_are_refused_without_a_connection() {
        let receiver = Receiver::start(response("200 OK", "", "")).await;
        let port = receiver.address.port();
        let strict = SendOptions {
            timeout: Duration::from_secs(10),
            ..SendOptions::default()
        };
        let urls = [
            format!("http://127.0.0.1:{port}/"),
            format!("https://127.0.0.1:{port}/"),
            format!("https://[::1]:{port}/"),
            format!("https://0x7f000001:{port}/"),
            format!("https://2130706433:{port}/"),
            "https://169.254.169.254/".to_owned(),
            format!("https://[::ffff:127.0.0.1]:{port}/"),
            format!("https://localhost:{port}/"),
        ];
        for raw in &urls {
            let refused_by_check = match check_url(raw, strict.policy) {
                Err(_) => true,
                Ok(url) => resolve_checked(&url, strict.policy).await.is_err(),
            };
            assert!(refused_by_check, "{raw} passed the checks");
            let result = attempt(&outgoing(Url::parse(raw).unwrap()), &strict).await;
            assert_eq!(
                result.outcome,
                Outcome::Failed { retry_after: None },
                "{raw}"
            );
            assert_eq!(result.status, None, "{raw}");
            let error = result.error.unwrap();
            assert!(error.contains("refused"), "{raw}: {error}");
        }
        assert_eq!(receiver.connections(), 0);
    }

    #[tokio::test]
    async fn the_client_connects_to_the_checked_address_not_to_a_new_lookup() {
        let receiver = Receiver::start(response("200 OK", "", "pinned")).await;
        // `.invalid` never resolves: only the pin can lead this request anywhere.
        let url = Url::parse(&format!(
            "http://guichet-pinned.invalid:{}/",
            receiver.address.port()
        ))
        .unwrap();
        let client = pinned_client(&url, receiver.address, &dev_options()).unwrap();
        let answer = client.post(url).send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.text().await.unwrap(), "pinned");
        assert_eq!(receiver.connections(), 1);
        let requests = receiver.requests.lock().unwrap();
        let request = String::from_utf8_lossy(&requests[0]).to_ascii_lowercase();
        let host = format!(
            "\r\nhost: guichet-pinned.invalid:{}\r\n",
            receiver.address.port()
        );
        assert!(request.contains(&host), "{request}");
    }

    #[tokio::test]
    async fn a_tls_failure_is_a_failed_attempt() {
        // The receiver speaks plain HTTP: the TLS handshake fails (and rustls is usable at all).
        let receiver = Receiver::start(Answer::Blurt(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec(),
        ))
        .await;
        let url = Url::parse(&format!("https://{}/", receiver.address)).unwrap();
        let result = attempt(&outgoing(url), &dev_options()).await;
        assert_eq!(result.outcome, Outcome::Failed { retry_after: None });
        assert_eq!(result.status, None);
        let error = result.error.unwrap();
        assert!(!error.contains("timed out"), "{error}");
        assert_eq!(receiver.connections(), 1);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let cases = [
            ("7", Some(Duration::from_secs(7))),
            (" 120 ", Some(Duration::from_secs(120))),
            ("0", Some(Duration::ZERO)),
            (
                "Wed, 21 Oct 2015 07:30:00 GMT",
                Some(Duration::from_secs(120)),
            ),
            // the obsolete forms an HTTP-date may still take
            (
                "Wednesday, 21-Oct-15 07:29:00 GMT",
                Some(Duration::from_secs(60)),
            ),
            ("Wed Oct 21 07:28:30 2015", Some(Duration::from_secs(30))),
            ("Wed, 21 Oct 2015 07:00:00 GMT", Some(Duration::ZERO)),
            ("-5", None),
            ("1.5", None),
            ("soon", None),
            ("", None),
            ("99999999999999999999999", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value, now), expected, "{value:?}");
        }
    }

    #[test]
    fn status_decides_the_outcome() {
        let now = SystemTime::now();
        let mut with_retry = HeaderMap::new();
        with_retry.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        let thirty = Some(Duration::from_secs(30));
        let cases = [
            (200, Outcome::Delivered),
            (201, Outcome::Delivered),
            (204, Outcome::Delivered),
            (299, Outcome::Delivered),
            (301, Outcome::Failed { retry_after: None }),
            (304, Outcome::Failed { retry_after: None }),
            (400, Outcome::Failed { retry_after: None }),
            (404, Outcome::Failed { retry_after: None }),
            (410, Outcome::Gone),
            (
                429,
                Outcome::Failed {
                    retry_after: thirty,
                },
            ),
            (500, Outcome::Failed { retry_after: None }),
            (
                503,
                Outcome::Failed {
                    retry_after: thirty,
                },
            ),
        ];
        for (code, expected) in cases {
            let status = StatusCode::from_u16(code).unwrap();
            assert_eq!(classify(status, &with_retry, now), expected, "{code}");
        }
    }

    #[test]
    fn excerpt_is_short_clean_text() {
        assert_eq!(excerpt(b"ok", 10), "ok");
        assert_eq!(excerpt(b"abcdef", 3), "abc");
        assert_eq!(excerpt(b"a\tb\r\nc\x00d\x1b[0m\x7f", 100), "a b  cd[0m");
        assert_eq!(excerpt(b"bad \xff byte", 100), "bad \u{fffd} byte");
        // "é" is two bytes: a limit between them drops the half character.
        assert_eq!(excerpt("café".as_bytes(), 4), "caf");
        assert_eq!(excerpt("café".as_bytes(), 5), "café");
        assert_eq!(excerpt(b"", 10), "");
    }

    #[test]
    fn errors_show_scheme_host_port_and_path_only() {
        let url = Url::parse("https://hooks.example.com/in/box?token=s3cr3t").unwrap();
        assert_eq!(redacted(&url), "https://hooks.example.com:443/in/box");
        let url = Url::parse("http://[::1]:8080/?a=b").unwrap();
        assert_eq!(redacted(&url), "http://[::1]:8080/");
    }
}
