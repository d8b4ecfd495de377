^sagebox: .*tests/data/bad/unterminated_quote\.csv:3:33[67]: unterminated quoted field \(expected a closing
