//! Running a job: its codes a window at a time, the calls at the shared rate with retries, the matches judged and
//! written back, the window committed with its checkpoint.

use super::*;

impl Code2AsinService {
    pub(super) async fn run(
        &self,
        job: &JobRow,
        owner: &str,
        on_progress: &(impl Fn(&Code2AsinCounts) + Send + Sync),
    ) -> Result<()> {
        let marketplace = find_marketplace(&job.marketplace)?;
        let config = self.config_for(job).await?;
        let client = self.client(&config)?;
        let codes = self.codes_of(job, owner).await?;
        let mut position = job
            .checkpoint
            .as_ref()
            .and_then(|c| c.0.get("position"))
            .and_then(serde_json::Value::as_u64)
            .map_or(0, |p| p as usize)
            .min(codes.len());
        if position > 0 {
            let _ = repo::log(&self.pool, job.id, "info", &format!("resumed after code {position}"), Utc::now()).await;
        }
        let mut counts = counts_of(job);
        counts.total = Some(codes.len() as i64);
        let run = Run { job, marketplace, config: &config, client: client.as_ref() };
        while position < codes.len() {
            let end = (position + WINDOW).min(codes.len());
            let started = Instant::now();
            let mut window = self.window(&run, position, &codes[position..end]).await?;
            window.processed = end as i64;
            window.duration_ms = started.elapsed().as_millis() as i64;
            let committed = repo::commit_window(&self.pool, job.id, owner, marketplace.code, &window, Utc::now())
                .await
                .map_err(db_error)?;
            if !committed {
                // Paused, cancelled or taken over: what is committed stays, the rest waits for a resume.
                return Ok(());
            }
            add(&mut counts, &window);
            on_progress(&counts);
            position = end;
        }
        let _ = repo::free_dedup_key(&self.pool, job.id).await;
        let summary = format!(
            "finished: {} codes, {} matched, {} for review, {} not found, {} restricted, {} invalid, {} cached, \
             {} calls, {} rate limited",
            codes.len(),
            counts.matched,
            counts.review,
            counts.not_found,
            counts.restricted,
            counts.invalid,
            counts.cached,
            counts.api_calls,
            counts.rate_limited
        );
        let _ = repo::log(&self.pool, job.id, "info", &summary, Utc::now()).await;
        Ok(())
    }

    /// The job's codes: stored in its payload, or (supplier, catalog) read from the catalog on its first run and
    /// stored, so a resumed run sees the same list.
    async fn codes_of(&self, job: &JobRow, owner: &str) -> Result<Vec<String>> {
        if let Some(codes) = job.payload.0.get("codes").and_then(|c| c.as_array()) {
            return Ok(codes.iter().filter_map(|c| c.as_str().map(str::to_string)).collect());
        }
        let gtins = match job.source.as_str() {
            "supplier" => self.asins.gtins_without_asin(job.supplier_id).await?,
            _ => self.asins.gtins_without_asin(None).await?,
        };
        let mut payload = job.payload.0.clone();
        payload["codes"] = serde_json::json!(gtins);
        repo::set_codes(&self.pool, job.id, owner, &payload, gtins.len() as i64, Utc::now()).await.map_err(db_error)?;
        Ok(gtins)
    }

