//! Notifications: a job's end told to whoever asked for it (finished, failed, an import's counters), nothing for
//! jobs nobody asked for, live events for listeners; on both backends.

use std::time::Duration;

use productsmanager_core::auth::NewUser;
use productsmanager_core::catalog::NewSupplier;
use productsmanager_core::db::Backend;
use productsmanager_core::imports::NewImport;
use productsmanager_core::input::parse_json;
use productsmanager_core::jobs::{JobFailure, JobRunner, JobState, NewJob};
use productsmanager_core::notifications::{Event, JobEvent, LiveFeed, NewNotification, NotificationQuery};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{Sdk, both_backends};
use uuid::Uuid;

async fn ana(sdk: &Sdk) -> Uuid {
    let input = NewUser {
        email: "ana@example.com".into(),
        display_name: None,
        password: "correct horse battery".into(),
        roles: vec!["importer".into()],
    };
    sdk.auth().create_user(input).await.unwrap().id
}

/// Waits until the job is over.
async fn settled(sdk: &Sdk, id: Uuid) -> JobState {
    for _ in 0..400 {
        let state = sdk.jobs().get(id).await.unwrap().state;
        if !matches!(state, JobState::Queued | JobState::Running) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("job {id} did not finish");
}

async fn job_ends_are_told_to_whoever_asked(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "job_ends_are_told").await else { return };
    let sdk = env.sdk().await;
    let ana = ana(&sdk).await;
    let mut live = sdk.events().subscribe();
    let notifications = sdk.notifications();
    let running = JobRunner::new(sdk.jobs(), "notify-test")
        .queue("catalog", 2)
        .timing(Duration::from_secs(30), Duration::from_millis(20))
        .on_change({
            let notifications = notifications.clone();
            move |job| {
                let notifications = notifications.clone();
                async move { notifications.job_changed(job).await }
            }
        })
        .handle("tidy", |_job| async { Ok(()) })
        .handle("broken", |_job| async { Err(JobFailure::Permanent("supplier file vanished".into())) })
        .start();
    let job = |kind: &str, requested_by: Option<Uuid>| NewJob {
        queue: "catalog".into(),
        kind: kind.into(),
        requested_by,
        ..Default::default()
    };
    let tidy = sdk.jobs().enqueue(job("tidy", Some(ana))).await.unwrap();
    let broken = sdk.jobs().enqueue(job("broken", Some(ana))).await.unwrap();
    let unasked = sdk.jobs().enqueue(job("tidy", None)).await.unwrap();
    assert_eq!(tidy.requested_by, Some(ana), "stored with the job");
    assert_eq!(settled(&sdk, tidy.id).await, JobState::Succeeded);
    assert_eq!(settled(&sdk, broken.id).await, JobState::Failed);
    assert_eq!(settled(&sdk, unasked.id).await, JobState::Succeeded);
    running.shutdown(Duration::from_secs(5)).await;

    let page = notifications.list(ana, &NotificationQuery::default()).await.unwrap();
    let mut told: Vec<_> = page.items.iter().map(|n| (n.kind.as_str(), n.title.as_str(), n.entity_id)).collect();
    told.sort();
    assert_eq!(
        told,
        [("job_failed", "Broken failed", Some(broken.id)), ("job_finished", "Tidy finished", Some(tidy.id))]
    );
    let failed = page.items.iter().find(|n| n.kind == "job_failed").unwrap();
    assert_eq!(failed.body, "supplier file vanished");

    // Listeners heard the job states and the two notifications.
    let mut heard = Vec::new();
    while let Ok(event) = live.try_recv() {
        heard.push(event);
    }
    let states_of = |id: Uuid| {
        heard
            .iter()
            .filter_map(|e| match e {
                Event::Job { job } if job.id == id => Some(job.state),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(states_of(tidy.id), [JobState::Running, JobState::Succeeded]);
    assert_eq!(states_of(broken.id), [JobState::Running, JobState::Failed]);
    assert_eq!(heard.iter().filter(|e| matches!(e, Event::Notification { .. })).count(), 2);

    // A request body cannot name someone else as the requester.
    let forged = format!(r#"{{"queue": "catalog", "kind": "tidy", "requested_by": "{}"}}"#, Uuid::new_v4());
    if let Ok(parsed) = parse_json::<NewJob>(&forged) {
        assert_eq!(parsed.requested_by, None);
    }
    sdk.close().await;
}

async fn an_import_tells_its_counters(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "import_tells_counters").await else { return };
    let sdk = env.sdk().await;
    let ana = ana(&sdk).await;
    let supplier = NewSupplier { code: "ACME".into(), name: "Acme".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(supplier).await.unwrap().id;
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("acme.csv");
    std::fs::write(&path, "sku,title,price,currency\nA-1,Pen,1.50,EUR\nA-2,Pad,2.00,EUR\nA-3,,3.00,EUR\n").unwrap();
    let input = NewImport { requested_by: Some(ana), ..super::imports::native(supplier, &path) };
    let job = sdk.imports().upload(input).await.unwrap();
    assert_eq!(job.requested_by, Some(ana));
    let workers = sdk.job_runner("import-notify", &["imports".to_string()]).unwrap().start();
    for _ in 0..400 {
        if sdk.imports().job(job.id).await.unwrap().finished_at.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    workers.shutdown(Duration::from_secs(5)).await;
    let page = sdk.notifications().list(ana, &NotificationQuery::default()).await.unwrap();
    assert_eq!(page.items.len(), 1, "{:?}", page.items);
    let told = &page.items[0];
    assert_eq!((told.kind.as_str(), told.title.as_str()), ("import_summary", "Import finished: 1 of 3 rows refused"));
    assert_eq!(told.body, "3 rows: 2 created, 0 updated, 0 unchanged, 1 invalid");
    assert_eq!(told.entity_id, Some(job.id));
    sdk.close().await;
}

/// Waits for the feed's next event, at most `secs`.
async fn next_within(feed: &mut LiveFeed, secs: u64) -> Option<Event> {
    tokio::time::timeout(Duration::from_secs(secs), feed.next()).await.ok().flatten()
}

async fn a_live_feed_gives_each_notification_once(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "live_feed_once").await else { return };
    let here = env.sdk().await;
    // A second SDK on the same databases stands for another process (a worker): its events are not ours.
    let worker = env.sdk().await;
    let ana = ana(&here).await;
    let bo = NewUser {
        email: "bo@example.com".into(),
        display_name: None,
        password: "correct horse battery".into(),
        roles: vec!["viewer".into()],
    };
    let bo = here.auth().create_user(bo).await.unwrap().id;
    let mut feed = here.notifications().live(ana, false);

    let local = here.notifications().notify(NewNotification::new(ana, "note", "stored here")).await.unwrap();
    here.notifications().notify(NewNotification::new(bo, "note", "someone else's")).await.unwrap();
    let event = next_within(&mut feed, 2).await.expect("a notification stored here comes at once");
    assert!(matches!(&event, Event::Notification { notification } if notification.id == local.id), "{event:?}");

    let remote = worker.notifications().notify(NewNotification::new(ana, "note", "stored elsewhere")).await.unwrap();
    // Within one catch-up (3 s): the one stored elsewhere, and not again the one already given.
    let event = next_within(&mut feed, 5).await.expect("a notification stored by another process is caught up");
    assert!(matches!(&event, Event::Notification { notification } if notification.id == remote.id), "{event:?}");

    // Jobs: only those ana asked for, without `jobs:read`.
    let job = |requested_by| JobEvent {
        id: Uuid::now_v7(),
        queue: "catalog".into(),
        kind: "tidy".into(),
        state: JobState::Running,
        progress: None,
        last_error: None,
        requested_by,
    };
    let (theirs, hers) = (job(Some(bo)), job(Some(ana)));
    here.events().publish(Event::Job { job: theirs.clone() });
    here.events().publish(Event::Job { job: hers.clone() });
    assert_eq!(next_within(&mut feed, 2).await, Some(Event::Job { job: hers }));
    // Nothing more: the local notification (also in the database) and bo's stay away across a catch-up.
    assert_eq!(next_within(&mut feed, 4).await, None);

    let mut everything = here.notifications().live(ana, true);
    here.events().publish(Event::Job { job: theirs.clone() });
    assert_eq!(next_within(&mut everything, 2).await, Some(Event::Job { job: theirs }));
    worker.close().await;
    here.close().await;
}

both_backends!(
    job_ends_are_told_to_whoever_asked,
    an_import_tells_its_counters,
    a_live_feed_gives_each_notification_once
);
