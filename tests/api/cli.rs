//! The `guichet` binary: subcommands, exit codes and one-line messages.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::TestDb;

fn guichet(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    guichet_with_env(args, stdin, &[])
}

fn guichet_with_env(
    args: &[&str],
    stdin: Option<&str>,
    env: &[(&str, &str)],
) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_guichet"))
        .args(args)
        .env_remove("GUICHET_DATABASE_URL")
        .env_remove("GUICHET_JWT_SECRET")
        .env_remove("GUICHET_BIND")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        // A command refused before it reads its input (bad flags) may have exited already.
        let written = child.stdin.take().unwrap().write_all(input.as_bytes());
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn users_are_created_and_listed_from_the_command_line() {
    let db = TestDb::new();
    let url = db.url.clone();
    let (code, out, err) = guichet(
        &[
            "users",
            "create",
            "--database-url",
            &url,
            "--email",
            "Ops@Example.org",
            "--role",
            "operator",
            "--password-stdin",
        ],
        Some("a long passphrase\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("created operator ops@example.org"), "{out}");
    let (code, _, err) = guichet(
        &[
            "users",
            "create",
            "--database-url",
            &url,
            "--email",
            "t@curie.fr",
            "--role",
            "triager",
            "--institution",
            "curie",
            "--password-stdin",
        ],
        Some("another passphrase\n"),
    );
    assert_eq!(code, 0, "{err}");
    let (code, out, _) = guichet(&["users", "list", "--database-url", &url], None);
    assert_eq!(code, 0);
    assert!(
        out.contains("ops@example.org") && out.contains("t@curie.fr") && out.contains("curie"),
        "{out}"
    );
}

#[test]
fn account_rules_are_enforced_on_the_command_line_with_one_line_errors() {
    let db = TestDb::new();
    let url = db.url.clone();
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["--role", "operator", "--institution", "curie"],
            "long enough pass",
            "operators belong to no institution",
        ),
        (
            &["--role", "triager"],
            "long enough pass",
            "--institution is required",
        ),
        (
            &["--role", "triager", "--institution", "mayo"],
            "long enough pass",
            "no institution has the id `mayo`",
        ),
        (
            &["--role", "triager", "--institution", "curie"],
            "short",
            "password must be at least 8 characters",
        ),
    ];
    for (extra, password, expected) in cases {
        let mut args = vec![
            "users",
            "create",
            "--database-url",
            &url,
            "--email",
            "x@curie.fr",
            "--password-stdin",
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = guichet(&args, Some(&format!("{password}\n")));
        assert_eq!(code, 1, "{args:?}: {err}");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn bad_flags_exit_2_with_one_line() {
    let (code, _, err) = guichet(&["serve", "--log-format", "xml"], None);
    assert_eq!(code, 2);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("guichet: "), "{err}");
    let (code, _, err) = guichet(
        &["users", "create", "--role", "king", "--email", "a@b.fr"],
        None,
    );
    assert_eq!(code, 2, "{err}");
}

/// Limits that would overflow a date or never bite are refused at start, not later.
#[test]
fn unbounded_lifetimes_and_limits_are_refused_at_start() {
    for args in [
        [
            "serve",
            "--refresh-token-ttl-seconds",
            "18446744073709551615",
        ],
        ["serve", "--refresh-token-ttl-seconds", "31536001"],
        ["serve", "--login-max-failures-per-account", "4294967295"],
        ["serve", "--submissions-per-minute", "0"],
        ["serve", "--db-timeout-ms", "99999999"],
    ] {
        let (code, _, err) = guichet(&args, None);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
    }
}

#[test]
fn an_unreachable_database_and_a_taken_port_are_one_line_failures() {
    let (code, _, err) = guichet(
        &[
            "migrate",
            "--database-url",
            "postgres://nobody@127.0.0.1:1/none",
        ],
        None,
    );
    assert_eq!(code, 1);
    assert!(
        err.contains("cannot open the database") && !err.contains("panicked"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    let db = TestDb::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, err) = guichet(
        &[
            "serve",
            "--database-url",
            &db.url,
            "--bind",
            &addr,
            "--jwt-secret",
            "0123456789abcdef0123456789abcdef",
        ],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    let (code, _, err) = guichet(
        &["serve", "--database-url", &db.url, "--jwt-secret", "short"],
        None,
    );
    assert_eq!(code, 1);
    assert!(err.contains("at least 32 bytes"), "{err}");
}

/// README.md's exit-code table and the binary agree on `--bind`: a malformed value is a bad
/// value (2), a well-formed address that cannot be listened on is a runtime failure (1).
#[test]
fn bind_failures_exit_with_the_codes_of_the_readme() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let row = |code: &str| {
        readme
            .lines()
            .find(|l| l.starts_with(&format!("| {code} |")))
            .unwrap_or_else(|| panic!("README.md has no exit-code row for {code}"))
            .to_owned()
    };
    let (runtime, usage) = (row("1"), row("2"));
    assert!(
        runtime.contains("a well-formed `--bind` that cannot be listened on"),
        "README.md, exit code 1: {runtime}"
    );
    assert!(
        usage.contains("a malformed `--bind`"),
        "README.md, exit code 2: {usage}"
    );

    let db = TestDb::new();
    let secret = "0123456789abcdef0123456789abcdef";
    for malformed in ["localhost", "127.0.0.1:99999", "8080", "999.0.0.1:8080"] {
        let (code, _, err) = serve_on(&db.url, secret, malformed);
        assert_eq!(code, 2, "--bind {malformed}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("guichet: invalid value '{malformed}' for '--bind")),
            "{err}"
        );
        let (code, _, err) = guichet_with_env(
            &["serve", "--database-url", &db.url, "--jwt-secret", secret],
            None,
            &[("GUICHET_BIND", malformed)],
        );
        assert_eq!(code, 2, "GUICHET_BIND={malformed}: {err}");
    }

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken = taken.local_addr().unwrap().to_string();
    // 192.0.2.1 (TEST-NET-1, RFC 5737) is an address of no machine.
    for unusable in [taken.as_str(), "192.0.2.1:8080"] {
        let (code, _, err) = serve_on(&db.url, secret, unusable);
        assert_eq!(code, 1, "--bind {unusable}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(
            err.starts_with(&format!("guichet: cannot listen on {unusable}: ")),
            "{err}"
        );
    }
}

#[test]
fn the_openapi_subcommand_prints_the_checked_in_contract() {
    let (code, out, _) = guichet(&["openapi"], None);
    assert_eq!(code, 0);
    let checked_in =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .unwrap();
    assert_eq!(out, checked_in);
}

/// `guichet serve` on `bind`, for the tests of what a bad address does (it never gets ready).
fn serve_on(database_url: &str, secret: &str, bind: &str) -> (i32, String, String) {
    guichet(
        &[
            "serve",
            "--database-url",
            database_url,
            "--jwt-secret",
            secret,
            "--bind",
            bind,
        ],
        None,
    )
}

/// One HTTP/1.1 exchange on an open connection: (status, lower-cased head).
fn exchange(stream: &mut std::net::TcpStream, path: &str) -> (u16, String) {
    use std::io::Read;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the connection closed before an answer to {path}");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + length {
                let status = head[9..12].parse().unwrap();
                return (status, head);
            }
        }
    }
}

