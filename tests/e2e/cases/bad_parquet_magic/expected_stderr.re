^sagebox: .*tests/data/parquet/bad/bad-magic\.parquet: corrupt Parquet file: bad magic at the end \(expected 'PAR1'
