//! Product images: upload, dedup, thumbnails (upright, without EXIF), metadata, order, main image, delete, QR codes,
//! orphans — on both backends, on the local store (SQLite) and on S3 (PostgreSQL); and every kind of bad file
//! refused with nothing stored.

use std::io::Cursor;
use std::time::Duration;

use image::{DynamicImage, ImageFormat, RgbImage, Rgba, RgbaImage};
use productsmanager_core::catalog::{ImageUrlService, NewProduct, NewSupplier};
use productsmanager_core::db::Backend;
use productsmanager_core::db::Database;
use productsmanager_core::media::{FetchReport, NewImage, QrFormat, Variant};
use productsmanager_core::testing::TestDatabases;
use productsmanager_core::{ErrorKind, Sdk, both_backends};

/// A JPEG of `width` × `height` with an EXIF block: camera, date, orientation and a GPS position.
pub(crate) fn photo(width: u32, height: u32, orientation: u16) -> Vec<u8> {
    use exif::{Field, In, Rational, Tag, Value};
    let image = RgbImage::from_fn(width, height, |x, y| image::Rgb([(x / 4 % 256) as u8, (y / 4 % 256) as u8, 120]));
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(image).write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg).unwrap();
    let fields = [
        Field { tag: Tag::Make, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"Canon".to_vec()]) },
        Field { tag: Tag::Model, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"EOS R6".to_vec()]) },
        Field { tag: Tag::Orientation, ifd_num: In::PRIMARY, value: Value::Short(vec![orientation]) },
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![b"2026:05:01 10:30:00".to_vec()]),
        },
        Field { tag: Tag::GPSLatitudeRef, ifd_num: In::PRIMARY, value: Value::Ascii(vec![b"N".to_vec()]) },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![Rational::from((48, 1)), Rational::from((51, 1)), Rational::from((24, 1))]),
        },
    ];
    let mut writer = exif::experimental::Writer::new();
    for field in &fields {
        writer.push_field(field);
    }
    let mut tiff = Cursor::new(Vec::new());
    writer.write(&mut tiff, false).unwrap();
    let tiff = tiff.into_inner();
    // APP1 right after SOI: "Exif\0\0" then the TIFF block; the length counts itself.
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&u16::try_from(tiff.len() + 8).unwrap().to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// A PNG with transparency.
pub(crate) fn logo(width: u32, height: u32) -> Vec<u8> {
    let image = RgbaImage::from_fn(width, height, |x, _| Rgba([200, 30, 30, if x < width / 2 { 0 } else { 255 }]));
    let mut png = Vec::new();
    DynamicImage::ImageRgba8(image).write_to(&mut Cursor::new(&mut png), ImageFormat::Png).unwrap();
    png
}

/// A small JPEG whose header claims `side` × `side` pixels (the frame header has no checksum).
pub(crate) fn bomb(side: u16) -> Vec<u8> {
    let mut jpeg = photo(16, 16, 1);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&side.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&side.to_be_bytes());
    jpeg
}

async fn product(sdk: &Sdk, gtin: Option<&str>, sku: &str) -> uuid::Uuid {
    let input = NewProduct {
        gtin: gtin.map(|g| g.parse().unwrap()),
        sku: Some(sku.parse().unwrap()),
        title: format!("Product {sku}"),
        ..Default::default()
    };
    sdk.products().create(input).await.unwrap().id
}

async fn stored_keys(sdk: &Sdk) -> Vec<String> {
    let mut keys: Vec<String> = sdk.storage().list("products/").await.unwrap().into_iter().map(|o| o.key).collect();
    keys.sort();
    keys
}

