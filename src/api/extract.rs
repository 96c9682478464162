//! Request extractors. Each failure is an [`Error`], so it reaches the client as problem+json.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::IntoParams;

use crate::domain::account::Staff;
use crate::domain::catalogue::Msg;
use crate::error::{Error, FieldError};
use crate::service::{self, Guichet};

/// The largest request body accepted: every body the contract allows fits (a 10,000-character
/// message of astral characters written as `\u` escapes is 120 KB), with room to spare.
pub const BODY_LIMIT: usize = 256 * 1024;

/// How long a client may take to send a whole body: a slow body holds a worker's connection
/// and is cut (408).
pub const BODY_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

/// A request body type: deserialized from JSON, then validated into `Output`.
pub trait Input: DeserializeOwned {
    type Output;
    /// Checks every field; returns every wrong one at once.
    fn validate(self) -> Result<Self::Output, Vec<FieldError>>;
}

/// A JSON body, deserialized and validated. Type errors (a wrong enum value, a number for a
/// string, an unknown field) and rule errors (missing, too long...) are reported together, one
/// entry per field, in a 422.
pub struct Valid<T: Input>(pub T::Output);

/// Like [`Valid`], for an optional body: an empty body is `None`; a present one must be right.
pub struct MaybeValid<T: Input>(pub Option<T::Output>);

type LocalFuture<T> = Pin<Box<dyn Future<Output = Result<T, Error>>>>;

impl<T: Input + 'static> FromRequest for Valid<T> {
    type Error = Error;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&req, &mut payload).await?;
            if body.is_empty() {
                return Err(Error::BadRequest {
                    code: "missing_body",
                    detail: "This operation needs a JSON body.".into(),
                });
            }
            check_json_content_type(&req)?;
            parse_and_validate::<T>(&body).map(Valid)
        })
    }
}

impl<T: Input + 'static> FromRequest for MaybeValid<T> {
    type Error = Error;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let body = read_body(&req, &mut payload).await?;
            // No body at all is the default; anything else (white space included) must be JSON.
            if body.is_empty() {
                return Ok(MaybeValid(None));
            }
            check_json_content_type(&req)?;
            parse_and_validate::<T>(&body).map(|v| MaybeValid(Some(v)))
        })
    }
}

fn check_json_content_type(req: &HttpRequest) -> Result<(), Error> {
    let ok = req.mime_type().ok().flatten().is_some_and(|m| {
        m.type_() == "application"
            && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"))
    });
    if ok {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType)
    }
}

async fn read_body(req: &HttpRequest, payload: &mut Payload) -> Result<Vec<u8>, Error> {
    let too_large = Error::PayloadTooLarge { limit: BODY_LIMIT };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > BODY_LIMIT) {
        return Err(too_large);
    }
    let read = async {
        let mut body = Vec::with_capacity(declared.unwrap_or(0));
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|e| Error::BadRequest {
                code: "unreadable_body",
                detail: Msg::UnreadableBody {
                    error: e.to_string(),
                }
                .into(),
            })?;
            if body.len() + chunk.len() > BODY_LIMIT {
                return Err(too_large);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    tokio::time::timeout(BODY_DEADLINE, read)
        .await
        .unwrap_or(Err(Error::RequestTimeout {
            seconds: BODY_DEADLINE.as_secs(),
        }))
}

/// Parses, deserializes (collecting every type error) and validates a body.
pub fn parse_and_validate<T: Input>(body: &[u8]) -> Result<T::Output, Error> {
    // One pass: serde_json would keep the last of two equal keys; a client sending both meant
    // something else, so the value is built by a visitor that refuses them.
    let value = match serde_json::from_slice::<NoDuplicateKeys>(body) {
        Ok(NoDuplicateKeys(value)) => value,
        Err(e) if e.is_data() => {
            return Err(Error::BadRequest {
                code: "duplicate_key",
                detail: Msg::DuplicateKey {
                    error: e.to_string(),
                }
                .into(),
            });
        }
        Err(e) => {
            return Err(Error::BadRequest {
                code: "malformed_json",
                detail: Msg::MalformedJson {
                    error: e.to_string(),
                }
                .into(),
            });
        }
    };
    if !value.is_object() {
        return Err(Error::validation_one(
            "",
            "invalid_type",
            Msg::FieldNotObject,
        ));
    }
    let (parsed, mut errors) = deserialize_collecting::<T>(value);
    match parsed {
        Some(input) => match input.validate() {
            Ok(output) if errors.is_empty() => Ok(output),
            Ok(_) => Err(Error::Validation(errors)),
            Err(rule_errors) => {
                // A field already reported as the wrong type is not reported again as missing.
                for e in rule_errors {
                    if !errors.iter().any(|t| covers(&t.pointer, &e.pointer)) {
                        errors.push(e);
                    }
                }
                Err(Error::Validation(errors))
            }
        },
        None => Err(Error::Validation(errors)),
    }
}

