//! Results: review (accept, reject), single lookups through the tiered cache, and Amazon's raw responses.

use super::*;

impl Code2AsinService {
    /// Keeps Amazon's response body under `code2asin-cache/YYYY/MM/DD/<job or lookup>/<id>.json`; its key, or
    /// `None` (logged) when the store refused it: the results do not depend on it.
    pub(super) async fn keep_raw(&self, job: Option<Uuid>, raw: &bytes::Bytes) -> Option<String> {
        if raw.is_empty() {
            return None;
        }
        let now = Utc::now();
        let owner = job.map_or_else(|| "lookup".to_string(), |j| j.to_string());
        let key = format!("code2asin-cache/{}/{owner}/{}.json", now.format("%Y/%m/%d"), Uuid::now_v7());
        match self.storage.put(&key, raw.clone()).await {
            Ok(()) => Some(key),
            Err(e) => {
                tracing::warn!(key, error = %e, "Amazon response not kept");
                None
            }
        }
    }

    /// Drops the cached single lookups of these codes (their results just changed).
    pub(super) async fn forget_lookups(&self, marketplace: &str, gtin14s: &[String]) {
        for gtin in gtin14s {
            self.cache.invalidate(CacheKind::Code2AsinMappings, &format!("{marketplace}:{gtin}")).await;
        }
    }

    /// Amazon's response a result was read from, as received.
    pub async fn raw_response(&self, result: Uuid) -> Result<bytes::Bytes> {
        let row = self.result_row(result).await?;
        let key = row.raw_response_key.ok_or_else(|| Code2AsinError::not_found("raw response of result", result))?;
        Ok(self.storage.get(&key).await?)
    }

    /// The ASINs of one code in one marketplace, best first: from the tiered cache, else from results younger than
    /// the TTL, else asked of Amazon now (at the shared rate) and stored like a job's. A restricted or invalid code
    /// is refused without a call.
    pub async fn lookup(&self, code: &str, marketplace: &str) -> Result<Vec<Code2AsinResult>> {
        let checked = check(code);
        let reason = || checked.reason.clone().unwrap_or_else(|| "not a valid code".into());
        let gtin = match (&checked.gtin14, checked.valid, checked.restricted) {
            (Some(gtin), true, false) => gtin.clone(),
            (_, true, true) => {
                return Err(Code2AsinError::invalid("code", format!("not sent to Amazon: {}", reason())).into());
            }
            _ => return Err(Code2AsinError::invalid("code", reason()).into()),
        };
        let marketplace = find_marketplace(marketplace)?;
        let key = format!("{}:{gtin}", marketplace.code);
        let found = self
            .cache
            .get_or_load(CacheKind::Code2AsinMappings, &key, || self.look_up_now(code, &gtin, marketplace))
            .await?;
        Ok(found.as_ref().clone())
    }

    async fn look_up_now(&self, code: &str, gtin: &str, marketplace: Marketplace) -> Result<Vec<Code2AsinResult>> {
        let since = Utc::now() - chrono::Duration::seconds(self.runtime.settings.cache_ttl_secs as i64);
        let wanted = [gtin.to_string()];
        let fresh = repo::fresh_results(&self.pool, marketplace.code, &wanted, since).await.map_err(db_error)?;
        if !fresh.is_empty() {
            return Ok(fresh.into_iter().map(result_of).collect());
        }
        let configs = repo::active_configs(&self.core, marketplace.code).await.map_err(core_error)?;
        let config = configs.into_iter().next().ok_or_else(|| {
            Code2AsinError::invalid(
                "marketplace",
                format!("no active Amazon API configuration for marketplace {}", marketplace.code),
            )
        })?;
        let client = self.client(&config)?;
        self.runtime.limiter(client.kind()).acquire(config.id, marketplace.code).await;
        let outcome = client.lookup(&marketplace, &wanted).await;
        crate::code2asin::provider::count_call(client.kind(), &outcome);
        let answer = outcome.map_err(Code2AsinError::from)?;
        let raw_key = self.keep_raw(None, &answer.raw).await;
        let product = self.asins.products_by_gtin(&wanted).await?.into_iter().next();
        let side = CatalogSide {
            brand: product.as_ref().and_then(|p| p.brand.clone()),
            title: product.as_ref().map(|p| p.title.clone()),
        };
        let (scores, best) = score(gtin, &answer.items, &side);
        let found: Vec<_> = answer
            .items
            .iter()
            .zip(scores)
            .enumerate()
            .map(|(i, (item, s))| {
                let is_best = Some(i) == best;
                // Nothing is written to the catalog from a single lookup: the best waits for review below the
                // default threshold, and is marked accepted automatically above it.
                let review = match (is_best, s >= 0.85) {
                    (false, _) => None,
                    (true, true) => Some(ReviewState::AutoAccepted.as_str()),
                    (true, false) => Some(ReviewState::Pending.as_str()),
                };
                (item, s, is_best, review)
            })
            .collect();
        let to_store = [Answer { code, gtin14: gtin, product_id: product.map(|p| p.id), found }];
        let call =
            repo::Call { marketplace: marketplace.code, provider: client.kind().as_str(), raw_key: raw_key.as_deref() };
        let stored = repo::store_answers(&self.pool, None, &call, &to_store, Utc::now()).await.map_err(db_error)?;
        let mut results: Vec<Code2AsinResult> = stored.into_iter().map(result_of).collect();
        results.sort_by(|a, b| {
            b.is_best.cmp(&a.is_best).then(b.confidence.unwrap_or(0.0).total_cmp(&a.confidence.unwrap_or(0.0)))
        });
        Ok(results)
    }

