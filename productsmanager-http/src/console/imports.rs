//! `/console/imports`: upload a supplier file, follow its import, read the refused rows.

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use productsmanager_core::catalog::{FieldGroup, Page, Supplier};
use productsmanager_core::imports::mapping::Preset;
use productsmanager_core::imports::{ImportConfig, ImportJob, ImportOutcome, ImportSchedule, MappingTemplate};
use productsmanager_core::jobs::JobState;
use serde::Deserialize;

use super::client::Api;
use super::layout::{self, Failure, Section, field};
use super::session::Client;

/// Refused rows shown on the page; the rest are in the downloadable CSV.
const ERRORS_SHOWN: usize = 200;

/// A job's state as a badge (its class colours it): while it runs, its state; once over, its outcome — a job that
/// refused rows is never green: amber "completed with errors: 2 of 25 rows refused", red "failed: 22 of 25 rows
/// refused" above the `imports.failed_above_refused_percent` setting.
pub(crate) fn state_badge(job: &ImportJob) -> Markup {
    let progress = &job.progress;
    let refused = format!("{} of {} rows refused", progress.invalid, progress.rows_read);
    let (class, text) = match job.outcome {
        ImportOutcome::Pending => (job.state.as_str(), job.state.as_str().to_string()),
        ImportOutcome::CompletedWithErrors => ("completed_with_errors", format!("completed with errors: {refused}")),
        ImportOutcome::Failed if progress.invalid > 0 => ("failed", format!("failed: {refused}")),
        outcome => (outcome.as_str(), outcome.as_str().to_string()),
    };
    html! { span.badge.(class) { (text) } }
}

fn is_finished(state: JobState) -> bool {
    matches!(state, JobState::Succeeded | JobState::Failed | JobState::Dead | JobState::Cancelled)
}

