//! Reading and making images, on bytes in memory: the type from the content (never the name), the size from the
//! header before anything is decoded, EXIF, thumbnails, QR codes. CPU work: callers run it on a blocking thread.

use std::io::Cursor;

use fast_image_resize::{ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use super::MediaError;
use crate::config::ThumbnailFormat;

/// Image formats accepted for product images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
    Webp,
}

impl Format {
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }

    pub(crate) fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }

    fn library(self) -> image::ImageFormat {
        match self {
            Format::Jpeg => image::ImageFormat::Jpeg,
            Format::Png => image::ImageFormat::Png,
            Format::Webp => image::ImageFormat::WebP,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }
}

/// The accepted format of `bytes`, judged from their content.
pub(crate) fn sniff(bytes: &[u8]) -> Result<Format, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::invalid("file", "is empty (0 bytes)"));
    }
    match image::guess_format(bytes) {
        Ok(image::ImageFormat::Jpeg) => Ok(Format::Jpeg),
        Ok(image::ImageFormat::Png) => Ok(Format::Png),
        Ok(image::ImageFormat::WebP) => Ok(Format::Webp),
        Ok(other) => Err(MediaError::Unsupported {
            reason: format!("{} images are not accepted; send JPEG, PNG or WebP", other.extensions_str()[0]),
        }),
        Err(_) if looks_like_svg(bytes) => Err(MediaError::Unsupported {
            reason: "SVG is not accepted (it can carry scripts); send JPEG, PNG or WebP".into(),
        }),
        Err(_) => Err(MediaError::Unsupported {
            reason: "the content is not a JPEG, PNG or WebP image, whatever the file is called".into(),
        }),
    }
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    head.trim_start_matches('\u{feff}').trim_start().starts_with('<') && head.contains("<svg")
}

/// What the header says, checked against the pixel limit before any decoding.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Header {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// Of the pixels as decoded (4 for 8-bit RGBA, 8 for 16-bit).
    pub bytes_per_pixel: u8,
}

pub(crate) fn header(bytes: &[u8], max_pixels: u64) -> Result<Header, MediaError> {
    let format = sniff(bytes)?;
    let reader = ImageReader::with_format(Cursor::new(bytes), format.library());
    let decoder = reader.into_decoder().map_err(|e| broken(format, &e))?;
    let (width, height) = decoder.dimensions();
    let bytes_per_pixel = decoder.color_type().bytes_per_pixel();
    let pixels = u64::from(width) * u64::from(height);
    if width == 0 || height == 0 {
        return Err(MediaError::invalid("file", format!("the {} image has no pixels", format.name())));
    }
    if pixels > max_pixels {
        return Err(MediaError::TooLarge {
            reason: format!(
                "{width} × {height} px is {:.1} megapixels, over the limit of {:.1} (media.max_pixels)",
                pixels as f64 / 1e6,
                max_pixels as f64 / 1e6
            ),
        });
    }
    Ok(Header { format, width, height, bytes_per_pixel })
}

fn broken(format: Format, error: &image::ImageError) -> MediaError {
    MediaError::invalid("file", format!("not a readable {} image: {error}", format.name()))
}