    /// A page of found ASINs, newest first: those waiting for review with `review = Some(Pending)`.
    pub async fn results(
        &self,
        review: Option<ReviewState>,
        marketplace: Option<&str>,
        limit: u32,
        cursor: Option<&str>,
    ) -> Result<Page<Code2AsinResult>> {
        let limit = limit.clamp(1, 1000);
        let after = crate::jobs::after_cursor(cursor)?;
        let marketplace = marketplace.map(find_marketplace).transpose()?.map(|m| m.code).unwrap_or_default();
        let review = review.map(ReviewState::as_str).unwrap_or_default();
        let rows =
            repo::results_page(&self.pool, review, marketplace, after, i64::from(limit) + 1).await.map_err(db_error)?;
        let created: HashMap<Uuid, DateTime<Utc>> = rows.iter().map(|r| (r.id, r.created_at)).collect();
        let results = rows.into_iter().map(result_of).collect();
        Ok(Page::from_extra(results, limit as usize, |r: &Code2AsinResult| {
            crate::jobs::cursor(created.get(&r.id).copied().unwrap_or(r.fetched_at), r.id)
        }))
    }

    /// The stored results of a code in a marketplace (best first), whatever their age.
    pub async fn results_of(&self, code: &str, marketplace: &str) -> Result<Vec<Code2AsinResult>> {
        let checked = check(code);
        let gtin = checked.gtin14.filter(|_| checked.valid).ok_or_else(|| {
            Code2AsinError::invalid("code", checked.reason.unwrap_or_else(|| "not a valid code".into()))
        })?;
        let marketplace = find_marketplace(marketplace)?;
        let rows = repo::results_of_gtin(&self.pool, &gtin, marketplace.code).await.map_err(db_error)?;
        Ok(rows.into_iter().map(result_of).collect())
    }

    /// A person confirms a match: its ASIN is written to the catalog product with the code's GTIN (replacing
    /// another ASIN the product had).
    pub async fn accept(&self, result: Uuid, by: Option<Uuid>) -> Result<Code2AsinResult> {
        let row = self.result_row(result).await?;
        let asin =
            row.asin.clone().ok_or_else(|| Code2AsinError::conflict("a not-found result has nothing to accept"))?;
        if let Some(product) = self.asins.products_by_gtin(std::slice::from_ref(&row.gtin14)).await?.into_iter().next()
            && product.asin.as_deref() != Some(asin.as_str())
        {
            self.write_asin(product.id, Some(&asin)).await?;
        }
        let stored = repo::set_review(&self.pool, result, ReviewState::Accepted.as_str(), by, Utc::now())
            .await
            .map_err(db_error)?
            .ok_or_else(|| Code2AsinError::not_found("code2asin result", result))?;
        self.forget_lookups(&stored.marketplace, std::slice::from_ref(&stored.gtin14)).await;
        Ok(result_of(stored))
    }

    /// A person refuses a match: it is never written back, and taken off the product if it was.
    pub async fn reject(&self, result: Uuid, by: Option<Uuid>) -> Result<Code2AsinResult> {
        let row = self.result_row(result).await?;
        let asin =
            row.asin.clone().ok_or_else(|| Code2AsinError::conflict("a not-found result has nothing to reject"))?;
        if let Some(product) = self.asins.products_by_gtin(std::slice::from_ref(&row.gtin14)).await?.into_iter().next()
            && product.asin.as_deref() == Some(asin.as_str())
        {
            self.write_asin(product.id, None).await?;
        }
        let stored = repo::set_review(&self.pool, result, ReviewState::Rejected.as_str(), by, Utc::now())
            .await
            .map_err(db_error)?
            .ok_or_else(|| Code2AsinError::not_found("code2asin result", result))?;
        self.forget_lookups(&stored.marketplace, std::slice::from_ref(&stored.gtin14)).await;
        Ok(result_of(stored))
    }

    async fn result_row(&self, id: Uuid) -> Result<ResultRow> {
        repo::result(&self.pool, id)
            .await
            .map_err(db_error)?
            .ok_or_else(|| Code2AsinError::not_found("code2asin result", id).into())
    }
}

fn result_of(row: ResultRow) -> Code2AsinResult {
    Code2AsinResult {
        id: row.id,
        job_id: row.job_id,
        code: row.code,
        gtin14: row.gtin14,
        marketplace: row.marketplace,
        provider: ProviderKind::parse(&row.provider).unwrap_or(ProviderKind::SpApi),
        asin: row.asin,
        title: row.title,
        brand: row.brand,
        sales_rank: row.sales_rank,
        image_url: row.image_url,
        confidence: row.confidence,
        is_best: row.is_best,
        review_state: row.review_state.as_deref().and_then(ReviewState::parse),
        reviewed_by: row.reviewed_by,
        reviewed_at: row.reviewed_at,
        product_id: row.product_id,
        fetched_at: row.fetched_at,
        raw_response_key: row.raw_response_key,
    }
}
