^sagebox: .*/in/2-bad\.csv:4:302: expected a number in column 'lineItem/UnblendedCost'
