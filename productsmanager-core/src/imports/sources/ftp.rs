//! The FTP source: polls a remote folder per configuration and takes each new file once (remembered by name, size
//! and modification time), optionally deleting or moving it on the server afterwards. FTPS configurations secure the
//! session with explicit TLS (`AUTH TLS`, then protected data connections), verifying the server's certificate
//! against the public roots and, when set, the configuration's own CA file.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::{Deserialize, Serialize};
use suppaftp::tokio::{AsyncRustlsConnector, AsyncRustlsFtpStream};
use suppaftp::types::FileType;
use tokio::io::AsyncReadExt;

use super::{default_extensions, wanted_file, within};
use crate::Result;
use crate::imports::{Credentials, ImportConfig, ImportError, ImportService, SourceKind, TakenFile};

/// `source_settings` of an FTP configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FtpSettings {
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// Remote folder polled; the login folder when empty.
    #[serde(default)]
    pub path: String,
    /// File name extensions taken, case-insensitively.
    #[serde(default = "default_extensions")]
    pub extensions: Vec<String>,
    /// Delete a file on the server once it is taken.
    #[serde(default)]
    pub delete_after_download: bool,
    /// Move a file into this remote folder once it is taken (instead of deleting it).
    #[serde(default)]
    pub move_to: Option<String>,
    /// For connecting and for each command: a server that accepts and then says nothing fails the poll after
    /// this long (30).
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// For the whole poll, downloads included (600): a server trickling its answers cannot hold the source longer.
    #[serde(default = "super::default_deadline_secs")]
    pub deadline_secs: u64,
    /// FTPS only: PEM certificates trusted besides the public roots (a supplier's own CA or self-signed server).
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

fn default_port() -> u16 {
    21
}

fn default_timeout_secs() -> u64 {
    30
}

impl FtpSettings {
    /// Reads and checks the settings of an FTP configuration, naming the setting at fault.
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ImportError> {
        let settings: FtpSettings = super::settings_from_value(value)?;
        if settings.host.trim().is_empty() {
            return Err(ImportError::invalid("source_settings.host", "must not be empty"));
        }
        if settings.delete_after_download && settings.move_to.is_some() {
            return Err(ImportError::invalid(
                "source_settings.move_to",
                "a file cannot be both deleted and moved after download; choose one",
            ));
        }
        Ok(settings)
    }
}

/// Polls every active FTP configuration.
#[derive(Debug, Clone)]
pub struct FtpSource {
    imports: ImportService,
}

impl FtpSource {
    pub fn new(imports: ImportService) -> Self {
        FtpSource { imports }
    }

    /// One poll of every active configuration; files taken from the servers that answered are kept when another
    /// one failed, and the error names the configurations that failed.
    pub async fn poll(&self) -> Result<Vec<TakenFile>> {
        super::poll_all(self).await
    }

    /// One poll of one configuration, within its deadline.
    pub async fn poll_config(&self, config: &ImportConfig) -> Result<Vec<TakenFile>> {
        let settings = FtpSettings::from_value(&config.source_settings)?;
        super::within_deadline(config, &settings.host, settings.port, settings.deadline_secs, async {
            self.poll_within(config, &settings).await
        })
        .await
    }

