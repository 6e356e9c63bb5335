//! The e-mail source: polls an IMAP mailbox per configuration, takes the attachments (CSV, XLSX, ZIP…) of the
//! unread messages matching the sender and subject rules, then marks those messages seen (and moves them when
//! configured). An attachment is taken once, remembered by its message and position.

use std::time::Duration;

use async_imap::Client;
use bytes::Bytes;
use futures_util::TryStreamExt;
use mail_parser::{MessageParser, MimeHeaders};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;

use super::{default_extensions, wanted_file, within};
use crate::Result;
use crate::imports::{ImportConfig, ImportError, ImportService, SourceKind, TakenFile};

/// `source_settings` of an e-mail configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default = "default_mailbox")]
    pub mailbox: String,
    /// Only messages whose sender contains this (IMAP `FROM`, case-insensitive).
    #[serde(default)]
    pub from_contains: Option<String>,
    /// Only messages whose subject contains this (IMAP `SUBJECT`, case-insensitive).
    #[serde(default)]
    pub subject_contains: Option<String>,
    /// Attachment name extensions taken, case-insensitively.
    #[serde(default = "default_extensions")]
    pub extensions: Vec<String>,
    /// Move processed messages into this mailbox (created when missing); they are marked seen either way.
    #[serde(default)]
    pub move_to: Option<String>,
    /// For connecting and for each command: a server that accepts and then says nothing fails the poll after
    /// this long (30).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// For the whole poll (600): a server trickling its answers cannot hold the source longer.
    #[serde(default = "super::default_deadline_secs")]
    pub deadline_secs: u64,
}

fn default_port() -> u16 {
    143
}

fn default_mailbox() -> String {
    "INBOX".to_string()
}

fn default_timeout_secs() -> u64 {
    30
}

impl EmailSettings {
    /// Reads and checks the settings of an e-mail configuration, naming the setting at fault.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ImportError> {
        let settings: EmailSettings = super::settings_from_value(value)?;
        if settings.host.trim().is_empty() {
            return Err(ImportError::invalid("source_settings.host", "must not be empty"));
        }
        let texts = [
            ("mailbox", Some(&settings.mailbox)),
            ("from_contains", settings.from_contains.as_ref()),
            ("subject_contains", settings.subject_contains.as_ref()),
            ("move_to", settings.move_to.as_ref()),
        ];
        for (field, text) in texts {
            if text.is_some_and(|t| t.contains(['\r', '\n'])) {
                return Err(ImportError::invalid(&format!("source_settings.{field}"), "must be on one line"));
            }
        }
        Ok(settings)
    }

    /// The IMAP search for the unread messages these rules match.
    fn search(&self) -> String {
        let mut query = "UNSEEN".to_string();
        if let Some(from) = &self.from_contains {
            query.push_str(&format!(" FROM {}", quoted(from)));
        }
        if let Some(subject) = &self.subject_contains {
            query.push_str(&format!(" SUBJECT {}", quoted(subject)));
        }
        query
    }
}

