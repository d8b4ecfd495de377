^sagebox: .*tests/data/parquet/bad/corrupt-page-header\.parquet: column 'line_item_unblended_cost', row group 0, page [0-9]+: corrupt page header