    async fn poll_within(&self, config: &ImportConfig, settings: &FtpSettings) -> Result<Vec<TakenFile>> {
        let login = self.imports.credentials(config.id).await?.unwrap_or_else(|| Credentials {
            username: "anonymous".into(),
            password: "productsmanager@localhost".into(),
        });
        let limit = Duration::from_secs(settings.timeout_secs.max(1));
        let failure = |what: &str, e: &dyn std::fmt::Display| ImportError::Source {
            config: config.name.clone(),
            reason: format!("{what} ({}:{}): {e}", settings.host, settings.port),
        };
        let addresses = self
            .imports
            .outbound
            .resolve(&settings.host, settings.port)
            .await
            .map_err(|e| failure("host refused", &e))?;
        let mut connected = Err("no address".to_string());
        for address in addresses {
            connected = within(limit, AsyncRustlsFtpStream::connect_timeout(address, limit)).await;
            if connected.is_ok() {
                break;
            }
        }
        let mut ftp = connected.map_err(|e| failure("cannot connect", &e))?;
        // Data connections go to the address the control connection reached (already checked), never to the one a
        // server names in its passive reply, which could be anywhere (127.0.0.1:6379, 169.254.169.254…).
        ftp.set_passive_nat_workaround(true);
        if config.source_kind == SourceKind::Ftps {
            let connector = tls_connector(settings)?;
            ftp = within(limit, ftp.into_secure(connector, &settings.host))
                .await
                .map_err(|e| failure("TLS refused", &e))?;
        }
        within(limit, ftp.login(login.username.as_str(), login.password.as_str()))
            .await
            .map_err(|e| failure(&format!("login as {:?} refused", login.username), &e))?;
        within(limit, ftp.transfer_type(FileType::Binary)).await.map_err(|e| failure("binary mode refused", &e))?;
        if !settings.path.is_empty() {
            within(limit, ftp.cwd(&settings.path))
                .await
                .map_err(|e| failure(&format!("no folder {:?}", settings.path), &e))?;
        }
        let listed = within(limit, ftp.nlst(None)).await.map_err(|e| failure("cannot list the folder", &e))?;
        let silent = |e: tokio::time::error::Elapsed| failure("no answer", &format!("{e} ({} s)", limit.as_secs()));
        let mut taken = Vec::new();
        for entry in listed {
            let name = entry.rsplit('/').next().unwrap_or(&entry).to_string();
            if !wanted_file(&settings.extensions, &name) {
                continue;
            }
            // Folders have no size: skipped.
            let Ok(size) = tokio::time::timeout(limit, ftp.size(&name)).await.map_err(silent)? else { continue };
            let modified = tokio::time::timeout(limit, ftp.mdtm(&name))
                .await
                .map_err(silent)?
                .map(|t| t.and_utc().timestamp())
                .unwrap_or(-1);
            let fingerprint = format!("{name}|{size}|{modified}");
            if self.imports.already_taken(config.id, &fingerprint).await? {
                continue;
            }
            let bytes =
                download(&mut ftp, &name, limit).await.map_err(|e| failure(&format!("cannot download {name}"), &e))?;
            let size_after = tokio::time::timeout(limit, ftp.size(&name)).await.map_err(silent)?.unwrap_or(usize::MAX);
            if bytes.len() != size || size_after != size {
                tracing::info!(config = %config.name, file = %name, "still being uploaded; taken at a later poll");
                continue;
            }
            let Some(file) = self.imports.take_file(config, &name, bytes, &fingerprint).await? else { continue };
            if settings.delete_after_download {
                within(limit, ftp.rm(&name))
                    .await
                    .map_err(|e| failure(&format!("taken, but cannot delete {name}"), &e))?;
            } else if let Some(folder) = &settings.move_to {
                let target = format!("{}/{name}", folder.trim_end_matches('/'));
                within(limit, ftp.rename(&name, &target))
                    .await
                    .map_err(|e| failure(&format!("taken, but cannot move {name}"), &e))?;
            }
            taken.push(file);
        }
        let _ = tokio::time::timeout(limit, ftp.quit()).await;
        self.imports.mark_polled(config.id).await?;
        Ok(taken)
    }
}

/// A TLS client trusting the public roots (Mozilla's, from `webpki-roots`) and the configuration's CA file.
fn tls_connector(settings: &FtpSettings) -> Result<AsyncRustlsConnector, ImportError> {
    let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    if let Some(file) = &settings.ca_file {
        let unreadable = |e: &dyn std::fmt::Display| {
            ImportError::invalid("source_settings.ca_file", format!("{}: {e}", file.display()))
        };
        let certificates = CertificateDer::pem_file_iter(file).map_err(|e| unreadable(&e))?;
        for certificate in certificates {
            roots.add(certificate.map_err(|e| unreadable(&e))?).map_err(|e| unreadable(&e))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImportError::invalid("source_kind", format!("no TLS version available: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(AsyncRustlsConnector::from(tokio_rustls::TlsConnector::from(Arc::new(config))))
}

/// A file's bytes; the transfer itself is bounded by the poll's deadline, each command by `limit`.
async fn download(ftp: &mut AsyncRustlsFtpStream, name: &str, limit: Duration) -> Result<Bytes, String> {
    let mut stream = within(limit, ftp.retr_as_stream(name)).await?;
    let mut buffer = Vec::new();
    stream.read_to_end(&mut buffer).await.map_err(|e| e.to_string())?;
    within(limit, stream.finish()).await?;
    Ok(Bytes::from(buffer))
}

impl super::RemoteSource for FtpSource {
    const KINDS: &'static [SourceKind] = &[SourceKind::Ftp, SourceKind::Ftps];
    const NAME: &'static str = "ftp";

    fn imports(&self) -> &ImportService {
        &self.imports
    }

    async fn poll_one(&self, config: &ImportConfig) -> Result<Vec<TakenFile>> {
        self.poll_config(config).await
    }
}
