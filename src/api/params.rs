//! Request bodies. Required fields are `Option` in Rust so that a missing one is reported with
//! every other wrong field (see `extract::Valid`); the contract still marks them required.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::extract::Input;
use crate::domain::account::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::domain::catalogue::Msg;
use crate::domain::routing::Expertise;
use crate::domain::taxonomy::{EventType, Role};
use crate::domain::validation::Checks;
use crate::error::FieldError;
use crate::service::institutions::{ContactChange, ContactNew, InstitutionChange, InstitutionNew};
use crate::service::users::{UserChange, UserNew};
use crate::service::webhooks::{EndpointChange, EndpointNew};

pub const NAME_MAX: usize = 200;
pub const TITLE_MAX: usize = 200;

/// Credentials of an institution account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "triage@curie.fr", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    #[schema(required = true, value_type = String, format = "email", min_length = 1, max_length = 254)]
    pub email: Option<String>,
    /// Up to 256 characters.
    #[schema(required = true, value_type = String, format = Password, max_length = 256)]
    pub password: Option<String>,
}

impl Input for LoginRequest {
    type Output = (String, String);
    fn validate(self) -> Result<Self::Output, Vec<FieldError>> {
        let mut c = Checks::new();
        let email = c.text("/email", self.email, 1, 254);
        let password = c.required("/password", self.password);
        if password.chars().count() > PASSWORD_MAX_CHARS {
            c.push(
                "/password",
                "too_long",
                Msg::FieldTooLong {
                    max: PASSWORD_MAX_CHARS,
                },
            );
        }
        c.finish()?;
        Ok((email, password))
    }
}

/// A refresh token to exchange.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "Zk9kV2l0aFJhbmRvbUJ5dGVzQmFzZTY0VXJsRW5jb2RlZA"}))]
pub struct RefreshRequest {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 512)]
    pub refresh_token: Option<String>,
}

impl Input for RefreshRequest {
    type Output = String;
    fn validate(self) -> Result<String, Vec<FieldError>> {
        let mut c = Checks::new();
        let token = c.text("/refresh_token", self.refresh_token, 1, 512);
        c.finish()?;
        Ok(token)
    }
}

/// Optionally, the refresh token of the session to end as well.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"refresh_token": "Zk9kV2l0aFJhbmRvbUJ5dGVzQmFzZTY0VXJsRW5jb2RlZA"}))]
pub struct LogoutRequest {
    #[schema(nullable = false, min_length = 1, max_length = 512)]
    #[serde(default, deserialize_with = "present")]
    pub refresh_token: Option<String>,
}

impl Input for LogoutRequest {
    type Output = Option<String>;
    fn validate(self) -> Result<Option<String>, Vec<FieldError>> {
        let mut c = Checks::new();
        let token = c.optional_text("/refresh_token", self.refresh_token, 1, 512);
        c.finish()?;
        Ok(token)
    }
}

/// For fields that may be left out but not sent as `null` (a `null` would look like "clear
/// it", which these fields do not do): absent is `None`, `null` is a type error.
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// For nested objects: serde's derived structs also take a JSON array (fields by position);
/// the contract says object, so only a map is read (through the same `MapAccess`, so error
/// pointers keep their depth). Absent is `None`; `null` or an array is a type error.
fn object_only<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct MapOnly<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for MapOnly<T> {
        type Value = T;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(MapOnly(std::marker::PhantomData))
        .map(Some)
}

fn check_password(c: &mut Checks, pointer: &str, password: Option<String>) -> String {
    let Some(password) = password else {
        c.push(pointer, "required", Msg::FieldRequired);
        return String::new();
    };
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        c.push(
            pointer,
            "too_short",
            Msg::FieldTooShort {
                min: PASSWORD_MIN_CHARS,
            },
        );
    } else if chars > PASSWORD_MAX_CHARS {
        c.push(
            pointer,
            "too_long",
            Msg::FieldTooLong {
                max: PASSWORD_MAX_CHARS,
            },
        );
    }
    password
}

/// Checks a password chosen on the command line, with the same rules as the API.
pub fn password_problems(password: &str) -> Vec<FieldError> {
    let mut c = Checks::new();
    check_password(&mut c, "/password", Some(password.to_owned()));
    c.finish().err().unwrap_or_default()
}

/// A new contact of the institution.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "name": "Dr Claire Martin",
    "title": "Head of industrial partnerships, breast cancer",
    "email": "claire.martin@curie.fr",
    "expertise": {"inquiry_types": ["licensing", "clinical_trial"], "therapeutic_areas": ["breast"], "modalities": ["radiotherapy"]}
}))]
pub struct ContactCreate {
    /// 1 to 200 characters.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Up to 200 characters.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub title: Option<String>,
    #[schema(required = true, value_type = String, format = "email", min_length = 1, max_length = 254)]
    pub email: Option<String>,
    /// Taxonomy values the contact handles best; used to pick the contact of a referral.
    #[serde(default, deserialize_with = "object_only")]
    #[schema(nullable = false)]
    pub expertise: Option<Expertise>,
}

fn check_expertise(c: &mut Checks, e: &Expertise) {
    c.list("/expertise/inquiry_types", &e.inquiry_types, 0, 8);
    c.list("/expertise/therapeutic_areas", &e.therapeutic_areas, 0, 16);
    c.list("/expertise/modalities", &e.modalities, 0, 14);
}

