^sagebox: .*tests/data/bad/bad_number\.csv:4:302: expected a number in column 'lineItem/UnblendedCost', found '0\.02355O'
