//! Fetching an image from a URL found in a supplier file, as a careful client: only `http` and `https`; every address
//! the host resolves to checked (loopback, private, link-local, shared and other non-public ranges refused unless
//! the outbound policy allows the private network: [`crate::net`]), and the connection made to exactly the checked addresses (no second lookup a
//! DNS rebinding could change); redirects followed one by one, each target checked the same way, at most five; one
//! time limit for the whole download; the size limit enforced while reading; a content type that is not an image
//! refused (the bytes are judged again on upload).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use url::Url;

use super::MediaError;
use crate::net::{MAX_REDIRECTS, OutboundPolicy};

/// Downloads images under the limits of the media configuration.
#[derive(Debug, Clone)]
pub(crate) struct Downloader {
    pub timeout: Duration,
    pub max_bytes: u64,
    pub policy: OutboundPolicy,
}

fn refused(reason: String) -> MediaError {
    MediaError::invalid("source_url", reason)
}

impl Downloader {
    /// The body at `url`, following redirects under the same checks.
    pub(crate) async fn fetch(&self, url: &str) -> Result<Bytes, MediaError> {
        let seconds = self.timeout.as_secs();
        tokio::time::timeout(self.timeout, self.fetch_within(url)).await.map_err(|_| {
            refused(format!("{url}: no complete answer within {seconds} s (media.download_timeout_secs)"))
        })?
    }

    async fn fetch_within(&self, first: &str) -> Result<Bytes, MediaError> {
        let mut url = Url::parse(first.trim()).map_err(|e| refused(format!("{first:?} is not a URL: {e}")))?;
        for _ in 0..=MAX_REDIRECTS {
            let addresses = self.checked_addresses(&url).await?;
            let host = url.host_str().unwrap_or_default().to_string();
            let client = reqwest::Client::builder()
                // The connection goes to the checked addresses only, never through a proxy that resolves for us.
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .resolve_to_addrs(&host, &addresses)
                .build()
                .map_err(|e| refused(format!("{url}: {e}")))?;
            let mut response = client.get(url.clone()).send().await.map_err(|e| refused(format!("{url}: {e}")))?;
            let status = response.status();
            if status.is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .ok_or_else(|| refused(format!("{url} answered {status} without a Location")))?;
                url = url.join(location).map_err(|e| refused(format!("{url} redirects to {location:?}: {e}")))?;
                continue;
            }
            if !status.is_success() {
                return Err(refused(format!("{url} answered {status}")));
            }
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|t| t.to_str().ok())
                .unwrap_or("")
                .to_ascii_lowercase();
            let essence = content_type.split(';').next().unwrap_or("").trim().to_string();
            if !(essence.is_empty() || essence.starts_with("image/") || essence == "application/octet-stream") {
                return Err(MediaError::Unsupported { reason: format!("{url} is {essence}, not an image") });
            }
            let too_large = || MediaError::TooLarge {
                reason: format!("{url} is over {} bytes (media.max_upload_bytes)", self.max_bytes),
            };
            if response.content_length().is_some_and(|length| length > self.max_bytes) {
                return Err(too_large());
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| refused(format!("{url}: {e}")))? {
                if (body.len() + chunk.len()) as u64 > self.max_bytes {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            return Ok(body.freeze());
        }
        Err(refused(format!("{first}: more than {MAX_REDIRECTS} redirects")))
    }

    /// The addresses `url`'s host resolves to, all of them allowed by the outbound policy, or why not.
    async fn checked_addresses(&self, url: &Url) -> Result<Vec<SocketAddr>, MediaError> {
        self.policy.check_url(url, &["http", "https"]).map_err(|e| refused(e.0))?;
        let host = url.host_str().unwrap_or_default();
        let port = url.port_or_known_default().unwrap_or(80);
        self.policy.resolve(host, port).await.map_err(|e| refused(format!("{url}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_addresses_are_refused_before_connecting() {
        let downloader =
            Downloader { timeout: Duration::from_secs(5), max_bytes: 1 << 20, policy: OutboundPolicy::public_only() };
        for url in ["http://127.0.0.1:9/a.jpg", "http://[::1]:9/a.jpg", "http://169.254.169.254/latest/meta-data"] {
            let refused = downloader.fetch(url).await.map(|_| ()).unwrap_err().to_string();
            assert!(refused.contains("not a public address"), "{url}: {refused}");
        }
        let ftp = downloader.fetch("file:///etc/passwd").await.map(|_| ()).unwrap_err().to_string();
        assert!(ftp.contains("only http and https"), "{ftp}");
    }
}