impl Input for ContactCreate {
    type Output = ContactNew;
    fn validate(self) -> Result<ContactNew, Vec<FieldError>> {
        let mut c = Checks::new();
        let name = c.text("/name", self.name, 1, NAME_MAX);
        let title = c
            .optional_text("/title", self.title, 0, TITLE_MAX)
            .unwrap_or_default();
        let email = c.email("/email", self.email);
        let expertise = self.expertise.unwrap_or_default();
        check_expertise(&mut c, &expertise);
        c.finish()?;
        Ok(ContactNew {
            name,
            title,
            email,
            expertise,
        })
    }
}

/// Fields to change; absent fields stay as they are. Set `active: false` to deactivate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"title": "Director of partnerships", "active": false}))]
pub struct ContactUpdate {
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[schema(nullable = false, max_length = 200)]
    #[serde(default, deserialize_with = "present")]
    pub title: Option<String>,
    #[schema(nullable = false, format = "email", min_length = 1, max_length = 254)]
    #[serde(default, deserialize_with = "present")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "object_only")]
    #[schema(nullable = false)]
    pub expertise: Option<Expertise>,
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

impl Input for ContactUpdate {
    type Output = ContactChange;
    fn validate(self) -> Result<ContactChange, Vec<FieldError>> {
        let mut c = Checks::new();
        let change = ContactChange {
            name: c.optional_text("/name", self.name, 1, NAME_MAX),
            title: c.optional_text("/title", self.title, 0, TITLE_MAX),
            email: self.email.map(|e| c.email("/email", Some(e))),
            expertise: self.expertise,
            active: self.active,
        };
        if let Some(e) = &change.expertise {
            check_expertise(&mut c, e);
        }
        c.finish()?;
        Ok(change)
    }
}

/// Institution descriptions: up to 2,000 characters.
pub const DESCRIPTION_MAX: usize = 2_000;
/// Web site addresses: up to 300 characters.
pub const WEBSITE_MAX: usize = 300;
/// Service targets, in business days.
pub const FIRST_RESPONSE_DAYS: std::ops::RangeInclusive<i32> = 1..=30;
pub const DECISION_DAYS: std::ops::RangeInclusive<i32> = 1..=60;

/// An `http(s)` address with a host.
fn check_website(c: &mut Checks, pointer: &str, value: Option<String>) -> Option<String> {
    let value = c.optional_text(pointer, value, 1, WEBSITE_MAX)?;
    match url::Url::parse(&value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Some(value),
        _ => {
            c.push(pointer, "invalid_url", Msg::FieldUrl);
            None
        }
    }
}

/// A whole number of days as JSON Schema's `integer` means it: `5` and `5.0` alike; `null`, a
/// fraction or a string is a type error.
fn whole_days<'de, D>(d: D) -> Result<Option<i32>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error as _;
    let n = serde_json::Number::deserialize(d)?;
    let whole = match (n.as_i64(), n.as_f64()) {
        (Some(i), _) => Some(i),
        (None, Some(f)) if f.fract() == 0.0 && f.abs() <= 1e15 => Some(f as i64),
        _ => None,
    };
    whole
        .map(|i| i32::try_from(i).unwrap_or(if i < 0 { i32::MIN } else { i32::MAX }))
        .map(Some)
        .ok_or_else(|| D::Error::custom(format!("invalid type: `{n}`, expected a whole number")))
}

/// An id in a body: only its length is checked here (1 to 64 characters, as the contract
/// says); whether it names anything is the service's question.
fn id_field(c: &mut Checks, pointer: &str, value: String) -> Option<String> {
    let n = value.chars().count();
    if (1..=64).contains(&n) {
        Some(value)
    } else {
        c.push(
            pointer,
            if n == 0 { "too_short" } else { "too_long" },
            "must be 1 to 64 characters",
        );
        None
    }
}

fn check_days(
    c: &mut Checks,
    pointer: &str,
    value: Option<i32>,
    range: std::ops::RangeInclusive<i32>,
) -> Option<i32> {
    let v = value?;
    if range.contains(&v) {
        Some(v)
    } else {
        c.push(
            pointer,
            "out_of_range",
            Msg::FieldBetween {
                min: i64::from(*range.start()),
                max: i64::from(*range.end()),
            },
        );
        None
    }
}

/// A new institution of the network (operators).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "id": "hegp-oncology",
    "name": "Hôpital européen Georges-Pompidou, oncology",
    "description": "Thoracic and digestive oncology, with an early-phase trials unit.",
    "website": "https://www.aphp.fr/hegp",
    "first_response_business_days": 3,
    "decision_business_days": 15,
    "routing_profile": {"accepted_inquiry_types": ["clinical_trial", "sponsored_research"], "therapeutic_area_weights": {"lung": 90, "colorectal": 70}, "modality_weights": {"small_molecule": 60}, "threshold": 50}
}))]
pub struct InstitutionCreate {
    /// The slug, immutable once created: 2 to 40 lower-case letters, digits and inner dashes.
    #[schema(required = true, value_type = String, min_length = 2, max_length = 40, pattern = "^[a-z0-9][a-z0-9-]*[a-z0-9]$")]
    pub id: Option<String>,
    /// 1 to 200 characters.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Up to 2,000 characters.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// An absolute `http(s)` address, up to 300 characters.
    #[schema(required = true, value_type = String, format = "uri", min_length = 1, max_length = 300, pattern = "^https?://[^/?#\\s]+")]
    pub website: Option<String>,
    /// First-response target, 1 to 30 business days (default 5).
    #[serde(default, deserialize_with = "whole_days")]
    #[schema(value_type = i32, minimum = 1, maximum = 30)]
    pub first_response_business_days: Option<i32>,
    /// Decision target, 1 to 60 business days (default 20).
    #[serde(default, deserialize_with = "whole_days")]
    #[schema(value_type = i32, minimum = 1, maximum = 60)]
    pub decision_business_days: Option<i32>,
    /// Where inquiries should reach it (the same document as `PUT .../routing-profile`).
    #[schema(required = true, value_type = crate::domain::routing::RoutingProfile)]
    pub routing_profile: Option<crate::domain::routing::RoutingProfile>,
}

