//! Product images over HTTP: multipart upload, listing, download with ETag and ranges, order, main image, delete,
//! QR codes, and bad files refused with the right status and nothing stored; on both backends.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};
use productsmanager_core::both_backends;
use productsmanager_core::db::Backend;
use productsmanager_core::testing::TestDatabases;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod common;
use common::{Endpoint, TestServer, get, multipart, parse_binary, request, request_bytes};

fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 40]));
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(image).write_to(&mut Cursor::new(&mut bytes), format).unwrap();
    bytes
}

async fn upload(addr: Endpoint, product: &str, name: &str, bytes: &[u8]) -> common::BinaryReply {
    let (headers, body) = multipart(&[("file", Some(name), bytes), ("alt_text", None, b"Front view")]);
    request_bytes(addr, "POST", &format!("/api/v1/products/{product}/images"), &headers, &body).await
}

async fn images_over_http(backend: Backend) {
    let Some(mut env) = TestDatabases::named(backend, "media_over_http").await else { return };
    // As deployed by default: the server's own network is out of reach.
    env.config_mut().network.allow_private = false;
    env.config_mut().media.max_upload_bytes = 1 << 20;
    let sdk = env.sdk().await;
    let server = TestServer::start(sdk.clone()).await;
    let addr = server.addr;
    let product = r#"{"sku": "SHOE-1", "gtin": "4006381333931", "title": "Trail shoe"}"#;
    assert_eq!(request(addr, "POST", "/api/v1/products", "", Some(product)).await.status, 201);

    let jpeg = picture(900, 600, ImageFormat::Jpeg);
    let stored = upload(addr, "SHOE-1", "front.jpg", &jpeg).await;
    assert_eq!(stored.status, 201, "{}", String::from_utf8_lossy(&stored.body));
    let created = stored.json();
    let id = created["file"]["id"].as_str().unwrap().to_string();
    assert_eq!(stored.header("location"), Some(format!("/api/v1/images/{id}").as_str()));
    assert_eq!(created["file"]["alt_text"], "Front view");
    assert_eq!(created["file"]["thumbnails"].as_array().unwrap().len(), 3, "made at once: no media worker");
    let again = upload(addr, "4006381333931", "copy.jpg", &jpeg).await;
    assert_eq!((again.status, again.json()["created"].as_bool()), (200, Some(false)), "the same image: stored once");

    // Download: the bytes, an ETag that answers 304, single ranges, 416 outside.
    let original = request_bytes(addr, "GET", &format!("/api/v1/images/{id}/content"), "", b"").await;
    assert_eq!((original.status, original.header("content-type")), (200, Some("image/jpeg")));
    assert_eq!(original.body, jpeg);
    assert!(original.header("cache-control").unwrap().contains("immutable"));
    let small = request_bytes(addr, "GET", &format!("/api/v1/images/{id}/content?variant=small"), "", b"").await;
    assert_eq!(image::load_from_memory(&small.body).unwrap().width(), 150);
    let etag = small.header("etag").unwrap().to_string();
    let unchanged = format!("If-None-Match: {etag}\r\n");
    let path = format!("/api/v1/images/{id}/content?variant=small");
    assert_eq!(request_bytes(addr, "GET", &path, &unchanged, b"").await.status, 304);
    let part = request_bytes(addr, "GET", &path, "Range: bytes=0-9\r\n", b"").await;
    assert_eq!((part.status, part.body.len()), (206, 10));
    assert_eq!(part.body, small.body[..10]);
    assert_eq!(part.header("content-range").unwrap(), format!("bytes 0-9/{}", small.body.len()));
    let outside = request_bytes(addr, "GET", &path, "Range: bytes=99999999-\r\n", b"").await;
    assert_eq!(outside.status, 416);
    let unknown = get(addr, &format!("/api/v1/images/{id}/content?variant=huge"), "").await;
    assert_eq!((unknown.status, unknown.json()["field"].as_str()), (422, Some("variant")));

    let metadata = get(addr, &format!("/api/v1/images/{id}/metadata"), "").await;
    assert_eq!((metadata.status, metadata.json()["width"].as_i64()), (200, Some(900)));
    assert!(!metadata.body.contains("exif"), "the EXIF block stays internal: {}", metadata.body);

    // A second image, reordered first, made main; deleting it gives the main role back.
    let png = upload(addr, "SHOE-1", "side.png", &picture(200, 200, ImageFormat::Png)).await.json();
    let second = png["file"]["id"].as_str().unwrap().to_string();
    let order = format!(r#"{{"order": ["{second}", "{id}"]}}"#);
    let reordered = request(addr, "PUT", "/api/v1/products/SHOE-1/images/order", "", Some(&order)).await;
    assert_eq!((reordered.status, reordered.json()[0]["id"].as_str()), (200, Some(second.as_str())));
    let main = request(addr, "PUT", &format!("/api/v1/images/{second}/main"), "", None).await;
    assert_eq!(main.json()["is_main"], true);
    assert_eq!(request(addr, "DELETE", &format!("/api/v1/images/{second}"), "", None).await.status, 204);
    let listed = get(addr, "/api/v1/products/SHOE-1/images", "").await.json();
    assert_eq!((listed.as_array().unwrap().len(), listed[0]["is_main"].as_bool()), (1, Some(true)));

    let svg = request_bytes(addr, "GET", "/api/v1/products/SHOE-1/qrcode?format=svg", "", b"").await;
    assert_eq!((svg.status, svg.header("content-type")), (200, Some("image/svg+xml")));
    let png = request_bytes(addr, "GET", "/api/v1/products/SHOE-1/qrcode", "", b"").await;
    assert_eq!(image::guess_format(&png.body).unwrap(), ImageFormat::Png);

    // Bad files: the right 4xx, problem+json, nothing stored.
    let objects_before = sdk.storage().list("products/").await.unwrap().len();
    let full = picture(64, 64, ImageFormat::Png);
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec();
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("prices.jpg", b"sku;price\nA1;9.90\n".to_vec(), 415),
        ("cut.png", full[..full.len() / 2].to_vec(), 422),
        ("empty.jpg", Vec::new(), 422),
        ("logo.svg", svg, 415),
        ("huge.jpg", vec![0xFF; (1 << 20) + 10], 413),
    ];
    for (name, bytes, status) in cases {
        let refused = upload(addr, "SHOE-1", name, &bytes).await;
        assert_eq!(refused.status, status, "{name}: {}", String::from_utf8_lossy(&refused.body));
        assert_eq!(refused.header("content-type"), Some("application/problem+json"), "{name}");
    }
    assert_eq!(upload(addr, "NO-SUCH", "a.png", &full).await.status, 404);
    let (headers, body) = multipart(&[("file", Some("a.png"), &full), ("colour", None, b"red")]);
    let unknown = request_bytes(addr, "POST", "/api/v1/products/SHOE-1/images", &headers, &body).await;
    assert_eq!((unknown.status, unknown.json()["field"].as_str()), (422, Some("form")));
    // A URL on the server's own network is not fetched (PM_ALLOW_PRIVATE_NETWORK is off by default).
    let body = r#"{"url": "http://127.0.0.1:9/internal.jpg"}"#;
    let refused = request(addr, "POST", "/api/v1/products/SHOE-1/images/from-url", "", Some(body)).await;
    assert_eq!((refused.status, refused.json()["field"].as_str()), (422, Some("source_url")), "{}", refused.body);
    assert!(refused.body.contains("not a public address"), "{}", refused.body);

    // 200 MB announced: refused before the body is sent (the client waits for 100 Continue, which never comes).
    let mut stream = tokio::net::TcpStream::connect(addr.socket).await.unwrap();
    let head = format!(
        "POST /api/v1/products/SHOE-1/images HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{}Content-Type: \
         multipart/form-data; boundary=b\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        common::authorization(addr),
        200_u64 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let refused = parse_binary(&raw);
    assert_eq!(refused.status, 413, "{}", String::from_utf8_lossy(&refused.body));
    assert!(String::from_utf8_lossy(&refused.body).contains("media.max_upload_bytes"));

    assert_eq!(sdk.storage().list("products/").await.unwrap().len(), objects_before, "no object left behind");
    assert_eq!(get(addr, "/api/v1/products/SHOE-1/images", "").await.json().as_array().unwrap().len(), 1);
    server.stop().await.unwrap();
    sdk.close().await;
}

both_backends!(images_over_http);
