^sagebox: .*tests/data/bad/unknown_format\.csv:1:1: unknown format.*expected