/// The image, decoded whole (a truncated or corrupt file fails here) and turned upright per its EXIF orientation.
pub(crate) fn decode(bytes: &[u8], header: Header) -> Result<DynamicImage, MediaError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), header.format.library());
    let mut limits = Limits::default();
    limits.max_image_width = Some(header.width);
    limits.max_image_height = Some(header.height);
    // 16-bit RGBA at most, plus the decoder's own buffers.
    limits.max_alloc = Some(u64::from(header.width) * u64::from(header.height) * 8 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| broken(header.format, &e))?;
    let orientation = decoder.orientation().map_err(|e| broken(header.format, &e))?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| broken(header.format, &e))?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Technical metadata and EXIF of an original.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Technical {
    pub color_space: String,
    pub bit_depth: u8,
    pub has_alpha: bool,
    pub orientation: Option<u16>,
    pub camera_make: Option<String>,
    pub camera_model: Option<String>,
    pub lens_model: Option<String>,
    /// `DateTimeOriginal` as written (`2024:05:01 10:30:00`, no zone).
    pub taken_at: Option<chrono::NaiveDateTime>,
    pub has_gps: bool,
    /// Every EXIF field, tag name → value as displayed; internal only.
    pub exif: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Longest EXIF value kept, in characters (maker notes can be kilobytes of binary).
const MAX_EXIF_VALUE: usize = 256;

pub(crate) fn technical(bytes: &[u8], image: &DynamicImage) -> Technical {
    let color = image.color();
    let mut technical = Technical {
        color_space: format!("{color:?}").to_lowercase(),
        bit_depth: u8::try_from(color.bits_per_pixel() / u16::from(color.channel_count())).unwrap_or(8),
        has_alpha: color.has_alpha(),
        ..Technical::default()
    };
    // No EXIF, or EXIF that does not parse: the image is still good, the metadata just is not there.
    let Ok(exif) = exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) else { return technical };
    let text = |tag: exif::Tag| {
        exif.get_field(tag, exif::In::PRIMARY)
            .map(|f| f.display_value().to_string().trim_matches('"').trim().to_string())
            .filter(|v| !v.is_empty())
    };
    technical.camera_make = text(exif::Tag::Make);
    technical.camera_model = text(exif::Tag::Model);
    technical.lens_model = text(exif::Tag::LensModel);
    technical.orientation = exif
        .get_field(exif::Tag::Orientation, exif::In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .and_then(|o| u16::try_from(o).ok());
    technical.taken_at = text(exif::Tag::DateTimeOriginal)
        .and_then(|t| chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M:%S").ok());
    let mut fields = serde_json::Map::new();
    for field in exif.fields() {
        if field.ifd_num != exif::In::PRIMARY && field.ifd_num != exif::In::THUMBNAIL {
            continue;
        }
        if field.tag.context() == exif::Context::Gps {
            technical.has_gps = true;
        }
        let value: String = field.display_value().with_unit(&exif).to_string().chars().take(MAX_EXIF_VALUE).collect();
        fields.insert(field.tag.to_string(), serde_json::Value::String(value));
    }
    technical.exif = Some(fields);
    technical
}

/// The three thumbnail boxes, in pixels.
pub(crate) const SIZES: [(&str, u32); 3] = [("large", 800), ("medium", 300), ("small", 150)];

/// A thumbnail, encoded.
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    pub size: &'static str,
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

/// Width and height fitting `(width, height)` inside a square box, aspect kept, never enlarged.
pub(crate) fn fit(width: u32, height: u32, box_px: u32) -> (u32, u32) {
    if width <= box_px && height <= box_px {
        return (width, height);
    }
    let scale = f64::from(box_px) / f64::from(width.max(height));
    let side = |v: u32| ((f64::from(v) * scale).round() as u32).clamp(1, box_px);
    (side(width), side(height))
}

/// Large, medium and small thumbnails of an upright image: each fits inside its box with the aspect kept, is
/// freshly encoded (so no EXIF, GPS included, comes along), JPEG on white where the original is transparent.
pub(crate) fn thumbnails(
    image: &DynamicImage,
    format: ThumbnailFormat,
    quality: u8,
) -> Result<Vec<Encoded>, MediaError> {
    let internal = |reason: String| MediaError::Processing { reason };
    let keep_alpha = image.color().has_alpha() && format == ThumbnailFormat::Webp;
    let source = if keep_alpha {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else if image.color().has_alpha() {
        DynamicImage::ImageRgb8(on_white(&image.to_rgba8()))
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut resizer = Resizer::new();
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(fast_image_resize::FilterType::Lanczos3));
    let mut made = Vec::with_capacity(SIZES.len());
    // Each smaller size is made from the one before: the same sharpness for a fraction of the work.
    let mut previous: Option<DynamicImage> = None;
    for (size, box_px) in SIZES {
        let from = previous.as_ref().unwrap_or(&source);
        let (width, height) = fit(from.width(), from.height(), box_px);
        let resized = if (width, height) == (from.width(), from.height()) {
            from.clone()
        } else {
            let mut target = DynamicImage::new(width, height, from.color());
            resizer.resize(from, &mut target, &options).map_err(|e| internal(e.to_string()))?;
            target
        };
        let bytes = encode(&resized, format, quality)?;
        made.push(Encoded { size, width, height, bytes });
        previous = Some(resized);
    }
    Ok(made)
}

fn on_white(rgba: &image::RgbaImage) -> image::RgbImage {
    image::RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        image::Rgb([blend(r), blend(g), blend(b)])
    })
}

pub(crate) fn encode(image: &DynamicImage, format: ThumbnailFormat, quality: u8) -> Result<Vec<u8>, MediaError> {
    let mut bytes = Vec::new();
    let result = match format {
        ThumbnailFormat::Jpeg => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100)).encode_image(image)
        }
        ThumbnailFormat::Webp => image.write_with_encoder(image::codecs::webp::WebPEncoder::new_lossless(&mut bytes)),
    };
    result.map_err(|e| MediaError::Processing { reason: format!("encoding a thumbnail: {e}") })?;
    Ok(bytes)
}