/// SIGTERM: readiness turns 503 at once so load balancers move away, keep-alive connections
/// are told to close, the listener stays open for the drain, then the process exits 0.
#[test]
fn sigterm_drains_before_it_stops() {
    use std::net::TcpStream;
    use std::time::{Duration, Instant};
    let db = TestDb::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_guichet"))
        .args(["serve", "--database-url", &db.url, "--bind", &addr])
        .args(["--shutdown-drain-seconds", "2", "--workers", "1"])
        .env("GUICHET_JWT_SECRET", crate::support::JWT_SECRET)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut kept = loop {
        if let Ok(mut s) = TcpStream::connect(&addr)
            && exchange(&mut s, "/health/ready").0 == 200
        {
            break s;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never ready");
        std::thread::sleep(Duration::from_millis(50));
    };
    let (status, head) = exchange(&mut kept, "/health/live");
    assert_eq!(status, 200);
    assert!(!head.contains("connection: close"), "{head}");

    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let signalled = Instant::now();
    // Readiness says 503 within moments, on a new connection: the listener is still open.
    let ready = loop {
        let mut s = TcpStream::connect(&addr).expect("the listener closed during the drain");
        let (status, head) = exchange(&mut s, "/health/ready");
        if status == 503 || signalled.elapsed() > Duration::from_secs(1) {
            break (status, head);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(ready.0, 503, "{}", ready.1);
    assert!(ready.1.contains("retry-after"), "{}", ready.1);
    // The kept-alive connection gets its answer, and is told to close.
    let (status, head) = exchange(&mut kept, "/health/live");
    assert_eq!(status, 200);
    assert!(head.contains("connection: close"), "{head}");

    let exit = loop {
        if let Some(code) = child.try_wait().unwrap() {
            break code;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(20),
            "did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    assert!(
        signalled.elapsed() >= Duration::from_secs(2),
        "stopped before the drain ended"
    );
}