async fn images_stored_shown_and_removed(backend: Backend) {
    let test = "media_story";
    let Some(mut env) = TestDatabases::named(backend, test).await else { return };
    // The same story on the local store (SQLite) and on S3 (PostgreSQL).
    if backend == Backend::Postgres && !env.use_s3(test).await {
        return;
    }
    let sdk = env.sdk().await;
    let media = sdk.media();
    let id = product(&sdk, Some("4006381333931"), "SHOE-1").await;

    // A portrait photo taken with the camera turned: stored as sent, shown upright.
    let jpeg = photo(1200, 800, 6);
    let first = media.upload(NewImage { filename: Some("shoe.JPG".into()), ..NewImage::new("SHOE-1", jpeg.clone()) });
    let first = first.await.unwrap();
    assert!(first.created && first.thumbnails_job.is_none(), "no worker: thumbnails made at once");
    let file = &first.file;
    let prefix = format!("products/{}/{id}/", &id.to_string()[..2]);
    assert_eq!(file.object_key, format!("{prefix}{}.jpg", file.sha256));
    assert_eq!((file.content_type.as_str(), file.width, file.height), ("image/jpeg", Some(1200), Some(800)));
    assert_eq!((file.position, file.is_main, file.original_filename.as_deref()), (0, true, Some("shoe.JPG")));
    let sizes: Vec<_> = file.thumbnails.iter().map(|t| (t.size.as_str(), t.width, t.height)).collect();
    assert_eq!(sizes, [("small", 100, 150), ("medium", 200, 300), ("large", 533, 800)], "upright, fitted");
    assert_eq!(sdk.storage().get(&file.object_key).await.unwrap(), jpeg, "the original is kept byte for byte");
    for variant in [Variant::Small, Variant::Medium, Variant::Large] {
        let content = media.content(file.id, variant).await.unwrap();
        assert_eq!(content.content_type, "image/jpeg");
        let exif = exif::Reader::new().read_from_container(&mut Cursor::new(content.bytes.to_vec()));
        assert!(exif.is_err(), "{variant:?}: a thumbnail carries no EXIF (no GPS)");
    }

    // On S3 a presigned URL downloads it without credentials; the local store has none.
    match media.presigned_url(file.id, Variant::Large).await.unwrap() {
        Some(url) => {
            assert_eq!(backend, Backend::Postgres, "only the S3 run signs URLs");
            let fetched = reqwest::get(url.as_str()).await.unwrap();
            assert_eq!(fetched.status(), 200);
            let large = media.content(file.id, Variant::Large).await.unwrap().bytes;
            assert_eq!(fetched.bytes().await.unwrap(), large);
        }
        None => assert_eq!(backend, Backend::Sqlite),
    }

    let metadata = media.metadata(file.id).await.unwrap();
    assert_eq!(
        (metadata.camera_make.as_deref(), metadata.camera_model.as_deref(), metadata.orientation, metadata.has_gps),
        (Some("Canon"), Some("EOS R6"), Some(6), true)
    );
    assert_eq!(metadata.taken_at.unwrap().to_rfc3339(), "2026-05-01T10:30:00+00:00");
    assert_eq!((metadata.format.as_deref(), metadata.color_space.as_deref()), (Some("jpeg"), Some("rgb8")));
    let exif = media.exif(file.id).await.unwrap().unwrap();
    assert!(exif.contains_key("GPSLatitude"), "kept internally: {exif:?}");

    // The same image again: nothing new stored.
    let again = media.upload(NewImage::new(id.to_string(), jpeg.clone())).await.unwrap();
    assert!(!again.created && again.file.id == file.id);
    assert_eq!(stored_keys(&sdk).await.len(), 4, "one original and three thumbnails");

    // A second image by GTIN: after the first, not main; transparency on white in JPEG thumbnails.
    let second = media.upload(NewImage::new("4006381333931", logo(320, 100))).await.unwrap().file;
    assert_eq!((second.position, second.is_main, second.content_type.as_str()), (1, false, "image/png"));
    let large = second.thumbnails.iter().find(|t| t.size == "large").unwrap();
    assert_eq!((large.width, large.height), (320, 100), "never enlarged");
    let listed: Vec<_> = media.list("SHOE-1").await.unwrap().iter().map(|f| f.id).collect();
    assert_eq!(listed, [file.id, second.id]);
    let reordered: Vec<_> =
        media.reorder("SHOE-1", &[second.id, file.id]).await.unwrap().iter().map(|f| f.id).collect();
    assert_eq!(reordered, [second.id, file.id]);
    let refused = media.reorder("SHOE-1", &[second.id]).await.unwrap_err();
    assert_eq!((refused.kind(), refused.field()), (ErrorKind::Invalid, Some("order")));
    assert!(media.set_main(second.id).await.unwrap().is_main);
    assert!(!media.get(file.id).await.unwrap().is_main, "one main image per product");

    // Deleting the main image: the next in order becomes main; its objects go.
    media.delete(second.id).await.unwrap();
    assert!(media.get(file.id).await.unwrap().is_main);
    assert_eq!(media.get(second.id).await.unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(stored_keys(&sdk).await.len(), 4);

    // QR codes: the GS1 Digital Link of the GTIN by default, PNG and SVG.
    let (qr, png) = media.qr_code("SHOE-1", QrFormat::Png).await.unwrap();
    assert_eq!(qr.content, "https://id.gs1.org/01/04006381333931");
    assert_eq!(image::guess_format(&png).unwrap(), ImageFormat::Png);
    let (svg_qr, svg) = media.qr_code("SHOE-1", QrFormat::Svg).await.unwrap();
    assert!(svg_qr.object_key.ends_with("qrcode.svg") && std::str::from_utf8(&svg).unwrap().contains("<svg"));
    product(&sdk, None, "NO-GTIN").await;
    let no_gtin = media.qr_code("NO-GTIN", QrFormat::Png).await.unwrap_err();
    assert!(no_gtin.kind() == ErrorKind::Invalid && no_gtin.to_string().contains("GTIN"), "{no_gtin}");

    // An object no row refers to is removed by the orphan clean-up; the referenced ones stay.
    let orphan = format!("{prefix}{}.png", "0".repeat(64));
    sdk.storage().put(&orphan, "x".into()).await.unwrap();
    assert_eq!(media.remove_orphans(Duration::from_secs(3600)).await.unwrap(), 0, "too young to be an orphan");
    assert_eq!(media.remove_orphans(Duration::ZERO).await.unwrap(), 1);
    assert_eq!(stored_keys(&sdk).await.len(), 6, "original, three thumbnails, two QR codes");
    sdk.close().await;
}

async fn bad_files_are_refused_and_leave_nothing(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "media_bad_files").await else { return };
    env.config_mut().media.max_upload_bytes = 1 << 20;
    let sdk = env.sdk().await;
    let media = sdk.media();
    product(&sdk, Some("4006381333931"), "SHOE-1").await;
    let full = logo(64, 64);
    let svg = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";
    let cases: Vec<(&str, Vec<u8>, ErrorKind, &str)> = vec![
        ("a text file named .jpg", b"sku;price\nA1;9.90\n".to_vec(), ErrorKind::Unsupported, "not a JPEG, PNG or WebP"),
        ("a truncated PNG", full[..full.len() / 2].to_vec(), ErrorKind::Invalid, "not a readable png"),
        ("30000 x 30000 px", bomb(30_000), ErrorKind::TooLarge, "media.max_pixels"),
        ("zero bytes", Vec::new(), ErrorKind::Invalid, "empty"),
        ("over the size limit", vec![0xFF; (1 << 20) + 1], ErrorKind::TooLarge, "media.max_upload_bytes"),
        ("an SVG with a script", svg.to_vec(), ErrorKind::Unsupported, "SVG"),
    ];
    for (what, bytes, kind, says) in cases {
        let refused = media.upload(NewImage::new("SHOE-1", bytes)).await.unwrap_err();
        assert_eq!(refused.kind(), kind, "{what}: {refused}");
        assert!(refused.to_string().contains(says), "{what}: {refused}");
    }
    let unknown = media.upload(NewImage::new("NO-SUCH-SKU", full.clone())).await.unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert!(stored_keys(&sdk).await.is_empty(), "no object left behind");
    assert!(media.list("SHOE-1").await.unwrap().is_empty(), "no row written");
    sdk.close().await;
}