/// The table of import jobs (also on the dashboard).
pub(crate) fn import_rows(jobs: &[ImportJob], badge: fn(&ImportJob) -> Markup) -> Markup {
    html! {
        @if jobs.is_empty() {
            p.note { "No import yet." }
        } @else {
            div.table-scroll {
                table {
                    thead { tr { th { "Queued" } th { "File" } th { "State" } th.num { "Rows" } th.num { "Created" }
                        th.num { "Updated" } th.num { "Refused" } } }
                    tbody {
                        @for job in jobs {
                            tr {
                                td { a href={ "/console/imports/" (job.id) } { (job.created_at.format("%Y-%m-%d %H:%M")) } }
                                td { (job.summary.as_ref().map_or("–", |s| s.file.as_str()))
                                    @if job.dry_run { " " span.badge { "dry run" } } }
                                td { (badge(job)) }
                                td.num { (job.progress.rows_read) }
                                td.num { (job.progress.created) }
                                td.num { (job.progress.updated) }
                                td.num { (job.progress.invalid) }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn suppliers(api: &Api) -> Result<Vec<Supplier>, Failure> {
    Ok(api.get::<Page<Supplier>>("/api/v1/suppliers?limit=500").await?.items)
}

fn upload_form(suppliers: &[Supplier], templates: &[MappingTemplate]) -> Markup {
    html! {
        form.upload method="post" action="/console/imports" enctype="multipart/form-data" {
            label.drop-zone for="file" {
                span { "Drop a supplier file here (CSV, TSV, XLSX, ODS), or choose one" }
                input #file type="file" name="file" required accept=".csv,.tsv,.txt,.xlsx,.xlsm,.xls,.ods";
            }
            div.field {
                label for="supplier" { "Supplier" }
                select #supplier name="supplier" required {
                    @for supplier in suppliers {
                        option value=(supplier.code) { (supplier.name) " (" (supplier.code) ")" }
                    }
                }
            }
            div.field {
                label for="preset" { "Preset (the file's layout)" }
                select #preset name="preset" {
                    option value="" { "None: use a template" }
                    @for preset in Preset::ALL {
                        option value=(preset.as_str()) { (preset.as_str()) }
                    }
                }
            }
            div.field {
                label for="template" { "Mapping template" }
                select #template name="template" {
                    option value="" { "None" }
                    @for template in templates {
                        option value=(template.id) { (template.name) " v" (template.version) }
                    }
                }
            }
            div.field.check {
                input #dry_run type="checkbox" name="dry_run" value="true";
                label for="dry_run" { "Dry run: show what would change, write nothing" }
            }
            div.field.check {
                input #force type="checkbox" name="force" value="true";
                label for="force" { "Import again even if this exact file was imported before" }
            }
            button type="submit" { "Upload and import" }
        }
    }
}

/// The new-supplier form, as posted.
#[derive(Debug, Deserialize, serde::Serialize)]
pub(crate) struct SupplierForm {
    code: String,
    name: String,
    default_currency: String,
}

/// The imports page; `failure` is an upload's refusal, `supplier` a new supplier's (with what was typed).
/// The new-source form, as posted: the source's settings as JSON (their fields differ per kind; the API names the
/// one at fault), optional credentials, the file's layout, an optional schedule.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SourceForm {
    name: String,
    supplier: String,
    source_kind: String,
    #[serde(default)]
    source_settings: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    preset: String,
    #[serde(default)]
    cron: String,
    #[serde(default)]
    timezone: String,
}

/// The new-template form, as posted: the definition as JSON (the API names the part at fault).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct TemplateForm {
    #[serde(rename = "template-name")]
    name: String,
    #[serde(default, rename = "template-description")]
    description: String,
    #[serde(default)]
    definition: String,
}

/// A definition to start from, shown in the form.
const TEMPLATE_EXAMPLE: &str = r#"{"columns": [{"column": "Ref", "to": "supplier_sku"}, {"column": "EAN", "to": "gtin"}, {"column": "Price", "to": "cost", "transforms": [{"op": "decimal_comma"}]}], "currency": "EUR"}"#;

fn template_form(typed: Option<&TemplateForm>, failure: Option<&Failure>) -> Markup {
    let definition_error = failure.filter(|f| f.field.as_deref().is_some_and(|f| f.starts_with("definition")));
    html! {
        h3 { "New mapping template (a new version when the name exists)" }
        @if let Some(failure) = failure.filter(|_| definition_error.is_none()) { (failure.banner()) }
        form #new-template method="post" action="/console/mapping-templates" {
            (field("Name", "template-name", typed.map_or("", |t| t.name.as_str()), "text", None))
            (field("Description", "template-description", typed.map_or("", |t| t.description.as_str()), "text", None))
            div.field {
                label for="definition" { "Definition (JSON)" }
                textarea #definition name="definition" rows="5" aria-describedby="template-example" {
                    (typed.map_or("", |t| t.definition.as_str()))
                }
                span.note #template-example { "For example " code { (TEMPLATE_EXAMPLE) } }
                @if let Some(failure) = definition_error { span.field-error #definition-error { (failure.detail) } }
            }
            button type="submit" { "Save template" }
        }
    }
}

/// `POST /console/mapping-templates`: saves a template (the next version of its name).
pub(crate) async fn add_template(Client(api): Client, axum::Form(form): axum::Form<TemplateForm>) -> Response {
    let result = async {
        let definition =
            productsmanager_core::input::parse_json::<serde_json::Value>(&form.definition).map_err(|e| {
                let mut failure = Failure::from(productsmanager_core::Error::from(e));
                failure.field = Some("definition".to_string());
                failure
            })?;
        let body = serde_json::json!({ "name": form.name, "description": form.description, "definition": definition });
        api.call(Method::POST, "/api/v1/mapping-templates", &body, HeaderMap::new()).await.map_err(Failure::from)
    }
    .await;
    match result {
        Ok(_) => layout::see_other("/console/imports#templates"),
        Err(failure) => {
            match list_page(&api, None, None, Forms { template: Some((&form, &failure)), ..Forms::default() }).await {
                Ok(page) => (failure.status, page).into_response(),
                Err(other) => other.into_response(),
            }
        }
    }
}

/// Examples of `source_settings` per kind, shown in the form.
const SOURCE_EXAMPLES: &str = r#"folder: {"path": "/srv/suppliers/acme"} · ftp, ftps: {"host": "ftp.acme.example", "path": "/out"} · email: {"host": "imap.acme.example", "mailbox": "INBOX"} · http: {"url": "https://acme.example/feed.xml"}"#;

fn source_form(suppliers: &[Supplier], typed: Option<&SourceForm>, failure: Option<&Failure>) -> Markup {
    let typed_or = |pick: fn(&SourceForm) -> &str, default: &'static str| typed.map_or(default, pick);
    html! {
        h3 { "New import source" }
        @if let Some(failure) = failure {
            @if failure.field.as_deref().is_none_or(|f| !f.starts_with("source_settings") && !["name", "cron", "timezone"].contains(&f)) {
                (failure.banner())
            }
        }
        form #new-source method="post" action="/console/import-sources" {
            (field("Name", "name", typed_or(|t| t.name.as_str(), ""), "text", failure))
            div.field {
                label for="source-supplier" { "Supplier" }
                select #source-supplier name="supplier" {
                    @for supplier in suppliers { option value=(supplier.id) selected[typed.is_some_and(|t| t.supplier == supplier.id.to_string())] { (supplier.name) } }
                }
            }
            div.field {
                label for="source_kind" { "Source" }
                select #source_kind name="source_kind" {
                    @for kind in ["folder", "ftp", "ftps", "email", "http"] { option selected[typed.is_some_and(|t| t.source_kind == kind)] { (kind) } }
                }
            }
            div.field {
                label for="source_settings" { "Source settings (JSON)" }
                textarea #source_settings name="source_settings" rows="3" aria-describedby="source-examples" {
                    (typed_or(|t| t.source_settings.as_str(), ""))
                }
                span.note #source-examples { (SOURCE_EXAMPLES) }
                @if let Some(failure) = failure.filter(|f| f.field.as_deref().is_some_and(|f| f.starts_with("source_settings"))) {
                    span.field-error #source_settings-error { (failure.detail) }
                }
            }
            (field("User name (FTP, e-mail)", "username", typed_or(|t| t.username.as_str(), ""), "text", failure))
            (field("Password", "password", "", "password", failure))
            div.field {
                label for="source-preset" { "Preset" }
                select #source-preset name="preset" {
                    @for preset in Preset::ALL { option selected[typed.is_some_and(|t| t.preset == preset.as_str())] { (preset.as_str()) } }
                }
            }
            (field("Schedule (cron, optional: 0 */2 * * * is every two hours)", "cron", typed_or(|t| t.cron.as_str(), ""), "text", failure))
            (field("Time zone of the schedule", "timezone", typed_or(|t| t.timezone.as_str(), "UTC"), "text", failure))
            button type="submit" { "Add source" }
        }
    }
}

