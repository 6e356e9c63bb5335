-- An import source may read each file with the preset its header shows (`auto`, issue 26): the configuration keeps
-- `auto`, each job the preset detected for its file (jobs never hold `auto`).
alter table import_configs drop constraint import_configs_preset_check,
    add constraint import_configs_preset_check
        check (preset in ('woocommerce', 'shopify', 'prestashop', 'magento', 'akeneo', 'native', 'google_merchant',
                          'auto'));
