//! Who may do what in the back office. A platform admin may do anything
//! anywhere; everyone else holds grants, each a role on one ente,
//! optionally narrowed to one tipo dovuto. Also the password rules and the
//! lockout after repeated failed logins. Pure rules: no I/O.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// A role on an ente, from most to least powerful.
#[derive(Copy, Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the ente's tipi dovuto and operators, and all its debts.
    EnteAdmin,
    /// Manages debts: create, cancel, import, export, print.
    Operator,
    /// Sees, searches and downloads; changes nothing.
    ReadOnly,
}

impl Role {
    pub fn code(self) -> &'static str {
        match self {
            Role::EnteAdmin => "ente_admin",
            Role::Operator => "operator",
            Role::ReadOnly => "read_only",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        [Role::EnteAdmin, Role::Operator, Role::ReadOnly]
            .into_iter()
            .find(|r| r.code() == code)
    }

    pub fn allows(self, action: Action) -> bool {
        match action {
            Action::Read => true,
            Action::ManageDebts => matches!(self, Role::EnteAdmin | Role::Operator),
            Action::ConfigureEnte => self == Role::EnteAdmin,
        }
    }
}

/// What an operator wants to do on an ente.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    ManageDebts,
    /// Tipi dovuto, the ente's operators, its settings.
    ConfigureEnte,
}

/// A role on one ente, for all its tipi dovuto or for one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub ente_id: i64,
    pub role: Role,
    pub tipo_dovuto_id: Option<i64>,
}

/// Everything an operator may do.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Access {
    pub platform_admin: bool,
    pub grants: Vec<Grant>,
}

/// The enti an operator sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnteScope {
    All,
    Only(Vec<i64>),
}

/// The tipi dovuto an operator sees within one ente.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TipoScope {
    All,
    Only(Vec<i64>),
}

impl TipoScope {
    pub fn includes(&self, tipo_dovuto_id: Option<i64>) -> bool {
        match (self, tipo_dovuto_id) {
            (TipoScope::All, _) => true,
            (TipoScope::Only(ids), Some(id)) => ids.contains(&id),
            // A debt without a tipo dovuto belongs to the whole ente.
            (TipoScope::Only(_), None) => false,
        }
    }
}

impl Access {
    pub fn platform_admin() -> Access {
        Access {
            platform_admin: true,
            grants: Vec::new(),
        }
    }

    /// May `action` be done on ente `ente_id`, for tipo dovuto `tipo` (None:
    /// for the ente as a whole, or a debt without a tipo dovuto)?
    pub fn can(&self, ente_id: i64, tipo: Option<i64>, action: Action) -> bool {
        self.platform_admin
            || self.grants.iter().any(|g| {
                g.ente_id == ente_id
                    && g.role.allows(action)
                    && (g.tipo_dovuto_id.is_none() || g.tipo_dovuto_id == tipo)
            })
    }

    /// May `action` be done on at least part of the ente (some tipo dovuto)?
    pub fn can_some(&self, ente_id: i64, action: Action) -> bool {
        self.platform_admin
            || self
                .grants
                .iter()
                .any(|g| g.ente_id == ente_id && g.role.allows(action))
    }

    pub fn enti(&self) -> EnteScope {
        if self.platform_admin {
            return EnteScope::All;
        }
        let mut ids: Vec<i64> = self.grants.iter().map(|g| g.ente_id).collect();
        ids.sort_unstable();
        ids.dedup();
        EnteScope::Only(ids)
    }