/// The stored mapping templates, and the import sources (folder, FTP, e-mail, URL…) with their schedules.
async fn sources_section(
    api: &Api,
    templates: &[MappingTemplate],
    suppliers: &[Supplier],
    forms: &Forms<'_>,
) -> Markup {
    let source = forms.source;
    let configs = match api.get::<Page<ImportConfig>>("/api/v1/import-configs?limit=500").await {
        Ok(page) => page.items,
        Err(failure) => return Failure::from(failure).banner(),
    };
    let mut schedules = Vec::with_capacity(configs.len());
    for config in &configs {
        let path = format!("/api/v1/import-configs/{}/schedules", config.id);
        schedules.push(api.get::<Vec<ImportSchedule>>(&path).await.unwrap_or_default());
    }
    let supplier_name = |id| suppliers.iter().find(|s| s.id == id).map_or("–", |s| s.name.as_str());
    html! {
        h2 #templates { "Mapping templates" }
        @if templates.is_empty() { p.note { "None yet (productsmanager import template save, or the API)." } } @else {
            div.table-scroll { table {
                thead { tr { th { "Name" } th.num { "Version" } th { "Written for" } th { "Description" } } }
                tbody { @for template in templates { tr {
                    td { (template.name) } td.num { (template.version) }
                    td { (template.supplier_id.map_or("any supplier", supplier_name)) } td { (template.description) }
                } } }
            } }
        }
        (template_form(forms.template.map(|(form, _)| form), forms.template.map(|(_, failure)| failure)))
        h2 #sources { "Import sources" }
        @if configs.is_empty() { p.note { "None yet: files are uploaded by hand. Add a watched folder, an FTP server or a mailbox below." } } @else {
            div.table-scroll { table #source-table {
                thead { tr { th { "Name" } th { "Supplier" } th { "Source" } th { "Layout" } th { "Schedule" } th { "Last polled" } } }
                tbody { @for (config, schedules) in configs.iter().zip(&schedules) { tr {
                    td { (config.name) @if !config.is_active { " " span.badge { "inactive" } } }
                    td { (supplier_name(config.supplier_id)) }
                    td { (config.source_kind.as_str()) }
                    td { (config.preset.as_deref().unwrap_or(if config.mapping_template_id.is_some() { "template" } else { "–" })) }
                    td { @for schedule in schedules { div { code { (schedule.cron) } " " (schedule.timezone)
                        @if let Some(next) = schedule.next_run_at { span.note { " next " (next.format("%Y-%m-%d %H:%M")) } } } } }
                    td { (config.last_polled_at.map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()) }
                } } }
            } }
        }
        @if !suppliers.is_empty() { (source_form(suppliers, source.map(|(form, _)| form), source.map(|(_, failure)| failure))) }
    }
}

