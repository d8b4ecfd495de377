^sagebox: .*22222222-new-assembly/MockTestReport-00001\.csv\.gz:[0-9]+:[0-9]+: .*truncated gzip