fn check_slug(c: &mut Checks, pointer: &str, value: Option<String>) -> String {
    let Some(v) = value else {
        c.push(pointer, "required", Msg::FieldRequired);
        return String::new();
    };
    if !crate::domain::institution::is_slug(&v) {
        c.push(pointer, "invalid_slug", Msg::FieldSlug);
    }
    v
}

impl Input for InstitutionCreate {
    type Output = InstitutionNew;
    fn validate(self) -> Result<InstitutionNew, Vec<FieldError>> {
        let mut c = Checks::new();
        let id = check_slug(&mut c, "/id", self.id);
        let name = c.text("/name", self.name, 1, NAME_MAX);
        let description = c
            .optional_text("/description", self.description, 0, DESCRIPTION_MAX)
            .unwrap_or_default();
        if self.website.is_none() {
            c.push("/website", "required", Msg::FieldRequired);
        }
        let website = check_website(&mut c, "/website", self.website).unwrap_or_default();
        let first = check_days(
            &mut c,
            "/first_response_business_days",
            self.first_response_business_days,
            FIRST_RESPONSE_DAYS,
        );
        let decision = check_days(
            &mut c,
            "/decision_business_days",
            self.decision_business_days,
            DECISION_DAYS,
        );
        let profile = match self.routing_profile {
            None => {
                c.push("/routing_profile", "required", Msg::FieldRequired);
                None
            }
            Some(p) => {
                for (pointer, code, message) in p.problems() {
                    c.push(&format!("/routing_profile{pointer}"), code, message);
                }
                Some(p)
            }
        };
        c.finish()?;
        Ok(InstitutionNew {
            id,
            name,
            description,
            website,
            sla_business_days: first.unwrap_or(5),
            decision_business_days: decision.unwrap_or(20),
            profile: profile.ok_or_else(|| {
                vec![FieldError::new(
                    "/routing_profile",
                    "required",
                    Msg::FieldRequired,
                )]
            })?,
        })
    }
}

/// Changes to an institution (operators); absent fields stay as they are. The slug never
/// changes. `active: false` deactivates it: it receives no new referral, its open referrals
/// stay workable.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision_business_days": 12, "active": false}))]
pub struct InstitutionUpdate {
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    #[serde(default, deserialize_with = "present")]
    pub name: Option<String>,
    #[schema(nullable = false, max_length = 2000)]
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[schema(
        nullable = false,
        format = "uri",
        min_length = 1,
        max_length = 300,
        pattern = "^https?://[^/?#\\s]+"
    )]
    #[serde(default, deserialize_with = "present")]
    pub website: Option<String>,
    #[schema(value_type = i32, nullable = false, minimum = 1, maximum = 30)]
    #[serde(default, deserialize_with = "whole_days")]
    pub first_response_business_days: Option<i32>,
    #[schema(value_type = i32, nullable = false, minimum = 1, maximum = 60)]
    #[serde(default, deserialize_with = "whole_days")]
    pub decision_business_days: Option<i32>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "present")]
    pub active: Option<bool>,
}

impl Input for InstitutionUpdate {
    type Output = InstitutionChange;
    fn validate(self) -> Result<InstitutionChange, Vec<FieldError>> {
        let mut c = Checks::new();
        let change = InstitutionChange {
            name: c.optional_text("/name", self.name, 1, NAME_MAX),
            description: c.optional_text("/description", self.description, 0, DESCRIPTION_MAX),
            website: check_website(&mut c, "/website", self.website),
            sla_business_days: check_days(
                &mut c,
                "/first_response_business_days",
                self.first_response_business_days,
                FIRST_RESPONSE_DAYS,
            ),
            decision_business_days: check_days(
                &mut c,
                "/decision_business_days",
                self.decision_business_days,
                DECISION_DAYS,
            ),
            active: self.active,
        };
        c.finish()?;
        Ok(change)
    }
}

/// A new account of the institution (triager or institution admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "triage@curie.fr", "password": "correct horse battery staple", "role": "triager"}))]
pub struct UserCreate {
    #[schema(required = true, value_type = String, format = "email", min_length = 1, max_length = 254)]
    pub email: Option<String>,
    /// 8 to 256 characters, any Unicode.
    #[schema(required = true, value_type = String, format = Password, min_length = 8, max_length = 256)]
    pub password: Option<String>,
    /// `triager` or `institution_admin`.
    #[schema(required = true, value_type = Role)]
    pub role: Option<Role>,
    /// The language of the account's e-mails (default `en`).
    pub locale: Option<crate::domain::taxonomy::Locale>,
    /// An active contact of the institution that this account works as: what `assigned=me`
    /// lists. One account per contact.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false, value_type = String, min_length = 1, max_length = 64)]
    pub contact_id: Option<String>,
}