/// An IMAP quoted string (RFC 3501 §4.3).
fn quoted(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Polls every active e-mail configuration.
#[derive(Debug, Clone)]
pub struct EmailSource {
    imports: ImportService,
}

impl EmailSource {
    pub fn new(imports: ImportService) -> Self {
        EmailSource { imports }
    }

    /// One poll of every active configuration; files taken from the servers that answered are kept when another
    /// one failed, and the error names the configurations that failed.
    pub async fn poll(&self) -> Result<Vec<TakenFile>> {
        super::poll_all(self).await
    }

    /// One poll of one configuration, within its deadline.
    pub async fn poll_config(&self, config: &ImportConfig) -> Result<Vec<TakenFile>> {
        let settings = EmailSettings::from_value(&config.source_settings)?;
        super::within_deadline(config, &settings.host, settings.port, settings.deadline_secs, async {
            self.poll_within(config, &settings).await
        })
        .await
    }

    async fn poll_within(&self, config: &ImportConfig, settings: &EmailSettings) -> Result<Vec<TakenFile>> {
        let failure = |what: &str, e: &dyn std::fmt::Display| ImportError::Source {
            config: config.name.clone(),
            reason: format!("{what} ({}:{}): {e}", settings.host, settings.port),
        };
        let login = self
            .imports
            .credentials(config.id)
            .await?
            .ok_or_else(|| ImportError::invalid("credentials", "a mailbox needs a username and password"))?;
        let limit = Duration::from_secs(settings.timeout_secs.max(1));
        let addresses = self
            .imports
            .outbound
            .resolve(&settings.host, settings.port)
            .await
            .map_err(|e| failure("host refused", &e))?;
        let stream =
            within(limit, TcpStream::connect(addresses.as_slice())).await.map_err(|e| failure("cannot connect", &e))?;
        let mut client = Client::new(stream);
        let greeting =
            within(limit, async { client.read_response().await.transpose().unwrap_or(Err(no_greeting())) }).await;
        greeting.map_err(|e| failure("no greeting", &e))?;
        let mut session =
            within(limit, async { client.login(&login.username, &login.password).await.map_err(|(e, _)| e) })
                .await
                .map_err(|e| failure(&format!("login as {:?} refused", login.username), &e))?;
        let mailbox = within(limit, session.select(&settings.mailbox))
            .await
            .map_err(|e| failure(&format!("no mailbox {:?}", settings.mailbox), &e))?;
        let validity = mailbox.uid_validity.unwrap_or(0);
        let mut uids: Vec<u32> = within(limit, session.uid_search(settings.search()))
            .await
            .map_err(|e| failure("search refused", &e))?
            .into_iter()
            .collect();
        uids.sort_unstable();
        if settings.move_to.is_some() && !uids.is_empty() {
            // Already there is the usual case; a real failure shows when moving.
            let _ = tokio::time::timeout(limit, session.create(settings.move_to.as_deref().unwrap_or_default())).await;
        }
        let mut taken = Vec::new();
        for uid in uids {
            // A message can be large: its transfer is bounded by the poll's deadline, not by `limit`.
            let fetched: Vec<_> =
                async { session.uid_fetch(uid.to_string(), "(UID BODY.PEEK[])").await?.try_collect().await }
                    .await
                    .map_err(|e: async_imap::error::Error| failure(&format!("cannot fetch message {uid}"), &e))?;
            let Some(raw) = fetched.iter().find_map(|f| f.body()) else { continue };
            let Some(message) = MessageParser::default().parse(raw) else {
                tracing::warn!(config = %config.name, uid, "unparsable message left unread");
                continue;
            };
            let origin = match message.message_id() {
                Some(id) => format!("<{id}>"),
                None => format!("uid:{validity}:{uid}"),
            };
            for (index, part) in message.attachments().enumerate() {
                let Some(name) = part.attachment_name() else { continue };
                if !wanted_file(&settings.extensions, name) {
                    continue;
                }
                let fingerprint = format!("{origin}|{index}|{name}");
                let bytes = Bytes::copy_from_slice(part.contents());
                if let Some(file) = self.imports.take_file(config, name, bytes, &fingerprint).await? {
                    taken.push(file);
                }
            }
            // Seen (and moved) only once its attachments are kept: a failure above leaves it for the next poll.
            within(limit, async {
                session.uid_store(uid.to_string(), "+FLAGS (\\Seen)").await?.try_collect::<Vec<_>>().await
            })
            .await
            .map_err(|e| failure("cannot mark a message seen", &e))?;
            if let Some(folder) = &settings.move_to {
                within(limit, session.uid_mv(uid.to_string(), folder))
                    .await
                    .map_err(|e| failure(&format!("cannot move to {folder:?}"), &e))?;
            }
        }
        let _ = tokio::time::timeout(limit, session.logout()).await;
        self.imports.mark_polled(config.id).await?;
        Ok(taken)
    }
}

fn no_greeting() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the connection closed before a greeting")
}

impl super::RemoteSource for EmailSource {
    const KINDS: &'static [SourceKind] = &[SourceKind::Email];
    const NAME: &'static str = "email";

    fn imports(&self) -> &ImportService {
        &self.imports
    }

    async fn poll_one(&self, config: &ImportConfig) -> Result<Vec<TakenFile>> {
        self.poll_config(config).await
    }
}
