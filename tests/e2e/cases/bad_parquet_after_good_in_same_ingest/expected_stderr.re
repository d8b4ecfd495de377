^sagebox: .*/in/2-bad\.parquet: column 'line_item_usage_type', row group 0, page [0-9]+: corrupt GZIP page