impl Input for UserCreate {
    type Output = UserNew;
    fn validate(self) -> Result<UserNew, Vec<FieldError>> {
        let mut c = Checks::new();
        let email = c.email("/email", self.email);
        let password = check_password(&mut c, "/password", self.password);
        let role = self.role;
        if role.is_none() {
            c.push("/role", "required", Msg::FieldRequired);
        }
        let contact_id = self
            .contact_id
            .and_then(|v| id_field(&mut c, "/contact_id", v));
        c.finish()?;
        Ok(UserNew {
            email,
            password,
            role: role.unwrap_or(Role::Triager),
            institution_id: None,
            locale: self.locale,
            contact_id,
        })
    }
}

/// Changes to an account; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct UserUpdate {
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    /// `true` ends every session of the account at once.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub disabled: Option<bool>,
    /// The language of the account's e-mails.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub locale: Option<crate::domain::taxonomy::Locale>,
    /// Link the account to an active contact of its institution (what `assigned=me` lists);
    /// `null` unlinks it.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<String>, nullable = true, min_length = 1, max_length = 64)]
    pub contact_id: Option<Option<String>>,
}

impl Input for UserUpdate {
    type Output = UserChange;
    fn validate(self) -> Result<UserChange, Vec<FieldError>> {
        let mut c = Checks::new();
        let contact_id = self
            .contact_id
            .map(|v| v.and_then(|v| id_field(&mut c, "/contact_id", v)));
        c.finish()?;
        Ok(UserChange {
            role: self.role,
            disabled: self.disabled,
            locale: self.locale,
            contact_id,
        })
    }
}

/// Who submits.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitterInput {
    /// The organization's name, 1 to 200 characters.
    #[schema(required = true, value_type = String, example = "Helios Therapeutics", min_length = 1, max_length = 200)]
    pub organization: Option<String>,
    #[schema(required = true, value_type = crate::domain::taxonomy::OrganizationType)]
    pub organization_type: Option<crate::domain::taxonomy::OrganizationType>,
    /// The person to answer, 1 to 200 characters.
    #[schema(required = true, value_type = String, example = "Dr Anna Keller", min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[schema(required = true, value_type = String, format = "email", example = "anna.keller@helios-tx.example", min_length = 1, max_length = 254)]
    pub email: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `DE`.
    #[schema(required = true, value_type = String, example = "DE", pattern = "^[A-Z]{2}$")]
    pub country: Option<String>,
}

/// The routing fields of an inquiry (all a preview needs).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "inquiry_type": "clinical_trial",
    "therapeutic_areas": ["prostate"],
    "modalities": ["radiopharmaceutical"],
    "stage": "phase_1"
}))]
pub struct RoutingPreviewRequest {
    #[schema(required = true, value_type = crate::domain::taxonomy::InquiryType)]
    pub inquiry_type: Option<crate::domain::taxonomy::InquiryType>,
    /// 1 to 5 tumour types.
    #[schema(required = true, value_type = Vec<crate::domain::taxonomy::TherapeuticArea>, min_items = 1, max_items = 5)]
    pub therapeutic_areas: Option<Vec<crate::domain::taxonomy::TherapeuticArea>>,
    /// 0 to 5 modalities.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub modalities: Vec<crate::domain::taxonomy::Modality>,
    #[schema(required = true, value_type = crate::domain::taxonomy::Stage)]
    pub stage: Option<crate::domain::taxonomy::Stage>,
    /// Institution ids; when given, routing is restricted to them.
    #[serde(default)]
    #[schema(max_items = 4)]
    pub preferred_institutions: Vec<String>,
}

/// One inquiry, sent once to every institution that fits.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "submitter": {"organization": "Helios Therapeutics", "organization_type": "biotech", "name": "Dr Anna Keller", "email": "anna.keller@helios-tx.example", "country": "DE"},
    "inquiry_type": "clinical_trial",
    "title": "Phase 1 trial site for a PSMA-targeted radioligand",
    "summary": "We are looking for two French sites for a first-in-human trial of a lutetium-177 PSMA radioligand in metastatic castration-resistant prostate cancer.",
    "therapeutic_areas": ["prostate"],
    "modalities": ["radiopharmaceutical"],
    "stage": "phase_1",
    "keywords": ["PSMA", "lutetium-177"],
    "non_confidential": true
}))]
pub struct InquiryCreate {
    #[schema(required = true, value_type = SubmitterInput)]
    #[serde(default, deserialize_with = "object_only")]
    pub submitter: Option<SubmitterInput>,
    #[schema(required = true, value_type = crate::domain::taxonomy::InquiryType)]
    pub inquiry_type: Option<crate::domain::taxonomy::InquiryType>,
    /// 1 to 200 characters.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// 1 to 5,000 characters. Non-confidential by contract.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 5000)]
    pub summary: Option<String>,
    /// 1 to 5 tumour types.
    #[schema(required = true, value_type = Vec<crate::domain::taxonomy::TherapeuticArea>, min_items = 1, max_items = 5)]
    pub therapeutic_areas: Option<Vec<crate::domain::taxonomy::TherapeuticArea>>,
    /// 0 to 5 modalities.
    #[serde(default)]
    #[schema(max_items = 5)]
    pub modalities: Vec<crate::domain::taxonomy::Modality>,
    #[schema(required = true, value_type = crate::domain::taxonomy::Stage)]
    pub stage: Option<crate::domain::taxonomy::Stage>,
    /// Institution ids; when given, routing is restricted to them.
    #[serde(default)]
    #[schema(max_items = 4)]
    pub preferred_institutions: Vec<String>,
    /// Up to 10 keywords of up to 50 characters.
    #[serde(default)]
    #[schema(max_items = 10)]
    pub keywords: Vec<String>,
    /// Must be `true`: the submitter states that the inquiry holds no confidential information.
    #[schema(required = true, value_type = bool)]
    pub non_confidential: Option<bool>,
    /// The language of the e-mails the submitter receives; by default the request's
    /// `Accept-Language` (French or English), else English.
    pub locale: Option<crate::domain::taxonomy::Locale>,
}

