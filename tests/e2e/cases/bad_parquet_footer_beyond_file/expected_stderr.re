^sagebox: .*tests/data/parquet/bad/footer-beyond-file\.parquet: corrupt Parquet file: footer length [0-9]+ is beyond the file of 2008 bytes
