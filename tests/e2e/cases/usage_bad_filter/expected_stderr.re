filter