/// With a worker on the media queue, the upload returns at once and a media job makes the thumbnails.
async fn a_worker_makes_the_thumbnails(backend: Backend) {
    let Some(env) = TestDatabases::named(backend, "media_worker").await else { return };
    let sdk = env.sdk().await;
    product(&sdk, None, "SHOE-1").await;
    let running = sdk.job_runner("media-test", &["media".to_string()]).unwrap().start();
    super::jobs::eventually("the media worker to register", async || {
        sdk.jobs().stats("media").await.unwrap().workers > 0
    })
    .await;
    let upload = sdk.media().upload(NewImage::new("SHOE-1", photo(640, 480, 1))).await.unwrap();
    let job = upload.thumbnails_job.expect("queued for the worker");
    super::jobs::eventually("the thumbnails job to succeed", async || {
        sdk.jobs().get(job).await.unwrap().state == productsmanager_core::jobs::JobState::Succeeded
    })
    .await;
    let made = sdk.media().get(upload.file.id).await.unwrap().thumbnails;
    let sizes: Vec<_> = made.iter().map(|t| (t.size.as_str(), t.width, t.height)).collect();
    assert_eq!(sizes, [("small", 150, 113), ("medium", 300, 225), ("large", 640, 480)]);
    running.shutdown(Duration::from_secs(5)).await;
    sdk.close().await;
}

/// A local web server for image downloads: `/shoe.jpg` (an image), `/moved` (302 to it), `/page.html` (HTML),
/// `/slow.jpg` (answers after 5 s), anything else 404. Answers how many requests it served.
async fn image_server(jpeg: Vec<u8>) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let served = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (jpeg, counter) = (jpeg.clone(), counter.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0_u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).await.unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                counter.fetch_add(1, Ordering::SeqCst);
                let path = String::from_utf8_lossy(&head).split(' ').nth(1).unwrap_or("").to_string();
                let (status, content_type, body): (&str, &str, Vec<u8>) = match path.as_str() {
                    "/shoe.jpg" => ("200 OK", "image/jpeg", jpeg),
                    "/moved" => ("302 Found", "text/plain", Vec::new()),
                    "/page.html" => ("200 OK", "text/html; charset=utf-8", b"<html></html>".to_vec()),
                    "/slow.jpg" => {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        ("200 OK", "image/jpeg", jpeg)
                    }
                    _ => ("404 Not Found", "text/plain", b"no".to_vec()),
                };
                let location = if path == "/moved" { "Location: /shoe.jpg\r\n" } else { "" };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{location}Connection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
            });
        }
    });
    (base, served)
}

