//! Field checks shared by every request: each check records a [`FieldError`] with its JSON
//! pointer and returns a usable value, so one pass reports every wrong field at once.

use std::collections::BTreeSet;

use crate::domain::catalogue::{Msg, Text};
use crate::error::FieldError;

#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<FieldError>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, pointer: &str, code: &str, message: impl Into<Text>) {
        self.errors.push(FieldError::new(pointer, code, message));
    }

    /// A required value; records `required` when absent.
    pub fn required<T: Default>(&mut self, pointer: &str, value: Option<T>) -> T {
        match value {
            Some(v) => v,
            None => {
                self.push(pointer, "required", Msg::FieldRequired);
                T::default()
            }
        }
    }

    /// Required text, trimmed, between `min` and `max` characters.
    pub fn text(&mut self, pointer: &str, value: Option<String>, min: usize, max: usize) -> String {
        let Some(value) = value else {
            self.push(pointer, "required", Msg::FieldRequired);
            return String::new();
        };
        self.bounded_text(pointer, value, min, max)
    }

    /// Optional text: absent stays absent; present is checked like [`Checks::text`].
    pub fn optional_text(
        &mut self,
        pointer: &str,
        value: Option<String>,
        min: usize,
        max: usize,
    ) -> Option<String> {
        value.map(|v| self.bounded_text(pointer, v, min, max))
    }

    fn bounded_text(&mut self, pointer: &str, value: String, min: usize, max: usize) -> String {
        // The maximum counts what the client sent (as the contract's `maxLength` does); the
        // minimum counts what is left once surrounding white space is trimmed.
        let sent = value.chars().count();
        let value = value.trim().to_owned();
        let chars = value.chars().count();
        if sent > max {
            self.push(pointer, "too_long", Msg::FieldTooLong { max });
        } else if chars < min {
            if chars == 0 {
                self.push(pointer, "required", Msg::FieldEmpty);
            } else {
                self.push(pointer, "too_short", Msg::FieldTooShort { min });
            }
        } else if value
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            self.push(pointer, "invalid_characters", Msg::FieldControlCharacters);
        }
        value
    }

    /// A required e-mail address, lower-cased.
    pub fn email(&mut self, pointer: &str, value: Option<String>) -> String {
        let value = self.text(pointer, value, 1, 254);
        if !value.is_empty() && !is_plausible_email(&value) {
            self.push(pointer, "invalid_email", Msg::FieldEmail);
        }
        value.to_lowercase()
    }

    /// A list with between `min` and `max` items and no duplicates.
    pub fn list<T: Ord + Clone>(&mut self, pointer: &str, items: &[T], min: usize, max: usize) {
        if items.len() < min {
            if items.is_empty() {
                self.push(pointer, "required", Msg::FieldAtLeastItems { min });
            } else {
                self.push(pointer, "too_few", Msg::FieldAtLeastItems { min });
            }
        } else if items.len() > max {
            self.push(pointer, "too_many", Msg::FieldAtMostItems { max });
        }
        let mut seen = BTreeSet::new();
        for (i, item) in items.iter().enumerate() {
            if !seen.insert(item.clone()) {
                self.push(
                    &format!("{pointer}/{i}"),
                    "duplicate",
                    Msg::FieldDuplicateItem,
                );
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Every error recorded, or `Ok` when there is none.
    pub fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(self.errors)
        }
    }

    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        self.errors.extend(errors);
    }
}

/// Deliberately simple: one `@`, a non-empty local part, a dotted domain, no spaces.
pub fn is_plausible_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_wrong_field_is_reported_in_one_pass() {
        let mut c = Checks::new();
        c.text("/name", None, 1, 10);
        c.text("/title", Some("x".repeat(11)), 1, 10);
        c.email("/email", Some("not-an-email".into()));
        c.list("/areas", &[1, 1], 1, 5);
        let errors = c.finish().err().unwrap_or_default();
        let got: Vec<_> = errors
            .iter()
            .map(|e| (e.pointer.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/name", "required"),
                ("/title", "too_long"),
                ("/email", "invalid_email"),
                ("/areas/1", "duplicate"),
            ]
        );
    }

    #[test]
    fn lengths_count_characters_not_bytes() {
        let mut c = Checks::new();
        let v = c.text("/name", Some("Élodie Ürün".into()), 1, 11);
        assert_eq!(v, "Élodie Ürün");
        assert!(c.is_empty());
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        let mut c = Checks::new();
        assert_eq!(c.email("/e", Some(" Ana@Curie.FR ".into())), "ana@curie.fr");
        assert!(c.is_empty());
        for bad in ["a@b", "@b.fr", "a b@c.fr", "a@b@c.fr", "a@.fr"] {
            let mut c = Checks::new();
            c.email("/e", Some(bad.into()));
            assert!(!c.is_empty(), "{bad} accepted");
        }
    }
}
