//! `/console/admin`: users, roles and API keys (a key's secret shown once); `/console/settings`: the application
//! settings. What a non-admin sees here is the API's refusal.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use productsmanager_core::auth::{ApiKey, PERMISSIONS, Role, User};
use productsmanager_core::catalog::Page;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::client::Api;
use super::layout::{self, Failure, Section, field};
use super::session::Client;

/// What the admin page shows besides the lists: a refusal of a form (with what was typed), or a new key's secret.
#[derive(Debug, Default)]
struct Outcome {
    user: Option<(UserForm, Failure)>,
    key: Option<(KeyForm, Failure)>,
    role: Option<(RoleForm, Failure)>,
    created_secret: Option<(String, String)>,
    failure: Option<Failure>,
}

#[derive(Debug, Deserialize, Serialize)]
pub(crate) struct UserForm {
    email: String,
    #[serde(default)]
    display_name: String,
    password: String,
    role: String,
}

/// The role form: `permission` repeats, one per permission ticked.
#[derive(Debug, Default)]
pub(crate) struct RoleForm {
    name: String,
    description: String,
    permissions: Vec<String>,
}

impl RoleForm {
    fn parse(body: &str) -> Self {
        // Named apart from the user form's fields on the same page.
        let (mut fields, permissions) = split_form(body, "permission");
        RoleForm {
            name: fields.remove("role-name").unwrap_or_default(),
            description: fields.remove("role-description").unwrap_or_default(),
            permissions,
        }
    }
}

/// A posted form's single fields by name, and the values of the field named `repeated` (ticked checkboxes), in order.
fn split_form(body: &str, repeated: &str) -> (std::collections::HashMap<String, String>, Vec<String>) {
    let (mut fields, mut values) = (std::collections::HashMap::new(), Vec::new());
    for (name, value) in form_urlencoded::parse(body.as_bytes()) {
        if name == repeated {
            values.push(value.into_owned());
        } else {
            fields.insert(name.into_owned(), value.into_owned());
        }
    }
    (fields, values)
}

/// The permissions as checkboxes named `input_name`, those in `ticked` ticked.
fn permission_boxes(input_name: &str, ticked: &[String]) -> Markup {
    html! {
        @for (code, meaning) in PERMISSIONS {
            div.field.check {
                input type="checkbox" name=(input_name) value=(code) id={ (input_name) "-" (code) }
                    checked[ticked.iter().any(|s| s == code)];
                label for={ (input_name) "-" (code) } { code { (code) } " " (meaning) }
            }
        }
    }
}

/// The API key form: `scope` repeats, one per permission ticked.
#[derive(Debug, Default)]
pub(crate) struct KeyForm {
    user_id: String,
    name: String,
    scopes: Vec<String>,
}

impl KeyForm {
    fn parse(body: &str) -> Self {
        let (mut fields, scopes) = split_form(body, "scope");
        KeyForm {
            user_id: fields.remove("user_id").unwrap_or_default(),
            name: fields.remove("name").unwrap_or_default(),
            scopes,
        }
    }
}