/// Images by URL: one call, and the URLs an import found fetched by a run (each tried three times at most).
async fn images_are_fetched_from_urls(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "media_fetch").await else { return };
    env.config_mut().media.allow_private_downloads = true; // the test server is on 127.0.0.1
    env.config_mut().media.download_timeout_secs = 2;
    let sdk = env.sdk().await;
    let media = sdk.media();
    let jpeg = photo(320, 240, 1);
    let (base, served) = image_server(jpeg.clone()).await;
    product(&sdk, None, "SHOE-1").await;

    let upload = media.upload_from_url("SHOE-1", &format!("{base}/moved"), None).await.unwrap();
    assert!(upload.created);
    assert_eq!(upload.file.source_url, Some(format!("{base}/moved")));
    assert_eq!(sdk.storage().get(&upload.file.object_key).await.unwrap(), jpeg, "followed the redirect");
    for (path, kind, says) in [
        ("/page.html", ErrorKind::Unsupported, "text/html"),
        ("/missing.jpg", ErrorKind::Invalid, "404"),
        ("/slow.jpg", ErrorKind::Invalid, "media.download_timeout_secs"),
    ] {
        let refused = media.upload_from_url("SHOE-1", &format!("{base}{path}"), None).await.unwrap_err();
        assert_eq!(refused.kind(), kind, "{path}: {refused}");
        assert!(refused.to_string().contains(says), "{path}: {refused}");
    }
    let ftp = media.upload_from_url("SHOE-1", "ftp://127.0.0.1/a.jpg", None).await.unwrap_err();
    assert!(ftp.to_string().contains("only http and https"), "{ftp}");
    let before = served.load(std::sync::atomic::Ordering::SeqCst);
    let unknown = media.upload_from_url("NO-SUCH", &format!("{base}/shoe.jpg"), None).await.unwrap_err();
    assert_eq!(unknown.kind(), ErrorKind::NotFound);
    assert_eq!(served.load(std::sync::atomic::Ordering::SeqCst), before, "nothing downloaded for no product");

    // An import writes the URLs; a fetch run stores the good one and records the bad one.
    let supplier = NewSupplier { code: "ACME".into(), name: "Acme".into(), ..Default::default() };
    let supplier = sdk.suppliers().create(supplier).await.unwrap().id;
    let csv = format!(
        "sku,title,price,currency,image_url\nBOOT-1,Boot,49.90,EUR,{base}/shoe.jpg\nBOOT-2,Boot 2,39.90,EUR,{base}/gone.jpg\n"
    );
    let path = env.folder().join("boots.csv");
    std::fs::write(&path, csv).unwrap();
    sdk.imports().import_file(super::imports::native(supplier, &path), |_| {}).await.unwrap();
    let image_urls = ImageUrlService::new(sdk.pool(Database::Catalog).clone());
    let pending = image_urls.pending(None, 3, 10).await.unwrap();
    assert_eq!(pending.len(), 2);
    let good = pending.iter().find(|p| p.url.ends_with("/shoe.jpg")).unwrap().product_id;
    let report = media.fetch_pending().await.unwrap();
    assert_eq!((report.fetched, report.failed), (1, 1));
    assert!(report.samples[0].starts_with(&format!("{base}/gone.jpg: ")), "{:?}", report.samples);
    let boot = media.list(&good.to_string()).await.unwrap();
    assert_eq!((boot.len(), boot[0].source_url.clone()), (1, Some(format!("{base}/shoe.jpg"))));
    assert_eq!(boot[0].sha256, upload.file.sha256, "the same picture as the one fetched above");
    for _ in 0..2 {
        let report = media.fetch_pending().await.unwrap();
        assert_eq!((report.fetched, report.failed), (0, 1));
    }
    assert_eq!(media.fetch_pending().await.unwrap(), FetchReport::default(), "three tries, then left alone");
    assert_eq!(image_urls.count_pending(3).await.unwrap(), 0);
    sdk.close().await;
}

both_backends!(
    images_stored_shown_and_removed,
    bad_files_are_refused_and_leave_nothing,
    a_worker_makes_the_thumbnails,
    images_are_fetched_from_urls
);
