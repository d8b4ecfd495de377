at most two --group-by
