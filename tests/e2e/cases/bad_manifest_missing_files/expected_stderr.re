^sagebox: .*MockTestReport-Manifest\.json:[0-9]+:[0-9]+: .*MockTestReport-00002\.csv\.zip.*expected
