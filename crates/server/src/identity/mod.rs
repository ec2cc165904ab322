//! Who the student is. The settings choose one adapter (`identity`):
//! `password` (argon2 hashes imported with the registry: small
//! installations and the demo), `ldap` (the university's directory) or
//! `oidc` (its OpenID Connect provider, in the system browser); with the
//! last two the registry keeps no passwords. USOS universities sign in
//! through USOS. Whichever answers, the student must be in the registry.

pub mod ldap;
pub mod oidc;

use crate::error::{AppError, AppResult};
use crate::registry::{self, Student};
use crate::settings::IdentitySettings;
use legitka_wire::ErrorCode;

/// What the university's system said of a username and password.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Right: the student's username in the registry.
    Known(String),
    Wrong,
    /// The directory has locked the account (too many wrong passwords,
    /// or an administrator).
    Locked,
}

/// The adapter, ready.
#[derive(Debug)]
pub enum Identity {
    Password,
    Ldap(Box<ldap::Directory>),
    Oidc(Box<oidc::Provider>),
}

impl Identity {
    pub fn new(settings: &IdentitySettings) -> anyhow::Result<Self> {
        Ok(match settings {
            IdentitySettings::Password => Self::Password,
            IdentitySettings::Ldap(s) => Self::Ldap(Box::new(ldap::Directory::new((**s).clone())?)),
            IdentitySettings::Oidc(s) => Self::Oidc(Box::new(oidc::Provider::new(s.clone())?)),
        })
    }

    /// How the app signs students in: a password form, or the browser.
    pub fn method(&self) -> legitka_wire::SignInMethod {
        match self {
            Self::Password | Self::Ldap(_) => legitka_wire::SignInMethod::Password,
            Self::Oidc(_) => legitka_wire::SignInMethod::Browser,
        }
    }

    /// Whether the registry holds passwords (else imports leave them out).
    pub fn uses_registry_passwords(&self) -> bool {
        matches!(self, Self::Password)
    }
}

/// Signs a student in by username and password through the university's
/// adapter: the registry's student, or why not. The sign-in limits count
/// the attempt once the university's system has answered it; one it could
/// not answer costs nothing. Nothing of the password is logged.
pub async fn sign_in(
    identity: &Identity,
    pool: &sqlx::AnyPool,
    limits: &crate::ratelimit::Limits,
    username: &str,
    password: String,
    client: std::net::IpAddr,
) -> AppResult<Student> {
    limits.sign_in_open(username, client)?;
    let (verdict, found) = match identity {
        Identity::Password => {
            let student = registry::by_username(pool, username).await?;
            let hash = student.as_ref().map(|s| s.password_hash.expose().clone());
            if crate::passwords::verify_password(password, hash).await? {
                (Verdict::Known(username.to_owned()), student)
            } else {
                (Verdict::Wrong, None)
            }
        }
        Identity::Ldap(directory) => (directory.verify(username, &password).await?, None),
        Identity::Oidc(_) => {
            return Err(AppError::client(
                ErrorCode::BadRequest,
                "this university signs its students in on its own sign-in page: \
                 use the app's button or /oidc/login",
            ));
        }
    };
    // The university answered: the attempt counts, and past the limit it
    // is refused even when it was right (a guesser learns nothing).
    limits.count_sign_in(username, client)?;
    let name = match verdict {
        Verdict::Known(name) => name,
        Verdict::Wrong => {
            return Err(AppError::client(
                ErrorCode::InvalidCredentials,
                "wrong username or password",
            ));
        }
        Verdict::Locked => {
            return Err(AppError::client(
                ErrorCode::AccountLocked,
                "the university has locked this account; its IT helpdesk unlocks it",
            ));
        }
    };
    match found {
        Some(s) => Ok(s),
        None => in_register(pool, &name).await,
    }
}

/// The registry's student the university's system named, or the
/// sentence for someone it does not list.
pub async fn in_register(pool: &sqlx::AnyPool, username: &str) -> AppResult<Student> {
    let student = registry::by_username(pool, username).await?;
    student.ok_or_else(|| {
        tracing::info!("a student the university knows is not in the registry");
        AppError::client(
            ErrorCode::NotInRegister,
            "you are not in the university's student register",
        )
    })
}
