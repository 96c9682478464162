//! The console's templates (in `templates/console/`, compiled into the binary) and what they
//! may call: `t("key")` for a sentence of `messages.json` in the page's language,
//! `label(kind, value)` for a vocabulary word of the catalogue, and the `when` filter for
//! timestamps.

use std::collections::HashMap;
use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use minijinja::value::Value;
use minijinja::{Environment, State};
use serde_json::json;

use crate::console::session::Console;
use crate::domain::taxonomy::{
    ActorKind, AuditAction, DeclineReason, InquiryType, Locale, Modality, ReferralStatus, Role,
    Stage, TherapeuticArea,
};
use crate::error::Error;

macro_rules! templates {
    ($($name:literal),+ $(,)?) => {
        &[$(($name, include_str!(concat!("../../templates/console/", $name)))),+]
    };
}

/// Every template of the console, by name.
pub const TEMPLATES: &[(&str, &str)] = templates!(
    "layout.html",
    "macros.html",
    "error.html",
    "sign_in.html",
    "password_reset.html",
    "queue.html",
    "referral.html",
    "webhooks.html",
    "webhook.html",
    "desk.html",
);

const MESSAGES: &str = include_str!("../../templates/console/messages.json");

type Messages = HashMap<String, HashMap<String, String>>;

fn messages() -> &'static Messages {
    static M: OnceLock<Messages> = OnceLock::new();
    M.get_or_init(|| serde_json::from_str(MESSAGES).unwrap_or_default())
}

fn locale_of(state: &State) -> Locale {
    match state.lookup("locale").as_ref().and_then(|v| v.as_str()) {
        Some("fr") => Locale::Fr,
        _ => Locale::En,
    }
}

/// A sentence of `messages.json` in the page's language (the key itself when it is missing,
/// which the unit test below forbids).
fn t(state: &State, key: &str) -> String {
    let lang = locale_of(state).as_str();
    messages()
        .get(key)
        .and_then(|m| m.get(lang))
        .cloned()
        .unwrap_or_else(|| key.to_owned())
}

fn parse<T: serde::de::DeserializeOwned>(value: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(value.to_owned())).ok()
}

/// The catalogue's word for a value of a vocabulary, in the page's language; the value itself
/// when it is not one.
fn label(state: &State, kind: &str, value: Option<&str>) -> String {
    let locale = locale_of(state);
    let Some(value) = value else {
        return String::new();
    };
    let word = match kind {
        "status" => parse::<ReferralStatus>(value).map(|v| v.label_in(locale)),
        "role" => parse::<Role>(value).map(|v| v.label_in(locale)),
        "inquiry_type" => parse::<InquiryType>(value).map(|v| v.label_in(locale)),
        "therapeutic_area" => parse::<TherapeuticArea>(value).map(|v| v.label_in(locale)),
        "modality" => parse::<Modality>(value).map(|v| v.label_in(locale)),
        "decline_reason" => parse::<DeclineReason>(value).map(|v| v.label_in(locale)),
        "stage" => parse::<Stage>(value).map(|v| v.label_in(locale)),
        "actor_kind" => parse::<ActorKind>(value).map(|v| v.label_in(locale)),
        "action" => parse::<AuditAction>(value).map(|v| v.label_in(locale)),
        _ => None,
    };
    word.map_or_else(|| value.to_owned(), str::to_owned)
}

/// `2026-12-03T10:15:00Z` → `2026-12-03 10:15 UTC`.
fn when(value: Option<&str>) -> String {
    let Some(v) = value else {
        return String::new();
    };
    match chrono::DateTime::parse_from_rfc3339(v) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M UTC")
            .to_string(),
        Err(_) => v.to_owned(),
    }
}

fn environment() -> Result<&'static Environment<'static>, String> {
    static ENV: OnceLock<Result<Environment<'static>, String>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
        for (name, source) in TEMPLATES {
            env.add_template(name, source)
                .map_err(|e| format!("template {name}: {e}"))?;
        }
        env.add_function("t", t);
        env.add_function("label", label);
        env.add_filter("when", when);
        Ok(env)
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Renders `name` with `context` and the frame's values: `locale`, `csrf`, `me` (the signed-in
/// account, if any) and `path`.
pub fn render(name: &str, context: serde_json::Value) -> Result<String, Error> {
    let env = environment().map_err(Error::internal)?;
    let template = env.get_template(name).map_err(Error::internal)?;
    template
        .render(Value::from_serialize(&context))
        .map_err(|e| Error::internal(format!("template {name}: {e:#}")))
}

/// The frame's values of a signed-in page, merged under `page`'s own.
pub fn signed_in_context(console: &Console, page: serde_json::Value) -> serde_json::Value {
    let mut context = json!({
        "locale": console.locale.as_str(),
        "csrf": console.csrf,
        "me": {
            "email": console.staff.email,
            "role": console.staff.role,
            "institution_id": console.staff.institution_id,
            "operator": console.staff.institution_id.is_none(),
            "admin": matches!(console.staff.role, Role::Operator | Role::InstitutionAdmin),
        },
    });
    if let (Some(c), serde_json::Value::Object(p)) = (context.as_object_mut(), page) {
        c.extend(p);
    }
    context
}

/// A signed-in page, 200.
pub fn page(console: &Console, name: &str, page: serde_json::Value) -> Result<HttpResponse, Error> {
    page_with(StatusCode::OK, console, name, page)
}

/// A signed-in page with another status (a stale form is answered 409 with the new state).
pub fn page_with(
    status: StatusCode,
    console: &Console,
    name: &str,
    page: serde_json::Value,
) -> Result<HttpResponse, Error> {
    Ok(html(
        status,
        render(name, signed_in_context(console, page))?,
    ))
}

pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// After a form that changed something: back to a page with GET (303), so that reloading does
/// not send the form again.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_template_compiles() {
        environment().unwrap();
    }

    #[test]
    fn every_sentence_the_templates_ask_for_exists_in_both_languages() {
        let m = messages();
        assert!(m.len() > 40, "messages.json did not load: {}", m.len());
        for (key, langs) in m {
            for lang in ["en", "fr"] {
                assert!(
                    langs.get(lang).is_some_and(|s| !s.trim().is_empty()),
                    "{key} has no {lang} text"
                );
            }
        }
        let mut missing = Vec::new();
        for (name, source) in TEMPLATES {
            for quote in ['"', '\''] {
                for (at, _) in source.match_indices(&format!("t({quote}")) {
                    let rest = &source[at + 3..];
                    let key: String = rest.chars().take_while(|c| *c != quote).collect();
                    if !m.contains_key(&key) {
                        missing.push(format!("{name}: {key}"));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from messages.json: {missing:?}"
        );
    }

    #[test]
    fn timestamps_read_as_utc_minutes_and_other_text_is_kept() {
        assert_eq!(when(Some("2026-12-03T10:15:42Z")), "2026-12-03 10:15 UTC");
        assert_eq!(
            when(Some("2026-12-03T11:15:42+01:00")),
            "2026-12-03 10:15 UTC"
        );
        assert_eq!(when(Some("soon")), "soon");
        assert_eq!(when(None), "");
    }

    #[test]
    fn labels_follow_the_page_language() {
        let env = environment().unwrap();
        let out = env
            .render_str(
                "{{ label('status', 'declined') }}|{{ label('status', 'nope') }}",
                json!({"locale": "fr"}),
            )
            .unwrap();
        assert_eq!(
            out,
            format!("{}|nope", ReferralStatus::Declined.label_in(Locale::Fr))
        );
    }
}
