//! `user create|list|set-password|activate|deactivate|grant|revoke` and `role list|create|delete`.
//!
//! Passwords never go on the command line (other users of the machine see it): they are read from standard input
//! with `--password-stdin`, or generated and printed once.

use std::io::Read;

use clap::Subcommand;
use productsmanager_core::auth::{NewRole, NewUser, User};
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
            let all = auth.users().await?;
            let mut rows = Vec::with_capacity(all.len());
            for user in all {
                let roles = auth.roles_of(user.id).await?;
                rows.push((user, roles));
            }
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
            if json {
                output::json(&roles);
            } else {
                output::table(
                    ["role", "built in", "permissions"],
                    roles.iter().map(|r| {
                        [r.name.clone(), if r.is_builtin { "yes" } else { "no" }.into(), r.permissions.join(" ")]
                    }),
                );
            }
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