    /// The tipi dovuto of `ente_id` on which `action` may be done.
    pub fn tipi(&self, ente_id: i64, action: Action) -> TipoScope {
        if self.platform_admin {
            return TipoScope::All;
        }
        let grants: Vec<&Grant> = self
            .grants
            .iter()
            .filter(|g| g.ente_id == ente_id && g.role.allows(action))
            .collect();
        if grants.iter().any(|g| g.tipo_dovuto_id.is_none()) {
            return TipoScope::All;
        }
        let mut ids: Vec<i64> = grants.iter().filter_map(|g| g.tipo_dovuto_id).collect();
        ids.sort_unstable();
        ids.dedup();
        TipoScope::Only(ids)
    }
    /// May this operator reset, deactivate or reactivate the account that
    /// holds `target`? A platform admin may manage any other account; an
    /// ente admin only one whose every role is on an ente they administer
    /// (an account shared with another ente is that ente's too), never a
    /// platform admin's. Nobody their own: that is the account page.
    pub fn may_manage_account(&self, target: &Access, is_self: bool) -> bool {
        if is_self {
            return false;
        }
        if self.platform_admin {
            return true;
        }
        !target.platform_admin
            && !target.grants.is_empty()
            && target
                .grants
                .iter()
                .all(|g| self.can(g.ente_id, None, Action::ConfigureEnte))
    }
}

/// Why a password is refused.
#[derive(Copy, Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    #[error("at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
    #[error("it must not contain the username")]
    ContainsUsername,
    #[error("it is one of the most common passwords")]
    Common,
    #[error("it needs at least three of: lower case, upper case, digits, symbols")]
    TooSimple,
}

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 128;

const COMMON: &[&str] = &[
    "password",
    "passw0rd",
    "123456789",
    "qwertyuiop",
    "iloveyou",
    "admin",
    "welcome",
    "letmein",
    "changeme",
    "password1",
    "password123",
    "123456789012",
    "qwerty123456",
    "administrator",
];

/// The password rules: length, not the username, not a common one, and
/// some variety of characters.
pub fn check_password(password: &str, username: &str) -> Vec<PasswordProblem> {
    let mut problems = Vec::new();
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        problems.push(PasswordProblem::TooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        problems.push(PasswordProblem::TooLong);
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        problems.push(PasswordProblem::ContainsUsername);
    }
    if COMMON.iter().any(|c| lower.starts_with(c)) {
        problems.push(PasswordProblem::Common);
    }
    let classes = [
        password.chars().any(|c| c.is_lowercase()),
        password.chars().any(|c| c.is_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_alphanumeric()),
    ]
    .iter()
    .filter(|&&present| present)
    .count();
    if classes < 3 {
        problems.push(PasswordProblem::TooSimple);
    }
    problems
}

/// Failed logins in a row that lock an account.
pub const MAX_FAILED_LOGINS: i32 = 5;
/// How long a locked account stays locked.
pub const LOCKOUT: SignedDuration = SignedDuration::from_mins(15);

