^sagebox: .*tests/data/bad/missing_column\.csv:1:1: missing required column 'lineItem/UnblendedCost'