    /// Looks up one window of codes (starting at input position `start`): invalid and restricted codes are
    /// reported, cached answers reused, the rest asked of Amazon in batches; matches judged and written back.
    async fn window(&self, run: &Run<'_>, start: usize, codes: &[String]) -> Result<Window> {
        let mut window = Window::default();
        let mut gtin_of: Vec<Option<String>> = Vec::with_capacity(codes.len());
        let mut early: HashMap<usize, ItemRow> = HashMap::new();
        for (offset, code) in codes.iter().enumerate() {
            let position = (start + offset) as i64;
            let checked = check(code);
            let bare = |outcome: CodeOutcome, reason: Option<String>| ItemRow {
                position,
                code: code.clone(),
                gtin14: checked.gtin14.clone(),
                outcome: outcome.as_str().to_string(),
                cached: false,
                asin: None,
                confidence: None,
                reason,
            };
            if !checked.valid {
                window.invalid += 1;
                early.insert(offset, bare(CodeOutcome::Invalid, checked.reason.clone()));
                gtin_of.push(None);
            } else if checked.restricted {
                window.restricted += 1;
                let reason = checked.reason.clone().unwrap_or_else(|| "restricted prefix".into());
                window.logs.push(("info", Some(code.clone()), format!("not sent to Amazon: {reason}")));
                early.insert(offset, bare(CodeOutcome::Restricted, Some(reason)));
                gtin_of.push(None);
            } else {
                gtin_of.push(checked.gtin14.clone());
            }
        }
        let mut wanted: Vec<String> = gtin_of.iter().flatten().cloned().collect();
        wanted.sort();
        wanted.dedup();
        let since = Utc::now() - chrono::Duration::seconds(self.runtime.settings.cache_ttl_secs as i64);
        let mut answers: HashMap<String, Vec<ResultRow>> = HashMap::new();
        for row in repo::fresh_results(&self.pool, run.marketplace.code, &wanted, since).await.map_err(db_error)? {
            answers.entry(row.gtin14.clone()).or_default().push(row);
        }
        // Answered by another job within the TTL: no call. (Rows of this very job come from an attempt that was
        // interrupted before its window committed: not a cache hit.)
        let cached: HashSet<String> = answers
            .iter()
            .filter(|(_, rows)| rows.iter().all(|r| r.job_id != Some(run.job.id)))
            .map(|(gtin, _)| gtin.clone())
            .collect();
        let products: HashMap<String, GtinProduct> =
            self.asins.products_by_gtin(&wanted).await?.into_iter().map(|p| (p.gtin.clone(), p)).collect();
        let code_of: HashMap<&String, &String> =
            gtin_of.iter().zip(codes).filter_map(|(g, c)| g.as_ref().map(|g| (g, c))).collect();
        let missing: Vec<String> = wanted.iter().filter(|g| !answers.contains_key(*g)).cloned().collect();
        let mut classes: BTreeMap<u8, Vec<String>> = BTreeMap::new();
        for gtin in missing {
            classes.entry(run.client.batch_class(&gtin)).or_default().push(gtin);
        }
        for batch in classes.values().flat_map(|gtins| gtins.chunks(run.client.codes_per_call().max(1))) {
            let answer = self.call(run, batch, &mut window).await?;
            let raw_key = self.keep_raw(Some(run.job.id), &answer.raw).await;
            let items = answer.items;
            window.looked_up += batch.len() as i64;
            let judged: Vec<(String, Vec<Judged>)> = batch
                .iter()
                .map(|gtin| {
                    let candidates: Vec<CatalogItem> =
                        items.iter().filter(|i| i.gtin14s.contains(gtin)).cloned().collect();
                    let product = products.get(gtin);
                    let side = CatalogSide {
                        brand: product.and_then(|p| p.brand.clone()),
                        title: product.map(|p| p.title.clone()),
                    };
                    let (scores, best) = score(gtin, &candidates, &side);
                    let found = candidates
                        .into_iter()
                        .zip(scores)
                        .enumerate()
                        .map(|(i, (item, s))| (item, s, Some(i) == best))
                        .collect();
                    (gtin.clone(), found)
                })
                .collect();
            let to_store: Vec<Answer<'_>> = judged
                .iter()
                .map(|(gtin, found)| Answer {
                    code: code_of.get(gtin).map_or(gtin.as_str(), |c| c.as_str()),
                    gtin14: gtin,
                    product_id: products.get(gtin).map(|p| p.id),
                    found: found
                        .iter()
                        .map(|(item, s, best)| {
                            let review = match (*best, *s >= run.job.confidence_threshold) {
                                (false, _) => None,
                                (true, true) => Some(ReviewState::AutoAccepted.as_str()),
                                (true, false) => Some(ReviewState::Pending.as_str()),
                            };
                            (item, *s, *best, review)
                        })
                        .collect(),
                })
                .collect();
            let call = repo::Call {
                marketplace: run.marketplace.code,
                provider: run.client.kind().as_str(),
                raw_key: raw_key.as_deref(),
            };
            let stored = repo::store_answers(&self.pool, Some(run.job.id), &call, &to_store, Utc::now())
                .await
                .map_err(db_error)?;
            self.forget_lookups(run.marketplace.code, batch).await;
            for row in stored {
                answers.entry(row.gtin14.clone()).or_default().push(row);
            }
        }
        // What each valid code came to (the same for repeated codes), with the catalog updated.
        let mut decided: HashMap<String, ItemRow> = HashMap::new();
        for gtin in &wanted {
            let rows = answers.get(gtin).map(Vec::as_slice).unwrap_or_default();
            let decision = self.decide(run, gtin, rows, products.get(gtin), &mut window).await?;
            decided.insert(gtin.clone(), decision);
        }
        for (offset, code) in codes.iter().enumerate() {
            let position = (start + offset) as i64;
            let item = match (early.remove(&offset), &gtin_of[offset]) {
                (Some(item), _) => item,
                (None, Some(gtin)) => {
                    let mut item = decided.get(gtin).cloned().unwrap_or_else(|| not_found(gtin));
                    item.position = position;
                    item.code = code.clone();
                    item.cached = cached.contains(gtin);
                    match CodeOutcome::parse(&item.outcome) {
                        Some(CodeOutcome::Matched) => window.matched += 1,
                        Some(CodeOutcome::Review) => window.review += 1,
                        _ => window.not_found += 1,
                    }
                    if item.cached {
                        window.cached += 1;
                    }
                    item
                }
                (None, None) => continue,
            };
            window.items.push(item);
        }
        Ok(window)
    }