/// A JSON value read like `serde_json::Value`, but refusing an object that has a key twice
/// (the only data error it raises: every other failure is a syntax error).
struct NoDuplicateKeys(Value);

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(NoDuplicateKeys)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(NoDuplicateKeys(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        use serde::de::Error as _;
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let NoDuplicateKeys(value) = map.next_value()?;
            if object.contains_key(&key) {
                return Err(A::Error::custom(format!(
                    "`{}` appears more than once in an object",
                    key.chars().take(64).collect::<String>()
                )));
            }
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn covers(reported: &str, pointer: &str) -> bool {
    pointer == reported || pointer.starts_with(&format!("{reported}/"))
}

/// Deserializes `value` into `T`; on each failure records the field and removes it, then tries
/// again, so that every wrong field is reported in one response.
fn deserialize_collecting<T: DeserializeOwned>(mut value: Value) -> (Option<T>, Vec<FieldError>) {
    let mut errors = Vec::new();
    let mut removed_items: std::collections::HashMap<String, Vec<usize>> = Default::default();
    for _ in 0..64 {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(parsed) => return (Some(parsed), errors),
            Err(err) => err,
        };
        let mut segments: Vec<String> = err
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect();
        let message = err.inner().to_string();
        let code = if message.starts_with("unknown field") {
            // The path stops at the object; the field is named in the message.
            if let Some(name) = message.split('`').nth(1)
                && segments.last().map(String::as_str) != Some(name)
            {
                segments.push(name.to_owned());
            }
            "unknown_field"
        } else if message.starts_with("unknown variant") {
            "invalid_enum"
        } else if message.starts_with("invalid type") {
            "invalid_type"
        } else if message.starts_with("missing field") {
            if let Some(name) = message.split('`').nth(1) {
                segments.push(name.to_owned());
            }
            "required"
        } else {
            "invalid_value"
        };
        // Items already removed from the same array shift the later indexes: report the index
        // the client sent.
        let mut reported = segments.clone();
        if let Some((last, parents)) = segments.split_last()
            && let Ok(mut index) = last.parse::<usize>()
        {
            let shifted = removed_items.entry(pointer_of(parents)).or_default();
            for r in shifted.iter() {
                if *r <= index {
                    index += 1;
                }
            }
            if let Some(slot) = reported.last_mut() {
                *slot = index.to_string();
            }
            shifted.push(index);
            shifted.sort_unstable();
        }
        let pointer = pointer_of(&reported);
        let removed = !segments.is_empty() && remove_at(&mut value, &segments);
        errors.push(FieldError::new(pointer, code, message));
        if !removed {
            return (None, errors);
        }
    }
    (None, errors)
}

fn pointer_of(segments: &[String]) -> String {
    segments
        .iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// Removes the node at `segments`: a key of an object, or an item of an array.
fn remove_at(value: &mut Value, segments: &[String]) -> bool {
    let Some((last, parents)) = segments.split_last() else {
        return false;
    };
    let mut node = value;
    for s in parents {
        node = match node {
            Value::Object(map) => match map.get_mut(s) {
                Some(v) => v,
                None => return false,
            },
            Value::Array(items) => match s.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match node {
        Value::Object(map) => map.remove(last).is_some(),
        Value::Array(items) => match last.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items.remove(i);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// The caller of a staff endpoint, from `Authorization: Bearer <access token>`.
impl FromRequest for Staff {
    type Error = Error;
    type Future = LocalFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let g = req.app_data::<web::Data<Guichet>>().cloned();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme
                    .eq_ignore_ascii_case("bearer")
                    .then(|| token.trim().to_owned())
            });
        Box::pin(async move {
            let g = g.ok_or_else(|| Error::internal("application state missing"))?;
            let token = token
                .filter(|t| !t.is_empty())
                .ok_or_else(Error::invalid_token)?;
            service::auth::authenticate(&g, &token).await
        })
    }
}

/// The client's address, for per-address throttles: the peer address, or the first
/// `X-Forwarded-For` hop when Guichet is configured to trust its proxy.
#[derive(Debug, Clone)]
pub struct ClientAddr(pub service::Client);

/// Whether to read the client address from `X-Forwarded-For` (behind a trusted proxy only).
#[derive(Debug, Clone, Copy)]
pub struct TrustForwardedFor(pub bool);

impl FromRequest for ClientAddr {
    type Error = Error;
    type Future = std::future::Ready<Result<Self, Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let trust = req
            .app_data::<web::Data<TrustForwardedFor>>()
            .is_some_and(|t| t.0);
        let addr = if trust {
            req.connection_info()
                .realip_remote_addr()
                .map(str::to_owned)
        } else {
            req.peer_addr().map(|a| a.ip().to_string())
        };
        let client = service::Client::new(addr.unwrap_or_else(|| "unknown".into()));
        // The middleware reads the quotas the operation used, to show them in headers.
        req.extensions_mut().insert(client.quotas.clone());
        std::future::ready(Ok(ClientAddr(client)))
    }
}

/// A query timestamp: RFC 3339 with a four-digit year (0000 to 9999), which both databases
/// store; chrono alone would also take `-9999-01-01T00:00:00Z`, which PostgreSQL refuses.
pub fn rfc3339<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, D::Error> {
    use serde::de::Error as _;
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(None);
    };
    let b = text.as_bytes();
    let four_digit_year = b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-';
    four_digit_year
        .then(|| chrono::DateTime::parse_from_rfc3339(&text).ok())
        .flatten()
        .map(|t| Some(t.with_timezone(&chrono::Utc)))
        .ok_or_else(|| {
            D::Error::custom(format!(
                "`{}` is not an RFC 3339 time with a year from 0000 to 9999, such as 2026-01-31T00:00:00Z",
                text.chars().take(40).collect::<String>()
            ))
        })
}

/// `limit` and `cursor` of every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// How many items to return, 1 to 100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page; absent for the first page.
    #[param(min_length = 1)]
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The validated limit and the id the page starts after.
    pub fn resolve(&self) -> Result<(i64, Option<String>), Error> {
        Ok((
            page_limit(self.limit)?,
            uuid_cursor(self.cursor.as_deref())?,
        ))
    }
}

