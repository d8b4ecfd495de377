^sagebox: .*tests/data/bad/ragged\.csv:3:[0-9]+: expected 30 fields as in the header, found 29
