//! Amazon API configurations (sealed credentials, one client per configuration and process) and the per-supplier
//! settings that supplier jobs take as defaults.

use super::*;

impl Code2AsinService {
    /// Stores a configuration; its secrets are sealed under the master key, bound to the new row.
    pub async fn add_config(&self, input: NewAmazonApiConfig) -> Result<AmazonApiConfig> {
        let name = input.name.trim();
        if name.is_empty() {
            return Err(Code2AsinError::invalid("name", "must not be empty").into());
        }
        let marketplace = find_marketplace(&input.marketplace)?;
        let provider = input.provider.unwrap_or(ProviderKind::SpApi);
        if input.client_id.trim().is_empty() || input.client_secret.is_empty() {
            return Err(Code2AsinError::invalid("client_id", "the client id and secret are required").into());
        }
        if provider == ProviderKind::SpApi && input.refresh_token.as_deref().is_none_or(str::is_empty) {
            return Err(Code2AsinError::invalid("refresh_token", "SP-API needs the seller's refresh token").into());
        }
        if provider == ProviderKind::Creators && input.partner_tag.as_deref().is_none_or(str::is_empty) {
            return Err(Code2AsinError::invalid("partner_tag", "the Creators API needs the store's partner tag").into());
        }
        for (field, url) in [("endpoint", &input.endpoint), ("token_endpoint", &input.token_endpoint)] {
            if let Some(url) = url {
                let parsed =
                    url::Url::parse(url).map_err(|e| Code2AsinError::invalid(field, format!("not a URL: {e}")))?;
                self.runtime
                    .outbound
                    .check_url(&parsed, crate::net::HTTPS_ONLY)
                    .map_err(|e| Code2AsinError::invalid(field, e.0))?;
            }
        }
        if input.rate_limit_per_second.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
            return Err(Code2AsinError::invalid("rate_limit_per_second", "must be above 0").into());
        }
        if input.rate_limit_burst.is_some_and(|b| b < 1) {
            return Err(Code2AsinError::invalid("rate_limit_burst", "must be at least 1").into());
        }
        let id = Uuid::now_v7();
        let secrets =
            Secrets { client_secret: input.client_secret.clone(), refresh_token: input.refresh_token.clone() };
        let document =
            serde_json::to_vec(&secrets).map_err(|e| Code2AsinError::invalid("credentials", e.to_string()))?;
        let sealed = self
            .secrets
            .seal(&config_purpose(id), &document)
            .map_err(|e| Code2AsinError::invalid("credentials", e.to_string()))?;
        let row = repo::NewConfigRow {
            id,
            name,
            provider: provider.as_str(),
            marketplace: marketplace.code,
            marketplace_id: marketplace.id,
            endpoint: input.endpoint.as_deref(),
            token_endpoint: input.token_endpoint.as_deref(),
            client_id: input.client_id.trim(),
            partner_tag: input.partner_tag.as_deref(),
            sealed,
            rate_limit_per_second: input.rate_limit_per_second,
            rate_limit_burst: input.rate_limit_burst,
            created_by: input.created_by,
            now: Utc::now(),
        };
        let stored = repo::insert_config(&self.core, row).await.map_err(|e| {
            if matches!(&e, sqlx::Error::Database(d) if d.is_unique_violation()) {
                crate::Error::from(Code2AsinError::conflict(format!("a configuration named {name:?} exists")))
            } else {
                core_error(e)
            }
        })?;
        Ok(config_of(stored))
    }

    /// Every configuration, by name (secrets left out).
    pub async fn configs(&self) -> Result<Vec<AmazonApiConfig>> {
        Ok(repo::all_configs(&self.core).await.map_err(core_error)?.into_iter().map(config_of).collect())
    }

    /// One configuration.
    pub async fn config(&self, id: Uuid) -> Result<AmazonApiConfig> {
        Ok(config_of(self.config_row(id).await?))
    }

    /// The configuration a person names: its id or its name (a name two configurations share is refused, naming
    /// their ids).
    pub async fn find_config(&self, key: &str) -> Result<AmazonApiConfig> {
        let key = key.trim();
        if let Ok(id) = Uuid::parse_str(key) {
            return self.config(id).await;
        }
        let mut named: Vec<AmazonApiConfig> = self.configs().await?.into_iter().filter(|c| c.name == key).collect();
        match named.len() {
            0 => Err(Code2AsinError::not_found("Amazon API configuration", key).into()),
            1 => Ok(named.remove(0)),
            _ => {
                let ids: Vec<String> = named.iter().map(|c| c.id.to_string()).collect();
                let reason = format!(
                    "{} Amazon API configurations are named {key:?}: name one by id ({})",
                    ids.len(),
                    ids.join(", ")
                );
                Err(Code2AsinError::conflict(reason).into())
            }
        }
    }

    pub(super) async fn config_row(&self, id: Uuid) -> Result<ConfigRow> {
        repo::config_by_id(&self.core, id)
            .await
            .map_err(core_error)?
            .ok_or_else(|| Code2AsinError::not_found("Amazon API configuration", id).into())
    }

    /// Switches a configuration on or off (jobs pick the active one of their marketplace).
    pub async fn set_config_active(&self, id: Uuid, active: bool) -> Result<AmazonApiConfig> {
        if !repo::set_config_active(&self.core, id, active, Utc::now()).await.map_err(core_error)? {
            return Err(Code2AsinError::not_found("Amazon API configuration", id).into());
        }
        self.forget_client(id);
        self.config(id).await
    }

    /// Removes a configuration.
    pub async fn delete_config(&self, id: Uuid) -> Result<()> {
        if !repo::delete_config(&self.core, id).await.map_err(core_error)? {
            return Err(Code2AsinError::not_found("Amazon API configuration", id).into());
        }
        self.forget_client(id);
        Ok(())
    }

    fn forget_client(&self, id: Uuid) {
        if let Ok(mut clients) = self.runtime.clients.lock() {
            clients.remove(&id);
        }
    }

    /// The configuration a job uses: its own, else the active one of its marketplace (SP-API first).
    pub(super) async fn config_for(&self, job: &JobRow) -> Result<ConfigRow> {
        if let Some(id) = job.amazon_config_id {
            return self.config_row(id).await;
        }
        let configs = repo::active_configs(&self.core, &job.marketplace).await.map_err(core_error)?;
        let wanted = job.provider.as_deref().and_then(ProviderKind::parse);
        configs.into_iter().find(|c| wanted.is_none_or(|w| c.provider == w.as_str())).ok_or_else(|| {
            Code2AsinError::invalid(
                "marketplace",
                format!(
                    "no active Amazon API configuration for marketplace {}; add one (`productsmanager code2asin \
                     config add` or POST /api/v1/code2asin/configs)",
                    job.marketplace
                ),
            )
            .into()
        })
    }

    /// The client of a configuration, made once per process (it keeps its access token).
    pub(super) fn client(&self, config: &ConfigRow) -> Result<Arc<dyn Code2AsinProvider>> {
        if let Some(client) = self.runtime.clients.lock().ok().and_then(|c| c.get(&config.id).cloned()) {
            return Ok(client);
        }
        let unreadable =
            |reason: String| Code2AsinError::invalid("credentials", format!("stored credentials {reason}"));
        let document = self
            .secrets
            .open(&config_purpose(config.id), &config.credentials_encrypted)
            .map_err(|e| unreadable(e.to_string()))?;
        let secrets: Secrets = serde_json::from_slice(&document).map_err(|e| unreadable(e.to_string()))?;
        let marketplace = find_marketplace(&config.marketplace)?;
        let timeout = Duration::from_secs(self.runtime.settings.request_timeout_secs);
        let outbound = self.runtime.outbound;
        let parse = |field: &'static str, url: &str| {
            let url = url::Url::parse(url).map_err(|e| Code2AsinError::invalid(field, format!("not a URL: {e}")))?;
            outbound.check_url(&url, crate::net::HTTPS_ONLY).map_err(|e| Code2AsinError::invalid(field, e.0))?;
            Ok::<_, Code2AsinError>(url)
        };
        let client: Arc<dyn Code2AsinProvider> = match ProviderKind::parse(&config.provider) {
            Some(ProviderKind::SpApi) => {
                let endpoints = SpApiEndpoints {
                    api: parse("endpoint", config.endpoint.as_deref().unwrap_or(marketplace.region.sp_api_host()))?,
                    token: parse("token_endpoint", config.token_endpoint.as_deref().unwrap_or(LWA_TOKEN_URL))?,
                };
                let credentials = LwaCredentials {
                    client_id: config.client_id.clone().unwrap_or_default(),
                    client_secret: secrets.client_secret,
                    refresh_token: secrets.refresh_token.unwrap_or_default(),
                };
                Arc::new(SpApiClient::new(endpoints, credentials, timeout, &outbound).map_err(Code2AsinError::from)?)
            }
            Some(ProviderKind::Creators) => {
                let api = parse(
                    "endpoint",
                    config.endpoint.as_deref().unwrap_or(crate::code2asin::creators::DEFAULT_ENDPOINT),
                )?;
                let token = config
                    .token_endpoint
                    .as_deref()
                    .unwrap_or(crate::code2asin::creators::lwa_token_endpoint(marketplace.region));
                let credentials = CreatorsCredentials {
                    client_id: config.client_id.clone().unwrap_or_default(),
                    client_secret: secrets.client_secret,
                    partner_tag: config.partner_tag.clone().unwrap_or_default(),
                };
                let token = parse("token_endpoint", token)?;
                let client = CreatorsClient::new(api, token, marketplace.region, credentials, timeout, &outbound);
                Arc::new(client.map_err(Code2AsinError::from)?)
            }
            None => {
                return Err(Code2AsinError::invalid(
                    "provider",
                    format!("unknown provider {:?}; use sp_api or creators", config.provider),
                )
                .into());
            }
        };
        // A configuration slower than the documented rate lowers its bucket (a faster one changes nothing).
        if let Some(rate) = config.rate_limit_per_second {
            self.runtime.limiter(client.kind()).observe_limit(
                config.id,
                marketplace.code,
                rate * self.runtime.settings.rate_margin,
            );
        }
        if let Ok(mut clients) = self.runtime.clients.lock() {
            clients.insert(config.id, client.clone());
        }
        Ok(client)
    }

    /// Sets how a supplier's codes are looked up in a marketplace (its jobs' configuration, threshold, on/off).
    pub async fn set_supplier_settings(
        &self,
        supplier_id: Uuid,
        marketplace: &str,
        input: NewSupplierSettings,
    ) -> Result<SupplierSettings> {
        let marketplace = find_marketplace(marketplace)?;
        if input.confidence_threshold.is_some_and(|t| !(0.0..=1.0).contains(&t)) {
            return Err(Code2AsinError::invalid("confidence_threshold", "must be between 0 and 1").into());
        }
        let provider = match input.amazon_config_id {
            Some(id) => {
                let config = self.config_row(id).await?;
                if config.marketplace != marketplace.code {
                    return Err(Code2AsinError::invalid(
                        "amazon_config_id",
                        format!("configuration {:?} is for marketplace {}", config.name, config.marketplace),
                    )
                    .into());
                }
                Some(config.provider)
            }
            None => None,
        };
        let row = repo::SupplierSettingsRow {
            supplier_id,
            marketplace: marketplace.code,
            provider: provider.as_deref(),
            amazon_config_id: input.amazon_config_id,
            is_active: input.is_active.unwrap_or(true),
            confidence_threshold: input.confidence_threshold,
            now: Utc::now(),
        };
        Ok(supplier_settings_of(repo::upsert_supplier(&self.pool, row).await.map_err(db_error)?))
    }

    /// A supplier's settings, by marketplace.
    pub async fn supplier_settings(&self, supplier_id: Uuid) -> Result<Vec<SupplierSettings>> {
        let rows = repo::supplier_settings(&self.pool, supplier_id).await.map_err(db_error)?;
        Ok(rows.into_iter().map(supplier_settings_of).collect())
    }

    /// Removes a supplier's settings for a marketplace (its jobs take the marketplace's defaults again).
    pub async fn delete_supplier_settings(&self, supplier_id: Uuid, marketplace: &str) -> Result<()> {
        let marketplace = find_marketplace(marketplace)?;
        if !repo::delete_supplier(&self.pool, supplier_id, marketplace.code).await.map_err(db_error)? {
            return Err(
                Code2AsinError::not_found("supplier settings", format!("{supplier_id} {}", marketplace.code)).into()
            );
        }
        Ok(())
    }
}

