//! Thumbnails of a 12-megapixel JPEG (4000 × 3000) on this machine's cores, beside the plain work done with the same
//! libraries in the same run:
//!
//! - raw: decode only (`image`); decode + resize to each of the three boxes from the full image + JPEG encode
//!   (`image` + `fast_image_resize`, in memory: what a naive implementation does); and the same with each size made
//!   from the one before, as ours does (so the difference to ours is our own overhead);
//! - ours: `MediaService::make_thumbnails` (read the original from the object store, decode, turn upright, three
//!   sizes each from the one before, encode, store three objects and three rows), one at a time and two at a time;
//! - upload → thumbnails latency: `upload` making them at once (no worker), and through a media worker (the job
//!   queued by the upload, until it has succeeded).
//!
//! ```text
//! cargo bench -p productsmanager-benches --bench media
//! ```

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Cursor;
use std::time::{Duration, Instant};

use fast_image_resize::{ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageFormat, RgbImage};
use productsmanager_core::catalog::NewProduct;
use productsmanager_core::db::Backend;
use productsmanager_core::jobs::JobState;
use productsmanager_core::media::NewImage;
use productsmanager_core::testing::TestDatabases;

const ROUNDS: usize = 8;

/// A photo-like 12 MP JPEG: gradients with noise, so the encoder and decoder do real work.
fn twelve_megapixels() -> Vec<u8> {
    let mut seed: u32 = 0x9E37_79B9;
    let image = RgbImage::from_fn(4000, 3000, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 24) as u8;
        image::Rgb([(x / 16 % 256) as u8 ^ noise, (y / 12 % 256) as u8 ^ noise, ((x + y) / 28 % 256) as u8])
    });
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(image).write_to(&mut Cursor::new(&mut jpeg), ImageFormat::Jpeg).unwrap();
    jpeg
}

fn fit(width: u32, height: u32, side: u32) -> (u32, u32) {
    let scale = f64::from(side) / f64::from(width.max(height));
    (((f64::from(width) * scale).round() as u32).max(1), ((f64::from(height) * scale).round() as u32).max(1))
}

/// Decode, three resizes from the full image, three JPEG encodes: the same libraries, nothing else.
fn plain(jpeg: &[u8]) -> usize {
    let source = DynamicImage::ImageRgb8(image::load_from_memory(jpeg).unwrap().to_rgb8());
    let mut resizer = Resizer::new();
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(fast_image_resize::FilterType::Lanczos3));
    let mut written = 0;
    for side in [800, 300, 150] {
        let (width, height) = fit(source.width(), source.height(), side);
        let mut target = DynamicImage::new(width, height, source.color());
        resizer.resize(&source, &mut target, &options).unwrap();
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85).encode_image(&target).unwrap();
        written += bytes.len();
    }
    written
}

/// The same work as ours, in memory: decode, then large from the original, medium from large, small from medium.
fn plain_cascade(jpeg: &[u8]) -> usize {
    let mut current = DynamicImage::ImageRgb8(image::load_from_memory(jpeg).unwrap().to_rgb8());
    let mut resizer = Resizer::new();
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(fast_image_resize::FilterType::Lanczos3));
    let mut written = 0;
    for side in [800, 300, 150] {
        let (width, height) = fit(current.width(), current.height(), side);
        let mut target = DynamicImage::new(width, height, current.color());
        resizer.resize(&current, &mut target, &options).unwrap();
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 85).encode_image(&target).unwrap();
        written += bytes.len();
        current = target;
    }
    written
}

