-- Where a configuration gets its access tokens (Login with Amazon for SP-API, the Cognito or LWA endpoint of the
-- Creators API credential version); null: the provider's documented default for the region.
alter table amazon_api_configs add column token_endpoint text;
