//! Request bodies. Required fields are `Option` in Rust so that a missing one is reported with
//! every other wrong field (see `extract::Valid`); the contract still marks them required.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::api::extract::Input;
use crate::domain::account::{PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
use crate::domain::routing::Expertise;
use crate::domain::taxonomy::Role;
use crate::domain::validation::Checks;
use crate::error::FieldError;
use crate::service::institutions::{ContactChange, ContactNew};
use crate::service::users::{UserChange, UserNew};

pub const NAME_MAX: usize = 200;
pub const TITLE_MAX: usize = 200;

/// Credentials of an institution account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "triage@curie.fr", "password": "correct horse battery staple"}))]
pub struct LoginRequest {
    #[schema(required = true, value_type = String, format = "email")]
    pub email: Option<String>,
    /// Up to 256 characters.
    #[schema(required = true, value_type = String, format = Password)]
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
                format!("must be at most {PASSWORD_MAX_CHARS} characters"),
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
    #[schema(required = true, value_type = String)]
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

fn check_password(c: &mut Checks, pointer: &str, password: Option<String>) -> String {
    let Some(password) = password else {
        c.push(pointer, "required", "is required");
        return String::new();
    };
    let chars = password.chars().count();
    if chars < PASSWORD_MIN_CHARS {
        c.push(
            pointer,
            "too_short",
            format!("must be at least {PASSWORD_MIN_CHARS} characters"),
        );
    } else if chars > PASSWORD_MAX_CHARS {
        c.push(
            pointer,
            "too_long",
            format!("must be at most {PASSWORD_MAX_CHARS} characters"),
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
    #[schema(required = true, value_type = String)]
    pub name: Option<String>,
    /// Up to 200 characters.
    #[serde(default)]
    pub title: Option<String>,
    #[schema(required = true, value_type = String, format = "email")]
    pub email: Option<String>,
    /// Taxonomy values the contact handles best; used to pick the contact of a referral.
    #[serde(default)]
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
    pub name: Option<String>,
    pub title: Option<String>,
    #[schema(format = "email")]
    pub email: Option<String>,
    pub expertise: Option<Expertise>,
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

/// A new account of the institution (triager or institution admin).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "triage@curie.fr", "password": "correct horse battery staple", "role": "triager"}))]
pub struct UserCreate {
    #[schema(required = true, value_type = String, format = "email")]
    pub email: Option<String>,
    /// 8 to 256 characters, any Unicode.
    #[schema(required = true, value_type = String, format = Password)]
    pub password: Option<String>,
    /// `triager` or `institution_admin`.
    #[schema(required = true, value_type = Role)]
    pub role: Option<Role>,
}

impl Input for UserCreate {
    type Output = UserNew;
    fn validate(self) -> Result<UserNew, Vec<FieldError>> {
        let mut c = Checks::new();
        let email = c.email("/email", self.email);
        let password = check_password(&mut c, "/password", self.password);
        let role = self.role;
        if role.is_none() {
            c.push("/role", "required", "is required");
        }
        c.finish()?;
        Ok(UserNew {
            email,
            password,
            role: role.unwrap_or(Role::Triager),
            institution_id: None,
        })
    }
}

/// Changes to an account; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"disabled": true}))]
pub struct UserUpdate {
    pub role: Option<Role>,
    /// `true` ends every session of the account at once.
    pub disabled: Option<bool>,
}

impl Input for UserUpdate {
    type Output = UserChange;
    fn validate(self) -> Result<UserChange, Vec<FieldError>> {
        Ok(UserChange {
            role: self.role,
            disabled: self.disabled,
        })
    }
}