/// A 400 with its stable code.
pub fn bad_request(code: &'static str, detail: &str) -> Error {
    Error::BadRequest {
        code,
        detail: detail.into(),
    }
}

/// A list cursor that carries a UUID (the last id of the previous page): `None` when absent,
/// 400 `invalid_cursor` when it is not one of ours.
pub fn uuid_cursor(cursor: Option<&str>) -> Result<Option<String>, Error> {
    let Some(c) = cursor else {
        return Ok(None);
    };
    let id = decode_cursor(c)?;
    uuid::Uuid::parse_str(&id).map_err(|_| invalid_cursor())?;
    Ok(Some(id))
}

/// A query parameter of comma-separated values of a closed vocabulary (`status=new,in_review`):
/// empty parts are ignored; an unknown value, or no value at all, is the 400 `code` with
/// `detail`.
pub fn comma_separated<T: std::str::FromStr>(
    raw: &str,
    code: &'static str,
    detail: &str,
) -> Result<Vec<T>, Error> {
    let bad = || bad_request(code, detail);
    let values = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<T>().map_err(|_| bad()))
        .collect::<Result<Vec<T>, Error>>()?;
    if values.is_empty() {
        return Err(bad());
    }
    Ok(values)
}

/// The free-text search `q` of the queue and the desk: at most 200 characters (400
/// `invalid_query`); blank means no search.
pub fn search_text(q: Option<&str>) -> Result<Option<String>, Error> {
    match q {
        Some(q) if q.chars().count() > 200 => Err(bad_request(
            "invalid_query",
            "`q` is at most 200 characters.",
        )),
        Some(q) if !q.trim().is_empty() => Ok(Some(q.to_owned())),
        _ => Ok(None),
    }
}

