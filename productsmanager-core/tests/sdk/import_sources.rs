//! Import sources: a file found by a source becomes one import job, with the file kept in the object store.

use std::path::Path;

use productsmanager_core::catalog::NewSupplier;
use productsmanager_core::db::Backend;
use productsmanager_core::imports::sources::{EmailSource, FolderSource, FtpSource};
use productsmanager_core::imports::{Credentials, NewImportConfig, SourceKind};
use productsmanager_core::jobs::JobState;
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, both_backends};
use sha2::Digest;

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// A file is taken once it stops growing, stored, queued as an import job, moved to `processed/`; a file too large
/// goes to `failed/` with its reason; two watchers of one folder take a file once.
async fn folder_source_takes_complete_files_once(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "import_folder_source").await else { return };
    // Files go to the local store with SQLite and to S3 (moto) with PostgreSQL, so both stores take part.
    if backend == Backend::Postgres && !env.use_s3("import_folder_source").await {
        return;
    }
    let drops = tempfile::tempdir().unwrap();
    env.config_mut().imports.folder_roots = vec![drops.path().to_path_buf()];
    let sdk = env.sdk().await;
    let new_supplier = NewSupplier { code: "ACME".into(), name: "Acme".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(new_supplier).await.unwrap();
    let drop = drops.path().join("drop");
    std::fs::create_dir_all(&drop).unwrap();
    let folder_config = |settings: serde_json::Value| NewImportConfig {
        name: "Acme drop folder".into(),
        supplier_id: supplier.id,
        source_kind: SourceKind::Folder,
        source_settings: settings,
        credentials: None,
        mapping_template_id: None,
        preset: None,
        options: serde_json::json!({}),
    };

    // Settings are checked when the configuration is created.
    let relative = sdk.imports().create_config(folder_config(serde_json::json!({ "path": "drop" }))).await.unwrap_err();
    assert_eq!((relative.kind(), relative.field()), (ErrorKind::Invalid, Some("source_settings.path")));
    let typo = serde_json::json!({ "path": drop, "max_byte": 10 });
    assert_eq!(sdk.imports().create_config(folder_config(typo)).await.unwrap_err().kind(), ErrorKind::Invalid);
    let unknown_supplier =
        NewImportConfig { supplier_id: uuid::Uuid::now_v7(), ..folder_config(serde_json::json!({ "path": drop })) };
    assert_eq!(sdk.imports().create_config(unknown_supplier).await.unwrap_err().kind(), ErrorKind::NotFound);
    // And the options its imports will run with: an SEO locale that is none is refused now, not at each import.
    let bad_locale = NewImportConfig {
        options: serde_json::json!({ "seo_locale": "~import" }),
        ..folder_config(serde_json::json!({ "path": drop }))
    };
    let refused = sdk.imports().create_config(bad_locale).await.unwrap_err();
    assert_eq!((refused.kind(), refused.field()), (ErrorKind::Invalid, Some("options.seo_locale")));
    let config = sdk
        .imports()
        .create_config(folder_config(serde_json::json!({ "path": drop, "max_bytes": 1_000 })))
        .await
        .unwrap();

    let mut source = FolderSource::new(sdk.imports());
    let prices = drop.join("prices.csv");
    append(&prices, "sku;price\nA1;9,90\n");
    append(&drop.join("notes.md"), "not a catalog file\n");
    assert!(source.poll().await.unwrap().is_empty(), "first sight: maybe still being written");
    append(&prices, "A2;19,90\n");
    assert!(source.poll().await.unwrap().is_empty(), "it grew: not complete yet");
    let taken = source.poll().await.unwrap();
    assert_eq!(taken.len(), 1, "unchanged since the last look: complete");
    let content = "sku;price\nA1;9,90\nA2;19,90\n";
    let (file, job) = (&taken[0].file, &taken[0].job);
    assert_eq!((file.name.as_str(), file.size_bytes), ("prices.csv", content.len() as i64));
    assert_eq!(file.sha256, format!("{:x}", sha2::Sha256::digest(content)));
    assert_eq!(sdk.storage().get(&file.object_key).await.unwrap(), content.as_bytes());
    let queued = sdk.jobs().get(job.id).await.unwrap();
    assert_eq!((queued.queue.as_str(), queued.kind.as_str(), queued.state), ("imports", "import", JobState::Queued));
    assert!(!prices.exists() && drop.join("processed/prices.csv").exists());
    assert!(drop.join("notes.md").exists(), "other extensions are left alone");
    assert!(source.poll().await.unwrap().is_empty(), "taken once");

    // Too large: refused, with the reason beside it.
    append(&drop.join("huge.csv"), &"x".repeat(2_000));
    source.poll().await.unwrap();
    assert!(source.poll().await.unwrap().is_empty());
    assert!(drop.join("failed/huge.csv").exists());
    let reason = std::fs::read_to_string(drop.join("failed/huge.csv.error.txt")).unwrap();
    assert!(reason.contains("max_bytes"), "{reason}");

    // Two watchers (two processes) of the same folder: one import job.
    let other_process = env.sdk().await;
    let mut other = FolderSource::new(other_process.imports());
    append(&drop.join("stock.csv"), "sku;stock\nA1;4\n");
    let (a, b) = tokio::join!(source.poll(), other.poll());
    assert!(a.unwrap().is_empty() && b.unwrap().is_empty(), "first sight for both");
    let (a, b) = tokio::join!(source.poll(), other.poll());
    assert_eq!(a.unwrap().len() + b.unwrap().len(), 1);
    let files = sdk.imports().files(config.id).await.unwrap();
    assert_eq!(files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["prices.csv", "stock.csv"]);
    assert_eq!(sdk.jobs().list("imports", Some(JobState::Queued), 10).await.unwrap().len(), 2);
    assert!(sdk.imports().config(config.id).await.unwrap().last_polled_at.is_some());
    other_process.close().await;
    sdk.close().await;
}

