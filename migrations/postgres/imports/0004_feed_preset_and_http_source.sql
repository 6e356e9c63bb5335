-- Two more values their checks allow (issue 26): the `google_merchant` preset (Google Merchant Center feeds) for
-- configurations and jobs, and the `http` source kind (a file polled at a URL) for configurations and files.
alter table import_configs drop constraint import_configs_preset_check,
    add constraint import_configs_preset_check
        check (preset in ('woocommerce', 'shopify', 'prestashop', 'magento', 'akeneo', 'native', 'google_merchant'));
alter table import_jobs drop constraint import_jobs_preset_check,
    add constraint import_jobs_preset_check
        check (preset in ('woocommerce', 'shopify', 'prestashop', 'magento', 'akeneo', 'native', 'google_merchant'));
alter table import_configs drop constraint import_configs_source_kind_check,
    add constraint import_configs_source_kind_check
        check (source_kind in ('upload', 'folder', 'ftp', 'ftps', 'email', 'http'));
alter table import_files drop constraint import_files_source_kind_check,
    add constraint import_files_source_kind_check
        check (source_kind in ('upload', 'folder', 'ftp', 'ftps', 'email', 'http'));