fn config_purpose(id: Uuid) -> String {
    format!("amazon_api_configs:{id}")
}

fn config_of(row: ConfigRow) -> AmazonApiConfig {
    AmazonApiConfig {
        id: row.id,
        name: row.name,
        provider: ProviderKind::parse(&row.provider).unwrap_or(ProviderKind::SpApi),
        marketplace: row.marketplace,
        marketplace_id: row.marketplace_id.unwrap_or_default(),
        endpoint: row.endpoint,
        token_endpoint: row.token_endpoint,
        client_id: row.client_id.unwrap_or_default(),
        partner_tag: row.partner_tag,
        rate_limit_per_second: row.rate_limit_per_second,
        rate_limit_burst: row.rate_limit_burst,
        is_active: row.is_active,
        created_by: row.created_by,
        created_at: row.created_at,
        updated_at: row.updated_at,
    }
}

fn supplier_settings_of(row: repo::SupplierRow) -> SupplierSettings {
    SupplierSettings {
        supplier_id: row.supplier_id,
        marketplace: row.marketplace,
        provider: row.provider.as_deref().and_then(ProviderKind::parse),
        amazon_config_id: row.amazon_config_id,
        is_active: row.is_active,
        confidence_threshold: row.confidence_threshold,
        updated_at: row.updated_at,
    }
}