both_backends!(folder_source_takes_complete_files_once);

/// A folder source reads and moves files with the server's rights, so it may only look under the folders an
/// administrator allowed (`imports.folder_roots`), never in the product's own folders, links resolved; with no
/// roots, folder sources are off. The check is made again at every look, and a file a source took is never
/// quoted back in an error.
async fn folder_sources_stay_inside_their_roots(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "folder_sources_stay_inside_their_roots").await else { return };
    let (drops, elsewhere) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let off = env.sdk().await;
    let new_supplier = NewSupplier { code: "ACME".into(), name: "Acme".into(), ..Default::default() };
    let supplier = off.suppliers().create(new_supplier).await.unwrap();
    let folder_config = |name: &str, settings: serde_json::Value| NewImportConfig {
        name: name.into(),
        supplier_id: supplier.id,
        source_kind: SourceKind::Folder,
        source_settings: settings,
        credentials: None,
        mapping_template_id: None,
        preset: None,
        options: serde_json::json!({}),
    };
    let refusal = |error: productsmanager_core::Error| {
        assert_eq!(error.kind(), ErrorKind::Invalid, "{error}");
        (error.field().map(str::to_string), error.to_string())
    };

    // No roots (the default): folder sources are off.
    let path = serde_json::json!({ "path": drops.path() });
    let (field, reason) = refusal(off.imports().create_config(folder_config("off", path)).await.unwrap_err());
    assert_eq!(field.as_deref(), Some("source_settings.path"));
    assert!(reason.contains("imports.folder_roots") && reason.contains("PM_IMPORTS_FOLDER_ROOTS"), "{reason}");
    off.close().await;

    // A root that holds the data folder does not open the data folder.
    let data = env.folder().to_path_buf();
    env.config_mut().imports.folder_roots = vec![drops.path().to_path_buf(), data.clone()];
    let sdk = env.sdk().await;
    let imports = sdk.imports();
    let create = |name: &str, settings: serde_json::Value| imports.create_config(folder_config(name, settings));
    let cases = [
        (serde_json::json!({ "path": elsewhere.path() }), "source_settings.path", "not under a folder allowed"),
        (serde_json::json!({ "path": "/etc" }), "source_settings.path", "not under a folder allowed"),
        (serde_json::json!({ "path": data }), "source_settings.path", "own folder"),
        (serde_json::json!({ "path": data.join("objects") }), "source_settings.path", "own folder"),
        (serde_json::json!({ "path": drops.path().join("a/../..") }), "source_settings.path", "`..`"),
        (
            serde_json::json!({ "path": drops.path(), "processed_dir": elsewhere.path() }),
            "source_settings.processed_dir",
            "not under a folder allowed",
        ),
        (serde_json::json!({ "path": drops.path(), "failed_dir": data }), "source_settings.failed_dir", "own folder"),
    ];
    for (settings, want_field, want_reason) in cases {
        let (field, reason) = refusal(create("refused", settings.clone()).await.unwrap_err());
        assert_eq!(field.as_deref(), Some(want_field), "{settings}: {reason}");
        assert!(reason.contains(want_reason), "{settings}: {reason}");
    }
    // A link inside a root is followed before the check: to the data folder, or out of the roots, it is refused.
    let to_data = drops.path().join("to-data");
    std::os::unix::fs::symlink(&data, &to_data).unwrap();
    let (_, reason) = refusal(create("link", serde_json::json!({ "path": to_data })).await.unwrap_err());
    assert!(reason.contains("own folder"), "{reason}");
    let out = drops.path().join("out");
    std::os::unix::fs::symlink(elsewhere.path(), &out).unwrap();
    let (_, reason) = refusal(create("link", serde_json::json!({ "path": out.join("sub") })).await.unwrap_err());
    assert!(reason.contains("not under a folder allowed"), "{reason}");
    assert_eq!(sdk.imports().configs().await.unwrap().len(), 0, "nothing refused was kept");

    // Inside a root: taken. A link dropped into the folder is not a file of it and is left alone.
    let drop = drops.path().join("acme");
    std::fs::create_dir_all(&drop).unwrap();
    let config = create("acme", serde_json::json!({ "path": drop })).await.unwrap();
    let secret = elsewhere.path().join("secret.csv");
    std::fs::write(&secret, "root:x:0:0,hidden\nA,B\n").unwrap();
    std::os::unix::fs::symlink(&secret, drop.join("linked.csv")).unwrap();
    std::fs::write(drop.join("passwd.csv"), "root:x:0:0:root,/bin/bash\nA1,B\n").unwrap();
    let mut source = FolderSource::new(sdk.imports());
    source.poll().await.unwrap();
    let taken = source.poll().await.unwrap();
    assert_eq!(taken.iter().map(|t| t.file.name.as_str()).collect::<Vec<_>>(), ["passwd.csv"]);
    assert!(drop.join("linked.csv").exists() && secret.exists(), "the link and its target stay where they were");
    // The header does not match the default template: the error counts the columns, never quotes them.
    let error = sdk.imports().run_job(taken[0].job.id, |_| {}).await.unwrap_err().to_string();
    assert!(error.contains("unexpected column") && !error.contains("root:x") && !error.contains("bash"), "{error}");
    let job = sdk.imports().job(taken[0].job.id).await.unwrap();
    assert!(!format!("{job:?}").contains("root:x"), "{job:?}");

    // The roots are checked again at every look: with the roots gone, the folder is neither read nor moved.
    sdk.close().await;
    env.config_mut().imports.folder_roots = vec![elsewhere.path().to_path_buf()];
    let narrowed = env.sdk().await;
    std::fs::write(drop.join("later.csv"), "sku\nA1\n").unwrap();
    let mut source = FolderSource::new(narrowed.imports());
    for _ in 0..2 {
        assert!(source.poll().await.unwrap().is_empty());
    }
    assert!(drop.join("later.csv").exists(), "not moved");
    assert_eq!(narrowed.imports().files(config.id).await.unwrap().len(), 1);
    narrowed.close().await;
}

