^sagebox: .*tests/data/bad/truncated\.csv\.gz:[0-9]+:[0-9]+: .*truncated gzip.*expected
