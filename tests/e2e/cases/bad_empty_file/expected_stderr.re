^sagebox: .*tests/data/bad/empty\.csv:1:1: .*empty.*expected a header row
