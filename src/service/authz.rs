//! Every authorization decision of Guichet, in one place. A caller who may not learn that an
//! object exists gets the same 404 as for a missing one.

use crate::domain::account::Staff;
use crate::domain::catalogue::Msg;
use crate::domain::taxonomy::Role;
use crate::error::Error;

/// What an actor wants to do to an institution's staff-only resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstitutionAction {
    /// Read contacts and the like: any staff of the institution.
    Read,
    /// Manage contacts, users, routing profile: institution admins and operators.
    Administer,
}

/// Decides whether `actor` may perform `action` on the resources of `institution_id`.
/// - operators: everything, everywhere;
/// - staff of another institution: 404, as if the resource did not exist;
/// - triagers asking to administer their own institution: 403.
pub fn institution_access(
    actor: &Staff,
    institution_id: &str,
    action: InstitutionAction,
    resource: &'static str,
) -> Result<(), Error> {
    crate::service::known_slug(institution_id, resource)?;
    if actor.role == Role::Operator {
        return Ok(());
    }
    if actor.institution_id.as_deref() != Some(institution_id) {
        return Err(Error::NotFound { resource });
    }
    match (action, actor.role) {
        (InstitutionAction::Read, _) => Ok(()),
        (InstitutionAction::Administer, Role::InstitutionAdmin) => Ok(()),
        (InstitutionAction::Administer, _) => Err(Error::forbidden(Msg::AdminOrOperatorOnly)),
    }
}

/// Operators only (platform-wide actions).
pub fn operator_only(actor: &Staff) -> Result<(), Error> {
    if actor.role == Role::Operator {
        Ok(())
    } else {
        Err(Error::forbidden(Msg::OperatorOnly))
    }
}

/// Which part of an inquiry's audit trail an actor reads, given the institutions that hold one
/// of its referrals: operators all of it (`None`); staff of one of those institutions the
/// inquiry's own records and their institution's referrals' (`Some(institution)`), never
/// another institution's referral records; anyone else nothing, as if it did not exist.
pub fn inquiry_audit_scope<'a>(
    actor: &'a Staff,
    holders: &[String],
) -> Result<Option<&'a str>, Error> {
    match (actor.role, actor.institution_id.as_deref()) {
        (Role::Operator, _) => Ok(None),
        (_, Some(own)) if holders.iter().any(|h| h == own) => Ok(Some(own)),
        _ => Err(Error::NotFound {
            resource: "inquiry",
        }),
    }
}

/// Webhook endpoints: an institution's are managed by its admins and by operators; the
/// platform-wide ones (`institution_id` none) by operators only.
pub fn webhook_access(actor: &Staff, institution_id: Option<&str>) -> Result<(), Error> {
    match institution_id {
        Some(inst) => institution_access(
            actor,
            inst,
            InstitutionAction::Administer,
            "webhook endpoint",
        ),
        None if actor.role == Role::Operator => Ok(()),
        None => Err(Error::forbidden(Msg::OperatorOnlyPlatformWebhooks)),
    }
}

/// Whose e-mails an actor may inspect: operators every institution's (or one), institution
/// admins their own; triagers none. `Ok(None)`: every message, platform ones included.
pub fn mail_scope(actor: &Staff, institution: Option<&str>) -> Result<Option<String>, Error> {
    match (actor.role, institution) {
        (Role::Operator, inst) => {
            if let Some(i) = inst {
                crate::service::known_slug(i, "institution")?;
            }
            Ok(inst.map(str::to_owned))
        }
        (Role::InstitutionAdmin, None) => actor
            .institution_id
            .clone()
            .map(Some)
            .ok_or_else(|| Error::forbidden(Msg::NoInstitutionAccount)),
        (Role::InstitutionAdmin, Some(i)) => {
            institution_access(actor, i, InstitutionAction::Administer, "institution")?;
            Ok(Some(i.to_owned()))
        }
        (Role::Triager, _) => Err(Error::forbidden(Msg::AdminOrOperatorInspectsMail)),
    }
}

/// What part of the event feed an actor reads: staff their institution's, operators all.
pub fn feed_scope(actor: &Staff) -> Result<crate::db::outbox::FeedScope<'_>, Error> {
    match (actor.role, actor.institution_id.as_deref()) {
        (Role::Operator, _) => Ok(crate::db::outbox::FeedScope::Everything),
        (_, Some(inst)) => Ok(crate::db::outbox::FeedScope::Institution(inst)),
        (_, None) => Err(Error::forbidden(Msg::NoInstitutionAccount)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, institution: Option<&str>) -> Staff {
        Staff {
            user_id: "u".into(),
            email: "u@example.org".into(),
            role,
            institution_id: institution.map(Into::into),
            session_id: "s".into(),
        }
    }

    #[test]
    fn the_access_matrix_holds() {
        use InstitutionAction::*;
        let op = actor(Role::Operator, None);
        let admin = actor(Role::InstitutionAdmin, Some("curie"));
        let triager = actor(Role::Triager, Some("curie"));
        let check = |a: &Staff, inst: &str, act| match institution_access(a, inst, act, "contact") {
            Ok(()) => 200,
            Err(Error::Forbidden { .. }) => 403,
            Err(Error::NotFound { .. }) => 404,
            Err(_) => 500,
        };
        assert_eq!(check(&op, "aphp", Administer), 200);
        assert_eq!(check(&admin, "curie", Administer), 200);
        assert_eq!(check(&admin, "aphp", Read), 404);
        assert_eq!(check(&admin, "aphp", Administer), 404);
        assert_eq!(check(&triager, "curie", Read), 200);
        assert_eq!(check(&triager, "curie", Administer), 403);
        assert_eq!(check(&triager, "aphp", Read), 404);
        assert!(operator_only(&op).is_ok());
        assert!(operator_only(&admin).is_err());
    }

    #[test]
    fn an_inquirys_audit_is_for_operators_and_the_institutions_holding_it() {
        let holders = vec!["curie".to_owned(), "gustave-roussy".to_owned()];
        let op = actor(Role::Operator, None);
        let curie = actor(Role::Triager, Some("curie"));
        let aphp = actor(Role::InstitutionAdmin, Some("aphp"));
        assert_eq!(inquiry_audit_scope(&op, &holders).ok(), Some(None));
        assert_eq!(inquiry_audit_scope(&op, &[]).ok(), Some(None));
        assert_eq!(
            inquiry_audit_scope(&curie, &holders).ok(),
            Some(Some("curie"))
        );
        assert!(matches!(
            inquiry_audit_scope(&aphp, &holders),
            Err(Error::NotFound { .. })
        ));
        assert!(matches!(
            inquiry_audit_scope(&curie, &[]),
            Err(Error::NotFound { .. })
        ));
    }
}