/// `POST /console/import-sources`: the configuration, then its schedule when one is given. A refused schedule
/// takes the new configuration away again: the user gets both or neither.
pub(crate) async fn add_source(Client(api): Client, axum::Form(form): axum::Form<SourceForm>) -> Response {
    let result = async {
        let settings = if form.source_settings.trim().is_empty() {
            serde_json::json!({})
        } else {
            productsmanager_core::input::parse_json::<serde_json::Value>(&form.source_settings).map_err(|e| {
                let mut failure = Failure::from(productsmanager_core::Error::from(e));
                failure.field = Some("source_settings".to_string());
                failure
            })?
        };
        let credentials = (!form.username.trim().is_empty())
            .then(|| serde_json::json!({ "username": form.username.trim(), "password": form.password }));
        let config = serde_json::json!({
            "name": form.name, "supplier_id": form.supplier, "source_kind": form.source_kind,
            "source_settings": settings, "credentials": credentials, "preset": form.preset,
        });
        let created: ImportConfig = api.send_json(Method::POST, "/api/v1/import-configs", &config).await?;
        if !form.cron.trim().is_empty() {
            let schedule = serde_json::json!({ "cron": form.cron.trim(), "timezone": form.timezone.trim() });
            let path = format!("/api/v1/import-configs/{}/schedules", created.id);
            if let Err(failure) = api.call(Method::POST, &path, &schedule, HeaderMap::new()).await {
                let path = format!("/api/v1/import-configs/{}", created.id);
                let _ = api.send(Method::DELETE, &path, HeaderMap::new(), Body::empty()).await;
                return Err(Failure::from(failure));
            }
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => layout::see_other("/console/imports#sources"),
        Err(failure) => {
            match list_page(&api, None, None, Forms { source: Some((&form, &failure)), ..Forms::default() }).await {
                Ok(page) => (failure.status, page).into_response(),
                Err(other) => other.into_response(),
            }
        }
    }
}

/// The source and template forms refused, with what was typed (shown again on the imports page).
#[derive(Debug, Default)]
struct Forms<'a> {
    source: Option<(&'a SourceForm, &'a Failure)>,
    template: Option<(&'a TemplateForm, &'a Failure)>,
    /// The rules form, refused.
    rules: Option<&'a Failure>,
}

/// The field groups, in the order the rules table lists them.
const GROUPS: [FieldGroup; 8] = [
    FieldGroup::Content,
    FieldGroup::Identifiers,
    FieldGroup::Status,
    FieldGroup::Prices,
    FieldGroup::Attributes,
    FieldGroup::Stock,
    FieldGroup::Categories,
    FieldGroup::Images,
];