fn mean_ms(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let mean = samples.iter().map(Duration::as_secs_f64).sum::<f64>() / samples.len() as f64 * 1e3;
    (mean, samples[samples.len() / 2].as_secs_f64() * 1e3)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let jpeg = twelve_megapixels();
    println!(
        "12 MP JPEG: {} bytes; {ROUNDS} rounds per row; {} cores",
        jpeg.len(),
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let decode: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(image::load_from_memory(&jpeg).unwrap());
            started.elapsed()
        })
        .collect();
    let raw: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(plain(&jpeg));
            started.elapsed()
        })
        .collect();

    let cascade: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(plain_cascade(&jpeg));
            started.elapsed()
        })
        .collect();

    // The plain work two at a time, on two threads, as ours runs below.
    let started = Instant::now();
    let mut remaining = ROUNDS;
    while remaining > 0 {
        let at_once = remaining.min(2);
        std::thread::scope(|scope| {
            for _ in 0..at_once {
                scope.spawn(|| std::hint::black_box(plain(&jpeg)));
            }
        });
        remaining -= at_once;
    }
    let plain_sets_per_second = ROUNDS as f64 / started.elapsed().as_secs_f64();

    let rows = runtime.block_on(async {
        let env = TestDatabases::named(Backend::Sqlite, "media bench").await.unwrap();
        let sdk = env.sdk().await;
        let media = sdk.media();
        let input = NewProduct { sku: Some("BENCH-1".parse().unwrap()), title: "Bench".into(), ..Default::default() };
        sdk.products().create(input).await.unwrap();

        // Upload with no worker: thumbnails made before `upload` returns.
        let started = Instant::now();
        let upload = media.upload(NewImage::new("BENCH-1", jpeg.clone())).await.unwrap();
        let inline = started.elapsed();
        assert_eq!(upload.file.thumbnails.len(), 3);
        let id = upload.file.id;

        let mut ours = Vec::new();
        for _ in 0..ROUNDS {
            let started = Instant::now();
            media.make_thumbnails(id).await.unwrap();
            ours.push(started.elapsed());
        }

        // Two at a time, as the media queue's two workers run them.
        let started = Instant::now();
        let mut pending = tokio::task::JoinSet::new();
        for _ in 0..ROUNDS {
            let media = media.clone();
            pending.spawn(async move { media.make_thumbnails(id).await.unwrap() });
            if pending.len() == 2 {
                pending.join_next().await;
            }
        }
        while pending.join_next().await.is_some() {}
        let sets_per_second = ROUNDS as f64 / started.elapsed().as_secs_f64();

        // Through a media worker: upload (another image, so it is new) until the job has succeeded.
        let running = sdk.job_runner("bench", &["media".to_string()]).unwrap().start();
        while sdk.jobs().stats("media").await.unwrap().workers == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut other = jpeg.clone();
        other.extend_from_slice(b"\xFF\xD9"); // one more end marker: other bytes, the same picture
        let started = Instant::now();
        let upload = media.upload(NewImage::new("BENCH-1", other)).await.unwrap();
        let job = upload.thumbnails_job.unwrap();
        let returned = started.elapsed();
        while sdk.jobs().get(job).await.unwrap().state != JobState::Succeeded {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let through_worker = started.elapsed();
        running.shutdown(Duration::from_secs(5)).await;
        sdk.close().await;
        (inline, ours, sets_per_second, returned, through_worker)
    });
    let (inline, ours, sets_per_second, returned, through_worker) = rows;

    let (decode_mean, decode_p50) = mean_ms(decode);
    let (raw_mean, raw_p50) = mean_ms(raw);
    let (ours_mean, ours_p50) = mean_ms(ours);
    let (cascade_mean, cascade_p50) = mean_ms(cascade);
    println!();
    println!("| work | mean | p50 | vs plain |");
    println!("|---|---|---|---|");
    println!("| decode only (raw `image`) | {decode_mean:.0} ms | {decode_p50:.0} ms | |");
    println!(
        "| plain: decode + 3 resizes from the original + 3 JPEG encodes (raw) | {raw_mean:.0} ms | {raw_p50:.0} ms | 1.00x |"
    );
    println!(
        "| plain, each size from the one before, as ours (raw) | {cascade_mean:.0} ms | {cascade_p50:.0} ms | {:.2}x |",
        cascade_mean / raw_mean
    );
    println!(
        "| ours: make_thumbnails (store read, decode, upright, 3 sizes, encode, 3 objects + 3 rows) | {ours_mean:.0} ms | {ours_p50:.0} ms | {:.2}x |",
        ours_mean / raw_mean
    );
    println!();
    println!(
        "ours vs the same cascade done plainly: {:.2}x (store read, orientation, 3 objects + 3 rows)",
        ours_mean / cascade_mean
    );
    println!();
    println!("| throughput, two at a time | thumbnail sets/s | thumbnails/s |");
    println!("|---|---|---|");
    println!("| ours, two make_thumbnails at once | {sets_per_second:.2} | {:.2} |", sets_per_second * 3.0);
    println!("| plain (raw), two threads | {plain_sets_per_second:.2} | {:.2} |", plain_sets_per_second * 3.0);
    println!();
    println!("| upload → thumbnails | latency |");
    println!("|---|---|");
    println!(
        "| upload, no worker (check + store + thumbnails before it returns) | {:.0} ms |",
        inline.as_secs_f64() * 1e3
    );
    println!("| upload with a media worker: the call returns | {:.0} ms |", returned.as_secs_f64() * 1e3);
    println!(
        "| upload with a media worker: until the job has succeeded | {:.0} ms |",
        through_worker.as_secs_f64() * 1e3
    );
}
