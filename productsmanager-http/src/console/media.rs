//! A product's images on its console page: shown (through the console, which adds the session's token), uploaded,
//! moved up or down, made the main one, deleted. The API does the work; the page only sends what was clicked.

use axum::body::Body;
use axum::extract::{Path, RawQuery, Request};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;
use uuid::Uuid;

use super::client::{Api, ApiFailure};
use super::layout::{self, Failure};
use super::session::Client;

/// An image as the API lists it (the fields shown).
#[derive(Debug, Deserialize)]
pub(crate) struct ImageView {
    id: Uuid,
    alt_text: Option<String>,
    is_main: bool,
    width: Option<i32>,
    height: Option<i32>,
    original_filename: Option<String>,
    #[serde(default)]
    thumbnails: Vec<ThumbnailView>,
}

#[derive(Debug, Deserialize)]
struct ThumbnailView {
    size: String,
}

impl ImageView {
    /// The small thumbnail once the worker has made it; the original until then.
    fn shown_variant(&self) -> &'static str {
        if self.thumbnails.iter().any(|t| t.size == "small") { "small" } else { "original" }
    }
}

pub(crate) async fn images_of(api: &Api, product: Uuid) -> Result<Vec<ImageView>, ApiFailure> {
    api.get(&format!("/api/v1/products/{product}/images")).await
}

/// The images section of a product page; `images` is what the API answered (its refusal shown in their place).
pub(crate) fn section(product: Uuid, images: Result<Vec<ImageView>, Failure>, failure: Option<&Failure>) -> Markup {
    html! {
        section aria-labelledby="images" {
            h2 #images { "Images" }
            @if let Some(failure) = failure { (failure.banner()) }
            @match images {
                Err(failure) => (failure.banner()),
                Ok(images) => {
                    @if images.is_empty() { p.note { "No image yet." } }
                    ol.images #image-list {
                        @for (index, image) in images.iter().enumerate() {
                            li data-image=(image.id) {
                                img src={ "/console/images/" (image.id) "?variant=" (image.shown_variant()) } width="120" height="120"
                                    alt=(image.alt_text.as_deref().or(image.original_filename.as_deref()).unwrap_or("product image"));
                                div.image-actions {
                                    @if image.is_main { span.badge.best { "main" } }
                                    @if let (Some(w), Some(h)) = (image.width, image.height) { span.note { (w) "×" (h) } }
                                    @let base = format!("/console/products/{product}/images/{}", image.id);
                                    @if index > 0 {
                                        form.inline method="post" action={ (base) "/move" } {
                                            input type="hidden" name="direction" value="up";
                                            button.link type="submit" aria-label="Move up" { "↑" }
                                        }
                                    }
                                    @if index + 1 < images.len() {
                                        form.inline method="post" action={ (base) "/move" } {
                                            input type="hidden" name="direction" value="down";
                                            button.link type="submit" aria-label="Move down" { "↓" }
                                        }
                                    }
                                    @if !image.is_main {
                                        form.inline method="post" action={ (base) "/main" } {
                                            button.link type="submit" { "Make main" }
                                        }
                                    }
                                    form.inline method="post" action={ (base) "/delete" } {
                                        button.link type="submit" { "Delete" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form #image-upload method="post" action={ "/console/products/" (product) "/images" } enctype="multipart/form-data" {
                label.drop-zone for="image-file" {
                    span { "Drop a JPEG, PNG or WebP image here, or choose one" }
                    input #image-file type="file" name="file" required accept="image/jpeg,image/png,image/webp";
                }
                div.field {
                    label for="alt_text" { "Description (alt text)" }
                    input #alt_text type="text" name="alt_text";
                }
                button type="submit" { "Upload image" }
            }
        }
    }
}

/// `GET /console/images/{id}`: the image's bytes (or the API's redirect to the object store), for `<img>`.
pub(crate) async fn content(Client(api): Client, Path(id): Path<String>, RawQuery(query): RawQuery) -> Response {
    let path = match query {
        Some(query) => format!("/api/v1/images/{id}/content?{query}"),
        None => format!("/api/v1/images/{id}/content"),
    };
    match axum::http::Request::get(path).body(Body::empty()) {
        Ok(request) => api.forward(request).await,
        Err(e) => Failure::invalid("id", &e.to_string()).into_response(),
    }
}

async fn back_to(api: &Api, product: &str, result: Result<(), Failure>) -> Response {
    match result {
        Ok(()) => layout::see_other(&format!("/console/products/{product}#images")),
        Err(failure) => super::products::with_image_failure(api, product, failure).await,
    }
}

/// `POST /console/products/{id}/images`: the form goes to the API as it is (same fields, the file streamed).
pub(crate) async fn upload(Client(api): Client, Path(product): Path<String>, request: Request) -> Response {
    let sent = api.post_form(&format!("/api/v1/products/{product}/images"), request).await;
    back_to(&api, &product, sent.map(drop).map_err(Failure::from)).await
}

#[derive(Debug, Deserialize)]
pub(crate) struct MoveForm {
    direction: String,
}

/// `POST /console/products/{id}/images/{image}/move`: one place up or down; the API stores the whole new order.
pub(crate) async fn move_image(
    Client(api): Client,
    Path((product, image)): Path<(String, Uuid)>,
    axum::Form(form): axum::Form<MoveForm>,
) -> Response {
    let result = async {
        let product_id = Uuid::parse_str(&product).map_err(|_| Failure::invalid("id", "not a product id"))?;
        let mut order: Vec<Uuid> = images_of(&api, product_id).await?.into_iter().map(|i| i.id).collect();
        let at = order
            .iter()
            .position(|id| *id == image)
            .ok_or_else(|| Failure::invalid("image", "not an image of this product"))?;
        let to = match form.direction.as_str() {
            "up" => at.checked_sub(1),
            "down" => Some(at + 1).filter(|to| *to < order.len()),
            _ => return Err(Failure::invalid("direction", "up or down")),
        };
        if let Some(to) = to {
            order.swap(at, to);
            let body = serde_json::json!({ "order": order });
            api.call(Method::PUT, &format!("/api/v1/products/{product}/images/order"), &body, HeaderMap::new()).await?;
        }
        Ok(())
    }
    .await;
    back_to(&api, &product, result).await
}

/// `POST /console/products/{id}/images/{image}/main`.
pub(crate) async fn make_main(Client(api): Client, Path((product, image)): Path<(String, Uuid)>) -> Response {
    let sent = api.send(Method::PUT, &format!("/api/v1/images/{image}/main"), HeaderMap::new(), Body::empty()).await;
    back_to(&api, &product, sent.map(drop).map_err(Failure::from)).await
}

/// `POST /console/products/{id}/images/{image}/delete`.
pub(crate) async fn delete(Client(api): Client, Path((product, image)): Path<(String, Uuid)>) -> Response {
    let sent = api.send(Method::DELETE, &format!("/api/v1/images/{image}"), HeaderMap::new(), Body::empty()).await;
    back_to(&api, &product, sent.map(drop).map_err(Failure::from)).await
}