/// "rank 2; prices first (1); never changes content" — a supplier's rules in one line.
fn rules_summary(supplier: &Supplier) -> String {
    let mut parts = vec![match supplier.priority {
        Some(rank) => format!("rank {rank}"),
        None => "unranked".to_string(),
    }];
    for (group, rank) in &supplier.field_rules.priority {
        parts.push(format!("{} rank {rank}", group.as_str()));
    }
    if !supplier.field_rules.never_changes.is_empty() {
        let groups: Vec<&str> = supplier.field_rules.never_changes.iter().map(|g| g.as_str()).collect();
        parts.push(format!("never changes {}", groups.join(", ")));
    }
    parts.join("; ")
}

/// The survivorship rules of each supplier, each in a form of its own: its priority, and per field group a rank of
/// its own and whether it never changes that group on products that exist.
fn rules_section(suppliers: &[Supplier], failure: Option<&Failure>) -> Markup {
    html! {
        section aria-labelledby="supplier-rules" {
            h2 #supplier-rules { "Who sets what" }
            p.note { "When several suppliers give the same product, a supplier with a smaller rank comes first (1 before
                2, ranked before unranked); among unranked suppliers the settings page says whether the product's
                creator or the latest file wins. A group ticked \"never\" is not changed by that supplier on products
                that exist. A value a person set, and a locked value, stay whatever the rules." }
            @if let Some(failure) = failure { (failure.banner()) }
            @for supplier in suppliers {
                details.supplier-rules data-supplier=(supplier.code) {
                    summary { (supplier.name) " (" (supplier.code) ")" " — " (rules_summary(supplier)) }
                    form method="post" action={ "/console/suppliers/" (supplier.id) "/rules" } {
                        div.field {
                            label for={ "priority-" (supplier.code) } { "Rank for every group (empty: unranked)" }
                            input id={ "priority-" (supplier.code) } name="priority" type="number" min="1"
                                value=(supplier.priority.map(|p| p.to_string()).unwrap_or_default());
                        }
                        table {
                            thead { tr { th { "Group" } th { "Rank of its own" } th { "Never changes" } } }
                            tbody {
                                @for group in GROUPS {
                                    tr {
                                        td { (group.as_str()) }
                                        td { input name={ "rank_" (group.as_str()) } type="number" min="1"
                                            aria-label={ "Rank for " (group.as_str()) }
                                            value=(supplier.field_rules.priority.get(&group).map(|p| p.to_string()).unwrap_or_default()); }
                                        td { input name={ "never_" (group.as_str()) } type="checkbox"
                                            aria-label={ "Never changes " (group.as_str()) }
                                            checked[supplier.field_rules.never_changes.contains(&group)]; }
                                    }
                                }
                            }
                        }
                        button type="submit" { "Save rules" }
                    }
                }
            }
        }
    }
}