async fn admin_page(api: &Api, outcome: Outcome) -> Result<Markup, Failure> {
    let (users, roles, keys) = tokio::join!(
        api.get::<Page<User>>("/api/v1/users?limit=500"),
        api.get::<Vec<Role>>("/api/v1/roles"),
        api.get::<Page<ApiKey>>("/api/v1/api-keys?limit=500"),
    );
    let (users, roles, keys) = (users?.items, roles?, keys?.items);
    let emails: HashMap<Uuid, &str> = users.iter().map(|u| (u.id, u.email.as_str())).collect();
    let typed_user = outcome.user.as_ref().map(|(form, _)| form);
    let user_failure = outcome.user.as_ref().map(|(_, failure)| failure);
    let typed_key = outcome.key.as_ref().map(|(form, _)| form);
    let key_failure = outcome.key.as_ref().map(|(_, failure)| failure);
    let typed_role = outcome.role.as_ref().map(|(form, _)| form);
    let role_failure = outcome.role.as_ref().map(|(_, failure)| failure);
    Ok(layout::page(
        "Admin",
        Some(Section::Admin),
        html! {
            h1 { "Users, roles and API keys" }
            @if let Some(failure) = &outcome.failure { (failure.banner()) }
            section aria-labelledby="users" {
                h2 #users { "Users" }
                div.table-scroll {
                    table #user-table {
                        thead { tr { th { "E-mail" } th { "Name" } th { "Last sign-in" } th { "Active" } th {} } }
                        tbody {
                            @for user in &users {
                                tr {
                                    td { (user.email) } td { (user.display_name) }
                                    td { (user.last_login_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                                    td { (if user.is_active { "yes" } else { "no" }) }
                                    td {
                                        form.inline method="post" action={ "/console/admin/users/" (user.id) "/active" } {
                                            input type="hidden" name="is_active" value=(!user.is_active);
                                            button.link type="submit" { (if user.is_active { "Deactivate" } else { "Activate" }) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h3 { "New user" }
                @if let Some(failure) = user_failure {
                    @if failure.field.as_deref().is_none_or(|f| !["email", "display_name", "password", "roles"].contains(&f)) {
                        (failure.banner())
                    }
                }
                form #new-user method="post" action="/console/admin/users" {
                    (field("E-mail", "email", typed_user.map_or("", |f| f.email.as_str()), "email", user_failure))
                    (field("Name", "display_name", typed_user.map_or("", |f| f.display_name.as_str()), "text", user_failure))
                    (field("Password", "password", "", "password", user_failure))
                    div.field {
                        label for="role" { "Role" }
                        select #role name="role" {
                            @for role in &roles {
                                option value=(role.name) selected[typed_user.is_some_and(|f| f.role == role.name)] {
                                    (role.name) " — " (role.description)
                                }
                            }
                        }
                        @if let Some(message) = user_failure.and_then(|f| f.about("roles")) { span.field-error { (message) } }
                    }
                    button type="submit" { "Add user" }
                }
            }
            section aria-labelledby="roles" {
                h2 #roles { "Roles" }
                div.table-scroll {
                    table {
                        thead { tr { th { "Role" } th { "What it is for" } th { "Permissions" } } }
                        tbody {
                            @for role in &roles {
                                tr { td { (role.name) } td { (role.description) } td { (role.permissions.join(", ")) } }
                            }
                        }
                    }
                }
                h3 { "New role" }
                @if let Some(failure) = role_failure {
                    @if failure.field.as_deref().is_none_or(|f| !["name", "description", "permissions"].contains(&f)) {
                        (failure.banner())
                    }
                }
                form #new-role method="post" action="/console/admin/roles" {
                    (field("Name", "role-name", typed_role.map_or("", |r| r.name.as_str()), "text", None))
                    @if let Some(message) = role_failure.and_then(|f| f.about("name")) { span.field-error #role-name-error { (message) } }
                    (field("What it is for", "role-description", typed_role.map_or("", |r| r.description.as_str()), "text", None))
                    fieldset {
                        legend { "Permissions" }
                        (permission_boxes("permission", typed_role.map_or(&[][..], |r| r.permissions.as_slice())))
                        @if let Some(message) = role_failure.and_then(|f| f.about("permissions")) { span.field-error { (message) } }
                    }
                    button type="submit" { "Add role" }
                }
            }
            section aria-labelledby="keys" {
                h2 #keys { "API keys" }
                @if let Some((name, secret)) = &outcome.created_secret {
                    div.saved role="status" #new-secret {
                        "The key " strong { (name) } " is " code { (secret) }
                        ". Copy it now: it is stored only as a hash and is not shown again."
                    }
                }
                div.table-scroll {
                    table #key-table {
                        thead { tr { th { "Name" } th { "User" } th { "Prefix" } th { "Scopes" } th { "Last used" } th {} } }
                        tbody {
                            @for key in &keys {
                                tr {
                                    td { (key.name) } td { (emails.get(&key.user_id).copied().unwrap_or("–")) }
                                    td { code { (key.prefix) } } td { (key.scopes.0.join(", ")) }
                                    td { (key.last_used_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                                    td {
                                        @if key.revoked_at.is_some() { "revoked" } @else {
                                            form.inline method="post" action={ "/console/admin/api-keys/" (key.id) "/revoke" } {
                                                button.link type="submit" { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                h3 { "New API key" }
                @if let Some(failure) = key_failure {
                    @if failure.field.as_deref().is_none_or(|f| !["name", "scopes"].contains(&f)) { (failure.banner()) }
                }
                form #new-key method="post" action="/console/admin/api-keys" {
                    div.field {
                        label for="key-user" { "For user" }
                        select #key-user name="user_id" {
                            @for user in &users {
                                option value=(user.id) selected[typed_key.is_some_and(|k| k.user_id == user.id.to_string())] { (user.email) }
                            }
                        }
                    }
                    (field("Name", "name", typed_key.map_or("", |k| k.name.as_str()), "text", key_failure))
                    fieldset {
                        legend { "Scopes (within the user's own permissions)" }
        (permission_boxes("scope", typed_key.map_or(&[][..], |k| k.scopes.as_slice())))
                        @if let Some(message) = key_failure.and_then(|f| f.about("scopes")) { span.field-error { (message) } }
                    }
                    button type="submit" { "Create key" }
                }
            }
        },
    ))
}

fn status_of(outcome: &Outcome) -> StatusCode {
    [
        outcome.user.as_ref().map(|(_, f)| f),
        outcome.key.as_ref().map(|(_, f)| f),
        outcome.role.as_ref().map(|(_, f)| f),
        outcome.failure.as_ref(),
    ]
    .into_iter()
    .flatten()
    .next()
    .map_or(StatusCode::OK, |failure| failure.status)
}

async fn respond(api: &Api, outcome: Outcome) -> Response {
    let status = status_of(&outcome);
    match admin_page(api, outcome).await {
        Ok(page) => (status, page).into_response(),
        Err(failure) => failure.into_response(),
    }
}

/// `GET /console/admin`.
pub(crate) async fn page(Client(api): Client) -> Response {
    respond(&api, Outcome::default()).await
}

/// `POST /console/admin/users`.
pub(crate) async fn add_user(Client(api): Client, axum::Form(form): axum::Form<UserForm>) -> Response {
    let body = serde_json::json!({
        "email": form.email,
        "display_name": (!form.display_name.trim().is_empty()).then_some(form.display_name.trim()),
        "password": form.password,
        "roles": [form.role],
    });
    match api.call(Method::POST, "/api/v1/users", &body, HeaderMap::new()).await {
        Ok(_) => layout::see_other("/console/admin"),
        Err(failure) => respond(&api, Outcome { user: Some((form, failure.into())), ..Outcome::default() }).await,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActiveForm {
    is_active: bool,
}

/// `POST /console/admin/users/{id}/active`: (de)activates a user; deactivating ends their sign-ins at once.
pub(crate) async fn set_active(
    Client(api): Client,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ActiveForm>,
) -> Response {
    let body = serde_json::json!({ "is_active": form.is_active });
    match api.call(Method::PATCH, &format!("/api/v1/users/{id}"), &body, HeaderMap::new()).await {
        Ok(_) => layout::see_other("/console/admin"),
        Err(failure) => respond(&api, Outcome { failure: Some(failure.into()), ..Outcome::default() }).await,
    }
}

/// The API's answer to a new key: the key's fields and its secret.
#[derive(Debug, Deserialize)]
struct CreatedKey {
    #[serde(flatten)]
    key: ApiKey,
    secret: String,
}

/// `POST /console/admin/api-keys`: the new key's secret is on the page this once (the answer to the post, not a
/// page that can be reloaded later).
pub(crate) async fn add_key(Client(api): Client, body: String) -> Response {
    let form = KeyForm::parse(&body);
    let input = serde_json::json!({ "user_id": form.user_id, "name": form.name, "scopes": form.scopes });
    let created = match api.call(Method::POST, "/api/v1/api-keys", &input, HeaderMap::new()).await {
        Ok(answer) => answer.json::<CreatedKey>().map_err(Failure::from),
        Err(failure) => Err(failure.into()),
    };
    let outcome = match created {
        Ok(created) => Outcome { created_secret: Some((created.key.name, created.secret)), ..Outcome::default() },
        Err(failure) => Outcome { key: Some((form, failure)), ..Outcome::default() },
    };
    let mut response = respond(&api, outcome).await;
    // The secret must not be kept by a cache or the browser's back-forward store.
    response.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    response
}

/// `POST /console/admin/roles`: a role with the permissions ticked.
pub(crate) async fn add_role(Client(api): Client, body: String) -> Response {
    let form = RoleForm::parse(&body);
    let input =
        serde_json::json!({ "name": form.name, "description": form.description, "permissions": form.permissions });
    match api.call(Method::POST, "/api/v1/roles", &input, HeaderMap::new()).await {
        Ok(_) => layout::see_other("/console/admin#roles"),
        Err(failure) => respond(&api, Outcome { role: Some((form, failure.into())), ..Outcome::default() }).await,
    }
}

/// `POST /console/admin/api-keys/{id}/revoke`.
pub(crate) async fn revoke_key(Client(api): Client, Path(id): Path<String>) -> Response {
    match api.send(Method::DELETE, &format!("/api/v1/api-keys/{id}"), HeaderMap::new(), Body::empty()).await {
        Ok(_) => layout::see_other("/console/admin"),
        Err(failure) => respond(&api, Outcome { failure: Some(failure.into()), ..Outcome::default() }).await,
    }
}

/// A setting as the API describes it.
#[derive(Debug, Deserialize)]
struct SettingView {
    key: String,
    description: String,
    kind: SettingKindView,
    value: serde_json::Value,
    default: serde_json::Value,
    is_default: bool,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum SettingKindView {
    Choice { choices: Vec<String> },
    Integer { min: i64, max: i64 },
}

fn shown(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

async fn settings_page(api: &Api, refused: Option<(&str, &str, Failure)>) -> Response {
    let settings = match api.get::<Vec<SettingView>>("/api/v1/settings").await {
        Ok(settings) => settings,
        Err(failure) => return Failure::from(failure).into_response(),
    };
    let status = refused.as_ref().map_or(StatusCode::OK, |(_, _, failure)| failure.status);
    let body = layout::page(
        "Settings",
        Some(Section::Settings),
        html! {
            h1 { "Settings" }
            div.table-scroll {
                table #settings {
                    thead { tr { th { "Setting" } th { "Value" } th {} } }
                    tbody {
                        @for setting in &settings {
                            @let failed = refused.as_ref().filter(|(key, _, _)| *key == setting.key);
                            @let value = failed.map_or_else(|| shown(&setting.value), |(_, typed, _)| (*typed).to_string());
                            tr id={ "setting-" (setting.key) } {
                                td { code { (setting.key) } br; span.note { (setting.description) } }
                                td {
                                    form.inline method="post" action={ "/console/settings/" (setting.key) } {
                                        label.visually-hidden for={ "value-" (setting.key) } { (setting.key) }
                                        @match &setting.kind {
                                            SettingKindView::Choice { choices } => select id={ "value-" (setting.key) } name="value" {
                                                @for choice in choices { option selected[*choice == value] { (choice) } }
                                            },
                                            SettingKindView::Integer { min, max } => input id={ "value-" (setting.key) } type="number"
                                                name="value" min=(min) max=(max) value=(value);
                                        }
                                        button type="submit" { "Save" }
                                    }
                                    @if let Some((_, _, failure)) = failed { span.field-error { (failure.detail) } }
                                    @if !setting.is_default { span.note { " default: " (shown(&setting.default)) } }
                                }
                                td {
                                    @if !setting.is_default {
                                        form.inline method="post" action={ "/console/settings/" (setting.key) "/reset" } {
                                            button.link type="submit" { "Reset" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    );
    (status, body).into_response()
}

/// `GET /console/settings`.
pub(crate) async fn settings(Client(api): Client) -> Response {
    settings_page(&api, None).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct SettingForm {
    value: String,
}

/// `POST /console/settings/{key}`: a number is sent as a number, anything else as text; the API says what fits.
pub(crate) async fn set_setting(
    Client(api): Client,
    Path(key): Path<String>,
    axum::Form(form): axum::Form<SettingForm>,
) -> Response {
    let value =
        form.value.trim().parse::<i64>().map_or_else(|_| serde_json::json!(form.value), |n| serde_json::json!(n));
    let path = format!("/api/v1/settings/{key}");
    match api.call(Method::PUT, &path, &serde_json::json!({ "value": value }), HeaderMap::new()).await {
        Ok(_) => layout::see_other("/console/settings"),
        Err(failure) => settings_page(&api, Some((&key, &form.value, failure.into()))).await,
    }
}

/// `POST /console/settings/{key}/reset`: back to the default.
pub(crate) async fn reset_setting(Client(api): Client, Path(key): Path<String>) -> Response {
    match api.send(Method::DELETE, &format!("/api/v1/settings/{key}"), HeaderMap::new(), Body::empty()).await {
        Ok(_) => layout::see_other("/console/settings"),
        Err(failure) => Failure::from(failure).into_response(),
    }
}
