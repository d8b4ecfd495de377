sagebox: unknown term '2' \(expected ONE_YEAR or THREE_YEARS, or 1 or 3\)
