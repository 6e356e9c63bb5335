//! The HTTP source: a supplier's file or feed published at a URL (a Google Merchant feed, a nightly CSV), fetched at
//! each poll with a conditional request — the last file's `ETag` as `If-None-Match` and its `Last-Modified` as
//! `If-Modified-Since` — so an unchanged file costs one short answer (`304 Not Modified`); a file whose content is
//! the same as the last one taken (a server without validators) is not taken again.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Result;
use crate::imports::{ImportConfig, ImportError, ImportService, SourceKind, TakenFile};

/// `source_settings` of an HTTP configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// The file's `http://` or `https://` URL. With credentials on the configuration, they go as HTTP basic
    /// authentication, over `https://` only.
    pub url: String,
    /// The name the file is imported under (its job and errors CSV name it); the URL's last path segment when
    /// absent, else `feed`.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Larger answers are refused (500).
    #[serde(default = "default_max_megabytes")]
    pub max_megabytes: u64,
    /// For the whole poll, download included (600).
    #[serde(default = "super::default_deadline_secs")]
    pub deadline_secs: u64,
}

fn default_max_megabytes() -> u64 {
    500
}

impl HttpSettings {
    /// Reads and checks the settings of an HTTP configuration, naming the setting at fault.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ImportError> {
        let settings: HttpSettings = super::settings_from_value(value)?;
        let url = url::Url::parse(settings.url.trim())
            .map_err(|e| ImportError::invalid("source_settings.url", format!("{:?}: {e}", settings.url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ImportError::invalid("source_settings.url", "an http:// or https:// URL with a host"));
        }
        if settings.max_megabytes == 0 {
            return Err(ImportError::invalid("source_settings.max_megabytes", "must be at least 1"));
        }
        Ok(settings)
    }

    /// The name the file is imported under.
    fn name(&self, url: &url::Url) -> String {
        let from_url = url.path_segments().and_then(|mut s| s.next_back()).filter(|s| !s.is_empty());
        self.file_name.clone().or_else(|| from_url.map(String::from)).unwrap_or_else(|| "feed".into())
    }
}

/// What identifies a file taken from a URL: its validators (to ask for it conditionally next time) and its
/// content's digest (to know it again when the server gives no validators). Stored as a JSON array.
#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Fingerprint(Option<String>, Option<String>, String);

impl Fingerprint {
    fn etag(&self) -> Option<&str> {
        self.0.as_deref()
    }

    fn last_modified(&self) -> Option<&str> {
        self.1.as_deref()
    }

    fn sha256(&self) -> &str {
        &self.2
    }

    fn text(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored fingerprint; none (an unconditional request) when it cannot be read.
    fn parse(text: &str) -> Fingerprint {
        serde_json::from_str(text).unwrap_or_default()
    }
}

/// Polls every active HTTP configuration.
#[derive(Debug, Clone)]
pub struct HttpSource {
    imports: ImportService,
}

impl HttpSource {
    pub fn new(imports: ImportService) -> Self {
        HttpSource { imports }
    }

    /// One poll of every active configuration; files taken from the servers that answered are kept when another
    /// one failed, and the error names the configurations that failed.
    pub async fn poll(&self) -> Result<Vec<TakenFile>> {
        super::poll_all(self).await
    }

    /// One poll of one configuration, within its deadline.
    pub async fn poll_config(&self, config: &ImportConfig) -> Result<Vec<TakenFile>> {
        let settings = HttpSettings::from_value(&config.source_settings)?;
        let url = url::Url::parse(settings.url.trim())
            .map_err(|e| ImportError::invalid("source_settings.url", e.to_string()))?;
        let host = url.host_str().unwrap_or_default().to_string();
        let port = url.port_or_known_default().unwrap_or(443);
        super::within_deadline(config, &host, port, settings.deadline_secs, async {
            self.poll_within(config, &settings, url).await
        })
        .await
    }

