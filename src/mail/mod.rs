//! Building and sending e-mail: the templates kept in `templates/mail/` (rendered with
//! minijinja, HTML auto-escaped), the MIME message (lettre: a text and an HTML part, a stable
//! `Message-ID`, `List-Unsubscribe` for optional notices), and the two transports: SMTP, or a
//! folder of `.eml` files when no SMTP server is configured.
//!
//! A leaf like `crate::webhook`: it knows nothing of the database or of who is told what
//! (`service::notify` decides, `service::mail` drives it from the outbox).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

macro_rules! templates {
    ($($kind:ident),+ $(,)?) => {
        &[
            ("layout.html", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/mail/layout.html"))),
            $(
                (concat!("en/", stringify!($kind), ".txt"), include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/mail/en/", stringify!($kind), ".txt"))),
                (concat!("en/", stringify!($kind), ".html"), include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/mail/en/", stringify!($kind), ".html"))),
                (concat!("fr/", stringify!($kind), ".txt"), include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/mail/fr/", stringify!($kind), ".txt"))),
                (concat!("fr/", stringify!($kind), ".html"), include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/mail/fr/", stringify!($kind), ".html"))),
            )+
        ]
    };
}

/// Every template, compiled into the binary (nothing is read at run time).
const TEMPLATES: &[(&str, &str)] = templates!(
    referral_new,
    referral_assigned,
    submitter_replied,
    inquiry_withdrawn,
    sla_due_soon,
    sla_breached,
    endpoint_disabled,
    password_reset,
    password_changed,
    inquiry_received,
    inquiry_routed,
    message_received,
    status_changed,
);

fn environment() -> Result<&'static minijinja::Environment<'static>, String> {
    static ENV: OnceLock<Result<minijinja::Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = minijinja::Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        Ok(env)
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// A message ready to be built: subject and both bodies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Renders `kind` in `locale` (`en` or `fr`) with `context`. The text template's first line is
/// `Subject: …`; the HTML template receives the rendered subject as `subject`.
pub fn render(kind: &str, locale: &str, context: &serde_json::Value) -> Result<Rendered, String> {
    let env = environment()?;
    let text_name = format!("{locale}/{kind}.txt");
    let text = env
        .get_template(&text_name)
        .and_then(|t| t.render(context))
        .map_err(|e| format!("rendering {text_name}: {e}"))?;
    let (first, body) = text.split_once('\n').unwrap_or((&text, ""));
    let subject = first
        .strip_prefix("Subject: ")
        .ok_or_else(|| format!("{text_name} does not start with `Subject: `"))?
        .trim()
        .to_owned();
    let body = body.strip_prefix('\n').unwrap_or(body).to_owned();
    let mut with_subject = context.clone();
    if let serde_json::Value::Object(map) = &mut with_subject {
        map.insert("subject".into(), serde_json::Value::String(subject.clone()));
    }
    let html_name = format!("{locale}/{kind}.html");
    let html = env
        .get_template(&html_name)
        .and_then(|t| t.render(&with_subject))
        .map_err(|e| format!("rendering {html_name}: {e}"))?;
    Ok(Rendered {
        subject,
        text: body,
        html,
    })
}

#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribe(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ListUnsubscribePost)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// One message as it leaves Guichet.
pub struct Outgoing<'a> {
    pub from: &'a Mailbox,
    pub to: &'a str,
    /// The left part of the `Message-ID`; the sender's domain is added.
    pub message_id: &'a str,
    pub rendered: &'a Rendered,
    /// For optional notices: the one-click unsubscribe address (RFC 8058).
    pub unsubscribe_url: Option<&'a str>,
    pub language: &'a str,
}

/// Why a message could not be built or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Try again later: no connection, a timeout, a 4xx reply.
    Transient(String),
    /// Never going to work: a 5xx reply, an address the server or Guichet refuses.
    Permanent(String),
}

/// Builds the MIME message.
pub fn build(m: &Outgoing<'_>) -> Result<Message, SendError> {
    let to: Mailbox =
        m.to.parse()
            .map_err(|e| SendError::Permanent(format!("unusable recipient address: {e}")))?;
    let domain = m.from.email.domain();
    let mut builder = Message::builder()
        .from(m.from.clone())
        .to(to)
        .subject(m.rendered.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", m.message_id)))
        .header(AutoSubmitted)
        .header(ContentLanguage(m.language.to_owned()))
        .date_now();
    if let Some(url) = m.unsubscribe_url {
        builder = builder
            .header(ListUnsubscribe(url.to_owned()))
            .header(ListUnsubscribePost);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            m.rendered.text.clone(),
            m.rendered.html.clone(),
        ))
        .map_err(|e| SendError::Permanent(format!("cannot build the message: {e}")))
}

/// How `--smtp-url` asks for TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// `smtps://`: TLS from the first byte (port 465 by default).
    Implicit,
    /// `smtp://` (default): STARTTLS, required (port 587 by default).
    StartTls,
    /// `smtp://…?tls=opportunistic`: STARTTLS when offered.
    Opportunistic,
    /// `smtp://…?tls=none`: plain text, for a relay on the same host or a test server.
    None,
}

/// A parsed `--smtp-url`. The password never appears in `Debug` or logs.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub user: Option<String>,
    pub password: Option<String>,
    pub timeout: Duration,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl SmtpSettings {
    /// Reads `smtp://[user[:password]@]host[:port][?tls=required|opportunistic|none]` or
    /// `smtps://…`. User and password are percent-decoded.
    pub fn parse(s: &str) -> Result<SmtpSettings, String> {
        let url = url::Url::parse(s).map_err(|e| format!("not a URL: {e}"))?;
        let tls_param = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let tls = match (url.scheme(), tls_param.as_deref()) {
            ("smtps", None) => TlsMode::Implicit,
            ("smtp", None | Some("required")) => TlsMode::StartTls,
            ("smtp", Some("opportunistic")) => TlsMode::Opportunistic,
            ("smtp", Some("none")) => TlsMode::None,
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!(
                    "tls={other} is not one of required, opportunistic, none"
                ));
            }
            (scheme, _) => return Err(format!("the scheme must be smtp or smtps, not {scheme}")),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("the URL names no host")?
            .trim_matches(['[', ']'])
            .to_owned();
        let port = url.port().unwrap_or(match tls {
            TlsMode::Implicit => 465,
            _ => 587,
        });
        let decode = |v: &str| {
            percent_encoding::percent_decode_str(v)
                .decode_utf8_lossy()
                .into_owned()
        };
        let user = (!url.username().is_empty()).then(|| decode(url.username()));
        let password = url.password().map(decode);
        Ok(SmtpSettings {
            host,
            port,
            tls,
            user,
            password,
            timeout: Duration::from_secs(30),
        })
    }

    /// For the start-up line: scheme, host, port and user, never the password.
    pub fn describe(&self) -> String {
        let scheme = match self.tls {
            TlsMode::Implicit => "smtps",
            _ => "smtp",
        };
        let tls = match self.tls {
            TlsMode::Implicit => "TLS",
            TlsMode::StartTls => "STARTTLS required",
            TlsMode::Opportunistic => "STARTTLS when offered",
            TlsMode::None => "no TLS",
        };
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        format!("{scheme}://{user}{}:{} ({tls})", self.host, self.port)
    }
}

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    /// `timeout` bounds the whole exchange (lettre's own timeout covers the connection only),
    /// so an attempt always ends before its claim's lease.
    Smtp {
        client: AsyncSmtpTransport<Tokio1Executor>,
        timeout: Duration,
    },
    /// No SMTP configured: each message is written to `<dir>/<message id>.eml`.
    Folder(PathBuf),
}

impl Transport {
    pub fn smtp(s: &SmtpSettings) -> Result<Transport, String> {
        let params = || TlsParameters::new(s.host.clone()).map_err(|e| e.to_string());
        let tls = match s.tls {
            TlsMode::Implicit => Tls::Wrapper(params()?),
            TlsMode::StartTls => Tls::Required(params()?),
            TlsMode::Opportunistic => Tls::Opportunistic(params()?),
            TlsMode::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port)
            .tls(tls)
            .timeout(Some(s.timeout));
        if let Some(user) = &s.user {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                s.password.clone().unwrap_or_default(),
            ));
        }
        Ok(Transport::Smtp {
            client: builder.build(),
            timeout: s.timeout,
        })
    }

    /// Sends (or writes) one message.
    pub async fn send(&self, message: Message, file_stem: &str) -> Result<(), SendError> {
        match self {
            Transport::Smtp { client, timeout } => {
                match tokio::time::timeout(*timeout, client.send(message)).await {
                    Err(_) => Err(SendError::Transient(format!(
                        "the SMTP exchange took more than {} s",
                        timeout.as_secs()
                    ))),
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => {
                        let text = e.to_string();
                        Err(if e.is_permanent() {
                            SendError::Permanent(text)
                        } else {
                            SendError::Transient(text)
                        })
                    }
                }
            }
            Transport::Folder(dir) => {
                let bytes = message.formatted();
                let dir = dir.clone();
                let path = dir.join(format!("{file_stem}.eml"));
                tokio::task::spawn_blocking(move || {
                    std::fs::create_dir_all(&dir)?;
                    // Written beside, then renamed: a reader never sees half a message.
                    let partial = path.with_extension("eml.partial");
                    std::fs::write(&partial, bytes)?;
                    std::fs::rename(&partial, &path)
                })
                .await
                .map_err(|e| SendError::Transient(e.to_string()))?
                .map_err(|e| SendError::Transient(format!("cannot write the message: {e}")))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_default_to_starttls_and_never_show_the_password() {
        let s = SmtpSettings::parse("smtp://mailer:s%40cret@mail.example.org").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.tls),
            ("mail.example.org", 587, TlsMode::StartTls)
        );
        assert_eq!(s.user.as_deref(), Some("mailer"));
        assert_eq!(s.password.as_deref(), Some("s@cret"));
        assert!(!format!("{s:?}").contains("cret"));
        assert_eq!(
            SmtpSettings::parse("smtps://mail.example.org")
                .unwrap()
                .port,
            465
        );
        let plain = SmtpSettings::parse("smtp://127.0.0.1:2525?tls=none").unwrap();
        assert_eq!((plain.port, plain.tls), (2525, TlsMode::None));
        assert!(SmtpSettings::parse("http://mail.example.org").is_err());
        assert!(SmtpSettings::parse("smtp://mail.example.org?tls=maybe").is_err());
        assert!(SmtpSettings::parse("smtp://").is_err());
    }

    #[test]
    fn every_kind_renders_in_both_languages() {
        for kind in crate::domain::mail::Kind::ALL {
            for locale in ["en", "fr"] {
                let ctx = serde_json::json!({
                    "locale": locale, "base_url": "https://guichet.example",
                    "link": "https://guichet.example/console/referrals/x",
                    "reference": "GU-2026-000042", "title": "A <b>title</b>",
                    "organization": "Helios", "name": "Anna", "institution_name": "Institut Curie",
                    "due_at": "Tuesday", "referrals": [], "status": "accepted",
                    "assigned": true, "escalation": false, "on_desk": false,
                    "body": "Hello", "expires_minutes": 30, "changed_at": "now",
                    "endpoint_url": "https://x.example/hook", "reason": "failing",
                    "inquiry_type": "Licensing",
                });
                let r = render(kind.as_str(), locale, &ctx).unwrap();
                assert!(!r.subject.is_empty(), "{kind:?} {locale}");
                assert!(!r.text.contains("{{") && !r.html.contains("{{"));
                assert!(!r.html.contains("<b>title</b>"), "HTML is escaped");
            }
        }
    }

    #[test]
    fn a_message_has_both_parts_a_message_id_and_one_click_unsubscribe() {
        let rendered = Rendered {
            subject: "Rappel : réponse attendue".into(),
            text: "Bonjour".into(),
            html: "<p>Bonjour</p>".into(),
        };
        let from: Mailbox = "Guichet <guichet@example.org>".parse().unwrap();
        let m = build(&Outgoing {
            from: &from,
            to: "anna@example.com",
            message_id: "0192-abc",
            rendered: &rendered,
            unsubscribe_url: Some("https://g.example/v1/mail/unsubscribe?token=t"),
            language: "fr",
        })
        .unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("Message-ID: <0192-abc@example.org>"));
        assert!(text.contains("List-Unsubscribe: <https://g.example/v1/mail/unsubscribe?token=t>"));
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(text.contains("multipart/alternative"));
        assert!(text.contains("text/plain") && text.contains("text/html"));
        assert!(
            build(&Outgoing {
                to: "not an address",
                ..Outgoing {
                    from: &from,
                    to: "",
                    message_id: "x",
                    rendered: &rendered,
                    unsubscribe_url: None,
                    language: "en",
                }
            })
            .is_err()
        );
    }
}