/// The `reference` filter: a reference such as `GU-2026-000042`, in any case (400
/// `invalid_query` otherwise), as stored (upper case).
pub fn reference_filter(reference: Option<&str>) -> Result<Option<String>, Error> {
    let Some(raw) = reference else {
        return Ok(None);
    };
    let upper = raw.to_ascii_uppercase();
    let well_formed = upper.strip_prefix("GU-").is_some_and(|rest| {
        let (year, number) = rest.split_once('-').unwrap_or(("", ""));
        year.len() == 4
            && (6..=10).contains(&number.len())
            && year
                .bytes()
                .chain(number.bytes())
                .all(|b| b.is_ascii_digit())
    });
    if well_formed {
        Ok(Some(upper))
    } else {
        Err(bad_request(
            "invalid_query",
            "`reference` is an inquiry reference such as GU-2026-000042.",
        ))
    }
}

/// The pattern of [`reference_filter`], for the contract.
pub const REFERENCE_PATTERN: &str = "^[Gg][Uu]-[0-9]{4}-[0-9]{6,10}$";

pub fn encode_cursor(after: &str) -> String {
    URL_SAFE_NO_PAD.encode(after.as_bytes())
}

/// The text a cursor of [`encode_cursor`] carries; the list checks it is one of its keys.
pub fn decode_cursor(cursor: &str) -> Result<String, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid_cursor())?;
    String::from_utf8(bytes).map_err(|_| invalid_cursor())
}

pub fn invalid_cursor() -> Error {
    Error::BadRequest {
        code: "invalid_cursor",
        detail: "`cursor` is not a cursor returned by this list.".into(),
    }
}

/// The `limit` of every list: 1 to 100, 20 by default.
pub fn page_limit(limit: Option<i64>) -> Result<i64, Error> {
    let limit = limit.unwrap_or(20);
    if (1..=100).contains(&limit) {
        Ok(limit)
    } else {
        Err(Error::BadRequest {
            code: "invalid_limit",
            detail: "`limit` must be between 1 and 100.".into(),
        })
    }
}

/// The `If-Match` header: `*`, or a version (`"3"` or `3`). If-Match compares strongly
/// (RFC 9110 §13.1.1), so a weak tag (`W/"3"`) or an unreadable value matches nothing (412).
pub fn if_match(req: &HttpRequest) -> Option<service::IfMatch> {
    req.headers().get(header::IF_MATCH).map(|v| {
        let text = v.to_str().unwrap_or_default().trim();
        if text == "*" {
            return service::IfMatch::Any;
        }
        if text.starts_with("W/") {
            return service::IfMatch::Version(-1);
        }
        service::IfMatch::Version(text.trim_matches('"').parse::<i64>().unwrap_or(-1))
    })
}