    async fn poll_within(
        &self,
        config: &ImportConfig,
        settings: &HttpSettings,
        url: url::Url,
    ) -> Result<Vec<TakenFile>> {
        let failure = |what: &str, e: &dyn std::fmt::Display| ImportError::Source {
            config: config.name.clone(),
            reason: format!("{what} ({url}): {e}"),
        };
        self.imports.outbound.check_url(&url, &["http", "https"]).map_err(|e| failure("URL refused", &e))?;
        let credentials = self.imports.credentials(config.id).await?;
        if credentials.is_some() && url.scheme() != "https" {
            // A password is never sent in clear.
            return Err(failure("credentials need an https:// URL", &"the URL is http://").into());
        }
        let deadline = Duration::from_secs(settings.deadline_secs.max(1));
        // Redirects stay within the scheme the credentials allow (https only, once there are credentials).
        let schemes: &'static [&'static str] =
            if credentials.is_some() { crate::net::HTTPS_ONLY } else { &["http", "https"] };
        let client =
            self.imports.outbound.http_client(schemes, deadline).build().map_err(|e| failure("no HTTP client", &e))?;
        let mut request = client.get(url.clone());
        if let Some(login) = &credentials {
            request = request.basic_auth(&login.username, Some(&login.password));
        }
        let last = self.imports.last_file_of(config.id).await?;
        let last = last.and_then(|f| f.source_fingerprint).map(|text| Fingerprint::parse(&text)).unwrap_or_default();
        if let Some(etag) = last.etag() {
            request = request.header(IF_NONE_MATCH, etag);
        }
        if let Some(modified) = last.last_modified() {
            request = request.header(IF_MODIFIED_SINCE, modified);
        }
        let unreachable = |what: &str, e: &reqwest::Error| match crate::net::refusal_in(e) {
            Some(refused) => failure("refused by the network policy", &refused),
            None => failure(what, e),
        };
        let answer = request.send().await.map_err(|e| unreachable("no answer", &e))?;
        let status = answer.status();
        if status == StatusCode::NOT_MODIFIED {
            self.imports.mark_polled(config.id).await?;
            return Ok(Vec::new());
        }
        if !status.is_success() {
            return Err(failure("refused", &status).into());
        }
        let header = |name| answer.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
        let (etag, last_modified) = (header(ETAG), header(LAST_MODIFIED));
        let limit = settings.max_megabytes.saturating_mul(1024 * 1024);
        if answer.content_length().is_some_and(|length| length > limit) {
            return Err(failure(
                "too large",
                &format!("over source_settings.max_megabytes ({})", settings.max_megabytes),
            )
            .into());
        }
        let mut body = Vec::new();
        let mut chunks = answer.bytes_stream();
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| unreachable("download broken off", &e))?;
            if (body.len() + chunk.len()) as u64 > limit {
                let why = format!("over source_settings.max_megabytes ({})", settings.max_megabytes);
                return Err(failure("too large", &why).into());
            }
            body.extend_from_slice(&chunk);
        }
        let fingerprint = Fingerprint(etag, last_modified, format!("{:x}", Sha256::digest(&body)));
        let mut taken = Vec::new();
        // The same content as the last file taken (a server that ignores validators): nothing new.
        if fingerprint.sha256() != last.sha256() {
            let name = settings.name(&url);
            if let Some(file) = self.imports.take_file(config, &name, Bytes::from(body), &fingerprint.text()).await? {
                taken.push(file);
            }
        }
        self.imports.mark_polled(config.id).await?;
        Ok(taken)
    }
}

impl super::RemoteSource for HttpSource {
    const KINDS: &'static [SourceKind] = &[SourceKind::Http];
    const NAME: &'static str = "http";

    fn imports(&self) -> &ImportService {
        &self.imports
    }

    async fn poll_one(&self, config: &ImportConfig) -> Result<Vec<TakenFile>> {
        self.poll_config(config).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_read_back_and_settings_are_checked() {
        let full = Fingerprint(Some("\"a|b\"".into()), Some("Mon, 07 Dec 2026 10:00:00 GMT".into()), "ff".into());
        assert_eq!(Fingerprint::parse(&full.text()), full);
        assert_eq!(Fingerprint::parse("name|12|1700000000"), Fingerprint::default(), "not ours: unconditional");
        let check = |json: serde_json::Value| HttpSettings::from_value(&json).map(|_| ()).unwrap_err().to_string();
        assert!(check(serde_json::json!({"url": "ftp://x/y"})).contains("source_settings.url"));
        assert!(check(serde_json::json!({"url": "https://x/y", "max_megabytes": 0})).contains("max_megabytes"));
        assert!(check(serde_json::json!({"url": "https://x/y", "urll": 1})).contains("urll"));
        let settings = HttpSettings::from_value(&serde_json::json!({"url": "https://x/feeds/google.xml?k=1"})).unwrap();
        assert_eq!(settings.name(&url::Url::parse(&settings.url).unwrap()), "google.xml");
        assert_eq!(settings.max_megabytes, 500);
    }
}