fn check_routing_fields(
    c: &mut Checks,
    areas: Option<Vec<crate::domain::taxonomy::TherapeuticArea>>,
    modalities: &[crate::domain::taxonomy::Modality],
    preferred: &[String],
) -> Vec<crate::domain::taxonomy::TherapeuticArea> {
    let areas = areas.unwrap_or_default();
    c.list("/therapeutic_areas", &areas, 1, 5);
    c.list("/modalities", modalities, 0, 5);
    c.list("/preferred_institutions", preferred, 0, 4);
    areas
}

fn required_enum<T>(c: &mut Checks, pointer: &str, v: Option<T>) -> Option<T> {
    if v.is_none() {
        c.push(pointer, "required", Msg::FieldRequired);
    }
    v
}

impl Input for RoutingPreviewRequest {
    type Output = crate::domain::inquiry::InquiryDraft;
    fn validate(self) -> Result<Self::Output, Vec<FieldError>> {
        use crate::domain::taxonomy::{InquiryType, OrganizationType, Stage};
        let mut c = Checks::new();
        let inquiry_type = required_enum(&mut c, "/inquiry_type", self.inquiry_type);
        let stage = required_enum(&mut c, "/stage", self.stage);
        let areas = check_routing_fields(
            &mut c,
            self.therapeutic_areas,
            &self.modalities,
            &self.preferred_institutions,
        );
        c.finish()?;
        Ok(crate::domain::inquiry::InquiryDraft {
            submitter: crate::domain::inquiry::Submitter {
                organization: String::new(),
                organization_type: OrganizationType::Other,
                name: String::new(),
                email: String::new(),
                country: String::new(),
            },
            inquiry_type: inquiry_type.unwrap_or(InquiryType::Other),
            title: String::new(),
            summary: String::new(),
            therapeutic_areas: areas,
            modalities: self.modalities,
            stage: stage.unwrap_or(Stage::NotApplicable),
            preferred_institutions: self.preferred_institutions,
            keywords: Vec::new(),
            locale: None,
        })
    }
}

impl Input for InquiryCreate {
    type Output = crate::domain::inquiry::InquiryDraft;
    fn validate(self) -> Result<Self::Output, Vec<FieldError>> {
        use crate::domain::inquiry::{
            KEYWORD_MAX_CHARS, KEYWORDS_MAX, SUMMARY_MAX, Submitter, TITLE_MAX, is_country_code,
        };
        use crate::domain::taxonomy::{InquiryType, OrganizationType, Stage};
        let mut c = Checks::new();
        let submitter = match self.submitter {
            None => {
                c.push("/submitter", "required", Msg::FieldRequired);
                None
            }
            Some(s) => {
                let organization = c.text("/submitter/organization", s.organization, 1, NAME_MAX);
                let organization_type =
                    required_enum(&mut c, "/submitter/organization_type", s.organization_type);
                let name = c.text("/submitter/name", s.name, 1, NAME_MAX);
                let email = c.email("/submitter/email", s.email);
                let country = c.text("/submitter/country", s.country, 1, 2);
                if !country.is_empty() && !is_country_code(&country) {
                    c.push("/submitter/country", "invalid_country", Msg::FieldCountry);
                }
                Some(Submitter {
                    organization,
                    organization_type: organization_type.unwrap_or(OrganizationType::Other),
                    name,
                    email,
                    country,
                })
            }
        };
        let inquiry_type = required_enum(&mut c, "/inquiry_type", self.inquiry_type);
        let title = c.text("/title", self.title, 1, TITLE_MAX);
        let summary = c.text("/summary", self.summary, 1, SUMMARY_MAX);
        let stage = required_enum(&mut c, "/stage", self.stage);
        let areas = check_routing_fields(
            &mut c,
            self.therapeutic_areas,
            &self.modalities,
            &self.preferred_institutions,
        );
        c.list("/keywords", &self.keywords, 0, KEYWORDS_MAX);
        let keywords: Vec<String> = self
            .keywords
            .into_iter()
            .enumerate()
            .map(|(i, k)| c.text(&format!("/keywords/{i}"), Some(k), 1, KEYWORD_MAX_CHARS))
            .collect();
        match self.non_confidential {
            Some(true) => {}
            Some(false) => c.push("/non_confidential", "must_be_true", Msg::FieldMustBeTrue),
            None => c.push("/non_confidential", "required", Msg::FieldRequiredTrue),
        }
        c.finish()?;
        Ok(crate::domain::inquiry::InquiryDraft {
            submitter: submitter.ok_or_else(Vec::new)?,
            inquiry_type: inquiry_type.unwrap_or(InquiryType::Other),
            title,
            summary,
            therapeutic_areas: areas,
            modalities: self.modalities,
            stage: stage.unwrap_or(Stage::NotApplicable),
            preferred_institutions: self.preferred_institutions,
            keywords,
            locale: self.locale,
        })
    }
}