/// A QR code of `content`: PNG (at least 300 px, quiet zone included) and SVG.
pub(crate) fn qr_code(content: &str) -> Result<(Vec<u8>, String), MediaError> {
    let code = qrcode::QrCode::with_error_correction_level(content.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| MediaError::invalid("qr_url_pattern", format!("the URL cannot be a QR code: {e}")))?;
    let png = code.render::<image::Luma<u8>>().min_dimensions(300, 300).build();
    let mut bytes = Vec::new();
    DynamicImage::ImageLuma8(png)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| MediaError::Processing { reason: format!("encoding a QR code: {e}") })?;
    let svg = code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(300, 300).build();
    Ok((bytes, svg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
        let mut bytes = Vec::new();
        DynamicImage::ImageRgb8(image).write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap_or(());
        bytes
    }

    #[test]
    fn the_type_comes_from_the_bytes() {
        assert_eq!(sniff(&png(4, 4)).ok(), Some(Format::Png));
        let text = sniff(b"sku;price\nA1;9.90\n").unwrap_err();
        assert!(matches!(text, MediaError::Unsupported { .. }), "{text}");
        let svg = sniff(
            b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        );
        assert!(svg.unwrap_err().to_string().contains("SVG"));
        assert!(matches!(sniff(b"").unwrap_err(), MediaError::Invalid { .. }));
        let gif = sniff(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap_err();
        assert!(gif.to_string().contains("gif"), "{gif}");
    }

    #[test]
    fn the_pixel_limit_is_checked_from_the_header() {
        let bytes = png(300, 200);
        assert!(header(&bytes, 60_000).is_ok());
        let refused = header(&bytes, 59_999).unwrap_err();
        assert!(matches!(refused, MediaError::TooLarge { .. }) && refused.to_string().contains("media.max_pixels"));
    }

    #[test]
    fn a_truncated_image_is_refused_whole() {
        let bytes = png(64, 64);
        let cut = &bytes[..bytes.len() / 2];
        let refused = header(cut, 1 << 20).and_then(|h| decode(cut, h).map(|_| ()));
        assert!(matches!(refused, Err(MediaError::Invalid { .. })), "{refused:?}");
    }

    #[test]
    fn thumbnails_fit_their_box_and_keep_the_aspect() {
        assert_eq!(fit(4000, 3000, 800), (800, 600));
        assert_eq!(fit(3000, 4000, 150), (113, 150));
        assert_eq!(fit(100, 50, 300), (100, 50), "never enlarged");
        let bytes = png(1200, 600);
        let header = header(&bytes, 1 << 30).unwrap_or_else(|e| panic!("{e}"));
        let image = decode(&bytes, header).unwrap_or_else(|e| panic!("{e}"));
        let made = thumbnails(&image, ThumbnailFormat::Jpeg, 85).unwrap_or_else(|e| panic!("{e}"));
        let sizes: Vec<_> = made.iter().map(|t| (t.size, t.width, t.height)).collect();
        assert_eq!(sizes, [("large", 800, 400), ("medium", 300, 150), ("small", 150, 75)]);
        assert!(made.iter().all(|t| sniff(&t.bytes).ok() == Some(Format::Jpeg)));
    }

    #[test]
    fn webp_thumbnails_keep_transparency_and_jpeg_ones_go_on_white() {
        let rgba = image::RgbaImage::from_fn(400, 200, |x, _| image::Rgba([200, 0, 0, if x < 200 { 0 } else { 255 }]));
        let image = DynamicImage::ImageRgba8(rgba);
        let webp = thumbnails(&image, ThumbnailFormat::Webp, 85).unwrap_or_else(|e| panic!("{e}"));
        assert!(webp.iter().all(|t| sniff(&t.bytes).ok() == Some(Format::Webp)));
        let small = image::load_from_memory(&webp[2].bytes).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((small.width(), small.height(), small.color().has_alpha()), (150, 75, true));
        assert_eq!(small.to_rgba8().get_pixel(10, 10).0[3], 0, "transparent stays transparent");
        let jpeg = thumbnails(&image, ThumbnailFormat::Jpeg, 85).unwrap_or_else(|e| panic!("{e}"));
        let small = image::load_from_memory(&jpeg[2].bytes).unwrap_or_else(|e| panic!("{e}")).to_rgb8();
        assert!(small.get_pixel(10, 10).0.iter().all(|c| *c > 240), "on white: {:?}", small.get_pixel(10, 10));
    }

    #[test]
    fn a_qr_code_in_png_and_svg() {
        let (png, svg) = qr_code("https://id.gs1.org/01/04006381333931").unwrap_or_else(|e| panic!("{e}"));
        let header = header(&png, 1 << 20).unwrap_or_else(|e| panic!("{e}"));
        assert!(header.width >= 300 && header.width == header.height);
        assert!(svg.contains("<svg") && !svg.contains("<script"));
    }
}
