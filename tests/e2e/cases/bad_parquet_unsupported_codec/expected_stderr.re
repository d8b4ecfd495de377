^sagebox: .*tests/data/parquet/bad/lz4-codec\.parquet: column '[a-z_]+', row group 0, page [0-9]+: unsupported compression codec LZ4_RAW
