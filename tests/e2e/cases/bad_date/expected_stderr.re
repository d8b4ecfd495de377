^sagebox: .*tests/data/bad/bad_date\.csv:3:176: expected a timestamp .*in column 'lineItem/UsageStartDate', found '2024-02-30T01:00:00Z'