    /// One call to Amazon for `batch`, waiting for the limiter first; a throttled or failed call is retried with
    /// growing delays (and the limiter lowered when Amazon says a lower rate), up to `code2asin.max_retries`.
    async fn call(&self, run: &Run<'_>, batch: &[String], window: &mut Window) -> Result<Lookup> {
        let limiter = self.runtime.limiter(run.client.kind());
        let mut attempt = 0;
        loop {
            limiter.acquire(run.config.id, run.marketplace.code).await;
            window.api_calls += 1;
            let outcome = run.client.lookup(&run.marketplace, batch).await;
            crate::code2asin::provider::count_call(run.client.kind(), &outcome);
            let error = match outcome {
                Ok(answer) => return Ok(answer),
                Err(error) => error,
            };
            *window.errors_by_kind.entry(error.kind().to_string()).or_default() += 1;
            if let LookupError::Throttled { limit } = &error {
                window.rate_limited += 1;
                if let Some(limit) = limit {
                    limiter.observe_limit(
                        run.config.id,
                        run.marketplace.code,
                        limit * self.runtime.settings.rate_margin,
                    );
                }
            }
            if !error.is_transient() || attempt >= self.runtime.settings.max_retries {
                window.logs.push(("error", None, format!("call for {} codes failed: {error}", batch.len())));
                let _ = self.flush_logs(run.job.id, window).await;
                return Err(Code2AsinError::from(error).into());
            }
            let delay = self.runtime.backoff(attempt);
            window.logs.push(("warn", None, format!("call failed ({error}); retry {} in {delay:?}", attempt + 1)));
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }

    /// Log lines of a window that will not commit (it failed) are written on their own.
    async fn flush_logs(&self, job: Uuid, window: &mut Window) -> Result<()> {
        for (level, _, message) in window.logs.drain(..) {
            repo::log(&self.pool, job, level, &message, Utc::now()).await.map_err(db_error)?;
        }
        Ok(())
    }

    /// The outcome of one valid code from its results: the best match written to the catalog product when it is
    /// confident enough and the product has no other ASIN; otherwise held for review.
    async fn decide(
        &self,
        run: &Run<'_>,
        gtin: &str,
        rows: &[ResultRow],
        product: Option<&GtinProduct>,
        window: &mut Window,
    ) -> Result<ItemRow> {
        let Some(best) = rows.iter().find(|r| r.is_best && r.asin.is_some()) else {
            return Ok(not_found(gtin));
        };
        let asin = best.asin.clone().unwrap_or_default();
        let confidence = best.confidence.unwrap_or(0.0);
        let mut item = ItemRow {
            position: 0,
            code: String::new(),
            gtin14: Some(gtin.to_string()),
            outcome: CodeOutcome::Review.as_str().to_string(),
            cached: false,
            asin: Some(asin.clone()),
            confidence: Some(confidence),
            reason: None,
        };
        let review = best.review_state.as_deref().and_then(ReviewState::parse);
        if review == Some(ReviewState::Rejected) {
            item.reason = Some(format!("{asin} was rejected in review"));
            return Ok(item);
        }
        let reviewed = review == Some(ReviewState::Accepted);
        if !reviewed && confidence < run.job.confidence_threshold {
            item.reason = Some(format!(
                "confidence {confidence:.2} below {:.2}{}",
                run.job.confidence_threshold,
                if rows.iter().filter(|r| r.asin.is_some()).count() > 1 { " (several ASINs)" } else { "" }
            ));
            return Ok(item);
        }
        if let Some(product) = product {
            match product.asin.as_deref() {
                Some(current) if current == asin => {}
                Some(current) => {
                    item.reason = Some(format!("the product already has ASIN {current}"));
                    return Ok(item);
                }
                None => {
                    if let Err(e) = self.write_asin(product.id, Some(&asin)).await {
                        if e.kind() != crate::ErrorKind::Conflict {
                            return Err(e);
                        }
                        item.reason = Some(format!("not written to the product: {e}"));
                        window.logs.push(("warn", Some(gtin.to_string()), format!("{asin}: {e}")));
                        return Ok(item);
                    }
                }
            }
        }
        if review == Some(ReviewState::Pending) {
            repo::promote_pending(&self.pool, best.id, ReviewState::AutoAccepted.as_str(), Utc::now())
                .await
                .map_err(db_error)?;
        }
        item.outcome = CodeOutcome::Matched.as_str().to_string();
        Ok(item)
    }

    /// Sets (or clears) a product's ASIN through the product service; a concurrent edit is retried once.
    pub(super) async fn write_asin(&self, product: Uuid, asin: Option<&str>) -> Result<()> {
        let asin = asin
            .map(|a| a.parse::<crate::catalog::Asin>())
            .transpose()
            .map_err(|e| Code2AsinError::invalid("asin", e.to_string()))?;
        let patch = || ProductPatch { asin: Some(asin.clone()), ..Default::default() };
        match self.products.patch(product, patch()).await {
            Err(crate::Error::Catalog(crate::catalog::CatalogError::VersionConflict { .. })) => {
                self.products.patch(product, patch()).await.map(|_| ())
            }
            other => other.map(|_| ()),
        }
    }
}

/// A candidate ASIN of a code with its confidence and whether it is the code's best.
type Judged = (CatalogItem, f64, bool);

/// The parts of a running job every window needs.
struct Run<'a> {
    job: &'a JobRow,
    marketplace: Marketplace,
    config: &'a ConfigRow,
    client: &'a dyn Code2AsinProvider,
}

fn not_found(gtin: &str) -> ItemRow {
    ItemRow {
        position: 0,
        code: String::new(),
        gtin14: Some(gtin.to_string()),
        outcome: CodeOutcome::NotFound.as_str().to_string(),
        cached: false,
        asin: None,
        confidence: None,
        reason: None,
    }
}

fn add(counts: &mut Code2AsinCounts, window: &Window) {
    counts.processed = window.processed;
    counts.matched += window.matched;
    counts.review += window.review;
    counts.not_found += window.not_found;
    counts.restricted += window.restricted;
    counts.invalid += window.invalid;
    counts.cached += window.cached;
    counts.api_calls += window.api_calls;
    counts.rate_limited += window.rate_limited;
}
