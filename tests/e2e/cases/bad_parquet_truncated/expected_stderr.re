^sagebox: .*tests/data/parquet/bad/truncated\.parquet: corrupt Parquet file: bad magic at the end .*truncated file