async fn list_page(
    api: &Api,
    failure: Option<&Failure>,
    supplier: Option<(&SupplierForm, &Failure)>,
    forms: Forms<'_>,
) -> Result<Markup, Failure> {
    let typed = supplier.map(|(form, _)| form);
    let supplier_failure = supplier.map(|(_, failure)| failure);
    let (jobs, suppliers, templates) = tokio::join!(
        api.get::<Page<ImportJob>>("/api/v1/imports?limit=50"),
        suppliers(api),
        api.get::<Page<MappingTemplate>>("/api/v1/mapping-templates?limit=500"),
    );
    let (jobs, suppliers, templates) = (jobs?, suppliers?, templates?);
    let sources = sources_section(api, &templates.items, &suppliers, &forms).await;
    Ok(layout::page(
        "Imports",
        Some(Section::Imports),
        html! {
            h1 { "Imports" }
            section aria-labelledby="upload" {
                h2 #upload { "Upload a file" }
                @if let Some(failure) = failure { (failure.banner()) }
                @if suppliers.is_empty() {
                    p.note { "No supplier yet: a file is imported for a supplier; add one first." }
                } @else {
                    (upload_form(&suppliers, &templates.items))
                }
            }
            section aria-labelledby="new-supplier" {
                h2 #new-supplier { "New supplier" }
                @if let Some(failure) = supplier_failure {
                    @if failure.field.as_deref().is_none_or(|f| !["code", "name", "default_currency"].contains(&f)) {
                        (failure.banner())
                    }
                }
                form #new-supplier-form method="post" action="/console/suppliers" {
                    (field("Code (short, unique)", "code", typed.map_or("", |t| t.code.as_str()), "text", supplier_failure))
                    (field("Name", "name", typed.map_or("", |t| t.name.as_str()), "text", supplier_failure))
                    (field("Currency of its prices", "default_currency",
                        typed.map_or("EUR", |t| t.default_currency.as_str()), "text", supplier_failure))
                    button type="submit" { "Add supplier" }
                }
            }
            (rules_section(&suppliers, forms.rules))
            section aria-labelledby="jobs" {
                h2 #jobs { "Latest imports" }
                (import_rows(&jobs.items, state_badge))
            }
            section aria-labelledby="templates" { (sources) }
        },
    ))
}

/// `GET /console/imports`.
pub(crate) async fn list(Client(api): Client) -> Result<Markup, Failure> {
    list_page(&api, None, None, Forms::default()).await
}

/// `POST /console/suppliers`: a supplier to import files for.
pub(crate) async fn add_supplier(Client(api): Client, axum::Form(form): axum::Form<SupplierForm>) -> Response {
    match api.call(Method::POST, "/api/v1/suppliers", &form, HeaderMap::new()).await {
        Ok(_) => layout::see_other("/console/imports"),
        Err(failure) => {
            let failure = Failure::from(failure);
            match list_page(&api, None, Some((&form, &failure)), Forms::default()).await {
                Ok(page) => (failure.status, page).into_response(),
                Err(other) => other.into_response(),
            }
        }
    }
}

/// `POST /console/suppliers/{id}/rules`: the rules form as a patch of the supplier's `priority` and `field_rules`.
pub(crate) async fn set_rules(
    Client(api): Client,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> Response {
    let rank = |name: &str| -> Result<Option<i64>, Failure> {
        match form.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| Failure::invalid(name, &format!("{text:?} is not a whole number (1 comes first)"))),
        }
    };
    let patch = (|| -> Result<serde_json::Value, Failure> {
        let mut priority = serde_json::Map::new();
        let mut never = Vec::new();
        for group in GROUPS {
            if let Some(rank) = rank(&format!("rank_{}", group.as_str()))? {
                priority.insert(group.as_str().to_string(), rank.into());
            }
            if form.contains_key(&format!("never_{}", group.as_str())) {
                never.push(group.as_str());
            }
        }
        Ok(serde_json::json!({
            "priority": rank("priority")?,
            "field_rules": { "priority": priority, "never_changes": never },
        }))
    })();
    let result = match patch {
        Ok(patch) => api
            .call(Method::PATCH, &format!("/api/v1/suppliers/{id}"), &patch, HeaderMap::new())
            .await
            .map_err(Failure::from),
        Err(failure) => Err(failure),
    };
    let failure = match result {
        // Back to the page: its rules line shows what was saved.
        Ok(_) => return layout::see_other("/console/imports#supplier-rules"),
        Err(failure) => failure,
    };
    let forms = Forms { rules: Some(&failure), ..Forms::default() };
    match list_page(&api, None, None, forms).await {
        Ok(page) => (failure.status, page).into_response(),
        Err(other) => other.into_response(),
    }
}