both_backends!(folder_sources_stay_inside_their_roots);

fn ftp_config(supplier_id: uuid::Uuid, name: &str, settings: serde_json::Value) -> NewImportConfig {
    NewImportConfig {
        name: name.into(),
        supplier_id,
        source_kind: SourceKind::Ftp,
        source_settings: settings,
        credentials: Some(Credentials { username: "anonymous".into(), password: "pm@example.invalid".into() }),
        mapping_template_id: None,
        preset: None,
        options: serde_json::json!({}),
    }
}

/// A real vsftpd on a loopback port: new files become import jobs once (remembered by name, size and time), then
/// are moved or deleted on the server as configured; a refused login names the configuration; the `poll_ftp` job
/// does the same through the workers.
async fn ftp_source_takes_new_files_once(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_ftp_source").await else { return };
    let Some(server) = super::servers::FtpServer::start(env.folder(), "import_ftp_source") else { return };
    let sdk = env.sdk().await;
    let new_supplier = NewSupplier { code: "FTPS1".into(), name: "Remote supplier".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(new_supplier).await.unwrap();
    let (moving, deleting) = (server.folder("moving"), server.folder("deleting"));
    server.folder("moving/done");
    let settings = |path: &str, extra: serde_json::Value| {
        let mut settings = serde_json::json!({ "host": "127.0.0.1", "port": server.port, "path": path });
        settings.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        settings
    };
    let imports = sdk.imports();
    let both = serde_json::json!({ "delete_after_download": true, "move_to": "done" });
    let refused = imports.create_config(ftp_config(supplier.id, "x", settings("/outgoing", both))).await.unwrap_err();
    assert_eq!(refused.field(), Some("source_settings.move_to"));
    let mover = imports
        .create_config(ftp_config(
            supplier.id,
            "ftp moving",
            settings("/outgoing/moving", serde_json::json!({ "move_to": "done" })),
        ))
        .await
        .unwrap();
    assert!(mover.has_credentials);
    // At rest the login is sealed (AES-256-GCM under the master key): the stored bytes hold no plaintext; the
    // polls below log in with it, so it opens again.
    let stored: Vec<u8> =
        productsmanager_core::with_pool!(sdk.pool(productsmanager_core::db::Database::Imports), |p| {
            sqlx::query_scalar("select credentials_encrypted from import_configs where id = $1")
                .bind(mover.id)
                .fetch_one(p)
                .await
        })
        .unwrap();
    assert_eq!(stored.first(), Some(&1), "sealed format");
    let password = b"pm@example.invalid";
    assert!(!stored.windows(password.len()).any(|w| w == password), "no plaintext password in the database");
    imports
        .create_config(ftp_config(
            supplier.id,
            "ftp deleting",
            settings("/outgoing/deleting", serde_json::json!({ "delete_after_download": true })),
        ))
        .await
        .unwrap();

    let prices = "sku;price\nF1;5,00\n";
    std::fs::write(moving.join("prices.csv"), prices).unwrap();
    std::fs::write(moving.join("readme.md"), "not taken").unwrap();
    std::fs::write(deleting.join("stock.tsv"), "sku\tstock\nF1\t3\n").unwrap();
    let source = FtpSource::new(sdk.imports());
    let mut taken = source.poll().await.unwrap();
    taken.sort_by(|a, b| a.file.name.cmp(&b.file.name));
    assert_eq!(taken.iter().map(|t| t.file.name.as_str()).collect::<Vec<_>>(), ["prices.csv", "stock.tsv"]);
    assert_eq!(sdk.storage().get(&taken[0].file.object_key).await.unwrap(), prices.as_bytes());
    assert_eq!(taken[0].file.import_config_id, Some(mover.id));
    assert_eq!(sdk.jobs().get(taken[1].job.id).await.unwrap().queue, "imports");
    assert!(moving.join("done/prices.csv").exists() && !moving.join("prices.csv").exists(), "moved");
    assert!(moving.join("readme.md").exists());
    assert!(!deleting.join("stock.tsv").exists(), "deleted");
    assert!(source.poll().await.unwrap().is_empty(), "nothing new");

    // A file left on the server is remembered: taken once, however often the folder is polled.
    let keeper = imports
        .create_config(ftp_config(supplier.id, "ftp keeping", settings("/outgoing/keeping", serde_json::json!({}))))
        .await
        .unwrap();
    std::fs::write(server.folder("keeping").join("catalog.csv"), "sku\nK1\n").unwrap();
    assert_eq!(source.poll().await.unwrap().len(), 1);
    assert!(source.poll().await.unwrap().is_empty());
    assert_eq!(imports.files(keeper.id).await.unwrap().len(), 1);

    // Through the workers: a `poll_ftp` job takes the next file.
    std::fs::write(server.folder("keeping").join("catalog-2.csv"), "sku\nK2\n").unwrap();
    let background = sdk.job_runner("ftp-test", &[]).unwrap().start();
    let poll = sdk
        .jobs()
        .enqueue(productsmanager_core::jobs::NewJob {
            queue: "catalog".into(),
            kind: "poll_ftp".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    super::jobs::eventually("the poll_ftp job", async || {
        sdk.jobs().get(poll.id).await.unwrap().state == JobState::Succeeded
    })
    .await;
    background.shutdown(std::time::Duration::from_secs(5)).await;
    assert_eq!(imports.files(keeper.id).await.unwrap().len(), 2);

    // A login the server refuses: the error names the configuration; the other configurations still ran.
    let wrong = NewImportConfig {
        credentials: Some(Credentials { username: "mallory".into(), password: "guess".into() }),
        mapping_template_id: None,
        preset: None,
        ..ftp_config(supplier.id, "ftp wrong login", settings("/outgoing", serde_json::json!({})))
    };
    imports.create_config(wrong).await.unwrap();
    let failed = source.poll().await.unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Unavailable);
    assert!(failed.to_string().contains("ftp wrong login") && failed.to_string().contains("mallory"), "{failed}");
    sdk.close().await;
}

both_backends!(ftp_source_takes_new_files_once);

/// A multipart message with the given attachments (name, content type, bytes).
fn message(from: &str, subject: &str, id: &str, attachments: &[(&str, &str, &[u8])]) -> String {
    use base64::Engine;
    let mut text = format!(
        "From: {from}\nTo: imports@pim.test\nSubject: {subject}\nMessage-ID: <{id}>\n\
         Date: Wed, 25 Nov 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n\
         --b1\nContent-Type: text/plain; charset=utf-8\n\nPlease find our files attached.\n"
    );
    for (name, content_type, bytes) in attachments {
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        text.push_str(&format!(
            "--b1\nContent-Type: {content_type}; name=\"{name}\"\nContent-Disposition: attachment; filename=\"{name}\"\n\
             Content-Transfer-Encoding: base64\n\n{encoded}\n"
        ));
    }
    text.push_str("--b1--\n");
    text
}

fn seen(maildir_name: &str) -> bool {
    maildir_name.split(":2,").nth(1).is_some_and(|flags| flags.contains('S'))
}

/// A real dovecot on a loopback port: the CSV attachment of the one unread message matching the sender and subject
/// rules becomes an import job, once; that message is marked seen and moved; the others are left unread.
async fn email_source_takes_matching_attachments_once(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_email_source").await else { return };
    let test = "import_email_source";
    let Some(mut server) = super::servers::ImapServer::start(test, "imports@pim.test", "mail-pass") else {
        return;
    };
    let sdk = env.sdk().await;
    let new_supplier = NewSupplier { code: "MAIL1".into(), name: "Acme by mail".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(new_supplier).await.unwrap();
    let prices = b"sku;price\nM1;7,50\n";
    server.deliver(&message(
        "Acme Supplies <orders@acme.test>",
        "Price list November",
        "pl-1@acme.test",
        &[("prices.csv", "text/csv", prices), ("terms.pdf", "application/pdf", b"%PDF-1.4\n")],
    ));
    server.deliver(&message(
        "Someone <x@other.test>",
        "Price list",
        "o-1@other.test",
        &[("p.csv", "text/csv", b"a\n")],
    ));
    server.deliver(&message("Acme Supplies <orders@acme.test>", "Hello", "h-1@acme.test", &[]));

    let settings = serde_json::json!({
        "host": "127.0.0.1", "port": server.port, "from_contains": "acme.test",
        "subject_contains": "Price list", "move_to": "Imported",
    });
    let config = |name: &str, password: &str| NewImportConfig {
        name: name.into(),
        supplier_id: supplier.id,
        source_kind: SourceKind::Email,
        source_settings: settings.clone(),
        credentials: Some(Credentials { username: "imports@pim.test".into(), password: password.into() }),
        mapping_template_id: None,
        preset: None,
        options: serde_json::json!({}),
    };
    let multi_line = NewImportConfig {
        source_settings: serde_json::json!({ "host": "127.0.0.1", "subject_contains": "a\r\nb" }),
        ..config("bad", "x")
    };
    let refused = sdk.imports().create_config(multi_line).await.unwrap_err();
    assert_eq!(refused.field(), Some("source_settings.subject_contains"));
    let mailbox = sdk.imports().create_config(config("acme mailbox", "mail-pass")).await.unwrap();

    let source = EmailSource::new(sdk.imports());
    let taken = source.poll().await.unwrap();
    assert_eq!(taken.len(), 1, "only the CSV of the matching message");
    assert_eq!(taken[0].file.name, "prices.csv");
    assert_eq!(taken[0].file.import_config_id, Some(mailbox.id));
    assert_eq!(sdk.storage().get(&taken[0].file.object_key).await.unwrap(), &prices[..]);
    assert_eq!(sdk.jobs().get(taken[0].job.id).await.unwrap().state, JobState::Queued);
    let moved = server.messages("Imported");
    assert!(moved.len() == 1 && seen(&moved[0]), "moved and seen: {moved:?}");
    let left = server.messages("INBOX");
    assert!(left.len() == 2 && !left.iter().any(|m| seen(m)), "the others stay unread: {left:?}");
    assert!(source.poll().await.unwrap().is_empty(), "taken once");

    sdk.imports().create_config(config("acme wrong password", "nope")).await.unwrap();
    let failed = source.poll().await.unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::Unavailable);
    assert!(failed.to_string().contains("acme wrong password"), "{failed}");
    sdk.close().await;
}

both_backends!(email_source_takes_matching_attachments_once);

/// An FTP configuration with a cron schedule: polled once its tick comes, once per tick however many processes
/// check, and once (not once per tick) after ticks were missed.
async fn import_schedules_poll_their_source_once_per_tick(backend: Backend) {
    use productsmanager_core::imports::ImportService;
    use productsmanager_core::jobs::{Clock, RetryPolicy};
    let test = "import_schedules";
    let Some(env) = TestDatabases::named(backend, test).await else { return };
    let Some(server) = super::servers::FtpServer::start(env.folder(), test) else { return };
    let (first_sdk, second_sdk) = (env.sdk().await, env.sdk().await);
    let clock = super::jobs::TestClock::new();
    let service = |sdk: &productsmanager_core::Sdk| -> ImportService {
        sdk.imports_on(sdk.jobs_with(clock.clone(), RetryPolicy::default()))
    };
    let (first, second) = (service(&first_sdk), service(&second_sdk));
    let new_supplier = NewSupplier { code: "SCHED".into(), name: "Scheduled".into(), ..Default::default() };
    let supplier = first_sdk.suppliers().create(new_supplier).await.unwrap();
    let folder = server.folder("scheduled");
    let settings = serde_json::json!({ "host": "127.0.0.1", "port": server.port, "path": "/outgoing/scheduled" });
    let config = first.create_config(ftp_config(supplier.id, "scheduled ftp", settings)).await.unwrap();

    assert_eq!(first.create_schedule(config.id, "every day", "UTC").await.unwrap_err().field(), Some("cron"));
    let paris = first.create_schedule(config.id, "0 6 * * *", "Europe/Paris").await.unwrap_err();
    assert_eq!(paris.field(), Some("timezone"));
    let schedule = first.create_schedule(config.id, "*/10 * * * *", "UTC").await.unwrap();
    let due = schedule.next_run_at.unwrap();
    assert!(due > clock.now() && due <= clock.now() + chrono::Duration::minutes(10));

    std::fs::write(folder.join("a.csv"), "sku\nS1\n").unwrap();
    assert!(first.run_due_schedules().await.unwrap().is_empty(), "not yet");
    clock.advance((due - clock.now()).num_seconds() + 1);
    let (a, b) = tokio::join!(first.run_due_schedules(), second.run_due_schedules());
    let runs: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    assert_eq!(runs.len(), 1, "one process ran the tick");
    assert_eq!((runs[0].tick, runs[0].taken.len()), (due, 1));
    let ran = first.schedules(config.id).await.unwrap().remove(0);
    assert!(ran.last_run_at.is_some() && ran.next_run_at.unwrap() > clock.now());

    // An hour with nothing running: one run at the next check, then nothing until the next tick.
    std::fs::write(folder.join("b.csv"), "sku\nS2\n").unwrap();
    std::fs::write(folder.join("c.csv"), "sku\nS3\n").unwrap();
    clock.advance(3_600);
    let (a, b) = tokio::join!(first.run_due_schedules(), second.run_due_schedules());
    let runs: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
    assert_eq!(runs.len(), 1, "six missed ticks, one run");
    assert_eq!(runs[0].taken.len(), 2, "both new files");
    assert!(first.run_due_schedules().await.unwrap().is_empty());
    assert_eq!(first.files(config.id).await.unwrap().len(), 3);
    first_sdk.close().await;
    second_sdk.close().await;
}

both_backends!(import_schedules_poll_their_source_once_per_tick);

/// FTPS against vsftpd requiring TLS: with the server's certificate trusted (`ca_file`) the file is taken over a
/// protected session; without it the certificate is refused and nothing is taken; plain FTP is refused by the server.
async fn ftps_source_verifies_the_server(backend: Backend) {
    let test = "import_ftps_source";
    let Some(env) = TestDatabases::named(backend, test).await else { return };
    let Some((server, certificate)) = super::servers::FtpServer::start_tls(env.folder(), test) else { return };
    let sdk = env.sdk().await;
    let new_supplier = NewSupplier { code: "TLS1".into(), name: "Secure supplier".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(new_supplier).await.unwrap();
    std::fs::write(server.folder("secure").join("prices.csv"), "sku;price\nT1;1,00\n").unwrap();
    let settings = serde_json::json!({ "host": "127.0.0.1", "port": server.port, "path": "/outgoing/secure" });
    let ftps = |name: &str, settings: serde_json::Value| NewImportConfig {
        source_kind: SourceKind::Ftps,
        ..ftp_config(supplier.id, name, settings)
    };
    let imports = sdk.imports();

    // Unknown certificate: refused, naming the configuration.
    let untrusted = imports.create_config(ftps("ftps untrusted", settings.clone())).await.unwrap();
    let refused = FtpSource::new(sdk.imports()).poll_config(&untrusted).await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Unavailable);
    assert!(refused.to_string().contains("TLS") && refused.to_string().contains("ftps untrusted"), "{refused}");
    // Plain FTP to a server that requires TLS: refused too.
    let plain = imports.create_config(ftp_config(supplier.id, "plain to ftps", settings.clone())).await.unwrap();
    assert!(FtpSource::new(sdk.imports()).poll_config(&plain).await.is_err());

    let mut trusted_settings = settings.clone();
    trusted_settings["ca_file"] = serde_json::json!(certificate);
    let trusted = imports.create_config(ftps("ftps trusted", trusted_settings)).await.unwrap();
    let taken = FtpSource::new(sdk.imports()).poll_config(&trusted).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(sdk.storage().get(&taken[0].file.object_key).await.unwrap(), "sku;price\nT1;1,00\n");
    assert_eq!(taken[0].file.source_kind, "ftps");
    assert!(imports.files(untrusted.id).await.unwrap().is_empty());
    sdk.close().await;
}

both_backends!(ftps_source_verifies_the_server);

/// What a local web server serves at any path, and the request heads it was sent.
#[derive(Default)]
struct Published {
    body: Vec<u8>,
    etag: Option<String>,
    heads: Vec<String>,
}

/// A local web server publishing one file at any path: answers `304` when `If-None-Match` names its ETag.
async fn publishing_server(published: std::sync::Arc<std::sync::Mutex<Published>>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let published = published.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let (status, etag, body) = {
                    let mut published = published.lock().unwrap();
                    published.heads.push(head.clone());
                    let lower = head.to_ascii_lowercase();
                    let etag = published.etag.clone();
                    let asked = etag
                        .as_ref()
                        .is_some_and(|e| lower.contains(&format!("if-none-match: {}", e.to_ascii_lowercase())));
                    if asked {
                        ("304 Not Modified", etag, Vec::new())
                    } else {
                        ("200 OK", etag, published.body.clone())
                    }
                };
                let etag = etag.map(|e| format!("ETag: {e}\r\n")).unwrap_or_default();
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/tab-separated-values\r\nContent-Length: {}\r\n{etag}Connection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    base
}

/// A feed published at a URL: taken at the first poll; asked for again with its ETag and not taken while it is the
/// same (`304`); taken again once it changed; a server without validators sending the same content is not taken
/// twice; credentials go as basic authentication and never over `http://`.
async fn http_source_takes_a_published_feed_when_it_changes(backend: Backend) {
    use productsmanager_core::imports::sources::HttpSource;
    let Some(env) = TestDatabases::named(backend, "import_http_source").await else { return };
    let sdk = env.sdk().await;
    let new_supplier = NewSupplier { code: "FEED".into(), name: "Feed supplier".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(new_supplier).await.unwrap();
    let published = std::sync::Arc::new(std::sync::Mutex::new(Published {
        body: b"id\ttitle\tprice\nA1\tMug\t9.90 EUR\n".to_vec(),
        etag: Some("\"v1\"".into()),
        heads: Vec::new(),
    }));
    let base = publishing_server(published.clone()).await;
    let config = |name: &str, url: String, credentials: Option<Credentials>| NewImportConfig {
        name: name.into(),
        supplier_id: supplier.id,
        source_kind: SourceKind::Http,
        source_settings: serde_json::json!({ "url": url }),
        credentials,
        mapping_template_id: None,
        preset: Some(productsmanager_core::imports::mapping::Preset::GoogleMerchant),
        options: serde_json::json!({}),
    };
    let refused = sdk.imports().create_config(config("bad", "ftp://x/feed".into(), None)).await.unwrap_err();
    assert_eq!(refused.field(), Some("source_settings.url"));
    let feed = sdk.imports().create_config(config("feed", format!("{base}/feeds/google.tsv"), None)).await.unwrap();
    let source = HttpSource::new(sdk.imports());

    let taken = source.poll_config(&feed).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!((taken[0].file.name.as_str(), taken[0].file.source_kind.as_str()), ("google.tsv", "http"));
    let first_job = taken[0].job.id;
    assert!(source.poll_config(&feed).await.unwrap().is_empty(), "not modified");
    let asked = published.lock().unwrap().heads.last().unwrap().to_ascii_lowercase();
    assert!(asked.contains("if-none-match: \"v1\""), "{asked}");

    {
        let mut published = published.lock().unwrap();
        published.body = b"id\ttitle\tprice\nA1\tMug\t10.50 EUR\n".to_vec();
        published.etag = Some("\"v2\"".into());
    }
    let taken = source.poll_config(&feed).await.unwrap();
    assert_eq!(taken.len(), 1, "changed");
    assert_ne!(taken[0].job.id, first_job);
    // No validators: the same content is not taken again.
    published.lock().unwrap().etag = None;
    assert!(source.poll_config(&feed).await.unwrap().is_empty(), "the same content");
    let files = sdk.imports().files(feed.id).await.unwrap();
    assert_eq!(files.len(), 2);

    // The job imports the feed with the configuration's preset.
    let summary = sdk.imports().run_job(first_job, |_| {}).await.unwrap();
    assert_eq!((summary.created, summary.invalid), (1, 0), "{summary:?}");

    // A login goes over https only; over http the poll is refused before anything is sent.
    let login = || Some(Credentials { username: "feed".into(), password: "secret".into() });
    let private = sdk.imports().create_config(config("private", format!("{base}/private.tsv"), login())).await.unwrap();
    let sent = published.lock().unwrap().heads.len();
    let error = source.poll_config(&private).await.unwrap_err().to_string();
    assert!(error.contains("credentials need an https:// URL"), "{error}");
    assert_eq!(published.lock().unwrap().heads.len(), sent, "nothing sent");
    sdk.close().await;
}

both_backends!(http_source_takes_a_published_feed_when_it_changes);

/// A source whose preset is `auto` reads each file with the preset its header shows: the job of a WooCommerce export
/// names `woocommerce`, the job of a Shopify export `shopify`, of a plain price list `native`.
async fn a_source_with_the_auto_preset_names_each_files_preset(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "import_source_auto").await else { return };
    let drops = tempfile::tempdir().unwrap();
    env.config_mut().imports.folder_roots = vec![drops.path().to_path_buf()];
    let sdk = env.sdk().await;
    let new_supplier = NewSupplier { code: "MIX".into(), name: "Mixed files".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(new_supplier).await.unwrap();
    let config = NewImportConfig {
        name: "Whatever arrives".into(),
        supplier_id: supplier.id,
        source_kind: SourceKind::Folder,
        source_settings: serde_json::json!({ "path": drops.path() }),
        credentials: None,
        mapping_template_id: None,
        preset: Some(productsmanager_core::imports::mapping::Preset::Auto),
        options: serde_json::json!({}),
    };
    let config = sdk.imports().create_config(config).await.unwrap();
    assert_eq!(config.preset.as_deref(), Some("auto"));
    append(
        &drops.path().join("woo.csv"),
        "ID,Type,SKU,Name,Published,Regular price,In stock?,Stock\n1,simple,W-1,Mug,1,9.90,1,3\n",
    );
    append(
        &drops.path().join("shopify.csv"),
        "Handle,Title,Body (HTML),Vendor,Variant SKU,Variant Price,Image Src\nmug,Mug,,Acme,M-1,9.90,\n",
    );
    append(&drops.path().join("plain.csv"), "sku;title;price\nP-1;Pot;9,90\n");
    let mut source = FolderSource::new(sdk.imports());
    assert!(source.poll().await.unwrap().is_empty(), "first sight");
    let taken = source.poll().await.unwrap();
    let mut presets = Vec::new();
    for taken in &taken {
        let job = sdk.imports().job(taken.job.id).await.unwrap();
        presets.push((taken.file.name.clone(), job.preset.unwrap_or_default()));
    }
    presets.sort();
    let expected = [("plain.csv", "native"), ("shopify.csv", "shopify"), ("woo.csv", "woocommerce")];
    assert_eq!(presets, expected.map(|(f, p)| (f.to_string(), p.to_string())));
    sdk.close().await;
}

both_backends!(a_source_with_the_auto_preset_names_each_files_preset);
