//! Fetching an image from a URL found in a supplier file, as a careful client: only `http` and `https`; every address
//! the host resolves to checked (loopback, private, link-local, shared and other non-public ranges refused unless
//! `media.allow_private_downloads`), and the connection made to exactly the checked addresses (no second lookup a
//! DNS rebinding could change); redirects followed one by one, each target checked the same way, at most five; one
//! time limit for the whole download; the size limit enforced while reading; a content type that is not an image
//! refused (the bytes are judged again on upload).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use url::Url;

use super::MediaError;

/// Redirects followed before giving up.
const MAX_REDIRECTS: usize = 5;

/// Downloads images under the limits of the media configuration.
#[derive(Debug, Clone)]
pub(crate) struct Downloader {
    pub timeout: Duration,
    pub max_bytes: u64,
    pub allow_private: bool,
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

    /// The addresses `url`'s host resolves to, all of them allowed, or why not.
    async fn checked_addresses(&self, url: &Url) -> Result<Vec<SocketAddr>, MediaError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(refused(format!("{url}: only http and https are fetched")));
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or_else(|| refused(format!("{url} has no host")))?;
        let port = url.port_or_known_default().unwrap_or(80);
        // `[::1]` comes bracketed from the URL; the resolver wants it bare.
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| refused(format!("{url}: cannot resolve {host}: {e}")))?
            .collect();
        if addresses.is_empty() {
            return Err(refused(format!("{url}: {host} resolves to no address")));
        }
        if !self.allow_private
            && let Some(blocked) = addresses.iter().find(|a| !is_public(a.ip()))
        {
            return Err(refused(format!(
                "{url}: {host} is {}, not a public address (media.allow_private_downloads is off)",
                blocked.ip()
            )));
        }
        Ok(addresses)
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared (CGNAT), unspecified,
/// broadcast, multicast, documentation or unique-local.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (b & 0xC0) == 64))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xFE00) == 0xFC00
                || (first & 0xFFC0) == 0xFE80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn private_addresses_are_refused_before_connecting() {
        let downloader = Downloader { timeout: Duration::from_secs(5), max_bytes: 1 << 20, allow_private: false };
        for url in ["http://127.0.0.1:9/a.jpg", "http://[::1]:9/a.jpg", "http://169.254.169.254/latest/meta-data"] {
            let refused = downloader.fetch(url).await.map(|_| ()).unwrap_err().to_string();
            assert!(refused.contains("not a public address"), "{url}: {refused}");
        }
        let ftp = downloader.fetch("file:///etc/passwd").await.map(|_| ()).unwrap_err().to_string();
        assert!(ftp.contains("only http and https"), "{ftp}");
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in
            ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0"]
        {
            assert!(!is_public(private.parse().unwrap_or(IpAddr::from([1, 1, 1, 1]))), "{private}");
        }
        for private in ["::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::"] {
            assert!(!is_public(private.parse().unwrap_or(IpAddr::from([1, 1, 1, 1]))), "{private}");
        }
        for public in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "100.128.0.1"] {
            assert!(is_public(public.parse().unwrap_or(IpAddr::from([127, 0, 0, 1]))), "{public}");
        }
    }
}