/// A message on a referral's thread.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "The IND was filed in September; the dosimetry data are attached to our data room."}))]
pub struct MessageCreate {
    /// 1 to 10,000 characters.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 10000)]
    pub body: Option<String>,
}

impl Input for MessageCreate {
    type Output = String;
    fn validate(self) -> Result<String, Vec<FieldError>> {
        let mut c = Checks::new();
        let body = c.text("/body", self.body, 1, crate::domain::inquiry::MESSAGE_MAX);
        c.finish()?;
        Ok(body)
    }
}

/// What the submitter withdraws and why. Every field is optional, and so is the body: without
/// one, the whole inquiry is withdrawn with the reason `not_given`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"institution_id": "gustave-roussy", "reason_code": "found_partner", "reason": "Institut Curie will host the trial; thank you for your time."}))]
pub struct WithdrawalRequest {
    /// Withdraw from this institution only (its referral must be open); leave it out to
    /// withdraw the whole inquiry.
    #[schema(nullable = false, min_length = 1, max_length = 40)]
    #[serde(default, deserialize_with = "present")]
    pub institution_id: Option<String>,
    /// Why (default `not_given`); see `withdrawal_reasons` in `GET /v1/taxonomy`.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub reason_code: Option<crate::domain::taxonomy::WithdrawalReason>,
    /// A word for the institutions whose referrals this closes, up to 2,000 characters.
    #[schema(nullable = false, min_length = 1, max_length = 2000)]
    #[serde(default, deserialize_with = "present")]
    pub reason: Option<String>,
}

/// The longest withdrawal reason.
pub const WITHDRAWAL_REASON_MAX: usize = 2_000;

impl Input for WithdrawalRequest {
    type Output = crate::service::inquiries::Withdrawal;
    fn validate(self) -> Result<Self::Output, Vec<FieldError>> {
        let mut c = Checks::new();
        let institution_id = c.optional_text("/institution_id", self.institution_id, 1, 40);
        let reason = c.optional_text("/reason", self.reason, 1, WITHDRAWAL_REASON_MAX);
        c.finish()?;
        Ok(crate::service::inquiries::Withdrawal {
            institution_id,
            reason_code: self
                .reason_code
                .unwrap_or(crate::domain::taxonomy::WithdrawalReason::NotGiven),
            reason,
        })
    }
}

/// Institutions an operator routes an inquiry to.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"institutions": ["aphp", "curie"], "reason": "A data-access request both biobanks can answer."}))]
pub struct ManualRouting {
    /// 1 to 4 institution ids.
    #[schema(required = true, value_type = Vec<String>, min_items = 1, max_items = 4)]
    pub institutions: Option<Vec<String>>,
    /// Why the operators chose these institutions; shown in each referral's explanation.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

impl Input for ManualRouting {
    type Output = (Vec<String>, Option<String>);
    fn validate(self) -> Result<Self::Output, Vec<FieldError>> {
        let mut c = Checks::new();
        let ids = self.institutions.unwrap_or_default();
        c.list("/institutions", &ids, 1, 4);
        let reason = c.optional_text("/reason", self.reason, 1, 500);
        c.finish()?;
        Ok((ids, reason))
    }
}

impl Input for crate::domain::routing::RoutingProfile {
    type Output = crate::domain::routing::RoutingProfile;
    fn validate(self) -> Result<Self, Vec<FieldError>> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(self)
        } else {
            Err(problems
                .into_iter()
                .map(|(pointer, code, message)| FieldError::new(pointer, code, message))
                .collect())
        }
    }
}

/// A lifecycle transition.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "declined", "reason_code": "too_early_stage", "reason_text": "We take assets from phase 1 on.", "message": "Thank you: we would be glad to hear from you again after your first-in-human data."}))]
pub struct TransitionRequest {
    /// The new status.
    #[schema(required = true, value_type = crate::domain::taxonomy::ReferralStatus)]
    pub to: Option<crate::domain::taxonomy::ReferralStatus>,
    /// Required to decline.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub reason_code: Option<crate::domain::taxonomy::DeclineReason>,
    /// Required with the reason `other`, and to forward. Up to 2,000 characters.
    #[schema(nullable = false, min_length = 1, max_length = 2000)]
    #[serde(default, deserialize_with = "present")]
    pub reason_text: Option<String>,
    /// An external message to the submitter; required for `info_requested` and `accepted`.
    #[schema(nullable = false, min_length = 1, max_length = 10000)]
    #[serde(default, deserialize_with = "present")]
    pub message: Option<String>,
    /// The institution to forward to; required for `forwarded`.
    #[schema(nullable = false, min_length = 1, max_length = 40)]
    #[serde(default, deserialize_with = "present")]
    pub forward_to: Option<String>,
}

impl Input for TransitionRequest {
    type Output = (
        crate::domain::taxonomy::ReferralStatus,
        crate::domain::lifecycle::TransitionInput,
    );
    fn validate(self) -> Result<Self::Output, Vec<FieldError>> {
        let mut c = Checks::new();
        let to = required_enum(&mut c, "/to", self.to);
        let input = crate::domain::lifecycle::TransitionInput {
            reason_code: self.reason_code,
            reason_text: c.optional_text("/reason_text", self.reason_text, 1, 2_000),
            message: c.optional_text(
                "/message",
                self.message,
                1,
                crate::domain::inquiry::MESSAGE_MAX,
            ),
            forward_to: c.optional_text("/forward_to", self.forward_to, 1, 40),
        };
        c.finish()?;
        Ok((
            to.unwrap_or(crate::domain::taxonomy::ReferralStatus::New),
            input,
        ))
    }
}