/// Extractor configuration so that bad paths and queries are problem+json too.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        Error::BadRequest {
            code: "invalid_query",
            detail: Msg::InvalidQuery {
                error: err.to_string(),
            }
            .into(),
        }
        .into()
    })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err, _req| {
        Error::NotFound {
            resource: "resource",
        }
        .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Probe {
        name: Option<String>,
        kind: Option<crate::domain::taxonomy::InquiryType>,
        #[serde(default)]
        #[allow(dead_code)]
        areas: Vec<crate::domain::taxonomy::TherapeuticArea>,
    }

    impl Input for Probe {
        type Output = (String, crate::domain::taxonomy::InquiryType);
        fn validate(self) -> Result<Self::Output, Vec<FieldError>> {
            let mut c = crate::domain::validation::Checks::new();
            let name = c.text("/name", self.name, 1, 5);
            let kind = self.kind;
            if kind.is_none() {
                c.push("/kind", "required", "is required");
            }
            c.finish()?;
            Ok((
                name,
                kind.unwrap_or(crate::domain::taxonomy::InquiryType::Other),
            ))
        }
    }

    fn errors_of(body: &str) -> Vec<(String, String)> {
        match parse_and_validate::<Probe>(body.as_bytes()) {
            Err(Error::Validation(errors)) => {
                errors.into_iter().map(|e| (e.pointer, e.code)).collect()
            }
            Err(other) => vec![("".into(), other.to_string())],
            Ok(_) => vec![],
        }
    }

    #[test]
    fn every_wrong_field_is_reported_once_with_its_pointer() {
        let got = errors_of(
            r#"{"name": 5, "kind": "loan", "areas": ["lungs", "breast", "livers"], "extra": 1}"#,
        );
        let mut got: Vec<_> = got.iter().map(|(p, c)| (p.as_str(), c.as_str())).collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("/areas/0", "invalid_enum"),
                ("/areas/2", "invalid_enum"),
                ("/extra", "unknown_field"),
                ("/kind", "invalid_enum"),
                ("/name", "invalid_type"),
            ]
        );
    }

    #[test]
    fn missing_and_too_long_fields_are_reported_together() {
        let got = errors_of(r#"{"name": "far too long"}"#);
        assert_eq!(
            got,
            vec![
                ("/name".into(), "too_long".into()),
                ("/kind".into(), "required".into())
            ]
        );
    }

    #[actix_web::test]
    async fn a_body_that_never_ends_is_cut_at_the_deadline() {
        tokio::time::pause();
        let (_sender, stream) = actix_http::h1::Payload::create(false);
        let mut payload = Payload::from(stream);
        let req = actix_web::test::TestRequest::post().to_http_request();
        let started = tokio::time::Instant::now();
        let outcome = read_body(&req, &mut payload).await;
        assert!(matches!(
            outcome,
            Err(Error::RequestTimeout { seconds: 10 })
        ));
        assert_eq!(started.elapsed().as_secs(), 10);
    }

    #[test]
    fn a_key_given_twice_at_any_depth_is_a_bad_request() {
        for body in [
            r#"{"name": "a", "name": "b"}"#,
            r#"{"name": "a", "areas": [{"x": 1, "x": 2}]}"#,
        ] {
            assert!(
                matches!(
                    parse_and_validate::<Probe>(body.as_bytes()),
                    Err(Error::BadRequest {
                        code: "duplicate_key",
                        ..
                    })
                ),
                "{body}"
            );
        }
        assert!(!matches!(
            parse_and_validate::<Probe>(br#"{"name": "a", "kind": "licensing"}"#),
            Err(Error::BadRequest { .. })
        ));
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        assert!(matches!(
            parse_and_validate::<Probe>(b"{\"name\": "),
            Err(Error::BadRequest {
                code: "malformed_json",
                ..
            })
        ));
    }

    #[test]
    fn a_body_of_the_wrong_shape_is_one_error_at_the_root() {
        assert_eq!(
            errors_of("[1, 2]"),
            vec![("".into(), "invalid_type".into())]
        );
    }

    #[test]
    fn references_are_read_in_any_case_and_anything_else_is_refused() {
        assert_eq!(
            reference_filter(Some("gu-2026-000042")).ok(),
            Some(Some("GU-2026-000042".to_owned()))
        );
        assert_eq!(reference_filter(None).ok(), Some(None));
        for bad in [
            "",
            "GU-2026-42",
            "GU-26-000042",
            "XX-2026-000042",
            "GU-2026-00004a",
            "GU-2026-000042-",
        ] {
            assert!(reference_filter(Some(bad)).is_err(), "{bad:?}");
        }
        assert_eq!(search_text(Some("  ")).ok(), Some(None));
        assert!(search_text(Some(&"é".repeat(201))).is_err());
        assert_eq!(
            search_text(Some(&"é".repeat(200)))
                .ok()
                .flatten()
                .map(|q| q.chars().count()),
            Some(200)
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let id = uuid::Uuid::now_v7().to_string();
        let q = PageQuery {
            limit: Some(5),
            cursor: Some(encode_cursor(&id)),
        };
        assert_eq!(q.resolve().ok(), Some((5, Some(id))));
        let q = PageQuery {
            limit: None,
            cursor: Some("nope".into()),
        };
        assert!(q.resolve().is_err());
        let q = PageQuery {
            limit: Some(101),
            cursor: None,
        };
        assert!(q.resolve().is_err());
    }
}
