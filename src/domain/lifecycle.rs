//! The referral lifecycle of docs/PRODUCT.md as a pure state machine:
//! `new → acknowledged → in_review ⇄ info_requested`, and from `in_review` a decision:
//! `accepted | declined | forwarded`; `withdrawn` from any open state, by the submitter only.

use crate::domain::taxonomy::{DeclineReason, ReferralStatus};

use ReferralStatus as S;

/// Where staff may move a referral from `from`.
pub fn staff_transitions(from: ReferralStatus) -> &'static [ReferralStatus] {
    match from {
        S::New => &[S::Acknowledged],
        S::Acknowledged => &[S::InReview],
        S::InReview => &[S::InfoRequested, S::Accepted, S::Declined, S::Forwarded],
        S::InfoRequested => &[S::InReview],
        S::Accepted | S::Declined | S::Forwarded | S::Withdrawn => &[],
    }
}

/// What a staff transition carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TransitionInput {
    pub reason_code: Option<DeclineReason>,
    pub reason_text: Option<String>,
    /// An external message to the submitter.
    pub message: Option<String>,
    /// The institution a referral is forwarded to.
    pub forward_to: Option<String>,
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// Not in the lifecycle from this state; carries the allowed targets.
    NotAllowed(Vec<ReferralStatus>),
    /// A required field is missing: (JSON pointer, explanation).
    Missing(&'static str, &'static str),
}

/// Checks a staff transition: the lifecycle first, then what the target state requires.
pub fn check_transition(
    from: ReferralStatus,
    to: ReferralStatus,
    input: &TransitionInput,
) -> Result<(), TransitionError> {
    let allowed = staff_transitions(from);
    if !allowed.contains(&to) {
        return Err(TransitionError::NotAllowed(allowed.to_vec()));
    }
    match to {
        S::Declined => match input.reason_code {
            None => Err(TransitionError::Missing(
                "/reason_code",
                "a decline needs a reason code",
            )),
            Some(DeclineReason::Other) if input.reason_text.is_none() => Err(
                TransitionError::Missing("/reason_text", "the reason `other` needs a free text"),
            ),
            Some(_) => Ok(()),
        },
        S::InfoRequested if input.message.is_none() => Err(TransitionError::Missing(
            "/message",
            "a request for information carries a message to the submitter",
        )),
        S::Accepted if input.message.is_none() => Err(TransitionError::Missing(
            "/message",
            "an acceptance carries a message to the submitter",
        )),
        S::Forwarded if input.forward_to.is_none() => Err(TransitionError::Missing(
            "/forward_to",
            "a forward names the institution it goes to",
        )),
        S::Forwarded if input.reason_text.is_none() => Err(TransitionError::Missing(
            "/reason_text",
            "a forward gives a reason",
        )),
        _ => Ok(()),
    }
}

/// Leaving `new` is the first response.
pub fn is_first_response(from: ReferralStatus) -> bool {
    from == S::New
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input() -> TransitionInput {
        TransitionInput {
            reason_code: Some(DeclineReason::OutOfScope),
            reason_text: Some("why".into()),
            message: Some("hello".into()),
            forward_to: Some("curie".into()),
        }
    }

    #[test]
    fn the_documented_paths_are_allowed() {
        for (from, to) in [
            (S::New, S::Acknowledged),
            (S::Acknowledged, S::InReview),
            (S::InReview, S::InfoRequested),
            (S::InfoRequested, S::InReview),
            (S::InReview, S::Accepted),
            (S::InReview, S::Declined),
            (S::InReview, S::Forwarded),
        ] {
            assert_eq!(
                check_transition(from, to, &input()),
                Ok(()),
                "{from} -> {to}"
            );
        }
    }

    #[test]
    fn shortcuts_and_terminal_states_are_refused_with_the_allowed_ones() {
        assert_eq!(
            check_transition(S::New, S::Accepted, &input()),
            Err(TransitionError::NotAllowed(vec![S::Acknowledged]))
        );
        for terminal in [S::Accepted, S::Declined, S::Forwarded, S::Withdrawn] {
            assert_eq!(
                check_transition(terminal, S::InReview, &input()),
                Err(TransitionError::NotAllowed(vec![]))
            );
        }
        assert!(
            check_transition(S::InReview, S::Withdrawn, &input()).is_err(),
            "staff never withdraw"
        );
    }

    #[test]
    fn each_target_requires_what_it_carries() {
        let none = TransitionInput::default();
        assert_eq!(
            check_transition(S::InReview, S::Declined, &none),
            Err(TransitionError::Missing(
                "/reason_code",
                "a decline needs a reason code"
            ))
        );
        let other = TransitionInput {
            reason_code: Some(DeclineReason::Other),
            ..none.clone()
        };
        assert!(matches!(
            check_transition(S::InReview, S::Declined, &other),
            Err(TransitionError::Missing("/reason_text", _))
        ));
        assert!(matches!(
            check_transition(S::InReview, S::InfoRequested, &none),
            Err(TransitionError::Missing("/message", _))
        ));
        assert!(matches!(
            check_transition(S::InReview, S::Accepted, &none),
            Err(TransitionError::Missing("/message", _))
        ));
        assert!(matches!(
            check_transition(S::InReview, S::Forwarded, &none),
            Err(TransitionError::Missing("/forward_to", _))
        ));
        assert_eq!(check_transition(S::New, S::Acknowledged, &none), Ok(()));
    }

    fn status() -> impl Strategy<Value = ReferralStatus> {
        proptest::sample::select(ReferralStatus::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn closed_referrals_never_move_and_nothing_goes_back_to_new(from in status(), to in status()) {
            let result = check_transition(from, to, &input());
            if !from.is_open() {
                prop_assert!(result.is_err());
            }
            if result.is_ok() {
                prop_assert!(from.is_open());
                prop_assert_ne!(to, S::New);
                prop_assert_ne!(to, S::Withdrawn);
            }
        }

        #[test]
        fn every_open_state_reaches_a_decision(from in status()) {
            // Following allowed transitions, some terminal decision is reachable.
            let mut frontier = vec![from];
            let mut seen = std::collections::BTreeSet::new();
            let mut reached = !from.is_open();
            while let Some(s) = frontier.pop() {
                if !seen.insert(s) { continue; }
                for next in staff_transitions(s) {
                    if !next.is_open() { reached = true; }
                    frontier.push(*next);
                }
            }
            prop_assert!(reached);
        }
    }
}