/// The contact to assign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"contact_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8e9f"}))]
pub struct AssigneeRequest {
    #[schema(required = true, value_type = String, min_length = 1, max_length = 64)]
    pub contact_id: Option<String>,
}

impl Input for AssigneeRequest {
    type Output = String;
    fn validate(self) -> Result<String, Vec<FieldError>> {
        let mut c = Checks::new();
        let id = c.text("/contact_id", self.contact_id, 1, 64);
        c.finish()?;
        Ok(id)
    }
}

/// A message or an internal note on a referral.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"body": "Checked with the radiopharmacy: capacity available from March.", "visibility": "internal"}))]
pub struct StaffMessageCreate {
    /// 1 to 10,000 characters.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 10000)]
    pub body: Option<String>,
    /// `external` reaches the submitter; `internal` never does.
    #[schema(required = true, value_type = crate::domain::inquiry::Visibility)]
    pub visibility: Option<crate::domain::inquiry::Visibility>,
}

impl Input for StaffMessageCreate {
    type Output = (String, crate::domain::inquiry::Visibility);
    fn validate(self) -> Result<Self::Output, Vec<FieldError>> {
        let mut c = Checks::new();
        let body = c.text("/body", self.body, 1, crate::domain::inquiry::MESSAGE_MAX);
        let visibility = required_enum(&mut c, "/visibility", self.visibility);
        c.finish()?;
        Ok((
            body,
            visibility.unwrap_or(crate::domain::inquiry::Visibility::Internal),
        ))
    }
}

pub const WEBHOOK_URL_MAX: usize = 2048;
pub const WEBHOOK_DESCRIPTION_MAX: usize = 500;

fn check_event_types(c: &mut Checks, pointer: &str, types: &[EventType]) {
    c.list(pointer, types, 0, EventType::ALL.len());
}

/// A new webhook endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "url": "https://crm.curie.fr/hooks/guichet",
    "description": "Our CRM",
    "event_types": ["referral.created", "referral.status_changed"]
}))]
pub struct WebhookEndpointCreate {
    /// The institution whose events it receives. Institution admins may leave it out (their
    /// own); operators leave it out, or send `null`, for a platform-wide endpoint that receives
    /// every event.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(value_type = Option<String>, min_length = 2, max_length = 40, example = "curie")]
    pub institution_id: Option<Option<String>>,
    /// `https` URL whose host resolves only to public addresses (plain `http` and loopback
    /// only when the server allows them for development). Up to 2048 characters.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 2048)]
    pub url: Option<String>,
    /// Up to 500 characters.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// The event types to receive; empty or absent for every type.
    #[serde(default)]
    #[schema(nullable = false)]
    pub event_types: Option<Vec<EventType>>,
    /// Whether it receives events now (default `true`).
    #[serde(default)]
    #[schema(nullable = false)]
    pub enabled: Option<bool>,
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent.
fn present_or_null<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl Input for WebhookEndpointCreate {
    type Output = EndpointNew;
    fn validate(self) -> Result<EndpointNew, Vec<FieldError>> {
        let mut c = Checks::new();
        let institution_id = match self.institution_id {
            Some(Some(id)) => Some(Some(c.text("/institution_id", Some(id), 2, 40))),
            other => other,
        };
        let url = c.text("/url", self.url, 1, WEBHOOK_URL_MAX);
        let description = c
            .optional_text("/description", self.description, 0, WEBHOOK_DESCRIPTION_MAX)
            .unwrap_or_default();
        let event_types = self.event_types.unwrap_or_default();
        check_event_types(&mut c, "/event_types", &event_types);
        c.finish()?;
        Ok(EndpointNew {
            institution_id,
            url,
            description,
            event_types,
            enabled: self.enabled.unwrap_or(true),
        })
    }
}

/// Fields to change; absent fields stay as they are. `enabled: true` on an endpoint Guichet
/// disabled starts it afresh (replay its failed deliveries afterwards).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"enabled": true}))]
pub struct WebhookEndpointUpdate {
    #[schema(nullable = false, min_length = 1, max_length = 2048)]
    #[serde(default, deserialize_with = "present")]
    pub url: Option<String>,
    #[schema(nullable = false, max_length = 500)]
    #[serde(default, deserialize_with = "present")]
    pub description: Option<String>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "present")]
    pub event_types: Option<Vec<EventType>>,
    #[schema(nullable = false)]
    #[serde(default, deserialize_with = "present")]
    pub enabled: Option<bool>,
}

impl Input for WebhookEndpointUpdate {
    type Output = EndpointChange;
    fn validate(self) -> Result<EndpointChange, Vec<FieldError>> {
        let mut c = Checks::new();
        let change = EndpointChange {
            url: self
                .url
                .map(|u| c.text("/url", Some(u), 1, WEBHOOK_URL_MAX)),
            description: c.optional_text(
                "/description",
                self.description,
                0,
                WEBHOOK_DESCRIPTION_MAX,
            ),
            event_types: self.event_types,
            enabled: self.enabled,
        };
        if let Some(t) = &change.event_types {
            check_event_types(&mut c, "/event_types", t);
        }
        c.finish()?;
        Ok(change)
    }
}