/// `POST /console/imports`: the form goes to the API as it is (same fields, the file streamed through); then to
/// the import's page. A refusal is shown above the form.
pub(crate) async fn upload(Client(api): Client, request: Request) -> Response {
    let answer = match api.post_form("/api/v1/imports", request).await {
        Ok(answer) => answer,
        Err(failure) => {
            let failure = Failure::from(failure);
            return match list_page(&api, Some(&failure), None, Forms::default()).await {
                Ok(page) => (failure.status, page).into_response(),
                Err(other) => other.into_response(),
            };
        }
    };
    match answer.json::<ImportJob>() {
        Ok(job) => layout::see_other(&format!("/console/imports/{}", job.id)),
        Err(failure) => Failure::from(failure).into_response(),
    }
}

/// A row of the errors CSV.
#[derive(Debug, Deserialize)]
struct RefusedRow {
    line: String,
    column: String,
    column_name: String,
    value: String,
    reason: String,
}

async fn refused_rows(api: &Api, id: &str) -> Result<Vec<RefusedRow>, Failure> {
    let answer =
        api.send(Method::GET, &format!("/api/v1/imports/{id}/errors.csv"), HeaderMap::new(), Body::empty()).await?;
    let mut reader = csv::Reader::from_reader(answer.body.as_ref());
    reader
        .deserialize()
        .take(ERRORS_SHOWN)
        .collect::<Result<Vec<RefusedRow>, _>>()
        .map_err(|e| Failure::from(super::client::ApiFailure::internal(format!("unreadable errors CSV: {e}"))))
}