/// After a failed login: the new count, and until when the account is
/// locked (when the count reached the limit).
pub fn after_failed_login(failed_before: i32, now: Timestamp) -> (i32, Option<Timestamp>) {
    let failed = failed_before.saturating_add(1);
    if failed >= MAX_FAILED_LOGINS {
        (0, Some(now + LOCKOUT))
    } else {
        (failed, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn grant(ente_id: i64, role: Role, tipo: Option<i64>) -> Grant {
        Grant {
            ente_id,
            role,
            tipo_dovuto_id: tipo,
        }
    }

    #[test]
    fn roles_nest() {
        assert!(Role::EnteAdmin.allows(Action::ConfigureEnte));
        assert!(!Role::Operator.allows(Action::ConfigureEnte));
        assert!(Role::Operator.allows(Action::ManageDebts));
        assert!(!Role::ReadOnly.allows(Action::ManageDebts));
        assert!(Role::ReadOnly.allows(Action::Read));
        for role in [Role::EnteAdmin, Role::Operator, Role::ReadOnly] {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
    }

    #[test]
    fn a_tipo_dovuto_grant_covers_only_that_tipo() {
        let access = Access {
            platform_admin: false,
            grants: vec![grant(1, Role::Operator, Some(10))],
        };
        assert!(access.can(1, Some(10), Action::ManageDebts));
        assert!(!access.can(1, Some(11), Action::ManageDebts));
        assert!(!access.can(1, None, Action::ManageDebts));
        assert!(access.can_some(1, Action::Read));
        assert_eq!(access.tipi(1, Action::Read), TipoScope::Only(vec![10]));
        assert_eq!(access.enti(), EnteScope::Only(vec![1]));
    }

    #[test]
    fn passwords_follow_the_rules() {
        assert!(check_password("Tre-Cime-di-Lavaredo", "mario").is_empty());
        assert!(check_password("short1A!", "mario").contains(&PasswordProblem::TooShort));
        assert!(
            check_password("Mario.Rossi.2026", "mario.rossi")
                .contains(&PasswordProblem::ContainsUsername)
        );
        assert!(check_password("Password123!x", "mario").contains(&PasswordProblem::Common));
        assert!(check_password("tuttominuscolo", "mario").contains(&PasswordProblem::TooSimple));
    }

    #[test]
    fn five_failures_lock_for_fifteen_minutes() {
        let now = Timestamp::UNIX_EPOCH;
        let mut failed = 0;
        for _ in 0..4 {
            let (count, locked) = after_failed_login(failed, now);
            assert_eq!(locked, None);
            failed = count;
        }
        let (count, locked) = after_failed_login(failed, now);
        assert_eq!((count, locked), (0, Some(now + LOCKOUT)));
    }

    fn any_grant() -> impl Strategy<Value = Grant> {
        (
            1i64..4,
            prop_oneof![
                Just(Role::EnteAdmin),
                Just(Role::Operator),
                Just(Role::ReadOnly)
            ],
            proptest::option::of(10i64..13),
        )
            .prop_map(|(e, r, t)| grant(e, r, t))
    }

    proptest! {
        /// Nothing is ever allowed on an ente without a grant on it, and
        /// what is allowed for one tipo dovuto is visible in `tipi`.
        #[test]
        fn no_grant_no_access(grants in proptest::collection::vec(any_grant(), 0..6),
                              ente in 1i64..6, tipo in proptest::option::of(10i64..14)) {
            let access = Access { platform_admin: false, grants: grants.clone() };
            for action in [Action::Read, Action::ManageDebts, Action::ConfigureEnte] {
                let allowed = access.can(ente, tipo, action);
                if !grants.iter().any(|g| g.ente_id == ente) {
                    prop_assert!(!allowed);
                }
                if allowed {
                    prop_assert!(access.can_some(ente, action));
                    prop_assert!(access.tipi(ente, action).includes(tipo));
                }
                // A stronger action is never allowed where a weaker one is not.
                if access.can(ente, tipo, Action::ConfigureEnte) {
                    prop_assert!(access.can(ente, tipo, Action::ManageDebts));
                }
                if access.can(ente, tipo, Action::ManageDebts) {
                    prop_assert!(access.can(ente, tipo, Action::Read));
                }
            }
        }
    }

    #[test]
    fn an_ente_admin_manages_only_accounts_wholly_of_their_enti() {
        let admin_of = |ente_id| Grant {
            ente_id,
            role: Role::EnteAdmin,
            tipo_dovuto_id: None,
        };
        let operator_of = |ente_id| Grant {
            ente_id,
            role: Role::Operator,
            tipo_dovuto_id: None,
        };
        let admin = Access {
            platform_admin: false,
            grants: vec![admin_of(1), admin_of(2)],
        };
        let of = |grants: Vec<Grant>| Access {
            platform_admin: false,
            grants,
        };
        assert!(admin.may_manage_account(&of(vec![operator_of(1)]), false));
        assert!(admin.may_manage_account(&of(vec![operator_of(1), operator_of(2)]), false));
        assert!(!admin.may_manage_account(&of(vec![operator_of(1), operator_of(3)]), false));
        assert!(
            !admin.may_manage_account(&of(vec![]), false),
            "an account of no ente"
        );
        assert!(!admin.may_manage_account(&Access::platform_admin(), false));
        assert!(
            !admin.may_manage_account(&of(vec![operator_of(1)]), true),
            "not oneself"
        );
        let operator = of(vec![operator_of(1)]);
        assert!(!operator.may_manage_account(&of(vec![operator_of(1)]), false));
        assert!(Access::platform_admin().may_manage_account(&Access::platform_admin(), false));
    }
}