/// A secret taken as sent (never trimmed): present, not empty, at most `max` characters.
fn raw_secret(c: &mut Checks, pointer: &str, value: Option<String>, max: usize) -> String {
    match value {
        None => {
            c.push(pointer, "required", Msg::FieldRequired);
            String::new()
        }
        Some(v) if v.is_empty() => {
            c.push(pointer, "too_short", "must not be empty");
            v
        }
        Some(v) if v.chars().count() > max => {
            c.push(pointer, "too_long", Msg::FieldTooLong { max });
            v
        }
        Some(v) => v,
    }
}

/// A new password for the signed-in account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"current_password": "correct horse battery staple", "new_password": "a longer and newer passphrase"}))]
pub struct PasswordChangeRequest {
    #[schema(required = true, value_type = String, format = Password, min_length = 1, max_length = 256)]
    pub current_password: Option<String>,
    /// 8 to 256 characters, any Unicode.
    #[schema(required = true, value_type = String, format = Password, min_length = 8, max_length = 256)]
    pub new_password: Option<String>,
}

impl Input for PasswordChangeRequest {
    type Output = (String, String);
    fn validate(self) -> Result<(String, String), Vec<FieldError>> {
        let mut c = Checks::new();
        let current = raw_secret(&mut c, "/current_password", self.current_password, 256);
        let new = check_password(&mut c, "/new_password", self.new_password);
        c.finish()?;
        Ok((current, new))
    }
}

/// Who asks for a password-reset link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "triage@curie.fr"}))]
pub struct PasswordResetRequest {
    #[schema(required = true, value_type = String, format = "email", min_length = 1, max_length = 254)]
    pub email: Option<String>,
}

impl Input for PasswordResetRequest {
    type Output = String;
    fn validate(self) -> Result<String, Vec<FieldError>> {
        let mut c = Checks::new();
        let email = c.email("/email", self.email);
        c.finish()?;
        Ok(email)
    }
}

/// A reset token from the e-mail, and the new password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"token": "bG9uZ1JhbmRvbVRva2VuRnJvbVRoZUVtYWlsTGluaw", "new_password": "a longer and newer passphrase"}))]
pub struct PasswordResetConfirm {
    /// The `token` of the link in the reset e-mail.
    #[schema(required = true, value_type = String, min_length = 1, max_length = 200)]
    pub token: Option<String>,
    /// 8 to 256 characters, any Unicode.
    #[schema(required = true, value_type = String, format = Password, min_length = 8, max_length = 256)]
    pub new_password: Option<String>,
}

impl Input for PasswordResetConfirm {
    type Output = (String, String);
    fn validate(self) -> Result<(String, String), Vec<FieldError>> {
        let mut c = Checks::new();
        let token = raw_secret(&mut c, "/token", self.token, 200);
        let new = check_password(&mut c, "/new_password", self.new_password);
        c.finish()?;
        Ok((token, new))
    }
}

/// The signed-in account's own preferences; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"locale": "fr", "reminders": false}))]
pub struct MeUpdate {
    /// The language of the account's e-mails.
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub locale: Option<crate::domain::taxonomy::Locale>,
    /// `false`: no SLA reminders or breach notices (new and reassigned referrals are always
    /// sent).
    #[serde(default, deserialize_with = "present")]
    #[schema(nullable = false)]
    pub reminders: Option<bool>,
}

impl Input for MeUpdate {
    type Output = (Option<crate::domain::taxonomy::Locale>, Option<bool>);
    fn validate(self) -> Result<Self::Output, Vec<FieldError>> {
        Ok((self.locale, self.reminders))
    }
}

/// Where an institution's new unassigned referrals are announced.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"team_email": "oncology-partnerships@curie.fr"}))]
pub struct MailSettingsUpdate {
    /// A shared address told of new unassigned referrals instead of every triager; `null`
    /// to tell the triagers again.
    #[schema(required = true, value_type = Option<String>, format = "email", min_length = 1, max_length = 254)]
    #[serde(default, deserialize_with = "present_or_null")]
    pub team_email: Option<Option<String>>,
}

impl Input for MailSettingsUpdate {
    type Output = Option<String>;
    fn validate(self) -> Result<Option<String>, Vec<FieldError>> {
        let mut c = Checks::new();
        let email = match self.team_email {
            None => {
                c.push(
                    "/team_email",
                    "required",
                    "is required (`null` to clear it)",
                );
                None
            }
            Some(None) => None,
            Some(Some(e)) => Some(c.email("/team_email", Some(e))),
        };
        c.finish()?;
        Ok(email.map(|e| crate::domain::account::normalize_email(&e)))
    }
}

/// Where a contact's open referrals go.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to_contact_id": "01936f4e-8a2b-7c1d-9e3f-4a5b6c7d8ea0"}))]
pub struct ReassignRequest {
    /// An active contact of the same institution; `null` leaves the referrals unassigned.
    #[serde(default, deserialize_with = "present_or_null")]
    #[schema(required = true, value_type = Option<String>, nullable = true, min_length = 1, max_length = 64)]
    pub to_contact_id: Option<Option<String>>,
}

impl Input for ReassignRequest {
    type Output = Option<String>;
    fn validate(self) -> Result<Option<String>, Vec<FieldError>> {
        let mut c = Checks::new();
        let to = match self.to_contact_id {
            None => {
                c.push(
                    "/to_contact_id",
                    "required",
                    "is required (null to unassign)",
                );
                None
            }
            Some(v) => v.and_then(|v| id_field(&mut c, "/to_contact_id", v)),
        };
        c.finish()?;
        Ok(to)
    }
}
