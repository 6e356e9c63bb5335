//! `user create|list|set-password|activate|deactivate|grant|revoke`, `role list|create|delete` and
//! `apikey create|list|revoke`.
//!
//! Passwords never go on the command line (other users of the machine see it): they are read from standard input
//! with `--password-stdin`, or generated and printed once.

use std::io::Read;

use clap::Subcommand;
use productsmanager_core::auth::{ApiKey, NewApiKey, NewRole, NewUser, User};
use productsmanager_core::{ErrorKind, Sdk};

use crate::{Failure, exit_code, output};

#[derive(Debug, Subcommand)]
pub(crate) enum UserCommand {
    /// Create a user; without --password-stdin a password is generated and printed once.
    Create {
        email: String,
        #[arg(long)]
        name: Option<String>,
        /// Role to grant (repeatable): admin, catalog_manager, importer, viewer or a custom one.
        #[arg(long = "role")]
        roles: Vec<String>,
        /// Read the password from standard input (one line).
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// List users with their roles.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Set a user's password (id or e-mail) and sign them out everywhere.
    SetPassword {
        user: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Allow a user to sign in again.
    Activate { user: String },
    /// Refuse a user's sign-ins and end their sessions.
    Deactivate { user: String },
    /// Give a user a role.
    Grant { user: String, role: String },
    /// Take a role from a user.
    Revoke { user: String, role: String },
}

#[derive(Debug, Subcommand)]
pub(crate) enum RoleCommand {
    /// Roles and their permissions.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Create a custom role from permission codes (`catalog:read`, …).
    Create {
        name: String,
        #[arg(long = "permission", required = true)]
        permissions: Vec<String>,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Delete a custom role.
    Delete { name: String },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ApiKeyCommand {
    /// Create an API key acting for a user within scopes; its secret is printed once.
    Create {
        /// The user (id or e-mail) the key acts for.
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// Permission the key may use (repeatable), e.g. catalog:read.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
        /// Days until the key expires; no expiry when absent.
        #[arg(long)]
        expires_days: Option<u32>,
        #[arg(long)]
        json: bool,
    },
    /// List API keys (never their secrets), of one user or all.
    List {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Revoke an API key at once.
    Revoke { id: String },
}

/// The password from standard input, or a generated one (then printed).
fn password(from_stdin: bool) -> Result<(String, bool), Failure> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).map_err(|e| Failure {
            code: exit_code(ErrorKind::Invalid),
            message: format!("cannot read the password from standard input: {e}"),
        })?;
        let line = text.lines().next().unwrap_or("").to_string();
        return Ok((line, false));
    }
    Ok((productsmanager_core::auth::generate_password()?, true))
}

pub(crate) async fn users(sdk: &Sdk, command: UserCommand) -> Result<(), Failure> {
    let auth = sdk.auth();
    match command {
        UserCommand::Create { email, name, roles, password_stdin, json } => {
            let (password, generated) = password(password_stdin)?;
            let user =
                auth.create_user(NewUser { email, display_name: name, password: password.clone(), roles }).await?;
            if json {
                let mut value = serde_json::to_value(&user).unwrap_or_default();
                if generated {
                    value["generated_password"] = serde_json::Value::String(password);
                }
                output::json(&value);
            } else {
                println!("created user {} ({})", user.email, user.id);
                if generated {
                    println!("password (shown once): {password}");
                }
            }
        }
        UserCommand::List { json } => {
            let mut roles = auth.roles_of_every_user().await?;
            let rows: Vec<_> = auth
                .users()
                .await?
                .into_iter()
                .map(|user| {
                    let held = roles.remove(&user.id).unwrap_or_default();
                    (user, held)
                })
                .collect();
            if json {
                let values: Vec<_> = rows
                    .iter()
                    .map(|(user, roles)| {
                        let mut value = serde_json::to_value(user).unwrap_or_default();
                        value["roles"] = serde_json::json!(roles);
                        value
                    })
                    .collect();
                output::json(&values);
            } else {
                table(&rows);
            }
        }
        UserCommand::SetPassword { user, password_stdin } => {
            let user = auth.find_user(&user).await?;
            let (password, generated) = password(password_stdin)?;
            auth.set_password(user.id, &password).await?;
            println!("password of {} changed; their sessions are ended", user.email);
            if generated {
                println!("password (shown once): {password}");
            }
        }
        UserCommand::Activate { user } => {
            let user = auth.find_user(&user).await?;
            auth.set_active(user.id, true).await?;
            println!("{} may sign in", user.email);
        }
        UserCommand::Deactivate { user } => {
            let user = auth.find_user(&user).await?;
            auth.set_active(user.id, false).await?;
            println!("{} may no longer sign in; their sessions are ended", user.email);
        }
        UserCommand::Grant { user, role } => {
            let user = auth.find_user(&user).await?;
            auth.grant(user.id, &role, None).await?;
            println!("{} has role {role}", user.email);
        }
        UserCommand::Revoke { user, role } => {
            let user = auth.find_user(&user).await?;
            auth.revoke(user.id, &role, None).await?;
            println!("{} no longer has role {role}", user.email);
        }
    }
    Ok(())
}

pub(crate) async fn roles(sdk: &Sdk, command: RoleCommand) -> Result<(), Failure> {
    let auth = sdk.auth();
    match command {
        RoleCommand::List { json } => {
            let roles = auth.roles().await?;
            output::list(json, &roles, ["role", "built in", "permissions"], |r| {
                [r.name.clone(), if r.is_builtin { "yes" } else { "no" }.into(), r.permissions.join(" ")]
            });
        }
        RoleCommand::Create { name, permissions, description } => {
            let role = auth.create_role(NewRole { name, description, permissions }).await?;
            println!("created role {} ({})", role.name, role.permissions.join(" "));
        }
        RoleCommand::Delete { name } => {
            auth.delete_role(&name).await?;
            println!("deleted role {name}");
        }
    }
    Ok(())
}

pub(crate) async fn api_keys(sdk: &Sdk, command: ApiKeyCommand) -> Result<(), Failure> {
    let auth = sdk.auth();
    match command {
        ApiKeyCommand::Create { user, name, scopes, expires_days, json } => {
            let user = auth.find_user(&user).await?;
            let expires_at = expires_days.map(|days| chrono::Utc::now() + chrono::Duration::days(i64::from(days)));
            let created = auth.create_api_key(NewApiKey { user_id: user.id, name, scopes, expires_at }, None).await?;
            if json {
                output::json(&created);
            } else {
                println!("created API key {} ({}) for {}", created.key.prefix, created.key.id, user.email);
                println!("secret (shown once): {}", created.secret);
            }
        }
        ApiKeyCommand::List { user, json } => {
            let user_id = match user {
                Some(user) => Some(auth.find_user(&user).await?.id),
                None => None,
            };
            let keys = auth.api_keys(user_id).await?;
            if json { output::json(&keys) } else { key_table(&keys) }
        }
        ApiKeyCommand::Revoke { id } => {
            let id = productsmanager_core::input::parse_id("id", &id)?;
            auth.revoke_api_key(id, None).await?;
            println!("revoked API key {id}");
        }
    }
    Ok(())
}

fn key_table(keys: &[ApiKey]) {
    let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into())
    };
    output::table(
        ["id", "prefix", "name", "user", "scopes", "expires", "last used", "revoked"],
        keys.iter().map(|k| {
            [
                k.id.to_string(),
                k.prefix.clone(),
                k.name.clone(),
                k.user_id.to_string(),
                k.scopes.0.join(" "),
                when(k.expires_at),
                when(k.last_used_at),
                when(k.revoked_at),
            ]
        }),
    );
}

fn table(rows: &[(User, Vec<String>)]) {
    output::table(
        ["id", "email", "name", "roles", "active", "last sign-in"],
        rows.iter().map(|(u, roles)| {
            [
                u.id.to_string(),
                u.email.clone(),
                u.display_name.clone(),
                roles.join(" "),
                if u.is_active { "yes" } else { "no" }.to_string(),
                u.last_login_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| "-".into()),
            ]
        }),
    );
}