/// The part of the import page that changes while it runs; it asks for itself again each second until the job
/// has finished.
async fn progress_part(api: &Api, job: &ImportJob) -> Result<Markup, Failure> {
    let finished = is_finished(job.state);
    let refused =
        if finished && job.progress.invalid > 0 { refused_rows(api, &job.id.to_string()).await? } else { Vec::new() };
    let progress = job.progress;
    let poll = (!finished).then(|| format!("/console/imports/{}/progress", job.id));
    Ok(html! {
        section #progress aria-live="polite" hx-get=[poll.as_deref()] hx-trigger=[poll.as_ref().map(|_| "every 1s")]
            hx-swap="outerHTML" {
            p { "State: " (state_badge(job)) }
            (layout::progress_bar("Import progress", progress.rows_read, progress.rows_total, finished, "rows read"))
            @let (created, updated) = if job.dry_run { ("Would create", "Would update") } else { ("Created", "Updated") };
            dl.figures {
                div { dt { (created) } dd #created { (progress.created) } }
                div { dt { (updated) } dd #updated { (progress.updated) } }
                div { dt { "Unchanged" } dd #unchanged { (progress.unchanged) } }
                div { dt { "Refused" } dd #refused { (progress.invalid) } }
                div { dt { "Products created" } dd #products-created { (progress.products_created) } }
                div { dt { "Products updated" } dd #products-updated { (progress.products_updated) } }
            }
            @if let Some(error) = &job.last_error { div.problem role="alert" { strong { "The import failed. " } (error) } }
            @if let Some(summary) = &job.summary {
                p.note {
                    (summary.file) ", read as " (summary.format) "; " (summary.rows) " rows in "
                    (format!("{:.1}", f64::from(u32::try_from(summary.duration_ms).unwrap_or(u32::MAX)) / 1000.0)) " s."
                    @if let Some(earlier) = summary.identical_to {
                        " The same file was imported before (" a href={ "/console/imports/" (earlier) } { "that import" }
                        "): nothing was read. Upload it again with “Import again” to redo it."
                    }
                    @if !summary.columns_not_imported.is_empty() {
                        @let stated = summary.offers_columns_stated();
                        " " span #not-imported { "Columns not imported (no field for them in this preset or template"
                            @if stated { "; with an offers column, cost, stock and lead_time_days are read from it" }
                            "): " (summary.columns_not_imported.join(", ")) "." }
                    }
                    @if !summary.suppliers_created.is_empty() {
                        " " span #suppliers-created { "Suppliers created (the file's offers name them; set their \
                            currency and priority on the suppliers page): " (summary.suppliers_created.join(", ")) "." }
                    }
                    @if !summary.codes_learned.is_empty() {
                        " " span #codes-learned {
                            @if summary.dry_run { "Codes that would be learned for this supplier's next files: " }
                            @else { "Codes learned for this supplier's next files: " }
                            (summary.codes_learned.iter().map(|(what, n)| format!("{n} {what}")).collect::<Vec<_>>().join(", ")) "." }
                    }
                    @if summary.images_dropped > 0 {
                        " " span #images-dropped { (summary.images_dropped) " relative image paths dropped: import the \
                            file again with an image base URL (the shop's media folder) to keep them." }
                    }
                    @if summary.skipped > 0 {
                        " " span #skipped { (summary.skipped) " rows set aside, not products ("
                            (summary.skipped_by.iter().map(|(why, rows)| format!("{why}: {rows}")).collect::<Vec<_>>().join(", "))
                            ")." }
                    }
                }
                @if !summary.diffs.is_empty() {
                    h2 { "What the import would change" }
                    div.table-scroll {
                        table #diffs {
                            thead { tr { th.num { "Line" } th { "Supplier SKU" } th { "Change" } th { "Fields" } } }
                            tbody {
                                @for diff in &summary.diffs {
                                    tr {
                                        td.num { (diff.line) }
                                        td { (diff.supplier_sku) }
                                        td { span.badge.(diff.kind) { (diff.kind) } }
                                        td { @for (name, (stored, from_file)) in &diff.fields {
                                            div { code { (name) } ": " (stored.as_deref().unwrap_or("–")) " → "
                                                (from_file.as_deref().unwrap_or("–")) }
                                        } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if finished && progress.invalid > 0 {
                h2 { "Refused rows" }
                p { a href={ "/console/imports/" (job.id) "/errors.csv" } download { "Download all refused rows (CSV)" }
                    @if progress.invalid > ERRORS_SHOWN as u64 { " — the first " (ERRORS_SHOWN) " are shown." } }
                div.table-scroll {
                    table #errors {
                        thead { tr { th.num { "Line" } th.num { "Column" } th { "Column name" } th { "Value" } th { "Reason" } } }
                        tbody {
                            @for row in &refused {
                                tr { td.num { (row.line) } td.num { (row.column) } td { (row.column_name) }
                                    td { (row.value) } td { (row.reason) } }
                            }
                        }
                    }
                }
            } @else if finished {
                p #no-errors { "No row was refused." }
            }
        }
    })
}

/// `GET /console/imports/{id}`.
pub(crate) async fn show(Client(api): Client, Path(id): Path<String>) -> Result<Markup, Failure> {
    let job: ImportJob = api.get(&format!("/api/v1/imports/{id}")).await?;
    let supplier = api.get::<Supplier>(&format!("/api/v1/suppliers/{}", job.supplier_id)).await.ok();
    let progress = progress_part(&api, &job).await?;
    Ok(layout::page(
        "Import",
        Some(Section::Imports),
        html! {
            p { a href="/console/imports" { "← Imports" } }
            h1 { "Import of " (job.created_at.format("%Y-%m-%d %H:%M")) }
            p.note {
                "Supplier: " (supplier.as_ref().map_or("–", |s| s.name.as_str()))
                " · preset: " (job.preset.as_deref().unwrap_or("–"))
                @if job.dry_run { " · " strong { "dry run" } " (nothing is written)" }
            }
            (progress)
        },
    ))
}

/// `GET /console/imports/{id}/progress`: the fragment `show` polls.
pub(crate) async fn progress(Client(api): Client, Path(id): Path<String>) -> Result<Markup, Failure> {
    let job: ImportJob = api.get(&format!("/api/v1/imports/{id}")).await?;
    progress_part(&api, &job).await
}

/// `GET /console/imports/{id}/errors.csv`: the API's CSV, as a download.
pub(crate) async fn errors_csv(Client(api): Client, Path(id): Path<String>) -> Result<Response, Failure> {
    let answer =
        api.send(Method::GET, &format!("/api/v1/imports/{id}/errors.csv"), HeaderMap::new(), Body::empty()).await?;
    let disposition = format!("attachment; filename=\"import-{id}-errors.csv\"");
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, disposition)],
        answer.body,
    )
        .into_response())
}
